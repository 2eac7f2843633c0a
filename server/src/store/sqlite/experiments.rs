//! Experiments and their tags in SQLite.

use super::now_ms;
use crate::search::{experiment_filter, experiment_order};
use crate::store::{ExperimentQuery, Page, StoreResult};
use cairn_schema::{ApiError, Experiment, Tag, ViewType};
use rusqlite::{params, Connection, OptionalExtension, Row};

const COLUMNS: &str = "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, e.last_update_time";

fn from_row(row: &Row) -> rusqlite::Result<Experiment> {
    Ok(Experiment {
        experiment_id: row.get::<_, i64>(0)?.to_string(),
        name: row.get(1)?,
        artifact_location: row.get(2)?,
        lifecycle_stage: row.get(3)?,
        creation_time: row.get(4)?,
        last_update_time: row.get(5)?,
        tags: Vec::new(),
        workspace: "default".into(),
    })
}

fn with_tags(conn: &Connection, mut exp: Experiment) -> StoreResult<Experiment> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key",
    )?;
    let id: i64 = exp.experiment_id.parse().unwrap_or(-1);
    exp.tags = stmt
        .query_map([id], |r| {
            Ok(Tag {
                key: r.get(0)?,
                value: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(exp)
}

pub fn create(
    conn: &Connection,
    name: &str,
    location: Option<&str>,
    tags: &[Tag],
) -> StoreResult<i64> {
    let taken: Option<i64> = conn
        .query_row(
            "SELECT experiment_id FROM experiments WHERE name = ?",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Err(
            ApiError::already_exists(format!("Experiment(name={name}) already exists.")).into(),
        );
    }
    let id: i64 = conn.query_row(
        "SELECT coalesce(max(experiment_id), -1) + 1 FROM experiments",
        [],
        |r| r.get(0),
    )?;
    let location = location
        .map(str::to_owned)
        .unwrap_or_else(|| format!("mlflow-artifacts:/{id}"));
    let now = now_ms();
    conn.execute(
        "INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?)",
        params![id, name, location, now, now],
    )?;
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)",
    )?;
    for tag in tags {
        stmt.execute(params![id, tag.key, tag.value])?;
    }
    Ok(id)
}

pub fn get(conn: &Connection, id: i64) -> StoreResult<Experiment> {
    let exp = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM experiments e WHERE e.experiment_id = ?"
        ))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| ApiError::not_found(format!("No Experiment with id={id} exists")))?;
    with_tags(conn, exp)
}

pub fn get_by_name(conn: &Connection, name: &str) -> StoreResult<Experiment> {
    let exp = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM experiments e WHERE e.name = ?"
        ))?
        .query_row([name], from_row)
        .optional()?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Could not find experiment with name {}",
                cairn_schema::validate::quoted(name)
            ))
        })?;
    with_tags(conn, exp)
}

/// The experiment's lifecycle stage, or not-found.
fn stage(conn: &Connection, id: i64) -> StoreResult<String> {
    conn.query_row(
        "SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?",
        [id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(format!("No Experiment with id={id} exists")).into())
}

/// Fails unless the experiment exists and is active.
pub fn require_active(conn: &Connection, id: i64) -> StoreResult<()> {
    let stage = stage(conn, id)?;
    if stage != "active" {
        return Err(ApiError::invalid(format!(
            "The experiment {id} must be in the 'active' state. Current state is {stage}."
        ))
        .into());
    }
    Ok(())
}

pub fn rename(conn: &Connection, id: i64, new_name: &str) -> StoreResult<()> {
    require_active(conn, id)?;
    let taken: Option<i64> = conn
        .query_row(
            "SELECT experiment_id FROM experiments WHERE name = ? AND experiment_id != ?",
            params![new_name, id],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Err(ApiError::already_exists(format!(
            "Experiment(name={new_name}) already exists."
        ))
        .into());
    }
    conn.execute(
        "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?",
        params![new_name, now_ms(), id],
    )?;
    Ok(())
}

/// Deletes (`restore = false`) or restores an experiment together with its runs.
pub fn set_lifecycle(conn: &Connection, id: i64, restore: bool) -> StoreResult<()> {
    let (from, to) = if restore {
        ("deleted", "active")
    } else {
        ("active", "deleted")
    };
    if stage(conn, id)? != from {
        let what = if restore { "deleted" } else { "active" };
        return Err(
            ApiError::not_found(format!("No {what} experiment with id={id} exists")).into(),
        );
    }
    let now = now_ms();
    conn.execute(
        "UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?",
        params![to, now, id],
    )?;
    let deleted_time = if restore { None } else { Some(now) };
    conn.execute(
        "UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE experiment_id = ? AND lifecycle_stage = ?",
        params![to, deleted_time, id, from],
    )?;
    Ok(())
}

pub fn set_tag(conn: &Connection, id: i64, tag: &Tag) -> StoreResult<()> {
    require_active(conn, id)?;
    conn.execute(
        "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
         ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
        params![id, tag.key, tag.value],
    )?;
    Ok(())
}

pub fn delete_tag(conn: &Connection, id: i64, key: &str) -> StoreResult<()> {
    require_active(conn, id)?;
    let n = conn.execute(
        "DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?",
        params![id, key],
    )?;
    if n == 0 {
        return Err(ApiError::not_found(format!(
            "No tag with name: {} in experiment with id {id}",
            cairn_schema::validate::quoted(key)
        ))
        .into());
    }
    Ok(())
}

pub fn search(conn: &Connection, query: &ExperimentQuery) -> StoreResult<Page<Experiment>> {
    let mut sql = format!("SELECT {COLUMNS} FROM experiments e WHERE ");
    sql.push_str(match query.view {
        ViewType::ActiveOnly => "e.lifecycle_stage = 'active'",
        ViewType::DeletedOnly => "e.lifecycle_stage = 'deleted'",
        ViewType::All => "1",
    });
    let mut params = Vec::new();
    if let Some(filter) = &query.filter {
        let f = experiment_filter(filter);
        sql.push_str(" AND ");
        sql.push_str(&f.text);
        params = f.params;
    }
    sql.push_str(" ORDER BY ");
    sql.push_str(&experiment_order(&query.order_by)?);
    sql.push_str(&format!(
        " LIMIT {} OFFSET {}",
        query.max_results + 1,
        query.offset
    ));
    super::check_bound_values(params.len())?;
    let mut stmt = conn.prepare(&sql)?;
    let mut items: Vec<Experiment> = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let next_offset = page_end(&mut items, query.max_results, query.offset);
    let items = items
        .into_iter()
        .map(|e| with_tags(conn, e))
        .collect::<StoreResult<_>>()?;
    Ok(Page { items, next_offset })
}

/// Trims the look-ahead row and says where the next page starts, if there is one.
pub fn page_end<T>(items: &mut Vec<T>, max_results: i64, offset: i64) -> Option<i64> {
    if items.len() as i64 > max_results {
        items.truncate(max_results as usize);
        Some(offset.saturating_add(max_results))
    } else {
        None
    }
}
