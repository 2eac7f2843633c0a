//! order_by elements for every dialect.

use super::super::{parse_order_by, OrderKey};
use super::*;

fn key(dialect: Dialect, clause: &str) -> (Entity, String, bool) {
    match parse_order_by(dialect, clause) {
        Ok(OrderKey {
            entity,
            key,
            ascending,
        }) => (entity, key, ascending),
        Err(e) => panic!("{clause:?} should parse: {e}"),
    }
}

fn order_error(dialect: Dialect, clause: &str) -> String {
    match parse_order_by(dialect, clause) {
        Err(e) => e.0,
        Ok(k) => panic!("{clause:?} should be rejected, got {k:?}"),
    }
}

fn want(entity: Entity, k: &str, ascending: bool) -> (Entity, String, bool) {
    (entity, k.to_string(), ascending)
}

#[test]
fn the_direction_is_case_insensitive_and_defaults_to_ascending() {
    assert_eq!(
        key(Dialect::Runs, "metrics.acc DESC"),
        want(Entity::Metric, "acc", false)
    );
    assert_eq!(
        key(Dialect::Runs, "metrics.acc asc"),
        want(Entity::Metric, "acc", true)
    );
    assert_eq!(
        key(Dialect::Runs, "metrics.acc"),
        want(Entity::Metric, "acc", true)
    );
    assert_eq!(
        key(Dialect::Runs, "  metrics.`acc` desc "),
        want(Entity::Metric, "acc", false)
    );
}

#[test]
fn an_invalid_direction_is_rejected_with_mlflows_message() {
    assert_eq!(
        order_error(Dialect::Runs, "metrics.acc DESCENDING"),
        "Invalid ordering key in order_by clause 'metrics.acc DESCENDING'."
    );
    assert!(order_error(Dialect::Runs, "metrics.acc 1").starts_with("Invalid ordering key"));
}

#[test]
fn extra_or_missing_tokens_are_rejected() {
    let err = order_error(Dialect::Runs, "metrics.acc DESC, params.a");
    assert!(
        err.starts_with(
            "Invalid order_by clause 'metrics.acc DESC, params.a'. Could not be parsed"
        ),
        "{err}"
    );
    assert_eq!(
        order_error(Dialect::Runs, " "),
        "Invalid order_by clause ' '. It is empty."
    );
    assert!(order_error(Dialect::Runs, "DESC").starts_with("Invalid order_by key 'DESC'"));
    assert!(order_error(Dialect::Runs, "= DESC").contains("expected a field name but found '='"));
    let err = order_error(Dialect::Runs, "metrics.acc; DROP TABLE runs");
    assert!(
        err.starts_with(
            "Invalid order_by clause 'metrics.acc; DROP TABLE runs'. Invalid character ';'"
        ),
        "{err}"
    );
}

#[test]
fn runs_order_by_metrics_params_tags_and_every_attribute() {
    assert_eq!(
        key(Dialect::Runs, "params.model ASC"),
        want(Entity::Param, "model", true)
    );
    assert_eq!(
        key(Dialect::Runs, "param.model"),
        want(Entity::Param, "model", true)
    );
    assert_eq!(
        key(Dialect::Runs, "tags.`my tag` DESC"),
        want(Entity::Tag, "my tag", false)
    );
    assert_eq!(
        key(Dialect::Runs, "tag.mlflow.runName"),
        want(Entity::Tag, "mlflow.runName", true)
    );
    for attr in [
        "run_id",
        "run_name",
        "status",
        "user_id",
        "artifact_uri",
        "start_time",
        "end_time",
    ] {
        for prefix in ["", "attributes.", "attribute.", "attr.", "run."] {
            let clause = format!("{prefix}{attr} DESC");
            assert_eq!(
                key(Dialect::Runs, &clause),
                want(Entity::Attribute, attr, false),
                "{clause}"
            );
        }
    }
}

#[test]
fn runs_order_by_resolves_attribute_aliases() {
    assert_eq!(
        key(Dialect::Runs, "created"),
        want(Entity::Attribute, "start_time", true)
    );
    assert_eq!(
        key(Dialect::Runs, "`Run name` DESC"),
        want(Entity::Attribute, "run_name", false)
    );
    assert_eq!(
        key(Dialect::Runs, "\"Run Name\""),
        want(Entity::Attribute, "run_name", true)
    );
}

#[test]
fn runs_reject_ordering_by_datasets_and_unknown_fields() {
    assert!(order_error(Dialect::Runs, "dataset.name")
        .starts_with("Invalid order_by entity type 'dataset'"));
    assert!(order_error(Dialect::Runs, "lifecycle_stage")
        .starts_with("Invalid order_by key 'lifecycle_stage'"));
    assert!(order_error(Dialect::Runs, "foo.bar").starts_with("Invalid entity type 'foo'"));
    assert!(order_error(Dialect::Runs, "tags.").contains("the key is empty"));
}

#[test]
fn experiments_order_by_their_four_attributes_only() {
    for attr in ["name", "experiment_id", "creation_time", "last_update_time"] {
        assert_eq!(
            key(Dialect::Experiments, attr),
            want(Entity::Attribute, attr, true)
        );
        let clause = format!("attribute.{attr} DESC");
        assert_eq!(
            key(Dialect::Experiments, &clause),
            want(Entity::Attribute, attr, false)
        );
    }
    assert_eq!(
        order_error(Dialect::Experiments, "tags.team ASC"),
        "Invalid order_by entity: tag"
    );
    assert!(
        order_error(Dialect::Experiments, "params.a").starts_with("Invalid entity type 'params'")
    );
    assert!(
        order_error(Dialect::Experiments, "lifecycle_stage").starts_with("Invalid order_by key")
    );
}

#[test]
fn registered_models_order_by_name_or_last_update() {
    assert_eq!(
        key(Dialect::RegisteredModels, "name DESC"),
        want(Entity::Attribute, "name", false)
    );
    for clause in ["timestamp", "last_updated_timestamp"] {
        let got = key(Dialect::RegisteredModels, &format!("{clause} DESC"));
        assert_eq!(
            got,
            want(Entity::Attribute, "last_updated_timestamp", false)
        );
    }
    assert_eq!(
        order_error(Dialect::RegisteredModels, "creation_timestamp DESC"),
        "Invalid order_by key 'creation_timestamp' specified. Valid keys are ['name', 'timestamp', \
         'last_updated_timestamp']"
    );
    assert_eq!(
        order_error(Dialect::RegisteredModels, "tags.a"),
        "Invalid order_by entity: tag"
    );
}

#[test]
fn model_versions_order_by_their_four_attributes_only() {
    for attr in [
        "name",
        "version_number",
        "creation_timestamp",
        "last_updated_timestamp",
    ] {
        assert_eq!(
            key(Dialect::ModelVersions, &format!("{attr} ASC")),
            want(Entity::Attribute, attr, true)
        );
    }
    assert!(order_error(Dialect::ModelVersions, "timestamp")
        .starts_with("Invalid order_by key 'timestamp'"));
    assert!(
        order_error(Dialect::ModelVersions, "run_id").starts_with("Invalid order_by key 'run_id'")
    );
}
