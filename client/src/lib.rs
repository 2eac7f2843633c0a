//! Rust client for Cairn and any MLflow-compatible tracking server.
//!
//! - [`Client`]: async, every call of the server's API (tracking, artifacts, registry,
//!   Cairn's gates and history), with retries that never repeat a 4xx;
//!   [`blocking::Client`] is the same for code without a runtime.
//! - [`ActiveRun`]: a run logger whose `log_*` calls return at once, batching in the
//!   background and spooling to disk while the server is away.
//! - [`eval`]: BLEU, chrF, ROUGE, cost and comparisons, matching the reference packages.
//!
//! Logging a run takes five lines:
//!
//! ```no_run
//! # fn main() -> Result<(), cairn_client::Error> {
//! let client = cairn_client::blocking::Client::from_env()?; // MLFLOW_TRACKING_URI
//! let experiment = client.get_or_create_experiment("prompt-strategies")?;
//! let run = client.start_run(&experiment, Some("few-shot"))?;
//! run.log_param("prompt_strategy", "few-shot");
//! run.log_metric("bleu", 31.2, 0);
//! run.finish();
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod artifacts;
pub mod blocking;
mod client;
mod config;
mod error;
pub mod eval;
pub mod logger;
mod registry;
mod search;
mod tracking;

pub use artifacts::{ArtifactVersion, FileInfo, Progress, Transferred};
pub use client::{Client, RetryPolicy};
pub use config::{Auth, Config, DEFAULT_TRACKING_URI};
pub use error::Error;
pub use logger::{ActiveRun, Delivery, LoggerOptions};
pub use registry::{Gate, GateTarget, NewVersion, PromotionEvent, SearchRegistry};
pub use search::{Field, Filter, OrderBy};
pub use tracking::{Collected, Page, SearchExperiments, SearchRuns};

/// The wire types the client's calls take and return.
pub use cairn_schema as schema;
