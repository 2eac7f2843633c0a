//! The Rust client against a real server: the calls training code makes first.

use cairn_client::{Client, SearchRuns};
use cairn_schema::{Metric, Param, RunStatus, Tag};
use cairn_tests::TestServer;

/// Runs an async test body on its own runtime; the server harness itself is blocking
/// and must live outside the runtime.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn a_run_logged_with_the_rust_client_is_found_by_search() {
    let server = TestServer::start();
    block_on(logs_and_finds(Client::new(&server.url)));
}

async fn logs_and_finds(client: Client) {
    let exp = client.create_experiment("rust-client").await.unwrap();
    let run = client.create_run(&exp, Some("sweep-1")).await.unwrap();
    let id = run.info.run_id.clone();
    for step in 0..3 {
        client
            .log_metric(&id, "loss", 1.0 / (step + 1) as f64, step)
            .await
            .unwrap();
    }
    let metrics = vec![Metric {
        key: "bleu".into(),
        value: 31.5,
        timestamp: 1,
        step: 0,
        run_id: None,
    }];
    let params = vec![Param {
        key: "strategy".into(),
        value: "few-shot".into(),
    }];
    let tags = vec![Tag {
        key: "team".into(),
        value: "nlp".into(),
    }];
    client
        .log_batch(&id, &metrics, &params, &tags)
        .await
        .unwrap();
    let info = client.finish_run(&id, RunStatus::Finished).await.unwrap();
    assert_eq!(info.status, RunStatus::Finished);
    assert!(info.end_time.is_some());

    let query = SearchRuns {
        experiment_ids: vec![exp.clone()],
        filter: Some("metrics.bleu > 30 AND params.strategy = 'few-shot'".into()),
        ..SearchRuns::default()
    };
    let page = client.search_runs(&query).await.unwrap();
    let runs = page.items;
    assert_eq!(runs.len(), 1);
    assert!(page.next_page_token.is_none());
    let loss = runs[0]
        .data
        .metrics
        .iter()
        .find(|m| m.key == "loss")
        .unwrap();
    assert_eq!((loss.step, loss.value), (2, 1.0 / 3.0));
    assert_eq!(
        client
            .get_experiment_by_name("rust-client")
            .await
            .unwrap()
            .experiment_id,
        exp
    );
}

#[test]
fn api_errors_carry_the_mlflow_code() {
    let server = TestServer::start();
    block_on(errors_carry_codes(Client::new(&server.url)));
}

async fn errors_carry_codes(client: Client) {
    let err = client
        .get_run("0123456789abcdef0123456789abcdef")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("RESOURCE_DOES_NOT_EXIST"));
    let err = client.create_experiment("").await.unwrap_err();
    assert_eq!(err.code(), Some("INVALID_PARAMETER_VALUE"));
}
