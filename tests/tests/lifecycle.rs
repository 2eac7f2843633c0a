//! The server process: start-up output, persistence across restarts, graceful shutdown, store flags.

use cairn_tests::{cairn_binary, TestServer};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn what_was_logged_survives_a_restart_on_the_same_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let run = {
        let server = TestServer::start_in(dir.path());
        let run = server.run(&server.experiment("persist"));
        let r = server.post(
            "runs/log-metric",
            json!({"run_id": run, "key": "loss", "value": 0.25, "timestamp": 7}),
        );
        assert_eq!(r.status, 200);
        run
    };
    let server = TestServer::start_in(dir.path());
    let metrics = &server.get_run(&run)["data"]["metrics"];
    assert_eq!(
        metrics,
        &json!([{"key": "loss", "value": 0.25, "timestamp": 7, "step": 0}])
    );
}

#[test]
fn sigterm_shuts_the_server_down_cleanly() {
    let mut server = TestServer::start();
    server.experiment("before-shutdown");
    assert!(
        server.terminate(),
        "the server exits with status 0 on SIGTERM"
    );
}

#[test]
fn the_server_says_where_it_listens_and_where_it_stores() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("elsewhere.db");
    let mut child = Command::new(cairn_binary())
        .args(["server", "--port", "0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--backend-store-uri")
        .arg(format!("sqlite:///{}", db.display()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let listen = lines.next().unwrap().unwrap();
    let store = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        listen.starts_with("cairn listening on http://127.0.0.1:"),
        "{listen}"
    );
    assert!(store.contains(&db.display().to_string()), "{store}");
    assert!(
        db.exists(),
        "the database was created where --backend-store-uri says"
    );
}

#[test]
fn an_unsupported_backend_store_uri_is_refused_at_start() {
    let out = Command::new(cairn_binary())
        .args([
            "server",
            "--port",
            "0",
            "--backend-store-uri",
            "mysql://db/x",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sqlite:///"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
