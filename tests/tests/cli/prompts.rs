//! `cairn prompts register|list|show|diff|alias`: prompts as versioned objects.

use super::{cairn, client, strings};
use cairn_tests::TestServer;
use serde_json::json;

const FIRST: &str = "Summarize: {{text}}";
const SECOND: &str = "Summarize briefly:\n{{text}}\nBe concise.\n";

/// `summarize` version 1 from --template, version 2 from a file.
fn two_versions(server: &TestServer) {
    let first = cairn(
        server,
        &[
            "prompts",
            "register",
            "summarize",
            "--template",
            FIRST,
            "-m",
            "first",
        ],
    )
    .json();
    assert_eq!(first, json!({"name": "summarize", "version": "1"}));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prompt.txt");
    std::fs::write(&file, SECOND).unwrap();
    let second = cairn(
        server,
        &[
            "prompts",
            "register",
            "summarize",
            "--file",
            file.to_str().unwrap(),
            "-m",
            "shorter",
            "--tag",
            "author=ana",
        ],
    )
    .json();
    assert_eq!(second["version"], "2");
}

#[test]
fn prompts_are_registered_as_numbered_versions_and_listed_apart_from_models() {
    let server = TestServer::start();
    two_versions(&server);
    let c = client(&server);
    let v2 = c.get_model_version("summarize", "2").unwrap();
    let tag = |k: &str| {
        v2.tags
            .iter()
            .find(|t| t.key == k)
            .map(|t| t.value.as_str())
    };
    assert_eq!(tag("mlflow.prompt.text"), Some(SECOND));
    assert_eq!(tag("author"), Some("ana"));
    assert_eq!(v2.description, "shorter");

    let run = super::start_run(&server, "m", "r");
    cairn(
        &server,
        &["models", "register", "plain-model", "--run", &run],
    )
    .ok();
    assert_eq!(
        strings(&cairn(&server, &["prompts", "list"]).json(), "name"),
        ["summarize"]
    );
    assert_eq!(
        strings(&cairn(&server, &["models", "list"]).json(), "name"),
        ["plain-model"]
    );
    let clash = cairn(
        &server,
        &["prompts", "register", "plain-model", "--template", "x"],
    )
    .run()
    .expect(2);
    assert!(clash.stderr.contains("not a prompt"), "{}", clash.stderr);
}

#[test]
fn show_resolves_a_name_to_its_latest_version_a_number_and_an_alias() {
    let server = TestServer::start();
    two_versions(&server);
    let latest = cairn(&server, &["prompts", "show", "summarize"]).json();
    assert_eq!(latest["version"], "2");
    assert_eq!(latest["template"], SECOND);
    assert_eq!(latest["message"], "shorter");

    let first = cairn(&server, &["prompts", "show", "summarize/1"]).json();
    assert_eq!(
        (first["version"].as_str(), first["template"].as_str()),
        (Some("1"), Some(FIRST))
    );

    let alias = cairn(
        &server,
        &["prompts", "alias", "summarize", "production", "1"],
    )
    .json();
    assert_eq!(
        alias,
        json!({"name": "summarize", "alias": "production", "version": "1"})
    );
    let by_alias = cairn(&server, &["prompts", "show", "summarize@production"]).json();
    assert_eq!(by_alias["version"], "1");
    assert_eq!(by_alias["aliases"], json!(["production"]));

    let table = cairn(&server, &["prompts", "show", "summarize@production"]).ok();
    assert!(
        table.starts_with("summarize version 1 (production)\n"),
        "{table}"
    );
    assert!(table.ends_with(&format!("---\n{FIRST}\n")), "{table}");
}

#[test]
fn diff_reports_the_change_as_json_and_as_unified_diff_lines() {
    let server = TestServer::start();
    two_versions(&server);
    cairn(
        &server,
        &["prompts", "alias", "summarize", "production", "1"],
    )
    .ok();
    let diff = cairn(
        &server,
        &["prompts", "diff", "summarize", "@production", "2"],
    )
    .json();
    assert_eq!(diff["changed"], true);
    assert_eq!(
        (diff["from"].as_str(), diff["to"].as_str()),
        (Some("1"), Some("2"))
    );
    let text = diff["diff"].as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[..2], ["--- summarize/1", "+++ summarize/2"]);
    let removed: Vec<&str> = lines[2..]
        .iter()
        .filter_map(|l| l.strip_prefix('-'))
        .collect();
    let added: Vec<&str> = lines[2..]
        .iter()
        .filter_map(|l| l.strip_prefix('+'))
        .collect();
    assert_eq!(removed, [FIRST]);
    assert_eq!(added, SECOND.lines().collect::<Vec<_>>());

    let table = cairn(&server, &["prompts", "diff", "summarize", "1", "2"]).ok();
    assert!(table.lines().any(|l| l == "+Be concise."), "{table}");
    assert!(table.lines().any(|l| l == format!("-{FIRST}")), "{table}");

    let same = cairn(&server, &["prompts", "diff", "summarize", "2", "2"]).json();
    assert_eq!(
        (same["changed"].as_bool(), same["diff"].as_str()),
        (Some(false), Some(""))
    );
}

#[test]
fn unknown_prompts_and_versions_exit_3() {
    let server = TestServer::start();
    two_versions(&server);
    for args in [
        &["prompts", "show", "ghost"][..],
        &["prompts", "show", "summarize/9"],
        &["prompts", "show", "summarize@nobody"],
        &["prompts", "diff", "summarize", "1", "9"],
    ] {
        cairn(&server, args).run().expect(3);
    }
    cairn(&server, &["prompts", "register", "x"])
        .run()
        .expect(2);
}
