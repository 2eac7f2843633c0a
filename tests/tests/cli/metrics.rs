//! `cairn metrics history`: every point of several runs and keys as rows, and as a terminal chart.

use super::{cairn, client, start_run, strings};
use cairn_client::blocking::Client;
use cairn_client::schema::Metric;
use cairn_tests::TestServer;

fn points(client: &Client, run: &str, key: &str, values: &[f64]) {
    let metrics: Vec<Metric> = values
        .iter()
        .enumerate()
        .map(|(step, v)| Metric {
            key: key.into(),
            value: *v,
            timestamp: 1_700_000_000_000 + step as i64,
            step: step as i64,
            run_id: None,
        })
        .collect();
    client.log_batch(run, &metrics, &[], &[]).unwrap();
}

/// Two runs: `base` with loss 1.0, 0.5, 0.25 and acc 0.5, 0.7, 0.9; `tuned` with loss 0.8, 0.3.
fn two_runs(server: &TestServer) -> (String, String) {
    let c = client(server);
    let base = start_run(server, "curves", "base");
    let tuned = start_run(server, "curves", "tuned");
    points(&c, &base, "loss", &[1.0, 0.5, 0.25]);
    points(&c, &base, "acc", &[0.5, 0.7, 0.9]);
    points(&c, &tuned, "loss", &[0.8, 0.3]);
    (base, tuned)
}

#[test]
fn history_of_several_runs_lists_every_point_as_json() {
    let server = TestServer::start();
    let (base, tuned) = two_runs(&server);
    let runs = format!("{base},{tuned}");
    let rows = cairn(&server, &["metrics", "history", &runs, "loss"]).json();
    let got: Vec<(String, String, i64, f64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["run_name"].as_str().unwrap().to_owned(),
                r["key"].as_str().unwrap().to_owned(),
                r["step"].as_i64().unwrap(),
                r["value"].as_f64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, String, i64, f64)> = [
        ("base", 0, 1.0),
        ("base", 1, 0.5),
        ("base", 2, 0.25),
        ("tuned", 0, 0.8),
        ("tuned", 1, 0.3),
    ]
    .iter()
    .map(|(n, s, v)| (n.to_string(), "loss".to_owned(), *s, *v))
    .collect();
    assert_eq!(got, want);
    assert_eq!(
        strings(&rows, "run_id")[..3],
        [base.clone(), base.clone(), base]
    );
    assert_eq!(rows[0]["timestamp"], "2023-11-14T22:13:20.000Z");
}

#[test]
fn history_of_two_keys_as_a_table_has_one_row_per_point() {
    let server = TestServer::start();
    let (base, _) = two_runs(&server);
    let table = cairn(&server, &["metrics", "history", &base, "loss", "acc"]).ok();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["run_id", "run_name", "key", "step", "value", "timestamp"]
    );
    assert_eq!(lines.len(), 1 + 6, "{table}");
    let acc: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| cells[2] == "acc")
        .collect();
    assert_eq!(
        acc.iter().map(|c| (c[3], c[4])).collect::<Vec<_>>(),
        [("0", "0.5"), ("1", "0.7"), ("2", "0.9")]
    );
}

#[test]
fn the_chart_draws_every_run_and_key_with_a_legend_line_each() {
    let server = TestServer::start();
    let (base, tuned) = two_runs(&server);
    let runs = format!("{base},{tuned}");
    let chart = cairn(
        &server,
        &[
            "metrics", "history", &runs, "loss", "acc", "--chart", "--width", "40", "--height", "8",
        ],
    )
    .ok();
    let legend: Vec<&str> = chart
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("step 0"))
        .skip(1)
        .map(str::trim)
        .collect();
    assert_eq!(
        legend,
        ["● base loss", "▲ base acc", "■ tuned loss", "◆ tuned acc"]
    );
    let plot: Vec<&str> = chart.lines().filter(|l| l.contains('┤')).collect();
    assert_eq!(plot.len(), 8, "{chart}");
    assert!(
        plot[0].trim_start().starts_with("1.0000"),
        "the top is the maximum: {chart}"
    );
    assert!(
        plot[7].trim_start().starts_with("0.2500"),
        "the bottom is the minimum: {chart}"
    );
    for glyph in ['●', '▲', '■'] {
        assert!(
            plot.iter().any(|l| l.contains(glyph)),
            "{glyph} drawn: {chart}"
        );
    }
    assert!(chart.contains("step 0"), "{chart}");
    assert!(!chart.contains('\x1b'), "no colour off a terminal");
}

#[test]
fn history_of_an_unknown_run_exits_3() {
    let server = TestServer::start();
    let (base, _) = two_runs(&server);
    let runs = format!("{base},eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
    cairn(&server, &["metrics", "history", &runs, "loss"])
        .run()
        .expect(3);
}
