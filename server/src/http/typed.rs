//! The hot write bodies (log-batch, log-metric) decoded straight into typed values; a body in any other shape goes to `Req`.
//!
//! `Req` owns MLflow's leniencies and every error message. This path takes only the
//! shape clients send (snake_case names, numbers as JSON numbers, no other field) and
//! applies the same checks; any doubt (an unknown field, a string where a number goes,
//! a check that fails) answers `None` and the caller reads the body again through
//! `Req`, which then accepts it as before or refuses it with its own message. It skips
//! the `serde_json::Value` tree: a map and a string per field, which for a 1,000-point
//! batch cost as much server CPU as storing it.

use crate::store::Batch;
use cairn_schema::limits::*;
use cairn_schema::{validate, Metric, Param, Tag};
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBatch<'a> {
    #[serde(borrow)]
    run_id: Cow<'a, str>,
    #[serde(default, borrow)]
    metrics: Vec<WireMetric<'a>>,
    #[serde(default, borrow)]
    params: Vec<WireKeyValue<'a>>,
    #[serde(default, borrow)]
    tags: Vec<WireKeyValue<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMetric<'a> {
    #[serde(borrow)]
    key: Cow<'a, str>,
    value: f64,
    timestamp: i64,
    #[serde(default)]
    step: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireKeyValue<'a> {
    #[serde(borrow)]
    key: Cow<'a, str>,
    #[serde(default)]
    value: Option<String>,
}

/// A log-metric body as the MLflow client sends it (`run_uuid` beside `run_id`). It
/// repeats `WireMetric`'s fields: serde's `flatten` cannot be combined with
/// `deny_unknown_fields`, which this path depends on.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireLogMetric<'a> {
    #[serde(default)]
    run_id: Option<String>,
    #[serde(default)]
    run_uuid: Option<String>,
    #[serde(borrow)]
    key: Cow<'a, str>,
    value: f64,
    timestamp: i64,
    #[serde(default)]
    step: Option<i64>,
}

/// A log-batch body's run id and batch, when the body has the usual shape and passes
/// every check `Req` would make.
pub fn log_batch(body: &[u8]) -> Option<(String, Batch)> {
    let wire: WireBatch = serde_json::from_slice(body).ok()?;
    let (m, p, t) = (wire.metrics.len(), wire.params.len(), wire.tags.len());
    if m > MAX_METRICS_PER_BATCH
        || p > MAX_PARAMS_PER_BATCH
        || t > MAX_TAGS_PER_BATCH
        || m + p + t > MAX_ENTITIES_PER_BATCH
    {
        return None;
    }
    let run_id = run_id(Some(&wire.run_id))?;
    let batch = Batch {
        metrics: wire
            .metrics
            .into_iter()
            .map(|m| metric(m.key, m.value, m.timestamp, m.step))
            .collect::<Option<_>>()?,
        params: wire
            .params
            .into_iter()
            .map(|p| {
                let (key, value) = key_value("Param key", p, MAX_PARAM_VALUE_LENGTH)?;
                Some(Param { key, value })
            })
            .collect::<Option<Vec<_>>>()?,
        tags: wire
            .tags
            .into_iter()
            .map(|t| {
                let (key, value) = key_value("Tag key", t, MAX_RUN_TAG_VALUE_LENGTH)?;
                Some(Tag { key, value })
            })
            .collect::<Option<_>>()?,
        model_metrics: Vec::new(),
    };
    let mut keys: Vec<&str> = batch.params.iter().map(|p| p.key.as_str()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    Some((run_id, batch))
}

/// A log-metric body's run id and point, on the same terms as `log_batch`.
pub fn log_metric(body: &[u8]) -> Option<(String, Metric)> {
    let wire: WireLogMetric = serde_json::from_slice(body).ok()?;
    // `Req` takes the first non-empty of `run_id`, `run_uuid`, and refuses a NUL in any.
    let ids = || [&wire.run_id, &wire.run_uuid].into_iter().flatten();
    if ids().any(|s| s.contains('\0')) {
        return None;
    }
    let id = ids().find(|s| !s.is_empty()).map(String::as_str);
    let run_id = run_id(id)?;
    Some((
        run_id,
        metric(wire.key, wire.value, wire.timestamp, wire.step)?,
    ))
}

/// A text field `Req` would take as it is: non-empty and free of NUL.
fn plain(s: &str) -> Option<&str> {
    (!s.is_empty() && !s.contains('\0')).then_some(s)
}

fn run_id(id: Option<&str>) -> Option<String> {
    let id = plain(id?)?;
    validate::run_id(id).ok()?;
    Some(id.to_owned())
}

fn metric(key: Cow<str>, value: f64, timestamp: i64, step: Option<i64>) -> Option<Metric> {
    validate::key("Metric name", plain(&key)?).ok()?;
    (timestamp >= 0).then(|| Metric {
        key: key.into_owned(),
        value,
        timestamp,
        step: step.unwrap_or(0),
        run_id: None,
    })
}

fn key_value(what: &str, kv: WireKeyValue, max_value: usize) -> Option<(String, String)> {
    validate::key(what, plain(&kv.key)?).ok()?;
    let value = kv.value.unwrap_or_default();
    if value.contains('\0') {
        return None;
    }
    Some((kv.key.into_owned(), validate::truncate(&value, max_value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_batch_is_read_whole() {
        let body = br#"{"run_id":"0123456789abcdef0123456789abcdef",
            "metrics":[{"key":"loss","value":0.5,"timestamp":7,"step":2},{"key":"acc","value":1,"timestamp":8}],
            "params":[{"key":"lr","value":"0.01"},{"key":"empty"}],
            "tags":[{"key":"team","value":"a"}]}"#;
        let (id, batch) = log_batch(body).unwrap();
        assert_eq!(id, "0123456789abcdef0123456789abcdef");
        assert_eq!(batch.metrics.len(), 2);
        assert_eq!((batch.metrics[1].value, batch.metrics[1].step), (1.0, 0));
        assert_eq!(batch.params[1].value, "");
        assert_eq!(batch.tags[0].value, "a");
    }

    #[test]
    fn anything_unusual_is_left_to_req() {
        let id = "0123456789abcdef0123456789abcdef";
        let unusual = [
            format!(r#"{{"runId":"{id}"}}"#),
            format!(r#"{{"run_id":"{id}","metrics":[{{"key":"m","value":"NaN","timestamp":1}}]}}"#),
            format!(r#"{{"run_id":"{id}","metrics":[{{"key":"m","value":1,"timestamp":"1"}}]}}"#),
            format!(r#"{{"run_id":"{id}","metrics":[{{"key":"m","value":1,"timestamp":-1}}]}}"#),
            format!(
                r#"{{"run_id":"{id}","metrics":[{{"key":"m","value":1,"timestamp":1,"model_id":"x"}}]}}"#
            ),
            format!(
                r#"{{"run_id":"{id}","params":[{{"key":"p","value":"a"}},{{"key":"p","value":"b"}}]}}"#
            ),
            format!(r#"{{"run_id":"{id}","params":[{{"key":"","value":"a"}}]}}"#),
            format!(r#"{{"run_id":"{id}","params":[{{"key":"../p","value":"a"}}]}}"#),
            format!(r#"{{"run_id":"{id}","tags":[{{"key":"t","value":"a\u0000b"}}]}}"#),
            format!(r#"{{"run_id":"{id}","run_id":"{id}"}}"#),
            format!(r#"{{"run_id":"{id}","metrics":null}}"#),
            format!(r#""{{\"run_id\":\"{id}\"}}""#),
            r#"{"run_id":"not a run id"}"#.to_owned(),
            r#"{"run_id":""}"#.to_owned(),
        ];
        for body in unusual {
            assert!(log_batch(body.as_bytes()).is_none(), "{body}");
        }
    }

    #[test]
    fn log_metric_takes_run_uuid_when_run_id_is_empty_as_req_does() {
        let id = "0123456789abcdef0123456789abcdef";
        let body = format!(
            r#"{{"run_id":"","run_uuid":"{id}","key":"loss","value":2.5,"timestamp":3,"step":-4}}"#
        );
        let (got, m) = log_metric(body.as_bytes()).unwrap();
        assert_eq!((got.as_str(), m.value, m.step), (id, 2.5, -4));
        assert!(log_metric(br#"{"run_id":"","key":"loss","value":2.5,"timestamp":3}"#).is_none());
    }

    mod equivalence {
        //! Whatever the typed path accepts, `Req` reads to the very same values
        //! (`PROPTEST_CASES` scales it; CI runs it at 20,000).
        use super::super::super::request::Req;
        use super::super::super::runs::{batch_from, point_from};
        use super::*;
        use proptest::prelude::*;
        use serde_json::{json, Map, Value};

        const RUN: &str = "0123456789abcdef0123456789abcdef";

        fn text() -> impl Strategy<Value = Value> {
            prop_oneof![
                4 => prop::sample::select(vec!["loss", "acc", "m/1", "a b", "é", "x.y-z_0"])
                    .prop_map(Value::from),
                1 => prop::sample::select(vec!["", "../x", "a\u{0}b", "NaN", "1", " "])
                    .prop_map(Value::from),
                1 => any::<String>().prop_map(Value::from),
                1 => Just(Value::Null),
                1 => any::<i64>().prop_map(Value::from),
            ]
        }

        fn number() -> impl Strategy<Value = Value> {
            prop_oneof![
                4 => any::<i64>().prop_map(Value::from),
                2 => (-3i64..3).prop_map(Value::from),
                2 => (0i64..10_000_000_000_000).prop_map(Value::from),
                3 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
                    .map_or(Value::Null, Value::Number)),
                1 => prop::sample::select(vec!["NaN", "7", "-Infinity", ""]).prop_map(Value::from),
                1 => Just(Value::Null),
                1 => any::<u64>().prop_map(Value::from),
            ]
        }

        /// An object with some of `fields` (each maybe misspelled) and maybe a stray one.
        fn object(
            fields: Vec<(&'static str, BoxedStrategy<Value>)>,
        ) -> impl Strategy<Value = Value> {
            let n = fields.len();
            let (names, values): (Vec<_>, Vec<_>) = fields.into_iter().unzip();
            (
                prop::collection::vec(prop::bool::weighted(0.85), n),
                values,
                prop::option::weighted(
                    0.05,
                    prop::sample::select(vec!["model_id", "runId", "extra"]),
                ),
            )
                .prop_map(move |(keep, values, stray)| {
                    let mut map = Map::new();
                    for ((name, value), keep) in names.iter().zip(values).zip(keep) {
                        if keep {
                            map.insert((*name).to_owned(), value);
                        }
                    }
                    if let Some(stray) = stray {
                        map.insert(stray.to_owned(), json!("x"));
                    }
                    Value::Object(map)
                })
        }

        fn metric_object() -> impl Strategy<Value = Value> {
            object(vec![
                ("key", text().boxed()),
                ("value", number().boxed()),
                ("timestamp", number().boxed()),
                ("step", number().boxed()),
            ])
        }

        fn key_value_object() -> impl Strategy<Value = Value> {
            object(vec![("key", text().boxed()), ("value", text().boxed())])
        }

        fn run_id() -> BoxedStrategy<Value> {
            prop_oneof![6 => Just(Value::from(RUN)), 1 => text()].boxed()
        }

        fn batch_body() -> impl Strategy<Value = Value> {
            object(vec![
                ("run_id", run_id()),
                (
                    "metrics",
                    prop::collection::vec(metric_object(), 0..4)
                        .prop_map(Value::Array)
                        .boxed(),
                ),
                (
                    "params",
                    prop::collection::vec(key_value_object(), 0..3)
                        .prop_map(Value::Array)
                        .boxed(),
                ),
                (
                    "tags",
                    prop::collection::vec(key_value_object(), 0..3)
                        .prop_map(Value::Array)
                        .boxed(),
                ),
            ])
        }

        fn metric_body() -> impl Strategy<Value = Value> {
            object(vec![
                ("run_id", run_id()),
                ("run_uuid", run_id()),
                ("key", text().boxed()),
                ("value", number().boxed()),
                ("timestamp", number().boxed()),
                ("step", number().boxed()),
            ])
        }

        fn slow(
            read: fn(&Req) -> Result<(String, Batch), crate::http::HttpError>,
            body: &[u8],
        ) -> String {
            match Req::from_json(body).and_then(|r| read(&r)) {
                Ok(read) => format!("{read:?}"),
                Err(e) => format!("refused: {e:?}"),
            }
        }

        proptest! {
            #[test]
            fn a_batch_the_typed_path_reads_is_the_batch_req_reads(body in batch_body()) {
                let body = serde_json::to_vec(&body).unwrap();
                if let Some(fast) = log_batch(&body) {
                    prop_assert_eq!(format!("{fast:?}"), slow(batch_from, &body));
                }
            }

            #[test]
            fn a_point_the_typed_path_reads_is_the_point_req_reads(body in metric_body()) {
                let body = serde_json::to_vec(&body).unwrap();
                if let Some((id, point)) = log_metric(&body) {
                    let fast = (id, Batch { metrics: vec![point], ..Batch::default() });
                    prop_assert_eq!(format!("{fast:?}"), slow(point_from, &body));
                }
            }
        }

        #[test]
        fn the_generated_bodies_often_take_the_typed_path() {
            use proptest::strategy::ValueTree;
            use proptest::test_runner::TestRunner;
            let mut runner = TestRunner::deterministic();
            let (mut batches, mut points) = (0, 0);
            for _ in 0..2_000 {
                let b = serde_json::to_vec(&batch_body().new_tree(&mut runner).unwrap().current())
                    .unwrap();
                batches += usize::from(log_batch(&b).is_some());
                let m = serde_json::to_vec(&metric_body().new_tree(&mut runner).unwrap().current())
                    .unwrap();
                points += usize::from(log_metric(&m).is_some());
            }
            assert!(
                batches > 100 && points > 100,
                "typed batches {batches}, points {points} of 2,000"
            );
        }
    }
}
