//! `Idempotency-Key`: a write retried after its answer was lost is answered again, not
//! applied again. The first successful answer to a key is kept for a day; the same key
//! with another request is refused, and one still being answered is a 409.

use super::{HttpError, Idempotency};
use crate::store::StoredAnswer;
use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};
use cairn_schema::{ApiError, ErrorCode};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Mutex;

/// The header clients send.
pub const HEADER: &str = "idempotency-key";
/// Set on an answer that was kept, not computed now.
pub const REPLAYED: &str = "idempotent-replayed";

/// Keys whose request is being answered right now.
#[derive(Default)]
pub struct InFlight(Mutex<HashSet<String>>);

/// Takes a key out of `InFlight` when the request is done, however it ends.
struct Claim<'a>(&'a InFlight, String);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0
             .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.1);
    }
}

fn refuse(req: ServiceRequest, error: ApiError) -> ServiceResponse<BoxBody> {
    let response = HttpError(error).error_response();
    req.into_response(response)
}

/// Whether a request takes part: a JSON write under the tracking, registry or Cairn
/// APIs. Artifact bodies stream and are content-addressed, so they do not.
fn applies(req: &ServiceRequest) -> bool {
    let write = matches!(*req.method(), Method::POST | Method::PATCH | Method::DELETE);
    let path = req.path();
    write && (path.contains("/2.0/mlflow/") || path.starts_with("/api/2.0/cairn/"))
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = match req.headers().get(HEADER) {
        Some(k) if applies(&req) => k.to_str().ok().map(str::to_owned).unwrap_or_default(),
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(refuse(
            req,
            ApiError::invalid("Idempotency-Key must be 1 to 255 visible ASCII characters."),
        ));
    }
    let (Some(store), Some(in_flight)) = (
        req.app_data::<Idempotency>().cloned(),
        req.app_data::<web::Data<InFlight>>().cloned(),
    ) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let body = req.extract::<web::Bytes>().await?;
    let mut hasher = Sha256::new();
    for part in [req.method().as_str(), req.path(), req.query_string()] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.update(&body);
    let fingerprint: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let claimed = in_flight
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key.clone());
    if !claimed {
        return Ok(refuse(
            req,
            ApiError {
                code: ErrorCode::ResourceConflict,
                message:
                    "A request with this Idempotency-Key is still being answered; retry later."
                        .into(),
            },
        ));
    }
    let _claim = Claim(&in_flight, key.clone());
    let looked_up = key.clone();
    let kept = match super::call(&store, move |s| s.recall(&looked_up)).await {
        Ok(k) => k,
        Err(e) => return Ok(refuse(req, e.0)),
    };
    if let Some(answer) = kept {
        if answer.fingerprint != fingerprint {
            return Ok(refuse(
                req,
                ApiError::invalid("This Idempotency-Key was used for a different request."),
            ));
        }
        let status = actix_web::http::StatusCode::from_u16(answer.status)
            .unwrap_or(actix_web::http::StatusCode::OK);
        let response = HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .insert_header((REPLAYED, "true"))
            .body(answer.body);
        return Ok(req.into_response(response));
    }

    req.set_payload(Payload::from(body));
    let res = next.call(req).await?;
    let status = res.status();
    let (http_req, response) = res.into_parts();
    let (response, body) = response.into_parts();
    let bytes = to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("reading the answer"))?;
    if status.is_success() {
        let answer = StoredAnswer {
            fingerprint,
            status: status.as_u16(),
            body: bytes.to_vec(),
        };
        // The write is done; keeping its answer is best effort (a later retry would apply it again).
        if let Err(e) = super::call(&store, move |s| s.remember(&key, &answer)).await {
            tracing::warn!(error = %e, "could not keep the answer of an idempotent request");
        }
    }
    Ok(ServiceResponse::new(
        http_req,
        response.set_body(BoxBody::new(bytes)),
    ))
}
