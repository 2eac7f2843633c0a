//! The `cairn` binary's own surface: help and version. Having an integration test here
//! also makes `cargo test --workspace` build the binary the end-to-end suites launch.

use std::process::Command;

fn cairn(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .output()
        .expect("running cairn")
}

#[test]
fn version_names_the_package_version() {
    let out = cairn(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("cairn {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn server_help_lists_every_flag_with_its_environment_variable() {
    let out = cairn(&["server", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--host", "--port", "--data-dir", "--backend-store-uri"] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    for env in [
        "CAIRN_HOST",
        "CAIRN_PORT",
        "CAIRN_DATA_DIR",
        "CAIRN_BACKEND_STORE_URI",
    ] {
        assert!(help.contains(env), "{env} missing from:\n{help}");
    }
}

#[test]
fn an_unknown_command_fails_with_usage() {
    let out = cairn(&["frobnicate"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage"));
}
