//! The async client's core: configuration into HTTP clients, sending under the retry
//! policy, and turning answers into values or matchable errors. The calls themselves
//! live in `tracking.rs`, `artifacts.rs` and `registry.rs`.

use crate::config::{Auth, Config};
use crate::Error;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::{Duration, Instant};

/// A tracking-server client: async, cheap to clone, safe to share between tasks.
///
/// Every call is retried under the client's [`RetryPolicy`] on connection errors,
/// timeouts, 429 and 5xx, and never on another 4xx. Writes carry an `Idempotency-Key`
/// that all attempts share, so a retry after a lost answer is not applied twice.
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) base: String,
    /// For API calls: bounded by the configured request timeout.
    pub(crate) http: reqwest::Client,
    /// For artifact transfers: no whole-request timeout, only a stall (read) timeout.
    pub(crate) bulk: reqwest::Client,
    pub(crate) retry: RetryPolicy,
    /// What the client was built from, to build its twin with fresh connections.
    config: std::sync::Arc<Config>,
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

impl Client {
    /// A client for the server at `base_url`, e.g. `http://127.0.0.1:5000`, with default
    /// timeouts and retries and no credentials.
    pub fn new(base_url: &str) -> Client {
        Client::with_config(Config::new(base_url)).expect("the default configuration builds")
    }

    /// A client configured by `config`.
    pub fn with_config(config: Config) -> Result<Client, Error> {
        let config = std::sync::Arc::new(config);
        let mut headers = HeaderMap::new();
        let credential = match &config.auth {
            Auth::None => None,
            Auth::Bearer(token) => Some(format!("Bearer {token}")),
            Auth::Basic { username, password } => {
                use base64::Engine;
                let pair = format!("{username}:{password}");
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
            }
        };
        if let Some(c) = credential {
            let mut value = HeaderValue::from_str(&c).map_err(|_| {
                Error::Config("credentials contain characters a header cannot carry".into())
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let agent = concat!("cairn-client/", env!("CARGO_PKG_VERSION"));
        let http = reqwest::Client::builder()
            .default_headers(headers.clone())
            .user_agent(agent)
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let bulk = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(agent)
            .read_timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Client {
            base: config.tracking_uri.clone(),
            http,
            bulk,
            retry: config.retry,
            config,
        })
    }

    /// A client configured by the environment; see [`Config::from_env`].
    pub fn from_env() -> Result<Client, Error> {
        Client::with_config(Config::from_env()?)
    }

    /// The same client with connections of its own. A connection belongs to the async
    /// runtime that opened it, so a client moving to another runtime (another thread's
    /// `block_on`, a background logger) takes a fresh pool instead of waiting on
    /// connections whose runtime is not running.
    pub fn fresh(&self) -> Client {
        let mut twin = Client::with_config((*self.config).clone())
            .expect("a configuration that built once builds again");
        twin.retry = self.retry;
        twin
    }

    /// The same client with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Client {
        self.retry = retry;
        self
    }

    /// The server this client talks to.
    pub fn tracking_uri(&self) -> &str {
        &self.base
    }

    /// Sends a request built by `build`, again under the retry policy on connection
    /// errors, timeouts, 429 and 5xx. The last answer (or error) is returned.
    pub(crate) async fn send(
        &self,
        build: impl Fn() -> Result<reqwest::RequestBuilder, Error>,
    ) -> Result<reqwest::Response, Error> {
        let start = Instant::now();
        let mut retry = 0;
        loop {
            let outcome = build()?.send().await;
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

    /// The error an unsuccessful answer stands for, with the envelope's code and message
    /// when the body is one.
    pub(crate) async fn error_of(resp: reqwest::Response) -> Error {
        let status = resp.status().as_u16();
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return Error::Transport(e),
        };
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Error::Api {
            status,
            code: v["error_code"].as_str().unwrap_or("").to_owned(),
            message: v["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| String::from_utf8_lossy(&body).into()),
        }
    }

    /// The answer's JSON body as `T`, or the error it stands for.
    pub(crate) async fn decode<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, Error> {
        if !resp.status().is_success() {
            return Err(Self::error_of(resp).await);
        }
        let body = resp.bytes().await?;
        serde_json::from_slice(&body).map_err(|e| Error::Decode(e.to_string()))
    }

    /// One JSON call: `api` is a path below the server root, e.g.
    /// `api/2.0/mlflow/runs/get`. GET and DELETE-without-body send `query`; the others send `body`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        api: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<T, Error> {
        let url = format!("{}/{api}", self.base);
        // One key for every attempt of this call: a retry after a lost answer is
        // answered again by a Cairn server instead of applied twice.
        let key = (method != Method::GET).then(|| uuid::Uuid::new_v4().simple().to_string());
        let resp = self
            .send(|| {
                let mut req = self.http.request(method.clone(), &url).query(query);
                if let Some(k) = &key {
                    req = req.header("idempotency-key", k);
                }
                if let Some(b) = body {
                    req = req.json(b);
                }
                Ok(req)
            })
            .await?;
        Self::decode(resp).await
    }

    /// POST a JSON body to an MLflow tracking or registry endpoint.
    pub(crate) async fn post(&self, api: &str, body: Value) -> Result<Value, Error> {
        self.call(
            Method::POST,
            &format!("api/2.0/mlflow/{api}"),
            &[],
            Some(&body),
        )
        .await
    }

    /// PATCH a JSON body to an MLflow endpoint.
    pub(crate) async fn patch(&self, api: &str, body: Value) -> Result<Value, Error> {
        self.call(
            Method::PATCH,
            &format!("api/2.0/mlflow/{api}"),
            &[],
            Some(&body),
        )
        .await
    }

    /// DELETE with a JSON body, as MLflow's registry endpoints take it.
    pub(crate) async fn delete(&self, api: &str, body: Value) -> Result<Value, Error> {
        self.call(
            Method::DELETE,
            &format!("api/2.0/mlflow/{api}"),
            &[],
            Some(&body),
        )
        .await
    }

    /// GET an MLflow endpoint with a query string.
    pub(crate) async fn get(&self, api: &str, query: &[(&str, &str)]) -> Result<Value, Error> {
        self.call(Method::GET, &format!("api/2.0/mlflow/{api}"), query, None)
            .await
    }

    /// One field of an answer as `T`; a missing field decodes as JSON null (so an
    /// omitted list can be read as an empty `Vec` through `#[serde(default)]` types).
    pub(crate) fn field<T: DeserializeOwned>(v: &mut Value, name: &str) -> Result<T, Error> {
        serde_json::from_value(v[name].take()).map_err(|e| Error::Decode(format!("{name}: {e}")))
    }

    /// One field holding a list, empty when the server omitted it (proto3 style).
    pub(crate) fn list<T: DeserializeOwned>(v: &mut Value, name: &str) -> Result<Vec<T>, Error> {
        if v[name].is_null() {
            return Ok(Vec::new());
        }
        Self::field(v, name)
    }
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
