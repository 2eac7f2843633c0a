//! Logging from any job: `cairn log metric|param|tag|artifact` into a run named by
//! `--run` or `MLFLOW_RUN_ID`, and `cairn run -- CMD`, which runs a command as a tracked run.

use crate::args::{LogArtifactArgs, LogCommand, LogMetricArgs, LogPairsArgs, RunArgs};
use crate::ctx::{Ctx, ServerAway, UsageError};
use crate::output::{self, Table};
use crate::runs::run_id;
use crate::{experiments, transfer};
use cairn_client::schema::{Metric, Param, RunStatus, Tag};
use cairn_client::{ActiveRun, LoggerOptions};
use serde_json::{json, Value};
use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn parse_value(key: &str, text: &str) -> anyhow::Result<f64> {
    cairn_client::schema::parse_wire_f64(&json!(text))
        .or_else(|| text.parse().ok())
        .ok_or_else(|| UsageError(format!("metric {key}: {text:?} is not a number")).into())
}

/// The metrics of one JSON line: `{"key", "value", "step"?, "timestamp"?}`, or
/// `{"step"?: N, "loss": 0.5, "acc": 0.9}` with every other field a metric.
fn metrics_of_line(line: &str, number: usize) -> anyhow::Result<Vec<Metric>> {
    let v: Value =
        serde_json::from_str(line).map_err(|e| UsageError(format!("stdin line {number}: {e}")))?;
    let Value::Object(fields) = v else {
        return Err(UsageError(format!("stdin line {number}: expected a JSON object")).into());
    };
    let int = |k: &str| -> anyhow::Result<Option<i64>> {
        match fields.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                UsageError(format!("stdin line {number}: {k} must be an integer")).into()
            }),
        }
    };
    let step = int("step")?.unwrap_or(0);
    let timestamp = int("timestamp")?.unwrap_or_else(now_ms);
    let value_of = |key: &str, v: &Value| -> anyhow::Result<f64> {
        cairn_client::schema::parse_wire_f64(v).ok_or_else(|| {
            UsageError(format!("stdin line {number}: metric {key} is not a number")).into()
        })
    };
    if let Some(key) = fields.get("key") {
        let key = key
            .as_str()
            .ok_or_else(|| UsageError(format!("stdin line {number}: key must be a string")))?;
        let value = value_of(key, fields.get("value").unwrap_or(&Value::Null))?;
        return Ok(vec![Metric {
            key: key.into(),
            value,
            timestamp,
            step,
            run_id: None,
        }]);
    }
    fields
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "step" | "timestamp"))
        .map(|(k, v)| {
            Ok(Metric {
                key: k.clone(),
                value: value_of(k, v)?,
                timestamp,
                step,
                run_id: None,
            })
        })
        .collect()
}

async fn log_metrics(ctx: &Ctx, args: LogMetricArgs) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let run = run_id(&args.run)?;
    let stdin_named = args.metrics.iter().any(|(k, v)| k == "-" && v.is_empty());
    if stdin_named && args.metrics.len() > 1 {
        return Err(UsageError("give KEY=VALUE pairs or - (stdin), not both".into()).into());
    }
    if !args.metrics.is_empty() && !stdin_named {
        let ts = now_ms();
        let metrics = args
            .metrics
            .iter()
            .map(|(k, v)| {
                Ok(Metric {
                    key: k.clone(),
                    value: parse_value(k, v)?,
                    timestamp: ts,
                    step: args.step,
                    run_id: None,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        client.log_batch(&run, &metrics, &[], &[]).await?;
        return output::done(
            ctx,
            &format!("logged {} metrics to run {run}", metrics.len()),
            json!({"run_id": run, "metrics": metrics.len()}),
        );
    }
    // A stream on stdin: batched in the background, spooled if the server goes away.
    let logger = ActiveRun::attach(client, &run, LoggerOptions::default())?;
    let mut count = 0usize;
    let stdin = std::io::stdin().lock();
    for (i, line) in stdin.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        for m in metrics_of_line(&line, i + 1)? {
            logger.log_metric_at(&m.key, m.value, m.step, m.timestamp);
            count += 1;
        }
    }
    let delivery = tokio::task::spawn_blocking(move || logger.close()).await?;
    if !delivery.rejected.is_empty() {
        anyhow::bail!("the server refused: {}", delivery.rejected.join("; "));
    }
    if !delivery.delivered {
        let spool = delivery
            .spool
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        return Err(ServerAway(format!(
            "{count} metrics could not reach {}; they are kept in {spool}: run `cairn sync` once the server answers",
            ctx.uri
        ))
        .into());
    }
    output::done(
        ctx,
        &format!("logged {count} metrics to run {run}"),
        json!({"run_id": run, "metrics": count}),
    )
}

async fn log_pairs(ctx: &Ctx, args: LogPairsArgs, params: bool) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let run = run_id(&args.run)?;
    let n = args.pairs.len();
    if params {
        let params: Vec<Param> = args
            .pairs
            .into_iter()
            .map(|(key, value)| Param { key, value })
            .collect();
        client.log_batch(&run, &[], &params, &[]).await?;
    } else {
        let tags: Vec<Tag> = args
            .pairs
            .into_iter()
            .map(|(key, value)| Tag { key, value })
            .collect();
        client.log_batch(&run, &[], &[], &tags).await?;
    }
    let what = if params { "params" } else { "tags" };
    output::done(
        ctx,
        &format!("logged {n} {what} to run {run}"),
        json!({"run_id": run, what: n}),
    )
}

async fn log_artifact(ctx: &Ctx, args: LogArtifactArgs) -> anyhow::Result<()> {
    let client = ctx.client()?;
    let run = client.get_run(&run_id(&args.run)?).await?;
    let sent = transfer::upload(&client, &run, &args.path, args.artifact_path.as_deref()).await?;
    let mut table = Table::new(["path", "bytes", "sha256"]);
    for (path, bytes, sha) in sent {
        table.push(vec![json!(path), json!(bytes), json!(sha)]);
    }
    output::print(ctx, &table)
}

pub async fn log(ctx: &Ctx, command: LogCommand) -> anyhow::Result<()> {
    match command {
        LogCommand::Metric(a) => log_metrics(ctx, a).await,
        LogCommand::Param(a) => log_pairs(ctx, a, true).await,
        LogCommand::Tag(a) => log_pairs(ctx, a, false).await,
        LogCommand::Artifact(a) => log_artifact(ctx, a).await,
    }
}

/// `git` output in the current directory, if it is a repository.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A command line as a shell would need it typed.
fn shell_join(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Copies a child's stream to ours and to a file, as it comes.
fn tee(
    mut from: impl Read + Send + 'static,
    mut to: impl Write + Send + 'static,
    file: std::fs::File,
) -> std::thread::JoinHandle<std::io::Result<()>> {
    std::thread::spawn(move || {
        let mut file = std::io::BufWriter::new(file);
        let mut buf = [0u8; 8192];
        loop {
            let n = from.read(&mut buf)?;
            if n == 0 {
                break;
            }
            let _ = to.write_all(&buf[..n]);
            let _ = to.flush();
            file.write_all(&buf[..n])?;
        }
        file.flush()
    })
}

/// Runs a command as a tracked run; returns the exit code to leave with (the child's).
pub async fn run_command(ctx: &Ctx, args: RunArgs) -> anyhow::Result<u8> {
    let client = ctx.client()?;
    let program = args
        .command
        .first()
        .ok_or_else(|| UsageError("name a command after --".into()))?;
    let experiment_id = experiments::resolve_or_create(&client, &args.experiment).await?;
    let name = args.name.clone().unwrap_or_else(|| {
        std::path::Path::new(program)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| program.clone())
    });
    let mut tags: Vec<Tag> = args
        .tags
        .into_iter()
        .map(|(key, value)| Tag { key, value })
        .collect();
    let mut tag = |k: &str, v: String| {
        tags.push(Tag {
            key: k.into(),
            value: v,
        })
    };
    tag("cairn.command", shell_join(&args.command));
    tag("mlflow.source.name", program.clone());
    tag("mlflow.source.type", "LOCAL".into());
    if let Ok(user) = std::env::var("USER") {
        tag("mlflow.user", user);
    }
    if let Some(commit) = git(&["rev-parse", "HEAD"]) {
        tag("mlflow.source.git.commit", commit);
        let dirty = git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
        tag("cairn.git.dirty", dirty.to_string());
        if let Some(branch) = git(&["rev-parse", "--abbrev-ref", "HEAD"]) {
            tag("mlflow.source.git.branch", branch);
        }
    }
    let run = client
        .create_run_with_tags(&experiment_id, Some(&name), &tags)
        .await?;
    let run_id = run.info.run_id.clone();
    eprintln!("cairn: run {run_id} ({name}) in experiment {experiment_id}");

    let logs = tempfile::tempdir()?;
    let (out_path, err_path) = (
        logs.path().join("stdout.txt"),
        logs.path().join("stderr.txt"),
    );
    let started = Instant::now();
    let spawned = Command::new(program)
        .args(&args.command[1..])
        .env("MLFLOW_RUN_ID", &run_id)
        .env("MLFLOW_TRACKING_URI", &ctx.uri)
        .env("CAIRN_TRACKING_URI", &ctx.uri)
        .env("MLFLOW_EXPERIMENT_ID", &experiment_id)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            client
                .set_tag(
                    &run_id,
                    "cairn.error",
                    &format!("could not start {program:?}: {e}"),
                )
                .await?;
            client.finish_run(&run_id, RunStatus::Failed).await?;
            return Err(UsageError(format!("could not start {program:?}: {e}")).into());
        }
    };
    let out = tee(
        child.stdout.take().expect("piped"),
        std::io::stdout(),
        std::fs::File::create(&out_path)?,
    );
    let err = tee(
        child.stderr.take().expect("piped"),
        std::io::stderr(),
        std::fs::File::create(&err_path)?,
    );
    // Ctrl-C reaches the child (same process group); we stay to record how it ended.
    let pid = child.id();
    let signals = tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                Some(()) = async { match term.as_mut() { Some(t) => t.recv().await, None => std::future::pending().await } } => {
                    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
                }
            }
        }
    });
    let status = tokio::task::spawn_blocking(move || child.wait()).await??;
    signals.abort();
    let elapsed = started.elapsed().as_secs_f64();
    let _ = out.join();
    let _ = err.join();

    use std::os::unix::process::ExitStatusExt;
    let (code, run_status, ending) = match (status.code(), status.signal()) {
        (Some(0), _) => (0u8, RunStatus::Finished, "exit 0".to_owned()),
        (Some(c), _) => (
            c.clamp(0, 255) as u8,
            RunStatus::Failed,
            format!("exit {c}"),
        ),
        (None, Some(sig)) => (
            (128 + sig).clamp(0, 255) as u8,
            RunStatus::Killed,
            format!("signal {sig}"),
        ),
        (None, None) => (1, RunStatus::Failed, "unknown".to_owned()),
    };
    let mut end_tags = vec![
        Tag {
            key: "cairn.exit_code".into(),
            value: status
                .code()
                .map_or_else(|| "none".into(), |c| c.to_string()),
        },
        Tag {
            key: "cairn.duration_s".into(),
            value: format!("{elapsed:.3}"),
        },
    ];
    if let Some(sig) = status.signal() {
        end_tags.push(Tag {
            key: "cairn.signal".into(),
            value: sig.to_string(),
        });
    }
    let ts = now_ms();
    let duration = Metric {
        key: "duration_s".into(),
        value: elapsed,
        timestamp: ts,
        step: 0,
        run_id: None,
    };
    client
        .log_batch(&run_id, &[duration], &[], &end_tags)
        .await?;
    let run = client.get_run(&run_id).await?;
    transfer::upload(&client, &run, &out_path, Some("logs")).await?;
    transfer::upload(&client, &run, &err_path, Some("logs")).await?;
    client.finish_run(&run_id, run_status).await?;
    eprintln!(
        "cairn: run {run_id} {} ({ending}, {elapsed:.1} s)",
        run_status.as_str()
    );
    Ok(code)
}
