//! The search-filter and order_by grammar: text -> AST, validated per dialect. No IO.
//!
//! The grammar is MLflow's SQL-like filter language (see the reference doc §7) with
//! three extensions: `OR`, parentheses and `IS NULL` / `IS NOT NULL` on more
//! fields. `AND` binds tighter than `OR`; keywords are case-insensitive.
//!
//! ```text
//! filter     := or_expr
//! or_expr    := and_expr ( OR and_expr )*
//! and_expr   := primary ( AND primary )*
//! primary    := "(" or_expr ")" | comparison
//! comparison := identifier comparator value | identifier IS [NOT] NULL
//! identifier := [entity "."] key        -- entity is the text before the first '.'
//! key        := bare-word | `backticked` | "double quoted"
//! value      := 'single quoted' | "double quoted" | number | "(" string ( "," string )* ")"
//! ```
//!
//! Module map: `lexer` turns text into tokens, `parser` builds the tree and
//! `dialect` decides what each search (runs, experiments, registry) accepts.

mod dialect;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

use std::fmt;

/// A parsed filter. `parse_filter` never produces an `And`/`Or` with fewer than two
/// children; a parenthesised group keeps its own node, so `(a AND b) AND c` is
/// `And([And([a, b]), c])` while `a AND b AND c` is `And([a, b, c])`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Every child must hold.
    And(Vec<Expr>),
    /// At least one child must hold.
    Or(Vec<Expr>),
    /// A single `identifier comparator value` clause.
    Cmp(Comparison),
}

/// One validated clause, e.g. `metrics.acc > 0.5`.
///
/// `key` is canonical: attribute aliases are resolved (`created` -> `start_time`,
/// `Run name` -> `run_name`, `source_path` -> `source`), quotes are removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// What kind of field the key names.
    pub entity: Entity,
    /// The metric/param/tag key, the canonical attribute name or the dataset field.
    pub key: String,
    /// The comparator.
    pub op: Op,
    /// `Num` for metrics and numeric attributes, `Str` for strings, `List` with
    /// `In`/`NotIn`, `Null` exactly with `IsNull`/`IsNotNull`.
    pub value: Value,
}

/// The kind of field a clause or order_by key refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A run's latest metric value (`metrics.` / `metric.`).
    Metric,
    /// A run parameter (`params.`, `param.`, `parameters.`, `parameter.`).
    Param,
    /// A tag of the searched object (`tags.` / `tag.`).
    Tag,
    /// A built-in column of the searched object (no prefix, or `attribute.` etc.).
    Attribute,
    /// A field (`name`, `digest`, `context`) of a run's input datasets.
    Dataset,
}

/// A comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `LIKE`: SQL wildcards `%` and `_`, case-sensitive.
    Like,
    /// `ILIKE`: as `LIKE`, case-insensitive.
    ILike,
    /// `IN ('a', 'b')`
    In,
    /// `NOT IN ('a', 'b')`
    NotIn,
    /// `IS NULL`: the field is absent.
    IsNull,
    /// `IS NOT NULL`: the field is present.
    IsNotNull,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A quoted string, quotes and escapes removed.
    Str(String),
    /// An unquoted number; always finite.
    Num(f64),
    /// A non-empty parenthesised list of quoted strings (`IN` / `NOT IN`).
    List(Vec<String>),
    /// No value: only with `IsNull` / `IsNotNull`.
    Null,
}

/// Which search a filter or order_by belongs to; each accepts different fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `runs/search`: metrics, params, tags, run attributes, datasets.
    Runs,
    /// `experiments/search`: experiment attributes and tags.
    Experiments,
    /// `registered-models/search`: `name` and tags.
    RegisteredModels,
    /// `model-versions/search`: `name`, `run_id`, `source_path`, `version_number`, tags.
    ModelVersions,
    /// `logged-models/search`: model attributes, metrics, params and tags.
    LoggedModels,
}

/// Why a filter or order_by clause was rejected; the message names the offending
/// clause or token and is meant for the user (an HTTP 400 `INVALID_PARAMETER_VALUE`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

/// Parses and validates a search filter for `dialect`.
///
/// Empty/whitespace-only filter -> `Ok(None)` (no filter).
///
/// ```
/// use cairn_schema::filter::{parse_filter, Dialect, Entity, Expr, Op, Value};
/// let expr = parse_filter(Dialect::Runs, "metrics.acc > 0.5").unwrap().unwrap();
/// let Expr::Cmp(c) = expr else { panic!() };
/// assert_eq!((c.entity, c.key.as_str(), c.op), (Entity::Metric, "acc", Op::Gt));
/// assert_eq!(c.value, Value::Num(0.5));
/// assert!(parse_filter(Dialect::Runs, "params.model = cnn").is_err());
/// ```
pub fn parse_filter(dialect: Dialect, filter: &str) -> Result<Option<Expr>, FilterError> {
    parser::parse_filter(dialect, filter)
}

/// Parses a filter in MLflow's own grammar, as MLflow's endpoints accept it: clauses
/// joined by `AND` only, no `OR` or grouping, `IN` only where MLflow allows it, and
/// `IS NULL` only on params and tags. Cairn's extended grammar ([`parse_filter`]) is
/// served beside the MLflow API, never in its place, so MLflow clients see MLflow's
/// answers (the compatibility suite expects `OR` to be refused).
pub fn parse_mlflow_filter(dialect: Dialect, filter: &str) -> Result<Option<Expr>, FilterError> {
    let expr = parser::parse_filter(dialect, filter)?;
    if let Some(e) = &expr {
        check_mlflow(e, true)?;
        check_no_grouping(filter)?;
    }
    Ok(expr)
}

/// Refuses grouping parentheses, which the tree does not always show: `(a)` parses to
/// the bare clause and `(a AND b)` to a plain `And`. In a filter that parsed, every `(`
/// not right after `IN` opens a group.
fn check_no_grouping(filter: &str) -> Result<(), FilterError> {
    let toks = lexer::tokenize(filter)?;
    let grouped = toks
        .iter()
        .enumerate()
        .any(|(i, t)| t.tok == lexer::Tok::LParen && !(i > 0 && toks[i - 1].is_keyword("IN")));
    if grouped {
        return Err(FilterError(format!(
            "Invalid clause(s) in filter string: '{filter}'. MLflow's filter grammar has no \
             parentheses; use Cairn's search endpoints for grouping"
        )));
    }
    Ok(())
}

fn check_mlflow(expr: &Expr, top: bool) -> Result<(), FilterError> {
    match expr {
        Expr::Or(_) => Err(FilterError(
            "Invalid clause(s) in filter string: 'OR'. MLflow's filter grammar joins clauses with AND only; \
             use Cairn's search endpoints for OR and parentheses"
                .into(),
        )),
        Expr::And(parts) if top => parts.iter().try_for_each(|p| check_mlflow(p, false)),
        Expr::And(_) => Err(FilterError("Invalid clause(s) in filter string: parentheses are not supported".into())),
        Expr::Cmp(c) => match (c.entity, c.op) {
            (Entity::Param | Entity::Tag, Op::In | Op::NotIn) => Err(FilterError(format!(
                "Invalid comparator '{}' for {} '{}'. Valid comparators are ['=', '!=', 'LIKE', 'ILIKE']",
                c.op,
                if c.entity == Entity::Param { "param" } else { "tag" },
                c.key
            ))),
            (Entity::Param | Entity::Tag, _) => Ok(()),
            (_, Op::IsNull | Op::IsNotNull) => Err(FilterError(format!(
                "IS NULL and IS NOT NULL are only supported for params and tags, not '{}'",
                c.key
            ))),
            _ => Ok(()),
        },
    }
}

/// One parsed order_by element.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    /// The kind of field to sort by (`Metric`, `Param`, `Tag` or `Attribute`).
    pub entity: Entity,
    /// The key; canonical for attributes (`created` -> `start_time`,
    /// `timestamp` -> `last_updated_timestamp`).
    pub key: String,
    /// `true` for `ASC` (the default), `false` for `DESC`.
    pub ascending: bool,
}

/// One order_by element such as "metrics.`acc` DESC", validated for the dialect.
///
/// The direction is `ASC` or `DESC` in any case and defaults to ascending.
///
/// ```
/// use cairn_schema::filter::{parse_order_by, Dialect, Entity};
/// let key = parse_order_by(Dialect::Runs, "metrics.`acc` desc").unwrap();
/// assert_eq!((key.entity, key.key.as_str(), key.ascending), (Entity::Metric, "acc", false));
/// ```
pub fn parse_order_by(dialect: Dialect, clause: &str) -> Result<OrderKey, FilterError> {
    parser::parse_order_by(dialect, clause)
}

impl Op {
    /// The comparator as written in a filter: `"="`, `"NOT IN"`, `"IS NULL"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Like => "LIKE",
            Op::ILike => "ILIKE",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
            Op::IsNull => "IS NULL",
            Op::IsNotNull => "IS NOT NULL",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Renders a canonical filter string: `AND`/`OR` in upper case, values in single
/// quotes, keys bare when they can be and backticked otherwise, parentheses only
/// where needed. For any `Expr` that `parse_filter(d, _)` produced, `parse_filter(d,
/// &expr.to_string())` gives back an equal `Expr`. (`And`/`Or` nodes with fewer than
/// two children, which the parser never builds, render as their only child or as
/// nothing.)
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (children, joiner) = match self {
            Expr::Cmp(c) => return c.fmt(f),
            Expr::And(children) => (children, " AND "),
            Expr::Or(children) => (children, " OR "),
        };
        for (i, child) in children.iter().enumerate() {
            if i > 0 {
                f.write_str(joiner)?;
            }
            // AND binds tighter than OR, so only these nestings need parentheses
            // (and a nested node of the same kind keeps its own parentheses so that
            // it parses back to the same tree).
            let wrap = matches!(
                (self, child),
                (Expr::And(_), Expr::And(_) | Expr::Or(_)) | (Expr::Or(_), Expr::Or(_))
            ) && children.len() > 1;
            if wrap {
                write!(f, "({child})")?;
            } else {
                write!(f, "{child}")?;
            }
        }
        Ok(())
    }
}

/// Renders the clause as `identifier comparator value`, e.g. `tags.\`my tag\` = 'x'`.
impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.entity {
            Entity::Metric => "metrics.",
            Entity::Param => "params.",
            Entity::Tag => "tags.",
            Entity::Dataset => "dataset.",
            Entity::Attribute => "",
        };
        let bare = if self.entity == Entity::Attribute {
            lexer::is_plain_word(&self.key)
        } else {
            !self.key.is_empty() && self.key.chars().all(lexer::is_key_char)
        };
        if bare {
            write!(f, "{prefix}{}", self.key)?;
        } else {
            write!(f, "{prefix}{}", quote(&self.key, '`'))?;
        }
        match self.op {
            Op::IsNull | Op::IsNotNull => write!(f, " {}", self.op),
            _ => write!(f, " {} {}", self.op, self.value),
        }
    }
}

/// Renders the value as it appears in a filter: `'it''s'`, `0.5`, `('a', 'b')`, `NULL`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => f.write_str(&quote(s, '\'')),
            Value::Num(n) => f.write_str(&format_number(*n)),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(|s| quote(s, '\'')).collect();
                write!(f, "({})", items.join(", "))
            }
            Value::Null => f.write_str("NULL"),
        }
    }
}

/// Wraps `text` in `q`, doubling `q` and escaping backslashes so the lexer reads the
/// exact text back.
fn quote(text: &str, q: char) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(q);
    for c in text.chars() {
        if c == q || c == '\\' {
            out.push(if c == q { q } else { '\\' });
        }
        out.push(c);
    }
    out.push(q);
    out
}

/// Integers print without a fraction; everything else uses Rust's shortest
/// round-trip form (`0.1`, `1e300`, `-1.5e-7`), which the lexer reads back exactly.
fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        // Exact: |n| < 2^53 and integral.
        format!("{}", n as i64)
    } else {
        format!("{n:?}")
    }
}
