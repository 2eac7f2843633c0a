//! What the user typed: clap structures only, resolved into settings elsewhere.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Cairn: an experiment tracker and model registry that speaks MLflow's REST API.
///
/// Every command but `server` talks to a tracking server: --tracking-uri, else
/// CAIRN_TRACKING_URI, else MLFLOW_TRACKING_URI, else http://127.0.0.1:5000.
/// Exit codes: 0 ok, 1 refused or failed, 2 usage error, 3 not found, 4 server
/// unreachable or failing.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about)]
pub struct Cli {
    /// The tracking server.
    #[arg(long, global = true, value_name = "URL")]
    pub tracking_uri: Option<String>,
    /// Output: aligned tables for people, json or csv for machines.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    #[command(subcommand)]
    pub command: Command,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns (colour only on a terminal, never with NO_COLOR).
    Table,
    /// One JSON document.
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the tracking server (SQLite + local artifacts under ./cairn-data by default).
    Server(ServerArgs),
    /// List, create, rename, delete, restore and tag experiments.
    #[command(subcommand)]
    Experiments(ExperimentsCommand),
    /// List, show, compare, start, end and bulk-edit runs.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Metric histories as tables or terminal charts.
    #[command(subcommand)]
    Metrics(MetricsCommand),
    /// Log metrics, params, tags and artifacts to a run (--run or MLFLOW_RUN_ID).
    #[command(subcommand)]
    Log(LogCommand),
    /// Run a command as a tracked run: command line, git state, exit status, duration
    /// and output are recorded; the child logs to the same run through MLFLOW_RUN_ID.
    Run(RunArgs),
    /// The model registry: models, versions, stages, aliases, gates and history.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// A run's artifacts: list, download, upload, verify.
    #[command(subcommand)]
    Artifacts(ArtifactsCommand),
    /// Prompts as versioned objects in the prompt registry.
    #[command(subcommand)]
    Prompts(PromptsCommand),
    /// Permanently delete runs deleted earlier and the artifact blobs nothing references.
    Gc(GcArgs),
    /// Send what Rust loggers spooled while the server was away (after their process
    /// ended), then delete the spools that were fully delivered.
    Sync(SyncArgs),
    /// Write a consistent copy of the store's SQLite file while servers keep running.
    Backup(BackupArgs),
    /// Evaluate LLM outputs: BLEU, chrF, ROUGE.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Print a shell completion script: cairn completions bash > /etc/bash_completion.d/cairn
    Completions(CompletionsArgs),
    /// Benchmark any MLflow-compatible server, or two side by side (A B A B, ratios
    /// first/second); every workload reads back what it wrote.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new file to write (must not exist).
    #[arg(long)]
    pub to: PathBuf,
    /// The server's data directory.
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    pub data_dir: PathBuf,
    /// The server's database, e.g. sqlite:///runs.db (default: DATA_DIR/cairn.db).
    #[arg(long, env = "CAIRN_BACKEND_STORE_URI")]
    pub backend_store_uri: Option<String>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Where the spools are (default: CAIRN_SPOOL_DIR, else ~/.cache/cairn/spool).
    #[arg(long)]
    pub spool_dir: Option<PathBuf>,
}

/// `KEY=VALUE`.
pub fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))
}

/// `KEY=VALUE`, or `-` (kept as the key `-` with no value) for standard input.
pub fn key_value_or_stdin(s: &str) -> Result<(String, String), String> {
    if s == "-" {
        Ok(("-".into(), String::new()))
    } else {
        key_value(s)
    }
}

#[derive(Debug, Subcommand)]
pub enum ExperimentsCommand {
    /// List experiments.
    List(ExperimentsListArgs),
    /// Create an experiment; prints its id.
    Create {
        /// The name.
        name: String,
        /// Tags, KEY=VALUE (repeatable).
        #[arg(long = "tag", value_parser = key_value)]
        tags: Vec<(String, String)>,
    },
    /// Rename an experiment.
    Rename {
        /// Experiment name or id.
        experiment: String,
        /// The new name.
        new_name: String,
    },
    /// Delete an experiment and its runs (restorable until `cairn gc`).
    Delete {
        /// Experiment name or id.
        experiment: String,
    },
    /// Restore a deleted experiment.
    Restore {
        /// Experiment name or id.
        experiment: String,
    },
    /// Set or remove experiment tags.
    Tag {
        /// Experiment name or id.
        experiment: String,
        /// Tags to set, KEY=VALUE.
        #[arg(value_parser = key_value)]
        set: Vec<(String, String)>,
        /// Tags to remove (repeatable).
        #[arg(long = "delete")]
        delete: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct ExperimentsListArgs {
    /// Filter, e.g. "name LIKE 'sweep%'" (OR and parentheses allowed).
    #[arg(long)]
    pub filter: Option<String>,
    /// Which experiments.
    #[arg(long, value_enum, default_value_t = View::Active)]
    pub view: View,
}

/// Active, deleted or all objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum View {
    /// Not deleted.
    Active,
    /// Deleted only.
    Deleted,
    /// Both.
    All,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List runs: filter, order, choose columns; one page unless --all-pages.
    List(RunsListArgs),
    /// One run: attributes, params, metrics, tags, datasets, artifacts.
    Show {
        /// The run id.
        run: String,
    },
    /// Runs side by side: params, latest metrics, tags; differing rows marked.
    Compare(CompareArgs),
    /// Start a run; prints its id (for `export MLFLOW_RUN_ID=$(cairn runs start ...)`).
    Start(StartArgs),
    /// End a run (--run or MLFLOW_RUN_ID).
    End(EndArgs),
    /// Delete runs (restorable until `cairn gc`).
    Delete(BulkArgs),
    /// Restore deleted runs.
    Restore(BulkArgs),
    /// Set or remove tags on many runs.
    Tag(TagRunsArgs),
    /// Move runs to another experiment.
    Move(MoveRunsArgs),
    /// List the runs of an experiment that no other run beats on every named metric.
    Pareto(ParetoArgs),
}

#[derive(Debug, Args)]
pub struct RunsListArgs {
    /// Experiment names or ids (repeatable; default: every active experiment).
    #[arg(long = "experiment", short = 'e')]
    pub experiments: Vec<String>,
    /// Filter in the server's language, e.g. "metrics.bleu > 30 AND params.model = 'x'".
    #[arg(long)]
    pub filter: Option<String>,
    /// Sort keys, e.g. "metrics.bleu DESC" (repeatable).
    #[arg(long = "order-by")]
    pub order_by: Vec<String>,
    /// Columns, comma-separated: run_id, run_name, experiment_id, status, user,
    /// start_time, end_time, duration_s, metrics.KEY, params.KEY, tags.KEY.
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Runs on the page (at most 1000).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Every matching run, following the server's pages of --limit runs.
    #[arg(long)]
    pub all_pages: bool,
    /// Which runs.
    #[arg(long, value_enum, default_value_t = View::Active)]
    pub view: View,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Two or more run ids.
    #[arg(required = true, num_args = 2..)]
    pub runs: Vec<String>,
    /// Only the rows that differ.
    #[arg(long)]
    pub only_diff: bool,
    /// Include system tags (mlflow.*).
    #[arg(long)]
    pub all_tags: bool,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Experiment name or id (an unknown name is created).
    #[arg(long, short = 'e', default_value = "Default")]
    pub experiment: String,
    /// The run's name.
    #[arg(long)]
    pub name: Option<String>,
    /// Tags, KEY=VALUE (repeatable).
    #[arg(long = "tag", value_parser = key_value)]
    pub tags: Vec<(String, String)>,
}

/// The run a command acts on: --run, else MLFLOW_RUN_ID.
#[derive(Debug, Args)]
pub struct RunRef {
    /// The run (default: MLFLOW_RUN_ID).
    #[arg(long, env = "MLFLOW_RUN_ID")]
    pub run: Option<String>,
}

#[derive(Debug, Args)]
pub struct EndArgs {
    #[command(flatten)]
    pub run: RunRef,
    /// The final status.
    #[arg(long, value_enum, default_value_t = EndStatus::Finished)]
    pub status: EndStatus,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EndStatus {
    /// Completed.
    Finished,
    /// Failed.
    Failed,
    /// Stopped from outside.
    Killed,
}

/// Which runs a bulk command acts on: ids, or a filter over experiments.
#[derive(Debug, Args)]
pub struct Selection {
    /// Run ids.
    pub runs: Vec<String>,
    /// Every run matching this filter (in --experiment, default every active experiment).
    #[arg(long)]
    pub filter: Option<String>,
    /// Experiment names or ids for --filter (repeatable).
    #[arg(long = "experiment", short = 'e')]
    pub experiments: Vec<String>,
    /// List what would change and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct BulkArgs {
    #[command(flatten)]
    pub selection: Selection,
}

#[derive(Debug, Args)]
pub struct TagRunsArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Tags to set, KEY=VALUE (repeatable).
    #[arg(long = "set", value_parser = key_value)]
    pub set: Vec<(String, String)>,
    /// Tags to remove (repeatable).
    #[arg(long = "unset")]
    pub unset: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MoveRunsArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// The experiment (name or id) the runs go to.
    #[arg(long)]
    pub to: String,
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
}

#[derive(Debug, Subcommand)]
pub enum MetricsCommand {
    /// Every point of some metrics of some runs, as a table or a chart.
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Run ids, comma-separated.
    pub runs: String,
    /// Metric keys.
    #[arg(required = true)]
    pub keys: Vec<String>,
    /// Draw a chart in the terminal (every run and key on one chart).
    #[arg(long)]
    pub chart: bool,
    /// Chart width in columns.
    #[arg(long, default_value_t = 72)]
    pub width: usize,
    /// Chart height in rows.
    #[arg(long, default_value_t = 16)]
    pub height: usize,
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Metrics: KEY=VALUE arguments, or JSON lines on stdin
    /// ({"key": "loss", "value": 0.5, "step": 3}), sent in batches.
    Metric(LogMetricArgs),
    /// Params, KEY=VALUE.
    Param(LogPairsArgs),
    /// Tags, KEY=VALUE.
    Tag(LogPairsArgs),
    /// A file or directory as artifacts of the run.
    Artifact(LogArtifactArgs),
}

#[derive(Debug, Args)]
pub struct LogMetricArgs {
    #[command(flatten)]
    pub run: RunRef,
    /// KEY=VALUE pairs; none (or -) reads JSON lines from stdin.
    #[arg(value_parser = key_value_or_stdin)]
    pub metrics: Vec<(String, String)>,
    /// The step of the argument metrics.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub step: i64,
}

#[derive(Debug, Args)]
pub struct LogPairsArgs {
    #[command(flatten)]
    pub run: RunRef,
    /// KEY=VALUE pairs.
    #[arg(value_parser = key_value, required = true)]
    pub pairs: Vec<(String, String)>,
}

#[derive(Debug, Args)]
pub struct LogArtifactArgs {
    #[command(flatten)]
    pub run: RunRef,
    /// A local file or directory.
    pub path: PathBuf,
    /// The directory inside the run's artifacts to put it in.
    #[arg(long)]
    pub artifact_path: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Experiment name or id (an unknown name is created).
    #[arg(long, short = 'e', default_value = "Default")]
    pub experiment: String,
    /// The run's name (default: the command's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Tags, KEY=VALUE (repeatable).
    #[arg(long = "tag", value_parser = key_value)]
    pub tags: Vec<(String, String)>,
    /// The command and its arguments, after --.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List registered models.
    List {
        /// Filter, e.g. "name LIKE 'summ%'".
        #[arg(long)]
        filter: Option<String>,
    },
    /// A model: its versions, aliases and gates.
    Show {
        /// The registered model.
        name: String,
    },
    /// Register a new version (creating the model if needed); prints the version.
    Register(RegisterArgs),
    /// Move a version to a stage (gates are checked).
    Promote {
        /// The registered model.
        name: String,
        /// The version.
        version: String,
        /// Staging, Production, Archived or None.
        #[arg(long)]
        stage: String,
        /// Archive the versions already in that stage.
        #[arg(long)]
        archive_existing: bool,
    },
    /// Point an alias at a version (gates are checked), or remove it.
    Alias {
        /// The registered model.
        name: String,
        /// The alias, e.g. champion.
        alias: String,
        /// The version (omit with --delete).
        version: Option<String>,
        /// Remove the alias.
        #[arg(long)]
        delete: bool,
    },
    /// Promotion gates: run filters a version's run must pass.
    #[command(subcommand)]
    Gate(GateCommand),
    /// Every stage transition and alias move: from, to, when, who, the run's metrics.
    History {
        /// The registered model.
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The registered model.
    pub name: String,
    /// The version's source: runs:/RUN/PATH, models:/..., or mlflow-artifacts:/...
    #[arg(long, required_unless_present = "run")]
    pub source: Option<String>,
    /// The run it came from (source defaults to runs:/RUN/PATH).
    #[arg(long)]
    pub run: Option<String>,
    /// The model's path inside the run's artifacts, with --run.
    #[arg(long, default_value = "model")]
    pub path: String,
    /// A description of the version.
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Debug, Args)]
pub struct GateTargetArgs {
    /// The stage the gate guards.
    #[arg(long, conflicts_with = "alias", required_unless_present = "alias")]
    pub stage: Option<String>,
    /// The alias the gate guards.
    #[arg(long)]
    pub alias: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum GateCommand {
    /// Set the gate on a stage or alias.
    Set {
        /// The registered model.
        name: String,
        #[command(flatten)]
        target: GateTargetArgs,
        /// The run filter, e.g. "metrics.bleu >= 30 AND metrics.cost_usd < 0.01".
        #[arg(long)]
        filter: String,
    },
    /// The gates of a model.
    List {
        /// The registered model.
        name: String,
    },
    /// Remove the gate on a stage or alias.
    Delete {
        /// The registered model.
        name: String,
        #[command(flatten)]
        target: GateTargetArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ArtifactsCommand {
    /// List a run's artifacts.
    Ls {
        /// The run id.
        run: String,
        /// A directory inside the run's artifacts.
        path: Option<String>,
        /// Everything below, not only the first level.
        #[arg(long, short = 'r')]
        recursive: bool,
    },
    /// Download a file or directory.
    Get {
        /// The run id.
        run: String,
        /// The artifact path.
        path: String,
        /// Where to put it (default: its name in the current directory).
        #[arg(long)]
        dest: Option<PathBuf>,
    },
    /// Upload a local file or directory.
    Put {
        /// The run id.
        run: String,
        /// A local file or directory.
        local: PathBuf,
        /// The directory inside the run's artifacts to put it in.
        #[arg(long)]
        artifact_path: Option<String>,
    },
    /// Re-hash the stored bytes of a run's artifacts (all of the server's without RUN).
    Verify {
        /// The run id.
        run: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PromptsCommand {
    /// Register a new version of a prompt (creating the prompt if needed).
    Register {
        /// The prompt's name.
        name: String,
        /// The template, e.g. "Summarize: {{text}}".
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        template: Option<String>,
        /// Read the template from a file.
        #[arg(long)]
        file: Option<PathBuf>,
        /// What changed (the version's description).
        #[arg(long, short = 'm')]
        message: Option<String>,
        /// Version tags, KEY=VALUE (repeatable).
        #[arg(long = "tag", value_parser = key_value)]
        tags: Vec<(String, String)>,
    },
    /// List prompts.
    List,
    /// A prompt version: NAME (latest), NAME/VERSION or NAME@ALIAS.
    Show {
        /// The reference.
        reference: String,
    },
    /// The template change between two versions: NAME FROM TO (versions or @aliases).
    Diff {
        /// The prompt.
        name: String,
        /// The older version or @alias.
        from: String,
        /// The newer version or @alias.
        to: String,
    },
    /// Point an alias at a version.
    Alias {
        /// The prompt.
        name: String,
        /// The alias, e.g. production.
        alias: String,
        /// The version.
        version: String,
    },
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
    /// Host names clients may address the server by, comma-separated (`*` for any).
    /// Default: loopback names when listening on loopback, any name otherwise.
    #[arg(long, env = "CAIRN_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Option<Vec<String>>,
    /// Seconds a client has to send a request's head.
    #[arg(long, env = "CAIRN_HEADER_TIMEOUT", default_value_t = 10.0)]
    pub header_timeout: f64,
    /// Seconds a request body may stall before the request fails.
    #[arg(long, env = "CAIRN_BODY_TIMEOUT", default_value_t = 60.0)]
    pub body_timeout: f64,
    /// Seconds an idle keep-alive connection stays open.
    #[arg(long, env = "CAIRN_KEEP_ALIVE", default_value_t = 75.0)]
    pub keep_alive: f64,
    /// Artifact uploads received at once; more get 503 until one ends.
    #[arg(long, env = "CAIRN_MAX_CONCURRENT_UPLOADS", default_value_t = 64)]
    pub max_concurrent_uploads: usize,
}

/// `cairn bench`: the workloads of the shared harness (bench.py), one server or two.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Base URL of server A, e.g. http://127.0.0.1:5000.
    #[arg(long)]
    pub url: String,
    /// Name of server A in reports.
    #[arg(long, default_value = "A")]
    pub label: String,
    /// Command starting server A via `sh -c`; {host} {port} {data} are replaced
    /// ({data}: a fresh directory under --workdir). Enables startup and memory.
    #[arg(long)]
    pub start_cmd: Option<String>,
    /// PID of an already running server A (memory and CPU figures).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Base URL of server B: alternate A B A B and report ratios A/B.
    #[arg(long)]
    pub vs: Option<String>,
    /// Name of server B in reports.
    #[arg(long, default_value = "B")]
    pub vs_label: String,
    /// Command starting server B (same placeholders).
    #[arg(long)]
    pub vs_start_cmd: Option<String>,
    /// PID of an already running server B.
    #[arg(long)]
    pub vs_server_pid: Option<u32>,
    /// Workloads to run (comma-separated); they always run in this order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "startup,log-metric,log-batch,create-run,search-runs,metric-history,artifact,memory"
    )]
    pub workloads: Vec<BenchWorkload>,
    /// Data sizes and durations (tiny only smoke-tests the harness).
    #[arg(long, value_enum, default_value_t = BenchScale::Small)]
    pub scale: BenchScale,
    /// Measured repeats per server per case (default from the scale).
    #[arg(long)]
    pub repeats: Option<usize>,
    /// Seconds per load run (default from the scale).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Where started servers keep their data.
    #[arg(long, default_value = "bench-work")]
    pub workdir: PathBuf,
    /// Keep the data directories of started servers.
    #[arg(long)]
    pub keep_data: bool,
    /// Readiness path (default /health, falling back to experiments/search).
    #[arg(long)]
    pub health_path: Option<String>,
    /// Seconds a started server has to answer.
    #[arg(long, default_value_t = 300.0)]
    pub start_timeout: f64,
    /// Seconds to wait before the idle memory sample.
    #[arg(long, default_value_t = 5.0)]
    pub settle: f64,
    /// Write the full results (summary and every raw run) as JSON here.
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
}

/// A `cairn bench` workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchWorkload {
    Startup,
    LogMetric,
    LogBatch,
    CreateRun,
    SearchRuns,
    MetricHistory,
    Artifact,
    Memory,
}

/// How much `cairn bench` seeds and for how long it loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchScale {
    /// 1 s runs, 50 runs, 2,000 points, 8 MiB: a smoke test.
    Tiny,
    /// 10 s runs, 2,000 runs, 20,000 points, 256 MiB.
    Small,
    /// 15 s runs, 20,000 runs, 100,000 points, 256 MiB.
    Medium,
}

/// Seconds from the command line as a duration (positive and finite).
fn seconds(name: &str, s: f64) -> anyhow::Result<std::time::Duration> {
    anyhow::ensure!(
        s.is_finite() && s > 0.0,
        "--{name} must be a positive number of seconds"
    );
    Ok(std::time::Duration::from_secs_f64(s))
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
            allowed_hosts: self.allowed_hosts,
            header_timeout: seconds("header-timeout", self.header_timeout)?,
            body_idle_timeout: seconds("body-timeout", self.body_timeout)?,
            keep_alive: seconds("keep-alive", self.keep_alive)?,
            max_concurrent_uploads: self.max_concurrent_uploads.max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
