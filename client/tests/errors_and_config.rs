//! How answers become errors (envelope, non-JSON, malformed), how the environment becomes a `Config`, and which credentials go on the wire, against a scripted stub server.

use base64::Engine as _;
use cairn_client::schema::Run;
use cairn_client::{Auth, Client, Config, Error, RetryPolicy};
use std::time::Duration;

mod stub;

use stub::{block_on, quick, stub, JSON};

/// Asserts an `Error::Api` and returns its parts.
#[track_caller]
fn api_parts(err: Error) -> (u16, String, String) {
    match err {
        Error::Api {
            status,
            code,
            message,
        } => (status, code, message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[test]
fn an_error_envelope_becomes_an_api_error_with_its_status_code_and_message() {
    let (url, seen) = stub(vec![(
        404,
        JSON,
        r#"{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 'abc' not found"}"#,
    )]);
    let err = block_on(Client::new(&url).with_retry(quick()).get_run("abc")).unwrap_err();
    assert!(err.is_not_found());
    assert!(!err.is_transient());
    assert_eq!(
        (err.status(), err.code()),
        (Some(404), Some("RESOURCE_DOES_NOT_EXIST"))
    );
    assert_eq!(
        api_parts(err),
        (
            404,
            "RESOURCE_DOES_NOT_EXIST".to_owned(),
            "Run 'abc' not found".to_owned()
        )
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "a 404 is never retried");
}

#[test]
fn a_non_json_bad_gateway_becomes_an_api_error_carrying_the_text() {
    let page = "<html><body>502 Bad Gateway (nginx)</body></html>";
    let (url, seen) = stub(vec![(502, "text/html", page)]);
    let err = block_on(
        Client::new(&url)
            .with_retry(RetryPolicy::never())
            .create_experiment("e"),
    )
    .unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 1, "never means one attempt");
    assert!(err.is_transient(), "a 502 may pass");
    assert!(!err.is_not_found());
    assert_eq!(api_parts(err), (502, String::new(), page.to_owned()));
}

#[test]
fn a_non_json_bad_gateway_that_outlasts_the_retries_keeps_the_last_text() {
    let (url, seen) = stub(vec![
        (502, "text/plain", "first"),
        (503, "text/plain", "second"),
        (502, "text/plain", "upstream still down"),
    ]);
    let err = block_on(Client::new(&url).with_retry(quick()).create_experiment("e")).unwrap_err();
    assert_eq!(seen.lock().unwrap().len(), 4, "one try and three retries");
    assert_eq!(
        api_parts(err),
        (502, String::new(), "upstream still down".to_owned())
    );
}

#[test]
fn a_success_with_a_malformed_body_is_a_decode_error() {
    for body in ["<html>not json</html>", r#"{"experiment": "#, "{}"] {
        let (url, seen) = stub(vec![(200, JSON, body)]);
        let err = block_on(Client::new(&url).with_retry(quick()).get_experiment("1")).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{body}: {err:?}");
        assert!(!err.is_transient(), "{body}");
        assert_eq!(err.status(), None);
        assert_eq!(seen.lock().unwrap().len(), 1, "a 200 is not retried");
    }
}

/// An environment of `(name, value)` pairs.
fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

#[track_caller]
fn config_error(result: Result<Config, Error>) -> String {
    match result {
        Err(Error::Config(message)) => message,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn the_tracking_uri_comes_from_cairn_before_mlflow() {
    let both = Config::from_lookup(env(&[
        ("MLFLOW_TRACKING_URI", "http://mlflow:5000"),
        ("CAIRN_TRACKING_URI", "https://cairn.example/"),
    ]))
    .unwrap();
    assert_eq!(both.tracking_uri, "https://cairn.example");
    let mlflow = Config::from_lookup(env(&[("MLFLOW_TRACKING_URI", "http://mlflow:5000")]));
    assert_eq!(mlflow.unwrap().tracking_uri, "http://mlflow:5000");
    let empty_cairn = Config::from_lookup(env(&[
        ("CAIRN_TRACKING_URI", ""),
        ("MLFLOW_TRACKING_URI", "http://mlflow:5000"),
    ]));
    assert_eq!(empty_cairn.unwrap().tracking_uri, "http://mlflow:5000");
    let message = config_error(Config::from_lookup(env(&[])));
    assert!(message.contains("MLFLOW_TRACKING_URI"), "{message}");
}

#[test]
fn a_tracking_uri_that_is_not_http_is_refused() {
    for uri in [
        "file:///tmp/mlruns",
        "./mlruns",
        "databricks",
        "sqlite:///runs.db",
    ] {
        let message = config_error(Config::from_lookup(env(&[("MLFLOW_TRACKING_URI", uri)])));
        assert!(message.contains(uri), "{uri}: {message}");
    }
}

#[test]
fn credentials_come_from_a_token_or_from_both_halves_of_basic_auth() {
    let uri = ("MLFLOW_TRACKING_URI", "http://h:1");
    let none = Config::from_lookup(env(&[uri])).unwrap();
    assert_eq!(none.auth, Auth::None);
    let token = Config::from_lookup(env(&[uri, ("MLFLOW_TRACKING_TOKEN", "tok")])).unwrap();
    assert_eq!(token.auth, Auth::Bearer("tok".into()));
    let basic = Config::from_lookup(env(&[
        uri,
        ("MLFLOW_TRACKING_USERNAME", "alice"),
        ("MLFLOW_TRACKING_PASSWORD", "s3cret"),
    ]))
    .unwrap();
    assert_eq!(
        basic.auth,
        Auth::Basic {
            username: "alice".into(),
            password: "s3cret".into()
        }
    );
    let both = Config::from_lookup(env(&[
        uri,
        ("MLFLOW_TRACKING_TOKEN", "tok"),
        ("MLFLOW_TRACKING_USERNAME", "alice"),
        ("MLFLOW_TRACKING_PASSWORD", "s3cret"),
    ]))
    .unwrap();
    assert_eq!(both.auth, Auth::Bearer("tok".into()), "the token wins");
    for half in ["MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"] {
        let message = config_error(Config::from_lookup(env(&[uri, (half, "x")])));
        assert!(message.contains("both"), "{half}: {message}");
    }
}

#[test]
fn timeout_and_retries_come_from_mlflows_variables_and_nonsense_is_refused() {
    let uri = ("MLFLOW_TRACKING_URI", "http://h:1");
    let defaults = Config::from_lookup(env(&[uri])).unwrap();
    assert_eq!(defaults, Config::new("http://h:1"));
    let set = Config::from_lookup(env(&[
        uri,
        ("MLFLOW_HTTP_REQUEST_TIMEOUT", "2.5"),
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "7"),
    ]))
    .unwrap();
    assert_eq!(set.timeout, Duration::from_millis(2500));
    assert_eq!(set.retry.max_retries, 7);
    assert_eq!(
        (set.retry.base_delay, set.retry.deadline),
        (defaults.retry.base_delay, defaults.retry.deadline),
        "only the count changes"
    );
    for bad in ["abc", "0", "-1", "inf"] {
        let message = config_error(Config::from_lookup(env(&[
            uri,
            ("MLFLOW_HTTP_REQUEST_TIMEOUT", bad),
        ])));
        assert!(
            message.contains("MLFLOW_HTTP_REQUEST_TIMEOUT"),
            "{bad}: {message}"
        );
    }
    for bad in ["many", "-2", "1.5"] {
        let message = config_error(Config::from_lookup(env(&[
            uri,
            ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", bad),
        ])));
        assert!(
            message.contains("MLFLOW_HTTP_REQUEST_MAX_RETRIES"),
            "{bad}: {message}"
        );
    }
}

/// A run whose artifacts the stub "serves", for the artifact (bulk) requests.
fn run_on_stub() -> Run {
    serde_json::from_value(serde_json::json!({
        "info": {
            "run_uuid": "a".repeat(32), "run_id": "a".repeat(32), "experiment_id": "1",
            "run_name": "r", "status": "RUNNING", "start_time": 1,
            "artifact_uri": format!("mlflow-artifacts:/1/{}/artifacts", "a".repeat(32)),
            "lifecycle_stage": "active",
        }
    }))
    .unwrap()
}

/// The `Authorization` header of an API call and of an artifact upload by a client with `auth`.
fn authorization_sent(auth: Auth) -> Vec<Option<String>> {
    let (url, seen) = stub(vec![
        (200, JSON, r#"{"experiment_id": "1"}"#),
        (200, JSON, ""),
    ]);
    let mut config = Config::new(&url);
    config.auth = auth;
    let client = Client::with_config(config).unwrap();
    block_on(async {
        client.create_experiment("e").await.unwrap();
        client
            .upload_artifact(&run_on_stub(), "x.bin", b"x".to_vec())
            .await
            .unwrap();
    });
    let seen = seen.lock().unwrap();
    assert!(seen[1].line.starts_with("PUT "), "{:?}", seen[1].line);
    seen.iter()
        .map(|s| s.header("authorization").map(str::to_owned))
        .collect()
}

#[test]
fn a_bearer_token_is_sent_on_api_calls_and_artifact_transfers() {
    let sent = authorization_sent(Auth::Bearer("tok".into()));
    assert_eq!(
        sent,
        [Some("Bearer tok".to_owned()), Some("Bearer tok".to_owned())]
    );
}

#[test]
fn basic_credentials_are_sent_as_the_base64_pair() {
    let sent = authorization_sent(Auth::Basic {
        username: "alice".into(),
        password: "s3:cret".into(),
    });
    for header in sent {
        let encoded = header
            .as_deref()
            .and_then(|h| h.strip_prefix("Basic "))
            .unwrap_or_else(|| panic!("a basic header, got {header:?}"));
        let pair = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(pair, b"alice:s3:cret");
    }
}

#[test]
fn no_credentials_means_no_authorization_header() {
    assert_eq!(authorization_sent(Auth::None), [None, None]);
}

#[test]
fn credentials_a_header_cannot_carry_are_a_config_error() {
    let mut config = Config::new("http://127.0.0.1:1");
    config.auth = Auth::Bearer("line\nbreak".into());
    let err = Client::with_config(config).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[test]
fn debug_output_never_shows_a_secret() {
    let secrets = [
        Auth::Bearer("tok-9f8e7d".into()),
        Auth::Basic {
            username: "alice".into(),
            password: "pw-1a2b3c".into(),
        },
    ];
    for (auth, secret) in secrets.into_iter().zip(["tok-9f8e7d", "pw-1a2b3c"]) {
        let shown = format!("{auth:?}");
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
        let mut config = Config::new("http://127.0.0.1:1");
        config.auth = auth;
        let shown = format!("{config:?}");
        assert!(!shown.contains(secret), "{shown}");
        let client = Client::with_config(config).unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains(secret), "{shown}");
        // Nor its base64 form, in the default headers of the HTTP clients.
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("alice:{secret}"));
        assert!(!shown.contains(&b64), "{shown}");
    }
    let basic = format!(
        "{:?}",
        Auth::Basic {
            username: "alice".into(),
            password: "x".into()
        }
    );
    assert!(
        basic.contains("alice"),
        "the user name is not a secret: {basic}"
    );
}
