//! Reading runs back: one run, a searched page of runs, and logged models, fully hydrated.

use super::experiments::page_end;
use crate::search::{run_filter, run_order, Sql, SqlValue};
use crate::store::{LoggedModelQuery, Page, RunQuery, StoreResult};
use cairn_schema::filter::{Comparison, Entity};
use cairn_schema::{
    ApiError, Dataset, DatasetInput, LoggedModel, LoggedModelData, LoggedModelInfo, Metric,
    ModelInput, ModelOutput, Run, RunData, RunInfo, RunInputs, RunOutputs, RunStatus, Tag,
    ViewType,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

const COLUMNS: &str =
    "r.id, r.run_uuid, r.experiment_id, r.name, r.user_id, r.status, r.start_time, r.end_time, r.artifact_uri, r.lifecycle_stage";

fn info_from_row(row: &Row) -> rusqlite::Result<(i64, RunInfo)> {
    let run_uuid: String = row.get(1)?;
    let status: String = row.get(5)?;
    Ok((
        row.get(0)?,
        RunInfo {
            run_uuid: run_uuid.clone(),
            experiment_id: row.get::<_, i64>(2)?.to_string(),
            run_name: row.get(3)?,
            user_id: row.get(4)?,
            status: RunStatus::parse(&status).unwrap_or(RunStatus::Running),
            start_time: row.get(6)?,
            end_time: row.get(7)?,
            artifact_uri: row.get(8)?,
            lifecycle_stage: row.get(9)?,
            run_id: run_uuid,
        },
    ))
}

pub fn get(conn: &Connection, run_id: &str) -> StoreResult<Run> {
    let (id, info) = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM runs r WHERE r.run_uuid = ?"
        ))?
        .query_row([run_id], info_from_row)
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("Run with id={run_id} not found")))?;
    hydrate(conn, id, info)
}

fn tags_of(conn: &Connection, sql: &str, id: i64) -> rusqlite::Result<Vec<Tag>> {
    conn.prepare_cached(sql)?
        .query_map([id], |r| {
            Ok(Tag {
                key: r.get(0)?,
                value: r.get(1)?,
            })
        })?
        .collect()
}

/// Builds a metric from `key, value, is_nan, timestamp, step` columns.
pub fn metric_from_row(row: &Row) -> rusqlite::Result<Metric> {
    let is_nan: bool = row.get(2)?;
    Ok(Metric {
        key: row.get(0)?,
        value: if is_nan { f64::NAN } else { row.get(1)? },
        timestamp: row.get(3)?,
        step: row.get(4)?,
        run_id: None,
    })
}

fn hydrate(conn: &Connection, id: i64, info: RunInfo) -> StoreResult<Run> {
    let data = RunData {
        metrics: conn
            .prepare_cached("SELECT key, value, is_nan, timestamp, step FROM latest_metrics WHERE run = ? ORDER BY key")?
            .query_map([id], metric_from_row)?
            .collect::<rusqlite::Result<_>>()?,
        params: tags_of(conn, "SELECT key, value FROM params WHERE run = ? ORDER BY key", id)?,
        tags: tags_of(conn, "SELECT key, value FROM tags WHERE run = ? ORDER BY key", id)?,
    };
    let mut dataset_inputs = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT i.id, d.name, d.digest, d.source_type, d.source, d.schema, d.profile
         FROM inputs i JOIN datasets d ON d.id = i.dataset WHERE i.run = ? ORDER BY i.id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            Dataset {
                name: r.get(1)?,
                digest: r.get(2)?,
                source_type: r.get(3)?,
                source: r.get(4)?,
                schema: r.get(5)?,
                profile: r.get(6)?,
            },
        ))
    })?;
    for row in rows {
        let (input, dataset) = row?;
        let tags = tags_of(
            conn,
            "SELECT key, value FROM input_tags WHERE input = ? ORDER BY key",
            input,
        )?;
        dataset_inputs.push(DatasetInput { tags, dataset });
    }
    let model_inputs = conn
        .prepare_cached("SELECT model_id FROM model_inputs WHERE run = ? ORDER BY model_id")?
        .query_map([id], |r| {
            Ok(ModelInput {
                model_id: r.get(0)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let model_outputs = conn
        .prepare_cached("SELECT model_id, step FROM model_outputs WHERE run = ? ORDER BY model_id")?
        .query_map([id], |r| {
            Ok(ModelOutput {
                model_id: r.get(0)?,
                step: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Run {
        info,
        data,
        inputs: RunInputs {
            dataset_inputs,
            model_inputs,
        },
        outputs: Some(RunOutputs { model_outputs }),
    })
}

fn view_clause(alias: &str, view: ViewType) -> String {
    match view {
        ViewType::ActiveOnly => format!("{alias}.lifecycle_stage = 'active'"),
        ViewType::DeletedOnly => format!("{alias}.lifecycle_stage = 'deleted'"),
        ViewType::All => "1".to_owned(),
    }
}

fn id_list(sql: &mut Sql, ids: &[i64]) {
    sql.text.push('(');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.text.push_str(", ");
        }
        sql.text.push('?');
        sql.params.push(SqlValue::Int(*id));
    }
    sql.text.push(')');
}

pub fn search(conn: &Connection, query: &RunQuery) -> StoreResult<Page<Run>> {
    if query.experiment_ids.is_empty() {
        return Ok(Page {
            items: Vec::new(),
            next_offset: None,
        });
    }
    let (joins, order) = run_order(&query.order_by)?;
    let mut sql = Sql {
        text: format!("SELECT {COLUMNS} FROM runs r"),
        params: Vec::new(),
    };
    sql.append(joins);
    sql.text.push_str(" WHERE r.experiment_id IN ");
    id_list(&mut sql, &query.experiment_ids);
    sql.text.push_str(" AND ");
    sql.text.push_str(&view_clause("r", query.view));
    if let Some(filter) = &query.filter {
        sql.text.push_str(" AND ");
        sql.append(run_filter(filter));
    }
    sql.text.push_str(&format!(
        " ORDER BY {order} LIMIT {} OFFSET {}",
        query.max_results + 1,
        query.offset
    ));
    super::check_bound_values(sql.params.len())?;
    let mut stmt = conn.prepare_cached(&sql.text)?;
    let mut rows: Vec<(i64, RunInfo)> = stmt
        .query_map(rusqlite::params_from_iter(sql.params.iter()), info_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let next_offset = page_end(&mut rows, query.max_results, query.offset);
    let items = rows
        .into_iter()
        .map(|(id, info)| hydrate(conn, id, info))
        .collect::<StoreResult<_>>()?;
    Ok(Page { items, next_offset })
}

fn logged_model_column(key: &str) -> &'static str {
    match key {
        "name" => "lm.name",
        "model_id" => "lm.model_id",
        "model_type" => "lm.model_type",
        "source_run_id" => "lm.source_run_id",
        "status" => "lm.status",
        "creation_timestamp" | "creation_time" => "lm.creation_timestamp_ms",
        "last_updated_timestamp" => "lm.last_updated_timestamp_ms",
        _ => "NULL",
    }
}

fn logged_model_comparison(c: &Comparison, sql: &mut Sql) {
    match c.entity {
        Entity::Tag => {
            sql.text.push_str("EXISTS (SELECT 1 FROM logged_model_tags k WHERE k.model_id = lm.model_id AND k.key = ? AND ");
            sql.params.push(SqlValue::Text(c.key.clone()));
            crate::search::string_condition("k.value", c.op, &c.value, sql);
            sql.text.push(')');
        }
        Entity::Attribute => {
            crate::search::string_condition(logged_model_column(&c.key), c.op, &c.value, sql)
        }
        // Logged-model metrics and params are not stored yet, so no model has any.
        Entity::Metric | Entity::Param | Entity::Dataset => sql.text.push('0'),
    }
}

pub fn search_logged_models(
    conn: &Connection,
    query: &LoggedModelQuery,
) -> StoreResult<Page<LoggedModel>> {
    if query.experiment_ids.is_empty() {
        return Ok(Page {
            items: Vec::new(),
            next_offset: None,
        });
    }
    let mut sql = Sql {
        text: "SELECT lm.model_id, lm.experiment_id, lm.name, lm.creation_timestamp_ms, lm.last_updated_timestamp_ms, \
               lm.artifact_uri, lm.status, lm.model_type, lm.source_run_id FROM logged_models lm WHERE lm.experiment_id IN "
            .to_owned(),
        params: Vec::new(),
    };
    id_list(&mut sql, &query.experiment_ids);
    sql.text.push_str(" AND lm.lifecycle_stage = 'active'");
    if let Some(filter) = &query.filter {
        sql.text.push_str(" AND ");
        let mut f = Sql::default();
        crate::search::compile_expr(filter, &mut f, &logged_model_comparison);
        sql.append(f);
    }
    sql.text.push_str(&format!(
        " ORDER BY lm.creation_timestamp_ms DESC, lm.model_id ASC LIMIT {} OFFSET {}",
        query.max_results.saturating_add(1),
        query.offset
    ));
    super::check_bound_values(sql.params.len())?;
    let mut stmt = conn.prepare_cached(&sql.text)?;
    let mut items: Vec<LoggedModel> = stmt
        .query_map(rusqlite::params_from_iter(sql.params.iter()), |r| {
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
        })?
        .collect::<rusqlite::Result<_>>()?;
    let next_offset = page_end(&mut items, query.max_results, query.offset);
    for model in &mut items {
        model.info.tags = conn
            .prepare_cached(
                "SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key",
            )?
            .query_map(params![model.info.model_id], |r| {
                Ok(Tag {
                    key: r.get(0)?,
                    value: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(Page { items, next_offset })
}
