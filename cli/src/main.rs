//! The `cairn` binary: parses the command line and dispatches to one function per command.

/// `println!` that hands back the write error instead of panicking: a closed pipe
/// (`cairn runs list | head -1`) ends the command quietly (see `main`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)
    }};
}

mod args;
mod artifacts;
mod bench;
mod ctx;
mod eval;
mod experiments;
mod logging;
mod metrics;
mod models;
mod output;
mod prompts;
mod runs;
mod sync;
mod transfer;

use args::{Cli, Command};
use clap::{CommandFactory, Parser};
use ctx::Ctx;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG")
                .unwrap_or_else(|_| "warn,cairn_server=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let ctx = Ctx::new(cli.tracking_uri, cli.output);
    match dispatch(&ctx, cli.command) {
        Ok(code) => ExitCode::from(code),
        // The reader of our output has seen enough: not an error (as for any filter).
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(Ctx::exit_code(&e))
        }
    }
}

/// Runs one command; returns the exit code (non-zero only for `cairn run`'s child).
fn dispatch(ctx: &Ctx, command: Command) -> anyhow::Result<u8> {
    let done = |r: anyhow::Result<()>| r.map(|()| 0);
    match command {
        Command::Server(server) => done(run_server(server.into_config()?)),
        Command::Experiments(c) => done(block_on(experiments::run(ctx, c))),
        Command::Runs(c) => done(block_on(runs::run(ctx, c))),
        Command::Metrics(c) => done(block_on(metrics::run(ctx, c))),
        Command::Log(c) => done(block_on(logging::log(ctx, c))),
        Command::Run(c) => block_on(logging::run_command(ctx, c)),
        Command::Models(c) => done(block_on(models::run(ctx, c))),
        Command::Artifacts(c) => done(block_on(artifacts::run(ctx, c))),
        Command::Prompts(c) => done(block_on(prompts::run(ctx, c))),
        Command::Gc(gc) => done(block_on(run_gc(ctx, gc))),
        Command::Sync(s) => done(block_on(sync::sync(ctx, s))),
        Command::Backup(b) => done(backup(ctx, b)),
        Command::Eval(args::EvalCommand::Cases(cases)) => done(eval::cases(cases)),
        Command::Eval(args::EvalCommand::Score(score)) => done(block_on(eval::score(ctx, score))),
        Command::Eval(args::EvalCommand::Diff(diff)) => done(block_on(eval::diff(ctx, diff))),
        Command::Bench(b) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(bench::run(b)),
        Command::Completions(c) => {
            // Into a buffer first: clap_complete panics when it cannot write.
            let mut script = Vec::new();
            clap_complete::generate(c.shell, &mut Cli::command(), "cairn", &mut script);
            std::io::stdout().write_all(&script)?;
            Ok(0)
        }
    }
}

/// Runs one async command on a small runtime.
fn block_on<T>(work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(work)
}

fn backup(ctx: &Ctx, args: args::BackupArgs) -> anyhow::Result<()> {
    let db = cairn_server::database_path(&args.data_dir, args.backend_store_uri.as_deref())?;
    let b = cairn_server::store::sqlite::maintenance::backup(&db, &args.to)?;
    output::done(
        ctx,
        &format!(
            "backed up {} to {}: {} bytes, {} experiments, {} runs, {} metric points (integrity ok)",
            db.display(),
            b.path.display(),
            b.bytes,
            b.experiments,
            b.runs,
            b.metric_points
        ),
        serde_json::json!({"source": db, "path": b.path, "bytes": b.bytes, "experiments": b.experiments,
                           "runs": b.runs, "metric_points": b.metric_points, "integrity": "ok"}),
    )
}

async fn run_gc(ctx: &Ctx, args: args::GcArgs) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let older_than_ms = i64::try_from(args.older_than.saturating_mul(1000)).unwrap_or(i64::MAX);
    let collected = client.collect_garbage(older_than_ms).await?;
    output::done(
        ctx,
        &format!(
            "removed {} runs and {} artifact blobs",
            collected.runs.len(),
            collected.blobs.len()
        ),
        serde_json::json!({"runs": collected.runs, "blobs": collected.blobs}),
    )
}

fn run_server(config: cairn_server::ServerConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = cairn_server::Application::build(&config).await?;
        // The first line is read by scripts and tests to learn the bound port. A closed
        // stdout must not stop the server, so write errors are ignored.
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "cairn listening on {}", app.url());
        let _ = writeln!(out, "cairn storing runs in {}", app.database().display());
        let _ = writeln!(out, "cairn storing artifacts in {}", app.artifact_store());
        let _ = out.flush();
        drop(out);
        app.run_until_stopped().await
    })
}
