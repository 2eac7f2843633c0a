//! Logged models (MLflow 3) end to end: create, get, finalize, delete, tags, params, metrics, artifacts, search.

use cairn_tests::{pairs, Reply, TestServer};
use serde_json::{json, Value};

/// Sends a JSON request with any method to an MLflow API path.
fn send(s: &TestServer, method: &str, api: &str, body: Value) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let resp = reqwest::blocking::Client::new()
        .request(method, format!("{}/api/2.0/mlflow/{api}", s.url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .expect("request");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = resp.text().unwrap_or_default();
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        content_type,
        text,
    }
}

fn create(s: &TestServer, body: Value) -> Value {
    s.post("logged-models", body).ok()["model"].clone()
}

fn id_of(model: &Value) -> String {
    model["info"]["model_id"]
        .as_str()
        .expect("model_id")
        .to_owned()
}

fn get(s: &TestServer, id: &str) -> Value {
    s.get(&format!("logged-models/{id}"), &[]).ok()["model"].clone()
}

fn search(s: &TestServer, body: Value) -> Vec<String> {
    let found = s.post("logged-models/search", body).ok();
    found["models"]
        .as_array()
        .map(|models| {
            models
                .iter()
                .map(|m| m["info"]["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn finalize(s: &TestServer, id: &str, status: Value) -> Reply {
    send(
        s,
        "PATCH",
        &format!("logged-models/{id}"),
        json!({"model_id": id, "status": status}),
    )
}

#[test]
fn a_new_logged_model_is_pending_under_its_experiments_artifact_root() {
    let s = TestServer::start();
    let exp = s.experiment("models");
    let run = s.run(&exp);
    // logged_models-099
    let model = create(
        &s,
        json!({"experiment_id": exp, "name": "direct-model", "model_type": "agent", "source_run_id": run,
               "params": [{"key": "temperature", "value": "0.2"}], "tags": [{"key": "team", "value": "x"}]}),
    );
    let id = id_of(&model);
    assert!(id.len() == 34 && id.starts_with("m-"), "{id}");
    assert!(id[2..].chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    let info = &model["info"];
    assert_eq!(
        info["artifact_uri"],
        format!("mlflow-artifacts:/{exp}/models/{id}/artifacts")
    );
    assert_eq!(info["status"], "LOGGED_MODEL_PENDING");
    assert_eq!(
        (info["experiment_id"].as_str(), info["model_type"].as_str()),
        (Some(exp.as_str()), Some("agent"))
    );
    assert_eq!(info["source_run_id"], run.as_str());
    assert_eq!(info["tags"], pairs(&[("team", "x")]));
    assert!(info["creation_timestamp_ms"].is_i64());
    assert_eq!(
        info["creation_timestamp_ms"],
        info["last_updated_timestamp_ms"]
    );
    assert_eq!(
        model["data"],
        json!({"params": [{"key": "temperature", "value": "0.2"}]})
    );
    assert_eq!(get(&s, &id), model);

    // logged_models-100: a generated adjective-animal-NNN name, "" for the unset strings,
    // no tags key and `data: {}`.
    let bare = create(&s, json!({"experiment_id": exp}));
    let name = bare["info"]["name"].as_str().unwrap();
    assert_eq!(name.split('-').count(), 3, "{name}");
    assert_eq!(
        (
            bare["info"]["model_type"].as_str(),
            bare["info"]["source_run_id"].as_str()
        ),
        (Some(""), Some(""))
    );
    assert!(bare["info"].get("tags").is_none(), "{bare}");
    assert_eq!(bare["data"], json!({}));
    // The ajax prefix serves the same routes.
    let ajax = s.raw_get(
        &format!("/ajax-api/2.0/mlflow/logged-models/{}", id_of(&bare)),
        &[],
    );
    assert_eq!(ajax.ok()["model"], bare);
}

#[test]
fn bad_names_missing_or_unknown_experiments_and_unknown_models_are_refused() {
    let s = TestServer::start();
    let exp = s.experiment("models");
    for name in ["a/b", "a:b", "a.b", "a%b", "a\"b", "a'b", ""] {
        s.post("logged-models", json!({"experiment_id": exp, "name": name}))
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    s.post("logged-models", json!({"name": "x"}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post(
        "logged-models",
        json!({"experiment_id": "99999", "name": "x"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.post(
        "logged-models",
        json!({"experiment_id": exp, "tags": [{"key": "bad\u{1}key", "value": "v"}]}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    let unknown = "m-00000000000000000000000000000000";
    let missing = s.get(&format!("logged-models/{unknown}"), &[]);
    missing.expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(
        missing.body["message"],
        format!("Logged model with ID '{unknown}' not found.")
    );
    finalize(&s, unknown, json!("LOGGED_MODEL_READY")).expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    send(
        &s,
        "PATCH",
        &format!("logged-models/{unknown}/tags"),
        json!({"tags": pairs(&[("a", "1")])}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.post(
        &format!("logged-models/{unknown}/params"),
        json!({"params": pairs(&[("a", "1")])}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    send(&s, "DELETE", &format!("logged-models/{unknown}"), json!({}))
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    // A deleted experiment takes no new models.
    s.post("experiments/delete", json!({"experiment_id": exp}))
        .ok();
    s.post("logged-models", json!({"experiment_id": exp}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn finalizing_sets_the_status_by_name_or_number() {
    let s = TestServer::start();
    let exp = s.experiment("models");
    let id = id_of(&create(&s, json!({"experiment_id": exp, "name": "m"})));
    // logged_models-110, 111
    let ready = finalize(&s, &id, json!("LOGGED_MODEL_READY")).ok()["model"].clone();
    assert_eq!(ready["info"]["status"], "LOGGED_MODEL_READY");
    assert!(
        ready["info"]["last_updated_timestamp_ms"].as_i64()
            >= ready["info"]["creation_timestamp_ms"].as_i64()
    );
    let failed = finalize(&s, &id, json!(3)).ok()["model"].clone();
    assert_eq!(failed["info"]["status"], "LOGGED_MODEL_UPLOAD_FAILED");
    assert_eq!(get(&s, &id)["info"]["status"], "LOGGED_MODEL_UPLOAD_FAILED");
    // logged_models-112: status is required; unknown ones are refused, not ignored.
    send(
        &s,
        "PATCH",
        &format!("logged-models/{id}"),
        json!({"model_id": id}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    for bad in [json!("DONE"), json!(0), json!(9), json!(2.5)] {
        finalize(&s, &id, bad).expect_error(400, "INVALID_PARAMETER_VALUE");
    }
}

#[test]
fn tags_and_params_upsert_and_a_missing_tag_is_not_found() {
    let s = TestServer::start();
    let exp = s.experiment("models");
    let id = id_of(&create(
        &s,
        json!({"experiment_id": exp, "name": "m", "tags": pairs(&[("team", "x")])}),
    ));
    // logged_models-107, 108, 109; a key holding '/' and ' ' travels in the path.
    let tags = pairs(&[("a", "1"), ("b", "2"), ("dir/with space", "3")]);
    assert_eq!(
        send(
            &s,
            "PATCH",
            &format!("logged-models/{id}/tags"),
            json!({"tags": tags})
        )
        .ok(),
        json!({})
    );
    send(
        &s,
        "PATCH",
        &format!("logged-models/{id}/tags"),
        json!({"tags": pairs(&[("a", "9")])}),
    )
    .ok();
    assert_eq!(
        send(
            &s,
            "DELETE",
            &format!("logged-models/{id}/tags/b"),
            Value::Null
        )
        .ok(),
        json!({})
    );
    send(
        &s,
        "DELETE",
        &format!("logged-models/{id}/tags/dir%2Fwith%20space"),
        Value::Null,
    )
    .ok();
    let missing = send(
        &s,
        "DELETE",
        &format!("logged-models/{id}/tags/nope"),
        Value::Null,
    );
    missing.expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert!(missing.body["message"].as_str().unwrap().contains(&id));
    assert_eq!(
        get(&s, &id)["info"]["tags"],
        pairs(&[("a", "9"), ("team", "x")])
    );
    // logged_models-106
    let params =
        json!({"model_id": id, "params": pairs(&[("top_p", "0.9"), ("temperature", "0.1")])});
    assert_eq!(
        s.post(&format!("logged-models/{id}/params"), params).ok(),
        json!({})
    );
    s.post(
        &format!("logged-models/{id}/params"),
        json!({"params": pairs(&[("top_p", "0.5")])}),
    )
    .ok();
    assert_eq!(
        get(&s, &id)["data"]["params"],
        pairs(&[("temperature", "0.1"), ("top_p", "0.5")])
    );
}

#[test]
fn deleted_models_are_not_found_unless_asked_for_and_leave_searches() {
    let s = TestServer::start();
    let exp = s.experiment("models");
    let id = id_of(&create(&s, json!({"experiment_id": exp, "name": "gone"})));
    create(&s, json!({"experiment_id": exp, "name": "kept"}));
    // logged_models-133..136
    assert_eq!(
        send(
            &s,
            "DELETE",
            &format!("logged-models/{id}"),
            json!({"model_id": id})
        )
        .ok(),
        json!({})
    );
    s.get(&format!("logged-models/{id}"), &[])
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    let kept = s
        .get(&format!("logged-models/{id}"), &[("allow_deleted", "true")])
        .ok();
    assert_eq!(kept["model"]["info"]["name"], "gone");
    assert_eq!(
        send(&s, "DELETE", &format!("logged-models/{id}"), Value::Null).ok(),
        json!({})
    );
    finalize(&s, &id, json!("LOGGED_MODEL_READY")).expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    send(
        &s,
        "PATCH",
        &format!("logged-models/{id}/tags"),
        json!({"tags": pairs(&[("a", "1")])}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(search(&s, json!({"experiment_ids": [exp]})), vec!["kept"]);
}

#[test]
fn metrics_logged_with_a_model_id_show_up_on_the_model() {
    let s = TestServer::start();
    let exp = s.experiment("models");
    let run = s.run(&exp);
    let id = id_of(&create(
        &s,
        json!({"experiment_id": exp, "name": "m", "source_run_id": run}),
    ));
    // logged_models-015 and 141: log-metric carries model_id and the dataset fields.
    s.post("runs/log-metric", json!({"run_id": run, "key": "acc", "value": 0.9, "timestamp": 10, "step": 0, "model_id": id}))
        .ok();
    s.post(
        "runs/log-metric",
        json!({"run_id": run, "key": "f1", "value": 0.7, "timestamp": 11, "step": 1, "model_id": id,
               "dataset_name": "eval", "dataset_digest": "abc"}),
    )
    .ok();
    // log-batch: only the points naming the model go to it.
    let batch = json!([
        {"key": "loss", "value": "NaN", "timestamp": 12, "step": 2, "model_id": id},
        {"key": "run_only", "value": 1.0, "timestamp": 12, "step": 2},
    ]);
    s.post("runs/log-batch", json!({"run_id": run, "metrics": batch}))
        .ok();
    // logged_models-142
    assert_eq!(
        get(&s, &id)["data"]["metrics"],
        json!([
            {"key": "acc", "value": 0.9, "timestamp": 10, "step": 0, "model_id": id, "run_id": run},
            {"key": "f1", "value": 0.7, "timestamp": 11, "step": 1, "dataset_name": "eval", "dataset_digest": "abc", "model_id": id, "run_id": run},
            {"key": "loss", "value": "NaN", "timestamp": 12, "step": 2, "model_id": id, "run_id": run},
        ])
    );
    let run_metrics = s.get_run(&run)["data"]["metrics"].as_array().unwrap().len();
    assert_eq!(run_metrics, 4, "the run keeps every point as well");
    // An unknown model fails the whole batch: nothing lands on the run.
    let bad = json!([{"key": "late", "value": 1.0, "timestamp": 13, "model_id": "m-00000000000000000000000000000000"}]);
    s.post("runs/log-batch", json!({"run_id": run, "metrics": bad}))
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert!(cairn_tests::value_of(&s.get_run(&run)["data"]["metrics"], "late").is_none());
}

#[test]
fn search_filters_by_attributes_tags_params_any_metric_point_and_status_names() {
    let s = TestServer::start();
    let exp = s.experiment("models");
    let other = s.experiment("other");
    let run = s.run(&exp);
    let a = id_of(&create(
        &s,
        json!({"experiment_id": exp, "name": "alpha", "model_type": "agent", "source_run_id": run,
        "params": pairs(&[("temperature", "0.2")]), "tags": pairs(&[("team", "x")])}),
    ));
    let b = id_of(&create(
        &s,
        json!({"experiment_id": exp, "name": "beta", "tags": pairs(&[("team", "y")])}),
    ));
    create(&s, json!({"experiment_id": exp, "name": "gamma"}));
    create(&s, json!({"experiment_id": other, "name": "elsewhere"}));
    finalize(&s, &a, json!("LOGGED_MODEL_READY")).ok();
    finalize(&s, &b, json!(2)).ok();
    // alpha once had acc 0.9 and now has 0.1: any point counts for filters.
    let points = json!([
        {"key": "acc", "value": 0.9, "timestamp": 1, "model_id": a},
        {"key": "acc", "value": 0.1, "timestamp": 2, "model_id": a},
        {"key": "acc", "value": 0.5, "timestamp": 1, "model_id": b, "dataset_name": "eval", "dataset_digest": "d1"},
    ]);
    s.post("runs/log-batch", json!({"run_id": run, "metrics": points}))
        .ok();
    let find = |filter: &str| {
        let mut names = search(&s, json!({"experiment_ids": [exp], "filter": filter}));
        names.sort();
        names
    };
    assert_eq!(find("name = 'alpha'"), ["alpha"]);
    assert_eq!(find("name LIKE '%a'"), ["alpha", "beta", "gamma"]);
    assert_eq!(find("name IN ('beta', 'gamma')"), ["beta", "gamma"]);
    assert_eq!(find("model_type = 'agent'"), ["alpha"]);
    assert_eq!(find(&format!("source_run_id = '{run}'")), ["alpha"]);
    assert_eq!(find("tags.team = 'x'"), ["alpha"]);
    assert_eq!(find("tags.team != 'x'"), ["beta"]);
    assert_eq!(find("params.temperature = '0.2'"), ["alpha"]);
    assert_eq!(find("metrics.acc > 0.8"), ["alpha"]);
    assert_eq!(find("metrics.acc >= 0.1 AND metrics.acc < 0.3"), ["alpha"]);
    assert_eq!(find("creation_time > 0"), ["alpha", "beta", "gamma"]);
    // Status is compared by name, whichever spelling (the real server wants '2').
    for spelling in ["LOGGED_MODEL_READY", "READY", "2"] {
        assert_eq!(
            find(&format!("status = '{spelling}'")),
            ["alpha", "beta"],
            "{spelling}"
        );
    }
    assert_eq!(find("status != 'READY'"), ["gamma"]);
    assert_eq!(
        find("tags.team = 'x' AND status = 'LOGGED_MODEL_PENDING'"),
        Vec::<String>::new()
    );
    // datasets restrict metric clauses, and alone keep models with a point on them.
    let on = |datasets: Value, filter: &str| {
        search(
            &s,
            json!({"experiment_ids": [exp], "filter": filter, "datasets": datasets}),
        )
    };
    assert_eq!(on(json!([{"dataset_name": "eval"}]), ""), ["beta"]);
    assert_eq!(
        on(
            json!([{"dataset_name": "eval", "dataset_digest": "other"}]),
            ""
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        on(json!([{"dataset_name": "eval"}]), "metrics.acc > 0.8"),
        Vec::<String>::new()
    );
    assert_eq!(
        on(
            json!([{"dataset_name": "eval", "dataset_digest": "d1"}]),
            "metrics.acc > 0.4"
        ),
        ["beta"]
    );
    // Two experiments at once.
    assert_eq!(search(&s, json!({"experiment_ids": [exp, other]})).len(), 4);
}

#[test]
fn search_orders_by_attributes_and_latest_metric_with_nulls_last_and_pages() {
    let s = TestServer::start();
    let exp = s.experiment("models");
    let run = s.run(&exp);
    let ids: Vec<String> = ["b", "c", "a", "d"]
        .iter()
        .map(|n| id_of(&create(&s, json!({"experiment_id": exp, "name": n}))))
        .collect();
    // b: latest acc 0.1 (0.9 earlier); c: 0.5; a: none; d: 0.7 but only on dataset "eval".
    let points = json!([
        {"key": "acc", "value": 0.9, "timestamp": 1, "model_id": ids[0]},
        {"key": "acc", "value": 0.1, "timestamp": 2, "model_id": ids[0]},
        {"key": "acc", "value": 0.5, "timestamp": 1, "model_id": ids[1]},
        {"key": "acc", "value": 0.7, "timestamp": 1, "model_id": ids[3], "dataset_name": "eval"},
    ]);
    s.post("runs/log-batch", json!({"run_id": run, "metrics": points}))
        .ok();
    let order =
        |order_by: Value| search(&s, json!({"experiment_ids": [exp], "order_by": order_by}));
    assert_eq!(
        order(json!([{"field_name": "name", "ascending": true}])),
        ["a", "b", "c", "d"]
    );
    assert_eq!(
        order(json!([{"field_name": "name", "ascending": false}])),
        ["d", "c", "b", "a"]
    );
    assert_eq!(order(json!([{"field_name": "name"}])), ["a", "b", "c", "d"]);
    // logged_models-126: by latest value, models without the metric last either way.
    assert_eq!(
        order(json!([{"field_name": "metrics.acc", "ascending": false}]))[..3],
        ["d", "c", "b"]
    );
    assert_eq!(
        order(json!([{"field_name": "metrics.acc", "ascending": true}]))[..3],
        ["b", "c", "d"]
    );
    assert_eq!(
        order(json!([{"field_name": "metrics.acc", "ascending": true}]))[3],
        "a"
    );
    let on_eval =
        order(json!([{"field_name": "metrics.acc", "ascending": true, "dataset_name": "eval"}]));
    assert_eq!(on_eval[0], "d");
    // Default order: creation_timestamp_ms DESC, then model_id ASC.
    let all = s
        .post("logged-models/search", json!({"experiment_ids": [exp]}))
        .ok();
    let keys: Vec<(i64, String)> = all["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                -m["info"]["creation_timestamp_ms"].as_i64().unwrap(),
                id_of(m),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // logged_models-127, 128: pages of 3 then 1; the last page carries no token.
    let first = s.post("logged-models/search", json!({"experiment_ids": [exp], "max_results": 3, "order_by": [{"field_name": "name"}]})).ok();
    assert_eq!(first["models"].as_array().unwrap().len(), 3);
    let token = first["next_page_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let rest = s.post("logged-models/search", json!({"experiment_ids": [exp], "max_results": 3, "order_by": [{"field_name": "name"}], "page_token": token})).ok();
    assert_eq!(rest["models"][0]["info"]["name"], "d");
    assert!(rest.get("next_page_token").is_none());
}

#[test]
fn search_refuses_bad_order_by_and_datasets() {
    let s = TestServer::start();
    let exp = s.experiment("models");
    let bad = [
        json!({"order_by": [{"field_name": "foo"}]}),
        json!({"order_by": [{"field_name": "tags.team"}]}),
        json!({"order_by": [{"field_name": "name"}, {"field_name": "name", "ascending": false}]}),
        json!({"order_by": [{"ascending": true}]}),
        json!({"order_by": ["name ASC"]}),
        json!({"datasets": [{"dataset_digest": "abc"}]}),
        json!({"filter": "metrics.acc > '0.5'"}),
        json!({"page_token": "not a token!"}),
    ];
    for mut body in bad {
        body["experiment_ids"] = json!([exp]);
        s.post("logged-models/search", body.clone())
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
}

#[test]
fn a_models_artifacts_are_listed_through_the_artifact_service() {
    let s = TestServer::start();
    let exp = s.experiment("models");
    let model = create(&s, json!({"experiment_id": exp, "name": "m"}));
    let id = id_of(&model);
    let http = reqwest::blocking::Client::new();
    for (path, bytes) in [("MLmodel", 12), ("sub/w.bin", 10)] {
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{exp}/models/{id}/artifacts/{path}",
            s.url
        );
        let put = http.put(url).body(vec![b'x'; bytes]).send().expect("PUT");
        assert_eq!(put.status().as_u16(), 200);
    }
    let root_uri = model["info"]["artifact_uri"].clone();
    // logged_models-114, 115
    let dirs = format!("logged-models/{id}/artifacts/directories");
    assert_eq!(
        s.get(&dirs, &[]).ok(),
        json!({"root_uri": root_uri, "files": [
            {"path": "MLmodel", "is_dir": false, "file_size": 12},
            {"path": "sub", "is_dir": true},
        ]})
    );
    assert_eq!(
        s.get(&dirs, &[("artifact_directory_path", "sub")]).ok(),
        json!({"root_uri": root_uri, "files": [{"path": "sub/w.bin", "is_dir": false, "file_size": 10}]})
    );
    assert_eq!(
        s.get(&dirs, &[("artifact_directory_path", "model")]).ok(),
        json!({"root_uri": root_uri})
    );
    s.get(&dirs, &[("artifact_directory_path", "../x")])
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.get(
        "logged-models/m-00000000000000000000000000000000/artifacts/directories",
        &[],
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}
