//! MLflow's validation limits, in one place so the server and the client split batches alike.

/// Longest metric, param or run-tag key.
pub const MAX_KEY_LENGTH: usize = 250;
/// Param values longer than this are truncated, as MLflow does.
pub const MAX_PARAM_VALUE_LENGTH: usize = 6000;
/// Run-tag values longer than this are truncated, as MLflow does.
pub const MAX_RUN_TAG_VALUE_LENGTH: usize = 8000;
/// Longest experiment name.
pub const MAX_EXPERIMENT_NAME_LENGTH: usize = 500;
/// Longest experiment tag value.
pub const MAX_EXPERIMENT_TAG_VALUE_LENGTH: usize = 20000;
/// Most metrics in one log-batch request.
pub const MAX_METRICS_PER_BATCH: usize = 1000;
/// Most params in one log-batch request.
pub const MAX_PARAMS_PER_BATCH: usize = 100;
/// Most tags in one log-batch request.
pub const MAX_TAGS_PER_BATCH: usize = 100;
/// Most metrics, params and tags together in one log-batch request.
pub const MAX_ENTITIES_PER_BATCH: usize = 1000;
/// Largest `max_results` of runs/search and experiments/search.
pub const MAX_SEARCH_RESULTS: i64 = 50000;
/// Default `max_results` of runs/search.
pub const DEFAULT_RUN_SEARCH_RESULTS: i64 = 1000;
/// Most runs in one get-history-bulk-interval request.
pub const MAX_BULK_HISTORY_RUNS: usize = 100;
/// Largest and default `max_results` per run of get-history-bulk-interval.
pub const MAX_BULK_HISTORY_RESULTS: i64 = 2500;
/// Dataset field limits: name, digest, source, schema, profile.
pub const MAX_DATASET_NAME_LENGTH: usize = 500;
/// Longest dataset digest.
pub const MAX_DATASET_DIGEST_LENGTH: usize = 36;
/// Longest dataset source.
pub const MAX_DATASET_SOURCE_LENGTH: usize = 65535;
/// Longest dataset schema.
pub const MAX_DATASET_SCHEMA_LENGTH: usize = 1_048_575;
/// Longest dataset profile.
pub const MAX_DATASET_PROFILE_LENGTH: usize = 16_777_215;
/// Longest input-tag key and value.
pub const MAX_INPUT_TAG_KEY_LENGTH: usize = 255;
/// Longest input-tag value.
pub const MAX_INPUT_TAG_VALUE_LENGTH: usize = 500;
