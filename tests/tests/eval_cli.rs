//! `cairn eval score`, `cairn eval diff` and `cairn runs pareto` against a real server:
//! a prompt-strategy sweep scored, logged, compared, and its quality/cost front found.

use cairn_tests::{cairn_binary, TestServer};
use serde_json::json;
use std::path::Path;
use std::process::Command;

fn cairn(server: &TestServer, args: &[&str]) -> String {
    let out = Command::new(cairn_binary())
        .args(args)
        .args(["--tracking-uri", &server.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cairn {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const REFERENCES: [&str; 3] = [
    "The cat sleeps on the mat.",
    "The capital of Japan is Tokyo.",
    "Water boils at 100 degrees.",
];

/// Writes one strategy's outputs as JSONL, with per-call latency and cost.
fn predictions(dir: &Path, name: &str, outputs: [&str; 3], cost: f64) -> String {
    let lines: Vec<String> = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            json!({"id": format!("ex{i}"), "input": format!("question {i}"), "output": o,
                   "latency_ms": 100.0 * (i + 1) as f64, "cost_usd": cost})
            .to_string()
        })
        .collect();
    let path = dir.join(format!("{name}.jsonl"));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.display().to_string()
}

#[test]
fn a_sweep_is_scored_logged_diffed_and_its_pareto_front_found() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let refs = dir.path().join("refs.txt");
    std::fs::write(&refs, REFERENCES.join("\n") + "\n").unwrap();
    let exp = server.experiment("sweep");
    let strategies = [
        (
            "zero-shot",
            ["A cat sleeps.", "Tokyo.", "Water boils."],
            0.001,
        ),
        (
            "few-shot",
            [
                "The cat sleeps on the mat.",
                "The capital of Japan is Tokyo.",
                "Water boils at 100 degrees.",
            ],
            0.004,
        ),
        (
            "verbose",
            [
                "The cat is sleeping on a mat.",
                "Japan's capital is Tokyo.",
                "It boils at 100 degrees.",
            ],
            0.009,
        ),
    ];
    let mut runs = Vec::new();
    for (name, outputs, cost) in strategies {
        let run = server.run(&exp);
        let preds = predictions(dir.path(), name, outputs, cost);
        let printed = cairn(
            &server,
            &[
                "eval",
                "score",
                "--predictions",
                &preds,
                "--references",
                refs.to_str().unwrap(),
                "--run",
                &run,
            ],
        );
        assert!(printed.contains("bleu"), "{printed}");
        runs.push((name, run));
    }

    let few_shot = server.get_run(&runs[1].1);
    let metric = |run: &serde_json::Value, key: &str| {
        run["data"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["key"] == key)
            .map(|m| m["value"].as_f64().unwrap())
    };
    assert!(
        (metric(&few_shot, "bleu").unwrap() - 100.0).abs() < 1e-9,
        "identical outputs score 100"
    );
    assert!((metric(&few_shot, "cost_usd_total").unwrap() - 0.012).abs() < 1e-12);
    assert_eq!(metric(&few_shot, "latency_p50_ms"), Some(200.0));
    let table = reqwest::blocking::get(format!(
        "{}/api/2.0/mlflow-artifacts/artifacts/{exp}/{}/artifacts/eval/results.json",
        server.url, runs[1].1
    ))
    .unwrap()
    .json::<serde_json::Value>()
    .unwrap();
    assert_eq!(table["data"].as_array().unwrap().len(), 3);
    assert!(table["columns"]
        .as_array()
        .unwrap()
        .contains(&json!("rougeL")));
    let tags = &few_shot["data"]["tags"];
    assert!(tags
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["key"] == "mlflow.loggedArtifacts"
            && t["value"].as_str().unwrap().contains("eval/results.json")));

    let diff = cairn(&server, &["eval", "diff", &runs[0].1, &runs[1].1]);
    assert!(diff.contains("paired 3 examples on `id`"), "{diff}");
    let bleu_line = diff.lines().find(|l| l.starts_with("bleu")).unwrap();
    assert!(
        bleu_line.split_whitespace().nth(1) == Some("3"),
        "few-shot wins every example: {bleu_line}"
    );
    // The bootstrap is on corpus BLEU: its delta is the difference of the logged corpus scores.
    let delta: f64 = bleu_line
        .split_whitespace()
        .nth(4)
        .unwrap()
        .parse()
        .unwrap();
    let zero_shot = server.get_run(&runs[0].1);
    let logged = metric(&few_shot, "bleu").unwrap() - metric(&zero_shot, "bleu").unwrap();
    assert!((delta - logged).abs() < 1e-4, "{delta} vs {logged}: {diff}");

    let front = cairn(
        &server,
        &[
            "runs",
            "pareto",
            "--experiment",
            "sweep",
            "--max",
            "metrics.bleu",
            "--min",
            "metrics.cost_usd_total",
        ],
    );
    let on_front: Vec<&str> = front
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(
        on_front.contains(&runs[0].1.as_str()),
        "cheapest stays: {front}"
    );
    assert!(
        on_front.contains(&runs[1].1.as_str()),
        "best stays: {front}"
    );
    assert!(
        !on_front.contains(&runs[2].1.as_str()),
        "verbose is dominated by few-shot: {front}"
    );
}

#[test]
fn token_usage_is_priced_from_a_price_table_file() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let prices = dir.path().join("prices.json");
    std::fs::write(
        &prices,
        r#"{"models": {"small": {"input": 1.0, "output": 2.0, "cached_input": 0.5}}}"#,
    )
    .unwrap();
    let preds = dir.path().join("p.jsonl");
    let line = json!({"output": "Tokyo.", "model": "small", "prompt_tokens": 1_000_000, "completion_tokens": 500_000,
                      "cached_prompt_tokens": 200_000});
    std::fs::write(&preds, format!("{line}\n")).unwrap();
    let refs = dir.path().join("r.txt");
    std::fs::write(&refs, "Tokyo.\n").unwrap();
    let run = server.run(&server.experiment("priced"));
    cairn(
        &server,
        &[
            "eval",
            "score",
            "--predictions",
            preds.to_str().unwrap(),
            "--references",
            refs.to_str().unwrap(),
            "--prices",
            prices.to_str().unwrap(),
            "--run",
            &run,
        ],
    );
    // 800k uncached prompt tokens at $1/M + 200k cached at $0.5/M + 500k output at $2/M.
    let metrics = server.get_run(&run)["data"]["metrics"].clone();
    let total = metrics
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "cost_usd_total")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert!((total - 1.9).abs() < 1e-12, "{total}");

    let unknown = dir.path().join("u.jsonl");
    std::fs::write(
        &unknown,
        format!(
            "{}\n",
            json!({"output": "x", "model": "huge", "prompt_tokens": 1})
        ),
    )
    .unwrap();
    let out = Command::new(cairn_binary())
        .args([
            "eval",
            "score",
            "--predictions",
            unknown.to_str().unwrap(),
            "--references",
            refs.to_str().unwrap(),
        ])
        .args([
            "--prices",
            prices.to_str().unwrap(),
            "--tracking-uri",
            &server.url,
        ])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "an unpriced model is an error, never a silent $0"
    );
}
