//! The idempotency table: one stored answer per key, for a day.

use super::now_ms;
use crate::store::{StoreResult, StoredAnswer};
use rusqlite::{params, Connection, OptionalExtension};

/// How long an answer is kept, in milliseconds.
pub const KEEP_MS: i64 = 24 * 3600 * 1000;

pub fn recall(conn: &Connection, key: &str) -> StoreResult<Option<StoredAnswer>> {
    Ok(conn
        .prepare_cached(
            "SELECT fingerprint, status, body FROM idempotency WHERE key = ? AND created >= ?",
        )?
        .query_row(params![key, now_ms() - KEEP_MS], |r| {
            Ok(StoredAnswer {
                fingerprint: r.get(0)?,
                status: r.get(1)?,
                body: r.get(2)?,
            })
        })
        .optional()?)
}

pub fn remember(conn: &Connection, key: &str, answer: &StoredAnswer) -> StoreResult<()> {
    let now = now_ms();
    conn.prepare_cached("DELETE FROM idempotency WHERE created < ?")?
        .execute([now - KEEP_MS])?;
    conn.prepare_cached(
        "INSERT INTO idempotency (key, fingerprint, status, body, created) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO NOTHING",
    )?
    .execute(params![
        key,
        answer.fingerprint,
        answer.status,
        answer.body,
        now
    ])?;
    Ok(())
}
