//! The search-runs workload: a deterministic seed of N runs (5 tags, 10 params, 10 metrics), then timed searches checked against what the seed implies.

use super::http::{self, brief, num, Http};
use super::procfs::Measure;
use super::report::{median, percentile, Outcome};
use super::server::Server;
use super::{Ctx, State};
use anyhow::bail;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const LRS: [&str; 4] = ["0.1", "0.01", "0.001", "0.0001"];
const TEAMS: [&str; 5] = ["vision-a", "nlp", "vision-b", "rl", "speech"];
const METRIC_KEYS: [&str; 10] = [
    "acc",
    "loss",
    "f1",
    "precision",
    "recall",
    "auc",
    "val_acc",
    "val_loss",
    "lr_final",
    "epoch_time",
];
const TAG_KEYS: [&str; 5] = ["team", "owner", "stage", "gpu", "ticket"];
pub const FILTER: &str = "metrics.acc > 0.5 and params.lr = '0.01'";

/// The kinds of timed search.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    NoFilter,
    FilterOrder,
    TagsLike,
    PageAll,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::NoFilter,
        Kind::FilterOrder,
        Kind::TagsLike,
        Kind::PageAll,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::NoFilter => "nofilter",
            Kind::FilterOrder => "filter-order",
            Kind::TagsLike => "tags-like",
            Kind::PageAll => "page-all",
        }
    }
}

/// splitmix64: the seed's metric values are a function of the run index alone.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

type Pairs = Vec<(&'static str, String)>;

/// Run i's params, metrics (in [0, 1), 6 decimals) and tags.
fn seed_spec(i: usize) -> (Pairs, Vec<(&'static str, f64)>, Pairs) {
    let params = vec![
        ("lr", LRS[i % 4].to_owned()),
        ("batch_size", [16, 32, 64, 128][(i / 4) % 4].to_string()),
        ("optimizer", ["adam", "sgd", "adamw"][i % 3].to_owned()),
        ("layers", (1 + i % 8).to_string()),
        ("dropout", format!("{:.1}", 0.1 * (i % 5) as f64)),
        ("seed", i.to_string()),
        ("arch", format!("net{}", i % 11)),
        ("epochs", (10 + i % 20).to_string()),
        ("warmup_steps", (100 * (i % 7)).to_string()),
        ("weight_decay", "0.0001".to_owned()),
    ];
    let mut rng = 1_000_003u64.wrapping_mul(i as u64).wrapping_add(7);
    let metrics = METRIC_KEYS
        .iter()
        .map(|k| {
            let x = (splitmix(&mut rng) >> 11) as f64 / (1u64 << 53) as f64;
            (*k, (x * 1e6).round() / 1e6)
        })
        .collect();
    let tags = vec![
        ("team", TEAMS[i % 5].to_owned()),
        ("owner", format!("user{}", i % 17)),
        ("stage", ["dev", "prod"][i % 2].to_owned()),
        ("gpu", ["a100", "h100", "none"][i % 3].to_owned()),
        ("ticket", format!("T-{i}")),
    ];
    (params, metrics, tags)
}

fn kv(pairs: &Pairs) -> Value {
    pairs
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect()
}

/// The acc values the filter-order search must return, best first.
fn expected_filter(n: usize) -> Vec<f64> {
    let mut acc: Vec<f64> = (0..n)
        .filter_map(|i| {
            let (params, metrics, _) = seed_spec(i);
            let acc = metrics[0].1;
            (params[0].1 == "0.01" && acc > 0.5).then_some(acc)
        })
        .collect();
    acc.sort_by(|a, b| b.total_cmp(a));
    acc
}

/// Seeds N runs with 8 concurrent clients; the rate is recorded as its own row.
pub async fn prepare(s: &Server, ctx: &Ctx, st: &mut State) -> anyhow::Result<()> {
    let n = ctx.scale.search_runs;
    let h = Http::reads()?;
    let exp = http::create_experiment(s, &h, "bench-search").await?;
    let base_ts = http::now_ms() - n as i64;
    eprintln!(
        "  {}: seeding {n} runs (runs/create + runs/log-batch, 8 clients)",
        s.label
    );
    let next = Arc::new(AtomicUsize::new(0));
    let measure = Measure::start(s.pid);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (next, exp, api, h) = (next.clone(), exp.clone(), s.api.clone(), Http::reads()?);
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(ids);
                }
                let (params, metrics, tags) = seed_spec(i);
                let ts = base_ts + i as i64;
                let req = json!({"experiment_id": exp, "run_name": format!("seed-{i}"),
                                 "start_time": ts, "tags": kv(&tags)});
                let (code, body, _) = h.post_json(&format!("{api}/runs/create"), &req).await?;
                let Some(rid) = body["run"]["info"]["run_id"]
                    .as_str()
                    .filter(|_| code == 200)
                else {
                    bail!("seed runs/create -> {code} {}", brief(&body));
                };
                let metrics: Value = metrics
                    .iter()
                    .map(|(k, v)| json!({"key": k, "value": v, "timestamp": ts, "step": 0}))
                    .collect();
                let req = json!({"run_id": rid, "params": kv(&params), "metrics": metrics});
                let (code, body, _) = h.post_json(&format!("{api}/runs/log-batch"), &req).await?;
                if code != 200 {
                    bail!("seed runs/log-batch -> {code} {}", brief(&body));
                }
                ids.push(rid.to_owned());
            }
        }));
    }
    let mut ids = Vec::with_capacity(n);
    for t in tasks {
        ids.extend(t.await??);
    }
    let diag = measure.finish();
    let wall = diag["wall_s"].as_f64().unwrap_or(f64::NAN);
    let mut seed = Outcome::with(vec![
        ("seed_runs_per_s", Some(n as f64 / wall)),
        ("seed_s", Some(wall)),
    ]);
    seed.diag = diag;
    let unique = ids.iter().collect::<HashSet<_>>().len();
    seed.verdict(if unique == n {
        vec![]
    } else {
        vec![format!("{unique} distinct run ids for {n} runs")]
    });
    eprintln!(
        "  {}: seeded in {wall:.1}s ({:.0} runs/s)",
        s.label,
        n as f64 / wall
    );
    st.exp = Some(exp);
    st.ids = ids;
    st.seed = Some(seed);
    Ok(())
}

type RunData = (
    HashMap<String, String>,
    HashMap<String, f64>,
    HashMap<String, String>,
);

fn run_data(r: &Value) -> RunData {
    let d = &r["data"];
    let pairs = |key: &str| -> HashMap<String, String> {
        d[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                Some((
                    p["key"].as_str()?.to_owned(),
                    p["value"].as_str()?.to_owned(),
                ))
            })
            .collect()
    };
    let metrics = d["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["key"].as_str()?.to_owned(), num(&p["value"])?)))
        .collect();
    (pairs("params"), metrics, pairs("tags"))
}

/// One timed search case; latencies in ms, checked on every iteration.
pub async fn run(
    s: &Server,
    ctx: &Ctx,
    st: &mut State,
    kind: Kind,
    warmup: bool,
) -> anyhow::Result<Outcome> {
    let n = ctx.scale.search_runs;
    let Some(exp) = st.exp.clone() else {
        bail!("search seeding failed")
    };
    let h = Http::reads()?;
    let iters = match (warmup, kind) {
        (true, _) => 2,
        (false, Kind::PageAll) => ctx.scale.page_all_iters,
        (false, _) => ctx.scale.search_iters,
    };
    let url = format!("{}/runs/search", s.api);
    let (mut lat, mut page_lat, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    let measure = Measure::start(s.pid);
    for _ in 0..iters {
        if let Kind::PageAll = kind {
            let req = json!({"experiment_ids": [exp], "max_results": 1000});
            let (runs, times) = http::search_all(s, &h, &req).await?;
            lat.push(times.iter().sum::<f64>());
            page_lat.extend(times.iter().map(|t| t * 1000.0));
            let got: HashSet<&str> = runs
                .iter()
                .filter_map(|r| r["info"]["run_id"].as_str())
                .collect();
            if got != st.ids.iter().map(String::as_str).collect() {
                notes.push(format!(
                    "paging returned {} unique runs of {}, expected {n}",
                    got.len(),
                    runs.len()
                ));
            }
            continue;
        }
        let mut req = json!({"experiment_ids": [exp], "max_results": 100});
        match kind {
            Kind::FilterOrder => {
                req["filter"] = FILTER.into();
                req["order_by"] = json!(["metrics.acc DESC"]);
            }
            Kind::TagsLike => req["filter"] = "tags.team LIKE 'vision%'".into(),
            _ => {}
        }
        let (code, body, dt) = h.post_json(&url, &req).await?;
        lat.push(dt);
        if code != 200 {
            notes.push(format!("HTTP {code}: {}", brief(&body)));
            continue;
        }
        let runs = body["runs"].as_array().cloned().unwrap_or_default();
        match kind {
            Kind::NoFilter => {
                let token = body["next_page_token"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty());
                if runs.len() != n.min(100) || (n > 100 && !token) {
                    notes.push(format!("{} runs / token={token}", runs.len()));
                }
                for r in runs.iter().take(5) {
                    let (p, m, t) = run_data(r);
                    if p.len() != 10
                        || m.len() != 10
                        || !TAG_KEYS.iter().all(|k| t.contains_key(*k))
                    {
                        notes.push(format!(
                            "incomplete run data ({} params, {} metrics)",
                            p.len(),
                            m.len()
                        ));
                    }
                }
            }
            Kind::FilterOrder => {
                let expected = st.exp_acc.get_or_insert_with(|| expected_filter(n));
                let got: Vec<Option<f64>> = runs
                    .iter()
                    .map(|r| run_data(r).1.get("acc").copied())
                    .collect();
                let want: Vec<Option<f64>> = expected.iter().take(100).map(|a| Some(*a)).collect();
                if got != want {
                    notes.push(format!(
                        "filter/order mismatch: got {} runs, expected {}",
                        got.len(),
                        want.len()
                    ));
                }
            }
            Kind::TagsLike => {
                let expected = (0..n)
                    .filter(|i| TEAMS[i % 5].starts_with("vision"))
                    .count();
                let all_match = runs.iter().all(|r| {
                    run_data(r)
                        .2
                        .get("team")
                        .is_some_and(|t| t.starts_with("vision"))
                });
                if runs.len() != expected.min(100) || !all_match {
                    notes.push(format!("LIKE mismatch: {} runs", runs.len()));
                }
            }
            Kind::PageAll => {}
        }
    }
    let diag = measure.finish();
    let ms: Vec<f64> = lat.iter().map(|x| x * 1000.0).collect();
    let mut out = match kind {
        Kind::PageAll => {
            let total = median(&lat);
            Outcome::with(vec![
                ("total_s", total),
                ("runs_per_s", total.map(|t| n as f64 / t)),
                ("page_p50_ms", percentile(&page_lat, 50.0)),
                ("page_p99_ms", percentile(&page_lat, 99.0)),
            ])
        }
        _ => Outcome::with(vec![
            ("p50_ms", percentile(&ms, 50.0)),
            ("p99_ms", percentile(&ms, 99.0)),
        ]),
    };
    out.diag = diag;
    out.diag.insert("iters".into(), lat.len().into());
    out.verdict(notes);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_deterministic_and_the_filter_keeps_a_quarter_of_half() {
        assert_eq!(seed_spec(7).1, seed_spec(7).1);
        let acc = expected_filter(4000);
        // lr = 0.01 for a quarter of the runs, acc > 0.5 for about half of those.
        assert!((400..600).contains(&acc.len()), "{}", acc.len());
        assert!(acc.windows(2).all(|w| w[0] >= w[1]));
    }
}
