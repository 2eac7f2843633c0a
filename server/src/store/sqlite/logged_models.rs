//! Logged models (MLflow 3) in SQLite: create, read with tags, params and metrics, finalize, delete, search.

use super::experiments::{self, page_end};
use super::{names, now_ms, runs};
use crate::search::{logged_model_filter, logged_model_order, Sql, SqlValue};
use crate::store::{LoggedModelQuery, ModelMetric, NewLoggedModel, Page, StoreError, StoreResult};
use cairn_schema::{
    ApiError, LoggedModel, LoggedModelData, LoggedModelInfo, LoggedModelMetric, LoggedModelStatus,
    Param, Tag,
};
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::HashMap;

const COLUMNS: &str = "lm.model_id, lm.experiment_id, lm.name, lm.creation_timestamp_ms, \
     lm.last_updated_timestamp_ms, lm.artifact_uri, lm.status, lm.model_type, lm.source_run_id";

fn not_found(model_id: &str) -> StoreError {
    ApiError::not_found(format!("Logged model with ID '{model_id}' not found.")).into()
}

fn model_from_row(r: &Row) -> rusqlite::Result<LoggedModel> {
    Ok(LoggedModel {
        info: LoggedModelInfo {
            model_id: r.get(0)?,
            experiment_id: r.get::<_, i64>(1)?.to_string(),
            name: r.get(2)?,
            creation_timestamp_ms: r.get(3)?,
            last_updated_timestamp_ms: r.get(4)?,
            artifact_uri: r.get(5)?,
            status: r.get(6)?,
            model_type: r.get(7)?,
            source_run_id: r.get(8)?,
            tags: Vec::new(),
        },
        data: LoggedModelData::default(),
    })
}

/// Fails with not-found unless the model exists and is active.
pub fn require_active(conn: &Connection, model_id: &str) -> StoreResult<()> {
    let stage: Option<String> = conn
        .prepare_cached("SELECT lifecycle_stage FROM logged_models WHERE model_id = ?")?
        .query_row([model_id], |r| r.get(0))
        .optional()?;
    match stage.as_deref() {
        Some("active") => Ok(()),
        _ => Err(not_found(model_id)),
    }
}

/// Creates a pending model under `<experiment artifact_location>/models/<id>/artifacts`.
pub fn create(conn: &Connection, new: &NewLoggedModel) -> StoreResult<String> {
    experiments::require_active(conn, new.experiment_id)?;
    let location: String = conn.query_row(
        "SELECT artifact_location FROM experiments WHERE experiment_id = ?",
        [new.experiment_id],
        |r| r.get(0),
    )?;
    let model_id = format!("m-{}", uuid::Uuid::new_v4().simple());
    let name = new.name.clone().unwrap_or_else(names::generate);
    let artifact_uri = format!(
        "{}/models/{model_id}/artifacts",
        location.trim_end_matches('/')
    );
    let now = now_ms();
    conn.prepare_cached(
        "INSERT INTO logged_models (model_id, experiment_id, name, model_type, source_run_id, status, \
         artifact_uri, creation_timestamp_ms, last_updated_timestamp_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        model_id,
        new.experiment_id,
        name,
        new.model_type,
        new.source_run_id,
        LoggedModelStatus::Pending.as_str(),
        artifact_uri,
        now,
        now
    ])?;
    upsert_pairs(conn, UPSERT_TAG, &model_id, &new.tags)?;
    upsert_pairs(conn, UPSERT_PARAM, &model_id, &as_pairs(&new.params))?;
    Ok(model_id)
}

fn as_pairs(params: &[Param]) -> Vec<Tag> {
    params
        .iter()
        .map(|p| Tag {
            key: p.key.clone(),
            value: p.value.clone(),
        })
        .collect()
}

const UPSERT_TAG: &str = "INSERT INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?) \
     ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value";
const UPSERT_PARAM: &str =
    "INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?) \
     ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value";

/// Upserts `(key, value)` rows of a model with `UPSERT_TAG` or `UPSERT_PARAM`.
fn upsert_pairs(conn: &Connection, sql: &str, model_id: &str, pairs: &[Tag]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    for pair in pairs {
        stmt.execute(params![model_id, pair.key, pair.value])?;
    }
    Ok(())
}

/// A model with its tags, params and metrics; a deleted one only on request.
pub fn get(conn: &Connection, model_id: &str, allow_deleted: bool) -> StoreResult<LoggedModel> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, lm.lifecycle_stage FROM logged_models lm WHERE lm.model_id = ?"
        ))?
        .query_row([model_id], |r| {
            Ok((model_from_row(r)?, r.get::<_, String>(9)?))
        })
        .optional()?;
    let model = match found {
        Some((model, stage)) if stage == "active" || allow_deleted => model,
        _ => return Err(not_found(model_id)),
    };
    hydrate(conn, vec![model])?
        .pop()
        .ok_or_else(|| StoreError::Internal("a hydrated logged model went missing".into()))
}

pub fn finalize(conn: &Connection, model_id: &str, status: LoggedModelStatus) -> StoreResult<()> {
    require_active(conn, model_id)?;
    conn.prepare_cached(
        "UPDATE logged_models SET status = ?, last_updated_timestamp_ms = ? WHERE model_id = ?",
    )?
    .execute(params![status.as_str(), now_ms(), model_id])?;
    Ok(())
}

/// Soft delete; artifacts stay. Deleting a deleted model succeeds.
pub fn delete(conn: &Connection, model_id: &str) -> StoreResult<()> {
    let n = conn
        .prepare_cached(
            "UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = ? \
             WHERE model_id = ?",
        )?
        .execute(params![now_ms(), model_id])?;
    if n == 0 {
        return Err(not_found(model_id));
    }
    Ok(())
}

pub fn set_tags(conn: &Connection, model_id: &str, tags: &[Tag]) -> StoreResult<()> {
    require_active(conn, model_id)?;
    upsert_pairs(conn, UPSERT_TAG, model_id, tags)
}

pub fn delete_tag(conn: &Connection, model_id: &str, key: &str) -> StoreResult<()> {
    require_active(conn, model_id)?;
    let n = conn
        .prepare_cached("DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?")?
        .execute(params![model_id, key])?;
    if n == 0 {
        return Err(ApiError::not_found(format!(
            "No tag with key {} found for model with ID '{model_id}'.",
            cairn_schema::validate::quoted(key)
        ))
        .into());
    }
    Ok(())
}

pub fn log_params(conn: &Connection, model_id: &str, params: &[Param]) -> StoreResult<()> {
    require_active(conn, model_id)?;
    upsert_pairs(conn, UPSERT_PARAM, model_id, &as_pairs(params))
}

/// Records a point logged through a run with a `model_id` on that model too.
pub fn record_metric(conn: &Connection, run_id: &str, m: &ModelMetric) -> StoreResult<()> {
    require_active(conn, &m.model_id)?;
    let (value, is_nan) = runs::storable(m.metric.value);
    let (dataset_name, dataset_digest) = match &m.dataset {
        Some(d) => (d.name.as_str(), d.digest.as_deref().unwrap_or("")),
        None => ("", ""),
    };
    conn.prepare_cached(
        "INSERT OR IGNORE INTO logged_model_metrics (model_id, key, dataset_name, dataset_digest, \
         run_id, timestamp, step, value, is_nan) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        m.model_id,
        m.metric.key,
        dataset_name,
        dataset_digest,
        run_id,
        m.metric.timestamp,
        m.metric.step,
        value,
        is_nan
    ])?;
    Ok(())
}

pub fn search(conn: &Connection, query: &LoggedModelQuery) -> StoreResult<Page<LoggedModel>> {
    if query.experiment_ids.is_empty() {
        return Ok(Page {
            items: Vec::new(),
            next_offset: None,
        });
    }
    let (joins, order) = logged_model_order(&query.order_by)?;
    let mut sql = Sql {
        text: format!("SELECT {COLUMNS} FROM logged_models lm"),
        params: Vec::new(),
    };
    sql.append(joins);
    sql.text
        .push_str(" WHERE lm.lifecycle_stage = 'active' AND lm.experiment_id IN (");
    for (i, id) in query.experiment_ids.iter().enumerate() {
        sql.text.push_str(if i == 0 { "?" } else { ", ?" });
        sql.params.push(SqlValue::Int(*id));
    }
    sql.text.push_str(") AND ");
    sql.append(logged_model_filter(query.filter.as_ref(), &query.datasets));
    sql.text.push_str(&format!(
        " ORDER BY {order} LIMIT {} OFFSET {}",
        query.max_results.saturating_add(1),
        query.offset
    ));
    super::check_bound_values(sql.params.len())?;
    let mut stmt = conn.prepare_cached(&sql.text)?;
    let mut items: Vec<LoggedModel> = stmt
        .query_map(
            rusqlite::params_from_iter(sql.params.iter()),
            model_from_row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    let next_offset = page_end(&mut items, query.max_results, query.offset);
    Ok(Page {
        items: hydrate(conn, items)?,
        next_offset,
    })
}

/// Child rows of many models, one query per table, grouped by model id.
fn children<T>(
    conn: &Connection,
    sql: &str,
    ids: &str,
    mut row: impl FnMut(&Row) -> rusqlite::Result<T>,
) -> StoreResult<HashMap<String, Vec<T>>> {
    let mut out: HashMap<String, Vec<T>> = HashMap::new();
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([ids])?;
    while let Some(r) = rows.next()? {
        out.entry(r.get(0)?).or_default().push(row(r)?);
    }
    Ok(out)
}

/// Fills tags, params and metrics of a page of models (the page's ids travel as one
/// JSON array parameter), keeping the page's order.
fn hydrate(conn: &Connection, mut models: Vec<LoggedModel>) -> StoreResult<Vec<LoggedModel>> {
    if models.is_empty() {
        return Ok(models);
    }
    let ids = serde_json::to_string(
        &models
            .iter()
            .map(|m| m.info.model_id.as_str())
            .collect::<Vec<_>>(),
    )
    .map_err(|e| StoreError::Internal(e.to_string()))?;
    const IN_PAGE: &str = "model_id IN (SELECT value FROM json_each(?1))";
    let pair = |r: &Row| {
        Ok(Tag {
            key: r.get(1)?,
            value: r.get(2)?,
        })
    };
    let mut tags = children(
        conn,
        &format!("SELECT model_id, key, value FROM logged_model_tags WHERE {IN_PAGE} ORDER BY model_id, key"),
        &ids,
        pair,
    )?;
    let mut params = children(
        conn,
        &format!("SELECT model_id, key, value FROM logged_model_params WHERE {IN_PAGE} ORDER BY model_id, key"),
        &ids,
        |r| {
            Ok(Param {
                key: r.get(1)?,
                value: r.get(2)?,
            })
        },
    )?;
    let mut metrics = children(
        conn,
        &format!(
            "SELECT model_id, key, value, is_nan, timestamp, step, dataset_name, dataset_digest, run_id \
             FROM logged_model_metrics WHERE {IN_PAGE} ORDER BY model_id, key, timestamp, step, value"
        ),
        &ids,
        |r| {
            let is_nan: bool = r.get(3)?;
            let text = |i: usize| -> rusqlite::Result<Option<String>> {
                Ok(Some(r.get::<_, String>(i)?).filter(|s| !s.is_empty()))
            };
            Ok(LoggedModelMetric {
                key: r.get(1)?,
                value: if is_nan { f64::NAN } else { r.get(2)? },
                timestamp: r.get(4)?,
                step: r.get(5)?,
                dataset_name: text(6)?,
                dataset_digest: text(7)?,
                model_id: r.get(0)?,
                run_id: text(8)?,
            })
        },
    )?;
    for model in &mut models {
        let id = &model.info.model_id;
        model.info.tags = tags.remove(id).unwrap_or_default();
        model.data = LoggedModelData {
            params: params.remove(id).unwrap_or_default(),
            metrics: metrics.remove(id).unwrap_or_default(),
        };
    }
    Ok(models)
}
