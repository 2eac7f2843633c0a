//! Bad input gets a 4xx in MLflow's envelope, and nothing is written.

use cairn_tests::TestServer;
use serde_json::{json, Value};

fn metrics(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"key": format!("m{i}"), "value": i as f64, "timestamp": 1, "step": 0}))
        .collect()
}

#[test]
fn a_batch_of_1001_metrics_is_refused_and_writes_nothing() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("e"));
    let r = s.post(
        "runs/log-batch",
        json!({"run_id": run, "metrics": metrics(1001)}),
    );
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALID_PARAMETER_VALUE"),
        "{:?}",
        r.body
    );
    assert!(s.get_run(&run)["data"].get("metrics").is_none());
}

#[test]
fn a_batch_that_changes_a_param_lands_none_of_its_metrics() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("e"));
    let first = s.post(
        "runs/log-parameter",
        json!({"run_id": run, "key": "lr", "value": "0.1"}),
    );
    assert_eq!(first.status, 200);
    let r = s.post(
        "runs/log-batch",
        json!({"run_id": run, "metrics": metrics(10), "params": [{"key": "lr", "value": "0.2"}], "tags": [{"key": "t", "value": "v"}]}),
    );
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALID_PARAMETER_VALUE"),
        "{:?}",
        r.body
    );
    let data = &s.get_run(&run)["data"];
    assert!(data.get("metrics").is_none(), "{data}");
    assert_eq!(data["params"], json!([{"key": "lr", "value": "0.1"}]));
    assert!(!data["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["key"] == "t"));
}

#[test]
fn filters_smuggling_sql_or_tautologies_are_refused() {
    let s = TestServer::start();
    let exp = s.experiment("e");
    s.run(&exp);
    for filter in [
        "metrics.acc > 0 OR 1=1",
        "params.x = 'a'; DROP TABLE runs; --",
        "params.x = 'a' --",
        "1=1",
    ] {
        let r = s.post(
            "runs/search",
            json!({"experiment_ids": [exp], "filter": filter}),
        );
        assert_eq!(
            (r.status, r.error_code()),
            (400, "INVALID_PARAMETER_VALUE"),
            "{filter}: {:?}",
            r.body
        );
    }
    let r = s.post("runs/search", json!({"experiment_ids": [exp]}));
    assert_eq!(
        r.body["runs"].as_array().map(Vec::len),
        Some(1),
        "runs table intact"
    );
}

#[test]
fn a_run_id_that_walks_directories_is_refused() {
    let s = TestServer::start();
    let get = s.get("runs/get", &[("run_id", "../../etc")]);
    assert_eq!(
        (get.status, get.error_code()),
        (400, "INVALID_PARAMETER_VALUE")
    );
    let log = s.post(
        "runs/log-metric",
        json!({"run_id": "../../etc", "key": "m", "value": 1, "timestamp": 1}),
    );
    assert_eq!(
        (log.status, log.error_code()),
        (400, "INVALID_PARAMETER_VALUE")
    );
    let hist = s.get(
        "metrics/get-history",
        &[("run_id", "../../etc"), ("metric_key", "m")],
    );
    assert_eq!(hist.status, 400);
}

#[test]
fn json_nested_ten_thousand_levels_deep_is_a_bad_request() {
    let s = TestServer::start();
    let body = format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes();
    let r = s.raw_post(
        "/api/2.0/mlflow/experiments/create",
        "application/json",
        body,
    );
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALID_PARAMETER_VALUE"),
        "{:?}",
        r.body
    );
    assert_eq!(
        s.get("experiments/get", &[("experiment_id", "0")]).status,
        200,
        "server still answers"
    );
}

#[test]
fn a_post_that_is_not_json_is_refused_and_writes_nothing() {
    let s = TestServer::start();
    let r = s.raw_post(
        "/api/2.0/mlflow/experiments/create",
        "text/plain",
        br#"{"name": "sneaky"}"#.to_vec(),
    );
    assert_eq!(
        (r.status, r.error_code()),
        (400, "INVALID_PARAMETER_VALUE"),
        "{:?}",
        r.body
    );
    let missing = s.raw_post(
        "/api/2.0/mlflow/experiments/create",
        "",
        br#"{"name": "sneaky"}"#.to_vec(),
    );
    assert_eq!(missing.status, 400);
    assert_eq!(
        s.get("experiments/get-by-name", &[("experiment_name", "sneaky")])
            .status,
        404
    );
}

#[test]
fn wrong_types_are_refused_rather_than_dropped() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("e"));
    let cases = [
        json!({"run_id": run, "key": "m", "value": 1.0, "timestamp": 1.5}),
        json!({"run_id": run, "key": "m", "value": true, "timestamp": 1}),
        json!({"run_id": run, "key": "m", "value": 1.0, "timestamp": 1, "step": "x"}),
        json!({"run_id": run, "key": "bad*key", "value": 1.0, "timestamp": 1}),
        json!({"run_id": run, "key": "m", "value": 1.0, "timestamp": -1}),
    ];
    for body in cases {
        let r = s.post("runs/log-metric", body.clone());
        assert_eq!(
            (r.status, r.error_code()),
            (400, "INVALID_PARAMETER_VALUE"),
            "{body}: {:?}",
            r.body
        );
    }
    assert!(s.get_run(&run)["data"].get("metrics").is_none());
}

#[test]
fn forged_page_tokens_are_refused() {
    let s = TestServer::start();
    let exp = s.experiment("e");
    for token in ["abc", "eyJvZmZzZXQiOiAtNX0=", "bm90IGpzb24="] {
        let r = s.post(
            "runs/search",
            json!({"experiment_ids": [exp], "page_token": token}),
        );
        assert_eq!(
            (r.status, r.error_code()),
            (400, "INVALID_PARAMETER_VALUE"),
            "{token}"
        );
    }
}

#[test]
fn unknown_paths_answer_a_json_404() {
    let s = TestServer::start();
    let r = s.raw_get("/api/2.0/mlflow/no/such/endpoint", &[]);
    assert_eq!((r.status, r.error_code()), (404, "ENDPOINT_NOT_FOUND"));
    let r = s.raw_get("/api/2.1/mlflow/runs/get", &[]);
    assert_eq!(r.status, 404);
}
