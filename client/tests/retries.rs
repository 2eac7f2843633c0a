//! Retries, backoff limits and error mapping, against a stub HTTP server that answers
//! from a script (nothing real can be made to fail on cue).

use cairn_client::{Client, Error, RetryPolicy};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Serves `script` (status, body) in order, then repeats the last entry; counts requests.
fn stub(script: Vec<(u16, &'static str)>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let (status, text) = script[n.min(script.len() - 1)];
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (url, seen)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        deadline: Duration::from_secs(5),
    }
}

#[test]
fn server_errors_are_retried_until_the_call_succeeds() {
    let (url, seen) = stub(vec![
        (503, "{}"),
        (500, "{}"),
        (200, r#"{"experiment_id": "7"}"#),
    ]);
    let id = block_on(Client::new(&url).with_retry(quick()).create_experiment("e")).unwrap();
    assert_eq!(id, "7");
    assert_eq!(seen.load(Ordering::SeqCst), 3);
}

#[test]
fn too_many_requests_is_retried_too() {
    let (url, seen) = stub(vec![(429, "{}"), (200, r#"{"experiment_id": "1"}"#)]);
    block_on(Client::new(&url).with_retry(quick()).create_experiment("e")).unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[test]
fn a_caller_mistake_is_never_retried_and_keeps_its_code() {
    let (url, seen) = stub(vec![(
        400,
        r#"{"error_code": "INVALID_PARAMETER_VALUE", "message": "bad name"}"#,
    )]);
    let err = block_on(Client::new(&url).with_retry(quick()).create_experiment("")).unwrap_err();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
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
        r#"{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "disk full"}"#,
    )]);
    let err = block_on(Client::new(&url).with_retry(quick()).create_experiment("e")).unwrap_err();
    assert_eq!(seen.load(Ordering::SeqCst), 4, "one try and three retries");
    assert_eq!(err.code(), Some("TEMPORARILY_UNAVAILABLE"));
}

#[test]
fn retries_stop_at_the_deadline() {
    let (url, seen) = stub(vec![(503, "{}")]);
    let policy = RetryPolicy {
        max_retries: 1000,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(50),
        deadline: Duration::from_millis(200),
    };
    block_on(Client::new(&url).with_retry(policy).create_experiment("e")).unwrap_err();
    let tries = seen.load(Ordering::SeqCst);
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
    let (url, _) = stub(vec![(200, r#"{"experiment_id": 7}"#)]);
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
