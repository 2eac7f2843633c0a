//! Output formats: colour only on a terminal without NO_COLOR, CSV that parses, quiet broken pipes.

use super::{cairn, client, csv, log, start_run};
use cairn_tests::TestServer;
use std::process::{Command, Stdio};

/// Two runs that differ in one param, with a two-point loss curve each, and a prompt with two versions.
fn some_data(server: &TestServer) -> (String, String) {
    let c = client(server);
    let a = start_run(server, "colours", "a");
    let b = start_run(server, "colours", "b");
    log(&c, &a, &[("lr", "0.1")], &[("loss", 1.0)]);
    log(&c, &b, &[("lr", "0.2")], &[("loss", 0.5)]);
    cairn(server, &["prompts", "register", "p", "--template", "one"]).ok();
    cairn(server, &["prompts", "register", "p", "--template", "two"]).ok();
    (a, b)
}

#[test]
fn output_that_is_not_a_terminal_never_holds_ansi_escapes() {
    let server = TestServer::start();
    let (a, b) = some_data(&server);
    let runs = format!("{a},{b}");
    let commands: [&[&str]; 6] = [
        &["runs", "compare", &a, &b],
        &["runs", "list"],
        &["metrics", "history", &runs, "loss", "--chart"],
        &["prompts", "diff", "p", "1", "2"],
        &["experiments", "list"],
        &["runs", "show", &a],
    ];
    for args in commands {
        for no_color in [None, Some("1")] {
            let mut command = cairn(&server, args);
            if let Some(v) = no_color {
                command = command.env("NO_COLOR", v);
            }
            let out = command.run().expect(0);
            assert!(!out.stdout.is_empty(), "{args:?} printed something");
            assert!(!out.stdout.contains('\x1b'), "{args:?}: {:?}", out.stdout);
            assert!(!out.stderr.contains('\x1b'), "{args:?}: {:?}", out.stderr);
        }
    }
}

/// Runs `cairn ARGS` on a pseudo-terminal (util-linux `script`); returns what it printed.
fn on_a_terminal(server: &TestServer, args: &[&str], no_color: bool) -> String {
    let line = [
        super::cairn_binary().display().to_string(),
        "--tracking-uri".into(),
        server.url.clone(),
    ]
    .into_iter()
    .chain(args.iter().map(|a| a.to_string()))
    .map(|w| format!("'{w}'"))
    .collect::<Vec<_>>()
    .join(" ");
    let mut script = Command::new("script");
    script
        .args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR");
    if no_color {
        script.env("NO_COLOR", "1");
    }
    let out = script
        .stdin(Stdio::null())
        .output()
        .expect("util-linux script");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn on_a_terminal_differing_rows_are_coloured_unless_no_color_is_set() {
    let server = TestServer::start();
    let (a, b) = some_data(&server);
    let coloured = on_a_terminal(&server, &["runs", "compare", &a, &b], false);
    let lr = coloured.lines().find(|l| l.contains("params.lr")).unwrap();
    assert!(
        lr.starts_with("\x1b[1;33m"),
        "the differing row is highlighted: {coloured:?}"
    );
    let header = coloured.lines().next().unwrap();
    assert!(!header.contains('\x1b'), "{coloured:?}");

    let plain = on_a_terminal(&server, &["runs", "compare", &a, &b], true);
    assert!(plain.contains("params.lr"), "{plain:?}");
    assert!(!plain.contains('\x1b'), "NO_COLOR: {plain:?}");
    let json = on_a_terminal(&server, &["runs", "compare", &a, &b, "-o", "json"], false);
    assert!(!json.contains('\x1b'), "JSON is never coloured: {json:?}");
}

#[test]
fn csv_output_parses_with_quoted_commas_and_quotes() {
    let server = TestServer::start();
    let name = "sweep, \"quoted\"";
    cairn(
        &server,
        &["experiments", "create", name, "--tag", "team=nlp"],
    )
    .ok();
    let rows = csv(&cairn(&server, &["experiments", "list", "-o", "csv"]).ok());
    assert_eq!(
        rows[0],
        [
            "experiment_id",
            "name",
            "lifecycle_stage",
            "creation_time",
            "last_update_time",
            "tags"
        ]
    );
    let row = rows
        .iter()
        .find(|r| r[1] == name)
        .expect("the experiment's row");
    assert_eq!(row[2], "active");
    assert_eq!(row[5], "team=nlp");
    assert!(rows[1..].iter().all(|r| r.len() == 6), "{rows:?}");

    let run = start_run(&server, name, "r");
    let ended = csv(&cairn(&server, &["runs", "end", "--run", &run, "-o", "csv"]).ok());
    assert_eq!(ended[0], ["field", "value"]);
    assert!(
        ended.contains(&vec!["status".to_owned(), "FINISHED".to_owned()]),
        "{ended:?}"
    );
}

#[test]
fn a_closed_stdout_ends_a_command_quietly() {
    let server = TestServer::start();
    let (a, b) = some_data(&server);
    for args in [
        &["runs", "list"][..],
        &["runs", "list", "-o", "json"],
        &["runs", "compare", &a, &b, "-o", "json"],
        &["prompts", "show", "p"],
        &["completions", "bash"],
    ] {
        let mut child = cairn(&server, args)
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the command has anything to print.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}
