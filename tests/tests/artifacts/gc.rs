//! Garbage collection: deleted runs are purged with the blobs only they used; a blob
//! anything still references is never removed.

use super::*;
use serde_json::{json, Value};

fn gc(server: &TestServer, older_than_ms: i64) -> Value {
    server
        .post_path("/api/2.0/cairn/gc", json!({"older_than_ms": older_than_ms}))
        .ok()
}

#[test]
fn gc_purges_a_deleted_run_and_its_blob_but_keeps_a_blob_a_live_run_shares() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let exp = server.experiment("gc");
    let (doomed, doomed_root) = new_run_in(&server, &exp);
    let (live, live_root) = new_run_in(&server, &exp);
    let seed = fresh_seed();
    let shared = random_bytes(50_000, seed);
    let only_doomed = random_bytes(60_000, seed + 1);
    art.upload(&format!("{doomed_root}/shared.bin"), &shared);
    art.upload(&format!("{live_root}/copy/shared.bin"), &shared);
    art.upload(&format!("{doomed_root}/own.bin"), &only_doomed);
    assert!(blob_file(&server, &sha256_hex(&only_doomed)).exists());

    server.post("runs/delete", json!({"run_id": doomed})).ok();
    // Still there until collected: a deleted run can be restored with its artifacts.
    assert_eq!(art.download(&format!("{doomed_root}/own.bin")), only_doomed);

    let collected = gc(&server, 0);
    assert_eq!(collected["runs"], json!([doomed]));
    assert_eq!(collected["blobs"], json!([sha256_hex(&only_doomed)]));

    server
        .get("runs/get", &[("run_id", &doomed)])
        .expect_error(404, "RESOURCE_DOES_NOT_EXIST");
    assert!(!blob_file(&server, &sha256_hex(&only_doomed)).exists());
    assert!(blob_file(&server, &sha256_hex(&shared)).exists());
    assert_eq!(
        art.download(&format!("{live_root}/copy/shared.bin")),
        shared
    );
    assert_eq!(art.get(&format!("{doomed_root}/shared.bin")).status(), 404);
    assert_eq!(server.get_run(&live)["info"]["lifecycle_stage"], "active");
    assert_eq!(
        files_under(&blobs_dir(&server)),
        vec![blob_file(&server, &sha256_hex(&shared))]
    );
}

#[test]
fn gc_keeps_runs_deleted_more_recently_than_the_cutoff() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (run, root) = new_run(&server);
    art.upload(&format!("{root}/own.bin"), b"recently deleted");
    server.post("runs/delete", json!({"run_id": run})).ok();
    assert_eq!(gc(&server, 3_600_000), json!({}));
    assert_eq!(server.get_run(&run)["info"]["lifecycle_stage"], "deleted");
    assert!(blob_file(&server, &sha256_hex(b"recently deleted")).exists());
    server.post("runs/restore", json!({"run_id": run})).ok();
    assert_eq!(
        art.download(&format!("{root}/own.bin")),
        b"recently deleted"
    );
}

#[test]
fn gc_never_removes_a_blob_that_is_still_referenced() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    // Current files, an old version, and the same bytes under two names.
    art.upload(&format!("{root}/a.bin"), b"version one");
    art.upload(&format!("{root}/a.bin"), b"version two");
    art.upload(&format!("{root}/b.bin"), b"version one");
    art.upload(&format!("{root}/c/d.bin"), b"deep");
    let before = files_under(&blobs_dir(&server));
    assert_eq!(before.len(), 3);

    assert_eq!(gc(&server, 0), json!({}));
    assert_eq!(files_under(&blobs_dir(&server)), before);
    let verified = server
        .post_path("/api/2.0/cairn/artifacts/verify", json!({}))
        .ok();
    assert_eq!(verified["ok"], true, "{verified}");
    assert_eq!(art.download(&format!("{root}/a.bin")), b"version two");
    let old = server.raw_get(
        "/api/2.0/cairn/artifacts/version",
        &[
            ("path", &format!("{root}/a.bin")),
            ("digest", &sha256_hex(b"version one")),
        ],
    );
    assert_eq!((old.status, old.text.as_str()), (200, "version one"));
}

#[test]
fn gc_removes_a_blob_file_that_no_index_row_points_at() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    art.upload(&format!("{root}/kept.bin"), b"kept");
    // What a crash between storing the bytes and indexing them leaves behind.
    let orphan = b"orphaned by a crash";
    let file = blob_file(&server, &sha256_hex(orphan));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, orphan).unwrap();

    let collected = gc(&server, 0);
    assert_eq!(
        collected["blobs"],
        json!([sha256_hex(orphan)]),
        "{collected}"
    );
    assert!(!file.exists());
    assert_eq!(
        files_under(&blobs_dir(&server)),
        vec![blob_file(&server, &sha256_hex(b"kept"))]
    );
    assert_eq!(art.download(&format!("{root}/kept.bin")), b"kept");
}

#[test]
fn gc_refuses_a_negative_age() {
    let server = TestServer::start();
    server
        .post_path("/api/2.0/cairn/gc", json!({"older_than_ms": -1}))
        .expect_error(400, "INVALID_PARAMETER_VALUE");
}
