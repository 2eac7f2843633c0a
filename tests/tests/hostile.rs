//! Hostile input over raw HTTP: every class of bad input to every endpoint is a 4xx in MLflow's envelope and writes nothing.
//!
//! The suites live in `hostile/`, one file per group of classes; `world.rs` holds the
//! `World` they attack (one of everything, some of it deleted, so that unknown and
//! deleted ids mean something) and the store `Fingerprint` taken before and after each
//! class. This file holds the `Call` sent byte for byte, the envelope check, and the
//! `Tally` that counts the inputs of each class, asserts a floor and prints the table
//! (`cargo test -p cairn-tests --test hostile -- --nocapture`).

#[path = "hostile/bodies.rs"]
mod bodies;
#[path = "hostile/control.rs"]
mod control;
#[path = "hostile/endpoints.rs"]
mod endpoints;
#[path = "hostile/ids.rs"]
mod ids;
#[path = "hostile/mutate.rs"]
mod mutate;
#[path = "hostile/oversized.rs"]
mod oversized;
#[path = "hostile/queries.rs"]
mod queries;
#[path = "hostile/traversal.rs"]
mod traversal;
#[path = "hostile/types.rs"]
mod types;
#[path = "hostile/world.rs"]
mod world;

use cairn_tests::{metric, pairs, RawReply, TestServer};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use world::{ok, World};

const API: &str = "/api/2.0/mlflow";
const CAIRN: &str = "/api/2.0/cairn";
const PROXY: &str = "/api/2.0/mlflow-artifacts/artifacts";
const MPU: &str = "/api/2.0/mlflow-artifacts/mpu";

/// Every class of bad input, in the order of the table, with the fewest inputs each
/// must try: a class that quietly shrinks (a table built from an empty list) fails.
const CLASSES: &[(&str, usize)] = &[
    ("path traversal encodings", 600),
    ("URL parts hiding '..'", 150),
    ("NUL/CR/LF", 250),
    ("raw control bytes in request line", 50),
    ("invalid UTF-8 bodies", 150),
    ("oversized values", 40),
    ("oversized bodies (413)", 40),
    ("deep JSON", 60),
    ("wrong JSON types", 600),
    ("NaN/Inf misplaced", 200),
    ("SQL in filters/order_by", 150),
    ("SQL as quoted data", 20),
    ("forged page tokens", 80),
    ("unknown ids", 60),
    ("deleted ids", 40),
    ("wrong content types", 120),
];

/// The error codes an MLflow client understands as a caller's mistake.
const CLIENT_CODES: &[&str] = &[
    "INVALID_PARAMETER_VALUE",
    "RESOURCE_ALREADY_EXISTS",
    "RESOURCE_DOES_NOT_EXIST",
    "REQUEST_LIMIT_EXCEEDED",
    "ENDPOINT_NOT_FOUND",
    "RESOURCE_CONFLICT",
    "PERMISSION_DENIED",
];

/// One request, sent byte for byte.
#[derive(Clone)]
struct Call {
    method: &'static str,
    target: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

impl Call {
    fn get(target: impl Into<String>) -> Call {
        Call::bytes("GET", target, None, Vec::new())
    }

    fn json(method: &'static str, target: impl Into<String>, body: &Value) -> Call {
        Call::text(method, target, &body.to_string())
    }

    fn text(method: &'static str, target: impl Into<String>, body: &str) -> Call {
        Call::bytes(
            method,
            target,
            Some("application/json"),
            body.as_bytes().to_vec(),
        )
    }

    fn bytes(
        method: &'static str,
        target: impl Into<String>,
        content_type: Option<&'static str>,
        body: Vec<u8>,
    ) -> Call {
        Call {
            method,
            target: target.into(),
            content_type,
            body,
        }
    }

    fn describe(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let short: String = body.chars().take(300).collect();
        format!(
            "{} {} [{}] {short}{}",
            self.method,
            self.target,
            self.content_type.unwrap_or("no content type"),
            if short.len() < body.len() { "…" } else { "" }
        )
    }
}

/// Percent-encodes a query value or path segment (everything but RFC 3986's unreserved).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `path?k=v&…` from a JSON object: strings as they are, lists as repeated keys.
fn with_query(path: &str, fields: &Value) -> String {
    let mut pairs = Vec::new();
    for (k, v) in fields.as_object().into_iter().flatten() {
        let values = match v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        for v in values {
            let text = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            pairs.push(format!("{}={}", enc(k), enc(&text)));
        }
    }
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

/// Standard base64, padded, as MLflow writes page tokens.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A page token such as the server writes.
fn page_token(offset: i64) -> String {
    base64(format!("{{\"offset\": {offset}}}").as_bytes())
}

/// Asserts a caller's-mistake answer in MLflow's envelope; returns its error code.
#[track_caller]
fn expect_envelope(reply: &RawReply, what: &str) -> String {
    assert!(
        (400..500).contains(&reply.status),
        "{what}\n  -> {} {}",
        reply.status,
        reply.text()
    );
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{what}\n  -> not JSON: {:?} {}",
        reply.headers,
        reply.text()
    );
    let body = reply.json();
    let code = body["error_code"].as_str().unwrap_or_default().to_owned();
    assert!(
        CLIENT_CODES.contains(&code.as_str()),
        "{what}\n  -> error_code {code:?}: {}",
        reply.text()
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}\n  -> no message: {}",
        reply.text()
    );
    code
}

/// Inputs sent per class by one test; `finish` checks the floors and adds to the table.
#[derive(Default)]
struct Tally(BTreeMap<&'static str, usize>);

/// The counts of every test that has finished, printed whole once every class is in.
static TABLE: Mutex<BTreeMap<&'static str, usize>> = Mutex::new(BTreeMap::new());

fn floor(class: &str) -> usize {
    CLASSES
        .iter()
        .find(|(c, _)| *c == class)
        .unwrap_or_else(|| panic!("{class:?} is not a class of CLASSES"))
        .1
}

impl Tally {
    fn add(&mut self, class: &'static str) {
        floor(class);
        *self.0.entry(class).or_default() += 1;
    }

    /// Asserts that each class this test owns tried at least its floor, prints the
    /// rows, and prints the whole table when the last class comes in.
    fn finish(self, owned: &[&'static str]) {
        for class in owned {
            let n = self.0.get(class).copied().unwrap_or(0);
            println!("hostile inputs tried | {class:<34} | {n:>5}");
            assert!(
                n >= floor(class),
                "only {n} inputs of class {class:?} were tried, fewer than {}",
                floor(class)
            );
        }
        let mut table = TABLE.lock().unwrap_or_else(|e| e.into_inner());
        for (class, n) in self.0 {
            *table.entry(class).or_default() += n;
        }
        if CLASSES.iter().all(|(c, _)| table.contains_key(c)) {
            let mut text = String::from(
                "\ninputs tried (count per class)\n| class                              | count | floor |\n|------------------------------------|-------|-------|\n",
            );
            for (class, min) in CLASSES {
                text.push_str(&format!(
                    "| {class:<34} | {:>5} | {min:>5} |\n",
                    table[class]
                ));
            }
            let total: usize = table.values().sum();
            text.push_str(&format!("| {:<34} | {total:>5} |       |\n", "total"));
            println!("{text}");
        }
    }
}
