//! Cairn's wire contract: MLflow-compatible objects, error codes, limits and validation, the search grammar. No IO.
//!
//! Everything here that derives `Serialize` is a compatibility promise: the MLflow
//! Python client reads these shapes, so a field is renamed or dropped only with care.

pub mod error;
pub mod filter;
pub mod limits;
pub mod registry;
pub mod types;
pub mod validate;

pub use error::{ApiError, ErrorCode};
pub use types::*;
