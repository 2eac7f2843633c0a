//! runs/search: filters over latest metrics, params, tags, attributes and datasets; order_by with nulls last.
//!
//! The runs table is aliased `r`; child tables reference it by `r.id`.

use super::{compile_expr, keyed_condition, string_condition, Sql, SqlValue};
use cairn_schema::filter::{Comparison, Entity, Expr, Op, OrderKey, Value};
use cairn_schema::ApiError;

/// The WHERE fragment for a runs filter.
pub fn run_filter(expr: &Expr) -> Sql {
    let mut sql = Sql::default();
    compile_expr(expr, &mut sql, &run_comparison);
    sql
}

fn run_comparison(c: &Comparison, sql: &mut Sql) {
    match c.entity {
        Entity::Metric => metric_comparison(c, sql),
        Entity::Param => keyed_condition("params", "k.run = r.id", c, sql),
        Entity::Tag => keyed_condition("tags", "k.run = r.id", c, sql),
        Entity::Attribute => string_condition(attribute_column(&c.key), c.op, &c.value, sql),
        Entity::Dataset => dataset_comparison(c, sql),
    }
}

fn metric_comparison(c: &Comparison, sql: &mut Sql) {
    let exists = if c.op == Op::IsNull {
        "NOT EXISTS"
    } else {
        "EXISTS"
    };
    sql.push(&format!(
        "{exists} (SELECT 1 FROM latest_metrics m WHERE m.run = r.id AND m.key = "
    ));
    sql.bind_text(&c.key);
    match (c.op, &c.value) {
        (Op::IsNull | Op::IsNotNull, _) => {}
        // NaN differs from every number; every other comparison with NaN is false.
        (Op::Ne, Value::Num(n)) => {
            sql.push(" AND (m.is_nan = 1 OR m.value != ");
            sql.bind(SqlValue::Real(*n));
            sql.push(")");
        }
        (op, Value::Num(n)) => {
            sql.push(" AND m.is_nan = 0 AND ");
            string_condition("m.value", op, &Value::Num(*n), sql);
        }
        _ => sql.push(" AND 0"),
    }
    sql.push(")");
}

fn dataset_comparison(c: &Comparison, sql: &mut Sql) {
    if c.key == "context" {
        sql.push(
            "EXISTS (SELECT 1 FROM inputs i JOIN input_tags t ON t.input = i.id \
             WHERE i.run = r.id AND t.key = 'mlflow.data.context' AND ",
        );
        string_condition("t.value", c.op, &c.value, sql);
    } else {
        let column = if c.key == "digest" {
            "d.digest"
        } else {
            "d.name"
        };
        sql.push("EXISTS (SELECT 1 FROM inputs i JOIN datasets d ON d.id = i.dataset WHERE i.run = r.id AND ");
        string_condition(column, c.op, &c.value, sql);
    }
    sql.push(")");
}

/// Maps a canonical attribute name (as the parser produces it) to its column.
fn attribute_column(key: &str) -> &'static str {
    match key {
        "run_id" => "r.run_uuid",
        "run_name" => "r.name",
        "status" => "r.status",
        "user_id" => "r.user_id",
        "artifact_uri" => "r.artifact_uri",
        "start_time" => "r.start_time",
        "end_time" => "r.end_time",
        "lifecycle_stage" => "r.lifecycle_stage",
        // The parser admits no other attribute; an unknown one matches nothing.
        _ => "NULL",
    }
}

/// The condition on `latest_metrics o0` when a search of one experiment can be driven by
/// the `latest_metrics_by_experiment (experiment_id, key, is_nan, value)` index: the
/// first order key is a metric and a top-level `AND` clause compares that metric with a
/// number, so a run without it, or with NaN, cannot match. Walking the index in the
/// requested order then stops at the page's end instead of sorting every run of the
/// experiment (20,000 runs: 19 ms → 2 ms). The clause's bounds are repeated on `o0` so
/// the walk starts at the first value that can match.
pub fn metric_driver(
    experiment_ids: &[i64],
    filter: Option<&Expr>,
    order: &[OrderKey],
) -> Option<Sql> {
    let ([experiment], Some(first)) = (experiment_ids, order.first()) else {
        return None;
    };
    if first.entity != Entity::Metric {
        return None;
    }
    let mut bounds = Vec::new();
    conjuncts(filter?, &mut |c| {
        let bounding = matches!(c.op, Op::Eq | Op::Lt | Op::Le | Op::Gt | Op::Ge);
        if c.entity == Entity::Metric && c.key == first.key && bounding {
            if let Value::Num(n) = c.value {
                bounds.push((c.op, n));
            }
        }
    });
    if bounds.is_empty() {
        return None;
    }
    let mut sql = Sql::default();
    sql.push("o0.experiment_id = ");
    sql.bind(SqlValue::Int(*experiment));
    sql.push(" AND o0.key = ");
    sql.bind_text(&first.key);
    sql.push(" AND o0.is_nan = 0");
    for (op, n) in bounds {
        sql.push(" AND ");
        string_condition("o0.value", op, &Value::Num(n), &mut sql);
    }
    Some(sql)
}

/// Calls `each` with every comparison that must hold for the whole filter to hold.
fn conjuncts<'a>(expr: &'a Expr, each: &mut dyn FnMut(&'a Comparison)) {
    match expr {
        Expr::Cmp(c) => each(c),
        Expr::And(parts) => parts.iter().for_each(|p| conjuncts(p, each)),
        Expr::Or(_) => {}
    }
}

/// Most order_by keys of one runs/search. SQLite cannot run an ORDER BY of 64 or more
/// terms over joined tables (the process crashed); a key adds at most three terms.
const MAX_ORDER_KEYS: usize = 16;

/// JOINs for the order keys and the ORDER BY list, with MLflow's tie-breakers
/// (`start_time DESC` unless given, then `run_id ASC`) and nulls last in both directions.
/// `driven`: the query reads from `latest_metrics o0` (see `metric_driver`), which
/// already holds the first key's value, never NULL or NaN.
pub fn run_order(keys: &[OrderKey], driven: bool) -> Result<(Sql, String), ApiError> {
    if keys.len() > MAX_ORDER_KEYS {
        return Err(ApiError::invalid(format!(
            "`order_by` may hold at most {MAX_ORDER_KEYS} keys; got {}.",
            keys.len()
        )));
    }
    let mut joins = Sql::default();
    let mut terms: Vec<String> = Vec::new();
    let mut seen: Vec<(Entity, &str)> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if seen.contains(&(key.entity, key.key.as_str())) {
            return Err(ApiError::invalid(format!(
                "`order_by` contains duplicate fields: {}",
                cairn_schema::validate::quoted(&key.key)
            )));
        }
        seen.push((key.entity, key.key.as_str()));
        let dir = if key.ascending { "ASC" } else { "DESC" };
        match key.entity {
            Entity::Metric if driven && i == 0 => terms.push(format!("o0.value {dir}")),
            Entity::Metric => {
                joins.push(&format!(
                    " LEFT JOIN latest_metrics o{i} ON o{i}.run = r.id AND o{i}.key = "
                ));
                joins.bind_text(&key.key);
                terms.push(format!("o{i}.run IS NULL, o{i}.is_nan, o{i}.value {dir}"));
            }
            Entity::Param | Entity::Tag => {
                let table = if key.entity == Entity::Param {
                    "params"
                } else {
                    "tags"
                };
                joins.push(&format!(
                    " LEFT JOIN {table} o{i} ON o{i}.run = r.id AND o{i}.key = "
                ));
                joins.bind_text(&key.key);
                terms.push(format!("o{i}.value IS NULL, o{i}.value {dir}"));
            }
            Entity::Attribute | Entity::Dataset => {
                let column = attribute_column(&key.key);
                terms.push(format!("{column} IS NULL, {column} {dir}"));
            }
        }
    }
    if !seen
        .iter()
        .any(|(e, k)| *e == Entity::Attribute && *k == "start_time")
    {
        terms.push("r.start_time DESC".to_owned());
    }
    terms.push("r.run_uuid ASC".to_owned());
    Ok((joins, terms.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_schema::filter::{parse_filter, Dialect};

    fn compile(filter: &str) -> Sql {
        run_filter(&parse_filter(Dialect::Runs, filter).unwrap().unwrap())
    }

    #[test]
    fn user_values_become_parameters_never_text() {
        let sql = compile("params.x = 'a''; DROP TABLE runs; --' AND metrics.m > 0.5");
        assert!(!sql.text.contains("DROP"), "{}", sql.text);
        assert!(
            sql.params
                .contains(&SqlValue::Text("a'; DROP TABLE runs; --".into())),
            "{:?}",
            sql.params
        );
        assert_eq!(sql.text.matches('?').count(), sql.params.len());
    }

    #[test]
    fn or_and_parentheses_keep_their_grouping() {
        let sql = compile("(metrics.a > 1 OR metrics.b > 1) AND tags.t = 'x'");
        assert!(sql.text.starts_with("((EXISTS"), "{}", sql.text);
        assert!(sql.text.contains(" OR "), "{}", sql.text);
    }

    #[test]
    fn a_long_chain_of_clauses_compiles_to_shallow_parentheses() {
        let filter = vec!["metrics.m > 0"; 1024].join(" AND ");
        let sql = compile(&filter);
        let mut depth = 0usize;
        let mut deepest = 0;
        for c in sql.text.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            deepest = deepest.max(depth);
        }
        assert!(deepest <= 16, "nesting {deepest}");
        assert_eq!(sql.text.matches(" AND m.is_nan").count(), 1024);
    }

    #[test]
    fn duplicate_order_keys_are_a_caller_mistake() {
        let key = OrderKey {
            entity: Entity::Metric,
            key: "m".into(),
            ascending: true,
        };
        assert!(run_order(&[key.clone(), key], false).is_err());
    }

    #[test]
    fn start_time_is_not_appended_twice() {
        let key = OrderKey {
            entity: Entity::Attribute,
            key: "start_time".into(),
            ascending: true,
        };
        let (_, order) = run_order(&[key], false).unwrap();
        assert_eq!(order.matches("start_time").count(), 2, "{order}");
        assert!(order.ends_with("r.run_uuid ASC"));
    }
}
