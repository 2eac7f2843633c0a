//! `cairn models list|show|register|promote|alias|gate|history`.

use super::{cairn, client, log, start_run, strings};
use cairn_tests::TestServer;
use serde_json::json;

/// A run with `bleu` logged, registered twice as `summarizer` through the CLI.
fn registered(server: &TestServer, bleu: f64) -> String {
    let run = start_run(server, "models", "train");
    log(&client(server), &run, &[], &[("bleu", bleu)]);
    let first = cairn(server, &["models", "register", "summarizer", "--run", &run]).json();
    assert_eq!(
        first,
        json!({"name": "summarizer", "version": "1", "run_id": run,
               "source": format!("runs:/{run}/model")})
    );
    let second = cairn(
        server,
        &[
            "models",
            "register",
            "summarizer",
            "--run",
            &run,
            "--path",
            "ckpt/",
            "--description",
            "tuned",
        ],
    )
    .json();
    assert_eq!(second["version"], "2");
    assert_eq!(second["source"], format!("runs:/{run}/ckpt"));
    run
}

#[test]
fn versions_registered_from_a_run_are_listed_and_shown() {
    let server = TestServer::start();
    let run = registered(&server, 31.0);
    let listed = cairn(&server, &["models", "list"]).json();
    assert_eq!(strings(&listed, "name"), ["summarizer"]);
    assert_eq!(listed[0]["latest_versions"], "None:2");

    let shown = cairn(&server, &["models", "show", "summarizer"]).json();
    assert_eq!(shown["model"]["name"], "summarizer");
    let versions = &shown["versions"];
    assert_eq!(strings(versions, "version"), ["2", "1"], "newest first");
    assert_eq!(strings(versions, "run_id"), [run.clone(), run]);
    assert_eq!(versions[0]["description"], "tuned");
    assert_eq!(shown["gates"], json!([]));

    let filtered = cairn(
        &server,
        &["models", "list", "--filter", "name LIKE 'other%'"],
    )
    .json();
    assert_eq!(filtered, json!([]));
}

#[test]
fn a_gate_refusing_a_promotion_exits_1_and_names_the_clause() {
    let server = TestServer::start();
    registered(&server, 28.5);
    let gate = cairn(
        &server,
        &[
            "models",
            "gate",
            "set",
            "summarizer",
            "--stage",
            "production",
            "--filter",
            "metrics.bleu >= 30",
        ],
    )
    .json();
    assert_eq!(gate["stage"], "Production");
    assert_eq!(gate["filter"], "metrics.bleu >= 30");
    let listed = cairn(&server, &["models", "gate", "list", "summarizer"]).json();
    assert_eq!(strings(&listed, "filter"), ["metrics.bleu >= 30"]);

    let refused = cairn(
        &server,
        &[
            "models",
            "promote",
            "summarizer",
            "1",
            "--stage",
            "Production",
        ],
    )
    .run()
    .expect(1);
    assert!(
        refused.stderr.contains("metrics.bleu >= 30"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("28.5"), "{}", refused.stderr);
    let c = client(&server);
    assert_eq!(
        c.get_model_version("summarizer", "1")
            .unwrap()
            .current_stage,
        "None"
    );

    let staged = cairn(
        &server,
        &["models", "promote", "summarizer", "1", "--stage", "Staging"],
    )
    .json();
    assert_eq!(
        staged,
        json!({"name": "summarizer", "version": "1", "stage": "Staging"})
    );

    cairn(
        &server,
        &[
            "models",
            "gate",
            "delete",
            "summarizer",
            "--stage",
            "Production",
        ],
    )
    .ok();
    assert_eq!(
        cairn(&server, &["models", "gate", "list", "summarizer"]).json(),
        json!([])
    );
    cairn(
        &server,
        &[
            "models",
            "promote",
            "summarizer",
            "1",
            "--stage",
            "Production",
        ],
    )
    .ok();
    assert_eq!(
        c.get_model_version("summarizer", "1")
            .unwrap()
            .current_stage,
        "Production"
    );
}

#[test]
fn an_alias_is_set_moved_and_deleted_and_its_gate_is_checked() {
    let server = TestServer::start();
    registered(&server, 28.5);
    let c = client(&server);
    let set = cairn(&server, &["models", "alias", "summarizer", "champion", "1"]).json();
    assert_eq!(
        set,
        json!({"name": "summarizer", "alias": "champion", "version": "1"})
    );
    cairn(&server, &["models", "alias", "summarizer", "champion", "2"]).ok();
    assert_eq!(
        c.get_version_by_alias("summarizer", "champion")
            .unwrap()
            .version,
        "2"
    );

    cairn(
        &server,
        &["models", "alias", "summarizer", "champion", "--delete"],
    )
    .ok();
    assert!(c
        .get_registered_model("summarizer")
        .unwrap()
        .aliases
        .is_empty());
    let out = cairn(&server, &["models", "alias", "summarizer", "champion"])
        .run()
        .expect(2);
    assert!(out.stderr.contains("--delete"), "{}", out.stderr);

    cairn(
        &server,
        &[
            "models",
            "gate",
            "set",
            "summarizer",
            "--alias",
            "prod",
            "--filter",
            "metrics.bleu > 30",
        ],
    )
    .ok();
    let refused = cairn(&server, &["models", "alias", "summarizer", "prod", "1"])
        .run()
        .expect(1);
    assert!(
        refused.stderr.contains("metrics.bleu > 30"),
        "{}",
        refused.stderr
    );
    cairn(
        &server,
        &["models", "gate", "set", "summarizer", "--filter", "x"],
    )
    .run()
    .expect(2);
}

#[test]
fn history_lists_every_transition_and_alias_move_as_json_events() {
    let server = TestServer::start();
    let run = registered(&server, 31.0);
    cairn(
        &server,
        &["models", "promote", "summarizer", "1", "--stage", "Staging"],
    )
    .ok();
    cairn(&server, &["models", "alias", "summarizer", "champion", "2"]).ok();
    cairn(
        &server,
        &["models", "alias", "summarizer", "champion", "--delete"],
    )
    .ok();
    cairn(
        &server,
        &[
            "models",
            "promote",
            "summarizer",
            "1",
            "--stage",
            "Production",
            "--archive-existing",
        ],
    )
    .ok();

    let events = cairn(&server, &["models", "history", "summarizer"]).json();
    let moves: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or("-").to_owned();
            format!("{} {} -> {}", text("kind"), text("from"), text("to"))
        })
        .collect();
    assert_eq!(
        moves,
        [
            "stage None -> Staging",
            "alias - -> 2",
            "alias 2 -> -",
            "stage Staging -> Production",
        ]
    );
    assert_eq!(events[0]["run_id"], run.as_str());
    assert_eq!(events[0]["metrics"], json!({"bleu": 31.0}));
    assert_eq!(events[1]["alias"], "champion");
}

#[test]
fn a_runs_source_names_its_run_for_the_server() {
    let server = TestServer::start();
    let run = start_run(&server, "models", "r");
    let source = format!("runs:/{run}/model");
    let v = cairn(&server, &["models", "register", "m", "--source", &source]).json();
    assert_eq!(v["run_id"], run.as_str());
    assert_eq!(v["source"], source.as_str());
    let other = start_run(&server, "models", "other");
    let refused = cairn(
        &server,
        &[
            "models", "register", "m", "--source", &source, "--run", &other,
        ],
    )
    .run()
    .expect(1);
    assert!(refused.stderr.contains("run_id"), "{}", refused.stderr);
}

#[test]
fn unknown_models_exit_3_and_registering_without_a_source_is_a_usage_error() {
    let server = TestServer::start();
    for args in [
        &["models", "show", "ghost"][..],
        &["models", "promote", "ghost", "1", "--stage", "Staging"],
        &["models", "history", "ghost"],
    ] {
        cairn(&server, args).run().expect(3);
    }
    let out = cairn(&server, &["models", "register", "m"]).run().expect(2);
    assert!(out.stderr.contains("--source"), "{}", out.stderr);
}
