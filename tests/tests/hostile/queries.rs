//! SQL in filters and sort keys, SQL inside quoted values as mere data, and forged page tokens.

use super::endpoints::{self, Endpoint};
use super::mutate::{nodes, replaced, Step};
use super::*;

const SQL: &str = "SQL in filters/order_by";
const DATA: &str = "SQL as quoted data";
const TOKENS: &str = "forged page tokens";

/// Filters that are SQL, not the search grammar (MLflow's or Cairn's extended one).
const FILTERS: &[&str] = &[
    "' OR 1=1 --",
    "' OR '1'='1",
    "1=1",
    "; DROP TABLE runs",
    "; DROP TABLE runs; --",
    "name = 'x'; DROP TABLE runs; --",
    "name = 'x' UNION SELECT * FROM runs --",
    "UNION SELECT run_uuid FROM runs",
    "name = 'x' /* comment */",
    "name = 'x' -- comment",
    "name = 'x' #",
    "`name` = 'x'; DROP TABLE experiments",
    "metrics.`m` > 0 OR 1=1",
    "attributes.run_id IN (SELECT run_uuid FROM runs)",
    "name = 'x' AND 1=1",
    "name = char(120)",
    "name = 'x' || 'y'",
    "name = 0x78",
    "name IN ('a') OR 1",
    "(name = 'x')) OR ((1=1",
    "metrics.m > 0 ORDER BY 1",
    "metrics.m > 0 LIMIT 1",
    "metrics.m > (SELECT 1)",
    "tags.`t` = 'x' AND sqlite_version() = '3'",
    "name = 'x' COLLATE NOCASE",
    "name = 'x'; ATTACH DATABASE '/tmp/x.db' AS x; --",
    "name = 'x'\\'; DROP TABLE runs; --",
];

/// Sort keys that are SQL.
const ORDERS: &[&str] = &[
    "name; DROP TABLE runs",
    "name DESC; --",
    "name) UNION SELECT 1 --",
    "1",
    "(SELECT 1)",
    "name ASC, (SELECT 1)",
    "`name`; DROP TABLE runs",
    "metrics.`m` DESC --",
    "name COLLATE NOCASE",
    "RANDOM()",
    "attributes.start_time DESC LIMIT 1",
    "CASE WHEN 1=1 THEN name END",
    "name DESC /* x */",
    "sqlite_version()",
];

/// The value of the first `field` (an object key) in `e`'s body, and its path.
fn field(e: &Endpoint, name: &str) -> Option<(Vec<Step>, Value)> {
    nodes(&e.body)
        .into_iter()
        .find(|(path, _)| matches!(path.last(), Some(Step::Field(f)) if f == name))
}

#[test]
fn sql_in_filters_and_sort_keys_is_refused_by_every_search_and_writes_nothing() {
    let w = World::new();
    let all = endpoints::all(&w);
    let before = w.fingerprint();
    let mut tally = Tally::default();
    for e in &all {
        if let Some((path, base)) = field(e, "filter") {
            let base = base.as_str().unwrap_or_default();
            for sql in FILTERS {
                for filter in [
                    sql.to_string(),
                    format!("{base} {sql}"),
                    format!("{base} AND {sql}"),
                ] {
                    let call = e.call(&replaced(&e.body, &path, json!(filter)));
                    w.refused_as(&mut tally, SQL, &call, 400, "INVALID_PARAMETER_VALUE");
                }
            }
        }
        if let Some((path, base)) = field(e, "order_by") {
            for sql in ORDERS {
                // A list of keys, a single key in a query, or logged models' objects.
                let value = match &base {
                    Value::Array(items) if items.first().is_some_and(Value::is_object) => {
                        json!([{"field_name": sql, "ascending": true}])
                    }
                    Value::Array(_) => json!([sql]),
                    _ => json!(sql),
                };
                let call = e.call(&replaced(&e.body, &path, value));
                w.refused_as(&mut tally, SQL, &call, 400, "INVALID_PARAMETER_VALUE");
            }
        }
    }
    // Names and ids are looked up by value: SQL there finds nothing or is malformed.
    for sql in FILTERS {
        for target in [
            format!("{API}/experiments/get-by-name?experiment_name={}", enc(sql)),
            format!("{API}/registered-models/get?name={}", enc(sql)),
            format!("{API}/runs/get?run_id={}", enc(sql)),
            format!("{API}/experiments/get?experiment_id={}", enc(sql)),
            format!("{CAIRN}/registered-models/history?name={}", enc(sql)),
        ] {
            w.refused(&mut tally, SQL, &Call::get(target));
        }
    }
    w.unchanged(&before, SQL);
    let runs = w.send(&Call::json(
        "POST",
        format!("{API}/runs/search"),
        &json!({"experiment_ids": [w.exp]}),
    ));
    assert_eq!(
        runs.json()["runs"].as_array().map(Vec::len),
        Some(1),
        "the runs are all there"
    );
    tally.finish(&[SQL]);
}

#[test]
fn sql_inside_a_quoted_value_is_only_data_that_matches_nothing() {
    let w = World::new();
    let before = w.fingerprint();
    let mut tally = Tally::default();
    let payloads = [
        "' OR 1=1 --",
        "x' OR '1'='1",
        "'; DROP TABLE runs; --",
        "%' UNION SELECT run_uuid FROM runs --",
        "\\'; DELETE FROM experiments; --",
    ];
    for sql in payloads {
        let quoted = format!("\"{sql}\"");
        let searches = [
            (
                format!("{API}/runs/search"),
                json!({"experiment_ids": [w.exp], "filter": format!("params.p = {quoted}")}),
                "runs",
            ),
            (
                format!("{API}/runs/search"),
                json!({"experiment_ids": [w.exp], "filter": format!("tags.t LIKE {quoted}")}),
                "runs",
            ),
            (
                format!("{CAIRN}/runs/search"),
                json!({"experiment_ids": [w.exp], "filter": format!("params.p = {quoted} OR tags.t = {quoted}")}),
                "runs",
            ),
            (
                format!("{API}/experiments/search"),
                json!({"max_results": 10, "filter": format!("name = {quoted}")}),
                "experiments",
            ),
            (
                format!("{API}/logged-models/search"),
                json!({"experiment_ids": [w.exp], "filter": format!("name = {quoted}")}),
                "models",
            ),
        ];
        for (path, body, list) in searches {
            tally.add(DATA);
            let reply = w.send(&Call::json("POST", &path, &body));
            assert_eq!(reply.status, 200, "{path} {body}: {}", reply.text());
            assert!(
                reply.json().get(list).is_none(),
                "{path} {body} matched: {}",
                reply.text()
            );
        }
        for path in ["registered-models/search", "model-versions/search"] {
            tally.add(DATA);
            let filter = format!("name = {quoted}");
            let reply = w.send(&Call::get(format!("{API}/{path}?filter={}", enc(&filter))));
            assert_eq!(reply.status, 200, "{path} {filter}: {}", reply.text());
            assert_eq!(reply.json(), json!({}), "{path} {filter} matched");
        }
    }
    w.unchanged(&before, DATA);
    tally.finish(&[DATA]);
}

/// Page tokens no server wrote: not base64, base64 of bytes or of JSON that holds no
/// offset in range, offsets negative or past any table, and one a megabyte long.
fn forged_tokens() -> Vec<String> {
    let mut tokens: Vec<String> = [
        "!!!",
        "abc",
        "eyJvZmZzZXQiOiAxfQ",
        "eyJvZmZzZXQiOiAxfQ-_",
        "=",
        "%",
        "null",
        "' OR 1=1 --",
    ]
    .map(str::to_owned)
    .to_vec();
    let junk: &[&[u8]] = &[
        b"\x00\x01\x02\xff\xfe",
        b"\xc0\xae\xc0\xae",
        b"not json",
        b"{\"offset\": \"5\"}",
        b"{\"offset\": -1}",
        b"{\"offset\": -9223372036854775808}",
        b"{\"offset\": 4294967296}",
        b"{\"offset\": 9223372036854775807}",
        b"{\"offset\": 99999999999999999999999}",
        b"{\"offset\": 1e99}",
        b"{\"offset\": 5.5}",
        b"{\"offset\": NaN}",
        b"{\"offset\": Infinity}",
        b"{\"offset\": null}",
        b"{\"offset\": true}",
        b"{\"offset\": [1]}",
        b"{\"offset\": {\"$gt\": 0}}",
        b"{\"offset\": \"0; DROP TABLE runs\"}",
        b"{}",
        b"[]",
        b"\"offset\"",
        b"{\"offset\": 1} trailing",
        b"{\"offset\": 1",
    ];
    tokens.extend(junk.iter().map(|j| base64(j)));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    tokens.push(base64(deep.as_bytes()));
    tokens.push(base64(&vec![b'7'; 700_000]));
    tokens
}

#[test]
fn forged_page_tokens_are_refused_by_every_paged_endpoint_and_write_nothing() {
    let w = World::new();
    let all = endpoints::all(&w);
    let before = w.fingerprint();
    let mut tally = Tally::default();
    let tokens = forged_tokens();
    for e in &all {
        let Some((path, _)) = field(e, "page_token") else {
            continue;
        };
        // A query string is part of the request head, which the HTTP parser caps
        // before the application sees it; long tokens go in bodies.
        for token in tokens
            .iter()
            .filter(|t| !e.is_query() || t.len() < 16 * 1024)
        {
            let call = e.call(&replaced(&e.body, &path, json!(token)));
            w.refused_as(&mut tally, TOKENS, &call, 400, "INVALID_PARAMETER_VALUE");
        }
    }
    w.unchanged(&before, TOKENS);
    w.accepts_every_baseline(&all);
    tally.finish(&[TOKENS]);
}
