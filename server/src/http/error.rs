//! The one place where store and request errors become HTTP responses in MLflow's envelope.

use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use cairn_schema::error::ErrorBody;
use cairn_schema::{ApiError, ErrorCode};

/// An error on its way to the caller.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(pub ApiError);

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        HttpError(e)
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Api(api) => HttpError(api),
            StoreError::Unavailable(message) => {
                tracing::warn!(%message, "store unavailable");
                HttpError(ApiError {
                    code: ErrorCode::TemporarilyUnavailable,
                    message,
                })
            }
            StoreError::Internal(message) => {
                tracing::error!(%message, "internal store error");
                HttpError(ApiError {
                    code: ErrorCode::InternalError,
                    message,
                })
            }
        }
    }
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(ErrorBody::from(&self.0))
    }
}
