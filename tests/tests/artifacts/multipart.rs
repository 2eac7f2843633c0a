//! Multipart uploads through MLflow's mpu routes, with parts stored on this server. As
//! in MLflow's proxy, the URL names the directory and the body's `path` the client's
//! local file, whose base name the upload takes.

use super::*;
use serde_json::{json, Value};

const MPU: &str = "/api/2.0/mlflow-artifacts/mpu";

/// `path` is the file the upload makes: its directory goes in the URL, its name in the body.
fn split(path: &str) -> (&str, String) {
    let (dir, name) = path.rsplit_once('/').unwrap();
    (dir, format!("/home/me/data/{name}"))
}

fn create(server: &TestServer, path: &str, parts: i64) -> Value {
    let (dir, local) = split(path);
    server
        .post_path(
            &format!("{MPU}/create/{}", encode(dir)),
            json!({"path": local, "num_parts": parts}),
        )
        .ok()
}

fn complete(server: &TestServer, path: &str, upload_id: &str, parts: &[i64]) -> cairn_tests::Reply {
    let (dir, local) = split(path);
    let parts: Vec<Value> = parts
        .iter()
        .map(|n| json!({"part_number": n, "etag": ""}))
        .collect();
    server.post_path(
        &format!("{MPU}/complete/{}", encode(dir)),
        json!({"path": local, "upload_id": upload_id, "parts": parts}),
    )
}

fn parts_dir(server: &TestServer, upload_id: &str) -> PathBuf {
    server
        .data_dir()
        .join("artifacts")
        .join("parts")
        .join(upload_id)
}

/// Creates an upload of `path` in three parts; returns its id and the part URLs.
fn three_parts(server: &TestServer, path: &str) -> (String, Vec<String>) {
    let created = create(server, path, 3);
    let upload_id = created["upload_id"].as_str().unwrap().to_owned();
    let credentials = created["credentials"].as_array().unwrap();
    assert_eq!(credentials.len(), 3);
    let urls = credentials
        .iter()
        .enumerate()
        .map(|(i, c)| {
            assert_eq!(c["part_number"], i as i64 + 1);
            assert_eq!(c["headers"], json!({}));
            let url = c["url"].as_str().unwrap().to_owned();
            assert!(
                url.starts_with(&format!("{}/", server.url)),
                "{url} is not on this server"
            );
            url
        })
        .collect();
    (upload_id, urls)
}

#[track_caller]
fn put_part(art: &Artifacts, url: &str, bytes: &[u8]) {
    let r = art.http.put(url).body(bytes.to_vec()).send().unwrap();
    assert_eq!(r.status().as_u16(), 200, "{url}");
    assert_eq!(header(&r, "etag"), format!("\"{}\"", sha256_hex(bytes)));
}

#[test]
fn parts_put_to_their_urls_complete_into_the_concatenated_file() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let path = format!("{root}/big.bin");
    let (upload_id, urls) = three_parts(&server, &path);
    let seed = fresh_seed();
    let parts: Vec<Vec<u8>> = [5 * 1024 * 1024, 5 * 1024 * 1024, 1234]
        .iter()
        .enumerate()
        .map(|(i, n)| random_bytes(*n, seed + i as u64))
        .collect();
    // Parts may arrive in any order.
    for i in [2, 0, 1] {
        put_part(&art, &urls[i], &parts[i]);
    }
    assert_eq!(
        art.get(&path).status(),
        404,
        "nothing is visible before complete"
    );

    assert_eq!(
        complete(&server, &path, &upload_id, &[1, 2, 3]).ok(),
        json!({})
    );
    let whole = parts.concat();
    let got = art.get(&path);
    assert_eq!(header(&got, "etag"), format!("\"{}\"", sha256_hex(&whole)));
    let body = got.bytes().unwrap();
    assert_eq!(body.len(), whole.len());
    assert_eq!(sha256_hex(&body), sha256_hex(&whole));
    assert!(
        files_under(&parts_dir(&server, &upload_id)).is_empty(),
        "parts are dropped"
    );
    assert!(files_under(&tmp_dir(&server)).is_empty());
    assert_eq!(files_under(&blobs_dir(&server)).len(), 1);
}

#[test]
fn aborting_an_upload_drops_its_parts_and_forgets_it() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let path = format!("{root}/big.bin");
    let (upload_id, urls) = three_parts(&server, &path);
    put_part(&art, &urls[0], b"part one");
    put_part(&art, &urls[1], b"part two");
    assert_eq!(files_under(&parts_dir(&server, &upload_id)).len(), 2);

    let aborted = server
        .post_path(
            &format!("{MPU}/abort/{}", encode(&root)),
            json!({"path": "big.bin", "upload_id": upload_id}),
        )
        .ok();
    assert_eq!(aborted, json!({}));
    assert!(files_under(&parts_dir(&server, &upload_id)).is_empty());
    assert_eq!(art.get(&path).status(), 404);

    let late = art.http.put(&urls[2]).body("late part").send().unwrap();
    expect_error(late, 404, "RESOURCE_DOES_NOT_EXIST");
    complete(&server, &path, &upload_id, &[1, 2]).expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert!(files_under(&parts_dir(&server, &upload_id)).is_empty());
    assert!(files_under(&blobs_dir(&server)).is_empty());
}

#[test]
fn completing_with_a_part_never_uploaded_is_400_and_the_upload_can_still_finish() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let path = format!("{root}/big.bin");
    let (upload_id, urls) = three_parts(&server, &path);
    put_part(&art, &urls[0], b"one-");
    put_part(&art, &urls[2], b"-three");

    complete(&server, &path, &upload_id, &[1, 2, 3]).expect_error(400, "INVALID_PARAMETER_VALUE");
    assert_eq!(art.get(&path).status(), 404);
    assert!(files_under(&tmp_dir(&server)).is_empty());
    assert!(files_under(&blobs_dir(&server)).is_empty());

    put_part(&art, &urls[1], b"two");
    assert_eq!(
        complete(&server, &path, &upload_id, &[1, 2, 3]).ok(),
        json!({})
    );
    assert_eq!(art.download(&path), b"one-two-three");
}

#[test]
fn an_upload_completes_only_at_the_path_it_was_created_for() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let (upload_id, urls) = three_parts(&server, &format!("{root}/big.bin"));
    put_part(&art, &urls[0], b"x");
    for elsewhere in [format!("{root}/other.bin"), format!("{root}/sub/big.bin")] {
        complete(&server, &elsewhere, &upload_id, &[1])
            .expect_error(400, "INVALID_PARAMETER_VALUE");
        assert_eq!(art.get(&elsewhere).status(), 404);
    }
    assert_eq!(
        complete(&server, &format!("{root}/big.bin"), &upload_id, &[1]).ok(),
        json!({})
    );
    assert_eq!(art.download(&format!("{root}/big.bin")), b"x");
}

#[test]
fn parts_for_an_unknown_upload_or_out_of_range_numbers_are_refused() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let unknown = format!("{}{MPU}/part/{}/1", server.url, "0".repeat(32));
    let r = art.http.put(&unknown).body("x").send().unwrap();
    expect_error(r, 404, "RESOURCE_DOES_NOT_EXIST");
    let (upload_id, _) = three_parts(&server, &format!("{root}/big.bin"));
    for part in ["0", "10001", "x"] {
        let url = format!("{}{MPU}/part/{upload_id}/{part}", server.url);
        let r = art.http.put(&url).body("x").send().unwrap();
        expect_error(r, 400, "INVALID_PARAMETER_VALUE");
    }
    let r = art
        .http
        .put(format!("{}{MPU}/part/..%2F..%2Fx/1", server.url))
        .body("x")
        .send()
        .unwrap();
    expect_error(r, 400, "INVALID_PARAMETER_VALUE");
    assert!(!server.data_dir().join("artifacts").join("x").exists());
}
