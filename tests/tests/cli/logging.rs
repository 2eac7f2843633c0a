//! `cairn log metric|param|tag|artifact`: arguments, JSON lines on stdin, MLFLOW_RUN_ID, refusals.

use super::{cairn, client, start_run};
use cairn_tests::TestServer;
use serde_json::json;

/// (step, value) of every point of a metric, in step order.
fn history(server: &TestServer, run: &str, key: &str) -> Vec<(i64, f64)> {
    let mut points: Vec<(i64, f64)> = client(server)
        .get_metric_history(run, key)
        .unwrap()
        .into_iter()
        .map(|m| (m.step, m.value))
        .collect();
    points.sort_by(|a, b| a.partial_cmp(b).unwrap());
    points
}

#[test]
fn key_value_metrics_land_at_the_given_step_on_the_run_mlflow_run_id_names() {
    let server = TestServer::start();
    let run = start_run(&server, "log", "r");
    let out = cairn(
        &server,
        &["log", "metric", "loss=0.5", "acc=0.75", "--step", "3"],
    )
    .env("MLFLOW_RUN_ID", &run)
    .json();
    assert_eq!(out, json!({"run_id": run, "metrics": 2}));
    cairn(
        &server,
        &["log", "metric", "--run", &run, "loss=0.25", "--step", "-1"],
    )
    .ok();
    assert_eq!(history(&server, &run, "loss"), [(-1, 0.25), (3, 0.5)]);
    assert_eq!(history(&server, &run, "acc"), [(3, 0.75)]);
}

#[test]
fn json_lines_on_stdin_are_logged_in_both_forms() {
    let server = TestServer::start();
    let run = start_run(&server, "log", "r");
    let lines = [
        r#"{"key": "loss", "value": 1.5, "step": 0}"#,
        r#"{"key": "loss", "value": 1.25, "step": 1, "timestamp": 1700000000000}"#,
        "",
        r#"{"step": 2, "loss": 0.75, "acc": 0.5}"#,
        r#"{"step": 3, "loss": "NaN", "acc": 0.625}"#,
        r#"{"key": "lr", "value": 0.001}"#,
    ];
    let out = cairn(&server, &["log", "metric", "--run", &run])
        .stdin(lines.join("\n") + "\n")
        .json();
    assert_eq!(out["metrics"], 7);
    let loss = history(&server, &run, "loss");
    assert_eq!(loss[..3], [(0, 1.5), (1, 1.25), (2, 0.75)]);
    assert!(loss[3].0 == 3 && loss[3].1.is_nan(), "{loss:?}");
    assert_eq!(history(&server, &run, "acc"), [(2, 0.5), (3, 0.625)]);
    assert_eq!(history(&server, &run, "lr"), [(0, 0.001)]);
    let stamped = client(&server).get_metric_history(&run, "loss").unwrap();
    assert!(stamped
        .iter()
        .any(|m| m.step == 1 && m.timestamp == 1_700_000_000_000));

    let dash = cairn(&server, &["log", "metric", "--run", &run, "-"])
        .stdin(r#"{"step": 9, "loss": 0.1}"#)
        .json();
    assert_eq!(dash["metrics"], 1, "`-` reads stdin too");
    assert_eq!(history(&server, &run, "loss").last(), Some(&(9, 0.1)));
}

#[test]
fn logging_without_a_run_exits_2_with_a_message() {
    let server = TestServer::start();
    for args in [
        &["log", "metric", "x=1"][..],
        &["log", "param", "p=1"],
        &["log", "tag", "t=1"],
        &["log", "artifact", "Cargo.toml"],
    ] {
        let out = cairn(&server, args).run().expect(2);
        assert!(
            out.stderr.contains("--run or MLFLOW_RUN_ID"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn malformed_metric_arguments_log_nothing_and_a_bad_stdin_line_is_named_by_number() {
    let server = TestServer::start();
    let run = start_run(&server, "log", "r");
    let out = cairn(&server, &["log", "metric", "--run", &run, "y=1", "x=abc"])
        .run()
        .expect(2);
    assert!(
        out.stderr.contains("\"abc\" is not a number"),
        "{}",
        out.stderr
    );
    cairn(&server, &["log", "metric", "--run", &run, "noequals"])
        .run()
        .expect(2);
    cairn(&server, &["log", "metric", "--run", &run, "-", "y=1"])
        .run()
        .expect(2);
    assert!(client(&server)
        .get_run(&run)
        .unwrap()
        .data
        .metrics
        .is_empty());

    let out = cairn(&server, &["log", "metric", "--run", &run])
        .stdin("{\"step\": 1, \"x\": 1}\nnot json\n")
        .run()
        .expect(2);
    assert!(out.stderr.contains("stdin line 2"), "{}", out.stderr);
}

#[test]
fn params_and_tags_are_logged_and_a_changed_param_is_refused_with_exit_1() {
    let server = TestServer::start();
    let run = start_run(&server, "log", "r");
    let out = cairn(&server, &["log", "param", "lr=0.1", "model=small"])
        .env("MLFLOW_RUN_ID", &run)
        .json();
    assert_eq!(out["params"], 2);
    cairn(&server, &["log", "tag", "--run", &run, "team=nlp"]).ok();
    let data = client(&server).get_run(&run).unwrap().data;
    let mut params: Vec<(String, String)> =
        data.params.into_iter().map(|p| (p.key, p.value)).collect();
    params.sort();
    assert_eq!(
        params,
        [
            ("lr".into(), "0.1".into()),
            ("model".into(), "small".into())
        ]
    );
    assert!(data
        .tags
        .iter()
        .any(|t| t.key == "team" && t.value == "nlp"));

    cairn(&server, &["log", "param", "--run", &run, "lr=0.1"]).ok();
    let refused = cairn(&server, &["log", "param", "--run", &run, "lr=0.2"])
        .run()
        .expect(1);
    assert!(refused.stderr.contains("lr"), "{}", refused.stderr);
    let lr = client(&server).get_run(&run).unwrap().data.params;
    assert!(
        lr.iter().any(|p| p.key == "lr" && p.value == "0.1"),
        "unchanged"
    );

    cairn(
        &server,
        &[
            "log",
            "param",
            "--run",
            "dddddddddddddddddddddddddddddddd",
            "a=1",
        ],
    )
    .run()
    .expect(3);
}

#[test]
fn log_artifact_uploads_a_file_and_a_directory_under_an_artifact_path() {
    let server = TestServer::start();
    let run = start_run(&server, "log", "r");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.yaml");
    std::fs::write(&file, "lr: 0.1\n").unwrap();
    let tree = dir.path().join("ckpt");
    std::fs::create_dir_all(tree.join("inner")).unwrap();
    std::fs::write(tree.join("weights.bin"), [0u8, 1, 2, 255]).unwrap();
    std::fs::write(tree.join("inner/meta.json"), "{}").unwrap();

    let sent = cairn(&server, &["log", "artifact", file.to_str().unwrap()])
        .env("MLFLOW_RUN_ID", &run)
        .json();
    assert_eq!(sent[0]["path"], "config.yaml");
    assert_eq!(sent[0]["bytes"], 8);
    let sent = cairn(
        &server,
        &[
            "log",
            "artifact",
            "--run",
            &run,
            tree.to_str().unwrap(),
            "--artifact-path",
            "models/v1",
        ],
    )
    .json();
    let paths: Vec<&str> = sent
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "models/v1/ckpt/inner/meta.json",
            "models/v1/ckpt/weights.bin"
        ]
    );

    let c = client(&server);
    let handle = c.get_run(&run).unwrap();
    assert_eq!(
        c.download_artifact(&handle, "config.yaml").unwrap(),
        b"lr: 0.1\n"
    );
    assert_eq!(
        c.download_artifact(&handle, "models/v1/ckpt/weights.bin")
            .unwrap(),
        [0u8, 1, 2, 255]
    );
    assert_eq!(
        c.download_artifact(&handle, "models/v1/ckpt/inner/meta.json")
            .unwrap(),
        b"{}"
    );
}
