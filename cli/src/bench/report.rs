//! Results of `cairn bench`: one outcome per measured run, summaries (median [min–max], per-pair ratios first/second), the JSON document and the markdown tables.

use serde_json::{json, Map, Value};

/// What one measured run of one case on one server gave.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Reported figures, in report order.
    pub values: Vec<(&'static str, Option<f64>)>,
    pub status: Status,
    /// Diagnostics: CPU of client/server/other, wall time, counts.
    pub diag: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub enum Status {
    #[default]
    Verified,
    /// The server acknowledged writes it did not store, or returned wrong data.
    Failed(String),
    /// The endpoint does not exist on this server.
    Unsupported(String),
    /// The run could not complete.
    Error(String),
}

impl Outcome {
    pub fn with(values: Vec<(&'static str, Option<f64>)>) -> Outcome {
        Outcome {
            values,
            ..Outcome::default()
        }
    }

    pub fn unsupported(why: String) -> Outcome {
        Outcome {
            status: Status::Unsupported(why),
            ..Outcome::default()
        }
    }

    pub fn error(why: String) -> Outcome {
        Outcome {
            status: Status::Error(why),
            ..Outcome::default()
        }
    }

    pub fn get(&self, key: &str) -> Option<f64> {
        self.values
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|v| v.1)
    }

    /// Verified when no check left a note; otherwise failed with the first notes.
    pub fn verdict(&mut self, mut notes: Vec<String>) {
        notes.sort();
        notes.dedup();
        if !notes.is_empty() {
            notes.truncate(3);
            self.status = Status::Failed(notes.join("; "));
        }
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in &self.values {
            m.insert((*k).into(), (*v).into());
        }
        match &self.status {
            Status::Verified => {
                m.insert("verified".into(), true.into());
            }
            Status::Failed(note) => {
                m.insert("verified".into(), false.into());
                m.insert("note".into(), note.clone().into());
            }
            Status::Unsupported(why) => {
                m.insert("unsupported".into(), why.clone().into());
            }
            Status::Error(why) => {
                m.insert("verified".into(), false.into());
                m.insert("error".into(), why.clone().into());
            }
        }
        m.insert("diag".into(), Value::Object(self.diag.clone()));
        Value::Object(m)
    }
}

/// Unit and whether higher is better, per reported figure.
fn metric_info(key: &str) -> (&'static str, Option<bool>) {
    match key {
        "req_per_s" => ("req/s", Some(true)),
        "points_per_s" | "seed_points_per_s" => ("points/s", Some(true)),
        "batches_per_s" => ("batches/s", Some(true)),
        "pairs_per_s" => ("pairs/s", Some(true)),
        "runs_per_s" | "seed_runs_per_s" => ("runs/s", Some(true)),
        "upload_MBps" | "download_MBps" => ("MB/s", Some(true)),
        "p50_ms" | "p99_ms" | "page_p50_ms" | "page_p99_ms" => ("ms", Some(false)),
        "total_s" | "seed_s" | "startup_fresh_s" | "startup_restart_s" | "startup_settled_s" => {
            ("s", Some(false))
        }
        "errors" | "idle_processes" => ("count", Some(false)),
        "idle_cpu_cores" => ("cores", Some(false)),
        k if k.ends_with("_mb") => ("MB", Some(false)),
        _ => ("", None),
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile_sorted(v: &[f64], p: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * v.len() as f64).ceil() as usize;
    Some(v[rank.clamp(1, v.len()) - 1])
}

pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    percentile_sorted(&v, p)
}

pub fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

fn summarize(values: &[f64]) -> Value {
    match median(values) {
        None => Value::Null,
        Some(m) => json!({
            "median": m,
            "min": values.iter().copied().fold(f64::INFINITY, f64::min),
            "max": values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            "n": values.len(),
        }),
    }
}

/// Every outcome of one case, per server (in label order).
pub struct CaseRuns {
    pub name: String,
    pub per_server: Vec<Vec<Outcome>>,
}

impl CaseRuns {
    /// The reported figures, in the order the workload reports them.
    fn keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = Vec::new();
        for r in self.per_server.iter().flatten() {
            for (k, v) in &r.values {
                if v.is_some() && !keys.contains(k) {
                    keys.push(k);
                }
            }
        }
        keys
    }
}

fn status_text(runs: &[Outcome]) -> String {
    let first = |f: fn(&Status) -> Option<&String>| runs.iter().find_map(|r| f(&r.status));
    if let Some(why) = first(|s| match s {
        Status::Unsupported(w) => Some(w),
        _ => None,
    }) {
        return format!("unsupported: {why}");
    }
    if let Some(why) = first(|s| match s {
        Status::Error(w) => Some(w),
        _ => None,
    }) {
        return format!("error: {}", why.chars().take(200).collect::<String>());
    }
    if !runs.is_empty() && runs.iter().all(|r| r.status == Status::Verified) {
        return "verified".into();
    }
    let notes: Vec<&str> = runs
        .iter()
        .filter_map(|r| match &r.status {
            Status::Failed(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    let text = format!("VERIFY FAILED: {}", notes.join("; "));
    text.chars().take(300).collect()
}

/// Per case: `metrics.<name>.<label>` = median/min/max/n, `.ratio` over alternating
/// pairs (first/second), unit and direction; `status.<label>`.
pub fn summary(labels: &[String], cases: &[CaseRuns]) -> Value {
    let mut out = Map::new();
    for case in cases {
        let mut metrics = Map::new();
        for k in case.keys() {
            let mut ent = Map::new();
            for (label, runs) in labels.iter().zip(&case.per_server) {
                let vals: Vec<f64> = runs
                    .iter()
                    .filter(|r| matches!(r.status, Status::Verified | Status::Failed(_)))
                    .filter_map(|r| r.get(k))
                    .collect();
                ent.insert(label.clone(), summarize(&vals));
            }
            if let [a, b] = &case.per_server[..] {
                let ratios: Vec<f64> = a
                    .iter()
                    .zip(b)
                    .filter_map(|(x, y)| Some((x.get(k)?, y.get(k)?)))
                    .filter(|(_, y)| *y != 0.0)
                    .map(|(x, y)| x / y)
                    .collect();
                ent.insert("ratio".into(), summarize(&ratios));
            }
            let (unit, higher) = metric_info(k);
            ent.insert("unit".into(), unit.into());
            ent.insert("higher_is_better".into(), higher.into());
            metrics.insert(k.into(), Value::Object(ent));
        }
        let status: Map<String, Value> = labels
            .iter()
            .zip(&case.per_server)
            .map(|(l, runs)| (l.clone(), status_text(runs).into()))
            .collect();
        out.insert(
            case.name.clone(),
            json!({"metrics": metrics, "status": status}),
        );
    }
    Value::Object(out)
}

pub fn raw(labels: &[String], cases: &[CaseRuns]) -> Value {
    let mut out = Map::new();
    for case in cases {
        let per: Map<String, Value> = labels
            .iter()
            .zip(&case.per_server)
            .map(|(l, runs)| (l.clone(), runs.iter().map(Outcome::to_json).collect()))
            .collect();
        out.insert(case.name.clone(), Value::Object(per));
    }
    Value::Object(out)
}

fn fmt(x: Option<f64>) -> String {
    let Some(x) = x else { return "-".into() };
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 0.1 {
        format!("{x:.2}")
    } else if a == 0.0 {
        "0".into()
    } else {
        // Three significant digits.
        let digits = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    }
}

fn cell(s: &Value) -> String {
    if s.is_null() {
        return "-".into();
    }
    let (m, lo, hi) = (s["median"].as_f64(), s["min"].as_f64(), s["max"].as_f64());
    if s["n"].as_u64() == Some(1) {
        fmt(m)
    } else {
        format!("{} [{}–{}]", fmt(m), fmt(lo), fmt(hi))
    }
}

/// The results table and the CPU table (client, server, other cores per case).
pub fn markdown(labels: &[String], summary: &Value, cases: &[CaseRuns]) -> String {
    let two = labels.len() == 2;
    let mut hdr = vec!["case".to_owned(), "metric".to_owned()];
    hdr.extend(labels.iter().map(|l| format!("{l} median [min–max]")));
    if two {
        hdr.push(format!("{}/{} median [min–max]", labels[0], labels[1]));
        hdr.push("better".into());
    }
    let mut lines = vec![
        format!("| {} |", hdr.join(" | ")),
        format!("|{}", "---|".repeat(hdr.len())),
    ];
    for case in cases {
        let cs = &summary[&case.name];
        for l in labels {
            let st = cs["status"][l].as_str().unwrap_or("");
            if st != "verified" {
                let cells: Vec<&str> = labels
                    .iter()
                    .map(|x| if x == l { st } else { "" })
                    .collect();
                let tail = if two { " |  |  |" } else { " |" };
                lines.push(format!(
                    "| {} | status | {}{tail}",
                    case.name,
                    cells.join(" | ")
                ));
            }
        }
        for k in case.keys() {
            let ent = &cs["metrics"][k];
            let k = k.to_owned();
            let unit = ent["unit"].as_str().unwrap_or("");
            let mut row = vec![
                case.name.clone(),
                if unit.is_empty() {
                    k.clone()
                } else {
                    format!("{k} ({unit})")
                },
            ];
            row.extend(labels.iter().map(|l| cell(&ent[l])));
            if two {
                let r = &ent["ratio"];
                row.push(cell(r));
                let better = match (r["median"].as_f64(), ent["higher_is_better"].as_bool()) {
                    (Some(m), Some(hib)) if m != 1.0 => {
                        if (m > 1.0) == hib {
                            &labels[0]
                        } else {
                            &labels[1]
                        }
                    }
                    _ => "",
                };
                row.push(better.to_owned());
            }
            lines.push(format!("| {} |", row.join(" | ")));
        }
    }
    lines.push(String::new());
    lines.push(
        "Load generator vs server CPU (cores, median over runs; 'other' = rest of the machine):"
            .into(),
    );
    lines.push(String::new());
    let cols: Vec<String> = labels
        .iter()
        .map(|l| format!("{l} client | {l} server | {l} other"))
        .collect();
    lines.push(format!("| case | {} |", cols.join(" | ")));
    lines.push(format!("|---|{}", "---|---|---|".repeat(labels.len())));
    for case in cases {
        let mut row = vec![case.name.clone()];
        for runs in &case.per_server {
            for key in ["client_cpu_cores", "server_cpu_cores", "other_cpu_cores"] {
                let v: Vec<f64> = runs
                    .iter()
                    .filter_map(|r| r.diag.get(key)?.as_f64())
                    .collect();
                row.push(fmt(median(&v)));
            }
        }
        lines.push(format!("| {} |", row.join(" | ")));
    }
    lines.join("\n")
}
