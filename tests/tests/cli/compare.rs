//! `cairn runs compare`: differing keys in JSON and starred table rows, of Rust- and MLflow-logged runs.
//!
//! MLflow's Python client is simulated by replaying its REST calls.

use super::{cairn, client, log, start_run};
use cairn_tests::{metric, pairs, TestServer};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn keys(rows: &Value) -> BTreeSet<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect()
}

/// The JSON row of one key.
#[track_caller]
fn row<'r>(rows: &'r Value, key: &str) -> &'r Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no {key} row in {rows}"))
}

/// The table's rows by key: whether each ends in the `*` of the diff column.
fn marked(table: &str) -> Vec<(String, bool)> {
    table
        .lines()
        .skip(1)
        .map(|l| {
            let key = l.split_whitespace().next().unwrap().to_owned();
            (key, l.trim_end().ends_with(" *"))
        })
        .collect()
}

#[test]
fn only_diff_lists_exactly_the_keys_whose_values_differ() {
    let server = TestServer::start();
    let c = client(&server);
    // The same name and start time, so that only what was logged differs.
    let exp = server.experiment("cmp");
    let [a, b] = [0, 1].map(|_| {
        server.create_run(json!({"experiment_id": exp, "run_name": "same", "start_time": 1_000}))
            ["info"]["run_id"]
            .as_str()
            .unwrap()
            .to_owned()
    });
    log(
        &c,
        &a,
        &[("model", "small"), ("lr", "0.1"), ("only_a", "x")],
        &[("bleu", 24.0), ("cost", 0.5)],
    );
    log(
        &c,
        &b,
        &[("model", "small"), ("lr", "0.2")],
        &[("bleu", 31.0), ("cost", 0.5)],
    );
    let rows = cairn(&server, &["runs", "compare", &a, &b, "--only-diff"]).json();
    assert_eq!(
        keys(&rows),
        BTreeSet::from(["params.lr", "params.only_a", "metrics.bleu"].map(String::from)),
        "a key present in one run only differs too: {rows}"
    );
    let lr = row(&rows, "params.lr");
    assert_eq!(lr["differs"], true);
    assert_eq!(lr["values"], json!({a.clone(): "0.1", b.clone(): "0.2"}));
    let only_a = row(&rows, "params.only_a");
    assert_eq!(only_a["values"], json!({a.clone(): "x", b.clone(): null}));

    let everything = cairn(&server, &["runs", "compare", &a, &b]).json();
    let shared = row(&everything, "params.model");
    assert_eq!(shared["differs"], false);
}

#[test]
fn the_table_marks_differing_rows_with_a_star_in_the_diff_column() {
    let server = TestServer::start();
    let c = client(&server);
    let a = start_run(&server, "cmp", "a");
    let b = start_run(&server, "cmp", "b");
    log(
        &c,
        &a,
        &[("model", "small"), ("lr", "0.1")],
        &[("bleu", 24.0)],
    );
    log(
        &c,
        &b,
        &[("model", "small"), ("lr", "0.2")],
        &[("bleu", 31.0)],
    );

    let table = cairn(&server, &["runs", "compare", &a, &b]).ok();
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("key") && header.trim_end().ends_with("diff"),
        "{table}"
    );
    assert!(header.contains(&format!("a ({})", &a[..8])), "{table}");
    let rows = marked(&table);
    for (key, star) in [
        ("run_name", true),
        ("status", false),
        ("params.lr", true),
        ("params.model", false),
        ("metrics.bleu", true),
    ] {
        assert!(rows.contains(&(key.to_owned(), star)), "{key}: {table}");
    }

    let only = marked(&cairn(&server, &["runs", "compare", &a, &b, "--only-diff"]).ok());
    assert!(only.iter().all(|(_, star)| *star), "{only:?}");
    assert!(only.iter().any(|(k, _)| k == "params.lr"));
}

#[test]
fn system_tags_are_compared_only_with_all_tags() {
    let server = TestServer::start();
    let a = start_run(&server, "cmp", "a");
    let b = start_run(&server, "cmp", "b");
    let hidden = cairn(&server, &["runs", "compare", &a, &b]).json();
    assert!(!keys(&hidden).contains("tags.mlflow.runName"));
    let shown = cairn(&server, &["runs", "compare", &a, &b, "--all-tags"]).json();
    assert!(keys(&shown).contains("tags.mlflow.runName"));
}

#[test]
fn comparing_fewer_than_two_runs_is_a_usage_error_and_an_unknown_run_exits_3() {
    let server = TestServer::start();
    let a = start_run(&server, "cmp", "a");
    cairn(&server, &["runs", "compare", &a]).run().expect(2);
    let out = cairn(
        &server,
        &["runs", "compare", &a, "ffffffffffffffffffffffffffffffff"],
    )
    .run()
    .expect(3);
    assert!(out.stderr.contains("ffffffff"), "{}", out.stderr);
}

/// A run as `mlflow.start_run(run_name=...)` creates it: runs/create with the fluent
/// API's tags, then log-batch calls for `log_params` and `log_metrics`, then runs/update.
fn mlflow_python_run(
    server: &TestServer,
    experiment_id: &str,
    name: &str,
    params: &[(&str, &str)],
    metrics: &[(&str, f64)],
) -> String {
    let run = server.create_run(json!({
        "experiment_id": experiment_id,
        "user_id": "alice",
        "start_time": 1_700_000_000_000_i64,
        "run_name": name,
        "tags": [
            {"key": "mlflow.user", "value": "alice"},
            {"key": "mlflow.source.name", "value": "train.py"},
            {"key": "mlflow.source.type", "value": "LOCAL"},
            {"key": "mlflow.runName", "value": name},
        ],
    }));
    let id = run["info"]["run_id"].as_str().unwrap().to_owned();
    server.log_batch(&id, json!([]), pairs(params), json!([]));
    let points: Vec<Value> = metrics
        .iter()
        .map(|(k, v)| metric(k, json!(v), 1_700_000_001_000, 0))
        .collect();
    server.log_batch(&id, Value::Array(points), json!([]), json!([]));
    let ended = server.post(
        "runs/update",
        json!({"run_id": id, "run_uuid": id, "status": "FINISHED", "end_time": 1_700_000_060_000_i64}),
    );
    assert_eq!(ended.status, 200, "{}", ended.text);
    id
}

#[test]
fn runs_compare_of_two_runs_logged_by_the_mlflow_python_client_shows_their_differing_params_and_metrics(
) {
    let server = TestServer::start();
    let exp = server.experiment("prompt-strategies");
    let zero = mlflow_python_run(
        &server,
        &exp,
        "zero-shot",
        &[("prompt_strategy", "zero-shot"), ("model", "gpt-4o-mini")],
        &[("bleu", 24.1), ("temperature_used", 0.2)],
    );
    let few = mlflow_python_run(
        &server,
        &exp,
        "few-shot",
        &[("prompt_strategy", "few-shot"), ("model", "gpt-4o-mini")],
        &[("bleu", 31.7), ("temperature_used", 0.2)],
    );

    let rows = cairn(&server, &["runs", "compare", &zero, &few, "--only-diff"]).json();
    assert_eq!(
        keys(&rows),
        BTreeSet::from(["run_name", "params.prompt_strategy", "metrics.bleu"].map(String::from)),
        "same start, end, user and shared values: {rows}"
    );
    assert_eq!(
        row(&rows, "params.prompt_strategy")["values"],
        json!({zero.clone(): "zero-shot", few.clone(): "few-shot"})
    );
    assert_eq!(
        row(&rows, "metrics.bleu")["values"],
        json!({zero.clone(): 24.1, few.clone(): 31.7})
    );

    let table = cairn(&server, &["runs", "compare", &zero, &few]).ok();
    let rows = marked(&table);
    for (key, star) in [
        ("params.prompt_strategy", true),
        ("metrics.bleu", true),
        ("params.model", false),
        ("metrics.temperature_used", false),
        ("status", false),
        ("duration_s", false),
    ] {
        assert!(rows.contains(&(key.to_owned(), star)), "{key}: {table}");
    }
    let bleu = table
        .lines()
        .find(|l| l.starts_with("metrics.bleu"))
        .unwrap();
    assert!(bleu.contains("24.1") && bleu.contains("31.7"), "{table}");
    assert!(
        !table.contains('\x1b'),
        "no colour off a terminal: {table:?}"
    );
}
