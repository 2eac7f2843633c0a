//! Experiments end to end: create, get, get-by-name, search (GET and POST), update, delete, restore and tags.

use cairn_tests::{value_of, Reply, TestServer};
use serde_json::{json, Value};

fn get(s: &TestServer, id: &str) -> Value {
    s.get("experiments/get", &[("experiment_id", id)]).ok()["experiment"].clone()
}

fn names(reply: Value) -> Vec<String> {
    reply["experiments"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| x["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn search(s: &TestServer, body: Value) -> Vec<String> {
    names(s.post("experiments/search", body).ok())
}

#[test]
fn the_default_experiment_zero_exists_from_the_start() {
    let s = TestServer::start();
    // experiments-006
    let e = get(&s, "0");
    assert_eq!(e["experiment_id"], "0");
    assert_eq!(e["name"], "Default");
    assert_eq!(e["artifact_location"], "mlflow-artifacts:/0");
    assert_eq!(e["lifecycle_stage"], "active");
    assert_eq!(e["workspace"], "default");
    assert!(e["creation_time"].is_i64() && e["last_update_time"].is_i64());
    assert!(e.get("tags").is_none(), "no tags, no key: {e}");
}

#[test]
fn created_experiments_get_increasing_string_ids_and_a_default_location() {
    let s = TestServer::start();
    let a = s.experiment("exp-alpha");
    let b = s.experiment("exp-beta");
    // experiments-001: ids are integers rendered as strings, 0 being Default.
    assert_eq!((a.as_str(), b.as_str()), ("1", "2"));
    let e = get(&s, &a);
    assert_eq!(e["name"], "exp-alpha");
    assert_eq!(e["artifact_location"], format!("mlflow-artifacts:/{a}"));
    assert_eq!(e["lifecycle_stage"], "active");
    assert_eq!(e["creation_time"], e["last_update_time"]);
    // Runs live under the experiment's location.
    let run = s.create_run(json!({"experiment_id": a}));
    let id = run["info"]["run_id"].as_str().unwrap();
    assert_eq!(
        run["info"]["artifact_uri"],
        format!("mlflow-artifacts:/{a}/{id}/artifacts")
    );
}

#[test]
fn an_experiment_keeps_the_tags_and_location_it_was_created_with() {
    let s = TestServer::start();
    // experiments-002, experiments-007, experiments-030
    let r = s.post(
        "experiments/create",
        json!({"name": "exp-beta", "artifact_location": "mlflow-artifacts:/custom-beta",
               "tags": [{"key": "team", "value": "vision"}, {"key": "priority", "value": "high"}]}),
    );
    let id = r.ok()["experiment_id"].as_str().unwrap().to_owned();
    let e = get(&s, &id);
    assert_eq!(e["artifact_location"], "mlflow-artifacts:/custom-beta");
    assert_eq!(value_of(&e["tags"], "team"), Some(&json!("vision")));
    assert_eq!(value_of(&e["tags"], "priority"), Some(&json!("high")));
    assert_eq!(e["tags"].as_array().unwrap().len(), 2);
    let run = s.create_run(json!({"experiment_id": id, "run_name": "beta-run"}));
    let run_id = run["info"]["run_id"].as_str().unwrap();
    assert_eq!(
        run["info"]["artifact_uri"],
        format!("mlflow-artifacts:/custom-beta/{run_id}/artifacts")
    );
}

#[test]
fn experiment_names_are_unique_across_active_and_deleted_experiments() {
    let s = TestServer::start();
    let id = s.experiment("exp-alpha");
    // experiments-003
    s.post("experiments/create", json!({"name": "exp-alpha"}))
        .expect_error(400, "RESOURCE_ALREADY_EXISTS");
    s.post("experiments/delete", json!({"experiment_id": id}))
        .ok();
    // experiments-039: a deleted experiment still holds its name.
    s.post("experiments/create", json!({"name": "exp-alpha"}))
        .expect_error(400, "RESOURCE_ALREADY_EXISTS");
    // Names compare exactly: another case is another name.
    s.experiment("EXP-ALPHA");
}

#[test]
fn a_missing_empty_or_overlong_experiment_name_is_invalid() {
    let s = TestServer::start();
    // experiments-004, experiments-005
    for body in [json!({}), json!({"name": ""})] {
        let r = s.post("experiments/create", body);
        r.expect_error(400, "INVALID_PARAMETER_VALUE");
        assert!(r.body["message"].as_str().unwrap().contains("'name'"));
    }
    // errors-027: 500 characters is the limit.
    s.experiment(&"e".repeat(500));
    s.post("experiments/create", json!({"name": "e".repeat(501)}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn artifact_locations_the_server_must_not_hand_out_are_refused() {
    let s = TestServer::start();
    // §3.1: runs:/ URIs, fragments, ;params, over 2048 characters, other hosts.
    for (i, location) in [
        "runs:/0123456789abcdef0123456789abcdef/model".to_owned(),
        "mlflow-artifacts:/x#fragment".to_owned(),
        "mlflow-artifacts:/x;params".to_owned(),
        format!("mlflow-artifacts:/{}", "a".repeat(2048)),
        "http://other-host/artifacts".to_owned(),
        "https://other-host:8443/artifacts".to_owned(),
    ]
    .into_iter()
    .enumerate()
    {
        let r = s.post(
            "experiments/create",
            json!({"name": format!("bad-{i}"), "artifact_location": location}),
        );
        r.expect_error(400, "INVALID_PARAMETER_VALUE");
        s.get(
            "experiments/get-by-name",
            &[("experiment_name", &format!("bad-{i}"))],
        )
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    }
    // The server's own storage is fine.
    let ok = s.post(
        "experiments/create",
        json!({"name": "good", "artifact_location": "mlflow-artifacts:/elsewhere"}),
    );
    assert!(ok.ok()["experiment_id"].is_string());
}

#[test]
fn getting_an_unknown_malformed_or_missing_experiment_id_fails() {
    let s = TestServer::start();
    // experiments-009, experiments-010, experiments-011
    s.get("experiments/get", &[("experiment_id", "987654")])
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.get("experiments/get", &[("experiment_id", "abc")])
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    let missing = s.get("experiments/get", &[]);
    missing.expect_error(400, "INVALID_PARAMETER_VALUE");
    assert!(missing.body["message"]
        .as_str()
        .unwrap()
        .contains("'experiment_id'"));
}

#[test]
fn get_by_name_finds_active_and_deleted_experiments_and_404s_otherwise() {
    let s = TestServer::start();
    let id = s.experiment("exp-beta");
    // experiments-012
    let e = s
        .get(
            "experiments/get-by-name",
            &[("experiment_name", "exp-beta")],
        )
        .ok();
    assert_eq!(e["experiment"]["experiment_id"], json!(id));
    // experiments-013: the client reads this 404 as "does not exist".
    s.get(
        "experiments/get-by-name",
        &[("experiment_name", "no-such-exp")],
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.get("experiments/get-by-name", &[])
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    // experiments-034
    s.post("experiments/delete", json!({"experiment_id": id}))
        .ok();
    let deleted = s
        .get(
            "experiments/get-by-name",
            &[("experiment_name", "exp-beta")],
        )
        .ok();
    assert_eq!(deleted["experiment"]["lifecycle_stage"], "deleted");
}

#[test]
fn renaming_an_experiment_changes_its_name_and_refuses_taken_names() {
    let s = TestServer::start();
    let a = s.experiment("exp-alpha");
    s.experiment("exp-beta");
    let before = get(&s, &a);
    // experiments-014
    let r = s.post(
        "experiments/update",
        json!({"experiment_id": a, "new_name": "exp-alpha-renamed"}),
    );
    assert_eq!(r.ok(), json!({}));
    let after = get(&s, &a);
    assert_eq!(after["name"], "exp-alpha-renamed");
    assert_eq!(after["creation_time"], before["creation_time"]);
    assert!(after["last_update_time"].as_i64() >= before["last_update_time"].as_i64());
    s.get(
        "experiments/get-by-name",
        &[("experiment_name", "exp-alpha")],
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    // experiments-015: the real server's BAD_REQUEST is a raw SQL error; the contract
    // prefers RESOURCE_ALREADY_EXISTS, still a 400.
    s.post(
        "experiments/update",
        json!({"experiment_id": a, "new_name": "exp-beta"}),
    )
    .expect_error(400, "RESOURCE_ALREADY_EXISTS");
    // Renaming to its own name is no conflict.
    s.post(
        "experiments/update",
        json!({"experiment_id": a, "new_name": "exp-alpha-renamed"}),
    )
    .ok();
    s.post("experiments/update", json!({"experiment_id": a}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post(
        "experiments/update",
        json!({"experiment_id": "987654", "new_name": "x"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    // experiments-042: renaming a deleted experiment is the caller's mistake, a 400
    // instead of the real server's 500 INVALID_STATE (which the client would retry).
    s.post("experiments/delete", json!({"experiment_id": a}))
        .ok();
    s.post(
        "experiments/update",
        json!({"experiment_id": a, "new_name": "zzz"}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    assert_eq!(get(&s, &a)["name"], "exp-alpha-renamed");
}

#[test]
fn experiment_tags_are_upserted_may_be_empty_and_can_be_deleted() {
    let s = TestServer::start();
    let id = s.experiment("tagged");
    let set = |key: &str, value: &str| {
        s.post(
            "experiments/set-experiment-tag",
            json!({"experiment_id": id, "key": key, "value": value}),
        )
    };
    // experiments-016..019
    assert_eq!(set("owner", "alice").ok(), json!({}));
    set("owner", "bob").ok();
    set("empty", "").ok();
    let tags = get(&s, &id)["tags"].clone();
    assert_eq!(value_of(&tags, "owner"), Some(&json!("bob")));
    assert_eq!(value_of(&tags, "empty"), Some(&json!("")));
    assert_eq!(tags.as_array().unwrap().len(), 2, "{tags}");
    // experiments-020, experiments-021
    s.post(
        "experiments/delete-experiment-tag",
        json!({"experiment_id": id, "key": "empty"}),
    )
    .ok();
    let tags = get(&s, &id)["tags"].clone();
    assert_eq!(tags, json!([{"key": "owner", "value": "bob"}]));
    s.post(
        "experiments/delete-experiment-tag",
        json!({"experiment_id": id, "key": "nope"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.post(
        "experiments/set-experiment-tag",
        json!({"experiment_id": id, "value": "v"}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post(
        "experiments/set-experiment-tag",
        json!({"experiment_id": "987654", "key": "k", "value": "v"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn experiment_tag_keys_and_values_have_limits() {
    let s = TestServer::start();
    let id = s.experiment("limits");
    let set = |key: String, value: String| -> Reply {
        s.post(
            "experiments/set-experiment-tag",
            json!({"experiment_id": id, "key": key, "value": value}),
        )
    };
    // errors-028: 20000 characters of value, 250 of key.
    set("big".into(), "v".repeat(20_000)).ok();
    set("k".repeat(250), "v".into()).ok();
    set("big".into(), "v".repeat(20_001)).expect_error(400, "INVALID_PARAMETER_VALUE");
    set("k".repeat(251), "v".into()).expect_error(400, "INVALID_PARAMETER_VALUE");
    set("bad*key".into(), "v".into()).expect_error(400, "INVALID_PARAMETER_VALUE");
    // The same limits hold for the tags an experiment is created with, and a refused
    // create leaves nothing behind.
    for tags in [
        json!([{"key": "big", "value": "v".repeat(20_001)}]),
        json!([{"key": "k".repeat(251), "value": "v"}]),
        json!([{"value": "v"}]),
    ] {
        s.post(
            "experiments/create",
            json!({"name": "tagged-create", "tags": tags}),
        )
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    s.get(
        "experiments/get-by-name",
        &[("experiment_name", "tagged-create")],
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    let tags = get(&s, &id)["tags"].clone();
    assert_eq!(
        value_of(&tags, "big").and_then(Value::as_str).map(str::len),
        Some(20_000),
        "the refused value did not overwrite the stored one"
    );
}

#[test]
fn deleting_an_experiment_deletes_its_runs_and_restoring_brings_them_back() {
    let s = TestServer::start();
    let id = s.experiment("cascade");
    let kept = s.run(&id);
    let early = s.run(&id);
    s.post("runs/delete", json!({"run_id": early})).ok();
    let other = s.experiment("bystander");
    let bystander = s.run(&other);
    let before = get(&s, &id);
    // experiments-031..033
    assert_eq!(
        s.post("experiments/delete", json!({"experiment_id": id}))
            .ok(),
        json!({})
    );
    let e = get(&s, &id);
    assert_eq!(e["lifecycle_stage"], "deleted");
    assert!(e["last_update_time"].as_i64() >= before["last_update_time"].as_i64());
    assert_eq!(s.get_run(&kept)["info"]["lifecycle_stage"], "deleted");
    assert_eq!(s.get_run(&bystander)["info"]["lifecycle_stage"], "active");
    // The deleted run is only found among deleted runs.
    let active = s.post("runs/search", json!({"experiment_ids": [id]})).ok();
    assert_eq!(active, json!({}));
    let deleted = s
        .post(
            "runs/search",
            json!({"experiment_ids": [id], "run_view_type": "DELETED_ONLY"}),
        )
        .ok();
    let mut ids: Vec<&str> = deleted["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["info"]["run_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut want = vec![kept.as_str(), early.as_str()];
    want.sort_unstable();
    assert_eq!(ids, want);
    // Its runs refuse writes, and no run can be created in it (experiments-043).
    s.post(
        "runs/log-metric",
        json!({"run_id": kept, "key": "m", "value": 1, "timestamp": 1}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post("runs/create", json!({"experiment_id": id}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    // experiments-044..047: restoring brings back all its runs, even one deleted on its
    // own before (§3.1 "all its runs", as MLflow's store does).
    assert_eq!(
        s.post("experiments/restore", json!({"experiment_id": id}))
            .ok(),
        json!({})
    );
    assert_eq!(get(&s, &id)["lifecycle_stage"], "active");
    assert_eq!(s.get_run(&kept)["info"]["lifecycle_stage"], "active");
    assert_eq!(s.get_run(&early)["info"]["lifecycle_stage"], "active");
    s.post(
        "runs/log-metric",
        json!({"run_id": kept, "key": "m", "value": 1, "timestamp": 1}),
    )
    .ok();
}

#[test]
fn deleting_twice_restoring_an_active_experiment_or_unknown_ids_are_not_found() {
    let s = TestServer::start();
    let id = s.experiment("twice");
    // experiments-045: restore an active experiment.
    s.post("experiments/restore", json!({"experiment_id": id}))
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.post("experiments/delete", json!({"experiment_id": id}))
        .ok();
    // experiments-040
    s.post("experiments/delete", json!({"experiment_id": id}))
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    for api in ["experiments/delete", "experiments/restore"] {
        s.post(api, json!({"experiment_id": "987654"}))
            .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
        s.post(api, json!({}))
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    // experiments-041: a deleted experiment takes no tags.
    s.post(
        "experiments/set-experiment-tag",
        json!({"experiment_id": id, "key": "k", "value": "v"}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn the_default_experiment_can_be_deleted_and_restored() {
    let s = TestServer::start();
    // experiments-048, experiments-049
    s.post("experiments/delete", json!({"experiment_id": "0"}))
        .ok();
    assert_eq!(get(&s, "0")["lifecycle_stage"], "deleted");
    s.post("experiments/restore", json!({"experiment_id": "0"}))
        .ok();
    assert_eq!(get(&s, "0")["lifecycle_stage"], "active");
}

#[test]
fn searching_experiments_requires_a_max_results_between_1_and_50000() {
    let s = TestServer::start();
    // experiments-023, experiments-024: absent means 0, which is refused.
    s.get("experiments/search", &[])
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post("experiments/search", json!({}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    // search-100, errors-033
    s.post("experiments/search", json!({"max_results": 50001}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.get("experiments/search", &[("max_results", "ten")])
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post("experiments/search", json!({"max_results": 0}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    assert_eq!(
        search(&s, json!({"max_results": 50000})),
        ["Default"],
        "the largest page is allowed"
    );
}

/// The contract's default order: creation_time DESC, then experiment_id ASC.
fn expected_default_order(s: &TestServer, ids: &[String]) -> Vec<String> {
    let mut rows: Vec<(i64, i64, String)> = ids
        .iter()
        .map(|id| {
            let e = get(s, id);
            (
                -e["creation_time"].as_i64().unwrap(),
                id.parse().unwrap(),
                e["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows.into_iter().map(|(_, _, name)| name).collect()
}

#[test]
fn experiment_search_pages_in_default_order_with_a_token_only_while_more_exist() {
    let s = TestServer::start();
    let mut ids = vec!["0".to_owned()];
    for i in 0..5 {
        ids.push(s.experiment(&format!("page-{i}")));
    }
    let expected = expected_default_order(&s, &ids);
    // Six experiments in pages of two (experiments-025, experiments-026): the last page
    // is exactly full and carries no token, so there is no empty trailing page.
    for (method, size) in [("GET", 2), ("POST", 2), ("POST", 4), ("GET", 6)] {
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let reply = if method == "GET" {
                let size = size.to_string();
                let mut q = vec![("max_results", size.as_str())];
                if let Some(t) = &token {
                    q.push(("page_token", t.as_str()));
                }
                s.get("experiments/search", &q).ok()
            } else {
                let mut body = json!({ "max_results": size });
                if let Some(t) = &token {
                    body["page_token"] = json!(t);
                }
                s.post("experiments/search", body).ok()
            };
            pages += 1;
            let page = names(reply.clone());
            assert!(!page.is_empty() && page.len() <= size, "{reply}");
            seen.extend(page);
            match reply.get("next_page_token") {
                Some(t) => token = Some(t.as_str().unwrap().to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{method} pages of {size}");
        assert_eq!(pages, expected.len().div_ceil(size), "{method} {size}");
    }
}

#[test]
fn experiment_search_filters_by_name_id_times_and_tags() {
    let s = TestServer::start();
    let a = s.experiment("search-exp");
    let b = s.experiment("search-exp-2");
    s.experiment("Other");
    s.post(
        "experiments/set-experiment-tag",
        json!({"experiment_id": b, "key": "team", "value": "vision"}),
    )
    .ok();
    let find = |filter: &str| {
        let mut got = search(&s, json!({"max_results": 100, "filter": filter}));
        got.sort();
        got
    };
    // search-090..094, experiments-027, experiments-028
    assert_eq!(find("name = 'search-exp'"), ["search-exp"]);
    assert_eq!(
        find("name != 'search-exp'"),
        ["Default", "Other", "search-exp-2"]
    );
    assert_eq!(
        find("attribute.name ILIKE 'SEARCH%'"),
        ["search-exp", "search-exp-2"]
    );
    assert_eq!(find("name LIKE 'SEARCH%'"), Vec::<String>::new());
    assert_eq!(find("name LIKE 'search-exp-_'"), ["search-exp-2"]);
    assert_eq!(
        find(&format!("experiment_id IN ('{a}', '{b}')")),
        ["search-exp", "search-exp-2"]
    );
    assert_eq!(
        find(&format!("experiment_id NOT IN ('{a}', '{b}')")),
        ["Default", "Other"]
    );
    assert_eq!(find(&format!("experiment_id = '{a}'")), ["search-exp"]);
    assert_eq!(
        find("creation_time > 0 AND name LIKE 'search%'"),
        ["search-exp", "search-exp-2"]
    );
    assert_eq!(find("creation_time < 0"), Vec::<String>::new());
    assert_eq!(find("tags.team = 'vision'"), ["search-exp-2"]);
    assert_eq!(find("tags.team IS NOT NULL"), ["search-exp-2"]);
    assert_eq!(
        find("tags.team IS NULL AND name LIKE 'search%'"),
        ["search-exp"]
    );
    // A filter that matches nothing answers {}.
    assert_eq!(
        s.post(
            "experiments/search",
            json!({"max_results": 10, "filter": "name = 'nothing'"})
        )
        .ok(),
        json!({})
    );
    // search-097..099, experiments with OR: refused on MLflow's path.
    for filter in [
        "params.a = 'b'",
        "experiment_id > '1'",
        "name = 'a' OR name = 'b'",
        "name = search-exp",
    ] {
        s.post(
            "experiments/search",
            json!({"max_results": 10, "filter": filter}),
        )
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    for order in ["tags.team ASC", "name SIDEWAYS", "params.x"] {
        s.post(
            "experiments/search",
            json!({"max_results": 10, "order_by": [order]}),
        )
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
}

#[test]
fn experiment_search_orders_by_name_or_id_in_either_direction() {
    let s = TestServer::start();
    for name in ["b-exp", "a-exp", "C-exp"] {
        s.experiment(name);
    }
    let order = |o: &str| search(&s, json!({"max_results": 10, "order_by": [o]}));
    // experiments-027, experiments-057; binary order puts upper case first.
    assert_eq!(order("name ASC"), ["C-exp", "Default", "a-exp", "b-exp"]);
    assert_eq!(order("name DESC"), ["b-exp", "a-exp", "Default", "C-exp"]);
    // search-096
    assert_eq!(
        order("experiment_id ASC"),
        ["Default", "b-exp", "a-exp", "C-exp"]
    );
    assert_eq!(
        order("experiment_id DESC"),
        ["C-exp", "a-exp", "b-exp", "Default"]
    );
    // Equal keys fall back to experiment_id ASC.
    let mut ids: Vec<String> = vec!["0".into(), "1".into(), "2".into(), "3".into()];
    let by_time = search(
        &s,
        json!({"max_results": 10, "order_by": ["last_update_time DESC"]}),
    );
    let mut rows: Vec<(i64, i64, String)> = ids
        .drain(..)
        .map(|id| {
            let e = get(&s, &id);
            (
                -e["last_update_time"].as_i64().unwrap(),
                id.parse().unwrap(),
                e["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    let expected: Vec<String> = rows.into_iter().map(|r| r.2).collect();
    assert_eq!(by_time, expected);
}

#[test]
fn experiment_search_view_types_by_name_or_number() {
    let s = TestServer::start();
    let gone = s.experiment("gone");
    s.experiment("here");
    s.post("experiments/delete", json!({"experiment_id": gone}))
        .ok();
    let mut all = vec!["Default", "gone", "here"];
    all.sort();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // experiments-035..038
    for view in [json!("DELETED_ONLY"), json!(2)] {
        assert_eq!(
            search(&s, json!({"max_results": 10, "view_type": view})),
            ["gone"]
        );
    }
    for view in [json!("ALL"), json!(3)] {
        assert_eq!(
            sorted(search(&s, json!({"max_results": 10, "view_type": view}))),
            all
        );
    }
    for view in [json!("ACTIVE_ONLY"), json!(1)] {
        assert_eq!(
            sorted(search(&s, json!({"max_results": 10, "view_type": view}))),
            ["Default", "here"]
        );
    }
    for view in ["DELETED_ONLY", "2"] {
        let r = s.get(
            "experiments/search",
            &[("max_results", "10"), ("view_type", view)],
        );
        assert_eq!(names(r.ok()), ["gone"], "{view}");
    }
    // errors-032 (not copied): an unknown view type is a 400, not silently the default.
    s.get(
        "experiments/search",
        &[("max_results", "10"), ("view_type", "BOGUS")],
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
}
