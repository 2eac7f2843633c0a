//! The `World` the suites attack, the store `Fingerprint` that shows any write, and the probe that checks envelopes.

use super::*;
use std::hash::{Hash, Hasher};
use std::path::Path;

/// What the store holds: a digest of every row of every table (but the idempotency
/// cache) and every file and directory under the artifact root with its size.
#[derive(Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub tables: BTreeMap<String, (usize, u64)>,
    pub files: BTreeSet<(String, u64)>,
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<(String, u64)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let meta = entry.metadata().expect("metadata");
        if meta.is_dir() {
            out.insert((format!("{rel}/"), 0));
            walk(root, &path, out);
        } else {
            out.insert((rel, meta.len()));
        }
    }
}

impl Fingerprint {
    pub fn of(server: &TestServer) -> Fingerprint {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            server.database(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .expect("opening the store read-only");
        let names: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut tables = BTreeMap::new();
        for name in names
            .into_iter()
            .filter(|n| n != "idempotency" && !n.starts_with("sqlite_stat"))
        {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{name}\"")).unwrap();
            let columns = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| {
                    (0..columns)
                        .map(|i| r.get_ref(i).map(|v| format!("{v:?}")))
                        .collect::<Result<Vec<_>, _>>()
                        .map(|cells| cells.join("\u{1f}"))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows.sort();
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            rows.hash(&mut hasher);
            tables.insert(name, (rows.len(), hasher.finish()));
        }
        let root = server.data_dir().join("artifacts");
        let mut files = BTreeSet::new();
        walk(&root, &root, &mut files);
        Fingerprint { tables, files }
    }

    /// What changed from `self` to `after`, for the failure message.
    pub fn changes(&self, after: &Fingerprint) -> String {
        let mut out = Vec::new();
        for (name, before) in &self.tables {
            match after.tables.get(name) {
                Some(now) if now == before => {}
                Some(now) => out.push(format!(
                    "table {name}: {} rows -> {} rows (content differs)",
                    before.0, now.0
                )),
                None => out.push(format!("table {name} vanished")),
            }
        }
        for name in after
            .tables
            .keys()
            .filter(|n| !self.tables.contains_key(*n))
        {
            out.push(format!("table {name} appeared"));
        }
        for f in after.files.difference(&self.files) {
            out.push(format!("file appeared: {f:?}"));
        }
        for f in self.files.difference(&after.files) {
            out.push(format!("file vanished: {f:?}"));
        }
        out.join("\n")
    }
}

/// A server holding one of everything, some of it deleted.
pub struct World {
    pub s: TestServer,
    pub exp: String,
    pub other_exp: String,
    pub run: String,
    pub deleted_run: String,
    pub deleted_exp: String,
    /// A run of the deleted experiment.
    pub dead_run: String,
    pub model: &'static str,
    /// Version 2 of `model`, deleted.
    pub deleted_version: &'static str,
    pub logged: String,
    pub deleted_logged: String,
    /// `<exp>/<run>/artifacts`, holding `a.txt`.
    pub root: String,
    pub digest: String,
    /// Two multipart uploads under `root`: one with part 1 stored, one empty.
    pub uploads: [String; 2],
}

pub fn ok(reply: cairn_tests::Reply, what: &str) -> Value {
    assert_eq!(reply.status, 200, "{what}: {}", reply.text);
    reply.body
}

impl World {
    pub fn new() -> World {
        let s = TestServer::start();
        let exp = s.experiment("hostile");
        ok(
            s.post(
                "experiments/set-experiment-tag",
                json!({"experiment_id": exp, "key": "team", "value": "red"}),
            ),
            "experiment tag",
        );
        let other_exp = s.experiment("elsewhere");
        let run = s.run(&exp);
        s.log_batch(
            &run,
            json!([metric("m", json!(1.0), 1, 0)]),
            pairs(&[("p", "1")]),
            pairs(&[("t", "1")]),
        );
        let deleted_run = s.run(&exp);
        ok(
            s.post("runs/delete", json!({"run_id": deleted_run})),
            "run delete",
        );
        let deleted_exp = s.experiment("gone");
        let dead_run = s.run(&deleted_exp);
        ok(
            s.post("experiments/delete", json!({"experiment_id": deleted_exp})),
            "experiment delete",
        );
        let model = "hostile-model";
        for name in [model, "spare-model"] {
            ok(
                s.post(
                    "registered-models/create",
                    json!({"name": name, "tags": [{"key": "k", "value": "v"}]}),
                ),
                "model",
            );
        }
        for _ in 0..2 {
            ok(
                s.post(
                    "model-versions/create",
                    json!({"name": model, "source": format!("runs:/{run}/model"), "run_id": run}),
                ),
                "version",
            );
        }
        ok(
            s.delete(
                "model-versions/delete",
                json!({"name": model, "version": "2"}),
            ),
            "version delete",
        );
        ok(
            s.post(
                "model-versions/set-tag",
                json!({"name": model, "version": "1", "key": "k", "value": "v"}),
            ),
            "version tag",
        );
        ok(
            s.post(
                "registered-models/alias",
                json!({"name": model, "alias": "champion", "version": "1"}),
            ),
            "alias",
        );
        ok(
            s.post_path(
                &format!("{CAIRN}/registered-models/gates/set"),
                json!({"name": model, "stage": "Production", "filter": "metrics.m > 0"}),
            ),
            "gate",
        );
        let logged_model = |name: &str| {
            let body = ok(
                s.post(
                    "logged-models",
                    json!({"experiment_id": exp, "name": name, "tags": [{"key": "k", "value": "v"}],
                           "params": [{"key": "p", "value": "v"}]}),
                ),
                "logged model",
            );
            body["model"]["info"]["model_id"]
                .as_str()
                .expect("model_id")
                .to_owned()
        };
        let logged = logged_model("lm");
        let deleted_logged = logged_model("lm-gone");
        ok(
            s.delete(&format!("logged-models/{deleted_logged}"), json!({})),
            "logged model delete",
        );
        let root = s.get_run(&run)["info"]["artifact_uri"]
            .as_str()
            .expect("artifact_uri")
            .trim_start_matches("mlflow-artifacts:/")
            .to_owned();
        s.put_artifact(&format!("{root}/a.txt"), b"hello");
        let versions = ok(
            s.raw_get(
                &format!("{CAIRN}/artifacts/versions"),
                &[("path", &format!("{root}/a.txt"))],
            ),
            "versions",
        );
        let digest = versions["versions"][0]["digest"]
            .as_str()
            .expect("digest")
            .to_owned();
        let upload = |name: &str| {
            let body = ok(
                s.post_path(
                    &format!("{MPU}/create/{root}"),
                    json!({"path": name, "num_parts": 2}),
                ),
                "multipart create",
            );
            body["upload_id"].as_str().expect("upload_id").to_owned()
        };
        let uploads = [upload("big.bin"), upload("other.bin")];
        let part = s.raw_request("PUT", &format!("{MPU}/part/{}/1", uploads[0]), b"part one");
        assert_eq!(part.status, 200, "part: {}", part.text());
        World {
            s,
            exp,
            other_exp,
            run,
            deleted_run,
            deleted_exp,
            dead_run,
            model,
            deleted_version: "2",
            logged,
            deleted_logged,
            root,
            digest,
            uploads,
        }
    }

    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.s)
    }

    /// Asserts that the store is as `before` found it.
    #[track_caller]
    pub fn unchanged(&self, before: &Fingerprint, class: &str) {
        let after = self.fingerprint();
        assert!(
            *before == after,
            "inputs of class {class:?} wrote to the store:\n{}",
            before.changes(&after)
        );
    }

    pub fn send(&self, call: &Call) -> RawReply {
        let mut request = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            call.method,
            call.target,
            self.s.addr(),
            call.body.len()
        )
        .into_bytes();
        if let Some(ct) = call.content_type {
            request.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(&call.body);
        self.s.raw_http(&request)
    }

    /// Sends `call`, counts it under `class`, and asserts MLflow's envelope on a 4xx.
    #[track_caller]
    pub fn refused(&self, tally: &mut Tally, class: &'static str, call: &Call) -> RawReply {
        tally.add(class);
        let reply = self.send(call);
        expect_envelope(&reply, &format!("[{class}] {}", call.describe()));
        reply
    }

    /// Like `refused`, and the answer has exactly this status and code.
    #[track_caller]
    pub fn refused_as(
        &self,
        tally: &mut Tally,
        class: &'static str,
        call: &Call,
        status: u16,
        code: &str,
    ) {
        let reply = self.refused(tally, class, call);
        assert_eq!(
            (
                reply.status,
                reply.json()["error_code"].as_str().unwrap_or("")
            ),
            (status, code),
            "[{class}] {}: {}",
            call.describe(),
            reply.text()
        );
    }

    /// Sends every endpoint's untouched request and asserts that each is accepted, so
    /// that the refusals before were the doing of what each input changed.
    #[track_caller]
    pub fn accepts_every_baseline(&self, endpoints: &[endpoints::Endpoint]) {
        for e in endpoints {
            let call = e.call(&e.body);
            let reply = self.send(&call);
            assert_eq!(
                reply.status,
                200,
                "the untouched request {} was refused: {}",
                call.describe(),
                reply.text()
            );
        }
    }
}

#[test]
fn the_fingerprint_sees_an_overwritten_value_and_a_new_artifact_but_not_a_read() {
    let w = World::new();
    let before = w.fingerprint();
    w.s.get_run(&w.run);
    assert_eq!(before, w.fingerprint(), "a read leaves it alone");
    ok(
        w.s.post(
            "runs/set-tag",
            json!({"run_id": w.run, "key": "t", "value": "changed"}),
        ),
        "overwriting a tag",
    );
    let overwritten = w.fingerprint();
    assert_ne!(before, overwritten, "an overwritten value changes it");
    assert_eq!(
        before.tables["tags"].0, overwritten.tables["tags"].0,
        "though the tags table has as many rows"
    );
    w.s.put_artifact(&format!("{}/b.txt", w.root), b"more bytes");
    assert_ne!(
        overwritten.files,
        w.fingerprint().files,
        "a new artifact changes it"
    );
}
