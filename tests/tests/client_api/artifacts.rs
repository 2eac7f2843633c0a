//! Artifacts through the client: bytes and streamed files with progress and SHA-256, listings, deletes, versions, verify, garbage collection.

use super::*;
use cairn_client::Progress;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

async fn new_run(client: &Client) -> Run {
    let exp = client.get_or_create_experiment("artifacts").await.unwrap();
    client.create_run(&exp, None).await.unwrap()
}

/// The (done, total) reports a progress callback received.
type Reports = Arc<Mutex<Vec<(u64, Option<u64>)>>>;

/// A progress callback and the reports it receives.
fn recorder() -> (Progress, Reports) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let progress = Progress::new(move |done, total| sink.lock().unwrap().push((done, total)));
    (progress, seen)
}

#[track_caller]
fn assert_progress_reached(reports: &[(u64, Option<u64>)], size: u64) {
    assert!(!reports.is_empty(), "progress was reported");
    assert!(
        reports.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress never goes back"
    );
    assert_eq!(*reports.last().unwrap(), (size, Some(size)));
}

fn partial_of(dest: &Path) -> PathBuf {
    dest.with_file_name(format!(
        "{}.partial",
        dest.file_name().unwrap().to_string_lossy()
    ))
}

#[test]
fn an_uploaded_artifact_downloads_byte_for_byte() {
    let (_server, client) = server_and_client();
    block_on(async {
        let run = new_run(&client).await;
        let bytes = random_bytes(10_000, fresh_seed());
        client
            .upload_artifact(&run, "notes/sample.bin", bytes.clone())
            .await
            .unwrap();
        client
            .upload_artifact(&run, "empty.txt", Vec::new())
            .await
            .unwrap();
        assert_eq!(
            client
                .download_artifact(&run, "notes/sample.bin")
                .await
                .unwrap(),
            bytes
        );
        assert!(client
            .download_artifact(&run, "empty.txt")
            .await
            .unwrap()
            .is_empty());
        expect_not_found(client.download_artifact(&run, "notes/missing.bin").await);
    });
}

#[test]
fn a_multi_mib_file_streams_up_and_down_with_progress_and_its_sha256() {
    let (_server, client) = server_and_client();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("weights.bin");
    let bytes = random_bytes(5 * 1024 * 1024 + 12_345, fresh_seed());
    std::fs::write(&source, &bytes).unwrap();
    let size = bytes.len() as u64;
    let digest = sha256_hex(&bytes);
    block_on(async {
        let run = new_run(&client).await;
        let (progress, up) = recorder();
        let sent = client
            .upload_file(&run, "model/weights.bin", &source, Some(progress))
            .await
            .unwrap();
        assert_eq!((sent.bytes, sent.sha256.as_str()), (size, digest.as_str()));
        assert_progress_reached(&up.lock().unwrap(), size);

        let dest = dir.path().join("downloaded.bin");
        let (progress, down) = recorder();
        let got = client
            .download_file(&run, "model/weights.bin", &dest, Some(progress))
            .await
            .unwrap();
        assert_eq!(got, sent);
        assert_progress_reached(&down.lock().unwrap(), size);
        assert!(std::fs::read(&dest).unwrap() == bytes, "same bytes");
        assert!(!partial_of(&dest).exists(), "no partial file is left");
        // Without a callback too.
        let again = dir.path().join("again.bin");
        let got = client
            .download_file(&run, "model/weights.bin", &again, None)
            .await
            .unwrap();
        assert_eq!(got.sha256, digest);
        let versions = client
            .artifact_versions(&run, "model/weights.bin")
            .await
            .unwrap();
        assert_eq!(
            versions[0].digest, digest,
            "the server stored what was sent"
        );
    });
}

#[test]
fn a_failed_download_never_leaves_a_destination_or_partial_file() {
    let (_server, client) = server_and_client();
    let dir = tempfile::tempdir().unwrap();
    block_on(async {
        let run = new_run(&client).await;
        client
            .upload_artifact(&run, "dir/file.txt", b"hello".to_vec())
            .await
            .unwrap();
        let dest = dir.path().join("missing.bin");
        expect_not_found(
            client
                .download_file(&run, "dir/nope.txt", &dest, None)
                .await,
        );
        assert!(!dest.exists());
        assert!(!partial_of(&dest).exists());
        // A directory is not a file to download.
        let err = client
            .download_file(&run, "dir", &dest, None)
            .await
            .unwrap_err();
        expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        assert!(!dest.exists());
        // An earlier download at the destination is left as it was.
        let kept = dir.path().join("kept.txt");
        std::fs::write(&kept, b"earlier").unwrap();
        expect_not_found(
            client
                .download_file(&run, "dir/nope.txt", &kept, None)
                .await,
        );
        assert_eq!(std::fs::read(&kept).unwrap(), b"earlier");
        assert!(!partial_of(&kept).exists());
    });
}

#[test]
fn list_artifacts_shows_directories_and_files_with_their_sizes() {
    let (_server, client) = server_and_client();
    block_on(async {
        let run = new_run(&client).await;
        let id = &run.info.run_id;
        assert!(client.list_artifacts(id, None).await.unwrap().is_empty());
        for (path, len) in [
            ("metrics.txt", 11),
            ("model/config.json", 42),
            ("model/weights.bin", 4096),
            ("model/tokenizer/vocab.txt", 7),
        ] {
            client
                .upload_artifact(&run, path, vec![b'x'; len])
                .await
                .unwrap();
        }
        let entries = |list: Vec<cairn_client::FileInfo>| {
            let mut v: Vec<_> = list
                .into_iter()
                .map(|f| (f.path, f.is_dir, f.file_size))
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            entries(client.list_artifacts(id, None).await.unwrap()),
            [
                ("metrics.txt".to_owned(), false, Some(11)),
                ("model".to_owned(), true, None)
            ]
        );
        assert_eq!(
            entries(client.list_artifacts(id, Some("model")).await.unwrap()),
            [
                ("model/config.json".to_owned(), false, Some(42)),
                ("model/tokenizer".to_owned(), true, None),
                ("model/weights.bin".to_owned(), false, Some(4096)),
            ]
        );
        expect_not_found(client.list_artifacts(NO_SUCH_RUN, None).await);
    });
}

#[test]
fn a_deleted_artifact_is_gone_from_listing_and_download() {
    let (_server, client) = server_and_client();
    block_on(async {
        let run = new_run(&client).await;
        let id = &run.info.run_id;
        for path in ["keep.txt", "drop.txt"] {
            client
                .upload_artifact(&run, path, path.as_bytes().to_vec())
                .await
                .unwrap();
        }
        client.delete_artifact(&run, "drop.txt").await.unwrap();
        expect_not_found(client.download_artifact(&run, "drop.txt").await);
        let listed: Vec<String> = client
            .list_artifacts(id, None)
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(listed, ["keep.txt"]);
        assert_eq!(
            client.download_artifact(&run, "keep.txt").await.unwrap(),
            b"keep.txt"
        );
    });
}

#[test]
fn every_write_of_a_path_is_a_version_newest_first_and_only_the_newest_is_current() {
    let (_server, client) = server_and_client();
    block_on(async {
        let run = new_run(&client).await;
        let seed = fresh_seed();
        let contents: Vec<Vec<u8>> = (0..3)
            .map(|i| random_bytes(1000 + i, seed + i as u64))
            .collect();
        for c in &contents {
            client
                .upload_artifact(&run, "model/weights.bin", c.clone())
                .await
                .unwrap();
        }
        let versions = client
            .artifact_versions(&run, "model/weights.bin")
            .await
            .unwrap();
        let seen: Vec<(i64, String, u64, bool)> = versions
            .iter()
            .map(|v| (v.version, v.digest.clone(), v.file_size, v.current))
            .collect();
        let expected: Vec<(i64, String, u64, bool)> = contents
            .iter()
            .enumerate()
            .rev()
            .map(|(i, c)| (i as i64 + 1, sha256_hex(c), c.len() as u64, i == 2))
            .collect();
        assert_eq!(seen, expected);
        assert!(
            versions
                .windows(2)
                .all(|w| w[0].creation_time >= w[1].creation_time),
            "newest first"
        );
        assert_eq!(
            client
                .download_artifact(&run, "model/weights.bin")
                .await
                .unwrap(),
            contents[2],
            "the path serves the current version"
        );
        assert!(client
            .artifact_versions(&run, "never.bin")
            .await
            .unwrap()
            .is_empty());
    });
}

/// Where the server keeps the blob of `digest`.
fn blob_file(server: &TestServer, digest: &str) -> PathBuf {
    server
        .data_dir()
        .join("artifacts")
        .join("blobs")
        .join(&digest[..2])
        .join(digest)
}

#[test]
fn verify_artifacts_reports_intact_blobs_and_names_a_damaged_one() {
    let (server, client) = server_and_client();
    block_on(async {
        let run = new_run(&client).await;
        let other = new_run(&client).await;
        let bytes = random_bytes(4096, fresh_seed());
        client
            .upload_artifact(&run, "a/weights.bin", bytes.clone())
            .await
            .unwrap();
        client
            .upload_artifact(&run, "notes.txt", b"fine".to_vec())
            .await
            .unwrap();
        client
            .upload_artifact(&other, "x.txt", b"elsewhere".to_vec())
            .await
            .unwrap();
        assert_eq!(
            client.verify_artifacts(Some(&run)).await.unwrap(),
            (true, vec![])
        );
        assert_eq!(client.verify_artifacts(None).await.unwrap(), (true, vec![]));
        let digest = sha256_hex(&bytes);
        let blob = blob_file(&server, &digest);
        let mut damaged = std::fs::read(&blob).expect("the blob is stored by digest");
        damaged[100] ^= 0xff;
        std::fs::write(&blob, damaged).unwrap();
        assert_eq!(
            client.verify_artifacts(Some(&run)).await.unwrap(),
            (false, vec![digest.clone()])
        );
        assert_eq!(
            client.verify_artifacts(None).await.unwrap(),
            (false, vec![digest])
        );
        assert_eq!(
            client.verify_artifacts(Some(&other)).await.unwrap(),
            (true, vec![]),
            "another run's blobs are intact"
        );
    });
}

#[test]
fn an_artifact_call_for_a_run_stored_elsewhere_is_a_config_error() {
    let (_server, client) = server_and_client();
    block_on(async {
        let mut run = new_run(&client).await;
        run.info.artifact_uri = "s3://bucket/elsewhere".into();
        let err = client
            .upload_artifact(&run, "x.txt", b"x".to_vec())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        let err = client.download_artifact(&run, "x.txt").await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    });
}

#[test]
fn garbage_collection_purges_only_runs_deleted_before_the_cutoff_and_their_blobs() {
    let (_server, client) = server_and_client();
    block_on(async {
        let doomed = new_run(&client).await;
        let kept = new_run(&client).await;
        let doomed_bytes = random_bytes(2048, fresh_seed());
        client
            .upload_artifact(&doomed, "model.bin", doomed_bytes.clone())
            .await
            .unwrap();
        client
            .upload_artifact(&kept, "model.bin", b"kept".to_vec())
            .await
            .unwrap();
        client.delete_run(&doomed.info.run_id).await.unwrap();
        let deleted_at = now_ms();
        let nothing = client.collect_garbage(3_600_000).await.unwrap();
        assert_eq!(
            nothing,
            cairn_client::Collected::default(),
            "deleted too recently"
        );
        // The cutoff is strictly before now: let the clock pass the deletion.
        while now_ms() <= deleted_at {
            tokio::task::yield_now().await;
        }
        let collected = client.collect_garbage(0).await.unwrap();
        assert_eq!(collected.runs, [doomed.info.run_id.as_str()]);
        assert_eq!(collected.blobs, [sha256_hex(&doomed_bytes)]);
        expect_not_found(client.get_run(&doomed.info.run_id).await);
        assert_eq!(
            client.download_artifact(&kept, "model.bin").await.unwrap(),
            b"kept"
        );
        assert_eq!(
            client.collect_garbage(0).await.unwrap(),
            cairn_client::Collected::default(),
            "a second collection finds nothing"
        );
    });
}
