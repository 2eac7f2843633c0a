//! The artifact workload: a SIZE-MiB blob generated while it streams up through mlflow-artifacts, streamed back down and hashed, with the server's peak RSS.

use super::http::{self, is_unsupported, loads, Http};
use super::procfs::{self, Measure};
use super::report::Outcome;
use super::server::Server;
use super::{Ctx, State};
use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use std::time::{Duration, Instant};

const MIB: usize = 1 << 20;

/// Chunk i (1 MiB) of the payload: pseudo-random, a function of i alone, so the blob
/// can be made again while it streams instead of being held in memory.
fn chunk(i: usize) -> Bytes {
    let mut state = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5EED;
    let mut out = Vec::with_capacity(MIB);
    for _ in 0..MIB / 8 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    Bytes::from(out)
}

/// The whole payload and its SHA-256, made once before anything is timed. As the
/// shared harness does, the bytes are held in memory on the client, so that making or
/// reading them costs the client nothing while the server is measured.
pub fn payload(mib: usize) -> (Bytes, String) {
    let mut out = Vec::with_capacity(mib * MIB);
    for i in 0..mib {
        out.extend_from_slice(&chunk(i));
    }
    let digest = hex(&Sha256::digest(&out));
    (Bytes::from(out), digest)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn run(s: &Server, ctx: &Ctx, st: &mut State, rep: i64) -> anyhow::Result<Outcome> {
    let mib = ctx.scale.artifact_mib;
    let size = (mib * MIB) as u64;
    let (payload, digest) = ctx.payload.get_or_init(|| payload(mib)).clone();
    let h = Http::reads()?;
    if st.exp.is_none() {
        st.exp = Some(http::create_experiment(s, &h, "bench-artifact").await?);
    }
    let exp = st.exp.clone().unwrap_or_default();
    let rid = http::create_run(s, &h, &exp, &format!("artifact-r{rep}")).await?;
    let dir = format!("{}/artifacts/{exp}/{rid}/artifacts", s.art_api);
    // A tiny probe first decides "unsupported".
    let probe = format!("{dir}/probe.txt");
    let put = h
        .inner()
        .put(&probe)
        .header("Content-Type", "application/octet-stream");
    let resp = put.body("probe").send().await?;
    let code = resp.status().as_u16();
    let body = loads(&resp.bytes().await?);
    if is_unsupported(code, &body) || code >= 400 {
        return Ok(Outcome::unsupported(format!(
            "mlflow-artifacts PUT -> HTTP {code} {}",
            http::brief(&body)
        )));
    }
    let path = format!("{dir}/blob-{rep}.bin");
    let pids = s.pids();
    let before = procfs::tree_memory(&pids);
    let rss0: Vec<u64> = pids.iter().map(|&p| procfs::rss_kb(p)).collect();
    procfs::reset_hwm(&pids);
    let mut notes = Vec::new();
    let measure = Measure::start(s.pid);

    let slices =
        (0..mib).map(move |i| Ok::<_, std::io::Error>(payload.slice(i * MIB..(i + 1) * MIB)));
    let stream = futures_util::stream::iter(slices);
    let t0 = Instant::now();
    let resp = h
        .inner()
        .put(&path)
        .header("Content-Type", "application/octet-stream")
        .header("Content-Length", size)
        .header("Accept-Encoding", "identity")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await?;
    let code = resp.status().as_u16();
    let answer = resp.bytes().await?;
    let up_s = t0.elapsed().as_secs_f64();
    if code != 200 {
        notes.push(format!(
            "upload HTTP {code} {}",
            http::brief(&loads(&answer))
        ));
    }

    // Download into a buffer made beforehand, hashed once the clock has stopped (as the
    // shared harness does); bytes past the expected size are counted, not kept.
    let mut buf: Vec<u8> = Vec::with_capacity(size as usize);
    let t0 = Instant::now();
    let mut resp = h
        .inner()
        .get(&path)
        .header("Accept-Encoding", "identity")
        .send()
        .await?;
    let down_code = resp.status().as_u16();
    let mut got = 0u64;
    while let Some(b) = resp.chunk().await? {
        got += b.len() as u64;
        if got <= size {
            buf.extend_from_slice(&b);
        }
    }
    let down_s = t0.elapsed().as_secs_f64();
    let got_digest = hex(&Sha256::digest(&buf));
    drop(buf);
    let diag = measure.finish();

    let peak = procfs::tree_memory(&pids);
    let increase = pids
        .iter()
        .zip(&rss0)
        .map(|(&p, &r0)| procfs::hwm_kb(p).saturating_sub(r0))
        .max();
    if down_code != 200 {
        notes.push(format!("download HTTP {down_code}"));
    }
    if got != size {
        notes.push(format!("downloaded {got} bytes, expected {size}"));
    } else if got_digest != digest {
        notes.push("sha256 mismatch".into());
    }
    // Not timed; a server without DELETE keeps the blob.
    let del = h.inner().delete(&path).timeout(Duration::from_secs(60));
    let _ = del.send().await;
    let mb = size as f64 / 1e6;
    let mut out = Outcome::with(vec![
        ("upload_MBps", Some(mb / up_s)),
        ("download_MBps", Some(mb / down_s)),
    ]);
    if !pids.is_empty() {
        out.values.extend([
            (
                "peak_rss_sampled_tree_mb",
                diag["server_peak_rss_mb"].as_f64(),
            ),
            ("peak_rss_max_proc_mb", Some(peak.hwm_max_mb)),
            ("peak_rss_sum_hwm_mb", Some(peak.hwm_sum_mb)),
            ("peak_rss_increase_mb", increase.map(|k| k as f64 / 1024.0)),
        ]);
    }
    out.diag = diag;
    out.diag
        .insert("rss_before_tree_mb".into(), before.rss_mb.into());
    out.verdict(notes);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_chunks_differ_and_repeat() {
        assert_eq!(chunk(3), chunk(3));
        assert_ne!(chunk(3), chunk(4));
        let (bytes, digest) = payload(2);
        assert_eq!(bytes, [chunk(0), chunk(1)].concat());
        assert_eq!(digest, hex(&Sha256::digest(&bytes)));
    }
}
