//! Tests of the filter grammar, split by topic; shared helpers live here.

mod dialects;
mod order_by;
mod properties;
mod runs;
mod syntax;

use super::{parse_filter, Comparison, Dialect, Entity, Expr, Op, Value};

/// Parses a filter that must be accepted and non-empty.
fn parse(dialect: Dialect, filter: &str) -> Expr {
    match parse_filter(dialect, filter) {
        Ok(Some(expr)) => expr,
        other => panic!("{filter:?} should parse, got {other:?}"),
    }
}

fn runs(filter: &str) -> Expr {
    parse(Dialect::Runs, filter)
}

/// The message of a filter that must be rejected.
fn error(dialect: Dialect, filter: &str) -> String {
    match parse_filter(dialect, filter) {
        Err(e) => e.0,
        Ok(expr) => panic!("{filter:?} should be rejected, got {expr:?}"),
    }
}

fn runs_error(filter: &str) -> String {
    error(Dialect::Runs, filter)
}

fn cmp(entity: Entity, key: &str, op: Op, value: Value) -> Expr {
    Expr::Cmp(Comparison {
        entity,
        key: key.to_string(),
        op,
        value,
    })
}

fn text(s: &str) -> Value {
    Value::Str(s.to_string())
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| s.to_string()).collect())
}

const NUMERIC: [(&str, Op); 6] = [
    ("=", Op::Eq),
    ("!=", Op::Ne),
    ("<", Op::Lt),
    ("<=", Op::Le),
    (">", Op::Gt),
    (">=", Op::Ge),
];
const STRING: [(&str, Op); 4] = [
    ("=", Op::Eq),
    ("!=", Op::Ne),
    ("LIKE", Op::Like),
    ("ILIKE", Op::ILike),
];
const LISTS: [(&str, Op); 2] = [("IN", Op::In), ("NOT IN", Op::NotIn)];
const NULLS: [(&str, Op); 2] = [("IS NULL", Op::IsNull), ("IS NOT NULL", Op::IsNotNull)];
