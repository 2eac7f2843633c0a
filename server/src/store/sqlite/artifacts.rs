//! The artifact index in SQLite: path -> blob digest with versions, blobs, multipart uploads.

use super::now_ms;
use crate::store::{ArtifactChild, ArtifactEntry, ArtifactKind, StoreResult};
use cairn_schema::ApiError;
use rusqlite::{params, Connection, OptionalExtension};

/// Bounds of the rows strictly below `dir` in binary order: `dir/` <= path < `dir0`
/// (`0` follows `/`). The root covers everything.
fn below(dir: &str) -> (String, String) {
    if dir.is_empty() {
        (String::new(), "\u{10FFFF}".to_owned())
    } else {
        (format!("{dir}/"), format!("{dir}0"))
    }
}

fn entry(r: &rusqlite::Row) -> rusqlite::Result<ArtifactEntry> {
    Ok(ArtifactEntry {
        digest: r.get(0)?,
        size: r.get(1)?,
        version: r.get(2)?,
        created: r.get(3)?,
        current: r.get(4)?,
    })
}

pub fn blob_known(conn: &Connection, digest: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("UPDATE blobs SET last_seen = ? WHERE digest = ?")?
        .execute(params![now_ms(), digest])?;
    Ok(n > 0)
}

pub fn kind(conn: &Connection, path: &str) -> StoreResult<ArtifactKind> {
    let file = conn
        .prepare_cached("SELECT digest, size, version, created, current FROM artifacts WHERE path = ? AND current = 1")?
        .query_row([path], entry)
        .optional()?;
    if let Some(e) = file {
        return Ok(ArtifactKind::File(e));
    }
    let (lo, hi) = below(path);
    let dir: Option<i64> = conn
        .prepare_cached(
            "SELECT 1 FROM artifacts WHERE current = 1 AND path >= ? AND path < ? LIMIT 1",
        )?
        .query_row(params![lo, hi], |r| r.get(0))
        .optional()?;
    Ok(if dir.is_some() {
        ArtifactKind::Dir
    } else {
        ArtifactKind::Missing
    })
}

pub fn record(conn: &Connection, path: &str, digest: &str, size: i64) -> StoreResult<()> {
    if matches!(kind(conn, path)?, ArtifactKind::Dir) {
        return Err(ApiError::invalid(format!(
            "Artifact path '{path}' is a directory; a file cannot replace it"
        ))
        .into());
    }
    let mut ancestor = path;
    while let Some((parent, _)) = ancestor.rsplit_once('/') {
        if matches!(kind(conn, parent)?, ArtifactKind::File(_)) {
            return Err(ApiError::invalid(format!(
                "Artifact path '{parent}' is a file; nothing can be stored below it"
            ))
            .into());
        }
        ancestor = parent;
    }
    let now = now_ms();
    conn.prepare_cached(
        "INSERT INTO blobs (digest, size, created, last_seen) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (digest) DO UPDATE SET last_seen = excluded.last_seen",
    )?
    .execute(params![digest, size, now])?;
    conn.prepare_cached("UPDATE artifacts SET current = 0 WHERE path = ? AND current = 1")?
        .execute([path])?;
    conn.prepare_cached(
        "INSERT INTO artifacts (path, version, digest, size, created, current)
         VALUES (?1, (SELECT coalesce(max(version), 0) + 1 FROM artifacts WHERE path = ?1), ?2, ?3, ?4, 1)",
    )?
    .execute(params![path, digest, size, now])?;
    Ok(())
}

pub fn list(conn: &Connection, dir: &str) -> StoreResult<Vec<ArtifactChild>> {
    let (lo, hi) = below(dir);
    let mut stmt = conn.prepare_cached(
        "SELECT path, size FROM artifacts WHERE current = 1 AND path >= ? AND path < ? ORDER BY path",
    )?;
    let mut rows = stmt.query(params![lo, hi])?;
    let mut children: Vec<ArtifactChild> = Vec::new();
    while let Some(r) = rows.next()? {
        let path: String = r.get(0)?;
        let rest = &path[lo.len()..];
        let (name, is_dir) = match rest.split_once('/') {
            Some((first, _)) => (first, true),
            None => (rest, false),
        };
        if children
            .last()
            .is_some_and(|c| c.name == name && c.is_dir == is_dir)
        {
            continue;
        }
        children.push(ArtifactChild {
            name: name.to_owned(),
            is_dir,
            size: if is_dir { None } else { Some(r.get(1)?) },
        });
    }
    children.sort_by(|a, b| a.name.cmp(&b.name));
    children.dedup_by(|a, b| a.name == b.name && a.is_dir == b.is_dir);
    Ok(children)
}

pub fn versions(conn: &Connection, path: &str) -> StoreResult<Vec<ArtifactEntry>> {
    Ok(conn
        .prepare_cached(
            "SELECT digest, size, version, created, current FROM artifacts WHERE path = ? ORDER BY version DESC",
        )?
        .query_map([path], entry)?
        .collect::<rusqlite::Result<_>>()?)
}

/// Deletes blob rows among `candidates` that no artifact references any more.
fn release(conn: &Connection, candidates: Vec<String>) -> StoreResult<Vec<String>> {
    let mut freed = Vec::new();
    let mut stmt = conn.prepare_cached(
        "DELETE FROM blobs WHERE digest = ? AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.digest = blobs.digest)",
    )?;
    for digest in candidates {
        if stmt.execute([&digest])? > 0 {
            freed.push(digest);
        }
    }
    Ok(freed)
}

/// Removes every version of `path` and of everything below it.
fn remove_tree(conn: &Connection, path: &str) -> StoreResult<Vec<String>> {
    let (lo, hi) = below(path);
    let mut digests: Vec<String> = conn
        .prepare_cached(
            "SELECT DISTINCT digest FROM artifacts WHERE path = ?1 OR (path >= ?2 AND path < ?3)",
        )?
        .query_map(params![path, lo, hi], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    digests.sort();
    conn.prepare_cached("DELETE FROM artifacts WHERE path = ?1 OR (path >= ?2 AND path < ?3)")?
        .execute(params![path, lo, hi])?;
    Ok(digests)
}

pub fn delete(conn: &Connection, path: &str) -> StoreResult<Vec<String>> {
    let digests = remove_tree(conn, path)?;
    release(conn, digests)
}

pub fn purge_deleted_runs(
    conn: &Connection,
    before_ms: i64,
) -> StoreResult<(Vec<String>, Vec<String>)> {
    let runs: Vec<(i64, String, String)> = conn
        .prepare(
            // A run that a live model version came from keeps its artifacts: the version's
            // source points into them.
            "SELECT id, run_uuid, artifact_uri FROM runs
             WHERE lifecycle_stage = 'deleted' AND coalesce(deleted_time, 0) < ?
             AND NOT EXISTS (SELECT 1 FROM model_versions mv WHERE mv.deleted = 0 AND mv.run_id = runs.run_uuid)",
        )?
        .query_map([before_ms], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut candidates = Vec::new();
    let mut purged = Vec::new();
    for (id, run_uuid, uri) in runs {
        if let Some(root) = crate::store::served_artifact_root(&uri) {
            candidates.extend(remove_tree(conn, root)?);
        }
        conn.execute("DELETE FROM runs WHERE id = ?", [id])?;
        purged.push(run_uuid);
    }
    candidates.sort();
    candidates.dedup();
    Ok((purged, release(conn, candidates)?))
}

pub fn collect_unreferenced(conn: &Connection, before_ms: i64) -> StoreResult<Vec<String>> {
    let digests: Vec<String> = conn
        .prepare(
            "SELECT digest FROM blobs WHERE last_seen < ?
             AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.digest = blobs.digest)",
        )?
        .query_map([before_ms], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    release(conn, digests)
}

pub fn all_blobs(conn: &Connection) -> StoreResult<Vec<(String, i64)>> {
    Ok(conn
        .prepare("SELECT digest, size FROM blobs ORDER BY digest")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

pub fn create_upload(conn: &Connection, upload_id: &str, path: &str) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO multipart_uploads (upload_id, path, created) VALUES (?, ?, ?)",
        params![upload_id, path, now_ms()],
    )?;
    Ok(())
}

pub fn upload_path(conn: &Connection, upload_id: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT path FROM multipart_uploads WHERE upload_id = ?",
            [upload_id],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn expire_uploads(conn: &Connection, before_ms: i64) -> StoreResult<Vec<String>> {
    let ids: Vec<String> = conn
        .prepare("SELECT upload_id FROM multipart_uploads WHERE created < ?")?
        .query_map([before_ms], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    conn.execute(
        "DELETE FROM multipart_uploads WHERE created < ?",
        [before_ms],
    )?;
    Ok(ids)
}

pub fn finish_upload(conn: &Connection, upload_id: &str) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM multipart_uploads WHERE upload_id = ?",
        [upload_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::migrations::migrate(&mut c, 1).unwrap();
        c
    }

    #[test]
    fn writing_a_path_again_keeps_the_old_content_as_a_version() {
        let c = db();
        record(&c, "1/r/artifacts/a.txt", "d1", 3).unwrap();
        record(&c, "1/r/artifacts/a.txt", "d2", 4).unwrap();
        let v = versions(&c, "1/r/artifacts/a.txt").unwrap();
        assert_eq!(
            v.iter()
                .map(|e| (e.version, e.digest.as_str(), e.current))
                .collect::<Vec<_>>(),
            vec![(2, "d2", true), (1, "d1", false)]
        );
    }

    #[test]
    fn listing_shows_direct_children_once_and_not_neighbours_with_a_shared_prefix() {
        let c = db();
        for p in [
            "1/r/artifacts/b/x",
            "1/r/artifacts/b/y/z",
            "1/r/artifacts/a.txt",
            "1/r/artifacts-x/q",
            "1/r/artifacts/b-c",
        ] {
            record(&c, p, "d", 1).unwrap();
        }
        let names: Vec<(String, bool)> = list(&c, "1/r/artifacts")
            .unwrap()
            .into_iter()
            .map(|c| (c.name, c.is_dir))
            .collect();
        assert_eq!(
            names,
            vec![
                ("a.txt".into(), false),
                ("b".into(), true),
                ("b-c".into(), false)
            ]
        );
    }

    #[test]
    fn files_and_directories_cannot_stand_at_the_same_path() {
        let c = db();
        record(&c, "1/r/artifacts/model", "d", 1).unwrap();
        assert!(record(&c, "1/r/artifacts/model/MLmodel", "d", 1).is_err());
        record(&c, "1/r/artifacts/dir/file", "d", 1).unwrap();
        assert!(record(&c, "1/r/artifacts/dir", "d", 1).is_err());
    }

    #[test]
    fn a_blob_is_released_only_when_its_last_reference_goes() {
        let c = db();
        record(&c, "1/a/artifacts/w.bin", "same", 9).unwrap();
        record(&c, "1/b/artifacts/w.bin", "same", 9).unwrap();
        assert!(delete(&c, "1/a/artifacts").unwrap().is_empty());
        assert_eq!(
            delete(&c, "1/b/artifacts/w.bin").unwrap(),
            vec!["same".to_owned()]
        );
        assert!(all_blobs(&c).unwrap().is_empty());
    }

    #[test]
    fn only_uploads_started_before_the_cutoff_expire() {
        let c = db();
        create_upload(&c, "u1", "1/r/artifacts/big.bin").unwrap();
        assert!(expire_uploads(&c, 0).unwrap().is_empty());
        assert_eq!(
            upload_path(&c, "u1").unwrap().as_deref(),
            Some("1/r/artifacts/big.bin")
        );
        assert_eq!(
            expire_uploads(&c, now_ms() + 1_000).unwrap(),
            vec!["u1".to_owned()]
        );
        assert_eq!(upload_path(&c, "u1").unwrap(), None);
    }
}
