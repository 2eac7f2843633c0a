//! experiments/search: filters over name, id, times and tags; order_by over attributes.
//!
//! The experiments table is aliased `e`.

use super::{compile_expr, keyed_condition, string_condition, Sql};
use cairn_schema::filter::{Comparison, Entity, Expr, OrderKey, Value};
use cairn_schema::ApiError;

/// The WHERE fragment for an experiments filter.
pub fn experiment_filter(expr: &Expr) -> Sql {
    let mut sql = Sql::default();
    compile_expr(expr, &mut sql, &experiment_comparison);
    sql
}

fn experiment_comparison(c: &Comparison, sql: &mut Sql) {
    match c.entity {
        Entity::Tag => keyed_condition(
            "experiment_tags",
            "k.experiment_id = e.experiment_id",
            c,
            sql,
        ),
        _ if c.key == "experiment_id" => {
            // Ids are quoted strings on the wire and integers in the table.
            let value = match &c.value {
                Value::Str(s) => Value::Num(s.parse::<f64>().unwrap_or(-1.0)),
                Value::List(items) => Value::List(items.clone()),
                other => other.clone(),
            };
            let column = if matches!(value, Value::List(_)) {
                "CAST(e.experiment_id AS TEXT)"
            } else {
                "e.experiment_id"
            };
            string_condition(column, c.op, &value, sql);
        }
        _ => string_condition(attribute_column(&c.key), c.op, &c.value, sql),
    }
}

fn attribute_column(key: &str) -> &'static str {
    match key {
        "name" => "e.name",
        "experiment_id" => "e.experiment_id",
        "creation_time" => "e.creation_time",
        "last_update_time" => "e.last_update_time",
        _ => "NULL",
    }
}

/// The ORDER BY list; default `creation_time DESC`, tie-breaker `experiment_id ASC`.
pub fn experiment_order(keys: &[OrderKey]) -> Result<String, ApiError> {
    let mut terms = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for key in keys {
        if seen.contains(&key.key.as_str()) {
            return Err(ApiError::invalid(format!(
                "`order_by` contains duplicate fields: {}",
                cairn_schema::validate::quoted(&key.key)
            )));
        }
        seen.push(&key.key);
        let dir = if key.ascending { "ASC" } else { "DESC" };
        terms.push(format!("{} {dir}", attribute_column(&key.key)));
    }
    if keys.is_empty() {
        terms.push("e.creation_time DESC".to_owned());
    }
    if !seen.contains(&"experiment_id") {
        terms.push("e.experiment_id ASC".to_owned());
    }
    Ok(terms.join(", "))
}
