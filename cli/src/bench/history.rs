//! The metric-history workload: P points of one metric seeded by 1000-point log-batches, then timed full fetches of get-history checked point by point.

use super::http::{self, brief, num, Http};
use super::procfs::Measure;
use super::report::{median, percentile, Outcome};
use super::server::Server;
use super::{Ctx, State};
use anyhow::bail;
use std::fmt::Write as _;

/// Seeds one run with `loss` at steps 0..P-1 (value step/4), sequentially.
pub async fn prepare(s: &Server, ctx: &Ctx, st: &mut State) -> anyhow::Result<()> {
    let n = ctx.scale.history_points;
    let h = Http::reads()?;
    let exp = http::create_experiment(s, &h, "bench-history").await?;
    let rid = http::create_run(s, &h, &exp, "history").await?;
    let ts0 = http::now_ms();
    let bodies: Vec<Vec<u8>> = (0..n)
        .step_by(1000)
        .map(|b| {
            let mut body = format!(r#"{{"run_id":"{rid}","metrics":["#);
            for step in b..n.min(b + 1000) {
                let sep = if step == b { "" } else { "," };
                let value = step as f64 * 0.25;
                let ts = ts0 + step as i64;
                let _ = write!(
                    body,
                    r#"{sep}{{"key":"loss","value":{value},"timestamp":{ts},"step":{step}}}"#
                );
            }
            body.push_str("]}");
            body.into_bytes()
        })
        .collect();
    eprintln!(
        "  {}: seeding {n} points of one metric (log-batch x{}, sequential)",
        s.label,
        bodies.len()
    );
    let url = format!("{}/runs/log-batch", s.api);
    let measure = Measure::start(s.pid);
    for body in bodies {
        let (code, data, _) = h
            .request(
                reqwest::Method::POST,
                &url,
                Some((body, "application/json")),
            )
            .await?;
        if code != 200 {
            bail!(
                "history seed log-batch -> {code} {}",
                brief(&http::loads(&data))
            );
        }
    }
    let diag = measure.finish();
    let wall = diag["wall_s"].as_f64().unwrap_or(f64::NAN);
    let mut seed = Outcome::with(vec![
        ("seed_points_per_s", Some(n as f64 / wall)),
        ("seed_s", Some(wall)),
    ]);
    seed.diag = diag;
    eprintln!(
        "  {}: seeded in {wall:.1}s ({:.0} points/s)",
        s.label,
        n as f64 / wall
    );
    st.run_id = Some(rid);
    st.seed = Some(seed);
    Ok(())
}

/// Full fetches of the history (following page tokens); p50/p99 and points/s.
pub async fn run(s: &Server, ctx: &Ctx, st: &mut State, warmup: bool) -> anyhow::Result<Outcome> {
    let n = ctx.scale.history_points;
    let Some(rid) = st.run_id.clone() else {
        bail!("history seeding failed")
    };
    let h = Http::reads()?;
    let iters = if warmup { 1 } else { ctx.scale.history_iters };
    let (mut lat, mut notes, mut requests) = (Vec::new(), Vec::new(), 0);
    let measure = Measure::start(s.pid);
    for _ in 0..iters {
        let (points, dt, nreq) = http::metric_history(s, &h, &rid, "loss").await?;
        lat.push(dt);
        requests = nreq;
        let mut steps: Vec<i64> = points
            .iter()
            .map(|p| num(&p["step"]).map_or(-1, |x| x as i64))
            .collect();
        steps.sort_unstable();
        if !steps.iter().copied().eq(0..n as i64) {
            notes.push(format!("{} points returned, expected {n}", points.len()));
        } else if points
            .iter()
            .any(|p| num(&p["value"]) != num(&p["step"]).map(|s| s * 0.25))
        {
            notes.push("wrong values".into());
        }
    }
    let mut out = Outcome::with(vec![
        ("points_per_s", median(&lat).map(|m| n as f64 / m)),
        ("p50_ms", percentile(&lat, 50.0).map(|x| x * 1000.0)),
        ("p99_ms", percentile(&lat, 99.0).map(|x| x * 1000.0)),
    ]);
    out.diag = measure.finish();
    out.diag.insert("iters".into(), lat.len().into());
    out.diag
        .insert("requests_per_fetch".into(), requests.into());
    out.verdict(notes);
    Ok(out)
}
