//! Where the client connects and how: URI, credentials, timeouts and retries, from code or
//! from the environment variables the MLflow ecosystem already uses.

use crate::{Error, RetryPolicy};
use std::time::Duration;

/// How requests authenticate.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// `Authorization: Bearer <token>` (`MLFLOW_TRACKING_TOKEN`).
    Bearer(String),
    /// HTTP basic auth (`MLFLOW_TRACKING_USERNAME` / `MLFLOW_TRACKING_PASSWORD`).
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
}

impl std::fmt::Debug for Auth {
    /// Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}:<redacted>)"),
        }
    }
}

/// Everything a [`Client`](crate::Client) needs to know before its first request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The server, e.g. `http://127.0.0.1:5000`.
    pub tracking_uri: String,
    /// Credentials sent with every request.
    pub auth: Auth,
    /// The whole of one attempt, from connecting to the last byte of the answer.
    /// Artifact transfers are not bound by it, only by `connect_timeout`.
    pub timeout: Duration,
    /// Connecting alone.
    pub connect_timeout: Duration,
    /// When failed calls are retried.
    pub retry: RetryPolicy,
}

/// The tracking URI used when none is configured, as `cairn server` listens by default.
pub const DEFAULT_TRACKING_URI: &str = "http://127.0.0.1:5000";

impl Config {
    /// A configuration for `tracking_uri` with default timeouts (120 s a request, 10 s to
    /// connect, as MLflow's client) and retries.
    pub fn new(tracking_uri: &str) -> Config {
        Config {
            tracking_uri: tracking_uri.trim_end_matches('/').to_owned(),
            auth: Auth::None,
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }

    /// The configuration the environment describes:
    /// - `CAIRN_TRACKING_URI`, else `MLFLOW_TRACKING_URI` (required);
    /// - `MLFLOW_TRACKING_TOKEN` (bearer), else `MLFLOW_TRACKING_USERNAME` and
    ///   `MLFLOW_TRACKING_PASSWORD` (basic);
    /// - `MLFLOW_HTTP_REQUEST_TIMEOUT` (seconds) and `MLFLOW_HTTP_REQUEST_MAX_RETRIES`.
    pub fn from_env() -> Result<Config, Error> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// As [`Config::from_env`], falling back to [`DEFAULT_TRACKING_URI`] when no tracking
    /// URI is set.
    pub fn from_env_or_default() -> Result<Config, Error> {
        Config::from_lookup(|k| {
            std::env::var(k)
                .ok()
                .or_else(|| (k == "MLFLOW_TRACKING_URI").then(|| DEFAULT_TRACKING_URI.to_owned()))
        })
    }

    /// As [`Config::from_env`], reading variables through `var` (for tests and for
    /// callers with their own configuration source).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let set = |k: &str| var(k).filter(|v| !v.is_empty());
        let uri = set("CAIRN_TRACKING_URI")
            .or_else(|| set("MLFLOW_TRACKING_URI"))
            .ok_or_else(|| Error::Config("set CAIRN_TRACKING_URI or MLFLOW_TRACKING_URI".into()))?;
        if !(uri.starts_with("http://") || uri.starts_with("https://")) {
            return Err(Error::Config(format!(
                "tracking URI {uri:?} is not an http(s) URL; Cairn's client talks to a server"
            )));
        }
        let mut config = Config::new(&uri);
        config.auth = match (
            set("MLFLOW_TRACKING_TOKEN"),
            set("MLFLOW_TRACKING_USERNAME"),
            set("MLFLOW_TRACKING_PASSWORD"),
        ) {
            (Some(token), _, _) => Auth::Bearer(token),
            (None, Some(username), Some(password)) => Auth::Basic { username, password },
            (None, Some(_), None) | (None, None, Some(_)) => {
                return Err(Error::Config(
                    "set both MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD".into(),
                ))
            }
            (None, None, None) => Auth::None,
        };
        if let Some(t) = set("MLFLOW_HTTP_REQUEST_TIMEOUT") {
            let secs: f64 = t
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s > 0.0)
                .ok_or_else(|| {
                    Error::Config(format!(
                        "MLFLOW_HTTP_REQUEST_TIMEOUT={t:?} is not a number of seconds"
                    ))
                })?;
            config.timeout = Duration::from_secs_f64(secs);
        }
        if let Some(n) = set("MLFLOW_HTTP_REQUEST_MAX_RETRIES") {
            config.retry.max_retries = n.parse().map_err(|_| {
                Error::Config(format!(
                    "MLFLOW_HTTP_REQUEST_MAX_RETRIES={n:?} is not a count"
                ))
            })?;
        }
        Ok(config)
    }
}
