//! MLflow's error codes, their HTTP statuses, and the error value every layer passes up.

use serde::{Deserialize, Serialize};

/// The `error_code` of MLflow's error envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The request is malformed or a value is out of range (HTTP 400).
    InvalidParameterValue,
    /// The named object already exists (HTTP 400, as MLflow answers).
    ResourceAlreadyExists,
    /// The named object does not exist (HTTP 404).
    ResourceDoesNotExist,
    /// The server cannot take writes right now, e.g. its disk is full (HTTP 503).
    TemporarilyUnavailable,
    /// A fault of the server itself (HTTP 500). Never used for a caller's mistake.
    InternalError,
    /// The operation exists in MLflow but this server does not offer it (HTTP 501).
    NotImplemented,
    /// The request body is larger than the endpoint accepts (HTTP 413).
    RequestLimitExceeded,
    /// No endpoint at this path (HTTP 404).
    EndpointNotFound,
    /// Another request with the same idempotency key is still being answered (HTTP 409).
    ResourceConflict,
    /// The request is not allowed, e.g. its `Host` is not one the server accepts (HTTP 403).
    PermissionDenied,
}

impl ErrorCode {
    /// The HTTP status MLflow pairs with this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidParameterValue | ErrorCode::ResourceAlreadyExists => 400,
            ErrorCode::ResourceDoesNotExist | ErrorCode::EndpointNotFound => 404,
            ErrorCode::RequestLimitExceeded => 413,
            ErrorCode::InternalError => 500,
            ErrorCode::NotImplemented => 501,
            ErrorCode::TemporarilyUnavailable => 503,
            ErrorCode::ResourceConflict => 409,
            ErrorCode::PermissionDenied => 403,
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            ErrorCode::ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
            ErrorCode::ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
            ErrorCode::TemporarilyUnavailable => "TEMPORARILY_UNAVAILABLE",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::NotImplemented => "NOT_IMPLEMENTED",
            ErrorCode::RequestLimitExceeded => "REQUEST_LIMIT_EXCEEDED",
            ErrorCode::EndpointNotFound => "ENDPOINT_NOT_FOUND",
            ErrorCode::ResourceConflict => "RESOURCE_CONFLICT",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
        }
    }
}

/// An error with the code and message MLflow's envelope carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    /// What kind of failure this is.
    pub code: ErrorCode,
    /// A message for people; clients never parse it.
    pub message: String,
}

impl ApiError {
    /// A 400 `INVALID_PARAMETER_VALUE`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InvalidParameterValue,
            message: message.into(),
        }
    }

    /// A 404 `RESOURCE_DOES_NOT_EXIST`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::ResourceDoesNotExist,
            message: message.into(),
        }
    }

    /// A 400 `RESOURCE_ALREADY_EXISTS`.
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::ResourceAlreadyExists,
            message: message.into(),
        }
    }

    /// The 400 MLflow gives for a missing or empty required field.
    pub fn missing(field: &str) -> Self {
        Self::invalid(format!(
            "Missing value for required parameter '{field}'. See the API docs for more information about request parameters."
        ))
    }
}

/// MLflow's error envelope, `{"error_code", "message"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error code, e.g. `RESOURCE_DOES_NOT_EXIST`.
    pub error_code: String,
    /// A human-readable message.
    pub message: String,
}

impl From<&ApiError> for ErrorBody {
    fn from(e: &ApiError) -> Self {
        ErrorBody {
            error_code: e.code.as_str().to_owned(),
            message: e.message.clone(),
        }
    }
}
