//! `cairn gc` against a running server: deleted runs and their unshared blobs go, shared ones stay.

use cairn_tests::{cairn_binary, TestServer};
use serde_json::json;
use std::process::Command;

fn put(server: &TestServer, path: &str, bytes: &'static [u8]) {
    let resp = reqwest::blocking::Client::new()
        .put(format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{path}",
            server.url
        ))
        .body(bytes)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
}

fn blob_files(server: &TestServer) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        if e.path().is_dir() {
                            walk(&e.path())
                        } else {
                            1
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    walk(&server.data_dir().join("artifacts").join("blobs"))
}

#[test]
fn gc_purges_deleted_runs_and_only_the_blobs_nobody_else_uses() {
    let server = TestServer::start();
    let exp = server.experiment("gc");
    let (doomed, kept) = (server.run(&exp), server.run(&exp));
    put(
        &server,
        &format!("{exp}/{doomed}/artifacts/own.txt"),
        b"only in the doomed run",
    );
    put(
        &server,
        &format!("{exp}/{doomed}/artifacts/shared.txt"),
        b"in both runs",
    );
    put(
        &server,
        &format!("{exp}/{kept}/artifacts/shared.txt"),
        b"in both runs",
    );
    assert_eq!(blob_files(&server), 2);
    assert_eq!(
        server.post("runs/delete", json!({"run_id": doomed})).status,
        200
    );

    let out = Command::new(cairn_binary())
        .args(["gc", "--tracking-uri", &server.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "removed 1 runs and 1 artifact blobs"
    );

    assert_eq!(server.get("runs/get", &[("run_id", &doomed)]).status, 404);
    assert_eq!(blob_files(&server), 1);
    let shared = reqwest::blocking::get(format!(
        "{}/api/2.0/mlflow-artifacts/artifacts/{exp}/{kept}/artifacts/shared.txt",
        server.url
    ))
    .unwrap();
    assert_eq!(shared.text().unwrap(), "in both runs");
}

#[test]
fn gc_leaves_runs_deleted_more_recently_than_asked() {
    let server = TestServer::start();
    let run = server.run(&server.experiment("gc-recent"));
    assert_eq!(
        server.post("runs/delete", json!({"run_id": run})).status,
        200
    );
    let out = Command::new(cairn_binary())
        .args(["gc", "--older-than", "3600", "--tracking-uri", &server.url])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "removed 0 runs and 0 artifact blobs"
    );
    assert_eq!(server.get_run(&run)["info"]["lifecycle_stage"], "deleted");
}

#[test]
fn gc_keeps_a_deleted_run_that_a_registered_model_version_came_from() {
    let server = TestServer::start();
    let exp = server.experiment("gc-registry");
    let run = server.run(&exp);
    put(
        &server,
        &format!("{exp}/{run}/artifacts/model/MLmodel"),
        b"flavors: {}",
    );
    assert_eq!(
        server
            .post("registered-models/create", json!({"name": "kept"}))
            .status,
        200
    );
    let source = format!("mlflow-artifacts:/{exp}/{run}/artifacts/model");
    let v = server.post(
        "model-versions/create",
        json!({"name": "kept", "source": source, "run_id": run}),
    );
    assert_eq!(v.status, 200, "{:?}", v.body);
    assert_eq!(
        server.post("runs/delete", json!({"run_id": run})).status,
        200
    );

    let out = Command::new(cairn_binary())
        .args(["gc", "--tracking-uri", &server.url])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "removed 0 runs and 0 artifact blobs"
    );
    assert_eq!(
        blob_files(&server),
        1,
        "the version's files are still there"
    );
    assert_eq!(server.get_run(&run)["info"]["lifecycle_stage"], "deleted");
}
