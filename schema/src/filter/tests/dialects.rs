//! experiments/search, registered-models/search and model-versions/search filters.

use super::*;

const EXPERIMENTS: Dialect = Dialect::Experiments;
const MODELS: Dialect = Dialect::RegisteredModels;
const VERSIONS: Dialect = Dialect::ModelVersions;

#[test]
fn experiment_names_take_string_comparators_bare_or_with_attribute_prefix() {
    for prefix in ["", "attribute."] {
        for (sym, op) in STRING {
            let filter = format!("{prefix}name {sym} 'search%'");
            let want = cmp(Entity::Attribute, "name", op, text("search%"));
            assert_eq!(parse(EXPERIMENTS, &filter), want, "{filter}");
        }
    }
    assert!(error(EXPERIMENTS, "name IN ('a')")
        .starts_with("Invalid comparator 'IN' for attribute 'name'"));
}

#[test]
fn the_plural_attributes_prefix_is_not_an_experiment_entity() {
    assert_eq!(
        error(EXPERIMENTS, "attributes.name = 'x'"),
        "Invalid entity type 'attributes'. Valid entity types are ('attribute', 'tag', 'tags')"
    );
}

#[test]
fn experiment_ids_take_equality_and_lists_of_quoted_ids() {
    assert_eq!(
        parse(EXPERIMENTS, "experiment_id IN ('8', '9')"),
        cmp(
            Entity::Attribute,
            "experiment_id",
            Op::In,
            list(&["8", "9"])
        )
    );
    assert_eq!(
        parse(EXPERIMENTS, "experiment_id != '8'"),
        cmp(Entity::Attribute, "experiment_id", Op::Ne, text("8"))
    );
    for filter in ["experiment_id > '1'", "experiment_id LIKE '1%'"] {
        let err = error(EXPERIMENTS, filter);
        assert!(err.starts_with("Invalid comparator"), "{err}");
        assert!(err.contains("for attribute 'experiment_id'"), "{err}");
    }
    assert!(error(EXPERIMENTS, "experiment_id = 8").contains("not quoted"));
}

#[test]
fn experiment_times_take_integers_only() {
    for key in ["creation_time", "last_update_time"] {
        for (sym, op) in NUMERIC {
            let filter = format!("{key} {sym} 1700000000000");
            let want = cmp(Entity::Attribute, key, op, Value::Num(1.7e12));
            assert_eq!(parse(EXPERIMENTS, &filter), want, "{filter}");
        }
        let err = error(EXPERIMENTS, &format!("{key} > 1.5"));
        assert_eq!(
            err,
            format!("Invalid value for numeric attribute '{key}': '1.5'. Expected an integer")
        );
        assert!(
            error(EXPERIMENTS, &format!("{key} > '1'")).starts_with("Expected numeric value type")
        );
        assert!(error(EXPERIMENTS, &format!("{key} IS NULL")).contains("only allowed for tags"));
    }
    assert_eq!(
        parse(EXPERIMENTS, "creation_time > 1e3"),
        cmp(
            Entity::Attribute,
            "creation_time",
            Op::Gt,
            Value::Num(1000.0)
        )
    );
    assert!(error(EXPERIMENTS, "creation_time > 1e19").contains("Expected an integer"));
}

#[test]
fn tags_take_every_string_comparator_in_every_dialect() {
    for dialect in [EXPERIMENTS, MODELS, VERSIONS] {
        for prefix in ["tags", "tag"] {
            for (sym, op) in STRING {
                let filter = format!("{prefix}.team {sym} 'a'");
                assert_eq!(
                    parse(dialect, &filter),
                    cmp(Entity::Tag, "team", op, text("a")),
                    "{filter}"
                );
            }
            for (sym, op) in LISTS {
                let filter = format!("{prefix}.team {sym} ('a')");
                assert_eq!(
                    parse(dialect, &filter),
                    cmp(Entity::Tag, "team", op, list(&["a"])),
                    "{filter}"
                );
            }
            for (sym, op) in NULLS {
                let filter = format!("{prefix}.team {sym}");
                assert_eq!(
                    parse(dialect, &filter),
                    cmp(Entity::Tag, "team", op, Value::Null),
                    "{filter}"
                );
            }
        }
    }
}

#[test]
fn runs_only_entities_are_rejected_outside_runs() {
    for dialect in [EXPERIMENTS, MODELS, VERSIONS] {
        for prefix in ["params", "metrics", "dataset", "run"] {
            assert_eq!(
                error(dialect, &format!("{prefix}.a = 'b'")),
                format!("Invalid entity type '{prefix}'. Valid entity types are ('attribute', 'tag', 'tags')")
            );
        }
    }
}

#[test]
fn the_experiment_filter_from_the_transcripts_parses() {
    assert_eq!(
        parse(EXPERIMENTS, "tags.team IS NULL AND name LIKE 'search%'"),
        Expr::And(vec![
            cmp(Entity::Tag, "team", Op::IsNull, Value::Null),
            cmp(Entity::Attribute, "name", Op::Like, text("search%")),
        ])
    );
}

#[test]
fn registered_model_names_take_string_and_list_comparators() {
    for prefix in ["", "attribute."] {
        for (sym, op) in STRING {
            let filter = format!("{prefix}name {sym} 'RM-%'");
            assert_eq!(
                parse(MODELS, &filter),
                cmp(Entity::Attribute, "name", op, text("RM-%")),
                "{filter}"
            );
        }
        for (sym, op) in LISTS {
            let filter = format!("{prefix}name {sym} ('RM-A', 'RM-B2')");
            let want = cmp(Entity::Attribute, "name", op, list(&["RM-A", "RM-B2"]));
            assert_eq!(parse(MODELS, &filter), want, "{filter}");
        }
    }
}

#[test]
fn other_registered_model_attributes_are_rejected() {
    assert_eq!(
        error(MODELS, "description = 'x'"),
        "Invalid attribute key 'description' specified. Valid keys are ['name']"
    );
    assert!(error(MODELS, "name IS NULL").starts_with("IS NULL and IS NOT NULL are not supported"));
    assert!(error(MODELS, "name > 'a'").starts_with("Invalid comparator '>' for attribute 'name'"));
}

#[test]
fn the_clients_prompt_filters_parse() {
    let is_prompt = |op, v| cmp(Entity::Tag, "mlflow.prompt.is_prompt", op, text(v));
    assert_eq!(
        parse(
            MODELS,
            "name LIKE 'a%' AND tag.`mlflow.prompt.is_prompt` != 'true'"
        ),
        Expr::And(vec![
            cmp(Entity::Attribute, "name", Op::Like, text("a%")),
            is_prompt(Op::Ne, "true"),
        ])
    );
    assert_eq!(
        parse(
            VERSIONS,
            "name = 'greeting' AND tags.`mlflow.prompt.is_prompt` = 'true'"
        ),
        Expr::And(vec![
            cmp(Entity::Attribute, "name", Op::Eq, text("greeting")),
            is_prompt(Op::Eq, "true"),
        ])
    );
}

#[test]
fn version_names_and_run_ids_take_string_and_list_comparators() {
    for key in ["name", "run_id"] {
        for (sym, op) in STRING {
            let filter = format!("{key} {sym} 'x'");
            assert_eq!(
                parse(VERSIONS, &filter),
                cmp(Entity::Attribute, key, op, text("x")),
                "{filter}"
            );
        }
        for (sym, op) in LISTS {
            let filter = format!("attribute.{key} {sym} ('x', 'y')");
            let want = cmp(Entity::Attribute, key, op, list(&["x", "y"]));
            assert_eq!(parse(VERSIONS, &filter), want, "{filter}");
        }
    }
}

#[test]
fn version_source_path_is_canonicalised_to_source() {
    for (sym, op) in STRING {
        let filter = format!("source_path {sym} 's3://%'");
        let want = cmp(Entity::Attribute, "source", op, text("s3://%"));
        assert_eq!(parse(VERSIONS, &filter), want, "{filter}");
        assert_eq!(parse(VERSIONS, &want.to_string()), want);
    }
    let err = error(VERSIONS, "source_path IN ('a')");
    assert!(
        err.starts_with("Invalid comparator 'IN' for attribute 'source'"),
        "{err}"
    );
}

#[test]
fn version_numbers_take_integer_comparisons() {
    for (sym, op) in NUMERIC {
        let filter = format!("version_number {sym} 2");
        let want = cmp(Entity::Attribute, "version_number", op, Value::Num(2.0));
        assert_eq!(parse(VERSIONS, &filter), want, "{filter}");
    }
    assert_eq!(
        error(VERSIONS, "version_number = 'abc'"),
        "Expected numeric value type for numeric attribute 'version_number'. Found 'abc'"
    );
    assert!(error(VERSIONS, "version_number = 1.5").contains("Expected an integer"));
    assert!(error(VERSIONS, "version_number LIKE 1").starts_with("Invalid comparator 'LIKE'"));
}

#[test]
fn current_stage_is_not_filterable() {
    let err = error(VERSIONS, "current_stage = 'Production'");
    assert!(err.starts_with("Invalid attribute key 'current_stage' specified. Valid keys are ['name', 'run_id', 'source_path'"), "{err}");
}
