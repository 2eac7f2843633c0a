//! Wrong JSON types for every field of every endpoint, and NaN or Infinity where an integer belongs.

use super::endpoints;
use super::mutate::{nodes, replaced, show, splice, RAW};
use super::*;

const TYPES: &str = "wrong JSON types";
const NAN: &str = "NaN/Inf misplaced";

/// Values of another JSON type than `v`: string for number, object for string, array
/// for scalar, bool for anything. A single string where a list of strings goes is
/// MLflow's query-string form, so lists of strings are not offered one.
fn wrong_types(v: &Value) -> Vec<Value> {
    match v {
        Value::String(_) => vec![json!(7), json!({}), json!(["x"]), json!(true)],
        Value::Number(n) if n.is_i64() => {
            vec![json!("abc"), json!({}), json!([1]), json!(true), json!(1.5)]
        }
        Value::Number(_) => vec![json!("abc"), json!({}), json!([1.5]), json!(true)],
        Value::Bool(_) => vec![json!("maybe"), json!(1), json!({}), json!([true])],
        Value::Array(items) if items.iter().all(Value::is_string) => {
            vec![json!({}), json!(7), json!(true)]
        }
        Value::Array(_) => vec![json!("x"), json!(7), json!({}), json!(true)],
        Value::Object(_) => vec![json!("x"), json!(7), json!([]), json!(true)],
        Value::Null => Vec::new(),
    }
}

/// Query values that are not what an integer or boolean parameter takes.
fn wrong_query_values(v: &str) -> Vec<&'static str> {
    if v.parse::<i64>().is_ok() {
        vec!["abc", "1.5", "[1]", "{}", "true", "0x10", "1e3", "1_000"]
    } else if v == "false" || v == "true" {
        vec!["maybe", "2", "{}", "[true]", "yes"]
    } else {
        Vec::new()
    }
}

#[test]
fn every_field_of_every_endpoint_refuses_a_wrong_json_type_and_nothing_is_written() {
    let w = World::new();
    let all = endpoints::all(&w);
    let before = w.fingerprint();
    let mut tally = Tally::default();
    for e in &all {
        if e.is_query() {
            for (path, v) in nodes(&e.body) {
                for bad in wrong_query_values(v.as_str().unwrap_or_default()) {
                    let call = e.call(&replaced(&e.body, &path, json!(bad)));
                    w.refused_as(&mut tally, TYPES, &call, 400, "INVALID_PARAMETER_VALUE");
                }
            }
            continue;
        }
        if e.body.as_object().is_some_and(|m| !m.is_empty()) {
            // The body itself as something other than an object.
            for bad in ["[]", "7", "true", "null", "\"x\"", "[{}]", "\"[]\""] {
                w.refused_as(
                    &mut tally,
                    TYPES,
                    &e.raw(bad),
                    400,
                    "INVALID_PARAMETER_VALUE",
                );
            }
        }
        for (path, v) in nodes(&e.body) {
            for bad in wrong_types(&v) {
                let body = replaced(&e.body, &path, bad);
                let call = e.call(&body);
                let reply = w.send(&call);
                tally.add(TYPES);
                let what = format!("[{TYPES}] field {}: {}", show(&path), call.describe());
                expect_envelope(&reply, &what);
                assert_eq!(reply.status, 400, "{what}: {}", reply.text());
            }
        }
    }
    w.unchanged(&before, TYPES);
    w.accepts_every_baseline(&all);
    tally.finish(&[TYPES]);
}

/// Whether a field holds an integer: a JSON integer, or a decimal string (ids,
/// versions, query numbers).
fn integer_field(v: &Value) -> bool {
    v.is_i64() || v.as_str().is_some_and(|s| s.parse::<i64>().is_ok())
}

#[test]
fn nan_and_infinity_in_timestamps_steps_limits_ids_and_versions_are_refused() {
    let w = World::new();
    let all = endpoints::all(&w);
    let before = w.fingerprint();
    let mut tally = Tally::default();
    let strings = [
        "NaN",
        "Infinity",
        "-Infinity",
        "nan",
        "inf",
        "1e999",
        "-0x1p3",
    ];
    let raw = [
        "NaN",
        "Infinity",
        "-Infinity",
        "1e999",
        "-1e999",
        "1e300",
        "9.3e18",
    ];
    for e in &all {
        for (path, _) in nodes(&e.body).into_iter().filter(|(_, v)| integer_field(v)) {
            for s in strings {
                let call = e.call(&replaced(&e.body, &path, json!(s)));
                w.refused_as(&mut tally, NAN, &call, 400, "INVALID_PARAMETER_VALUE");
            }
            if e.is_query() {
                continue;
            }
            for token in raw {
                let body = splice(&replaced(&e.body, &path, json!(RAW)), token);
                let call = e.raw(&body);
                let reply = w.refused(&mut tally, NAN, &call);
                assert_eq!(reply.status, 400, "{}: {}", call.describe(), reply.text());
            }
        }
    }
    // Part numbers in a multipart upload's URL.
    for bad in ["NaN", "Infinity", "-1", "0", "1e3", "10001", "1.0"] {
        let call = Call::bytes(
            "PUT",
            format!("{MPU}/part/{}/{bad}", w.uploads[1]),
            None,
            b"x".to_vec(),
        );
        w.refused_as(&mut tally, NAN, &call, 400, "INVALID_PARAMETER_VALUE");
    }
    w.unchanged(&before, NAN);
    w.accepts_every_baseline(&all);
    tally.finish(&[NAN]);
}
