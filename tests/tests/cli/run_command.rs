//! `cairn run -- CMD`: exit status, output artifacts, command and git tags, MLFLOW_RUN_ID for the child.

use super::{cairn, client, Output};
use cairn_client::schema::{Run, RunStatus};
use cairn_client::SearchRuns;
use cairn_tests::{cairn_binary, TestServer};
use std::path::Path;
use std::process::Command;

/// The one run of an experiment.
fn only_run(server: &TestServer, experiment: &str) -> Run {
    let c = client(server);
    let id = c.get_experiment_by_name(experiment).unwrap().experiment_id;
    let query = SearchRuns {
        experiment_ids: vec![id],
        ..SearchRuns::default()
    };
    let mut runs = c.search_all_runs(&query, None).unwrap();
    assert_eq!(runs.len(), 1, "one run in {experiment}");
    runs.remove(0)
}

fn tag<'r>(run: &'r Run, key: &str) -> Option<&'r str> {
    run.data
        .tags
        .iter()
        .find(|t| t.key == key)
        .map(|t| t.value.as_str())
}

/// `cairn run -e EXPERIMENT -- sh -c SCRIPT` in `dir`.
fn run_sh(server: &TestServer, dir: &Path, experiment: &str, script: &str) -> Output {
    cairn(server, &["run", "-e", experiment, "--", "sh", "-c", script])
        .dir(dir)
        .run()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Cairn Tests",
            "-c",
            "user.email=tests@cairn.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_failing_command_leaves_a_failed_run_tagged_with_its_exit_code_and_cairn_exits_with_it() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = run_sh(&server, dir.path(), "jobs", "exit 3").expect(3);
    let run = only_run(&server, "jobs");
    assert_eq!(run.info.status, RunStatus::Failed);
    assert_eq!(tag(&run, "cairn.exit_code"), Some("3"));
    assert_eq!(tag(&run, "cairn.command"), Some("sh -c 'exit 3'"));
    assert!(run.info.end_time.is_some());
    assert!(out.stderr.contains(&run.info.run_id), "{}", out.stderr);
    assert_eq!(
        tag(&run, "mlflow.source.git.commit"),
        None,
        "a temp dir is no repository"
    );
}

#[test]
fn a_succeeding_command_finishes_its_run_with_its_output_as_artifacts() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let out = run_sh(&server, dir.path(), "jobs", "echo hi; echo oops >&2").expect(0);
    assert_eq!(out.stdout, "hi\n", "the child's stdout passes through");
    assert!(out.stderr.contains("oops\n"), "{}", out.stderr);

    let run = only_run(&server, "jobs");
    assert_eq!(run.info.status, RunStatus::Finished);
    assert_eq!(run.info.run_name, "sh");
    assert_eq!(tag(&run, "cairn.exit_code"), Some("0"));
    assert_eq!(
        tag(&run, "cairn.command"),
        Some("sh -c 'echo hi; echo oops >&2'")
    );
    assert!(run
        .data
        .metrics
        .iter()
        .any(|m| m.key == "duration_s" && m.value >= 0.0));
    let c = client(&server);
    assert_eq!(
        c.download_artifact(&run, "logs/stdout.txt").unwrap(),
        b"hi\n"
    );
    assert_eq!(
        c.download_artifact(&run, "logs/stderr.txt").unwrap(),
        b"oops\n"
    );
}

#[test]
fn the_child_logs_to_the_same_run_through_mlflow_run_id() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bin = cairn_binary();
    let script = format!(
        "'{}' log metric x=1 --step 7 && echo \"$MLFLOW_RUN_ID\"",
        bin.display()
    );
    let out = run_sh(&server, dir.path(), "nested", &script).expect(0);
    let run = only_run(&server, "nested");
    assert!(
        out.stdout.lines().any(|l| l == run.info.run_id),
        "the child saw its run id: {}",
        out.stdout
    );
    let x = client(&server)
        .get_metric_history(&run.info.run_id, "x")
        .unwrap();
    assert_eq!(
        x.iter().map(|m| (m.step, m.value)).collect::<Vec<_>>(),
        [(7, 1.0)]
    );
}

#[test]
fn inside_a_git_repository_the_commit_and_whether_the_tree_is_dirty_are_tagged() {
    let server = TestServer::start();
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    std::fs::write(repo.path().join("train.py"), "print('hi')\n").unwrap();
    git(repo.path(), &["add", "train.py"]);
    git(repo.path(), &["commit", "-q", "-m", "first"]);
    let head = git(repo.path(), &["rev-parse", "HEAD"]);

    run_sh(&server, repo.path(), "clean", "true").expect(0);
    let clean = only_run(&server, "clean");
    assert_eq!(tag(&clean, "mlflow.source.git.commit"), Some(head.as_str()));
    assert_eq!(tag(&clean, "cairn.git.dirty"), Some("false"));

    std::fs::write(repo.path().join("train.py"), "print('changed')\n").unwrap();
    run_sh(&server, repo.path(), "dirty", "true").expect(0);
    let dirty = only_run(&server, "dirty");
    assert_eq!(tag(&dirty, "mlflow.source.git.commit"), Some(head.as_str()));
    assert_eq!(tag(&dirty, "cairn.git.dirty"), Some("true"));
}

#[test]
fn a_command_that_cannot_start_fails_its_run_and_is_a_usage_error() {
    let server = TestServer::start();
    let out = cairn(
        &server,
        &["run", "-e", "broken", "--", "/nonexistent/program"],
    )
    .run()
    .expect(2);
    assert!(
        out.stderr.contains("/nonexistent/program"),
        "{}",
        out.stderr
    );
    let run = only_run(&server, "broken");
    assert_eq!(run.info.status, RunStatus::Failed);
    assert!(tag(&run, "cairn.error").is_some_and(|e| e.contains("could not start")));

    cairn(&server, &["run", "-e", "broken"]).run().expect(2);
}
