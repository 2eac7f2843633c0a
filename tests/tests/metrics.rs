//! Metrics end to end: log-metric values, the latest value per key, get-history paging and get-history-bulk-interval sampling.

use cairn_tests::{metric, value_of, TestServer};
use serde_json::{json, Value};

/// The points of `loss` logged to run 0 in metrics-004: (value, timestamp, step).
const RUN0: [(f64, i64, i64); 6] = [
    (1.0, 1700000000000, 0),
    (0.8, 1700000000010, 1),
    (0.6, 1700000000020, 2),
    (0.55, 1700000000025, 2),
    (f64::NAN, 1700000000030, 3),
    (0.4, 1700000000040, 4),
];

/// The points of `loss` logged to run 1 in metrics-005.
fn run1() -> Vec<(f64, i64, i64)> {
    let values = [
        2.0,
        1.9,
        1.8,
        1.7,
        1.6,
        1.5,
        1.4,
        1.2999999999999998,
        1.2,
        1.1,
    ];
    (0..10)
        .map(|i| (values[i as usize], 1700000000000 + i, i))
        .collect()
}

fn wire(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else {
        json!(v)
    }
}

fn points(points: &[(f64, i64, i64)]) -> Value {
    points
        .iter()
        .map(|&(v, ts, step)| metric("loss", wire(v), ts, step))
        .collect()
}

/// The expected history entries for `picked` points, with `run_id` when given.
fn expected(all: &[(f64, i64, i64)], picked: &[usize], run_id: Option<&str>) -> Vec<Value> {
    picked
        .iter()
        .map(|&i| {
            let (v, ts, step) = all[i];
            let mut m = metric("loss", wire(v), ts, step);
            if let Some(id) = run_id {
                m["run_id"] = json!(id);
            }
            m
        })
        .collect()
}

/// Two runs with the points of metrics-004 and metrics-005.
fn fixture() -> (TestServer, String, String) {
    let s = TestServer::start();
    let exp = s.experiment("metrics-exp");
    let (r0, r1) = (s.run(&exp), s.run(&exp));
    // Logged out of order: the server orders, not the client.
    let mut shuffled = RUN0.to_vec();
    shuffled.reverse();
    s.log_batch(&r0, points(&shuffled), json!([]), json!([]));
    s.log_batch(&r1, points(&run1()), json!([]), json!([]));
    (s, r0, r1)
}

fn history(s: &TestServer, query: &[(&str, &str)]) -> Value {
    s.get("metrics/get-history", query).ok()
}

fn bulk(s: &TestServer, query: &[(&str, &str)]) -> Value {
    s.get("metrics/get-history-bulk-interval", query).ok()
}

#[test]
fn the_latest_value_is_the_greatest_step_then_timestamp_then_value() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("latest"));
    let log = |key: &str, value: Value, timestamp: i64, step: i64| {
        let r = s.post(
            "runs/log-metric",
            json!({"run_id": run, "key": key, "value": value, "timestamp": timestamp, "step": step}),
        );
        assert_eq!(r.ok(), json!({}));
    };
    let t = 1795916808354i64;
    // runs-038..041: step 10 at an earlier timestamp beats step 5 at a later one; at
    // equal step and timestamp the larger value wins.
    log("lat", json!(10.0), t, 10);
    log("lat", json!(5.0), t + 1000, 5);
    log("lat", json!(99.0), t, 10);
    log("lat", json!(50.0), t, 10);
    // At equal step the later timestamp wins, whatever the value.
    log("ts", json!(7.0), 100, 3);
    log("ts", json!(-7.0), 200, 3);
    log("ts", json!(100.0), 150, 3);
    // A NaN point compares as 0 (§2.2).
    log("nan", json!("NaN"), 1, 0);
    log("nan", json!(-1.0), 1, 0);
    log("nan_then", json!("NaN"), 1, 0);
    log("nan_then", json!(0.5), 1, 0);
    let metrics = s.get_run(&run)["data"]["metrics"].clone();
    let latest = |key: &str| {
        metrics
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["key"] == key)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        latest("lat"),
        json!({"key": "lat", "value": 99.0, "timestamp": t, "step": 10})
    );
    assert_eq!(
        latest("ts"),
        json!({"key": "ts", "value": -7.0, "timestamp": 200, "step": 3})
    );
    assert_eq!(latest("nan")["value"], "NaN");
    assert_eq!(latest("nan_then")["value"], json!(0.5));
    assert_eq!(metrics.as_array().unwrap().len(), 4, "one entry per key");
}

#[test]
fn nan_comes_back_as_a_string_and_infinities_as_the_largest_doubles() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("special"));
    // runs-028..030, runs-087
    for (key, value) in [
        ("nan_metric", "NaN"),
        ("pinf", "Infinity"),
        ("ninf", "-Infinity"),
    ] {
        s.post(
            "runs/log-metric",
            json!({"run_id": run, "key": key, "value": value, "timestamp": 1, "step": 0}),
        )
        .ok();
    }
    // runs-041
    let metrics = s.get_run(&run)["data"]["metrics"].clone();
    assert_eq!(value_of(&metrics, "nan_metric"), Some(&json!("NaN")));
    assert_eq!(value_of(&metrics, "pinf"), Some(&json!(f64::MAX)));
    assert_eq!(value_of(&metrics, "ninf"), Some(&json!(f64::MIN)));
    let h = history(&s, &[("run_id", &run), ("metric_key", "pinf")]);
    assert_eq!(h["metrics"][0]["value"], json!(1.7976931348623157e308));
    let h = history(&s, &[("run_id", &run), ("metric_key", "nan_metric")]);
    assert_eq!(h["metrics"][0]["value"], "NaN");
    // The body stays strict JSON: no bare NaN or Infinity tokens.
    let raw = s.get("runs/get", &[("run_id", &run)]);
    assert!(
        !raw.text.contains(":NaN") && !raw.text.contains("Infinity"),
        "{}",
        raw.text
    );
}

#[test]
fn metric_values_may_be_numbers_or_numeric_strings_and_integers_come_back_as_doubles() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("values"));
    // runs-026, errors-018
    s.post(
        "runs/log-metric",
        json!({"run_id": run, "key": "count", "value": 3, "timestamp": 1, "step": 0}),
    )
    .ok();
    s.post(
        "runs/log-metric",
        json!({"run_id": run, "key": "text", "value": "1.5", "timestamp": 1}),
    )
    .ok();
    let metrics = s.get_run(&run)["data"]["metrics"].clone();
    let count = value_of(&metrics, "count").unwrap();
    assert!(
        count.is_f64() && count.as_f64() == Some(3.0),
        "3.0, not 3: {count}"
    );
    assert_eq!(value_of(&metrics, "text"), Some(&json!(1.5)));
    // runs-025: step defaults to 0.
    let text = metrics
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "text")
        .unwrap();
    assert_eq!(text["step"], json!(0));
}

#[test]
fn a_metric_needs_a_numeric_value_and_a_non_negative_timestamp() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("invalid"));
    // runs-032, runs-033, runs-035; errors-019 (not copied: a boolean is not a number).
    for body in [
        json!({"run_id": run, "key": "loss", "value": 0.1}),
        json!({"run_id": run, "key": "loss", "value": "abc", "timestamp": 1}),
        json!({"run_id": run, "key": "loss", "value": true, "timestamp": 1}),
        json!({"run_id": run, "key": "loss", "timestamp": 1}),
        json!({"run_id": run, "key": "negts", "value": 1.0, "timestamp": -1}),
        json!({"run_id": run, "value": 1.0, "timestamp": 1}),
        json!({"key": "loss", "value": 1.0, "timestamp": 1}),
    ] {
        s.post("runs/log-metric", body.clone())
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    assert!(s.get_run(&run)["data"].get("metrics").is_none());
    // runs-034: a negative step is fine.
    s.post(
        "runs/log-metric",
        json!({"run_id": run, "key": "negstep", "value": 1.0, "timestamp": 1, "step": -5}),
    )
    .ok();
    assert_eq!(s.get_run(&run)["data"]["metrics"][0]["step"], json!(-5));
    // runs-037
    s.post(
        "runs/log-metric",
        json!({"run_id": "0123456789abcdef0123456789abcdef", "key": "loss", "value": 0.5, "timestamp": 1}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn logging_an_identical_point_twice_keeps_one() {
    let s = TestServer::start();
    let run = s.run(&s.experiment("dup"));
    let point = json!({"run_id": run, "key": "loss", "value": 0.5, "timestamp": 1795916808354i64, "step": 1});
    // runs-036
    for _ in 0..3 {
        s.post("runs/log-metric", point.clone()).ok();
    }
    // A point differing in value only is another point.
    let mut other = point.clone();
    other["value"] = json!(0.6);
    s.post("runs/log-metric", other).ok();
    let h = history(&s, &[("run_id", &run), ("metric_key", "loss")]);
    assert_eq!(h["metrics"].as_array().unwrap().len(), 2, "{h}");
}

#[test]
fn history_returns_every_point_ordered_by_timestamp_then_step_then_value() {
    let (s, r0, _) = fixture();
    // metrics-006, metrics-012 (run_uuid alias), metrics-027 (client query)
    let all = expected(&RUN0, &[0, 1, 2, 3, 4, 5], None);
    for query in [
        vec![("run_id", r0.as_str()), ("metric_key", "loss")],
        vec![("run_uuid", r0.as_str()), ("metric_key", "loss")],
        vec![
            ("run_uuid", r0.as_str()),
            ("metric_key", "loss"),
            ("run_id", r0.as_str()),
            ("max_results", "25000"),
        ],
    ] {
        assert_eq!(history(&s, &query), json!({ "metrics": all }), "{query:?}");
    }
    // Ties on timestamp break by step, then value.
    let run = s.run("0");
    let tied = [(0.0, 3, 9), (3.0, 5, 1), (1.0, 5, 2), (2.0, 5, 1)];
    s.log_batch(&run, points(&tied), json!([]), json!([]));
    let h = history(&s, &[("run_id", &run), ("metric_key", "loss")]);
    assert_eq!(h["metrics"], json!(expected(&tied, &[0, 3, 1, 2], None)));
}

#[test]
fn history_pages_carry_a_token_only_while_more_points_exist() {
    let (s, r0, _) = fixture();
    // metrics-007..009: six points in pages of two; the full last page has no token.
    let mut token: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut q = vec![
            ("run_id", r0.as_str()),
            ("metric_key", "loss"),
            ("max_results", "2"),
        ];
        if let Some(t) = &token {
            q.push(("page_token", t.as_str()));
        }
        let page = history(&s, &q);
        pages.push(page["metrics"].clone());
        match page.get("next_page_token") {
            Some(t) => token = Some(t.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(
        pages,
        [
            json!(expected(&RUN0, &[0, 1], None)),
            json!(expected(&RUN0, &[2, 3], None)),
            json!(expected(&RUN0, &[4, 5], None)),
        ]
    );
    // A page larger than the history has no token.
    let whole = history(
        &s,
        &[
            ("run_id", &r0),
            ("metric_key", "loss"),
            ("max_results", "6"),
        ],
    );
    assert!(whole.get("next_page_token").is_none(), "{whole}");
    let one = history(
        &s,
        &[
            ("run_id", &r0),
            ("metric_key", "loss"),
            ("max_results", "5"),
        ],
    );
    assert!(one["next_page_token"].is_string());
    // Any positive size is allowed, however large (§1.8: no cap when given).
    let max = i64::MAX.to_string();
    let all = history(
        &s,
        &[
            ("run_id", &r0),
            ("metric_key", "loss"),
            ("max_results", &max),
        ],
    );
    assert_eq!(
        all,
        json!({"metrics": expected(&RUN0, &[0, 1, 2, 3, 4, 5], None)})
    );
}

#[test]
fn history_of_an_unknown_key_or_run_is_an_empty_object() {
    let (s, r0, _) = fixture();
    // metrics-010, metrics-011
    assert_eq!(
        history(&s, &[("run_id", &r0), ("metric_key", "nope")]),
        json!({})
    );
    assert_eq!(
        history(
            &s,
            &[
                ("run_id", "0123456789abcdef0123456789abcdef"),
                ("metric_key", "loss")
            ]
        ),
        json!({})
    );
}

#[test]
fn history_requests_are_validated() {
    let (s, r0, _) = fixture();
    // metrics-013..015
    let bad: [&[(&str, &str)]; 6] = [
        &[("run_id", &r0)],
        &[("metric_key", "loss")],
        &[
            ("run_id", &r0),
            ("metric_key", "loss"),
            ("max_results", "0"),
        ],
        &[
            ("run_id", &r0),
            ("metric_key", "loss"),
            ("max_results", "-1"),
        ],
        &[
            ("run_id", &r0),
            ("metric_key", "loss"),
            ("max_results", "two"),
        ],
        &[
            ("run_id", &r0),
            ("metric_key", "loss"),
            ("page_token", "not-base64!"),
        ],
    ];
    for query in bad {
        s.get("metrics/get-history", query)
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
}

#[test]
fn bulk_interval_returns_each_runs_points_in_the_order_of_run_ids() {
    let (s, r0, r1) = fixture();
    // metrics-016
    let mut want = expected(&RUN0, &[0, 1, 2, 3, 4, 5], Some(&r0));
    want.extend(expected(&run1(), &(0..10).collect::<Vec<_>>(), Some(&r1)));
    let got = bulk(
        &s,
        &[("run_ids", &r0), ("run_ids", &r1), ("metric_key", "loss")],
    );
    assert_eq!(got, json!({ "metrics": want }));
    // The other order of run_ids gives the other order of groups.
    let got = bulk(
        &s,
        &[("run_ids", &r1), ("run_ids", &r0), ("metric_key", "loss")],
    );
    assert_eq!(got["metrics"][0]["run_id"], json!(r1));
    assert_eq!(got["metrics"][10]["run_id"], json!(r0));
    // No points at all answers {}; an unknown run contributes nothing.
    assert_eq!(
        bulk(&s, &[("run_ids", &r0), ("metric_key", "nope")]),
        json!({})
    );
    let got = bulk(
        &s,
        &[
            ("run_ids", "0123456789abcdef0123456789abcdef"),
            ("run_ids", &r0),
            ("metric_key", "loss"),
        ],
    );
    assert_eq!(got["metrics"].as_array().unwrap().len(), 6);
}

#[test]
fn bulk_interval_samples_each_run_evenly_keeping_the_first_and_last_points() {
    let (s, r0, r1) = fixture();
    // metrics-017
    let mut want = expected(&RUN0, &[0, 2, 5], Some(&r0));
    want.extend(expected(&run1(), &[0, 4, 9], Some(&r1)));
    let got = bulk(
        &s,
        &[
            ("run_ids", &r0),
            ("run_ids", &r1),
            ("metric_key", "loss"),
            ("max_results", "3"),
        ],
    );
    assert_eq!(got, json!({ "metrics": want }));
    // With one point allowed only the last is kept (§3.3).
    let got = bulk(
        &s,
        &[
            ("run_ids", &r0),
            ("run_ids", &r1),
            ("metric_key", "loss"),
            ("max_results", "1"),
        ],
    );
    let mut want = expected(&RUN0, &[5], Some(&r0));
    want.extend(expected(&run1(), &[9], Some(&r1)));
    assert_eq!(got, json!({ "metrics": want }));
    // Two keep exactly the ends; as many as there are keep everything.
    let got = bulk(
        &s,
        &[
            ("run_ids", &r1),
            ("metric_key", "loss"),
            ("max_results", "2"),
        ],
    );
    assert_eq!(got["metrics"], json!(expected(&run1(), &[0, 9], Some(&r1))));
    let got = bulk(
        &s,
        &[
            ("run_ids", &r1),
            ("metric_key", "loss"),
            ("max_results", "10"),
        ],
    );
    assert_eq!(got["metrics"].as_array().unwrap().len(), 10);
}

#[test]
fn bulk_interval_restricts_to_an_inclusive_step_window() {
    let (s, _, r1) = fixture();
    // metrics-018
    let got = bulk(
        &s,
        &[
            ("run_ids", &r1),
            ("metric_key", "loss"),
            ("start_step", "2"),
            ("end_step", "5"),
        ],
    );
    assert_eq!(
        got,
        json!({"metrics": expected(&run1(), &[2, 3, 4, 5], Some(&r1))})
    );
    let got = bulk(
        &s,
        &[
            ("run_ids", &r1),
            ("metric_key", "loss"),
            ("start_step", "7"),
            ("end_step", "7"),
        ],
    );
    assert_eq!(got["metrics"], json!(expected(&run1(), &[7], Some(&r1))));
    // Sampling happens within the window, keeping its ends.
    let got = bulk(
        &s,
        &[
            ("run_ids", &r1),
            ("metric_key", "loss"),
            ("start_step", "1"),
            ("end_step", "8"),
            ("max_results", "2"),
        ],
    );
    assert_eq!(got["metrics"], json!(expected(&run1(), &[1, 8], Some(&r1))));
    let got = bulk(
        &s,
        &[
            ("run_ids", &r1),
            ("metric_key", "loss"),
            ("start_step", "20"),
            ("end_step", "30"),
        ],
    );
    assert_eq!(got, json!({}));
}

#[test]
fn bulk_interval_requests_are_validated() {
    let (s, r0, _) = fixture();
    let many: Vec<(&str, &str)> = (0..101)
        .map(|_| ("run_ids", r0.as_str()))
        .chain([("metric_key", "loss")])
        .collect();
    let bad: Vec<Vec<(&str, &str)>> = vec![
        // metrics-019..023
        vec![
            ("run_ids", &r0),
            ("metric_key", "loss"),
            ("start_step", "2"),
        ],
        vec![("run_ids", &r0), ("metric_key", "loss"), ("end_step", "2")],
        vec![
            ("run_ids", &r0),
            ("metric_key", "loss"),
            ("start_step", "5"),
            ("end_step", "2"),
        ],
        vec![
            ("run_ids", &r0),
            ("metric_key", "loss"),
            ("max_results", "2501"),
        ],
        vec![
            ("run_ids", &r0),
            ("metric_key", "loss"),
            ("max_results", "0"),
        ],
        many,
        vec![("metric_key", "loss")],
        vec![("run_ids", &r0)],
        vec![("run_ids", "../../etc"), ("metric_key", "loss")],
    ];
    for query in bad {
        s.get("metrics/get-history-bulk-interval", &query)
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    // The limits themselves are fine.
    let hundred: Vec<(&str, &str)> = (0..100)
        .map(|_| ("run_ids", r0.as_str()))
        .chain([("metric_key", "loss"), ("max_results", "2500")])
        .collect();
    assert_eq!(
        s.get("metrics/get-history-bulk-interval", &hundred).status,
        200
    );
}
