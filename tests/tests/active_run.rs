//! The `ActiveRun` background logger against a real server: every point arrives, once,
//! through batching, a server stopped and restarted mid-loop, and a process that died.

use cairn_client::blocking::Client;
use cairn_client::{ActiveRun, Delivery, LoggerOptions};
use cairn_schema::RunStatus;
use cairn_tests::{cairn_binary, TestServer};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn options(spool: &Path) -> LoggerOptions {
    LoggerOptions {
        spool_dir: Some(spool.to_owned()),
        flush_interval: Duration::from_millis(50),
        // A bound on waiting, not a speed target: a debug server on a busy machine may
        // need a minute for a million points.
        finish_timeout: Duration::from_secs(600),
        ..LoggerOptions::default()
    }
}

fn new_run(client: &Client) -> String {
    let exp = client.get_or_create_experiment("active-run").unwrap();
    client.create_run(&exp, Some("logger")).unwrap().info.run_id
}

/// How many times each step of a metric is on the server.
fn steps_on_server(client: &Client, run_id: &str, key: &str) -> BTreeMap<i64, usize> {
    let mut steps = BTreeMap::new();
    for m in client.get_metric_history(run_id, key).unwrap() {
        *steps.entry(m.step).or_default() += 1;
    }
    steps
}

/// Asserts that steps `0..n` are each on the server exactly once, and nothing else is.
fn assert_each_step_once(steps: &BTreeMap<i64, usize>, n: i64) {
    let twice: Vec<_> = steps.iter().filter(|(_, c)| **c != 1).take(5).collect();
    assert!(twice.is_empty(), "steps stored more than once: {twice:?}");
    assert_eq!(steps.len() as i64, n, "distinct steps on the server");
    assert_eq!(steps.keys().next().copied(), Some(0));
    assert_eq!(steps.keys().last().copied(), Some(n - 1));
}

fn assert_all_delivered(d: &Delivery) {
    assert!(d.delivered, "not delivered: {d:?}");
    assert_eq!(d.dropped, 0);
    assert!(d.rejected.is_empty(), "rejected: {:?}", d.rejected);
    assert!(d.spool.is_none());
}

#[test]
fn a_million_points_logged_through_active_run_are_all_on_the_server() {
    let server = TestServer::start();
    let spool = tempfile::tempdir().unwrap();
    let client = Client::new(&server.url).unwrap();
    let run_id = new_run(&client);
    let run = ActiveRun::attach(client.to_async(), &run_id, options(spool.path())).unwrap();
    let n = 1_000_000;
    for step in 0..n {
        run.log_metric("loss", 1.0 / (step + 1) as f64, step);
    }
    let delivery = run.finish();
    assert_all_delivered(&delivery);
    assert_each_step_once(&steps_on_server(&client, &run_id, "loss"), n);
    let info = client.get_run(&run_id).unwrap().info;
    assert_eq!(info.status, RunStatus::Finished);
    assert!(
        std::fs::read_dir(spool.path()).map_or(true, |mut d| d.next().is_none()),
        "a delivered run leaves no spool"
    );
}

#[test]
fn params_and_tags_are_split_to_the_servers_limits_and_the_last_tag_wins() {
    let server = TestServer::start();
    let spool = tempfile::tempdir().unwrap();
    let client = Client::new(&server.url).unwrap();
    let run_id = new_run(&client);
    let run = ActiveRun::attach(client.to_async(), &run_id, options(spool.path())).unwrap();
    for i in 0..250 {
        run.log_param(&format!("p{i}"), &i.to_string());
        run.set_tag(&format!("t{i}"), "first");
    }
    for i in 0..250 {
        run.set_tag(&format!("t{i}"), "second");
    }
    assert_all_delivered(&run.finish());
    let data = client.get_run(&run_id).unwrap().data;
    assert_eq!(data.params.len(), 250);
    let ours: Vec<_> = data
        .tags
        .iter()
        .filter(|t| t.key.starts_with('t'))
        .collect();
    assert_eq!(ours.len(), 250);
    assert!(ours.iter().all(|t| t.value == "second"), "{ours:?}");
}

#[test]
fn a_changed_param_is_reported_and_costs_no_other_entry() {
    let server = TestServer::start();
    let spool = tempfile::tempdir().unwrap();
    let client = Client::new(&server.url).unwrap();
    let run_id = new_run(&client);
    let run = ActiveRun::attach(client.to_async(), &run_id, options(spool.path())).unwrap();
    run.log_param("lr", "0.1");
    run.log_metric("loss", 0.5, 0);
    run.log_param("lr", "0.2");
    run.log_metric("loss", 0.4, 1);
    let delivery = run.finish();
    assert!(delivery.delivered);
    assert_eq!(delivery.rejected.len(), 1, "{:?}", delivery.rejected);
    assert!(
        delivery.rejected[0].contains("\"lr\""),
        "{:?}",
        delivery.rejected
    );
    let run = client.get_run(&run_id).unwrap();
    assert_eq!(run.data.params[0].value, "0.1");
    assert_eq!(steps_on_server(&client, &run_id, "loss").len(), 2);
}

#[test]
fn a_run_dropped_while_panicking_ends_failed_and_one_dropped_normally_ends_finished() {
    let server = TestServer::start();
    let spool = tempfile::tempdir().unwrap();
    let client = Client::new(&server.url).unwrap();
    let (failed, finished) = (new_run(&client), new_run(&client));
    let opts = options(spool.path());
    let async_client = client.to_async();
    let outcome = std::thread::spawn(move || {
        let _run = ActiveRun::attach(async_client, &failed, opts).unwrap();
        panic!("training diverged");
    })
    .join();
    assert!(outcome.is_err());
    drop(ActiveRun::attach(client.to_async(), &finished, options(spool.path())).unwrap());
    let runs = client
        .search_all_runs(
            &cairn_client::SearchRuns {
                experiment_ids: vec![
                    client
                        .get_experiment_by_name("active-run")
                        .unwrap()
                        .experiment_id,
                ],
                ..Default::default()
            },
            None,
        )
        .unwrap();
    let status = |id: &str| {
        runs.iter()
            .find(|r| r.info.run_id == id)
            .unwrap()
            .info
            .status
    };
    assert_eq!(status(&finished), RunStatus::Finished);
    let failed_id = runs
        .iter()
        .find(|r| r.info.run_id != finished)
        .unwrap()
        .info
        .run_id
        .clone();
    assert_eq!(status(&failed_id), RunStatus::Failed);
}

#[test]
fn a_server_stopped_mid_loop_and_restarted_gets_every_point_once_and_the_loop_never_blocks_past_its_bound(
) {
    let data = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path());
    let port = server.port();
    let client = Client::new(&server.url).unwrap();
    let run_id = new_run(&client);
    let opts = LoggerOptions {
        max_block: Duration::from_millis(500),
        ..options(spool.path())
    };
    let bound = opts.max_block;
    let run = ActiveRun::attach(client.to_async(), &run_id, opts).unwrap();
    let n: i64 = 300_000;
    let logger = std::thread::spawn(move || {
        let mut slowest = Duration::ZERO;
        for step in 0..n {
            let t = Instant::now();
            run.log_metric("loss", 1.0 / (step + 1) as f64, step);
            slowest = slowest.max(t.elapsed());
            if step % 1000 == 0 {
                // About 100k points a second, as a fast training loop logs.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        (run, slowest)
    });
    std::thread::sleep(Duration::from_millis(600));
    server.kill();
    std::thread::sleep(Duration::from_millis(1200));
    let server = TestServer::start_in_on_port(data.path(), port);
    let (run, slowest) = logger.join().unwrap();
    let delivery = run.finish();
    assert_all_delivered(&delivery);
    assert!(
        slowest <= bound,
        "a log_metric call blocked {slowest:?}, past the documented bound {bound:?}"
    );
    let client = Client::new(&server.url).unwrap();
    assert_each_step_once(&steps_on_server(&client, &run_id, "loss"), n);
    assert_eq!(
        client.get_run(&run_id).unwrap().info.status,
        RunStatus::Finished
    );
}

#[test]
fn cairn_sync_replays_the_spool_of_a_process_that_died_while_the_server_was_away() {
    let data = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(data.path());
    let port = server.port();
    let client = Client::new(&server.url).unwrap();
    let run_id = new_run(&client);
    server.kill();

    let points = 20_000;
    let out = Command::new(env!("CARGO_BIN_EXE_log_then_die"))
        .args([&server.url, &run_id])
        .arg(spool.path())
        .arg(points.to_string())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(said["delivered"], false);
    assert_eq!(said["dropped"], 0);
    let spooled = said["spool"].as_str().expect("a spool file").to_owned();
    assert!(Path::new(&spooled).exists());

    let server = TestServer::start_in_on_port(data.path(), port);
    let sync = |expect: &str| {
        let out = Command::new(cairn_binary())
            .args(["sync", "--tracking-uri", &server.url, "--spool-dir"])
            .arg(spool.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(expect), "{stdout}");
    };
    sync(&format!("({points} metric points), deleted"));
    assert!(!Path::new(&spooled).exists());
    sync("nothing to sync");

    let client = Client::new(&server.url).unwrap();
    assert_each_step_once(&steps_on_server(&client, &run_id, "loss"), points);
    let run = client.get_run(&run_id).unwrap();
    assert_eq!(run.data.params[0].value, "0.001");
    let phase = run.data.tags.iter().find(|t| t.key == "phase").unwrap();
    assert_eq!(phase.value, "done");
    assert_eq!(
        run.info.status,
        RunStatus::Running,
        "the dead process never finished the run"
    );
}
