//! `cairn bench`: drives one or two MLflow-compatible servers through the shared harness's workloads, alternating A B A B, and reports verified figures and per-pair ratios.
//!
//! The in-repo twin of `shared/bench/bench.py` (same workloads, checks and report),
//! with a tokio + reqwest closed-loop generator in place of wrk.

mod artifact;
mod history;
mod http;
mod load;
mod procfs;
mod report;
mod runner;
mod search;
mod server;
mod writes;

use crate::args::{BenchArgs, BenchScale};
use report::Outcome;
use runner::Runner;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Sizes and counts of one scale.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Scale {
    pub search_runs: usize,
    pub history_points: usize,
    pub artifact_mib: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub repeats: usize,
    pub search_iters: usize,
    pub page_all_iters: usize,
    pub history_iters: usize,
    pub startup_repeats: usize,
}

impl Scale {
    fn of(scale: BenchScale) -> Scale {
        let (search_runs, history_points, artifact_mib, duration_s, warmup_s) = match scale {
            BenchScale::Tiny => (50, 2_000, 8, 1.0, 0.5),
            BenchScale::Small => (2_000, 20_000, 256, 10.0, 2.0),
            BenchScale::Medium => (20_000, 100_000, 256, 15.0, 3.0),
        };
        let (repeats, search_iters, page_all_iters, history_iters, startup_repeats) = match scale {
            BenchScale::Tiny => (1, 3, 1, 2, 1),
            BenchScale::Small => (3, 20, 3, 5, 3),
            BenchScale::Medium => (3, 10, 2, 3, 3),
        };
        Scale {
            search_runs,
            history_points,
            artifact_mib,
            duration_s,
            warmup_s,
            repeats,
            search_iters,
            page_all_iters,
            history_iters,
            startup_repeats,
        }
    }
}

/// Settings every workload reads.
pub struct Ctx {
    pub scale: Scale,
    pub duration: Duration,
    pub warmup: Duration,
    /// The artifact payload and its SHA-256, made before the first upload.
    pub payload: OnceLock<(bytes::Bytes, String)>,
}

/// What a workload keeps between runs on one server (experiment, seeded ids, ...).
#[derive(Default)]
pub struct State {
    pub exp: Option<String>,
    pub ids: Vec<String>,
    pub run_id: Option<String>,
    pub exp_acc: Option<Vec<f64>>,
    pub seed: Option<Outcome>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Case {
    LogMetric(usize),
    LogBatch(usize),
    CreateRun(usize),
    Search(search::Kind),
    History,
    Artifact,
}

impl Case {
    pub fn name(self, scale: &Scale) -> String {
        match self {
            Case::LogMetric(c) => format!("log-metric c={c}"),
            Case::LogBatch(c) => format!("log-batch 1000m c={c}"),
            Case::CreateRun(c) => format!("create-run c={c}"),
            Case::Search(k) => format!("search {}", k.name()),
            Case::History => "history get-history".into(),
            Case::Artifact => format!("artifact {} MiB", scale.artifact_mib),
        }
    }

    /// Cases of one group share their per-server state.
    pub fn group(self) -> &'static str {
        match self {
            Case::LogMetric(_) => "log-metric",
            Case::LogBatch(_) => "log-batch",
            Case::CreateRun(_) => "create-run",
            Case::Search(_) => "search",
            Case::History => "history",
            Case::Artifact => "artifact",
        }
    }
}

fn log(msg: &str) {
    eprintln!("[{}] {msg}", chrono::Local::now().format("%H:%M:%S"));
}

/// Runs the bench; prints the markdown tables; exit code 1 when a case failed its
/// verification (its figures must not be used).
pub async fn run(args: BenchArgs) -> anyhow::Result<u8> {
    let t0 = Instant::now();
    let mut runner = Runner::new(args)?;
    let outcome = tokio::select! {
        r = runner.run_all() => r,
        _ = tokio::signal::ctrl_c() => {
            log("interrupted; writing partial results");
            Ok(())
        }
    };
    for s in &mut runner.servers {
        s.stop().await;
    }
    let res = runner.results(t0.elapsed().as_secs_f64());
    let md = report::markdown(&runner.labels, &res["summary"], &runner.cases);
    if let Some(out) = &runner.args.out {
        std::fs::write(out, serde_json::to_string_pretty(&res)?)?;
        std::fs::write(out.with_extension("md"), format!("{md}\n"))?;
    }
    outln!("{md}")?;
    if !runner.args.keep_data {
        for s in &runner.servers {
            for d in &s.made_dirs {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
    outcome?;
    let failed = res["summary"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .flat_map(|c| c["status"].as_object().into_iter().flat_map(|s| s.values()))
        .any(|s| s.as_str().is_some_and(|s| s.starts_with("VERIFY FAILED")));
    Ok(u8::from(failed))
}
