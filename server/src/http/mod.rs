//! The HTTP surface: MLflow's REST routes over the storage trait. The only module that knows actix-web.
//!
//! Handlers are thin: read the request, validate, call the store off the async
//! threads, shape the response. Errors become MLflow's envelope in `error.rs`.

mod artifact_admin;
mod artifacts;
mod error;
mod experiments;
mod gates;
pub mod hygiene;
pub mod idempotency;
mod logged_models;
mod metrics;
mod misc;
mod model_versions;
mod multipart;
mod registry;
mod request;
mod runs;
mod typed;

pub use error::HttpError;

use crate::store::{StoreResult, TrackingStore};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, HttpResponse};
use cairn_schema::error::ErrorBody;
use cairn_schema::{ApiError, ErrorCode};
use serde_json::{Map, Value};

/// The store as handlers receive it.
pub type Store = web::Data<dyn TrackingStore>;
/// The idempotency store as the middleware receives it.
pub type Idempotency = web::Data<dyn crate::store::IdempotencyStore>;

/// Runs a store call on the blocking pool and maps its error.
pub(crate) async fn call<S, R, F>(store: &web::Data<S>, work: F) -> Result<R, HttpError>
where
    S: ?Sized + Send + Sync + 'static,
    R: Send + 'static,
    F: FnOnce(&S) -> StoreResult<R> + Send + 'static,
{
    let store = store.clone().into_inner();
    web::block(move || work(&*store))
        .await
        .map_err(|e| {
            HttpError(ApiError {
                code: ErrorCode::InternalError,
                message: e.to_string(),
            })
        })?
        .map_err(Into::into)
}

/// A 200 with a JSON object built from `(field, value)` pairs, skipping empty lists
/// and absent values as proto2 presence does.
pub(crate) fn ok_json(fields: Vec<(&str, Value)>) -> HttpResponse {
    let mut map = Map::new();
    for (k, v) in fields {
        let empty = match &v {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        if !empty {
            map.insert(k.to_owned(), v);
        }
    }
    HttpResponse::Ok().json(Value::Object(map))
}

/// A 200 with one page of results under `field` and, when more rows exist, the
/// `next_page_token` (both omitted when empty, as MLflow does).
pub(crate) fn page_response<T: serde::Serialize>(
    field: &str,
    page: crate::store::Page<T>,
) -> HttpResponse {
    let token = page.next_offset.map(request::encode_page_token);
    HttpResponse::Ok().json(PageBody {
        field,
        items: &page.items,
        token,
    })
}

/// A page serialized straight from its items, with `ok_json`'s shape (empty list and
/// absent token omitted, keys in order). Going through a `Value` tree first cost more
/// than the query itself for a 100,000-point metric history (a map per point).
struct PageBody<'a, T> {
    field: &'a str,
    items: &'a [T],
    token: Option<String>,
}

impl<T: serde::Serialize> serde::Serialize for PageBody<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(None)?;
        let token_first = self.field > "next_page_token";
        if token_first {
            if let Some(t) = &self.token {
                map.serialize_entry("next_page_token", t)?;
            }
        }
        if !self.items.is_empty() {
            map.serialize_entry(self.field, self.items)?;
        }
        if !token_first {
            if let Some(t) = &self.token {
                map.serialize_entry("next_page_token", t)?;
            }
        }
        map.end()
    }
}

/// Registers every tracking route under `/api/2.0/mlflow` and `/ajax-api/2.0/mlflow`,
/// and Cairn's own search routes under `/api/2.0/cairn`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    misc::routes(cfg);
    artifacts::routes(cfg);
    gates::routes(cfg);
    for prefix in ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"] {
        let scope = web::scope(prefix);
        let scope = experiments::routes(scope);
        let scope = runs::routes(scope);
        let scope = metrics::routes(scope);
        let scope = registry::routes(scope);
        let scope = model_versions::routes(scope);
        cfg.service(logged_models::routes(scope));
    }
    // Cairn's additions live beside MLflow's API, never in its place.
    cfg.service(
        web::scope("/api/2.0/cairn")
            .service(web::resource("/runs/search").post(runs::search_runs_extended))
            .service(web::resource("/runs/move").post(runs::move_run))
            .service(
                web::resource("/experiments/search")
                    .get(experiments::search_experiments_extended)
                    .post(experiments::search_experiments_extended),
            ),
    );
}

/// Unknown paths answer a JSON 404 that the MLflow client reads as `ENDPOINT_NOT_FOUND`.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(ErrorBody {
        error_code: ErrorCode::EndpointNotFound.as_str().into(),
        message: "No such endpoint.".into(),
    })
}

/// Rewrites any error response that is not already JSON (actix's own 405s, payload
/// errors, extractor failures) into MLflow's envelope, keeping its status.
pub fn json_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_json = res
            .response()
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json || res.status().is_success() {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let code = match status.as_u16() {
            404 => ErrorCode::EndpointNotFound,
            413 => ErrorCode::RequestLimitExceeded,
            400..=499 => ErrorCode::InvalidParameterValue,
            503 => ErrorCode::TemporarilyUnavailable,
            _ => ErrorCode::InternalError,
        };
        let message = if status == StatusCode::METHOD_NOT_ALLOWED {
            format!(
                "{} is not allowed on {}.",
                res.request().method(),
                res.request().path()
            )
        } else {
            let reason = res
                .response()
                .error()
                .map(|e| e.to_string())
                .unwrap_or_else(|| status.to_string());
            format!("Bad Request. {reason}")
        };
        let body = ErrorBody {
            error_code: code.as_str().into(),
            message,
        };
        let allow = res.response().headers().get(header::ALLOW).cloned();
        let (req, _) = res.into_parts();
        let mut response = HttpResponse::build(status);
        response.insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
        if let Some(allow) = allow {
            response.insert_header((header::ALLOW, allow));
        }
        let response: HttpResponse<BoxBody> = response.json(body);
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, response).map_into_right_body(),
        ))
    })
}
