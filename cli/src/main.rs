//! The `cairn` binary: parses the command line and dispatches to one function per command.

mod args;
mod eval;
mod runs;
mod sync;

use args::{Cli, Command};
use clap::Parser;
use std::io::Write;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG")
                .unwrap_or_else(|_| "warn,cairn_server=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Server(server) => run_server(server.into_config()?),
        Command::Gc(gc) => run_gc(gc),
        Command::Eval(args::EvalCommand::Cases(cases)) => eval::cases(cases),
        Command::Eval(args::EvalCommand::Score(score)) => block_on(eval::score(score)),
        Command::Eval(args::EvalCommand::Diff(diff)) => block_on(eval::diff(diff)),
        Command::Runs(args::RunsCommand::Pareto(pareto)) => block_on(runs::pareto(pareto)),
        Command::Sync(sync) => block_on(sync::sync(sync)),
    }
}

/// Runs one async command on a small runtime.
fn block_on(work: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(work)
}

fn run_gc(args: args::GcArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = cairn_client::Client::new(&args.tracking_uri);
    let older_than_ms = i64::try_from(args.older_than.saturating_mul(1000)).unwrap_or(i64::MAX);
    let collected = runtime.block_on(client.collect_garbage(older_than_ms))?;
    println!(
        "removed {} runs and {} artifact blobs",
        collected.runs.len(),
        collected.blobs.len()
    );
    Ok(())
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
