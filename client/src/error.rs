//! Errors a caller can match on: transport, API (status + MLflow code), decode, config.

/// A failed client call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server could not be reached or the connection broke.
    #[error("transport error: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server answered with an error envelope.
    #[error("{status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// MLflow error code, e.g. `RESOURCE_DOES_NOT_EXIST`.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server's answer did not have the expected shape.
    #[error("could not decode the server's answer: {0}")]
    Decode(String),
    /// The client is misconfigured (e.g. no tracking URI).
    #[error("configuration error: {0}")]
    Config(String),
}

impl Error {
    /// The MLflow error code, when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}
