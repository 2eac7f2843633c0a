//! A write retried after its answer was lost is not applied twice: the Rust client's
//! `Idempotency-Key` makes the server answer again, and a log-batch without a key stores
//! each point once.

use cairn_client::{Client, NewVersion, SearchRuns};
use cairn_tests::TestServer;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Reads one HTTP message (head and a Content-Length body); `None` at end of stream.
fn read_message(from: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut message = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if from.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
        message.extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    from.read_exact(&mut body).ok()?;
    message.extend(body);
    Some(message)
}

/// A proxy in front of the server that forwards every request but throws away the
/// first `drops` answers, closing the connection instead, as a network failure would.
fn lossy_proxy(server: &TestServer, drops: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = server.url.trim_start_matches("http://").to_owned();
    let left = Arc::new(AtomicUsize::new(drops));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (upstream, left) = (upstream.clone(), left.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                while let Some(request) = read_message(&mut reader) {
                    let mut up = TcpStream::connect(&upstream).unwrap();
                    up.write_all(&request).unwrap();
                    let answer = read_message(&mut BufReader::new(up)).unwrap();
                    let lose = left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if lose {
                        let _ = conn.shutdown(Shutdown::Both);
                        return;
                    }
                    conn.write_all(&answer).unwrap();
                }
            });
        }
    });
    url
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn creations_whose_answers_were_lost_are_applied_once() {
    let server = TestServer::start();
    let lossy = Client::new(&lossy_proxy(&server, 3));
    let direct = Client::new(&server.url);
    block_on(async {
        // Without the key the retry would meet RESOURCE_ALREADY_EXISTS.
        let exp = lossy.create_experiment("lost-answers").await.unwrap();
        let run = lossy.create_run(&exp, Some("once")).await.unwrap();
        let runs = direct
            .search_all_runs(
                &SearchRuns {
                    experiment_ids: vec![exp.clone()],
                    ..SearchRuns::default()
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(runs.len(), 1, "one run, not one per attempt");
        assert_eq!(runs[0].info.run_id, run.info.run_id);

        direct
            .create_registered_model("once-model", None, &[])
            .await
            .unwrap();
        let version = lossy
            .create_model_version(
                "once-model",
                &NewVersion {
                    source: format!("runs:/{}/model", run.info.run_id),
                    run_id: Some(run.info.run_id.clone()),
                    ..NewVersion::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(version.version, "1");
        let model = direct.get_registered_model("once-model").await.unwrap();
        assert_eq!(model.latest_versions.len(), 1);
        assert_eq!(
            model.latest_versions[0].version, "1",
            "no second version from the retry"
        );
    });
}

#[test]
fn the_same_key_gets_the_same_answer_and_another_request_under_it_is_refused() {
    let server = TestServer::start();
    let http = reqwest::blocking::Client::new();
    let exp = server.experiment("keyed");
    let create = |body: serde_json::Value| {
        http.post(format!("{}/api/2.0/mlflow/runs/create", server.url))
            .header("Idempotency-Key", "k-123")
            .json(&body)
            .send()
            .unwrap()
    };
    let first = create(json!({"experiment_id": exp, "run_name": "a"}));
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().unwrap();
    let again = create(json!({"experiment_id": exp, "run_name": "a"}));
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let again: serde_json::Value = again.json().unwrap();
    assert_eq!(
        again["run"]["info"]["run_id"],
        first["run"]["info"]["run_id"]
    );

    let other = create(json!({"experiment_id": exp, "run_name": "b"}));
    assert_eq!(other.status(), 400);
    let envelope: serde_json::Value = other.json().unwrap();
    assert_eq!(envelope["error_code"], "INVALID_PARAMETER_VALUE");
    let runs = server
        .post("runs/search", json!({"experiment_ids": [exp]}))
        .ok();
    assert_eq!(runs["runs"].as_array().map_or(0, Vec::len), 1);
}

#[test]
fn a_log_batch_sent_twice_without_a_key_stores_each_point_once() {
    let server = TestServer::start();
    let exp = server.experiment("mlflow-retry");
    let run = server.run(&exp);
    let metrics: Vec<_> = (0..100).map(|s| json!({"key": "loss", "value": 1.0 / (s + 1) as f64, "timestamp": 1000 + s, "step": s})).collect();
    let batch = json!({"run_id": run, "metrics": metrics, "params": [{"key": "lr", "value": "0.1"}], "tags": [{"key": "t", "value": "v"}]});
    for _ in 0..2 {
        assert_eq!(server.post("runs/log-batch", batch.clone()).status, 200);
    }
    let history = server
        .get(
            "metrics/get-history",
            &[("run_id", run.as_str()), ("metric_key", "loss")],
        )
        .ok();
    assert_eq!(history["metrics"].as_array().unwrap().len(), 100);
}
