//! Per-dialect rules: which entities, keys, comparators and value types each search accepts.

use super::parser::{Raw, RawIdent, RawKind};
use super::{Dialect, Entity, FilterError, Op, Value};

/// An accepted attribute spelling and the canonical key it stands for.
type Alias = (&'static str, &'static str);

const RUN_ATTRIBUTES: &[Alias] = &[
    ("run_id", "run_id"),
    ("run_name", "run_name"),
    ("status", "status"),
    ("user_id", "user_id"),
    ("artifact_uri", "artifact_uri"),
    ("start_time", "start_time"),
    ("end_time", "end_time"),
    ("run name", "run_name"),
    ("Run name", "run_name"),
    ("Run Name", "run_name"),
    ("created", "start_time"),
    ("Created", "start_time"),
];
const EXPERIMENT_ATTRIBUTES: &[Alias] = &[
    ("name", "name"),
    ("experiment_id", "experiment_id"),
    ("creation_time", "creation_time"),
    ("last_update_time", "last_update_time"),
];
const MODEL_FILTER_ATTRIBUTES: &[Alias] = &[("name", "name")];
const MODEL_ORDER_ATTRIBUTES: &[Alias] = &[
    ("name", "name"),
    ("timestamp", "last_updated_timestamp"),
    ("last_updated_timestamp", "last_updated_timestamp"),
];
/// `source` is accepted besides MLflow's `source_path` because it is the canonical
/// key, which `Display` writes.
const VERSION_FILTER_ATTRIBUTES: &[Alias] = &[
    ("name", "name"),
    ("run_id", "run_id"),
    ("source_path", "source"),
    ("source", "source"),
    ("version_number", "version_number"),
];
const VERSION_ORDER_ATTRIBUTES: &[Alias] = &[
    ("name", "name"),
    ("version_number", "version_number"),
    ("creation_timestamp", "creation_timestamp"),
    ("last_updated_timestamp", "last_updated_timestamp"),
];
const LOGGED_MODEL_ATTRIBUTES: &[Alias] = &[
    ("name", "name"),
    ("model_id", "model_id"),
    ("model_type", "model_type"),
    ("source_run_id", "source_run_id"),
    ("status", "status"),
    ("creation_time", "creation_timestamp"),
    ("creation_timestamp", "creation_timestamp"),
    ("last_updated_timestamp", "last_updated_timestamp"),
];
const RUN_LIST_MESSAGE: &str =
    "Only ['run_id'] attributes support comparison with a list of quoted string values.";
const DATASET_KEYS: &[&str] = &["name", "digest", "context"];

const NUMERIC_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];
const STRING_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::Like, Op::ILike];
const LIST_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::Like, Op::ILike, Op::In, Op::NotIn];
const ID_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::In, Op::NotIn];

fn fail<T>(message: String) -> Result<T, FilterError> {
    Err(FilterError(message))
}

/// `'a', 'b', 'c'` for messages.
fn listing<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn lookup(table: &[Alias], key: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(spelling, _)| *spelling == key)
        .map(|&(_, canonical)| canonical)
}

/// The entity an identifier prefix names, in a filter or an order_by.
fn entity(dialect: Dialect, prefix: Option<&str>) -> Result<Entity, FilterError> {
    let Some(prefix) = prefix else {
        return Ok(Entity::Attribute);
    };
    let found = match (dialect, prefix) {
        (Dialect::Runs, "metric" | "metrics") => Some(Entity::Metric),
        (Dialect::Runs, "param" | "params" | "parameter" | "parameters") => Some(Entity::Param),
        (Dialect::Runs, "attribute" | "attributes" | "attr" | "run") => Some(Entity::Attribute),
        (Dialect::Runs, "dataset" | "datasets") => Some(Entity::Dataset),
        (Dialect::LoggedModels, "metric" | "metrics") => Some(Entity::Metric),
        (Dialect::LoggedModels, "param" | "params") => Some(Entity::Param),
        (_, "tag" | "tags") => Some(Entity::Tag),
        (_, "attribute") => Some(Entity::Attribute),
        _ => None,
    };
    match (found, dialect) {
        (Some(entity), _) => Ok(entity),
        (None, Dialect::Runs) => fail(format!(
            "Invalid entity type '{prefix}'. Valid values are ['metric', 'parameter', 'tag', \
             'attribute', 'dataset']"
        )),
        (None, _) => fail(format!(
            "Invalid entity type '{prefix}'. Valid entity types are ('attribute', 'tag', 'tags')"
        )),
    }
}

/// Resolves a filter identifier to its entity and canonical key.
pub(crate) fn resolve_filter_ident(
    dialect: Dialect,
    ident: &RawIdent,
) -> Result<(Entity, String), FilterError> {
    let entity = entity(dialect, ident.prefix.as_deref())?;
    let key = ident.key.as_str();
    let key = match entity {
        Entity::Attribute => {
            let table = match dialect {
                Dialect::Runs => RUN_ATTRIBUTES,
                Dialect::Experiments => EXPERIMENT_ATTRIBUTES,
                Dialect::RegisteredModels => MODEL_FILTER_ATTRIBUTES,
                Dialect::ModelVersions => VERSION_FILTER_ATTRIBUTES,
                Dialect::LoggedModels => LOGGED_MODEL_ATTRIBUTES,
            };
            let Some(canonical) = lookup(table, key) else {
                return fail(format!(
                    "Invalid attribute key '{key}' specified. Valid keys are [{}]",
                    listing(table.iter().map(|(spelling, _)| *spelling))
                ));
            };
            canonical
        }
        Entity::Dataset if !DATASET_KEYS.contains(&key) => {
            return fail(format!(
                "Invalid dataset key '{key}' specified. Valid keys are [{}]",
                listing(DATASET_KEYS.iter().copied())
            ))
        }
        _ => key,
    };
    Ok((entity, key.to_string()))
}

/// Resolves an order_by identifier to its entity and canonical key.
pub(crate) fn resolve_order_ident(
    dialect: Dialect,
    ident: &RawIdent,
) -> Result<(Entity, String), FilterError> {
    let entity = entity(dialect, ident.prefix.as_deref())?;
    let key = ident.key.as_str();
    let table =
        match (dialect, entity) {
            (Dialect::Runs, Entity::Attribute) => RUN_ATTRIBUTES,
            (Dialect::Runs, Entity::Dataset) => return fail(
                "Invalid order_by entity type 'dataset'. Valid types are 'metric', 'parameter', \
                 'tag' and 'attribute'"
                    .to_string(),
            ),
            (Dialect::Runs, _) => return Ok((entity, key.to_string())),
            (_, Entity::Attribute) => match dialect {
                Dialect::Experiments => EXPERIMENT_ATTRIBUTES,
                Dialect::RegisteredModels => MODEL_ORDER_ATTRIBUTES,
                Dialect::LoggedModels => LOGGED_MODEL_ATTRIBUTES,
                _ => VERSION_ORDER_ATTRIBUTES,
            },
            _ => return fail("Invalid order_by entity: tag".to_string()),
        };
    match lookup(table, key) {
        Some(canonical) => Ok((entity, canonical.to_string())),
        None => fail(format!(
            "Invalid order_by key '{key}' specified. Valid keys are [{}]",
            listing(table.iter().map(|(spelling, _)| *spelling))
        )),
    }
}

/// What a field accepts.
struct Field {
    /// "metric 'acc'", "attribute 'status'", ... for messages.
    what: String,
    kind: Kind,
    ops: &'static [Op],
    /// Whether `IS NULL` / `IS NOT NULL` make sense (the field can be absent).
    nullable: bool,
    /// MLflow's own message for `IN` on a field that takes no lists, if it has one.
    no_lists: Option<&'static str>,
}

#[derive(PartialEq)]
enum Kind {
    Metric,
    Number { integral: bool },
    Text,
}

/// The rules for `key` of `entity` in `dialect`; `key` is already canonical.
fn field(dialect: Dialect, entity: Entity, key: &str) -> Field {
    let (noun, kind, ops, nullable) = match (entity, dialect, key) {
        (Entity::Metric, ..) => ("metric", Kind::Metric, NUMERIC_OPS, true),
        (Entity::Param, ..) => ("param", Kind::Text, LIST_OPS, true),
        (Entity::Tag, ..) => ("tag", Kind::Text, LIST_OPS, true),
        (Entity::Dataset, ..) => ("dataset key", Kind::Text, LIST_OPS, false),
        (Entity::Attribute, Dialect::Runs, "run_id") => ("attribute", Kind::Text, LIST_OPS, false),
        (Entity::Attribute, Dialect::Runs, "start_time" | "end_time") => (
            "attribute",
            Kind::Number { integral: false },
            NUMERIC_OPS,
            key == "end_time",
        ),
        (Entity::Attribute, Dialect::Runs, _) => ("attribute", Kind::Text, STRING_OPS, false),
        (Entity::Attribute, Dialect::Experiments, "name") => {
            ("attribute", Kind::Text, STRING_OPS, false)
        }
        (Entity::Attribute, Dialect::Experiments, "experiment_id") => {
            ("attribute", Kind::Text, ID_OPS, false)
        }
        (Entity::Attribute, Dialect::RegisteredModels, _)
        | (Entity::Attribute, Dialect::ModelVersions, "name" | "run_id") => {
            ("attribute", Kind::Text, LIST_OPS, false)
        }
        (
            Entity::Attribute,
            Dialect::LoggedModels,
            "creation_timestamp" | "last_updated_timestamp",
        ) => (
            "attribute",
            Kind::Number { integral: true },
            NUMERIC_OPS,
            false,
        ),
        (Entity::Attribute, Dialect::LoggedModels, _) => ("attribute", Kind::Text, LIST_OPS, false),
        (Entity::Attribute, Dialect::ModelVersions, "source") => {
            ("attribute", Kind::Text, STRING_OPS, false)
        }
        // Experiments' creation_time / last_update_time, versions' version_number.
        (Entity::Attribute, ..) => (
            "attribute",
            Kind::Number { integral: true },
            NUMERIC_OPS,
            false,
        ),
    };
    let no_lists = (dialect == Dialect::Runs && entity == Entity::Attribute && ops == STRING_OPS)
        .then_some(RUN_LIST_MESSAGE);
    Field {
        what: format!("{noun} '{key}'"),
        kind,
        ops,
        nullable,
        no_lists,
    }
}

/// Checks `IS NULL` / `IS NOT NULL` on the field; the value is then `Null`.
pub(crate) fn check_null(
    dialect: Dialect,
    entity: Entity,
    key: &str,
) -> Result<Value, FilterError> {
    let field = field(dialect, entity, key);
    if field.nullable {
        return Ok(Value::Null);
    }
    let allowed = match dialect {
        Dialect::Runs => "metrics, params, tags and the end_time attribute",
        _ => "tags",
    };
    fail(format!(
        "IS NULL and IS NOT NULL are not supported for {}; they are only allowed for {allowed}",
        field.what
    ))
}

/// Checks that `op` and the written value fit the field and returns the value.
pub(crate) fn check_value(
    dialect: Dialect,
    entity: Entity,
    key: &str,
    op: Op,
    raw: &Raw,
) -> Result<Value, FilterError> {
    let field = field(dialect, entity, key);
    match field.kind {
        // The value type is checked before the comparator, as MLflow does, so
        // `metrics.acc IN (1, 2)` reports the list.
        Kind::Metric | Kind::Number { .. } => {
            let RawKind::Num(n) = raw.kind else {
                return fail(if field.kind == Kind::Metric {
                    format!("Expected numeric value type for metric. Found {}", raw.text)
                } else {
                    format!(
                        "Expected numeric value type for numeric attribute '{key}'. Found {}",
                        raw.text
                    )
                });
            };
            check_op(&field, op)?;
            // Integral and within i64, so the store can bind it as an integer.
            if field.kind == (Kind::Number { integral: true })
                && (n.fract() != 0.0 || n.abs() >= 9.2e18)
            {
                return fail(format!(
                    "Invalid value for numeric attribute '{key}': '{}'. Expected an integer",
                    raw.text
                ));
            }
            Ok(Value::Num(n))
        }
        Kind::Text => {
            check_op(&field, op)?;
            if matches!(op, Op::In | Op::NotIn) {
                let RawKind::List(items) = &raw.kind else {
                    return fail(format!(
                        "{op} expects a parenthesised list of quoted strings such as ('a', 'b') \
                         for {}. Found {}",
                        field.what, raw.text
                    ));
                };
                let strings = items.iter().map(|item| match &item.kind {
                    RawKind::Str {
                        quote: '\'' | '"',
                        text,
                    } => Ok(text.clone()),
                    _ => fail(format!(
                        "While parsing a list in the query, expected quoted string values but \
                         found {} in {}",
                        item.text, raw.text
                    )),
                });
                return strings.collect::<Result<_, _>>().map(Value::List);
            }
            match &raw.kind {
                RawKind::Str {
                    quote: '\'' | '"',
                    text,
                } => Ok(Value::Str(text.clone())),
                RawKind::List(_) => fail(format!(
                    "Expected a single quoted string value for {}. Found the list {}; lists \
                     are only allowed with IN and NOT IN",
                    field.what, raw.text
                )),
                _ => fail(format!(
                    "Parameter value is either not quoted or unidentified quote types used for \
                     string value {}. Use either single or double quotes.",
                    raw.text
                )),
            }
        }
    }
}

fn check_op(field: &Field, op: Op) -> Result<(), FilterError> {
    if field.ops.contains(&op) {
        return Ok(());
    }
    if let (Some(message), Op::In | Op::NotIn) = (field.no_lists, op) {
        return fail(message.to_string());
    }
    let mut valid: Vec<&str> = field.ops.iter().map(|o| o.as_str()).collect();
    if field.nullable {
        valid.extend(["IS NULL", "IS NOT NULL"]);
    }
    fail(format!(
        "Invalid comparator '{op}' for {}. Valid comparators are [{}]",
        field.what,
        listing(valid.into_iter())
    ))
}
