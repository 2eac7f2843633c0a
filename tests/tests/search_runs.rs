//! runs/search end to end on the corpus of search-001..020: every comparator, null and NaN rules, ordering, paging, and Cairn's extended search.

use cairn_tests::{metric, pairs, TestServer};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The runs of search-003..020, in a fresh server: experiment `a` holds alpha..eta-empty
/// (delta deleted), experiment `b` holds zeta-other-exp.
struct Corpus {
    s: TestServer,
    a: String,
    b: String,
    ids: HashMap<&'static str, String>,
}

fn corpus() -> Corpus {
    let s = TestServer::start();
    let a = s.experiment("search-exp");
    let b = s.experiment("search-exp-2");
    let mut ids = HashMap::new();
    let mut create = |name: &'static str, exp: &str, start: i64, user: &str, tags: Value| {
        let run = s.create_run(json!({"experiment_id": exp, "run_name": name,
                                      "start_time": start, "user_id": user, "tags": tags}));
        let id = run["info"]["run_id"].as_str().unwrap().to_owned();
        ids.insert(name, id.clone());
        id
    };
    let alpha = create(
        "alpha",
        &a,
        1700000001000,
        "alice",
        pairs(&[("team", "a"), ("my tag", "x")]),
    );
    let beta = create("beta", &a, 1700000002000, "alice", pairs(&[("team", "b")]));
    let gamma = create("gamma", &a, 1700000003000, "bob", json!([]));
    let delta = create("delta", &a, 1700000004000, "alice", pairs(&[("team", "a")]));
    let epsilon = create(
        "epsilon",
        &a,
        1700000005000,
        "alice",
        pairs(&[("team", "c")]),
    );
    create("eta-empty", &a, 1700000000500, "alice", json!([]));
    let zeta = create(
        "zeta-other-exp",
        &b,
        1700000006000,
        "alice",
        pairs(&[("team", "a")]),
    );
    s.log_batch(
        &alpha,
        json!([
            metric("acc", json!(0.9), 1700000001000, 0),
            metric("loss", json!(0.1), 1700000001000, 0)
        ]),
        pairs(&[("model", "cnn"), ("lr", "0.01")]),
        json!([]),
    );
    s.post(
        "runs/update",
        json!({"run_id": alpha, "status": "FINISHED", "end_time": 1700000006000i64}),
    )
    .ok();
    s.log_batch(
        &beta,
        json!([metric("acc", json!(0.7), 1700000002000, 0)]),
        pairs(&[("model", "rnn")]),
        json!([]),
    );
    s.log_batch(
        &gamma,
        json!([metric("acc", json!("NaN"), 1700000003000, 0)]),
        pairs(&[("model", "CNN")]),
        json!([]),
    );
    s.post(
        "runs/update",
        json!({"run_id": gamma, "status": "FAILED", "end_time": 1700000008000i64}),
    )
    .ok();
    s.log_batch(
        &epsilon,
        json!([metric("acc", json!(0.8), 1700000005000, 0)]),
        pairs(&[("model", "mlp")]),
        json!([]),
    );
    s.log_batch(
        &zeta,
        json!([metric("acc", json!(0.95), 1700000006000, 0)]),
        pairs(&[("model", "cnn")]),
        json!([]),
    );
    s.post(
        "runs/log-inputs",
        json!({"run_id": epsilon, "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
               "dataset": {"name": "iris", "digest": "d1", "source_type": "local", "source": "{}"}}]}),
    )
    .ok();
    s.post("runs/delete", json!({"run_id": delta})).ok();
    Corpus { s, a, b, ids }
}

fn run_names(reply: &Value) -> Vec<String> {
    reply["runs"]
        .as_array()
        .map(|runs| {
            runs.iter()
                .map(|r| r["info"]["run_name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

impl Corpus {
    /// POSTs to an MLflow or Cairn search path and returns the whole reply body.
    fn reply(&self, path: &str, body: Value) -> Value {
        self.s.post_path(path, body).ok()
    }

    /// Run names found by MLflow's runs/search in experiment `a`.
    fn find(&self, filter: &str) -> Vec<String> {
        let reply = self.reply(
            "/api/2.0/mlflow/runs/search",
            json!({"experiment_ids": [self.a], "filter": filter}),
        );
        assert!(reply.get("next_page_token").is_none(), "{filter}");
        run_names(&reply)
    }

    /// Run names found by Cairn's extended search in experiment `a`.
    fn find_extended(&self, filter: &str) -> Vec<String> {
        run_names(&self.reply(
            "/api/2.0/cairn/runs/search",
            json!({"experiment_ids": [self.a], "filter": filter}),
        ))
    }

    fn ordered(&self, order_by: &[&str]) -> Vec<String> {
        run_names(&self.reply(
            "/api/2.0/mlflow/runs/search",
            json!({"experiment_ids": [self.a], "order_by": order_by}),
        ))
    }
}

/// Compares run names to the names a transcript lists.
#[track_caller]
fn same(got: Vec<String>, want: &[&str]) {
    assert_eq!(got, want);
}

#[test]
fn without_a_filter_runs_come_newest_first_and_deleted_runs_stay_hidden() {
    let c = corpus();
    // search-021
    same(
        c.find(""),
        &["epsilon", "gamma", "beta", "alpha", "eta-empty"],
    );
    let reply = c.reply(
        "/api/2.0/mlflow/runs/search",
        json!({"experiment_ids": [c.a]}),
    );
    let runs = reply["runs"].as_array().unwrap();
    // Searched runs are whole runs: data, inputs and outputs as runs/get has them.
    let epsilon = &runs[0];
    assert_eq!(epsilon, &c.s.get_run(&c.ids["epsilon"]));
    assert_eq!(
        epsilon["inputs"]["dataset_inputs"][0]["dataset"]["name"],
        "iris"
    );
    assert_eq!(runs[1]["outputs"], json!({}));
}

#[test]
fn metric_comparisons_use_the_latest_value_and_nan_matches_only_not_equal() {
    let c = corpus();
    // search-022..025
    same(c.find("metrics.acc > 0.75"), &["epsilon", "alpha"]);
    same(c.find("metrics.acc != 0.9"), &["epsilon", "gamma", "beta"]);
    same(c.find("metrics.acc = 0.9"), &["alpha"]);
    same(c.find("metric.`acc` >= 0.8"), &["epsilon", "alpha"]);
    same(c.find("metrics.acc < 0.8"), &["beta"]);
    same(c.find("metrics.acc <= 0.8"), &["epsilon", "beta"]);
    same(
        c.find("metrics.acc > -1e300"),
        &["epsilon", "beta", "alpha"],
    );
    same(c.find("metrics.acc = 1"), &[]);
}

#[test]
fn search_compares_the_latest_metric_value_not_any_logged_one() {
    let s = TestServer::start();
    let exp = s.experiment("latest");
    let run = s.run(&exp);
    // An older step with a higher value does not make the run match.
    s.log_batch(
        &run,
        json!([
            metric("acc", json!(0.5), 10, 3),
            metric("acc", json!(0.99), 20, 1)
        ]),
        json!([]),
        json!([]),
    );
    let find = |filter: &str| {
        run_names(
            &s.post(
                "runs/search",
                json!({"experiment_ids": [exp], "filter": filter}),
            )
            .ok(),
        )
        .len()
    };
    assert_eq!(find("metrics.acc > 0.9"), 0);
    assert_eq!(find("metrics.acc = 0.5"), 1);
}

#[test]
fn param_comparisons_are_case_sensitive_except_ilike() {
    let c = corpus();
    // search-026..031
    same(c.find("params.model = 'cnn'"), &["alpha"]);
    same(c.find("params.model = \"cnn\""), &["alpha"]);
    same(c.find("params.model LIKE 'c%'"), &["alpha"]);
    same(c.find("params.model ILIKE 'c%'"), &["gamma", "alpha"]);
    same(
        c.find("params.model != 'cnn'"),
        &["epsilon", "gamma", "beta"],
    );
    same(c.find("param.lr = '0.01'"), &["alpha"]);
    same(c.find("parameters.model LIKE '_nn'"), &["beta", "alpha"]);
    same(
        c.find("parameter.model ILIKE '%N'"),
        &["gamma", "beta", "alpha"],
    );
}

#[test]
fn a_run_without_the_key_never_matches_a_comparison_on_it_not_even_not_equal() {
    let c = corpus();
    // search-030 for params; the same rule for tags and metrics (§7.2).
    same(c.find("params.lr != '1'"), &["alpha"]);
    same(c.find("tags.team != 'a'"), &["epsilon", "beta"]);
    same(c.find("metrics.loss != 0.5"), &["alpha"]);
    same(c.find("params.nothing != 'x'"), &[]);
}

#[test]
fn tag_filters_quote_keys_with_spaces_and_dots_and_test_presence() {
    let c = corpus();
    // search-032..037
    same(c.find("tags.team = 'a'"), &["alpha"]);
    same(c.find("tags.`my tag` = 'x'"), &["alpha"]);
    same(c.find("tags.\"my tag\" = 'x'"), &["alpha"]);
    same(c.find("tags.team IS NULL"), &["gamma", "eta-empty"]);
    same(
        c.find("params.model IS NOT NULL"),
        &["epsilon", "gamma", "beta", "alpha"],
    );
    same(
        c.find("tags.`mlflow.runName` LIKE '%a'"),
        &["gamma", "beta", "alpha"],
    );
    same(c.find("tags.mlflow.runName = 'beta'"), &["beta"]);
    same(c.find("tag.team ILIKE 'A'"), &["alpha"]);
    same(c.find("tags.team LIKE 'A'"), &[]);
    same(c.find("params.model IS NULL"), &["eta-empty"]);
    same(c.find("tags.`my tag` IS NOT NULL"), &["alpha"]);
}

#[test]
fn attribute_filters_cover_strings_ids_and_times() {
    let c = corpus();
    let (alpha, beta) = (&c.ids["alpha"], &c.ids["beta"]);
    // search-038..049
    same(c.find("attributes.status = 'FINISHED'"), &["alpha"]);
    same(c.find("status != 'RUNNING'"), &["gamma", "alpha"]);
    same(c.find("attributes.run_name = 'beta'"), &["beta"]);
    same(c.find("run_name ILIKE '%PS%'"), &["epsilon"]);
    same(c.find("run_name LIKE '%PS%'"), &[]);
    same(c.find("`Run name` = 'alpha'"), &["alpha"]);
    same(
        c.find(&format!("attributes.run_id IN ('{alpha}', '{beta}')")),
        &["beta", "alpha"],
    );
    same(
        c.find(&format!("run_id NOT IN ('{alpha}')")),
        &["epsilon", "gamma", "beta", "eta-empty"],
    );
    same(c.find(&format!("run_id = '{beta}'")), &["beta"]);
    same(
        c.find("attributes.start_time > 1700000002500"),
        &["epsilon", "gamma"],
    );
    same(
        c.find("created >= 1700000002000"),
        &["epsilon", "gamma", "beta"],
    );
    same(c.find("start_time = 1700000000500"), &["eta-empty"]);
    same(c.find("start_time < 1700000001000"), &["eta-empty"]);
    same(c.find("attributes.end_time > 0"), &["gamma", "alpha"]);
    same(c.find("end_time <= 1700000006000"), &["alpha"]);
    same(c.find("attributes.user_id = 'bob'"), &["gamma"]);
    same(
        c.find("attr.user_id != 'bob'"),
        &["epsilon", "beta", "alpha", "eta-empty"],
    );
    same(c.find("run.status = 'FAILED'"), &["gamma"]);
    same(
        c.find("attributes.artifact_uri LIKE 'mlflow-artifacts:%'"),
        &["epsilon", "gamma", "beta", "alpha", "eta-empty"],
    );
}

#[test]
fn dataset_filters_match_name_digest_and_context() {
    let c = corpus();
    // search-050..052
    same(c.find("dataset.name = 'iris'"), &["epsilon"]);
    same(c.find("datasets.digest IN ('d1', 'd2')"), &["epsilon"]);
    same(c.find("dataset.context = 'training'"), &["epsilon"]);
    same(c.find("dataset.name LIKE 'IR%'"), &[]);
    same(c.find("dataset.name ILIKE 'IR%'"), &["epsilon"]);
    same(c.find("dataset.digest NOT IN ('d1')"), &[]);
    same(c.find("dataset.context != 'training'"), &[]);
}

#[test]
fn clauses_join_with_and_in_any_case() {
    let c = corpus();
    // search-053, search-054
    same(
        c.find("metrics.acc > 0.5 AND params.model = 'cnn' AND tags.team = 'a'"),
        &["alpha"],
    );
    same(
        c.find("metrics.acc > 0.5 and params.model = 'cnn'"),
        &["alpha"],
    );
    same(
        c.find("metrics.acc > 0.5 AnD params.model = 'mlp'"),
        &["epsilon"],
    );
}

#[test]
fn several_experiments_are_searched_together_and_none_answers_an_empty_object() {
    let c = corpus();
    // search-055
    let both = c.reply(
        "/api/2.0/mlflow/runs/search",
        json!({"experiment_ids": [c.a, c.b], "filter": "params.model = 'cnn'"}),
    );
    same(run_names(&both), &["zeta-other-exp", "alpha"]);
    // search-104: an empty filter is no filter.
    let all = c.reply(
        "/api/2.0/mlflow/runs/search",
        json!({"experiment_ids": [c.b, c.a], "filter": "", "max_results": 10000, "run_view_type": "ACTIVE_ONLY"}),
    );
    same(
        run_names(&all),
        &[
            "zeta-other-exp",
            "epsilon",
            "gamma",
            "beta",
            "alpha",
            "eta-empty",
        ],
    );
    // search-056, search-057, and a filter matching nothing: proto2 presence gives {}.
    for body in [
        json!({"experiment_ids": []}),
        json!({"filter": "params.model = 'cnn'"}),
        json!({"experiment_ids": [c.a], "filter": "params.model = 'nothing'"}),
        json!({"experiment_ids": ["987654"]}),
    ] {
        assert_eq!(
            c.reply("/api/2.0/mlflow/runs/search", body.clone()),
            json!({}),
            "{body}"
        );
    }
    // search-089
    c.s.post("runs/search", json!({"experiment_ids": ["abc"]}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn ordering_by_a_metric_puts_nan_then_missing_runs_last_in_both_directions() {
    let c = corpus();
    // search-058..060, search-065
    same(
        c.ordered(&["metrics.acc DESC"]),
        &["alpha", "epsilon", "beta", "gamma", "eta-empty"],
    );
    same(
        c.ordered(&["metrics.`acc` desc"]),
        &["alpha", "epsilon", "beta", "gamma", "eta-empty"],
    );
    same(
        c.ordered(&["metrics.acc ASC"]),
        &["beta", "epsilon", "alpha", "gamma", "eta-empty"],
    );
    same(
        c.ordered(&["metrics.acc"]),
        &["beta", "epsilon", "alpha", "gamma", "eta-empty"],
    );
    // search-101: the client's combined request.
    let client = c.reply(
        "/api/2.0/mlflow/runs/search",
        json!({"experiment_ids": [c.a], "run_view_type": "ACTIVE_ONLY", "filter": "metrics.acc > 0.5",
               "max_results": 10000, "order_by": ["metrics.acc DESC"]}),
    );
    same(run_names(&client), &["alpha", "epsilon", "beta"]);
}

#[test]
fn ordering_by_a_param_or_tag_is_bytewise_with_missing_runs_last_in_both_directions() {
    let c = corpus();
    // search-061, search-062: 'CNN' sorts before 'cnn'.
    same(
        c.ordered(&["params.model ASC"]),
        &["gamma", "alpha", "epsilon", "beta", "eta-empty"],
    );
    same(
        c.ordered(&["params.model DESC"]),
        &["beta", "epsilon", "alpha", "gamma", "eta-empty"],
    );
    // Runs missing the tag keep the default order among themselves (start_time DESC).
    same(
        c.ordered(&["tags.team ASC"]),
        &["alpha", "beta", "epsilon", "gamma", "eta-empty"],
    );
}

#[test]
fn ordering_by_several_keys_and_by_attributes() {
    let c = corpus();
    // search-063, search-064, search-066
    same(
        c.ordered(&["tags.team DESC", "attributes.start_time ASC"]),
        &["epsilon", "beta", "alpha", "eta-empty", "gamma"],
    );
    same(
        c.ordered(&["attributes.run_name ASC"]),
        &["alpha", "beta", "epsilon", "eta-empty", "gamma"],
    );
    same(
        c.ordered(&["start_time ASC"]),
        &["eta-empty", "alpha", "beta", "gamma", "epsilon"],
    );
    same(
        c.ordered(&["created DESC"]),
        &["epsilon", "gamma", "beta", "alpha", "eta-empty"],
    );
    // A missing end_time sorts last in both directions.
    same(
        c.ordered(&["end_time DESC"]),
        &["gamma", "alpha", "epsilon", "beta", "eta-empty"],
    );
    same(
        c.ordered(&["end_time ASC"]),
        &["alpha", "gamma", "epsilon", "beta", "eta-empty"],
    );
    same(
        c.ordered(&["attributes.status ASC", "run_name DESC"]),
        &["gamma", "alpha", "eta-empty", "epsilon", "beta"],
    );
}

#[test]
fn equal_sort_keys_fall_back_to_start_time_descending_then_run_id() {
    let s = TestServer::start();
    let exp = s.experiment("ties");
    let mut runs: Vec<(i64, String)> = Vec::new();
    for start in [5, 5, 5, 9, 1, 5] {
        let run = s.create_run(json!({"experiment_id": exp, "start_time": start}));
        let id = run["info"]["run_id"].as_str().unwrap().to_owned();
        s.log_batch(
            &id,
            json!([metric("m", json!(1.0), 1, 0)]),
            pairs(&[("p", "same")]),
            json!([]),
        );
        runs.push((start, id));
    }
    // The contract's tie-breakers: start_time DESC, then run_id ASC.
    runs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let expected: Vec<&str> = runs.iter().map(|r| r.1.as_str()).collect();
    for order_by in [
        json!([]),
        json!(["metrics.m DESC"]),
        json!(["params.p ASC"]),
        json!(["metrics.m", "tags.nothing DESC"]),
    ] {
        let reply = s
            .post(
                "runs/search",
                json!({"experiment_ids": [exp], "order_by": order_by}),
            )
            .ok();
        let ids: Vec<&str> = reply["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["info"]["run_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, expected, "{order_by}");
    }
    // With start_time among the keys, run_id ASC still breaks the remaining ties.
    let mut by_start: Vec<&(i64, String)> = runs.iter().collect();
    by_start.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let reply = s
        .post(
            "runs/search",
            json!({"experiment_ids": [exp], "order_by": ["start_time ASC"]}),
        )
        .ok();
    let ids: Vec<&str> = reply["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["info"]["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        by_start.iter().map(|r| r.1.as_str()).collect::<Vec<_>>()
    );
}

#[test]
fn string_order_compares_bytes_not_letters() {
    let s = TestServer::start();
    let exp = s.experiment("bytes");
    for (i, value) in ["b", "B", "a", "A", "é", "_"].iter().enumerate() {
        s.create_run(
            json!({"experiment_id": exp, "run_name": value, "start_time": i,
                            "tags": [{"key": "t", "value": value}]}),
        );
    }
    let order = |key: &str| {
        run_names(
            &s.post(
                "runs/search",
                json!({"experiment_ids": [exp], "order_by": [key]}),
            )
            .ok(),
        )
    };
    // Byte order: 'A' (0x41) < 'B' < '_' (0x5f) < 'a' < 'b' < 'é' (0xc3 0xa9).
    same(order("tags.t ASC"), &["A", "B", "_", "a", "b", "é"]);
    same(order("tags.t DESC"), &["é", "b", "a", "_", "B", "A"]);
    same(
        order("attributes.run_name ASC"),
        &["A", "B", "_", "a", "b", "é"],
    );
}

#[test]
fn like_uses_sql_wildcards_and_everything_else_matches_literally() {
    let s = TestServer::start();
    let exp = s.experiment("like");
    for (i, value) in ["a*b", "axb", "a?b", "a[b]", "A_b", "a%b", "ab"]
        .iter()
        .enumerate()
    {
        s.create_run(
            json!({"experiment_id": exp, "run_name": value, "start_time": 100 - i as i64,
                            "tags": [{"key": "v", "value": value}]}),
        );
    }
    let find = |filter: &str| {
        run_names(
            &s.post(
                "runs/search",
                json!({"experiment_ids": [exp], "filter": filter}),
            )
            .ok(),
        )
    };
    // Default order is start_time DESC, i.e. the order above.
    same(find("tags.v LIKE 'a*b'"), &["a*b"]);
    same(find("tags.v LIKE 'a?b'"), &["a?b"]);
    same(find("tags.v LIKE 'a[b]'"), &["a[b]"]);
    same(find("tags.v LIKE '%[%'"), &["a[b]"]);
    same(find("tags.v LIKE 'a_b'"), &["a*b", "axb", "a?b", "a%b"]);
    same(
        find("tags.v ILIKE 'a_b'"),
        &["a*b", "axb", "a?b", "A_b", "a%b"],
    );
    same(
        find("tags.v LIKE 'a%b'"),
        &["a*b", "axb", "a?b", "a%b", "ab"],
    );
    same(
        find("tags.v LIKE 'a%'"),
        &["a*b", "axb", "a?b", "a[b]", "a%b", "ab"],
    );
    same(find("tags.v = 'A_b'"), &["A_b"]);
    same(
        find("tags.v != 'ab'"),
        &["a*b", "axb", "a?b", "a[b]", "A_b", "a%b"],
    );
}

#[test]
fn pages_carry_a_token_only_while_more_runs_exist() {
    let c = corpus();
    let page = |max: i64, token: Option<&str>| {
        let mut body = json!({"experiment_ids": [c.a], "max_results": max});
        if let Some(t) = token {
            body["page_token"] = json!(t);
        }
        c.reply("/api/2.0/mlflow/runs/search", body)
    };
    // search-067..069
    let first = page(2, None);
    same(run_names(&first), &["epsilon", "gamma"]);
    let second = page(2, first["next_page_token"].as_str());
    same(run_names(&second), &["beta", "alpha"]);
    let third = page(2, second["next_page_token"].as_str());
    same(run_names(&third), &["eta-empty"]);
    assert!(third.get("next_page_token").is_none(), "{third}");
    // An exactly full last page has no token either: no empty trailing page.
    let exact = page(5, None);
    assert_eq!(run_names(&exact).len(), 5);
    assert!(exact.get("next_page_token").is_none());
    let four = page(4, None);
    let rest = page(4, four["next_page_token"].as_str());
    same(run_names(&rest), &["eta-empty"]);
    // The token keeps working with a filter and an order.
    let body = |token: Option<&str>| {
        let mut b = json!({"experiment_ids": [c.a], "max_results": 1, "filter": "metrics.acc IS NOT NULL",
                           "order_by": ["metrics.acc DESC"]});
        if let Some(t) = token {
            b["page_token"] = json!(t);
        }
        b
    };
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let reply = c.reply("/api/2.0/cairn/runs/search", body(token.as_deref()));
        names.extend(run_names(&reply));
        match reply.get("next_page_token") {
            Some(t) => token = Some(t.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    same(names, &["alpha", "epsilon", "beta", "gamma"]);
    // search-088
    c.s.post(
        "runs/search",
        json!({"experiment_ids": [c.a], "page_token": "abc"}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
}

#[test]
fn run_view_type_selects_active_deleted_or_all_runs_by_name_or_number() {
    let c = corpus();
    let view = |v: Value| {
        run_names(&c.reply(
            "/api/2.0/mlflow/runs/search",
            json!({"experiment_ids": [c.a], "run_view_type": v}),
        ))
    };
    // search-070..072
    let all = ["epsilon", "delta", "gamma", "beta", "alpha", "eta-empty"];
    same(view(json!("DELETED_ONLY")), &["delta"]);
    same(view(json!(2)), &["delta"]);
    same(view(json!("ALL")), &all);
    same(view(json!(3)), &all);
    same(
        view(json!("ACTIVE_ONLY")),
        &["epsilon", "gamma", "beta", "alpha", "eta-empty"],
    );
    same(
        view(json!(1)),
        &["epsilon", "gamma", "beta", "alpha", "eta-empty"],
    );
    c.s.post(
        "runs/search",
        json!({"experiment_ids": [c.a], "run_view_type": "BOGUS"}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    // A restored run is active again.
    c.s.post("runs/restore", json!({"run_id": c.ids["delta"]}))
        .ok();
    same(view(json!("DELETED_ONLY")), &[]);
}

#[test]
fn max_results_is_between_1_and_50000() {
    let c = corpus();
    // search-073, search-086, search-087
    let max = c.reply(
        "/api/2.0/mlflow/runs/search",
        json!({"experiment_ids": [c.a], "max_results": 50000}),
    );
    same(
        run_names(&max),
        &["epsilon", "gamma", "beta", "alpha", "eta-empty"],
    );
    for bad in [json!(50001), json!(0), json!(-1), json!("many"), json!(1.5)] {
        c.s.post(
            "runs/search",
            json!({"experiment_ids": [c.a], "max_results": bad}),
        )
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
}

#[test]
fn without_max_results_a_page_holds_1000_runs() {
    let s = TestServer::start();
    let exp = s.experiment("thousand");
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (s, exp) = (&s, exp.as_str());
            scope.spawn(move || {
                for i in (t..1001).step_by(8) {
                    s.create_run(json!({"experiment_id": exp, "start_time": i}));
                }
            });
        }
    });
    let first = s.post("runs/search", json!({"experiment_ids": [exp]})).ok();
    assert_eq!(first["runs"].as_array().unwrap().len(), 1000);
    assert_eq!(first["runs"][0]["info"]["start_time"], json!(1000));
    let rest = s
        .post(
            "runs/search",
            json!({"experiment_ids": [exp], "page_token": first["next_page_token"]}),
        )
        .ok();
    assert_eq!(rest["runs"].as_array().unwrap().len(), 1);
    assert_eq!(rest["runs"][0]["info"]["start_time"], json!(0));
    assert!(rest.get("next_page_token").is_none());
}

#[test]
fn mlflows_runs_search_refuses_what_its_grammar_lacks() {
    let c = corpus();
    // search-074..085; IS NULL on metrics and parentheses are Cairn extensions only.
    for filter in [
        "metrics.acc > 0.5 OR params.model = 'cnn'",
        "(params.model = 'cnn')",
        "metrics.acc IS NULL",
        "metrics.acc IS NOT NULL",
        "params.model = cnn",
        "metrics.acc = '0.9'",
        "params.lr > '0.001'",
        "attributes.foo = 'x'",
        "foo.bar = 'x'",
        "attributes.status IN ('FINISHED')",
        "metrics.acc IN (1, 2)",
        "metrics.acc >",
        "params.my-param = 'x'",
        "start_time > 'yesterday'",
        "attributes.end_time IS NULL",
    ] {
        let r = c.s.post(
            "runs/search",
            json!({"experiment_ids": [c.a], "filter": filter}),
        );
        r.expect_error(400, "INVALID_PARAMETER_VALUE");
    }
    for order_by in [
        json!(["metrics.acc DESCENDING"]),
        // search-085: a duplicate key is the caller's mistake, a 400 rather than a 500.
        json!(["metrics.acc DESC", "metrics.acc ASC"]),
        json!(["dataset.name"]),
        json!(["attributes.nope"]),
    ] {
        c.s.post(
            "runs/search",
            json!({"experiment_ids": [c.a], "order_by": order_by}),
        )
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
}

#[test]
fn cairns_search_adds_or_parentheses_and_null_tests_on_metrics() {
    let c = corpus();
    same(
        c.find_extended("metrics.acc > 0.85 OR params.model = 'rnn'"),
        &["beta", "alpha"],
    );
    same(
        c.find_extended("(tags.team = 'a' OR tags.team = 'c') AND metrics.acc > 0.5"),
        &["epsilon", "alpha"],
    );
    // AND binds tighter than OR.
    same(
        c.find_extended("tags.team = 'a' OR tags.team = 'c' AND metrics.acc > 0.85"),
        &["alpha"],
    );
    same(c.find_extended("metrics.acc IS NULL"), &["eta-empty"]);
    // A NaN metric is present: IS NOT NULL holds.
    same(
        c.find_extended("metrics.acc IS NOT NULL"),
        &["epsilon", "gamma", "beta", "alpha"],
    );
    same(
        c.find_extended("metrics.loss IS NULL AND params.model IS NOT NULL"),
        &["epsilon", "gamma", "beta"],
    );
    same(
        c.find_extended("attributes.end_time IS NULL"),
        &["epsilon", "beta", "eta-empty"],
    );
    same(
        c.find_extended("((params.model = 'cnn') OR (params.model = 'CNN' AND status = 'FAILED'))"),
        &["gamma", "alpha"],
    );
    // MLflow's own grammar keeps working there, with the same answers.
    same(
        c.find_extended("metrics.acc != 0.9"),
        &["epsilon", "gamma", "beta"],
    );
    same(
        c.find_extended("params.model != 'cnn'"),
        &["epsilon", "gamma", "beta"],
    );
    // Views, orders and several experiments as on MLflow's endpoint.
    let all = c.reply(
        "/api/2.0/cairn/runs/search",
        json!({"experiment_ids": [c.a, c.b], "filter": "tags.team = 'a' OR metrics.acc IS NULL",
               "run_view_type": "ALL", "order_by": ["start_time ASC"]}),
    );
    same(
        run_names(&all),
        &["eta-empty", "alpha", "delta", "zeta-other-exp"],
    );
    // The extended grammar still refuses nonsense.
    for filter in [
        "metrics.acc > 0.5 OR",
        "(metrics.acc > 0.5",
        "metrics.acc = 'x' OR 1=1",
    ] {
        c.s.post_path(
            "/api/2.0/cairn/runs/search",
            json!({"experiment_ids": [c.a], "filter": filter}),
        )
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    }
}

#[test]
fn many_order_by_keys_never_take_the_server_down() {
    let c = corpus();
    // SQLite cannot run an ORDER BY of 64 or more terms over joined tables (it crashed
    // the server); however many keys a caller sends, the answer is a 200 or a 400.
    for (entity, n) in [
        ("metrics", 5),
        ("metrics", 21),
        ("params", 31),
        ("tags", 40),
        ("metrics", 100),
    ] {
        let keys: Vec<String> = (0..n).map(|i| format!("{entity}.k{i} DESC")).collect();
        let r = c.s.post(
            "runs/search",
            json!({"experiment_ids": [c.a], "order_by": keys}),
        );
        if r.status != 200 {
            r.expect_error(400, "INVALID_PARAMETER_VALUE");
        }
        assert_eq!(c.s.raw_get("/health", &[]).status, 200, "{entity} x{n}");
    }
    // A handful of keys is ordinary.
    same(
        c.ordered(&[
            "metrics.loss DESC",
            "params.lr",
            "tags.team DESC",
            "metrics.acc",
            "run_name",
        ]),
        &["alpha", "epsilon", "beta", "gamma", "eta-empty"],
    );
}

#[test]
fn long_filters_are_answered_and_oversized_searches_are_refused_with_a_400() {
    let c = corpus();
    // SQLite refuses expression trees deeper than 1000; a long AND chain must still work.
    let chain = vec!["metrics.acc > 0.5"; 2000].join(" AND ");
    same(c.find(&chain), &["epsilon", "beta", "alpha"]);
    let any = vec!["params.model = 'cnn'"; 1500].join(" OR ") + " OR params.model = 'mlp'";
    same(c.find_extended(&any), &["epsilon", "alpha"]);
    let experiments = json!(["0", "1"].repeat(10));
    c.s.post("runs/search", json!({"experiment_ids": experiments}))
        .ok();
    // Beyond what one statement can bind it is the caller's request that is too large:
    // a 400, never a 500 that the client would retry for minutes.
    let ids: Vec<String> = (0..40_000).map(|i| format!("'{i:032x}'")).collect();
    let huge_in = format!("run_id IN ({})", ids.join(", "));
    c.s.post(
        "runs/search",
        json!({"experiment_ids": [c.a], "filter": huge_in}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    let many: Vec<String> = (0..40_000).map(|i| i.to_string()).collect();
    c.s.post("runs/search", json!({"experiment_ids": many}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
    let tags = vec!["tags.t = 'x'"; 20_000].join(" AND ");
    c.s.post(
        "experiments/search",
        json!({"max_results": 10, "filter": tags}),
    )
    .expect_error(400, "INVALID_PARAMETER_VALUE");
    assert_eq!(c.s.raw_get("/health", &[]).status, 200);
}
