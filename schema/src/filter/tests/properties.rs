//! Property tests: the parser never panics, and Display round-trips every valid tree.

use super::super::parse_order_by;
use super::*;
use proptest::prelude::*;
use proptest::sample::select;

const DIALECTS: [Dialect; 4] = [
    Dialect::Runs,
    Dialect::Experiments,
    Dialect::RegisteredModels,
    Dialect::ModelVersions,
];

/// Pieces of real and broken filters, so random joins reach deep into the parser.
const FRAGMENTS: &[&str] = &[
    "metrics.acc",
    "metric.`a b`",
    "params.x",
    "tags.`my tag`",
    "tag.\"k\"",
    "tags.",
    "run_name",
    "`Run name`",
    "status",
    "start_time",
    "end_time",
    "attributes.run_id",
    "dataset.name",
    "name",
    "experiment_id",
    "creation_time",
    "version_number",
    "source_path",
    "foo.bar",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "LIKE",
    "ilike",
    "IN",
    "NOT",
    "IS",
    "NULL",
    "AND",
    "or",
    "(",
    ")",
    ",",
    "'a'",
    "\"b\"",
    "'it''s'",
    "'\\'",
    "0.5",
    "-1e3",
    "1",
    "1e999",
    ".",
    "cnn",
    ";",
    "--",
    "é",
    "'",
    "`",
    "\"",
    "ключ",
    "\\",
    "\u{0}",
    "😀",
    "-",
    "+",
];

fn filter_like() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(select(FRAGMENTS), 0..14),
        any::<bool>(),
    )
        .prop_map(|(parts, spaced)| parts.join(if spaced { " " } else { "" }))
}

fn any_key() -> BoxedStrategy<String> {
    prop_oneof![
        "[a-z_][a-zA-Z0-9_.]{0,8}",
        "\\PC{1,8}",
        any::<String>().prop_filter("keys are non-empty", |s| !s.is_empty()),
    ]
    .boxed()
}

fn any_text() -> BoxedStrategy<String> {
    prop_oneof!["[a-z%_]{0,6}", "[ '\"`\\\\a]{0,6}", any::<String>()].boxed()
}

fn any_number() -> BoxedStrategy<f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |n| n.is_finite()),
        (-10_000i64..10_000).prop_map(|n| n as f64),
        (0i64..i64::MAX / 1024).prop_map(|n| n as f64),
    ]
    .boxed()
}

fn keys(names: &'static [&'static str]) -> BoxedStrategy<String> {
    select(names).prop_map(String::from).boxed()
}

/// Clauses on a string field: `=`, `!=`, `LIKE`, `ILIKE` and optionally lists / nulls.
fn text_clause(
    entity: Entity,
    key: BoxedStrategy<String>,
    lists: bool,
    nulls: bool,
) -> BoxedStrategy<Expr> {
    let mut ops = vec![Op::Eq, Op::Ne, Op::Like, Op::ILike];
    if lists {
        ops.extend([Op::In, Op::NotIn]);
    }
    if nulls {
        ops.extend([Op::IsNull, Op::IsNotNull]);
    }
    let items = prop::collection::vec(any_text(), 1..4);
    (key, select(ops), any_text(), items)
        .prop_map(move |(key, op, one, many)| {
            let value = match op {
                Op::In | Op::NotIn => Value::List(many),
                Op::IsNull | Op::IsNotNull => Value::Null,
                _ => Value::Str(one),
            };
            Expr::Cmp(Comparison {
                entity,
                key,
                op,
                value,
            })
        })
        .boxed()
}

/// Clauses on a numeric field, optionally with null checks.
fn number_clause(entity: Entity, key: BoxedStrategy<String>, nulls: bool) -> BoxedStrategy<Expr> {
    let mut ops = vec![Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];
    if nulls {
        ops.extend([Op::IsNull, Op::IsNotNull]);
    }
    (key, select(ops), any_number())
        .prop_map(move |(key, op, n)| {
            let value = match op {
                Op::IsNull | Op::IsNotNull => Value::Null,
                _ => Value::Num(n),
            };
            Expr::Cmp(Comparison {
                entity,
                key,
                op,
                value,
            })
        })
        .boxed()
}

/// Any valid runs/search filter tree (every `And`/`Or` has at least two children).
fn runs_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        number_clause(Entity::Metric, any_key(), true),
        text_clause(Entity::Param, any_key(), true, true),
        text_clause(Entity::Tag, any_key(), true, true),
        text_clause(
            Entity::Dataset,
            keys(&["name", "digest", "context"]),
            true,
            false
        ),
        text_clause(Entity::Attribute, keys(&["run_id"]), true, false),
        text_clause(
            Entity::Attribute,
            keys(&["run_name", "status", "user_id", "artifact_uri"]),
            false,
            false
        ),
        number_clause(Entity::Attribute, keys(&["start_time"]), false),
        number_clause(Entity::Attribute, keys(&["end_time"]), true),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..5).prop_map(Expr::And),
            prop::collection::vec(inner, 2..5).prop_map(Expr::Or),
        ]
    })
}

proptest! {
    #[test]
    fn parse_filter_never_panics_on_arbitrary_strings(s in any::<String>(), d in select(DIALECTS.to_vec())) {
        let _ = parse_filter(d, &s);
        let _ = parse_order_by(d, &s);
    }

    #[test]
    fn parse_filter_never_panics_on_filter_like_text(s in filter_like(), d in select(DIALECTS.to_vec())) {
        let _ = parse_filter(d, &s);
        let _ = parse_order_by(d, &s);
    }

    #[test]
    fn displayed_runs_trees_parse_back_to_themselves(expr in runs_expr()) {
        let shown = expr.to_string();
        prop_assert_eq!(parse_filter(Dialect::Runs, &shown), Ok(Some(expr)), "{}", shown);
    }

    #[test]
    fn accepted_filters_survive_a_display_round_trip(s in filter_like(), d in select(DIALECTS.to_vec())) {
        if let Ok(Some(expr)) = parse_filter(d, &s) {
            let shown = expr.to_string();
            prop_assert_eq!(parse_filter(d, &shown), Ok(Some(expr)), "{} -> {}", s, shown);
        }
    }
}
