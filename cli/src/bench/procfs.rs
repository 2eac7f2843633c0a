//! What `/proc` says about a server's process tree: its processes, memory, CPU time, and a 10 Hz RSS sampler.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/*/stat` times (USER_HZ).
fn clk_tck() -> f64 {
    static TCK: OnceLock<f64> = OnceLock::new();
    *TCK.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .filter(|t: &f64| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// The fields of `/proc/<pid>/stat` after the command name (field 3 onwards).
fn stat_fields(pid: &str) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// `root` and all its descendants, found through the parent links in `/proc`.
pub fn tree_pids(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(name) = name
                .to_str()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            let Some(ppid) = stat_fields(name).and_then(|f| f.get(1)?.parse().ok()) else {
                continue;
            };
            if let Ok(pid) = name.parse() {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        if let Some(c) = children.get(&out[i]) {
            out.extend_from_slice(c);
        }
        i += 1;
    }
    out.retain(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
    out
}

/// A `kB` field of `/proc/<pid>/status` (VmRSS, VmHWM), 0 when absent.
fn status_kb(pid: u32, field: &str) -> u64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return 0;
    };
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn pss_kb(pid: u32) -> u64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
        return 0;
    };
    s.lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Memory of a process list, in MB (2^20 bytes).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Memory {
    pub rss_mb: f64,
    pub pss_mb: f64,
    pub hwm_sum_mb: f64,
    pub hwm_max_mb: f64,
    pub nproc: usize,
}

pub fn tree_memory(pids: &[u32]) -> Memory {
    let (mut rss, mut pss, mut hwm, mut max_hwm) = (0, 0, 0, 0);
    for &p in pids {
        rss += status_kb(p, "VmRSS");
        let h = status_kb(p, "VmHWM");
        hwm += h;
        max_hwm = max_hwm.max(h);
        pss += pss_kb(p);
    }
    let mb = |kb: u64| kb as f64 / 1024.0;
    Memory {
        rss_mb: mb(rss),
        pss_mb: mb(pss),
        hwm_sum_mb: mb(hwm),
        hwm_max_mb: mb(max_hwm),
        nproc: pids.len(),
    }
}

pub fn rss_kb(pid: u32) -> u64 {
    status_kb(pid, "VmRSS")
}

pub fn hwm_kb(pid: u32) -> u64 {
    status_kb(pid, "VmHWM")
}

/// utime + stime of a process list, in seconds.
pub fn tree_cpu_s(pids: &[u32]) -> f64 {
    let ticks: u64 = pids
        .iter()
        .filter_map(|p| {
            let f = stat_fields(&p.to_string())?;
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum();
    ticks as f64 / clk_tck()
}

/// CPU seconds of this process (all its threads): the load generator's cost.
pub fn self_cpu_s() -> f64 {
    stat_fields("self")
        .and_then(|f| Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?))
        .map_or(0.0, |t| t as f64 / clk_tck())
}

/// Busy CPU seconds of the whole machine (all cores), from `/proc/stat`.
pub fn machine_busy_s() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let v: Vec<u64> = s
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 5 {
        return 0.0;
    }
    let total: u64 = v.iter().take(8).sum();
    (total - v[3] - v[4]) as f64 / clk_tck()
}

/// Resets the peak RSS (VmHWM) of each process (`clear_refs` 5); returns how many took it.
pub fn reset_hwm(pids: &[u32]) -> usize {
    pids.iter()
        .filter(|p| std::fs::write(format!("/proc/{p}/clear_refs"), "5").is_ok())
        .count()
}

/// Samples the summed RSS of a process tree every 100 ms on its own thread, so that
/// a busy async runtime cannot delay the samples.
pub struct RssSampler {
    peak_kb: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    pub fn start(root: Option<u32>) -> RssSampler {
        let peak_kb = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = root.map(|root| {
            let (peak, stop) = (peak_kb.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut pids, mut refreshed) = (tree_pids(root), Instant::now());
                while !stop.load(Ordering::Relaxed) {
                    if refreshed.elapsed() > Duration::from_secs(2) {
                        (pids, refreshed) = (tree_pids(root), Instant::now());
                    }
                    let rss: u64 = pids.iter().map(|&p| rss_kb(p)).sum();
                    peak.fetch_max(rss, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        });
        RssSampler {
            peak_kb,
            stop,
            thread,
        }
    }

    /// Stops sampling; the highest summed RSS seen, in MB (None without a process).
    pub fn finish(mut self) -> Option<f64> {
        self.stop.store(true, Ordering::Relaxed);
        let t = self.thread.take()?;
        let _ = t.join();
        Some(self.peak_kb.load(Ordering::Relaxed) as f64 / 1024.0)
    }
}

/// One measured interval: wall time, the CPU of this process, of the server tree and of
/// the whole machine (`other` = everything else), and the server's sampled peak RSS.
pub struct Measure {
    root: Option<u32>,
    sampler: RssSampler,
    t0: Instant,
    client0: f64,
    server0: Option<f64>,
    machine0: f64,
}

impl Measure {
    pub fn start(root: Option<u32>) -> Measure {
        Measure {
            root,
            sampler: RssSampler::start(root),
            t0: Instant::now(),
            client0: self_cpu_s(),
            server0: root.map(|r| tree_cpu_s(&tree_pids(r))),
            machine0: machine_busy_s(),
        }
    }

    pub fn finish(self) -> serde_json::Map<String, serde_json::Value> {
        let wall = self.t0.elapsed().as_secs_f64();
        let machine = (machine_busy_s() - self.machine0) / wall;
        let server = self
            .server0
            .zip(self.root)
            .map(|(s0, r)| (tree_cpu_s(&tree_pids(r)) - s0) / wall);
        let client = (self_cpu_s() - self.client0) / wall;
        let peak = self.sampler.finish();
        let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
        let mut d = serde_json::Map::new();
        d.insert("wall_s".into(), r3(wall).into());
        d.insert("client_cpu_cores".into(), r3(client).into());
        d.insert("server_cpu_cores".into(), server.map(r3).into());
        d.insert(
            "server_peak_rss_mb".into(),
            peak.map(|p| (p * 10.0).round() / 10.0).into(),
        );
        d.insert("machine_cpu_cores".into(), r3(machine).into());
        if let Some(s) = server {
            d.insert("other_cpu_cores".into(), r3(machine - s - client).into());
        }
        d
    }
}

/// Waits (at most `timeout`) until every tree uses less than `threshold` cores over
/// the same half-second window; returns the seconds waited.
pub async fn quiesce(roots: &[Option<u32>], threshold: f64, timeout: Duration) -> f64 {
    let t0 = Instant::now();
    let window = Duration::from_millis(500);
    let roots: Vec<u32> = roots.iter().flatten().copied().collect();
    let usage = || -> Vec<f64> { roots.iter().map(|r| tree_cpu_s(&tree_pids(*r))).collect() };
    while !roots.is_empty() && t0.elapsed() < timeout {
        let c0 = usage();
        tokio::time::sleep(window).await;
        let c1 = usage();
        if c0
            .iter()
            .zip(&c1)
            .all(|(a, b)| (b - a) / window.as_secs_f64() < threshold)
        {
            break;
        }
    }
    t0.elapsed().as_secs_f64()
}
