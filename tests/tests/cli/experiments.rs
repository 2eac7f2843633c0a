//! `cairn experiments list|create|rename|delete|restore|tag`.

use super::{cairn, client, strings};
use cairn_tests::TestServer;
use serde_json::json;

#[test]
fn an_experiment_is_created_with_tags_renamed_and_listed_as_json() {
    let server = TestServer::start();
    let created = cairn(
        &server,
        &["experiments", "create", "sweep", "--tag", "team=nlp"],
    )
    .json();
    let id = created["experiment_id"].as_str().expect("an id").to_owned();
    assert_eq!(created["name"], "sweep");

    let listed = cairn(&server, &["experiments", "list"]).json();
    let sweep = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["experiment_id"] == id.as_str())
        .unwrap_or_else(|| panic!("the new experiment is listed: {listed}"));
    assert_eq!(sweep["name"], "sweep");
    assert_eq!(sweep["lifecycle_stage"], "active");
    assert_eq!(sweep["tags"], json!({"team": "nlp"}));
    assert!(sweep["creation_time"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    let renamed = cairn(&server, &["experiments", "rename", "sweep", "sweep-2"]).json();
    assert_eq!(renamed, json!({"experiment_id": id, "name": "sweep-2"}));
    assert_eq!(client(&server).get_experiment(&id).unwrap().name, "sweep-2");
}

#[test]
fn experiment_tags_are_set_and_deleted_by_name_or_id() {
    let server = TestServer::start();
    let id = cairn(&server, &["experiments", "create", "tagged"])
        .ok()
        .trim()
        .to_owned();
    let set = cairn(&server, &["experiments", "tag", "tagged", "a=1", "b=2"]).json();
    assert_eq!(set["tags"], json!({"a": "1", "b": "2"}));

    let deleted = cairn(&server, &["experiments", "tag", &id, "--delete", "a"]).json();
    assert_eq!(deleted["tags"], json!({"b": "2"}));
    let tags = client(&server).get_experiment(&id).unwrap().tags;
    assert_eq!(
        tags.iter()
            .map(|t| (t.key.as_str(), t.value.as_str()))
            .collect::<Vec<_>>(),
        [("b", "2")]
    );
}

#[test]
fn a_deleted_experiment_is_listed_only_with_view_deleted_or_all_until_restored() {
    let server = TestServer::start();
    cairn(&server, &["experiments", "create", "kept"]).ok();
    cairn(&server, &["experiments", "create", "doomed"]).ok();
    let deleted = cairn(&server, &["experiments", "delete", "doomed"]).json();
    assert_eq!(deleted["lifecycle_stage"], "deleted");

    let names = |view: &str| {
        let mut names = strings(
            &cairn(&server, &["experiments", "list", "--view", view]).json(),
            "name",
        );
        names.sort();
        names
    };
    assert_eq!(names("active"), ["Default", "kept"]);
    assert_eq!(names("deleted"), ["doomed"]);
    assert_eq!(names("all"), ["Default", "doomed", "kept"]);

    let restored = cairn(&server, &["experiments", "restore", "doomed"]).json();
    assert_eq!(restored["lifecycle_stage"], "active");
    assert_eq!(names("active"), ["Default", "doomed", "kept"]);
    assert!(names("deleted").is_empty());
}

#[test]
fn experiments_list_filters_by_name() {
    let server = TestServer::start();
    for name in ["sweep-a", "sweep-b", "other"] {
        cairn(&server, &["experiments", "create", name]).ok();
    }
    let mut names = strings(
        &cairn(
            &server,
            &["experiments", "list", "--filter", "name LIKE 'sweep-%'"],
        )
        .json(),
        "name",
    );
    names.sort();
    assert_eq!(names, ["sweep-a", "sweep-b"]);
}

#[test]
fn naming_an_unknown_experiment_exits_3_and_says_which() {
    let server = TestServer::start();
    for args in [
        &["experiments", "rename", "ghost", "x"][..],
        &["experiments", "delete", "ghost"],
        &["experiments", "restore", "ghost"],
        &["experiments", "tag", "ghost", "a=1"],
        &["runs", "list", "-e", "ghost"],
    ] {
        let out = cairn(&server, args).run().expect(3);
        assert!(out.stderr.contains("\"ghost\""), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
}

#[test]
fn tagging_an_experiment_with_nothing_to_set_or_delete_is_a_usage_error() {
    let server = TestServer::start();
    cairn(&server, &["experiments", "create", "bare"]).ok();
    let out = cairn(&server, &["experiments", "tag", "bare"])
        .run()
        .expect(2);
    assert!(out.stderr.contains("--delete"), "{}", out.stderr);
    let bad = cairn(&server, &["experiments", "tag", "bare", "novalue"])
        .run()
        .expect(2);
    assert!(bad.stderr.contains("KEY=VALUE"), "{}", bad.stderr);
}

#[test]
fn experiments_list_takes_or_and_parentheses_in_its_filter() {
    let server = TestServer::start();
    for name in ["vision-a", "nlp-b", "audio-c"] {
        cairn(&server, &["experiments", "create", name]).json();
    }
    let listed = cairn(
        &server,
        &[
            "experiments",
            "list",
            "--filter",
            "(name LIKE 'vision%' OR name = 'nlp-b')",
        ],
    )
    .json();
    let mut names = strings(&listed, "name");
    names.sort();
    assert_eq!(names, ["nlp-b", "vision-a"]);
}
