//! NUL, CR, LF and other controls in URL paths, query parameters and JSON strings, encoded and raw.

use super::endpoints;
use super::mutate::{names_something, nodes, replaced, show};
use super::*;

const CONTROL: &str = "NUL/CR/LF";
const RAW_LINE: &str = "raw control bytes in request line";

/// Control characters, and the invisible ones that break a line or reorder text.
const CONTROLS: &[&str] = &[
    "\0",
    "\r",
    "\n",
    "\r\n",
    "\r\nSet-Cookie: x=1",
    "\u{1b}[2J",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "\u{202e}",
];

/// `v` with `c` inside it, not at an end, where a lenient parser would trim it.
fn inject(v: &str, c: &str) -> String {
    let mid = v
        .char_indices()
        .nth(v.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    if mid == 0 {
        format!("{v}{c}{v}")
    } else {
        format!("{}{c}{}", &v[..mid], &v[mid..])
    }
}

#[test]
fn nul_cr_and_lf_in_paths_queries_and_json_names_are_refused_and_write_nothing() {
    let w = World::new();
    let all = endpoints::all(&w);
    let before = w.fingerprint();
    let mut tally = Tally::default();
    // In URL paths, percent-encoded.
    for c in [
        "%00",
        "%0d",
        "%0a",
        "%0d%0a",
        "%0d%0aSet-Cookie:%20x=1",
        "%1b",
        "%7f",
        "%c2%85",
    ] {
        for target in [
            format!("{PROXY}/{}/a{c}.txt", w.root),
            format!("{PROXY}/{}/{c}/x", w.root),
            format!("{PROXY}?path={}/a{c}.txt", w.root),
            format!("/api/2.0/mlflow-artifacts/presigned/{}/a{c}.txt", w.root),
            format!("{CAIRN}/artifacts/versions?path={}/a.txt{c}", w.root),
        ] {
            w.refused_as(
                &mut tally,
                CONTROL,
                &Call::get(&target),
                400,
                "INVALID_PARAMETER_VALUE",
            );
        }
        let put = Call::bytes(
            "PUT",
            format!("{PROXY}/{}/a{c}.txt", w.root),
            None,
            b"x".to_vec(),
        );
        w.refused_as(&mut tally, CONTROL, &put, 400, "INVALID_PARAMETER_VALUE");
        for target in [
            format!("{API}/logged-models/{}{c}", w.logged),
            format!("{API}/logged-models/{}{c}/tags", w.logged),
            format!("{API}/logged-models/{}/tags/k{c}", w.logged),
            format!("{MPU}/part/{}{c}/1", w.uploads[1]),
        ] {
            for method in ["GET", "PATCH", "DELETE", "PUT"] {
                let call = Call::json(method, &target, &json!({"status": "READY", "tags": []}));
                w.refused(&mut tally, CONTROL, &call);
            }
        }
    }
    // NUL in every string of every request; the others in every string of a write
    // that names something (free text such as a tag value may span lines).
    for e in &all {
        for (path, v) in nodes(&e.body) {
            let Some(text) = v.as_str() else { continue };
            let controls = if e.writes() && names_something(&path) {
                CONTROLS
            } else {
                &CONTROLS[..1]
            };
            for c in controls {
                let body = replaced(&e.body, &path, json!(inject(text, c)));
                let call = e.call(&body);
                let reply = w.refused(&mut tally, CONTROL, &call);
                assert!(
                    !reply.headers.iter().any(|(k, _)| k == "set-cookie"),
                    "{} {}: a header was injected",
                    show(&path),
                    call.describe()
                );
            }
        }
    }
    w.unchanged(&before, CONTROL);
    w.accepts_every_baseline(&all);
    tally.finish(&[CONTROL]);
}

#[test]
fn raw_control_bytes_in_the_request_line_are_refused_by_the_http_parser_and_write_nothing() {
    let w = World::new();
    let before = w.fingerprint();
    let mut tally = Tally::default();
    let targets = [
        format!("{API}/runs/get?run_id={}", w.run),
        format!("{API}/experiments/get-by-name?experiment_name=hostile"),
        format!("{PROXY}/{}/a.txt", w.root),
    ];
    for target in &targets {
        for c in ["\0", "\r", "\n", "\r\n", " ", "\t", "\u{7f}"] {
            let line = inject(target, c);
            for method in ["GET", "PUT", "DELETE"] {
                tally.add(RAW_LINE);
                let request = format!(
                    "{method} {line} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 4\r\n\r\nevil",
                    w.s.addr()
                );
                let reply = w.s.raw_http(request.as_bytes());
                // The request never reaches the application, so there is no envelope to
                // give: actix-http answers a bare 400 and closes the connection.
                assert_eq!(reply.status, 400, "{method} {line:?}: {}", reply.text());
            }
        }
    }
    w.unchanged(&before, RAW_LINE);
    tally.finish(&[RAW_LINE]);
}
