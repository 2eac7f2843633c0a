//! Upload, download, overwrite, odd names, delete and the /ajax-api mirror.

use super::*;
use serde_json::json;

#[test]
fn an_uploaded_file_downloads_byte_for_byte_with_its_sha256_as_etag() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let path = format!("{root}/direct/upload.bin");

    let put = art.put(&path, &bytes);
    assert_eq!(put.status().as_u16(), 200);
    assert_eq!(header(&put, "etag"), format!("\"{}\"", sha256_hex(&bytes)));
    assert!(
        put.headers().get("content-type").is_none(),
        "MLflow answers an upload with no body and no content type"
    );
    assert_eq!(put.text().unwrap(), "");

    let got = art.get(&path);
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(header(&got, "etag"), format!("\"{}\"", sha256_hex(&bytes)));
    assert_eq!(header(&got, "content-type"), "application/octet-stream");
    assert_eq!(header(&got, "x-content-type-options"), "nosniff");
    assert_eq!(header(&got, "content-length"), "70000");
    let disposition = header(&got, "content-disposition").to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename=\"upload.bin\""),
        "{disposition}"
    );
    assert_eq!(got.bytes().unwrap().as_ref(), bytes.as_slice());
}

#[test]
fn text_like_files_download_as_text_plain() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    for name in ["hello.txt", "config.json", "config.yaml", "MLmodel"] {
        art.upload(&format!("{root}/{name}"), b"x: 1\n");
        let got = art.get(&format!("{root}/{name}"));
        assert_eq!(header(&got, "content-type"), "text/plain", "{name}");
    }
}

#[test]
fn an_empty_file_round_trips_and_lists_with_size_zero() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    art.upload(&format!("{root}/empty.txt"), b"");
    let got = art.get(&format!("{root}/empty.txt"));
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(header(&got, "etag"), format!("\"{}\"", sha256_hex(b"")));
    assert_eq!(header(&got, "content-length"), "0");
    assert!(got.bytes().unwrap().is_empty());
    assert_eq!(
        art.list(Some(&root)),
        json!({"files": [{"path": "empty.txt", "is_dir": false, "file_size": 0}]})
    );
}

#[test]
fn uploading_again_to_a_path_replaces_what_downloads() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let path = format!("{root}/direct/upload.bin");
    art.upload(&path, b"\x00\x01binary first version");
    art.upload(&path, b"second version");
    let got = art.get(&path);
    assert_eq!(
        header(&got, "etag"),
        format!("\"{}\"", sha256_hex(b"second version"))
    );
    assert_eq!(got.bytes().unwrap().as_ref(), b"second version");
    assert_eq!(
        art.list(Some(&format!("{root}/direct"))),
        json!({"files": [{"path": "upload.bin", "is_dir": false, "file_size": 14}]})
    );
}

#[test]
fn names_with_unicode_and_spaces_round_trip_percent_encoded() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (run_id, root) = new_run(&server);
    let name = "naïve résumé 日本 (1)+x.txt";
    let path = format!("{root}/données du jour/{name}");
    art.upload(&path, "contenu é".as_bytes());

    let got = art.get(&path);
    assert_eq!(got.status().as_u16(), 200);
    let disposition = header(&got, "content-disposition").to_owned();
    assert!(
        disposition.contains(&format!("filename*=UTF-8''{}", encode(name))),
        "{disposition}"
    );
    assert!(disposition.is_ascii(), "{disposition}");
    assert_eq!(got.bytes().unwrap().as_ref(), "contenu é".as_bytes());

    assert_eq!(
        art.list(Some(&root)),
        json!({"files": [{"path": "données du jour", "is_dir": true}]})
    );
    assert_eq!(
        art.list(Some(&format!("{root}/données du jour"))),
        json!({"files": [{"path": name, "is_dir": false, "file_size": 10}]})
    );
    let listed = server
        .get(
            "artifacts/list",
            &[("run_id", &run_id), ("path", "données du jour")],
        )
        .ok();
    assert_eq!(
        listed["files"],
        json!([{"path": format!("données du jour/{name}"), "is_dir": false, "file_size": 10}])
    );
}

#[test]
fn nested_directories_are_created_by_uploading_below_them() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    art.upload(&format!("{root}/a/b/c/d/deep.txt"), b"deep");
    art.upload(&format!("{root}/a/top.txt"), b"top");
    assert_eq!(art.download(&format!("{root}/a/b/c/d/deep.txt")), b"deep");
    assert_eq!(
        art.list(Some(&format!("{root}/a"))),
        json!({"files": [
            {"path": "b", "is_dir": true},
            {"path": "top.txt", "is_dir": false, "file_size": 3},
        ]})
    );
    assert_eq!(
        art.list(Some(&format!("{root}/a/b/c"))),
        json!({"files": [{"path": "d", "is_dir": true}]})
    );
}

#[test]
fn downloading_a_directory_is_refused_with_400() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    art.upload(&format!("{root}/bundle/data.json"), b"{}");
    let body = expect_error(
        art.get(&format!("{root}/bundle")),
        400,
        "INVALID_PARAMETER_VALUE",
    );
    assert_eq!(
        body["message"],
        format!("Artifact path refers to a directory, not a file: '{root}/bundle'")
    );
}

#[test]
fn downloading_a_missing_file_is_404_resource_does_not_exist() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let body = expect_error(
        art.get(&format!("{root}/missing.txt")),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_eq!(
        body["message"],
        format!("No such artifact: '{root}/missing.txt'")
    );
}

#[test]
fn a_path_ending_in_a_slash_or_the_bare_root_cannot_be_uploaded_to() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    for url in [
        format!("{}/", art.url(&root)),
        format!("{}{PROXY}/", server.url),
    ] {
        let r = art.http.put(&url).body("x").send().unwrap();
        expect_error(r, 400, "INVALID_PARAMETER_VALUE");
    }
    assert_eq!(art.list(Some(&root)), json!({}));
}

#[test]
fn a_file_cannot_replace_a_directory_nor_sit_below_a_file_and_the_refused_bytes_leave_no_blob() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    art.upload(&format!("{root}/model/MLmodel"), b"flavors: {}");
    art.upload(&format!("{root}/weights.bin"), b"weights");
    let blobs_before = files_under(&blobs_dir(&server));
    assert_eq!(blobs_before.len(), 2);

    let over_dir = art.put(
        &format!("{root}/model"),
        b"refused: a file over a directory",
    );
    expect_error(over_dir, 400, "INVALID_PARAMETER_VALUE");
    let below_file = art.put(&format!("{root}/weights.bin/x"), b"refused: below a file");
    expect_error(below_file, 400, "INVALID_PARAMETER_VALUE");

    assert_eq!(
        art.download(&format!("{root}/model/MLmodel")),
        b"flavors: {}"
    );
    assert_eq!(art.download(&format!("{root}/weights.bin")), b"weights");
    assert_eq!(
        files_under(&blobs_dir(&server)),
        blobs_before,
        "refused uploads must not leave blobs nothing points at"
    );
    assert!(files_under(&tmp_dir(&server)).is_empty());
}

#[test]
fn deleting_a_file_removes_only_that_file() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    art.upload(&format!("{root}/direct/empty.txt"), b"");
    art.upload(&format!("{root}/direct/keep.txt"), b"keep");
    let r = art.delete(&format!("{root}/direct/empty.txt"));
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<serde_json::Value>().unwrap(), json!({}));
    assert_eq!(art.get(&format!("{root}/direct/empty.txt")).status(), 404);
    assert_eq!(art.download(&format!("{root}/direct/keep.txt")), b"keep");
}

#[test]
fn deleting_a_directory_removes_everything_below_it_but_not_neighbours_sharing_a_prefix() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    for p in [
        "direct/a.txt",
        "direct/sub/b.txt",
        "direct-2/c.txt",
        "directory.txt",
    ] {
        art.upload(&format!("{root}/{p}"), p.as_bytes());
    }
    let r = art.delete(&format!("{root}/direct"));
    assert_eq!(r.json::<serde_json::Value>().unwrap(), json!({}));
    for gone in ["direct/a.txt", "direct/sub/b.txt"] {
        assert_eq!(art.get(&format!("{root}/{gone}")).status(), 404, "{gone}");
    }
    assert_eq!(
        art.download(&format!("{root}/direct-2/c.txt")),
        b"direct-2/c.txt"
    );
    assert_eq!(
        art.download(&format!("{root}/directory.txt")),
        b"directory.txt"
    );
    assert_eq!(
        art.list(Some(&root)),
        json!({"files": [
            {"path": "direct-2", "is_dir": true},
            {"path": "directory.txt", "is_dir": false, "file_size": 13},
        ]})
    );
}

#[test]
fn deleting_a_missing_path_answers_an_empty_object() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let r = art.delete(&format!("{root}/never/was"));
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.json::<serde_json::Value>().unwrap(), json!({}));
}

#[test]
fn the_ajax_api_prefix_serves_the_same_artifacts() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (run_id, root) = new_run(&server);
    let ajax = |p: &str| {
        format!(
            "{}/ajax-api/2.0/mlflow-artifacts/artifacts/{}",
            server.url,
            encode(p)
        )
    };
    let path = format!("{root}/hello.txt");
    let put = art
        .http
        .put(ajax(&path))
        .body("hello artifact\n")
        .send()
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    assert_eq!(art.download(&path), b"hello artifact\n");

    let got = art.http.get(ajax(&path)).send().unwrap();
    assert_eq!(header(&got, "content-type"), "text/plain");
    assert_eq!(got.bytes().unwrap().as_ref(), b"hello artifact\n");

    let listed = server
        .raw_get(
            "/ajax-api/2.0/mlflow-artifacts/artifacts",
            &[("path", &root)],
        )
        .ok();
    assert_eq!(
        listed,
        json!({"files": [{"path": "hello.txt", "is_dir": false, "file_size": 15}]})
    );
    let tracked = server
        .raw_get(
            "/ajax-api/2.0/mlflow/artifacts/list",
            &[("run_id", &run_id)],
        )
        .ok();
    assert_eq!(tracked["files"][0]["path"], "hello.txt");

    let deleted = art.http.delete(ajax(&path)).send().unwrap();
    assert_eq!(deleted.json::<serde_json::Value>().unwrap(), json!({}));
    assert_eq!(art.get(&path).status(), 404);
}

#[test]
fn a_presigned_download_points_back_at_this_server_with_the_size() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let path = format!("{root}/docs/my file.txt");
    art.upload(&path, b"presigned bytes");
    let presigned = server
        .raw_get(
            &format!("/api/2.0/mlflow-artifacts/presigned/{}", encode(&path)),
            &[],
        )
        .ok();
    assert_eq!(presigned["file_size"], 15);
    let url = presigned["url"].as_str().unwrap();
    assert_eq!(url, art.url(&path));
    let got = art.http.get(url).send().unwrap();
    assert_eq!(got.bytes().unwrap().as_ref(), b"presigned bytes");
    server
        .raw_get(
            &format!("/api/2.0/mlflow-artifacts/presigned/{}", encode(&root)),
            &[],
        )
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
}
