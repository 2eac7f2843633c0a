//! `cairn runs start|end`, bulk `runs delete|restore|tag|move` with dry runs, and `runs pareto`.

use super::{cairn, client, log, start_run, strings};
use cairn_client::schema::{RunStatus, ViewType};
use cairn_client::SearchRuns;
use cairn_tests::TestServer;
use std::collections::BTreeMap;

/// Four runs in `bulk`: a1, a2 with `group` = a; b1, b2 with `group` = b. Name → id.
fn four_runs(server: &TestServer) -> BTreeMap<String, String> {
    let c = client(server);
    ["a1", "a2", "b1", "b2"]
        .into_iter()
        .map(|name| {
            let run = start_run(server, "bulk", name);
            log(&c, &run, &[("group", &name[..1])], &[]);
            (name.to_owned(), run)
        })
        .collect()
}

/// Run names in an experiment as the client sees them, per lifecycle view.
fn names(server: &TestServer, experiment: &str, view: ViewType) -> Vec<String> {
    let c = client(server);
    let id = c.get_experiment_by_name(experiment).unwrap().experiment_id;
    let query = SearchRuns {
        experiment_ids: vec![id],
        view_type: Some(view),
        ..SearchRuns::default()
    };
    let mut names: Vec<String> = c
        .search_all_runs(&query, None)
        .unwrap()
        .into_iter()
        .map(|r| r.info.run_name)
        .collect();
    names.sort();
    names
}

#[test]
fn runs_start_prints_the_id_and_runs_end_finishes_the_run_mlflow_run_id_names() {
    let server = TestServer::start();
    let started = cairn(
        &server,
        &[
            "runs", "start", "-e", "new-exp", "--name", "job", "--tag", "k=v",
        ],
    )
    .env("USER", "ada")
    .json();
    let run = started["run_id"].as_str().unwrap().to_owned();
    assert_eq!(started["run_name"], "job");
    let c = client(&server);
    let got = c.get_run(&run).unwrap();
    assert_eq!(got.info.status, RunStatus::Running);
    assert_eq!(
        got.info.experiment_id,
        started["experiment_id"].as_str().unwrap()
    );
    assert!(got.data.tags.iter().any(|t| t.key == "k" && t.value == "v"));
    assert_eq!(
        got.info.user_id, "ada",
        "the user is recorded as MLflow's client does"
    );
    assert!(got
        .data
        .tags
        .iter()
        .any(|t| t.key == "mlflow.user" && t.value == "ada"));
    assert_eq!(
        c.get_experiment_by_name("new-exp").unwrap().experiment_id,
        got.info.experiment_id,
        "an unknown experiment name is created"
    );

    let ended = cairn(&server, &["runs", "end"])
        .env("MLFLOW_RUN_ID", &run)
        .json();
    assert_eq!(ended["run_id"], run.as_str());
    assert_eq!(ended["status"], "FINISHED");
    let info = c.get_run(&run).unwrap().info;
    assert_eq!(info.status, RunStatus::Finished);
    assert!(info.end_time.is_some());

    let other = start_run(&server, "new-exp", "other");
    cairn(
        &server,
        &["runs", "end", "--run", &other, "--status", "failed"],
    )
    .ok();
    assert_eq!(c.get_run(&other).unwrap().info.status, RunStatus::Failed);
}

#[test]
fn ending_a_run_without_naming_one_is_a_usage_error() {
    let server = TestServer::start();
    let out = cairn(&server, &["runs", "end"]).run().expect(2);
    assert!(out.stderr.contains("MLFLOW_RUN_ID"), "{}", out.stderr);
}

#[test]
fn a_dry_run_delete_lists_the_matching_runs_and_changes_nothing() {
    let server = TestServer::start();
    let runs = four_runs(&server);
    let args = [
        "runs",
        "delete",
        "-e",
        "bulk",
        "--filter",
        "params.group = 'a'",
    ];
    let dry = cairn(&server, &[&args[..], &["--dry-run"]].concat()).json();
    let mut listed = strings(&dry, "run_name");
    listed.sort();
    assert_eq!(listed, ["a1", "a2"]);
    assert!(strings(&dry, "action").iter().all(|a| a == "would delete"));
    assert_eq!(names(&server, "bulk", ViewType::ActiveOnly).len(), 4);

    let done = cairn(&server, &args).json();
    assert!(strings(&done, "action").iter().all(|a| a == "delete"));
    assert_eq!(names(&server, "bulk", ViewType::ActiveOnly), ["b1", "b2"]);
    assert_eq!(names(&server, "bulk", ViewType::DeletedOnly), ["a1", "a2"]);

    let restore = [
        "runs",
        "restore",
        "-e",
        "bulk",
        "--filter",
        "params.group = 'a'",
    ];
    cairn(&server, &[&restore[..], &["--dry-run"]].concat()).ok();
    assert_eq!(names(&server, "bulk", ViewType::DeletedOnly), ["a1", "a2"]);
    cairn(&server, &restore).ok();
    assert_eq!(names(&server, "bulk", ViewType::ActiveOnly).len(), 4);

    cairn(&server, &["runs", "delete", &runs["b1"]]).ok();
    assert_eq!(names(&server, "bulk", ViewType::DeletedOnly), ["b1"]);
}

#[test]
fn runs_tag_sets_and_unsets_tags_on_every_run_the_filter_selects() {
    let server = TestServer::start();
    let runs = four_runs(&server);
    let c = client(&server);
    let tag_of = |name: &str| {
        c.get_run(&runs[name])
            .unwrap()
            .data
            .tags
            .into_iter()
            .find(|t| t.key == "review")
            .map(|t| t.value)
    };
    let select = ["-e", "bulk", "--filter", "params.group = 'b'"];
    let dry = cairn(
        &server,
        &[
            &["runs", "tag", "--set", "review=todo", "--dry-run"][..],
            &select,
        ]
        .concat(),
    )
    .json();
    assert_eq!(dry.as_array().unwrap().len(), 2);
    assert_eq!(tag_of("b1"), None, "a dry run tags nothing");

    cairn(
        &server,
        &[&["runs", "tag", "--set", "review=todo"][..], &select].concat(),
    )
    .ok();
    assert_eq!(
        ["a1", "a2", "b1", "b2"].map(tag_of),
        [None, None, Some("todo".into()), Some("todo".into())]
    );
    cairn(&server, &["runs", "tag", &runs["b1"], "--unset", "review"]).ok();
    assert_eq!(tag_of("b1"), None);
    assert_eq!(tag_of("b2"), Some("todo".into()));

    let out = cairn(&server, &["runs", "tag", &runs["a1"]])
        .run()
        .expect(2);
    assert!(out.stderr.contains("--set"), "{}", out.stderr);
}

#[test]
fn runs_move_sends_the_selected_runs_to_another_experiment_unless_a_dry_run() {
    let server = TestServer::start();
    four_runs(&server);
    cairn(&server, &["experiments", "create", "archive"]).ok();
    let args = [
        "runs",
        "move",
        "-e",
        "bulk",
        "--filter",
        "params.group = 'a'",
        "--to",
        "archive",
    ];
    let dry = cairn(&server, &[&args[..], &["--dry-run"]].concat()).json();
    assert_eq!(dry.as_array().unwrap().len(), 2);
    assert!(names(&server, "archive", ViewType::All).is_empty());

    cairn(&server, &args).ok();
    assert_eq!(names(&server, "archive", ViewType::All), ["a1", "a2"]);
    assert_eq!(names(&server, "bulk", ViewType::All), ["b1", "b2"]);
    let missing = cairn(
        &server,
        &[
            "runs",
            "move",
            "--filter",
            "params.group = 'b'",
            "--to",
            "nowhere",
        ],
    );
    missing.run().expect(3);
}

#[test]
fn a_bulk_edit_with_neither_ids_nor_a_filter_is_a_usage_error_and_no_match_changes_nothing() {
    let server = TestServer::start();
    four_runs(&server);
    let out = cairn(&server, &["runs", "delete"]).run().expect(2);
    assert!(out.stderr.contains("--filter"), "{}", out.stderr);
    let none = cairn(
        &server,
        &["runs", "delete", "--filter", "params.group = 'z'"],
    )
    .json();
    assert_eq!(none.as_array().unwrap().len(), 0);
    assert_eq!(names(&server, "bulk", ViewType::ActiveOnly).len(), 4);
}

#[test]
fn runs_pareto_lists_only_the_runs_no_other_run_beats_on_every_metric() {
    let server = TestServer::start();
    let c = client(&server);
    for (name, bleu, cost) in [
        ("cheap", 20.0, 0.001),
        ("best", 35.0, 0.004),
        ("dominated", 30.0, 0.009),
        ("middle", 28.0, 0.002),
    ] {
        let run = start_run(&server, "front", name);
        log(&c, &run, &[], &[("bleu", bleu), ("cost", cost)]);
    }
    start_run(&server, "front", "unscored");
    let front = cairn(
        &server,
        &[
            "runs",
            "pareto",
            "--experiment",
            "front",
            "--max",
            "metrics.bleu",
            "--min",
            "metrics.cost",
        ],
    )
    .json();
    let mut on_front = strings(&front, "run_name");
    on_front.sort();
    assert_eq!(on_front, ["best", "cheap", "middle"]);
    let best = front
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_name"] == "best")
        .unwrap();
    assert_eq!(best["metrics.bleu"], 35.0);
    assert_eq!(best["metrics.cost"], 0.004);

    cairn(&server, &["runs", "pareto", "--experiment", "front"])
        .run()
        .expect(2);
}
