//! The TestServer harness: a real `cairn server` process on a random port with its own temp SQLite file.
//!
//! The server is started with `--port 0` and tells us the port it bound on its first
//! line of output, so there are no fixed ports and no sleeps.

pub mod data;
pub mod moto;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running server, killed when dropped.
pub struct TestServer {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    child: Child,
    data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    http: reqwest::blocking::Client,
}

/// A response: status and the JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Parsed body.
    pub body: Value,
    /// Content type.
    pub content_type: String,
    /// The raw body text.
    pub text: String,
}

impl Reply {
    /// The error code of an MLflow error envelope, or "" when there is none.
    pub fn error_code(&self) -> &str {
        self.body["error_code"].as_str().unwrap_or("")
    }

    /// Asserts a 200 and returns the JSON body.
    #[track_caller]
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "expected 200, got {}", self.text);
        self.body
    }

    /// Asserts an MLflow error envelope with this status and error code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.error_code()),
            (status, code),
            "body: {}",
            self.text
        );
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error carries a message: {}",
            self.text
        );
    }
}

/// The `cairn` binary cargo built beside this test binary (or `CAIRN_BIN`).
///
/// `cargo test --workspace` builds it, because the `cairn-cli` package has integration
/// tests of its own; running only this package's tests needs it built first
/// (`cargo build -p cairn-cli`).
pub fn cairn_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("CAIRN_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    // <target>/<profile>/deps/<test binary>
    let profile_dir = exe.parent().and_then(Path::parent).expect("profile dir");
    let bin = profile_dir.join(format!("cairn{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace`, or `cargo build -p cairn-cli` first",
        bin.display()
    );
    bin
}

impl TestServer {
    /// Starts a server on a fresh temp data dir.
    pub fn start() -> TestServer {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut server = TestServer::start_in(temp.path());
        server._temp = Some(temp);
        server
    }

    /// Starts a server on `data_dir` (kept after the server stops), e.g. to restart on it.
    pub fn start_in(data_dir: &Path) -> TestServer {
        TestServer::start_in_with(data_dir, &[], &[])
    }

    /// Starts a server on a fresh temp data dir with extra flags and environment.
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> TestServer {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut server = TestServer::start_in_with(temp.path(), args, env);
        server._temp = Some(temp);
        server
    }

    /// Starts a server on `data_dir` with extra flags (e.g. `--artifacts-destination`) and environment.
    pub fn start_in_with(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> TestServer {
        TestServer::launch(data_dir, 0, args, env)
    }

    /// Starts a server on `data_dir` listening on `port`, e.g. to bring back a stopped
    /// server at the address its clients know.
    pub fn start_in_on_port(data_dir: &Path, port: u16) -> TestServer {
        TestServer::launch(data_dir, port, &[], &[])
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the URL ends with a port")
    }

    fn launch(data_dir: &Path, port: u16, args: &[&str], env: &[(&str, &str)]) -> TestServer {
        // Built before the server exists, so that a failure here leaves no process behind.
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let mut child = Command::new(cairn_binary())
            .args([
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--data-dir",
            ])
            .arg(data_dir)
            .args(args)
            .envs(env.iter().copied())
            .env("CAIRN_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning cairn server");
        let mut first = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let read = out.read_line(&mut first);
        let Some(url) = first
            .trim()
            .strip_prefix("cairn listening on ")
            .map(str::to_owned)
        else {
            // A server left running would outlive the test and hold its output open.
            let _ = child.kill();
            let _ = child.wait();
            panic!("unexpected first line from the server: {first:?} ({read:?})");
        };
        // Keep draining what the server prints so that it never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        TestServer {
            url,
            child,
            data_dir: data_dir.to_owned(),
            _temp: None,
            http,
        }
    }

    /// The data directory the server stores in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The SQLite file.
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("cairn.db")
    }

    /// Kills the process with SIGKILL, no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for a graceful exit; returns the exit success.
    pub fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }

    /// The OS process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn reply(resp: reqwest::blocking::Response) -> Reply {
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = resp.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            body,
            content_type,
            text,
        }
    }

    /// POSTs JSON to an MLflow API path such as `runs/create`.
    pub fn post(&self, api: &str, body: Value) -> Reply {
        self.raw_post(
            &format!("/api/2.0/mlflow/{api}"),
            "application/json",
            body.to_string().into_bytes(),
        )
    }

    /// POSTs JSON to any path, e.g. `/ajax-api/2.0/mlflow/runs/search`.
    pub fn post_path(&self, path: &str, body: Value) -> Reply {
        self.raw_post(path, "application/json", body.to_string().into_bytes())
    }

    /// POSTs raw bytes with a given content type to any path.
    pub fn raw_post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let mut req = self.http.post(format!("{}{path}", self.url)).body(body);
        if !content_type.is_empty() {
            req = req.header("content-type", content_type);
        }
        Self::reply(req.send().expect("POST"))
    }

    /// GETs an MLflow API path with query pairs.
    pub fn get(&self, api: &str, query: &[(&str, &str)]) -> Reply {
        self.raw_get(&format!("/api/2.0/mlflow/{api}"), query)
    }

    /// GETs any path.
    pub fn raw_get(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        Self::reply(
            self.http
                .get(format!("{}{path}", self.url))
                .query(query)
                .send()
                .expect("GET"),
        )
    }

    /// Creates an experiment and returns its id.
    pub fn experiment(&self, name: &str) -> String {
        let r = self.post("experiments/create", serde_json::json!({ "name": name }));
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["experiment_id"]
            .as_str()
            .expect("experiment_id")
            .to_owned()
    }

    /// Creates a run in an experiment and returns its id.
    pub fn run(&self, experiment_id: &str) -> String {
        let r = self.post(
            "runs/create",
            serde_json::json!({ "experiment_id": experiment_id, "start_time": 1 }),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["run"]["info"]["run_id"]
            .as_str()
            .expect("run_id")
            .to_owned()
    }

    /// Creates a run from a full runs/create body and returns the run as the response has it.
    pub fn create_run(&self, body: Value) -> Value {
        let r = self.post("runs/create", body);
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["run"].clone()
    }

    /// Logs a batch and asserts that it was accepted.
    pub fn log_batch(&self, run_id: &str, metrics: Value, params: Value, tags: Value) {
        let r = self.post(
            "runs/log-batch",
            serde_json::json!({"run_id": run_id, "metrics": metrics, "params": params, "tags": tags}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }

    /// The run as runs/get returns it.
    pub fn get_run(&self, run_id: &str) -> Value {
        let r = self.get("runs/get", &[("run_id", run_id)]);
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["run"].clone()
    }
}

/// A metric point as log-batch takes it.
pub fn metric(key: &str, value: Value, timestamp: i64, step: i64) -> Value {
    serde_json::json!({"key": key, "value": value, "timestamp": timestamp, "step": step})
}

/// `{key, value}` pairs, the shape of params and tags.
pub fn pairs(items: &[(&str, &str)]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
            .collect(),
    )
}

/// The value of `key` in a list of `{key, value}` objects (`run.data.tags`, params, metrics).
pub fn value_of<'a>(items: &'a Value, key: &str) -> Option<&'a Value> {
    items
        .as_array()?
        .iter()
        .find(|i| i["key"] == key)
        .map(|i| &i["value"])
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A response read off a raw socket by [`TestServer::raw_http`].
#[derive(Debug)]
pub struct RawReply {
    /// HTTP status.
    pub status: u16,
    /// Header names (lower-cased) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl RawReply {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = find(raw, b"\r\n") {
        let size = std::str::from_utf8(&raw[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .expect("a chunk size line");
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[eol + 2 + size + 2..];
    }
    out
}

/// Parses a whole HTTP/1.1 response (the server closed the connection after it).
pub fn parse_response(raw: &[u8]) -> RawReply {
    let end = find(raw, b"\r\n\r\n").unwrap_or_else(|| {
        panic!(
            "no complete response head in {:?}",
            String::from_utf8_lossy(raw)
        )
    });
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line in {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    RawReply {
        status,
        headers,
        body,
    }
}

impl TestServer {
    /// `host:port` of the server, for raw sockets and `Host` headers.
    pub fn addr(&self) -> &str {
        self.url.strip_prefix("http://").unwrap_or(&self.url)
    }

    /// Sends `request` byte for byte, as `curl --path-as-is` would (no normalising of
    /// `..` or percent escapes), and reads the answer until the server closes. The
    /// request should say `Connection: close`.
    pub fn raw_http(&self, request: &[u8]) -> RawReply {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(self.addr()).expect("connecting");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("read timeout");
        stream.write_all(request).expect("sending the request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("reading the response");
        parse_response(&raw)
    }

    /// `METHOD target HTTP/1.1` with `body`, the target exactly as written.
    pub fn raw_request(&self, method: &str, target: &str, body: &[u8]) -> RawReply {
        let mut request = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr(),
            body.len()
        )
        .into_bytes();
        if method == "POST" {
            request.extend_from_slice(b"Content-Type: application/json\r\n");
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(body);
        self.raw_http(&request)
    }
}

impl TestServer {
    /// PATCHes JSON to an MLflow API path such as `registered-models/update`.
    pub fn patch(&self, api: &str, body: Value) -> Reply {
        self.send_json(reqwest::Method::PATCH, api, body)
    }

    /// DELETEs an MLflow API path with a JSON body, as MLflow's DELETE routes take it.
    pub fn delete(&self, api: &str, body: Value) -> Reply {
        self.send_json(reqwest::Method::DELETE, api, body)
    }

    fn send_json(&self, method: reqwest::Method, api: &str, body: Value) -> Reply {
        let req = self
            .http
            .request(method, format!("{}/api/2.0/mlflow/{api}", self.url))
            .header("content-type", "application/json")
            .body(body.to_string());
        Self::reply(req.send().expect("request"))
    }

    /// Uploads `bytes` through the artifact proxy to `path` (`<exp>/<run>/artifacts/...`)
    /// and asserts that it was stored.
    pub fn put_artifact(&self, path: &str, bytes: &[u8]) {
        let resp = self
            .http
            .put(format!(
                "{}/api/2.0/mlflow-artifacts/artifacts/{path}",
                self.url
            ))
            .body(bytes.to_vec())
            .send()
            .expect("PUT");
        let status = resp.status().as_u16();
        assert_eq!(
            status,
            200,
            "upload of {path}: {}",
            resp.text().unwrap_or_default()
        );
    }
}
