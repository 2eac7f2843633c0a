//! Moving files and directories in and out of a run's artifacts, with progress bars on
//! a terminal.

use cairn_client::schema::Run;
use cairn_client::{Client, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};

/// A byte progress bar on stderr (hidden when stderr is not a terminal).
fn bar(name: &str, total: Option<u64>) -> (ProgressBar, Progress) {
    let pb = ProgressBar::with_draw_target(total, indicatif::ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(
            "{msg:30!} {bar:30} {bytes:>10}/{total_bytes:10} {bytes_per_sec:>12}",
        )
        .expect("a valid template"),
    );
    pb.set_message(name.to_owned());
    let handle = pb.clone();
    let progress = Progress::new(move |done, total| {
        if let Some(t) = total {
            handle.set_length(t);
        }
        handle.set_position(done);
    });
    (pb, progress)
}

/// Every file below `dir`, as (path, path relative to `dir` with `/` separators).
fn files_below(dir: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                let rel = entry
                    .path()
                    .strip_prefix(dir)
                    .expect("below dir")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((entry.path(), rel));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// Uploads a file or a directory tree under `artifact_dir`; returns (artifact path, bytes, sha256) per file.
pub async fn upload(
    client: &Client,
    run: &Run,
    local: &Path,
    artifact_dir: Option<&str>,
) -> anyhow::Result<Vec<(String, u64, String)>> {
    let prefix = artifact_dir
        .map(|d| d.trim_matches('/'))
        .filter(|d| !d.is_empty());
    let join = |name: &str| prefix.map_or_else(|| name.to_owned(), |p| format!("{p}/{name}"));
    let meta = std::fs::metadata(local)
        .map_err(|e| crate::ctx::UsageError(format!("{}: {e}", local.display())))?;
    let files = if meta.is_dir() {
        let base = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        files_below(local)?
            .into_iter()
            .map(|(p, rel)| {
                (
                    p,
                    join(&if base.is_empty() {
                        rel.clone()
                    } else {
                        format!("{base}/{rel}")
                    }),
                )
            })
            .collect()
    } else {
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        vec![(local.to_owned(), join(&name))]
    };
    let mut done = Vec::new();
    for (path, artifact) in files {
        let (pb, progress) = bar(&artifact, None);
        let sent = client
            .upload_file(run, &artifact, &path, Some(progress))
            .await;
        pb.finish_and_clear();
        let sent = sent?;
        done.push((artifact, sent.bytes, sent.sha256));
    }
    Ok(done)
}

/// Downloads a file, or every file below a directory, into `dest`.
pub async fn download(
    client: &Client,
    run: &Run,
    path: &str,
    dest: &Path,
) -> anyhow::Result<Vec<(String, u64, String)>> {
    let path = path.trim_matches('/');
    let listing = client.list_artifacts(&run.info.run_id, Some(path)).await?;
    let mut files = Vec::new();
    if listing.is_empty() {
        files.push((path.to_owned(), dest.to_owned()));
    } else {
        // A directory: walk it.
        let mut stack = listing;
        while let Some(entry) = stack.pop() {
            if entry.is_dir {
                stack.extend(
                    client
                        .list_artifacts(&run.info.run_id, Some(&entry.path))
                        .await?,
                );
            } else {
                let rel = entry
                    .path
                    .strip_prefix(path)
                    .unwrap_or(&entry.path)
                    .trim_start_matches('/');
                files.push((entry.path.clone(), dest.join(rel)));
            }
        }
        files.sort();
    }
    let mut done = Vec::new();
    for (artifact, target) in files {
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let (pb, progress) = bar(&artifact, None);
        let got = client
            .download_file(run, &artifact, &target, Some(progress))
            .await;
        pb.finish_and_clear();
        let got = got?;
        done.push((target.display().to_string(), got.bytes, got.sha256));
    }
    Ok(done)
}
