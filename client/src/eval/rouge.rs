//! ROUGE-N, ROUGE-L and ROUGE-Lsum as computed by rouge-score 0.1.2's `RougeScorer`.
//!
//! The numbers agree with the Python package to 1e-9 (in practice bit for bit),
//! including its summary-level LCS with its particular backtrack; see
//! `shared/reference/llm-metrics.md` section 4.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::rouge_tokenize::tokenize;

/// Precision, recall and F1 of one ROUGE type, each in 0–1 (not percent).
///
/// Serializes as `{"precision": …, "recall": …, "fmeasure": …}`, the field names of
/// rouge-score's `Score` tuple.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct RougeScore {
    /// Matches relative to the prediction.
    pub precision: f64,
    /// Matches relative to the target (reference).
    pub recall: f64,
    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub fmeasure: f64,
}

impl RougeScore {
    fn new(precision: f64, recall: f64) -> Self {
        // Same evaluation order as rouge-score: (2 * p * r) / (p + r).
        let fmeasure = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        RougeScore {
            precision,
            recall,
            fmeasure,
        }
    }
}

/// One kind of ROUGE score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RougeType {
    /// `rouge1` … `rouge9`: overlap of n-grams of this length.
    N(u8),
    /// `rougeL`: longest common subsequence of the whole texts.
    L,
    /// `rougeLsum`: summary-level LCS over newline-separated sentences.
    LSum,
}

impl FromStr for RougeType {
    type Err = RougeError;

    /// Parses `rouge1`…`rouge9`, `rougeL` or `rougeLsum` (rouge-score accepts exactly
    /// one digit and rejects `rouge0`).
    fn from_str(name: &str) -> Result<Self, RougeError> {
        match name {
            "rougeL" => Ok(RougeType::L),
            "rougeLsum" => Ok(RougeType::LSum),
            _ => match name.strip_prefix("rouge").map(str::as_bytes) {
                Some(&[digit @ b'1'..=b'9']) => Ok(RougeType::N(digit - b'0')),
                _ => Err(RougeError::UnknownType(name.to_string())),
            },
        }
    }
}

impl fmt::Display for RougeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RougeType::N(n) => write!(f, "rouge{n}"),
            RougeType::L => f.write_str("rougeL"),
            RougeType::LSum => f.write_str("rougeLsum"),
        }
    }
}

/// A ROUGE input a caller can fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RougeError {
    /// Not `rouge1`…`rouge9`, `rougeL` or `rougeLsum`.
    #[error("unknown rouge type {0:?}: expected rouge1..rouge9, rougeL or rougeLsum")]
    UnknownType(String),
    /// `score_multi` needs at least one target.
    #[error("score_multi needs at least one target")]
    NoTargets,
}

/// Computes ROUGE scores like rouge-score's `RougeScorer(rouge_types, use_stemmer)`.
///
/// Sentences for `rougeLsum` are split on `\n` only (rouge-score's default
/// `split_summaries=False`; nltk's Punkt splitter is not available).
///
/// ```
/// use cairn_client::eval::rouge::RougeScorer;
/// let scorer = RougeScorer::new(&["rouge1", "rouge2", "rougeL"], false)?;
/// let scores = scorer.score(
///     "The quick brown fox jumps over the lazy dog",
///     "The quick brown dog jumps on the log.",
/// );
/// assert_eq!(scores["rouge1"].precision, 0.75);
/// assert_eq!(scores["rougeL"].recall, 5.0 / 9.0);
/// # Ok::<(), cairn_client::eval::rouge::RougeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RougeScorer {
    rouge_types: Vec<RougeType>,
    use_stemmer: bool,
}

impl RougeScorer {
    /// A scorer for the named types (`rouge1`…`rouge9`, `rougeL`, `rougeLsum`), with or
    /// without Porter stemming of tokens longer than three characters.
    pub fn new<S: AsRef<str>>(rouge_types: &[S], use_stemmer: bool) -> Result<Self, RougeError> {
        let rouge_types = rouge_types
            .iter()
            .map(|name| name.as_ref().parse())
            .collect::<Result<_, _>>()?;
        Ok(RougeScorer {
            rouge_types,
            use_stemmer,
        })
    }

    /// The types this scorer computes, in the order given.
    pub fn rouge_types(&self) -> &[RougeType] {
        &self.rouge_types
    }

    /// Whether tokens are stemmed.
    pub fn use_stemmer(&self) -> bool {
        self.use_stemmer
    }

    /// Scores `prediction` against one `target` (the reference comes first, as in
    /// rouge-score). Keys are the type names, e.g. `"rouge1"`, `"rougeLsum"`.
    pub fn score(&self, target: &str, prediction: &str) -> BTreeMap<String, RougeScore> {
        let target_tokens = tokenize(target, self.use_stemmer);
        let prediction_tokens = tokenize(prediction, self.use_stemmer);
        self.rouge_types
            .iter()
            .map(|&rouge_type| {
                let score = match rouge_type {
                    RougeType::N(n) => {
                        score_ngrams(&target_tokens, &prediction_tokens, usize::from(n))
                    }
                    RougeType::L => score_lcs(&target_tokens, &prediction_tokens),
                    RougeType::LSum => {
                        summary_level_lcs(&self.sentences(target), &self.sentences(prediction))
                    }
                };
                (rouge_type.to_string(), score)
            })
            .collect()
    }

    /// Scores `prediction` against each target and, for each type independently,
    /// reports the scores of the target with the highest F-measure (the first one on
    /// ties), like rouge-score's `score_multi`.
    pub fn score_multi<S: AsRef<str>>(
        &self,
        targets: &[S],
        prediction: &str,
    ) -> Result<BTreeMap<String, RougeScore>, RougeError> {
        let per_target: Vec<_> = targets
            .iter()
            .map(|target| self.score(target.as_ref(), prediction))
            .collect();
        let (first, rest) = per_target.split_first().ok_or(RougeError::NoTargets)?;
        let mut best = first.clone();
        for scores in rest {
            for (name, score) in scores {
                let current = best.get_mut(name).expect("every target has every type");
                if score.fmeasure > current.fmeasure {
                    *current = *score;
                }
            }
        }
        Ok(best)
    }

    /// Tokenized `\n`-separated sentences; empty lines are dropped, lines without
    /// tokens are kept.
    fn sentences(&self, text: &str) -> Vec<Vec<String>> {
        text.split('\n')
            .filter(|line| !line.is_empty())
            .map(|line| tokenize(line, self.use_stemmer))
            .collect()
    }
}

fn score_ngrams(target: &[String], prediction: &[String], n: usize) -> RougeScore {
    let target_ngrams = count_ngrams(target, n);
    let prediction_ngrams = count_ngrams(prediction, n);
    let overlap: usize = target_ngrams
        .iter()
        .map(|(ngram, &count)| count.min(prediction_ngrams.get(ngram).copied().unwrap_or(0)))
        .sum();
    let target_total: usize = target_ngrams.values().sum();
    let prediction_total: usize = prediction_ngrams.values().sum();
    RougeScore::new(
        overlap as f64 / prediction_total.max(1) as f64,
        overlap as f64 / target_total.max(1) as f64,
    )
}

fn count_ngrams(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut counts = HashMap::new();
    for ngram in tokens.windows(n) {
        *counts.entry(ngram).or_insert(0) += 1;
    }
    counts
}

fn score_lcs(target: &[String], prediction: &[String]) -> RougeScore {
    if target.is_empty() || prediction.is_empty() {
        return RougeScore::default();
    }
    let lcs = lcs_table(target, prediction)[target.len()][prediction.len()];
    RougeScore::new(
        lcs as f64 / prediction.len() as f64,
        lcs as f64 / target.len() as f64,
    )
}

/// `table[i][j]` is the LCS length of `r[..i]` and `c[..j]`.
fn lcs_table(r: &[String], c: &[String]) -> Vec<Vec<u32>> {
    let mut table = vec![vec![0u32; c.len() + 1]; r.len() + 1];
    for i in 1..=r.len() {
        for j in 1..=c.len() {
            table[i][j] = if r[i - 1] == c[j - 1] {
                table[i - 1][j - 1] + 1
            } else {
                table[i - 1][j].max(table[i][j - 1])
            };
        }
    }
    table
}

/// The indices into `r` of rouge-score's LCS of `r` and `c`. Which of several longest
/// subsequences is picked matters for ROUGE-Lsum, so the walk is rouge-score's:
/// diagonal on a match, left only when strictly better than up.
fn lcs_indices(r: &[String], c: &[String]) -> Vec<usize> {
    let table = lcs_table(r, c);
    let (mut i, mut j) = (r.len(), c.len());
    let mut indices = Vec::new();
    while i > 0 && j > 0 {
        if r[i - 1] == c[j - 1] {
            indices.push(i - 1);
            i -= 1;
            j -= 1;
        } else if table[i][j - 1] > table[i - 1][j] {
            j -= 1;
        } else {
            i -= 1;
        }
    }
    indices.reverse();
    indices
}

/// ROUGE-Lsum: union LCS per target sentence, with token budgets so no token is
/// counted more often than it occurs in either text (as ROUGE-1.5.5 does).
fn summary_level_lcs(target: &[Vec<String>], prediction: &[Vec<String>]) -> RougeScore {
    let m: usize = target.iter().map(Vec::len).sum();
    let n: usize = prediction.iter().map(Vec::len).sum();
    if m == 0 || n == 0 {
        return RougeScore::default();
    }
    let mut budget_target: HashMap<&str, usize> = HashMap::new();
    for token in target.iter().flatten() {
        *budget_target.entry(token).or_insert(0) += 1;
    }
    let mut budget_prediction: HashMap<&str, usize> = HashMap::new();
    for token in prediction.iter().flatten() {
        *budget_prediction.entry(token).or_insert(0) += 1;
    }
    let mut hits = 0usize;
    for sentence in target {
        let union: BTreeSet<usize> = prediction
            .iter()
            .flat_map(|candidate| lcs_indices(sentence, candidate))
            .collect();
        for i in union {
            let token = sentence[i].as_str();
            // Both budgets exist for every token that appears in an LCS.
            let (Some(t), Some(p)) = (
                budget_target.get_mut(token),
                budget_prediction.get_mut(token),
            ) else {
                continue;
            };
            if *t > 0 && *p > 0 {
                hits += 1;
                *t -= 1;
                *p -= 1;
            }
        }
    }
    RougeScore::new(hits as f64 / n as f64, hits as f64 / m as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn type_names_follow_rouge_score() {
        assert_eq!("rouge9".parse(), Ok(RougeType::N(9)));
        assert_eq!("rougeLsum".parse(), Ok(RougeType::LSum));
        for bad in ["rouge0", "rouge10", "rougel", "ROUGE1", "rouge"] {
            assert!(bad.parse::<RougeType>().is_err(), "{bad}");
        }
    }

    #[test]
    fn lcs_backtrack_prefers_up_on_ties() {
        // Both "a" (index 0) and "b" (index 1) are an LCS of length 1; moving up on the
        // tie reaches the match at index 0.
        assert_eq!(lcs_indices(&tokens("a b"), &tokens("b a")), vec![0]);
    }

    #[test]
    fn empty_texts_score_zero_without_error() {
        let scorer = RougeScorer::new(&["rouge1", "rouge2", "rougeL", "rougeLsum"], true).unwrap();
        for score in scorer.score("", "!!!").values() {
            assert_eq!(*score, RougeScore::default());
        }
    }

    #[test]
    fn score_multi_without_targets_is_an_error() {
        let scorer = RougeScorer::new(&["rouge1"], false).unwrap();
        assert_eq!(
            scorer.score_multi::<&str>(&[], "x"),
            Err(RougeError::NoTargets)
        );
    }

    #[test]
    fn scores_serialize_with_rouge_score_field_names() {
        let json = serde_json::to_value(RougeScore::new(0.5, 1.0)).unwrap();
        assert_eq!(json["precision"], 0.5);
        assert_eq!(json["recall"], 1.0);
        assert!(json["fmeasure"].is_f64());
    }
}
