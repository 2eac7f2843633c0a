//! Model versions end to end: numbering, checked sources, stages, latest versions,
//! aliases, tags, download URIs, search, and concurrent creation.

use cairn_tests::{value_of, Reply, TestServer};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

const PROMPT_TAG: &str = "mlflow.prompt.is_prompt";

/// Lets the server's millisecond clock move on, so that a timestamp bump is observable.
fn tick() {
    std::thread::sleep(Duration::from_millis(5));
}

/// A server with an experiment, a run holding `model/MLmodel`, and the model `RM-A`.
struct Fixture {
    s: TestServer,
    exp: String,
    run: String,
}

impl Fixture {
    fn new() -> Fixture {
        let s = TestServer::start();
        let exp = s.experiment("registry-exp");
        let run = s.run(&exp);
        // registry-003
        s.put_artifact(
            &format!("{exp}/{run}/artifacts/model/MLmodel"),
            b"artifact_path: model\nflavors: {}\n",
        );
        s.post("registered-models/create", json!({"name": "RM-A"}))
            .ok();
        Fixture { s, exp, run }
    }

    /// A logged model with no source run (created once per fixture, by name).
    fn logged_model(&self) -> String {
        let found = self.s.post(
            "logged-models/search",
            json!({"experiment_ids": [self.exp], "filter": "name = 'fixture-model'"}),
        );
        if let Some(id) = found.body["models"][0]["info"]["model_id"].as_str() {
            return id.to_owned();
        }
        let created = self.s.post(
            "logged-models",
            json!({"experiment_id": self.exp, "name": "fixture-model"}),
        );
        created.body["model"]["info"]["model_id"]
            .as_str()
            .expect("logged model")
            .to_owned()
    }

    fn runs_source(&self) -> String {
        format!("runs:/{}/model", self.run)
    }

    fn served_source(&self) -> String {
        format!(
            "mlflow-artifacts:/{}/{}/artifacts/model",
            self.exp, self.run
        )
    }

    fn create(&self, body: Value) -> Reply {
        self.s.post("model-versions/create", body)
    }

    /// A version of `name` from `runs:/<run>/model`; returns its number.
    fn version_of(&self, name: &str) -> String {
        let r =
            self.create(json!({"name": name, "source": self.runs_source(), "run_id": self.run}));
        r.ok()["model_version"]["version"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn get(&self, name: &str, version: &str) -> Reply {
        self.s.get(
            "model-versions/get",
            &[("name", name), ("version", version)],
        )
    }

    fn transition(&self, version: &str, stage: &str, archive: bool) -> Reply {
        self.s.post(
            "model-versions/transition-stage",
            json!({"name": "RM-A", "version": version, "stage": stage,
                   "archive_existing_versions": archive}),
        )
    }

    fn alias(&self, alias: &str, version: &str) -> Reply {
        self.s.post(
            "registered-models/alias",
            json!({"name": "RM-A", "alias": alias, "version": version}),
        )
    }

    fn by_alias(&self, alias: &str) -> Reply {
        self.s.get(
            "registered-models/alias",
            &[("name", "RM-A"), ("alias", alias)],
        )
    }

    fn model(&self) -> Value {
        self.s
            .get("registered-models/get", &[("name", "RM-A")])
            .ok()["registered_model"]
            .clone()
    }
}

fn mv(r: Reply) -> Value {
    r.ok()["model_version"].clone()
}

fn ts(v: &Value) -> i64 {
    v["last_updated_timestamp"]
        .as_i64()
        .expect("a numeric timestamp")
}

/// `(name, version)` of a model-versions/search page, and its next_page_token.
fn search(s: &TestServer, query: &[(&str, &str)]) -> (Vec<(String, String)>, Option<String>) {
    let body = s.get("model-versions/search", query).ok();
    let found = body["model_versions"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .map(|v| {
                    (
                        v["name"].as_str().unwrap().to_owned(),
                        v["version"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (found, body["next_page_token"].as_str().map(str::to_owned))
}

fn versions_of(s: &TestServer, filter: &str) -> Vec<String> {
    search(s, &[("filter", filter)])
        .0
        .into_iter()
        .map(|(_, v)| v)
        .collect()
}

/// `(version, stage)` pairs of a list of model versions, in any order.
fn stages(list: &Value) -> BTreeSet<(String, String)> {
    list.as_array()
        .map(|vs| {
            vs.iter()
                .map(|v| {
                    (
                        v["version"].as_str().unwrap().to_owned(),
                        v["current_stage"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn pairs(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn versions_are_numbered_from_one_and_keep_what_they_were_created_with() {
    let f = Fixture::new();
    let before = f.model();
    tick();
    // registry-020
    let v1 = mv(f.create(json!({
        "name": "RM-A", "source": f.runs_source(), "run_id": f.run, "description": "v1",
        "tags": [{"key": "stage_hint", "value": "dev"}]})));
    assert_eq!(
        v1,
        json!({"name": "RM-A", "version": "1",
               "creation_timestamp": v1["creation_timestamp"],
               "last_updated_timestamp": v1["creation_timestamp"],
               "current_stage": "None", "description": "v1", "source": f.runs_source(),
               "run_id": f.run, "status": "READY",
               "tags": [{"key": "stage_hint", "value": "dev"}], "run_link": ""})
    );
    assert!(v1["creation_timestamp"].as_i64().unwrap() > 0);
    // registry-021, registry-022
    let v2 = mv(f.create(json!({"name": "RM-A", "source": f.served_source(), "run_id": f.run})));
    assert_eq!(
        (&v2["version"], &v2["source"]),
        (&json!("2"), &json!(f.served_source()))
    );
    assert_eq!(v2["description"], "");
    assert!(
        v2.get("tags").is_none() && v2.get("aliases").is_none(),
        "{v2}"
    );
    let v3 = mv(f.create(
        json!({"name": "RM-A", "source": f.runs_source(), "run_id": f.run,
                                "run_link": "http://example/run"}),
    ));
    assert_eq!(
        (&v3["version"], &v3["run_link"]),
        (&json!("3"), &json!("http://example/run"))
    );
    // A models:/ copy of a version comes from that version's run.
    let v4 = mv(f.create(json!({"name": "RM-A", "source": "models:/RM-A/1"})));
    assert_eq!(
        (&v4["version"], &v4["run_id"]),
        (&json!("4"), &json!(f.run))
    );
    // registry-028
    assert_eq!(mv(f.get("RM-A", "1")), v1);
    // Creating a version bumps the registered model.
    let after = f.model();
    assert_eq!(ts(&after), ts(&v4), "{after}");
    assert!(ts(&after) > ts(&before));
    // registry-027
    f.create(json!({"name": "nope", "source": "models:/RM-A/1"}))
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn version_numbers_are_never_reused_after_a_delete() {
    let f = Fixture::new();
    for expected in ["1", "2", "3"] {
        assert_eq!(f.version_of("RM-A"), expected);
    }
    let before = f.model();
    tick();
    // registry-061..063
    assert_eq!(
        f.s.delete(
            "model-versions/delete",
            json!({"name": "RM-A", "version": "3"})
        )
        .ok(),
        json!({})
    );
    f.get("RM-A", "3")
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert!(
        ts(&f.model()) > ts(&before),
        "deleting a version bumps the model"
    );
    assert_eq!(f.version_of("RM-A"), "4");
    f.s.delete(
        "model-versions/delete",
        json!({"name": "RM-A", "version": "1"}),
    )
    .ok();
    assert_eq!(f.version_of("RM-A"), "5");
    f.s.delete(
        "model-versions/delete",
        json!({"name": "RM-A", "version": "1"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    // Deleted versions are gone from every read.
    assert_eq!(versions_of(&f.s, "name = 'RM-A'"), ["5", "4", "2"]);
    let latest = f.model()["latest_versions"].clone();
    assert_eq!(stages(&latest), pairs(&[("5", "None")]));
    f.s.post(
        "model-versions/transition-stage",
        json!({"name": "RM-A", "version": "3", "stage": "Staging"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    // A version from another model does not count.
    f.s.post("registered-models/create", json!({"name": "RM-B"}))
        .ok();
    assert_eq!(f.version_of("RM-B"), "1");
}

#[test]
fn run_and_served_and_model_sources_are_accepted() {
    let f = Fixture::new();
    let accepted = [
        json!({"source": f.runs_source(), "run_id": f.run}),
        json!({"source": format!("runs:/{}/model/sub dir", f.run), "run_id": f.run}),
        json!({"source": f.served_source(), "run_id": f.run}),
        json!({"source": format!("{}/MLmodel", f.served_source()), "run_id": f.run}),
        json!({"source": "models:/RM-A/1"}),
        json!({"source": format!("models:/{}", f.logged_model()), "model_id": f.logged_model()}),
    ];
    for (i, body) in accepted.iter().enumerate() {
        let mut body = body.clone();
        body["name"] = json!("RM-A");
        let v = mv(f.create(body.clone()));
        assert_eq!(v["version"], json!((i + 1).to_string()));
        assert_eq!(v["source"], body["source"]);
        // get-download-uri hands back the source unchanged (registry-032, registry-033).
        let uri =
            f.s.get(
                "model-versions/get-download-uri",
                &[("name", "RM-A"), ("version", &(i + 1).to_string())],
            )
            .ok();
        if !body["source"].as_str().unwrap().starts_with("models:/") {
            assert_eq!(uri, json!({"artifact_uri": body["source"]}));
        }
    }
    f.s.get(
        "model-versions/get-download-uri",
        &[("name", "RM-A"), ("version", "99")],
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn every_other_source_is_refused_and_nothing_is_written() {
    let f = Fixture::new();
    let (exp, run) = (&f.exp, &f.run);
    // Another run that holds a model of its own.
    let other = f.s.run(exp);
    f.s.put_artifact(&format!("{exp}/{other}/artifacts/model/MLmodel"), b"x");
    // Something stored beside the run's artifact root, not inside it.
    f.s.put_artifact(&format!("{exp}/{run}/artifacts-extra/model/MLmodel"), b"x");
    let before = f.model();
    tick();
    let refused = [
        // registry-023: runs:/ needs the run_id of the run it names.
        json!({"source": f.runs_source()}),
        json!({"source": f.runs_source(), "run_id": other}),
        json!({"source": format!("runs:/{run}/../{other}/model"), "run_id": run}),
        // registry-021's rules: run_id, inside that run's root, stored here.
        json!({"source": f.served_source()}),
        json!({"source": f.served_source(), "run_id": other}),
        json!({"source": format!("mlflow-artifacts:/{exp}/{other}/artifacts/model"), "run_id": run}),
        json!({"source": format!("mlflow-artifacts:/{exp}/{run}/artifacts/missing"), "run_id": run}),
        json!({"source": format!("mlflow-artifacts:/{exp}/{run}/artifacts-extra/model"), "run_id": run}),
        json!({"source": format!("mlflow-artifacts:/{exp}/{run}/artifacts/../../{other}/artifacts/model"), "run_id": run}),
        json!({"source": format!("mlflow-artifacts:/{exp}/{run}/artifacts/%2e%2e/%2e%2e/{other}/artifacts/model"), "run_id": run}),
        json!({"source": format!("mlflow-artifacts:/{exp}/{run}/artifacts/%2E%2E/x"), "run_id": run}),
        json!({"source": "mlflow-artifacts:/../../etc/passwd", "run_id": run}),
        // registry-024, registry-025: local paths, other schemes, hosts, any `..`.
        json!({"source": "/etc/passwd"}),
        json!({"source": "/etc/passwd", "run_id": run}),
        json!({"source": "file:///etc/passwd"}),
        json!({"source": "file:///etc/passwd", "run_id": run}),
        json!({"source": "http://example.com/model"}),
        json!({"source": "https://example.com/api/2.0/mlflow-artifacts/artifacts/x", "run_id": run}),
        json!({"source": "//host/share/model"}),
        json!({"source": "s3://bucket/path/model"}),
        json!({"source": "s3://bucket/a/../b"}),
        json!({"source": "models:/../RM-A/1"}),
        json!({"source": "models:/RM-A/%2e%2e/x"}),
        json!({"source": "model"}),
        json!({"source": "dummy-source"}),
        // A prompt tag that ends up false does not make a prompt.
        json!({"source": "dummy-source",
               "tags": [{"key": PROMPT_TAG, "value": "true"}, {"key": PROMPT_TAG, "value": "false"}]}),
    ];
    for body in refused {
        let mut body = body.clone();
        body["name"] = json!("RM-A");
        let r = f.create(body.clone());
        r.expect_error(400, "INVALID_PARAMETER_VALUE");
        assert!(
            r.body["message"].as_str().unwrap().contains("source"),
            "{body}: {}",
            r.text
        );
    }
    // Nothing was written: no version, no bump, and numbering carries on from 1.
    assert_eq!(search(&f.s, &[]).0, vec![]);
    assert_eq!(f.model(), before);
    assert_eq!(f.version_of("RM-A"), "1");
}

#[test]
fn a_run_that_does_not_exist_cannot_be_a_source() {
    let f = Fixture::new();
    let ghost = "0123456789abcdef0123456789abcdef";
    f.create(json!({"name": "RM-A", "source": format!("runs:/{ghost}/model"), "run_id": ghost}))
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    f.create(json!({"name": "RM-A",
                    "source": format!("mlflow-artifacts:/{}/{ghost}/artifacts/model", f.exp),
                    "run_id": ghost}))
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(search(&f.s, &[]).0, vec![]);
}

#[test]
fn a_run_whose_artifacts_live_elsewhere_cannot_vouch_for_a_served_source() {
    let f = Fixture::new();
    // A run whose artifact root is not on this server's artifact store.
    let r = f.s.post(
        "experiments/create",
        json!({"name": "elsewhere", "artifact_location": "/srv/elsewhere"}),
    );
    let exp = r.ok()["experiment_id"].as_str().unwrap().to_owned();
    let outsider = f.s.run(&exp);
    f.create(json!({"name": "RM-A", "source": f.served_source(), "run_id": outsider}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    assert_eq!(search(&f.s, &[]).0, vec![]);
}

#[test]
fn prompt_versions_take_only_the_placeholder_sources() {
    let f = Fixture::new();
    f.s.post(
        "registered-models/create",
        json!({"name": "greeting", "tags": [{"key": PROMPT_TAG, "value": "true"}]}),
    )
    .ok();
    let prompt_tags = json!([{"key": PROMPT_TAG, "value": "true"},
                             {"key": "mlflow.prompt.text", "value": "Hello {{name}}"}]);
    // registry-148
    for source in [
        "s3://x".to_owned(),
        f.runs_source(),
        "models:/greeting/1".to_owned(),
    ] {
        let r = f.create(
            json!({"name": "greeting", "source": source, "run_id": f.run,
                                "tags": prompt_tags}),
        );
        r.expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    for (source, expected) in [("dummy-source", "1"), ("prompt-template", "2")] {
        let v = mv(f.create(
            json!({"name": "greeting", "source": source, "tags": prompt_tags,
                                   "description": "commit"}),
        ));
        assert_eq!(
            (&v["version"], &v["source"]),
            (&json!(expected), &json!(source))
        );
        assert_eq!(
            value_of(&v["tags"], "mlflow.prompt.text"),
            Some(&json!("Hello {{name}}"))
        );
    }
}

#[test]
fn stages_are_canonicalised_and_archiving_moves_only_the_target_stage() {
    let f = Fixture::new();
    for _ in 0..4 {
        f.version_of("RM-A");
    }
    let before = f.model();
    tick();
    // registry-036, registry-037
    let v1 = mv(f.transition("1", "Staging", false));
    assert_eq!(v1["current_stage"], "Staging");
    assert!(ts(&v1) > v1["creation_timestamp"].as_i64().unwrap());
    assert_eq!(
        mv(f.transition("2", "production", false))["current_stage"],
        "Production"
    );
    assert_eq!(
        mv(f.transition("4", "STAGING", false))["current_stage"],
        "Staging"
    );
    assert!(ts(&f.model()) > ts(&before), "transitions bump the model");
    let v2_before = mv(f.get("RM-A", "2"));
    tick();
    // registry-038: v2 leaves Production for Archived; the Staging versions stay.
    let v3 = mv(f.transition("3", "Production", true));
    assert_eq!(v3["current_stage"], "Production");
    let v2 = mv(f.get("RM-A", "2"));
    assert_eq!(v2["current_stage"], "Archived");
    assert!(ts(&v2) > ts(&v2_before));
    assert_eq!(mv(f.get("RM-A", "1"))["current_stage"], "Staging");
    assert_eq!(mv(f.get("RM-A", "4"))["current_stage"], "Staging");
    // Archiving into Staging archives the other Staging versions only.
    mv(f.transition("1", "Staging", true));
    assert_eq!(mv(f.get("RM-A", "4"))["current_stage"], "Archived");
    assert_eq!(mv(f.get("RM-A", "3"))["current_stage"], "Production");
    // registry-041: archive_existing_versions defaults to false.
    let r = f.s.post(
        "model-versions/transition-stage",
        json!({"name": "RM-A", "version": "1", "stage": "None"}),
    );
    assert_eq!(mv(r)["current_stage"], "None");
}

#[test]
fn invalid_stages_and_archiving_into_an_inactive_stage_are_400() {
    let f = Fixture::new();
    f.version_of("RM-A");
    f.version_of("RM-A");
    mv(f.transition("1", "Staging", false));
    // registry-039
    let r = f.transition("1", "QA", false);
    r.expect_error(400, "INVALID_PARAMETER_VALUE");
    assert_eq!(
        r.body["message"],
        "Invalid Model Version stage: QA. Value must be one of None, Staging, Production, Archived."
    );
    // registry-040 is a 500 on the real server; a caller's mistake is a 400 here.
    for stage in ["Archived", "None", "archived"] {
        f.transition("2", stage, true)
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    assert_eq!(mv(f.get("RM-A", "1"))["current_stage"], "Staging");
    assert_eq!(mv(f.get("RM-A", "2"))["current_stage"], "None");
    f.transition("9", "Staging", false)
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    f.s.post(
        "model-versions/transition-stage",
        json!({"name": "RM-A", "version": "1"}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn latest_versions_are_the_highest_per_stage_via_get_and_post() {
    let f = Fixture::new();
    for _ in 0..6 {
        f.version_of("RM-A");
    }
    mv(f.transition("1", "Staging", false));
    mv(f.transition("2", "Staging", false));
    mv(f.transition("3", "Production", false));
    mv(f.transition("4", "Archived", false));
    let latest = |query: &[(&str, &str)]| {
        let mut q = vec![("name", "RM-A")];
        q.extend_from_slice(query);
        let body = f.s.get("registered-models/get-latest-versions", &q).ok();
        stages(&body["model_versions"])
    };
    let all = pairs(&[
        ("2", "Staging"),
        ("3", "Production"),
        ("4", "Archived"),
        ("6", "None"),
    ]);
    // registry-043, registry-044
    assert_eq!(latest(&[]), all);
    assert_eq!(
        latest(&[("stages", "Production")]),
        pairs(&[("3", "Production")])
    );
    assert_eq!(
        latest(&[("stages", "production"), ("stages", "None")]),
        pairs(&[("3", "Production"), ("6", "None")])
    );
    assert_eq!(stages(&f.model()["latest_versions"]), all);
    // registry-045: the client's POST.
    let post = |body: Value| {
        let r = f.s.post("registered-models/get-latest-versions", body);
        stages(&r.ok()["model_versions"])
    };
    assert_eq!(
        post(json!({"name": "RM-A", "stages": ["Staging", "None"]})),
        pairs(&[("2", "Staging"), ("6", "None")])
    );
    assert_eq!(post(json!({"name": "RM-A"})), all);
    assert_eq!(post(json!({"name": "RM-A", "stages": []})), all);
    // A deleted version is nobody's latest.
    f.s.delete(
        "model-versions/delete",
        json!({"name": "RM-A", "version": "6"}),
    )
    .ok();
    assert_eq!(
        post(json!({"name": "RM-A", "stages": ["None"]})),
        pairs(&[("5", "None")])
    );
    // registry-046
    f.s.post(
        "registered-models/get-latest-versions",
        json!({"name": "RM-A", "stages": ["QA"]}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    f.s.get(
        "registered-models/get-latest-versions",
        &[("name", "RM-A"), ("stages", "QA")],
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    f.s.post(
        "registered-models/get-latest-versions",
        json!({"name": "ghost"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn aliases_are_set_moved_read_and_deleted() {
    let f = Fixture::new();
    for _ in 0..3 {
        f.version_of("RM-A");
    }
    let before = f.model();
    tick();
    // registry-047..052
    assert_eq!(f.alias("champion", "1").ok(), json!({}));
    f.alias("challenger", "3").ok();
    assert_eq!(mv(f.by_alias("champion"))["version"], "1");
    f.alias("champion", "3").ok();
    let v3 = mv(f.by_alias("champion"));
    assert_eq!(v3["version"], "3");
    assert_eq!(v3["aliases"], json!(["challenger", "champion"]));
    assert!(mv(f.get("RM-A", "1")).get("aliases").is_none());
    let m = f.model();
    let mut aliases: Vec<(String, String)> = m["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["alias"].as_str().unwrap().into(),
                a["version"].as_str().unwrap().into(),
            )
        })
        .collect();
    aliases.sort();
    assert_eq!(
        aliases,
        [
            ("challenger".to_owned(), "3".to_owned()),
            ("champion".to_owned(), "3".to_owned())
        ]
    );
    assert_eq!(ts(&m), ts(&before), "aliases do not bump the model");
    // registry-059, registry-060
    for _ in 0..2 {
        let r = f.s.delete(
            "registered-models/alias",
            json!({"name": "RM-A", "alias": "challenger"}),
        );
        assert_eq!(r.ok(), json!({}));
    }
    assert_eq!(mv(f.get("RM-A", "3"))["aliases"], json!(["champion"]));
    // registry-058: an unknown alias is a 400, not a 404.
    let r = f.by_alias("challenger");
    r.expect_error(400, "INVALID_PARAMETER_VALUE");
    assert_eq!(
        r.body["message"],
        "Registered model alias challenger not found."
    );
}

#[test]
fn reserved_malformed_and_dangling_aliases_are_refused() {
    let f = Fixture::new();
    f.version_of("RM-A");
    // registry-053..056
    let long = "a".repeat(256);
    for alias in [
        "latest",
        "LATEST",
        "Latest",
        "v3",
        "v1",
        "bad alias!",
        "a/b",
        "a.b",
        &long,
    ] {
        f.alias(alias, "1")
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    f.s.post(
        "registered-models/alias",
        json!({"name": "RM-A", "version": "1"}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    f.alias("ok", "one")
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    let r = f.alias("x", "42");
    r.expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(
        r.body["message"],
        "Model Version (name=RM-A, version=42) not found"
    );
    f.s.post(
        "registered-models/alias",
        json!({"name": "ghost", "alias": "x", "version": "1"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert!(f.model().get("aliases").is_none(), "nothing was set");
    // Names that merely look similar are fine.
    for alias in [
        "v",
        "version1",
        "v1a",
        "latest-good",
        "under_score",
        &"a".repeat(255),
    ] {
        f.alias(alias, "1").ok();
    }
    assert_eq!(f.model()["aliases"].as_array().unwrap().len(), 6);
}

#[test]
fn the_latest_alias_is_the_highest_live_version_and_deleting_a_version_drops_its_aliases() {
    let f = Fixture::new();
    for _ in 0..3 {
        f.version_of("RM-A");
    }
    f.alias("champion", "3").ok();
    f.alias("stable", "2").ok();
    // registry-057
    assert_eq!(mv(f.by_alias("latest"))["version"], "3");
    assert_eq!(mv(f.by_alias("LATEST"))["version"], "3");
    // registry-061, registry-064
    f.s.delete(
        "model-versions/delete",
        json!({"name": "RM-A", "version": "3"}),
    )
    .ok();
    assert_eq!(mv(f.by_alias("latest"))["version"], "2");
    f.by_alias("champion")
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    assert_eq!(
        f.model()["aliases"],
        json!([{"alias": "stable", "version": "2"}])
    );
    // The next version is 4, and an alias cannot point at the deleted 3.
    assert_eq!(f.version_of("RM-A"), "4");
    assert_eq!(mv(f.by_alias("latest"))["version"], "4");
    f.alias("champion", "3")
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn version_tags_and_descriptions_are_updated_in_place() {
    let f = Fixture::new();
    f.create(
        json!({"name": "RM-A", "source": f.runs_source(), "run_id": f.run,
                    "tags": [{"key": "stage_hint", "value": "dev"}]}),
    )
    .ok();
    let created = mv(f.get("RM-A", "1"));
    tick();
    // registry-034, registry-035
    for (k, v) in [("validated", "true"), ("owner", "a"), ("owner", "b")] {
        let r = f.s.post(
            "model-versions/set-tag",
            json!({"name": "RM-A", "version": "1", "key": k, "value": v}),
        );
        assert_eq!(r.ok(), json!({}));
    }
    for _ in 0..2 {
        f.s.delete(
            "model-versions/delete-tag",
            json!({"name": "RM-A", "version": "1", "key": "stage_hint"}),
        )
        .ok();
    }
    let v = mv(f.get("RM-A", "1"));
    assert_eq!(
        v["tags"],
        json!([{"key": "owner", "value": "b"}, {"key": "validated", "value": "true"}])
    );
    // registry-031: PATCH only.
    let r = f.s.post(
        "model-versions/update",
        json!({"name": "RM-A", "version": "1", "description": "x"}),
    );
    assert_eq!(r.status, 405);
    let updated = mv(f.s.patch(
        "model-versions/update",
        json!({"name": "RM-A", "version": "1", "description": "first version"}),
    ));
    assert_eq!(updated["description"], "first version");
    assert!(ts(&updated) > ts(&created));
    assert_eq!(updated["creation_timestamp"], created["creation_timestamp"]);
    // Unknown versions, bad keys.
    f.s.post(
        "model-versions/set-tag",
        json!({"name": "RM-A", "version": "7", "key": "k", "value": "v"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    f.s.post(
        "model-versions/set-tag",
        json!({"name": "RM-A", "version": "1", "key": "bad*key", "value": "v"}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    f.s.patch(
        "model-versions/update",
        json!({"name": "RM-A", "version": "7", "description": "x"}),
    )
    .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn versions_that_are_not_integers_are_400() {
    let f = Fixture::new();
    f.version_of("RM-A");
    // registry-029, registry-030
    let r = f.get("RM-A", "abc");
    r.expect_error(400, "INVALID_PARAMETER_VALUE");
    let message = r.body["message"].as_str().unwrap();
    assert!(
        message.contains("integer") && message.contains("abc"),
        "{message}"
    );
    for bad in ["1.5", "", "1e3", "one"] {
        f.get("RM-A", bad)
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    let r = f.get("RM-A", "99");
    r.expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(
        r.body["message"],
        "Model Version (name=RM-A, version=99) not found"
    );
    f.transition("x", "Staging", false)
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    f.s.delete(
        "model-versions/delete",
        json!({"name": "RM-A", "version": "x"}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    f.s.get(
        "model-versions/get-download-uri",
        &[("name", "RM-A"), ("version", "x")],
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
}

/// alpha v1 (runs:/run, tag validated=true), v2 (served, run), v3 (models:/);
/// beta v1 (runs:/other); and the prompt `greeting` v1. Created in that order.
fn searchable(f: &Fixture) -> String {
    let other = f.s.run(&f.exp);
    for name in ["alpha", "beta"] {
        f.s.post("registered-models/create", json!({"name": name}))
            .ok();
    }
    f.s.post(
        "registered-models/create",
        json!({"name": "greeting", "tags": [{"key": PROMPT_TAG, "value": "true"}]}),
    )
    .ok();
    let bodies = [
        json!({"name": "alpha", "source": f.runs_source(), "run_id": f.run,
               "tags": [{"key": "validated", "value": "true"}]}),
        json!({"name": "alpha", "source": f.served_source(), "run_id": f.run}),
        json!({"name": "alpha", "source": format!("models:/{}", f.logged_model()), "model_id": f.logged_model()}),
        json!({"name": "beta", "source": format!("runs:/{other}/model"), "run_id": other}),
        json!({"name": "greeting", "source": "dummy-source",
               "tags": [{"key": PROMPT_TAG, "value": "true"}]}),
    ];
    for body in bodies {
        f.create(body).ok();
        tick();
    }
    other
}

#[test]
fn model_versions_are_searched_by_name_run_source_number_and_tags() {
    let f = Fixture::new();
    let other = searchable(&f);
    let found = |filter: &str| search(&f.s, &[("filter", filter)]).0;
    let nv = |items: &[(&str, &str)]| -> Vec<(String, String)> {
        items
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    // search-121: newest update first; prompts hidden.
    assert_eq!(
        search(&f.s, &[]).0,
        nv(&[
            ("beta", "1"),
            ("alpha", "3"),
            ("alpha", "2"),
            ("alpha", "1")
        ])
    );
    // search-122..127
    assert_eq!(versions_of(&f.s, "name = 'alpha'"), ["3", "2", "1"]);
    assert_eq!(
        found(&format!("run_id = '{}'", f.run)),
        nv(&[("alpha", "2"), ("alpha", "1")])
    );
    assert_eq!(
        found(&format!("run_id IN ('{}', '{other}')", f.run)),
        nv(&[("beta", "1"), ("alpha", "2"), ("alpha", "1")])
    );
    assert_eq!(found("run_id = ''"), nv(&[("alpha", "3")]));
    assert_eq!(
        versions_of(&f.s, "name = 'alpha' AND version_number > 1"),
        ["3", "2"]
    );
    assert_eq!(
        versions_of(&f.s, "name = 'alpha' AND version_number <= 1"),
        ["1"]
    );
    assert_eq!(found("source_path LIKE 'models:/%'"), nv(&[("alpha", "3")]));
    assert_eq!(
        found("source_path ILIKE 'MLFLOW-ARTIFACTS:%'"),
        nv(&[("alpha", "2")])
    );
    assert_eq!(
        found(&format!("source_path = 'runs:/{other}/model'")),
        nv(&[("beta", "1")])
    );
    assert_eq!(found("tags.validated = 'true'"), nv(&[("alpha", "1")]));
    assert_eq!(
        versions_of(&f.s, "name = 'alpha' AND tags.validated != 'true'"),
        ["3", "2"]
    );
    assert_eq!(
        found("name ILIKE 'ALP%' AND version_number = 2"),
        nv(&[("alpha", "2")])
    );
    // search-137: prompt versions when asked for.
    assert_eq!(
        found("name = 'greeting' AND tags.`mlflow.prompt.is_prompt` = 'true'"),
        nv(&[("greeting", "1")])
    );
    assert_eq!(found("name = 'greeting'"), vec![]);
    // search-133, search-134
    for bad in [
        "current_stage = 'Production'",
        "version_number = 'abc'",
        "version_number > 1.5",
        "description = 'x'",
        "name = 'a' OR name = 'b'",
    ] {
        f.s.get("model-versions/search", &[("filter", bad)])
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    // search-120 is a 500 on the real server; here IS NULL simply works on tags.
    assert_eq!(
        versions_of(&f.s, "name = 'alpha' AND tags.validated IS NULL"),
        ["3", "2"]
    );
    assert_eq!(found("tags.validated IS NOT NULL"), nv(&[("alpha", "1")]));
    // Deleted versions are left out.
    f.s.delete(
        "model-versions/delete",
        json!({"name": "alpha", "version": "2"}),
    )
    .ok();
    assert_eq!(versions_of(&f.s, "name = 'alpha'"), ["3", "1"]);
}

#[test]
fn model_versions_are_ordered_and_paged() {
    let f = Fixture::new();
    searchable(&f);
    let ordered = |keys: &[&str]| {
        let mut q: Vec<(&str, &str)> = keys.iter().map(|k| ("order_by", *k)).collect();
        q.push(("filter", "name = 'alpha'"));
        search(&f.s, &q)
            .0
            .into_iter()
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
    };
    // search-128, search-129
    assert_eq!(ordered(&["version_number ASC"]), ["1", "2", "3"]);
    assert_eq!(ordered(&["version_number DESC"]), ["3", "2", "1"]);
    assert_eq!(ordered(&["creation_timestamp ASC"]), ["1", "2", "3"]);
    assert_eq!(ordered(&["creation_timestamp DESC"]), ["3", "2", "1"]);
    // Touching v1 makes it the most recently updated.
    mv(f.s.post(
        "model-versions/transition-stage",
        json!({"name": "alpha", "version": "1", "stage": "Staging"}),
    ));
    assert_eq!(ordered(&["last_updated_timestamp DESC"]), ["1", "3", "2"]);
    assert_eq!(ordered(&[]), ["1", "3", "2"]);
    assert_eq!(ordered(&["last_updated_timestamp ASC"]), ["2", "3", "1"]);
    // Tie-breakers: name ASC, then version_number DESC.
    let all: Vec<(String, String)> = search(&f.s, &[("order_by", "name DESC")]).0;
    let expected: Vec<(String, String)> = [
        ("beta", "1"),
        ("alpha", "3"),
        ("alpha", "2"),
        ("alpha", "1"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    assert_eq!(all, expected);
    for bad in ["current_stage", "version_number SIDEWAYS", "tags.validated"] {
        f.s.get("model-versions/search", &[("order_by", bad)])
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    // search-130, search-131
    let q = |token: Option<&str>| {
        let mut q = vec![
            ("filter", "name = 'alpha'"),
            ("max_results", "2"),
            ("order_by", "version_number ASC"),
        ];
        if let Some(t) = token {
            q.push(("page_token", t));
        }
        search(&f.s, &q)
    };
    let (first, token) = q(None);
    assert_eq!(
        first.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
        ["1", "2"]
    );
    let token = token.expect("a token while more remain");
    let (second, token) = q(Some(&token));
    assert_eq!(
        second.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(),
        ["3"]
    );
    assert_eq!(token, None);
    let (_, token) = search(&f.s, &[("filter", "name = 'alpha'"), ("max_results", "3")]);
    assert_eq!(token, None, "an exactly full page has no token");
    // search-132
    assert_eq!(search(&f.s, &[("max_results", "200000")]).0.len(), 4);
    for bad in ["200001", "0", "x"] {
        f.s.get("model-versions/search", &[("max_results", bad)])
            .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    f.s.get("model-versions/search", &[("page_token", "%%%not-a-token")])
        .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn thirty_two_concurrent_creates_get_versions_one_to_thirty_two() {
    let f = Fixture::new();
    let barrier = std::sync::Barrier::new(32);
    let numbers: Vec<i64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..32)
            .map(|i| {
                let (f, barrier) = (&f, &barrier);
                scope.spawn(move || {
                    // Half go through the artifact check, half through the run check.
                    let source = if i % 2 == 0 {
                        f.runs_source()
                    } else {
                        f.served_source()
                    };
                    barrier.wait();
                    let r = f.create(json!({"name": "RM-A", "source": source, "run_id": f.run}));
                    mv(r)["version"].as_str().unwrap().parse::<i64>().unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (1..=32).collect::<Vec<i64>>(),
        "returned: {numbers:?}"
    );
    let mut stored: Vec<i64> = versions_of(&f.s, "name = 'RM-A'")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    stored.sort_unstable();
    assert_eq!(stored, sorted);
    assert_eq!(f.version_of("RM-A"), "33");
}

#[test]
fn concurrent_creates_of_one_registered_model_leave_one_winner() {
    let s = TestServer::start();
    let barrier = std::sync::Barrier::new(16);
    let statuses: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (s, barrier) = (&s, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let r = s.post("registered-models/create", json!({"name": "contested"}));
                    (r.status, r.error_code().to_owned())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners = statuses.iter().filter(|(st, _)| *st == 200).count();
    assert_eq!(winners, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|(st, code)| *st == 200 || (*st == 400 && code == "RESOURCE_ALREADY_EXISTS")),
        "{statuses:?}"
    );
}
