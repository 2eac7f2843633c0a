//! The bench's run order: startup, then the servers started once, each case warmed up and alternated A B A B after quiescing, seeds, memory, and the results document.

use super::report::{self, CaseRuns, Outcome};
use super::server::Server;
use super::{artifact, history, http, log, procfs, search, writes, Case, Ctx, Scale, State};
use crate::args::{BenchArgs, BenchWorkload as W};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Runner {
    pub args: BenchArgs,
    ctx: Ctx,
    pub servers: Vec<Server>,
    pub labels: Vec<String>,
    pub cases: Vec<CaseRuns>,
    states: HashMap<(&'static str, usize), State>,
    idle: Vec<Option<(procfs::Memory, f64)>>,
    peaks: Vec<Vec<f64>>,
}

impl Runner {
    pub fn new(args: BenchArgs) -> anyhow::Result<Runner> {
        let mut scale = Scale::of(args.scale);
        if let Some(r) = args.repeats {
            scale.repeats = r.max(1);
        }
        let duration_s = args.duration.unwrap_or(scale.duration_s);
        anyhow::ensure!(
            duration_s > 0.0 && duration_s.is_finite(),
            "--duration must be positive"
        );
        scale.duration_s = duration_s;
        std::fs::create_dir_all(&args.workdir)?;
        let mut servers = vec![Server::new(
            &args.label,
            &args.url,
            args.server_pid,
            args.start_cmd.clone(),
            args.workdir.clone(),
            args.health_path.clone(),
        )?];
        if let Some(vs) = &args.vs {
            servers.push(Server::new(
                &args.vs_label,
                vs,
                args.vs_server_pid,
                args.vs_start_cmd.clone(),
                args.workdir.clone(),
                args.health_path.clone(),
            )?);
        }
        let labels: Vec<String> = servers.iter().map(|s| s.label.clone()).collect();
        anyhow::ensure!(
            labels.len() < 2 || labels[0] != labels[1],
            crate::ctx::UsageError("labels must differ (--label / --vs-label)".into())
        );
        let ctx = Ctx {
            duration: Duration::from_secs_f64(duration_s),
            warmup: Duration::from_secs_f64(scale.warmup_s),
            scale,
            payload: OnceLock::new(),
        };
        Ok(Runner {
            ctx,
            idle: vec![None; servers.len()],
            peaks: vec![Vec::new(); servers.len()],
            servers,
            labels,
            cases: Vec::new(),
            states: HashMap::new(),
            args,
        })
    }

    fn roots(&self) -> Vec<Option<u32>> {
        self.servers.iter().map(|s| s.pid).collect()
    }

    fn record(&mut self, name: &str, i: usize, outcome: Outcome) {
        let peak = outcome
            .diag
            .get("server_peak_rss_mb")
            .and_then(Value::as_f64);
        if let Some(p) = peak.filter(|_| !name.starts_with("artifact")) {
            self.peaks[i].push(p);
        }
        let shown: Vec<String> = outcome
            .values
            .iter()
            .map(|(k, v)| format!("{k}={}", v.map_or("-".into(), |v| format!("{v:.3}"))))
            .collect();
        let d = &outcome.diag;
        log(&format!(
            "    {name} [{}] {} {:?}  cpu(client={}, server={}, other={})",
            self.labels[i],
            shown.join(" "),
            outcome.status,
            d.get("client_cpu_cores").unwrap_or(&Value::Null),
            d.get("server_cpu_cores").unwrap_or(&Value::Null),
            d.get("other_cpu_cores").unwrap_or(&Value::Null),
        ));
        let n = self.servers.len();
        let pos = match self.cases.iter().position(|c| c.name == name) {
            Some(p) => p,
            None => {
                self.cases.push(CaseRuns {
                    name: name.to_owned(),
                    per_server: vec![Vec::new(); n],
                });
                self.cases.len() - 1
            }
        };
        self.cases[pos].per_server[i].push(outcome);
    }

    async fn run_one(
        &mut self,
        case: Case,
        i: usize,
        rep: i64,
        warmup: bool,
    ) -> anyhow::Result<Outcome> {
        let mut st = self.states.remove(&(case.group(), i)).unwrap_or_default();
        let (s, ctx) = (&self.servers[i], &self.ctx);
        let r = match case {
            Case::LogMetric(c) => writes::log_metric(s, ctx, &mut st, c, rep, warmup).await,
            Case::LogBatch(c) => writes::log_batch(s, ctx, &mut st, c, rep, warmup).await,
            Case::CreateRun(c) => writes::create_run(s, ctx, c, warmup).await,
            Case::Search(k) => search::run(s, ctx, &mut st, k, warmup).await,
            Case::History => history::run(s, ctx, &mut st, warmup).await,
            Case::Artifact => artifact::run(s, ctx, &mut st, rep).await,
        };
        self.states.insert((case.group(), i), st);
        r
    }

    /// One warm-up per server (not recorded), then `repeats` rounds of A B, each after
    /// the servers have gone quiet.
    async fn run_case(&mut self, case: Case, warmup: bool) {
        let name = case.name(&self.ctx.scale);
        log(&format!("case {name}"));
        let mut unsupported: Vec<Option<Outcome>> = vec![None; self.servers.len()];
        if warmup {
            for (i, slot) in unsupported.iter_mut().enumerate() {
                match self.run_one(case, i, -1, true).await {
                    Ok(o) if matches!(o.status, report::Status::Unsupported(_)) => *slot = Some(o),
                    Ok(_) => {}
                    Err(e) => log(&format!("    warmup [{}] failed: {e:#}", self.labels[i])),
                }
            }
        }
        for rep in 0..self.ctx.scale.repeats {
            for (i, slot) in unsupported.iter_mut().enumerate() {
                if let Some(u) = slot {
                    if rep == 0 {
                        let u = u.clone();
                        self.record(&name, i, u);
                    }
                    continue;
                }
                procfs::quiesce(&self.roots(), 0.15, Duration::from_secs(30)).await;
                let o = match self.run_one(case, i, rep as i64, false).await {
                    Ok(o) => o,
                    Err(e) => Outcome::error(format!("{e:#}")),
                };
                if matches!(o.status, report::Status::Unsupported(_)) {
                    *slot = Some(o.clone());
                }
                self.record(&name, i, o);
            }
        }
    }

    /// Seeds every server for a group of read cases; the seeding rate is its own row.
    async fn prepare(&mut self, group: &'static str, row: &str) {
        for i in 0..self.servers.len() {
            let mut st = State::default();
            let (s, ctx) = (&self.servers[i], &self.ctx);
            let r = match group {
                "search" => search::prepare(s, ctx, &mut st).await,
                _ => history::prepare(s, ctx, &mut st).await,
            };
            let seed = match r {
                Ok(()) => st.seed.take().unwrap_or_default(),
                Err(e) => Outcome::error(format!("{e:#}")),
            };
            self.states.insert((group, i), st);
            self.record(row, i, seed);
        }
    }

    async fn start_servers(&mut self) -> anyhow::Result<()> {
        let timeout = Duration::from_secs_f64(self.args.start_timeout);
        let probe = http::Http::new(Duration::from_secs(2))?;
        for s in &mut self.servers {
            if s.can_start() {
                let t = s.start(None, timeout).await?;
                log(&format!("{}: started pid {:?} in {t:.2}s", s.label, s.pid));
            } else if !s.health_ok(&probe).await {
                anyhow::bail!("{}: {} does not answer", s.label, s.url);
            }
        }
        Ok(())
    }

    async fn run_startup(&mut self) {
        if !self.servers.iter().all(Server::can_start) {
            for i in 0..self.servers.len() {
                self.record(
                    "startup",
                    i,
                    Outcome::unsupported("needs --start-cmd".into()),
                );
            }
            return;
        }
        log("case startup (fresh data dir, then restart on the same data)");
        let timeout = Duration::from_secs_f64(self.args.start_timeout);
        for _ in 0..self.ctx.scale.startup_repeats {
            for i in 0..self.servers.len() {
                let s = &mut self.servers[i];
                let r = async {
                    let fresh = s.start(None, timeout).await?;
                    let quiet = procfs::quiesce(&[s.pid], 0.1, Duration::from_secs(120)).await;
                    let dir = s.data_dir.clone();
                    s.stop().await;
                    let restart = s.start(dir, timeout).await?;
                    s.stop().await;
                    anyhow::Ok(Outcome::with(vec![
                        ("startup_fresh_s", Some(fresh)),
                        ("startup_settled_s", Some(fresh + quiet)),
                        ("startup_restart_s", Some(restart)),
                    ]))
                }
                .await;
                s.stop().await;
                let o = r.unwrap_or_else(|e| Outcome::error(format!("{e:#}")));
                self.record("startup", i, o);
            }
        }
    }

    pub async fn run_all(&mut self) -> anyhow::Result<()> {
        let wl = self.args.workloads.clone();
        if wl.contains(&W::Startup) {
            self.run_startup().await;
        }
        self.start_servers().await?;
        let waited = procfs::quiesce(&self.roots(), 0.1, Duration::from_secs(120)).await;
        log(&format!("servers quiet after {waited:.1}s"));
        if wl.contains(&W::Memory) {
            let cpu0: Vec<Option<f64>> = self.servers.iter().map(Server::cpu_s).collect();
            let t0 = Instant::now();
            tokio::time::sleep(Duration::from_secs_f64(self.args.settle.max(0.0))).await;
            for (i, s) in self.servers.iter().enumerate() {
                let cpu = s
                    .cpu_s()
                    .zip(cpu0[i])
                    .map(|(c1, c0)| (c1 - c0) / t0.elapsed().as_secs_f64());
                self.idle[i] = s.memory().zip(cpu);
            }
        }
        if wl.contains(&W::LogMetric) {
            for c in [1, 16] {
                self.run_case(Case::LogMetric(c), true).await;
            }
        }
        if wl.contains(&W::LogBatch) {
            for c in [1, 4] {
                self.run_case(Case::LogBatch(c), true).await;
            }
        }
        if wl.contains(&W::CreateRun) {
            for c in [1, 16] {
                self.run_case(Case::CreateRun(c), true).await;
            }
        }
        if wl.contains(&W::SearchRuns) {
            log("prepare search-runs");
            self.prepare("search", "search seed (create+log-batch, 8 clients)")
                .await;
            for k in search::Kind::ALL {
                self.run_case(Case::Search(k), true).await;
            }
        }
        if wl.contains(&W::MetricHistory) {
            log("prepare metric-history");
            self.prepare("history", "history seed (log-batch 1000/req, sequential)")
                .await;
            self.run_case(Case::History, true).await;
        }
        if wl.contains(&W::Artifact) {
            self.run_case(Case::Artifact, false).await;
        }
        if wl.contains(&W::Memory) {
            for i in 0..self.servers.len() {
                let o = match (self.idle[i], self.servers[i].memory()) {
                    (Some((idle, cpu)), Some(fin)) => {
                        let peak = self.peaks[i].iter().copied().reduce(f64::max);
                        let mut o = Outcome::with(vec![
                            ("idle_rss_mb", Some(idle.rss_mb)),
                            ("idle_pss_mb", Some(idle.pss_mb)),
                            ("idle_cpu_cores", Some(cpu)),
                            ("idle_processes", Some(idle.nproc as f64)),
                            ("loaded_peak_rss_mb", peak),
                            ("final_rss_mb", Some(fin.rss_mb)),
                            ("final_pss_mb", Some(fin.pss_mb)),
                        ]);
                        o.diag.insert("idle".into(), json!(idle));
                        o.diag.insert("final".into(), json!(fin));
                        o
                    }
                    _ => Outcome::unsupported(
                        "no server pid (use --server-pid or --start-cmd)".into(),
                    ),
                };
                self.record("memory", i, o);
            }
        }
        Ok(())
    }

    pub fn results(&self, elapsed: f64) -> Value {
        let servers: serde_json::Map<String, Value> = self
            .servers
            .iter()
            .map(|s| {
                (
                    s.label.clone(),
                    json!({"url": s.url, "start_cmd": s.can_start().then(|| self.start_cmd(s))}),
                )
            })
            .collect();
        json!({
            "meta": {
                "time": chrono::Local::now().to_rfc3339(),
                "tool": "cairn bench",
                "scale": format!("{:?}", self.args.scale).to_lowercase(),
                "scale_params": self.ctx.scale,
                "duration_s": self.ctx.duration.as_secs_f64(),
                "labels": self.labels,
                "servers": servers,
                "ratio": "first server / second server (per alternating pair)",
                "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()),
                "argv": std::env::args().skip(1).collect::<Vec<_>>(),
                "elapsed_s": (elapsed * 10.0).round() / 10.0,
            },
            "summary": report::summary(&self.labels, &self.cases),
            "raw": report::raw(&self.labels, &self.cases),
        })
    }

    fn start_cmd(&self, s: &Server) -> Option<String> {
        if s.label == self.labels[0] {
            self.args.start_cmd.clone()
        } else {
            self.args.vs_start_cmd.clone()
        }
    }
}
