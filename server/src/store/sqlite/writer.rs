//! Group commit: one thread owns the write connection and commits the writes of
//! concurrent requests together, one transaction and one fsync per group.
//!
//! Each request's work runs inside its own SAVEPOINT, so a failing request rolls back
//! alone while the others in its group commit. A caller hears back only after the
//! COMMIT that made its write durable: nothing is acknowledged before it is on disk.

use super::map_sqlite_error;
use crate::store::{StoreError, StoreResult};
use rusqlite::Connection;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Upper bound of requests folded into one transaction.
const MAX_GROUP: usize = 256;

type Reply = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;
/// Runs a request's work on the open transaction, or learns that none could be opened.
type Job = Box<dyn FnOnce(Result<&Connection, &StoreError>) -> Reply + Send>;

/// Handle to the writer thread.
pub struct Writer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub fn start(conn: Connection) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("cairn-writer".into())
            .spawn(move || run(conn, rx))
            .expect("spawning the writer thread");
        Writer {
            jobs: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Runs `work` in the next group transaction and returns its result once committed.
    pub fn write<R, F>(&self, work: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (reply_tx, reply_rx) = mpsc::sync_channel::<StoreResult<R>>(1);
        self.enqueue(work, move |result| {
            let _ = reply_tx.send(result);
        })?;
        reply_rx.recv().map_err(|_| stopped())?
    }

    /// Queues `work` for the next group transaction and returns at once; the future
    /// resolves with its result once committed. An async caller awaits it without
    /// holding a thread of its own while the group commits.
    pub fn submit<R, F>(&self, work: F) -> impl Future<Output = StoreResult<R>> + Send + 'static
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel::<StoreResult<R>>();
        let queued = self.enqueue(work, move |result| {
            let _ = reply_tx.send(result);
        });
        async move {
            queued?;
            reply_rx.await.map_err(|_| stopped())?
        }
    }

    /// Puts `work` on the writer's queue; `deliver` hears its outcome after COMMIT.
    fn enqueue<R, F, D>(&self, work: F, deliver: D) -> StoreResult<()>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
        D: FnOnce(StoreResult<R>) + Send + 'static,
    {
        let job: Job = Box::new(move |conn| {
            let outcome = match conn {
                Ok(conn) => in_savepoint(conn, work),
                Err(e) => Err(clone_error(e)),
            };
            Box::new(move |commit: Result<(), &StoreError>| {
                deliver(match commit {
                    Ok(()) => outcome,
                    Err(e) => Err(clone_error(e)),
                });
            })
        });
        let sender = self
            .jobs
            .lock()
            .map_err(|_| stopped())?
            .clone()
            .ok_or_else(stopped)?;
        sender.send(job).map_err(|_| stopped())
    }

    /// Lets queued writes finish, then stops the thread.
    pub fn shutdown(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Some(handle) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = handle.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the store is shutting down".into())
}

fn clone_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Api(a) => StoreError::Api(a.clone()),
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Internal(m) => StoreError::Internal(m.clone()),
    }
}

fn in_savepoint<R>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> StoreResult<R>,
) -> StoreResult<R> {
    let exec = |sql: &str| {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map_err(map_sqlite_error)
    };
    exec("SAVEPOINT job")?;
    let outcome = catch_unwind(AssertUnwindSafe(|| work(conn)))
        .unwrap_or_else(|_| Err(StoreError::Internal("a write panicked".into())));
    if outcome.is_err() {
        exec("ROLLBACK TO job")?;
    }
    exec("RELEASE job")?;
    outcome
}

fn run(conn: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(map_sqlite_error)
        {
            tracing::error!(error = %e, "cannot begin a write transaction");
            for job in group {
                job(Err(&e))(Err(&e));
            }
            continue;
        }
        let replies: Vec<Reply> = group.into_iter().map(|job| job(Ok(&conn))).collect();
        let commit = conn.execute_batch("COMMIT").map_err(map_sqlite_error);
        if let Err(e) = &commit {
            tracing::error!(error = %e, "group commit failed; rolling back");
            let _ = conn.execute_batch("ROLLBACK");
        }
        for reply in replies {
            reply(commit.as_ref().map(|_| ()));
        }
    }
}
