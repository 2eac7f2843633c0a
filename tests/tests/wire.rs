//! Wire conventions end to end: probes, the /ajax-api mirror, routing, content types, field naming and number encoding.

use cairn_tests::{metric, TestServer};
use serde_json::{json, Value};

#[test]
fn health_answers_plain_text_ok() {
    let s = TestServer::start();
    let r = s.raw_get("/health", &[]);
    assert_eq!((r.status, r.text.as_str()), (200, "OK"), "errors-040");
    assert!(
        r.content_type.starts_with("text/plain"),
        "{}",
        r.content_type
    );
}

#[test]
fn version_answers_the_mlflow_release_whose_api_is_spoken() {
    let s = TestServer::start();
    let r = s.raw_get("/version", &[]);
    assert_eq!((r.status, r.text.as_str()), (200, "3.17.2"), "errors-041");
}

#[test]
fn server_info_tells_the_client_that_multipart_transfers_are_off() {
    let s = TestServer::start();
    for path in [
        "/api/3.0/mlflow/server-info",
        "/ajax-api/3.0/mlflow/server-info",
    ] {
        let r = s.raw_get(path, &[]);
        assert!(r.content_type.starts_with("application/json"), "{path}");
        let info = r.ok();
        // §6.6: the client reads only these two flags; both must be present and false.
        assert_eq!(info["multipart_uploads_enabled"], json!(false), "{path}");
        assert_eq!(info["multipart_downloads_enabled"], json!(false), "{path}");
        assert_eq!(info["workspaces_enabled"], json!(false), "{path}");
        assert!(info["store_type"].is_string(), "{path}: {info}");
    }
    // The fallback probe does not exist on the real server either (errors-043).
    assert_eq!(
        s.raw_get("/api/3.0/mlflow/server-features", &[]).status,
        404
    );
}

#[test]
fn every_tracking_route_is_mirrored_under_the_ajax_prefix() {
    let s = TestServer::start();
    let ajax = |api: &str| format!("/ajax-api/2.0/mlflow/{api}");
    let exp = s
        .post_path(&ajax("experiments/create"), json!({"name": "via-ajax"}))
        .ok()["experiment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Both prefixes serve the same store (experiments-008).
    let via_api = s.get("experiments/get", &[("experiment_id", &exp)]).ok();
    let via_ajax = s
        .raw_get(&ajax("experiments/get"), &[("experiment_id", &exp)])
        .ok();
    assert_eq!(via_api, via_ajax);
    assert_eq!(via_ajax["experiment"]["name"], "via-ajax");

    let run = s
        .post_path(
            &ajax("runs/create"),
            json!({"experiment_id": exp, "start_time": 5}),
        )
        .ok()["run"]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let logged = s.post_path(
        &ajax("runs/log-metric"),
        json!({"run_id": run, "key": "loss", "value": 0.5, "timestamp": 7, "step": 1}),
    );
    assert_eq!(logged.ok(), json!({}));
    let history = s
        .raw_get(
            &ajax("metrics/get-history"),
            &[("run_id", &run), ("metric_key", "loss")],
        )
        .ok();
    assert_eq!(
        history["metrics"],
        json!([{"key": "loss", "value": 0.5, "timestamp": 7, "step": 1}])
    );
    let bulk = s
        .raw_get(
            &ajax("metrics/get-history-bulk-interval"),
            &[("run_ids", &run), ("metric_key", "loss")],
        )
        .ok();
    assert_eq!(bulk["metrics"][0]["run_id"], json!(run), "metrics-024");
    let found = s
        .post_path(&ajax("runs/search"), json!({"experiment_ids": [exp]}))
        .ok();
    assert_eq!(found["runs"][0]["info"]["run_id"], json!(run));
    let exps = s
        .raw_get(
            &ajax("experiments/search"),
            &[("max_results", "10"), ("filter", "name = 'via-ajax'")],
        )
        .ok();
    assert_eq!(exps["experiments"][0]["experiment_id"], json!(exp));
    let models = s.post_path(
        &ajax("logged-models/search"),
        json!({"experiment_ids": [exp]}),
    );
    assert_eq!(models.ok(), json!({}));
}

#[test]
fn unknown_paths_and_other_api_versions_are_not_found() {
    let s = TestServer::start();
    for path in [
        "/api/2.0/mlflow/no/such/endpoint",
        "/api/2.1/mlflow/experiments/get",
        // UI-only route of the real server, never under /api (metrics-026).
        "/api/2.0/mlflow/metrics/get-history-bulk",
    ] {
        let r = s.raw_get(path, &[("experiment_id", "0")]);
        assert_eq!(r.status, 404, "{path}: {}", r.text);
    }
}

#[test]
fn a_known_path_called_with_the_wrong_method_is_method_not_allowed() {
    let s = TestServer::start();
    // errors-004: GET on a POST route.
    let r = s.raw_get("/api/2.0/mlflow/runs/create", &[]);
    assert_eq!(r.status, 405, "{}", r.text);
    // And the other way round: POST on a GET route, also under the mirror.
    for path in [
        "/api/2.0/mlflow/runs/get",
        "/ajax-api/2.0/mlflow/metrics/get-history",
    ] {
        let r = s.post_path(path, json!({}));
        assert_eq!(r.status, 405, "{path}: {}", r.text);
    }
    // Cairn's extended search is POST only.
    assert_eq!(s.raw_get("/api/2.0/cairn/runs/search", &[]).status, 405);
    // experiments/search answers both methods.
    let q = [("max_results", "5")];
    assert_eq!(s.get("experiments/search", &q).status, 200);
    assert_eq!(
        s.post("experiments/search", json!({"max_results": 5}))
            .status,
        200
    );
}

#[test]
fn posts_need_a_json_content_type_and_may_name_a_charset() {
    let s = TestServer::start();
    let body = |name: &str| json!({ "name": name }).to_string().into_bytes();
    let path = "/api/2.0/mlflow/experiments/create";
    // errors-006, errors-007
    s.raw_post(path, "", body("ct-missing"))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.raw_post(path, "text/plain", body("ct-text"))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    // errors-008
    let ok = s.raw_post(path, "application/json; charset=utf-8", body("ct-charset"));
    assert!(ok.ok()["experiment_id"].is_string());
    for name in ["ct-missing", "ct-text"] {
        s.get("experiments/get-by-name", &[("experiment_name", name)])
            .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    }
}

#[test]
fn bodies_may_be_empty_double_encoded_or_carry_unknown_fields_but_not_be_malformed() {
    let s = TestServer::start();
    let path = "/api/2.0/mlflow/experiments/create";
    // An empty body is an empty request: the first required field is missing.
    let empty = s.raw_post(path, "application/json", Vec::new());
    empty.expect_error(400, "INVALID_PARAMETER_VALUE");
    assert!(empty.body["message"].as_str().unwrap().contains("'name'"));
    // errors-009
    s.raw_post(path, "application/json", br#"{"name": "#.to_vec())
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    // errors-010
    let double = json!(json!({"name": "double-encoded"}).to_string());
    assert!(s.post("experiments/create", double).ok()["experiment_id"].is_string());
    // errors-011
    let extra = s.post(
        "experiments/create",
        json!({"name": "unknown-field", "bogus": 1, "nested": {"x": [1]}}),
    );
    assert!(extra.ok()["experiment_id"].is_string());
    for name in ["double-encoded", "unknown-field"] {
        assert_eq!(
            s.get("experiments/get-by-name", &[("experiment_name", name)])
                .ok()["experiment"]["name"],
            json!(name)
        );
    }
}

#[test]
fn camel_case_names_are_accepted_and_both_spellings_are_refused() {
    let s = TestServer::start();
    let exp = s.experiment("camel");
    // errors-012
    let run = s.create_run(
        json!({"experimentId": exp, "runName": "camel", "startTime": 1795916844322i64}),
    );
    assert_eq!(run["info"]["run_name"], "camel");
    assert_eq!(run["info"]["start_time"], json!(1795916844322i64));
    assert_eq!(run["info"]["experiment_id"], json!(exp));
    // Nested objects too: a dataset's sourceType.
    let id = run["info"]["run_id"].as_str().unwrap();
    let inputs = s.post(
        "runs/log-inputs",
        json!({"runId": id, "datasets": [{"dataset": {"name": "d", "digest": "1", "sourceType": "local", "source": "{}"}}]}),
    );
    assert_eq!(inputs.ok(), json!({}));
    let got = s.get_run(id);
    assert_eq!(
        got["inputs"]["dataset_inputs"][0]["dataset"]["source_type"],
        "local"
    );
    // errors-013
    let both = s.post(
        "runs/create",
        json!({"experiment_id": exp, "experimentId": exp}),
    );
    both.expect_error(400, "INVALID_PARAMETER_VALUE");
    assert!(both.body["message"]
        .as_str()
        .unwrap()
        .contains("experimentId"));
    let both_nested = s.post(
        "runs/log-inputs",
        json!({"run_id": id, "datasets": [{"dataset": {"name": "e", "digest": "2", "source_type": "local", "sourceType": "s3", "source": "{}"}}]}),
    );
    both_nested.expect_error(400, "INVALID_PARAMETER_VALUE");
    let inputs = &s.get_run(id)["inputs"]["dataset_inputs"];
    assert_eq!(inputs.as_array().map(Vec::len), Some(1), "{inputs}");
}

#[test]
fn int64_fields_are_json_numbers_and_may_arrive_as_decimal_strings() {
    let s = TestServer::start();
    let exp = s.experiment("ints");
    // runs-008: start_time as a string.
    let run = s.create_run(json!({"experiment_id": exp, "start_time": "1795916808034"}));
    assert_eq!(run["info"]["start_time"], json!(1795916808034i64));
    let id = run["info"]["run_id"].as_str().unwrap().to_owned();
    // runs-027: timestamp and step as strings.
    let r = s.post(
        "runs/log-metric",
        json!({"run_id": id, "key": "loss", "value": 0.4, "timestamp": "1795916808355", "step": "2"}),
    );
    assert_eq!(r.ok(), json!({}));
    let m = &s.get_run(&id)["data"]["metrics"][0];
    assert_eq!(m["timestamp"], json!(1795916808355i64));
    assert_eq!(m["step"], json!(2));
    // Every int64 of the responses is a number, never a string.
    let e = &s.get("experiments/get", &[("experiment_id", &exp)]).ok()["experiment"];
    assert!(
        e["creation_time"].is_i64() && e["last_update_time"].is_i64(),
        "{e}"
    );
    let info = &s
        .post(
            "runs/update",
            json!({"run_id": id, "status": "FINISHED", "end_time": 1795916809972i64}),
        )
        .ok()["run_info"];
    assert_eq!(info["end_time"], json!(1795916809972i64));
    assert!(info["start_time"].is_i64());
    // errors-016 (not copied): a float for an int64 is refused rather than dropped.
    s.post(
        "runs/log-metric",
        json!({"run_id": id, "key": "m", "value": 1.0, "timestamp": 1.5}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    // errors-017: the message shows the offending value as the caller wrote it.
    let r = s.post(
        "runs/log-metric",
        json!({"run_id": id, "key": "m", "value": 1.0, "timestamp": "abc"}),
    );
    r.expect_error(400, "INVALID_PARAMETER_VALUE");
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Invalid value \"abc\" for parameter 'timestamp'"),
        "{message}"
    );
}

#[test]
fn identifiers_are_strings_and_wrong_json_types_are_refused() {
    let s = TestServer::start();
    let exp = s.experiment("types");
    // errors-015: experiment_id as a number.
    s.post(
        "runs/create",
        json!({"experiment_id": exp.parse::<i64>().unwrap()}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    // errors-014: name as a number.
    s.post("experiments/create", json!({"name": 123}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    let run = s.run(&exp);
    // runs-023: a param value must be a string.
    s.post(
        "runs/log-parameter",
        json!({"run_id": run, "key": "num", "value": 5}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    // A list where a string belongs.
    s.post(
        "runs/set-tag",
        json!({"run_id": run, "key": "k", "value": ["v"]}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    assert!(s.get_run(&run)["data"].get("params").is_none());
}

#[test]
fn query_strings_repeat_keys_for_lists_and_decode_plus_and_percent() {
    let s = TestServer::start();
    s.experiment("q b");
    s.experiment("q a");
    // experiments-029: repeated order_by, URL-encoded filter with spaces and quotes.
    let url = format!(
        "{}/api/2.0/mlflow/experiments/search?max_results=5&order_by=name+ASC&order_by=creation_time+DESC&filter=name+%21%3D+%27Default%27",
        s.url
    );
    let body: Value = reqwest::blocking::get(url).unwrap().json().unwrap();
    let names: Vec<&str> = body["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["q a", "q b"]);
}

#[test]
fn errors_are_json_envelopes_with_mlflows_status_per_code() {
    let s = TestServer::start();
    s.experiment("taken");
    let missing = s.get("experiments/get", &[("experiment_id", "987654")]);
    missing.expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert!(missing.content_type.starts_with("application/json"));
    // RESOURCE_ALREADY_EXISTS is a 400, not a 409 (§1.7).
    let dup = s.post("experiments/create", json!({"name": "taken"}));
    dup.expect_error(400, "RESOURCE_ALREADY_EXISTS");
    assert!(dup.content_type.starts_with("application/json"));
}

#[test]
fn mutations_answer_exactly_an_empty_object() {
    let s = TestServer::start();
    let exp = s.experiment("empty-answers");
    let run = s.run(&exp);
    let calls = [
        (
            "runs/log-parameter",
            json!({"run_id": run, "key": "p", "value": "v"}),
        ),
        (
            "runs/log-metric",
            json!({"run_id": run, "key": "m", "value": 1, "timestamp": 1}),
        ),
        (
            "runs/set-tag",
            json!({"run_id": run, "key": "t", "value": "v"}),
        ),
        ("runs/delete-tag", json!({"run_id": run, "key": "t"})),
        (
            "runs/log-batch",
            json!({"run_id": run, "metrics": [metric("b", json!(1), 1, 0)]}),
        ),
        ("runs/log-inputs", json!({"run_id": run})),
        (
            "runs/outputs",
            json!({"run_id": run, "models": [{"model_id": "m-0123", "step": 0}]}),
        ),
        (
            "experiments/set-experiment-tag",
            json!({"experiment_id": exp, "key": "k", "value": "v"}),
        ),
        (
            "experiments/delete-experiment-tag",
            json!({"experiment_id": exp, "key": "k"}),
        ),
        (
            "experiments/update",
            json!({"experiment_id": exp, "new_name": "renamed"}),
        ),
        ("runs/delete", json!({"run_id": run})),
        ("runs/restore", json!({"run_id": run})),
        ("experiments/delete", json!({"experiment_id": exp})),
        ("experiments/restore", json!({"experiment_id": exp})),
    ];
    for (api, body) in calls {
        let r = s.post(api, body);
        assert_eq!((r.status, r.text.trim()), (200, "{}"), "{api}");
    }
}

#[test]
fn logged_model_search_needs_experiment_ids_and_answers_an_empty_object_without_hits() {
    let s = TestServer::start();
    let exp = s.experiment("models");
    // logged_models-131
    s.post("logged-models/search", json!({}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    // No models yet: proto2 presence gives {} (logged_models-119).
    let empty = s.post(
        "logged-models/search",
        json!({"experiment_ids": [exp], "filter": "name = 'model'", "order_by": [{"field_name": "creation_time", "ascending": false}]}),
    );
    assert_eq!(empty.ok(), json!({}));
    // logged_models-129: OR is refused; logged_models-130: an unknown attribute is a
    // caller mistake, so a 400 rather than the real server's 500.
    for filter in ["name = 'a' OR name = 'b'", "foo = 'a'"] {
        s.post(
            "logged-models/search",
            json!({"experiment_ids": [exp], "filter": filter}),
        )
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    s.post("logged-models/search", json!({"experiment_ids": ["abc"]}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post(
        "logged-models/search",
        json!({"experiment_ids": [exp], "max_results": 0}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    // No upper limit on the page size (§1.8).
    let big = s.post(
        "logged-models/search",
        json!({"experiment_ids": [exp], "max_results": i64::MAX}),
    );
    assert_eq!(big.ok(), json!({}));
}
