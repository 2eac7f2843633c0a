//! Every write of a path is kept as a version; verify re-hashes the blobs on disk.

use super::*;
use serde_json::{json, Value};

fn versions(server: &TestServer, path: &str) -> Value {
    server
        .raw_get("/api/2.0/cairn/artifacts/versions", &[("path", path)])
        .ok()
}

fn verify(server: &TestServer, body: Value) -> Value {
    server
        .post_path("/api/2.0/cairn/artifacts/verify", body)
        .ok()
}

/// A path written three times; returns it and the three contents, oldest first.
fn written_three_times(server: &TestServer) -> (String, Vec<Vec<u8>>) {
    let art = Artifacts::of(server);
    let (_, root) = new_run(server);
    let path = format!("{root}/model/weights.bin");
    let seed = fresh_seed();
    let contents: Vec<Vec<u8>> = (0..3)
        .map(|i| random_bytes(4096 + i, seed + i as u64))
        .collect();
    for c in &contents {
        art.upload(&path, c);
    }
    (path, contents)
}

#[test]
fn writing_a_path_three_times_lists_three_versions_newest_first() {
    let server = TestServer::start();
    let (path, contents) = written_three_times(&server);
    let listed = versions(&server, &path);
    assert_eq!(listed["path"], path);
    let got: Vec<(i64, String, i64, bool)> = listed["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            assert!(v["creation_time"].as_i64().is_some_and(|t| t > 0), "{v}");
            (
                v["version"].as_i64().unwrap(),
                v["digest"].as_str().unwrap().to_owned(),
                v["file_size"].as_i64().unwrap(),
                v["current"].as_bool().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(i64, String, i64, bool)> = contents
        .iter()
        .enumerate()
        .rev()
        .map(|(i, c)| (i as i64 + 1, sha256_hex(c), c.len() as i64, i == 2))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn an_old_version_downloads_by_its_digest() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (path, contents) = written_three_times(&server);
    for c in &contents {
        let r = art
            .http
            .get(format!("{}/api/2.0/cairn/artifacts/version", server.url))
            .query(&[("path", path.as_str()), ("digest", &sha256_hex(c))])
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(header(&r, "etag"), format!("\"{}\"", sha256_hex(c)));
        assert_eq!(
            header(&r, "content-disposition"),
            "attachment; filename=\"weights.bin\"; filename*=UTF-8''weights.bin"
        );
        assert_eq!(r.bytes().unwrap().as_ref(), c.as_slice());
    }
    assert_eq!(art.download(&path), contents[2], "the newest stays current");
}

#[test]
fn a_digest_the_path_never_had_is_404() {
    let server = TestServer::start();
    let (path, _) = written_three_times(&server);
    server
        .raw_get(
            "/api/2.0/cairn/artifacts/version",
            &[("path", &path), ("digest", &sha256_hex(b"never written"))],
        )
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    let missing = versions(&server, &format!("{path}.missing"));
    assert_eq!(missing.get("versions"), None, "{missing}");
}

#[test]
fn verify_reports_intact_blobs_as_ok() {
    let server = TestServer::start();
    let (path, contents) = written_three_times(&server);
    assert_eq!(
        verify(&server, json!({"path": path})),
        json!({"ok": true, "blobs": [{"digest": sha256_hex(&contents[2]), "ok": true}]})
    );
    let all = verify(&server, json!({}));
    assert_eq!(all["ok"], true);
    let mut digests: Vec<String> = contents.iter().map(|c| sha256_hex(c)).collect();
    digests.sort();
    let reported: Vec<&str> = all["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["digest"].as_str().unwrap())
        .collect();
    assert_eq!(reported, digests);
}

#[test]
fn verify_reports_a_blob_corrupted_on_disk_as_not_ok() {
    use std::io::{Seek, SeekFrom, Write};
    let server = TestServer::start();
    let (path, contents) = written_three_times(&server);
    let current = sha256_hex(&contents[2]);
    let file = blob_file(&server, &current);
    let mut f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.seek(SeekFrom::Start(100)).unwrap();
    f.write_all(b"bit rot").unwrap();
    f.sync_all().unwrap();
    drop(f);
    assert_eq!(
        std::fs::metadata(&file).unwrap().len(),
        4098,
        "same size, other bytes"
    );

    assert_eq!(
        verify(&server, json!({"path": path})),
        json!({"ok": false, "blobs": [{"digest": current, "ok": false}]})
    );
    let all = verify(&server, json!({}));
    assert_eq!(all["ok"], false);
    for b in all["blobs"].as_array().unwrap() {
        assert_eq!(b["ok"], b["digest"] != current.as_str(), "{b}");
    }
}

#[test]
fn verify_reports_a_blob_missing_from_disk_as_not_ok() {
    let server = TestServer::start();
    let (path, contents) = written_three_times(&server);
    std::fs::remove_file(blob_file(&server, &sha256_hex(&contents[2]))).unwrap();
    assert_eq!(verify(&server, json!({"path": path}))["ok"], false);
}

#[test]
fn verifying_a_path_that_is_not_a_file_is_404() {
    let server = TestServer::start();
    let (path, _) = written_three_times(&server);
    let dir = path.rsplit_once('/').unwrap().0;
    for p in [dir.to_owned(), format!("{path}.missing")] {
        server
            .post_path("/api/2.0/cairn/artifacts/verify", json!({"path": p}))
            .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    }
}
