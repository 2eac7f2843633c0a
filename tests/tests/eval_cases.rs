//! `cairn eval cases`: the machine interface prints, per case, its id and the fields of
//! its expected object, matching the reference implementations within 1e-9.

use cairn_tests::cairn_binary;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn vectors(file: &str) -> PathBuf {
    let shared = std::env::var_os("CAIRN_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")));
    let path = shared.join("testdata/metrics").join(file);
    assert!(
        path.exists(),
        "the reference vectors are missing at {}; set CAIRN_SHARED",
        path.display()
    );
    path
}

/// Numbers equal within 1e-9 (integers exactly), objects and arrays field by field.
fn same(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            w.iter().all(|(k, v)| g.get(k).is_some_and(|x| same(v, x)))
        }
        (Value::Array(w), Value::Array(g)) => {
            w.len() == g.len() && w.iter().zip(g).all(|(a, b)| same(a, b))
        }
        (Value::Number(w), Value::Number(g)) => {
            let (w, g) = (w.as_f64().unwrap(), g.as_f64().unwrap());
            (w - g).abs() <= 1e-9 * w.abs().max(1.0)
        }
        _ => want == got,
    }
}

fn check(metric: &str, file: &str) {
    let path = vectors(file);
    let out = Command::new(cairn_binary())
        .args(["eval", "cases", "--metric", metric])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases: Vec<Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let printed: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(printed.len(), cases.len(), "one line per case");
    let mut wrong = Vec::new();
    for (case, line) in cases.iter().zip(&printed) {
        if line["id"] != case["id"] || !same(&case["expected"], line) {
            wrong.push(format!(
                "{}: expected {} got {}",
                case["id"], case["expected"], line
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases differ:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn bleu_cases_print_every_expected_field() {
    check("bleu", "bleu.jsonl");
}

#[test]
fn chrf_cases_print_every_expected_field() {
    check("chrf", "chrf.jsonl");
}

#[test]
fn rouge_cases_print_every_expected_field() {
    check("rouge", "rouge.jsonl");
}

#[test]
fn a_malformed_case_fails_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.jsonl");
    std::fs::write(
        &file,
        "{\"id\": \"ok\", \"hypotheses\": [\"a\"], \"references\": [[\"a\"]]}\nnot json\n",
    )
    .unwrap();
    let out = Command::new(cairn_binary())
        .args(["eval", "cases", "--metric", "bleu"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
