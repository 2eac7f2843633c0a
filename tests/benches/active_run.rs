//! Benchmark: what one `ActiveRun::log_metric` call costs the training loop, over a
//! million calls against a real release server, and how fast the points arrive.
//!
//! `cargo build --release -p cairn-cli && cargo bench -p cairn-tests --bench active_run`

use cairn_client::blocking::Client;
use cairn_client::{ActiveRun, LoggerOptions};
use cairn_tests::TestServer;
use std::time::{Duration, Instant};

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let points: i64 = std::env::var("POINTS")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(1_000_000);
    let server = TestServer::start();
    let spool = tempfile::tempdir().expect("temp dir");
    let client = Client::new(&server.url).expect("client");
    let exp = client
        .create_experiment("bench-active-run")
        .expect("experiment");
    let run_id = client
        .create_run(&exp, Some("bench"))
        .expect("run")
        .info
        .run_id;
    let options = LoggerOptions {
        spool_dir: Some(spool.path().to_owned()),
        ..LoggerOptions::default()
    };
    let run = ActiveRun::attach(client.to_async(), &run_id, options).expect("logger");

    // The clock's own cost, to read the per-call figures against.
    let mut clock = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        let t = Instant::now();
        clock.push(t.elapsed().as_nanos() as u64);
    }
    clock.sort_unstable();

    let mut calls = Vec::with_capacity(points as usize);
    let start = Instant::now();
    for step in 0..points {
        let t = Instant::now();
        run.log_metric("loss", 1.0 / (step + 1) as f64, step);
        calls.push(t.elapsed().as_nanos() as u64);
    }
    let loop_time = start.elapsed();
    let delivery = run.finish();
    let delivered_in = start.elapsed();
    assert!(delivery.delivered && delivery.dropped == 0, "{delivery:?}");
    let on_server = client
        .get_metric_history(&run_id, "loss")
        .expect("history")
        .len();
    assert_eq!(on_server as i64, points, "every point is on the server");

    calls.sort_unstable();
    let ns = |d: u64| format!("{d} ns");
    let max_ms = format!("{:.1} ms", *calls.last().unwrap() as f64 / 1e6);
    println!("ActiveRun::log_metric, {points} calls against a release server");
    println!(
        "  per call: median {}  p90 {}  p99 {}  p99.9 {}  max {}",
        ns(percentile(&calls, 0.5)),
        ns(percentile(&calls, 0.9)),
        ns(percentile(&calls, 0.99)),
        ns(percentile(&calls, 0.999)),
        max_ms
    );
    println!(
        "  (Instant::now + elapsed alone: median {})",
        ns(percentile(&clock, 0.5))
    );
    println!(
        "  loop: {:.3} s ({:.0} ns a call on average)",
        loop_time.as_secs_f64(),
        loop_time.as_nanos() as f64 / points as f64
    );
    println!("  all {points} points on the server {:.2} s after the first call: {:.0} points/s end to end",
        delivered_in.as_secs_f64(), points as f64 / delivered_in.as_secs_f64().max(Duration::from_nanos(1).as_secs_f64()));
}
