//! `cairn runs list` (filters with OR, order, columns, limits, pages, views, CSV) and `cairn runs show`.

use super::{cairn, client, csv, log, start_run, strings};
use cairn_tests::TestServer;
use serde_json::json;

/// Five runs r1..r5 in `sweep`: `model` m1 for odd, m0 for even; `loss` 0.1 × i; `lr` as text.
fn sweep(server: &TestServer) -> Vec<String> {
    let c = client(server);
    (1..=5)
        .map(|i| {
            let run = start_run(server, "sweep", &format!("r{i}"));
            let model = format!("m{}", i % 2);
            let lr = format!("0.0{i}");
            log(
                &c,
                &run,
                &[("model", &model), ("lr", &lr)],
                &[("loss", 0.1 * f64::from(i))],
            );
            run
        })
        .collect()
}

#[test]
fn runs_list_filters_with_or_and_orders_by_a_metric() {
    let server = TestServer::start();
    sweep(&server);
    let listed = cairn(
        &server,
        &[
            "runs",
            "list",
            "-e",
            "sweep",
            "--filter",
            "params.model = 'm0' OR metrics.loss < 0.15",
            "--order-by",
            "metrics.loss DESC",
        ],
    )
    .json();
    assert_eq!(strings(&listed, "run_name"), ["r4", "r2", "r1"]);
    let r4 = &listed[0];
    assert_eq!(r4["params"], json!({"model": "m0", "lr": "0.04"}));
    assert!((r4["metrics"]["loss"].as_f64().unwrap() - 0.4).abs() < 1e-12);
    assert_eq!(r4["status"], "RUNNING");

    let ascending = cairn(
        &server,
        &[
            "runs",
            "list",
            "-e",
            "sweep",
            "--order-by",
            "metrics.loss ASC",
        ],
    )
    .json();
    assert_eq!(
        strings(&ascending, "run_name"),
        ["r1", "r2", "r3", "r4", "r5"]
    );
}

#[test]
fn runs_list_prints_the_chosen_columns_as_csv_with_a_header() {
    let server = TestServer::start();
    let runs = sweep(&server);
    let out = cairn(
        &server,
        &[
            "runs",
            "list",
            "-e",
            "sweep",
            "--columns",
            "run_id,run_name,params.model,metrics.loss,tags.absent",
            "--order-by",
            "metrics.loss ASC",
            "-o",
            "csv",
        ],
    )
    .ok();
    let rows = csv(&out);
    assert_eq!(
        rows[0],
        [
            "run_id",
            "run_name",
            "params.model",
            "metrics.loss",
            "tags.absent"
        ]
    );
    assert_eq!(rows.len(), 6, "{out}");
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[0], runs[i]);
        assert_eq!(row[1], format!("r{}", i + 1));
        assert_eq!(row[2], format!("m{}", (i + 1) % 2));
        let loss: f64 = row[3].parse().unwrap();
        assert!((loss - 0.1 * (i + 1) as f64).abs() < 1e-12, "{row:?}");
        assert_eq!(row[4], "", "a missing tag is an empty cell");
    }
}

#[test]
fn limit_cuts_the_page_and_all_pages_returns_every_run() {
    let server = TestServer::start();
    sweep(&server);
    let page = cairn(&server, &["runs", "list", "-e", "sweep", "--limit", "2"]).json();
    assert_eq!(page.as_array().unwrap().len(), 2);
    let all = cairn(
        &server,
        &["runs", "list", "-e", "sweep", "--limit", "2", "--all-pages"],
    )
    .json();
    let mut names = strings(&all, "run_name");
    names.sort();
    assert_eq!(names, ["r1", "r2", "r3", "r4", "r5"]);
}

#[test]
fn an_unknown_column_is_a_usage_error_that_names_it() {
    let server = TestServer::start();
    sweep(&server);
    let out = cairn(
        &server,
        &["runs", "list", "--columns", "run_id,colour_of_the_sky"],
    )
    .run()
    .expect(2);
    assert!(out.stderr.contains("colour_of_the_sky"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn deleted_runs_are_listed_only_with_view_deleted_or_all() {
    let server = TestServer::start();
    let runs = sweep(&server);
    client(&server).delete_run(&runs[0]).unwrap();
    let names = |view: &str| {
        let mut names = strings(
            &cairn(&server, &["runs", "list", "-e", "sweep", "--view", view]).json(),
            "run_name",
        );
        names.sort();
        names
    };
    assert_eq!(names("active"), ["r2", "r3", "r4", "r5"]);
    assert_eq!(names("deleted"), ["r1"]);
    assert_eq!(names("all").len(), 5);
}

#[test]
fn runs_show_as_json_has_the_params_metrics_tags_and_artifacts_of_the_run() {
    let server = TestServer::start();
    let run = start_run(&server, "shown", "the-run");
    let c = client(&server);
    log(&c, &run, &[("model", "small")], &[("bleu", 31.5)]);
    c.set_tag(&run, "team", "nlp").unwrap();
    let handle = c.get_run(&run).unwrap();
    c.upload_artifact(&handle, "eval/results.json", b"{}".to_vec())
        .unwrap();
    c.upload_artifact(&handle, "notes.txt", b"hello".to_vec())
        .unwrap();

    let shown = cairn(&server, &["runs", "show", &run]).json();
    assert_eq!(shown["run_id"], run.as_str());
    assert_eq!(shown["run_name"], "the-run");
    assert_eq!(shown["params"], json!({"model": "small"}));
    assert_eq!(shown["metrics"], json!({"bleu": 31.5}));
    assert_eq!(shown["tags"]["team"], "nlp");
    assert_eq!(
        shown["artifacts"],
        json!([
            {"path": "eval", "is_dir": true, "file_size": null},
            {"path": "notes.txt", "is_dir": false, "file_size": 5},
        ])
    );

    let table = cairn(&server, &["runs", "show", &run]).ok();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("param") && l.contains("model") && l.ends_with("small")),
        "{table}"
    );
}

#[test]
fn showing_an_unknown_run_exits_3() {
    let server = TestServer::start();
    let out = cairn(
        &server,
        &["runs", "show", "0123456789abcdef0123456789abcdef"],
    )
    .run()
    .expect(3);
    assert!(out.stderr.contains("0123456789abcdef"), "{}", out.stderr);
}
