//! A blocking client for code without an async runtime: every call of the async
//! [`Client`](crate::Client), run to completion on a runtime of its own.
//!
//! Like `reqwest::blocking`, it must not be used from inside an async runtime; use the
//! async client there. [`crate::ActiveRun`] works from both.

use crate::artifacts::{ArtifactVersion, FileInfo, Progress, Transferred};
use crate::registry::{Gate, GateTarget, NewVersion, PromotionEvent, SearchRegistry};
use crate::tracking::{Collected, Page, SearchExperiments, SearchRuns};
use crate::{ActiveRun, Config, Error, LoggerOptions, RetryPolicy};
use cairn_schema::registry::{ModelVersion, RegisteredModel};
use cairn_schema::{DatasetInput, Experiment, Metric, Param, Run, RunInfo, RunStatus, Tag};
use std::path::Path;
use std::sync::Arc;

/// The blocking twin of [`crate::Client`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    inner: crate::Client,
    rt: Arc<tokio::runtime::Runtime>,
}

impl Client {
    /// A client for the server at `base_url`, with default timeouts and retries.
    pub fn new(base_url: &str) -> Result<Client, Error> {
        Client::wrap(crate::Client::new(base_url))
    }

    /// A client configured by `config`.
    pub fn with_config(config: Config) -> Result<Client, Error> {
        Client::wrap(crate::Client::with_config(config)?)
    }

    /// A client configured by the environment; see [`Config::from_env`].
    pub fn from_env() -> Result<Client, Error> {
        Client::wrap(crate::Client::from_env()?)
    }

    /// Blocking calls over (a fresh twin of) an async client.
    pub fn wrap(inner: crate::Client) -> Result<Client, Error> {
        let inner = inner.fresh();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Client {
            inner,
            rt: Arc::new(rt),
        })
    }

    /// The same client with another retry policy.
    pub fn with_retry(self, retry: RetryPolicy) -> Client {
        Client {
            inner: self.inner.with_retry(retry),
            rt: self.rt,
        }
    }

    /// An async client for the same server and settings, with connections of its own
    /// (this one's belong to its private runtime).
    pub fn to_async(&self) -> crate::Client {
        self.inner.fresh()
    }

    /// Creates a run and returns its background logger.
    pub fn start_run(&self, experiment_id: &str, name: Option<&str>) -> Result<ActiveRun, Error> {
        self.start_run_with(experiment_id, name, LoggerOptions::default())
    }

    /// Creates a run and returns its background logger with `options`.
    pub fn start_run_with(
        &self,
        experiment_id: &str,
        name: Option<&str>,
        options: LoggerOptions,
    ) -> Result<ActiveRun, Error> {
        let run = self.create_run(experiment_id, name)?;
        ActiveRun::attach(self.inner.clone(), &run.info.run_id, options)
    }
}

/// Defines blocking methods that run the async method of the same name.
macro_rules! blocking {
    ($( $(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty; )*) => {
        impl Client {
            $(
                $(#[$doc])*
                pub fn $name(&self $(, $arg: $ty)*) -> Result<$ret, Error> {
                    self.rt.block_on(self.inner.$name($($arg),*))
                }
            )*
        }
    };
}

blocking! {
    /// See [`crate::Client::create_experiment`].
    fn create_experiment(&self, name: &str) -> String;
    /// See [`crate::Client::create_experiment_with_tags`].
    fn create_experiment_with_tags(&self, name: &str, tags: &[Tag]) -> String;
    /// See [`crate::Client::get_experiment`].
    fn get_experiment(&self, id: &str) -> Experiment;
    /// See [`crate::Client::get_experiment_by_name`].
    fn get_experiment_by_name(&self, name: &str) -> Experiment;
    /// See [`crate::Client::get_or_create_experiment`].
    fn get_or_create_experiment(&self, name: &str) -> String;
    /// See [`crate::Client::search_experiments`].
    fn search_experiments(&self, query: &SearchExperiments) -> Page<Experiment>;
    /// See [`crate::Client::rename_experiment`].
    fn rename_experiment(&self, id: &str, new_name: &str) -> ();
    /// See [`crate::Client::delete_experiment`].
    fn delete_experiment(&self, id: &str) -> ();
    /// See [`crate::Client::restore_experiment`].
    fn restore_experiment(&self, id: &str) -> ();
    /// See [`crate::Client::set_experiment_tag`].
    fn set_experiment_tag(&self, id: &str, key: &str, value: &str) -> ();
    /// See [`crate::Client::delete_experiment_tag`].
    fn delete_experiment_tag(&self, id: &str, key: &str) -> ();
    /// See [`crate::Client::create_run`].
    fn create_run(&self, experiment_id: &str, name: Option<&str>) -> Run;
    /// See [`crate::Client::create_run_with_tags`].
    fn create_run_with_tags(&self, experiment_id: &str, name: Option<&str>, tags: &[Tag]) -> Run;
    /// See [`crate::Client::get_run`].
    fn get_run(&self, run_id: &str) -> Run;
    /// See [`crate::Client::finish_run`].
    fn finish_run(&self, run_id: &str, status: RunStatus) -> RunInfo;
    /// See [`crate::Client::update_run`].
    fn update_run(&self, run_id: &str, status: Option<RunStatus>, end_time: Option<i64>, name: Option<&str>) -> RunInfo;
    /// See [`crate::Client::delete_run`].
    fn delete_run(&self, run_id: &str) -> ();
    /// See [`crate::Client::move_run`].
    fn move_run(&self, run_id: &str, experiment_id: &str) -> ();
    /// See [`crate::Client::restore_run`].
    fn restore_run(&self, run_id: &str) -> ();
    /// See [`crate::Client::log_metric`].
    fn log_metric(&self, run_id: &str, key: &str, value: f64, step: i64) -> ();
    /// See [`crate::Client::log_param`].
    fn log_param(&self, run_id: &str, key: &str, value: &str) -> ();
    /// See [`crate::Client::set_tag`].
    fn set_tag(&self, run_id: &str, key: &str, value: &str) -> ();
    /// See [`crate::Client::delete_tag`].
    fn delete_tag(&self, run_id: &str, key: &str) -> ();
    /// See [`crate::Client::log_batch`].
    fn log_batch(&self, run_id: &str, metrics: &[Metric], params: &[Param], tags: &[Tag]) -> ();
    /// See [`crate::Client::log_inputs`].
    fn log_inputs(&self, run_id: &str, datasets: &[DatasetInput]) -> ();
    /// See [`crate::Client::search_runs`].
    fn search_runs(&self, query: &SearchRuns) -> Page<Run>;
    /// See [`crate::Client::search_all_runs`].
    fn search_all_runs(&self, query: &SearchRuns, limit: Option<usize>) -> Vec<Run>;
    /// See [`crate::Client::get_metric_history`].
    fn get_metric_history(&self, run_id: &str, key: &str) -> Vec<Metric>;
    /// See [`crate::Client::collect_garbage`].
    fn collect_garbage(&self, older_than_ms: i64) -> Collected;
    /// See [`crate::Client::upload_artifact`].
    fn upload_artifact(&self, run: &Run, path: &str, bytes: Vec<u8>) -> ();
    /// See [`crate::Client::upload_file`].
    fn upload_file(&self, run: &Run, path: &str, file: &Path, progress: Option<Progress>) -> Transferred;
    /// See [`crate::Client::download_artifact`].
    fn download_artifact(&self, run: &Run, path: &str) -> Vec<u8>;
    /// See [`crate::Client::download_file`].
    fn download_file(&self, run: &Run, path: &str, dest: &Path, progress: Option<Progress>) -> Transferred;
    /// See [`crate::Client::list_artifacts`].
    fn list_artifacts(&self, run_id: &str, path: Option<&str>) -> Vec<FileInfo>;
    /// See [`crate::Client::delete_artifact`].
    fn delete_artifact(&self, run: &Run, path: &str) -> ();
    /// See [`crate::Client::artifact_versions`].
    fn artifact_versions(&self, run: &Run, path: &str) -> Vec<ArtifactVersion>;
    /// See [`crate::Client::verify_artifacts`].
    fn verify_artifacts(&self, run: Option<&Run>) -> (bool, Vec<String>);
    /// See [`crate::Client::create_registered_model`].
    fn create_registered_model(&self, name: &str, description: Option<&str>, tags: &[Tag]) -> RegisteredModel;
    /// See [`crate::Client::get_registered_model`].
    fn get_registered_model(&self, name: &str) -> RegisteredModel;
    /// See [`crate::Client::update_registered_model`].
    fn update_registered_model(&self, name: &str, description: &str) -> RegisteredModel;
    /// See [`crate::Client::rename_registered_model`].
    fn rename_registered_model(&self, name: &str, new_name: &str) -> RegisteredModel;
    /// See [`crate::Client::delete_registered_model`].
    fn delete_registered_model(&self, name: &str) -> ();
    /// See [`crate::Client::set_registered_model_tag`].
    fn set_registered_model_tag(&self, name: &str, key: &str, value: &str) -> ();
    /// See [`crate::Client::delete_registered_model_tag`].
    fn delete_registered_model_tag(&self, name: &str, key: &str) -> ();
    /// See [`crate::Client::search_registered_models`].
    fn search_registered_models(&self, query: &SearchRegistry) -> Page<RegisteredModel>;
    /// See [`crate::Client::get_latest_versions`].
    fn get_latest_versions(&self, name: &str, stages: &[&str]) -> Vec<ModelVersion>;
    /// See [`crate::Client::set_alias`].
    fn set_alias(&self, name: &str, alias: &str, version: &str) -> ();
    /// See [`crate::Client::delete_alias`].
    fn delete_alias(&self, name: &str, alias: &str) -> ();
    /// See [`crate::Client::get_version_by_alias`].
    fn get_version_by_alias(&self, name: &str, alias: &str) -> ModelVersion;
    /// See [`crate::Client::create_model_version`].
    fn create_model_version(&self, name: &str, new: &NewVersion) -> ModelVersion;
    /// See [`crate::Client::get_model_version`].
    fn get_model_version(&self, name: &str, version: &str) -> ModelVersion;
    /// See [`crate::Client::update_model_version`].
    fn update_model_version(&self, name: &str, version: &str, description: &str) -> ModelVersion;
    /// See [`crate::Client::delete_model_version`].
    fn delete_model_version(&self, name: &str, version: &str) -> ();
    /// See [`crate::Client::transition_stage`].
    fn transition_stage(&self, name: &str, version: &str, stage: &str, archive_existing_versions: bool) -> ModelVersion;
    /// See [`crate::Client::search_model_versions`].
    fn search_model_versions(&self, query: &SearchRegistry) -> Page<ModelVersion>;
    /// See [`crate::Client::set_model_version_tag`].
    fn set_model_version_tag(&self, name: &str, version: &str, key: &str, value: &str) -> ();
    /// See [`crate::Client::delete_model_version_tag`].
    fn delete_model_version_tag(&self, name: &str, version: &str, key: &str) -> ();
    /// See [`crate::Client::get_model_version_download_uri`].
    fn get_model_version_download_uri(&self, name: &str, version: &str) -> String;
    /// See [`crate::Client::set_gate`].
    fn set_gate(&self, name: &str, target: &GateTarget, filter: &str) -> Gate;
    /// See [`crate::Client::list_gates`].
    fn list_gates(&self, name: &str) -> Vec<Gate>;
    /// See [`crate::Client::delete_gate`].
    fn delete_gate(&self, name: &str, target: &GateTarget) -> ();
    /// See [`crate::Client::promotion_history`].
    fn promotion_history(&self, name: &str) -> Vec<PromotionEvent>;
}
