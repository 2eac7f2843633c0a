//! Runs: creation, lifecycle, log-batch (params, tags, metrics), inputs and outputs in SQLite.

use super::{experiments, names, now_ms};
use crate::store::{Batch, NewRun, RunUpdate, StoreResult};
use cairn_schema::{ApiError, DatasetInput, ModelOutput, Tag};
use rusqlite::{params, Connection, OptionalExtension};

pub use super::run_reads::{get, search};

/// The tag that mirrors a run's name.
pub const RUN_NAME_TAG: &str = "mlflow.runName";

/// The row id and lifecycle stage of a run, or not-found.
pub fn lookup(conn: &Connection, run_id: &str) -> StoreResult<(i64, String)> {
    conn.prepare_cached("SELECT id, lifecycle_stage FROM runs WHERE run_uuid = ?")?
        .query_row([run_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("Run with id={run_id} not found")).into())
}

/// The row id of an active run; deleted runs refuse writes.
pub fn require_active(conn: &Connection, run_id: &str) -> StoreResult<i64> {
    let (id, stage) = lookup(conn, run_id)?;
    if stage != "active" {
        return Err(ApiError::invalid(format!(
            "The run {run_id} must be in the 'active' state. Current state is {stage}."
        ))
        .into());
    }
    Ok(id)
}

pub fn create(conn: &Connection, new: NewRun) -> StoreResult<String> {
    experiments::require_active(conn, new.experiment_id)?;
    let location: String = conn.query_row(
        "SELECT artifact_location FROM experiments WHERE experiment_id = ?",
        [new.experiment_id],
        |r| r.get(0),
    )?;
    let run_uuid = uuid::Uuid::new_v4().simple().to_string();
    let name = new
        .run_name
        .filter(|n| !n.is_empty())
        .or_else(|| {
            new.tags
                .iter()
                .rev()
                .find(|t| t.key == RUN_NAME_TAG)
                .map(|t| t.value.clone())
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(names::generate);
    let artifact_uri = format!("{}/{run_uuid}/artifacts", location.trim_end_matches('/'));
    conn.prepare_cached(
        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, artifact_uri)
         VALUES (?, ?, ?, ?, 'RUNNING', ?, ?)",
    )?
    .execute(params![run_uuid, new.experiment_id, name, new.user_id, new.start_time, artifact_uri])?;
    let id = conn.last_insert_rowid();
    let mut tags = new.tags;
    tags.retain(|t| t.key != RUN_NAME_TAG);
    tags.push(Tag {
        key: RUN_NAME_TAG.into(),
        value: name,
    });
    for tag in &tags {
        upsert_tag(conn, id, tag)?;
    }
    Ok(run_uuid)
}

pub fn update(conn: &Connection, run_id: &str, update: RunUpdate) -> StoreResult<()> {
    let id = require_active(conn, run_id)?;
    if let Some(status) = update.status {
        conn.execute(
            "UPDATE runs SET status = ? WHERE id = ?",
            params![status.as_str(), id],
        )?;
    }
    if let Some(end_time) = update.end_time {
        conn.execute(
            "UPDATE runs SET end_time = ? WHERE id = ?",
            params![end_time, id],
        )?;
    }
    if let Some(name) = update.run_name.filter(|n| !n.is_empty()) {
        upsert_tag(
            conn,
            id,
            &Tag {
                key: RUN_NAME_TAG.into(),
                value: name,
            },
        )?;
    }
    Ok(())
}

/// Deletes (`restore = false`) or restores a run; both are idempotent.
pub fn set_lifecycle(conn: &Connection, run_id: &str, restore: bool) -> StoreResult<()> {
    let (id, _) = lookup(conn, run_id)?;
    let (stage, deleted_time) = if restore {
        ("active", None)
    } else {
        ("deleted", Some(now_ms()))
    };
    conn.execute(
        "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE id = ?",
        params![stage, deleted_time, id],
    )?;
    Ok(())
}

/// Moves an active run into another active experiment.
pub fn move_to(conn: &Connection, run_id: &str, experiment_id: i64) -> StoreResult<()> {
    let id = require_active(conn, run_id)?;
    super::experiments::require_active(conn, experiment_id)?;
    conn.execute(
        "UPDATE runs SET experiment_id = ? WHERE id = ?",
        params![experiment_id, id],
    )?;
    Ok(())
}

/// Sets a tag; the `mlflow.runName` tag also renames the run.
fn upsert_tag(conn: &Connection, id: i64, tag: &Tag) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO tags (run, key, value) VALUES (?, ?, ?) ON CONFLICT (run, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![id, tag.key, tag.value])?;
    if tag.key == RUN_NAME_TAG {
        conn.prepare_cached("UPDATE runs SET name = ? WHERE id = ?")?
            .execute(params![tag.value, id])?;
    }
    Ok(())
}

/// Applies a whole batch or, on any failure, nothing (the writer's savepoint rolls back).
pub fn log_batch(conn: &Connection, run_id: &str, batch: &Batch) -> StoreResult<()> {
    let id = require_active(conn, run_id)?;
    {
        let mut existing =
            conn.prepare_cached("SELECT value FROM params WHERE run = ? AND key = ?")?;
        let mut insert =
            conn.prepare_cached("INSERT INTO params (run, key, value) VALUES (?, ?, ?)")?;
        for p in &batch.params {
            match existing.query_row(params![id, p.key], |r| r.get::<_, String>(0)).optional()? {
                Some(old) if old == p.value => {}
                Some(old) => {
                    return Err(ApiError::invalid(format!(
                        "Changing param values is not allowed. Param with key={} was already logged with value={} for run ID='{run_id}'. Attempted logging new value {}.",
                        cairn_schema::validate::quoted(&p.key),
                        cairn_schema::validate::quoted(&old),
                        cairn_schema::validate::quoted(&p.value),
                    ))
                    .into())
                }
                None => {
                    insert.execute(params![id, p.key, p.value])?;
                }
            }
        }
    }
    for tag in &batch.tags {
        upsert_tag(conn, id, tag)?;
    }
    let mut history = conn.prepare_cached(
        "INSERT OR IGNORE INTO metrics (run, key, timestamp, step, value, is_nan) VALUES (?, ?, ?, ?, ?, ?)",
    )?;
    let mut latest = conn.prepare_cached(
        "INSERT INTO latest_metrics (run, key, value, is_nan, timestamp, step, experiment_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, (SELECT experiment_id FROM runs WHERE id = ?1))
         ON CONFLICT (run, key) DO UPDATE SET
             value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
         WHERE (excluded.step, excluded.timestamp, excluded.value) > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)",
    )?;
    // Only each key's greatest point can become its latest value: one upsert per key.
    let mut newest: Vec<(&str, (i64, i64, f64), bool)> = Vec::new();
    for m in &batch.metrics {
        let (value, is_nan) = storable(m.value);
        history.execute(params![id, m.key, m.timestamp, m.step, value, is_nan])?;
        let rank = (m.step, m.timestamp, value);
        match newest.iter_mut().find(|(k, _, _)| *k == m.key) {
            Some(slot) if rank_gt(rank, slot.1) => *slot = (&m.key, rank, is_nan),
            Some(_) => {}
            None => newest.push((&m.key, rank, is_nan)),
        }
    }
    for (key, (step, timestamp, value), is_nan) in newest {
        latest.execute(params![id, key, value, is_nan, timestamp, step])?;
    }
    for m in &batch.model_metrics {
        super::logged_models::record_metric(conn, run_id, m)?;
    }
    Ok(())
}

/// `(step, timestamp, value)` ordering, as the latest-metric upsert compares rows.
fn rank_gt(a: (i64, i64, f64), b: (i64, i64, f64)) -> bool {
    (a.0, a.1) > (b.0, b.1) || ((a.0, a.1) == (b.0, b.1) && a.2 > b.2)
}

/// SQLite has no NaN: it is stored as 0 with a flag. Infinities are clamped to
/// ±f64::MAX, as MLflow's SQL store does.
pub(crate) fn storable(v: f64) -> (f64, bool) {
    if v.is_nan() {
        (0.0, true)
    } else {
        (v.clamp(f64::MIN, f64::MAX), false)
    }
}

pub fn delete_tag(conn: &Connection, run_id: &str, key: &str) -> StoreResult<()> {
    let id = require_active(conn, run_id)?;
    let n = conn.execute(
        "DELETE FROM tags WHERE run = ? AND key = ?",
        params![id, key],
    )?;
    if n == 0 {
        return Err(ApiError::not_found(format!(
            "No tag with name: {} in run with id {run_id}",
            cairn_schema::validate::quoted(key)
        ))
        .into());
    }
    Ok(())
}

pub fn log_inputs(
    conn: &Connection,
    run_id: &str,
    datasets: &[DatasetInput],
    models: &[String],
) -> StoreResult<()> {
    let id = require_active(conn, run_id)?;
    let experiment_id: i64 =
        conn.query_row("SELECT experiment_id FROM runs WHERE id = ?", [id], |r| {
            r.get(0)
        })?;
    for dataset_input in datasets {
        let d = &dataset_input.dataset;
        conn.prepare_cached(
            "INSERT INTO datasets (experiment_id, name, digest, source_type, source, schema, profile)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (experiment_id, name, digest) DO NOTHING",
        )?
        .execute(params![experiment_id, d.name, d.digest, d.source_type, d.source, d.schema, d.profile])?;
        let dataset: i64 = conn.query_row(
            "SELECT id FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?",
            params![experiment_id, d.name, d.digest],
            |r| r.get(0),
        )?;
        conn.execute(
            "INSERT INTO inputs (run, dataset) VALUES (?, ?) ON CONFLICT (run, dataset) DO NOTHING",
            params![id, dataset],
        )?;
        let input: i64 = conn.query_row(
            "SELECT id FROM inputs WHERE run = ? AND dataset = ?",
            params![id, dataset],
            |r| r.get(0),
        )?;
        for tag in &dataset_input.tags {
            conn.execute(
                "INSERT INTO input_tags (input, key, value) VALUES (?, ?, ?) ON CONFLICT (input, key) DO UPDATE SET value = excluded.value",
                params![input, tag.key, tag.value],
            )?;
        }
    }
    for model_id in models {
        conn.execute(
            "INSERT OR IGNORE INTO model_inputs (run, model_id) VALUES (?, ?)",
            params![id, model_id],
        )?;
    }
    Ok(())
}

pub fn log_outputs(conn: &Connection, run_id: &str, models: &[ModelOutput]) -> StoreResult<()> {
    let id = require_active(conn, run_id)?;
    for m in models {
        conn.execute(
            "INSERT INTO model_outputs (run, model_id, step) VALUES (?, ?, ?) ON CONFLICT (run, model_id) DO UPDATE SET step = excluded.step",
            params![id, m.model_id, m.step],
        )?;
    }
    Ok(())
}
