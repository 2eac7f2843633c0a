//! Bodies that are not the JSON they claim: invalid UTF-8, JSON nested 10,000 deep, and the wrong content type.

use super::endpoints;
use super::mutate::{nodes, replaced, splice, RAW};
use super::*;

const UTF8: &str = "invalid UTF-8 bodies";
const DEEP: &str = "deep JSON";
const CONTENT: &str = "wrong content types";

/// Byte sequences that are not UTF-8: overlong `.` and `/`, a lone continuation byte,
/// bytes UTF-8 never uses, an encoded surrogate, a code point past U+10FFFF, a
/// truncated sequence.
const NOT_UTF8: &[&[u8]] = &[
    b"\xc0\xae\xc0\xae",
    b"\xc0\xaf",
    b"\xe0\x80\xae",
    b"\x80",
    b"\xff\xfe",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"a\xc3",
];

/// `body` with the `RAW` placeholder's quoted text replaced by the bytes `raw`.
fn splice_bytes(body: &Value, raw: &[u8]) -> Vec<u8> {
    let text = body.to_string();
    let placeholder = serde_json::to_string(RAW).unwrap();
    let at = text.find(&placeholder).expect("placeholder");
    let mut out = text.as_bytes()[..at].to_vec();
    out.extend_from_slice(raw);
    out.extend_from_slice(&text.as_bytes()[at + placeholder.len()..]);
    out
}

#[test]
fn bodies_and_queries_that_are_not_utf8_are_refused_and_write_nothing() {
    let w = World::new();
    let all = endpoints::all(&w);
    let before = w.fingerprint();
    let mut tally = Tally::default();
    for e in &all {
        for (path, _) in nodes(&e.body).into_iter().filter(|(_, v)| v.is_string()) {
            for bad in NOT_UTF8 {
                let call = if e.is_query() {
                    let escaped: String = bad.iter().map(|b| format!("%{b:02X}")).collect();
                    let query = with_query(&e.path, &replaced(&e.body, &path, json!(RAW)));
                    Call::get(query.replace(&enc(RAW), &escaped))
                } else {
                    let mut quoted = b"\"x".to_vec();
                    quoted.extend_from_slice(bad);
                    quoted.push(b'"');
                    let body = splice_bytes(&replaced(&e.body, &path, json!(RAW)), &quoted);
                    Call::bytes(e.method, &e.path, Some("application/json"), body)
                };
                w.refused_as(&mut tally, UTF8, &call, 400, "INVALID_PARAMETER_VALUE");
            }
        }
        if e.is_query() || e.body.as_object().is_none_or(|m| m.is_empty()) {
            continue;
        }
        // A field name that is not UTF-8, JSON's lone surrogates, a byte-order mark,
        // and the whole body in UTF-16.
        let text = e.body.to_string();
        let mut bad_key = text.as_bytes().to_vec();
        bad_key.splice(2..2, b"\xc0\xae".iter().copied());
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(text.as_bytes());
        let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let (path, _) = nodes(&e.body)
            .into_iter()
            .find(|(_, v)| v.is_string())
            .unwrap_or_default();
        let mut bodies = vec![bad_key, bom, utf16];
        if !path.is_empty() {
            for surrogate in [&b"\"\\ud800\""[..], b"\"\\udc00x\"", b"\"\\ud800\\u0041\""] {
                bodies.push(splice_bytes(
                    &replaced(&e.body, &path, json!(RAW)),
                    surrogate,
                ));
            }
        }
        for body in bodies {
            let call = Call::bytes(e.method, &e.path, Some("application/json"), body);
            w.refused_as(&mut tally, UTF8, &call, 400, "INVALID_PARAMETER_VALUE");
        }
    }
    w.unchanged(&before, UTF8);
    w.accepts_every_baseline(&all);
    tally.finish(&[UTF8]);
}

#[test]
fn json_nested_ten_thousand_deep_is_refused_by_every_endpoint_and_writes_nothing() {
    let w = World::new();
    let all = endpoints::all(&w);
    let before = w.fingerprint();
    let mut tally = Tally::default();
    let arrays = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let objects = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    for e in all.iter().filter(|e| !e.is_query()) {
        if e.body.as_object().is_none_or(|m| m.is_empty()) {
            continue; // it reads no body
        }
        let mut bodies = vec![
            arrays.clone(),
            objects.clone(),
            // Legacy clients double-encode: the deep text inside a JSON string.
            serde_json::to_string(&arrays).unwrap(),
        ];
        // As the value of each top-level field.
        for field in e.body.as_object().into_iter().flatten().map(|(k, _)| k) {
            let mut body = e.body.clone();
            body[field.as_str()] = json!(RAW);
            bodies.push(splice(&body, &arrays));
        }
        for body in bodies {
            w.refused_as(
                &mut tally,
                DEEP,
                &e.raw(&body),
                400,
                "INVALID_PARAMETER_VALUE",
            );
        }
    }
    w.unchanged(&before, DEEP);
    assert_eq!(
        w.send(&Call::get(format!(
            "{API}/experiments/get?experiment_id={}",
            w.exp
        )))
        .status,
        200,
        "the server still answers"
    );
    tally.finish(&[DEEP]);
}

#[test]
fn json_sent_as_text_a_form_or_without_a_content_type_is_refused_and_writes_nothing() {
    let w = World::new();
    let all = endpoints::all(&w);
    let before = w.fingerprint();
    let mut tally = Tally::default();
    for e in all.iter().filter(|e| !e.is_query()) {
        if e.body.as_object().is_none_or(|m| m.is_empty()) {
            continue; // it reads no body
        }
        let json = e.body.to_string().into_bytes();
        let form = with_query("", &e.body).trim_start_matches('?').to_owned();
        let mut cases: Vec<(Option<&'static str>, Vec<u8>)> = vec![
            (Some("text/plain"), json.clone()),
            (Some("text/plain;charset=UTF-8"), json.clone()),
            (Some("application/x-www-form-urlencoded"), json.clone()),
            (Some("application/x-www-form-urlencoded"), form.into_bytes()),
            (Some("multipart/form-data; boundary=x"), json.clone()),
            (Some("application/jsonp"), json.clone()),
            (Some("text/json"), json.clone()),
            (Some(""), json.clone()),
        ];
        // MLflow reads a DELETE or PATCH that names no content type as JSON, as its
        // clients send them; one that names another type is refused.
        if e.method == "POST" {
            cases.push((None, json.clone()));
        }
        for (content_type, body) in cases {
            let call = Call::bytes(e.method, &e.path, content_type, body);
            w.refused_as(&mut tally, CONTENT, &call, 400, "INVALID_PARAMETER_VALUE");
        }
    }
    w.unchanged(&before, CONTENT);
    w.accepts_every_baseline(&all);
    tally.finish(&[CONTENT]);
}
