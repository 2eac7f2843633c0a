//! Registered models end to end: create, get, update, rename, delete, tags and search,
//! including the prompts that ride on registered models and stay hidden unless asked for.

use cairn_tests::{value_of, TestServer};
use serde_json::{json, Value};
use std::time::Duration;

const PROMPT_TAG: &str = "mlflow.prompt.is_prompt";

/// Lets the server's millisecond clock move on, so that a timestamp bump is observable.
fn tick() {
    std::thread::sleep(Duration::from_millis(5));
}

fn create(s: &TestServer, body: Value) -> Value {
    s.post("registered-models/create", body).ok()["registered_model"].clone()
}

fn model(s: &TestServer, name: &str) -> Value {
    s.get("registered-models/get", &[("name", name)]).ok()["registered_model"].clone()
}

fn run_in_new_experiment(s: &TestServer, experiment: &str) -> String {
    let exp = s.experiment(experiment);
    s.run(&exp)
}

/// Creates a version from `runs:/<run>/model` and returns its number.
fn version(s: &TestServer, name: &str, run: &str) -> String {
    let r = s.post(
        "model-versions/create",
        json!({"name": name, "source": format!("runs:/{run}/model"), "run_id": run}),
    );
    r.ok()["model_version"]["version"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn ts(v: &Value) -> i64 {
    v["last_updated_timestamp"]
        .as_i64()
        .expect("a numeric timestamp")
}

/// Names of a registered-models/search page, and its next_page_token.
fn search(s: &TestServer, query: &[(&str, &str)]) -> (Vec<String>, Option<String>) {
    let body = s.get("registered-models/search", query).ok();
    let names = body["registered_models"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| m["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    (names, body["next_page_token"].as_str().map(str::to_owned))
}

fn names(s: &TestServer, filter: &str) -> Vec<String> {
    search(s, &[("filter", filter)]).0
}

#[test]
fn a_registered_model_keeps_the_tags_and_description_it_was_created_with() {
    let s = TestServer::start();
    // registry-005
    let m = create(
        &s,
        json!({"name": "RM-B", "description": "model B",
               "tags": [{"key": "task", "value": "classification"}, {"key": "owner", "value": "ml"}]}),
    );
    assert_eq!(m["name"], "RM-B");
    assert_eq!(m["description"], "model B");
    assert_eq!(value_of(&m["tags"], "task"), Some(&json!("classification")));
    assert_eq!(value_of(&m["tags"], "owner"), Some(&json!("ml")));
    assert_eq!(m["tags"].as_array().unwrap().len(), 2);
    assert!(m["creation_timestamp"].as_i64().unwrap() > 0);
    assert_eq!(m["creation_timestamp"], m["last_updated_timestamp"]);
    assert!(m.get("latest_versions").is_none() && m.get("aliases").is_none());
    // registry-009: get answers the same object.
    assert_eq!(model(&s, "RM-B"), m);
    // The web UI's prefix serves the same registry.
    let ui = s.raw_get(
        "/ajax-api/2.0/mlflow/registered-models/get",
        &[("name", "RM-B")],
    );
    assert_eq!(ui.ok()["registered_model"], m);
}

#[test]
fn a_registered_model_created_by_name_only_has_no_description_or_tags() {
    let s = TestServer::start();
    // registry-004
    let m = create(&s, json!({"name": "RM-A"}));
    let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.len(),
        3,
        "only name and the two timestamps are set: {m}"
    );
    assert_eq!(m["name"], "RM-A");
}

#[test]
fn creating_a_registered_model_twice_is_resource_already_exists() {
    let s = TestServer::start();
    create(&s, json!({"name": "RM-A", "description": "first"}));
    // registry-006: 400, not 409, so that register_model carries on.
    let r = s.post(
        "registered-models/create",
        json!({"name": "RM-A", "description": "second"}),
    );
    r.expect_error(400, "RESOURCE_ALREADY_EXISTS");
    assert_eq!(
        r.body["message"],
        "Registered Model (name=RM-A) already exists."
    );
    assert_eq!(model(&s, "RM-A")["description"], "first");
}

#[test]
fn registered_model_names_with_a_slash_or_colon_or_none_at_all_are_refused() {
    let s = TestServer::start();
    // registry-007, registry-008
    for body in [
        json!({"name": "bad/name"}),
        json!({"name": "ns:model"}),
        json!({"name": ""}),
        json!({}),
    ] {
        let r = s.post("registered-models/create", body.clone());
        r.expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    let r = s.post("registered-models/create", json!({"name": "bad/name"}));
    assert!(r.body["message"].as_str().unwrap().contains("bad/name"));
    let r = s.post("registered-models/create", json!({}));
    assert!(r.body["message"].as_str().unwrap().contains("'name'"));
    assert_eq!(search(&s, &[]).0, Vec::<String>::new());
}

#[test]
fn getting_an_unknown_registered_model_is_404() {
    let s = TestServer::start();
    // registry-010
    let r = s.get("registered-models/get", &[("name", "nope")]);
    r.expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(
        r.body["message"],
        "Registered Model with name=nope not found"
    );
    s.get("registered-models/get", &[])
        .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn a_description_is_updated_with_patch_only_and_bumps_last_updated() {
    let s = TestServer::start();
    let before = create(&s, json!({"name": "RM-A"}));
    tick();
    // registry-012: the route exists, but not for POST.
    let r = s.post(
        "registered-models/update",
        json!({"name": "RM-A", "description": "x"}),
    );
    assert_eq!(r.status, 405, "{}", r.text);
    assert!(model(&s, "RM-A").get("description").is_none());
    // registry-011
    let after = s
        .patch(
            "registered-models/update",
            json!({"name": "RM-A", "description": "now described"}),
        )
        .ok()["registered_model"]
        .clone();
    assert_eq!(after["description"], "now described");
    assert_eq!(after["creation_timestamp"], before["creation_timestamp"]);
    assert!(ts(&after) > ts(&before), "{before} -> {after}");
    assert_eq!(model(&s, "RM-A"), after);
    s.patch(
        "registered-models/update",
        json!({"name": "ghost", "description": "x"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn renaming_carries_versions_aliases_and_tags_along_and_bumps_last_updated() {
    let s = TestServer::start();
    let run = run_in_new_experiment(&s, "rename-exp");
    create(
        &s,
        json!({"name": "RM-B", "description": "model B", "tags": [{"key": "task", "value": "cls"}]}),
    );
    assert_eq!(version(&s, "RM-B", &run), "1");
    assert_eq!(version(&s, "RM-B", &run), "2");
    s.post(
        "registered-models/alias",
        json!({"name": "RM-B", "alias": "champion", "version": "2"}),
    )
    .ok();
    s.post(
        "model-versions/set-tag",
        json!({"name": "RM-B", "version": "1", "key": "validated", "value": "yes"}),
    )
    .ok();
    s.post(
        "model-versions/transition-stage",
        json!({"name": "RM-B", "version": "2", "stage": "Production"}),
    )
    .ok();
    let before = model(&s, "RM-B");
    tick();
    // registry-018
    let renamed = s
        .post(
            "registered-models/rename",
            json!({"name": "RM-B", "new_name": "RM-B2"}),
        )
        .ok()["registered_model"]
        .clone();
    assert_eq!(renamed["name"], "RM-B2");
    assert_eq!(renamed["creation_timestamp"], before["creation_timestamp"]);
    assert!(ts(&renamed) > ts(&before), "{before} -> {renamed}");
    s.get("registered-models/get", &[("name", "RM-B")])
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");

    let m = model(&s, "RM-B2");
    assert_eq!(m["description"], "model B");
    assert_eq!(m["tags"], json!([{"key": "task", "value": "cls"}]));
    assert_eq!(m["aliases"], json!([{"alias": "champion", "version": "2"}]));
    let latest = m["latest_versions"].as_array().unwrap();
    assert_eq!(latest.len(), 2, "{m}");
    assert!(latest.iter().all(|v| v["name"] == "RM-B2"), "{m}");

    let v1 = s
        .get("model-versions/get", &[("name", "RM-B2"), ("version", "1")])
        .ok()["model_version"]
        .clone();
    assert_eq!(value_of(&v1["tags"], "validated"), Some(&json!("yes")));
    let by_alias = s
        .get(
            "registered-models/alias",
            &[("name", "RM-B2"), ("alias", "champion")],
        )
        .ok()["model_version"]
        .clone();
    assert_eq!(
        (&by_alias["name"], &by_alias["version"]),
        (&json!("RM-B2"), &json!("2"))
    );
    assert_eq!(by_alias["current_stage"], "Production");
    s.get("model-versions/get", &[("name", "RM-B"), ("version", "1")])
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    // Numbering continues under the new name, deleted versions included, and the
    // old name is free again, with nothing left behind.
    s.delete(
        "model-versions/delete",
        json!({"name": "RM-B2", "version": "2"}),
    )
    .ok();
    assert_eq!(version(&s, "RM-B2", &run), "3");
    let reused = create(&s, json!({"name": "RM-B"}));
    assert!(reused.get("tags").is_none() && reused.get("aliases").is_none());
    assert_eq!(version(&s, "RM-B", &run), "1");
}

#[test]
fn renaming_onto_an_existing_or_invalid_name_or_from_an_unknown_one_is_refused() {
    let s = TestServer::start();
    create(&s, json!({"name": "RM-A"}));
    create(&s, json!({"name": "RM-B", "description": "b"}));
    // registry-019
    s.post(
        "registered-models/rename",
        json!({"name": "RM-B", "new_name": "RM-A"}),
    )
    .expect_error(400, "RESOURCE_ALREADY_EXISTS");
    s.post(
        "registered-models/rename",
        json!({"name": "RM-B", "new_name": "bad/name"}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post(
        "registered-models/rename",
        json!({"name": "ghost", "new_name": "RM-C"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.post("registered-models/rename", json!({"name": "RM-B"}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    assert_eq!(search(&s, &[]).0, ["RM-A", "RM-B"]);
    assert_eq!(model(&s, "RM-B")["description"], "b");
}

#[test]
fn deleting_a_registered_model_removes_its_versions_tags_and_aliases() {
    let s = TestServer::start();
    let run = run_in_new_experiment(&s, "delete-exp");
    create(
        &s,
        json!({"name": "RM-D", "description": "d", "tags": [{"key": "owner", "value": "me"}]}),
    );
    version(&s, "RM-D", &run);
    version(&s, "RM-D", &run);
    s.post(
        "registered-models/alias",
        json!({"name": "RM-D", "alias": "champion", "version": "1"}),
    )
    .ok();
    s.post(
        "model-versions/set-tag",
        json!({"name": "RM-D", "version": "1", "key": "validated", "value": "yes"}),
    )
    .ok();
    // registry-017: DELETE takes its fields from the body, not the query string.
    let via_query = s.raw_request(
        "DELETE",
        "/api/2.0/mlflow/registered-models/delete?name=RM-D",
        b"",
    );
    assert_eq!(via_query.status, 400, "{}", via_query.text());
    assert_eq!(via_query.json()["error_code"], "INVALID_PARAMETER_VALUE");
    model(&s, "RM-D");

    // registry-149, registry-150
    assert_eq!(
        s.delete("registered-models/delete", json!({"name": "RM-D"}))
            .ok(),
        json!({})
    );
    s.get("registered-models/get", &[("name", "RM-D")])
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.get("model-versions/get", &[("name", "RM-D"), ("version", "1")])
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    let found = s
        .get("model-versions/search", &[("filter", "name = 'RM-D'")])
        .ok();
    assert_eq!(found, json!({}));
    assert_eq!(search(&s, &[]).0, Vec::<String>::new());
    s.delete("registered-models/delete", json!({"name": "RM-D"}))
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");

    // A model of the same name starts from nothing: no tags, aliases or versions
    // (nor version tags) left over, numbering from 1 again.
    let fresh = create(&s, json!({"name": "RM-D"}));
    assert_eq!(fresh, model(&s, "RM-D"));
    for key in ["tags", "aliases", "latest_versions", "description"] {
        assert!(fresh.get(key).is_none(), "{key} left over: {fresh}");
    }
    assert_eq!(version(&s, "RM-D", &run), "1");
    let v1 = s
        .get("model-versions/get", &[("name", "RM-D"), ("version", "1")])
        .ok()["model_version"]
        .clone();
    assert!(
        v1.get("tags").is_none() && v1.get("aliases").is_none(),
        "{v1}"
    );
    s.get(
        "registered-models/alias",
        &[("name", "RM-D"), ("alias", "champion")],
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn registered_model_tags_are_set_overwritten_and_deleted_without_bumping_the_model() {
    let s = TestServer::start();
    let created = create(&s, json!({"name": "RM-A"}));
    tick();
    // registry-013..016
    for (k, v) in [("owner", "ml-team"), ("tmp", "1"), ("owner", "platform")] {
        let r = s.post(
            "registered-models/set-tag",
            json!({"name": "RM-A", "key": k, "value": v}),
        );
        assert_eq!(r.ok(), json!({}));
    }
    let tags = model(&s, "RM-A")["tags"].clone();
    assert_eq!(value_of(&tags, "owner"), Some(&json!("platform")));
    assert_eq!(value_of(&tags, "tmp"), Some(&json!("1")));
    assert_eq!(tags.as_array().unwrap().len(), 2);
    for _ in 0..2 {
        let r = s.delete(
            "registered-models/delete-tag",
            json!({"name": "RM-A", "key": "tmp"}),
        );
        assert_eq!(r.ok(), json!({}), "deleting a missing tag is fine too");
    }
    let m = model(&s, "RM-A");
    assert_eq!(m["tags"], json!([{"key": "owner", "value": "platform"}]));
    assert_eq!(
        ts(&m),
        ts(&created),
        "tag changes leave the model as it was"
    );
}

#[test]
fn registry_tags_on_unknown_models_or_with_bad_keys_or_huge_values_are_refused() {
    let s = TestServer::start();
    create(&s, json!({"name": "RM-A"}));
    s.post(
        "registered-models/set-tag",
        json!({"name": "ghost", "key": "k", "value": "v"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.delete(
        "registered-models/delete-tag",
        json!({"name": "ghost", "key": "k"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    for key in ["bad*key", "../up", ""] {
        s.post(
            "registered-models/set-tag",
            json!({"name": "RM-A", "key": key, "value": "v"}),
        )
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    // errors-029: values up to 100,000 characters.
    s.post(
        "registered-models/set-tag",
        json!({"name": "RM-A", "key": "big", "value": "x".repeat(100_001)}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.post(
        "registered-models/create",
        json!({"name": "RM-T", "tags": [{"key": "big", "value": "x".repeat(100_001)}]}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    s.get("registered-models/get", &[("name", "RM-T")])
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    s.post(
        "registered-models/set-tag",
        json!({"name": "RM-A", "key": "big", "value": "x".repeat(100_000)}),
    )
    .ok();
    let tags = model(&s, "RM-A")["tags"].clone();
    assert_eq!(tags.as_array().unwrap().len(), 1, "only the accepted tag");
}

/// RM-A (owner=ml-team), RM-B (owner=research), rm-c, other; and the prompt `greeting`.
fn catalogue(s: &TestServer) {
    create(
        s,
        json!({"name": "RM-A", "tags": [{"key": "owner", "value": "ml-team"}]}),
    );
    create(
        s,
        json!({"name": "RM-B", "tags": [{"key": "owner", "value": "research"}]}),
    );
    create(s, json!({"name": "rm-c"}));
    create(s, json!({"name": "other"}));
    create(
        s,
        json!({"name": "greeting", "description": "first",
               "tags": [{"key": PROMPT_TAG, "value": "true"}]}),
    );
}

#[test]
fn searching_registered_models_filters_by_name() {
    let s = TestServer::start();
    catalogue(&s);
    // search-108: by name, prompts left out.
    assert_eq!(search(&s, &[]).0, ["RM-A", "RM-B", "other", "rm-c"]);
    assert_eq!(names(&s, "name = 'RM-A'"), ["RM-A"]);
    assert_eq!(names(&s, "name = 'rm-a'"), Vec::<String>::new());
    assert_eq!(names(&s, "name != 'RM-A'"), ["RM-B", "other", "rm-c"]);
    // search-109, search-110: LIKE is case-sensitive, ILIKE is not.
    assert_eq!(names(&s, "name LIKE 'RM-%'"), ["RM-A", "RM-B"]);
    assert_eq!(names(&s, "name LIKE 'RM-_'"), ["RM-A", "RM-B"]);
    assert_eq!(names(&s, "name ILIKE 'rm-%'"), ["RM-A", "RM-B", "rm-c"]);
    assert_eq!(names(&s, "name ILIKE 'rm-a'"), ["RM-A"]);
    // search-112
    assert_eq!(
        names(&s, "name IN ('RM-A', 'other', 'missing')"),
        ["RM-A", "other"]
    );
    assert_eq!(names(&s, "name NOT IN ('RM-A', 'other')"), ["RM-B", "rm-c"]);
    assert_eq!(names(&s, "name LIKE 'RM-%' AND name != 'RM-B'"), ["RM-A"]);
    // Only % and _ are wildcards; other pattern characters match themselves.
    create(&s, json!({"name": "a*b"}));
    create(&s, json!({"name": "a[b"}));
    create(&s, json!({"name": "axb"}));
    assert_eq!(names(&s, "name LIKE 'a*%'"), ["a*b"]);
    assert_eq!(names(&s, "name LIKE 'a[%'"), ["a[b"]);
    assert_eq!(names(&s, "name LIKE 'a?b'"), Vec::<String>::new());
    assert_eq!(names(&s, "name LIKE 'a_b'"), ["a*b", "a[b", "axb"]);
}

#[test]
fn searching_registered_models_filters_by_tags_and_inequality_includes_models_without_the_tag() {
    let s = TestServer::start();
    catalogue(&s);
    // search-111
    assert_eq!(names(&s, "tags.owner = 'ml-team'"), ["RM-A"]);
    assert_eq!(names(&s, "tag.owner = 'ml-team'"), ["RM-A"]);
    assert_eq!(names(&s, "tags.`owner` LIKE '%e%'"), ["RM-A", "RM-B"]);
    assert_eq!(names(&s, "tags.owner ILIKE 'ML-%'"), ["RM-A"]);
    assert_eq!(
        names(&s, "tags.owner != 'ml-team'"),
        ["RM-B", "other", "rm-c"]
    );
    assert_eq!(names(&s, "tags.nothing = 'x'"), Vec::<String>::new());
}

#[test]
fn bad_registered_model_filters_are_400_never_500() {
    let s = TestServer::start();
    catalogue(&s);
    for filter in [
        "description = 'x'", // search-119
        "name = 'a' OR name = 'b'",
        "name = RM-A",
        "(name = 'RM-A')",
        "name =",
        "metrics.acc > 1",
        "creation_timestamp > 0",
    ] {
        let r = s.get("registered-models/search", &[("filter", filter)]);
        r.expect_error(400, "INVALID_PARAMETER_VALUE");
    }
}

#[test]
fn tag_null_checks_answer_instead_of_failing() {
    let s = TestServer::start();
    catalogue(&s);
    // search-120 is an unhandled 500 on the real server.
    assert_eq!(names(&s, "tags.owner IS NULL"), ["other", "rm-c"]);
    assert_eq!(names(&s, "tags.owner IS NOT NULL"), ["RM-A", "RM-B"]);
}

#[test]
fn prompts_are_hidden_from_plain_searches_and_found_by_their_tag() {
    let s = TestServer::start();
    catalogue(&s);
    // search-135, search-136
    assert!(!search(&s, &[]).0.contains(&"greeting".to_owned()));
    assert_eq!(names(&s, "name = 'greeting'"), Vec::<String>::new());
    assert_eq!(names(&s, "name LIKE '%'").len(), 4);
    assert_eq!(
        names(&s, "tags.`mlflow.prompt.is_prompt` = 'true'"),
        ["greeting"]
    );
    assert_eq!(
        names(
            &s,
            "name = 'greeting' AND tags.`mlflow.prompt.is_prompt` = 'true'"
        ),
        ["greeting"]
    );
    // registry-134: what search_prompts sends.
    let (found, _) = search(
        &s,
        &[
            ("filter", "tags.`mlflow.prompt.is_prompt` = 'true'"),
            ("max_results", "100"),
        ],
    );
    assert_eq!(found, ["greeting"]);
    // registry-074: the clause the client appends to every search_registered_models.
    assert_eq!(
        names(
            &s,
            "name LIKE 'RM-%' AND tag.`mlflow.prompt.is_prompt` != 'true'"
        ),
        ["RM-A", "RM-B"]
    );
    assert_eq!(
        names(&s, "tag.`mlflow.prompt.is_prompt` != 'true'"),
        ["RM-A", "RM-B", "other", "rm-c"]
    );
    // `!= 'false'` asks for prompts as well as for models that are not marked.
    assert_eq!(
        names(&s, "tags.`mlflow.prompt.is_prompt` != 'false'"),
        ["RM-A", "RM-B", "greeting", "other", "rm-c"]
    );
    // A prompt is still a registered model for get.
    let p = model(&s, "greeting");
    assert_eq!(value_of(&p["tags"], PROMPT_TAG), Some(&json!("true")));
}

#[test]
fn registered_models_are_ordered_by_name_or_last_update_and_never_by_creation() {
    let s = TestServer::start();
    for name in ["m-one", "m-two", "m-three"] {
        create(&s, json!({"name": name}));
        tick();
    }
    // Bump m-one last.
    s.patch(
        "registered-models/update",
        json!({"name": "m-one", "description": "bumped"}),
    )
    .ok();
    let order = |keys: &[&str]| {
        let query: Vec<(&str, &str)> = keys.iter().map(|k| ("order_by", *k)).collect();
        search(&s, &query).0
    };
    // search-113, search-114
    assert_eq!(order(&["name ASC"]), ["m-one", "m-three", "m-two"]);
    assert_eq!(order(&["name DESC"]), ["m-two", "m-three", "m-one"]);
    assert_eq!(
        order(&["last_updated_timestamp DESC"]),
        ["m-one", "m-three", "m-two"]
    );
    assert_eq!(
        order(&["last_updated_timestamp ASC"]),
        ["m-two", "m-three", "m-one"]
    );
    assert_eq!(order(&["timestamp DESC"]), ["m-one", "m-three", "m-two"]);
    assert_eq!(order(&["timestamp"]), ["m-two", "m-three", "m-one"]);
    assert_eq!(
        order(&["last_updated_timestamp DESC", "name ASC"]),
        ["m-one", "m-three", "m-two"]
    );
    // search-118
    for bad in ["creation_timestamp DESC", "description", "name SIDEWAYS"] {
        s.get("registered-models/search", &[("order_by", bad)])
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
}

#[test]
fn registered_model_pages_carry_a_token_only_while_more_remain() {
    let s = TestServer::start();
    for i in 0..5 {
        create(&s, json!({"name": format!("page-{i}")}));
    }
    // search-115, search-116
    let (first, token) = search(&s, &[("max_results", "2")]);
    assert_eq!(first, ["page-0", "page-1"]);
    let token = token.expect("a token while more remain");
    let (second, token) = search(&s, &[("max_results", "2"), ("page_token", &token)]);
    assert_eq!(second, ["page-2", "page-3"]);
    let token = token.expect("a token while more remain");
    let (third, token) = search(&s, &[("max_results", "2"), ("page_token", &token)]);
    assert_eq!((third, token), (vec!["page-4".to_owned()], None));
    // An exactly full page has no token (§1.8).
    let (all, token) = search(&s, &[("max_results", "5")]);
    assert_eq!((all.len(), token), (5, None));
    let (_, token) = search(&s, &[("max_results", "4")]);
    assert!(token.is_some());
    // search-117: 1000 at most; 0 and non-numbers are refused.
    assert_eq!(search(&s, &[("max_results", "1000")]).0.len(), 5);
    for bad in ["1001", "0", "-1", "ten"] {
        s.get("registered-models/search", &[("max_results", bad)])
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    s.get(
        "registered-models/search",
        &[("page_token", "%%%not-a-token")],
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn registered_model_search_returns_100_by_default() {
    let s = TestServer::start();
    for i in 0..101 {
        create(&s, json!({"name": format!("bulk-{i:03}")}));
    }
    let (page, token) = search(&s, &[]);
    assert_eq!(page.len(), 100);
    assert_eq!(page.last().unwrap(), "bulk-099");
    let (rest, token) = search(&s, &[("page_token", &token.expect("a token"))]);
    assert_eq!((rest, token), (vec!["bulk-100".to_owned()], None));
}
