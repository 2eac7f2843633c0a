//! BLEU and chrF against every sacrebleu 2.6.0 test vector in
//! `shared/testdata/metrics/{bleu,chrf}.jsonl`.
//!
//! The vectors are found through `CAIRN_SHARED` (the `shared` directory), else next
//! to the workspace. Missing vectors fail the test: a metric that was never compared
//! must not look green.

use std::path::PathBuf;

use cairn_client::eval::bleu::{corpus_bleu, sentence_bleu, BleuOptions, Smoothing, Tokenizer};
use cairn_client::eval::chrf::{corpus_chrf, sentence_chrf, ChrfOptions};
use cairn_client::eval::tokenize_13a::{rstrip_python_whitespace, tokenize_13a};
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

fn vectors(file: &str) -> Vec<Value> {
    let shared = std::env::var_os("CAIRN_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")));
    let path = shared.join("testdata/metrics").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the test vectors at {}: {e}. Set CAIRN_SHARED to the shared directory \
             (the one holding testdata/metrics/).",
            path.display()
        )
    });
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{file} line {}: {e}", i + 1))
        })
        .collect()
}

struct Case<'a> {
    id: &'a str,
    sentence: bool,
    hypotheses: Vec<&'a str>,
    references: Vec<Vec<Option<&'a str>>>,
    options: &'a Value,
}

impl<'a> Case<'a> {
    fn parse(case: &'a Value) -> Self {
        let id = case["id"].as_str().expect("case without id");
        let strings = |v: &'a Value| -> Vec<Option<&'a str>> {
            v.as_array()
                .unwrap_or_else(|| panic!("{id}: expected a list"))
                .iter()
                .map(Value::as_str)
                .collect()
        };
        Case {
            id,
            sentence: match case["level"].as_str() {
                Some("sentence") => true,
                Some("corpus") => false,
                other => panic!("{id}: unknown level {other:?}"),
            },
            hypotheses: strings(&case["hypotheses"])
                .into_iter()
                .map(|h| h.unwrap_or_else(|| panic!("{id}: null hypothesis")))
                .collect(),
            references: case["references"]
                .as_array()
                .unwrap_or_else(|| panic!("{id}: references is not a list"))
                .iter()
                .map(strings)
                .collect(),
            options: &case["options"],
        }
    }

    /// `sentence_*` takes the first entry of every stream.
    fn sentence_references(&self) -> Vec<&'a str> {
        self.references
            .iter()
            .map(|stream| {
                stream[0].unwrap_or_else(|| panic!("{}: null sentence reference", self.id))
            })
            .collect()
    }

    fn bool_option(&self, name: &str) -> bool {
        self.options[name]
            .as_bool()
            .unwrap_or_else(|| panic!("{}: option {name} is not a bool", self.id))
    }

    fn int_option(&self, name: &str) -> u64 {
        self.options[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{}: option {name} is not an integer", self.id))
    }
}

/// Every field of `expected`, compared with `actual`: integers exactly, floats
/// within 1e-9. Returns one message per mismatch.
fn compare(id: &str, expected: &Value, actual: &Value) -> Vec<String> {
    let mut failures = Vec::new();
    let fields = expected
        .as_object()
        .unwrap_or_else(|| panic!("{id}: expected is not an object"));
    for (field, want) in fields {
        let got = &actual[field];
        let pairs: Vec<(&Value, &Value)> = match (want, got) {
            (Value::Array(w), Value::Array(g)) if w.len() == g.len() => w.iter().zip(g).collect(),
            (Value::Array(_), _) => {
                failures.push(format!("{id}: {field}: expected {want}, got {got}"));
                continue;
            }
            _ => vec![(want, got)],
        };
        for (w, g) in pairs {
            let Some(g_num) = g.as_f64() else {
                failures.push(format!("{id}: {field}: expected {want}, got {got}"));
                break;
            };
            let ok = if w.is_u64() || w.is_i64() {
                g_num == w.as_f64().unwrap()
            } else {
                (g_num - w.as_f64().unwrap()).abs() <= TOLERANCE
            };
            if !ok {
                failures.push(format!("{id}: {field}: expected {want}, got {got}"));
                break;
            }
        }
    }
    failures
}

fn bleu_options(case: &Case) -> BleuOptions {
    let id = case.id;
    BleuOptions {
        tokenize: match case.options["tokenize"].as_str() {
            Some("13a") => Tokenizer::Tok13a,
            Some("none") => Tokenizer::None,
            other => panic!("{id}: unknown tokenizer {other:?}"),
        },
        smooth_method: match case.options["smooth_method"].as_str() {
            Some("exp") => Smoothing::Exp,
            Some("none") => Smoothing::None,
            Some("floor") => Smoothing::Floor,
            Some("add-k") => Smoothing::AddK,
            other => panic!("{id}: unknown smoothing {other:?}"),
        },
        smooth_value: case.options["smooth_value"].as_f64(),
        use_effective_order: case.bool_option("use_effective_order"),
        lowercase: case.bool_option("lowercase"),
    }
}

fn chrf_options(case: &Case) -> ChrfOptions {
    ChrfOptions {
        char_order: case.int_option("char_order") as usize,
        word_order: case.int_option("word_order") as usize,
        beta: case.int_option("beta") as u32,
        lowercase: false,
        whitespace: !case.bool_option("remove_whitespace"),
        eps_smoothing: case.bool_option("eps_smoothing"),
    }
}

/// Runs `score` on every case of `file` and fails listing every mismatching case.
fn check_all(file: &str, expected_cases: usize, score: impl Fn(&Case) -> Value) {
    let cases = vectors(file);
    assert_eq!(
        cases.len(),
        expected_cases,
        "{file}: unexpected number of cases"
    );
    let mut failures = Vec::new();
    for raw in &cases {
        let case = Case::parse(raw);
        let actual = score(&case);
        failures.extend(compare(case.id, &raw["expected"], &actual));
    }
    assert!(
        failures.is_empty(),
        "{} mismatches in {file}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bleu_matches_sacrebleu_on_every_vector() {
    check_all("bleu.jsonl", 216, |case| {
        let opts = bleu_options(case);
        let score = if case.sentence {
            sentence_bleu(case.hypotheses[0], &case.sentence_references(), &opts)
        } else {
            corpus_bleu(&case.hypotheses, &case.references, &opts)
        };
        let score = score.unwrap_or_else(|e| panic!("{}: {e}", case.id));
        serde_json::to_value(score).unwrap()
    });
}

#[test]
fn chrf_matches_sacrebleu_on_every_vector() {
    check_all("chrf.jsonl", 128, |case| {
        let opts = chrf_options(case);
        let score = if case.sentence {
            sentence_chrf(case.hypotheses[0], &case.sentence_references(), &opts)
        } else {
            corpus_chrf(&case.hypotheses, &case.references, &opts)
        };
        let score = score.unwrap_or_else(|e| panic!("{}: {e}", case.id));
        serde_json::to_value(score).unwrap()
    });
}

#[test]
fn tokenize_13a_matches_sacrebleu_on_every_bleu_vector() {
    let mut failures = Vec::new();
    for raw in &vectors("bleu.jsonl") {
        let case = Case::parse(raw);
        let lowercase = case.bool_option("lowercase");
        let tokenize = |text: &str| {
            let lowered = if lowercase {
                text.to_lowercase()
            } else {
                text.to_owned()
            };
            Value::from(tokenize_13a(rstrip_python_whitespace(&lowered)))
        };
        let hyps: Vec<Value> = case.hypotheses.iter().map(|h| tokenize(h)).collect();
        let refs: Vec<Value> = case
            .references
            .iter()
            .map(|stream| {
                stream
                    .iter()
                    .map(|r| r.map_or(Value::Null, tokenize))
                    .collect()
            })
            .collect();
        if Value::from(hyps.clone()) != raw["debug"]["hyp_tokenized"] {
            failures.push(format!("{}: hypotheses tokenized as {hyps:?}", case.id));
        }
        if Value::from(refs.clone()) != raw["debug"]["ref_tokenized"] {
            failures.push(format!("{}: references tokenized as {refs:?}", case.id));
        }
    }
    assert!(
        failures.is_empty(),
        "13a mismatches:\n{}",
        failures.join("\n")
    );
}
