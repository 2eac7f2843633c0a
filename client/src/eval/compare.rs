//! Comparing two eval runs example by example: wins and losses, worst regressions, a
//! seeded paired bootstrap, and the Pareto front of several runs.
//!
//! Scores are assumed to be higher-is-better: a **win** is an example where run `b`
//! scores higher than run `a`, a **loss** one where it scores lower, and a
//! **regression** is a loss.
//!
//! ```
//! use cairn_client::eval::compare::{mean, paired_bootstrap};
//!
//! let a = [0.1, 0.2, 0.3, 0.4];
//! let b = [0.2, 0.3, 0.4, 0.5];
//! let boot = paired_bootstrap(&a, &b, mean, 1000, 7)?;
//! assert!((boot.delta - 0.1).abs() < 1e-12 && boot.p_value == 0.0);
//! # Ok::<(), cairn_client::eval::compare::CompareError>(())
//! ```

use std::collections::{HashMap, VecDeque};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::Value;

pub use super::table::mean;
use super::table::{percentile_of_sorted, EvalTable};

/// Resamples [`paired_bootstrap`] callers should use unless they have a reason not to.
pub const DEFAULT_RESAMPLES: usize = 1000;

/// Regressions per metric [`compare`] reports.
pub const DEFAULT_TOP_REGRESSIONS: usize = 5;

/// Scores closer than this count as a tie.
pub const TIE_TOLERANCE: f64 = 1e-12;

/// Why a bootstrap could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    /// The two score lists are not paired.
    #[error("paired scores differ in length: {a} and {b}")]
    LengthMismatch {
        /// Length of `a_scores`.
        a: usize,
        /// Length of `b_scores`.
        b: usize,
    },
    /// There is nothing to resample (no scores, or zero resamples).
    #[error("bootstrap needs at least one score pair and one resample")]
    Empty,
}

/// One example where `b` scored lower than `a`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Regression {
    /// The pairing key (the `id` or `input` cell).
    pub key: String,
    /// The `input` cell of `a`'s row, or the key when there is no `input` column.
    pub input: String,
    /// Score in `a`.
    pub a: f64,
    /// Score in `b`.
    pub b: f64,
    /// `b - a` (negative).
    pub delta: f64,
}

/// How one metric moved from `a` to `b` over the paired examples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricComparison {
    /// The metric (column) name.
    pub metric: String,
    /// Pairs where `b` is higher by more than [`TIE_TOLERANCE`].
    pub wins: usize,
    /// Pairs where `b` is lower by more than [`TIE_TOLERANCE`].
    pub losses: usize,
    /// Pairs within [`TIE_TOLERANCE`] of each other.
    pub ties: usize,
    /// Pairs where either side has no number for the metric (or the column is missing).
    pub missing: usize,
    /// The largest regressions, worst first (ties in order of `a`'s rows).
    pub regressions: Vec<Regression>,
}

/// Result of [`compare`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The column rows were paired on: `id` when both tables have it, else `input`.
    pub key_column: String,
    /// Number of paired examples.
    pub paired: usize,
    /// Keys of `a`'s rows without a partner in `b`.
    pub only_in_a: Vec<String>,
    /// Keys of `b`'s rows without a partner in `a`.
    pub only_in_b: Vec<String>,
    /// One entry per requested metric, in request order.
    pub metrics: Vec<MetricComparison>,
}

/// Result of [`paired_bootstrap`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bootstrap {
    /// Observed `statistic(b) - statistic(a)`.
    pub delta: f64,
    /// 2.5th percentile of the resampled deltas.
    pub ci_low: f64,
    /// 97.5th percentile of the resampled deltas.
    pub ci_high: f64,
    /// Two-sided p-value, see [`paired_bootstrap`].
    pub p_value: f64,
}

/// The text of a key cell: strings as they are, anything else as compact JSON.
fn key_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Keys of every row of `table` by `column`; `#<row>` for every row when the column is
/// missing (so those rows never pair).
fn keys(table: &EvalTable, column: &str, side: &str) -> Vec<String> {
    match table.column(column) {
        Some(i) => table.rows.iter().map(|row| key_text(&row[i])).collect(),
        None => (0..table.rows.len())
            .map(|r| format!("#{side}{r}"))
            .collect(),
    }
}

/// [`compare_top`] with [`DEFAULT_TOP_REGRESSIONS`] regressions per metric.
pub fn compare(a: &EvalTable, b: &EvalTable, metrics: &[&str]) -> Comparison {
    compare_top(a, b, metrics, DEFAULT_TOP_REGRESSIONS)
}

/// Pair the rows of `a` and `b` by example and count, per metric, where `b` wins,
/// loses or ties, keeping the `top` largest regressions.
///
/// Rows pair on the `id` column when both tables have one, else on `input`; a key
/// occurring several times pairs its k-th row in `a` with its k-th row in `b`. Rows
/// without a partner are listed in `only_in_a` / `only_in_b`, never paired.
pub fn compare_top(a: &EvalTable, b: &EvalTable, metrics: &[&str], top: usize) -> Comparison {
    let key_column = if a.column("id").is_some() && b.column("id").is_some() {
        "id"
    } else {
        "input"
    };
    let a_keys = keys(a, key_column, "a");
    let b_keys = keys(b, key_column, "b");
    let mut b_rows: HashMap<&str, VecDeque<usize>> = HashMap::new();
    for (r, key) in b_keys.iter().enumerate() {
        b_rows.entry(key).or_default().push_back(r);
    }
    let mut pairs = Vec::new();
    let mut only_in_a = Vec::new();
    for (ra, key) in a_keys.iter().enumerate() {
        match b_rows.get_mut(key.as_str()).and_then(VecDeque::pop_front) {
            Some(rb) => pairs.push((ra, rb)),
            None => only_in_a.push(key.clone()),
        }
    }
    let mut leftover: Vec<usize> = b_rows.into_values().flatten().collect();
    leftover.sort_unstable();
    let only_in_b = leftover.into_iter().map(|r| b_keys[r].clone()).collect();

    let a_input = a.column("input");
    let metrics = metrics
        .iter()
        .map(|&metric| {
            let (ca, cb) = (a.column(metric), b.column(metric));
            let mut m = MetricComparison {
                metric: metric.to_string(),
                wins: 0,
                losses: 0,
                ties: 0,
                missing: 0,
                regressions: Vec::new(),
            };
            for &(ra, rb) in &pairs {
                let sa = ca.and_then(|c| a.rows[ra][c].as_f64());
                let sb = cb.and_then(|c| b.rows[rb][c].as_f64());
                let (Some(sa), Some(sb)) = (sa, sb) else {
                    m.missing += 1;
                    continue;
                };
                let delta = sb - sa;
                if delta.abs() <= TIE_TOLERANCE {
                    m.ties += 1;
                } else if delta > 0.0 {
                    m.wins += 1;
                } else {
                    m.losses += 1;
                    m.regressions.push(Regression {
                        key: a_keys[ra].clone(),
                        input: a_input
                            .map_or_else(|| a_keys[ra].clone(), |c| key_text(&a.rows[ra][c])),
                        a: sa,
                        b: sb,
                        delta,
                    });
                }
            }
            // Stable sort: equal regressions stay in `a`'s row order.
            m.regressions.sort_by(|x, y| x.delta.total_cmp(&y.delta));
            m.regressions.truncate(top);
            m
        })
        .collect();
    Comparison {
        key_column: key_column.to_string(),
        paired: pairs.len(),
        only_in_a,
        only_in_b,
        metrics,
    }
}

/// Seeded paired bootstrap of `statistic(b) - statistic(a)`.
///
/// Each of `resamples` rounds draws `n` row indices uniformly with replacement (the
/// same indices for both lists, which keeps the pairing) from `StdRng::seed_from_u64(seed)`
/// and records `statistic(b*) - statistic(a*)`. Then:
///
/// - `delta` is the statistic difference on the original scores;
/// - `ci_low`/`ci_high` are the 2.5th and 97.5th percentiles of the resampled deltas
///   (percentile method, linear interpolation as numpy's default);
/// - `p_value` = min(1, 2 × k / `resamples`), where k counts resampled deltas whose
///   sign differs from the observed one: `≤ 0` when `delta > 0`, `≥ 0` when
///   `delta < 0`. When `delta == 0` the p-value is 1.
///
/// Pass [`mean`] as `statistic` for the usual mean of per-row scores and
/// [`DEFAULT_RESAMPLES`] as `resamples`. The same inputs and seed give the same result
/// on every platform this crate's `rand` version supports.
pub fn paired_bootstrap(
    a_scores: &[f64],
    b_scores: &[f64],
    statistic: fn(&[f64]) -> f64,
    resamples: usize,
    seed: u64,
) -> Result<Bootstrap, CompareError> {
    let n = a_scores.len();
    if n != b_scores.len() {
        return Err(CompareError::LengthMismatch {
            a: n,
            b: b_scores.len(),
        });
    }
    if n == 0 || resamples == 0 {
        return Err(CompareError::Empty);
    }
    paired_bootstrap_by(n, resamples, seed, |sample| match sample {
        None => statistic(b_scores) - statistic(a_scores),
        Some(idx) => {
            let a: Vec<f64> = idx.iter().map(|&i| a_scores[i]).collect();
            let b: Vec<f64> = idx.iter().map(|&i| b_scores[i]).collect();
            statistic(&b) - statistic(&a)
        }
    })
}

/// The paired bootstrap of [`paired_bootstrap`] for any statistic of `n` paired rows:
/// `delta_of(None)` is the observed B − A difference, `delta_of(Some(rows))` the
/// difference on one resample (row indices drawn with replacement). This is how a
/// corpus-level metric such as corpus BLEU is bootstrapped from per-row statistics.
///
/// # Errors
///
/// [`CompareError::Empty`] when `n` or `resamples` is 0.
pub fn paired_bootstrap_by(
    n: usize,
    resamples: usize,
    seed: u64,
    mut delta_of: impl FnMut(Option<&[usize]>) -> f64,
) -> Result<Bootstrap, CompareError> {
    if n == 0 || resamples == 0 {
        return Err(CompareError::Empty);
    }
    let delta = delta_of(None);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sample = vec![0usize; n];
    let mut deltas: Vec<f64> = (0..resamples)
        .map(|_| {
            for slot in sample.iter_mut() {
                *slot = rng.gen_range(0..n);
            }
            delta_of(Some(&sample))
        })
        .collect();
    deltas.sort_by(f64::total_cmp);
    let opposite = if delta > 0.0 {
        deltas.iter().filter(|&&d| d <= 0.0).count()
    } else if delta < 0.0 {
        deltas.iter().filter(|&&d| d >= 0.0).count()
    } else {
        resamples
    };
    Ok(Bootstrap {
        delta,
        ci_low: percentile_of_sorted(&deltas, 0.025),
        ci_high: percentile_of_sorted(&deltas, 0.975),
        p_value: (2.0 * opposite as f64 / resamples as f64).min(1.0),
    })
}

/// Names of the points on the Pareto front, in input order.
///
/// A point is dropped when another point is at least as good on every objective and
/// strictly better on one; `maximize[k]` says whether objective `k` is better higher
/// (objectives beyond `maximize`'s length are maximized). Identical points all stay.
pub fn pareto_front(points: &[(String, Vec<f64>)], maximize: &[bool]) -> Vec<String> {
    let better_or_equal = |k: usize, x: f64, y: f64| {
        if maximize.get(k).copied().unwrap_or(true) {
            x >= y
        } else {
            x <= y
        }
    };
    let dominates = |q: &[f64], p: &[f64]| {
        q.len() == p.len()
            && q.iter()
                .zip(p)
                .enumerate()
                .all(|(k, (&x, &y))| better_or_equal(k, x, y))
            && q.iter()
                .zip(p)
                .enumerate()
                .any(|(k, (&x, &y))| !better_or_equal(k, y, x))
    };
    points
        .iter()
        .filter(|(_, p)| !points.iter().any(|(_, q)| dominates(q, p)))
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(columns: &[&str], rows: Vec<Vec<Value>>) -> EvalTable {
        EvalTable {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
        }
    }

    #[test]
    fn rows_pair_on_input_and_unpartnered_rows_are_reported() {
        let a = table(
            &["input", "bleu"],
            vec![
                vec![json!("q1"), json!(0.5)],
                vec![json!("q2"), json!(0.5)],
                vec![json!("q3"), json!(0.9)],
                vec![json!("only a"), json!(0.1)],
            ],
        );
        let b = table(
            &["input", "bleu"],
            vec![
                vec![json!("q3"), json!(0.2)],
                vec![json!("only b"), json!(0.3)],
                vec![json!("q2"), json!(0.5)],
                vec![json!("q1"), json!(0.7)],
            ],
        );
        let cmp = compare(&a, &b, &["bleu", "absent"]);
        assert_eq!(cmp.key_column, "input");
        assert_eq!(cmp.paired, 3);
        assert_eq!(cmp.only_in_a, ["only a"]);
        assert_eq!(cmp.only_in_b, ["only b"]);
        let bleu = &cmp.metrics[0];
        assert_eq!(
            (bleu.wins, bleu.losses, bleu.ties, bleu.missing),
            (1, 1, 1, 0)
        );
        assert_eq!(bleu.regressions.len(), 1);
        assert_eq!(bleu.regressions[0].input, "q3");
        assert!((bleu.regressions[0].delta + 0.7).abs() < 1e-12);
        assert_eq!(cmp.metrics[1].missing, 3);
    }

    #[test]
    fn an_id_column_in_both_tables_is_the_key_and_regressions_are_worst_first() {
        let a = table(
            &["id", "input", "s"],
            vec![
                vec![json!(1), json!("same"), json!(1.0)],
                vec![json!(2), json!("same"), json!(1.0)],
                vec![json!(3), json!("other"), json!(1.0)],
            ],
        );
        let b = table(
            &["id", "input", "s"],
            vec![
                vec![json!(3), json!("other"), json!(0.0)],
                vec![json!(2), json!("same"), json!(0.5)],
                vec![json!(1), json!("same"), Value::Null],
            ],
        );
        let cmp = compare_top(&a, &b, &["s"], 1);
        assert_eq!(cmp.key_column, "id");
        assert_eq!(cmp.paired, 3);
        let s = &cmp.metrics[0];
        assert_eq!((s.losses, s.missing), (2, 1));
        assert_eq!(s.regressions.len(), 1);
        assert_eq!(s.regressions[0].key, "3");
        assert_eq!(s.regressions[0].input, "other");
    }

    #[test]
    fn differences_within_the_tolerance_are_ties() {
        let a = table(&["input", "s"], vec![vec![json!("q"), json!(0.3)]]);
        let b = table(&["input", "s"], vec![vec![json!("q"), json!(0.1 + 0.2)]]);
        let s = &compare(&a, &b, &["s"]).metrics[0];
        assert_eq!((s.wins, s.losses, s.ties), (0, 0, 1));
    }

    #[test]
    fn the_bootstrap_is_reproducible_for_a_seed() {
        let a: Vec<f64> = (0..50).map(|i| ((i * 7) % 11) as f64 / 10.0).collect();
        let b: Vec<f64> = (0..50).map(|i| ((i * 5) % 13) as f64 / 12.0).collect();
        let first = paired_bootstrap(&a, &b, mean, DEFAULT_RESAMPLES, 42).unwrap();
        let again = paired_bootstrap(&a, &b, mean, DEFAULT_RESAMPLES, 42).unwrap();
        assert_eq!(first, again);
        assert!((first.delta - (mean(&b) - mean(&a))).abs() < 1e-12);
        assert!(first.ci_low <= first.delta && first.delta <= first.ci_high);
        assert!((0.0..=1.0).contains(&first.p_value));
    }

    #[test]
    fn a_clear_improvement_has_a_small_p_value_and_no_change_has_p_one() {
        let a: Vec<f64> = (0..40).map(|i| (i % 5) as f64 / 10.0).collect();
        let b: Vec<f64> = a.iter().map(|x| x + 0.2).collect();
        let boot = paired_bootstrap(&a, &b, mean, 500, 1).unwrap();
        assert!(boot.p_value < 0.01 && boot.ci_low > 0.0);
        let same = paired_bootstrap(&a, &a, mean, 500, 1).unwrap();
        assert_eq!((same.delta, same.p_value), (0.0, 1.0));
    }

    #[test]
    fn the_bootstrap_rejects_unpaired_or_empty_input() {
        assert_eq!(
            paired_bootstrap(&[1.0], &[1.0, 2.0], mean, 10, 0),
            Err(CompareError::LengthMismatch { a: 1, b: 2 })
        );
        assert_eq!(
            paired_bootstrap(&[], &[], mean, 10, 0),
            Err(CompareError::Empty)
        );
    }

    #[test]
    fn the_pareto_front_keeps_only_undominated_points() {
        let points = vec![
            ("cheap".to_string(), vec![0.6, 1.0]),
            ("good".to_string(), vec![0.9, 5.0]),
            ("worse".to_string(), vec![0.5, 2.0]),
            ("equal_cost_better".to_string(), vec![0.7, 1.0]),
            ("twin".to_string(), vec![0.9, 5.0]),
        ];
        // Maximize quality, minimize cost.
        assert_eq!(
            pareto_front(&points, &[true, false]),
            ["good", "equal_cost_better", "twin"]
        );
    }
}
