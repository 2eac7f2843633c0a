//! Registry calls: registered models, versions, stages, aliases, and Cairn's promotion
//! gates and history.

use crate::tracking::Page;
use crate::{Client, Error};
use cairn_schema::registry::{ModelVersion, RegisteredModel};
use cairn_schema::Tag;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A registry search (registered models or model versions).
#[derive(Debug, Clone, Default)]
pub struct SearchRegistry {
    /// Filter, e.g. `name LIKE 'summarizer%'` or `name = 'm' AND tags.team = 'nlp'`.
    pub filter: Option<String>,
    /// Sort keys, e.g. `last_updated_timestamp DESC`.
    pub order_by: Vec<String>,
    /// Page size.
    pub max_results: Option<i64>,
    /// Token of the page to fetch.
    pub page_token: Option<String>,
}

impl SearchRegistry {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(f) = &self.filter {
            q.push(("filter", f.clone()));
        }
        for o in &self.order_by {
            q.push(("order_by", o.clone()));
        }
        if let Some(m) = self.max_results {
            q.push(("max_results", m.to_string()));
        }
        if let Some(t) = &self.page_token {
            q.push(("page_token", t.clone()));
        }
        q
    }
}

/// Where a gate applies: a stage transition or an alias move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateTarget {
    /// Transitions into this stage (`Staging`, `Production`, …).
    Stage(String),
    /// Moves of this alias (`champion`, …).
    Alias(String),
}

impl GateTarget {
    fn add_to(&self, body: &mut Value) {
        match self {
            GateTarget::Stage(s) => body["stage"] = json!(s),
            GateTarget::Alias(a) => body["alias"] = json!(a),
        }
    }
}

/// A promotion gate: a run filter a version's source run must pass (Cairn only).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Gate {
    /// The registered model.
    pub name: String,
    /// The stage it guards, if it guards a stage.
    #[serde(default)]
    pub stage: Option<String>,
    /// The alias it guards, if it guards an alias.
    #[serde(default)]
    pub alias: Option<String>,
    /// The run filter, e.g. `metrics.bleu >= 30 AND metrics.cost_usd < 0.01`.
    pub filter: String,
    /// When it was set, milliseconds since the epoch.
    pub creation_timestamp: i64,
}

/// One recorded stage transition or alias move (Cairn only).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PromotionEvent {
    /// `stage` or `alias`.
    pub kind: String,
    /// The alias moved, for alias events.
    #[serde(default)]
    pub alias: Option<String>,
    /// The version concerned.
    #[serde(default)]
    pub version: Option<String>,
    /// The stage or version before.
    #[serde(default)]
    pub from: Option<String>,
    /// The stage or version after.
    #[serde(default)]
    pub to: Option<String>,
    /// When, milliseconds since the epoch.
    pub timestamp: i64,
    /// Who (`X-Cairn-User`, else the basic-auth user, else `unknown`).
    pub user: String,
    /// The version's source run, if any.
    #[serde(default)]
    pub run_id: Option<String>,
    /// That run's latest metrics at the time.
    #[serde(default)]
    pub metrics: Map<String, Value>,
}

/// A new model version.
#[derive(Debug, Clone, Default)]
pub struct NewVersion {
    /// `runs:/<run>/<path>`, `models:/<id>` or `mlflow-artifacts:/…` on this server.
    pub source: String,
    /// The run it came from.
    pub run_id: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Version tags.
    pub tags: Vec<Tag>,
}

fn version_query<'a>(name: &'a str, version: &'a str) -> [(&'static str, &'a str); 2] {
    [("name", name), ("version", version)]
}

/// Registered models.
impl Client {
    /// Registers a model name.
    pub async fn create_registered_model(
        &self,
        name: &str,
        description: Option<&str>,
        tags: &[Tag],
    ) -> Result<RegisteredModel, Error> {
        let mut body = json!({ "name": name, "tags": tags });
        if let Some(d) = description {
            body["description"] = json!(d);
        }
        let mut v = self.post("registered-models/create", body).await?;
        Self::field(&mut v, "registered_model")
    }

    /// A registered model with its latest version per stage, tags and aliases.
    pub async fn get_registered_model(&self, name: &str) -> Result<RegisteredModel, Error> {
        let mut v = self.get("registered-models/get", &[("name", name)]).await?;
        Self::field(&mut v, "registered_model")
    }

    /// Sets a registered model's description.
    pub async fn update_registered_model(
        &self,
        name: &str,
        description: &str,
    ) -> Result<RegisteredModel, Error> {
        let mut v = self
            .patch(
                "registered-models/update",
                json!({ "name": name, "description": description }),
            )
            .await?;
        Self::field(&mut v, "registered_model")
    }

    /// Renames a registered model; its versions, aliases and gates follow.
    pub async fn rename_registered_model(
        &self,
        name: &str,
        new_name: &str,
    ) -> Result<RegisteredModel, Error> {
        let mut v = self
            .post(
                "registered-models/rename",
                json!({ "name": name, "new_name": new_name }),
            )
            .await?;
        Self::field(&mut v, "registered_model")
    }

    /// Deletes a registered model and its versions.
    pub async fn delete_registered_model(&self, name: &str) -> Result<(), Error> {
        self.delete("registered-models/delete", json!({ "name": name }))
            .await
            .map(drop)
    }

    /// Sets a registered-model tag.
    pub async fn set_registered_model_tag(
        &self,
        name: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        self.post(
            "registered-models/set-tag",
            json!({ "name": name, "key": key, "value": value }),
        )
        .await
        .map(drop)
    }

    /// Removes a registered-model tag.
    pub async fn delete_registered_model_tag(&self, name: &str, key: &str) -> Result<(), Error> {
        self.delete(
            "registered-models/delete-tag",
            json!({ "name": name, "key": key }),
        )
        .await
        .map(drop)
    }

    /// One page of registered models.
    pub async fn search_registered_models(
        &self,
        query: &SearchRegistry,
    ) -> Result<Page<RegisteredModel>, Error> {
        let q = query.query();
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut v = self.get("registered-models/search", &q).await?;
        Ok(Page {
            next_page_token: v["next_page_token"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            items: Self::list(&mut v, "registered_models")?,
        })
    }

    /// The newest version in each of `stages` (every stage when empty).
    pub async fn get_latest_versions(
        &self,
        name: &str,
        stages: &[&str],
    ) -> Result<Vec<ModelVersion>, Error> {
        let mut v = self
            .post(
                "registered-models/get-latest-versions",
                json!({ "name": name, "stages": stages }),
            )
            .await?;
        Self::list(&mut v, "model_versions")
    }

    /// Points `alias` at `version`. Refused (400) when a gate on the alias fails.
    pub async fn set_alias(&self, name: &str, alias: &str, version: &str) -> Result<(), Error> {
        self.post(
            "registered-models/alias",
            json!({ "name": name, "alias": alias, "version": version }),
        )
        .await
        .map(drop)
    }

    /// Removes an alias.
    pub async fn delete_alias(&self, name: &str, alias: &str) -> Result<(), Error> {
        self.delete(
            "registered-models/alias",
            json!({ "name": name, "alias": alias }),
        )
        .await
        .map(drop)
    }

    /// The version an alias points at.
    pub async fn get_version_by_alias(
        &self,
        name: &str,
        alias: &str,
    ) -> Result<ModelVersion, Error> {
        let mut v = self
            .get(
                "registered-models/alias",
                &[("name", name), ("alias", alias)],
            )
            .await?;
        Self::field(&mut v, "model_version")
    }
}

/// Model versions.
impl Client {
    /// Creates the next version of a registered model.
    pub async fn create_model_version(
        &self,
        name: &str,
        new: &NewVersion,
    ) -> Result<ModelVersion, Error> {
        let mut body = json!({ "name": name, "source": new.source, "tags": new.tags });
        if let Some(r) = &new.run_id {
            body["run_id"] = json!(r);
        }
        if let Some(d) = &new.description {
            body["description"] = json!(d);
        }
        let mut v = self.post("model-versions/create", body).await?;
        Self::field(&mut v, "model_version")
    }

    /// One version.
    pub async fn get_model_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<ModelVersion, Error> {
        let mut v = self
            .get("model-versions/get", &version_query(name, version))
            .await?;
        Self::field(&mut v, "model_version")
    }

    /// Sets a version's description.
    pub async fn update_model_version(
        &self,
        name: &str,
        version: &str,
        description: &str,
    ) -> Result<ModelVersion, Error> {
        let mut v = self
            .patch(
                "model-versions/update",
                json!({ "name": name, "version": version, "description": description }),
            )
            .await?;
        Self::field(&mut v, "model_version")
    }

    /// Deletes a version (its number is never reused).
    pub async fn delete_model_version(&self, name: &str, version: &str) -> Result<(), Error> {
        self.delete(
            "model-versions/delete",
            json!({ "name": name, "version": version }),
        )
        .await
        .map(drop)
    }

    /// Moves a version to a stage, optionally archiving the versions already there.
    /// Refused (400) when a gate on the stage fails; the message names the clause.
    pub async fn transition_stage(
        &self,
        name: &str,
        version: &str,
        stage: &str,
        archive_existing_versions: bool,
    ) -> Result<ModelVersion, Error> {
        let mut v = self
            .post(
                "model-versions/transition-stage",
                json!({ "name": name, "version": version, "stage": stage,
                        "archive_existing_versions": archive_existing_versions }),
            )
            .await?;
        Self::field(&mut v, "model_version")
    }

    /// One page of model versions.
    pub async fn search_model_versions(
        &self,
        query: &SearchRegistry,
    ) -> Result<Page<ModelVersion>, Error> {
        let q = query.query();
        let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut v = self.get("model-versions/search", &q).await?;
        Ok(Page {
            next_page_token: v["next_page_token"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            items: Self::list(&mut v, "model_versions")?,
        })
    }

    /// Sets a version tag.
    pub async fn set_model_version_tag(
        &self,
        name: &str,
        version: &str,
        key: &str,
        value: &str,
    ) -> Result<(), Error> {
        self.post(
            "model-versions/set-tag",
            json!({ "name": name, "version": version, "key": key, "value": value }),
        )
        .await
        .map(drop)
    }

    /// Removes a version tag.
    pub async fn delete_model_version_tag(
        &self,
        name: &str,
        version: &str,
        key: &str,
    ) -> Result<(), Error> {
        self.delete(
            "model-versions/delete-tag",
            json!({ "name": name, "version": version, "key": key }),
        )
        .await
        .map(drop)
    }

    /// Where a version's files can be downloaded from.
    pub async fn get_model_version_download_uri(
        &self,
        name: &str,
        version: &str,
    ) -> Result<String, Error> {
        let mut v = self
            .get(
                "model-versions/get-download-uri",
                &version_query(name, version),
            )
            .await?;
        Self::field(&mut v, "artifact_uri")
    }
}

/// Cairn's gates and promotion history.
impl Client {
    fn cairn_registry(api: &str) -> String {
        format!("api/2.0/cairn/registered-models/{api}")
    }

    /// Sets (or replaces) the gate on a stage or alias of a model: `filter` is a run
    /// filter the source run of a version must pass to be promoted there.
    pub async fn set_gate(
        &self,
        name: &str,
        target: &GateTarget,
        filter: &str,
    ) -> Result<Gate, Error> {
        let mut body = json!({ "name": name, "filter": filter });
        target.add_to(&mut body);
        let mut v: Value = self
            .call(
                Method::POST,
                &Self::cairn_registry("gates/set"),
                &[],
                Some(&body),
            )
            .await?;
        Self::field(&mut v, "gate")
    }

    /// The gates of a model.
    pub async fn list_gates(&self, name: &str) -> Result<Vec<Gate>, Error> {
        let mut v: Value = self
            .call(
                Method::GET,
                &Self::cairn_registry("gates/list"),
                &[("name", name)],
                None,
            )
            .await?;
        Self::list(&mut v, "gates")
    }

    /// Removes the gate on a stage or alias.
    pub async fn delete_gate(&self, name: &str, target: &GateTarget) -> Result<(), Error> {
        let mut body = json!({ "name": name });
        target.add_to(&mut body);
        self.call::<Value>(
            Method::DELETE,
            &Self::cairn_registry("gates/delete"),
            &[],
            Some(&body),
        )
        .await
        .map(drop)
    }

    /// Every stage transition and alias move of a model, oldest first.
    pub async fn promotion_history(&self, name: &str) -> Result<Vec<PromotionEvent>, Error> {
        let mut v: Value = self
            .call(
                Method::GET,
                &Self::cairn_registry("history"),
                &[("name", name)],
                None,
            )
            .await?;
        Self::list(&mut v, "events")
    }
}
