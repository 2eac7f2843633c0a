//! Ids of nothing are a 404 everywhere; writes to deleted runs, experiments, versions and logged models are refused.

use super::*;

const UNKNOWN: &str = "unknown ids";
const DELETED: &str = "deleted ids";

const NO_RUN: &str = "0123456789abcdef0123456789abcdef";
const NO_EXP: &str = "987654";
const NO_MODEL: &str = "no-such-model";
const NO_LOGGED: &str = "m-00000000000000000000000000000000";
const NO_UPLOAD: &str = "00000000000000000000000000000000";

/// A write or read naming `run`, `exp` (experiment), `model`, `version` of `model`,
/// `logged` (a logged model), each in the request it belongs to.
struct Ids<'a> {
    run: &'a str,
    exp: &'a str,
    model: &'a str,
    version: &'a str,
    logged: &'a str,
}

fn runs_calls(ids: &Ids) -> Vec<Call> {
    let run = ids.run;
    let post = |api: &str, body: Value| Call::json("POST", format!("{API}/{api}"), &body);
    vec![
        Call::get(format!("{API}/runs/get?run_id={run}")),
        Call::get(format!("{API}/artifacts/list?run_id={run}")),
        post("runs/update", json!({"run_id": run, "status": "FINISHED"})),
        post(
            "runs/log-metric",
            json!({"run_id": run, "key": "m", "value": 1, "timestamp": 1}),
        ),
        post(
            "runs/log-parameter",
            json!({"run_id": run, "key": "p9", "value": "v"}),
        ),
        post(
            "runs/set-tag",
            json!({"run_id": run, "key": "t9", "value": "v"}),
        ),
        post("runs/delete-tag", json!({"run_id": run, "key": "t"})),
        post(
            "runs/log-batch",
            json!({"run_id": run, "metrics": [{"key": "m", "value": 2, "timestamp": 2}]}),
        ),
        post(
            "runs/log-inputs",
            json!({"run_id": run, "datasets": [{"dataset": {"name": "d", "digest": "x", "source_type": "local", "source": "s"}}]}),
        ),
        post(
            "runs/outputs",
            json!({"run_id": run, "models": [{"model_id": NO_LOGGED, "step": 1}]}),
        ),
        Call::json(
            "POST",
            format!("{CAIRN}/runs/move"),
            &json!({"run_id": run, "experiment_id": "0"}),
        ),
    ]
}

fn experiment_calls(ids: &Ids) -> Vec<Call> {
    let exp = ids.exp;
    let post = |api: &str, body: Value| Call::json("POST", format!("{API}/{api}"), &body);
    vec![
        post(
            "experiments/update",
            json!({"experiment_id": exp, "new_name": "renamed-ghost"}),
        ),
        post(
            "experiments/set-experiment-tag",
            json!({"experiment_id": exp, "key": "k9", "value": "v"}),
        ),
        post(
            "experiments/delete-experiment-tag",
            json!({"experiment_id": exp, "key": "team"}),
        ),
        post("runs/create", json!({"experiment_id": exp})),
        post(
            "logged-models",
            json!({"experiment_id": exp, "name": "ghost"}),
        ),
    ]
}

fn version_calls(ids: &Ids) -> Vec<Call> {
    let (model, version) = (ids.model, ids.version);
    let mlflow = |method, api: &str, body: Value| Call::json(method, format!("{API}/{api}"), &body);
    vec![
        Call::get(format!(
            "{API}/model-versions/get?name={model}&version={version}"
        )),
        Call::get(format!(
            "{API}/model-versions/get-download-uri?name={model}&version={version}"
        )),
        mlflow(
            "PATCH",
            "model-versions/update",
            json!({"name": model, "version": version, "description": "d"}),
        ),
        mlflow(
            "POST",
            "model-versions/transition-stage",
            json!({"name": model, "version": version, "stage": "Staging"}),
        ),
        mlflow(
            "POST",
            "model-versions/set-tag",
            json!({"name": model, "version": version, "key": "k9", "value": "v"}),
        ),
        mlflow(
            "DELETE",
            "model-versions/delete-tag",
            json!({"name": model, "version": version, "key": "k"}),
        ),
        mlflow(
            "POST",
            "registered-models/alias",
            json!({"name": model, "alias": "ghost", "version": version}),
        ),
    ]
}

fn logged_calls(ids: &Ids) -> Vec<Call> {
    let lm = ids.logged;
    let at = |method, tail: &str, body: Value| {
        Call::json(method, format!("{API}/logged-models/{lm}{tail}"), &body)
    };
    vec![
        at("PATCH", "", json!({"status": "READY"})),
        at(
            "PATCH",
            "/tags",
            json!({"tags": [{"key": "k9", "value": "v"}]}),
        ),
        at("DELETE", "/tags/k", json!({})),
        at(
            "POST",
            "/params",
            json!({"params": [{"key": "p9", "value": "v"}]}),
        ),
        Call::json(
            "POST",
            format!("{API}/runs/log-metric"),
            &json!({"run_id": ids.run, "key": "m", "value": 1, "timestamp": 1, "model_id": lm}),
        ),
        Call::json(
            "POST",
            format!("{API}/runs/log-batch"),
            &json!({"run_id": ids.run, "metrics": [{"key": "m", "value": 1, "timestamp": 1, "model_id": lm}]}),
        ),
    ]
}

#[track_caller]
fn refused_as_missing(w: &World, tally: &mut Tally, call: &Call) {
    w.refused_as(tally, UNKNOWN, call, 404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn ids_of_nothing_are_not_found_by_every_endpoint_and_nothing_is_written() {
    let w = World::new();
    let before = w.fingerprint();
    let mut tally = Tally::default();
    let ghosts = Ids {
        run: NO_RUN,
        exp: NO_EXP,
        model: NO_MODEL,
        version: "1",
        logged: NO_LOGGED,
    };
    let real_model = Ids {
        model: w.model,
        version: "99",
        run: &w.run,
        ..ghosts
    };
    let mut calls = runs_calls(&ghosts);
    calls.extend(experiment_calls(&ghosts));
    calls.extend(version_calls(&ghosts));
    calls.extend(version_calls(&real_model));
    calls.extend(logged_calls(&Ids {
        run: &w.run,
        ..ghosts
    }));
    let (model, mlflow) = (NO_MODEL, |method, api: &str, body: Value| {
        Call::json(method, format!("{API}/{api}"), &body)
    });
    calls.extend([
        Call::get(format!("{API}/experiments/get?experiment_id={NO_EXP}")),
        Call::get(format!(
            "{API}/experiments/get-by-name?experiment_name=ghost"
        )),
        mlflow(
            "POST",
            "experiments/delete",
            json!({"experiment_id": NO_EXP}),
        ),
        mlflow(
            "POST",
            "experiments/restore",
            json!({"experiment_id": NO_EXP}),
        ),
        mlflow("POST", "runs/delete", json!({"run_id": NO_RUN})),
        mlflow("POST", "runs/restore", json!({"run_id": NO_RUN})),
        Call::json(
            "POST",
            format!("{CAIRN}/runs/move"),
            &json!({"run_id": w.run, "experiment_id": NO_EXP}),
        ),
        Call::get(format!("{API}/registered-models/get?name={model}")),
        mlflow(
            "PATCH",
            "registered-models/update",
            json!({"name": model, "description": "d"}),
        ),
        mlflow(
            "POST",
            "registered-models/rename",
            json!({"name": model, "new_name": "ghost-2"}),
        ),
        mlflow("DELETE", "registered-models/delete", json!({"name": model})),
        mlflow(
            "POST",
            "registered-models/set-tag",
            json!({"name": model, "key": "k", "value": "v"}),
        ),
        mlflow(
            "POST",
            "registered-models/get-latest-versions",
            json!({"name": model}),
        ),
        Call::get(format!(
            "{API}/registered-models/alias?name={model}&alias=champion"
        )),
        mlflow(
            "POST",
            "model-versions/create",
            json!({"name": model, "source": format!("runs:/{}/model", w.run), "run_id": w.run}),
        ),
        mlflow(
            "POST",
            "model-versions/create",
            json!({"name": w.model, "source": format!("runs:/{NO_RUN}/model"), "run_id": NO_RUN}),
        ),
        mlflow(
            "POST",
            "model-versions/create",
            json!({"name": w.model, "source": format!("models:/{NO_LOGGED}")}),
        ),
        mlflow(
            "POST",
            "model-versions/create",
            json!({"name": w.model, "source": "models:/no-such-model/1"}),
        ),
        mlflow(
            "DELETE",
            "model-versions/delete",
            json!({"name": w.model, "version": "99"}),
        ),
        Call::json(
            "POST",
            format!("{CAIRN}/registered-models/gates/set"),
            &json!({"name": model, "stage": "Staging", "filter": "metrics.m > 0"}),
        ),
        Call::get(format!("{CAIRN}/registered-models/gates/list?name={model}")),
        Call::json(
            "DELETE",
            format!("{CAIRN}/registered-models/gates/delete"),
            &json!({"name": model, "stage": "Production"}),
        ),
        Call::json(
            "DELETE",
            format!("{CAIRN}/registered-models/gates/delete"),
            &json!({"name": w.model, "stage": "Staging"}),
        ),
        Call::get(format!("{CAIRN}/registered-models/history?name={model}")),
        Call::get(format!("{API}/logged-models/{NO_LOGGED}")),
        Call::get(format!(
            "{API}/logged-models/{NO_LOGGED}/artifacts/directories"
        )),
        mlflow("DELETE", &format!("logged-models/{NO_LOGGED}"), json!({})),
        Call::get(format!("{PROXY}/{}/nothing.txt", w.root)),
        Call::get(format!(
            "/api/2.0/mlflow-artifacts/presigned/{}/nothing.txt",
            w.root
        )),
        Call::get(format!(
            "{CAIRN}/artifacts/version?path={}/a.txt&digest={}",
            w.root,
            "0".repeat(64)
        )),
        Call::json(
            "POST",
            format!("{MPU}/complete/{}", w.root),
            &json!({"path": "x.bin", "upload_id": NO_UPLOAD, "parts": [{"part_number": 1}]}),
        ),
        Call::bytes(
            "PUT",
            format!("{MPU}/part/{NO_UPLOAD}/1"),
            None,
            b"x".to_vec(),
        ),
    ]);
    for call in &calls {
        refused_as_missing(&w, &mut tally, call);
    }
    // MLflow answers an alias that points nowhere with a 400, and so does Cairn.
    let alias = Call::get(format!(
        "{API}/registered-models/alias?name={}&alias=ghost",
        w.model
    ));
    w.refused_as(&mut tally, UNKNOWN, &alias, 400, "INVALID_PARAMETER_VALUE");
    w.unchanged(&before, UNKNOWN);
    tally.finish(&[UNKNOWN]);
}

#[test]
fn writes_to_deleted_runs_experiments_versions_and_logged_models_are_refused() {
    let w = World::new();
    let before = w.fingerprint();
    let mut tally = Tally::default();
    let mut calls = Vec::new();
    for run in [&w.deleted_run, &w.dead_run] {
        let ids = Ids {
            run,
            exp: &w.deleted_exp,
            model: w.model,
            version: w.deleted_version,
            logged: &w.deleted_logged,
        };
        calls.extend(runs_calls(&ids).into_iter().filter(|c| c.method != "GET"));
    }
    let gone = Ids {
        run: &w.run,
        exp: &w.deleted_exp,
        model: w.model,
        version: w.deleted_version,
        logged: &w.deleted_logged,
    };
    calls.extend(experiment_calls(&gone));
    calls.extend(version_calls(&gone));
    calls.extend(logged_calls(&gone));
    calls.push(Call::get(format!(
        "{API}/logged-models/{}",
        w.deleted_logged
    )));
    calls.extend([
        Call::json("POST", format!("{CAIRN}/runs/move"), &json!({"run_id": w.run, "experiment_id": w.deleted_exp})),
        Call::json("DELETE", format!("{API}/model-versions/delete"), &json!({"name": w.model, "version": w.deleted_version})),
        Call::json("POST", format!("{API}/model-versions/create"),
            &json!({"name": w.model, "source": format!("models:/{}", w.deleted_logged)})),
        Call::json("POST", format!("{API}/model-versions/create"),
            &json!({"name": w.model, "source": format!("models:/{}/{}", w.model, w.deleted_version)})),
    ]);
    for call in &calls {
        let reply = w.refused(&mut tally, DELETED, call);
        assert!(
            matches!(reply.status, 400 | 404),
            "{}: {} {}",
            call.describe(),
            reply.status,
            reply.text()
        );
    }
    w.unchanged(&before, DELETED);
    tally.finish(&[DELETED]);
}
