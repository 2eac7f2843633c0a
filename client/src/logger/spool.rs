//! The logger's spool: an append-only file of entries not yet on the server, locked by the
//! process writing it, read back in order when the server returns or by `cairn sync`
//! after that process died.

use super::batch::{Entry, Item};
use super::send::{send_entry, Sent};
use crate::{Client, Error};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// File names end with this.
const SUFFIX: &str = ".spool";

/// Where spools go unless configured: `CAIRN_SPOOL_DIR`, else `$XDG_CACHE_HOME/cairn/spool`,
/// else `~/.cache/cairn/spool`, else the temp directory's `cairn-spool`.
pub fn default_spool_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = env("CAIRN_SPOOL_DIR") {
        return dir;
    }
    if let Some(cache) = env("XDG_CACHE_HOME") {
        return cache.join("cairn").join("spool");
    }
    if let Some(home) = env("HOME") {
        return home.join(".cache").join("cairn").join("spool");
    }
    std::env::temp_dir().join("cairn-spool")
}

/// An open spool, written and read by one live logger.
#[derive(Debug)]
pub(crate) struct Spool {
    path: PathBuf,
    writer: BufWriter<File>,
    reader: BufReader<File>,
}

impl Spool {
    /// Creates a new spool file for a run in `dir`, locked against `cairn sync`.
    pub(crate) fn create(dir: &Path, run_id: &str) -> io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let safe: String = run_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(64)
            .collect();
        let path = dir.join(format!("{safe}-{}-{stamp}{SUFFIX}", std::process::id()));
        let file = OpenOptions::new()
            .create_new(true)
            .read(true)
            .append(true)
            .open(&path)?;
        file.try_lock().map_err(io::Error::other)?;
        let reader = BufReader::new(File::open(&path)?);
        Ok(Spool {
            path,
            writer: BufWriter::new(file),
            reader,
        })
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends entries, one JSON line each; with `durable`, fsyncs before returning.
    pub(crate) fn append<'a>(
        &mut self,
        entries: impl Iterator<Item = &'a Entry>,
        durable: bool,
    ) -> io::Result<()> {
        for e in entries {
            serde_json::to_writer(&mut self.writer, e)?;
            self.writer.write_all(b"\n")?;
        }
        self.writer.flush()?;
        if durable {
            self.writer.get_ref().sync_data()?;
        }
        Ok(())
    }

    /// The next entry after the last one read, or `None` when every written one was read.
    pub(crate) fn next(&mut self) -> io::Result<Option<Entry>> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        serde_json::from_str(&line)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Deletes the file: everything in it reached the server.
    pub(crate) fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What `cairn sync` did with one spool file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedFile {
    /// The file.
    pub path: PathBuf,
    /// Entries sent (already-sent ones are sent again; the server keeps them once).
    pub entries: u64,
    /// Metric points among them.
    pub metrics: u64,
    /// What the server refused, entry by entry; refused entries are not retried.
    pub rejected: Vec<String>,
    /// Why the file was left in place, when it was: in use by a live logger, or the
    /// server could not be reached.
    pub left: Option<String>,
}

/// Replays every spool file in `dir` (see [`default_spool_dir`]) to the server, oldest
/// first, and deletes each one that was fully delivered. Files still locked by a live
/// logger are left alone. Replaying is idempotent: a metric point the server already has
/// is not stored twice, params repeat their value and tags and statuses are applied in order.
pub async fn sync_spool_dir(client: &Client, dir: &Path) -> Result<Vec<SyncedFile>, Error> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    let listing = match std::fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    for entry in listing {
        let entry = entry?;
        let path = entry.path();
        if path.to_string_lossy().ends_with(SUFFIX) {
            let modified = entry.metadata()?.modified()?;
            files.push((modified, path));
        }
    }
    files.sort();
    let mut done = Vec::new();
    for (_, path) in files {
        done.push(sync_spool_file(client, &path).await?);
    }
    Ok(done)
}

/// Replays one spool file; see [`sync_spool_dir`].
pub async fn sync_spool_file(client: &Client, path: &Path) -> Result<SyncedFile, Error> {
    let mut report = SyncedFile {
        path: path.to_owned(),
        entries: 0,
        metrics: 0,
        rejected: Vec::new(),
        left: None,
    };
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    if file.try_lock().is_err() {
        report.left = Some("in use by a running logger".into());
        return Ok(report);
    }
    file.seek(SeekFrom::Start(0))?;
    let reader = BufReader::new(&file);
    for line in reader.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        // A process killed mid-write can leave a cut last line: nothing after it exists.
        let Ok(entry) = serde_json::from_str::<Entry>(&line) else {
            break;
        };
        match send_entry(client, &entry).await {
            Ok(Sent { rejected }) => {
                report.entries += 1;
                if let Item::Batch(b) = &entry.item {
                    report.metrics += b.metrics.len() as u64;
                }
                report.rejected.extend(rejected);
            }
            Err(e) => {
                report.left = Some(format!("server unreachable: {e}"));
                return Ok(report);
            }
        }
    }
    drop(file);
    std::fs::remove_file(path)?;
    Ok(report)
}
