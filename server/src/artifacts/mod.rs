//! Artifacts: validated paths, content-addressed blobs in an object store, and the
//! service that ties them to the index. The only module that knows object_store.
//!
//! Architecture invariant: bytes are written (and, locally, synced) before the index
//! row that makes them visible; an upload that fails leaves no temp object behind.

pub mod blobs;
pub mod path;

use crate::store::{
    ArtifactChild, ArtifactEntry, ArtifactIndex, ArtifactKind, StoreError, StoreResult,
};
use blobs::{BlobError, BlobStore, Digest};
use bytes::Bytes;
use cairn_schema::ApiError;
use futures_util::stream::BoxStream;
use futures_util::Stream;
use path::ArtifactPath;
use std::fmt;
use std::sync::Arc;

/// Where artifact bytes live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A local directory.
    Local(std::path::PathBuf),
    /// An S3-compatible bucket, with an optional key prefix.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key prefix inside the bucket ("" for none).
        prefix: String,
        /// Endpoint URL for S3-compatible services (MinIO, moto, ...).
        endpoint: Option<String>,
        /// Region; `None` takes `AWS_REGION` / `AWS_DEFAULT_REGION`, else `us-east-1`.
        region: Option<String>,
    },
    /// Process memory (tests).
    Memory,
}

impl Destination {
    /// Parses `--artifacts-destination`: a directory, `s3://bucket[/prefix]` or `memory:`.
    pub fn parse(
        value: &str,
        endpoint: Option<String>,
        region: Option<String>,
    ) -> anyhow::Result<Destination> {
        if value == "memory:" {
            return Ok(Destination::Memory);
        }
        if let Some(rest) = value.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            anyhow::ensure!(
                !bucket.is_empty(),
                "--artifacts-destination {value:?} names no bucket"
            );
            return Ok(Destination::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
                endpoint,
                region,
            });
        }
        anyhow::ensure!(!value.contains("://"), "unsupported --artifacts-destination {value:?}: use a directory, s3://bucket/prefix or memory:");
        Ok(Destination::Local(value.into()))
    }

    /// Opens the blob store this destination names. S3 credentials come from the
    /// standard `AWS_*` environment variables.
    pub fn open(&self) -> anyhow::Result<BlobStore> {
        Ok(match self {
            Destination::Local(dir) => BlobStore::local(dir.clone())?,
            Destination::Memory => BlobStore::memory(),
            Destination::S3 {
                bucket,
                prefix,
                endpoint,
                region,
            } => {
                let mut builder =
                    object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
                if let Some(region) = region {
                    builder = builder.with_region(region);
                }
                if let Some(url) = endpoint {
                    builder = builder
                        .with_endpoint(url)
                        .with_allow_http(url.starts_with("http://"));
                }
                let s3: Arc<dyn object_store::ObjectStore> = Arc::new(builder.build()?);
                let store: Arc<dyn object_store::ObjectStore> = if prefix.is_empty() {
                    s3
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.as_str()))
                };
                BlobStore::remote(store, format!("s3://{bucket}/{prefix}"))
            }
        })
    }
}

impl From<BlobError> for StoreError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::NotFound => {
                StoreError::Internal("an indexed blob is missing from the object store".into())
            }
            BlobError::DigestMismatch { .. } => StoreError::Api(ApiError::invalid(e.to_string())),
            BlobError::Interrupted(m) => StoreError::Api(ApiError::invalid(format!(
                "the upload was interrupted: {m}"
            ))),
            BlobError::Backend(m) if m.contains("No space left") => StoreError::Unavailable(m),
            BlobError::Backend(m) => StoreError::Internal(m),
        }
    }
}

/// A downloadable file: its index entry and its bytes.
pub struct Download {
    /// The version being served.
    pub entry: ArtifactEntry,
    /// The bytes (or the requested range of them).
    pub body: BoxStream<'static, Result<Bytes, BlobError>>,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The blob checked.
    pub digest: String,
    /// Whether its bytes still hash to its name and have the indexed size.
    pub ok: bool,
}

/// What garbage collection removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// Runs permanently deleted.
    pub runs: Vec<String>,
    /// Blobs removed.
    pub blobs: Vec<String>,
    /// Abandoned multipart uploads removed with their parts.
    pub uploads: Vec<String>,
}

/// Multipart uploads are given this long to complete before gc may drop them.
const UPLOAD_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// The artifact service: blob store + index, with uploads and deletions kept apart so
/// that a blob is never removed while an upload is about to point at it.
pub struct Artifacts {
    blobs: BlobStore,
    index: Arc<dyn ArtifactIndex>,
    /// Uploads hold it shared while they publish; deletions hold it exclusively.
    gate: tokio::sync::RwLock<()>,
}

async fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> StoreResult<R> + Send + 'static,
) -> StoreResult<R> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
}

fn not_found(path: &ArtifactPath) -> StoreError {
    ApiError::not_found(format!("No such artifact: '{path}'")).into()
}

impl Artifacts {
    /// A service over a blob store and an index.
    pub fn new(blobs: BlobStore, index: Arc<dyn ArtifactIndex>) -> Artifacts {
        Artifacts {
            blobs,
            index,
            gate: tokio::sync::RwLock::new(()),
        }
    }

    /// Where the bytes live, for start-up messages.
    pub fn describe(&self) -> &str {
        self.blobs.describe()
    }

    /// Removes what a crash left half-written; run once at start-up.
    pub async fn recover(&self) -> StoreResult<usize> {
        Ok(self.blobs.sweep_temp().await?)
    }

    /// Streams `body` to `path`: hashed while written to a temp object, refused on a
    /// digest mismatch, stored once per content, visible only when complete.
    pub async fn put<S, E>(
        &self,
        path: &ArtifactPath,
        body: S,
        expected: Option<Digest>,
    ) -> StoreResult<Digest>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        if path.is_root() {
            return Err(ApiError::invalid("An artifact upload needs a file path").into());
        }
        let staged = self.blobs.stage(body).await?;
        self.publish(path, staged, expected).await
    }

    async fn publish(
        &self,
        path: &ArtifactPath,
        staged: blobs::Staged,
        expected: Option<Digest>,
    ) -> StoreResult<Digest> {
        if let Some(expected) = expected.filter(|e| *e != staged.digest) {
            self.blobs.discard(&staged).await?;
            return Err(BlobError::DigestMismatch {
                expected,
                actual: staged.digest,
            }
            .into());
        }
        let _shared = self.gate.read().await;
        let digest = staged.digest.to_string();
        let index = self.index.clone();
        let known = {
            let digest = digest.clone();
            blocking(move || index.blob_known(&digest)).await
        };
        let known = match known {
            Ok(k) => k,
            Err(e) => {
                let _ = self.blobs.discard(&staged).await;
                return Err(e);
            }
        };
        if let Err(e) = self.blobs.promote(&staged, known).await {
            let _ = self.blobs.discard(&staged).await;
            return Err(e.into());
        }
        let (index, key, size) = (
            self.index.clone(),
            path.as_str().to_owned(),
            staged.size as i64,
        );
        if let Err(e) = blocking(move || index.record_artifact(&key, &digest, size)).await {
            drop(_shared);
            if !known {
                // Nothing indexes the blob just promoted: drop it, unless an upload of
                // the same bytes indexed it meanwhile (the exclusive gate waits for any
                // upload between its `blob_known` and its `record_artifact`).
                let _exclusive = self.gate.write().await;
                let (index, hex) = (self.index.clone(), staged.digest.to_string());
                if !blocking(move || index.blob_known(&hex)).await? {
                    self.blobs.delete(&staged.digest).await?;
                }
            }
            return Err(e);
        }
        Ok(staged.digest)
    }

    /// What is at a path.
    pub async fn kind(&self, path: &ArtifactPath) -> StoreResult<ArtifactKind> {
        let (index, key) = (self.index.clone(), path.as_str().to_owned());
        blocking(move || index.artifact_kind(&key)).await
    }

    /// Opens the current version of a file, or a byte range of it.
    pub async fn get(
        &self,
        path: &ArtifactPath,
        range: Option<std::ops::Range<u64>>,
    ) -> StoreResult<Download> {
        match self.kind(path).await? {
            ArtifactKind::File(entry) => self.open(entry, range).await,
            ArtifactKind::Dir => Err(ApiError::invalid(format!(
                "Artifact path refers to a directory, not a file: '{path}'"
            ))
            .into()),
            ArtifactKind::Missing => Err(not_found(path)),
        }
    }

    async fn open(
        &self,
        entry: ArtifactEntry,
        range: Option<std::ops::Range<u64>>,
    ) -> StoreResult<Download> {
        let digest = Digest::parse(&entry.digest)
            .ok_or_else(|| StoreError::Internal("a malformed digest in the index".into()))?;
        let body = self.blobs.open(&digest, range).await?;
        Ok(Download { entry, body })
    }

    /// One earlier (or the current) version of a file, chosen by digest, or a byte range of it.
    pub async fn get_version(
        &self,
        path: &ArtifactPath,
        digest: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> StoreResult<Download> {
        let entry = self
            .versions(path)
            .await?
            .into_iter()
            .find(|v| v.digest == digest)
            .ok_or_else(|| {
                ApiError::not_found(format!("No version of '{path}' has digest {digest}"))
            })?;
        self.open(entry, range).await
    }

    /// Children of a directory; a file or a missing path lists as empty.
    pub async fn list(&self, dir: &ArtifactPath) -> StoreResult<Vec<ArtifactChild>> {
        let (index, key) = (self.index.clone(), dir.as_str().to_owned());
        blocking(move || index.list_artifacts(&key)).await
    }

    /// Every version of a path, newest first.
    pub async fn versions(&self, path: &ArtifactPath) -> StoreResult<Vec<ArtifactEntry>> {
        let (index, key) = (self.index.clone(), path.as_str().to_owned());
        blocking(move || index.artifact_versions(&key)).await
    }

    /// Deletes a file or a directory tree; blobs nothing else uses go with it.
    pub async fn delete(&self, path: &ArtifactPath) -> StoreResult<()> {
        let _exclusive = self.gate.write().await;
        let (index, key) = (self.index.clone(), path.as_str().to_owned());
        let freed = blocking(move || index.delete_artifacts(&key)).await?;
        self.drop_blobs(&freed).await
    }

    async fn drop_blobs(&self, digests: &[String]) -> StoreResult<()> {
        for d in digests {
            if let Some(digest) = Digest::parse(d) {
                self.blobs.delete(&digest).await?;
            }
        }
        Ok(())
    }

    /// Re-hashes the blob behind a file (or every blob when `path` is `None`).
    pub async fn verify(&self, path: Option<&ArtifactPath>) -> StoreResult<Vec<Verified>> {
        let targets: Vec<(String, i64)> = match path {
            Some(p) => match self.kind(p).await? {
                ArtifactKind::File(e) => vec![(e.digest, e.size)],
                _ => return Err(not_found(p)),
            },
            None => {
                let index = self.index.clone();
                blocking(move || index.all_blobs()).await?
            }
        };
        let mut out = Vec::with_capacity(targets.len());
        for (digest, size) in targets {
            let ok = match Digest::parse(&digest) {
                Some(d) => match self.blobs.verify(&d).await {
                    Ok(found) => found == Some(size as u64),
                    Err(BlobError::NotFound) => false,
                    Err(e) => return Err(e.into()),
                },
                None => false,
            };
            out.push(Verified { digest, ok });
        }
        Ok(out)
    }

    /// Permanently deletes runs deleted before `before_ms` and every blob nothing
    /// references any more (and nobody wanted since `before_ms`).
    pub async fn collect_garbage(&self, before_ms: i64) -> StoreResult<Collected> {
        let _exclusive = self.gate.write().await;
        let index = self.index.clone();
        let (runs, mut freed) = blocking(move || index.purge_deleted_runs(before_ms)).await?;
        let index = self.index.clone();
        freed.extend(blocking(move || index.collect_unreferenced_blobs(before_ms)).await?);
        self.drop_blobs(&freed).await?;
        // Blobs a crash left stored but never indexed. With the gate held exclusively no
        // upload is between storing its blob and indexing it, so none is taken here.
        let index = self.index.clone();
        let indexed: std::collections::HashSet<String> = blocking(move || index.all_blobs())
            .await?
            .into_iter()
            .map(|(digest, _)| digest)
            .collect();
        for digest in self.blobs.list().await? {
            let hex = digest.to_string();
            if !indexed.contains(&hex) {
                self.blobs.delete(&digest).await?;
                freed.push(hex);
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let index = self.index.clone();
        let stale = before_ms.min(now - UPLOAD_LIFETIME_MS);
        let uploads = blocking(move || index.expire_uploads(stale)).await?;
        for id in &uploads {
            self.blobs.drop_parts(id).await?;
        }
        Ok(Collected {
            runs,
            blobs: freed,
            uploads,
        })
    }

    /// Starts a multipart upload of `path`; returns its id.
    pub async fn create_upload(&self, path: &ArtifactPath) -> StoreResult<String> {
        if path.is_root() {
            return Err(ApiError::invalid("A multipart upload needs a file path").into());
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (index, key, uid) = (self.index.clone(), path.as_str().to_owned(), id.clone());
        blocking(move || index.create_upload(&uid, &key)).await?;
        Ok(id)
    }

    async fn upload_path(&self, upload_id: &str) -> StoreResult<ArtifactPath> {
        let (index, uid) = (self.index.clone(), upload_id.to_owned());
        let path = blocking(move || index.upload_path(&uid))
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!("No multipart upload with id {upload_id}"))
            })?;
        ArtifactPath::parse(&path)
            .map_err(|_| StoreError::Internal("a malformed path in the upload index".into()))
    }

    /// Streams one part of a multipart upload; returns the part's digest (its ETag).
    pub async fn put_part<S, E>(&self, upload_id: &str, part: u32, body: S) -> StoreResult<Digest>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        self.upload_path(upload_id).await?;
        Ok(self.blobs.put_part(upload_id, part, body).await?.digest)
    }

    /// Joins the parts in order into the file, then forgets the upload.
    pub async fn complete_upload(
        &self,
        upload_id: &str,
        path: &ArtifactPath,
        parts: &[u32],
    ) -> StoreResult<Digest> {
        let pending = self.upload_path(upload_id).await?;
        if pending != *path {
            return Err(ApiError::invalid("The multipart upload belongs to another path").into());
        }
        let staged = self
            .blobs
            .assemble(upload_id, parts)
            .await
            .map_err(|e| match e {
                BlobError::NotFound => {
                    StoreError::Api(ApiError::invalid("A listed part was never uploaded"))
                }
                other => other.into(),
            })?;
        let digest = self.publish(path, staged, None).await?;
        self.abort_upload(upload_id).await?;
        Ok(digest)
    }

    /// Drops an upload and its parts.
    pub async fn abort_upload(&self, upload_id: &str) -> StoreResult<()> {
        self.blobs.drop_parts(upload_id).await?;
        let (index, uid) = (self.index.clone(), upload_id.to_owned());
        blocking(move || index.finish_upload(&uid)).await
    }

    /// Temp objects present (tests and health checks).
    pub async fn temp_objects(&self) -> StoreResult<usize> {
        Ok(self.blobs.temp_objects().await?)
    }
}
