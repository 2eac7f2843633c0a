//! The S3 artifact path end to end: a real Cairn server storing in a bucket of a real S3-compatible server (moto).
//!
//! Every test reads the bucket back through moto's own S3 API, so what is asserted is
//! what S3 holds, not what Cairn says it holds.

#[path = "s3/bucket_contents.rs"]
mod bucket_contents;

use cairn_tests::moto::Moto;
use cairn_tests::TestServer;
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use std::time::Duration;

/// A Cairn server storing under `s3://BUCKET/cairn`, and the moto it stores in.
struct S3Cairn {
    // Dropped in this order: the server before the S3 service it talks to.
    server: TestServer,
    moto: Moto,
    http: Client,
}

/// A downloaded body with what the tests look at.
struct Got {
    status: u16,
    etag: String,
    content_range: String,
    content_length: String,
    body: Vec<u8>,
}

fn setup() -> S3Cairn {
    let moto = Moto::start();
    S3Cairn {
        server: moto.cairn("cairn"),
        moto,
        http: Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap(),
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `n` reproducible bytes that do not repeat with a short period.
fn data(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn blob_key(digest: &str) -> String {
    format!("cairn/blobs/{}/{digest}", &digest[..2])
}

fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

impl S3Cairn {
    fn artifact_url(&self, path: &str) -> String {
        format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{path}",
            self.server.url
        )
    }

    fn put_with(&self, path: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, String) {
        let mut req = self.http.put(self.artifact_url(path)).body(body.to_vec());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().expect("PUT");
        let etag = header(&resp, "etag");
        (resp.status().as_u16(), etag)
    }

    /// Uploads and asserts success; returns the digest.
    #[track_caller]
    fn put(&self, path: &str, body: &[u8]) -> String {
        let (status, etag) = self.put_with(path, body, &[]);
        assert_eq!(status, 200, "uploading {path}");
        let digest = sha256(body);
        assert_eq!(etag, format!("\"{digest}\""), "the upload's ETag");
        digest
    }

    fn get_url(&self, url: &str, range: Option<&str>) -> Got {
        let mut req = self.http.get(url);
        if let Some(r) = range {
            req = req.header("range", r);
        }
        let resp = req.send().expect("GET");
        Got {
            status: resp.status().as_u16(),
            etag: header(&resp, "etag"),
            content_range: header(&resp, "content-range"),
            content_length: header(&resp, "content-length"),
            body: resp.bytes().expect("body").to_vec(),
        }
    }

    fn get(&self, path: &str, range: Option<&str>) -> Got {
        self.get_url(&self.artifact_url(path), range)
    }

    fn blob_keys(&self) -> Vec<String> {
        self.moto.keys("cairn/blobs/")
    }

    fn post_path(&self, path: &str, body: Value) -> Value {
        let r = self.server.post_path(path, body);
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        r.body
    }
}

#[test]
fn a_file_larger_than_one_s3_part_round_trips_with_its_sha256_as_etag() {
    let s = setup();
    // Cairn streams to S3 in 8 MiB parts: this takes two, the first above S3's 5 MiB minimum.
    let bytes = data(9 * 1024 * 1024 + 123, 1);
    let digest = s.put("model/weights.bin", &bytes);

    let got = s.get("model/weights.bin", None);
    assert_eq!(got.status, 200);
    assert_eq!(got.body.len(), bytes.len());
    assert_eq!(sha256(&got.body), digest);
    assert_eq!(got.etag, format!("\"{digest}\""));

    assert_eq!(s.blob_keys(), [blob_key(&digest)]);
    assert_eq!(
        sha256(&s.moto.get_object(&blob_key(&digest))),
        digest,
        "the object in the bucket holds exactly the uploaded bytes"
    );
    assert_eq!(s.moto.keys("cairn/tmp/"), Vec::<String>::new());
    assert_eq!(s.moto.open_uploads(), 0);
}

#[test]
fn an_empty_file_round_trips_through_s3() {
    let s = setup();
    let digest = s.put("empty.txt", b"");
    assert_eq!(
        digest,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let got = s.get("empty.txt", None);
    assert_eq!((got.status, got.body.len()), (200, 0));
    assert_eq!(s.blob_keys(), [blob_key(&digest)]);
}

#[test]
fn listing_an_s3_backed_store_shows_its_files_and_directories() {
    let s = setup();
    s.put("models/m/weights.bin", b"abc");
    s.put("models/m/MLmodel", b"flavors: {}\n");
    s.put("notes.txt", b"hello");

    let list = |path: &str| {
        s.server
            .raw_get("/api/2.0/mlflow-artifacts/artifacts", &[("path", path)])
            .ok()
    };
    assert_eq!(
        list("")["files"],
        json!([
            {"path": "models", "is_dir": true},
            {"path": "notes.txt", "is_dir": false, "file_size": 5},
        ])
    );
    assert_eq!(
        list("models/m")["files"],
        json!([
            {"path": "MLmodel", "is_dir": false, "file_size": 12},
            {"path": "weights.bin", "is_dir": false, "file_size": 3},
        ])
    );
    assert_eq!(s.blob_keys().len(), 3, "three contents, three objects");
}

#[test]
fn overwriting_an_s3_artifact_keeps_every_version_readable() {
    let s = setup();
    let first = s.put("eval/report.json", br#"{"bleu": 0.31}"#);
    let second = s.put("eval/report.json", br#"{"bleu": 0.35}"#);

    assert_eq!(s.get("eval/report.json", None).body, br#"{"bleu": 0.35}"#);
    let versions = s
        .server
        .raw_get(
            "/api/2.0/cairn/artifacts/versions",
            &[("path", "eval/report.json")],
        )
        .ok()["versions"]
        .clone();
    let digests: Vec<(&str, bool)> = versions
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| (v["digest"].as_str().unwrap(), v["current"] == true))
        .collect();
    assert_eq!(digests, [(second.as_str(), true), (first.as_str(), false)]);

    let old = s.get_url(
        &format!(
            "{}/api/2.0/cairn/artifacts/version?path=eval/report.json&digest={first}",
            s.server.url
        ),
        None,
    );
    assert_eq!(
        (old.status, old.body.as_slice()),
        (200, &br#"{"bleu": 0.31}"#[..])
    );

    let mut expected = vec![blob_key(&first), blob_key(&second)];
    expected.sort();
    assert_eq!(s.blob_keys(), expected);
}

#[test]
fn range_downloads_from_s3_return_exactly_the_requested_bytes() {
    let s = setup();
    let bytes = data(9 * 1024 * 1024, 2);
    let size = bytes.len();
    s.put("big.bin", &bytes);

    let middle = s.get("big.bin", Some("bytes=10-19"));
    assert_eq!(middle.status, 206);
    assert_eq!(middle.body, &bytes[10..20]);
    assert_eq!(middle.content_range, format!("bytes 10-19/{size}"));
    assert_eq!(middle.content_length, "10");

    // Across the boundary between the two parts the upload was written in.
    let boundary = 8 * 1024 * 1024;
    let spec = format!("bytes={}-{}", boundary - 5, boundary + 4);
    let across = s.get("big.bin", Some(&spec));
    assert_eq!(across.status, 206);
    assert_eq!(across.body, &bytes[boundary - 5..boundary + 5]);

    let suffix = s.get("big.bin", Some("bytes=-7"));
    assert_eq!(
        (suffix.status, suffix.body.as_slice()),
        (206, &bytes[size - 7..])
    );

    let open = s.get("big.bin", Some(&format!("bytes={}-", size - 3)));
    assert_eq!(
        (open.status, open.body.as_slice()),
        (206, &bytes[size - 3..])
    );

    let beyond = s.get("big.bin", Some(&format!("bytes={size}-")));
    assert_eq!(beyond.status, 416);
    assert_eq!(beyond.content_range, format!("bytes */{size}"));
}
