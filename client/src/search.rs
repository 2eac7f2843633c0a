//! Typed builders for the server's filter and order-by language, so that keys and values
//! are quoted right: `Filter::metric("bleu").gt(30.0).and(Filter::param("model").eq("x"))`.

use std::fmt;

/// A search filter: one comparison, or several joined with `AND` (MLflow's grammar) or
/// `OR` (Cairn's extended search only). Display it to get the text the server takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter(String);

/// The left-hand side of a comparison: an entity and a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field(String);

/// Quotes a string literal with a quote character it does not contain, escaping only
/// when it contains both.
fn literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// `prefix.key`, with the key backticked unless it is a plain word.
fn keyed(prefix: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_alphanumeric() || c == '_');
    if plain {
        format!("{prefix}.{key}")
    } else {
        format!(
            "{prefix}.`{}`",
            key.replace('\\', "\\\\").replace('`', "\\`")
        )
    }
}

/// A number as the server's grammar writes it.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:?}")
    }
}

impl Filter {
    /// A metric's latest value.
    pub fn metric(key: &str) -> Field {
        Field(keyed("metrics", key))
    }
    /// A param.
    pub fn param(key: &str) -> Field {
        Field(keyed("params", key))
    }
    /// A tag.
    pub fn tag(key: &str) -> Field {
        Field(keyed("tags", key))
    }
    /// A run attribute: `status`, `run_name`, `start_time`, `end_time`, `run_id`, …
    pub fn attribute(name: &str) -> Field {
        Field(keyed("attributes", name))
    }
    /// A filter written by hand, passed through as it is.
    pub fn raw(text: &str) -> Filter {
        Filter(text.to_owned())
    }
    /// Both this and `other`.
    pub fn and(self, other: Filter) -> Filter {
        Filter(format!("{} AND {}", self.0, other.0))
    }
    /// Either this or `other` (Cairn's extended search; MLflow's grammar has no `OR`).
    pub fn or(self, other: Filter) -> Filter {
        Filter(format!("({}) OR ({})", self.0, other.0))
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Filter> for String {
    fn from(f: Filter) -> String {
        f.0
    }
}

impl Field {
    fn num(self, op: &str, v: f64) -> Filter {
        Filter(format!("{} {op} {}", self.0, number(v)))
    }
    fn text(self, op: &str, v: &str) -> Filter {
        Filter(format!("{} {op} {}", self.0, literal(v)))
    }
    /// `> v`.
    pub fn gt(self, v: f64) -> Filter {
        self.num(">", v)
    }
    /// `>= v`.
    pub fn ge(self, v: f64) -> Filter {
        self.num(">=", v)
    }
    /// `< v`.
    pub fn lt(self, v: f64) -> Filter {
        self.num("<", v)
    }
    /// `<= v`.
    pub fn le(self, v: f64) -> Filter {
        self.num("<=", v)
    }
    /// `= v` for a number (metrics, times).
    pub fn eq_num(self, v: f64) -> Filter {
        self.num("=", v)
    }
    /// `= 'v'`.
    pub fn eq(self, v: &str) -> Filter {
        self.text("=", v)
    }
    /// `!= 'v'`.
    pub fn ne(self, v: &str) -> Filter {
        self.text("!=", v)
    }
    /// `LIKE 'pattern'` (`%` and `_` wildcards, case-sensitive).
    pub fn like(self, pattern: &str) -> Filter {
        self.text("LIKE", pattern)
    }
    /// `ILIKE 'pattern'` (case-insensitive).
    pub fn ilike(self, pattern: &str) -> Filter {
        self.text("ILIKE", pattern)
    }
    /// `IN ('a', 'b', …)`.
    pub fn is_in<S: AsRef<str>>(self, values: &[S]) -> Filter {
        let list: Vec<String> = values.iter().map(|v| literal(v.as_ref())).collect();
        Filter(format!("{} IN ({})", self.0, list.join(", ")))
    }
    /// `IS NULL`: the key is absent (Cairn's extended search).
    pub fn is_null(self) -> Filter {
        Filter(format!("{} IS NULL", self.0))
    }
    /// `IS NOT NULL`: the key is present (Cairn's extended search).
    pub fn is_not_null(self) -> Filter {
        Filter(format!("{} IS NOT NULL", self.0))
    }
}

/// A sort key: `OrderBy::metric("bleu").desc()` is `metrics.bleu DESC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy(String);

impl OrderBy {
    /// By a metric's latest value, ascending.
    pub fn metric(key: &str) -> OrderBy {
        OrderBy(keyed("metrics", key))
    }
    /// By a param, ascending.
    pub fn param(key: &str) -> OrderBy {
        OrderBy(keyed("params", key))
    }
    /// By a tag, ascending.
    pub fn tag(key: &str) -> OrderBy {
        OrderBy(keyed("tags", key))
    }
    /// By an attribute (`start_time`, `run_name`, …), ascending.
    pub fn attribute(name: &str) -> OrderBy {
        OrderBy(keyed("attributes", name))
    }
    /// Ascending (the default).
    pub fn asc(self) -> OrderBy {
        OrderBy(format!("{} ASC", self.0))
    }
    /// Descending.
    pub fn desc(self) -> OrderBy {
        OrderBy(format!("{} DESC", self.0))
    }
}

impl fmt::Display for OrderBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<OrderBy> for String {
    fn from(o: OrderBy) -> String {
        o.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_render_in_mlflows_grammar() {
        let f = Filter::metric("bleu")
            .gt(30.0)
            .and(Filter::param("prompt_strategy").eq("few-shot"));
        assert_eq!(
            f.to_string(),
            "metrics.bleu > 30 AND params.prompt_strategy = 'few-shot'"
        );
        assert_eq!(
            Filter::metric("loss").le(0.25).to_string(),
            "metrics.loss <= 0.25"
        );
    }

    #[test]
    fn keys_that_are_not_plain_words_are_backticked() {
        assert_eq!(
            Filter::tag("mlflow.runName").eq("a").to_string(),
            "tags.`mlflow.runName` = 'a'"
        );
        assert_eq!(
            OrderBy::metric("eval/bleu").desc().to_string(),
            "metrics.`eval/bleu` DESC"
        );
    }

    #[test]
    fn values_with_quotes_pick_the_other_quote() {
        assert_eq!(
            Filter::param("p").eq("it's").to_string(),
            "params.p = \"it's\""
        );
        assert_eq!(
            Filter::param("p").eq("a'b\"c").to_string(),
            "params.p = 'a\\'b\"c'"
        );
    }

    #[test]
    fn or_and_in_lists_group_their_operands() {
        let f = Filter::param("m")
            .is_in(&["a", "b"])
            .or(Filter::metric("x").is_null());
        assert_eq!(
            f.to_string(),
            "(params.m IN ('a', 'b')) OR (metrics.x IS NULL)"
        );
    }
}
