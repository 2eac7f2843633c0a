//! Run search and metric history through the client: `Filter`/`OrderBy` builders, raw strings, paging, search_all_runs, long histories.

use super::*;
use cairn_client::{Filter, OrderBy, SearchRuns};

/// Runs named `r0`… in one experiment, with a bleu metric, a model param and a team tag each.
async fn sweep(client: &Client, rows: &[(&str, f64, &str, &str)]) -> (String, Vec<String>) {
    let exp = client.create_experiment("sweep").await.unwrap();
    let mut ids = Vec::new();
    for (name, bleu, model, team) in rows {
        let run = client.create_run(&exp, Some(name)).await.unwrap();
        let id = run.info.run_id;
        client
            .log_batch(
                &id,
                &[point("bleu", *bleu, 1, 0)],
                &[tag("model", model)],
                &[tag("team", team)],
            )
            .await
            .unwrap();
        ids.push(id);
    }
    (exp, ids)
}

fn names(runs: &[Run]) -> Vec<String> {
    runs.iter().map(|r| r.info.run_name.clone()).collect()
}

fn query(exp: &str, filter: Option<String>, order_by: Vec<String>) -> SearchRuns {
    SearchRuns {
        experiment_ids: vec![exp.to_owned()],
        filter,
        order_by,
        ..SearchRuns::default()
    }
}

#[test]
fn builder_filters_and_orders_find_the_same_runs_as_raw_strings() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (exp, created) = sweep(
            &client,
            &[
                ("a", 28.5, "t5", "nlp"),
                ("b", 31.0, "t5", "nlp"),
                ("c", 35.5, "t5", "vision"),
                ("d", 40.0, "bart", "nlp"),
            ],
        )
        .await;
        let built = Filter::metric("bleu")
            .gt(30.0)
            .and(Filter::param("model").eq("t5"));
        let by = OrderBy::metric("bleu").desc();
        let typed = client
            .search_runs(&query(&exp, Some(built.into()), vec![by.into()]))
            .await
            .unwrap();
        assert_eq!(names(&typed.items), ["c", "b"]);
        assert!(typed.next_page_token.is_none());
        let raw = client
            .search_runs(&query(
                &exp,
                Some("metrics.bleu > 30 AND params.model = 't5'".into()),
                vec!["metrics.bleu DESC".into()],
            ))
            .await
            .unwrap();
        assert_eq!(ids(&raw.items), ids(&typed.items));
        let by_tag = client
            .search_runs(&query(
                &exp,
                Some(Filter::tag("team").eq("vision").into()),
                vec![],
            ))
            .await
            .unwrap();
        assert_eq!(names(&by_tag.items), ["c"]);
        let by_id = client
            .search_runs(&query(
                &exp,
                Some(
                    Filter::attribute("run_id")
                        .is_in(&[&created[0], &created[3]])
                        .into(),
                ),
                vec![OrderBy::attribute("run_name").desc().into()],
            ))
            .await
            .unwrap();
        assert_eq!(names(&by_id.items), ["d", "a"]);
        let ascending = client
            .search_runs(&query(
                &exp,
                Some(Filter::metric("bleu").le(35.5).into()),
                vec![OrderBy::attribute("run_name").asc().into()],
            ))
            .await
            .unwrap();
        assert_eq!(names(&ascending.items), ["a", "b", "c"]);
    });
}

#[test]
fn builder_filters_quote_awkward_keys_and_values_so_the_server_reads_them() {
    let (_server, client) = server_and_client();
    block_on(async {
        let exp = client.create_experiment("awkward").await.unwrap();
        let run = client.create_run(&exp, Some("odd")).await.unwrap();
        let id = run.info.run_id.clone();
        client
            .log_batch(
                &id,
                &[point("eval/bleu", 30.25, 1, 0)],
                &[tag("prompt", "it's \"quoted\"")],
                &[tag("note", "it's")],
            )
            .await
            .unwrap();
        client.create_run(&exp, Some("plain")).await.unwrap();
        for filter in [
            Filter::metric("eval/bleu").eq_num(30.25),
            Filter::param("prompt").eq("it's \"quoted\""),
            Filter::tag("note").eq("it's"),
            Filter::tag("note").like("it%"),
            Filter::attribute("run_name").ne("plain"),
            Filter::tag("note").is_not_null(),
        ] {
            let text = filter.to_string();
            let found = client
                .search_runs(&query(&exp, Some(text.clone()), vec![]))
                .await
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(ids(&found.items), [id.as_str()], "{text}");
        }
        let untagged = client
            .search_runs(&query(
                &exp,
                Some(Filter::tag("note").is_null().into()),
                vec![],
            ))
            .await
            .unwrap();
        assert_eq!(names(&untagged.items), ["plain"]);
    });
}

#[test]
fn search_runs_pages_with_max_results_and_page_token() {
    let (_server, client) = server_and_client();
    block_on(async {
        let rows: Vec<(String, f64)> = (0..7).map(|i| (format!("r{i}"), i as f64)).collect();
        let rows: Vec<(&str, f64, &str, &str)> = rows
            .iter()
            .map(|(n, b)| (n.as_str(), *b, "t5", "nlp"))
            .collect();
        let (exp, _) = sweep(&client, &rows).await;
        let mut q = query(&exp, None, vec![OrderBy::metric("bleu").asc().into()]);
        q.max_results = Some(3);
        let mut pages = Vec::new();
        loop {
            let page = client.search_runs(&q).await.unwrap();
            pages.push(names(&page.items));
            match page.next_page_token {
                Some(t) => q.page_token = Some(t),
                None => break,
            }
        }
        assert_eq!(
            pages,
            [vec!["r0", "r1", "r2"], vec!["r3", "r4", "r5"], vec!["r6"]]
        );
    });
}

#[test]
fn search_all_runs_reads_across_pages_and_stops_at_the_limit() {
    let (_server, client) = server_and_client();
    block_on(async {
        let rows: Vec<(String, f64)> = (0..7).map(|i| (format!("r{i}"), 10.0 - i as f64)).collect();
        let rows: Vec<(&str, f64, &str, &str)> = rows
            .iter()
            .map(|(n, b)| (n.as_str(), *b, "t5", "nlp"))
            .collect();
        let (exp, created) = sweep(&client, &rows).await;
        let mut q = query(&exp, None, vec![OrderBy::metric("bleu").desc().into()]);
        q.max_results = Some(2);
        let all = client.search_all_runs(&q, None).await.unwrap();
        assert_eq!(ids(&all), created, "every run once, in bleu order");
        let first5 = client.search_all_runs(&q, Some(5)).await.unwrap();
        assert_eq!(ids(&first5), created[..5].to_vec());
        let more_than_there_are = client.search_all_runs(&q, Some(100)).await.unwrap();
        assert_eq!(ids(&more_than_there_are), created);
        // Starting from a page token continues from there.
        let first = client.search_runs(&q).await.unwrap();
        q.page_token = first.next_page_token;
        let rest = client.search_all_runs(&q, None).await.unwrap();
        assert_eq!(ids(&rest), created[2..].to_vec());
        q.page_token = None;
        q.filter = Some(Filter::metric("bleu").gt(100.0).into());
        assert!(client.search_all_runs(&q, None).await.unwrap().is_empty());
    });
}

#[test]
fn a_filter_the_server_cannot_parse_is_an_invalid_parameter() {
    let (_server, client) = server_and_client();
    block_on(async {
        let exp = client.create_experiment("bad-filter").await.unwrap();
        let err = client
            .search_runs(&query(&exp, Some("metrics.bleu >>> 3".into()), vec![]))
            .await
            .unwrap_err();
        expect_api(err, 400, "INVALID_PARAMETER_VALUE");
    });
}

#[test]
fn metric_history_of_more_than_25000_points_is_read_whole_across_pages() {
    let (_server, client) = server_and_client();
    block_on(async {
        let exp = client.create_experiment("long").await.unwrap();
        let run = client.create_run(&exp, Some("long")).await.unwrap();
        let id = &run.info.run_id;
        let seed = fresh_seed();
        let total = 26_500i64;
        let logged: Vec<Metric> = (0..total)
            .map(|step| {
                let noise = (seed.wrapping_mul(step as u64 + 1) >> 40) as f64 / 1e6;
                point("loss", 1.0 / (step + 1) as f64 + noise, 1_000 + step, step)
            })
            .collect();
        for chunk in logged.chunks(1000) {
            client.log_batch(id, chunk, &[], &[]).await.unwrap();
        }
        client.log_metric(id, "other", 1.0, 0).await.unwrap();
        let history = client.get_metric_history(id, "loss").await.unwrap();
        assert_eq!(history.len(), logged.len());
        assert_eq!(history, logged, "every point, in order, none twice");
        assert!(client
            .get_metric_history(id, "never")
            .await
            .unwrap()
            .is_empty());
    });
}
