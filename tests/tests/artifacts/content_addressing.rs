//! Bytes are stored once per content, under their SHA-256, and refused when they do not
//! match the digest the client sent.

use super::*;

const MB: usize = 1024 * 1024;

/// Base64 (standard alphabet, padded), for `Content-Digest`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sha256_base64(bytes: &[u8]) -> String {
    base64(&Sha256::digest(bytes))
}

#[test]
fn the_same_20_mb_in_ten_runs_is_stored_once_and_freed_with_its_last_reference() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let exp = server.experiment("dedup");
    let bytes = random_bytes(20 * MB, fresh_seed());
    let digest = sha256_hex(&bytes);
    let paths: Vec<String> = (0..10)
        .map(|i| format!("{}/model/weights-{i}.bin", new_run_in(&server, &exp).1))
        .collect();

    for path in &paths {
        let r = art.put(path, &bytes);
        assert_eq!(r.status().as_u16(), 200, "{path}");
        assert_eq!(header(&r, "etag"), format!("\"{digest}\""));
    }

    let blobs = files_under(&blobs_dir(&server));
    assert_eq!(
        blobs,
        vec![blob_file(&server, &digest)],
        "exactly one blob file"
    );
    let used = disk_usage(&blobs_dir(&server));
    eprintln!("blob store after 10 x 20 MB uploads of the same bytes: {used} bytes on disk");
    assert!(used >= 20 * MB as u64, "{used} bytes cannot hold 20 MB");
    assert!(
        used < 25 * MB as u64,
        "{used} bytes on disk for one 20 MB blob"
    );
    assert!(files_under(&tmp_dir(&server)).is_empty());
    assert_eq!(
        sha256_hex(&art.download(&paths[7])),
        digest,
        "every path serves the bytes"
    );

    for path in &paths[..9] {
        assert_eq!(art.delete(path).status().as_u16(), 200);
    }
    assert_eq!(
        files_under(&blobs_dir(&server)),
        vec![blob_file(&server, &digest)],
        "the blob stays while one path still points at it"
    );
    assert_eq!(sha256_hex(&art.download(&paths[9])), digest);

    assert_eq!(art.delete(&paths[9]).status().as_u16(), 200);
    assert!(
        !blob_file(&server, &digest).exists(),
        "the last reference took the blob with it"
    );
    assert!(files_under(&blobs_dir(&server)).is_empty());
}

#[test]
fn an_upload_carrying_its_correct_sha256_is_accepted() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let bytes = random_bytes(100_000, fresh_seed());
    for (i, (name, value)) in [
        ("x-cairn-sha256", sha256_hex(&bytes)),
        ("x-cairn-sha256", sha256_hex(&bytes).to_uppercase()),
        (
            "content-digest",
            format!("sha-256=:{}:", sha256_base64(&bytes)),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let path = format!("{root}/checked-{i}.bin");
        let r = art
            .http
            .put(art.url(&path))
            .header(name, &value)
            .body(bytes.clone())
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{name}: {value}");
        assert_eq!(art.download(&path), bytes);
    }
}

#[test]
fn an_upload_whose_bytes_do_not_match_its_sha256_is_refused_and_leaves_nothing() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let kept = format!("{root}/kept.bin");
    art.upload(&kept, b"the first version");
    let blobs_before = files_under(&blobs_dir(&server));

    let bytes = random_bytes(3 * MB, fresh_seed());
    let other = sha256_hex(b"something else");
    for (name, value) in [
        ("x-cairn-sha256", other.clone()),
        (
            "content-digest",
            format!("sha-256=:{}:", sha256_base64(b"something else")),
        ),
    ] {
        for path in [format!("{root}/fresh.bin"), kept.clone()] {
            let r = art
                .http
                .put(art.url(&path))
                .header(name, &value)
                .body(bytes.clone())
                .send()
                .unwrap();
            expect_error(r, 400, "INVALID_PARAMETER_VALUE");
        }
    }

    expect_error(
        art.get(&format!("{root}/fresh.bin")),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    );
    assert_eq!(
        art.download(&kept),
        b"the first version",
        "the old content stays"
    );
    assert_eq!(
        files_under(&blobs_dir(&server)),
        blobs_before,
        "no new blob"
    );
    assert!(!blob_file(&server, &sha256_hex(&bytes)).exists());
    assert!(
        files_under(&tmp_dir(&server)).is_empty(),
        "no temp object left"
    );
}

#[test]
fn a_malformed_digest_header_is_refused_before_anything_is_stored() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    for (name, value) in [
        ("x-cairn-sha256", "abc"),
        ("x-cairn-sha256", &"zz".repeat(32)),
        ("content-digest", "sha-256=:not base64!:"),
        ("content-digest", "sha-256=:AAAA:"),
    ] {
        let r = art
            .http
            .put(art.url(&format!("{root}/x.bin")))
            .header(name, value)
            .body("x")
            .send()
            .unwrap();
        expect_error(r, 400, "INVALID_PARAMETER_VALUE");
    }
    assert_eq!(art.get(&format!("{root}/x.bin")).status(), 404);
    assert!(files_under(&blobs_dir(&server)).is_empty());
}
