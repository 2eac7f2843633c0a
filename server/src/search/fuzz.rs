//! Property tests at scale (`PROPTEST_CASES`, CI runs 20,000): whatever text a caller
//! sends as a filter, every filter the parser accepts compiles to SQL whose text carries
//! none of it — only `?` placeholders, one per bound value.

use super::{experiment_filter, logged_model_filter, registry, run_filter, Sql, SqlValue};
use cairn_schema::filter::{parse_filter, Dialect};
use proptest::prelude::*;

/// Pieces hostile filters are made of: every entity, operator and quoting, with SQL
/// injection, comments, NUL and odd Unicode in keys and values.
fn hostile_filter() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("metrics.".to_owned()),
        Just("params.".to_owned()),
        Just("tags.".to_owned()),
        Just("attributes.".to_owned()),
        Just("attribute.".to_owned()),
        Just("datasets.".to_owned()),
        Just("name".to_owned()),
        Just("status".to_owned()),
        Just("run_name".to_owned()),
        Just("start_time".to_owned()),
        Just("creation_time".to_owned()),
        Just("version_number".to_owned()),
        Just("`a.b`".to_owned()),
        Just("\"k\"".to_owned()),
        Just(" = ".to_owned()),
        Just(" != ".to_owned()),
        Just(" > ".to_owned()),
        Just(" <= ".to_owned()),
        Just(" LIKE ".to_owned()),
        Just(" ILIKE ".to_owned()),
        Just(" IN ".to_owned()),
        Just(" NOT IN ".to_owned()),
        Just(" IS NULL".to_owned()),
        Just(" IS NOT NULL".to_owned()),
        Just(" AND ".to_owned()),
        Just(" OR ".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just(", ".to_owned()),
        Just("'x'".to_owned()),
        Just("'%'".to_owned()),
        Just("'a''b'".to_owned()),
        Just("'\\''".to_owned()),
        Just("1.5".to_owned()),
        Just("-3".to_owned()),
        Just("1e308".to_owned()),
        Just("'; DROP TABLE runs; --'".to_owned()),
        Just("' UNION SELECT run_uuid FROM runs --'".to_owned()),
        Just("`; DROP TABLE metrics --`".to_owned()),
        Just("'/* */'".to_owned()),
        Just("'\u{0}'".to_owned()),
        Just("'é中'".to_owned()),
        Just("('a', '; DROP TABLE tags --')".to_owned()),
        "[a-z_]{1,6}".prop_map(|s: String| s),
    ];
    proptest::collection::vec(piece, 1..14).prop_map(|p| p.concat())
}

/// Well-formed clauses whose keys and values carry the same hostile text, so that most
/// filters are accepted and reach the compiler.
fn hostile_clauses() -> impl Strategy<Value = String> {
    let evil = prop_oneof![
        Just("; DROP TABLE runs; --".to_owned()),
        Just("' UNION SELECT run_uuid FROM runs --".to_owned()),
        Just("/* x */ OR 1=1".to_owned()),
        Just("a\u{0}b".to_owned()),
        "[ -~]{0,12}",
    ];
    let key = prop_oneof![
        "[a-z_]{1,8}".prop_map(|s: String| s),
        evil.clone()
            .prop_map(|e| format!("`{}`", e.replace('\\', "\\\\").replace('`', "\\`"))),
    ];
    let value = prop_oneof![
        evil.clone()
            .prop_map(|e| format!("'{}'", e.replace('\\', "\\\\").replace('\'', "\\'"))),
        any::<i32>().prop_map(|n| n.to_string()),
        evil.clone()
            .prop_map(|e| format!("('x', '{}')", e.replace('\\', "\\\\").replace('\'', "\\'"))),
    ];
    let quoted = |e: &str| format!("'{}'", e.replace('\\', "\\\\").replace('\'', "\\'"));
    let text_op = prop_oneof![Just(" = "), Just(" != "), Just(" LIKE "), Just(" ILIKE ")];
    let num_op = prop_oneof![
        Just(" = "),
        Just(" != "),
        Just(" > "),
        Just(" >= "),
        Just(" < "),
        Just(" <= ")
    ];
    let clause = prop_oneof![
        (key.clone(), num_op, any::<i32>()).prop_map(|(k, o, n)| format!("metrics.{k}{o}{n}")),
        (
            prop_oneof![Just("params."), Just("tags.")],
            key,
            text_op.clone(),
            evil.clone()
        )
            .prop_map(move |(p, k, o, v)| format!("{p}{k}{o}{}", quoted(&v))),
        (text_op, evil.clone())
            .prop_map(move |(o, v)| format!("attributes.run_name{o}{}", quoted(&v))),
        (evil.clone(), evil).prop_map(move |(a, b)| format!(
            "attributes.run_id IN ({}, {})",
            quoted(&a),
            quoted(&b)
        )),
        value.prop_map(|v| format!("tags.t = {v}")),
    ];
    proptest::collection::vec((clause, prop_oneof![Just(" AND "), Just(" OR ")]), 1..5).prop_map(
        |cs| {
            let mut out = String::new();
            for (i, (c, join)) in cs.iter().enumerate() {
                if i > 0 {
                    out.push_str(join);
                }
                out.push_str(c);
            }
            out
        },
    )
}

/// Asserts the bound-parameters-only rule on one compiled fragment.
fn assert_bound_only(sql: &Sql, filter: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        sql.text.matches('?').count(),
        sql.params.len(),
        "{} -> {}",
        filter,
        sql.text
    );
    for marker in ["DROP", "UNION", "--", ";", "/*", "\u{0}"] {
        prop_assert!(
            !sql.text.contains(marker),
            "{:?} reached the SQL text of {:?}: {}",
            marker,
            filter,
            sql.text
        );
    }
    for p in &sql.params {
        if let SqlValue::Text(t) = p {
            if t.len() >= 3 && !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                prop_assert!(!sql.text.contains(t.as_str()), "{:?} is in the SQL text", t);
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn every_accepted_filter_compiles_to_placeholders_only(filter in prop_oneof![hostile_filter(), hostile_clauses()]) {
        if let Ok(Some(e)) = parse_filter(Dialect::Runs, &filter) {
            assert_bound_only(&run_filter(&e), &filter)?;
        }
        if let Ok(Some(e)) = parse_filter(Dialect::Experiments, &filter) {
            assert_bound_only(&experiment_filter(&e), &filter)?;
        }
        if let Ok(e) = parse_filter(Dialect::RegisteredModels, &filter) {
            assert_bound_only(&registry::model_filter(e.as_ref()), &filter)?;
        }
        if let Ok(e) = parse_filter(Dialect::ModelVersions, &filter) {
            assert_bound_only(&registry::version_filter(e.as_ref()), &filter)?;
        }
        if let Ok(e) = parse_filter(Dialect::LoggedModels, &filter) {
            assert_bound_only(&logged_model_filter(e.as_ref(), &[]), &filter)?;
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_parser_or_the_compiler(filter in any::<String>()) {
        for d in [Dialect::Runs, Dialect::Experiments, Dialect::RegisteredModels, Dialect::ModelVersions, Dialect::LoggedModels] {
            if let Ok(Some(e)) = parse_filter(d, &filter) {
                let sql = match d {
                    Dialect::Runs => run_filter(&e),
                    Dialect::Experiments => experiment_filter(&e),
                    Dialect::RegisteredModels => registry::model_filter(Some(&e)),
                    Dialect::ModelVersions => registry::version_filter(Some(&e)),
                    Dialect::LoggedModels => logged_model_filter(Some(&e), &[]),
                };
                prop_assert_eq!(sql.text.matches('?').count(), sql.params.len());
            }
        }
    }
}

#[test]
fn most_generated_clauses_reach_the_compiler() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = hostile_clauses();
    let accepted = (0..500)
        .filter(|_| {
            let filter = strategy.new_tree(&mut runner).unwrap().current();
            matches!(parse_filter(Dialect::Runs, &filter), Ok(Some(_)))
        })
        .count();
    assert!(
        accepted >= 150,
        "only {accepted} of 500 generated filters parse"
    );
}
