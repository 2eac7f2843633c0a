//! The hot reads' query plans as SQLite reports them, and the index-driven run search
//! answering exactly what the plain plan answers.

use super::{metrics, migrations, run_reads, runs};
use crate::store::{Batch, NewRun, RunQuery};
use cairn_schema::filter::{parse_filter, parse_order_by, Dialect};
use cairn_schema::{Metric, Param, ViewType};
use proptest::prelude::RngExt as _;
use proptest::test_runner::{RngAlgorithm, TestRng};
use rusqlite::Connection;

/// An experiment no run belongs to: naming it beside another turns the driver off.
const EMPTY_EXPERIMENT: i64 = 424_242;

fn migrated() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    migrations::migrate(&mut conn, 0).unwrap();
    conn
}

fn query(experiments: &[i64], filter: &str, order: &[&str], view: ViewType) -> RunQuery {
    RunQuery {
        experiment_ids: experiments.to_vec(),
        filter: parse_filter(Dialect::Runs, filter).unwrap(),
        order_by: order
            .iter()
            .map(|o| parse_order_by(Dialect::Runs, o).unwrap())
            .collect(),
        view,
        max_results: 7,
        offset: 0,
    }
}

/// The plan's lines, one per step, as `EXPLAIN QUERY PLAN` prints them.
fn plan(conn: &Connection, sql: &str, params: &[rusqlite::types::Value]) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let lines: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    lines.join("\n")
}

fn search_plan(conn: &Connection, q: &RunQuery) -> String {
    let sql = run_reads::search_sql(q).unwrap();
    let params: Vec<rusqlite::types::Value> = sql
        .params
        .iter()
        .map(|p| match p {
            crate::search::SqlValue::Int(i) => (*i).into(),
            crate::search::SqlValue::Real(f) => (*f).into(),
            crate::search::SqlValue::Text(t) => t.clone().into(),
        })
        .collect();
    plan(conn, &sql.text, &params)
}

#[test]
fn a_search_filtered_and_ordered_by_one_metric_walks_the_experiment_index_and_sorts_no_run() {
    let conn = migrated();
    for order in ["metrics.acc DESC", "metrics.acc ASC"] {
        let q = query(
            &[0],
            "metrics.acc > 0.5 and params.lr = '0.01'",
            &[order],
            ViewType::ActiveOnly,
        );
        let plan = search_plan(&conn, &q);
        assert!(
            plan.starts_with(
                "SEARCH o0 USING COVERING INDEX latest_metrics_by_experiment \
                 (experiment_id=? AND key=? AND is_nan=? AND value>?)"
            ),
            "{order}:\n{plan}"
        );
        assert!(
            plan.contains("SEARCH r USING INTEGER PRIMARY KEY"),
            "{order}:\n{plan}"
        );
        // Only ties of the metric's value are sorted (SQLite says "RIGHT PART" or
        // "LAST 2 TERMS" by version); never the whole result.
        assert!(
            !plan.lines().any(|l| l == "USE TEMP B-TREE FOR ORDER BY"),
            "{order}:\n{plan}"
        );
    }
}

#[test]
fn a_search_over_several_experiments_or_without_a_bounding_clause_reads_runs_by_experiment() {
    let conn = migrated();
    let cases = [
        query(
            &[0, 1],
            "metrics.acc > 0.5",
            &["metrics.acc DESC"],
            ViewType::ActiveOnly,
        ),
        query(&[0], "", &["metrics.acc DESC"], ViewType::ActiveOnly),
        query(
            &[0],
            "metrics.acc != 0.5",
            &["metrics.acc DESC"],
            ViewType::ActiveOnly,
        ),
        query(
            &[0],
            "metrics.acc > 0.5 OR params.lr = '0.1'",
            &["metrics.acc DESC"],
            ViewType::ActiveOnly,
        ),
        query(&[0], "params.lr = '0.1'", &[], ViewType::ActiveOnly),
    ];
    for q in cases {
        let plan = search_plan(&conn, &q);
        assert!(
            plan.starts_with("SEARCH r USING INDEX runs_by_experiment (experiment_id=?"),
            "{:?}:\n{plan}",
            q.filter
        );
        assert!(!plan.contains("SCAN"), "{plan}");
    }
}

#[test]
fn param_tag_and_metric_clauses_look_up_each_run_by_primary_key() {
    let conn = migrated();
    let q = query(
        &[0],
        "params.lr = '0.01' and tags.team = 'a' and metrics.loss < 1",
        &[],
        ViewType::ActiveOnly,
    );
    let plan = search_plan(&conn, &q);
    for table in ["k", "m"] {
        assert!(
            plan.contains(&format!(
                "SEARCH {table} USING PRIMARY KEY (run=? AND key=?)"
            )),
            "{plan}"
        );
    }
    assert!(!plan.contains("SCAN"), "{plan}");
}

#[test]
fn metric_history_is_read_in_primary_key_order_without_a_sort() {
    let conn = migrated();
    let params: Vec<rusqlite::types::Value> = vec![
        "r".to_owned().into(),
        "loss".to_owned().into(),
        (-1i64).into(),
        0i64.into(),
    ];
    let plan = plan(&conn, metrics::HISTORY, &params);
    assert!(
        plan.contains("sqlite_autoindex_runs_1 (run_uuid=?)"),
        "{plan}"
    );
    assert!(
        plan.contains("SEARCH m USING PRIMARY KEY (run=? AND key=?)"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
}

/// 300 runs with ties in value and start time, NaN, missing metrics, deleted runs and
/// runs moved in after logging.
fn seeded() -> Connection {
    let conn = migrated();
    let other = super::experiments::create(&conn, "other", None, &[]).unwrap();
    // Deterministic, so that a failure replays.
    let mut rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    for i in 0..300 {
        let home = if i % 10 == 9 { other } else { 0 };
        let run = runs::create(
            &conn,
            NewRun {
                experiment_id: home,
                user_id: String::new(),
                run_name: Some(format!("run-{i}")),
                start_time: 1_000 + rng.random_range(0..40u64) as i64,
                tags: Vec::new(),
            },
        )
        .unwrap();
        let mut batch = Batch::default();
        if rng.random_range(0..8u64) != 0 {
            let value = match rng.random_range(0..12u64) {
                0 => f64::NAN,
                _ => rng.random_range(0..20u64) as f64 / 20.0,
            };
            for step in 0..2 {
                batch.metrics.push(Metric {
                    key: "acc".into(),
                    value: value - 0.05 * (1 - step) as f64,
                    timestamp: 5,
                    step,
                    run_id: None,
                });
            }
        }
        let lr = if rng.random_range(0..2u64) == 0 {
            "0.01"
        } else {
            "0.1"
        };
        batch.params.push(Param {
            key: "lr".into(),
            value: lr.into(),
        });
        runs::log_batch(&conn, &run, &batch).unwrap();
        if rng.random_range(0..9u64) == 0 {
            runs::set_lifecycle(&conn, &run, false).unwrap();
        } else if home == other && rng.random_range(0..2u64) == 0 {
            runs::move_to(&conn, &run, 0).unwrap();
        }
    }
    conn
}

fn every_page(conn: &Connection, mut q: RunQuery) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let page = run_reads::search(conn, &q).unwrap();
        ids.extend(page.items.into_iter().map(|r| r.info.run_id));
        match page.next_offset {
            Some(offset) => q.offset = offset,
            None => return ids,
        }
    }
}

#[test]
fn the_index_driven_search_pages_through_exactly_the_runs_of_the_plain_plan() {
    let conn = seeded();
    let filters = [
        "metrics.acc > 0.5 and params.lr = '0.01'",
        "metrics.acc <= 0.3",
        "metrics.acc = 0.5",
        "metrics.acc >= 0.2 and metrics.acc < 0.8 and params.lr = '0.1'",
    ];
    let orders: [&[&str]; 3] = [
        &["metrics.acc DESC"],
        &["metrics.acc ASC"],
        &["metrics.acc DESC", "params.lr ASC"],
    ];
    let mut longest = 0;
    for filter in filters {
        for order in orders {
            for view in [ViewType::ActiveOnly, ViewType::All, ViewType::DeletedOnly] {
                let driven = query(&[0], filter, order, view);
                assert!(
                    search_plan(&conn, &driven).contains("latest_metrics_by_experiment"),
                    "{filter} {order:?}"
                );
                let plain = query(&[0, EMPTY_EXPERIMENT], filter, order, view);
                let (a, b) = (every_page(&conn, driven), every_page(&conn, plain));
                assert_eq!(a, b, "{filter} {order:?} {view:?}");
                longest = longest.max(a.len());
            }
        }
    }
    // The cases span several pages of 7, so paging and ties are exercised.
    assert!(longest > 21, "only {longest} runs matched");
}
