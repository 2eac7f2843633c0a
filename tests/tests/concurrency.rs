//! Many jobs at once on one SQLite store: 64 writers and 8 readers get no error, and
//! every write is there exactly once afterwards.

use cairn_tests::TestServer;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const WRITERS: usize = 64;
const READERS: usize = 8;
const BATCHES: usize = 25;
const POINTS: usize = 20;

#[test]
fn sixty_four_writers_and_eight_readers_get_no_error_and_exact_counts() {
    let server = TestServer::start();
    let exp = server.experiment("parallel-jobs");
    let shared = server.run(&exp);
    let runs: Vec<String> = (0..WRITERS).map(|_| server.run(&exp)).collect();
    let errors = Arc::new(AtomicUsize::new(0));
    let writing = Arc::new(AtomicBool::new(true));

    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (url, exp, shared, errors, writing) =
                (server.url.clone(), exp.clone(), shared.clone(), errors.clone(), writing.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                let mut reads = 0usize;
                while writing.load(Ordering::SeqCst) {
                    let ok = if r % 2 == 0 {
                        http.post(format!("{url}/api/2.0/mlflow/runs/search"))
                            .json(&json!({"experiment_ids": [exp], "filter": "metrics.loss >= 0", "max_results": 100}))
                            .send()
                    } else {
                        http.get(format!("{url}/api/2.0/mlflow/metrics/get-history"))
                            .query(&[("run_id", shared.as_str()), ("metric_key", "shared")])
                            .send()
                    }
                    .is_ok_and(|resp| resp.status().is_success());
                    if !ok {
                        errors.fetch_add(1, Ordering::SeqCst);
                    }
                    reads += 1;
                }
                reads
            })
        })
        .collect();

    let writers: Vec<_> = runs
        .iter()
        .enumerate()
        .map(|(w, run)| {
            let (url, run, shared, errors) = (server.url.clone(), run.clone(), shared.clone(), errors.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                let post = |api: &str, body: Value| {
                    let ok = http
                        .post(format!("{url}/api/2.0/mlflow/{api}"))
                        .json(&body)
                        .send()
                        .is_ok_and(|r| r.status().is_success());
                    if !ok {
                        errors.fetch_add(1, Ordering::SeqCst);
                    }
                };
                for b in 0..BATCHES {
                    let metrics: Vec<Value> = (0..POINTS)
                        .map(|j| json!({"key": "loss", "value": (b * POINTS + j) as f64, "timestamp": 1, "step": b * POINTS + j}))
                        .collect();
                    post("runs/log-batch", json!({"run_id": run, "metrics": metrics,
                        "params": [{"key": format!("p{b}"), "value": "v"}],
                        "tags": [{"key": "writer", "value": w.to_string()}]}));
                    post("runs/log-metric", json!({"run_id": shared, "key": "shared", "value": w as f64,
                        "timestamp": b, "step": w * BATCHES + b}));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    writing.store(false, Ordering::SeqCst);
    let reads: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();

    assert_eq!(
        errors.load(Ordering::SeqCst),
        0,
        "requests failed under load"
    );
    assert!(reads >= READERS, "every reader read");
    for (w, run) in runs.iter().enumerate() {
        let history = server
            .get(
                "metrics/get-history",
                &[
                    ("run_id", run.as_str()),
                    ("metric_key", "loss"),
                    ("max_results", "25000"),
                ],
            )
            .ok();
        assert_eq!(
            history["metrics"].as_array().map_or(0, Vec::len),
            BATCHES * POINTS,
            "writer {w}'s points"
        );
        let data = &server.get_run(run)["data"];
        assert_eq!(
            data["params"].as_array().map_or(0, Vec::len),
            BATCHES,
            "writer {w}'s params"
        );
    }
    let shared_points = server
        .get(
            "metrics/get-history",
            &[
                ("run_id", shared.as_str()),
                ("metric_key", "shared"),
                ("max_results", "25000"),
            ],
        )
        .ok();
    assert_eq!(
        shared_points["metrics"].as_array().map_or(0, Vec::len),
        WRITERS * BATCHES
    );
}
