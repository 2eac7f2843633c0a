//! Per-example eval tables in MLflow's `log_table` JSON layout, and their aggregates.
//!
//! MLflow stores a table artifact as pandas `to_json(orient="split", index=False)`:
//! one compact line `{"columns":[...],"data":[[...],...]}`. [`EvalTable`] writes and
//! reads that layout; [`EvalTable::from_rows`] builds one from [`EvalRow`] records and
//! [`aggregates`] summarises latency, cost and scores.
//!
//! ```
//! use std::collections::BTreeMap;
//! use cairn_client::eval::table::{aggregates, EvalRow, EvalTable};
//!
//! let row = EvalRow {
//!     input: "2+2?".into(),
//!     output: "4".into(),
//!     reference: "4".into(),
//!     scores: BTreeMap::from([("exact".to_string(), 1.0)]),
//!     latency_ms: Some(120.0),
//!     ..EvalRow::default()
//! };
//! let table = EvalTable::from_rows(&[row]);
//! let json = table.to_mlflow_json();
//! assert_eq!(EvalTable::from_mlflow_json(&json)?, table);
//! assert_eq!(aggregates(&table).mean_scores["exact"], 1.0);
//! # Ok::<(), cairn_client::eval::table::TableError>(())
//! ```

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// Columns [`EvalTable::from_rows`] writes besides the score columns, and which
/// [`aggregates`] therefore never treats as scores (`id` is the optional example key).
pub const NON_SCORE_COLUMNS: [&str; 8] = [
    "id",
    "input",
    "output",
    "reference",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
];

/// Why a table could not be read or extended.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The text is not JSON.
    #[error("table is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is not the `{"columns": [...], "data": [[...]]}` layout.
    #[error("table layout: {0}")]
    Layout(String),
    /// [`EvalTable::append`] was given a table with different columns.
    #[error("cannot append a table with columns {other:?} to one with columns {ours:?}")]
    ColumnsDiffer {
        /// Columns of the table being appended to.
        ours: Vec<String>,
        /// Columns of the table being appended.
        other: Vec<String>,
    },
}

/// A table of examples: named columns and rows of JSON values in column order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvalTable {
    /// Column names in order.
    pub columns: Vec<String>,
    /// Rows; each has one value per column.
    pub rows: Vec<Vec<Value>>,
}

/// One evaluated example, the input of [`EvalTable::from_rows`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvalRow {
    /// The prompt or question.
    pub input: String,
    /// What the model answered.
    pub output: String,
    /// The expected answer.
    pub reference: String,
    /// Metric name to score, e.g. `bleu`, `rougeL`.
    pub scores: BTreeMap<String, f64>,
    /// Wall-clock time of the call in milliseconds.
    pub latency_ms: Option<f64>,
    /// Prompt tokens billed.
    pub prompt_tokens: Option<u64>,
    /// Completion tokens billed.
    pub completion_tokens: Option<u64>,
    /// Cost of the call in USD, `None` when unknown.
    pub cost_usd: Option<f64>,
}

#[derive(Serialize)]
struct SplitLayout<'a> {
    columns: &'a [String],
    data: &'a [Vec<Value>],
}

/// A JSON number for `x`, or `null` when `x` is NaN or infinite (as pandas writes).
fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// Escape every non-ASCII character as `\uXXXX` (surrogate pairs above U+FFFF), as
/// pandas does. Non-ASCII can only occur inside JSON strings, so this is safe on the
/// whole document.
fn escape_non_ascii(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

impl EvalTable {
    /// The table as MLflow writes it: pandas `to_json(orient="split", index=False)`,
    /// one compact line `{"columns":[...],"data":[[...],...]}`, non-ASCII escaped as
    /// `\uXXXX`. Floats keep full precision (pandas rounds to 10 decimals; readers
    /// accept both).
    pub fn to_mlflow_json(&self) -> String {
        let layout = SplitLayout {
            columns: &self.columns,
            data: &self.rows,
        };
        // Serializing strings and `Value`s cannot fail.
        let json = serde_json::to_string(&layout).unwrap_or_default();
        escape_non_ascii(&json)
    }

    /// Read the split layout written by [`to_mlflow_json`](Self::to_mlflow_json) or by
    /// MLflow. An `"index"` key (older MLflow writes one) is accepted and ignored;
    /// any other extra key is rejected. Every row must have one value per column.
    pub fn from_mlflow_json(text: &str) -> Result<EvalTable, TableError> {
        let value: Value = serde_json::from_str(text)?;
        let Value::Object(mut object) = value else {
            return Err(TableError::Layout("expected a JSON object".into()));
        };
        let columns = match object.remove("columns") {
            Some(Value::Array(names)) => names
                .into_iter()
                .map(|name| match name {
                    Value::String(name) => Ok(name),
                    other => Err(TableError::Layout(format!(
                        "column names must be strings, got {other}"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(TableError::Layout("missing \"columns\" array".into())),
        };
        let rows = match object.remove("data") {
            Some(Value::Array(rows)) => rows,
            _ => return Err(TableError::Layout("missing \"data\" array".into())),
        };
        let rows = rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| match row {
                Value::Array(values) if values.len() == columns.len() => Ok(values),
                Value::Array(values) => Err(TableError::Layout(format!(
                    "row {i} has {} values for {} columns",
                    values.len(),
                    columns.len()
                ))),
                _ => Err(TableError::Layout(format!("row {i} is not an array"))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        object.remove("index");
        if let Some(key) = object.keys().next() {
            return Err(TableError::Layout(format!("unexpected key {key:?}")));
        }
        Ok(EvalTable { columns, rows })
    }

    /// Position of the column called `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Add `other`'s rows after ours, as MLflow does when the same table file is
    /// logged again. The columns must be the same names in the same order; an empty
    /// table without columns adopts `other`'s columns.
    pub fn append(&mut self, other: EvalTable) -> Result<(), TableError> {
        if self.columns.is_empty() && self.rows.is_empty() {
            *self = other;
            return Ok(());
        }
        if self.columns != other.columns {
            return Err(TableError::ColumnsDiffer {
                ours: self.columns.clone(),
                other: other.columns,
            });
        }
        self.rows.extend(other.rows);
        Ok(())
    }

    /// Build a table with columns `input, output, reference, <scores...>, latency_ms,
    /// prompt_tokens, completion_tokens, cost_usd`. The score columns are the union
    /// of all rows' score names in sorted order; a missing score, a `None` field and a
    /// NaN are written as `null`.
    pub fn from_rows(rows: &[EvalRow]) -> EvalTable {
        let score_names: Vec<String> = rows
            .iter()
            .flat_map(|row| row.scores.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .cloned()
            .collect();
        let mut columns: Vec<String> = ["input", "output", "reference"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        columns.extend(score_names.iter().cloned());
        columns.extend(
            [
                "latency_ms",
                "prompt_tokens",
                "completion_tokens",
                "cost_usd",
            ]
            .iter()
            .map(|c| c.to_string()),
        );
        let rows = rows
            .iter()
            .map(|row| {
                let mut values = vec![
                    Value::String(row.input.clone()),
                    Value::String(row.output.clone()),
                    Value::String(row.reference.clone()),
                ];
                values.extend(
                    score_names
                        .iter()
                        .map(|name| row.scores.get(name).map_or(Value::Null, |&s| number(s))),
                );
                values.push(row.latency_ms.map_or(Value::Null, number));
                values.push(row.prompt_tokens.map_or(Value::Null, Value::from));
                values.push(row.completion_tokens.map_or(Value::Null, Value::from));
                values.push(row.cost_usd.map_or(Value::Null, number));
                values
            })
            .collect();
        EvalTable { columns, rows }
    }

    /// The numbers in column `name`, skipping `null` and non-numeric cells; empty when
    /// the column does not exist.
    pub fn numbers(&self, name: &str) -> Vec<f64> {
        let Some(i) = self.column(name) else {
            return Vec::new();
        };
        self.rows
            .iter()
            .filter_map(|row| row.get(i).and_then(Value::as_f64))
            .collect()
    }
}

/// Summary of a table, from [`aggregates`].
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Aggregates {
    /// Number of rows.
    pub rows: usize,
    /// Median `latency_ms` (see [`percentile`]); `None` without latencies.
    pub latency_p50_ms: Option<f64>,
    /// 95th percentile of `latency_ms`.
    pub latency_p95_ms: Option<f64>,
    /// 99th percentile of `latency_ms`.
    pub latency_p99_ms: Option<f64>,
    /// Sum of the known `cost_usd` values (0 when none is known).
    pub total_cost_usd: f64,
    /// Rows with a known `cost_usd`.
    pub rows_with_cost: usize,
    /// Mean cost of the rows with a known cost, times 1000; `None` when no cost is known.
    pub cost_per_1k_requests_usd: Option<f64>,
    /// Mean of each score column over its non-null numeric cells. Score columns are
    /// all columns not in [`NON_SCORE_COLUMNS`] holding at least one number and
    /// nothing but numbers and `null`.
    pub mean_scores: BTreeMap<String, f64>,
}

/// The `q`-th quantile (`q` in `[0, 1]`) of `values` by linear interpolation between
/// closest ranks, numpy's default (`method="linear"`): sort the values, let
/// `h = (n - 1) * q`, and return `x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])`.
/// `None` when `values` is empty. NaNs sort last.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(percentile_of_sorted(&sorted, q))
}

/// [`percentile`] of an already sorted, non-empty slice.
pub(crate) fn percentile_of_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Latency percentiles (p50/p95/p99 of `latency_ms`, see [`percentile`]), total cost
/// and cost per 1000 requests (`cost_usd`), and the mean of every score column.
pub fn aggregates(table: &EvalTable) -> Aggregates {
    let mut latencies = table.numbers("latency_ms");
    latencies.sort_by(f64::total_cmp);
    let pct = |q| (!latencies.is_empty()).then(|| percentile_of_sorted(&latencies, q));
    let costs = table.numbers("cost_usd");
    let total_cost_usd: f64 = costs.iter().sum();
    let mut mean_scores = BTreeMap::new();
    for (i, name) in table.columns.iter().enumerate() {
        if NON_SCORE_COLUMNS.contains(&name.as_str()) {
            continue;
        }
        let cells = table.rows.iter().filter_map(|row| row.get(i));
        if cells.clone().any(|v| !(v.is_null() || v.is_number())) {
            continue;
        }
        let scores: Vec<f64> = cells.filter_map(Value::as_f64).collect();
        if !scores.is_empty() {
            mean_scores.insert(name.clone(), mean(&scores));
        }
    }
    Aggregates {
        rows: table.rows.len(),
        latency_p50_ms: pct(0.50),
        latency_p95_ms: pct(0.95),
        latency_p99_ms: pct(0.99),
        total_cost_usd,
        rows_with_cost: costs.len(),
        cost_per_1k_requests_usd: (!costs.is_empty())
            .then(|| total_cost_usd / costs.len() as f64 * 1000.0),
        mean_scores,
    }
}

/// Arithmetic mean; NaN for an empty slice.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn example_row(input: &str, bleu: f64, latency: f64, cost: Option<f64>) -> EvalRow {
        EvalRow {
            input: input.into(),
            output: "out".into(),
            reference: "ref".into(),
            scores: BTreeMap::from([("bleu".to_string(), bleu)]),
            latency_ms: Some(latency),
            prompt_tokens: Some(10),
            completion_tokens: Some(5),
            cost_usd: cost,
        }
    }

    #[test]
    fn a_table_is_written_as_one_compact_split_line() {
        let table = EvalTable {
            columns: vec!["input".into(), "score".into()],
            rows: vec![vec![json!("a"), json!(0.5)], vec![json!("b"), Value::Null]],
        };
        assert_eq!(
            table.to_mlflow_json(),
            r#"{"columns":["input","score"],"data":[["a",0.5],["b",null]]}"#
        );
    }

    #[test]
    fn non_ascii_text_is_escaped_like_pandas() {
        let table = EvalTable {
            columns: vec!["t".into()],
            rows: vec![vec![json!("100 °C 😀")]],
        };
        let json = table.to_mlflow_json();
        assert_eq!(
            json,
            r#"{"columns":["t"],"data":[["100 \u00b0C \ud83d\ude00"]]}"#
        );
        assert_eq!(EvalTable::from_mlflow_json(&json).unwrap(), table);
    }

    #[test]
    fn rows_become_columns_in_the_documented_order_with_nulls_for_gaps() {
        let mut second = example_row("q2", 1.0, 20.0, None);
        second.scores.insert("rougeL".into(), f64::NAN);
        let table = EvalTable::from_rows(&[example_row("q1", 0.5, 10.0, Some(0.1)), second]);
        assert_eq!(
            table.columns,
            [
                "input",
                "output",
                "reference",
                "bleu",
                "rougeL",
                "latency_ms",
                "prompt_tokens",
                "completion_tokens",
                "cost_usd"
            ]
        );
        assert_eq!(
            table.rows[0],
            vec![
                json!("q1"),
                json!("out"),
                json!("ref"),
                json!(0.5),
                Value::Null,
                json!(10.0),
                json!(10),
                json!(5),
                json!(0.1)
            ]
        );
        assert_eq!(table.rows[1][4], Value::Null);
        assert_eq!(table.rows[1][8], Value::Null);
    }

    #[test]
    fn the_reference_artifact_and_an_index_key_are_read() {
        let text = r#"{"columns":["input","bleu","cost_usd"],"index":[0,1],
            "data":[["Danke sch\u00f6n!",100.0,null],["x",23.6435402251,0.000123]]}"#;
        let table = EvalTable::from_mlflow_json(text).unwrap();
        assert_eq!(table.column("bleu"), Some(1));
        assert_eq!(table.column("missing"), None);
        assert_eq!(table.rows[0][0], json!("Danke schön!"));
        assert_eq!(table.numbers("cost_usd"), vec![0.000123]);
    }

    #[test]
    fn malformed_layouts_are_rejected() {
        for text in [
            "[1]",
            r#"{"data":[]}"#,
            r#"{"columns":["a"]}"#,
            r#"{"columns":["a"],"data":[[1,2]]}"#,
            r#"{"columns":[1],"data":[]}"#,
            r#"{"columns":["a"],"data":[], "extra": 1}"#,
            "not json",
        ] {
            assert!(EvalTable::from_mlflow_json(text).is_err(), "{text}");
        }
    }

    #[test]
    fn appending_needs_the_same_columns() {
        let mut table = EvalTable::from_rows(&[example_row("q1", 0.5, 10.0, None)]);
        let more = EvalTable::from_rows(&[example_row("q2", 0.7, 11.0, None)]);
        table.append(more).unwrap();
        assert_eq!(table.rows.len(), 2);
        let other = EvalTable {
            columns: vec!["input".into()],
            rows: vec![],
        };
        assert!(matches!(
            table.append(other),
            Err(TableError::ColumnsDiffer { .. })
        ));
        let mut empty = EvalTable::default();
        empty.append(table.clone()).unwrap();
        assert_eq!(empty, table);
    }

    #[test]
    fn percentiles_interpolate_linearly_like_numpy() {
        let values = [1.0, 2.0, 3.0, 4.0];
        // numpy.percentile([1, 2, 3, 4], [50, 95, 99]) == [2.5, 3.85, 3.97]
        assert_eq!(percentile(&values, 0.5), Some(2.5));
        assert!((percentile(&values, 0.95).unwrap() - 3.85).abs() < 1e-12);
        assert!((percentile(&values, 0.99).unwrap() - 3.97).abs() < 1e-12);
        assert_eq!(percentile(&[7.0], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn aggregates_cover_latency_cost_and_mean_scores() {
        let table = EvalTable::from_rows(&[
            example_row("a", 0.2, 400.0, Some(0.002)),
            example_row("b", 0.4, 100.0, Some(0.004)),
            example_row("c", 0.6, 300.0, None),
            example_row("d", 0.8, 200.0, Some(0.003)),
        ]);
        let agg = aggregates(&table);
        assert_eq!(agg.rows, 4);
        assert_eq!(agg.latency_p50_ms, Some(250.0));
        assert!((agg.latency_p95_ms.unwrap() - 385.0).abs() < 1e-9);
        assert!((agg.total_cost_usd - 0.009).abs() < 1e-15);
        assert_eq!(agg.rows_with_cost, 3);
        assert!((agg.cost_per_1k_requests_usd.unwrap() - 3.0).abs() < 1e-12);
        assert_eq!(agg.mean_scores.len(), 1);
        assert!((agg.mean_scores["bleu"] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn an_empty_table_has_no_percentiles_and_zero_cost() {
        let agg = aggregates(&EvalTable::default());
        assert_eq!(agg.latency_p50_ms, None);
        assert_eq!(agg.total_cost_usd, 0.0);
        assert_eq!(agg.cost_per_1k_requests_usd, None);
    }
}
