//! Errors a caller can match on: transport, API (status + MLflow code), decode, config, IO, integrity.

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
    /// A local file (an artifact being uploaded or downloaded, a spool) failed.
    #[error("local file error: {0}")]
    Io(#[from] std::io::Error),
    /// Bytes received or stored do not hash to what they should.
    #[error("SHA-256 mismatch: expected {expected}, got {actual}")]
    Checksum {
        /// The digest the server or caller announced.
        expected: String,
        /// The digest of the bytes actually seen.
        actual: String,
    },
}

impl Error {
    /// The MLflow error code, when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// Whether the server said the object does not exist (HTTP 404 or
    /// `RESOURCE_DOES_NOT_EXIST`).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404) || self.code() == Some("RESOURCE_DOES_NOT_EXIST")
    }

    /// Whether the failure is the server's or the network's (connection, timeout, 429,
    /// 5xx) rather than the request's: the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport(e) => !e.is_builder() && !e.is_decode(),
            Error::Api { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}
