//! Every public call of `cairn_client::Client` (and a smoke run of the blocking twin) against the real server process.
//!
//! The suites live in `client_api/`, one per resource; this file holds what they share.
//! Each test starts its own server outside the async runtime (the harness is blocking)
//! and drives it with the client inside [`block_on`].

#[path = "client_api/artifacts.rs"]
mod artifacts;
#[path = "client_api/blocking.rs"]
mod blocking;
#[path = "client_api/experiments.rs"]
mod experiments;
#[path = "client_api/gates.rs"]
mod gates;
#[path = "client_api/registry.rs"]
mod registry;
#[path = "client_api/runs.rs"]
mod runs;
#[path = "client_api/search.rs"]
mod search;
#[path = "client_api/versions.rs"]
mod versions;

use cairn_client::schema::{Metric, Run, Tag};
use cairn_client::{Client, Error};
use cairn_tests::TestServer;

/// Runs an async test body on a runtime of its own; the server harness stays outside it.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A fresh server and a client for it.
fn server_and_client() -> (TestServer, Client) {
    let server = TestServer::start();
    let client = Client::new(&server.url);
    (server, client)
}

/// Asserts an `Error::Api` with this status and code and a message; returns the message.
#[track_caller]
fn expect_api(err: Error, status: u16, code: &str) -> String {
    match err {
        Error::Api {
            status: s,
            code: c,
            message,
        } => {
            assert_eq!((s, c.as_str()), (status, code), "message: {message}");
            assert!(!message.is_empty(), "an API error carries a message");
            message
        }
        other => panic!("expected an API error {status} {code}, got {other:?}"),
    }
}

/// Asserts the not-found mapping: `Error::Api` 404 `RESOURCE_DOES_NOT_EXIST`, `is_not_found()`.
#[track_caller]
fn expect_not_found<T: std::fmt::Debug>(result: Result<T, Error>) {
    let err = result.expect_err("the object does not exist");
    assert!(err.is_not_found(), "{err:?}");
    assert!(
        !err.is_transient(),
        "not found is the caller's problem: {err:?}"
    );
    expect_api(err, 404, "RESOURCE_DOES_NOT_EXIST");
}

/// A 32-hex run id no server has handed out.
const NO_SUCH_RUN: &str = "0123456789abcdef0123456789abcdef";

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.into(),
        value: value.into(),
    }
}

fn point(key: &str, value: f64, timestamp: i64, step: i64) -> Metric {
    Metric {
        key: key.into(),
        value,
        timestamp,
        step,
        run_id: None,
    }
}

/// The value of `key` among tags or params.
fn value_of<'a>(items: &'a [Tag], key: &str) -> Option<&'a str> {
    items
        .iter()
        .find(|t| t.key == key)
        .map(|t| t.value.as_str())
}

/// The latest value of a metric of a run.
fn latest(run: &Run, key: &str) -> Option<f64> {
    run.data
        .metrics
        .iter()
        .find(|m| m.key == key)
        .map(|m| m.value)
}

/// The ids of runs, in order.
fn ids(runs: &[Run]) -> Vec<String> {
    runs.iter().map(|r| r.info.run_id.clone()).collect()
}

pub(crate) use cairn_tests::data::{fresh_seed, random_bytes, sha256_hex};

/// Milliseconds since the epoch, now.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
