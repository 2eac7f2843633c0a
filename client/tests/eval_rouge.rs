//! ROUGE and the nltk Porter stemmer against every reference vector in `shared/testdata/metrics`.

use std::path::PathBuf;

use cairn_client::eval::porter::stem;
use cairn_client::eval::rouge::RougeScorer;
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

/// The metrics test-data directory; a missing directory fails the test, never skips it.
fn metrics_dir() -> PathBuf {
    let shared = std::env::var_os("CAIRN_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")));
    let dir = shared.join("testdata/metrics");
    assert!(
        dir.is_dir(),
        "metric test vectors not found at {} (set CAIRN_SHARED to the shared directory)",
        dir.display()
    );
    dir
}

fn read(name: &str) -> String {
    let path = metrics_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .expect("an array of strings")
        .iter()
        .map(|v| v.as_str().expect("a string"))
        .collect()
}

/// Every field of `expected` (type → {precision, recall, fmeasure}) against `actual`;
/// returns one message per mismatch.
fn compare(expected: &Value, actual: &Value) -> Vec<String> {
    let mut mismatches = Vec::new();
    for (rouge_type, fields) in expected.as_object().expect("expected is an object") {
        for (field, want) in fields.as_object().expect("a score object") {
            let want = want.as_f64().expect("a number");
            match actual[rouge_type][field].as_f64() {
                Some(got) if (got - want).abs() <= TOLERANCE => {}
                got => mismatches.push(format!(
                    "{rouge_type}.{field}: expected {want}, got {got:?}"
                )),
            }
        }
    }
    mismatches
}

#[test]
fn rouge_matches_rouge_score_on_every_vector() {
    let text = read("rouge.jsonl");
    let mut cases = 0;
    let mut failures = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("a JSON case");
        let id = case["id"].as_str().expect("an id").to_string();
        cases += 1;
        let scorer =
            match RougeScorer::new(&strings(&case["rouge_types"]), case["use_stemmer"] == true) {
                Ok(scorer) => scorer,
                Err(e) => {
                    failures.push(format!("{id}: {e}"));
                    continue;
                }
            };
        let prediction = case["prediction"].as_str().expect("a prediction");
        let scores = match case.get("targets") {
            Some(targets) => match scorer.score_multi(&strings(targets), prediction) {
                Ok(scores) => scores,
                Err(e) => {
                    failures.push(format!("{id}: {e}"));
                    continue;
                }
            },
            None => scorer.score(case["target"].as_str().expect("a target"), prediction),
        };
        let actual = serde_json::to_value(&scores).expect("scores serialize");
        for mismatch in compare(&case["expected"], &actual) {
            failures.push(format!("{id}: {mismatch}"));
        }
    }
    assert_eq!(cases, 331, "rouge.jsonl should hold 331 cases");
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn porter_stem_matches_nltk_on_every_word() {
    let text = read("porter_nltk.tsv");
    let mut words = 0;
    let mut failures = Vec::new();
    for line in text.lines() {
        let (word, expected) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("not a word<TAB>stem line: {line:?}"));
        words += 1;
        let got = stem(word);
        if got != expected {
            failures.push(format!("{word}: expected {expected}, got {got}"));
        }
    }
    assert_eq!(words, 26_016, "porter_nltk.tsv should hold 26,016 words");
    assert!(
        failures.is_empty(),
        "{} of {words} words differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
