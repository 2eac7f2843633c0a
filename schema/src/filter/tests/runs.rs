//! runs/search filters: every entity, prefix, comparator and attribute alias.

use super::*;

#[test]
fn metrics_take_every_numeric_comparator_under_both_prefixes() {
    for prefix in ["metrics", "metric"] {
        for (sym, op) in NUMERIC {
            let filter = format!("{prefix}.acc {sym} 0.5");
            assert_eq!(
                runs(&filter),
                cmp(Entity::Metric, "acc", op, Value::Num(0.5)),
                "{filter}"
            );
        }
    }
}

#[test]
fn metric_values_take_signs_and_exponents() {
    assert_eq!(
        runs("metrics.loss > -1.5e3"),
        cmp(Entity::Metric, "loss", Op::Gt, Value::Num(-1500.0))
    );
    assert_eq!(
        runs("metrics.loss<=+2"),
        cmp(Entity::Metric, "loss", Op::Le, Value::Num(2.0))
    );
    assert_eq!(
        runs("metric.`acc` >= .8"),
        cmp(Entity::Metric, "acc", Op::Ge, Value::Num(0.8))
    );
}

#[test]
fn a_quoted_metric_value_is_rejected_with_mlflows_message() {
    assert_eq!(
        runs_error("metrics.acc = '0.9'"),
        "Expected numeric value type for metric. Found '0.9'"
    );
    assert_eq!(
        runs_error("metrics.acc = high"),
        "Expected numeric value type for metric. Found high"
    );
}

#[test]
fn a_metric_list_is_rejected_with_mlflows_message() {
    assert_eq!(
        runs_error("metrics.acc IN (1, 2)"),
        "Expected numeric value type for metric. Found (1, 2)"
    );
}

#[test]
fn string_comparators_on_metrics_are_rejected() {
    let err = runs_error("metrics.acc LIKE 0.5");
    assert!(
        err.starts_with("Invalid comparator 'LIKE' for metric 'acc'."),
        "{err}"
    );
}

#[test]
fn params_and_tags_take_string_list_and_null_comparators_under_every_prefix() {
    let prefixes = [
        ("params", Entity::Param),
        ("param", Entity::Param),
        ("parameters", Entity::Param),
        ("parameter", Entity::Param),
        ("tags", Entity::Tag),
        ("tag", Entity::Tag),
    ];
    for (prefix, entity) in prefixes {
        for (sym, op) in STRING {
            let filter = format!("{prefix}.model {sym} 'c%'");
            assert_eq!(
                runs(&filter),
                cmp(entity, "model", op, text("c%")),
                "{filter}"
            );
        }
        for (sym, op) in LISTS {
            let filter = format!("{prefix}.model {sym} ('cnn', \"rnn\")");
            assert_eq!(
                runs(&filter),
                cmp(entity, "model", op, list(&["cnn", "rnn"])),
                "{filter}"
            );
        }
        for (sym, op) in NULLS {
            let filter = format!("{prefix}.model {sym}");
            assert_eq!(
                runs(&filter),
                cmp(entity, "model", op, Value::Null),
                "{filter}"
            );
        }
    }
}

#[test]
fn metrics_accept_null_checks_as_an_extension() {
    assert_eq!(
        runs("metrics.acc IS NULL"),
        cmp(Entity::Metric, "acc", Op::IsNull, Value::Null)
    );
    assert_eq!(
        runs("metrics.acc is not null"),
        cmp(Entity::Metric, "acc", Op::IsNotNull, Value::Null)
    );
}

#[test]
fn ordering_comparators_on_params_are_rejected() {
    let err = runs_error("params.lr > '0.001'");
    assert!(
        err.starts_with("Invalid comparator '>' for param 'lr'."),
        "{err}"
    );
    assert!(err.contains("'IS NOT NULL'"), "{err}");
}

#[test]
fn an_unquoted_string_value_is_rejected_with_mlflows_message() {
    assert_eq!(
        runs_error("params.model = cnn"),
        "Parameter value is either not quoted or unidentified quote types used for string \
         value cnn. Use either single or double quotes."
    );
}

#[test]
fn numbers_and_backticks_are_not_string_values() {
    assert!(runs_error("params.lr = 0.01").contains("string value 0.01."));
    assert!(runs_error("tags.team = `a`").contains("string value `a`."));
    assert!(runs_error("tags.team IN ('a', b)").contains("found b in ('a', b)"));
    assert!(runs_error("tags.team = ('a')").contains("lists are only allowed with IN"));
    assert!(runs_error("tags.team IN 'a'").contains("IN expects a parenthesised list"));
}

#[test]
fn string_attributes_take_string_comparators_under_every_prefix() {
    for prefix in ["", "attributes.", "attribute.", "attr.", "run."] {
        for key in ["run_id", "run_name", "status", "user_id", "artifact_uri"] {
            for (sym, op) in STRING {
                let filter = format!("{prefix}{key} {sym} 'x'");
                assert_eq!(
                    runs(&filter),
                    cmp(Entity::Attribute, key, op, text("x")),
                    "{filter}"
                );
            }
        }
    }
}

#[test]
fn run_id_alone_takes_lists() {
    assert_eq!(
        runs("attributes.run_id IN ('a1', 'b2')"),
        cmp(Entity::Attribute, "run_id", Op::In, list(&["a1", "b2"]))
    );
    assert_eq!(
        runs("run_id NOT IN ('a1')"),
        cmp(Entity::Attribute, "run_id", Op::NotIn, list(&["a1"]))
    );
    for key in ["status", "run_name", "user_id", "artifact_uri"] {
        assert_eq!(
            runs_error(&format!("attributes.{key} IN ('FINISHED')")),
            "Only ['run_id'] attributes support comparison with a list of quoted string values."
        );
    }
}

#[test]
fn numeric_attributes_take_numeric_comparators_and_unquoted_numbers() {
    for key in ["start_time", "end_time"] {
        for (sym, op) in NUMERIC {
            let filter = format!("attributes.{key} {sym} 1700000002500");
            let want = cmp(Entity::Attribute, key, op, Value::Num(1_700_000_002_500.0));
            assert_eq!(runs(&filter), want, "{filter}");
        }
        let err = runs_error(&format!("{key} > '5'"));
        assert_eq!(
            err,
            format!("Expected numeric value type for numeric attribute '{key}'. Found '5'")
        );
        assert!(runs_error(&format!("{key} LIKE 5")).starts_with("Invalid comparator 'LIKE'"));
    }
}

#[test]
fn attribute_aliases_resolve_to_canonical_keys() {
    let cases = [
        ("`Run name` = 'alpha'", "run_name"),
        ("\"run name\" = 'alpha'", "run_name"),
        ("attributes.`Run Name` = 'alpha'", "run_name"),
        ("created >= 5", "start_time"),
        ("Created >= 5", "start_time"),
        ("`run_id` = 'alpha'", "run_id"),
    ];
    for (filter, key) in cases {
        let Expr::Cmp(c) = runs(filter) else {
            panic!("{filter}")
        };
        assert_eq!(
            (c.entity, c.key.as_str()),
            (Entity::Attribute, key),
            "{filter}"
        );
    }
}

#[test]
fn null_checks_on_attributes_are_limited_to_end_time() {
    assert_eq!(
        runs("end_time IS NULL"),
        cmp(Entity::Attribute, "end_time", Op::IsNull, Value::Null)
    );
    for filter in ["start_time IS NULL", "status IS NOT NULL", "run_id IS NULL"] {
        let err = runs_error(filter);
        assert!(
            err.starts_with("IS NULL and IS NOT NULL are not supported for attribute"),
            "{err}"
        );
    }
}

#[test]
fn unknown_attributes_are_rejected_naming_the_valid_keys() {
    let err = runs_error("attributes.foo = 'x'");
    assert!(
        err.starts_with("Invalid attribute key 'foo' specified. Valid keys are ['run_id',"),
        "{err}"
    );
    assert!(
        err.contains("'Run name'") && err.contains("'created'"),
        "{err}"
    );
    assert!(runs_error("lifecycle_stage = 'active'")
        .starts_with("Invalid attribute key 'lifecycle_stage'"));
    assert!(runs_error("Status = 'RUNNING'").starts_with("Invalid attribute key 'Status'"));
}

#[test]
fn unknown_entities_are_rejected_with_mlflows_message() {
    assert_eq!(
        runs_error("foo.bar = 'x'"),
        "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"
    );
    assert!(runs_error("Metrics.acc > 1").starts_with("Invalid entity type 'Metrics'"));
}

#[test]
fn datasets_take_string_and_list_comparators_on_their_three_keys() {
    for prefix in ["dataset", "datasets"] {
        for key in ["name", "digest", "context"] {
            for (sym, op) in STRING {
                let filter = format!("{prefix}.{key} {sym} 'iris'");
                assert_eq!(
                    runs(&filter),
                    cmp(Entity::Dataset, key, op, text("iris")),
                    "{filter}"
                );
            }
            for (sym, op) in LISTS {
                let filter = format!("{prefix}.{key} {sym} ('d1', 'd2')");
                assert_eq!(
                    runs(&filter),
                    cmp(Entity::Dataset, key, op, list(&["d1", "d2"])),
                    "{filter}"
                );
            }
        }
    }
}

#[test]
fn invalid_dataset_clauses_are_rejected() {
    assert!(runs_error("dataset.size = '1'").starts_with("Invalid dataset key 'size' specified."));
    assert!(
        runs_error("dataset.name IS NULL").starts_with("IS NULL and IS NOT NULL are not supported")
    );
    assert!(runs_error("dataset.name > 'a'")
        .starts_with("Invalid comparator '>' for dataset key 'name'"));
}

#[test]
fn keys_with_dots_need_no_quotes_but_other_characters_do() {
    assert_eq!(
        runs("tags.mlflow.runName = 'alpha'"),
        cmp(Entity::Tag, "mlflow.runName", Op::Eq, text("alpha"))
    );
    assert_eq!(
        runs("tags.`mlflow.runName` LIKE '%a'"),
        cmp(Entity::Tag, "mlflow.runName", Op::Like, text("%a"))
    );
    assert_eq!(
        runs("tags.`my tag` = 'x'"),
        cmp(Entity::Tag, "my tag", Op::Eq, text("x"))
    );
    assert_eq!(
        runs("tags.\"my tag\" = 'x'"),
        cmp(Entity::Tag, "my tag", Op::Eq, text("x"))
    );
    assert_eq!(
        runs("params.`my-param` = 'x'"),
        cmp(Entity::Param, "my-param", Op::Eq, text("x"))
    );
    let err = runs_error("params.my-param = 'x'");
    assert!(
        err.contains("must be wrapped in backticks or double quotes"),
        "{err}"
    );
}

#[test]
fn non_ascii_keys_and_values_are_accepted() {
    assert_eq!(
        runs("tags.ключ = 'значение'"),
        cmp(Entity::Tag, "ключ", Op::Eq, text("значение"))
    );
    assert_eq!(
        runs("params.`温度 ℃` != '😀'"),
        cmp(Entity::Param, "温度 ℃", Op::Ne, text("😀"))
    );
}

#[test]
fn the_three_clause_conjunction_from_the_transcripts_parses() {
    assert_eq!(
        runs("metrics.acc > 0.5 AND params.model = 'cnn' AND tags.team = 'a'"),
        Expr::And(vec![
            cmp(Entity::Metric, "acc", Op::Gt, Value::Num(0.5)),
            cmp(Entity::Param, "model", Op::Eq, text("cnn")),
            cmp(Entity::Tag, "team", Op::Eq, text("a")),
        ])
    );
}

#[test]
fn mlflows_grammar_refuses_every_grouping_parenthesis_but_keeps_in_lists() {
    use crate::filter::parse_mlflow_filter;
    for filter in [
        "(params.model = 'cnn')",
        "(params.model = 'cnn' AND metrics.acc > 1)",
        "(params.model = 'cnn') AND metrics.acc > 1",
        "metrics.acc > 1 AND ((params.model = 'cnn'))",
    ] {
        assert!(
            parse_mlflow_filter(Dialect::Runs, filter).is_err(),
            "{filter}"
        );
        assert!(parse_filter(Dialect::Runs, filter).is_ok(), "{filter}");
    }
    for filter in [
        "run_id IN ('a', 'b') AND params.x = '('",
        "run_id NOT IN ('a')",
    ] {
        assert!(
            parse_mlflow_filter(Dialect::Runs, filter).is_ok(),
            "{filter}"
        );
    }
}
