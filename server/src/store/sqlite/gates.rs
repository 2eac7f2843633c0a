//! Promotion gates and promotion history in SQLite.

use crate::store::{Gate, PromotionEvent, StoreResult};
use cairn_schema::ApiError;
use rusqlite::{params, Connection, OptionalExtension};

fn require_model(conn: &Connection, name: &str) -> StoreResult<()> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM registered_models WHERE name = ?",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    found.map(|_| ()).ok_or_else(|| {
        ApiError::not_found(format!("Registered Model with name={name} not found")).into()
    })
}

pub fn set_gate(conn: &Connection, gate: &Gate) -> StoreResult<()> {
    require_model(conn, &gate.name)?;
    conn.execute(
        "INSERT INTO promotion_gates (name, target, filter, created) VALUES (?, ?, ?, ?)
         ON CONFLICT (name, target) DO UPDATE SET filter = excluded.filter, created = excluded.created",
        params![gate.name, gate.target, gate.filter, gate.created],
    )?;
    Ok(())
}

pub fn gates(conn: &Connection, name: &str) -> StoreResult<Vec<Gate>> {
    require_model(conn, name)?;
    Ok(conn
        .prepare_cached("SELECT name, target, filter, created FROM promotion_gates WHERE name = ? ORDER BY target")?
        .query_map([name], |r| Ok(Gate { name: r.get(0)?, target: r.get(1)?, filter: r.get(2)?, created: r.get(3)? }))?
        .collect::<rusqlite::Result<_>>()?)
}

pub fn delete_gate(conn: &Connection, name: &str, target: &str) -> StoreResult<()> {
    require_model(conn, name)?;
    let n = conn.execute(
        "DELETE FROM promotion_gates WHERE name = ? AND target = ?",
        params![name, target],
    )?;
    if n == 0 {
        return Err(ApiError::not_found(format!(
            "Registered model {name} has no gate for {target}"
        ))
        .into());
    }
    Ok(())
}

pub fn record(conn: &Connection, e: &PromotionEvent) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO promotion_history (name, kind, alias, version, from_value, to_value, at, actor, run_id, metrics)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![e.name, e.kind, e.alias, e.version, e.from, e.to, e.at, e.actor, e.run_id, e.metrics],
    )?;
    Ok(())
}

pub fn history(conn: &Connection, name: &str) -> StoreResult<Vec<PromotionEvent>> {
    require_model(conn, name)?;
    Ok(conn
        .prepare_cached(
            "SELECT name, kind, alias, version, from_value, to_value, at, actor, run_id, metrics
             FROM promotion_history WHERE name = ? ORDER BY id",
        )?
        .query_map([name], |r| {
            Ok(PromotionEvent {
                name: r.get(0)?,
                kind: r.get(1)?,
                alias: r.get(2)?,
                version: r.get(3)?,
                from: r.get(4)?,
                to: r.get(5)?,
                at: r.get(6)?,
                actor: r.get(7)?,
                run_id: r.get(8)?,
                metrics: r.get(9)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}
