//! The async client: one method per tracking call, typed with the wire types of `cairn-schema`.

use crate::Error;
use cairn_schema::{Experiment, Metric, Param, Run, RunInfo, RunStatus, Tag};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::time::Duration;

/// A tracking-server client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    retry: RetryPolicy,
}

/// When a failed call is tried again: only on connection errors, timeouts, HTTP 429 and
/// 5xx — never on another 4xx, which the same request would get again. Waits grow
/// exponentially from `base_delay` (capped at `max_delay`) with jitter, and the retries
/// stop after `max_retries` or when the next wait would pass `deadline` since the first try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first wait.
    pub base_delay: Duration,
    /// The longest single wait.
    pub max_delay: Duration,
    /// No retry starts later than this after the first attempt.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            deadline: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn never() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retry number `retry` (from 0): exponential, capped, jittered to
    /// between half and all of it so that many clients do not retry in lockstep.
    pub fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(20)));
        let capped = exp.min(self.max_delay);
        capped.mul_f64(rand::random::<f64>().mul_add(0.5, 0.5))
    }
}

/// Whether an answer is worth trying again.
fn retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// A runs/search request.
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
}

impl Client {
    /// A client for the server at `base_url`, e.g. `http://127.0.0.1:5000`.
    pub fn new(base_url: &str) -> Client {
        Client {
            base: base_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            retry: RetryPolicy::default(),
        }
    }

    /// The same client with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Client {
        self.retry = retry;
        self
    }

    /// Sends a request built by `build`, again under the retry policy on connection
    /// errors, timeouts, 429 and 5xx. The last answer (or error) is returned.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Error> {
        let start = std::time::Instant::now();
        let mut retry = 0;
        loop {
            let outcome = build().send().await;
            let again = match &outcome {
                Ok(resp) => retryable_status(resp.status().as_u16()),
                Err(e) => e.is_connect() || e.is_timeout() || e.is_request(),
            };
            if !again || retry >= self.retry.max_retries {
                return Ok(outcome?);
            }
            let wait = self.retry.delay(retry);
            if start.elapsed() + wait > self.retry.deadline {
                return Ok(outcome?);
            }
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// A client for `CAIRN_TRACKING_URI` or, failing that, `MLFLOW_TRACKING_URI`.
    pub fn from_env() -> Result<Client, Error> {
        let uri = std::env::var("CAIRN_TRACKING_URI")
            .or_else(|_| std::env::var("MLFLOW_TRACKING_URI"))
            .map_err(|_| Error::Config("set CAIRN_TRACKING_URI or MLFLOW_TRACKING_URI".into()))?;
        if !(uri.starts_with("http://") || uri.starts_with("https://")) {
            return Err(Error::Config(format!(
                "tracking URI {uri:?} is not an http(s) URL"
            )));
        }
        Ok(Client::new(&uri))
    }

    async fn decode<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, Error> {
        let status = resp.status().as_u16();
        let body = resp.bytes().await?;
        if !(200..300).contains(&status) {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            return Err(Error::Api {
                status,
                code: v["error_code"].as_str().unwrap_or("").to_owned(),
                message: v["message"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| String::from_utf8_lossy(&body).into()),
            });
        }
        serde_json::from_slice(&body).map_err(|e| Error::Decode(e.to_string()))
    }

    async fn post<T: DeserializeOwned>(&self, api: &str, body: Value) -> Result<T, Error> {
        let url = format!("{}/api/2.0/mlflow/{api}", self.base);
        let resp = self.send(|| self.http.post(&url).json(&body)).await?;
        Self::decode(resp).await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        api: &str,
        query: &[(&str, &str)],
    ) -> Result<T, Error> {
        let url = format!("{}/api/2.0/mlflow/{api}", self.base);
        let resp = self.send(|| self.http.get(&url).query(query)).await?;
        Self::decode(resp).await
    }

    fn field<T: DeserializeOwned>(mut v: Value, name: &str) -> Result<T, Error> {
        serde_json::from_value(v[name].take()).map_err(|e| Error::Decode(format!("{name}: {e}")))
    }

    /// Creates an experiment; returns its id.
    pub async fn create_experiment(&self, name: &str) -> Result<String, Error> {
        let v: Value = self
            .post("experiments/create", json!({ "name": name }))
            .await?;
        Self::field(v, "experiment_id")
    }

    /// An experiment by name.
    pub async fn get_experiment_by_name(&self, name: &str) -> Result<Experiment, Error> {
        let v: Value = self
            .get("experiments/get-by-name", &[("experiment_name", name)])
            .await?;
        Self::field(v, "experiment")
    }

    /// Starts a run in an experiment.
    pub async fn create_run(&self, experiment_id: &str, name: Option<&str>) -> Result<Run, Error> {
        let mut body = json!({ "experiment_id": experiment_id, "start_time": now_ms() });
        if let Some(n) = name {
            body["run_name"] = json!(n);
        }
        let v: Value = self.post("runs/create", body).await?;
        Self::field(v, "run")
    }

    /// A run by id.
    pub async fn get_run(&self, run_id: &str) -> Result<Run, Error> {
        let v: Value = self.get("runs/get", &[("run_id", run_id)]).await?;
        Self::field(v, "run")
    }

    /// Logs one metric point now.
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

    /// Logs metrics, params and tags in one request: all land or none do.
    pub async fn log_batch(
        &self,
        run_id: &str,
        metrics: &[Metric],
        params: &[Param],
        tags: &[Tag],
    ) -> Result<(), Error> {
        let _: Value = self
            .post(
                "runs/log-batch",
                json!({ "run_id": run_id, "metrics": metrics, "params": params, "tags": tags }),
            )
            .await?;
        Ok(())
    }

    /// Ends a run with a status.
    pub async fn finish_run(&self, run_id: &str, status: RunStatus) -> Result<RunInfo, Error> {
        let v: Value = self
            .post(
                "runs/update",
                json!({ "run_id": run_id, "status": status.as_str(), "end_time": now_ms() }),
            )
            .await?;
        Self::field(v, "run_info")
    }

    /// One page of runs and the token of the next page, if any.
    pub async fn search_runs(
        &self,
        query: &SearchRuns,
    ) -> Result<(Vec<Run>, Option<String>), Error> {
        let mut body =
            json!({ "experiment_ids": query.experiment_ids, "order_by": query.order_by });
        if let Some(f) = &query.filter {
            body["filter"] = json!(f);
        }
        if let Some(m) = query.max_results {
            body["max_results"] = json!(m);
        }
        if let Some(t) = &query.page_token {
            body["page_token"] = json!(t);
        }
        let mut v: Value = self.post("runs/search", body).await?;
        let token = v["next_page_token"].as_str().map(str::to_owned);
        let runs = if v["runs"].is_null() {
            Vec::new()
        } else {
            Self::field(v.take(), "runs")?
        };
        Ok((runs, token))
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
        let resp = self
            .http
            .post(format!("{}/api/2.0/cairn/gc", self.base))
            .json(&json!({ "older_than_ms": older_than_ms }))
            .send()
            .await?;
        Self::decode(resp).await
    }
}

/// Percent-encodes each segment of an artifact path, keeping the `/` separators.
fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl Client {
    /// The proxied artifact URL of `path` inside a run's artifacts.
    fn artifact_url(&self, run: &Run, path: &str) -> Result<String, Error> {
        let root = run
            .info
            .artifact_uri
            .strip_prefix("mlflow-artifacts:/")
            .ok_or_else(|| {
                Error::Config(format!(
                    "run {} keeps its artifacts outside this server",
                    run.info.run_id
                ))
            })?;
        Ok(format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{}/{}",
            self.base,
            encode_path(root.trim_matches('/')),
            encode_path(path)
        ))
    }

    /// Uploads bytes as the artifact `path` of a run.
    pub async fn upload_artifact(
        &self,
        run: &Run,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<(), Error> {
        let resp = self
            .http
            .put(self.artifact_url(run, path)?)
            .body(bytes)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Self::decode::<Value>(resp).await.map(|_| ());
        }
        Ok(())
    }

    /// Downloads the artifact `path` of a run.
    pub async fn download_artifact(&self, run: &Run, path: &str) -> Result<Vec<u8>, Error> {
        let resp = self.http.get(self.artifact_url(run, path)?).send().await?;
        if !resp.status().is_success() {
            return Self::decode::<Value>(resp).await.map(|_| Vec::new());
        }
        Ok(resp.bytes().await?.to_vec())
    }

    /// Sets a run tag.
    pub async fn set_tag(&self, run_id: &str, key: &str, value: &str) -> Result<(), Error> {
        let _: Value = self
            .post(
                "runs/set-tag",
                json!({ "run_id": run_id, "key": key, "value": value }),
            )
            .await?;
        Ok(())
    }

    /// An experiment by id.
    pub async fn get_experiment(&self, id: &str) -> Result<Experiment, Error> {
        let v: Value = self
            .get("experiments/get", &[("experiment_id", id)])
            .await?;
        Self::field(v, "experiment")
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
