//! log-batch end to end: what a batch writes, its limits, idempotent re-sends and concurrent writers.

use cairn_tests::{metric, pairs, value_of, TestServer};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn history(s: &TestServer, run: &str, key: &str) -> Vec<Value> {
    s.get(
        "metrics/get-history",
        &[("run_id", run), ("metric_key", key)],
    )
    .ok()
    .get("metrics")
    .and_then(Value::as_array)
    .cloned()
    .unwrap_or_default()
}

fn keys(items: &Value) -> BTreeSet<String> {
    items
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["key"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_batch_logs_metrics_params_and_tags_and_the_last_duplicate_tag_wins() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("batch"));
    // runs-048
    let r = s.post(
        "runs/log-batch",
        json!({"run_id": run,
               "metrics": [metric("m1", json!(1.0), 1795916809096, 0),
                           metric("m1", json!(2.0), 1795916809097, 1),
                           metric("m2", json!("NaN"), 1795916809096, 0)],
               "params": pairs(&[("p1", "a"), ("p2", "b")]),
               "tags": pairs(&[("t1", "x"), ("t1", "y")])}),
    );
    assert_eq!(r.ok(), json!({}));
    // runs-062
    let data = s.get_run(&run)["data"].clone();
    assert_eq!(
        value_of(&data["metrics"], "m1").cloned(),
        Some(json!(2.0)),
        "latest m1 is the step-1 point"
    );
    let m1 = data["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "m1")
        .unwrap();
    assert_eq!(
        m1,
        &json!({"key": "m1", "value": 2.0, "timestamp": 1795916809097i64, "step": 1})
    );
    assert_eq!(value_of(&data["metrics"], "m2"), Some(&json!("NaN")));
    assert_eq!(data["params"].as_array().unwrap().len(), 2);
    assert_eq!(value_of(&data["params"], "p1"), Some(&json!("a")));
    assert_eq!(value_of(&data["params"], "p2"), Some(&json!("b")));
    assert_eq!(value_of(&data["tags"], "t1"), Some(&json!("y")));
    assert_eq!(
        history(&s, &run, "m1").len(),
        2,
        "history keeps both points"
    );
}

#[test]
fn an_empty_batch_is_accepted() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("empty"));
    let before = s.get_run(&run);
    // runs-049, search-012
    assert_eq!(
        s.post("runs/log-batch", json!({"run_id": run})).ok(),
        json!({})
    );
    s.log_batch(&run, json!([]), json!([]), json!([]));
    assert_eq!(s.get_run(&run), before);
}

#[test]
fn re_sending_an_identical_batch_is_harmless() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("resend"));
    let metrics: Vec<Value> = (0..50)
        .map(|i| metric("loss", json!(1.0 / (i + 1) as f64), 1000 + i, i))
        .chain([metric("nan", json!("NaN"), 5, 0)])
        .collect();
    let body = json!({"run_id": run, "metrics": metrics,
                      "params": pairs(&[("lr", "0.1")]), "tags": pairs(&[("t", "v")])});
    s.post("runs/log-batch", body.clone()).ok();
    let first = s.get_run(&run);
    // A client that retries after a lost answer sends the same batch again.
    for _ in 0..2 {
        assert_eq!(s.post("runs/log-batch", body.clone()).ok(), json!({}));
    }
    assert_eq!(s.get_run(&run), first);
    assert_eq!(history(&s, &run, "loss").len(), 50);
    assert_eq!(history(&s, &run, "nan").len(), 1);
}

#[test]
fn a_batch_may_repeat_a_logged_param_value_but_not_change_it() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("params"));
    s.log_batch(&run, json!([]), pairs(&[("p1", "a")]), json!([]));
    // runs-050
    s.log_batch(
        &run,
        json!([]),
        pairs(&[("p1", "a"), ("p2", "b")]),
        json!([]),
    );
    // runs-051
    let r = s.post(
        "runs/log-batch",
        json!({"run_id": run, "params": pairs(&[("p3", "c"), ("p1", "changed")]),
               "metrics": [metric("m", json!(1), 1, 0)], "tags": pairs(&[("t", "v")])}),
    );
    r.expect_error(400, "INVALID_PARAMETER_VALUE");
    assert!(r.body["message"].as_str().unwrap().contains("changed"));
    let data = s.get_run(&run)["data"].clone();
    assert_eq!(keys(&data["params"]), ["p1", "p2"].map(String::from).into());
    assert_eq!(value_of(&data["params"], "p1"), Some(&json!("a")));
    assert!(data.get("metrics").is_none());
    assert_eq!(value_of(&data["tags"], "t"), None);
}

#[test]
fn duplicate_param_keys_in_one_batch_are_refused() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("dups"));
    // runs-052: even with equal values.
    for params in [
        pairs(&[("p9", "a"), ("p9", "b")]),
        pairs(&[("p9", "a"), ("p9", "a")]),
    ] {
        let r = s.post("runs/log-batch", json!({"run_id": run, "params": params}));
        r.expect_error(400, "INVALID_PARAMETER_VALUE");
        assert!(r.body["message"].as_str().unwrap().contains("p9"));
    }
    assert!(s.get_run(&run)["data"].get("params").is_none());
}

#[test]
fn a_batch_holds_at_most_1000_metrics_100_params_100_tags_and_1000_entities() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("limits"));
    let metrics = |n: i64| -> Value { (0..n).map(|i| metric("bm", json!(i), 1, i)).collect() };
    let params = |n: usize| -> Value {
        (0..n)
            .map(|i| json!({"key": format!("bp{i}"), "value": "v"}))
            .collect()
    };
    let tags = |n: usize| -> Value {
        (0..n)
            .map(|i| json!({"key": format!("bt{i}"), "value": "v"}))
            .collect()
    };
    // runs-053..057
    for (body, what) in [
        (json!({"run_id": run, "params": params(101)}), "100 params"),
        (json!({"run_id": run, "tags": tags(101)}), "100 tags"),
        (
            json!({"run_id": run, "metrics": metrics(1001)}),
            "1000 metrics",
        ),
        (
            json!({"run_id": run, "metrics": metrics(901), "params": params(100)}),
            "1000 metrics, params, and tags",
        ),
    ] {
        let r = s.post("runs/log-batch", body);
        r.expect_error(400, "INVALID_PARAMETER_VALUE");
        assert!(
            r.body["message"].as_str().unwrap().contains(what),
            "{what}: {}",
            r.text
        );
    }
    assert_eq!(s.get_run(&run)["data"].get("params"), None);
    // Exactly at the limits.
    s.log_batch(&run, metrics(1000), json!([]), json!([]));
    assert_eq!(history(&s, &run, "bm").len(), 1000);
    s.log_batch(&run, metrics(800), params(100), tags(100));
    let data = s.get_run(&run)["data"].clone();
    assert_eq!(data["params"].as_array().unwrap().len(), 100);
    assert_eq!(
        data["tags"].as_array().unwrap().len(),
        101,
        "100 + mlflow.runName"
    );
}

#[test]
fn a_malformed_entry_is_named_by_its_position_and_nothing_is_written() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("malformed"));
    // runs-058
    let r = s.post(
        "runs/log-batch",
        json!({"run_id": run, "metrics": [metric("ok", json!(1), 1, 0), {"key": "m1", "value": 1.0}]}),
    );
    r.expect_error(400, "INVALID_PARAMETER_VALUE");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("metrics[1].timestamp"),
        "{}",
        r.text
    );
    for body in [
        json!({"run_id": run, "metrics": [{"key": "m", "timestamp": 1}]}),
        json!({"run_id": run, "metrics": [metric("m", json!("abc"), 1, 0)]}),
        json!({"run_id": run, "metrics": [metric("bad*key", json!(1), 1, 0)]}),
        json!({"run_id": run, "params": [{"value": "v"}]}),
        json!({"run_id": run, "tags": [{"key": "/abs", "value": "v"}]}),
        json!({"run_id": run, "metrics": {"key": "m"}}),
    ] {
        s.post("runs/log-batch", body.clone())
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    let data = s.get_run(&run)["data"].clone();
    assert!(
        data.get("metrics").is_none() && data.get("params").is_none(),
        "{data}"
    );
}

#[test]
fn a_batch_needs_a_well_formed_run_id_of_an_existing_run() {
    let s = TestServer::start();
    // runs-059, errors-036
    s.post("runs/log-batch", json!({"metrics": []}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post("runs/log-batch", json!({"run_id": "not a valid id!"}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post(
        "runs/log-batch",
        json!({"run_id": "0123456789abcdef0123456789abcdef", "params": pairs(&[("p", "v")])}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn batches_as_the_client_sends_them_are_accepted() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("client"));
    // runs-086: log_metrics repeats run_id in every metric; runs-084: params stringified.
    let r = s.post(
        "runs/log-batch",
        json!({"run_id": run,
               "metrics": [{"key": "loss", "value": 0.25, "timestamp": 1795916810616i64, "step": 3, "run_id": run},
                           {"key": "acc", "value": 0.5, "timestamp": 1795916810616i64, "step": 3, "run_id": run}],
               "params": [{"key": "p_c", "value": "None"}]}),
    );
    assert_eq!(r.ok(), json!({}));
    let data = s.get_run(&run)["data"].clone();
    assert_eq!(
        keys(&data["metrics"]),
        ["acc", "loss"].map(String::from).into()
    );
    assert_eq!(value_of(&data["params"], "p_c"), Some(&json!("None")));
}

#[test]
fn long_values_in_a_batch_are_truncated_like_single_writes() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("truncate"));
    let param = "p".repeat(6001);
    let tag = "t".repeat(8001);
    s.log_batch(
        &run,
        json!([]),
        json!([{"key": "long", "value": param}]),
        json!([{"key": "long", "value": tag}]),
    );
    let data = s.get_run(&run)["data"].clone();
    assert_eq!(
        value_of(&data["params"], "long"),
        Some(&json!(param[..6000]))
    );
    assert_eq!(value_of(&data["tags"], "long"), Some(&json!(tag[..8000])));
}

#[test]
fn sixteen_threads_logging_to_one_run_lose_nothing() {
    const THREADS: i64 = 16;
    const BATCHES: i64 = 10;
    const POINTS: i64 = 20;
    let s = TestServer::start();
    let run = s.run(&s.experiment("concurrent"));
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (s, run) = (&s, run.as_str());
            scope.spawn(move || {
                for b in 0..BATCHES {
                    let metrics: Vec<Value> = (0..POINTS)
                        .map(|i| {
                            let step = (b * POINTS + i) * THREADS + t;
                            metric("shared", json!(step as f64), 1000 + step, step)
                        })
                        .chain([metric(&format!("own{t}"), json!(b), 1, b)])
                        .collect();
                    s.log_batch(
                        run,
                        json!(metrics),
                        json!([{"key": format!("p{t}-{b}"), "value": "v"}]),
                        json!([{"key": format!("t{t}"), "value": format!("{b}")},
                               {"key": "shared-tag", "value": "x"}]),
                    );
                    let r = s.post(
                        "runs/log-metric",
                        json!({"run_id": run, "key": "single", "value": t, "timestamp": b, "step": t}),
                    );
                    assert_eq!(r.status, 200, "{}", r.text);
                }
            });
        }
    });
    let total = THREADS * BATCHES * POINTS;
    let shared = history(&s, &run, "shared");
    assert_eq!(shared.len() as i64, total);
    let steps: BTreeSet<i64> = shared.iter().map(|m| m["step"].as_i64().unwrap()).collect();
    assert_eq!(steps, (0..total).collect(), "every point exactly once");
    assert_eq!(history(&s, &run, "single").len() as i64, THREADS * BATCHES);
    let data = s.get_run(&run)["data"].clone();
    assert_eq!(
        data["params"].as_array().unwrap().len() as i64,
        THREADS * BATCHES
    );
    // The latest point of `shared` is the greatest step, whichever thread wrote it.
    assert_eq!(
        value_of(&data["metrics"], "shared"),
        Some(&json!((total - 1) as f64))
    );
    for t in 0..THREADS {
        assert_eq!(
            value_of(&data["metrics"], &format!("own{t}")),
            Some(&json!((BATCHES - 1) as f64)),
            "own{t}"
        );
        assert_eq!(
            value_of(&data["tags"], &format!("t{t}")),
            Some(&json!((BATCHES - 1).to_string())),
            "each thread's last tag value"
        );
    }
    // 16 per-thread tags, the shared one and mlflow.runName.
    assert_eq!(data["tags"].as_array().unwrap().len() as i64, THREADS + 2);
}
