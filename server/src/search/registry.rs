//! registered-models/search and model-versions/search: filters over names, versions,
//! sources and tags, prompts hidden unless asked for; order_by with tie-breakers.
//!
//! Registered models are aliased `m`, model versions `v`.

use super::{compile_expr, string_condition, Sql};
use cairn_schema::filter::{Comparison, Entity, Expr, Op, OrderKey};
use cairn_schema::registry::PROMPT_TAG;
use cairn_schema::ApiError;

/// Whether a filter asks about the prompt tag (then prompts are not hidden).
pub fn mentions_prompts(expr: Option<&Expr>) -> bool {
    match expr {
        None => false,
        Some(Expr::And(parts) | Expr::Or(parts)) => parts.iter().any(|p| mentions_prompts(Some(p))),
        Some(Expr::Cmp(c)) => c.entity == Entity::Tag && c.key == PROMPT_TAG,
    }
}

/// A tag comparison over `table` joined on `on`. Registry `!=` means "has no such
/// value", so entities without the tag match: the MLflow client relies on it when it
/// appends ``tag.`mlflow.prompt.is_prompt` != 'true'`` to every model search.
fn tag_condition(table: &str, on: &str, c: &Comparison, sql: &mut Sql) {
    let (exists, op) = match c.op {
        Op::IsNull => ("NOT EXISTS", None),
        Op::IsNotNull => ("EXISTS", None),
        Op::Ne => ("NOT EXISTS", Some(Op::Eq)),
        Op::NotIn => ("NOT EXISTS", Some(Op::In)),
        op => ("EXISTS", Some(op)),
    };
    sql.push(&format!(
        "{exists} (SELECT 1 FROM {table} k WHERE {on} AND k.key = "
    ));
    sql.bind_text(&c.key);
    if let Some(op) = op {
        sql.push(" AND ");
        string_condition("k.value", op, &c.value, sql);
    }
    sql.push(")");
}

fn model_comparison(c: &Comparison, sql: &mut Sql) {
    match c.entity {
        Entity::Tag => tag_condition("registered_model_tags", "k.name = m.name", c, sql),
        _ => string_condition("m.name", c.op, &c.value, sql),
    }
}

fn version_comparison(c: &Comparison, sql: &mut Sql) {
    match c.entity {
        Entity::Tag => tag_condition(
            "model_version_tags",
            "k.name = v.name AND k.version = v.version",
            c,
            sql,
        ),
        _ => {
            let column = match c.key.as_str() {
                "run_id" => "v.run_id",
                "source" => "v.source",
                "version_number" => "v.version",
                _ => "v.name",
            };
            string_condition(column, c.op, &c.value, sql)
        }
    }
}

const NOT_A_PROMPT_MODEL: &str =
    "NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.name = m.name \
     AND p.key = 'mlflow.prompt.is_prompt' AND lower(p.value) = 'true')";
const NOT_A_PROMPT_VERSION: &str =
    "NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.name = v.name \
     AND p.key = 'mlflow.prompt.is_prompt' AND lower(p.value) = 'true')";

/// The WHERE fragment for a registered-models search (always non-empty).
pub fn model_filter(expr: Option<&Expr>) -> Sql {
    let mut sql = Sql::default();
    sql.push(if mentions_prompts(expr) {
        "1"
    } else {
        NOT_A_PROMPT_MODEL
    });
    if let Some(e) = expr {
        sql.push(" AND ");
        compile_expr(e, &mut sql, &model_comparison);
    }
    sql
}

/// The WHERE fragment for a model-versions search (always non-empty; live versions only).
pub fn version_filter(expr: Option<&Expr>) -> Sql {
    let mut sql = Sql::default();
    sql.push("v.deleted = 0 AND ");
    sql.push(if mentions_prompts(expr) {
        "1"
    } else {
        NOT_A_PROMPT_VERSION
    });
    if let Some(e) = expr {
        sql.push(" AND ");
        compile_expr(e, &mut sql, &version_comparison);
    }
    sql
}

fn no_duplicates(keys: &[OrderKey]) -> Result<(), ApiError> {
    for (i, k) in keys.iter().enumerate() {
        if keys[..i].iter().any(|o| o.key == k.key) {
            return Err(ApiError::invalid(format!(
                "`order_by` contains duplicate fields: '{}'",
                k.key
            )));
        }
    }
    Ok(())
}

fn dir(key: &OrderKey) -> &'static str {
    if key.ascending {
        "ASC"
    } else {
        "DESC"
    }
}

/// ORDER BY for registered models; `name ASC` breaks ties.
pub fn model_order(keys: &[OrderKey]) -> Result<String, ApiError> {
    no_duplicates(keys)?;
    let mut terms: Vec<String> = keys
        .iter()
        .map(|k| {
            let column = if k.key == "name" {
                "m.name"
            } else {
                "m.last_updated_timestamp"
            };
            format!("{column} {}", dir(k))
        })
        .collect();
    if !keys.iter().any(|k| k.key == "name") {
        terms.push("m.name ASC".into());
    }
    Ok(terms.join(", "))
}

/// ORDER BY for model versions; default `last_updated_timestamp DESC`, then `name ASC`,
/// `version_number DESC` as tie-breakers.
pub fn version_order(keys: &[OrderKey]) -> Result<String, ApiError> {
    no_duplicates(keys)?;
    let column = |key: &str| match key {
        "name" => "v.name",
        "version_number" => "v.version",
        "creation_timestamp" => "v.creation_timestamp",
        _ => "v.last_updated_timestamp",
    };
    let mut terms: Vec<String> = keys
        .iter()
        .map(|k| format!("{} {}", column(&k.key), dir(k)))
        .collect();
    if keys.is_empty() {
        terms.push("v.last_updated_timestamp DESC".into());
    }
    if !keys.iter().any(|k| k.key == "name") {
        terms.push("v.name ASC".into());
    }
    if !keys.iter().any(|k| k.key == "version_number") {
        terms.push("v.version DESC".into());
    }
    Ok(terms.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_schema::filter::{parse_mlflow_filter, Dialect};

    #[test]
    fn prompts_are_hidden_unless_the_filter_names_the_prompt_tag() {
        let plain = parse_mlflow_filter(Dialect::RegisteredModels, "name LIKE 'a%'").unwrap();
        assert!(model_filter(plain.as_ref())
            .text
            .contains("mlflow.prompt.is_prompt"));
        let asks = parse_mlflow_filter(
            Dialect::RegisteredModels,
            "tags.`mlflow.prompt.is_prompt` = 'true'",
        )
        .unwrap();
        assert!(!model_filter(asks.as_ref()).text.starts_with("NOT EXISTS"));
    }

    #[test]
    fn tag_inequality_includes_models_without_the_tag() {
        let f = parse_mlflow_filter(Dialect::RegisteredModels, "tags.team != 'x'").unwrap();
        assert!(model_filter(f.as_ref())
            .text
            .contains("NOT EXISTS (SELECT 1 FROM registered_model_tags k"));
    }
}
