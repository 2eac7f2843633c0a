//! BLEU exactly as sacrebleu 2.6.0 computes it (`corpus_bleu`, `sentence_bleu`).
//!
//! ```
//! use cairn_client::eval::bleu::{corpus_bleu, sentence_bleu, BleuOptions};
//!
//! let hyps = ["The cat sat on the mat.", "It was sunny."];
//! let refs = [vec!["The cat sat on the mat.", "It was sunny today."]];
//! let corpus = corpus_bleu(&hyps, &refs, &BleuOptions::default())?;
//! assert_eq!(corpus.sys_len, 11);
//!
//! let sentence = sentence_bleu("The cat sat.", &["The cat sat on the mat."], &BleuOptions::sentence())?;
//! assert!(sentence.score > 0.0 && sentence.bp < 1.0);
//! # Ok::<(), cairn_client::eval::input::InputError>(())
//! ```

use std::collections::HashMap;

use serde::Serialize;

use super::input::{references_by_segment, InputError, Reference};
use super::tokenize_13a::{rstrip_python_whitespace, split_python_whitespace, tokenize_13a};

/// Highest n-gram order; sacrebleu's default and the only one its CLI offers.
const MAX_ORDER: usize = 4;

/// How text is cut into tokens before counting n-grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tokenizer {
    /// sacrebleu's default `13a` (mteval-v13a), see
    /// [`tokenize_13a`].
    #[default]
    Tok13a,
    /// sacrebleu's `none`: split on whitespace only, for pre-tokenized text.
    None,
}

/// What to do about n-gram orders without matches (sacrebleu `smooth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Smoothing {
    /// `exp` (the default): the k-th order without matches gets precision
    /// `100 / (2^k × total)`.
    #[default]
    Exp,
    /// `none`: an order without matches has precision 0 and the score drops to 0
    /// (unless effective order stops before it).
    None,
    /// `floor`: an order without matches gets precision `100 × smooth_value / total`
    /// (`smooth_value` defaults to 0.1).
    Floor,
    /// `add-k`: orders 2–4 add `smooth_value` (default 1) to both matches and
    /// totals; the adjusted numbers are reported in [`BleuScore::counts`] and
    /// [`BleuScore::totals`].
    AddK,
}

impl Smoothing {
    fn default_value(self) -> f64 {
        match self {
            Smoothing::Floor => 0.1,
            Smoothing::AddK => 1.0,
            Smoothing::Exp | Smoothing::None => 0.0,
        }
    }
}

/// BLEU settings, named after sacrebleu's keyword arguments.
///
/// [`Default`] is `corpus_bleu`'s defaults: 13a, `exp` smoothing, no effective
/// order, case-sensitive. sacrebleu's `sentence_bleu` differs only in turning
/// effective order on: use [`BleuOptions::sentence`] for that.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BleuOptions {
    /// Tokenizer (`tokenize`).
    pub tokenize: Tokenizer,
    /// Smoothing method (`smooth_method`).
    pub smooth_method: Smoothing,
    /// Parameter of [`Smoothing::Floor`] and [`Smoothing::AddK`]; `None` means the
    /// method's default (0.1 and 1). Ignored by the other methods.
    pub smooth_value: Option<f64>,
    /// Average the log precisions only over the orders the hypotheses are long
    /// enough to have (`use_effective_order`), so a 2-token sentence is scored on
    /// unigrams and bigrams instead of getting 0.
    pub use_effective_order: bool,
    /// Lowercase hypotheses and references first (Python `str.lower()`, which for
    /// every input Cairn has tested equals Rust's [`str::to_lowercase`]: `İ` → `i̇`,
    /// final sigma `ς`, `ß` unchanged).
    pub lowercase: bool,
}

impl BleuOptions {
    /// sacrebleu `sentence_bleu`'s defaults: the corpus defaults plus effective order.
    pub fn sentence() -> Self {
        BleuOptions {
            use_effective_order: true,
            ..BleuOptions::default()
        }
    }
}

/// A BLEU result; the fields and their JSON names are sacrebleu's `BLEUScore`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BleuScore {
    /// BLEU on the 0–100 scale, unrounded (identical texts give
    /// 100.00000000000004, as in sacrebleu).
    pub score: f64,
    /// Matched n-grams for orders 1–4, clipped by the reference counts, summed over
    /// segments. Whole numbers unless add-k smoothing with a fractional value.
    pub counts: [f64; MAX_ORDER],
    /// Hypothesis n-grams for orders 1–4, summed over segments (add-k adjusted).
    pub totals: [f64; MAX_ORDER],
    /// Precision of each order in percent; 0.0 for orders past the first order
    /// without any hypothesis n-grams.
    pub precisions: [f64; MAX_ORDER],
    /// Brevity penalty, 0–1.
    pub bp: f64,
    /// Total hypothesis length in tokens.
    pub sys_len: u64,
    /// Total length of the reference closest in length to each hypothesis (ties go
    /// to the shorter reference).
    pub ref_len: u64,
}

/// BLEU of a corpus (sacrebleu `corpus_bleu`).
///
/// `references` is a list of reference *streams*: `references[j][i]` is reference
/// `j` of hypothesis `i`. Each stream must have one entry per hypothesis; an entry
/// may be `None` (this segment has fewer references). Statistics are summed over
/// segments before the score is computed, so this is not a mean of sentence scores.
///
/// # Errors
///
/// [`InputError`] when there are no hypotheses, a stream's length differs from the
/// number of hypotheses, or a segment has no reference in any stream.
pub fn corpus_bleu<R: Reference>(
    hypotheses: &[&str],
    references: &[Vec<R>],
    opts: &BleuOptions,
) -> Result<BleuScore, InputError> {
    let refs = references_by_segment(hypotheses.len(), references)?;
    let mut stats = BleuStats::default();
    for (hypothesis, segment_refs) in hypotheses.iter().zip(&refs) {
        stats.add(&segment_stats(hypothesis, segment_refs, opts));
    }
    Ok(stats.score(opts))
}

/// Per-segment BLEU statistics of a corpus; their sum scores as [`corpus_bleu`] does.
///
/// # Errors
///
/// As [`corpus_bleu`].
pub fn bleu_statistics<R: Reference>(
    hypotheses: &[&str],
    references: &[Vec<R>],
    opts: &BleuOptions,
) -> Result<Vec<BleuStats>, InputError> {
    let refs = references_by_segment(hypotheses.len(), references)?;
    Ok(hypotheses
        .iter()
        .zip(&refs)
        .map(|(h, r)| segment_stats(h, r, opts))
        .collect())
}

/// BLEU of one hypothesis against its references (sacrebleu `sentence_bleu`).
///
/// The same computation as [`corpus_bleu`] with one segment. Pass
/// [`BleuOptions::sentence`] for sacrebleu's sentence defaults (effective order on).
///
/// # Errors
///
/// [`InputError::NoReference`] when `references` is empty.
pub fn sentence_bleu(
    hypothesis: &str,
    references: &[&str],
    opts: &BleuOptions,
) -> Result<BleuScore, InputError> {
    let streams: Vec<Vec<&str>> = references.iter().map(|r| vec![*r]).collect();
    corpus_bleu(&[hypothesis], &streams, opts)
}

/// BLEU's sufficient statistics of one or more segments: lengths and n-gram matches.
/// They add up, so a corpus score (or a bootstrap resample of one) is the score of a sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BleuStats {
    sys_len: u64,
    ref_len: u64,
    correct: [u64; MAX_ORDER],
    total: [u64; MAX_ORDER],
}

impl BleuStats {
    /// The statistics as a flat vector (`sys_len`, `ref_len`, matches by order, totals by
    /// order), for code that sums statistics generically.
    pub fn to_vec(&self) -> Vec<u64> {
        let mut v = vec![self.sys_len, self.ref_len];
        v.extend_from_slice(&self.correct);
        v.extend_from_slice(&self.total);
        v
    }

    /// The inverse of [`BleuStats::to_vec`]; missing entries count as 0.
    pub fn from_slice(v: &[u64]) -> BleuStats {
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        BleuStats {
            sys_len: at(0),
            ref_len: at(1),
            correct: std::array::from_fn(|n| at(2 + n)),
            total: std::array::from_fn(|n| at(2 + MAX_ORDER + n)),
        }
    }

    /// Adds another segment's (or corpus's) statistics.
    pub fn add(&mut self, other: &BleuStats) {
        self.sys_len += other.sys_len;
        self.ref_len += other.ref_len;
        for n in 0..MAX_ORDER {
            self.correct[n] += other.correct[n];
            self.total[n] += other.total[n];
        }
    }

    /// sacrebleu's `compute_bleu`, operation for operation.
    pub fn score(&self, opts: &BleuOptions) -> BleuScore {
        let sys_len = self.sys_len as f64;
        let ref_len = self.ref_len as f64;
        let bp = if self.sys_len >= self.ref_len {
            1.0
        } else if self.sys_len > 0 {
            (1.0 - ref_len / sys_len).exp()
        } else {
            0.0
        };
        let mut counts = self.correct.map(|c| c as f64);
        let mut totals = self.total.map(|t| t as f64);
        let mut precisions = [0.0; MAX_ORDER];
        let mut result = BleuScore {
            score: 0.0,
            counts,
            totals,
            precisions,
            bp,
            sys_len: self.sys_len,
            ref_len: self.ref_len,
        };
        // Nothing matched at any order: 0 whatever the smoothing (sacrebleu #141).
        if self.correct.iter().all(|&c| c == 0) {
            return result;
        }

        let method = opts.smooth_method;
        let smooth_value = opts.smooth_value.unwrap_or(method.default_value());
        let mut mteval = 1.0_f64;
        let mut eff_order = MAX_ORDER;
        for n in 0..MAX_ORDER {
            if method == Smoothing::AddK && n > 0 {
                counts[n] += smooth_value;
                totals[n] += smooth_value;
            }
            if totals[n] == 0.0 {
                break;
            }
            if opts.use_effective_order {
                eff_order = n + 1;
            }
            if counts[n] == 0.0 {
                match method {
                    Smoothing::Exp => {
                        mteval *= 2.0;
                        precisions[n] = 100.0 / (mteval * totals[n]);
                    }
                    Smoothing::Floor => precisions[n] = 100.0 * smooth_value / totals[n],
                    Smoothing::None | Smoothing::AddK => {}
                }
            } else {
                precisions[n] = 100.0 * counts[n] / totals[n];
            }
        }

        let log_sum = precisions[..eff_order].iter().fold(0.0, |sum, &p| {
            sum + if p == 0.0 { -9_999_999_999.0 } else { p.ln() }
        });
        result.score = bp * (log_sum / eff_order as f64).exp();
        result.counts = counts;
        result.totals = totals;
        result.precisions = precisions;
        result
    }
}

/// Lowercase (if asked), rstrip, tokenize: sacrebleu's `_preprocess_segment`.
fn preprocess(text: &str, opts: &BleuOptions) -> String {
    let lowered;
    let text: &str = if opts.lowercase {
        lowered = text.to_lowercase();
        &lowered
    } else {
        text
    };
    let text = rstrip_python_whitespace(text);
    match opts.tokenize {
        Tokenizer::Tok13a => tokenize_13a(text),
        Tokenizer::None => text.to_owned(),
    }
}

/// Every n-gram of orders 1–4 with its count; the key's length is its order.
fn ngram_counts<'a>(tokens: &'a [&'a str]) -> HashMap<&'a [&'a str], u64> {
    let mut counts = HashMap::new();
    for n in 1..=MAX_ORDER.min(tokens.len()) {
        for gram in tokens.windows(n) {
            *counts.entry(gram).or_insert(0) += 1;
        }
    }
    counts
}

fn segment_stats(hypothesis: &str, references: &[&str], opts: &BleuOptions) -> BleuStats {
    let hyp_text = preprocess(hypothesis, opts);
    let hyp_tokens: Vec<&str> = split_python_whitespace(&hyp_text).collect();
    let ref_texts: Vec<String> = references.iter().map(|r| preprocess(r, opts)).collect();
    let ref_tokens: Vec<Vec<&str>> = ref_texts
        .iter()
        .map(|r| split_python_whitespace(r).collect())
        .collect();

    // Per n-gram, the maximum count over references (not the sum).
    let mut merged: HashMap<&[&str], u64> = HashMap::new();
    for tokens in &ref_tokens {
        for (gram, count) in ngram_counts(tokens) {
            let entry = merged.entry(gram).or_insert(0);
            *entry = (*entry).max(count);
        }
    }

    let hyp_len = hyp_tokens.len() as u64;
    let mut stats = BleuStats {
        sys_len: hyp_len,
        ref_len: closest_ref_len(hyp_len, ref_tokens.iter().map(|t| t.len() as u64)),
        ..BleuStats::default()
    };
    for (gram, count) in ngram_counts(&hyp_tokens) {
        let n = gram.len() - 1;
        stats.total[n] += count;
        if let Some(&ref_count) = merged.get(gram) {
            stats.correct[n] += count.min(ref_count);
        }
    }
    stats
}

/// The reference length closest to `hyp_len`; on a tie the shorter one.
fn closest_ref_len(hyp_len: u64, ref_lens: impl Iterator<Item = u64>) -> u64 {
    ref_lens
        .min_by_key(|&len| (len.abs_diff(hyp_len), len))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_reference_length_ties_go_to_the_shorter_reference() {
        assert_eq!(closest_ref_len(5, [7, 3, 9].into_iter()), 3);
        assert_eq!(closest_ref_len(5, [6, 4].into_iter()), 4);
    }

    #[test]
    fn identical_sentences_score_a_hair_over_100() {
        let s = sentence_bleu(
            "The cat sat on the mat.",
            &["The cat sat on the mat."],
            &BleuOptions::sentence(),
        )
        .unwrap();
        assert_eq!(s.score, 100.00000000000004);
        assert_eq!(s.counts, [7.0, 6.0, 5.0, 4.0]);
    }

    #[test]
    fn a_short_hypothesis_scores_zero_without_effective_order() {
        let s = sentence_bleu("the cat", &["the cat sat"], &BleuOptions::default()).unwrap();
        assert_eq!(s.score, 0.0);
        let s = sentence_bleu("the cat", &["the cat sat"], &BleuOptions::sentence()).unwrap();
        assert!(s.score > 0.0);
    }

    #[test]
    fn the_none_tokenizer_only_splits_on_whitespace() {
        let opts = BleuOptions {
            tokenize: Tokenizer::None,
            ..BleuOptions::sentence()
        };
        let s = sentence_bleu("a, b.", &["a , b ."], &opts).unwrap();
        assert_eq!(s.sys_len, 2);
        assert_eq!(s.counts[0], 0.0);
    }

    #[test]
    fn summed_segment_statistics_score_as_the_corpus_does() {
        let hyps = ["the cat sat on the mat", "a dog barks loudly here"];
        let refs = vec![vec!["the cat sat on a mat", "the dog barks loudly"]];
        let opts = BleuOptions::default();
        let mut sum = BleuStats::default();
        for s in bleu_statistics(&hyps, &refs, &opts).unwrap() {
            sum.add(&BleuStats::from_slice(&s.to_vec()));
        }
        assert_eq!(sum.score(&opts), corpus_bleu(&hyps, &refs, &opts).unwrap());
    }
}
