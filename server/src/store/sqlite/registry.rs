//! The model registry in SQLite: registered models, versions, tags, aliases, stages.

use super::experiments::page_end;
use super::now_ms;
use crate::search::registry::{model_filter, model_order, version_filter, version_order};
use crate::search::Sql;
use crate::store::{NewModelVersion, Page, RegistryQuery, StoreResult};
use cairn_schema::registry::{Alias, ModelVersion, RegisteredModel, STAGES};
use cairn_schema::{ApiError, Tag};
use rusqlite::{params, Connection, OptionalExtension, Row};

const VERSION_COLUMNS: &str =
    "v.name, v.version, v.creation_timestamp, v.last_updated_timestamp, v.current_stage, v.description, v.source, v.run_id, v.run_link";

fn version_row(r: &Row) -> rusqlite::Result<ModelVersion> {
    Ok(ModelVersion {
        name: r.get(0)?,
        version: r.get::<_, i64>(1)?.to_string(),
        creation_timestamp: r.get(2)?,
        last_updated_timestamp: r.get(3)?,
        current_stage: r.get(4)?,
        description: r.get(5)?,
        source: r.get(6)?,
        run_id: r.get(7)?,
        status: "READY".into(),
        tags: Vec::new(),
        run_link: r.get(8)?,
        aliases: Vec::new(),
    })
}

fn model_missing(name: &str) -> ApiError {
    ApiError::not_found(format!("Registered Model with name={name} not found"))
}

fn version_missing(name: &str, version: i64) -> ApiError {
    ApiError::not_found(format!(
        "Model Version (name={name}, version={version}) not found"
    ))
}

fn require_model(conn: &Connection, name: &str) -> StoreResult<()> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM registered_models WHERE name = ?")?
        .query_row([name], |r| r.get(0))
        .optional()?;
    found.map(|_| ()).ok_or_else(|| model_missing(name).into())
}

fn require_version(conn: &Connection, name: &str, version: i64) -> StoreResult<()> {
    let found: Option<i64> = conn
        .prepare_cached(
            "SELECT 1 FROM model_versions WHERE name = ? AND version = ? AND deleted = 0",
        )?
        .query_row(params![name, version], |r| r.get(0))
        .optional()?;
    found
        .map(|_| ())
        .ok_or_else(|| version_missing(name, version).into())
}

fn touch_model(conn: &Connection, name: &str, now: i64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE registered_models SET last_updated_timestamp = ? WHERE name = ?")?
        .execute(params![now, name])?;
    Ok(())
}

/// Tags and aliases of one version.
fn fill_version(conn: &Connection, mut v: ModelVersion) -> StoreResult<ModelVersion> {
    let n: i64 = v.version.parse().unwrap_or(0);
    v.tags = conn
        .prepare_cached(
            "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key",
        )?
        .query_map(params![v.name, n], |r| {
            Ok(Tag {
                key: r.get(0)?,
                value: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    v.aliases = conn
        .prepare_cached("SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias")?
        .query_map(params![v.name, n], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(v)
}

pub fn get_version(conn: &Connection, name: &str, version: i64) -> StoreResult<ModelVersion> {
    let v = conn
        .prepare_cached(&format!(
            "SELECT {VERSION_COLUMNS} FROM model_versions v WHERE v.name = ? AND v.version = ? AND v.deleted = 0"
        ))?
        .query_row(params![name, version], version_row)
        .optional()?
        .ok_or_else(|| version_missing(name, version))?;
    fill_version(conn, v)
}

pub fn latest_versions(
    conn: &Connection,
    name: &str,
    stages: &[String],
) -> StoreResult<Vec<ModelVersion>> {
    require_model(conn, name)?;
    let mut out = Vec::new();
    for stage in STAGES {
        if !stages.is_empty() && !stages.iter().any(|s| s == stage) {
            continue;
        }
        let v = conn
            .prepare_cached(&format!(
                "SELECT {VERSION_COLUMNS} FROM model_versions v WHERE v.name = ? AND v.current_stage = ? AND v.deleted = 0
                 ORDER BY v.version DESC LIMIT 1"
            ))?
            .query_row(params![name, stage], version_row)
            .optional()?;
        if let Some(v) = v {
            out.push(fill_version(conn, v)?);
        }
    }
    Ok(out)
}

fn model_row(r: &Row) -> rusqlite::Result<RegisteredModel> {
    Ok(RegisteredModel {
        name: r.get(0)?,
        creation_timestamp: r.get(1)?,
        last_updated_timestamp: r.get(2)?,
        description: r.get(3)?,
        latest_versions: Vec::new(),
        tags: Vec::new(),
        aliases: Vec::new(),
    })
}

fn fill_model(conn: &Connection, mut m: RegisteredModel) -> StoreResult<RegisteredModel> {
    m.latest_versions = latest_versions(conn, &m.name, &[])?;
    m.tags = conn
        .prepare_cached("SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key")?
        .query_map([&m.name], |r| {
            Ok(Tag {
                key: r.get(0)?,
                value: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    m.aliases = conn
        .prepare_cached(
            "SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias",
        )?
        .query_map([&m.name], |r| {
            Ok(Alias {
                alias: r.get(0)?,
                version: r.get::<_, i64>(1)?.to_string(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(m)
}

pub fn get_model(conn: &Connection, name: &str) -> StoreResult<RegisteredModel> {
    let m = conn
        .prepare_cached(
            "SELECT name, creation_timestamp, last_updated_timestamp, description FROM registered_models WHERE name = ?",
        )?
        .query_row([name], model_row)
        .optional()?
        .ok_or_else(|| model_missing(name))?;
    fill_model(conn, m)
}

pub fn create_model(
    conn: &Connection,
    name: &str,
    tags: &[Tag],
    description: Option<&str>,
) -> StoreResult<()> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM registered_models WHERE name = ?",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_some() {
        return Err(ApiError::already_exists(format!(
            "Registered Model (name={name}) already exists."
        ))
        .into());
    }
    let now = now_ms();
    conn.execute(
        "INSERT INTO registered_models (name, creation_timestamp, last_updated_timestamp, description) VALUES (?, ?, ?, ?)",
        params![name, now, now, description.filter(|d| !d.is_empty())],
    )?;
    for t in tags {
        set_model_tag(conn, name, t)?;
    }
    Ok(())
}

pub fn rename_model(conn: &Connection, name: &str, new_name: &str) -> StoreResult<()> {
    require_model(conn, name)?;
    if name != new_name {
        let taken: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM registered_models WHERE name = ?",
                [new_name],
                |r| r.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(ApiError::already_exists(format!(
                "Registered Model (name={new_name}) already exists."
            ))
            .into());
        }
    }
    // ON UPDATE CASCADE carries versions, tags and aliases along.
    conn.execute(
        "UPDATE registered_models SET name = ?, last_updated_timestamp = ? WHERE name = ?",
        params![new_name, now_ms(), name],
    )?;
    Ok(())
}

pub fn update_model(conn: &Connection, name: &str, description: &str) -> StoreResult<()> {
    require_model(conn, name)?;
    conn.execute(
        "UPDATE registered_models SET description = ?, last_updated_timestamp = ? WHERE name = ?",
        params![description, now_ms(), name],
    )?;
    Ok(())
}

pub fn delete_model(conn: &Connection, name: &str) -> StoreResult<()> {
    require_model(conn, name)?;
    conn.execute("DELETE FROM model_version_tags WHERE name = ?", [name])?;
    conn.execute("DELETE FROM registered_models WHERE name = ?", [name])?;
    Ok(())
}

pub fn set_model_tag(conn: &Connection, name: &str, tag: &Tag) -> StoreResult<()> {
    require_model(conn, name)?;
    conn.prepare_cached(
        "INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)
         ON CONFLICT (name, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![name, tag.key, tag.value])?;
    Ok(())
}

pub fn delete_model_tag(conn: &Connection, name: &str, key: &str) -> StoreResult<()> {
    require_model(conn, name)?;
    conn.execute(
        "DELETE FROM registered_model_tags WHERE name = ? AND key = ?",
        params![name, key],
    )?;
    Ok(())
}

fn run_page<T>(
    conn: &Connection,
    mut sql: Sql,
    query: &RegistryQuery,
    row: impl FnMut(&Row) -> rusqlite::Result<T>,
) -> StoreResult<(Vec<T>, Option<i64>)> {
    sql.text.push_str(&format!(
        " LIMIT {} OFFSET {}",
        query.max_results.saturating_add(1),
        query.offset
    ));
    let mut stmt = conn.prepare(&sql.text)?;
    let mut items: Vec<T> = stmt
        .query_map(rusqlite::params_from_iter(sql.params.iter()), row)?
        .collect::<rusqlite::Result<_>>()?;
    let next = page_end(&mut items, query.max_results, query.offset);
    Ok((items, next))
}

pub fn search_models(
    conn: &Connection,
    query: &RegistryQuery,
) -> StoreResult<Page<RegisteredModel>> {
    let mut sql = Sql {
        text: "SELECT m.name, m.creation_timestamp, m.last_updated_timestamp, m.description FROM registered_models m WHERE "
            .into(),
        params: Vec::new(),
    };
    sql.append(model_filter(query.filter.as_ref()));
    sql.text
        .push_str(&format!(" ORDER BY {}", model_order(&query.order_by)?));
    let (items, next_offset) = run_page(conn, sql, query, model_row)?;
    let items = items
        .into_iter()
        .map(|m| fill_model(conn, m))
        .collect::<StoreResult<_>>()?;
    Ok(Page { items, next_offset })
}

pub fn search_versions(
    conn: &Connection,
    query: &RegistryQuery,
) -> StoreResult<Page<ModelVersion>> {
    let mut sql = Sql {
        text: format!("SELECT {VERSION_COLUMNS} FROM model_versions v WHERE "),
        params: Vec::new(),
    };
    sql.append(version_filter(query.filter.as_ref()));
    sql.text
        .push_str(&format!(" ORDER BY {}", version_order(&query.order_by)?));
    let (items, next_offset) = run_page(conn, sql, query, version_row)?;
    let items = items
        .into_iter()
        .map(|v| fill_version(conn, v))
        .collect::<StoreResult<_>>()?;
    Ok(Page { items, next_offset })
}

pub fn set_alias(conn: &Connection, name: &str, alias: &str, version: i64) -> StoreResult<()> {
    require_model(conn, name)?;
    require_version(conn, name, version)?;
    conn.execute(
        "INSERT INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?)
         ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
        params![name, alias, version],
    )?;
    Ok(())
}

pub fn delete_alias(conn: &Connection, name: &str, alias: &str) -> StoreResult<()> {
    require_model(conn, name)?;
    conn.execute(
        "DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?",
        params![name, alias],
    )?;
    Ok(())
}

pub fn version_by_alias(conn: &Connection, name: &str, alias: &str) -> StoreResult<ModelVersion> {
    require_model(conn, name)?;
    let version: Option<i64> = if alias.eq_ignore_ascii_case("latest") {
        conn.query_row(
            "SELECT max(version) FROM model_versions WHERE name = ? AND deleted = 0",
            [name],
            |r| r.get(0),
        )?
    } else {
        conn.query_row(
            "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
            params![name, alias],
            |r| r.get(0),
        )
        .optional()?
    };
    let version = version
        .ok_or_else(|| ApiError::invalid(format!("Registered model alias {alias} not found.")))?;
    get_version(conn, name, version)
}

pub fn create_version(conn: &Connection, new: &NewModelVersion) -> StoreResult<i64> {
    require_model(conn, &new.name)?;
    let version: i64 = conn.query_row(
        "SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE name = ?",
        [&new.name],
        |r| r.get(0),
    )?;
    let now = now_ms();
    conn.execute(
        "INSERT INTO model_versions (name, version, creation_timestamp, last_updated_timestamp, description, source, run_id, run_link)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![new.name, version, now, now, new.description, new.source, new.run_id, new.run_link],
    )?;
    for t in &new.tags {
        set_version_tag(conn, &new.name, version, t)?;
    }
    touch_model(conn, &new.name, now)?;
    Ok(version)
}

pub fn update_version(
    conn: &Connection,
    name: &str,
    version: i64,
    description: &str,
) -> StoreResult<()> {
    require_version(conn, name, version)?;
    conn.execute(
        "UPDATE model_versions SET description = ?, last_updated_timestamp = ? WHERE name = ? AND version = ?",
        params![description, now_ms(), name, version],
    )?;
    Ok(())
}

pub fn delete_version(conn: &Connection, name: &str, version: i64) -> StoreResult<()> {
    require_version(conn, name, version)?;
    let now = now_ms();
    conn.execute(
        "UPDATE model_versions SET deleted = 1, last_updated_timestamp = ? WHERE name = ? AND version = ?",
        params![now, name, version],
    )?;
    conn.execute(
        "DELETE FROM model_version_tags WHERE name = ? AND version = ?",
        params![name, version],
    )?;
    conn.execute(
        "DELETE FROM registered_model_aliases WHERE name = ? AND version = ?",
        params![name, version],
    )?;
    touch_model(conn, name, now)
}

pub fn transition(
    conn: &Connection,
    name: &str,
    version: i64,
    stage: &str,
    archive_existing: bool,
) -> StoreResult<()> {
    require_version(conn, name, version)?;
    if archive_existing && !matches!(stage, "Staging" | "Production") {
        return Err(ApiError::invalid(format!(
            "Model version transition cannot archive existing model versions because '{stage}' is not an Active stage. Valid stages are ['Staging', 'Production']"
        ))
        .into());
    }
    let now = now_ms();
    if archive_existing {
        conn.execute(
            "UPDATE model_versions SET current_stage = 'Archived', last_updated_timestamp = ?
             WHERE name = ? AND current_stage = ? AND version != ? AND deleted = 0",
            params![now, name, stage, version],
        )?;
    }
    conn.execute(
        "UPDATE model_versions SET current_stage = ?, last_updated_timestamp = ? WHERE name = ? AND version = ?",
        params![stage, now, name, version],
    )?;
    touch_model(conn, name, now)
}

pub fn set_version_tag(conn: &Connection, name: &str, version: i64, tag: &Tag) -> StoreResult<()> {
    require_version(conn, name, version)?;
    conn.prepare_cached(
        "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)
         ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![name, version, tag.key, tag.value])?;
    Ok(())
}

pub fn delete_version_tag(
    conn: &Connection,
    name: &str,
    version: i64,
    key: &str,
) -> StoreResult<()> {
    require_version(conn, name, version)?;
    conn.execute(
        "DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
        params![name, version, key],
    )?;
    Ok(())
}
