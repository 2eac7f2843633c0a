//! What the bucket keeps and what it drops: one object per content, gc, refused and cut-off uploads, multipart parts, temp sweeping, verification.

use super::*;
use std::io::Write as _;
use std::net::TcpStream;
use std::time::Instant;

#[test]
fn the_same_content_logged_by_two_runs_is_stored_once_in_the_bucket() {
    let s = setup();
    let experiment = s.server.experiment("dedup");
    let bytes = data(64 * 1024, 3);
    let mut digests = Vec::new();
    for _ in 0..2 {
        let run = s.server.run(&experiment);
        let uri = s.server.get_run(&run)["info"]["artifact_uri"]
            .as_str()
            .expect("artifact_uri")
            .to_owned();
        let root = uri
            .strip_prefix("mlflow-artifacts:/")
            .unwrap_or_else(|| panic!("a served artifact root: {uri}"));
        digests.push(s.put(&format!("{root}/model.bin"), &bytes));
        let listed = s.server.get("artifacts/list", &[("run_id", &run)]).ok();
        assert_eq!(
            listed["files"],
            json!([{"path": "model.bin", "is_dir": false, "file_size": bytes.len()}])
        );
        assert_eq!(s.get(&format!("{root}/model.bin"), None).body, bytes);
    }
    assert_eq!(digests[0], digests[1]);
    assert_eq!(s.blob_keys(), [blob_key(&digests[0])]);
}

#[test]
fn deleting_artifacts_and_collecting_garbage_removes_their_blobs_from_the_bucket() {
    let s = setup();
    let shared = s.put("a.bin", b"shared content");
    s.put("b.bin", b"shared content");
    let alone = s.put("c.bin", b"content of c alone");
    assert_eq!(s.blob_keys().len(), 2);

    let delete = |path: &str| s.http.delete(s.artifact_url(path)).send().unwrap();
    assert_eq!(delete("a.bin").status().as_u16(), 200);
    assert_eq!(
        s.get("b.bin", None).body,
        b"shared content",
        "content another path still uses stays"
    );
    assert!(s.blob_keys().contains(&blob_key(&shared)));

    assert_eq!(delete("c.bin").status().as_u16(), 200);
    s.post_path("/api/2.0/cairn/gc", json!({}));
    assert!(!s.blob_keys().contains(&blob_key(&alone)));
    assert_eq!(s.blob_keys(), [blob_key(&shared)]);

    // A deleted run's artifacts go when garbage is collected.
    let run = s.server.run(&s.server.experiment("doomed"));
    let root = s.server.get_run(&run)["info"]["artifact_uri"]
        .as_str()
        .and_then(|u| u.strip_prefix("mlflow-artifacts:/"))
        .expect("a served artifact root")
        .to_owned();
    let doomed = s.put(&format!("{root}/w.bin"), b"weights of a deleted run");
    assert!(s.blob_keys().contains(&blob_key(&doomed)));
    s.server.post("runs/delete", json!({"run_id": run})).ok();
    // gc purges runs deleted strictly before now: let the millisecond clock move on.
    std::thread::sleep(Duration::from_millis(5));
    let collected = s.post_path("/api/2.0/cairn/gc", json!({"older_than_ms": 0}));
    assert_eq!(collected["runs"], json!([run]));
    assert_eq!(collected["blobs"], json!([doomed]));
    assert_eq!(s.blob_keys(), [blob_key(&shared)]);
}

#[test]
fn an_upload_with_a_wrong_sha256_is_refused_and_leaves_nothing_in_the_bucket() {
    let s = setup();
    let claimed = sha256(b"what the client meant to send");
    let (status, _) = s.put_with(
        "refused.bin",
        &data(1024 * 1024, 4),
        &[("x-cairn-sha256", &claimed)],
    );
    assert_eq!(status, 400);
    assert_eq!(s.get("refused.bin", None).status, 404);
    assert_eq!(s.moto.keys("cairn/tmp/"), Vec::<String>::new());
    assert_eq!(s.blob_keys(), Vec::<String>::new());
    assert_eq!(s.moto.open_uploads(), 0);

    let right = sha256(b"what the client meant to send");
    let (status, _) = s.put_with(
        "accepted.bin",
        b"what the client meant to send",
        &[("x-cairn-sha256", &right)],
    );
    assert_eq!(status, 200, "the right digest is accepted");
    assert_eq!(s.blob_keys(), [blob_key(&right)]);
}

#[test]
fn an_upload_cut_off_mid_body_aborts_its_s3_multipart_upload() {
    let s = setup();
    let addr = s.server.url.trim_start_matches("http://").to_owned();
    let mut conn = TcpStream::connect(&addr).unwrap();
    let total = 20 * 1024 * 1024;
    write!(
        conn,
        "PUT /api/2.0/mlflow-artifacts/artifacts/cut.bin HTTP/1.1\r\n\
         Host: {addr}\r\nContent-Length: {total}\r\n\r\n"
    )
    .unwrap();
    // More than one 8 MiB part, so S3 holds a part of it when the client goes away.
    conn.write_all(&data(9 * 1024 * 1024, 8)).unwrap();
    // The server talks to S3 asynchronously: wait (bounded) for each state.
    let wait_for_open_uploads = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while s.moto.open_uploads() != n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        s.moto.open_uploads()
    };
    assert_eq!(wait_for_open_uploads(1), 1, "the upload is under way in S3");
    drop(conn);
    assert_eq!(wait_for_open_uploads(0), 0, "the cut upload was aborted");
    assert_eq!(s.moto.keys("cairn/"), Vec::<String>::new());
    assert_eq!(s.get("cut.bin", None).status, 404);
    s.put("cut.bin", b"the retry");
    assert_eq!(s.get("cut.bin", None).body, b"the retry");
}

#[test]
fn a_multipart_upload_to_s3_assembles_its_parts_in_order() {
    let s = setup();
    let parts = [data(1024 * 1024, 5), data(1024 * 1024 + 7, 6), data(100, 7)];
    // As MLflow's proxy does: the URL names the directory, the body the file.
    let created = s.post_path(
        "/api/2.0/mlflow-artifacts/mpu/create/ckpt",
        json!({"path": "/home/me/out/model.safetensors", "num_parts": 3}),
    );
    let upload_id = created["upload_id"].as_str().expect("upload_id").to_owned();
    let urls: Vec<String> = created["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| c["url"].as_str().expect("url").to_owned())
        .collect();
    assert_eq!(urls.len(), 3);

    // Parts may arrive in any order.
    let mut etags = vec![String::new(); 3];
    for i in [2, 0, 1] {
        let resp = s.http.put(&urls[i]).body(parts[i].clone()).send().unwrap();
        assert_eq!(resp.status().as_u16(), 200, "part {}", i + 1);
        etags[i] = header(&resp, "etag");
        assert_eq!(etags[i], format!("\"{}\"", sha256(&parts[i])));
    }
    assert_eq!(
        s.moto.keys(&format!("cairn/parts/{upload_id}/")).len(),
        3,
        "each part is an object until the upload completes"
    );

    let list: Vec<Value> = etags
        .iter()
        .enumerate()
        .map(|(i, e)| json!({"part_number": i + 1, "etag": e}))
        .collect();
    s.post_path(
        "/api/2.0/mlflow-artifacts/mpu/complete/ckpt",
        json!({"path": "/home/me/out/model.safetensors", "upload_id": upload_id, "parts": list}),
    );

    let whole = parts.concat();
    let got = s.get("ckpt/model.safetensors", None);
    assert_eq!(got.status, 200);
    assert_eq!(sha256(&got.body), sha256(&whole));
    assert_eq!(s.blob_keys(), [blob_key(&sha256(&whole))]);
    assert_eq!(s.moto.keys("cairn/parts/"), Vec::<String>::new());
    assert_eq!(s.moto.keys("cairn/tmp/"), Vec::<String>::new());
    assert_eq!(s.moto.open_uploads(), 0);
}

#[test]
fn verify_rehashes_the_blobs_in_s3_and_finds_a_damaged_one() {
    let s = setup();
    let good = s.put("good.txt", b"intact");
    let bad = s.put("bad.txt", b"about to be damaged");
    let report = s.post_path("/api/2.0/cairn/artifacts/verify", json!({}));
    assert_eq!(report["ok"], true, "{report}");

    // Same length, other bytes: only re-hashing what S3 returns can tell.
    s.moto.put_object(&blob_key(&bad), b"ABOUT TO BE DAMAGED");
    let report = s.post_path("/api/2.0/cairn/artifacts/verify", json!({}));
    assert_eq!(report["ok"], false);
    let mut blobs = report["blobs"].as_array().expect("blobs").clone();
    blobs.sort_by_key(|b| b["digest"].as_str().unwrap_or("").to_owned());
    let mut expected = vec![
        json!({"digest": good, "ok": true}),
        json!({"digest": bad, "ok": false}),
    ];
    expected.sort_by_key(|b| b["digest"].as_str().unwrap_or("").to_owned());
    assert_eq!(blobs, expected);
}

#[test]
fn a_restart_sweeps_temp_objects_from_its_prefix_and_nothing_else() {
    let moto = Moto::start();
    let data_dir = tempfile::tempdir().unwrap();
    let http = Client::new();
    let download = |server: &TestServer| {
        http.get(format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/kept.txt",
            server.url
        ))
        .send()
        .unwrap()
    };
    {
        let server = moto.cairn_in(data_dir.path(), "cairn");
        let put = http
            .put(format!(
                "{}/api/2.0/mlflow-artifacts/artifacts/kept.txt",
                server.url
            ))
            .body("kept")
            .send()
            .unwrap();
        assert_eq!(put.status().as_u16(), 200);
        assert_eq!(download(&server).status().as_u16(), 200);
    }
    // What a crash mid-upload leaves, and someone else's object beside the prefix.
    moto.put_object("cairn/tmp/0123456789abcdef", b"half an upload");
    moto.put_object("other/tmp/not-ours", b"someone else's");
    assert_eq!(moto.keys("cairn/tmp/").len(), 1);

    let server = moto.cairn_in(data_dir.path(), "cairn");
    assert_eq!(moto.keys("cairn/tmp/"), Vec::<String>::new());
    assert_eq!(moto.keys("other/"), ["other/tmp/not-ours"]);
    let kept = download(&server);
    assert_eq!(header(&kept, "etag"), format!("\"{}\"", sha256(b"kept")));
    assert_eq!(kept.bytes().unwrap().as_ref(), b"kept");
}
