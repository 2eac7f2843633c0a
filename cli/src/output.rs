//! Printing results for people (aligned tables, colour on a terminal) and for machines
//! (JSON, CSV), from one description of the rows.

use crate::args::Format;
use crate::ctx::Ctx;
use serde_json::{Map, Value};
use std::io::Write;

/// Rows of named columns. Cells are JSON values: numbers stay numbers in JSON and are
/// right-aligned in tables.
#[derive(Debug, Default)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// One value per column.
    pub rows: Vec<Vec<Value>>,
    /// Rows to highlight on a terminal (e.g. differing rows of a comparison).
    pub marked: Vec<bool>,
}

impl Table {
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Table {
        Table {
            columns: columns.into_iter().map(Into::into).collect(),
            ..Table::default()
        }
    }

    pub fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
        self.marked.push(false);
    }

    pub fn push_marked(&mut self, row: Vec<Value>, marked: bool) {
        self.rows.push(row);
        self.marked.push(marked);
    }

    /// The rows as JSON objects keyed by column.
    pub fn to_json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|r| {
                    Value::Object(
                        self.columns
                            .iter()
                            .cloned()
                            .zip(r.iter().cloned())
                            .collect::<Map<_, _>>(),
                    )
                })
                .collect(),
        )
    }
}

/// A cell as text: strings bare, null empty, objects as `k=v` pairs.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

/// A number for people: integers whole, other values to six significant digits.
fn human(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if !v.is_i64() && !v.is_u64() && x != 0.0 => {
            if x.abs() >= 1e6 || x.abs() < 1e-4 {
                format!("{x:.4e}")
            } else {
                let decimals = (5 - x.abs().log10().floor() as i32).clamp(0, 10) as usize;
                let text = format!("{x:.decimals$}");
                if text.contains('.') {
                    text.trim_end_matches('0').trim_end_matches('.').to_owned()
                } else {
                    text
                }
            }
        }
        _ => cell(v),
    }
}

/// The widest a table cell gets; JSON and CSV carry whole values.
const MAX_CELL: usize = 64;

fn clip(text: &str) -> String {
    if text.chars().count() <= MAX_CELL {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(MAX_CELL - 1).collect();
        cut.push('…');
        cut
    }
}

/// Quotes a CSV field when it needs it.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

const BOLD_YELLOW: &str = "\x1b[1;33m";
const RESET: &str = "\x1b[0m";

/// Prints a table in the context's format.
pub fn print(ctx: &Ctx, table: &Table) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match ctx.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&table.to_json())?)?,
        Format::Csv => {
            let header: Vec<String> = table.columns.iter().map(|c| csv_field(c)).collect();
            writeln!(out, "{}", header.join(","))?;
            for row in &table.rows {
                let fields: Vec<String> = row.iter().map(|v| csv_field(&cell(v))).collect();
                writeln!(out, "{}", fields.join(","))?;
            }
        }
        Format::Table => {
            let texts: Vec<Vec<String>> = table
                .rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| clip(&human(v).replace('\n', "⏎")))
                        .collect()
                })
                .collect();
            let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
            for row in &texts {
                for (w, t) in widths.iter_mut().zip(row) {
                    *w = (*w).max(t.chars().count());
                }
            }
            let numeric: Vec<bool> = (0..table.columns.len())
                .map(|i| {
                    table.rows.iter().any(|r| r[i].is_number())
                        && table
                            .rows
                            .iter()
                            .all(|r| r[i].is_number() || r[i].is_null())
                })
                .collect();
            let line = |cells: &[String]| -> String {
                let mut parts = Vec::with_capacity(cells.len());
                for (i, c) in cells.iter().enumerate() {
                    let pad = widths[i].saturating_sub(c.chars().count());
                    let last = i + 1 == cells.len();
                    parts.push(if numeric[i] {
                        format!("{}{c}", " ".repeat(pad))
                    } else if last {
                        c.clone()
                    } else {
                        format!("{c}{}", " ".repeat(pad))
                    });
                }
                parts.join("  ").trim_end().to_owned()
            };
            writeln!(out, "{}", line(&table.columns))?;
            for (row, marked) in texts.iter().zip(&table.marked) {
                let text = line(row);
                if *marked && ctx.color {
                    writeln!(out, "{BOLD_YELLOW}{text}{RESET}")?;
                } else {
                    writeln!(out, "{text}")?;
                }
            }
        }
    }
    Ok(())
}

/// Prints one object: pretty JSON, or KEY VALUE rows (CSV: `field,value`).
pub fn print_object(ctx: &Ctx, object: &Value) -> anyhow::Result<()> {
    if ctx.format == Format::Json {
        outln!("{}", serde_json::to_string_pretty(object)?)?;
        return Ok(());
    }
    let mut table = Table::new(["field", "value"]);
    if let Value::Object(m) = object {
        for (k, v) in m {
            table.push(vec![Value::String(k.clone()), Value::String(cell(v))]);
        }
    }
    print(ctx, &table)
}

/// Prints a short confirmation: the text for people, `object` for machines.
pub fn done(ctx: &Ctx, text: &str, object: Value) -> anyhow::Result<()> {
    match ctx.format {
        Format::Table => outln!("{text}")?,
        _ => print_object(ctx, &object)?,
    }
    Ok(())
}

/// Milliseconds since the epoch as an RFC 3339 UTC time; null when absent.
pub fn time(ms: Option<i64>) -> Value {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

/// A metric value as JSON: NaN and infinities as MLflow's strings.
pub fn number(v: f64) -> Value {
    serde_json::Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or_else(|| {
            Value::String(
                if v.is_nan() {
                    "NaN"
                } else if v > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                }
                .into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_show_six_significant_digits_and_whole_numbers_whole() {
        assert_eq!(human(&json!(77.88007830714052)), "77.8801");
        assert_eq!(human(&json!(0.001842)), "0.001842");
        assert_eq!(human(&json!(0.00036199999999999996)), "0.000362");
        assert_eq!(human(&json!(1234567.0)), "1.2346e6");
        assert_eq!(human(&json!(42)), "42");
        assert_eq!(human(&json!(2.5)), "2.5");
    }

    #[test]
    fn csv_fields_with_commas_quotes_or_newlines_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
