//! Dialect-independent grammar: precedence, grouping, quoting, malformed input, Display.

use super::*;

fn acc_gt(n: f64) -> Expr {
    cmp(Entity::Metric, "acc", Op::Gt, Value::Num(n))
}

fn model_is(s: &str) -> Expr {
    cmp(Entity::Param, "model", Op::Eq, text(s))
}

#[test]
fn empty_and_whitespace_only_filters_mean_no_filter() {
    for filter in ["", "   ", "\t\n "] {
        assert_eq!(parse_filter(Dialect::Runs, filter), Ok(None));
    }
}

#[test]
fn or_binds_looser_than_and() {
    assert_eq!(
        runs("metrics.acc > 1 AND params.model = 'a' OR params.model = 'b'"),
        Expr::Or(vec![
            Expr::And(vec![acc_gt(1.0), model_is("a")]),
            model_is("b"),
        ])
    );
    assert_eq!(
        runs("params.model = 'b' OR metrics.acc > 1 AND params.model = 'a'"),
        Expr::Or(vec![
            model_is("b"),
            Expr::And(vec![acc_gt(1.0), model_is("a")]),
        ])
    );
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(
        runs("metrics.acc > 1 AND (params.model = 'a' OR params.model = 'b')"),
        Expr::And(vec![
            acc_gt(1.0),
            Expr::Or(vec![model_is("a"), model_is("b")]),
        ])
    );
}

#[test]
fn a_parenthesised_group_keeps_its_own_node() {
    assert_eq!(
        runs("(metrics.acc > 1 AND metrics.acc > 2) AND metrics.acc > 3"),
        Expr::And(vec![Expr::And(vec![acc_gt(1.0), acc_gt(2.0)]), acc_gt(3.0)])
    );
    assert_eq!(runs("((metrics.acc > 1))"), acc_gt(1.0));
}

#[test]
fn keywords_are_case_insensitive() {
    assert_eq!(
        runs("params.model like 'a' and params.model Ilike 'b' oR params.model not in ('c') aNd params.model is not null"),
        Expr::Or(vec![
            Expr::And(vec![
                cmp(Entity::Param, "model", Op::Like, text("a")),
                cmp(Entity::Param, "model", Op::ILike, text("b")),
            ]),
            Expr::And(vec![
                cmp(Entity::Param, "model", Op::NotIn, list(&["c"])),
                cmp(Entity::Param, "model", Op::IsNotNull, Value::Null),
            ]),
        ])
    );
}

#[test]
fn quotes_escape_by_doubling_or_backslash() {
    assert_eq!(runs("params.model = 'it''s'"), model_is("it's"));
    assert_eq!(
        runs(r#"params.model = "say \"hi\"""#),
        model_is("say \"hi\"")
    );
    assert_eq!(runs(r"params.model = 'a\\b'"), model_is("a\\b"));
    assert_eq!(runs(r"params.model = 'c\_d'"), model_is("c\\_d"));
    assert_eq!(runs("params.model = ''"), model_is(""));
}

#[test]
fn sql_after_a_clause_is_rejected() {
    let err = runs_error("params.x = 'a'; DROP TABLE runs; --");
    assert!(
        err.starts_with("Invalid character ';'") && err.contains("position 15"),
        "{err}"
    );
    let err = runs_error("metrics.acc > 0 -- comment");
    assert!(err.starts_with("Invalid token '--'"), "{err}");
}

#[test]
fn a_tautology_after_or_is_rejected() {
    let err = runs_error("metrics.acc > 0 OR 1=1");
    assert!(
        err.starts_with("Invalid clause(s) in filter string: expected an identifier"),
        "{err}"
    );
    assert!(err.contains("found '1'"), "{err}");
}

#[test]
fn a_dangling_comparator_is_rejected() {
    assert_eq!(
        runs_error("metrics.acc >"),
        "Invalid clause(s) in filter string: 'metrics.acc >' is missing a value after '>'"
    );
    let err = runs_error("metrics.acc > AND params.a = 'b'");
    assert!(
        err.contains("Expected numeric value type for metric. Found AND"),
        "{err}"
    );
    let err = runs_error("metrics.acc > )");
    assert!(
        err.contains("'metrics.acc >' is missing a value after '>'; found ')'"),
        "{err}"
    );
}

#[test]
fn a_missing_comparator_is_rejected() {
    let err = runs_error("metrics.acc");
    assert!(
        err.contains("expected a comparator") && err.contains("found the end of the filter"),
        "{err}"
    );
    let err = runs_error("metrics.acc == 1");
    assert!(
        err.contains("missing a value after '='; found '='"),
        "{err}"
    );
    let err = runs_error("metrics.acc <> 1");
    assert!(
        err.contains("missing a value after '<'; found '>'"),
        "{err}"
    );
    assert!(runs_error("params.a NOT LIKE 'x'").contains("expected IN after NOT in 'params.a NOT'"));
    assert!(runs_error("params.a IS 'x'").contains("expected NULL or NOT NULL after 'params.a IS'"));
}

#[test]
fn a_dangling_and_or_or_is_rejected() {
    for (filter, keyword) in [
        ("metrics.acc > 1 AND", "AND"),
        ("metrics.acc > 1 or ", "or"),
    ] {
        let err = runs_error(filter);
        assert!(
            err.ends_with(&format!(
                "expected a clause after '{keyword}' but the filter ended"
            )),
            "{err}"
        );
    }
    assert!(runs_error("AND metrics.acc > 1").contains("found 'AND'"));
}

#[test]
fn clauses_without_a_connective_are_rejected() {
    let err = runs_error("metrics.acc > 1 params.a = 'b'");
    assert!(
        err.contains("unexpected 'params.a' after 'metrics.acc > 1'"),
        "{err}"
    );
}

#[test]
fn unbalanced_or_empty_parentheses_are_rejected() {
    assert!(runs_error("(metrics.acc > 1").contains("'(' at position 1 is never closed"));
    assert!(runs_error("metrics.acc > 1)").contains("')' at position 16 has no matching '('"));
    assert!(runs_error("(metrics.acc > 1 params.a = 'b')").contains("expected AND, OR or ')'"));
    assert!(runs_error("()").contains("empty parentheses '()' at position 1"));
    assert!(runs_error("metrics.acc > 1 AND ()").contains("empty parentheses"));
}

#[test]
fn malformed_lists_are_rejected() {
    assert!(runs_error("run_id IN ()").contains("empty list '()' in 'run_id IN'"));
    assert!(runs_error("run_id IN ('a',)").contains("expected a quoted value in the list"));
    assert!(runs_error("run_id IN ('a' 'b')").contains("expected ',' or ')' in the list"));
    assert!(runs_error("run_id IN ('a', 'b'").contains("is never closed"));
    assert!(runs_error("run_id IN (('a'))").contains("found '('"));
}

#[test]
fn empty_keys_and_keywords_are_not_identifiers() {
    assert!(runs_error("tags.`` = 'x'").contains("Invalid identifier 'tags.': the key is empty"));
    assert!(runs_error("tags. = 'x'").contains("the key is empty"));
    assert!(runs_error("'status' = 'x'").contains("expected an identifier"));
    assert!(runs_error("NULL IS NULL").contains("found 'NULL'"));
}

#[test]
fn deep_nesting_is_rejected_instead_of_overflowing_the_stack() {
    let filter = format!(
        "{}metrics.acc > 1{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    assert!(runs_error(&filter).contains("nested more than 64 levels"));
    let filter = format!("{}metrics.acc > 1{}", "(".repeat(64), ")".repeat(64));
    assert_eq!(runs(&filter), acc_gt(1.0));
}

#[test]
fn non_ascii_garbage_is_rejected_with_a_character_position() {
    let err = runs_error("metrics.acc > 0 ✓");
    assert_eq!(
        err.split(" (").next(),
        Some("Invalid character '✓'"),
        "{err}"
    );
    assert!(err.ends_with("at position 17"), "{err}");
    assert!(runs_error("tags.x = 'ü").starts_with("Unterminated quoted string"));
}

#[test]
fn display_renders_canonical_text_that_parses_back() {
    let filter = "metric.`acc` >= 0.8 and (tags.\"my tag\" = 'it''s' or `Run name` ilike '%PS%') \
                  AND (params.a IN ('x') OR (params.b IS NULL OR created < 5))";
    let expr = runs(filter);
    let shown = expr.to_string();
    assert_eq!(
        shown,
        "metrics.acc >= 0.8 AND (tags.`my tag` = 'it''s' OR run_name ILIKE '%PS%') \
         AND (params.a IN ('x') OR (params.b IS NULL OR start_time < 5))"
    );
    assert_eq!(runs(&shown), expr);
}

#[test]
fn display_quotes_keys_and_escapes_values() {
    let expr = cmp(Entity::Tag, "a`b\\c", Op::Eq, text("x'y\\z"));
    assert_eq!(expr.to_string(), r"tags.`a``b\\c` = 'x''y\\z'");
    assert_eq!(runs(&expr.to_string()), expr);
    let expr = cmp(Entity::Metric, "m", Op::Lt, Value::Num(-1.5e-7));
    assert_eq!(expr.to_string(), "metrics.m < -1.5e-7");
    assert_eq!(runs(&expr.to_string()), expr);
}
