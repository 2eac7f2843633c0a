//! A server under test: its URL and API prefixes, and, with a start command, its process (start, readiness, stop).

use super::http::Http;
use super::procfs;
use anyhow::{bail, Context as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub label: String,
    pub url: String,
    pub host: String,
    pub port: u16,
    /// `<url>/api/2.0/mlflow`
    pub api: String,
    /// `<url>/api/2.0/mlflow-artifacts`
    pub art_api: String,
    /// Root of the process tree measured for CPU and memory.
    pub pid: Option<u32>,
    start_cmd: Option<String>,
    workdir: PathBuf,
    health_path: Option<String>,
    child: Option<Child>,
    pub data_dir: Option<PathBuf>,
    /// Data directories made so far (removed at the end unless --keep-data).
    pub made_dirs: Vec<PathBuf>,
}

impl Server {
    pub fn new(
        label: &str,
        url: &str,
        pid: Option<u32>,
        start_cmd: Option<String>,
        workdir: PathBuf,
        health_path: Option<String>,
    ) -> anyhow::Result<Server> {
        let parsed = reqwest::Url::parse(url).with_context(|| format!("--url {url}"))?;
        let host = parsed.host_str().context("the URL has no host")?.to_owned();
        let port = parsed.port_or_known_default().unwrap_or(80);
        let base = url.trim_end_matches('/').to_owned();
        Ok(Server {
            label: label.to_owned(),
            api: format!("{base}/api/2.0/mlflow"),
            art_api: format!("{base}/api/2.0/mlflow-artifacts"),
            url: base,
            host,
            port,
            pid,
            start_cmd,
            workdir,
            health_path,
            child: None,
            data_dir: None,
            made_dirs: Vec::new(),
        })
    }

    pub fn can_start(&self) -> bool {
        self.start_cmd.is_some()
    }

    /// Answers 200 on the health path (or, where `/health` is 404, on experiments/search).
    pub async fn health_ok(&self, http: &Http) -> bool {
        let path = self.health_path.clone().unwrap_or_else(|| "/health".into());
        match http.get(&format!("{}{path}", self.url)).await {
            Ok((200, _, _)) => true,
            Ok((404, _, _)) if self.health_path.is_none() => matches!(
                http.get(&format!("{}/experiments/search?max_results=1", self.api))
                    .await,
                Ok((200, _, _))
            ),
            _ => false,
        }
    }

    /// A fresh, empty data directory under the workdir.
    pub fn new_data_dir(&mut self) -> anyhow::Result<PathBuf> {
        let n = self.made_dirs.len() + 1;
        let dir = std::path::absolute(self.workdir.join(format!("{}-{n}", self.label)))?;
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        self.made_dirs.push(dir.clone());
        Ok(dir)
    }

    /// Starts the server with its start command (in its own process group, output to
    /// `<data>/server.log`) on `data_dir` or a fresh one; returns the seconds until the
    /// first 200, polled every 10 ms.
    pub async fn start(
        &mut self,
        data_dir: Option<PathBuf>,
        timeout: Duration,
    ) -> anyhow::Result<f64> {
        let template = self.start_cmd.clone().context("no start command")?;
        let probe = Http::new(Duration::from_secs(2))?;
        if self.health_ok(&probe).await {
            bail!(
                "{}: something already answers on port {}",
                self.label,
                self.port
            );
        }
        let dir = match data_dir {
            Some(d) => d,
            None => self.new_data_dir()?,
        };
        let cmd = template
            .replace("{host}", &self.host)
            .replace("{port}", &self.port.to_string())
            .replace("{data}", &dir.to_string_lossy());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))?;
        let t0 = Instant::now();
        let child = {
            use std::os::unix::process::CommandExt as _;
            Command::new("/bin/sh")
                .arg("-c")
                .arg(format!("exec {cmd}"))
                .current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .process_group(0)
                .spawn()
                .with_context(|| format!("starting {cmd}"))?
        };
        self.pid = Some(child.id());
        self.child = Some(child);
        self.data_dir = Some(dir.clone());
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                self.pid = None;
                bail!(
                    "{}: server exited with {status}; see {}/server.log",
                    self.label,
                    dir.display()
                );
            }
            if self.health_ok(&probe).await {
                return Ok(t0.elapsed().as_secs_f64());
            }
            if t0.elapsed() > timeout {
                self.stop().await;
                bail!("{}: not healthy after {timeout:?}", self.label);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// SIGTERM to the process group, SIGKILL after 20 s; waits for the whole group.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = format!("-{}", child.id());
        let signal = |sig: &str| {
            let _ = Command::new("kill")
                .args([sig, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        signal("-TERM");
        let t0 = Instant::now();
        while child.try_wait().ok().flatten().is_none() {
            if t0.elapsed() > Duration::from_secs(20) {
                signal("-KILL");
                let _ = child.wait();
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Workers of the group may outlive the leader for a moment.
        let t0 = Instant::now();
        while group_alive(&group) {
            if t0.elapsed() > Duration::from_secs(10) {
                signal("-KILL");
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.pid = None;
    }

    pub fn pids(&self) -> Vec<u32> {
        self.pid.map(procfs::tree_pids).unwrap_or_default()
    }

    pub fn memory(&self) -> Option<procfs::Memory> {
        self.pid.map(|_| procfs::tree_memory(&self.pids()))
    }

    pub fn cpu_s(&self) -> Option<f64> {
        self.pid.map(|_| procfs::tree_cpu_s(&self.pids()))
    }
}

fn group_alive(group: &str) -> bool {
    Command::new("kill")
        .args(["-0", "--", group])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Drop for Server {
    /// A bench that ends early (an error, a panic) leaves no server behind.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
        }
    }
}
