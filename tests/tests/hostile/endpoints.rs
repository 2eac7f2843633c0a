//! Every JSON and query endpoint with a request it accepts against the `World`, in an order that lets each succeed.

use super::*;

/// An endpoint and a request to it that succeeds: a JSON body, or for GET the query.
pub struct Endpoint {
    pub method: &'static str,
    pub path: String,
    pub body: Value,
}

impl Endpoint {
    /// The request with `fields` in place of the untouched ones.
    pub fn call(&self, fields: &Value) -> Call {
        if self.is_query() {
            Call::get(with_query(&self.path, fields))
        } else {
            Call::json(self.method, &self.path, fields)
        }
    }

    /// The request with `body` sent as it is, as JSON.
    pub fn raw(&self, body: &str) -> Call {
        Call::text(self.method, &self.path, body)
    }

    pub fn is_query(&self) -> bool {
        self.method == "GET"
    }

    /// Whether the endpoint writes (a search or a check only reads, whatever its method).
    pub fn writes(&self) -> bool {
        !self.is_query()
            && !["search", "get-latest-versions", "verify"]
                .iter()
                .any(|read| self.path.ends_with(read))
    }
}

fn mlflow(method: &'static str, api: &str, body: Value) -> Endpoint {
    Endpoint {
        method,
        path: format!("{API}/{api}"),
        body,
    }
}

fn cairn(method: &'static str, api: &str, body: Value) -> Endpoint {
    Endpoint {
        method,
        path: format!("{CAIRN}/{api}"),
        body,
    }
}

fn at(method: &'static str, path: String, body: Value) -> Endpoint {
    Endpoint { method, path, body }
}

/// Reads: they change nothing even when accepted, and come first.
fn reads(w: &World) -> Vec<Endpoint> {
    let (exp, run, model, lm, root) = (&w.exp, &w.run, w.model, &w.logged, &w.root);
    let tok = page_token(0);
    let runs_search = json!({"experiment_ids": [exp], "filter": "metrics.m > 0", "run_view_type": "ACTIVE_ONLY",
                             "max_results": 10, "order_by": ["metrics.m DESC"], "page_token": tok});
    let exp_search = json!({"max_results": 10, "filter": "name = 'hostile'", "order_by": ["name"],
                            "view_type": "ACTIVE_ONLY", "page_token": tok});
    let exp_query = json!({"max_results": "10", "filter": "name = 'hostile'", "order_by": "name",
                           "view_type": "ACTIVE_ONLY", "page_token": tok});
    vec![
        mlflow("GET", "experiments/get", json!({"experiment_id": exp})),
        mlflow(
            "GET",
            "experiments/get-by-name",
            json!({"experiment_name": "hostile"}),
        ),
        mlflow("GET", "experiments/search", exp_query.clone()),
        mlflow("POST", "experiments/search", exp_search.clone()),
        mlflow("GET", "runs/get", json!({"run_id": run})),
        mlflow("POST", "runs/search", runs_search.clone()),
        mlflow(
            "GET",
            "metrics/get-history",
            json!({"run_id": run, "metric_key": "m", "max_results": "10", "page_token": tok}),
        ),
        mlflow(
            "GET",
            "metrics/get-history-bulk-interval",
            json!({"run_ids": [run], "metric_key": "m", "start_step": "0", "end_step": "10", "max_results": "10"}),
        ),
        mlflow("GET", "artifacts/list", json!({"run_id": run})),
        at("GET", PROXY.to_owned(), json!({"path": root})),
        mlflow("GET", "registered-models/get", json!({"name": model})),
        mlflow(
            "GET",
            "registered-models/search",
            json!({"filter": "name LIKE 'hostile%'", "max_results": "10", "order_by": "name ASC", "page_token": tok}),
        ),
        mlflow(
            "GET",
            "registered-models/get-latest-versions",
            json!({"name": model, "stages": ["None"]}),
        ),
        mlflow(
            "POST",
            "registered-models/get-latest-versions",
            json!({"name": model, "stages": ["None"]}),
        ),
        mlflow(
            "GET",
            "registered-models/alias",
            json!({"name": model, "alias": "champion"}),
        ),
        mlflow(
            "GET",
            "model-versions/get",
            json!({"name": model, "version": "1"}),
        ),
        mlflow(
            "GET",
            "model-versions/search",
            json!({"filter": format!("name = '{model}'"), "max_results": "10",
                   "order_by": "version_number DESC", "page_token": tok}),
        ),
        mlflow(
            "GET",
            "model-versions/get-download-uri",
            json!({"name": model, "version": "1"}),
        ),
        mlflow(
            "GET",
            &format!("logged-models/{lm}"),
            json!({"allow_deleted": "false"}),
        ),
        mlflow(
            "GET",
            &format!("logged-models/{lm}/artifacts/directories"),
            json!({"artifact_directory_path": "x"}),
        ),
        mlflow(
            "POST",
            "logged-models/search",
            json!({"experiment_ids": [exp], "filter": "name = 'lm'",
                   "datasets": [{"dataset_name": "d", "dataset_digest": "x"}],
                   "order_by": [{"field_name": "metrics.m", "ascending": true, "dataset_name": "d", "dataset_digest": "x"}],
                   "max_results": 10, "page_token": tok}),
        ),
        cairn("POST", "runs/search", runs_search),
        cairn("GET", "experiments/search", exp_query),
        cairn("POST", "experiments/search", exp_search),
        cairn(
            "GET",
            "registered-models/gates/list",
            json!({"name": model}),
        ),
        cairn("GET", "registered-models/history", json!({"name": model})),
        cairn(
            "GET",
            "artifacts/versions",
            json!({"path": format!("{root}/a.txt")}),
        ),
        cairn(
            "GET",
            "artifacts/version",
            json!({"path": format!("{root}/a.txt"), "digest": w.digest}),
        ),
        cairn(
            "POST",
            "artifacts/verify",
            json!({"path": format!("{root}/a.txt")}),
        ),
    ]
}

/// Writes that leave every object of the `World` in place.
fn writes(w: &World) -> Vec<Endpoint> {
    let (exp, run, model, lm, root) = (&w.exp, &w.run, w.model, &w.logged, &w.root);
    vec![
        mlflow(
            "POST",
            "experiments/create",
            json!({"name": "fresh-exp", "tags": [{"key": "k", "value": "v"}]}),
        ),
        mlflow(
            "POST",
            "experiments/set-experiment-tag",
            json!({"experiment_id": exp, "key": "k2", "value": "v"}),
        ),
        mlflow(
            "POST",
            "experiments/update",
            json!({"experiment_id": exp, "new_name": "hostile-renamed"}),
        ),
        mlflow(
            "POST",
            "runs/create",
            json!({"experiment_id": exp, "user_id": "u", "run_name": "r", "start_time": 1,
                   "tags": [{"key": "k", "value": "v"}]}),
        ),
        mlflow(
            "POST",
            "runs/update",
            json!({"run_id": run, "status": "RUNNING", "end_time": 2, "run_name": "r2"}),
        ),
        mlflow(
            "POST",
            "runs/log-metric",
            json!({"run_id": run, "key": "m2", "value": 1.5, "timestamp": 1, "step": 0,
                   "model_id": lm, "dataset_name": "d", "dataset_digest": "x"}),
        ),
        mlflow(
            "POST",
            "runs/log-parameter",
            json!({"run_id": run, "key": "p2", "value": "v"}),
        ),
        mlflow(
            "POST",
            "runs/set-tag",
            json!({"run_id": run, "key": "t2", "value": "v"}),
        ),
        mlflow(
            "POST",
            "runs/log-batch",
            json!({"run_id": run, "metrics": [{"key": "m3", "value": 1.5, "timestamp": 1, "step": 0}],
                   "params": [{"key": "p3", "value": "v"}], "tags": [{"key": "t3", "value": "v"}]}),
        ),
        mlflow(
            "POST",
            "runs/log-inputs",
            json!({"run_id": run, "datasets": [{"tags": [{"key": "k", "value": "v"}],
                   "dataset": {"name": "d", "digest": "x", "source_type": "local", "source": "s",
                               "schema": "{}", "profile": "{}"}}],
                   "models": [{"model_id": lm}]}),
        ),
        mlflow(
            "POST",
            "runs/outputs",
            json!({"run_id": run, "models": [{"model_id": lm, "step": 1}]}),
        ),
        mlflow(
            "POST",
            "registered-models/create",
            json!({"name": "fresh-model", "tags": [{"key": "k", "value": "v"}], "description": "d"}),
        ),
        mlflow(
            "PATCH",
            "registered-models/update",
            json!({"name": model, "description": "d"}),
        ),
        mlflow(
            "POST",
            "registered-models/set-tag",
            json!({"name": model, "key": "k2", "value": "v"}),
        ),
        mlflow(
            "POST",
            "model-versions/create",
            json!({"name": model, "source": format!("runs:/{run}/model"), "run_id": run,
                   "tags": [{"key": "k", "value": "v"}], "run_link": "", "description": "d"}),
        ),
        mlflow(
            "PATCH",
            "model-versions/update",
            json!({"name": model, "version": "1", "description": "d"}),
        ),
        mlflow(
            "POST",
            "model-versions/transition-stage",
            json!({"name": model, "version": "1", "stage": "Staging", "archive_existing_versions": false}),
        ),
        mlflow(
            "POST",
            "model-versions/set-tag",
            json!({"name": model, "version": "1", "key": "k2", "value": "v"}),
        ),
        mlflow(
            "POST",
            "registered-models/alias",
            json!({"name": model, "alias": "champion", "version": "1"}),
        ),
        cairn(
            "POST",
            "registered-models/gates/set",
            json!({"name": model, "stage": "Archived", "filter": "metrics.m > 0"}),
        ),
        mlflow(
            "POST",
            "logged-models",
            json!({"experiment_id": exp, "name": "lm2", "model_type": "t", "source_run_id": run,
                   "params": [{"key": "p", "value": "v"}], "tags": [{"key": "k", "value": "v"}]}),
        ),
        mlflow(
            "PATCH",
            &format!("logged-models/{lm}/tags"),
            json!({"tags": [{"key": "k2", "value": "v"}]}),
        ),
        mlflow(
            "POST",
            &format!("logged-models/{lm}/params"),
            json!({"params": [{"key": "p2", "value": "v"}]}),
        ),
        mlflow(
            "PATCH",
            &format!("logged-models/{lm}"),
            json!({"status": "READY"}),
        ),
        cairn(
            "POST",
            "runs/move",
            json!({"run_id": run, "experiment_id": w.other_exp}),
        ),
        at(
            "POST",
            format!("{MPU}/create/{root}"),
            json!({"path": "new.bin", "num_parts": 2}),
        ),
        at(
            "POST",
            format!("{MPU}/complete/{root}"),
            json!({"path": "big.bin", "upload_id": w.uploads[0], "parts": [{"part_number": 1}]}),
        ),
        at(
            "POST",
            format!("{MPU}/abort/{root}"),
            json!({"path": "other.bin", "upload_id": w.uploads[1]}),
        ),
        cairn("POST", "gc", json!({"older_than_ms": 86_400_000})),
    ]
}

/// Writes that remove or restore objects, last.
fn removals(w: &World) -> Vec<Endpoint> {
    let (exp, run, model, lm) = (&w.exp, &w.run, w.model, &w.logged);
    vec![
        mlflow(
            "POST",
            "experiments/delete-experiment-tag",
            json!({"experiment_id": exp, "key": "team"}),
        ),
        mlflow(
            "POST",
            "runs/delete-tag",
            json!({"run_id": run, "key": "t"}),
        ),
        mlflow(
            "DELETE",
            "registered-models/delete-tag",
            json!({"name": model, "key": "k"}),
        ),
        mlflow(
            "DELETE",
            "model-versions/delete-tag",
            json!({"name": model, "version": "1", "key": "k"}),
        ),
        mlflow(
            "DELETE",
            "registered-models/alias",
            json!({"name": model, "alias": "champion"}),
        ),
        cairn(
            "DELETE",
            "registered-models/gates/delete",
            json!({"name": model, "stage": "Production"}),
        ),
        mlflow("DELETE", &format!("logged-models/{lm}/tags/k"), json!({})),
        mlflow(
            "POST",
            "registered-models/rename",
            json!({"name": "spare-model", "new_name": "spare-renamed"}),
        ),
        mlflow(
            "POST",
            "experiments/restore",
            json!({"experiment_id": w.deleted_exp}),
        ),
        mlflow("POST", "runs/restore", json!({"run_id": w.deleted_run})),
        mlflow(
            "DELETE",
            "model-versions/delete",
            json!({"name": model, "version": "1"}),
        ),
        mlflow("DELETE", "registered-models/delete", json!({"name": model})),
        mlflow("DELETE", &format!("logged-models/{lm}"), json!({})),
        mlflow("POST", "runs/delete", json!({"run_id": run})),
        mlflow("POST", "experiments/delete", json!({"experiment_id": exp})),
    ]
}

/// Every endpoint that reads a JSON body or a query, in an order in which each
/// untouched request succeeds when sent one after another.
pub fn all(w: &World) -> Vec<Endpoint> {
    let mut all = reads(w);
    all.extend(writes(w));
    all.extend(removals(w));
    all
}
