//! Tracking calls: experiments, runs, params, metrics, tags, batches, datasets, search
//! and metric history.

use crate::client::now_ms;
use crate::{Client, Error};
use cairn_schema::{
    DatasetInput, Experiment, Metric, Param, Run, RunInfo, RunStatus, Tag, ViewType,
};
use serde_json::{json, Value};

/// One page of a search and the token of the next page, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The objects on this page.
    pub items: Vec<T>,
    /// Pass it back to fetch the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

/// A runs/search request. `filter` and `order_by` take the server's language as text;
/// build them with [`Filter`](crate::Filter) and [`OrderBy`](crate::OrderBy) or write them.
#[derive(Debug, Clone, Default)]
pub struct SearchRuns {
    /// Experiments to search.
    pub experiment_ids: Vec<String>,
    /// Filter in MLflow's grammar, e.g. `metrics.bleu > 30 AND params.model = 'x'`.
    pub filter: Option<String>,
    /// Sort keys, e.g. `metrics.bleu DESC`.
    pub order_by: Vec<String>,
    /// Page size (server default 1000).
    pub max_results: Option<i64>,
    /// Token of the page to fetch.
    pub page_token: Option<String>,
    /// Active runs only (the default), deleted only, or both.
    pub view_type: Option<ViewType>,
    /// Search through Cairn's extended endpoint, whose filters also take `OR`,
    /// parentheses and `IS NULL` (Cairn servers only; MLflow's grammar otherwise).
    pub extended: bool,
}

/// An experiments/search request.
#[derive(Debug, Clone, Default)]
pub struct SearchExperiments {
    /// Filter, e.g. `name LIKE 'sweep-%' AND tags.team = 'nlp'`.
    pub filter: Option<String>,
    /// Sort keys, e.g. `creation_time DESC`.
    pub order_by: Vec<String>,
    /// Page size; 1000 when unset, as MLflow's client sends (the server refuses a
    /// search without one).
    pub max_results: Option<i64>,
    /// Token of the page to fetch.
    pub page_token: Option<String>,
    /// Active experiments only (the default), deleted only, or both.
    pub view_type: Option<ViewType>,
    /// Search through Cairn's extended endpoint, whose filters also take `OR`,
    /// parentheses and `IS NULL` (Cairn servers only; MLflow's grammar otherwise).
    pub extended: bool,
}

/// The page size MLflow's client asks for when its caller names none.
const DEFAULT_EXPERIMENT_PAGE: i64 = 1000;

fn view_type_name(v: ViewType) -> &'static str {
    match v {
        ViewType::ActiveOnly => "ACTIVE_ONLY",
        ViewType::DeletedOnly => "DELETED_ONLY",
        ViewType::All => "ALL",
    }
}

/// Adds the paging and sorting fields every search request shares.
fn search_body(
    mut body: Value,
    filter: &Option<String>,
    order_by: &[String],
    max_results: Option<i64>,
    page_token: &Option<String>,
    view_type: Option<ViewType>,
) -> Value {
    if let Some(f) = filter {
        body["filter"] = json!(f);
    }
    if !order_by.is_empty() {
        body["order_by"] = json!(order_by);
    }
    if let Some(m) = max_results {
        body["max_results"] = json!(m);
    }
    if let Some(t) = page_token {
        body["page_token"] = json!(t);
    }
    if let Some(v) = view_type {
        body["run_view_type"] = json!(view_type_name(v));
        body["view_type"] = json!(view_type_name(v));
    }
    body
}

fn token(v: &Value) -> Option<String> {
    v["next_page_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Experiments.
impl Client {
    /// Creates an experiment; returns its id.
    pub async fn create_experiment(&self, name: &str) -> Result<String, Error> {
        self.create_experiment_with_tags(name, &[]).await
    }

    /// Creates an experiment with tags; returns its id.
    pub async fn create_experiment_with_tags(
        &self,
        name: &str,
        tags: &[Tag],
    ) -> Result<String, Error> {
        let mut v = self
            .post("experiments/create", json!({ "name": name, "tags": tags }))
            .await?;
        Self::field(&mut v, "experiment_id")
    }

    /// An experiment by id.
    pub async fn get_experiment(&self, id: &str) -> Result<Experiment, Error> {
        let mut v = self
            .get("experiments/get", &[("experiment_id", id)])
            .await?;
        Self::field(&mut v, "experiment")
    }

    /// An experiment by name.
    pub async fn get_experiment_by_name(&self, name: &str) -> Result<Experiment, Error> {
        let mut v = self
            .get("experiments/get-by-name", &[("experiment_name", name)])
            .await?;
        Self::field(&mut v, "experiment")
    }

    /// The id of the active experiment named `name`, created if there is none, as
    /// `mlflow.set_experiment` does.
    pub async fn get_or_create_experiment(&self, name: &str) -> Result<String, Error> {
        match self.get_experiment_by_name(name).await {
            Ok(e) => Ok(e.experiment_id),
            Err(e) if e.is_not_found() => match self.create_experiment(name).await {
                Ok(id) => Ok(id),
                // Another process created it between the two calls.
                Err(e) if e.code() == Some("RESOURCE_ALREADY_EXISTS") => {
                    Ok(self.get_experiment_by_name(name).await?.experiment_id)
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// One page of experiments.
    pub async fn search_experiments(
        &self,
        query: &SearchExperiments,
    ) -> Result<Page<Experiment>, Error> {
        let body = search_body(
            json!({}),
            &query.filter,
            &query.order_by,
            Some(query.max_results.unwrap_or(DEFAULT_EXPERIMENT_PAGE)),
            &query.page_token,
            query.view_type,
        );
        let mut v: Value = if query.extended {
            self.call(
                reqwest::Method::POST,
                "api/2.0/cairn/experiments/search",
                &[],
                Some(&body),
            )
            .await?
        } else {
            self.post("experiments/search", body).await?
        };
        Ok(Page {
            next_page_token: token(&v),
            items: Self::list(&mut v, "experiments")?,
        })
    }

    /// Renames an experiment.
    pub async fn rename_experiment(&self, id: &str, new_name: &str) -> Result<(), Error> {
        self.post(
            "experiments/update",
            json!({ "experiment_id": id, "new_name": new_name }),
        )
        .await
        .map(drop)
    }

    /// Marks an experiment and its runs deleted (restorable until garbage collection).
    pub async fn delete_experiment(&self, id: &str) -> Result<(), Error> {
        self.post("experiments/delete", json!({ "experiment_id": id }))
            .await
            .map(drop)
    }

    /// Restores a deleted experiment.
    pub async fn restore_experiment(&self, id: &str) -> Result<(), Error> {
        self.post("experiments/restore", json!({ "experiment_id": id }))
            .await
            .map(drop)
    }

    /// Sets an experiment tag.
    pub async fn set_experiment_tag(&self, id: &str, key: &str, value: &str) -> Result<(), Error> {
        self.post(
            "experiments/set-experiment-tag",
            json!({ "experiment_id": id, "key": key, "value": value }),
        )
        .await
        .map(drop)
    }

    /// Removes an experiment tag.
    pub async fn delete_experiment_tag(&self, id: &str, key: &str) -> Result<(), Error> {
        self.post(
            "experiments/delete-experiment-tag",
            json!({ "experiment_id": id, "key": key }),
        )
        .await
        .map(drop)
    }
}

/// Runs.
impl Client {
    /// Starts a run in an experiment.
    pub async fn create_run(&self, experiment_id: &str, name: Option<&str>) -> Result<Run, Error> {
        self.create_run_with_tags(experiment_id, name, &[]).await
    }

    /// Starts a run in an experiment with tags.
    pub async fn create_run_with_tags(
        &self,
        experiment_id: &str,
        name: Option<&str>,
        tags: &[Tag],
    ) -> Result<Run, Error> {
        let mut body =
            json!({ "experiment_id": experiment_id, "start_time": now_ms(), "tags": tags });
        // As MLflow's client does: the `mlflow.user` tag also names the run's user.
        if let Some(user) = tags.iter().find(|t| t.key == "mlflow.user") {
            body["user_id"] = json!(user.value);
        }
        if let Some(n) = name {
            body["run_name"] = json!(n);
        }
        let mut v = self.post("runs/create", body).await?;
        Self::field(&mut v, "run")
    }

    /// A run by id, with its params, latest metrics, tags and inputs.
    pub async fn get_run(&self, run_id: &str) -> Result<Run, Error> {
        let mut v = self.get("runs/get", &[("run_id", run_id)]).await?;
        Self::field(&mut v, "run")
    }

    /// Ends a run with a status (`FINISHED`, `FAILED`, `KILLED`) at the current time.
    pub async fn finish_run(&self, run_id: &str, status: RunStatus) -> Result<RunInfo, Error> {
        self.update_run(run_id, Some(status), Some(now_ms()), None)
            .await
    }

    /// Updates a run's status, end time and name; `None` leaves a field as it is.
    pub async fn update_run(
        &self,
        run_id: &str,
        status: Option<RunStatus>,
        end_time: Option<i64>,
        name: Option<&str>,
    ) -> Result<RunInfo, Error> {
        let mut body = json!({ "run_id": run_id });
        if let Some(s) = status {
            body["status"] = json!(s.as_str());
        }
        if let Some(t) = end_time {
            body["end_time"] = json!(t);
        }
        if let Some(n) = name {
            body["run_name"] = json!(n);
        }
        let mut v = self.post("runs/update", body).await?;
        Self::field(&mut v, "run_info")
    }

    /// Marks a run deleted (restorable until garbage collection).
    pub async fn delete_run(&self, run_id: &str) -> Result<(), Error> {
        self.post("runs/delete", json!({ "run_id": run_id }))
            .await
            .map(drop)
    }

    /// Moves a run into another experiment; its artifacts stay where they were logged
    /// (Cairn only).
    pub async fn move_run(&self, run_id: &str, experiment_id: &str) -> Result<(), Error> {
        let body = json!({ "run_id": run_id, "experiment_id": experiment_id });
        self.call::<Value>(
            reqwest::Method::POST,
            "api/2.0/cairn/runs/move",
            &[],
            Some(&body),
        )
        .await
        .map(drop)
    }

    /// Restores a deleted run.
    pub async fn restore_run(&self, run_id: &str) -> Result<(), Error> {
        self.post("runs/restore", json!({ "run_id": run_id }))
            .await
            .map(drop)
    }

    /// Logs one metric point, timestamped now.
    pub async fn log_metric(
        &self,
        run_id: &str,
        key: &str,
        value: f64,
        step: i64,
    ) -> Result<(), Error> {
        let metric = Metric {
            key: key.into(),
            value,
            timestamp: now_ms(),
            step,
            run_id: None,
        };
        self.log_batch(run_id, &[metric], &[], &[]).await
    }

    /// Logs a param. Params are immutable: logging another value for a key is refused.
    pub async fn log_param(&self, run_id: &str, key: &str, value: &str) -> Result<(), Error> {
        self.post(
            "runs/log-parameter",
            json!({ "run_id": run_id, "key": key, "value": value }),
        )
        .await
        .map(drop)
    }

    /// Sets a run tag (the last value wins).
    pub async fn set_tag(&self, run_id: &str, key: &str, value: &str) -> Result<(), Error> {
        self.post(
            "runs/set-tag",
            json!({ "run_id": run_id, "key": key, "value": value }),
        )
        .await
        .map(drop)
    }

    /// Removes a run tag.
    pub async fn delete_tag(&self, run_id: &str, key: &str) -> Result<(), Error> {
        self.post("runs/delete-tag", json!({ "run_id": run_id, "key": key }))
            .await
            .map(drop)
    }

    /// Logs metrics, params and tags in one request: all land or none do. The server
    /// takes at most 1000 metrics, 100 params and 100 tags (1000 in all) a request;
    /// [`ActiveRun`](crate::ActiveRun) splits for you.
    pub async fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[Param],
        tags: &[Tag],
    ) -> Result<(), Error> {
        self.post(
            "runs/log-batch",
            json!({ "run_id": run_id, "metrics": metrics, "params": params, "tags": tags }),
        )
        .await
        .map(drop)
    }

    /// Records datasets a run used (`mlflow.log_input`).
    pub async fn log_inputs(&self, run_id: &str, datasets: &[DatasetInput]) -> Result<(), Error> {
        self.post(
            "runs/log-inputs",
            json!({ "run_id": run_id, "datasets": datasets }),
        )
        .await
        .map(drop)
    }

    /// One page of runs.
    pub async fn search_runs(&self, query: &SearchRuns) -> Result<Page<Run>, Error> {
        let body = search_body(
            json!({ "experiment_ids": query.experiment_ids }),
            &query.filter,
            &query.order_by,
            query.max_results,
            &query.page_token,
            None,
        );
        let mut body = body;
        if let Some(v) = query.view_type {
            body["run_view_type"] = json!(view_type_name(v));
        }
        let mut v: Value = if query.extended {
            self.call(
                reqwest::Method::POST,
                "api/2.0/cairn/runs/search",
                &[],
                Some(&body),
            )
            .await?
        } else {
            self.post("runs/search", body).await?
        };
        Ok(Page {
            next_page_token: token(&v),
            items: Self::list(&mut v, "runs")?,
        })
    }

    /// Every run matching `query`, fetching page after page (starting at its
    /// `page_token`, if any) until `limit` runs are read or the pages run out.
    pub async fn search_all_runs(
        &self,
        query: &SearchRuns,
        limit: Option<usize>,
    ) -> Result<Vec<Run>, Error> {
        let mut query = query.clone();
        let mut runs = Vec::new();
        loop {
            let page = self.search_runs(&query).await?;
            runs.extend(page.items);
            if let Some(l) = limit {
                if runs.len() >= l {
                    runs.truncate(l);
                    return Ok(runs);
                }
            }
            match page.next_page_token {
                Some(t) => query.page_token = Some(t),
                None => return Ok(runs),
            }
        }
    }

    /// Every point of one metric of a run, in the order the server keeps them (by
    /// timestamp, then step, then value), reading all pages.
    pub async fn get_metric_history(&self, run_id: &str, key: &str) -> Result<Vec<Metric>, Error> {
        let mut points = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut query = vec![
                ("run_id", run_id),
                ("metric_key", key),
                ("max_results", "25000"),
            ];
            if let Some(t) = &page_token {
                query.push(("page_token", t));
            }
            let mut v = self.get("metrics/get-history", &query).await?;
            points.extend(Self::list::<Metric>(&mut v, "metrics")?);
            match token(&v) {
                Some(t) => page_token = Some(t),
                None => return Ok(points),
            }
        }
    }
}

/// What a garbage collection removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct Collected {
    /// Runs permanently deleted.
    #[serde(default)]
    pub runs: Vec<String>,
    /// Blob digests removed from the artifact store.
    #[serde(default)]
    pub blobs: Vec<String>,
}

impl Client {
    /// Permanently deletes runs deleted more than `older_than_ms` ago and removes every
    /// artifact blob nothing references any more (Cairn only).
    pub async fn collect_garbage(&self, older_than_ms: i64) -> Result<Collected, Error> {
        let body = json!({ "older_than_ms": older_than_ms });
        self.call(reqwest::Method::POST, "api/2.0/cairn/gc", &[], Some(&body))
            .await
    }
}
