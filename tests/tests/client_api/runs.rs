//! Runs through the client: create, get, update, finish, delete, restore, metrics, params, tags, batches, inputs.

use super::*;
use cairn_client::schema::{Dataset, DatasetInput, RunStatus, ViewType};
use cairn_client::SearchRuns;

/// An experiment and a run in it, named `name`.
async fn new_run(client: &Client, name: &str) -> (String, Run) {
    let exp = client.get_or_create_experiment("runs").await.unwrap();
    let run = client.create_run(&exp, Some(name)).await.unwrap();
    (exp, run)
}

#[test]
fn a_run_created_with_a_name_and_tags_reads_back_with_both() {
    let (_server, client) = server_and_client();
    block_on(async {
        let exp = client.create_experiment("tagged-runs").await.unwrap();
        let before = now_ms();
        let run = client
            .create_run_with_tags(&exp, Some("sweep-7"), &[tag("team", "nlp")])
            .await
            .unwrap();
        let id = &run.info.run_id;
        assert_eq!(id.len(), 32);
        let got = client.get_run(id).await.unwrap();
        assert_eq!(got.info.run_id, *id);
        assert_eq!(got.info.experiment_id, exp);
        assert_eq!(got.info.run_name, "sweep-7");
        assert_eq!(got.info.status, RunStatus::Running);
        assert_eq!(got.info.lifecycle_stage, "active");
        assert!(got.info.start_time >= before, "the client stamps the start");
        assert_eq!(got.info.end_time, None);
        assert_eq!(value_of(&got.data.tags, "team"), Some("nlp"));
        assert_eq!(value_of(&got.data.tags, "mlflow.runName"), Some("sweep-7"));
        let unnamed = client.create_run(&exp, None).await.unwrap();
        assert_ne!(unnamed.info.run_id, *id);
        assert!(
            !unnamed.info.run_name.is_empty(),
            "the server names a run created without one"
        );
    });
}

#[test]
fn update_run_changes_only_the_fields_it_is_given() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (_, run) = new_run(&client, "before").await;
        let id = &run.info.run_id;
        let end = now_ms() + 5_000;
        let info = client
            .update_run(id, Some(RunStatus::Killed), Some(end), Some("after"))
            .await
            .unwrap();
        assert_eq!(
            (info.status, info.end_time, info.run_name.as_str()),
            (RunStatus::Killed, Some(end), "after")
        );
        let got = client.get_run(id).await.unwrap();
        assert_eq!(got.info, info);
        assert_eq!(value_of(&got.data.tags, "mlflow.runName"), Some("after"));
        let unchanged = client.update_run(id, None, None, None).await.unwrap();
        assert_eq!(unchanged, info, "None leaves every field as it is");
    });
}

#[test]
fn finish_run_records_the_status_and_an_end_time_after_the_start() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (exp, run) = new_run(&client, "ok").await;
        let info = client
            .finish_run(&run.info.run_id, RunStatus::Finished)
            .await
            .unwrap();
        assert_eq!(info.status, RunStatus::Finished);
        let end = info.end_time.expect("an end time");
        assert!(
            end >= run.info.start_time,
            "{end} < {}",
            run.info.start_time
        );
        let failed = client.create_run(&exp, Some("bad")).await.unwrap();
        let info = client
            .finish_run(&failed.info.run_id, RunStatus::Failed)
            .await
            .unwrap();
        assert_eq!(info.status, RunStatus::Failed);
        assert_eq!(
            client
                .get_run(&failed.info.run_id)
                .await
                .unwrap()
                .info
                .status,
            RunStatus::Failed
        );
    });
}

#[test]
fn a_deleted_run_is_searchable_only_as_deleted_until_restored() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (exp, run) = new_run(&client, "doomed").await;
        let id = run.info.run_id.clone();
        let search = |view_type| SearchRuns {
            experiment_ids: vec![exp.clone()],
            view_type,
            ..SearchRuns::default()
        };
        client.delete_run(&id).await.unwrap();
        assert_eq!(
            client.get_run(&id).await.unwrap().info.lifecycle_stage,
            "deleted"
        );
        let active = client.search_runs(&search(None)).await.unwrap().items;
        assert!(active.is_empty(), "{:?}", ids(&active));
        let deleted = client
            .search_runs(&search(Some(ViewType::DeletedOnly)))
            .await
            .unwrap();
        assert_eq!(ids(&deleted.items), [id.as_str()]);
        client.restore_run(&id).await.unwrap();
        assert_eq!(
            client.get_run(&id).await.unwrap().info.lifecycle_stage,
            "active"
        );
        let active = client.search_runs(&search(None)).await.unwrap();
        assert_eq!(ids(&active.items), [id]);
    });
}

#[test]
fn log_metric_keeps_every_point_and_shows_the_highest_step_as_latest() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (_, run) = new_run(&client, "metrics").await;
        let id = &run.info.run_id;
        let values = [0.9, 0.5, 0.25];
        for (step, v) in values.iter().enumerate() {
            client
                .log_metric(id, "loss", *v, step as i64)
                .await
                .unwrap();
        }
        // A late point for an earlier step does not become the latest value.
        client.log_metric(id, "loss", 0.7, 1).await.unwrap();
        client.log_metric(id, "accuracy", 0.8, 0).await.unwrap();
        let got = client.get_run(id).await.unwrap();
        assert_eq!(latest(&got, "loss"), Some(0.25));
        assert_eq!(latest(&got, "accuracy"), Some(0.8));
        let history = client.get_metric_history(id, "loss").await.unwrap();
        let mut seen: Vec<(i64, f64)> = history.iter().map(|m| (m.step, m.value)).collect();
        seen.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(seen, [(0, 0.9), (1, 0.5), (1, 0.7), (2, 0.25)]);
        assert!(history.iter().all(|m| m.key == "loss"));
    });
}

#[test]
fn a_param_is_written_once_and_a_different_value_is_refused() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (_, run) = new_run(&client, "params").await;
        let id = &run.info.run_id;
        client.log_param(id, "lr", "0.001").await.unwrap();
        client
            .log_param(id, "lr", "0.001")
            .await
            .expect("the same value again is accepted");
        let err = client.log_param(id, "lr", "0.01").await.unwrap_err();
        assert!(!err.is_transient(), "a caller's mistake is never retried");
        let message = expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        assert!(message.contains("lr"), "{message}");
        let got = client.get_run(id).await.unwrap();
        assert_eq!(value_of(&got.data.params, "lr"), Some("0.001"));
    });
}

#[test]
fn run_tags_are_set_overwritten_and_deleted() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (_, run) = new_run(&client, "tags").await;
        let id = &run.info.run_id;
        client.set_tag(id, "phase", "warmup").await.unwrap();
        client.set_tag(id, "gpu", "a100").await.unwrap();
        client.set_tag(id, "phase", "train").await.unwrap();
        let tags = client.get_run(id).await.unwrap().data.tags;
        assert_eq!(
            value_of(&tags, "phase"),
            Some("train"),
            "the last value wins"
        );
        client.delete_tag(id, "phase").await.unwrap();
        let tags = client.get_run(id).await.unwrap().data.tags;
        assert_eq!(value_of(&tags, "phase"), None);
        assert_eq!(value_of(&tags, "gpu"), Some("a100"));
        expect_not_found(client.delete_tag(id, "phase").await);
    });
}

#[test]
fn log_batch_lands_metrics_params_and_tags_together() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (_, run) = new_run(&client, "batch").await;
        let id = &run.info.run_id;
        let metrics = [point("bleu", 31.5, 10, 0), point("bleu", 33.0, 20, 1)];
        let params = [tag("model", "t5-small"), tag("prompt", "few-shot")];
        let tags = [tag("dataset", "cnn-dm")];
        client
            .log_batch(id, &metrics, &params, &tags)
            .await
            .unwrap();
        let got = client.get_run(id).await.unwrap();
        assert_eq!(latest(&got, "bleu"), Some(33.0));
        assert_eq!(value_of(&got.data.params, "model"), Some("t5-small"));
        assert_eq!(value_of(&got.data.params, "prompt"), Some("few-shot"));
        assert_eq!(value_of(&got.data.tags, "dataset"), Some("cnn-dm"));
        let history = client.get_metric_history(id, "bleu").await.unwrap();
        assert_eq!(history, metrics.to_vec());
    });
}

#[test]
fn a_refused_batch_lands_nothing() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (_, run) = new_run(&client, "atomic").await;
        let id = &run.info.run_id;
        let metrics = [point("loss", 0.5, 1, 0)];
        let params = [tag("seed", "1"), tag("seed", "2")];
        let tags = [tag("phase", "train")];
        let err = client
            .log_batch(id, &metrics, &params, &tags)
            .await
            .unwrap_err();
        expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        let got = client.get_run(id).await.unwrap();
        assert_eq!(latest(&got, "loss"), None);
        assert_eq!(value_of(&got.data.params, "seed"), None);
        assert_eq!(value_of(&got.data.tags, "phase"), None);
        // A batch conflicting with a stored param is refused whole, too.
        client.log_param(id, "seed", "1").await.unwrap();
        let err = client
            .log_batch(id, &metrics, &[tag("seed", "9")], &tags)
            .await
            .unwrap_err();
        expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        let got = client.get_run(id).await.unwrap();
        assert_eq!(latest(&got, "loss"), None);
        assert_eq!(value_of(&got.data.tags, "phase"), None);
    });
}

fn dataset(name: &str, context: &str) -> DatasetInput {
    DatasetInput {
        tags: vec![tag("mlflow.data.context", context)],
        dataset: Dataset {
            name: name.into(),
            digest: format!("{:08x}", fresh_seed() as u32),
            source_type: "local".into(),
            source: format!("{{\"uri\": \"/data/{name}.jsonl\"}}"),
            schema: Some("{\"mlflow_colspec\": []}".into()),
            profile: None,
        },
    }
}

#[test]
fn datasets_logged_as_inputs_are_visible_in_the_run() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (_, run) = new_run(&client, "inputs").await;
        let id = &run.info.run_id;
        assert!(client
            .get_run(id)
            .await
            .unwrap()
            .inputs
            .dataset_inputs
            .is_empty());
        let logged = vec![dataset("train", "training"), dataset("eval", "evaluation")];
        client.log_inputs(id, &logged).await.unwrap();
        let mut got = client.get_run(id).await.unwrap().inputs.dataset_inputs;
        got.sort_by(|a, b| a.dataset.name.cmp(&b.dataset.name));
        let mut expected = logged.clone();
        expected.sort_by(|a, b| a.dataset.name.cmp(&b.dataset.name));
        assert_eq!(got, expected);
        expect_not_found(client.log_inputs(NO_SUCH_RUN, &logged).await);
    });
}

#[test]
fn run_calls_on_a_missing_run_are_not_found() {
    let (_server, client) = server_and_client();
    block_on(async {
        expect_not_found(client.get_run(NO_SUCH_RUN).await);
        expect_not_found(client.update_run(NO_SUCH_RUN, None, None, Some("x")).await);
        expect_not_found(client.finish_run(NO_SUCH_RUN, RunStatus::Finished).await);
        expect_not_found(client.delete_run(NO_SUCH_RUN).await);
        expect_not_found(client.restore_run(NO_SUCH_RUN).await);
        expect_not_found(client.log_metric(NO_SUCH_RUN, "m", 1.0, 0).await);
        expect_not_found(client.log_param(NO_SUCH_RUN, "p", "v").await);
        expect_not_found(client.set_tag(NO_SUCH_RUN, "t", "v").await);
        expect_not_found(
            client
                .log_batch(NO_SUCH_RUN, &[], &[tag("p", "v")], &[])
                .await,
        );
        expect_not_found(client.create_run("987654", None).await);
    });
}

#[test]
fn a_moved_run_belongs_to_its_new_experiment_and_keeps_its_artifacts() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (from, run) = new_run(&client, "movable").await;
        client
            .upload_artifact(&run, "notes.txt", b"kept".to_vec())
            .await
            .unwrap();
        let to = client.create_experiment("destination").await.unwrap();
        client.move_run(&run.info.run_id, &to).await.unwrap();

        let moved = client.get_run(&run.info.run_id).await.unwrap();
        assert_eq!(moved.info.experiment_id, to);
        assert_ne!(from, to);
        assert_eq!(
            client.download_artifact(&moved, "notes.txt").await.unwrap(),
            b"kept"
        );
        let search = |exp: String| SearchRuns {
            experiment_ids: vec![exp],
            ..SearchRuns::default()
        };
        assert_eq!(
            ids(&client
                .search_all_runs(&search(to.clone()), None)
                .await
                .unwrap()),
            vec![run.info.run_id.clone()]
        );
        assert!(client
            .search_all_runs(&search(from), None)
            .await
            .unwrap()
            .is_empty());
    });
}

#[test]
fn a_run_cannot_move_into_a_missing_or_deleted_experiment() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (from, run) = new_run(&client, "stays").await;
        expect_not_found(client.move_run(&run.info.run_id, "987654").await);
        let gone = client.create_experiment("gone").await.unwrap();
        client.delete_experiment(&gone).await.unwrap();
        let err = client.move_run(&run.info.run_id, &gone).await.unwrap_err();
        expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        expect_not_found(client.move_run(NO_SUCH_RUN, &from).await);
        let after = client.get_run(&run.info.run_id).await.unwrap();
        assert_eq!(
            after.info.experiment_id, from,
            "a refused move changes nothing"
        );
    });
}

#[test]
fn an_extended_search_takes_or_and_is_null() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (exp, a) = new_run(&client, "a").await;
        let b = client.create_run(&exp, Some("b")).await.unwrap();
        let c = client.create_run(&exp, Some("c")).await.unwrap();
        client
            .log_metric(&a.info.run_id, "bleu", 35.0, 0)
            .await
            .unwrap();
        client
            .log_metric(&b.info.run_id, "rougeL", 0.6, 0)
            .await
            .unwrap();
        client
            .log_metric(&c.info.run_id, "bleu", 10.0, 0)
            .await
            .unwrap();
        let query = SearchRuns {
            experiment_ids: vec![exp],
            filter: Some(
                cairn_client::Filter::metric("bleu")
                    .ge(30.0)
                    .or(cairn_client::Filter::metric("bleu").is_null())
                    .into(),
            ),
            order_by: vec![cairn_client::OrderBy::attribute("run_name").into()],
            extended: true,
            ..SearchRuns::default()
        };
        let found = client.search_all_runs(&query, None).await.unwrap();
        assert_eq!(
            ids(&found),
            vec![a.info.run_id.clone(), b.info.run_id.clone()]
        );
        let mlflow_grammar = SearchRuns {
            extended: false,
            ..query
        };
        expect_api(
            client.search_runs(&mlflow_grammar).await.unwrap_err(),
            400,
            "INVALID_PARAMETER_VALUE",
        );
    });
}
