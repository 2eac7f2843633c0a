//! The storage seam: what the HTTP layer needs from a backing store, free of any database type.
//!
//! The SQLite backend implements it today; a PostgreSQL backend can follow behind the
//! same trait. Methods are synchronous (the HTTP layer runs them off the async threads),
//! except the hot write path, which returns a `Pending` future the handler awaits.

pub mod sqlite;

use cairn_schema::filter::{Expr, OrderKey};
use cairn_schema::registry::{ModelVersion, RegisteredModel};
use cairn_schema::{
    ApiError, DatasetInput, Experiment, LoggedModel, LoggedModelStatus, Metric, ModelOutput, Param,
    Run, RunInfo, RunStatus, Tag, ViewType,
};

/// A store failure, typed so that the HTTP layer can map it to a status in one place.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The caller's request cannot be honoured (4xx): not found, exists, invalid.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The store cannot take writes now (disk full, read-only): 503, retry later.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// A fault in the store itself: 500.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// Result of every store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// A store call already under way: resolves with its result, without blocking a thread.
pub type Pending<T> = std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<T>> + Send>>;

/// One page of results and the offset of the next page, when there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Offset of the next page; `None` on the last page.
    pub next_offset: Option<i64>,
}

/// A new run.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Target experiment (must be active).
    pub experiment_id: i64,
    /// Creator; `""` when unknown.
    pub user_id: String,
    /// Name; generated when `None`.
    pub run_name: Option<String>,
    /// Milliseconds since the epoch.
    pub start_time: i64,
    /// Initial tags.
    pub tags: Vec<Tag>,
}

/// Changes to a run's metadata; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct RunUpdate {
    /// New status.
    pub status: Option<RunStatus>,
    /// New end time.
    pub end_time: Option<i64>,
    /// New name (also written to the `mlflow.runName` tag).
    pub run_name: Option<String>,
}

/// A validated log-batch: applied all together or not at all.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Metric points.
    pub metrics: Vec<Metric>,
    /// Params (write-once).
    pub params: Vec<Param>,
    /// Tags (upsert, last wins).
    pub tags: Vec<Tag>,
    /// Those of `metrics` that name a logged model, to be recorded on it as well.
    pub model_metrics: Vec<ModelMetric>,
}

/// A runs/search request, parsed.
#[derive(Debug, Clone)]
pub struct RunQuery {
    /// Experiments to search.
    pub experiment_ids: Vec<i64>,
    /// Filter; `None` matches every run.
    pub filter: Option<Expr>,
    /// Sort keys, in order.
    pub order_by: Vec<OrderKey>,
    /// Lifecycle stages covered.
    pub view: ViewType,
    /// Page size.
    pub max_results: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// An experiments/search request, parsed.
#[derive(Debug, Clone)]
pub struct ExperimentQuery {
    /// Filter; `None` matches every experiment.
    pub filter: Option<Expr>,
    /// Sort keys, in order.
    pub order_by: Vec<OrderKey>,
    /// Lifecycle stages covered.
    pub view: ViewType,
    /// Page size.
    pub max_results: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// A get-history-bulk-interval request.
#[derive(Debug, Clone)]
pub struct BulkIntervalQuery {
    /// Runs, in the order their points are returned.
    pub run_ids: Vec<String>,
    /// Metric key.
    pub key: String,
    /// Inclusive step range.
    pub steps: Option<(i64, i64)>,
    /// Points per run at most.
    pub max_results: i64,
}

/// A logged-models/search request, parsed.
#[derive(Debug, Clone)]
pub struct LoggedModelQuery {
    /// Experiments to search.
    pub experiment_ids: Vec<i64>,
    /// Filter (MLflow's logged-model grammar); `None` matches every model.
    pub filter: Option<Expr>,
    /// Datasets that metric clauses are restricted to; alone, they keep the models
    /// having a metric on any of them.
    pub datasets: Vec<DatasetRef>,
    /// Sort keys, in order.
    pub order_by: Vec<LoggedModelOrder>,
    /// Page size.
    pub max_results: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// Everything the tracking API needs from a store.
pub trait TrackingStore: Send + Sync + 'static {
    /// Creates an experiment and returns its id.
    fn create_experiment(
        &self,
        name: &str,
        artifact_location: Option<&str>,
        tags: &[Tag],
    ) -> StoreResult<i64>;
    /// An experiment by id, deleted ones included.
    fn get_experiment(&self, id: i64) -> StoreResult<Experiment>;
    /// An experiment by name, deleted ones included.
    fn get_experiment_by_name(&self, name: &str) -> StoreResult<Experiment>;
    /// A page of experiments.
    fn search_experiments(&self, query: &ExperimentQuery) -> StoreResult<Page<Experiment>>;
    /// Renames an active experiment.
    fn rename_experiment(&self, id: i64, new_name: &str) -> StoreResult<()>;
    /// Soft-deletes an experiment and its runs.
    fn delete_experiment(&self, id: i64) -> StoreResult<()>;
    /// Restores a deleted experiment and its runs.
    fn restore_experiment(&self, id: i64) -> StoreResult<()>;
    /// Sets (upserts) an experiment tag.
    fn set_experiment_tag(&self, id: i64, tag: &Tag) -> StoreResult<()>;
    /// Deletes an experiment tag; a missing tag is not-found.
    fn delete_experiment_tag(&self, id: i64, key: &str) -> StoreResult<()>;

    /// Creates a run.
    fn create_run(&self, run: NewRun) -> StoreResult<Run>;
    /// A run by id, deleted ones included.
    fn get_run(&self, run_id: &str) -> StoreResult<Run>;
    /// Changes status, end time or name of an active run.
    fn update_run(&self, run_id: &str, update: RunUpdate) -> StoreResult<RunInfo>;
    /// Soft-deletes a run.
    fn delete_run(&self, run_id: &str) -> StoreResult<()>;
    /// Moves an active run into another active experiment; its artifacts stay where
    /// they were logged (Cairn only).
    fn move_run(&self, run_id: &str, experiment_id: i64) -> StoreResult<()>;
    /// Restores a deleted run.
    fn restore_run(&self, run_id: &str) -> StoreResult<()>;
    /// Applies metrics, params and tags in one transaction: all or nothing. The write is
    /// queued at once; the future resolves when it is durable, so the hot path of every
    /// training loop awaits its commit without a thread hop of its own.
    fn log_batch(&self, run_id: &str, batch: Batch) -> Pending<()>;
    /// Deletes a run tag; a missing tag is not-found.
    fn delete_tag(&self, run_id: &str, key: &str) -> StoreResult<()>;
    /// Records datasets and logged models a run consumed.
    fn log_inputs(
        &self,
        run_id: &str,
        datasets: Vec<DatasetInput>,
        models: Vec<String>,
    ) -> StoreResult<()>;
    /// Records logged models a run produced.
    fn log_outputs(&self, run_id: &str, models: Vec<ModelOutput>) -> StoreResult<()>;
    /// A page of runs.
    fn search_runs(&self, query: &RunQuery) -> StoreResult<Page<Run>>;

    /// Every point of one metric of one run, ordered by timestamp, step, value.
    fn metric_history(
        &self,
        run_id: &str,
        key: &str,
        max_results: Option<i64>,
        offset: i64,
    ) -> StoreResult<Page<Metric>>;
    /// Evenly sampled points of one metric across several runs.
    fn metric_history_bulk_interval(&self, query: &BulkIntervalQuery) -> StoreResult<Vec<Metric>>;
}

/// The current content of an artifact path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactEntry {
    /// Hex SHA-256 of the content.
    pub digest: String,
    /// Length in bytes.
    pub size: i64,
    /// Version number of this path, from 1.
    pub version: i64,
    /// Milliseconds since the epoch when this version was written.
    pub created: i64,
    /// Whether this is the path's current version.
    pub current: bool,
}

/// What sits at an artifact path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArtifactKind {
    /// A file, with its current version.
    File(ArtifactEntry),
    /// A directory: some file lies below it.
    Dir,
    /// Nothing.
    Missing,
}

/// One child of a listed directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactChild {
    /// The child's name (one segment).
    pub name: String,
    /// Directory or file.
    pub is_dir: bool,
    /// Size of a file.
    pub size: Option<i64>,
}

/// The part of a run's artifact URI this server serves: `mlflow-artifacts:/1/<run>/artifacts`
/// gives `1/<run>/artifacts`; other schemes are not ours.
pub fn served_artifact_root(artifact_uri: &str) -> Option<&str> {
    artifact_uri
        .strip_prefix("mlflow-artifacts:/")
        .map(|p| p.trim_start_matches('/'))
}

/// The artifact index: which content each artifact path holds, and its versions.
/// Paths are validated `ArtifactPath` strings; digests are hex SHA-256.
pub trait ArtifactIndex: Send + Sync + 'static {
    /// Whether a blob with this digest is stored; marks it as recently wanted.
    fn blob_known(&self, digest: &str) -> StoreResult<bool>;
    /// Makes `digest` the current content of `path`, keeping the previous one as a version.
    fn record_artifact(&self, path: &str, digest: &str, size: i64) -> StoreResult<()>;
    /// File, directory or nothing.
    fn artifact_kind(&self, path: &str) -> StoreResult<ArtifactKind>;
    /// The children of a directory (the empty path is the root); sorted by name.
    fn list_artifacts(&self, dir: &str) -> StoreResult<Vec<ArtifactChild>>;
    /// Every version of a path, newest first.
    fn artifact_versions(&self, path: &str) -> StoreResult<Vec<ArtifactEntry>>;
    /// Removes a file or a directory tree, all versions; returns the digests no longer
    /// referenced by anything (their blob rows are gone; delete the objects).
    fn delete_artifacts(&self, path: &str) -> StoreResult<Vec<String>>;
    /// Permanently removes deleted runs (deleted before `before_ms`) with their artifact
    /// index; returns the purged run ids and the digests no longer referenced.
    fn purge_deleted_runs(&self, before_ms: i64) -> StoreResult<(Vec<String>, Vec<String>)>;
    /// Removes blob rows nothing references and nobody wanted since `before_ms`.
    fn collect_unreferenced_blobs(&self, before_ms: i64) -> StoreResult<Vec<String>>;
    /// Every stored blob, with its size.
    fn all_blobs(&self) -> StoreResult<Vec<(String, i64)>>;
    /// Registers a multipart upload of `path`.
    fn create_upload(&self, upload_id: &str, path: &str) -> StoreResult<()>;
    /// The path of a pending multipart upload.
    fn upload_path(&self, upload_id: &str) -> StoreResult<Option<String>>;
    /// Forgets a multipart upload.
    fn finish_upload(&self, upload_id: &str) -> StoreResult<()>;
    /// Forgets multipart uploads started before `before_ms`; returns their ids.
    fn expire_uploads(&self, before_ms: i64) -> StoreResult<Vec<String>>;
}

/// A new model version.
#[derive(Debug, Clone, Default)]
pub struct NewModelVersion {
    /// Registered model (must exist).
    pub name: String,
    /// Checked source URI.
    pub source: String,
    /// Producing run, `""` when none.
    pub run_id: String,
    /// Link to the run, `""` when none.
    pub run_link: String,
    /// Description, `""` when none.
    pub description: String,
    /// Version tags.
    pub tags: Vec<Tag>,
}

/// A registered-models/search or model-versions/search request, parsed.
#[derive(Debug, Clone)]
pub struct RegistryQuery {
    /// Filter; `None` matches everything.
    pub filter: Option<Expr>,
    /// Sort keys, in order.
    pub order_by: Vec<OrderKey>,
    /// Page size.
    pub max_results: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// Everything the model registry needs from a store. Versions are numbers here and
/// strings on the wire.
pub trait RegistryStore: Send + Sync + 'static {
    /// Creates a registered model.
    fn create_registered_model(
        &self,
        name: &str,
        tags: &[Tag],
        description: Option<&str>,
    ) -> StoreResult<RegisteredModel>;
    /// A registered model with its latest versions, tags and aliases.
    fn get_registered_model(&self, name: &str) -> StoreResult<RegisteredModel>;
    /// Renames a registered model; its versions, tags and aliases follow.
    fn rename_registered_model(&self, name: &str, new_name: &str) -> StoreResult<RegisteredModel>;
    /// Sets the description.
    fn update_registered_model(
        &self,
        name: &str,
        description: &str,
    ) -> StoreResult<RegisteredModel>;
    /// Deletes a registered model with everything it holds.
    fn delete_registered_model(&self, name: &str) -> StoreResult<()>;
    /// Upserts a registered-model tag.
    fn set_registered_model_tag(&self, name: &str, tag: &Tag) -> StoreResult<()>;
    /// Removes a registered-model tag (a missing one is fine).
    fn delete_registered_model_tag(&self, name: &str, key: &str) -> StoreResult<()>;
    /// A page of registered models.
    fn search_registered_models(&self, query: &RegistryQuery)
        -> StoreResult<Page<RegisteredModel>>;
    /// The newest version per stage (only `stages` when given).
    fn latest_versions(&self, name: &str, stages: &[String]) -> StoreResult<Vec<ModelVersion>>;
    /// Points an alias at a version (moving it if it existed).
    fn set_alias(&self, name: &str, alias: &str, version: i64) -> StoreResult<()>;
    /// Removes an alias (a missing one is fine).
    fn delete_alias(&self, name: &str, alias: &str) -> StoreResult<()>;
    /// The version an alias points at; `latest` is the highest live version.
    fn version_by_alias(&self, name: &str, alias: &str) -> StoreResult<ModelVersion>;
    /// Creates the next version (numbers are never reused).
    fn create_model_version(&self, version: NewModelVersion) -> StoreResult<ModelVersion>;
    /// A live version.
    fn get_model_version(&self, name: &str, version: i64) -> StoreResult<ModelVersion>;
    /// Sets a version's description.
    fn update_model_version(
        &self,
        name: &str,
        version: i64,
        description: &str,
    ) -> StoreResult<ModelVersion>;
    /// Deletes a version and its aliases; its number stays used.
    fn delete_model_version(&self, name: &str, version: i64) -> StoreResult<()>;
    /// Moves a version to a stage, archiving the others in that stage on request.
    fn transition_stage(
        &self,
        name: &str,
        version: i64,
        stage: &str,
        archive_existing: bool,
    ) -> StoreResult<ModelVersion>;
    /// A page of live versions.
    fn search_model_versions(&self, query: &RegistryQuery) -> StoreResult<Page<ModelVersion>>;
    /// Upserts a version tag.
    fn set_model_version_tag(&self, name: &str, version: i64, tag: &Tag) -> StoreResult<()>;
    /// Removes a version tag (a missing one is fine).
    fn delete_model_version_tag(&self, name: &str, version: i64, key: &str) -> StoreResult<()>;
}

/// A promotion gate: a run filter a version's source run must pass to reach a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// Registered model.
    pub name: String,
    /// `stage:<Stage>` or `alias:<alias>`.
    pub target: String,
    /// Filter in the run search grammar (Cairn's extended one).
    pub filter: String,
    /// Milliseconds since the epoch.
    pub created: i64,
}

/// One recorded stage transition or alias move.
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionEvent {
    /// Registered model.
    pub name: String,
    /// `stage` or `alias`.
    pub kind: String,
    /// The alias moved, for alias events.
    pub alias: Option<String>,
    /// The version promoted (or the alias's new target); `None` when an alias was removed.
    pub version: Option<i64>,
    /// Previous stage or alias target.
    pub from: Option<String>,
    /// New stage or alias target.
    pub to: Option<String>,
    /// Milliseconds since the epoch.
    pub at: i64,
    /// Who asked.
    pub actor: String,
    /// The version's source run, `""` when none.
    pub run_id: String,
    /// The source run's latest metrics at that moment, as a JSON object.
    pub metrics: String,
}

/// A stored answer to a request that carried an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// SHA-256 of the request (method, path, query, body) that got it.
    pub fingerprint: String,
    /// Its HTTP status.
    pub status: u16,
    /// Its JSON body.
    pub body: Vec<u8>,
}

/// Answers kept by idempotency key, so that a retried request is answered again
/// instead of applied again.
pub trait IdempotencyStore: Send + Sync + 'static {
    /// The answer kept under `key`, if any (and not older than a day).
    fn recall(&self, key: &str) -> StoreResult<Option<StoredAnswer>>;
    /// Keeps an answer under `key` (the first one wins) and forgets answers older than a day.
    fn remember(&self, key: &str, answer: &StoredAnswer) -> StoreResult<()>;
}

/// Cairn's promotion gates and promotion history, beside the MLflow registry.
pub trait PromotionStore: Send + Sync + 'static {
    /// Sets (replaces) the gate of a target.
    fn set_gate(&self, gate: &Gate) -> StoreResult<()>;
    /// The gates of a model.
    fn gates(&self, name: &str) -> StoreResult<Vec<Gate>>;
    /// Removes a gate; a missing one is not-found.
    fn delete_gate(&self, name: &str, target: &str) -> StoreResult<()>;
    /// Records a transition or alias move.
    fn record_promotion(&self, event: &PromotionEvent) -> StoreResult<()>;
    /// The history of a model, oldest first.
    fn promotion_history(&self, name: &str) -> StoreResult<Vec<PromotionEvent>>;
}

/// A metric point of a log-metric / log-batch that names a logged model.
#[derive(Debug, Clone)]
pub struct ModelMetric {
    /// The logged model (must exist and be active).
    pub model_id: String,
    /// The dataset it was computed on.
    pub dataset: Option<DatasetRef>,
    /// The point, as recorded on the run.
    pub metric: Metric,
}

/// A dataset named by name and, optionally, digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetRef {
    /// Dataset name.
    pub name: String,
    /// Digest; `None` matches any.
    pub digest: Option<String>,
}

/// What a logged-models/search sorts by.
#[derive(Debug, Clone, PartialEq)]
pub enum LoggedModelSortKey {
    /// A canonical attribute (`name`, `creation_timestamp`, ...).
    Attribute(String),
    /// The latest value of a metric, optionally on one dataset.
    Metric {
        /// Metric key.
        key: String,
        /// Only points on this dataset count.
        dataset: Option<DatasetRef>,
    },
}

/// One logged-models/search sort key and its direction.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedModelOrder {
    /// The field.
    pub key: LoggedModelSortKey,
    /// `true` for ascending.
    pub ascending: bool,
}

/// A new logged model.
#[derive(Debug, Clone)]
pub struct NewLoggedModel {
    /// Owning experiment (must be active).
    pub experiment_id: i64,
    /// Name; generated when `None`.
    pub name: Option<String>,
    /// Model type; `""` when none.
    pub model_type: String,
    /// Producing run; `""` when none.
    pub source_run_id: String,
    /// Initial params.
    pub params: Vec<Param>,
    /// Initial tags.
    pub tags: Vec<Tag>,
}

/// Everything the MLflow 3 logged-model API needs from a store. Deleted models are
/// not found unless a call says otherwise.
pub trait LoggedModelStore: Send + Sync + 'static {
    /// Creates a model in `LOGGED_MODEL_PENDING`.
    fn create_logged_model(&self, model: NewLoggedModel) -> StoreResult<LoggedModel>;
    /// A model with its tags, params and metrics.
    fn get_logged_model(&self, model_id: &str, allow_deleted: bool) -> StoreResult<LoggedModel>;
    /// Sets the status (finalize) and returns the model.
    fn finalize_logged_model(
        &self,
        model_id: &str,
        status: LoggedModelStatus,
    ) -> StoreResult<LoggedModel>;
    /// Soft-deletes a model; deleting a deleted model is fine.
    fn delete_logged_model(&self, model_id: &str) -> StoreResult<()>;
    /// Upserts tags.
    fn set_logged_model_tags(&self, model_id: &str, tags: Vec<Tag>) -> StoreResult<()>;
    /// Removes a tag; a missing tag is not-found.
    fn delete_logged_model_tag(&self, model_id: &str, key: &str) -> StoreResult<()>;
    /// Upserts params.
    fn log_logged_model_params(&self, model_id: &str, params: Vec<Param>) -> StoreResult<()>;
    /// A page of active models.
    fn search_logged_models(&self, query: &LoggedModelQuery) -> StoreResult<Page<LoggedModel>>;
}
