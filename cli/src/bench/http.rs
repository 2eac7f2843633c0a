//! The bench's HTTP client (one keep-alive connection, timed requests, gzip like MLflow's Python client) and the MLflow calls the workloads share.

use super::server::Server;
use anyhow::{bail, Context as _};
use serde_json::{json, Value};
use std::io::Read as _;
use std::time::{Duration, Instant};

/// One client's connection: used sequentially, so it keeps one keep-alive connection.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
}

/// Status, body (decoded from gzip if the server chose it) and seconds from sending
/// the request to reading the last byte of the body (decoding is not timed).
pub type Timed<T> = (u16, T, f64);

impl Http {
    pub fn new(timeout: Duration) -> anyhow::Result<Http> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .http1_only()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(1)
            .timeout(timeout)
            .build()?;
        Ok(Http { client })
    }

    /// A client for reads and seeding: generous timeout (a slow server's page-all).
    pub fn reads() -> anyhow::Result<Http> {
        Http::new(Duration::from_secs(900))
    }

    pub fn inner(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request with `Accept-Encoding: gzip` (as MLflow's Python client does).
    pub async fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<(Vec<u8>, &str)>,
    ) -> anyhow::Result<Timed<Vec<u8>>> {
        let mut req = self
            .client
            .request(method, url)
            .header("Accept-Encoding", "gzip");
        if let Some((bytes, content_type)) = body {
            req = req.header("Content-Type", content_type).body(bytes);
        }
        let t0 = Instant::now();
        let resp = req.send().await.with_context(|| url.to_owned())?;
        let status = resp.status().as_u16();
        let gzipped = resp
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let bytes = resp.bytes().await.with_context(|| url.to_owned())?;
        let dt = t0.elapsed().as_secs_f64();
        let data = if gzipped {
            let mut out = Vec::with_capacity(bytes.len() * 4);
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut out)
                .context("gunzip")?;
            out
        } else {
            bytes.to_vec()
        };
        Ok((status, data, dt))
    }

    pub async fn get(&self, url: &str) -> anyhow::Result<Timed<Value>> {
        let (st, data, dt) = self.request(reqwest::Method::GET, url, None).await?;
        Ok((st, loads(&data), dt))
    }

    pub async fn get_query(
        &self,
        url: &str,
        query: &[(&str, &str)],
    ) -> anyhow::Result<Timed<Value>> {
        let url = reqwest::Url::parse_with_params(url, query)?;
        self.get(url.as_str()).await
    }

    pub async fn post_json(&self, url: &str, body: &Value) -> anyhow::Result<Timed<Value>> {
        let bytes = serde_json::to_vec(body)?;
        let (st, data, dt) = self
            .request(
                reqwest::Method::POST,
                url,
                Some((bytes, "application/json")),
            )
            .await?;
        Ok((st, loads(&data), dt))
    }
}

/// JSON, or `{"_raw": <start of the text>}` for anything else.
pub fn loads(data: &[u8]) -> Value {
    if data.is_empty() {
        return json!({});
    }
    serde_json::from_slice(data).unwrap_or_else(|_| {
        let text = String::from_utf8_lossy(&data[..data.len().min(500)]).into_owned();
        json!({ "_raw": text })
    })
}

/// Short text of a body for messages.
pub fn brief(body: &Value) -> String {
    let s = body.to_string();
    s.chars().take(300).collect()
}

/// The endpoint does not exist on this server.
pub fn is_unsupported(status: u16, body: &Value) -> bool {
    matches!(status, 404 | 405 | 501) || body.to_string().contains("ENDPOINT_NOT_FOUND")
}

pub async fn create_experiment(s: &Server, h: &Http, prefix: &str) -> anyhow::Result<String> {
    let name = format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    );
    let url = format!("{}/experiments/create", s.api);
    let (st, body, _) = h.post_json(&url, &json!({ "name": name })).await?;
    match body["experiment_id"].as_str() {
        Some(id) if st == 200 => Ok(id.to_owned()),
        _ => bail!("experiments/create -> {st} {}", brief(&body)),
    }
}

pub async fn create_run(s: &Server, h: &Http, exp: &str, name: &str) -> anyhow::Result<String> {
    let req = json!({"experiment_id": exp, "run_name": name, "start_time": now_ms()});
    let (st, body, _) = h.post_json(&format!("{}/runs/create", s.api), &req).await?;
    match body["run"]["info"]["run_id"].as_str() {
        Some(id) if st == 200 => Ok(id.to_owned()),
        _ => bail!("runs/create -> {st} {}", brief(&body)),
    }
}

/// A metric's full history, following `next_page_token` if the server pages; returns
/// the points, the summed seconds of the requests and how many requests it took.
pub async fn metric_history(
    s: &Server,
    h: &Http,
    run_id: &str,
    key: &str,
) -> anyhow::Result<(Vec<Value>, f64, usize)> {
    let url = format!("{}/metrics/get-history", s.api);
    let (mut out, mut total, mut n, mut token) = (Vec::new(), 0.0, 0, None::<String>);
    loop {
        let mut q = vec![("run_id", run_id), ("metric_key", key)];
        if let Some(t) = &token {
            q.push(("page_token", t));
        }
        let (st, mut body, dt) = h.get_query(&url, &q).await?;
        total += dt;
        n += 1;
        if st != 200 {
            bail!("metrics/get-history -> {st} {}", brief(&body));
        }
        if let Value::Array(points) = body["metrics"].take() {
            out.extend(points);
        }
        token = next_token(&body);
        if token.is_none() {
            return Ok((out, total, n));
        }
    }
}

/// Pages through runs/search; returns the runs and the seconds of each page.
pub async fn search_all(
    s: &Server,
    h: &Http,
    req: &Value,
) -> anyhow::Result<(Vec<Value>, Vec<f64>)> {
    let url = format!("{}/runs/search", s.api);
    let (mut runs, mut times, mut token) = (Vec::new(), Vec::new(), None::<String>);
    loop {
        let mut r = req.clone();
        if let Some(t) = token.take() {
            r["page_token"] = t.into();
        }
        let (st, mut body, dt) = h.post_json(&url, &r).await?;
        if st != 200 {
            bail!("runs/search -> {st} {}", brief(&body));
        }
        times.push(dt);
        if let Value::Array(page) = body["runs"].take() {
            runs.extend(page);
        }
        token = next_token(&body);
        if token.is_none() {
            return Ok((runs, times));
        }
    }
}

fn next_token(body: &Value) -> Option<String> {
    body["next_page_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A JSON number or numeric string (MLflow writes `"NaN"`) as f64.
pub fn num(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.parse().ok())
}
