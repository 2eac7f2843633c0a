//! Retries, backoff limits and error mapping, against a stub HTTP server that answers
//! from a script (nothing real can be made to fail on cue).

use cairn_client::{Client, Error, RetryPolicy};
use std::net::TcpListener;
use std::time::Duration;

mod stub;

use stub::{block_on, quick, stub, JSON};

#[test]
fn server_errors_are_retried_until_the_call_succeeds() {
    let (url, seen) = stub(vec![
        (503, JSON, "{}"),
        (500, JSON, "{}"),
        (200, JSON, r#"{"experiment_id": "7"}"#),
    ]);
    let id = block_on(Client::new(&url).with_retry(quick()).create_experiment("e")).unwrap();
    assert_eq!(id, "7");
    assert_eq!(seen.lock().unwrap().len(), 3);
}

#[test]
fn too_many_requests_is_retried_too() {
    let (url, seen) = stub(vec![
        (429, JSON, "{}"),
        (200, JSON, r#"{"experiment_id": "1"}"#),
    ]);
    block_on(Client::new(&url).with_retry(quick()).create_experiment("e")).unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[test]
fn a_caller_mistake_is_never_retried_and_keeps_its_code() {
    let (url, seen) = stub(vec![(
        400,
        JSON,
        r#"{"error_code": "INVALID_PARAMETER_VALUE", "message": "bad name"}"#,
    )]);
    let err = block_on(Client::new(&url).with_retry(quick()).create_experiment("")).unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 1);
    match err {
        Error::Api {
            status,
            code,
            message,
        } => assert_eq!(
            (status, code.as_str(), message.as_str()),
            (400, "INVALID_PARAMETER_VALUE", "bad name")
        ),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[test]
fn retries_stop_at_the_limit_and_return_the_last_answer() {
    let (url, seen) = stub(vec![(
        503,
        JSON,
        r#"{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "disk full"}"#,
    )]);
    let err = block_on(Client::new(&url).with_retry(quick()).create_experiment("e")).unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 4, "one try and three retries");
    assert_eq!(err.code(), Some("TEMPORARILY_UNAVAILABLE"));
}

#[test]
fn retries_stop_at_the_deadline() {
    let (url, seen) = stub(vec![(503, JSON, "{}")]);
    let policy = RetryPolicy {
        max_retries: 1000,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(50),
        deadline: Duration::from_millis(200),
    };
    block_on(Client::new(&url).with_retry(policy).create_experiment("e")).unwrap_err();
    let tries = seen.lock().unwrap().len();
    // Waits are at least 25 ms, so no more than 9 fit in 200 ms: the deadline, not the
    // count of 1000, ends the retries.
    assert!(
        (1..=10).contains(&tries),
        "bounded by the deadline, not the count: {tries}"
    );
}

#[test]
fn an_unreachable_server_is_a_transport_error_after_the_retries() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = block_on(
        Client::new(&format!("http://127.0.0.1:{port}"))
            .with_retry(quick())
            .create_experiment("e"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}

#[test]
fn an_answer_that_is_not_the_expected_shape_is_a_decode_error() {
    let (url, _) = stub(vec![(200, JSON, r#"{"experiment_id": 7}"#)]);
    let err = block_on(
        Client::new(&url)
            .with_retry(RetryPolicy::never())
            .create_experiment("e"),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
}

#[test]
fn waits_grow_exponentially_and_stay_under_the_cap() {
    let p = RetryPolicy {
        max_retries: 10,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        deadline: Duration::from_secs(60),
    };
    for retry in 0..10 {
        let full = Duration::from_millis(100 * 2u64.pow(retry)).min(Duration::from_secs(1));
        let d = p.delay(retry);
        assert!(
            d >= full / 2 && d <= full,
            "retry {retry}: {d:?} outside [{:?}, {full:?}]",
            full / 2
        );
    }
}
