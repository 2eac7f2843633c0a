//! Scoring test cases in the JSON layout of Cairn's reference vectors: one case in,
//! `{"id", ...the fields of the case's expected object}` out. Backs `cairn eval cases`.

use super::bleu::{corpus_bleu, BleuOptions, Smoothing, Tokenizer};
use super::chrf::{corpus_chrf, ChrfOptions};
use super::rouge::RougeScorer;
use serde_json::{Map, Value};

/// Which metric a case file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// sacrebleu BLEU: `hypotheses`, `references` (streams), `options`.
    Bleu,
    /// sacrebleu chrF / chrF++: same layout as BLEU.
    Chrf,
    /// rouge-score: `target` or `targets`, `prediction`, `rouge_types`, `use_stemmer`.
    Rouge,
}

/// A case that cannot be scored, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("case {id}: {reason}")]
pub struct CaseError {
    /// The case's `id` (or its position when it has none).
    pub id: String,
    /// What is wrong with it.
    pub reason: String,
}

fn strings<'a>(v: &'a Value, what: &str, id: &str) -> Result<Vec<&'a str>, CaseError> {
    v.as_array()
        .ok_or_else(|| err(id, format!("'{what}' must be a list")))?
        .iter()
        .map(|s| {
            s.as_str()
                .ok_or_else(|| err(id, format!("'{what}' must hold strings")))
        })
        .collect()
}

fn err(id: &str, reason: String) -> CaseError {
    CaseError {
        id: id.to_owned(),
        reason,
    }
}

/// Reference streams: lists of strings or nulls (a segment without that reference).
fn streams<'a>(v: &'a Value, id: &str) -> Result<Vec<Vec<Option<&'a str>>>, CaseError> {
    v.as_array()
        .ok_or_else(|| err(id, "'references' must be a list of streams".into()))?
        .iter()
        .map(|stream| {
            stream
                .as_array()
                .ok_or_else(|| err(id, "each reference stream must be a list".into()))?
                .iter()
                .map(|r| match r {
                    Value::Null => Ok(None),
                    Value::String(s) => Ok(Some(s.as_str())),
                    _ => Err(err(id, "references must be strings or null".into())),
                })
                .collect()
        })
        .collect()
}

fn bleu_options(o: &Value, id: &str) -> Result<BleuOptions, CaseError> {
    let mut opts = BleuOptions::default();
    if let Some(t) = o.get("tokenize").and_then(Value::as_str) {
        opts.tokenize = match t {
            "13a" => Tokenizer::Tok13a,
            "none" => Tokenizer::None,
            other => return Err(err(id, format!("unknown tokenizer '{other}'"))),
        };
    }
    if let Some(m) = o.get("smooth_method").and_then(Value::as_str) {
        opts.smooth_method = match m {
            "exp" => Smoothing::Exp,
            "none" => Smoothing::None,
            "floor" => Smoothing::Floor,
            "add-k" => Smoothing::AddK,
            other => return Err(err(id, format!("unknown smoothing '{other}'"))),
        };
    }
    opts.smooth_value = o.get("smooth_value").and_then(Value::as_f64);
    opts.use_effective_order = o
        .get("use_effective_order")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    opts.lowercase = o.get("lowercase").and_then(Value::as_bool).unwrap_or(false);
    Ok(opts)
}

fn chrf_options(o: &Value) -> ChrfOptions {
    let d = ChrfOptions::default();
    let int = |k: &str, default: u64| o.get(k).and_then(Value::as_u64).unwrap_or(default);
    ChrfOptions {
        char_order: int("char_order", d.char_order as u64) as usize,
        word_order: int("word_order", d.word_order as u64) as usize,
        beta: int("beta", u64::from(d.beta)) as u32,
        lowercase: o.get("lowercase").and_then(Value::as_bool).unwrap_or(false),
        whitespace: !o
            .get("remove_whitespace")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        eps_smoothing: o
            .get("eps_smoothing")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

/// Integral floats print as integers (BLEU counts are floats only under add-k smoothing).
fn tidy(v: Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.into_iter().map(tidy).collect()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        other => other,
    }
}

/// Scores one case and returns `{"id": ..., <score fields>}`.
pub fn score_case(metric: Metric, case: &Value) -> Result<Value, CaseError> {
    let id = case
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let scored = match metric {
        Metric::Bleu | Metric::Chrf => {
            let hyps = strings(&case["hypotheses"], "hypotheses", &id)?;
            let refs = streams(&case["references"], &id)?;
            let options = case.get("options").cloned().unwrap_or(Value::Null);
            let result = if metric == Metric::Bleu {
                corpus_bleu(&hyps, &refs, &bleu_options(&options, &id)?).map(serde_json::to_value)
            } else {
                corpus_chrf(&hyps, &refs, &chrf_options(&options)).map(serde_json::to_value)
            };
            result
                .map_err(|e| err(&id, e.to_string()))?
                .map_err(|e| err(&id, e.to_string()))?
        }
        Metric::Rouge => {
            let types = strings(&case["rouge_types"], "rouge_types", &id)?;
            let stem = case
                .get("use_stemmer")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let scorer = RougeScorer::new(&types, stem).map_err(|e| err(&id, e.to_string()))?;
            let prediction = case["prediction"]
                .as_str()
                .ok_or_else(|| err(&id, "'prediction' must be a string".into()))?;
            let scores = match case.get("targets") {
                Some(t) => scorer
                    .score_multi(&strings(t, "targets", &id)?, prediction)
                    .map_err(|e| err(&id, e.to_string()))?,
                None => {
                    let target = case["target"]
                        .as_str()
                        .ok_or_else(|| err(&id, "'target' must be a string".into()))?;
                    scorer.score(target, prediction)
                }
            };
            serde_json::to_value(scores).map_err(|e| err(&id, e.to_string()))?
        }
    };
    let mut out = Map::new();
    out.insert("id".into(), Value::String(id));
    if let Value::Object(fields) = scored {
        for (k, v) in fields {
            out.insert(k, tidy(v));
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_perfect_bleu_case_scores_its_counts_as_integers() {
        let case = json!({"id": "c1", "hypotheses": ["The cat sat on the mat."],
            "references": [["The cat sat on the mat."]], "options": {"tokenize": "13a", "smooth_method": "exp",
            "smooth_value": null, "use_effective_order": true, "lowercase": false}});
        let out = score_case(Metric::Bleu, &case).unwrap();
        assert_eq!(out["id"], "c1");
        assert_eq!(out["counts"], json!([7, 6, 5, 4]));
        assert!((out["score"].as_f64().unwrap() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn a_malformed_case_names_itself() {
        let e = score_case(
            Metric::Rouge,
            &json!({"id": "bad", "rouge_types": ["rouge1"]}),
        )
        .unwrap_err();
        assert_eq!(e.id, "bad");
    }
}
