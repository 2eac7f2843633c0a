//! Runs end to end: create, get, update, delete, restore, params, tags, log-inputs, outputs and the run-name coupling.

use cairn_tests::{pairs, value_of, TestServer};
use serde_json::{json, Value};

const UNKNOWN_RUN: &str = "0123456789abcdef0123456789abcdef";

fn is_run_id(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    })
}

fn tag<'a>(run: &'a Value, key: &str) -> Option<&'a Value> {
    value_of(&run["data"]["tags"], key)
}

fn param<'a>(run: &'a Value, key: &str) -> Option<&'a Value> {
    value_of(&run["data"]["params"], key)
}

#[test]
fn a_new_run_is_running_carries_its_tags_and_name_and_has_no_end_time() {
    let s = TestServer::start();
    let exp = s.experiment("runs-exp");
    // runs-002
    let run = s.create_run(json!({
        "experiment_id": exp, "user_id": "alice", "run_name": "first-run",
        "start_time": 1795916807870i64,
        "tags": [{"key": "team", "value": "nlp"}, {"key": "mlflow.source.type", "value": "LOCAL"}]
    }));
    let info = &run["info"];
    assert!(is_run_id(&info["run_id"]), "{info}");
    assert_eq!(info["run_uuid"], info["run_id"]);
    assert_eq!(info["experiment_id"], json!(exp));
    assert_eq!(info["run_name"], "first-run");
    assert_eq!(info["user_id"], "alice");
    assert_eq!(info["status"], "RUNNING");
    assert_eq!(info["start_time"], json!(1795916807870i64));
    assert_eq!(info["lifecycle_stage"], "active");
    assert_eq!(
        info["artifact_uri"],
        format!(
            "mlflow-artifacts:/{exp}/{}/artifacts",
            info["run_id"].as_str().unwrap()
        )
    );
    // §1.6: end_time is unset while running; the create response has inputs {} but no outputs.
    assert!(info.get("end_time").is_none(), "{info}");
    assert_eq!(run["inputs"], json!({}));
    assert!(run.get("outputs").is_none(), "{run}");
    assert!(run["data"].get("params").is_none() && run["data"].get("metrics").is_none());
    assert_eq!(tag(&run, "team"), Some(&json!("nlp")));
    assert_eq!(tag(&run, "mlflow.source.type"), Some(&json!("LOCAL")));
    assert_eq!(tag(&run, "mlflow.runName"), Some(&json!("first-run")));
    assert_eq!(run["data"]["tags"].as_array().unwrap().len(), 3);
    // runs/get returns the same run, with outputs {} as well (runs-069).
    let got = s.get_run(info["run_id"].as_str().unwrap());
    assert_eq!(got["info"], run["info"]);
    assert_eq!(got["outputs"], json!({}));
}

#[test]
fn a_run_created_without_name_or_start_time_gets_a_generated_name_and_zero() {
    let s = TestServer::start();
    // runs-003, runs-005
    let run = s.create_run(json!({"experiment_id": "0"}));
    let info = &run["info"];
    let name = info["run_name"].as_str().unwrap();
    let parts: Vec<&str> = name.split('-').collect();
    assert!(
        parts.len() == 3
            && parts[..2]
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
            && parts[2].parse::<u32>().is_ok(),
        "adjective-animal-NNN: {name}"
    );
    assert_eq!(tag(&run, "mlflow.runName"), Some(&json!(name)));
    assert_eq!(info["start_time"], json!(0));
    assert_eq!(info["user_id"], "");
    assert_eq!(info["experiment_id"], "0");
    assert_eq!(
        info["artifact_uri"],
        format!(
            "mlflow-artifacts:/0/{}/artifacts",
            info["run_id"].as_str().unwrap()
        )
    );
}

#[test]
fn a_run_without_experiment_id_is_refused_or_lands_in_the_default_experiment() {
    let s = TestServer::start();
    // runs-004: the real server fails with BAD_REQUEST; the contract allows a 400
    // INVALID_PARAMETER_VALUE or the Default experiment, never anything else.
    let r = s.post("runs/create", json!({}));
    if r.status == 200 {
        assert_eq!(r.body["run"]["info"]["experiment_id"], "0");
    } else {
        r.expect_error(400, "INVALID_PARAMETER_VALUE");
    }
}

#[test]
fn runs_cannot_be_created_in_unknown_or_deleted_experiments() {
    let s = TestServer::start();
    // runs-009
    s.post("runs/create", json!({"experiment_id": "99999"}))
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.post("runs/create", json!({"experiment_id": "abc"}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    // experiments-043
    let exp = s.experiment("gone");
    s.post("experiments/delete", json!({"experiment_id": exp}))
        .ok();
    s.post("runs/create", json!({"experiment_id": exp}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn the_run_name_and_its_tag_stay_in_sync_on_create_update_and_set_tag() {
    let s = TestServer::start();
    let exp = s.experiment("names");
    // runs-006: the tag alone names the run.
    let run = s.create_run(
        json!({"experiment_id": exp, "tags": [{"key": "mlflow.runName", "value": "tag-named"}]}),
    );
    assert_eq!(run["info"]["run_name"], "tag-named");
    assert_eq!(tag(&run, "mlflow.runName"), Some(&json!("tag-named")));
    // Both, agreeing.
    let agree = s.create_run(json!({"experiment_id": exp, "run_name": "same", "tags": [{"key": "mlflow.runName", "value": "same"}]}));
    assert_eq!(agree["info"]["run_name"], "same");
    assert_eq!(agree["data"]["tags"].as_array().unwrap().len(), 1);
    // runs-007: both, disagreeing.
    s.post(
        "runs/create",
        json!({"experiment_id": exp, "run_name": "a", "tags": [{"key": "mlflow.runName", "value": "b"}]}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");

    let id = run["info"]["run_id"].as_str().unwrap();
    // runs-064: update renames and rewrites the tag.
    let info = s
        .post(
            "runs/update",
            json!({"run_id": id, "run_name": "renamed-run"}),
        )
        .ok()["run_info"]
        .clone();
    assert_eq!(info["run_name"], "renamed-run");
    assert_eq!(
        tag(&s.get_run(id), "mlflow.runName"),
        Some(&json!("renamed-run"))
    );
    // runs-044: the tag renames the run.
    s.post(
        "runs/set-tag",
        json!({"run_id": id, "key": "mlflow.runName", "value": "renamed-by-tag"}),
    )
    .ok();
    let got = s.get_run(id);
    assert_eq!(got["info"]["run_name"], "renamed-by-tag");
    assert_eq!(tag(&got, "mlflow.runName"), Some(&json!("renamed-by-tag")));
    // So does a batch carrying the tag.
    s.log_batch(
        id,
        json!([]),
        json!([]),
        pairs(&[("mlflow.runName", "from-batch")]),
    );
    assert_eq!(s.get_run(id)["info"]["run_name"], "from-batch");
    // The name is searchable under either spelling.
    let found = s
        .post(
            "runs/search",
            json!({"experiment_ids": [exp], "filter": "attributes.run_name = 'from-batch'"}),
        )
        .ok();
    assert_eq!(found["runs"].as_array().map(Vec::len), Some(1));
    let found = s
        .post(
            "runs/search",
            json!({"experiment_ids": [exp], "filter": "tags.`mlflow.runName` = 'from-batch'"}),
        )
        .ok();
    assert_eq!(found["runs"][0]["info"]["run_id"], json!(id));
}

#[test]
fn a_run_is_found_by_run_id_or_legacy_run_uuid_and_run_id_wins() {
    let s = TestServer::start();
    let id = s.run(&s.experiment("get"));
    // runs-010, runs-011
    for key in ["run_id", "run_uuid"] {
        let got = s.get("runs/get", &[(key, id.as_str())]).ok();
        assert_eq!(got["run"]["info"]["run_id"], json!(id), "{key}");
    }
    // errors-031
    let both = s
        .get(
            "runs/get",
            &[("run_id", id.as_str()), ("run_uuid", UNKNOWN_RUN)],
        )
        .ok();
    assert_eq!(both["run"]["info"]["run_id"], json!(id));
    // runs-012, runs-013
    let unknown = s.get("runs/get", &[("run_id", UNKNOWN_RUN)]);
    unknown.expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert!(unknown.body["message"]
        .as_str()
        .unwrap()
        .contains(UNKNOWN_RUN));
    s.get("runs/get", &[])
        .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn updating_a_run_changes_only_the_fields_given() {
    let s = TestServer::start();
    let exp = s.experiment("update");
    let id = s.run(&exp);
    let before = s.get_run(&id)["info"].clone();
    // runs-063
    let info = s
        .post(
            "runs/update",
            json!({"run_id": id, "status": "FINISHED", "end_time": 1795916809972i64}),
        )
        .ok()["run_info"]
        .clone();
    assert_eq!(info["status"], "FINISHED");
    assert_eq!(info["end_time"], json!(1795916809972i64));
    assert_eq!(info["run_name"], before["run_name"]);
    assert_eq!(info["start_time"], before["start_time"]);
    assert_eq!(
        s.get_run(&id)["info"],
        info,
        "runs/get agrees with run_info"
    );
    // runs-065: status by number (4 = FAILED), as JSON number and as string.
    let failed = s
        .post("runs/update", json!({"run_id": id, "status": 4}))
        .ok();
    assert_eq!(failed["run_info"]["status"], "FAILED");
    assert_eq!(failed["run_info"]["end_time"], json!(1795916809972i64));
    let killed = s
        .post("runs/update", json!({"run_id": id, "status": "5"}))
        .ok();
    assert_eq!(killed["run_info"]["status"], "KILLED");
    // runs-066 (not copied): an unknown status is refused rather than ignored.
    s.post("runs/update", json!({"run_id": id, "status": "DONE"}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    assert_eq!(s.get_run(&id)["info"]["status"], "KILLED");
    // errors-030: run_id wins over run_uuid.
    let r = s.post(
        "runs/update",
        json!({"run_id": id, "run_uuid": UNKNOWN_RUN, "run_name": "renamed"}),
    );
    assert_eq!(r.ok()["run_info"]["run_name"], "renamed");
    // runs-067
    s.post(
        "runs/update",
        json!({"run_id": UNKNOWN_RUN, "status": "FINISHED"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.post("runs/update", json!({"status": "FINISHED"}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    // A finished run still accepts data (§3.5).
    s.post(
        "runs/log-metric",
        json!({"run_id": id, "key": "late", "value": 1, "timestamp": 1}),
    )
    .ok();
}

#[test]
fn deleting_and_restoring_a_run_is_idempotent() {
    let s = TestServer::start();
    let id = s.run(&s.experiment("lifecycle"));
    for _ in 0..2 {
        // runs-068, runs-072
        assert_eq!(s.post("runs/delete", json!({"run_id": id})).ok(), json!({}));
        // runs-069: a deleted run is still returned.
        assert_eq!(s.get_run(&id)["info"]["lifecycle_stage"], "deleted");
    }
    for _ in 0..2 {
        // runs-073, runs-074
        assert_eq!(
            s.post("runs/restore", json!({"run_id": id})).ok(),
            json!({})
        );
        assert_eq!(s.get_run(&id)["info"]["lifecycle_stage"], "active");
    }
    // runs-075
    for api in ["runs/delete", "runs/restore"] {
        s.post(api, json!({"run_id": UNKNOWN_RUN}))
            .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
        s.post(api, json!({}))
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
}

#[test]
fn logging_to_a_deleted_run_is_rejected() {
    let s = TestServer::start();
    let id = s.run(&s.experiment("deleted-writes"));
    s.post(
        "runs/set-tag",
        json!({"run_id": id, "key": "keep", "value": "v"}),
    )
    .ok();
    s.post("runs/delete", json!({"run_id": id})).ok();
    let before = s.get_run(&id);
    // runs-070, runs-071 and every other write (§3.5).
    let writes = [
        (
            "runs/log-parameter",
            json!({"run_id": id, "key": "a", "value": "b"}),
        ),
        ("runs/update", json!({"run_id": id, "status": "FINISHED"})),
        (
            "runs/log-metric",
            json!({"run_id": id, "key": "m", "value": 1, "timestamp": 1}),
        ),
        (
            "runs/set-tag",
            json!({"run_id": id, "key": "t", "value": "v"}),
        ),
        ("runs/delete-tag", json!({"run_id": id, "key": "keep"})),
        (
            "runs/log-batch",
            json!({"run_id": id, "params": [{"key": "p", "value": "v"}]}),
        ),
        (
            "runs/log-inputs",
            json!({"run_id": id, "datasets": [{"dataset": {"name": "d", "digest": "1", "source_type": "local", "source": "x"}}]}),
        ),
        (
            "runs/outputs",
            json!({"run_id": id, "models": [{"model_id": "m-1", "step": 0}]}),
        ),
    ];
    for (api, body) in writes {
        let r = s.post(api, body);
        r.expect_error(400, "INVALID_PARAMETER_VALUE");
        assert!(
            r.body["message"]
                .as_str()
                .unwrap()
                .contains("'active' state"),
            "{api}: {}",
            r.text
        );
    }
    assert_eq!(s.get_run(&id), before, "nothing changed");
    // Restored, it takes writes again.
    s.post("runs/restore", json!({"run_id": id})).ok();
    s.post(
        "runs/log-parameter",
        json!({"run_id": id, "key": "a", "value": "b"}),
    )
    .ok();
}

#[test]
fn params_are_write_once_the_same_value_again_is_fine_a_different_one_is_refused() {
    let s = TestServer::start();
    let id = s.run(&s.experiment("params"));
    let log = |key: &str, value: &str| {
        s.post(
            "runs/log-parameter",
            json!({"run_id": id, "key": key, "value": value}),
        )
    };
    // runs-014..016
    assert_eq!(log("lr", "0.01").ok(), json!({}));
    log("lr", "0.01").ok();
    let changed = log("lr", "0.02");
    changed.expect_error(400, "INVALID_PARAMETER_VALUE");
    let message = changed.body["message"].as_str().unwrap();
    assert!(
        message.contains("0.01") && message.contains("0.02"),
        "{message}"
    );
    assert_eq!(param(&s.get_run(&id), "lr"), Some(&json!("0.01")));
    // runs-017: legacy run_uuid only.
    s.post(
        "runs/log-parameter",
        json!({"run_uuid": id, "key": "batch", "value": "32"}),
    )
    .ok();
    assert_eq!(param(&s.get_run(&id), "batch"), Some(&json!("32")));
    // runs-037 for params.
    s.post(
        "runs/log-parameter",
        json!({"run_id": UNKNOWN_RUN, "key": "k", "value": "v"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn param_values_may_be_empty_or_absent_and_long_ones_are_truncated_to_6000() {
    let s = TestServer::start();
    let id = s.run(&s.experiment("param-values"));
    // runs-018, errors-020, errors-021
    s.post(
        "runs/log-parameter",
        json!({"run_id": id, "key": "empty", "value": ""}),
    )
    .ok();
    s.post(
        "runs/log-parameter",
        json!({"run_id": id, "key": "null", "value": null}),
    )
    .ok();
    s.post("runs/log-parameter", json!({"run_id": id, "key": "absent"}))
        .ok();
    // runs-019: 6001 characters come back as the first 6000, and no error.
    let long: String = "x".repeat(5999) + "yz";
    s.post(
        "runs/log-parameter",
        json!({"run_id": id, "key": "long", "value": long}),
    )
    .ok();
    let exact: String = "é".repeat(6000);
    s.post(
        "runs/log-parameter",
        json!({"run_id": id, "key": "exact", "value": exact}),
    )
    .ok();
    let run = s.get_run(&id);
    for key in ["empty", "null", "absent"] {
        assert_eq!(param(&run, key), Some(&json!("")), "{key}");
    }
    assert_eq!(param(&run, "long"), Some(&json!(long[..6000])));
    assert_eq!(
        param(&run, "exact"),
        Some(&json!(exact)),
        "counted in characters"
    );
    // Re-logging the over-long value is the same value once truncated.
    s.post(
        "runs/log-parameter",
        json!({"run_id": id, "key": "long", "value": long}),
    )
    .ok();
}

#[test]
fn keys_must_be_short_normalised_names() {
    let s = TestServer::start();
    let id = s.run(&s.experiment("keys"));
    let long = "k".repeat(251);
    let bad_keys = [
        "",
        "bad*key",
        "../x",
        "/abs",
        "a/../b",
        "a//b",
        long.as_str(),
    ];
    for key in bad_keys {
        // runs-020..022, errors-022..026
        for (api, body) in [
            (
                "runs/log-parameter",
                json!({"run_id": id, "key": key, "value": "v"}),
            ),
            (
                "runs/set-tag",
                json!({"run_id": id, "key": key, "value": "v"}),
            ),
            (
                "runs/log-metric",
                json!({"run_id": id, "key": key, "value": 1, "timestamp": 1}),
            ),
        ] {
            s.post(api, body)
                .expect_error(400, "INVALID_PARAMETER_VALUE");
        }
    }
    // Letters, digits, _ - . space / : are all allowed, up to 250 characters.
    let good = "k".repeat(250);
    for key in ["eval/bleu score", "a.b-c_d:e", good.as_str()] {
        s.post(
            "runs/set-tag",
            json!({"run_id": id, "key": key, "value": "v"}),
        )
        .ok();
    }
    let run = s.get_run(&id);
    assert!(run["data"].get("params").is_none() && run["data"].get("metrics").is_none());
    assert_eq!(
        run["data"]["tags"].as_array().unwrap().len(),
        4,
        "3 + mlflow.runName"
    );
}

#[test]
fn tags_are_upserted_truncated_to_8000_and_deleted() {
    let s = TestServer::start();
    let id = s.run(&s.experiment("tags"));
    let set = |key: &str, value: &str| {
        s.post(
            "runs/set-tag",
            json!({"run_id": id, "key": key, "value": value}),
        )
    };
    // runs-042, runs-043
    assert_eq!(set("stage", "dev").ok(), json!({}));
    set("stage", "prod").ok();
    assert_eq!(tag(&s.get_run(&id), "stage"), Some(&json!("prod")));
    // runs-045
    let long: String = "y".repeat(8000) + "z";
    set("long_tag", &long).ok();
    assert_eq!(tag(&s.get_run(&id), "long_tag"), Some(&json!(long[..8000])));
    // runs-046, runs-047
    assert_eq!(
        s.post("runs/delete-tag", json!({"run_id": id, "key": "stage"}))
            .ok(),
        json!({})
    );
    assert_eq!(tag(&s.get_run(&id), "stage"), None);
    let again = s.post("runs/delete-tag", json!({"run_id": id, "key": "stage"}));
    again.expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.post("runs/delete-tag", json!({"run_id": id}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post(
        "runs/set-tag",
        json!({"run_id": UNKNOWN_RUN, "key": "k", "value": "v"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn run_data_is_an_empty_object_once_a_run_holds_nothing() {
    let s = TestServer::start();
    let id = s.run(&s.experiment("bare"));
    s.post(
        "runs/delete-tag",
        json!({"run_id": id, "key": "mlflow.runName"}),
    )
    .ok();
    // §1.6: data itself stays, its empty lists go.
    let run = s.get_run(&id);
    assert_eq!(run["data"], json!({}));
    assert_eq!(run["inputs"], json!({}));
    assert_eq!(run["outputs"], json!({}));
}

#[test]
fn log_inputs_records_datasets_with_their_tags_once_each() {
    let s = TestServer::start();
    let exp = s.experiment("inputs");
    let id = s.run(&exp);
    let iris = json!({"tags": [{"key": "mlflow.data.context", "value": "training"}],
                      "dataset": {"name": "iris", "digest": "abc123", "source_type": "local",
                                  "source": "{\"uri\": \"/data/iris.csv\"}", "schema": "{}",
                                  "profile": "{\"num_rows\": 150}"}});
    // runs-060, runs-061
    let r = s.post("runs/log-inputs", json!({"run_id": id, "datasets": [iris]}));
    assert_eq!(r.ok(), json!({}));
    s.post(
        "runs/log-inputs",
        json!({"run_id": id, "datasets": [{"dataset": {"name": "iris", "source_type": "local", "source": "x"}}]}),
    )
    .ok();
    // The same dataset again adds nothing.
    s.post("runs/log-inputs", json!({"run_id": id, "datasets": [iris]}))
        .ok();
    // runs-062: schema and profile are omitted when unset, tags when empty.
    let inputs = s.get_run(&id)["inputs"].clone();
    assert_eq!(
        inputs,
        json!({"dataset_inputs": [
            iris,
            {"dataset": {"name": "iris", "digest": "", "source_type": "local", "source": "x"}}
        ]})
    );
    // A dataset is shared by the runs of an experiment that log it.
    let other = s.run(&exp);
    s.post(
        "runs/log-inputs",
        json!({"run_id": other, "datasets": [iris]}),
    )
    .ok();
    assert_eq!(s.get_run(&other)["inputs"]["dataset_inputs"], json!([iris]));
    // Logged-model inputs.
    s.post(
        "runs/log-inputs",
        json!({"run_id": other, "models": [{"model_id": "m-0123456789abcdef0123456789abcdef"}]}),
    )
    .ok();
    assert_eq!(
        s.get_run(&other)["inputs"]["model_inputs"],
        json!([{"model_id": "m-0123456789abcdef0123456789abcdef"}])
    );
}

#[test]
fn log_inputs_refuses_incomplete_or_oversized_datasets() {
    let s = TestServer::start();
    let id = s.run(&s.experiment("inputs-bad"));
    let dataset = |d: Value| json!({"run_id": id, "datasets": [{"dataset": d}]});
    let bad = [
        dataset(json!({"digest": "1", "source_type": "local", "source": "x"})),
        dataset(json!({"name": "d", "digest": "1", "source": "x"})),
        dataset(json!({"name": "d", "digest": "1", "source_type": "local"})),
        dataset(
            json!({"name": "n".repeat(501), "digest": "1", "source_type": "local", "source": "x"}),
        ),
        dataset(
            json!({"name": "d", "digest": "d".repeat(37), "source_type": "local", "source": "x"}),
        ),
        json!({"run_id": id, "datasets": [{"tags": [{"key": "k".repeat(256), "value": "v"}],
               "dataset": {"name": "d", "digest": "1", "source_type": "local", "source": "x"}}]}),
        json!({"run_id": id, "datasets": [{"tags": [{"key": "k", "value": "v".repeat(501)}],
               "dataset": {"name": "d", "digest": "1", "source_type": "local", "source": "x"}}]}),
        json!({"run_id": id, "datasets": [{}]}),
        json!({"run_id": id, "models": [{}]}),
    ];
    for body in bad {
        s.post("runs/log-inputs", body.clone())
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    s.post("runs/log-inputs", json!({"datasets": []}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post("runs/log-inputs", json!({"run_id": UNKNOWN_RUN}))
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(s.get_run(&id)["inputs"], json!({}));
    // At the limits it is fine: digest 36, name 500.
    s.post(
        "runs/log-inputs",
        dataset(json!({"name": "n".repeat(500), "digest": "d".repeat(36), "source_type": "local", "source": "x"})),
    )
    .ok();
}

#[test]
fn outputs_attach_logged_models_to_a_run_at_a_step() {
    let s = TestServer::start();
    let id = s.run(&s.experiment("outputs"));
    let model = "m-c5fd9f8a996548e0b92d98c4ab0e7d16";
    // logged_models-137: the path is runs/outputs.
    let r = s.post(
        "runs/outputs",
        json!({"run_id": id, "models": [{"model_id": model, "step": 5}]}),
    );
    assert_eq!(r.ok(), json!({}));
    assert_eq!(
        s.get_run(&id)["outputs"],
        json!({"model_outputs": [{"model_id": model, "step": 5}]})
    );
    for body in [
        json!({"run_id": id}),
        json!({"run_id": id, "models": []}),
        json!({"run_id": id, "models": [{"step": 0}]}),
        json!({"run_id": id, "models": [{"model_id": model}]}),
        json!({"models": [{"model_id": model, "step": 0}]}),
    ] {
        s.post("runs/outputs", body.clone())
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    s.post(
        "runs/outputs",
        json!({"run_id": UNKNOWN_RUN, "models": [{"model_id": model, "step": 0}]}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(
        s.raw_get("/api/2.0/mlflow/runs/log-outputs", &[]).status,
        404
    );
}
