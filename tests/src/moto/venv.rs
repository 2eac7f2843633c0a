//! The venv holding moto: installed once per Python and moto version, safely under concurrent test processes.
//!
//! It lives in `~/.cache/cairn-ci/moto-venv-<python version>-<moto version>`, pinned in
//! `tests/moto-requirements.txt` (which `.ci/run` reads too). The venv is built under a
//! temporary name and renamed into place only when complete, so concurrent test
//! processes never use a half-installed one (the loser of a race drops its copy);
//! within a process a `OnceLock` installs it once. Because a venv may have been built
//! under its temporary name, it is always run as `bin/python -m ...`, never through
//! the scripts in `bin/`, whose first lines name that temporary path.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

const REQUIREMENTS: &str = include_str!("../../moto-requirements.txt");

fn requirements() -> Vec<&'static str> {
    REQUIREMENTS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn moto_version() -> &'static str {
    requirements()
        .iter()
        .find_map(|l| l.strip_prefix("moto[server]=="))
        .expect("tests/moto-requirements.txt pins moto[server]==<version>")
}

fn python() -> OsString {
    std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into())
}

pub(super) fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Runs a command to completion: its stdout, or what went wrong with its output.
fn output_of(command: &mut Command) -> Result<String, String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let tail: Vec<&str> = text.lines().rev().take(30).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "{command:?} failed with {}:\n{}",
        out.status,
        tail.join("\n")
    ))
}

/// The venv holding moto, installed on first use: see the module docs.
///
/// # Panics
/// When python3 or pip cannot install moto, with the reason.
pub fn venv() -> PathBuf {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match VENV.get_or_init(ensure_venv) {
        Ok(dir) => dir.clone(),
        Err(e) => panic!(
            "the S3 suites run against moto, a Python S3 server from PyPI, and it could not be \
             installed (set PYTHON to a Python 3 with venv and pip that reaches PyPI):\n{e}"
        ),
    }
}

fn ensure_venv() -> Result<PathBuf, String> {
    let py = python();
    let version = output_of(
        Command::new(&py).args(["-c", "import platform; print(platform.python_version())"]),
    )?;
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let cache = PathBuf::from(home).join(".cache").join("cairn-ci");
    let name = format!("moto-venv-{}-{}", version.trim(), moto_version());
    let dir = cache.join(&name);
    if dir.join(".complete").exists() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let staging = cache.join(format!(".{name}.{}-{nanos}", std::process::id()));
    let started = Instant::now();
    eprintln!(
        "cairn-tests: installing {} into {} (once per Python version)",
        requirements().join(" "),
        dir.display()
    );
    let built = build_venv(&py, &staging);
    if let Err(e) = built {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    if std::fs::rename(&staging, &dir).is_err() {
        if dir.join(".complete").exists() {
            // Another process finished first: use its venv.
            let _ = std::fs::remove_dir_all(&staging);
            return Ok(dir);
        }
        // Only a rename ever creates `dir`, so an incomplete one was not made here.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(&staging, &dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    eprintln!(
        "cairn-tests: moto installed in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(dir)
}

fn build_venv(py: &OsString, dir: &Path) -> Result<(), String> {
    output_of(Command::new(py).arg("-m").arg("venv").arg(dir)).map_err(|e| {
        format!("{e}\n(on Debian and Ubuntu, `python3 -m venv` needs python3-venv)")
    })?;
    output_of(
        Command::new(venv_python(dir))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(requirements()),
    )?;
    std::fs::write(dir.join(".complete"), REQUIREMENTS)
        .map_err(|e| format!("{}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_moto_version_is_read_from_the_requirements_file() {
        assert!(moto_version().split('.').all(|n| n.parse::<u32>().is_ok()));
    }
}
