//! The SQLite backend: WAL, foreign keys, one group-committing writer and a pool of readers.
//!
//! Architecture invariant: this module tree is the only one that imports rusqlite.

mod artifacts;
mod experiments;
mod gates;
mod idempotency;
mod logged_models;
pub mod maintenance;
mod metrics;
mod migrations;
mod names;
#[cfg(test)]
mod plans;
mod registry;
mod run_reads;
mod runs;
mod writer;

use super::{
    ArtifactChild, ArtifactEntry, ArtifactIndex, ArtifactKind, Batch, BulkIntervalQuery,
    ExperimentQuery, LoggedModelQuery, NewModelVersion, NewRun, Page, Pending, RegistryQuery,
    RegistryStore, RunQuery, RunUpdate, StoreError, StoreResult, TrackingStore,
};
use super::{Gate, PromotionEvent, PromotionStore};
use super::{LoggedModelStore, NewLoggedModel};
use crate::search::SqlValue;
use cairn_schema::registry::{ModelVersion, RegisteredModel};
use cairn_schema::{
    ApiError, DatasetInput, Experiment, LoggedModel, LoggedModelStatus, Metric, ModelOutput, Param,
    Run, RunInfo, Tag,
};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;
use writer::Writer;

/// A store in one SQLite file.
pub struct SqliteStore {
    writer: Writer,
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// Exists while the store is open; see `maintenance::open_marker`.
    marker: std::path::PathBuf,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32768;",
    )
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        maintenance::check_after_crash(path, &conn)?;
        let marker = maintenance::open_marker(path);
        std::fs::write(&marker, std::process::id().to_string())?;
        migrations::migrate(&mut conn, now_ms())?;
        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(|c| {
                c.busy_timeout(Duration::from_secs(10))?;
                c.execute_batch("PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384;")
            });
        let readers = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .build(manager)?;
        Ok(SqliteStore {
            writer: Writer::start(conn),
            readers,
            marker,
        })
    }

    fn read<R>(&self, work: impl FnOnce(&Connection) -> StoreResult<R>) -> StoreResult<R> {
        let conn = self
            .readers
            .get()
            .map_err(|e| StoreError::Internal(format!("no read connection: {e}")))?;
        work(&conn)
    }

    /// Stops the writer after the queued writes commit, and marks the stop clean.
    pub fn shutdown(&self) {
        self.writer.shutdown();
        let _ = std::fs::remove_file(&self.marker);
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Most values SQLite binds in one statement (its `SQLITE_MAX_VARIABLE_NUMBER`).
const MAX_BOUND_VALUES: usize = 32766;

/// Refuses a search whose statement would bind more values than SQLite takes: such a
/// request (tens of thousands of ids or clauses) is the caller's mistake, a 400, not a
/// store failure that clients would retry.
pub(crate) fn check_bound_values(count: usize) -> StoreResult<()> {
    if count > MAX_BOUND_VALUES {
        return Err(ApiError::invalid(format!(
            "The search is too large: it compares {count} values and at most {MAX_BOUND_VALUES} fit in one query. Split it into smaller searches."
        ))
        .into());
    }
    Ok(())
}

/// Maps SQLite failures: a full disk or a read-only file is 503 (retry later),
/// anything else a server fault.
pub(crate) fn map_sqlite_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode as C;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                C::DiskFull | C::ReadOnly | C::DatabaseBusy | C::DatabaseLocked
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        map_sqlite_error(e)
    }
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            SqlValue::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            SqlValue::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            SqlValue::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

impl TrackingStore for SqliteStore {
    fn create_experiment(
        &self,
        name: &str,
        artifact_location: Option<&str>,
        tags: &[Tag],
    ) -> StoreResult<i64> {
        let (name, location, tags) = (
            name.to_owned(),
            artifact_location.map(str::to_owned),
            tags.to_vec(),
        );
        self.writer
            .write(move |c| experiments::create(c, &name, location.as_deref(), &tags))
    }
    fn get_experiment(&self, id: i64) -> StoreResult<Experiment> {
        self.read(|c| experiments::get(c, id))
    }
    fn get_experiment_by_name(&self, name: &str) -> StoreResult<Experiment> {
        self.read(|c| experiments::get_by_name(c, name))
    }
    fn search_experiments(&self, query: &ExperimentQuery) -> StoreResult<Page<Experiment>> {
        self.read(|c| experiments::search(c, query))
    }
    fn rename_experiment(&self, id: i64, new_name: &str) -> StoreResult<()> {
        let new_name = new_name.to_owned();
        self.writer
            .write(move |c| experiments::rename(c, id, &new_name))
    }
    fn delete_experiment(&self, id: i64) -> StoreResult<()> {
        self.writer
            .write(move |c| experiments::set_lifecycle(c, id, false))
    }
    fn restore_experiment(&self, id: i64) -> StoreResult<()> {
        self.writer
            .write(move |c| experiments::set_lifecycle(c, id, true))
    }
    fn set_experiment_tag(&self, id: i64, tag: &Tag) -> StoreResult<()> {
        let tag = tag.clone();
        self.writer
            .write(move |c| experiments::set_tag(c, id, &tag))
    }
    fn delete_experiment_tag(&self, id: i64, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.writer
            .write(move |c| experiments::delete_tag(c, id, &key))
    }

    fn create_run(&self, run: NewRun) -> StoreResult<Run> {
        let run_id = self.writer.write(move |c| runs::create(c, run))?;
        let mut run = self.get_run(&run_id)?;
        run.outputs = None;
        Ok(run)
    }
    fn get_run(&self, run_id: &str) -> StoreResult<Run> {
        self.read(|c| runs::get(c, run_id))
    }
    fn update_run(&self, run_id: &str, update: RunUpdate) -> StoreResult<RunInfo> {
        let id = run_id.to_owned();
        self.writer.write(move |c| runs::update(c, &id, update))?;
        Ok(self.get_run(run_id)?.info)
    }
    fn delete_run(&self, run_id: &str) -> StoreResult<()> {
        let id = run_id.to_owned();
        self.writer
            .write(move |c| runs::set_lifecycle(c, &id, false))
    }
    fn move_run(&self, run_id: &str, experiment_id: i64) -> StoreResult<()> {
        let id = run_id.to_owned();
        self.writer
            .write(move |c| runs::move_to(c, &id, experiment_id))
    }
    fn restore_run(&self, run_id: &str) -> StoreResult<()> {
        let id = run_id.to_owned();
        self.writer
            .write(move |c| runs::set_lifecycle(c, &id, true))
    }
    fn log_batch(&self, run_id: &str, batch: Batch) -> Pending<()> {
        let id = run_id.to_owned();
        Box::pin(self.writer.submit(move |c| runs::log_batch(c, &id, &batch)))
    }
    fn delete_tag(&self, run_id: &str, key: &str) -> StoreResult<()> {
        let (id, key) = (run_id.to_owned(), key.to_owned());
        self.writer.write(move |c| runs::delete_tag(c, &id, &key))
    }
    fn log_inputs(
        &self,
        run_id: &str,
        datasets: Vec<DatasetInput>,
        models: Vec<String>,
    ) -> StoreResult<()> {
        let id = run_id.to_owned();
        self.writer
            .write(move |c| runs::log_inputs(c, &id, &datasets, &models))
    }
    fn log_outputs(&self, run_id: &str, models: Vec<ModelOutput>) -> StoreResult<()> {
        let id = run_id.to_owned();
        self.writer
            .write(move |c| runs::log_outputs(c, &id, &models))
    }
    fn search_runs(&self, query: &RunQuery) -> StoreResult<Page<Run>> {
        self.read(|c| runs::search(c, query))
    }
    fn metric_history(
        &self,
        run_id: &str,
        key: &str,
        max_results: Option<i64>,
        offset: i64,
    ) -> StoreResult<Page<Metric>> {
        self.read(|c| metrics::history(c, run_id, key, max_results, offset))
    }
    fn metric_history_bulk_interval(&self, query: &BulkIntervalQuery) -> StoreResult<Vec<Metric>> {
        self.read(|c| metrics::bulk_interval(c, query))
    }
}

impl ArtifactIndex for SqliteStore {
    fn blob_known(&self, digest: &str) -> StoreResult<bool> {
        let digest = digest.to_owned();
        self.writer
            .write(move |c| artifacts::blob_known(c, &digest))
    }
    fn record_artifact(&self, path: &str, digest: &str, size: i64) -> StoreResult<()> {
        let (path, digest) = (path.to_owned(), digest.to_owned());
        self.writer
            .write(move |c| artifacts::record(c, &path, &digest, size))
    }
    fn artifact_kind(&self, path: &str) -> StoreResult<ArtifactKind> {
        self.read(|c| artifacts::kind(c, path))
    }
    fn list_artifacts(&self, dir: &str) -> StoreResult<Vec<ArtifactChild>> {
        self.read(|c| artifacts::list(c, dir))
    }
    fn artifact_versions(&self, path: &str) -> StoreResult<Vec<ArtifactEntry>> {
        self.read(|c| artifacts::versions(c, path))
    }
    fn delete_artifacts(&self, path: &str) -> StoreResult<Vec<String>> {
        let path = path.to_owned();
        self.writer.write(move |c| artifacts::delete(c, &path))
    }
    fn purge_deleted_runs(&self, before_ms: i64) -> StoreResult<(Vec<String>, Vec<String>)> {
        self.writer
            .write(move |c| artifacts::purge_deleted_runs(c, before_ms))
    }
    fn collect_unreferenced_blobs(&self, before_ms: i64) -> StoreResult<Vec<String>> {
        self.writer
            .write(move |c| artifacts::collect_unreferenced(c, before_ms))
    }
    fn all_blobs(&self) -> StoreResult<Vec<(String, i64)>> {
        self.read(artifacts::all_blobs)
    }
    fn create_upload(&self, upload_id: &str, path: &str) -> StoreResult<()> {
        let (id, path) = (upload_id.to_owned(), path.to_owned());
        self.writer
            .write(move |c| artifacts::create_upload(c, &id, &path))
    }
    fn upload_path(&self, upload_id: &str) -> StoreResult<Option<String>> {
        self.read(|c| artifacts::upload_path(c, upload_id))
    }
    fn expire_uploads(&self, before_ms: i64) -> StoreResult<Vec<String>> {
        self.writer
            .write(move |c| artifacts::expire_uploads(c, before_ms))
    }
    fn finish_upload(&self, upload_id: &str) -> StoreResult<()> {
        let id = upload_id.to_owned();
        self.writer.write(move |c| artifacts::finish_upload(c, &id))
    }
}

impl RegistryStore for SqliteStore {
    fn create_registered_model(
        &self,
        name: &str,
        tags: &[Tag],
        description: Option<&str>,
    ) -> StoreResult<RegisteredModel> {
        let (n, tags, d) = (
            name.to_owned(),
            tags.to_vec(),
            description.map(str::to_owned),
        );
        self.writer
            .write(move |c| registry::create_model(c, &n, &tags, d.as_deref()))?;
        self.get_registered_model(name)
    }
    fn get_registered_model(&self, name: &str) -> StoreResult<RegisteredModel> {
        self.read(|c| registry::get_model(c, name))
    }
    fn rename_registered_model(&self, name: &str, new_name: &str) -> StoreResult<RegisteredModel> {
        let (n, nn) = (name.to_owned(), new_name.to_owned());
        self.writer
            .write(move |c| registry::rename_model(c, &n, &nn))?;
        self.get_registered_model(new_name)
    }
    fn update_registered_model(
        &self,
        name: &str,
        description: &str,
    ) -> StoreResult<RegisteredModel> {
        let (n, d) = (name.to_owned(), description.to_owned());
        self.writer
            .write(move |c| registry::update_model(c, &n, &d))?;
        self.get_registered_model(name)
    }
    fn delete_registered_model(&self, name: &str) -> StoreResult<()> {
        let n = name.to_owned();
        self.writer.write(move |c| registry::delete_model(c, &n))
    }
    fn set_registered_model_tag(&self, name: &str, tag: &Tag) -> StoreResult<()> {
        let (n, t) = (name.to_owned(), tag.clone());
        self.writer
            .write(move |c| registry::set_model_tag(c, &n, &t))
    }
    fn delete_registered_model_tag(&self, name: &str, key: &str) -> StoreResult<()> {
        let (n, k) = (name.to_owned(), key.to_owned());
        self.writer
            .write(move |c| registry::delete_model_tag(c, &n, &k))
    }
    fn search_registered_models(
        &self,
        query: &RegistryQuery,
    ) -> StoreResult<Page<RegisteredModel>> {
        self.read(|c| registry::search_models(c, query))
    }
    fn latest_versions(&self, name: &str, stages: &[String]) -> StoreResult<Vec<ModelVersion>> {
        self.read(|c| registry::latest_versions(c, name, stages))
    }
    fn set_alias(&self, name: &str, alias: &str, version: i64) -> StoreResult<()> {
        let (n, a) = (name.to_owned(), alias.to_owned());
        self.writer
            .write(move |c| registry::set_alias(c, &n, &a, version))
    }
    fn delete_alias(&self, name: &str, alias: &str) -> StoreResult<()> {
        let (n, a) = (name.to_owned(), alias.to_owned());
        self.writer
            .write(move |c| registry::delete_alias(c, &n, &a))
    }
    fn version_by_alias(&self, name: &str, alias: &str) -> StoreResult<ModelVersion> {
        self.read(|c| registry::version_by_alias(c, name, alias))
    }
    fn create_model_version(&self, version: NewModelVersion) -> StoreResult<ModelVersion> {
        let name = version.name.clone();
        let number = self
            .writer
            .write(move |c| registry::create_version(c, &version))?;
        self.get_model_version(&name, number)
    }
    fn get_model_version(&self, name: &str, version: i64) -> StoreResult<ModelVersion> {
        self.read(|c| registry::get_version(c, name, version))
    }
    fn update_model_version(
        &self,
        name: &str,
        version: i64,
        description: &str,
    ) -> StoreResult<ModelVersion> {
        let (n, d) = (name.to_owned(), description.to_owned());
        self.writer
            .write(move |c| registry::update_version(c, &n, version, &d))?;
        self.get_model_version(name, version)
    }
    fn delete_model_version(&self, name: &str, version: i64) -> StoreResult<()> {
        let n = name.to_owned();
        self.writer
            .write(move |c| registry::delete_version(c, &n, version))
    }
    fn transition_stage(
        &self,
        name: &str,
        version: i64,
        stage: &str,
        archive_existing: bool,
    ) -> StoreResult<ModelVersion> {
        let (n, st) = (name.to_owned(), stage.to_owned());
        self.writer
            .write(move |c| registry::transition(c, &n, version, &st, archive_existing))?;
        self.get_model_version(name, version)
    }
    fn search_model_versions(&self, query: &RegistryQuery) -> StoreResult<Page<ModelVersion>> {
        self.read(|c| registry::search_versions(c, query))
    }
    fn set_model_version_tag(&self, name: &str, version: i64, tag: &Tag) -> StoreResult<()> {
        let (n, t) = (name.to_owned(), tag.clone());
        self.writer
            .write(move |c| registry::set_version_tag(c, &n, version, &t))
    }
    fn delete_model_version_tag(&self, name: &str, version: i64, key: &str) -> StoreResult<()> {
        let (n, k) = (name.to_owned(), key.to_owned());
        self.writer
            .write(move |c| registry::delete_version_tag(c, &n, version, &k))
    }
}

impl crate::store::IdempotencyStore for SqliteStore {
    fn recall(&self, key: &str) -> StoreResult<Option<crate::store::StoredAnswer>> {
        self.read(|c| idempotency::recall(c, key))
    }
    fn remember(&self, key: &str, answer: &crate::store::StoredAnswer) -> StoreResult<()> {
        let (key, answer) = (key.to_owned(), answer.clone());
        self.writer
            .write(move |c| idempotency::remember(c, &key, &answer))
    }
}

impl PromotionStore for SqliteStore {
    fn set_gate(&self, gate: &Gate) -> StoreResult<()> {
        let gate = gate.clone();
        self.writer.write(move |c| gates::set_gate(c, &gate))
    }
    fn gates(&self, name: &str) -> StoreResult<Vec<Gate>> {
        self.read(|c| gates::gates(c, name))
    }
    fn delete_gate(&self, name: &str, target: &str) -> StoreResult<()> {
        let (n, t) = (name.to_owned(), target.to_owned());
        self.writer.write(move |c| gates::delete_gate(c, &n, &t))
    }
    fn record_promotion(&self, event: &PromotionEvent) -> StoreResult<()> {
        let event = event.clone();
        self.writer.write(move |c| gates::record(c, &event))
    }
    fn promotion_history(&self, name: &str) -> StoreResult<Vec<PromotionEvent>> {
        self.read(|c| gates::history(c, name))
    }
}

impl LoggedModelStore for SqliteStore {
    fn create_logged_model(&self, model: NewLoggedModel) -> StoreResult<LoggedModel> {
        let id = self
            .writer
            .write(move |c| logged_models::create(c, &model))?;
        self.get_logged_model(&id, false)
    }
    fn get_logged_model(&self, model_id: &str, allow_deleted: bool) -> StoreResult<LoggedModel> {
        self.read(|c| logged_models::get(c, model_id, allow_deleted))
    }
    fn finalize_logged_model(
        &self,
        model_id: &str,
        status: LoggedModelStatus,
    ) -> StoreResult<LoggedModel> {
        let id = model_id.to_owned();
        self.writer
            .write(move |c| logged_models::finalize(c, &id, status))?;
        self.get_logged_model(model_id, false)
    }
    fn delete_logged_model(&self, model_id: &str) -> StoreResult<()> {
        let id = model_id.to_owned();
        self.writer.write(move |c| logged_models::delete(c, &id))
    }
    fn set_logged_model_tags(&self, model_id: &str, tags: Vec<Tag>) -> StoreResult<()> {
        let id = model_id.to_owned();
        self.writer
            .write(move |c| logged_models::set_tags(c, &id, &tags))
    }
    fn delete_logged_model_tag(&self, model_id: &str, key: &str) -> StoreResult<()> {
        let (id, key) = (model_id.to_owned(), key.to_owned());
        self.writer
            .write(move |c| logged_models::delete_tag(c, &id, &key))
    }
    fn log_logged_model_params(&self, model_id: &str, params: Vec<Param>) -> StoreResult<()> {
        let id = model_id.to_owned();
        self.writer
            .write(move |c| logged_models::log_params(c, &id, &params))
    }
    fn search_logged_models(&self, query: &LoggedModelQuery) -> StoreResult<Page<LoggedModel>> {
        self.read(|c| logged_models::search(c, query))
    }
}
