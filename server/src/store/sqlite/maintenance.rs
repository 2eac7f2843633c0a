//! Keeping a store whole across stops: a marker that tells a clean stop from a crash, the
//! integrity check after a crash, and consistent online backups.

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The file that exists while a server has the store open: `<db>.open`. Found at start,
/// it means the last server did not stop cleanly.
pub fn open_marker(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".open");
    db.with_file_name(name)
}

/// `PRAGMA quick_check`: every page and index entry readable and well formed.
pub fn quick_check(conn: &Connection) -> anyhow::Result<()> {
    let mut stmt = conn.prepare("PRAGMA quick_check")?;
    let problems: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    if problems.len() == 1 && problems[0] == "ok" {
        Ok(())
    } else {
        anyhow::bail!(
            "{}",
            problems.into_iter().take(10).collect::<Vec<_>>().join("; ")
        )
    }
}

/// After an unclean stop (the marker is there), checks the store before serving it.
pub fn check_after_crash(db: &Path, conn: &Connection) -> anyhow::Result<()> {
    if !open_marker(db).exists() {
        return Ok(());
    }
    let started = Instant::now();
    quick_check(conn).map_err(|e| {
        anyhow::anyhow!(
            "the store at {} did not stop cleanly and fails its integrity check ({e}); \
             restore it from a backup (`cairn backup`, see the README)",
            db.display()
        )
    })?;
    tracing::warn!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "the last server did not stop cleanly; the store passed its integrity check"
    );
    Ok(())
}

/// What a backup wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The new file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Experiments, runs and metric points in it.
    pub experiments: i64,
    /// Runs in it.
    pub runs: i64,
    /// Metric points in it.
    pub metric_points: i64,
}

/// Writes a consistent copy of the store at `db` to `dest` while servers keep writing:
/// `VACUUM INTO` reads one snapshot (a read transaction on the WAL), so the copy holds
/// exactly the transactions committed before it began. The copy is checked before
/// this returns; `dest` must not exist.
pub fn backup(db: &Path, dest: &Path) -> anyhow::Result<Backup> {
    anyhow::ensure!(db.exists(), "no store at {}", db.display());
    anyhow::ensure!(
        !dest.exists(),
        "{} already exists; back up to a new file",
        dest.display()
    );
    let dest_text = dest
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be valid UTF-8"))?;
    let source = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(std::time::Duration::from_secs(30))?;
    source.execute("VACUUM INTO ?", [dest_text])?;
    let copy = Connection::open_with_flags(dest, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    quick_check(&copy).map_err(|e| anyhow::anyhow!("the backup fails its integrity check: {e}"))?;
    let count = |table: &str| -> anyhow::Result<i64> {
        Ok(copy.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    };
    Ok(Backup {
        path: dest.to_owned(),
        bytes: std::fs::metadata(dest)?.len(),
        experiments: count("experiments")?,
        runs: count("runs")?,
        metric_points: count("metrics")?,
    })
}
