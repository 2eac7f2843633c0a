//! `cairn artifacts ls|get|put|verify`: a run's files from a terminal, byte for byte.

use super::{cairn, client, start_run, strings};
use cairn_tests::TestServer;
use serde_json::json;
use std::path::Path;

/// Bytes that differ from run to run and do not repeat.
fn noise(len: usize) -> Vec<u8> {
    let mut state = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A local tree `data/` with `a.txt` and `sub/b.bin`; returns the bytes of b.bin.
fn local_tree(root: &Path) -> Vec<u8> {
    let bin = noise(70_000);
    std::fs::create_dir_all(root.join("data/sub")).unwrap();
    std::fs::write(root.join("data/a.txt"), "alpha\n").unwrap();
    std::fs::write(root.join("data/sub/b.bin"), &bin).unwrap();
    bin
}

#[test]
fn put_uploads_a_tree_that_ls_lists_one_level_or_recursively() {
    let server = TestServer::start();
    let run = start_run(&server, "files", "r");
    let dir = tempfile::tempdir().unwrap();
    let bin = local_tree(dir.path());
    let data = dir.path().join("data");
    let sent = cairn(&server, &["artifacts", "put", &run, data.to_str().unwrap()]).json();
    assert_eq!(strings(&sent, "path"), ["data/a.txt", "data/sub/b.bin"]);
    assert_eq!(sent[1]["bytes"], bin.len());

    let file = dir.path().join("data/a.txt");
    cairn(
        &server,
        &[
            "artifacts",
            "put",
            &run,
            file.to_str().unwrap(),
            "--artifact-path",
            "x/y",
        ],
    )
    .ok();

    let top = cairn(&server, &["artifacts", "ls", &run]).json();
    assert_eq!(
        top,
        json!([
            {"path": "data", "is_dir": true, "file_size": null},
            {"path": "x", "is_dir": true, "file_size": null},
        ])
    );
    let inside = cairn(&server, &["artifacts", "ls", &run, "data"]).json();
    assert_eq!(strings(&inside, "path"), ["data/a.txt", "data/sub"]);
    let all = cairn(&server, &["artifacts", "ls", &run, "-r"]).json();
    assert_eq!(
        strings(&all, "path"),
        [
            "data",
            "data/a.txt",
            "data/sub",
            "data/sub/b.bin",
            "x",
            "x/y",
            "x/y/a.txt"
        ]
    );
    let size = all
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "data/sub/b.bin")
        .unwrap();
    assert_eq!(size["file_size"], bin.len());
}

#[test]
fn get_downloads_a_file_and_a_directory_byte_for_byte() {
    let server = TestServer::start();
    let run = start_run(&server, "files", "r");
    let dir = tempfile::tempdir().unwrap();
    let bin = local_tree(dir.path());
    cairn(
        &server,
        &[
            "artifacts",
            "put",
            &run,
            dir.path().join("data").to_str().unwrap(),
        ],
    )
    .ok();

    let out = tempfile::tempdir().unwrap();
    let got = cairn(&server, &["artifacts", "get", &run, "data"])
        .dir(out.path())
        .json();
    assert_eq!(strings(&got, "file"), ["data/a.txt", "data/sub/b.bin"]);
    assert_eq!(
        std::fs::read(out.path().join("data/sub/b.bin")).unwrap(),
        bin
    );
    assert_eq!(
        std::fs::read(out.path().join("data/a.txt")).unwrap(),
        b"alpha\n"
    );

    let one = out.path().join("copy.bin");
    cairn(
        &server,
        &[
            "artifacts",
            "get",
            &run,
            "data/sub/b.bin",
            "--dest",
            one.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&one).unwrap(), bin);

    let missing = cairn(&server, &["artifacts", "get", &run, "data/nope.txt"])
        .dir(out.path())
        .run()
        .expect(3);
    assert!(missing.stderr.contains("nope.txt"), "{}", missing.stderr);
}

#[test]
fn verify_passes_intact_blobs_and_exits_1_naming_a_damaged_one() {
    let server = TestServer::start();
    let run = start_run(&server, "files", "r");
    let c = client(&server);
    let handle = c.get_run(&run).unwrap();
    let bytes = noise(4096);
    c.upload_artifact(&handle, "weights.bin", bytes.clone())
        .unwrap();
    let ok = cairn(&server, &["artifacts", "verify", &run]).json();
    assert_eq!(ok, json!({"ok": true, "damaged": []}));
    cairn(&server, &["artifacts", "verify"]).ok();

    // Flip one byte of the stored blob behind the server's back.
    let blobs = server.data_dir().join("artifacts").join("blobs");
    let blob = std::fs::read_dir(&blobs)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().path())
        .next()
        .expect("one stored blob");
    let mut stored = std::fs::read(&blob).unwrap();
    assert_eq!(stored, bytes);
    stored[100] ^= 0xff;
    std::fs::write(&blob, stored).unwrap();

    let bad = cairn(&server, &["artifacts", "verify", &run, "-o", "json"])
        .run()
        .expect(1);
    let report = bad.json();
    assert_eq!(report["ok"], false);
    let digest = blob.file_name().unwrap().to_str().unwrap();
    assert_eq!(
        report["damaged"],
        json!([digest]),
        "blobs are named by digest"
    );
    assert!(bad.stderr.contains("damaged"), "{}", bad.stderr);
}

#[test]
fn artifact_commands_on_an_unknown_run_exit_3() {
    let server = TestServer::start();
    let ghost = "cccccccccccccccccccccccccccccccc";
    cairn(&server, &["artifacts", "ls", ghost]).run().expect(3);
    cairn(&server, &["artifacts", "get", ghost, "x"])
        .run()
        .expect(3);
    cairn(&server, &["artifacts", "put", ghost, "Cargo.toml"])
        .run()
        .expect(3);
    cairn(&server, &["artifacts", "verify", ghost])
        .run()
        .expect(3);
}
