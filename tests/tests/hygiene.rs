//! HTTP hygiene: the Host check against DNS rebinding, timeouts on slow heads and
//! stalled bodies, the cap on concurrent uploads, and `nosniff` on every answer.

use cairn_tests::TestServer;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A raw JSON POST with the given Host header.
fn post_as(server: &TestServer, host: &str, api: &str, body: &str) -> cairn_tests::RawReply {
    let request = format!(
        "POST /api/2.0/mlflow/{api} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    server.raw_http(request.as_bytes())
}

fn experiment_exists(server: &TestServer, name: &str) -> bool {
    server
        .get("experiments/get-by-name", &[("experiment_name", name)])
        .status
        == 200
}

#[test]
fn a_loopback_server_refuses_a_foreign_host_name_before_writing_anything() {
    let server = TestServer::start();
    let port = server.port();
    let refused = post_as(
        &server,
        &format!("evil.example:{port}"),
        "experiments/create",
        r#"{"name": "rebound"}"#,
    );
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(refused.json()["error_code"], "PERMISSION_DENIED");
    assert!(
        !experiment_exists(&server, "rebound"),
        "nothing was written"
    );
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let ok = post_as(
            &server,
            &host,
            "experiments/create",
            &json!({"name": host}).to_string(),
        );
        assert_eq!(ok.status, 200, "{host}: {}", ok.text());
    }
}

#[test]
fn allowed_hosts_admits_the_names_it_lists_and_no_others() {
    let server = TestServer::start_with(&["--allowed-hosts", "cairn.internal,127.0.0.1"], &[]);
    let ok = post_as(
        &server,
        "cairn.internal:5000",
        "experiments/create",
        r#"{"name": "named"}"#,
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    let refused = post_as(
        &server,
        "localhost",
        "experiments/create",
        r#"{"name": "other"}"#,
    );
    assert_eq!(refused.status, 403);
    assert!(!experiment_exists(&server, "other"));
}

#[test]
fn every_answer_says_nosniff_and_downloads_are_attachments() {
    let server = TestServer::start();
    let exp = server.experiment("sniff");
    let run = server.create_run(json!({"experiment_id": exp}));
    let root = run["info"]["artifact_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches("mlflow-artifacts:/")
        .to_owned();
    server.put_artifact(&format!("{root}/page.html"), b"<script>alert(1)</script>");
    let http = reqwest::blocking::Client::new();
    for url in [
        format!(
            "{}/api/2.0/mlflow/experiments/get?experiment_id={exp}",
            server.url
        ),
        format!(
            "{}/api/2.0/mlflow/experiments/get?experiment_id=999999",
            server.url
        ),
        format!("{}/no/such/endpoint", server.url),
        format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{root}/page.html",
            server.url
        ),
    ] {
        let resp = http.get(&url).send().unwrap();
        assert_eq!(
            resp.headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{url}"
        );
        if url.ends_with("page.html") {
            let disposition = resp.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(disposition.starts_with("attachment;"), "{disposition}");
        }
    }
    // Refusals made before any handler runs say it too: a 405 from the router and a
    // 413 from the body limit.
    let not_allowed = http
        .get(format!("{}/api/2.0/mlflow/runs/create", server.url))
        .send()
        .unwrap();
    let too_big = http
        .post(format!("{}/api/2.0/mlflow/runs/set-tag", server.url))
        .header("content-type", "application/json")
        .body(vec![b' '; 5 << 20])
        .send()
        .unwrap();
    for (resp, status) in [(not_allowed, 405), (too_big, 413)] {
        assert_eq!(resp.status().as_u16(), status);
        assert_eq!(
            resp.headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff"),
            "{status}"
        );
    }
}

#[test]
fn a_request_head_that_never_ends_is_cut_off() {
    let server = TestServer::start_with(&["--header-timeout", "1"], &[]);
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(5),
        "the server held a slow head for {waited:?}"
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}

#[test]
fn a_stalled_body_fails_and_writes_nothing() {
    let server = TestServer::start_with(&["--body-timeout", "1"], &[]);
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let body = r#"{"name": "stalled-experiment"}"#;
    let head = format!(
        "POST /api/2.0/mlflow/experiments/create HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.addr(),
        body.len() + 40
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    // The answer's status line arrives soon after the body stalls for a second.
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = [0u8; 12];
    let read = stream.read_exact(&mut answer);
    assert!(
        read.is_ok(),
        "no answer within 5 s to a body stalled for 1 s: {read:?}"
    );
    let text = String::from_utf8_lossy(&answer);
    let status: u16 = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!((400..500).contains(&status), "{text}");
    assert!(!experiment_exists(&server, "stalled-experiment"));
}

#[test]
fn uploads_beyond_the_cap_get_503_until_one_ends() {
    let server = TestServer::start_with(&["--max-concurrent-uploads", "1"], &[]);
    let exp = server.experiment("capped");
    let run = server.create_run(json!({"experiment_id": exp}));
    let root = run["info"]["artifact_uri"]
        .as_str()
        .unwrap()
        .trim_start_matches("mlflow-artifacts:/")
        .to_owned();
    // The first upload sends half its body, then waits.
    let mut slow = TcpStream::connect(server.addr()).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "PUT /api/2.0/mlflow-artifacts/artifacts/{root}/slow.bin HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 2000\r\n\r\n",
        server.addr()
    );
    slow.write_all(head.as_bytes()).unwrap();
    slow.write_all(&[1u8; 1000]).unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let http = reqwest::blocking::Client::new();
    let url = |name: &str| {
        format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{root}/{name}",
            server.url
        )
    };
    let second = http
        .put(url("second.bin"))
        .body(vec![2u8; 10])
        .send()
        .unwrap();
    assert_eq!(second.status().as_u16(), 503);
    let envelope: serde_json::Value = second.json().unwrap();
    assert_eq!(envelope["error_code"], "TEMPORARILY_UNAVAILABLE");

    slow.write_all(&[1u8; 1000]).unwrap();
    let mut answer = Vec::new();
    slow.read_to_end(&mut answer).unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    let third = http
        .put(url("third.bin"))
        .body(vec![3u8; 10])
        .send()
        .unwrap();
    assert_eq!(third.status().as_u16(), 200, "a permit is free again");
}

#[test]
fn a_body_larger_than_its_endpoint_takes_is_refused_with_413_before_it_is_read() {
    let server = TestServer::start();
    let exp = server.experiment("big");
    let run = server.run(&exp);
    let huge = "x".repeat(5 * 1024 * 1024);
    let body = json!({"run_id": run, "key": "notes", "value": huge}).to_string();
    let reply = server.raw_post(
        "/api/2.0/mlflow/runs/set-tag",
        "application/json",
        body.into_bytes(),
    );
    assert_eq!(reply.status, 413, "{}", reply.text);
    assert_eq!(reply.body["error_code"], "REQUEST_LIMIT_EXCEEDED");
    let tags = &server.get_run(&run)["data"]["tags"];
    assert!(!tags.to_string().contains("notes"), "nothing was written");
}
