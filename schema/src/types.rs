//! MLflow's objects as they appear on the wire: experiments, runs, metrics, datasets.
//!
//! Fields follow proto2 presence: empty lists and unset optionals are omitted, so the
//! Python client sees exactly what MLflow 3.17.2 sends.

use serde::{Deserialize, Serialize};

/// A key/value tag of an experiment, run or dataset input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// Tag key.
    pub key: String,
    /// Tag value; may be empty.
    #[serde(default)]
    pub value: String,
}

/// A run parameter: write-once per run and key.
pub type Param = Tag;

/// An experiment: a named group of runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// Integer id rendered as a string; `"0"` is `Default`.
    pub experiment_id: String,
    /// Unique name, across active and deleted experiments.
    pub name: String,
    /// Where this experiment's runs keep artifacts, e.g. `mlflow-artifacts:/3`.
    pub artifact_location: String,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
    /// Milliseconds since the epoch of the last change.
    pub last_update_time: i64,
    /// Milliseconds since the epoch of creation.
    pub creation_time: i64,
    /// Experiment tags; omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Always `default`: MLflow 3 workspaces are not used.
    #[serde(default = "default_workspace")]
    pub workspace: String,
}

fn default_workspace() -> String {
    "default".to_owned()
}

/// Lifecycle stage of experiments and runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleStage {
    /// Visible to default searches.
    Active,
    /// Soft-deleted; restorable.
    Deleted,
}

impl LifecycleStage {
    /// The wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleStage::Active => "active",
            LifecycleStage::Deleted => "deleted",
        }
    }
}

/// Which lifecycle stages a search covers (`run_view_type`, `view_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewType {
    /// Active objects only (the default).
    #[default]
    ActiveOnly,
    /// Deleted objects only.
    DeletedOnly,
    /// Both.
    All,
}

impl ViewType {
    /// Parses an enum name or number as MLflow accepts them (`ACTIVE_ONLY` or `1`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "ACTIVE_ONLY" | "1" => Some(ViewType::ActiveOnly),
            "DELETED_ONLY" | "2" => Some(ViewType::DeletedOnly),
            "ALL" | "3" => Some(ViewType::All),
            _ => None,
        }
    }
}

/// Status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// In progress (status on creation).
    Running,
    /// Queued.
    Scheduled,
    /// Ended normally.
    Finished,
    /// Ended with an error.
    Failed,
    /// Stopped from outside.
    Killed,
}

impl RunStatus {
    /// Parses an enum name or number as MLflow accepts them (`FINISHED` or `3`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "RUNNING" | "1" => Some(RunStatus::Running),
            "SCHEDULED" | "2" => Some(RunStatus::Scheduled),
            "FINISHED" | "3" => Some(RunStatus::Finished),
            "FAILED" | "4" => Some(RunStatus::Failed),
            "KILLED" | "5" => Some(RunStatus::Killed),
            _ => None,
        }
    }

    /// The wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Scheduled => "SCHEDULED",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }
}

/// The metadata of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Legacy duplicate of `run_id`.
    pub run_uuid: String,
    /// The experiment the run belongs to.
    pub experiment_id: String,
    /// Display name, kept equal to the `mlflow.runName` tag.
    pub run_name: String,
    /// Who created the run; `""` when unknown.
    #[serde(default)]
    pub user_id: String,
    /// Current status.
    pub status: RunStatus,
    /// Milliseconds since the epoch; 0 when the creator gave none.
    #[serde(default)]
    pub start_time: i64,
    /// Milliseconds since the epoch; omitted until set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    /// Root of the run's artifacts, e.g. `mlflow-artifacts:/1/<run_id>/artifacts`.
    pub artifact_uri: String,
    /// `active` or `deleted`.
    pub lifecycle_stage: String,
    /// 32 lowercase hex characters.
    pub run_id: String,
}

/// One metric point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Metric key.
    pub key: String,
    /// Value; NaN and infinities travel as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
    #[serde(with = "wire_f64")]
    pub value: f64,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// Training step; may be negative.
    #[serde(default)]
    pub step: i64,
    /// The run, in bulk history responses only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// Params, latest metrics and tags of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunData {
    /// The latest value of each metric key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    /// Params.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    /// Tags, system tags included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// A dataset as logged through log-inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    /// Dataset name.
    pub name: String,
    /// Content digest computed by the client.
    pub digest: String,
    /// Kind of source, e.g. `local`, `s3`, `code`.
    pub source_type: String,
    /// Serialized source description.
    pub source: String,
    /// Serialized schema; omitted when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Serialized profile; omitted when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

/// A dataset used by a run, with tags such as `mlflow.data.context`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetInput {
    /// Input tags; omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// The dataset.
    pub dataset: Dataset,
}

/// A logged model a run consumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInput {
    /// Logged-model id.
    pub model_id: String,
}

/// A logged model a run produced, at a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelOutput {
    /// Logged-model id.
    pub model_id: String,
    /// Step at which it was produced.
    pub step: i64,
}

/// What a run consumed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInputs {
    /// Datasets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dataset_inputs: Vec<DatasetInput>,
    /// Logged models.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_inputs: Vec<ModelInput>,
}

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOutputs {
    /// Logged models.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_outputs: Vec<ModelOutput>,
}

/// A run: metadata, data, inputs and outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Metadata.
    pub info: RunInfo,
    /// Params, latest metrics, tags.
    #[serde(default)]
    pub data: RunData,
    /// Datasets and models consumed.
    #[serde(default)]
    pub inputs: RunInputs,
    /// Models produced; absent in the runs/create response, as in MLflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<RunOutputs>,
}

/// A logged model (MLflow 3), as far as the tracking API lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedModelInfo {
    /// `m-` followed by 32 hex characters.
    pub model_id: String,
    /// Owning experiment.
    pub experiment_id: String,
    /// Name within the experiment.
    pub name: String,
    /// Milliseconds since the epoch.
    pub creation_timestamp_ms: i64,
    /// Milliseconds since the epoch.
    pub last_updated_timestamp_ms: i64,
    /// Root of the model's artifacts.
    pub artifact_uri: String,
    /// `LOGGED_MODEL_PENDING`, `LOGGED_MODEL_READY` or `LOGGED_MODEL_UPLOAD_FAILED`.
    pub status: String,
    /// Free-form model type; `""` when none.
    #[serde(default)]
    pub model_type: String,
    /// The run that produced it; `""` when none.
    #[serde(default)]
    pub source_run_id: String,
    /// Tags; omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// A logged model with its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedModel {
    /// Metadata.
    pub info: LoggedModelInfo,
    /// Params and metrics; `{}` when empty.
    #[serde(default)]
    pub data: LoggedModelData,
}

/// Params and metrics of a logged model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoggedModelData {
    /// Params; omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    /// Every metric point recorded on the model; omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<LoggedModelMetric>,
}

/// A metric point recorded on a logged model (logged with a `model_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedModelMetric {
    /// Metric key.
    pub key: String,
    /// Value; NaN and infinities travel as MLflow's strings.
    #[serde(with = "wire_f64")]
    pub value: f64,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// Training step.
    #[serde(default)]
    pub step: i64,
    /// The dataset it was computed on; omitted when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_name: Option<String>,
    /// That dataset's digest; omitted when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_digest: Option<String>,
    /// The logged model.
    pub model_id: String,
    /// The run it was logged through; omitted when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// Where a logged model's upload stands (`LoggedModelStatus` in MLflow's proto).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoggedModelStatus {
    /// Created, artifacts not yet uploaded (1).
    Pending,
    /// Artifacts uploaded (2).
    Ready,
    /// The upload failed (3).
    UploadFailed,
}

impl LoggedModelStatus {
    /// Reads a status by proto name (`LOGGED_MODEL_READY`), short name (`READY`) or
    /// number (`2`); `None` for anything else, the unspecified status included.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "LOGGED_MODEL_PENDING" | "PENDING" | "1" => Some(LoggedModelStatus::Pending),
            "LOGGED_MODEL_READY" | "READY" | "2" => Some(LoggedModelStatus::Ready),
            "LOGGED_MODEL_UPLOAD_FAILED" | "UPLOAD_FAILED" | "3" => {
                Some(LoggedModelStatus::UploadFailed)
            }
            _ => None,
        }
    }

    /// The proto name, as responses carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            LoggedModelStatus::Pending => "LOGGED_MODEL_PENDING",
            LoggedModelStatus::Ready => "LOGGED_MODEL_READY",
            LoggedModelStatus::UploadFailed => "LOGGED_MODEL_UPLOAD_FAILED",
        }
    }
}

/// Serde for MLflow's doubles: numbers, numeric strings, and `"NaN"`/`"Infinity"`/`"-Infinity"`.
pub mod wire_f64 {
    use serde::{de, Deserializer, Serializer};

    /// Writes finite values as numbers and the rest as MLflow's strings.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_nan() {
            s.serialize_str("NaN")
        } else if *v == f64::INFINITY {
            s.serialize_str("Infinity")
        } else if *v == f64::NEG_INFINITY {
            s.serialize_str("-Infinity")
        } else {
            s.serialize_f64(*v)
        }
    }

    /// Reads a number or one of the accepted strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let v = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
        super::parse_wire_f64(&v).ok_or_else(|| de::Error::custom(format!("not a number: {v}")))
    }
}

/// Reads a double as MLflow accepts it: a JSON number, a numeric string, or
/// `"NaN"`, `"Infinity"`, `"-Infinity"`. Booleans and everything else are `None`.
pub fn parse_wire_f64(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => match s.trim() {
            "NaN" | "nan" => Some(f64::NAN),
            "Infinity" | "inf" | "+Infinity" => Some(f64::INFINITY),
            "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
            t => t.parse::<f64>().ok().filter(|f| f.is_finite()),
        },
        _ => None,
    }
}
