//! The model registry's objects on the wire: registered models, model versions, aliases, stages.

use crate::Tag;
use serde::{Deserialize, Serialize};

/// A registered model's alias: a name pointing at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    /// Alias name, e.g. `champion`.
    pub alias: String,
    /// The version it points at, as a string.
    pub version: String,
}

/// A version of a registered model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelVersion {
    /// The registered model.
    pub name: String,
    /// Version number as a string, from `"1"`.
    pub version: String,
    /// Milliseconds since the epoch.
    pub creation_timestamp: i64,
    /// Milliseconds since the epoch.
    pub last_updated_timestamp: i64,
    /// `None`, `Staging`, `Production` or `Archived`.
    pub current_stage: String,
    /// Always present; `""` when none was given.
    #[serde(default)]
    pub description: String,
    /// Where the model came from: `runs:/…`, `models:/…`, `mlflow-artifacts:/…`.
    pub source: String,
    /// The producing run; `""` when none.
    #[serde(default)]
    pub run_id: String,
    /// Always `READY`.
    pub status: String,
    /// Version tags; omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Link to the run; `""` when none.
    #[serde(default)]
    pub run_link: String,
    /// Aliases pointing here; omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A registered model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredModel {
    /// Unique name.
    pub name: String,
    /// Milliseconds since the epoch.
    pub creation_timestamp: i64,
    /// Milliseconds since the epoch.
    pub last_updated_timestamp: i64,
    /// Omitted until set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The newest version in each stage; omitted when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latest_versions: Vec<ModelVersion>,
    /// Tags; omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Aliases; omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<Alias>,
}

/// The registry's stages.
pub const STAGES: [&str; 4] = ["None", "Staging", "Production", "Archived"];

/// Canonicalises a stage name case-insensitively (`production` -> `Production`).
pub fn canonical_stage(stage: &str) -> Option<&'static str> {
    STAGES
        .iter()
        .copied()
        .find(|s| s.eq_ignore_ascii_case(stage.trim()))
}

/// The tag that marks prompts, which ride on registered models.
pub const PROMPT_TAG: &str = "mlflow.prompt.is_prompt";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_canonicalised_ignoring_case() {
        assert_eq!(canonical_stage("production"), Some("Production"));
        assert_eq!(canonical_stage("NONE"), Some("None"));
        assert_eq!(canonical_stage("QA"), None);
    }
}
