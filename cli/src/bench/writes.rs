//! The write workloads (log-metric, log-batch, create-run) under the closed loop, and the read-back that verifies what each acknowledged.

use super::http::{self, now_ms, num, Http};
use super::load::{closed_loop, Load, Script};
use super::report::Outcome;
use super::server::Server;
use super::{Ctx, State};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// log-metric: each client logs `loss` to its own run, step 0, 1, 2, ..., value step/2.
struct LogMetric {
    url: reqwest::Url,
    run_id: String,
    step: u64,
}

impl Script for LogMetric {
    fn request(&mut self) -> (reqwest::Url, Vec<u8>) {
        let step = self.step;
        self.step += 1;
        let body = format!(
            r#"{{"run_id":"{}","key":"loss","value":{},"timestamp":{},"step":{step}}}"#,
            self.run_id,
            step as f64 * 0.5,
            now_ms()
        );
        (self.url.clone(), body.into_bytes())
    }

    fn response(&mut self, _: u16, _: &[u8]) {}
}

/// log-batch: batch b holds keys m0..m9 × steps b*100..b*100+99, value step + k/4.
struct LogBatch {
    url: reqwest::Url,
    run_id: String,
    batch: u64,
}

const BATCH_KEYS: u64 = 10;

impl Script for LogBatch {
    fn request(&mut self) -> (reqwest::Url, Vec<u8>) {
        let (b, ts) = (self.batch, now_ms());
        self.batch += 1;
        let mut body = String::with_capacity(72_000);
        let _ = write!(body, r#"{{"run_id":"{}","metrics":["#, self.run_id);
        for k in 0..BATCH_KEYS {
            for j in 0..100 {
                let step = b * 100 + j;
                let sep = if k + j == 0 { "" } else { "," };
                let value = step as f64 + k as f64 * 0.25;
                let _ = write!(
                    body,
                    r#"{sep}{{"key":"m{k}","value":{value},"timestamp":{ts},"step":{step}}}"#
                );
            }
        }
        body.push_str("]}");
        (self.url.clone(), body.into_bytes())
    }

    fn response(&mut self, _: u16, _: &[u8]) {}
}

/// create-run: runs/create, then runs/update FINISHED on the run it returned.
struct CreateRun {
    create: reqwest::Url,
    update: reqwest::Url,
    exp: String,
    tid: usize,
    pending: Option<String>,
    last_create: bool,
    sent_create: u64,
    ok_create: u64,
    sent_update: u64,
    ok_pair: u64,
}

impl Script for CreateRun {
    fn request(&mut self) -> (reqwest::Url, Vec<u8>) {
        if let Some(id) = &self.pending {
            self.last_create = false;
            self.sent_update += 1;
            let body = format!(
                r#"{{"run_id":"{id}","run_uuid":"{id}","status":"FINISHED","end_time":{}}}"#,
                now_ms()
            );
            return (self.update.clone(), body.into_bytes());
        }
        self.last_create = true;
        self.sent_create += 1;
        let body = format!(
            r#"{{"experiment_id":"{}","run_name":"cr-{}-{}","start_time":{}}}"#,
            self.exp,
            self.tid,
            self.sent_create,
            now_ms()
        );
        (self.create.clone(), body.into_bytes())
    }

    fn response(&mut self, status: u16, body: &[u8]) {
        if status != 200 {
            self.pending = None;
        } else if self.last_create {
            self.ok_create += 1;
            self.pending = run_id_of(body);
        } else {
            self.ok_pair += 1;
            self.pending = None;
        }
    }
}

/// The run id of a runs/create answer, without parsing the whole body.
fn run_id_of(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let rest = &text[text.find("\"run_id\"")? + 8..];
    let rest = &rest[rest.find('"')? + 1..];
    Some(rest[..rest.find('"')?].to_owned())
}

fn common(load: &Load<impl Script>) -> Vec<(&'static str, Option<f64>)> {
    let (p50, p99) = load.percentiles_ms();
    vec![
        ("p50_ms", p50),
        ("p99_ms", p99),
        ("errors", Some(load.errors() as f64)),
    ]
}

fn duration(ctx: &Ctx, warmup: bool) -> Duration {
    if warmup {
        ctx.warmup
    } else {
        ctx.duration
    }
}

async fn runs_for(
    s: &Server,
    h: &Http,
    st: &mut State,
    prefix: &str,
    names: Vec<String>,
) -> anyhow::Result<Vec<String>> {
    if st.exp.is_none() {
        st.exp = Some(http::create_experiment(s, h, prefix).await?);
    }
    let exp = st.exp.clone().unwrap_or_default();
    let mut ids = Vec::new();
    for name in names {
        ids.push(http::create_run(s, h, &exp, &name).await?);
    }
    Ok(ids)
}

/// The history of `key` holds n points, lo <= n <= hi, with unique steps in [0, hi) and
/// the expected value at each step; returns a note when it does not, and n.
pub async fn verify_history(
    s: &Server,
    h: &Http,
    run_id: &str,
    key: &str,
    (lo, hi): (u64, u64),
    value_of: impl Fn(u64) -> f64,
) -> anyhow::Result<(Option<String>, u64)> {
    let (points, _, _) = http::metric_history(s, h, run_id, key).await?;
    let n = points.len() as u64;
    if !(lo..=hi).contains(&n) {
        return Ok((
            Some(format!(
                "{key}: {n} points stored, expected between {lo} and {hi}"
            )),
            n,
        ));
    }
    let mut steps = HashSet::new();
    for p in &points {
        let step = num(&p["step"]).unwrap_or(-1.0);
        if step < 0.0 || step >= hi as f64 || !steps.insert(step as u64) {
            return Ok((
                Some(format!("{key}: duplicate or out-of-range step {step}")),
                n,
            ));
        }
        if num(&p["value"]) != Some(value_of(step as u64)) {
            return Ok((
                Some(format!("{key}: wrong value at step {step}: {}", p["value"])),
                n,
            ));
        }
    }
    Ok((None, n))
}

pub async fn log_metric(
    s: &Server,
    ctx: &Ctx,
    st: &mut State,
    conns: usize,
    rep: i64,
    warmup: bool,
) -> anyhow::Result<Outcome> {
    let h = Http::reads()?;
    let names = (0..conns)
        .map(|i| format!("lm-c{conns}-r{rep}-{i}"))
        .collect();
    let ids = runs_for(s, &h, st, "bench-log-metric", names).await?;
    let url = reqwest::Url::parse(&format!("{}/runs/log-metric", s.api))?;
    let scripts = ids
        .into_iter()
        .map(|run_id| LogMetric {
            url: url.clone(),
            run_id,
            step: 0,
        })
        .collect();
    let load = closed_loop(s.pid, scripts, duration(ctx, warmup)).await?;
    let mut out = Outcome::with(vec![("req_per_s", Some(load.ok() as f64 / load.secs))]);
    out.values.extend(common(&load));
    out.diag = load.diag.clone();
    if warmup {
        return Ok(out);
    }
    let (mut notes, mut stored) = (Vec::new(), 0);
    for w in &load.workers {
        let (note, n) = verify_history(s, &h, &w.script.run_id, "loss", (w.ok, w.sent), |step| {
            step as f64 * 0.5
        })
        .await?;
        stored += n;
        notes.extend(note);
    }
    out.diag.insert("points_stored".into(), stored.into());
    out.diag.insert("ok".into(), load.ok().into());
    out.diag.insert("sent".into(), load.sent().into());
    out.verdict(notes);
    Ok(out)
}

pub async fn log_batch(
    s: &Server,
    ctx: &Ctx,
    st: &mut State,
    conns: usize,
    rep: i64,
    warmup: bool,
) -> anyhow::Result<Outcome> {
    let h = Http::reads()?;
    let names = (0..conns)
        .map(|i| format!("lb-m-c{conns}-r{rep}-{i}"))
        .collect();
    let ids = runs_for(s, &h, st, "bench-log-batch", names).await?;
    let url = reqwest::Url::parse(&format!("{}/runs/log-batch", s.api))?;
    let scripts = ids
        .into_iter()
        .map(|run_id| LogBatch {
            url: url.clone(),
            run_id,
            batch: 0,
        })
        .collect();
    let load = closed_loop(s.pid, scripts, duration(ctx, warmup)).await?;
    let okb = load.ok() as f64;
    let per_batch = (BATCH_KEYS * 100) as f64;
    let mut out = Outcome::with(vec![
        ("points_per_s", Some(okb * per_batch / load.secs)),
        ("batches_per_s", Some(okb / load.secs)),
    ]);
    out.values.extend(common(&load));
    out.diag = load.diag.clone();
    if warmup {
        return Ok(out);
    }
    // The last batch of a client may still be in flight on the server when the load
    // stops; re-check until the stored state is consistent (or 60 s pass).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let notes = verify_batches(s, &h, &load).await?;
        if notes.is_empty() || Instant::now() > deadline {
            out.verdict(notes);
            return Ok(out);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Every key of a client's run holds 100 points per stored batch, the same number of
/// batches nb for every key (a batch is all or nothing), with ok <= nb <= sent.
async fn verify_batches(
    s: &Server,
    h: &Http,
    load: &Load<LogBatch>,
) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    for w in &load.workers {
        let mut counts = HashSet::new();
        for k in 0..BATCH_KEYS {
            let bounds = (w.ok * 100, w.sent * 100);
            let value_of = |step: u64| step as f64 + k as f64 * 0.25;
            let (note, n) =
                verify_history(s, h, &w.script.run_id, &format!("m{k}"), bounds, value_of).await?;
            counts.insert(n);
            notes.extend(note);
        }
        if counts.len() != 1 || counts.iter().any(|n| n % 100 != 0) {
            let mut c: Vec<_> = counts.into_iter().collect();
            c.sort_unstable();
            notes.push(format!(
                "inconsistent per-key counts {c:?} (non-atomic batch?)"
            ));
        }
    }
    Ok(notes)
}

pub async fn create_run(
    s: &Server,
    ctx: &Ctx,
    conns: usize,
    warmup: bool,
) -> anyhow::Result<Outcome> {
    let h = Http::reads()?;
    let exp = http::create_experiment(s, &h, &format!("bench-create-run-c{conns}")).await?;
    let create = reqwest::Url::parse(&format!("{}/runs/create", s.api))?;
    let update = reqwest::Url::parse(&format!("{}/runs/update", s.api))?;
    let scripts = (0..conns)
        .map(|tid| CreateRun {
            create: create.clone(),
            update: update.clone(),
            exp: exp.clone(),
            tid,
            pending: None,
            last_create: false,
            sent_create: 0,
            ok_create: 0,
            sent_update: 0,
            ok_pair: 0,
        })
        .collect();
    let load = closed_loop(s.pid, scripts, duration(ctx, warmup)).await?;
    let sum = |f: fn(&CreateRun) -> u64| load.workers.iter().map(|w| f(&w.script)).sum::<u64>();
    let (sent_create, ok_create) = (sum(|c| c.sent_create), sum(|c| c.ok_create));
    let (sent_update, ok_pair) = (sum(|c| c.sent_update), sum(|c| c.ok_pair));
    let mut out = Outcome::with(vec![("pairs_per_s", Some(ok_pair as f64 / load.secs))]);
    out.values.extend(common(&load));
    out.diag = load.diag.clone();
    if warmup {
        return Ok(out);
    }
    let mut notes = Vec::new();
    let req = serde_json::json!({"experiment_ids": [exp], "max_results": 50000});
    let runs = match http::search_all(s, &h, &req).await {
        Ok((runs, _)) => runs,
        Err(e) => {
            notes.push(format!("read-back failed: {e:#}"));
            Vec::new()
        }
    };
    let total = runs
        .iter()
        .filter_map(|r| r["info"]["run_id"].as_str())
        .collect::<HashSet<_>>()
        .len() as u64;
    let finished = runs
        .iter()
        .filter(|r| r["info"]["status"] == "FINISHED")
        .count() as u64;
    if !(ok_create..=sent_create).contains(&total) {
        notes.push(format!(
            "{total} runs stored, expected {ok_create}..{sent_create}"
        ));
    }
    if !(ok_pair..=sent_update).contains(&finished) {
        notes.push(format!(
            "{finished} FINISHED, expected {ok_pair}..{sent_update}"
        ));
    }
    for (k, v) in [
        ("runs_stored", total),
        ("finished", finished),
        ("sent_create", sent_create),
        ("ok_create", ok_create),
        ("sent_update", sent_update),
        ("ok_pair", ok_pair),
    ] {
        out.diag.insert(k.into(), v.into());
    }
    out.verdict(notes);
    Ok(out)
}
