//! Operations on the store: `cairn backup` copies it consistently while writes go on, a
//! server starts from the copy, and a server that died is checked before it serves again.

use cairn_tests::{cairn_binary, TestServer};
use serde_json::{json, Value};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const POINTS_PER_BATCH: usize = 100;

/// Streams log-batch requests of `POINTS_PER_BATCH` points until `stop` is set.
fn keep_writing(url: String, run: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let http = reqwest::blocking::Client::new();
        let mut batches = 0;
        while !stop.load(Ordering::SeqCst) {
            let metrics: Vec<Value> = (0..POINTS_PER_BATCH)
                .map(|j| json!({"key": "loss", "value": j as f64, "timestamp": batches, "step": j}))
                .collect();
            let ok = http
                .post(format!("{url}/api/2.0/mlflow/runs/log-batch"))
                .json(&json!({"run_id": run, "metrics": metrics}))
                .send()
                .is_ok_and(|r| r.status().is_success());
            assert!(ok, "a batch was refused");
            batches += 1;
        }
        batches
    })
}

fn backup(data_dir: &std::path::Path, to: &std::path::Path) -> std::process::Output {
    Command::new(cairn_binary())
        .args(["backup", "-o", "json", "--data-dir"])
        .arg(data_dir)
        .arg("--to")
        .arg(to)
        .output()
        .unwrap()
}

#[test]
fn a_backup_taken_during_writes_is_whole_and_a_server_starts_from_it() {
    let server = TestServer::start();
    let exp = server.experiment("backed-up");
    let run = server.create_run(json!({"experiment_id": exp}))["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = keep_writing(server.url.clone(), run.clone(), stop.clone());
    std::thread::sleep(std::time::Duration::from_millis(300));

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("restored").join("cairn.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let out = backup(server.data_dir(), &copy);
    stop.store(true, Ordering::SeqCst);
    let written = writer.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["integrity"], "ok");
    assert_eq!(report["runs"], 1);
    let points = report["metric_points"].as_u64().unwrap() as usize;
    assert!(points > 0, "writes had begun before the backup: {report}");
    assert_eq!(
        points % POINTS_PER_BATCH,
        0,
        "no batch is in the copy in part: {points}"
    );
    assert!(points <= written * POINTS_PER_BATCH);

    // A server started on the copy serves what it holds.
    let restored = TestServer::start_in(copy.parent().unwrap());
    let history = restored
        .get(
            "metrics/get-history",
            &[
                ("run_id", run.as_str()),
                ("metric_key", "loss"),
                ("max_results", "25000"),
            ],
        )
        .ok();
    let served = history["metrics"].as_array().map_or(0, Vec::len);
    assert_eq!(served, points.min(25_000));

    let again = backup(server.data_dir(), &copy);
    assert_eq!(
        again.status.code(),
        Some(1),
        "a backup never overwrites a file"
    );
}

#[test]
fn a_server_that_died_leaves_its_marker_and_the_next_start_checks_the_store() {
    let data = tempfile::tempdir().unwrap();
    let marker = data.path().join("cairn.db.open");
    let mut server = TestServer::start_in(data.path());
    assert!(marker.exists(), "an open store is marked");
    server.experiment("kept");
    server.kill();
    assert!(marker.exists(), "a killed server leaves its marker");

    let mut server = TestServer::start_in(data.path());
    assert_eq!(
        server
            .get("experiments/get-by-name", &[("experiment_name", "kept")])
            .status,
        200
    );
    assert!(server.terminate(), "a graceful stop");
    assert!(!marker.exists(), "a clean stop removes the marker");
}

#[test]
fn a_damaged_store_after_a_crash_is_refused_with_a_pointer_to_the_backup() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path());
    for i in 0..200 {
        server.experiment(&format!("e{i}"));
    }
    assert!(server.terminate());
    // Fold the WAL into the file, damage a page in its middle, then pretend the server crashed.
    let db = data.path().join("cairn.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
        .unwrap();
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 3 * 4096, "{} bytes", bytes.len());
    for b in &mut bytes[2 * 4096..2 * 4096 + 2048] {
        *b = 0xA5;
    }
    std::fs::write(&db, bytes).unwrap();
    std::fs::write(data.path().join("cairn.db.open"), "1").unwrap();

    let out = Command::new(cairn_binary())
        .args(["server", "--port", "0", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "a damaged store is not served");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("integrity check") && said.contains("cairn backup"),
        "{said}"
    );
}
