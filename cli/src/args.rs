//! What the user typed: clap structures only, resolved into settings elsewhere.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Cairn: an experiment tracker and model registry that speaks MLflow's REST API.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the tracking server (SQLite + local artifacts under ./cairn-data by default).
    Server(ServerArgs),
    /// Permanently delete runs deleted earlier and the artifact blobs nothing references.
    Gc(GcArgs),
    /// Evaluate LLM outputs: BLEU, chrF, ROUGE.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Work with runs.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Send what Rust loggers spooled while the server was away (after their process
    /// ended), then delete the spools that were fully delivered.
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Where the spools are (default: CAIRN_SPOOL_DIR, else ~/.cache/cairn/spool).
    #[arg(long)]
    pub spool_dir: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerUri,
}

/// Where the server is.
#[derive(Debug, Args)]
pub struct ServerUri {
    /// The tracking server.
    #[arg(
        long,
        env = "CAIRN_TRACKING_URI",
        default_value = "http://127.0.0.1:5000"
    )]
    pub tracking_uri: String,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List the runs of an experiment that no other run beats on every named metric.
    Pareto(ParetoArgs),
}

#[derive(Debug, Args)]
pub struct ParetoArgs {
    /// Experiment name or id.
    #[arg(long)]
    pub experiment: String,
    /// Metrics to maximise, e.g. metrics.bleu (repeatable).
    #[arg(long = "max")]
    pub maximize: Vec<String>,
    /// Metrics to minimise, e.g. metrics.cost_usd (repeatable).
    #[arg(long = "min")]
    pub minimize: Vec<String>,
    #[command(flatten)]
    pub server: ServerUri,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Score every case of a JSONL file (the reference-vector layout) and print one JSON
    /// object per case: its id and the fields of its expected object.
    Cases(EvalCasesArgs),
    /// Score predictions against references (text: one per line; or JSONL), print the
    /// scores, and with --run log the aggregates as metrics and the rows as an eval table.
    Score(EvalScoreArgs),
    /// Compare the eval tables of two runs example by example, with a paired bootstrap.
    Diff(EvalDiffArgs),
}

#[derive(Debug, Args)]
pub struct EvalScoreArgs {
    /// Model outputs: text (one per line) or JSONL with `output` and optionally `input`,
    /// `id`, `latency_ms`, `prompt_tokens`, `completion_tokens`, `cost_usd`.
    #[arg(long)]
    pub predictions: PathBuf,
    /// References: text (one per line) or JSONL with `reference`.
    #[arg(long)]
    pub references: PathBuf,
    /// Metrics, comma-separated.
    #[arg(long, default_value = "bleu,chrf,rouge", value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Log the aggregates and the eval table to this run.
    #[arg(long)]
    pub run: Option<String>,
    /// Where the table goes inside the run's artifacts.
    #[arg(long, default_value = "eval/results.json")]
    pub table: String,
    /// A price table (JSON, USD per million tokens per model) for predictions that carry
    /// `model` and token counts but no `cost_usd`. Read from disk, never fetched.
    #[arg(long)]
    pub prices: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerUri,
}

#[derive(Debug, Args)]
pub struct EvalDiffArgs {
    /// The baseline run.
    pub run_a: String,
    /// The run compared with it.
    pub run_b: String,
    /// The table inside each run's artifacts (default: the run's logged table, else eval/results.json).
    #[arg(long)]
    pub table: Option<String>,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = 1000)]
    pub resamples: usize,
    /// Bootstrap seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[command(flatten)]
    pub server: ServerUri,
}

#[derive(Debug, Args)]
pub struct EvalCasesArgs {
    /// Which metric the cases are for.
    #[arg(long, value_enum)]
    pub metric: MetricArg,
    /// The cases, one JSON object per line (`-` for standard input).
    pub file: PathBuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum MetricArg {
    /// sacrebleu BLEU.
    Bleu,
    /// sacrebleu chrF / chrF++.
    Chrf,
    /// rouge-score ROUGE-N / L / Lsum.
    Rouge,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    /// Only runs deleted at least this many seconds ago.
    #[arg(long, default_value_t = 0)]
    pub older_than: u64,
    /// The server to clean up.
    #[arg(
        long,
        env = "CAIRN_TRACKING_URI",
        default_value = "http://127.0.0.1:5000"
    )]
    pub tracking_uri: String,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Interface to listen on.
    #[arg(long, env = "CAIRN_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "CAIRN_PORT", default_value_t = 5000)]
    pub port: u16,
    /// Directory for the database and artifacts.
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    pub data_dir: PathBuf,
    /// Database location, e.g. sqlite:///runs.db (default: DATA_DIR/cairn.db).
    #[arg(long, env = "CAIRN_BACKEND_STORE_URI")]
    pub backend_store_uri: Option<String>,
    /// Where artifact bytes go: a directory, s3://bucket/prefix or memory: (default: DATA_DIR/artifacts).
    #[arg(long, env = "CAIRN_ARTIFACTS_DESTINATION")]
    pub artifacts_destination: Option<String>,
    /// Endpoint of an S3-compatible service (MinIO, moto, ...); credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
    #[arg(long, env = "CAIRN_S3_ENDPOINT_URL")]
    pub s3_endpoint_url: Option<String>,
    /// S3 region (default: AWS_REGION / AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long, env = "CAIRN_S3_REGION")]
    pub s3_region: Option<String>,
}

impl ServerArgs {
    pub fn into_config(self) -> anyhow::Result<cairn_server::ServerConfig> {
        let artifacts = match &self.artifacts_destination {
            Some(d) => Some(cairn_server::artifacts::Destination::parse(
                d,
                self.s3_endpoint_url,
                self.s3_region,
            )?),
            None => None,
        };
        Ok(cairn_server::ServerConfig {
            host: self.host,
            port: self.port,
            data_dir: self.data_dir,
            backend_store_uri: self.backend_store_uri,
            artifacts,
        })
    }
}
