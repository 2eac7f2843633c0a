//! `cairn bench` end to end: two real Cairn servers it starts itself at the tiny scale (every case verified, ratios present), and a lying stub server it must catch.

use cairn_tests::cairn_binary;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A port nothing listens on right now (bench starts the servers on it).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn cairn_start_cmd() -> String {
    format!(
        "{} server --host {{host}} --port {{port}} --data-dir {{data}}",
        cairn_binary().display()
    )
}

/// Runs `cairn bench` with these arguments (plus --workdir and --out in `dir`);
/// returns the exit code, the JSON results and stdout.
fn bench(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = dir.join("results.json");
    let run = Command::new(cairn_binary())
        .arg("bench")
        .args(args)
        .arg("--workdir")
        .arg(dir.join("work"))
        .arg("--out")
        .arg(&out)
        .env("CAIRN_LOG", "warn")
        .output()
        .expect("running cairn bench");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&run.stderr);
    let text = std::fs::read_to_string(&out)
        .unwrap_or_else(|e| panic!("no results ({e})\nstdout: {stdout}\nstderr: {stderr}"));
    let results = serde_json::from_str(&text).expect("results are JSON");
    (run.status.code().unwrap_or(-1), results, stdout)
}

#[test]
fn bench_verifies_every_case_on_two_cairn_servers_and_reports_ratios() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = (free_port(), free_port());
    let (url_a, url_b) = (
        format!("http://127.0.0.1:{a}"),
        format!("http://127.0.0.1:{b}"),
    );
    let start = cairn_start_cmd();
    let (code, res, stdout) = bench(
        dir.path(),
        &[
            "--scale",
            "tiny",
            "--workloads",
            "log-metric,log-batch,search-runs,metric-history,artifact,memory",
            "--repeats",
            "1",
            "--duration",
            "1",
            "--settle",
            "0.2",
            "--url",
            &url_a,
            "--label",
            "first",
            "--start-cmd",
            &start,
            "--vs",
            &url_b,
            "--vs-label",
            "second",
            "--vs-start-cmd",
            &start,
        ],
    );
    assert_eq!(code, 0, "{res:#}");
    assert!(
        stdout.contains("| case | metric | first median [min–max] | second median [min–max] | first/second median [min–max] | better |"),
        "{stdout}"
    );
    let summary = res["summary"].as_object().expect("summary");
    let mut names: Vec<&str> = summary.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "artifact 8 MiB",
            "history get-history",
            "history seed (log-batch 1000/req, sequential)",
            "log-batch 1000m c=1",
            "log-batch 1000m c=4",
            "log-metric c=1",
            "log-metric c=16",
            "memory",
            "search filter-order",
            "search nofilter",
            "search page-all",
            "search seed (create+log-batch, 8 clients)",
            "search tags-like",
        ]
    );
    for (case, s) in summary {
        for label in ["first", "second"] {
            assert_eq!(s["status"][label], "verified", "{case} on {label}: {s:#}");
        }
        let metrics = s["metrics"].as_object().expect("metrics");
        assert!(!metrics.is_empty(), "{case} reports figures");
        for (name, m) in metrics {
            // A ratio needs a non-zero denominator: error counts and idle CPU are 0.
            if name == "errors" || name == "idle_cpu_cores" {
                continue;
            }
            let ratio = m["ratio"]["median"].as_f64();
            assert!(
                ratio.is_some_and(|r| r > 0.0 && r.is_finite()),
                "{case} {name}: {m:#}"
            );
        }
    }
    // The loads really ran and were read back.
    let raw = &res["raw"]["log-metric c=16"]["first"][0]["diag"];
    assert!(
        raw["points_stored"].as_u64().is_some_and(|n| n > 0),
        "{raw:#}"
    );
    let idle = &summary["memory"]["metrics"]["idle_rss_mb"]["first"]["median"];
    assert!(idle.as_f64().is_some_and(|mb| mb > 1.0), "{idle}");
}

/// An MLflow look-alike that answers 200 to every log-metric and stores nothing.
fn lying_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let runs = Arc::new(AtomicU64::new(0));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let runs = runs.clone();
            std::thread::spawn(move || serve(conn, &runs));
        }
    });
    url
}

/// HTTP/1.1 keep-alive, one request at a time, until the client closes.
fn serve(conn: TcpStream, runs: &AtomicU64) {
    let _ = conn.set_nodelay(true);
    let mut writer = conn.try_clone().expect("clone");
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (status, answer) = if path == "/health" || path.ends_with("/runs/log-metric") {
            ("200 OK", "{}".to_owned())
        } else if path.ends_with("/experiments/create") {
            ("200 OK", r#"{"experiment_id":"1"}"#.to_owned())
        } else if path.ends_with("/runs/create") {
            let id = format!("{:032x}", runs.fetch_add(1, Ordering::Relaxed));
            (
                "200 OK",
                format!(r#"{{"run":{{"info":{{"run_id":"{id}"}}}}}}"#),
            )
        } else if path.contains("/metrics/get-history") {
            ("200 OK", r#"{"metrics":[]}"#.to_owned())
        } else {
            (
                "404 Not Found",
                r#"{"error_code":"ENDPOINT_NOT_FOUND"}"#.to_owned(),
            )
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            answer.len()
        );
        if writer
            .write_all(format!("{head}{answer}").as_bytes())
            .is_err()
        {
            return;
        }
    }
}

#[test]
fn bench_reports_a_server_that_acknowledges_metrics_it_never_stores() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cairn = format!("http://127.0.0.1:{}", free_port());
    let liar = lying_server();
    let start = cairn_start_cmd();
    let (code, res, stdout) = bench(
        dir.path(),
        &[
            "--scale",
            "tiny",
            "--workloads",
            "log-metric",
            "--duration",
            "0.5",
            "--url",
            &cairn,
            "--label",
            "cairn",
            "--start-cmd",
            &start,
            "--vs",
            &liar,
            "--vs-label",
            "liar",
        ],
    );
    assert_eq!(code, 1, "a failed verification is exit code 1: {res:#}");
    for case in ["log-metric c=1", "log-metric c=16"] {
        let status = &res["summary"][case]["status"];
        assert_eq!(status["cairn"], "verified", "{case}: {status}");
        let liar = status["liar"].as_str().unwrap_or("");
        assert!(
            liar.starts_with("VERIFY FAILED: loss: 0 points stored"),
            "{case}: {liar}"
        );
    }
    assert!(
        stdout.contains("| log-metric c=1 | status |  | VERIFY FAILED"),
        "{stdout}"
    );
}
