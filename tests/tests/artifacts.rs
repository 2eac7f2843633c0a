//! Artifacts end to end against the real server process: MLflow's proxy API, ranges,
//! content addressing on disk, digests, versions, gc, interrupted and multipart uploads.
//!
//! The suites live in `artifacts/`; this file holds what they share. Hostile paths are
//! in `artifact_paths.rs`.

#[path = "artifacts/content_addressing.rs"]
mod content_addressing;
#[path = "artifacts/gc.rs"]
mod gc;
#[path = "artifacts/interrupted.rs"]
mod interrupted;
#[path = "artifacts/listing.rs"]
mod listing;
#[path = "artifacts/multipart.rs"]
mod multipart;
#[path = "artifacts/ranges.rs"]
mod ranges;
#[path = "artifacts/round_trips.rs"]
mod round_trips;
#[path = "artifacts/versions.rs"]
mod versions;

use cairn_tests::TestServer;
use reqwest::blocking::{Client, Response};
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PROXY: &str = "/api/2.0/mlflow-artifacts/artifacts";

fn http() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

/// Percent-encodes every byte of each segment except RFC 3986's unreserved ones.
fn encode(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            segment
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

pub(crate) use cairn_tests::data::{fresh_seed, random_bytes, sha256_hex};

/// The artifact API of one server.
struct Artifacts<'a> {
    server: &'a TestServer,
    http: Client,
}

impl<'a> Artifacts<'a> {
    fn of(server: &'a TestServer) -> Self {
        Artifacts {
            server,
            http: http(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{PROXY}/{}", self.server.url, encode(path))
    }

    fn put(&self, path: &str, bytes: &[u8]) -> Response {
        self.http
            .put(self.url(path))
            .body(bytes.to_vec())
            .send()
            .expect("PUT")
    }

    /// Uploads and asserts MLflow's answer: 200 with an empty body.
    #[track_caller]
    fn upload(&self, path: &str, bytes: &[u8]) {
        let r = self.put(path, bytes);
        let status = r.status().as_u16();
        let body = r.text().unwrap();
        assert_eq!((status, body.as_str()), (200, ""), "uploading {path}");
    }

    fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().expect("GET")
    }

    /// Downloads and asserts a 200.
    #[track_caller]
    fn download(&self, path: &str) -> Vec<u8> {
        let r = self.get(path);
        assert_eq!(r.status().as_u16(), 200, "downloading {path}");
        r.bytes().unwrap().to_vec()
    }

    fn delete(&self, path: &str) -> Response {
        self.http.delete(self.url(path)).send().expect("DELETE")
    }

    /// The proxy listing of a directory (`None` for the destination root).
    fn list(&self, dir: Option<&str>) -> serde_json::Value {
        let query: Vec<(&str, &str)> = dir.map(|d| ("path", d)).into_iter().collect();
        self.server.raw_get(PROXY, &query).ok()
    }
}

/// A new run; returns its id and its artifact root as the proxy addresses it (`<exp>/<run>/artifacts`).
fn new_run(server: &TestServer) -> (String, String) {
    let exp = server.experiment(&format!("artifacts-{}", fresh_seed()));
    new_run_in(server, &exp)
}

fn new_run_in(server: &TestServer, exp: &str) -> (String, String) {
    let run_id = server.run(exp);
    let uri = server.get_run(&run_id)["info"]["artifact_uri"]
        .as_str()
        .expect("artifact_uri")
        .to_owned();
    let root = uri
        .strip_prefix("mlflow-artifacts:/")
        .unwrap_or_else(|| panic!("a proxied artifact uri, got {uri}"))
        .to_owned();
    assert_eq!(root, format!("{exp}/{run_id}/artifacts"));
    (run_id, root)
}

/// Every regular file below `dir` (symlinks are not followed); none when `dir` is missing.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            out.extend(files_under(&entry.path()));
        } else if kind.is_file() {
            out.push(entry.path());
        }
    }
    out.sort();
    out
}

/// Bytes the files below `dir` occupy on disk (allocated blocks, at least their length).
fn disk_usage(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    files_under(dir)
        .iter()
        .map(|f| {
            let m = std::fs::metadata(f).expect("metadata");
            m.len().max(m.blocks() * 512)
        })
        .sum()
}

fn blobs_dir(server: &TestServer) -> PathBuf {
    server.data_dir().join("artifacts").join("blobs")
}

fn tmp_dir(server: &TestServer) -> PathBuf {
    server.data_dir().join("artifacts").join("tmp")
}

/// Where the blob of `digest` lies on disk.
fn blob_file(server: &TestServer, digest: &str) -> PathBuf {
    blobs_dir(server).join(&digest[..2]).join(digest)
}

/// Polls `done` until it holds or `limit` passes; returns whether it held.
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[track_caller]
fn header<'r>(r: &'r Response, name: &str) -> &'r str {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[track_caller]
fn expect_error(r: Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(r.status().as_u16(), status);
    assert!(
        header(&r, "content-type").starts_with("application/json"),
        "errors are JSON"
    );
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error_code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    body
}
