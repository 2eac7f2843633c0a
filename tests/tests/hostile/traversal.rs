//! Path traversal in every encoding, and `..` hidden behind `#`, `?`, `;` and `//`, on every route that takes a path.

use super::*;

const TRAVERSAL: &str = "path traversal encodings";
const HIDDEN: &str = "URL parts hiding '..'";

/// `..` as it may appear in a URL: plain, percent-encoded (once, twice, thrice, any
/// case), overlong UTF-8, `%u` escapes, Unicode lookalikes, and Windows' trimmed dots.
const UPS: &[&str] = &[
    "..",
    "%2e%2e",
    "%2E%2E",
    ".%2e",
    "%2e.",
    "%252e%252e",
    "%25252e%25252e",
    "%c0%ae%c0%ae",
    "%e0%80%ae%e0%80%ae",
    "%c0%2e%c0%2e",
    "%u002e%u002e",
    "%ef%bc%8e%ef%bc%8e",
    "%e2%80%a4%e2%80%a4",
    "...",
    "..%20",
    "%2e%2e%09",
];

/// `/` as it may appear: plain, encoded, double-encoded, backslash, overlong, lookalike.
const SEPS: &[&str] = &[
    "/",
    "%2f",
    "%2F",
    "%252f",
    "%5c",
    "%5C",
    "%255c",
    "%c0%af",
    "%ef%bc%8f",
];

/// Every combination, two levels up to `etc/passwd`, and whether it is one of those
/// that change only the dots or only the separator (each encoding once, for the routes
/// whose every request is dearer).
fn traversals() -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for up in UPS {
        for sep in SEPS {
            let plain = *up == ".." || *sep == "/";
            out.push((format!("{up}{sep}{up}{sep}etc{sep}passwd"), plain));
        }
    }
    out
}

/// Decodes `%XX` once, as a client would before putting the text in JSON; `None`
/// when the bytes are not UTF-8 (JSON cannot carry them).
fn decoded(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The routes that take an artifact path in the URL or the query, `t` spliced in raw.
fn artifact_routes(w: &World, t: &str) -> Vec<Call> {
    let root = &w.root;
    let mpu = json!({"path": "x.bin", "num_parts": 1});
    vec![
        Call::get(format!("{PROXY}/{root}/{t}")),
        Call::get(format!("{PROXY}/{t}")),
        Call::bytes("PUT", format!("{PROXY}/{t}"), None, b"evil".to_vec()),
        Call::bytes("PUT", format!("{PROXY}/{root}/{t}"), None, b"evil".to_vec()),
        Call::bytes("DELETE", format!("{PROXY}/{root}/{t}"), None, Vec::new()),
        Call::get(format!(
            "/ajax-api/2.0/mlflow-artifacts/artifacts/{root}/{t}"
        )),
        Call::get(format!("/api/2.0/mlflow-artifacts/presigned/{root}/{t}")),
        Call::json("POST", format!("{MPU}/create/{root}/{t}"), &mpu),
        Call::json(
            "POST",
            format!("{MPU}/abort/{t}"),
            &json!({"path": "other.bin", "upload_id": w.uploads[1]}),
        ),
        Call::json(
            "POST",
            format!("{MPU}/complete/{t}"),
            &json!({"path": "big.bin", "upload_id": w.uploads[0], "parts": [{"part_number": 1}]}),
        ),
        Call::get(format!("{PROXY}?path={t}")),
        Call::get(format!("{PROXY}?path={root}/{t}")),
        Call::get(format!("{API}/artifacts/list?run_id={}&path={t}", w.run)),
        Call::get(format!("{CAIRN}/artifacts/versions?path={root}/{t}")),
        Call::get(format!(
            "{CAIRN}/artifacts/version?path={t}&digest={}",
            w.digest
        )),
        Call::get(format!(
            "{API}/logged-models/{}/artifacts/directories?artifact_directory_path={t}",
            w.logged
        )),
    ]
}

/// Routes that take an id in the URL or the query.
fn id_routes(w: &World, t: &str) -> Vec<Call> {
    vec![
        Call::get(format!("{API}/runs/get?run_id={t}")),
        Call::get(format!("{API}/metrics/get-history?run_id={t}&metric_key=m")),
        Call::get(format!("{API}/experiments/get?experiment_id={t}")),
        Call::get(format!("{API}/logged-models/{t}")),
        Call::json(
            "PATCH",
            format!("{API}/logged-models/{t}"),
            &json!({"status": "READY"}),
        ),
        Call::json(
            "PATCH",
            format!("{API}/logged-models/{t}/tags"),
            &json!({"tags": [{"key": "k", "value": "v"}]}),
        ),
        Call::bytes(
            "DELETE",
            format!("{API}/logged-models/{}/tags/{t}", w.logged),
            None,
            Vec::new(),
        ),
        Call::bytes("PUT", format!("{MPU}/part/{t}/1"), None, b"x".to_vec()),
    ]
}

/// JSON fields that are, or become, paths: ids, keys, artifact paths, locations, sources.
fn json_routes(w: &World, t: &str) -> Vec<Call> {
    let (run, exp, root) = (&w.run, &w.exp, &w.root);
    let post = |api: &str, body: Value| Call::json("POST", format!("{API}/{api}"), &body);
    vec![
        post(
            "runs/log-metric",
            json!({"run_id": t, "key": "m", "value": 1, "timestamp": 1}),
        ),
        post(
            "runs/log-metric",
            json!({"run_id": run, "key": t, "value": 1, "timestamp": 1}),
        ),
        post(
            "runs/log-parameter",
            json!({"run_id": run, "key": t, "value": "v"}),
        ),
        post(
            "runs/set-tag",
            json!({"run_id": run, "key": t, "value": "v"}),
        ),
        post(
            "runs/log-batch",
            json!({"run_id": run, "params": [{"key": t, "value": "v"}]}),
        ),
        post(
            "experiments/set-experiment-tag",
            json!({"experiment_id": exp, "key": t, "value": "v"}),
        ),
        post(
            "experiments/create",
            json!({"name": "trav", "artifact_location": t}),
        ),
        post(
            "experiments/create",
            json!({"name": "trav", "artifact_location": format!("mlflow-artifacts:/{t}")}),
        ),
        post(
            "experiments/create",
            json!({"name": "trav", "artifact_location": format!("mlflow-artifacts:/{root}/{t}")}),
        ),
        post(
            "experiments/create",
            json!({"name": "trav", "artifact_location": format!("file:///tmp/{t}")}),
        ),
        post(
            "model-versions/create",
            json!({"name": w.model, "source": format!("runs:/{run}/{t}"), "run_id": run}),
        ),
        post(
            "model-versions/create",
            json!({"name": w.model, "source": format!("mlflow-artifacts:/{root}/{t}"), "run_id": run}),
        ),
        post(
            "model-versions/create",
            json!({"name": w.model, "source": format!("models:/{}/{t}", w.model)}),
        ),
        post(
            "model-versions/create",
            json!({"name": w.model, "source": t, "run_id": run}),
        ),
        Call::json(
            "POST",
            format!("{CAIRN}/artifacts/verify"),
            &json!({"path": t}),
        ),
        Call::json(
            "POST",
            format!("{CAIRN}/artifacts/verify"),
            &json!({"path": format!("{root}/{t}")}),
        ),
    ]
}

#[test]
fn traversal_in_every_encoding_is_refused_on_every_route_that_takes_a_path_or_id() {
    let w = World::new();
    let before = w.fingerprint();
    let mut tally = Tally::default();
    for (t, plain) in traversals() {
        for call in artifact_routes(&w, &t) {
            w.refused_as(&mut tally, TRAVERSAL, &call, 400, "INVALID_PARAMETER_VALUE");
        }
        if !plain {
            continue;
        }
        for call in id_routes(&w, &t) {
            let reply = w.refused(&mut tally, TRAVERSAL, &call);
            assert!(!reply.text().contains("root:"), "{}", call.describe());
        }
        let mut texts = vec![t.clone()];
        texts.extend(decoded(&t).filter(|d| *d != t));
        for text in texts {
            for call in json_routes(&w, &text) {
                w.refused(&mut tally, TRAVERSAL, &call);
            }
        }
    }
    w.unchanged(&before, TRAVERSAL);
    tally.finish(&[TRAVERSAL]);
}

/// Dot segments behind a fragment, a query, a `;` parameter or an empty segment, raw
/// and encoded: a server that cut the path at any of them would read another path.
fn hidden() -> Vec<String> {
    let mut out = Vec::new();
    for hide in ["%23", "%3f", "%3F", "%3b", ";", "%252f", "/", "%2f"] {
        for tail in [
            "../../etc/passwd",
            "%2e%2e/%2e%2e/x",
            "..;/..;/x",
            "/etc/passwd",
        ] {
            out.push(format!("x{hide}{tail}"));
            out.push(format!("x{hide}/{tail}"));
        }
    }
    for raw in [
        "..;/x",
        "x/..;/..;/y",
        ";/../../x",
        "..%3b/x",
        "x;jsessionid=1/../y",
        "//etc/passwd",
        "x//../y",
        "x///y",
        "x/.;/y",
        "x/%2e;/y",
        "..?x",
        "%2e%2e?x",
        "x/../y?z",
        "..#x",
        "x/..#/y",
        "%2e%2e#",
    ] {
        out.push(raw.to_owned());
    }
    out
}

#[test]
fn dot_segments_hidden_behind_fragments_queries_params_or_double_slashes_are_refused() {
    let w = World::new();
    let before = w.fingerprint();
    let mut tally = Tally::default();
    for t in hidden() {
        for call in artifact_routes(&w, &t) {
            w.refused(&mut tally, HIDDEN, &call);
        }
        // A JSON field is no URL: only the dot segments in it are hostile there.
        if t.contains("..") || t.to_ascii_lowercase().contains("%2e") {
            for call in json_routes(&w, &t) {
                w.refused(&mut tally, HIDDEN, &call);
            }
        }
    }
    // Locations and sources that a URL parser would cut short.
    for cut in ["#", "?", ";", "//"] {
        let location = format!("mlflow-artifacts:/x{cut}/../../etc");
        let call = Call::json(
            "POST",
            format!("{API}/experiments/create"),
            &json!({"name": "cut", "artifact_location": location}),
        );
        w.refused(&mut tally, HIDDEN, &call);
        let source = format!("runs:/{}/model{cut}/../../../x", w.run);
        let call = Call::json(
            "POST",
            format!("{API}/model-versions/create"),
            &json!({"name": w.model, "source": source, "run_id": w.run}),
        );
        w.refused(&mut tally, HIDDEN, &call);
    }
    w.unchanged(&before, HIDDEN);
    tally.finish(&[HIDDEN]);
}

/// The paths listed under `dir` through the proxy.
fn listed(w: &World, dir: &str) -> Vec<String> {
    let reply = w.send(&Call::get(format!("{PROXY}?path={dir}")));
    assert_eq!(reply.status, 200, "listing {dir}: {}", reply.text());
    reply.json()["files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["path"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_raw_query_or_fragment_after_a_valid_path_is_never_read_as_part_of_it() {
    let w = World::new();
    // What follows `?` is a query and `#` a fragment (which no client sends; the HTTP
    // layer drops it): the upload lands at the path before them, and nowhere else.
    for (cut, name) in [("?", "q.txt"), ("#", "f.txt"), ("?path=", "p.txt")] {
        let target = format!("{PROXY}/{}/{name}{cut}/../../../escaped.txt", w.root);
        let reply = w.send(&Call::bytes("PUT", target, None, b"bytes".to_vec()));
        assert_eq!(reply.status, 200, "{name}: {}", reply.text());
    }
    assert_eq!(listed(&w, &w.root), ["a.txt", "f.txt", "p.txt", "q.txt"]);
    let run_dir = w.root.trim_end_matches("/artifacts");
    assert_eq!(listed(&w, run_dir), ["artifacts"]);
    let exp_dir = run_dir.split('/').next().unwrap();
    assert!(
        listed(&w, "").iter().all(|p| p == exp_dir),
        "{:?}",
        listed(&w, "")
    );
}
