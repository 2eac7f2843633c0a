//! The blocking client outside any runtime (tracking, artifacts, registry, the background logger), and clients moving between runtimes.

use super::*;
use cairn_client::blocking;
use cairn_client::schema::RunStatus;
use cairn_client::{Config, LoggerOptions, RetryPolicy, SearchRuns};

#[test]
fn the_blocking_client_tracks_a_run_from_start_to_search() {
    let server = TestServer::start();
    let client = blocking::Client::new(&server.url)
        .unwrap()
        .with_retry(RetryPolicy::never());
    assert_eq!(client.to_async().tracking_uri(), server.url);
    let exp = client.get_or_create_experiment("blocking").unwrap();
    assert_eq!(client.get_or_create_experiment("blocking").unwrap(), exp);
    let run = client.create_run(&exp, Some("smoke")).unwrap();
    let id = run.info.run_id.clone();
    client.log_param(&id, "lr", "0.1").unwrap();
    client.set_tag(&id, "phase", "train").unwrap();
    for step in 0..3 {
        client
            .log_metric(&id, "loss", 1.0 / (step + 1) as f64, step)
            .unwrap();
    }
    client
        .log_batch(&id, &[point("bleu", 32.0, 5, 0)], &[], &[])
        .unwrap();
    let info = client.finish_run(&id, RunStatus::Finished).unwrap();
    assert_eq!(info.status, RunStatus::Finished);

    let got = client.get_run(&id).unwrap();
    assert_eq!(value_of(&got.data.params, "lr"), Some("0.1"));
    assert_eq!(value_of(&got.data.tags, "phase"), Some("train"));
    assert_eq!(latest(&got, "bleu"), Some(32.0));
    let history = client.get_metric_history(&id, "loss").unwrap();
    assert_eq!(
        history.iter().map(|m| m.step).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let found = client
        .search_runs(&SearchRuns {
            experiment_ids: vec![exp.clone()],
            filter: Some("metrics.bleu > 30".into()),
            ..SearchRuns::default()
        })
        .unwrap();
    assert_eq!(ids(&found.items), [id.as_str()]);

    let err = client.log_param(&id, "lr", "0.2").unwrap_err();
    expect_api(err, 400, "INVALID_PARAMETER_VALUE");
    expect_not_found(client.get_run(NO_SUCH_RUN));
}

#[test]
fn the_blocking_client_moves_artifacts_and_registers_a_model() {
    let server = TestServer::start();
    let client = blocking::Client::with_config(Config::new(&server.url)).unwrap();
    let exp = client.create_experiment("blocking-artifacts").unwrap();
    let run = client.create_run(&exp, None).unwrap();
    let bytes = random_bytes(300_000, fresh_seed());
    client
        .upload_artifact(&run, "model/a.bin", bytes.clone())
        .unwrap();
    assert_eq!(
        client.download_artifact(&run, "model/a.bin").unwrap(),
        bytes
    );
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("a.bin");
    let got = client
        .download_file(&run, "model/a.bin", &dest, None)
        .unwrap();
    assert_eq!(got.sha256, sha256_hex(&bytes));
    let listed = client
        .list_artifacts(&run.info.run_id, Some("model"))
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].path, "model/a.bin");

    client
        .create_registered_model("blocking-model", None, &[])
        .unwrap();
    let version = client
        .create_model_version(
            "blocking-model",
            &cairn_client::NewVersion {
                source: format!("runs:/{}/model", run.info.run_id),
                run_id: Some(run.info.run_id.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    let staged = client
        .transition_stage("blocking-model", &version.version, "Staging", false)
        .unwrap();
    assert_eq!(staged.current_stage, "Staging");
    let history = client.promotion_history("blocking-model").unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].to.as_deref(), Some("Staging"));
}

#[test]
fn a_run_started_by_the_blocking_client_logs_in_the_background_and_finishes() {
    let server = TestServer::start();
    let spool = tempfile::tempdir().unwrap();
    let client = blocking::Client::new(&server.url).unwrap();
    let exp = client.create_experiment("logger").unwrap();
    let options = LoggerOptions {
        spool_dir: Some(spool.path().to_owned()),
        ..LoggerOptions::default()
    };
    let run = client
        .start_run_with(&exp, Some("background"), options)
        .unwrap();
    let id = run.run_id().to_owned();
    run.log_param("strategy", "few-shot");
    run.log_metric("bleu", 31.2, 0);
    let delivery = run.finish();
    assert!(delivery.delivered, "{delivery:?}");
    let got = client.get_run(&id).unwrap();
    assert_eq!(got.info.status, RunStatus::Finished);
    assert_eq!(got.info.run_name, "background");
    assert_eq!(value_of(&got.data.params, "strategy"), Some("few-shot"));
    assert_eq!(latest(&got, "bleu"), Some(31.2));
}

#[test]
fn a_fresh_twin_keeps_working_after_the_runtime_of_its_original_is_gone() {
    let server = TestServer::start();
    let client = Client::new(&format!("{}/", server.url)).with_retry(RetryPolicy::never());
    assert_eq!(
        client.tracking_uri(),
        server.url,
        "the trailing slash is dropped"
    );
    let exp = block_on(client.create_experiment("twins")).unwrap();
    // block_on's runtime is gone now, and the connections it opened with it.
    let twin = client.fresh();
    assert_eq!(twin.tracking_uri(), client.tracking_uri());
    let got = block_on(twin.get_experiment(&exp)).unwrap();
    assert_eq!(got.name, "twins");
    // The blocking wrapper takes its own twin too.
    let wrapped = blocking::Client::wrap(client).unwrap();
    assert_eq!(wrapped.get_experiment(&exp).unwrap().name, "twins");
    let run = wrapped.create_run(&exp, None).unwrap();
    let from_async = block_on(wrapped.to_async().get_run(&run.info.run_id)).unwrap();
    assert_eq!(from_async.info.experiment_id, exp);
}
