//! logged-models/search: filters over attributes, tags, params and every metric point; order_by with nulls last.
//!
//! The logged_models table is aliased `lm`; child tables reference it by `lm.model_id`.

use super::{compile_expr, keyed_condition, string_condition, Sql, SqlValue};
use crate::store::{DatasetRef, LoggedModelOrder, LoggedModelSortKey};
use cairn_schema::filter::{Comparison, Entity, Expr, Op, Value};
use cairn_schema::{ApiError, LoggedModelStatus};

/// Most order_by keys of one search; each metric key joins a window over its points.
const MAX_ORDER_KEYS: usize = 16;

/// The WHERE fragment for a filter and the request's `datasets`: metric clauses only
/// count points on those datasets, and without metric clauses the datasets alone keep
/// the models that have a point on any of them.
pub fn logged_model_filter(expr: Option<&Expr>, datasets: &[DatasetRef]) -> Sql {
    let mut sql = Sql::default();
    match expr {
        Some(expr) => {
            sql.push("(");
            compile_expr(expr, &mut sql, &|c, sql| comparison(c, datasets, sql));
            sql.push(")");
        }
        None => sql.push("1"),
    }
    if !datasets.is_empty() && !expr.is_some_and(mentions_metrics) {
        sql.push(
            " AND EXISTS (SELECT 1 FROM logged_model_metrics m WHERE m.model_id = lm.model_id AND ",
        );
        dataset_condition(datasets, &mut sql);
        sql.push(")");
    }
    sql
}

fn mentions_metrics(expr: &Expr) -> bool {
    match expr {
        Expr::And(parts) | Expr::Or(parts) => parts.iter().any(mentions_metrics),
        Expr::Cmp(c) => c.entity == Entity::Metric,
    }
}

fn comparison(c: &Comparison, datasets: &[DatasetRef], sql: &mut Sql) {
    match c.entity {
        Entity::Metric => metric_comparison(c, datasets, sql),
        Entity::Param => keyed_condition("logged_model_params", "k.model_id = lm.model_id", c, sql),
        Entity::Tag => keyed_condition("logged_model_tags", "k.model_id = lm.model_id", c, sql),
        Entity::Attribute if c.key == "status" => {
            string_condition("lm.status", c.op, &status_value(&c.value), sql)
        }
        Entity::Attribute => string_condition(attribute_column(&c.key), c.op, &c.value, sql),
        // The logged-model grammar has no dataset clauses; `datasets` does that job.
        Entity::Dataset => sql.push("0"),
    }
}

/// Statuses are stored by name; `READY`, `2` and `LOGGED_MODEL_READY` all name one.
fn status_value(value: &Value) -> Value {
    let canonical = |s: &String| {
        LoggedModelStatus::parse(s)
            .map(|st| st.as_str().to_owned())
            .unwrap_or_else(|| s.clone())
    };
    match value {
        Value::Str(s) => Value::Str(canonical(s)),
        Value::List(items) => Value::List(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// A metric clause holds when any recorded point satisfies it.
fn metric_comparison(c: &Comparison, datasets: &[DatasetRef], sql: &mut Sql) {
    let exists = if c.op == Op::IsNull {
        "NOT EXISTS"
    } else {
        "EXISTS"
    };
    sql.push(&format!(
        "{exists} (SELECT 1 FROM logged_model_metrics m WHERE m.model_id = lm.model_id AND m.key = "
    ));
    sql.bind_text(&c.key);
    if !datasets.is_empty() {
        sql.push(" AND ");
        dataset_condition(datasets, sql);
    }
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

/// `(m.dataset_name = ? [AND m.dataset_digest = ?]) OR ...` over the point alias `m`.
fn dataset_condition(datasets: &[DatasetRef], sql: &mut Sql) {
    sql.push("(");
    for (i, d) in datasets.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        one_dataset("m", d, sql);
    }
    sql.push(")");
}

fn one_dataset(alias: &str, d: &DatasetRef, sql: &mut Sql) {
    sql.push(&format!("({alias}.dataset_name = "));
    sql.bind_text(&d.name);
    if let Some(digest) = &d.digest {
        sql.push(&format!(" AND {alias}.dataset_digest = "));
        sql.bind_text(digest);
    }
    sql.push(")");
}

/// Maps a canonical attribute name (as the parser produces it) to its column.
fn attribute_column(key: &str) -> &'static str {
    match key {
        "name" => "lm.name",
        "model_id" => "lm.model_id",
        "model_type" => "lm.model_type",
        "source_run_id" => "lm.source_run_id",
        "status" => "lm.status",
        "creation_timestamp" => "lm.creation_timestamp_ms",
        "last_updated_timestamp" => "lm.last_updated_timestamp_ms",
        // The parser admits no other attribute; an unknown one matches nothing.
        _ => "NULL",
    }
}

/// JOINs for the metric keys and the ORDER BY list, with the default order
/// (`creation_timestamp DESC` unless given, then `model_id ASC`) as tie-breakers.
/// A metric sorts by its latest point (by timestamp, then step); models without
/// one come last in both directions, NaN after numbers.
pub fn logged_model_order(keys: &[LoggedModelOrder]) -> Result<(Sql, String), ApiError> {
    if keys.len() > MAX_ORDER_KEYS {
        return Err(ApiError::invalid(format!(
            "`order_by` may hold at most {MAX_ORDER_KEYS} keys; got {}.",
            keys.len()
        )));
    }
    let mut joins = Sql::default();
    let mut terms: Vec<String> = Vec::new();
    for (i, order) in keys.iter().enumerate() {
        if keys[..i].iter().any(|o| o.key == order.key) {
            let name = match &order.key {
                LoggedModelSortKey::Attribute(a) => a.clone(),
                LoggedModelSortKey::Metric { key, .. } => format!("metrics.{key}"),
            };
            return Err(ApiError::invalid(format!(
                "`order_by` contains duplicate fields: {}",
                cairn_schema::validate::quoted(&name)
            )));
        }
        let dir = if order.ascending { "ASC" } else { "DESC" };
        match &order.key {
            LoggedModelSortKey::Attribute(attribute) => {
                let column = attribute_column(attribute);
                if column == "NULL" {
                    return Err(ApiError::invalid(format!(
                        "Invalid order_by field {}",
                        cairn_schema::validate::quoted(attribute)
                    )));
                }
                terms.push(format!("{column} {dir}"));
            }
            LoggedModelSortKey::Metric { key, dataset } => {
                joins.push(
                    " LEFT JOIN (SELECT model_id, value, is_nan, ROW_NUMBER() OVER \
                     (PARTITION BY model_id ORDER BY timestamp DESC, step DESC, value DESC) AS rn \
                     FROM logged_model_metrics m WHERE m.key = ",
                );
                joins.bind_text(key);
                if let Some(d) = dataset {
                    joins.push(" AND ");
                    one_dataset("m", d, &mut joins);
                }
                joins.push(&format!(
                    ") o{i} ON o{i}.model_id = lm.model_id AND o{i}.rn = 1"
                ));
                terms.push(format!(
                    "o{i}.model_id IS NULL, o{i}.is_nan, o{i}.value {dir}"
                ));
            }
        }
    }
    let by_creation = LoggedModelSortKey::Attribute("creation_timestamp".into());
    if !keys.iter().any(|o| o.key == by_creation) {
        terms.push("lm.creation_timestamp_ms DESC".to_owned());
    }
    terms.push("lm.model_id ASC".to_owned());
    Ok((joins, terms.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_schema::filter::{parse_mlflow_filter, Dialect};

    fn compile(filter: &str, datasets: &[DatasetRef]) -> Sql {
        let expr = parse_mlflow_filter(Dialect::LoggedModels, filter).unwrap();
        logged_model_filter(expr.as_ref(), datasets)
    }

    #[test]
    fn user_values_become_parameters_never_text() {
        let sql = compile(
            "params.x = 'a''; DROP TABLE logged_models; --' AND metrics.m > 0.5",
            &[],
        );
        assert!(!sql.text.contains("DROP"), "{}", sql.text);
        assert_eq!(sql.text.matches('?').count(), sql.params.len());
    }

    #[test]
    fn status_is_compared_by_name_whatever_the_spelling() {
        for spelling in ["READY", "2", "LOGGED_MODEL_READY"] {
            let sql = compile(&format!("status = '{spelling}'"), &[]);
            assert_eq!(
                sql.params,
                vec![SqlValue::Text("LOGGED_MODEL_READY".into())]
            );
        }
    }

    #[test]
    fn datasets_alone_require_a_point_on_one_of_them() {
        let eval = DatasetRef {
            name: "eval".into(),
            digest: Some("abc".into()),
        };
        let alone = compile("name = 'a'", std::slice::from_ref(&eval));
        assert!(alone.text.contains("AND EXISTS"), "{}", alone.text);
        let with_metric = compile("metrics.acc > 0.5", &[eval]);
        assert_eq!(with_metric.text.matches("EXISTS").count(), 1);
        assert!(with_metric.text.contains("dataset_digest"));
    }

    #[test]
    fn duplicate_order_keys_are_a_caller_mistake_and_defaults_break_ties() {
        let key = LoggedModelOrder {
            key: LoggedModelSortKey::Metric {
                key: "acc".into(),
                dataset: None,
            },
            ascending: false,
        };
        assert!(logged_model_order(&[key.clone(), key.clone()]).is_err());
        let (joins, order) = logged_model_order(&[key]).unwrap();
        assert_eq!(joins.params, vec![SqlValue::Text("acc".into())]);
        assert!(order.ends_with("lm.creation_timestamp_ms DESC, lm.model_id ASC"));
    }
}
