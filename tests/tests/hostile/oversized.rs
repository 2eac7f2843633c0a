//! Values past MLflow's limits and bodies past an endpoint's limit (declared or chunked) are refused.

use super::endpoints;
use super::*;
use cairn_schema::limits::*;
use std::io::{Read, Write};

const VALUES: &str = "oversized values";
const BODIES: &str = "oversized bodies (413)";

fn long(n: usize) -> String {
    "k".repeat(n)
}

fn metrics(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"key": format!("m{i}"), "value": 1.5, "timestamp": 1, "step": 0}))
        .collect()
}

fn keyed(n: usize, prefix: &str) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"key": format!("{prefix}{i}"), "value": "v"}))
        .collect()
}

/// Requests with one value past its limit each.
fn oversized(w: &World) -> Vec<Call> {
    let (exp, run, model, lm, root) = (&w.exp, &w.run, w.model, &w.logged, &w.root);
    let post = |api: &str, body: Value| Call::json("POST", format!("{API}/{api}"), &body);
    let mut calls = Vec::new();
    for n in [MAX_KEY_LENGTH + 1, 1000, 100_000] {
        let key = long(n);
        calls.extend([
            post(
                "runs/log-metric",
                json!({"run_id": run, "key": key, "value": 1, "timestamp": 1}),
            ),
            post(
                "runs/log-parameter",
                json!({"run_id": run, "key": key, "value": "v"}),
            ),
            post(
                "runs/set-tag",
                json!({"run_id": run, "key": key, "value": "v"}),
            ),
            post(
                "runs/log-batch",
                json!({"run_id": run, "metrics": [{"key": key, "value": 1, "timestamp": 1}]}),
            ),
            post(
                "runs/log-batch",
                json!({"run_id": run, "params": [{"key": key, "value": "v"}]}),
            ),
            post(
                "runs/log-batch",
                json!({"run_id": run, "tags": [{"key": key, "value": "v"}]}),
            ),
            post(
                "runs/create",
                json!({"experiment_id": exp, "tags": [{"key": key, "value": "v"}]}),
            ),
            post(
                "experiments/set-experiment-tag",
                json!({"experiment_id": exp, "key": key, "value": "v"}),
            ),
            post(
                "experiments/create",
                json!({"name": "big-key", "tags": [{"key": key, "value": "v"}]}),
            ),
            post(
                "registered-models/set-tag",
                json!({"name": model, "key": key, "value": "v"}),
            ),
            post(
                "model-versions/set-tag",
                json!({"name": model, "version": "1", "key": key, "value": "v"}),
            ),
            post(
                "logged-models",
                json!({"experiment_id": exp, "tags": [{"key": key, "value": "v"}]}),
            ),
            post(
                "logged-models",
                json!({"experiment_id": exp, "params": [{"key": key, "value": "v"}]}),
            ),
            post(
                &format!("logged-models/{lm}/params"),
                json!({"params": [{"key": key, "value": "v"}]}),
            ),
            Call::json(
                "PATCH",
                format!("{API}/logged-models/{lm}/tags"),
                &json!({"tags": [{"key": key, "value": "v"}]}),
            ),
            post(
                "registered-models/alias",
                json!({"name": model, "alias": long(n.max(256)), "version": "1"}),
            ),
            post(
                "runs/log-metric",
                json!({"run_id": long(n.max(257)), "key": "m", "value": 1, "timestamp": 1}),
            ),
        ]);
    }
    let dataset = |field: &str, n: usize| {
        let mut d = json!({"name": "d", "digest": "x", "source_type": "local", "source": "s"});
        d[field] = json!(long(n));
        post(
            "runs/log-inputs",
            json!({"run_id": run, "datasets": [{"dataset": d}]}),
        )
    };
    calls.extend([
        post("experiments/create", json!({"name": long(MAX_EXPERIMENT_NAME_LENGTH + 1)})),
        post("experiments/update", json!({"experiment_id": exp, "new_name": long(MAX_EXPERIMENT_NAME_LENGTH + 1)})),
        post("experiments/set-experiment-tag", json!({"experiment_id": exp, "key": "k", "value": long(MAX_EXPERIMENT_TAG_VALUE_LENGTH + 1)})),
        post("experiments/create", json!({"name": "big-location", "artifact_location": format!("mlflow-artifacts:/{}", long(2048))})),
        post("registered-models/set-tag", json!({"name": model, "key": "k", "value": long(100_001)})),
        post("model-versions/set-tag", json!({"name": model, "version": "1", "key": "k", "value": long(100_001)})),
        post("runs/log-batch", json!({"run_id": run, "metrics": metrics(MAX_METRICS_PER_BATCH + 1)})),
        post("runs/log-batch", json!({"run_id": run, "params": keyed(MAX_PARAMS_PER_BATCH + 1, "p")})),
        post("runs/log-batch", json!({"run_id": run, "tags": keyed(MAX_TAGS_PER_BATCH + 1, "t")})),
        post("runs/log-batch", json!({"run_id": run, "metrics": metrics(950), "params": keyed(30, "p"), "tags": keyed(30, "t")})),
        dataset("name", MAX_DATASET_NAME_LENGTH + 1),
        dataset("digest", MAX_DATASET_DIGEST_LENGTH + 1),
        dataset("source", MAX_DATASET_SOURCE_LENGTH + 1),
        dataset("source_type", MAX_DATASET_SOURCE_LENGTH + 1),
        dataset("schema", MAX_DATASET_SCHEMA_LENGTH + 1),
        post("runs/log-inputs", json!({"run_id": run, "datasets": [{"tags": [{"key": "k", "value": long(MAX_INPUT_TAG_VALUE_LENGTH + 1)}],
            "dataset": {"name": "d", "digest": "x", "source_type": "local", "source": "s"}}]})),
        post("runs/log-inputs", json!({"run_id": run, "datasets": [{"tags": [{"key": long(MAX_INPUT_TAG_KEY_LENGTH + 1), "value": "v"}],
            "dataset": {"name": "d", "digest": "x", "source_type": "local", "source": "s"}}]})),
        Call::json("POST", format!("{API}/runs/search"), &json!({"experiment_ids": [exp], "max_results": MAX_SEARCH_RESULTS + 1})),
        Call::json("POST", format!("{API}/experiments/search"), &json!({"max_results": MAX_SEARCH_RESULTS + 1})),
        Call::get(format!("{API}/registered-models/search?max_results=1001")),
        Call::get(format!("{API}/model-versions/search?max_results=200001")),
        Call::get(format!("{API}/metrics/get-history-bulk-interval?run_ids={run}&metric_key=m&max_results={}", MAX_BULK_HISTORY_RESULTS + 1)),
        Call::get(format!("{API}/metrics/get-history-bulk-interval?metric_key=m&{}",
            (0..=MAX_BULK_HISTORY_RUNS).map(|_| format!("run_ids={run}")).collect::<Vec<_>>().join("&"))),
        Call::json("POST", format!("{MPU}/create/{root}"), &json!({"path": "x.bin", "num_parts": 10_001})),
        Call::bytes("PUT", format!("{PROXY}/{root}/{}", long(256)), None, b"x".to_vec()),
        Call::bytes("PUT", format!("{PROXY}/{}", ["k"; 600].join("/")), None, b"x".to_vec()),
        Call::get(format!("{CAIRN}/artifacts/versions?path={}", long(1025))),
    ]);
    calls
}

#[test]
fn values_past_mlflows_limits_are_refused_and_write_nothing() {
    let w = World::new();
    let before = w.fingerprint();
    let mut tally = Tally::default();
    for call in oversized(&w) {
        w.refused_as(&mut tally, VALUES, &call, 400, "INVALID_PARAMETER_VALUE");
    }
    w.unchanged(&before, VALUES);
    tally.finish(&[VALUES]);
}

#[test]
fn param_and_tag_values_past_the_limit_are_cut_to_it_as_mlflow_cuts_them() {
    let w = World::new();
    let long_value = "v".repeat(MAX_RUN_TAG_VALUE_LENGTH * 2);
    for (api, key) in [("runs/log-parameter", "cut-p"), ("runs/set-tag", "cut-t")] {
        ok(
            w.s.post(
                api,
                json!({"run_id": w.run, "key": key, "value": long_value}),
            ),
            api,
        );
    }
    let data = &w.s.get_run(&w.run)["data"];
    let stored = |items: &Value, key: &str| {
        cairn_tests::value_of(items, key)
            .and_then(Value::as_str)
            .map(str::len)
    };
    assert_eq!(
        stored(&data["params"], "cut-p"),
        Some(MAX_PARAM_VALUE_LENGTH)
    );
    assert_eq!(
        stored(&data["tags"], "cut-t"),
        Some(MAX_RUN_TAG_VALUE_LENGTH)
    );
}

/// Sends a head declaring `declared` bytes (or chunked when `None`) and then `body`
/// from another thread, reading the answer meanwhile: a server that answers before
/// reading the whole body may close before it is all sent.
fn send_big(
    w: &World,
    method: &str,
    path: &str,
    declared: Option<usize>,
    body: Vec<u8>,
) -> RawReply {
    let mut stream = std::net::TcpStream::connect(w.s.addr()).expect("connecting");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let length = match declared {
        Some(n) => format!("Content-Length: {n}"),
        None => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\n{length}\r\n\r\n",
        w.s.addr()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let chunked = declared.is_none();
    let feeder = std::thread::spawn(move || {
        for piece in body.chunks(64 * 1024) {
            let framed = if chunked {
                [format!("{:x}\r\n", piece.len()).as_bytes(), piece, b"\r\n"].concat()
            } else {
                piece.to_vec()
            };
            if writer.write_all(&framed).is_err() {
                return;
            }
        }
        if chunked {
            let _ = writer.write_all(b"0\r\n\r\n");
        }
        // No more is coming: the server need not wait for the rest of a declared length.
        let _ = writer.shutdown(std::net::Shutdown::Write);
    });
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let _ = feeder.join();
    cairn_tests::parse_response(&raw)
}

#[test]
fn bodies_past_an_endpoints_limit_get_413_declared_or_chunked_and_write_nothing() {
    let w = World::new();
    let all = endpoints::all(&w);
    let before = w.fingerprint();
    let mut tally = Tally::default();
    for e in &all {
        let limit = if e.path.ends_with("/runs/log-inputs") || e.path.contains("/logged-models") {
            32 * 1024 * 1024
        } else {
            4 * 1024 * 1024
        };
        // Declared: refused from the head, before a byte of the body is read.
        let target = if e.is_query() {
            with_query(&e.path, &e.body)
        } else {
            e.path.clone()
        };
        tally.add(BODIES);
        let reply = send_big(&w, e.method, &target, Some(limit + 1), vec![b' '; 1024]);
        let what = format!("{} {target} declaring {} bytes", e.method, limit + 1);
        expect_envelope(&reply, &what);
        assert_eq!(
            (
                reply.status,
                reply.json()["error_code"].as_str().unwrap_or("")
            ),
            (413, "REQUEST_LIMIT_EXCEEDED"),
            "{what}: {}",
            reply.text()
        );
    }
    // Chunked, so that only counting the bytes as they come can find the excess: each
    // body is a request the endpoint would take, were it not 4 MiB and more.
    let big = "x".repeat(4 * 1024 * 1024);
    let (run, model) = (&w.run, w.model);
    for (method, api, body) in [
        (
            "POST",
            "runs/set-tag",
            json!({"run_id": run, "key": "big", "value": big}),
        ),
        (
            "POST",
            "runs/log-parameter",
            json!({"run_id": run, "key": "big", "value": big}),
        ),
        (
            "POST",
            "runs/log-batch",
            json!({"run_id": run, "tags": [{"key": "big", "value": big}]}),
        ),
        (
            "POST",
            "registered-models/create",
            json!({"name": "big", "description": big}),
        ),
        (
            "PATCH",
            "registered-models/update",
            json!({"name": model, "description": big}),
        ),
        (
            "PATCH",
            "model-versions/update",
            json!({"name": model, "version": "1", "description": big}),
        ),
    ] {
        tally.add(BODIES);
        let body = body.to_string().into_bytes();
        let what = format!("chunked {method} {api} of {} bytes", body.len());
        let reply = send_big(&w, method, &format!("{API}/{api}"), None, body);
        expect_envelope(&reply, &what);
        assert_eq!(
            (
                reply.status,
                reply.json()["error_code"].as_str().unwrap_or("")
            ),
            (413, "REQUEST_LIMIT_EXCEEDED"),
            "{what}: {}",
            reply.text()
        );
    }
    w.unchanged(&before, BODIES);
    tally.finish(&[BODIES]);
}
