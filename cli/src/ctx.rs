//! What every client command shares: the server, the output format, whether to colour,
//! and the errors that choose the exit code.

use crate::args::Format;
use cairn_client::{Client, Config};
use std::io::IsTerminal;

/// The server and how to print.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The tracking server.
    pub uri: String,
    /// Table, JSON or CSV.
    pub format: Format,
    /// ANSI colour: a terminal, a table, and no NO_COLOR.
    pub color: bool,
}

/// A command-line mistake the parser could not see (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Something named on the command line does not exist (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFound(pub String);

/// The server could not be reached or kept failing (exit 4).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ServerAway(pub String);

impl Ctx {
    /// From `--tracking-uri`, else `CAIRN_TRACKING_URI`, else `MLFLOW_TRACKING_URI`, else
    /// the local default.
    pub fn new(tracking_uri: Option<String>, format: Format) -> Ctx {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let uri = tracking_uri
            .or_else(|| env("CAIRN_TRACKING_URI"))
            .or_else(|| env("MLFLOW_TRACKING_URI"))
            .unwrap_or_else(|| cairn_client::DEFAULT_TRACKING_URI.to_owned());
        let color = format == Format::Table
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Ctx { uri, format, color }
    }

    /// A client for the server, with the credentials and timeouts of the environment.
    pub fn client(&self) -> anyhow::Result<Client> {
        let uri = self.uri.clone();
        let config = Config::from_lookup(|k| {
            if k == "CAIRN_TRACKING_URI" {
                Some(uri.clone())
            } else {
                std::env::var(k).ok()
            }
        })
        .map_err(|e| UsageError(e.to_string()))?;
        Ok(Client::with_config(config)?)
    }

    /// The exit code an error stands for.
    pub fn exit_code(err: &anyhow::Error) -> u8 {
        for cause in err.chain() {
            if cause.downcast_ref::<UsageError>().is_some() {
                return 2;
            }
            if cause.downcast_ref::<NotFound>().is_some() {
                return 3;
            }
            if cause.downcast_ref::<ServerAway>().is_some() {
                return 4;
            }
            if let Some(e) = cause.downcast_ref::<cairn_client::Error>() {
                return if e.is_not_found() {
                    3
                } else if e.is_transient() {
                    4
                } else {
                    1
                };
            }
        }
        1
    }
}
