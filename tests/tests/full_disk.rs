//! A full disk: writes answer 503 in MLflow's envelope, nothing acknowledged is lost, and
//! the server takes writes again once space returns, without a restart.
//!
//! The store lives on a 24 MiB tmpfs this test mounts (the CI machine runs as root).

use cairn_tests::TestServer;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A small tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "this test needs to mount a tmpfs (root with CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the disk with a file; returns it.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        // dd stops with "No space left on device", which is the point.
        let _ = Command::new("dd")
            .args(["if=/dev/zero", "bs=64k"])
            .arg(format!("of={}", filler.display()))
            .output();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn batch(run: &str, n: usize) -> Value {
    let metrics: Vec<Value> = (0..200)
        .map(|j| json!({"key": format!("m{j}"), "value": n as f64, "timestamp": n, "step": n}))
        .collect();
    json!({"run_id": run, "metrics": metrics, "params": [{"key": format!("p{n}"), "value": "x".repeat(500)}]})
}

#[test]
fn a_full_disk_answers_503_loses_nothing_acknowledged_and_recovers_without_a_restart() {
    let disk = SmallDisk::mount("24m");
    let mut server = TestServer::start_in(&disk.path().join("data"));
    let exp = server.experiment("full-disk");
    let run = server.run(&exp);

    // Fill the disk but for half a MiB, so that some batches land before it is full.
    let reserve = disk.path().join("reserve");
    std::fs::write(&reserve, vec![0u8; 512 * 1024]).unwrap();
    let filler = disk.fill();
    std::fs::remove_file(&reserve).unwrap();
    let mut acknowledged = Vec::new();
    let mut refused = None;
    for n in 0..2000 {
        let reply = server.post("runs/log-batch", batch(&run, n));
        match reply.status {
            200 => acknowledged.push(n),
            _ => {
                refused = Some(reply);
                break;
            }
        }
    }
    let refused = refused.expect("the disk filled up");
    assert!(
        !acknowledged.is_empty(),
        "batches landed before the disk was full"
    );
    assert_eq!(refused.status, 503, "{}", refused.text);
    assert_eq!(
        refused.body["error_code"], "TEMPORARILY_UNAVAILABLE",
        "{}",
        refused.text
    );
    assert!(refused.body["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    // An artifact upload is refused the same way, and leaves nothing behind.
    let root = server.get_run(&run)["info"]["artifact_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches("mlflow-artifacts:/")
        .to_owned();
    let upload = reqwest::blocking::Client::new()
        .put(format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{root}/big.bin",
            server.url
        ))
        .body(vec![7u8; 2 << 20])
        .send()
        .unwrap();
    assert_eq!(upload.status().as_u16(), 503);
    let envelope: Value = upload.json().unwrap();
    assert_eq!(
        envelope["error_code"], "TEMPORARILY_UNAVAILABLE",
        "{envelope}"
    );
    let listed = server
        .get("artifacts/list", &[("run_id", run.as_str())])
        .ok();
    assert!(
        listed["files"].as_array().is_none_or(Vec::is_empty),
        "{listed}"
    );
    // Reads still work on a full disk.
    assert_eq!(
        server.get("runs/get", &[("run_id", run.as_str())]).status,
        200
    );

    // Space returns: the same server takes writes again.
    std::fs::remove_file(&filler).unwrap();
    let next = acknowledged.len() + 1000;
    assert_eq!(
        server.post("runs/log-batch", batch(&run, next)).status,
        200,
        "writes resume"
    );
    acknowledged.push(next);

    // Every acknowledged batch is there, whole, also after a restart.
    assert!(server.terminate());
    let server = TestServer::start_in(&disk.path().join("data"));
    let data = &server.get_run(&run)["data"];
    let params: Vec<&str> = data["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    for n in &acknowledged {
        assert!(
            params.contains(&format!("p{n}").as_str()),
            "acknowledged batch {n} was lost"
        );
    }
    let history = server
        .get(
            "metrics/get-history",
            &[
                ("run_id", run.as_str()),
                ("metric_key", "m7"),
                ("max_results", "25000"),
            ],
        )
        .ok();
    assert_eq!(
        history["metrics"].as_array().map_or(0, Vec::len),
        acknowledged.len(),
        "one point per batch"
    );
}
