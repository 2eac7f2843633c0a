//! `cairn sync`, `cairn gc` and `cairn completions`, and the exit code of an unreachable server.

use super::{cairn, client, start_run};
use cairn_tests::{cairn_binary, TestServer};
use std::process::Command;

#[test]
fn sync_of_an_empty_spool_dir_has_nothing_to_send() {
    let server = TestServer::start();
    let spool = tempfile::tempdir().unwrap();
    let out = cairn(
        &server,
        &["sync", "--spool-dir", spool.path().to_str().unwrap()],
    )
    .ok();
    assert_eq!(
        out,
        format!("nothing to sync in {}\n", spool.path().display())
    );
    let from_env = cairn(&server, &["sync"])
        .env("CAIRN_SPOOL_DIR", spool.path().to_str().unwrap())
        .ok();
    assert_eq!(from_env, out);
}

#[test]
fn gc_purges_a_deleted_run_and_reports_it_as_json() {
    let server = TestServer::start();
    let doomed = start_run(&server, "gc", "doomed");
    let kept = start_run(&server, "gc", "kept");
    let c = client(&server);
    c.delete_run(&doomed).unwrap();
    let out = cairn(&server, &["gc"]).json();
    assert_eq!(out["runs"], serde_json::json!([doomed]));
    assert!(c.get_run(&doomed).unwrap_err().is_not_found());
    assert!(c.get_run(&kept).is_ok());
    let again = cairn(&server, &["gc"]).ok();
    assert_eq!(again, "removed 0 runs and 0 artifact blobs\n");
}

#[test]
fn completions_for_bash_are_a_script_that_completes_cairn_commands() {
    let out = Command::new(cairn_binary())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(
        script.contains("_cairn()"),
        "defines the completion function"
    );
    assert!(
        script.contains("complete -F _cairn"),
        "registers it for cairn"
    );
    for command in ["experiments", "runs", "metrics", "prompts"] {
        assert!(script.contains(command), "{command} is completed");
    }
}

#[test]
fn an_unreachable_server_exits_4() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(cairn_binary())
        .args([
            "experiments",
            "list",
            "--tracking-uri",
            &format!("http://127.0.0.1:{port}"),
        ])
        .env("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&port.to_string()));
}
