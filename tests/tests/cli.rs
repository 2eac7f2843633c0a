//! The `cairn` CLI end to end: every command of the real binary against a real server.
//!
//! The suites live in `cli/`; this file holds what they share: running `cairn` against
//! one server (optionally with `-o json`, extra environment, standard input or a working
//! directory) and reading what it printed.

#[path = "cli/artifacts.rs"]
mod artifacts;
#[path = "cli/compare.rs"]
mod compare;
#[path = "cli/experiments.rs"]
mod experiments;
#[path = "cli/housekeeping.rs"]
mod housekeeping;
#[path = "cli/logging.rs"]
mod logging;
#[path = "cli/metrics.rs"]
mod metrics;
#[path = "cli/models.rs"]
mod models;
#[path = "cli/output_formats.rs"]
mod output_formats;
#[path = "cli/prompts.rs"]
mod prompts;
#[path = "cli/run_command.rs"]
mod run_command;
#[path = "cli/runs_edit.rs"]
mod runs_edit;
#[path = "cli/runs_list.rs"]
mod runs_list;

use cairn_client::blocking::Client;
use cairn_client::schema::{Metric, Param};
use cairn_tests::{cairn_binary, TestServer};
use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What one `cairn` invocation left behind.
#[derive(Debug)]
struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    /// Asserts the exit code and returns the output.
    #[track_caller]
    fn expect(self, code: i32) -> Output {
        assert_eq!(
            self.code, code,
            "exit code\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Stdout parsed as JSON.
    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// A `cairn` command line aimed at one server.
struct Cairn<'a> {
    server: &'a TestServer,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
    dir: Option<PathBuf>,
}

/// `cairn --tracking-uri <server> ARGS`.
fn cairn<'a>(server: &'a TestServer, args: &[&str]) -> Cairn<'a> {
    Cairn {
        server,
        args: args.iter().map(|a| a.to_string()).collect(),
        env: Vec::new(),
        stdin: None,
        dir: None,
    }
}

impl Cairn<'_> {
    fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    fn dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_owned());
        self
    }

    /// The process, with nothing in its environment that would aim it elsewhere. The
    /// global flags go first: after `cairn run ... --` they would belong to the child.
    fn command(&self) -> Command {
        let mut cmd = Command::new(cairn_binary());
        cmd.args(["--tracking-uri", &self.server.url])
            .args(&self.args)
            .env("MLFLOW_TRACKING_URI", &self.server.url)
            .env("CAIRN_TRACKING_URI", &self.server.url)
            .env_remove("MLFLOW_RUN_ID")
            .env_remove("MLFLOW_EXPERIMENT_ID")
            .env_remove("NO_COLOR")
            .env("CAIRN_SPOOL_DIR", self.server.data_dir().join("spool"))
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        cmd
    }

    fn run(self) -> Output {
        let mut cmd = self.command();
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawning cairn");
        if let Some(bytes) = &self.stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            pipe.write_all(bytes).expect("writing stdin");
        }
        let out = child.wait_with_output().expect("waiting for cairn");
        Output {
            code: out.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
        }
    }

    /// Runs it and asserts success; returns stdout.
    #[track_caller]
    fn ok(self) -> String {
        self.run().expect(0).stdout
    }

    /// Runs it with `-o json`, asserts success, and parses stdout.
    #[track_caller]
    fn json(mut self) -> Value {
        self.args.splice(0..0, ["-o".to_owned(), "json".to_owned()]);
        self.run().expect(0).json()
    }
}

/// A client of the server, to set data up and to check what commands did.
fn client(server: &TestServer) -> Client {
    Client::new(&server.url).expect("client")
}

/// Starts a run through the CLI and returns its id.
fn start_run(server: &TestServer, experiment: &str, name: &str) -> String {
    let id = cairn(server, &["runs", "start", "-e", experiment, "--name", name])
        .ok()
        .trim()
        .to_owned();
    assert_eq!(id.len(), 32, "a run id: {id:?}");
    id
}

/// Logs params and (step 0) metrics to a run through the client.
fn log(client: &Client, run: &str, params: &[(&str, &str)], metrics: &[(&str, f64)]) {
    let params: Vec<Param> = params
        .iter()
        .map(|(k, v)| Param {
            key: k.to_string(),
            value: v.to_string(),
        })
        .collect();
    let metrics: Vec<Metric> = metrics
        .iter()
        .map(|(k, v)| Metric {
            key: k.to_string(),
            value: *v,
            timestamp: 1,
            step: 0,
            run_id: None,
        })
        .collect();
    client
        .log_batch(run, &metrics, &params, &[])
        .expect("log-batch");
}

/// Rows of CSV text, quoted fields unquoted.
fn csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && row.is_empty(),
        "CSV ends with a newline: {text:?}"
    );
    rows
}

/// The values of one field of every object in a JSON array.
fn field(rows: &Value, key: &str) -> Vec<Value> {
    rows.as_array()
        .unwrap_or_else(|| panic!("a JSON array: {rows}"))
        .iter()
        .map(|r| r[key].clone())
        .collect()
}

/// The values of one field of every object in a JSON array, as strings.
fn strings(rows: &Value, key: &str) -> Vec<String> {
    field(rows, key)
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("{key} is a string in {rows}"))
                .to_owned()
        })
        .collect()
}
