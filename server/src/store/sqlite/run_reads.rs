//! Reading runs back: one run and a searched page of runs, fully hydrated.

use super::experiments::page_end;
use crate::search::{metric_driver, run_filter, run_order, Sql, SqlValue};
use crate::store::{Page, RunQuery, StoreError, StoreResult};
use cairn_schema::{
    ApiError, Dataset, DatasetInput, Metric, ModelInput, ModelOutput, Run, RunData, RunInfo,
    RunInputs, RunOutputs, RunStatus, Tag, ViewType,
};
use rusqlite::{Connection, OptionalExtension, Row};
use std::collections::HashMap;

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
    let mut runs = hydrate_many(conn, vec![(id, info)])?;
    runs.pop()
        .ok_or_else(|| StoreError::Internal("a hydrated run went missing".into()))
}

/// Child rows of many runs, fetched with one query per table, grouped by run id.
fn children<T>(
    conn: &Connection,
    sql: &str,
    ids: &str,
    mut row: impl FnMut(&Row) -> rusqlite::Result<T>,
) -> StoreResult<HashMap<i64, Vec<T>>> {
    let mut out: HashMap<i64, Vec<T>> = HashMap::new();
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([ids])?;
    while let Some(r) = rows.next()? {
        out.entry(r.get(0)?).or_default().push(row(r)?);
    }
    Ok(out)
}

fn tag_at(r: &Row) -> rusqlite::Result<Tag> {
    Ok(Tag {
        key: r.get(1)?,
        value: r.get(2)?,
    })
}

/// Fills data, inputs and outputs of a page of runs with one query per child table
/// (the page's ids travel as one JSON array parameter), keeping the page's order.
fn hydrate_many(conn: &Connection, rows: Vec<(i64, RunInfo)>) -> StoreResult<Vec<Run>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(&rows.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    const IN_PAGE: &str = "run IN (SELECT value FROM json_each(?1))";
    let mut metrics = children(
        conn,
        &format!("SELECT run, key, value, is_nan, timestamp, step FROM latest_metrics WHERE {IN_PAGE} ORDER BY run, key"),
        &ids,
        |r| {
            let is_nan: bool = r.get(3)?;
            Ok(Metric {
                key: r.get(1)?,
                value: if is_nan { f64::NAN } else { r.get(2)? },
                timestamp: r.get(4)?,
                step: r.get(5)?,
                run_id: None,
            })
        },
    )?;
    let mut params = children(
        conn,
        &format!("SELECT run, key, value FROM params WHERE {IN_PAGE} ORDER BY run, key"),
        &ids,
        tag_at,
    )?;
    let mut tags = children(
        conn,
        &format!("SELECT run, key, value FROM tags WHERE {IN_PAGE} ORDER BY run, key"),
        &ids,
        tag_at,
    )?;
    let mut datasets = children(
        conn,
        &format!(
            "SELECT i.run, i.id, d.name, d.digest, d.source_type, d.source, d.schema, d.profile \
             FROM inputs i JOIN datasets d ON d.id = i.dataset WHERE i.{IN_PAGE} ORDER BY i.run, i.id"
        ),
        &ids,
        |r| {
            Ok((
                r.get::<_, i64>(1)?,
                Dataset {
                    name: r.get(2)?,
                    digest: r.get(3)?,
                    source_type: r.get(4)?,
                    source: r.get(5)?,
                    schema: r.get(6)?,
                    profile: r.get(7)?,
                },
            ))
        },
    )?;
    let mut model_inputs = children(
        conn,
        &format!("SELECT run, model_id FROM model_inputs WHERE {IN_PAGE} ORDER BY run, model_id"),
        &ids,
        |r| {
            Ok(ModelInput {
                model_id: r.get(1)?,
            })
        },
    )?;
    let mut model_outputs = children(
        conn,
        &format!(
            "SELECT run, model_id, step FROM model_outputs WHERE {IN_PAGE} ORDER BY run, model_id"
        ),
        &ids,
        |r| {
            Ok(ModelOutput {
                model_id: r.get(1)?,
                step: r.get(2)?,
            })
        },
    )?;
    rows.into_iter()
        .map(|(id, info)| {
            let mut dataset_inputs = Vec::new();
            for (input, dataset) in datasets.remove(&id).unwrap_or_default() {
                let tags = tags_of(
                    conn,
                    "SELECT key, value FROM input_tags WHERE input = ? ORDER BY key",
                    input,
                )?;
                dataset_inputs.push(DatasetInput { tags, dataset });
            }
            Ok(Run {
                info,
                data: RunData {
                    metrics: metrics.remove(&id).unwrap_or_default(),
                    params: params.remove(&id).unwrap_or_default(),
                    tags: tags.remove(&id).unwrap_or_default(),
                },
                inputs: RunInputs {
                    dataset_inputs,
                    model_inputs: model_inputs.remove(&id).unwrap_or_default(),
                },
                outputs: Some(RunOutputs {
                    model_outputs: model_outputs.remove(&id).unwrap_or_default(),
                }),
            })
        })
        .collect()
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
    let sql = search_sql(query)?;
    let mut stmt = conn.prepare_cached(&sql.text)?;
    let mut rows: Vec<(i64, RunInfo)> = stmt
        .query_map(rusqlite::params_from_iter(sql.params.iter()), info_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let next_offset = page_end(&mut rows, query.max_results, query.offset);
    Ok(Page {
        items: hydrate_many(conn, rows)?,
        next_offset,
    })
}

/// The query selecting one page of run infos (one row past the page tells of more).
pub(super) fn search_sql(query: &RunQuery) -> StoreResult<Sql> {
    let driver = metric_driver(
        &query.experiment_ids,
        query.filter.as_ref(),
        &query.order_by,
    );
    let (joins, order) = run_order(&query.order_by, driver.is_some())?;
    let from = match driver {
        // CROSS JOIN keeps SQLite from reordering the loops: the index walk is the plan.
        Some(_) => "latest_metrics o0 CROSS JOIN runs r ON r.id = o0.run",
        None => "runs r",
    };
    let mut sql = Sql {
        text: format!("SELECT {COLUMNS} FROM {from}"),
        params: Vec::new(),
    };
    sql.append(joins);
    sql.text.push_str(" WHERE ");
    if let Some(driver) = driver {
        sql.append(driver);
        sql.text.push_str(" AND ");
    }
    sql.text.push_str("r.experiment_id IN ");
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
    Ok(sql)
}
