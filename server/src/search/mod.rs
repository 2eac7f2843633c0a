//! Compiles parsed search filters and order_by keys to SQL text with bound parameters only.
//!
//! Architecture invariant: no user value is ever formatted into SQL text; every value
//! becomes a `?` placeholder and a `SqlValue` in `Sql::params`, in textual order.
//! The SQL is plain enough to serve SQLite today and PostgreSQL later.

mod experiments;
#[cfg(test)]
mod fuzz;
mod logged_models;
pub mod registry;
mod runs;

pub use experiments::{experiment_filter, experiment_order};
pub use logged_models::{logged_model_filter, logged_model_order};
pub use runs::{metric_driver, run_filter, run_order};

use cairn_schema::filter::{Expr, Op, Value};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// An integer.
    Int(i64),
    /// A double.
    Real(f64),
    /// Text.
    Text(String),
}

/// SQL text and the values for its placeholders, in order.
#[derive(Debug, Clone, Default)]
pub struct Sql {
    /// The text, with `?` placeholders.
    pub text: String,
    /// One value per placeholder.
    pub params: Vec<SqlValue>,
}

impl Sql {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn bind(&mut self, value: SqlValue) {
        self.text.push('?');
        self.params.push(value);
    }

    fn bind_text(&mut self, value: &str) {
        self.bind(SqlValue::Text(value.to_owned()));
    }

    /// Appends another fragment, text and parameters.
    pub fn append(&mut self, other: Sql) {
        self.text.push_str(&other.text);
        self.params.extend(other.params);
    }
}

/// Writes `And`/`Or` nodes, delegating each comparison to `leaf`.
pub fn compile_expr(
    expr: &Expr,
    sql: &mut Sql,
    leaf: &dyn Fn(&cairn_schema::filter::Comparison, &mut Sql),
) {
    match expr {
        Expr::And(parts) | Expr::Or(parts) => {
            let joiner = if matches!(expr, Expr::And(_)) {
                " AND "
            } else {
                " OR "
            };
            balanced(parts, joiner, sql, leaf);
        }
        Expr::Cmp(c) => leaf(c, sql),
    }
}

/// Joins `parts` as a balanced tree of parentheses: SQLite parses `a AND b AND c ...`
/// into a tree as deep as the chain is long and refuses depths over 1000, while the
/// balanced form stays logarithmically shallow.
fn balanced(
    parts: &[Expr],
    joiner: &str,
    sql: &mut Sql,
    leaf: &dyn Fn(&cairn_schema::filter::Comparison, &mut Sql),
) {
    match parts {
        [] => sql.push(if joiner == " AND " { "1" } else { "0" }),
        [only] => compile_expr(only, sql, leaf),
        _ => {
            let (left, right) = parts.split_at(parts.len() / 2);
            sql.push("(");
            balanced(left, joiner, sql, leaf);
            sql.push(joiner);
            balanced(right, joiner, sql, leaf);
            sql.push(")");
        }
    }
}

/// Writes `<column> <op> <value>` for a string-valued column. LIKE is case-sensitive
/// (compiled to GLOB), ILIKE case-insensitive; `=` and `!=` compare bytes.
pub fn string_condition(column: &str, op: Op, value: &Value, sql: &mut Sql) {
    match (op, value) {
        (Op::IsNull, _) => sql.push(&format!("{column} IS NULL")),
        (Op::IsNotNull, _) => sql.push(&format!("{column} IS NOT NULL")),
        (Op::In | Op::NotIn, Value::List(items)) => {
            sql.push(column);
            sql.push(if op == Op::In { " IN (" } else { " NOT IN (" });
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind_text(item);
            }
            sql.push(")");
        }
        (Op::Like, Value::Str(s)) => {
            sql.push(&format!("{column} GLOB "));
            sql.bind_text(&like_to_glob(s));
        }
        (Op::ILike, Value::Str(s)) => {
            // SQLite's LIKE ignores ASCII case, as MLflow's ILIKE on SQLite does.
            sql.push(&format!("{column} LIKE "));
            sql.bind_text(s);
        }
        (op, Value::Str(s)) => {
            sql.push(&format!("{column} {} ", comparator(op)));
            sql.bind_text(s);
        }
        (op, Value::Num(n)) => {
            sql.push(&format!("{column} {} ", comparator(op)));
            sql.bind(number(*n));
        }
        // The parser pairs every operator with a value of the right kind; a
        // mismatch matches nothing rather than guessing.
        _ => sql.push("0"),
    }
}

/// A comparison on a key/value child table aliased `k` and joined to its parent by
/// `on` (e.g. `k.run = r.id`): the parent must hold the key (`IS NULL`: must not) with a
/// matching value. A parent without the key never matches, not even `!=`, as in MLflow.
pub fn keyed_condition(table: &str, on: &str, c: &cairn_schema::filter::Comparison, sql: &mut Sql) {
    let exists = if c.op == Op::IsNull {
        "NOT EXISTS"
    } else {
        "EXISTS"
    };
    sql.push(&format!(
        "{exists} (SELECT 1 FROM {table} k WHERE {on} AND k.key = "
    ));
    sql.bind_text(&c.key);
    if !matches!(c.op, Op::IsNull | Op::IsNotNull) {
        sql.push(" AND ");
        string_condition("k.value", c.op, &c.value, sql);
    }
    sql.push(")");
}

/// Integral numbers bind as integers so that integer columns compare exactly.
fn number(n: f64) -> SqlValue {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        SqlValue::Int(n as i64)
    } else {
        SqlValue::Real(n)
    }
}

fn comparator(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Like => "LIKE",
        Op::ILike => "LIKE",
        Op::In => "IN",
        Op::NotIn => "NOT IN",
        Op::IsNull => "IS",
        Op::IsNotNull => "IS NOT",
    }
}

/// Turns a SQL LIKE pattern (`%`, `_`) into a case-sensitive GLOB pattern, escaping
/// GLOB's own metacharacters so they match literally.
pub fn like_to_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    for c in pattern.chars() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_become_glob_wildcards_and_glob_syntax_is_literal() {
        assert_eq!(like_to_glob("a%b_c"), "a*b?c");
        assert_eq!(like_to_glob("x*y?[z"), "x[*]y[?][[]z");
    }
}
