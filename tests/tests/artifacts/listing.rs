//! Listing through the proxy (basenames) and through the tracking API (run-relative paths).

use super::*;
use serde_json::json;

/// The run of transcript artifacts-050: a few files and directories.
fn logged_run(server: &TestServer) -> (String, String) {
    let (run_id, root) = new_run(server);
    let art = Artifacts::of(server);
    art.upload(&format!("{root}/hello.txt"), b"hello artifact\n");
    art.upload(&format!("{root}/bundle/data.json"), b"{\"a\": 1}\n");
    art.upload(&format!("{root}/bundle/table.csv"), b"col\n1\n2\n3\n4\n5\n");
    art.upload(&format!("{root}/docs/hello.txt"), b"hello artifact\n");
    (run_id, root)
}

#[test]
fn the_proxy_listing_shows_basenames_and_directories_without_sizes() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = logged_run(&server);
    assert_eq!(
        art.list(Some(&root)),
        json!({"files": [
            {"path": "bundle", "is_dir": true},
            {"path": "docs", "is_dir": true},
            {"path": "hello.txt", "is_dir": false, "file_size": 15},
        ]})
    );
    assert_eq!(
        art.list(Some(&format!("{root}/bundle"))),
        json!({"files": [
            {"path": "data.json", "is_dir": false, "file_size": 9},
            {"path": "table.csv", "is_dir": false, "file_size": 14},
        ]})
    );
}

#[test]
fn the_proxy_listing_tolerates_one_trailing_slash_on_a_directory() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = logged_run(&server);
    assert_eq!(
        art.list(Some(&format!("{root}/bundle/"))),
        art.list(Some(&format!("{root}/bundle")))
    );
}

#[test]
fn the_proxy_listing_of_a_missing_directory_or_of_a_file_is_an_empty_object() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = logged_run(&server);
    assert_eq!(art.list(Some(&format!("{root}/nope"))), json!({}));
    assert_eq!(art.list(Some(&format!("{root}/hello.txt"))), json!({}));
    assert_eq!(
        art.list(Some(&format!("{root}/bundle/data.json"))),
        json!({})
    );
    // A name that merely starts like a directory is not inside it.
    assert_eq!(art.list(Some(&format!("{root}/bund"))), json!({}));
}

#[test]
fn the_proxy_listing_without_a_path_lists_the_destination_root() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = logged_run(&server);
    let exp = root.split('/').next().unwrap();
    assert_eq!(
        art.list(None),
        json!({"files": [{"path": exp, "is_dir": true}]})
    );
}

#[test]
fn the_tracking_listing_gives_paths_relative_to_the_run_root_and_the_root_uri() {
    let server = TestServer::start();
    let (run_id, root) = logged_run(&server);
    let root_uri = format!("mlflow-artifacts:/{root}");
    for id_field in ["run_id", "run_uuid"] {
        assert_eq!(
            server.get("artifacts/list", &[(id_field, &run_id)]).ok(),
            json!({"root_uri": root_uri, "files": [
                {"path": "bundle", "is_dir": true},
                {"path": "docs", "is_dir": true},
                {"path": "hello.txt", "is_dir": false, "file_size": 15},
            ]}),
            "{id_field}"
        );
    }
    assert_eq!(
        server
            .get("artifacts/list", &[("run_id", &run_id), ("path", "bundle")])
            .ok(),
        json!({"root_uri": root_uri, "files": [
            {"path": "bundle/data.json", "is_dir": false, "file_size": 9},
            {"path": "bundle/table.csv", "is_dir": false, "file_size": 14},
        ]})
    );
}

#[test]
fn the_tracking_listing_of_a_file_or_a_missing_path_gives_only_the_root_uri() {
    let server = TestServer::start();
    let (run_id, root) = logged_run(&server);
    let only_root = json!({"root_uri": format!("mlflow-artifacts:/{root}")});
    for path in ["hello.txt", "does/not/exist"] {
        assert_eq!(
            server
                .get("artifacts/list", &[("run_id", &run_id), ("path", path)])
                .ok(),
            only_root,
            "{path}"
        );
    }
}

#[test]
fn the_tracking_listing_does_not_show_another_runs_artifacts() {
    let server = TestServer::start();
    let (_, root) = logged_run(&server);
    let exp = root.split('/').next().unwrap();
    let (other, _) = new_run_in(&server, exp);
    let listed = server.get("artifacts/list", &[("run_id", &other)]).ok();
    assert_eq!(listed.get("files"), None, "{listed}");
}

#[test]
fn the_tracking_listing_of_an_unknown_run_is_404() {
    let server = TestServer::start();
    server
        .get(
            "artifacts/list",
            &[("run_id", "0123456789abcdef0123456789abcdef")],
        )
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}

#[test]
fn the_tracking_listing_refuses_traversal_with_mlflows_message() {
    let server = TestServer::start();
    let (run_id, _) = logged_run(&server);
    let r = server.get("artifacts/list", &[("run_id", &run_id), ("path", "../x")]);
    r.expect_error(400, "INVALID_PARAMETER_VALUE");
    assert_eq!(r.body["message"], "Invalid path");
}
