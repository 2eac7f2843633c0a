//! Hostile artifact paths over raw HTTP, the request target byte for byte as
//! `curl --path-as-is` sends it (reqwest would normalise `..` away): every one is a 400
//! in MLflow's envelope, nothing outside the artifact root is read, written or
//! deleted, and symlinks planted under the root are never followed.

use cairn_tests::{RawReply, TestServer};
use serde_json::Value;
use std::path::{Path, PathBuf};

const PROXY: &str = "/api/2.0/mlflow-artifacts/artifacts";

/// Artifact paths as they appear on the wire (already percent-encoded where they are).
const HOSTILE: &[&str] = &[
    "../../etc/passwd",
    "1/run/artifacts/../../../../etc/passwd",
    "/api/2.0/mlflow-artifacts/artifacts/../../../etc/passwd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2e%2e/%2e%2e/etc/passwd",
    "%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "a%23/../../x",
    "file:///etc/passwd",
    "%2Fetc%2Fpasswd",
    "..%5C..%5Cx",
    "a%5C..%5C..%5Cx",
    "x%00/../../etc/passwd",
    "a%00b",
    "x/a%0d%0ab",
    "x/a%0d%0aSet-Cookie:%20evil=1",
    ".",
    "a/./b",
    "a//b",
    "%C0%AE%C0%AE/x",
    "%EF%BC%8E%EF%BC%8E/x",
];

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}{:x}", std::process::id())
}

#[track_caller]
fn expect_invalid(r: &RawReply, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.text());
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{what}: {:?}",
        r.headers
    );
    let body = r.json();
    assert_eq!(
        body["error_code"], "INVALID_PARAMETER_VALUE",
        "{what}: {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}"
    );
}

/// A run to address; returns its id and artifact root.
fn new_run(server: &TestServer) -> (String, String) {
    let exp = server.experiment("hostile");
    let run_id = server.run(&exp);
    (run_id.clone(), format!("{exp}/{run_id}/artifacts"))
}

/// Every way a client names an artifact path, with `hostile` spliced in raw.
fn requests(hostile: &str, run_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GET", format!("{PROXY}/{hostile}")),
        ("PUT", format!("{PROXY}/{hostile}")),
        ("DELETE", format!("{PROXY}/{hostile}")),
        (
            "GET",
            format!("/ajax-api/2.0/mlflow-artifacts/artifacts/{hostile}"),
        ),
        ("GET", format!("{PROXY}?path={hostile}")),
        (
            "GET",
            format!("/api/2.0/mlflow/artifacts/list?run_id={run_id}&path={hostile}"),
        ),
        (
            "GET",
            format!("/api/2.0/mlflow-artifacts/presigned/{hostile}"),
        ),
        (
            "POST",
            format!("/api/2.0/mlflow-artifacts/mpu/create/{hostile}"),
        ),
        (
            "GET",
            format!("/api/2.0/cairn/artifacts/versions?path={hostile}"),
        ),
    ]
}

fn body_for(method: &str, payload: &[u8]) -> Vec<u8> {
    if method == "POST" {
        br#"{"path": "x", "num_parts": 1}"#.to_vec()
    } else {
        payload.to_vec()
    }
}

#[test]
fn hostile_paths_are_refused_with_400_on_every_route() {
    let server = TestServer::start();
    let (run_id, _) = new_run(&server);
    for hostile in HOSTILE {
        for (method, target) in requests(hostile, &run_id) {
            let r = server.raw_request(method, &target, &body_for(method, b"evil"));
            expect_invalid(&r, &format!("{method} {target}"));
        }
    }
}

#[test]
fn a_full_request_target_with_dot_segments_is_refused_not_normalised() {
    let server = TestServer::start();
    for method in ["GET", "PUT", "DELETE"] {
        for target in [
            "/api/2.0/mlflow-artifacts/artifacts/../../../etc/passwd",
            "/api/2.0/mlflow-artifacts/artifacts/../../../../../../../../etc/passwd",
            "/api/2.0/mlflow-artifacts/artifacts/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        ] {
            let r = server.raw_request(method, target, b"evil");
            expect_invalid(&r, &format!("{method} {target}"));
            assert!(!r.text().contains("root:"), "{method} {target}");
        }
    }
}

/// Every file below `dir` whose name contains `needle` or whose bytes equal `content`.
fn traces(dir: &Path, needle: &str, content: &[u8]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if path.to_string_lossy().contains(needle) {
            out.push(path.clone());
        }
        if kind.is_dir() {
            out.extend(traces(&path, needle, content));
        } else if kind.is_file() && std::fs::read(&path).is_ok_and(|b| b == content) {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_refused_upload_writes_nothing_anywhere() {
    let outer = tempfile::tempdir().unwrap();
    let data = outer.path().join("a").join("b").join("data");
    let server = TestServer::start_in(&data);
    new_run(&server);
    let name = format!("canary-{}", unique());
    let content = format!("canary content {name}").into_bytes();
    for prefix in ["", "%2e%2e/", "..%2F", "..%5C", "%252e%252e%252f"] {
        for depth in 1..=6 {
            let ups = prefix.repeat(depth);
            for (method, target) in [
                ("PUT", format!("{PROXY}/{ups}{name}")),
                ("PUT", format!("{PROXY}/../{ups}{name}")),
                ("PUT", format!("{PROXY}/%2Ftmp%2F{name}")),
                ("PUT", format!("{PROXY}/file:%2F%2F%2Ftmp%2F{name}")),
                (
                    "POST",
                    format!("/api/2.0/mlflow-artifacts/mpu/create/../{ups}{name}"),
                ),
            ] {
                if prefix.is_empty() && target.ends_with(&format!("{PROXY}/{name}")) {
                    continue; // a plain name is a valid path
                }
                let r = server.raw_request(method, &target, &body_for(method, &content));
                expect_invalid(&r, &format!("{method} {target}"));
            }
        }
    }
    let found = traces(outer.path(), &name, &content);
    assert!(found.is_empty(), "written: {found:?}");
    for dir in [Path::new("/tmp"), Path::new("/")] {
        assert!(!dir.join(&name).exists(), "{}", dir.join(&name).display());
    }
    assert_eq!(
        server.raw_get(PROXY, &[]).ok(),
        serde_json::json!({}),
        "nothing was stored under the root either"
    );
}

#[test]
fn a_file_outside_the_root_is_never_read_nor_deleted() {
    let outer = tempfile::tempdir().unwrap();
    let data = outer.path().join("a").join("b").join("data");
    let server = TestServer::start_in(&data);
    let (run_id, root) = new_run(&server);
    let secret_content = format!("top secret {}", unique());
    // Beside the data dir, beside the artifact root, and two levels up.
    let secrets: Vec<PathBuf> = [
        data.join("secret.txt"),
        outer.path().join("a").join("b").join("secret.txt"),
        outer.path().join("secret.txt"),
    ]
    .into_iter()
    .collect();
    for s in &secrets {
        std::fs::write(s, &secret_content).unwrap();
    }

    let mut targets = Vec::new();
    for ups in 1..=8 {
        for up in [
            "../",
            "%2e%2e/",
            "..%2F",
            "%2e%2e%2f",
            "%252e%252e%252f",
            "..%5C",
        ] {
            let rel = format!("{}secret.txt", up.repeat(ups));
            targets.push(format!("{PROXY}/{rel}"));
            targets.push(format!("{PROXY}/{root}/{rel}"));
            targets.push(format!("{PROXY}?path={}", up.repeat(ups)));
            targets.push(format!(
                "/api/2.0/mlflow/artifacts/list?run_id={run_id}&path={}",
                up.repeat(ups)
            ));
        }
    }
    for s in &secrets {
        let abs = s.display().to_string();
        targets.push(format!("{PROXY}/{abs}"));
        targets.push(format!("{PROXY}/file://{abs}"));
        targets.push(format!("{PROXY}/{}", abs.replace('/', "%2F")));
        targets.push(format!("{PROXY}?path={abs}"));
    }
    for target in &targets {
        for method in ["GET", "DELETE"] {
            let r = server.raw_request(method, target, b"");
            assert!(
                !r.text().contains(&secret_content) && !r.text().contains("secret.txt\""),
                "{method} {target} leaked: {}",
                r.text()
            );
            assert!(
                r.status == 400 || r.status == 404 || r.json() == Value::Object(Default::default()),
                "{method} {target}: {} {}",
                r.status,
                r.text()
            );
        }
    }
    for s in &secrets {
        assert_eq!(
            std::fs::read_to_string(s).unwrap(),
            secret_content,
            "{} was touched",
            s.display()
        );
    }
}

#[cfg(unix)]
#[test]
fn symlinks_planted_under_the_root_are_never_followed() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    let canary = outside.path().join("canary.txt");
    let canary_content = format!("outside the root {}", unique());
    std::fs::write(&canary, &canary_content).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(dir.path());
    let root = server.data_dir().join("artifacts");
    std::fs::create_dir_all(root.join("1")).unwrap();
    symlink("/etc", root.join("1").join("evil")).unwrap();
    symlink(outside.path(), root.join("1").join("evil2")).unwrap();
    std::fs::create_dir_all(root.join("blobs")).unwrap();
    symlink(outside.path(), root.join("blobs").join("zz")).unwrap();
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    symlink(outside.path(), root.join("tmp").join("zz")).unwrap();

    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let leaked = |r: &RawReply| {
        let text = r.text();
        text.contains(&canary_content) || (!passwd.is_empty() && text.contains("root:"))
    };
    for target in [
        "1/evil/passwd",
        "1/evil/hostname",
        "1/evil2/canary.txt",
        "blobs/zz/canary.txt",
        "tmp/zz/canary.txt",
    ] {
        let r = server.raw_request("GET", &format!("{PROXY}/{target}"), b"");
        assert!(
            r.status == 404 || r.status == 400,
            "GET {target}: {} {}",
            r.status,
            r.text()
        );
        assert!(!leaked(&r), "GET {target} leaked: {}", r.text());
    }
    for dir in ["1/evil", "1/evil2", "blobs/zz", "tmp/zz"] {
        let r = server.raw_request("GET", &format!("{PROXY}?path={dir}"), b"");
        assert_eq!(r.json(), serde_json::json!({}), "list {dir}: {}", r.text());
    }
    for target in [
        "1/evil2/canary.txt",
        "1/evil2",
        "1/evil",
        "blobs/zz",
        "blobs",
        "tmp",
    ] {
        let r = server.raw_request("DELETE", &format!("{PROXY}/{target}"), b"");
        assert!(
            r.status == 200 || r.status == 400,
            "DELETE {target}: {}",
            r.text()
        );
    }
    let gc = server.post_path("/api/2.0/cairn/gc", serde_json::json!({"older_than_ms": 0}));
    assert_eq!(gc.status, 200, "{}", gc.text);
    let verify = server.post_path("/api/2.0/cairn/artifacts/verify", serde_json::json!({}));
    assert_eq!(verify.status, 200, "{}", verify.text);
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), canary_content);

    // A restart sweeps `tmp/`, link included, without following the link.
    server.kill();
    let server = TestServer::start_in(dir.path());
    assert_eq!(std::fs::read_to_string(&canary).unwrap(), canary_content);
    assert!(Path::new("/etc/passwd").exists() || passwd.is_empty());
    let r = server.raw_request("GET", &format!("{PROXY}/1/evil/passwd"), b"");
    assert_eq!(r.status, 404, "{}", r.text());
}
