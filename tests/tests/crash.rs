//! A SIGKILL in the middle of a stream of log-batch calls loses nothing acknowledged
//! and leaves no batch in part.

use cairn_tests::TestServer;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const WRITERS: usize = 4;
const METRICS_PER_BATCH: usize = 50;
const CYCLES: usize = 20; // the hardening issue asks for at least 20

/// Sends batches to `run` until the server stops answering; returns the acknowledged batch numbers.
fn stream_batches(
    url: String,
    run: String,
    writer: usize,
    first: usize,
    acked: Arc<AtomicUsize>,
) -> BTreeSet<usize> {
    let http = reqwest::blocking::Client::new();
    let mut ok = BTreeSet::new();
    for batch in first.. {
        let metrics: Vec<_> = (0..METRICS_PER_BATCH)
            .map(|j| json!({"key": format!("w{writer}b{batch}m{j}"), "value": j as f64, "timestamp": 1, "step": batch}))
            .collect();
        let body = json!({"run_id": run, "metrics": metrics, "params": [{"key": format!("p{batch}"), "value": "x"}]});
        let sent = http
            .post(format!("{url}/api/2.0/mlflow/runs/log-batch"))
            .json(&body)
            .send();
        match sent {
            Ok(r) if r.status().is_success() => {
                ok.insert(batch);
                acked.fetch_add(1, Ordering::SeqCst);
            }
            Ok(r) => panic!("batch refused: {}", r.status()),
            Err(_) => break,
        }
    }
    ok
}

#[test]
fn killing_the_server_mid_stream_keeps_every_acknowledged_batch_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(dir.path());
    let exp = server.experiment("crash");
    let runs: Vec<String> = (0..WRITERS).map(|_| server.run(&exp)).collect();
    let all_acked: Vec<Mutex<BTreeSet<usize>>> =
        (0..WRITERS).map(|_| Mutex::new(BTreeSet::new())).collect();

    for cycle in 0..CYCLES {
        let acked = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = runs
            .iter()
            .enumerate()
            .map(|(w, run)| {
                let (url, run, acked) = (server.url.clone(), run.clone(), acked.clone());
                std::thread::spawn(move || stream_batches(url, run, w, cycle * 1_000_000, acked))
            })
            .collect();
        while acked.load(Ordering::SeqCst) < 40 {
            std::thread::yield_now();
        }
        server.kill();
        for (w, h) in handles.into_iter().enumerate() {
            all_acked[w].lock().unwrap().extend(h.join().unwrap());
        }
        server = TestServer::start_in(dir.path());
    }

    for (w, run) in runs.iter().enumerate() {
        let data = &server.get_run(run)["data"];
        let keys: BTreeSet<String> = data["metrics"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|x| x["key"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let params: BTreeSet<String> = data["params"]
            .as_array()
            .map(|p| {
                p.iter()
                    .map(|x| x["key"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let acked = all_acked[w].lock().unwrap();
        assert!(!acked.is_empty(), "writer {w} had batches acknowledged");
        let mut batches: BTreeSet<usize> = BTreeSet::new();
        for key in &keys {
            let b: usize = key[key.find('b').unwrap() + 1..key.find('m').unwrap()]
                .parse()
                .unwrap();
            batches.insert(b);
        }
        for b in &batches {
            let present = (0..METRICS_PER_BATCH)
                .filter(|j| keys.contains(&format!("w{w}b{b}m{j}")))
                .count();
            assert_eq!(
                present, METRICS_PER_BATCH,
                "writer {w} batch {b} is partial"
            );
            assert!(
                params.contains(&format!("p{b}")),
                "writer {w} batch {b} lost its param"
            );
        }
        for b in acked.iter() {
            assert!(
                batches.contains(b),
                "writer {w} acknowledged batch {b} is missing"
            );
        }
    }
    let conn = rusqlite::Connection::open(dir.path().join("cairn.db")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
