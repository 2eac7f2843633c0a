//! Rust client for Cairn and any MLflow-compatible tracking server.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cairn_client::Error> {
//! let client = cairn_client::Client::from_env()?;
//! let experiment = client.create_experiment("prompt-strategies").await?;
//! let run = client.create_run(&experiment, Some("few-shot")).await?;
//! client.log_metric(&run.info.run_id, "bleu", 31.2, 0).await?;
//! # Ok(()) }
//! ```

mod client;
mod error;
pub mod eval;

pub use client::{Client, Collected, RetryPolicy, SearchRuns};
pub use error::Error;
