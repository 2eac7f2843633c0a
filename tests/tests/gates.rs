//! Cairn's promotion gates and promotion history, beside the MLflow registry.

use cairn_tests::TestServer;
use serde_json::{json, Value};

fn cairn_post(s: &TestServer, api: &str, body: Value) -> cairn_tests::Reply {
    s.raw_post(
        &format!("/api/2.0/cairn/registered-models/{api}"),
        "application/json",
        body.to_string().into_bytes(),
    )
}

fn log_metric(s: &TestServer, run: &str, key: &str, value: f64) {
    let r = s.post(
        "runs/log-metric",
        json!({"run_id": run, "key": key, "value": value, "timestamp": 1, "step": 0}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// A registered model with one version whose source run has the given metrics.
fn model_with_version(s: &TestServer, name: &str, metrics: &[(&str, f64)]) -> String {
    let run = s.run(&s.experiment(&format!("{name}-exp")));
    for (k, v) in metrics {
        log_metric(s, &run, k, *v);
    }
    assert_eq!(
        s.post("registered-models/create", json!({"name": name}))
            .status,
        200
    );
    let v = s.post(
        "model-versions/create",
        json!({"name": name, "source": format!("runs:/{run}/model"), "run_id": run}),
    );
    assert_eq!(v.status, 200, "{:?}", v.body);
    run
}

fn transition(s: &TestServer, name: &str, stage: &str) -> cairn_tests::Reply {
    s.post(
        "model-versions/transition-stage",
        json!({"name": name, "version": "1", "stage": stage, "archive_existing_versions": false}),
    )
}

#[test]
fn a_transition_whose_run_fails_the_gate_is_refused_with_the_clause_and_the_values() {
    let s = TestServer::start();
    let run = model_with_version(
        &s,
        "summarizer",
        &[("bleu", 28.5), ("cost_usd_per_1k", 0.4)],
    );
    let gate = cairn_post(
        &s,
        "gates/set",
        json!({"name": "summarizer", "stage": "production", "filter": "metrics.bleu >= 30 AND metrics.cost_usd_per_1k <= 0.5"}),
    );
    assert_eq!(gate.status, 200, "{:?}", gate.body);
    assert_eq!(gate.body["gate"]["stage"], "Production");

    let refused = transition(&s, "summarizer", "Production");
    assert_eq!(
        (refused.status, refused.error_code()),
        (400, "INVALID_PARAMETER_VALUE")
    );
    let message = refused.body["message"].as_str().unwrap();
    assert!(message.contains("metrics.bleu >= 30"), "{message}");
    assert!(message.contains("metrics.bleu = 28.5"), "{message}");
    let v = s.get(
        "model-versions/get",
        &[("name", "summarizer"), ("version", "1")],
    );
    assert_eq!(
        v.body["model_version"]["current_stage"], "None",
        "nothing moved"
    );

    log_metric(&s, &run, "bleu", 31.0);
    // The latest value is what the gate reads: same step and timestamp, larger value wins.
    let allowed = transition(&s, "summarizer", "Production");
    assert_eq!(allowed.status, 200, "{:?}", allowed.body);
    assert_eq!(allowed.body["model_version"]["current_stage"], "Production");
}

#[test]
fn stages_without_a_gate_and_models_without_gates_move_freely() {
    let s = TestServer::start();
    model_with_version(&s, "free", &[("bleu", 1.0)]);
    let gate = cairn_post(
        &s,
        "gates/set",
        json!({"name": "free", "stage": "Production", "filter": "metrics.bleu > 50"}),
    );
    assert_eq!(gate.status, 200);
    assert_eq!(transition(&s, "free", "Staging").status, 200);
}

#[test]
fn an_alias_move_is_gated_too() {
    let s = TestServer::start();
    model_with_version(&s, "aliased", &[("rougeL", 0.2)]);
    let gate = cairn_post(
        &s,
        "gates/set",
        json!({"name": "aliased", "alias": "champion", "filter": "metrics.rougeL > 0.3"}),
    );
    assert_eq!(gate.status, 200);
    let refused = s.post(
        "registered-models/alias",
        json!({"name": "aliased", "alias": "champion", "version": "1"}),
    );
    assert_eq!(refused.status, 400);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("metrics.rougeL = 0.2"),
        "{:?}",
        refused.body
    );
    let other = s.post(
        "registered-models/alias",
        json!({"name": "aliased", "alias": "challenger", "version": "1"}),
    );
    assert_eq!(other.status, 200, "an ungated alias moves");
}

#[test]
fn gates_are_listed_replaced_and_removed() {
    let s = TestServer::start();
    model_with_version(&s, "listed", &[]);
    for filter in ["metrics.bleu > 1", "metrics.bleu > 2"] {
        assert_eq!(
            cairn_post(
                &s,
                "gates/set",
                json!({"name": "listed", "stage": "Staging", "filter": filter})
            )
            .status,
            200
        );
    }
    let list = s.raw_get(
        "/api/2.0/cairn/registered-models/gates/list",
        &[("name", "listed")],
    );
    assert_eq!(list.body["gates"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["gates"][0]["filter"], "metrics.bleu > 2");
    let deleted = reqwest::blocking::Client::new()
        .delete(format!(
            "{}/api/2.0/cairn/registered-models/gates/delete",
            s.url
        ))
        .json(&json!({"name": "listed", "stage": "Staging"}))
        .send()
        .unwrap();
    assert_eq!(deleted.status(), 200);
    let list = s.raw_get(
        "/api/2.0/cairn/registered-models/gates/list",
        &[("name", "listed")],
    );
    assert!(list.body.get("gates").is_none(), "{:?}", list.body);
}

#[test]
fn bad_gates_are_refused() {
    let s = TestServer::start();
    model_with_version(&s, "strict", &[]);
    let cases = [
        json!({"name": "strict", "stage": "Production", "filter": "metrics.bleu >"}),
        json!({"name": "strict", "stage": "QA", "filter": "metrics.bleu > 1"}),
        json!({"name": "strict", "filter": "metrics.bleu > 1"}),
        json!({"name": "strict", "stage": "Production", "alias": "x", "filter": "metrics.bleu > 1"}),
    ];
    for body in cases {
        let r = cairn_post(&s, "gates/set", body.clone());
        assert_eq!(
            (r.status, r.error_code()),
            (400, "INVALID_PARAMETER_VALUE"),
            "{body}"
        );
    }
    let missing = cairn_post(
        &s,
        "gates/set",
        json!({"name": "nope", "stage": "Production", "filter": "metrics.a > 1"}),
    );
    assert_eq!(missing.status, 404);
}

#[test]
fn every_transition_and_alias_move_is_recorded_with_who_and_the_runs_metrics() {
    let s = TestServer::start();
    let run = model_with_version(&s, "audited", &[("bleu", 33.0)]);
    let staged = reqwest::blocking::Client::new()
        .post(format!(
            "{}/api/2.0/mlflow/model-versions/transition-stage",
            s.url
        ))
        .header("X-Cairn-User", "alice")
        .json(&json!({"name": "audited", "version": "1", "stage": "Staging"}))
        .send()
        .unwrap();
    assert_eq!(staged.status(), 200);
    assert_eq!(
        s.post(
            "registered-models/alias",
            json!({"name": "audited", "alias": "champion", "version": "1"})
        )
        .status,
        200
    );
    let removed = reqwest::blocking::Client::new()
        .delete(format!("{}/api/2.0/mlflow/registered-models/alias", s.url))
        .json(&json!({"name": "audited", "alias": "champion"}))
        .send()
        .unwrap();
    assert_eq!(removed.status(), 200);

    let history = s.raw_get(
        "/api/2.0/cairn/registered-models/history",
        &[("name", "audited")],
    );
    let events = history.body["events"].as_array().expect("events");
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(
        (&events[0]["kind"], &events[0]["from"], &events[0]["to"]),
        (&json!("stage"), &json!("None"), &json!("Staging"))
    );
    assert_eq!(events[0]["user"], "alice");
    assert_eq!(events[0]["run_id"], json!(run));
    assert_eq!(events[0]["metrics"]["bleu"], 33.0);
    assert_eq!(
        (&events[1]["kind"], &events[1]["alias"], &events[1]["to"]),
        (&json!("alias"), &json!("champion"), &json!("1"))
    );
    assert_eq!(
        (&events[2]["from"], &events[2]["to"]),
        (&json!("1"), &Value::Null)
    );
    assert!(events[0]["timestamp"].as_i64().unwrap() > 0);
}

#[test]
fn a_models_source_takes_the_run_of_what_it_names_and_cannot_borrow_another() {
    let s = TestServer::start();
    let weak = model_with_version(&s, "base", &[("bleu", 10.0)]);
    let exp = s.experiment("strong-exp");
    let strong = s.run(&exp);
    log_metric(&s, &strong, "bleu", 40.0);
    assert_eq!(
        s.post("registered-models/create", json!({"name": "copy"}))
            .status,
        200
    );

    let borrowed = s.post(
        "model-versions/create",
        json!({"name": "copy", "source": "models:/base/1", "run_id": strong}),
    );
    assert_eq!(
        (borrowed.status, borrowed.error_code()),
        (400, "INVALID_PARAMETER_VALUE"),
        "{:?}",
        borrowed.body
    );
    let copied = s.post(
        "model-versions/create",
        json!({"name": "copy", "source": "models:/base/1"}),
    );
    assert_eq!(copied.status, 200, "{:?}", copied.body);
    assert_eq!(copied.body["model_version"]["run_id"], json!(weak));

    let logged = s.post(
        "logged-models",
        json!({"experiment_id": exp, "name": "lm", "source_run_id": weak}),
    );
    assert_eq!(logged.status, 200, "{:?}", logged.body);
    let model_id = logged.body["model"]["info"]["model_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let artifact_uri = logged.body["model"]["info"]["artifact_uri"].clone();
    let source = format!("models:/{model_id}");
    let borrowed = s.post(
        "model-versions/create",
        json!({"name": "copy", "source": source, "model_id": model_id, "run_id": strong}),
    );
    assert_eq!(borrowed.status, 400, "{:?}", borrowed.body);
    let from_logged = s.post(
        "model-versions/create",
        json!({"name": "copy", "source": source, "model_id": model_id}),
    );
    assert_eq!(from_logged.status, 200, "{:?}", from_logged.body);
    assert_eq!(from_logged.body["model_version"]["run_id"], json!(weak));
    let uri = s.get(
        "model-versions/get-download-uri",
        &[("name", "copy"), ("version", "2")],
    );
    assert_eq!(
        uri.body["artifact_uri"], artifact_uri,
        "models:/ resolves to where the bytes are"
    );

    let gate = cairn_post(
        &s,
        "gates/set",
        json!({"name": "copy", "stage": "Production", "filter": "metrics.bleu >= 30"}),
    );
    assert_eq!(gate.status, 200);
    let refused = s.post(
        "model-versions/transition-stage",
        json!({"name": "copy", "version": "1", "stage": "Production"}),
    );
    assert_eq!(
        refused.status, 400,
        "the copy is judged by the run it really came from"
    );
}
