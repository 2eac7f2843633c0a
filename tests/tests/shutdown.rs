//! SIGTERM under load: every in-flight request is finished or cleanly refused, the
//! server exits successfully, and every acknowledged write is there after a restart.

use cairn_tests::TestServer;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const WRITERS: usize = 8;

#[test]
fn sigterm_under_load_finishes_or_refuses_in_flight_requests_and_keeps_every_acknowledged_write() {
    let data = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path());
    let exp = server.experiment("shutdown");
    let runs: Vec<String> = (0..WRITERS).map(|_| server.run(&exp)).collect();
    let acked_total = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = runs
        .iter()
        .map(|run| {
            let (url, run, acked_total) = (server.url.clone(), run.clone(), acked_total.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                let (mut acked, mut bad_status) = (BTreeSet::new(), Vec::new());
                for n in 0.. {
                    let metrics: Vec<Value> = (0..50)
                        .map(|j| json!({"key": format!("b{n}m{j}"), "value": 1.0, "timestamp": 1, "step": 0}))
                        .collect();
                    match http
                        .post(format!("{url}/api/2.0/mlflow/runs/log-batch"))
                        .json(&json!({"run_id": run, "metrics": metrics}))
                        .send()
                    {
                        Ok(r) if r.status().is_success() => {
                            acked.insert(n);
                            acked_total.fetch_add(1, Ordering::SeqCst);
                        }
                        // A clean refusal while stopping: 503 in the envelope.
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let body: Value = r.json().unwrap_or(Value::Null);
                            if status != 503 || body["error_code"] != "TEMPORARILY_UNAVAILABLE" {
                                bad_status.push((status, body));
                            }
                            break;
                        }
                        // The listener closed: the request was never taken.
                        Err(_) => break,
                    }
                }
                (acked, bad_status)
            })
        })
        .collect();
    while acked_total.load(Ordering::SeqCst) < 200 {
        std::thread::yield_now();
    }
    assert!(
        server.terminate(),
        "the server exits successfully on SIGTERM"
    );
    let results: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();

    let server = TestServer::start_in(data.path());
    for (run, (acked, bad)) in runs.iter().zip(&results) {
        assert!(bad.is_empty(), "in-flight requests got {bad:?}");
        let keys: BTreeSet<String> = server.get_run(run)["data"]["metrics"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|x| x["key"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        for n in acked {
            assert!(
                keys.contains(&format!("b{n}m49")),
                "acknowledged batch {n} was lost"
            );
        }
        let stored: BTreeSet<&str> = keys.iter().filter_map(|k| k.split('m').next()).collect();
        for b in stored {
            let whole = (0..50).all(|j| keys.contains(&format!("{b}m{j}")));
            assert!(whole, "batch {b} is in the store in part");
        }
    }
}
