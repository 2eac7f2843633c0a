//! The closed-loop load generator for the write paths: C clients, one connection each, each sending its next request when the previous answer arrives.

use super::http::Http;
use super::procfs::Measure;
use std::time::Duration;
use tokio::time::Instant;

/// What one client sends, and what it learns from each answer (wrk's Lua scripts).
pub trait Script: Send + 'static {
    /// The next POST: URL and JSON body.
    fn request(&mut self) -> (reqwest::Url, Vec<u8>);
    /// A complete answer (status 0: the connection failed).
    fn response(&mut self, status: u16, body: &[u8]);
}

/// One client's counts. `sent` includes the request abandoned in flight at the stop.
pub struct Worker<S> {
    pub script: S,
    pub sent: u64,
    pub ok: u64,
    pub bad: u64,
    pub transport_errors: u64,
    lat_us: Vec<u32>,
}

pub struct Load<S> {
    pub workers: Vec<Worker<S>>,
    pub secs: f64,
    pub diag: serde_json::Map<String, serde_json::Value>,
}

impl<S> Load<S> {
    pub fn ok(&self) -> u64 {
        self.workers.iter().map(|w| w.ok).sum()
    }

    pub fn sent(&self) -> u64 {
        self.workers.iter().map(|w| w.sent).sum()
    }

    /// Non-200 answers and failed connections (wrk's error total).
    pub fn errors(&self) -> u64 {
        self.workers
            .iter()
            .map(|w| w.bad + w.transport_errors)
            .sum()
    }

    /// p50 and p99 latency in ms over every completed request.
    pub fn percentiles_ms(&self) -> (Option<f64>, Option<f64>) {
        let mut all: Vec<f64> = self
            .workers
            .iter()
            .flat_map(|w| w.lat_us.iter().map(|&u| f64::from(u) / 1000.0))
            .collect();
        all.sort_by(f64::total_cmp);
        (
            super::report::percentile_sorted(&all, 50.0),
            super::report::percentile_sorted(&all, 99.0),
        )
    }
}

/// Runs one client per script for `duration`; a request still in flight at the end is
/// abandoned (counted as sent, not as answered), as wrk does.
pub async fn closed_loop<S: Script>(
    root: Option<u32>,
    scripts: Vec<S>,
    duration: Duration,
) -> anyhow::Result<Load<S>> {
    let clients = scripts
        .iter()
        .map(|_| Http::new(Duration::from_secs(60)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let measure = Measure::start(root);
    let t0 = Instant::now();
    let deadline = t0 + duration;
    let tasks: Vec<_> = scripts
        .into_iter()
        .zip(clients)
        .map(|(script, http)| tokio::spawn(client_loop(script, http, deadline)))
        .collect();
    let mut workers = Vec::with_capacity(tasks.len());
    for t in tasks {
        workers.push(t.await?);
    }
    let secs = t0.elapsed().as_secs_f64();
    Ok(Load {
        workers,
        secs,
        diag: measure.finish(),
    })
}

async fn client_loop<S: Script>(mut script: S, http: Http, deadline: Instant) -> Worker<S> {
    let (mut sent, mut ok, mut bad, mut transport_errors) = (0, 0, 0, 0);
    let mut lat_us = Vec::with_capacity(4096);
    while Instant::now() < deadline {
        let (url, body) = script.request();
        sent += 1;
        let t = Instant::now();
        let exchange = async {
            let resp = http
                .inner()
                .post(url)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await?;
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, bytes))
        };
        match tokio::time::timeout_at(deadline, exchange).await {
            Err(_) => break,
            Ok(Ok((status, bytes))) => {
                let us = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                lat_us.push(us);
                if status == 200 {
                    ok += 1;
                } else {
                    bad += 1;
                }
                script.response(status, &bytes);
            }
            Ok(Err(_)) => {
                transport_errors += 1;
                script.response(0, &[]);
                // A refused connection must not become a busy loop.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    Worker {
        script,
        sent,
        ok,
        bad,
        transport_errors,
        lat_us,
    }
}
