//! HTTP hygiene around every route: the `Host` check against DNS rebinding, an idle
//! timeout on request bodies, a cap on concurrent artifact uploads, and `nosniff` on
//! every answer.

use super::HttpError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};
use cairn_schema::{ApiError, ErrorCode};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The limits a server applies to connections and requests.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Hosts a request's `Host` header may name (any port); `None` takes any.
    pub allowed_hosts: Option<Vec<String>>,
    /// The longest wait for the next piece of a request body.
    pub body_idle: Duration,
    /// Artifact uploads received at once; more are refused with 503.
    pub max_uploads: usize,
}

/// Shared state of the hygiene middleware.
pub struct Hygiene {
    limits: Limits,
    uploads: Arc<Semaphore>,
}

impl Hygiene {
    pub fn new(limits: Limits) -> Hygiene {
        let uploads = Arc::new(Semaphore::new(limits.max_uploads.max(1)));
        Hygiene { limits, uploads }
    }
}

/// The hosts a server bound to `host` accepts by default: loopback names when it listens
/// on loopback (a page whose name resolves to 127.0.0.1 cannot reach it, so DNS
/// rebinding fails), anything otherwise (name them with `--allowed-hosts`).
pub fn default_allowed_hosts(host: &str) -> Option<Vec<String>> {
    let loopback =
        matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]") || host.starts_with("127.");
    loopback.then(|| {
        ["localhost", "127.0.0.1", "::1", host]
            .map(str::to_owned)
            .to_vec()
    })
}

/// `host[:port]` or `[v6]:port` without the port, lowercased.
fn host_name(value: &str) -> String {
    let v = value.trim().to_ascii_lowercase();
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("").to_owned();
    }
    match v.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h.to_owned(),
        _ => v,
    }
}

fn refuse(req: ServiceRequest, error: ApiError) -> ServiceResponse<BoxBody> {
    let mut response = HttpError(error).error_response();
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    req.into_response(response)
}

/// The largest JSON body an endpoint takes: datasets (schemas and profiles) and
/// logged-model bodies may be large; everything else fits in 4 MiB (a full log-batch of
/// 100 params, 100 tags and 1000 metrics is under 2 MiB).
pub fn body_limit(path: &str) -> usize {
    const LARGE: usize = 32 * 1024 * 1024;
    const SMALL: usize = 4 * 1024 * 1024;
    if path.ends_with("/runs/log-inputs") || path.contains("/logged-models") {
        LARGE
    } else {
        SMALL
    }
}

/// Whether the request uploads artifact bytes.
fn is_upload(req: &ServiceRequest) -> bool {
    *req.method() == Method::PUT && req.path().contains("/mlflow-artifacts/")
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(hygiene) = req.app_data::<web::Data<Hygiene>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if let (Some(allowed), Some(host)) = (
        &hygiene.limits.allowed_hosts,
        req.headers().get(header::HOST),
    ) {
        let name = host.to_str().map(host_name).unwrap_or_default();
        let ok = allowed.iter().any(|a| a == "*" || host_name(a) == name);
        if !ok {
            return Ok(refuse(
                req,
                ApiError {
                    code: ErrorCode::PermissionDenied,
                    message: "This host name is not allowed; start the server with --allowed-hosts to accept it.".into(),
                },
            ));
        }
    }
    // Artifact uploads stream to storage and have no limit; every other body has one.
    let limit = (!is_upload(&req)).then(|| body_limit(req.path()));
    if let Some(limit) = limit {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Ok(refuse(
                req,
                ApiError {
                    code: ErrorCode::RequestLimitExceeded,
                    message: format!(
                        "The request body is larger than this endpoint takes ({limit} bytes)."
                    ),
                },
            ));
        }
    }
    let _upload = if is_upload(&req) {
        match hygiene.uploads.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                return Ok(refuse(
                    req,
                    ApiError {
                        code: ErrorCode::TemporarilyUnavailable,
                        message: "Too many uploads at once; retry shortly.".into(),
                    },
                ))
            }
        }
    } else {
        None
    };
    // A body that stalls for `body_idle` ends with an error instead of holding the
    // connection (and, for uploads, a permit) for ever. One that declared no length
    // (chunked) is counted as it comes, and overflows past the endpoint's limit.
    let idle = hygiene.limits.body_idle;
    let body = req.take_payload();
    let timed = futures_util::stream::unfold((body, 0usize), move |(mut body, seen)| async move {
        match tokio::time::timeout(idle, body.next()).await {
            Ok(Some(Ok(chunk))) => {
                let seen = seen.saturating_add(chunk.len());
                if limit.is_some_and(|limit| seen > limit) {
                    Some((Err(PayloadError::Overflow), (body, seen)))
                } else {
                    Some((Ok(chunk), (body, seen)))
                }
            }
            Ok(Some(Err(e))) => Some((Err(e), (body, seen))),
            Ok(None) => None,
            Err(_) => Some((
                Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body stalled",
                ))),
                (body, seen),
            )),
        }
    });
    req.set_payload(Payload::Stream {
        payload: Box::pin(timed),
    });
    let mut res = next.call(req).await?.map_into_boxed_body();
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_their_port_and_brackets() {
        assert_eq!(host_name("127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(host_name("LOCALHOST"), "localhost");
        assert_eq!(host_name("[::1]:5000"), "::1");
        assert_eq!(host_name("evil.example:80"), "evil.example");
    }

    #[test]
    fn only_dataset_and_logged_model_bodies_may_be_large() {
        assert!(
            body_limit("/api/2.0/mlflow/runs/log-inputs")
                > body_limit("/api/2.0/mlflow/runs/log-batch")
        );
        assert_eq!(
            body_limit("/api/2.0/mlflow/runs/log-batch"),
            4 * 1024 * 1024
        );
    }

    #[test]
    fn loopback_servers_accept_only_loopback_names_by_default() {
        let allowed = default_allowed_hosts("127.0.0.1").unwrap();
        assert!(allowed.iter().any(|h| h == "localhost"));
        assert!(!allowed.iter().any(|h| h == "evil.example"));
        assert_eq!(default_allowed_hosts("0.0.0.0"), None);
    }
}
