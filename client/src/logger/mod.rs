//! `ActiveRun`: a run logger whose `log_*` calls return at once while two background
//! threads batch, send, and spool to a local file whenever the server is away.
//!
//! # How it works, and its bounds
//!
//! `log_metric`, `log_param` and `set_tag` put an event on a bounded queue
//! ([`LoggerOptions::queue_capacity`]) and return. A *collector* thread folds events into
//! log-batch requests within the server's limits (1000 metrics, 100 params, 100 tags)
//! and hands each full batch — or, every [`LoggerOptions::flush_interval`], a partial one —
//! to a *sender* thread, which posts them in order, one at a time.
//!
//! The collector never waits on the network. Batches the sender has not caught up with
//! stay in memory up to [`LoggerOptions::max_memory_batches`]; past that, and at once
//! whenever the server cannot be reached, they are appended to a spool file (fsynced
//! while the server is away). The sender replays the spool, oldest first, as soon as the
//! server answers again, and deletes it once everything in it arrived.
//!
//! **When the queue is full** — the collector cannot keep up with local batching and
//! disk writes — a `log_*` call waits for room for at most [`LoggerOptions::max_block`]
//! (1 s by default), then drops its event and counts it in [`ActiveRun::dropped`]. So a
//! `log_*` call never blocks longer than `max_block`, whatever the server does.
//!
//! [`ActiveRun::flush`] and [`ActiveRun::finish`] wait for delivery up to
//! [`LoggerOptions::finish_timeout`]; what has not arrived by then is in the spool file
//! named in the returned [`Delivery`], which the logger keeps replaying in the
//! background while the process lives and `cairn sync` replays after it died. Dropping
//! an unfinished `ActiveRun` finishes it (`FAILED` while panicking, else `FINISHED`).
//!
//! A replayed entry may reach the server twice (when an answer was lost); the server
//! keeps a metric point once (points are identified by key, timestamp, step and value),
//! a param repeats its value, and tags and the status are applied in order, so the run
//! ends up exactly as logged.

mod batch;
mod send;
mod spool;

pub use batch::{MAX_ENTRIES, MAX_METRICS, MAX_PARAMS, MAX_TAGS};
pub use spool::{default_spool_dir, sync_spool_dir, sync_spool_file, SyncedFile};

use crate::client::now_ms;
use crate::{Client, Error, RetryPolicy};
use batch::{Batch, Entry, Item};
use cairn_schema::{Metric, Param, RunStatus, Tag};
use crossbeam_channel::{RecvTimeoutError, SendTimeoutError, Sender};
use spool::Spool;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How an [`ActiveRun`] queues, batches, waits and spools.
#[derive(Debug, Clone)]
pub struct LoggerOptions {
    /// Events the queue holds before `log_*` calls wait (default 100,000).
    pub queue_capacity: usize,
    /// The longest a `log_*` call waits for room in a full queue before dropping its
    /// event (default 1 s).
    pub max_block: Duration,
    /// A partial batch is sent once its first event is this old (default 1 s).
    pub flush_interval: Duration,
    /// Batches kept in memory while the sender is behind, before they go to the spool
    /// (default 16, i.e. up to 16,000 metric points).
    pub max_memory_batches: usize,
    /// Where the spool goes (default [`default_spool_dir`]).
    pub spool_dir: Option<PathBuf>,
    /// How long `flush`, `finish` and drop wait for delivery (default 30 s).
    pub finish_timeout: Duration,
    /// One attempt at sending a batch, after which the server counts as away (default 30 s).
    pub request_timeout: Duration,
    /// The longest wait between attempts while the server is away (default 2 s).
    pub max_backoff: Duration,
}

impl Default for LoggerOptions {
    fn default() -> Self {
        LoggerOptions {
            queue_capacity: 100_000,
            max_block: Duration::from_secs(1),
            flush_interval: Duration::from_secs(1),
            max_memory_batches: 16,
            spool_dir: None,
            finish_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            max_backoff: Duration::from_secs(2),
        }
    }
}

/// What a `flush` or `finish` achieved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivery {
    /// Everything logged so far is on the server.
    pub delivered: bool,
    /// When not, the spool file holding what is not (see `cairn sync`).
    pub spool: Option<PathBuf>,
    /// What the server refused for good (e.g. a param logged again with another value).
    pub rejected: Vec<String>,
    /// Events dropped because the queue stayed full for `max_block`.
    pub dropped: u64,
}

enum Event {
    Metric(Metric),
    Param(Param),
    Tag(Tag),
    Flush(crossbeam_channel::Sender<u64>),
    /// No more events; the run's status and end time to set, if any.
    End(Option<(String, i64)>, crossbeam_channel::Sender<u64>),
}

/// State shared by the caller, the collector and the sender.
struct Shared {
    state: Mutex<State>,
    /// Wakes the sender: there is something to send.
    work: Condvar,
    /// Wakes flushers: `settled` moved.
    progress: Condvar,
    dropped: AtomicU64,
}

struct State {
    run_id: String,
    /// Entries not yet sent, newest last; all newer than anything in the spool.
    mem: VecDeque<Arc<Entry>>,
    spool: Option<Spool>,
    spool_dir: PathBuf,
    max_memory_batches: usize,
    /// The sequence number of the newest entry.
    last_seq: u64,
    /// Every entry up to here is dealt with by the server.
    settled: u64,
    /// The last send failed for the server's or network's reasons.
    away: bool,
    /// The collector has queued the run's end and stopped.
    ended: bool,
    rejected: Vec<String>,
}

impl State {
    fn push(&mut self, item: Item) -> u64 {
        self.last_seq += 1;
        self.mem.push_back(Arc::new(Entry {
            seq: self.last_seq,
            run_id: self.run_id.clone(),
            item,
        }));
        if self.away || self.mem.len() > self.max_memory_batches {
            let durable = self.away;
            self.spill(durable);
        }
        self.last_seq
    }

    /// Moves every unsent in-memory entry to the end of the spool.
    fn spill(&mut self, durable: bool) {
        let settled = self.settled;
        self.mem.retain(|e| e.seq > settled);
        if self.mem.is_empty() {
            return;
        }
        if self.spool.is_none() {
            match Spool::create(&self.spool_dir, &self.run_id) {
                Ok(s) => self.spool = Some(s),
                Err(e) => {
                    self.note(format!(
                        "cannot create a spool in {}: {e}",
                        self.spool_dir.display()
                    ));
                    return;
                }
            }
        }
        let spool = self.spool.as_mut().expect("created above");
        match spool.append(self.mem.iter().map(|e| e.as_ref()), durable) {
            Ok(()) => self.mem.clear(),
            Err(e) => self.note(format!("cannot write the spool: {e}")),
        }
    }

    /// The oldest entry not yet settled.
    fn next_unsent(&mut self) -> Option<Arc<Entry>> {
        if let Some(spool) = self.spool.as_mut() {
            loop {
                match spool.next() {
                    Ok(Some(e)) if e.seq <= self.settled => continue,
                    Ok(Some(e)) => return Some(Arc::new(e)),
                    Ok(None) => break,
                    Err(e) => {
                        let msg = format!("cannot read the spool: {e}");
                        self.note(msg);
                        break;
                    }
                }
            }
        }
        while self.mem.front().is_some_and(|e| e.seq <= self.settled) {
            self.mem.pop_front();
        }
        self.mem.front().cloned()
    }

    fn note(&mut self, message: String) {
        if self.rejected.len() < 1000 {
            self.rejected.push(message);
        }
    }
}

/// A run being logged in the background. Cheap calls, a bounded queue, batching, and a
/// spool for when the server is away; see the [module documentation](self) for the bounds.
///
/// ```no_run
/// # async fn demo() -> Result<(), cairn_client::Error> {
/// let client = cairn_client::Client::from_env()?;
/// let experiment = client.get_or_create_experiment("fine-tune").await?;
/// let run = client.start_run(&experiment, Some("lora-r16")).await?;
/// run.log_param("lr", "3e-4");
/// for step in 0..1000 {
///     run.log_metric("loss", 1.0 / (step + 1) as f64, step);
/// }
/// run.finish();
/// # Ok(()) }
/// ```
pub struct ActiveRun {
    run_id: String,
    tx: Option<Sender<Event>>,
    shared: Arc<Shared>,
    options: LoggerOptions,
    collector: Option<JoinHandle<()>>,
    sender: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ActiveRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveRun")
            .field("run_id", &self.run_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Creates a run and returns its background logger, with default options.
    pub async fn start_run(
        &self,
        experiment_id: &str,
        name: Option<&str>,
    ) -> Result<ActiveRun, Error> {
        let run = self.create_run(experiment_id, name).await?;
        ActiveRun::attach(self.clone(), &run.info.run_id, LoggerOptions::default())
    }
}

impl ActiveRun {
    /// A background logger for an existing run (e.g. the `MLFLOW_RUN_ID` that
    /// `cairn run` hands a child process).
    pub fn attach(
        client: Client,
        run_id: &str,
        options: LoggerOptions,
    ) -> Result<ActiveRun, Error> {
        if options.queue_capacity == 0 || options.max_memory_batches == 0 {
            return Err(Error::Config(
                "queue_capacity and max_memory_batches must be positive".into(),
            ));
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                run_id: run_id.to_owned(),
                mem: VecDeque::new(),
                spool: None,
                spool_dir: options.spool_dir.clone().unwrap_or_else(default_spool_dir),
                max_memory_batches: options.max_memory_batches,
                last_seq: 0,
                settled: 0,
                away: false,
                ended: false,
                rejected: Vec::new(),
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            dropped: AtomicU64::new(0),
        });
        let (tx, rx) = crossbeam_channel::bounded(options.queue_capacity);
        let collector = {
            let shared = shared.clone();
            let interval = options.flush_interval;
            std::thread::Builder::new()
                .name("cairn-collector".into())
                .spawn(move || collect(rx, &shared, interval))?
        };
        let sender = {
            let shared = shared.clone();
            let client = client.fresh().with_retry(RetryPolicy {
                max_retries: 2,
                base_delay: Duration::from_millis(50),
                max_delay: Duration::from_millis(500),
                deadline: Duration::from_secs(2),
            });
            let (timeout, backoff) = (options.request_timeout, options.max_backoff);
            std::thread::Builder::new()
                .name("cairn-sender".into())
                .spawn(move || deliver(&client, &shared, timeout, backoff))?
        };
        Ok(ActiveRun {
            run_id: run_id.to_owned(),
            tx: Some(tx),
            shared,
            options,
            collector: Some(collector),
            sender: Some(sender),
        })
    }

    /// The run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    fn enqueue(&self, event: Event) {
        let Some(tx) = &self.tx else { return };
        let dropped = match tx.try_send(event) {
            Ok(()) => false,
            Err(crossbeam_channel::TrySendError::Full(event)) => {
                matches!(
                    tx.send_timeout(event, self.options.max_block),
                    Err(SendTimeoutError::Timeout(_) | SendTimeoutError::Disconnected(_))
                )
            }
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => true,
        };
        if dropped {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Logs a metric point at `step`, timestamped now. Returns at once.
    pub fn log_metric(&self, key: &str, value: f64, step: i64) {
        self.log_metric_at(key, value, step, now_ms());
    }

    /// Logs a metric point with its own timestamp (milliseconds since the epoch).
    pub fn log_metric_at(&self, key: &str, value: f64, step: i64, timestamp: i64) {
        self.enqueue(Event::Metric(Metric {
            key: key.to_owned(),
            value,
            timestamp,
            step,
            run_id: None,
        }));
    }

    /// Logs a param. Returns at once; a later different value for the key is refused
    /// by the server and reported in [`Delivery::rejected`].
    pub fn log_param(&self, key: &str, value: &str) {
        self.enqueue(Event::Param(Param {
            key: key.to_owned(),
            value: value.to_owned(),
        }));
    }

    /// Sets a run tag. Returns at once.
    pub fn set_tag(&self, key: &str, value: &str) {
        self.enqueue(Event::Tag(Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        }));
    }

    /// Events dropped so far because the queue stayed full for `max_block`.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Sends everything logged so far and waits for it to arrive, up to
    /// `finish_timeout`; what has not arrived by then is left in the spool file.
    pub fn flush(&self) -> Delivery {
        let deadline = Instant::now() + self.options.finish_timeout;
        let Some(tx) = &self.tx else {
            return self.delivery(false);
        };
        let (ack, seq) = crossbeam_channel::bounded(1);
        let seq = tx
            .send_deadline(Event::Flush(ack), deadline)
            .ok()
            .and_then(|()| seq.recv_deadline(deadline).ok());
        self.wait(seq, deadline)
    }

    /// Ends the run as `FINISHED` after delivering everything (see [`ActiveRun::end`]).
    pub fn finish(self) -> Delivery {
        self.end(RunStatus::Finished)
    }

    /// Ends the run as `FINISHED` when `result` is `Ok`, else `FAILED`.
    pub fn finish_with<T, E>(self, result: &Result<T, E>) -> Delivery {
        self.end(if result.is_ok() {
            RunStatus::Finished
        } else {
            RunStatus::Failed
        })
    }

    /// Ends the run with `status` after everything logged before, waiting up to
    /// `finish_timeout` for delivery.
    pub fn end(mut self, status: RunStatus) -> Delivery {
        self.end_inner(Some(status))
    }

    /// Delivers everything logged and stops the logger, leaving the run's status as it
    /// is: for logging into a run something else owns (`cairn log`, a child of `cairn run`).
    pub fn close(mut self) -> Delivery {
        self.end_inner(None)
    }

    fn end_inner(&mut self, status: Option<RunStatus>) -> Delivery {
        let deadline = Instant::now() + self.options.finish_timeout;
        let Some(tx) = self.tx.take() else {
            return self.delivery(false);
        };
        let (ack, seq) = crossbeam_channel::bounded(1);
        let seq = tx
            .send_deadline(
                Event::End(status.map(|s| (s.as_str().to_owned(), now_ms())), ack),
                deadline,
            )
            .ok()
            .and_then(|()| seq.recv_deadline(deadline).ok());
        drop(tx);
        let delivery = self.wait(seq, deadline);
        if let Some(c) = self.collector.take() {
            let _ = c.join();
        }
        if delivery.delivered {
            if let Some(s) = self.sender.take() {
                let _ = s.join();
            }
        }
        delivery
    }

    /// Waits until entry `seq` is settled or the deadline passes; then makes sure that
    /// whatever is not settled is on disk.
    fn wait(&self, seq: Option<u64>, deadline: Instant) -> Delivery {
        let mut state = self.lock();
        if let Some(seq) = seq {
            while state.settled < seq {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                state = self
                    .shared
                    .progress
                    .wait_timeout(state, deadline - now)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
        }
        let delivered = seq.is_some_and(|s| state.settled >= s);
        if !delivered {
            state.spill(true);
        }
        Self::delivery_of(&state, delivered, self.dropped())
    }

    fn delivery(&self, delivered: bool) -> Delivery {
        Self::delivery_of(&self.lock(), delivered, self.dropped())
    }

    fn delivery_of(state: &State, delivered: bool, dropped: u64) -> Delivery {
        Delivery {
            delivered,
            spool: (!delivered)
                .then(|| state.spool.as_ref().map(|s| s.path().to_owned()))
                .flatten(),
            rejected: state.rejected.clone(),
            dropped,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ActiveRun {
    /// Ends a run nobody ended: `FAILED` while unwinding from a panic, else `FINISHED`.
    fn drop(&mut self) {
        if self.tx.is_some() {
            let status = if std::thread::panicking() {
                RunStatus::Failed
            } else {
                RunStatus::Finished
            };
            self.end_inner(Some(status));
        }
    }
}

/// The collector thread: events into batches, batches into the shared queue.
fn collect(rx: crossbeam_channel::Receiver<Event>, shared: &Shared, interval: Duration) {
    let mut batch = Batch::default();
    let mut opened = Instant::now();
    let emit = |batch: &mut Batch| -> u64 {
        let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        if !batch.is_empty() {
            state.push(Item::Batch(std::mem::take(batch)));
            shared.work.notify_one();
        }
        state.last_seq
    };
    loop {
        let wait = if batch.is_empty() {
            Duration::from_secs(3600)
        } else {
            interval.saturating_sub(opened.elapsed())
        };
        let event = match rx.recv_timeout(wait) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => {
                emit(&mut batch);
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => {
                emit(&mut batch);
                return;
            }
        };
        if batch.is_empty() {
            opened = Instant::now();
        }
        match event {
            Event::Metric(m) => batch.metrics.push(m),
            Event::Param(p) => {
                if !batch.add_param(p.clone()) {
                    emit(&mut batch);
                    batch.add_param(p);
                }
            }
            Event::Tag(t) => batch.set_tag(t),
            Event::Flush(ack) => {
                let _ = ack.send(emit(&mut batch));
            }
            Event::End(end, ack) => {
                emit(&mut batch);
                let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
                let seq = match end {
                    Some((status, end_time)) => state.push(Item::End { status, end_time }),
                    None => state.last_seq,
                };
                state.ended = true;
                shared.work.notify_one();
                let _ = ack.send(seq);
                return;
            }
        }
        if batch.is_full() {
            emit(&mut batch);
        }
    }
}

/// The sender thread: the oldest unsent entry to the server, over and over; spools and
/// backs off while the server is away; stops once the run's end is delivered.
fn deliver(client: &Client, shared: &Shared, timeout: Duration, max_backoff: Duration) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let mut current: Option<Arc<Entry>> = None;
    let mut backoff = Duration::from_millis(100);
    loop {
        if current.is_none() {
            let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(e) = state.next_unsent() {
                    current = Some(e);
                    break;
                }
                if let Some(spool) = state.spool.take() {
                    spool.remove();
                }
                if state.ended && state.settled >= state.last_seq {
                    return;
                }
                state = shared
                    .work
                    .wait_timeout(state, Duration::from_secs(1))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
        }
        let entry = current.as_ref().expect("chosen above");
        let outcome = rt.block_on(async {
            match tokio::time::timeout(timeout, send::send_entry(client, entry)).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err(format!("no answer within {timeout:?}")),
            }
        });
        let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok(sent) => {
                for r in sent.rejected {
                    state.note(r);
                }
                state.settled = entry.seq;
                state.away = false;
                backoff = Duration::from_millis(100);
                current = None;
                shared.progress.notify_all();
            }
            Err(_) => {
                if !state.away {
                    state.away = true;
                    state.spill(true);
                }
                drop(state);
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(max_backoff);
            }
        }
    }
}
