//! Artifacts through the server's proxy: streaming uploads and downloads of any size with
//! a SHA-256 check and progress callbacks, listings, and Cairn's versions and verify.

use crate::{Client, Error};
use cairn_schema::Run;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Told how far a transfer has got: bytes done, and the total when known. Called from
/// the task doing the transfer, so keep it quick (e.g. set a progress bar).
#[derive(Clone)]
pub struct Progress(Arc<dyn Fn(u64, Option<u64>) + Send + Sync>);

impl Progress {
    /// A callback taking (bytes done, total bytes if known).
    pub fn new(f: impl Fn(u64, Option<u64>) + Send + Sync + 'static) -> Progress {
        Progress(Arc::new(f))
    }
    fn report(&self, done: u64, total: Option<u64>) {
        (self.0)(done, total)
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// An entry of an artifact listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FileInfo {
    /// Path relative to the run's artifact root.
    pub path: String,
    /// Whether it is a directory.
    #[serde(default)]
    pub is_dir: bool,
    /// Size in bytes; absent for directories.
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// A stored version of an artifact path (Cairn keeps every write).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ArtifactVersion {
    /// 1 for the first write of the path.
    pub version: i64,
    /// SHA-256 of the content, hex.
    pub digest: String,
    /// Size in bytes.
    pub file_size: u64,
    /// When it was written, milliseconds since the epoch.
    pub creation_time: i64,
    /// Whether it is what the path serves now.
    pub current: bool,
}

/// What a finished transfer moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transferred {
    /// Bytes moved.
    pub bytes: u64,
    /// SHA-256 of those bytes, hex.
    pub sha256: String,
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 and size of a local file, read in 1 MiB blocks.
fn hash_file(path: &Path) -> Result<Transferred, Error> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(Transferred {
        bytes,
        sha256: hex(&hasher.finalize()),
    })
}

/// Percent-encodes each segment of an artifact path, keeping the `/` separators.
pub(crate) fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The run's artifact root below the proxy (`<experiment>/<run>/artifacts`).
fn proxied_root(run: &Run) -> Result<String, Error> {
    run.info
        .artifact_uri
        .strip_prefix("mlflow-artifacts:")
        .map(|r| r.trim_matches('/').to_owned())
        .ok_or_else(|| {
            Error::Config(format!(
                "run {} keeps its artifacts at {}, outside this server's proxy",
                run.info.run_id, run.info.artifact_uri
            ))
        })
}

impl Client {
    /// The proxied artifact URL of `path` inside a run's artifacts.
    fn artifact_url(&self, run: &Run, path: &str) -> Result<String, Error> {
        Ok(format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{}/{}",
            self.base,
            encode_path(&proxied_root(run)?),
            encode_path(path.trim_start_matches('/'))
        ))
    }

    /// Uploads bytes as the artifact `path` of a run; the server checks their SHA-256.
    pub async fn upload_artifact(
        &self,
        run: &Run,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<(), Error> {
        let url = self.artifact_url(run, path)?;
        let digest = hex(&Sha256::digest(&bytes));
        let body = bytes::Bytes::from(bytes);
        let resp = self
            .send(|| {
                Ok(self
                    .bulk
                    .put(&url)
                    .header("x-cairn-sha256", &digest)
                    .body(body.clone()))
            })
            .await?;
        if !resp.status().is_success() {
            return Err(Self::error_of(resp).await);
        }
        Ok(())
    }

    /// Streams a local file to the artifact `path` of a run without holding it in
    /// memory. The file is hashed first and the digest sent along, so a Cairn server
    /// refuses bytes damaged on the way instead of storing them.
    pub async fn upload_file(
        &self,
        run: &Run,
        path: &str,
        file: &Path,
        progress: Option<Progress>,
    ) -> Result<Transferred, Error> {
        let url = self.artifact_url(run, path)?;
        let owned = file.to_owned();
        let sums = tokio::task::spawn_blocking(move || hash_file(&owned))
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))??;
        let total = sums.bytes;
        let resp = self
            .send(|| {
                let reader = tokio::fs::File::from_std(std::fs::File::open(file)?);
                let progress = progress.clone();
                let mut done = 0u64;
                let stream = tokio_util::io::ReaderStream::with_capacity(reader, 1 << 20).map(
                    move |chunk| {
                        if let (Ok(c), Some(p)) = (&chunk, &progress) {
                            done += c.len() as u64;
                            p.report(done, Some(total));
                        }
                        chunk
                    },
                );
                Ok(self
                    .bulk
                    .put(&url)
                    .header("x-cairn-sha256", &sums.sha256)
                    .header(reqwest::header::CONTENT_LENGTH, total)
                    .body(reqwest::Body::wrap_stream(stream)))
            })
            .await?;
        if !resp.status().is_success() {
            return Err(Self::error_of(resp).await);
        }
        Ok(sums)
    }

    /// Downloads the artifact `path` of a run into memory (for small artifacts; see
    /// [`Client::download_file`] for large ones).
    pub async fn download_artifact(&self, run: &Run, path: &str) -> Result<Vec<u8>, Error> {
        let url = self.artifact_url(run, path)?;
        let resp = self.send(|| Ok(self.bulk.get(&url))).await?;
        if !resp.status().is_success() {
            return Err(Self::error_of(resp).await);
        }
        let etag = sha256_etag(&resp);
        let bytes = resp.bytes().await?.to_vec();
        if let Some(expected) = etag {
            let actual = hex(&Sha256::digest(&bytes));
            if actual != expected {
                return Err(Error::Checksum { expected, actual });
            }
        }
        Ok(bytes)
    }

    /// Streams the artifact `path` of a run into the local file `dest`, without holding
    /// it in memory. The bytes go to `dest` plus `.partial`, are hashed on the way and
    /// checked against the server's SHA-256 (Cairn's ETag), fsynced, and only then renamed
    /// to `dest`: `dest` never holds a partial or damaged download.
    pub async fn download_file(
        &self,
        run: &Run,
        path: &str,
        dest: &Path,
        progress: Option<Progress>,
    ) -> Result<Transferred, Error> {
        let url = self.artifact_url(run, path)?;
        let resp = self.send(|| Ok(self.bulk.get(&url))).await?;
        if !resp.status().is_success() {
            return Err(Self::error_of(resp).await);
        }
        let expected = sha256_etag(&resp);
        let total = resp.content_length();
        let partial = partial_path(dest);
        let result = async {
            let mut out = tokio::fs::File::create(&partial).await?;
            let mut hasher = Sha256::new();
            let mut bytes = 0u64;
            let mut body = resp.bytes_stream();
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                hasher.update(&chunk);
                out.write_all(&chunk).await?;
                bytes += chunk.len() as u64;
                if let Some(p) = &progress {
                    p.report(bytes, total);
                }
            }
            let sha256 = hex(&hasher.finalize());
            if let Some(expected) = expected {
                if expected != sha256 {
                    return Err(Error::Checksum {
                        expected,
                        actual: sha256,
                    });
                }
            }
            out.sync_all().await?;
            drop(out);
            tokio::fs::rename(&partial, dest).await?;
            Ok(Transferred { bytes, sha256 })
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&partial).await;
        }
        result
    }

    /// The files and directories directly below `path` (the root when `None`) in a
    /// run's artifacts.
    pub async fn list_artifacts(
        &self,
        run_id: &str,
        path: Option<&str>,
    ) -> Result<Vec<FileInfo>, Error> {
        let mut query = vec![("run_id", run_id)];
        if let Some(p) = path {
            query.push(("path", p));
        }
        let mut v = self.get("artifacts/list", &query).await?;
        Self::list(&mut v, "files")
    }

    /// Removes the artifact `path` of a run (its blobs go at the next garbage collection
    /// if nothing else refers to them).
    pub async fn delete_artifact(&self, run: &Run, path: &str) -> Result<(), Error> {
        let url = self.artifact_url(run, path)?;
        let resp = self.send(|| Ok(self.http.delete(&url))).await?;
        if !resp.status().is_success() {
            return Err(Self::error_of(resp).await);
        }
        Ok(())
    }

    /// Every stored version of the artifact `path` of a run, newest first (Cairn only).
    pub async fn artifact_versions(
        &self,
        run: &Run,
        path: &str,
    ) -> Result<Vec<ArtifactVersion>, Error> {
        let full = format!("{}/{}", proxied_root(run)?, path.trim_start_matches('/'));
        let mut v: Value = self
            .call(
                reqwest::Method::GET,
                "api/2.0/cairn/artifacts/versions",
                &[("path", &full)],
                None,
            )
            .await?;
        Self::list(&mut v, "versions")
    }

    /// Re-hashes the stored blobs of a run's artifacts (all of the server's when `run`
    /// is `None`); returns whether every blob still matches its digest, and the digests
    /// that do not (Cairn only).
    pub async fn verify_artifacts(&self, run: Option<&Run>) -> Result<(bool, Vec<String>), Error> {
        let Some(run) = run else {
            return self.verify_stored(json!({})).await;
        };
        // The server verifies one file or every blob, so walk the run's files.
        let root = proxied_root(run)?;
        let (mut ok, mut bad) = (true, Vec::new());
        let mut dirs: Vec<Option<String>> = vec![None];
        while let Some(dir) = dirs.pop() {
            for entry in self
                .list_artifacts(&run.info.run_id, dir.as_deref())
                .await?
            {
                if entry.is_dir {
                    dirs.push(Some(entry.path));
                    continue;
                }
                let path = format!("{root}/{}", entry.path);
                let (file_ok, file_bad) = self.verify_stored(json!({ "path": path })).await?;
                ok &= file_ok;
                for digest in file_bad {
                    if !bad.contains(&digest) {
                        bad.push(digest);
                    }
                }
            }
        }
        Ok((ok, bad))
    }

    /// One call of Cairn's verify: `{}` for every blob, `{"path": …}` for one file.
    async fn verify_stored(&self, body: Value) -> Result<(bool, Vec<String>), Error> {
        let v: Value = self
            .call(
                reqwest::Method::POST,
                "api/2.0/cairn/artifacts/verify",
                &[],
                Some(&body),
            )
            .await?;
        let bad = v["blobs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|b| b["ok"] == json!(false))
            .filter_map(|b| b["digest"].as_str().map(str::to_owned))
            .collect();
        Ok((v["ok"].as_bool().unwrap_or(false), bad))
    }
}

/// The SHA-256 a response's ETag carries, when it is one (Cairn's ETags are the content's
/// SHA-256; other servers' are opaque and not checked).
fn sha256_etag(resp: &reqwest::Response) -> Option<String> {
    let etag = resp.headers().get(reqwest::header::ETAG)?.to_str().ok()?;
    let tag = etag.trim_start_matches("W/").trim_matches('"');
    (tag.len() == 64 && tag.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| tag.to_ascii_lowercase())
}

fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    dest.with_file_name(name)
}
