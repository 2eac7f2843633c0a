//! chrF and chrF++ exactly as sacrebleu 2.6.0 computes them (`corpus_chrf`,
//! `sentence_chrf`).
//!
//! ```
//! use cairn_client::eval::chrf::{corpus_chrf, sentence_chrf, ChrfOptions};
//!
//! let s = sentence_chrf("The cat sat on the mat.", &["The cat sat on the mat."], &ChrfOptions::default())?;
//! assert_eq!(s.score, 100.0);
//!
//! let chrf_pp = ChrfOptions { word_order: 2, ..ChrfOptions::default() };
//! let c = corpus_chrf(&["a cat", "a dog"], &[vec!["the cat", "a dog"]], &chrf_pp)?;
//! assert!(c.score > 0.0 && c.score < 100.0);
//! # Ok::<(), cairn_client::eval::input::InputError>(())
//! ```

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

use super::input::{references_by_segment, InputError, Reference};
use super::tokenize_13a::{is_python_whitespace, split_python_whitespace};

/// chrF settings, named after the arguments of sacrebleu's `CHRF` class.
///
/// [`Default`] is sacrebleu's default chrF: character 6-grams, no word n-grams,
/// beta 2, whitespace ignored, case-sensitive, effective-order averaging. chrF++ is
/// `word_order: 2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChrfOptions {
    /// Highest character n-gram order (`char_order`, default 6).
    pub char_order: usize,
    /// Highest word n-gram order (`word_order`, default 0; 2 gives chrF++).
    pub word_order: usize,
    /// Weight of recall relative to precision (`beta`, default 2).
    pub beta: u32,
    /// Lowercase hypotheses and references first (Python `str.lower()`, see
    /// [`BleuOptions::lowercase`](super::bleu::BleuOptions::lowercase)).
    pub lowercase: bool,
    /// Keep whitespace inside character n-grams (`CHRF(whitespace=...)`, default
    /// false). `corpus_chrf(remove_whitespace=r)` is `whitespace: !r`.
    pub whitespace: bool,
    /// Use the smoothed mean of per-order F-scores (`eps_smoothing=True`) instead of
    /// the default F-score of precision and recall averaged over effective orders.
    pub eps_smoothing: bool,
}

impl Default for ChrfOptions {
    fn default() -> Self {
        ChrfOptions {
            char_order: 6,
            word_order: 0,
            beta: 2,
            lowercase: false,
            whitespace: false,
            eps_smoothing: false,
        }
    }
}

/// A chrF result; the fields and their JSON names are sacrebleu's `CHRFScore`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChrfScore {
    /// chrF on the 0–100 scale, unrounded.
    pub score: f64,
    /// Character n-gram order used.
    pub char_order: usize,
    /// Word n-gram order used (0 for chrF, 2 for chrF++).
    pub word_order: usize,
    /// Recall weight used.
    pub beta: u32,
}

/// chrF of a corpus (sacrebleu `corpus_chrf`).
///
/// `references` is a list of reference streams, laid out as for
/// [`corpus_bleu`](super::bleu::corpus_bleu). For each segment the statistics of the
/// first reference with the best sentence-level chrF are kept; the statistics are
/// summed over segments and the score is computed once from the sums (not a mean of
/// sentence scores).
///
/// # Errors
///
/// [`InputError`] when there are no hypotheses, a stream's length differs from the
/// number of hypotheses, or a segment has no reference in any stream.
pub fn corpus_chrf<R: Reference>(
    hypotheses: &[&str],
    references: &[Vec<R>],
    opts: &ChrfOptions,
) -> Result<ChrfScore, InputError> {
    let refs = references_by_segment(hypotheses.len(), references)?;
    let mut sums = vec![0u64; 3 * (opts.char_order + opts.word_order)];
    for (hypothesis, segment_refs) in hypotheses.iter().zip(&refs) {
        for (sum, value) in sums
            .iter_mut()
            .zip(segment_stats(hypothesis, segment_refs, opts))
        {
            *sum += value;
        }
    }
    Ok(ChrfScore {
        score: f_score(&sums, opts),
        char_order: opts.char_order,
        word_order: opts.word_order,
        beta: opts.beta,
    })
}

/// Per-segment chrF statistics of a corpus (n-gram match counts); summed element-wise
/// and passed to [`chrf_from_statistics`] they give [`corpus_chrf`]'s score.
///
/// # Errors
///
/// As [`corpus_chrf`].
pub fn chrf_statistics<R: Reference>(
    hypotheses: &[&str],
    references: &[Vec<R>],
    opts: &ChrfOptions,
) -> Result<Vec<Vec<u64>>, InputError> {
    let refs = references_by_segment(hypotheses.len(), references)?;
    Ok(hypotheses
        .iter()
        .zip(&refs)
        .map(|(h, r)| segment_stats(h, r, opts))
        .collect())
}

/// The chrF score of summed statistics from [`chrf_statistics`].
pub fn chrf_from_statistics(stats: &[u64], opts: &ChrfOptions) -> f64 {
    f_score(stats, opts)
}

/// chrF of one hypothesis against its references (sacrebleu `sentence_chrf`): the
/// same computation as [`corpus_chrf`] with one segment.
///
/// # Errors
///
/// [`InputError::NoReference`] when `references` is empty.
pub fn sentence_chrf(
    hypothesis: &str,
    references: &[&str],
    opts: &ChrfOptions,
) -> Result<ChrfScore, InputError> {
    let streams: Vec<Vec<&str>> = references.iter().map(|r| vec![*r]).collect();
    corpus_chrf(&[hypothesis], &streams, opts)
}

/// A multiset of n-grams, each a slice of the text's characters or words.
type Counts<'t, T> = HashMap<&'t [T], u64>;

/// The characters and words of one (lowercased) text, from which n-grams are cut.
struct Units<'a> {
    chars: Vec<char>,
    words: Vec<&'a str>,
}

impl<'a> Units<'a> {
    fn new(text: &'a str, opts: &ChrfOptions) -> Self {
        let chars = if opts.whitespace {
            text.chars().collect()
        } else {
            text.chars().filter(|&c| !is_python_whitespace(c)).collect()
        };
        let words = if opts.word_order > 0 {
            split_punctuation(text)
        } else {
            Vec::new()
        };
        Units { chars, words }
    }

    /// n-gram multisets, character orders 1..=char_order then word orders.
    fn ngrams(&self, opts: &ChrfOptions) -> (Vec<Counts<'_, char>>, Vec<Counts<'_, &'a str>>) {
        let chars = (1..=opts.char_order)
            .map(|n| count_ngrams(&self.chars, n))
            .collect();
        let words = (1..=opts.word_order)
            .map(|n| count_ngrams(&self.words, n))
            .collect();
        (chars, words)
    }
}

/// Words for chrF++: Python `split()`, then one ASCII punctuation character is split
/// off the end, or else off the start, of every word longer than one character
/// (`(hi)` → `(hi`, `)`).
fn split_punctuation(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for word in split_python_whitespace(text) {
        let mut chars = word.chars();
        let first = chars.next();
        let last = chars.next_back();
        match (first, last) {
            (_, Some(last)) if last.is_ascii_punctuation() => {
                let cut = word.len() - last.len_utf8();
                words.extend([&word[..cut], &word[cut..]]);
            }
            (Some(first), Some(_)) if first.is_ascii_punctuation() => {
                let cut = first.len_utf8();
                words.extend([&word[..cut], &word[cut..]]);
            }
            _ => words.push(word),
        }
    }
    words
}

fn count_ngrams<T: Eq + Hash>(items: &[T], n: usize) -> Counts<'_, T> {
    let mut counts = HashMap::new();
    if n > 0 {
        for gram in items.windows(n) {
            *counts.entry(gram).or_insert(0) += 1;
        }
    }
    counts
}

/// `[hyp, ref, match]` for one order; `hyp` is 0 when the reference has no n-grams
/// of this order.
fn match_stats<K: Eq + Hash>(hyp: &HashMap<K, u64>, reference: &HashMap<K, u64>) -> [u64; 3] {
    let hyp_count: u64 = hyp.values().sum();
    let ref_count: u64 = reference.values().sum();
    let matches = hyp
        .iter()
        .filter_map(|(gram, &count)| reference.get(gram).map(|&r| count.min(r)))
        .sum();
    [
        if ref_count > 0 { hyp_count } else { 0 },
        ref_count,
        matches,
    ]
}

fn preprocess(text: &str, opts: &ChrfOptions) -> String {
    if opts.lowercase {
        text.to_lowercase()
    } else {
        text.to_owned()
    }
}

/// Statistics of the first reference with the strictly best sentence-level chrF.
fn segment_stats(hypothesis: &str, references: &[&str], opts: &ChrfOptions) -> Vec<u64> {
    let hyp_text = preprocess(hypothesis, opts);
    let hyp_units = Units::new(&hyp_text, opts);
    let (hyp_chars, hyp_words) = hyp_units.ngrams(opts);

    let mut best_stats = vec![0u64; 3 * (opts.char_order + opts.word_order)];
    let mut best_f = -1.0;
    for reference in references {
        let ref_text = preprocess(reference, opts);
        let ref_units = Units::new(&ref_text, opts);
        let (ref_chars, ref_words) = ref_units.ngrams(opts);
        let stats: Vec<u64> = hyp_chars
            .iter()
            .zip(&ref_chars)
            .map(|(h, r)| match_stats(h, r))
            .chain(
                hyp_words
                    .iter()
                    .zip(&ref_words)
                    .map(|(h, r)| match_stats(h, r)),
            )
            .flatten()
            .collect();
        let f = f_score(&stats, opts);
        if f > best_f {
            best_f = f;
            best_stats = stats;
        }
    }
    best_stats
}

/// sacrebleu's `_compute_f_score`, operation for operation.
fn f_score(stats: &[u64], opts: &ChrfOptions) -> f64 {
    const EPS: f64 = 1e-16;
    let factor = f64::from(opts.beta * opts.beta);
    let order_count = opts.char_order + opts.word_order;
    let mut smoothed_sum = 0.0;
    let mut effective_order = 0usize;
    let mut avg_prec = 0.0;
    let mut avg_rec = 0.0;
    for triple in stats.chunks_exact(3) {
        let (n_hyp, n_ref, n_match) = (triple[0], triple[1], triple[2]);
        let prec = if n_hyp > 0 {
            n_match as f64 / n_hyp as f64
        } else {
            EPS
        };
        let rec = if n_ref > 0 {
            n_match as f64 / n_ref as f64
        } else {
            EPS
        };
        let denom = factor * prec + rec;
        smoothed_sum += if denom > 0.0 {
            (1.0 + factor) * prec * rec / denom
        } else {
            EPS
        };
        if n_hyp > 0 && n_ref > 0 {
            avg_prec += prec;
            avg_rec += rec;
            effective_order += 1;
        }
    }

    if opts.eps_smoothing {
        return 100.0 * smoothed_sum / order_count as f64;
    }
    if effective_order == 0 {
        return 0.0;
    }
    avg_prec /= effective_order as f64;
    avg_rec /= effective_order as f64;
    if avg_prec + avg_rec == 0.0 {
        return 0.0;
    }
    let score = (1.0 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec);
    100.0 * score
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chrf_plus_plus_splits_one_punctuation_character_off_a_word() {
        assert_eq!(
            split_punctuation("(hi) \"x ab. ! é,"),
            ["(hi", ")", "\"", "x", "ab", ".", "!", "é", ","]
        );
    }

    #[test]
    fn orders_the_reference_lacks_report_no_hypothesis_ngrams() {
        let stats = segment_stats("abcdefgh", &["abc"], &ChrfOptions::default());
        assert_eq!(&stats[9..], [0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&stats[..3], [8, 3, 3]);
    }

    #[test]
    fn the_statistics_of_the_best_reference_are_kept() {
        let opts = ChrfOptions {
            char_order: 1,
            ..ChrfOptions::default()
        };
        let stats = segment_stats("ab", &["xyz", "ab", "abc"], &opts);
        assert_eq!(stats, [2, 2, 2]);
    }

    #[test]
    fn summed_segment_statistics_score_as_the_corpus_does() {
        let hyps = ["the cat sat on the mat", "a dog barks loudly here"];
        let refs = vec![vec!["the cat sat on a mat", "the dog barks loudly"]];
        let opts = ChrfOptions::default();
        let stats = chrf_statistics(&hyps, &refs, &opts).unwrap();
        let sum: Vec<u64> = (0..stats[0].len())
            .map(|i| stats.iter().map(|s| s[i]).sum())
            .collect();
        assert_eq!(
            chrf_from_statistics(&sum, &opts),
            corpus_chrf(&hyps, &refs, &opts).unwrap().score
        );
    }
}
