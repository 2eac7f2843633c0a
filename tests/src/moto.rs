//! The Moto harness: a real S3-compatible server (moto, from PyPI) on a free loopback port with one bucket, killed when dropped.
//!
//! moto is installed on first use (see [`venv`]). When python3 or pip cannot install
//! it, starting a `Moto` panics with the reason: the S3 suites fail, they are never
//! skipped silently.

mod venv;

use crate::TestServer;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
pub use venv::venv;
use venv::venv_python;

/// The bucket every `Moto` creates at start.
pub const BUCKET: &str = "cairn-test";

/// The environment a Cairn server needs to reach moto: any credentials do, and nothing
/// may send it to real AWS configuration or the EC2 metadata service.
pub const ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// How long moto may take to import and bind (a cold start on a busy 2-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs moto's server with the arguments after `-c`, and exits when its stdin closes,
/// that is when the test process that started it is gone, even by SIGKILL.
const LAUNCHER: &str = "\
import os, sys, threading
def orphaned():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=orphaned, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
";

/// A running moto server holding [`BUCKET`], killed when dropped.
pub struct Moto {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub endpoint: String,
    child: Child,
    _stdin: ChildStdin,
    output: Arc<Mutex<VecDeque<String>>>,
    http: reqwest::blocking::Client,
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding 127.0.0.1:0")
        .port()
}

impl Moto {
    /// Installs moto if needed, starts it on a free port and creates [`BUCKET`].
    ///
    /// # Panics
    /// When moto cannot be installed or started, with the reason.
    pub fn start() -> Moto {
        let python = venv_python(&venv());
        let mut failures = Vec::new();
        // The port is free when picked but not reserved: another process may take it
        // before moto binds, and then moto exits and a new port is tried.
        for _ in 0..3 {
            match Moto::start_on(&python, free_port()) {
                Ok(moto) => {
                    moto.create_bucket(BUCKET);
                    return moto;
                }
                Err(e) => failures.push(e),
            }
        }
        panic!("moto did not start:\n{}", failures.join("\n---\n"));
    }

    fn start_on(python: &Path, port: u16) -> Result<Moto, String> {
        let mut child = Command::new(python)
            .args(["-c", LAUNCHER, "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
        let stdin = child.stdin.take().expect("stdin");
        let stderr = BufReader::new(child.stderr.take().expect("stderr"));
        // werkzeug says "Running on http://127.0.0.1:PORT" once its socket listens; the
        // rest of what moto prints is kept (the last lines) for failure messages.
        let output = Arc::new(Mutex::new(VecDeque::new()));
        let (ready, listening) = mpsc::channel();
        let kept = output.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if line.contains("Running on http") {
                    let _ = ready.send(());
                }
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                if kept.len() == 200 {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        let moto = Moto {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
            _stdin: stdin,
            output,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
        };
        match listening.recv_timeout(START_TIMEOUT) {
            Ok(()) => Ok(moto),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
                "moto printed no \"Running on\" line within {START_TIMEOUT:?}:\n{}",
                moto.output()
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(format!("moto exited on port {port}:\n{}", moto.output()))
            }
        }
    }

    /// The last lines moto printed, for failure messages.
    pub fn output(&self) -> String {
        let kept = self.output.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// The flags that point a Cairn server at `s3://BUCKET/<prefix>` on this moto.
    pub fn server_args(&self, prefix: &str) -> Vec<String> {
        vec![
            "--artifacts-destination".into(),
            format!("s3://{BUCKET}/{prefix}"),
            "--s3-endpoint-url".into(),
            self.endpoint.clone(),
            "--s3-region".into(),
            "us-east-1".into(),
        ]
    }

    /// A Cairn server on a fresh data dir storing its artifacts under `s3://BUCKET/<prefix>`.
    pub fn cairn(&self, prefix: &str) -> TestServer {
        let args = self.server_args(prefix);
        TestServer::start_with(&args.iter().map(String::as_str).collect::<Vec<_>>(), ENV)
    }

    /// Like [`Moto::cairn`] on a kept data dir, e.g. to restart on it.
    pub fn cairn_in(&self, data_dir: &Path, prefix: &str) -> TestServer {
        let args = self.server_args(prefix);
        TestServer::start_in_with(
            data_dir,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            ENV,
        )
    }

    fn url(&self, key: &str) -> String {
        format!("{}/{BUCKET}/{key}", self.endpoint)
    }

    /// A request as the owner sends it. moto takes any request carrying an
    /// Authorization header as authorized (it checks no signatures unless IAM auth is
    /// switched on); one without is anonymous and may not touch private objects.
    fn request(&self, method: reqwest::Method, url: String) -> reqwest::blocking::RequestBuilder {
        self.http.request(method, url).header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20000101/us-east-1/s3/aws4_request, \
             SignedHeaders=host, Signature=unchecked",
        )
    }

    #[track_caller]
    fn expect_ok(&self, what: &str, resp: reqwest::Result<reqwest::blocking::Response>) -> Vec<u8> {
        let resp = resp.unwrap_or_else(|e| panic!("{what}: {e}\nmoto said:\n{}", self.output()));
        let status = resp.status();
        let body = resp.bytes().map(|b| b.to_vec()).unwrap_or_default();
        assert!(
            status.is_success(),
            "{what}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        body
    }

    /// S3 CreateBucket (moto takes unsigned requests).
    pub fn create_bucket(&self, bucket: &str) {
        let url = format!("{}/{bucket}", self.endpoint);
        self.expect_ok(
            &format!("creating bucket {bucket}"),
            self.request(reqwest::Method::PUT, url).send(),
        );
    }

    /// S3 ListObjectsV2: every key under `prefix`, in S3's (lexicographic) order.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("list-type", "2"), ("prefix", prefix)];
            if let Some(t) = &token {
                query.push(("continuation-token", t));
            }
            let body = self.expect_ok(
                &format!("listing {prefix}"),
                self.request(reqwest::Method::GET, format!("{}/{BUCKET}", self.endpoint))
                    .query(&query)
                    .send(),
            );
            let xml = String::from_utf8_lossy(&body);
            keys.extend(elements(&xml, "Key").into_iter().map(unescape));
            token = elements(&xml, "NextContinuationToken")
                .first()
                .map(|t| unescape(t));
            if !xml.contains("<IsTruncated>true</IsTruncated>") || token.is_none() {
                return keys;
            }
        }
    }

    /// S3 ListMultipartUploads: how many multipart uploads are begun and neither
    /// completed nor aborted (S3 keeps, and bills, their parts until then).
    pub fn open_uploads(&self) -> usize {
        let body = self.expect_ok(
            "listing multipart uploads",
            self.request(
                reqwest::Method::GET,
                format!("{}/{BUCKET}?uploads", self.endpoint),
            )
            .send(),
        );
        elements(&String::from_utf8_lossy(&body), "UploadId").len()
    }

    /// S3 PutObject, bypassing Cairn (e.g. to damage a blob).
    pub fn put_object(&self, key: &str, body: &[u8]) {
        self.expect_ok(
            &format!("putting {key}"),
            self.request(reqwest::Method::PUT, self.url(key))
                .body(body.to_vec())
                .send(),
        );
    }

    /// S3 GetObject, bypassing Cairn.
    pub fn get_object(&self, key: &str) -> Vec<u8> {
        self.expect_ok(
            &format!("getting {key}"),
            self.request(reqwest::Method::GET, self.url(key)).send(),
        )
    }
}

/// The texts of every `<tag>...</tag>` in an XML document.
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split_once(&close).map(|(text, _)| text))
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_xml_yields_every_key_unescaped() {
        let xml = "<ListBucketResult><IsTruncated>false</IsTruncated>\
                   <Contents><Key>cairn/blobs/ab/x</Key></Contents>\
                   <Contents><Key>a&amp;b</Key></Contents></ListBucketResult>";
        let keys: Vec<String> = elements(xml, "Key").into_iter().map(unescape).collect();
        assert_eq!(keys, ["cairn/blobs/ab/x", "a&b"]);
        assert!(elements(xml, "NextContinuationToken").is_empty());
    }
}
