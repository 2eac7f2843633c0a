//! Content-addressed blobs in any object_store backend: streamed in through a temp
//! object while hashing, promoted under their SHA-256, streamed out with ranges.
//!
//! Object layout under the backend's root (the one place object keys are made):
//! `blobs/<2 hex>/<64 hex>` for content, `tmp/<uuid>` for uploads in flight,
//! `parts/<upload id>/<part number>` for multipart parts.

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use futures_util::Stream;
use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, GetResultPayload, ObjectStore, WriteMultipart};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Upload buffers: one part in flight while the next fills keeps memory bounded.
const PART_SIZE: usize = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;

/// Chunks queued for the hashing thread (bounded memory: actix chunks are small).
const CHUNKS_QUEUED: usize = 16;

/// Bytes an upload writes between two flushes of its file on the local backend.
const FLUSH_EVERY: usize = 16 * 1024 * 1024;

/// Writes the chunks to a new file at `path`. Every `FLUSH_EVERY` bytes a second thread
/// is asked to `sync_data` the file (a request while one is running is dropped), so the
/// writes never wait for the disk and the disk never waits for the end.
fn write_file(
    path: &std::path::Path,
    mut chunks: tokio::sync::mpsc::Receiver<Bytes>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::File::create_new(path)?;
    let flusher = file.try_clone()?;
    let (flush, requests) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("cairn-flush".into())
        .spawn(move || {
            while requests.recv().is_ok() {
                let _ = flusher.sync_data();
            }
        })?;
    let mut since_flush = 0;
    while let Some(chunk) = chunks.blocking_recv() {
        file.write_all(&chunk)?;
        since_flush += chunk.len();
        if since_flush >= FLUSH_EVERY {
            since_flush = 0;
            let _ = flush.try_send(());
        }
    }
    Ok(())
}

/// A SHA-256 computed on a blocking thread from the chunks sent to it, so that hashing
/// overlaps with reading the request body instead of stalling it (hashing is the
/// largest cost of an upload). Dropping the sender ends the input; the handle yields
/// the digest.
fn hasher() -> (
    tokio::sync::mpsc::Sender<Bytes>,
    tokio::task::JoinHandle<Digest>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(CHUNKS_QUEUED);
    let digest = tokio::task::spawn_blocking(move || {
        let mut hasher = Sha256::new();
        while let Some(chunk) = rx.blocking_recv() {
            hasher.update(&chunk);
        }
        Digest(hasher.finalize().into())
    });
    (tx, digest)
}

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

impl Digest {
    /// Parses 64 hex characters (either case).
    pub fn parse(hex: &str) -> Option<Digest> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Digest(out))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{self}")
    }
}

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The object is not there.
    #[error("no such object")]
    NotFound,
    /// The bytes did not hash to what the caller said they would.
    #[error("content digest {actual} does not match the expected {expected}")]
    DigestMismatch {
        /// What the caller said.
        expected: Digest,
        /// What the bytes hash to.
        actual: Digest,
    },
    /// The request body broke off.
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// The backend failed.
    #[error("object store: {0}")]
    Backend(String),
}

impl From<object_store::Error> for BlobError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => BlobError::NotFound,
            other => BlobError::Backend(other.to_string()),
        }
    }
}

/// Download block size on the local backend.
const READ_BLOCK: usize = 1024 * 1024;

/// Streams `range` of a local file in `READ_BLOCK`s, each read on the blocking pool.
fn read_file(
    file: std::fs::File,
    range: std::ops::Range<u64>,
) -> BoxStream<'static, Result<Bytes, BlobError>> {
    use std::os::unix::fs::FileExt;
    let file = Arc::new(file);
    futures_util::stream::unfold(Some(range.start), move |next| {
        let file = file.clone();
        let end = range.end;
        async move {
            let pos = next.filter(|p| *p < end)?;
            let len = ((end - pos) as usize).min(READ_BLOCK);
            let read = tokio::task::spawn_blocking(move || {
                let mut buf = vec![0u8; len];
                file.read_exact_at(&mut buf, pos).map(|()| buf)
            })
            .await;
            Some(match read {
                Ok(Ok(buf)) => (Ok(Bytes::from(buf)), Some(pos + len as u64)),
                Ok(Err(e)) => (
                    Err(BlobError::Backend(format!("reading a blob: {e}"))),
                    None,
                ),
                Err(e) => (Err(BlobError::Backend(e.to_string())), None),
            })
        }
    })
    .boxed()
}

/// Bytes written to a temp object, hashed, not yet visible.
#[derive(Debug)]
pub struct Staged {
    key: Key,
    /// SHA-256 of the bytes.
    pub digest: Digest,
    /// Length in bytes.
    pub size: u64,
}

/// An object store holding blobs, temp uploads and multipart parts.
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// Set for the local backend: where files live, for fsync and temp sweeping.
    local_root: Option<PathBuf>,
    describe: String,
}

impl BlobStore {
    /// Blobs in a local directory (created if missing).
    pub fn local(root: PathBuf) -> Result<BlobStore, BlobError> {
        std::fs::create_dir_all(&root)
            .map_err(|e| BlobError::Backend(format!("{}: {e}", root.display())))?;
        let root = root
            .canonicalize()
            .map_err(|e| BlobError::Backend(e.to_string()))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(&root)?;
        Ok(BlobStore {
            store: Arc::new(store),
            describe: root.display().to_string(),
            local_root: Some(root),
        })
    }

    /// Blobs in process memory (tests).
    pub fn memory() -> BlobStore {
        BlobStore {
            store: Arc::new(object_store::memory::InMemory::new()),
            local_root: None,
            describe: "memory".into(),
        }
    }

    /// Blobs in any other object store, e.g. S3.
    pub fn remote(store: Arc<dyn ObjectStore>, describe: String) -> BlobStore {
        BlobStore {
            store,
            local_root: None,
            describe,
        }
    }

    /// Where the blobs live, for start-up messages.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn blob_key(digest: &Digest) -> Key {
        let hex = digest.to_string();
        Key::from(format!("blobs/{}/{hex}", &hex[..2]))
    }

    fn part_key(upload_id: &str, part: u32) -> Key {
        Key::from(format!("parts/{upload_id}/{part:05}"))
    }

    /// Streams `body` into a temp object while hashing it. On any failure the temp
    /// object is removed, so an interrupted upload leaves nothing behind.
    pub async fn stage<S, E>(&self, body: S) -> Result<Staged, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        let key = Key::from(format!("tmp/{}", uuid::Uuid::new_v4().simple()));
        self.write(key, body).await
    }

    async fn write<S, E>(&self, key: Key, mut body: S) -> Result<Staged, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        if let Some(root) = &self.local_root {
            return self.write_local(root.join(key.as_ref()), key, body).await;
        }
        let upload = self.store.put_multipart(&key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let (hasher, digest) = hasher();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(BlobError::Interrupted(e.to_string()));
                }
            };
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(e.into());
            }
            size += chunk.len() as u64;
            writer.write(&chunk);
            if hasher.send(chunk).await.is_err() {
                let _ = writer.abort().await;
                return Err(BlobError::Backend("the hashing thread stopped".into()));
            }
        }
        drop(hasher);
        writer.finish().await?;
        let digest = digest
            .await
            .map_err(|e| BlobError::Backend(format!("hashing: {e}")))?;
        Ok(Staged { key, digest, size })
    }

    /// `write` on the local backend: the body's chunks go to a file of their own on one
    /// thread and to the hasher on another (the same bytes, never copied in between),
    /// and the file's dirty pages are flushed while the body still arrives, so the disk
    /// works alongside the network and the final fsync finds little left.
    async fn write_local<S, E>(
        &self,
        path: PathBuf,
        key: Key,
        mut body: S,
    ) -> Result<Staged, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        let (hasher, digest) = hasher();
        let (file, chunks) = tokio::sync::mpsc::channel::<Bytes>(CHUNKS_QUEUED);
        let written = tokio::task::spawn_blocking(move || write_file(&path, chunks));
        let mut size = 0u64;
        let mut failure = None;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    failure = Some(BlobError::Interrupted(e.to_string()));
                    break;
                }
            };
            size += chunk.len() as u64;
            if hasher.send(chunk.clone()).await.is_err() || file.send(chunk).await.is_err() {
                failure = Some(BlobError::Backend("the upload's writer stopped".into()));
                break;
            }
        }
        drop((hasher, file));
        let written = written
            .await
            .map_err(|e| BlobError::Backend(e.to_string()))
            .and_then(|w| w.map_err(|e| BlobError::Backend(format!("writing the upload: {e}"))));
        // The writer's own error (a full disk) says more than the stop it caused.
        let failure = match (written, failure) {
            (Err(e), Some(BlobError::Backend(_)) | None) => Some(e),
            (_, failure) => failure,
        };
        if let Some(failure) = failure {
            let staged = Staged {
                key,
                digest: Digest([0; 32]),
                size,
            };
            let _ = self.discard(&staged).await;
            return Err(failure);
        }
        let digest = digest
            .await
            .map_err(|e| BlobError::Backend(format!("hashing: {e}")))?;
        Ok(Staged { key, digest, size })
    }

    /// Makes staged bytes the blob of their digest (durably, on the local backend)
    /// and removes the temp object. Content already stored is not written again.
    pub async fn promote(&self, staged: &Staged, already_stored: bool) -> Result<(), BlobError> {
        if already_stored {
            return self.discard(staged).await;
        }
        let target = Self::blob_key(&staged.digest);
        self.store.rename(&staged.key, &target).await?;
        if let Some(root) = &self.local_root {
            let file = root.join(target.as_ref());
            let sync = move || -> std::io::Result<()> {
                std::fs::File::open(&file)?.sync_all()?;
                if let Some(dir) = file.parent() {
                    std::fs::File::open(dir)?.sync_all()?;
                }
                Ok(())
            };
            tokio::task::spawn_blocking(sync)
                .await
                .map_err(|e| BlobError::Backend(e.to_string()))?
                .map_err(|e| BlobError::Backend(format!("syncing the blob: {e}")))?;
        }
        Ok(())
    }

    /// Drops staged bytes.
    pub async fn discard(&self, staged: &Staged) -> Result<(), BlobError> {
        match self.store.delete(&staged.key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams a blob, or the byte range `[start, end)` of it.
    pub async fn open(
        &self,
        digest: &Digest,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&Self::blob_key(digest), options)
            .await?;
        let range = result.range.clone();
        match result.payload {
            // Local files are read in large blocks off the async threads: object_store's
            // own file stream reads 8 KiB at a time, which caps downloads well below disk speed.
            GetResultPayload::File(file, _) => Ok(read_file(file, range)),
            GetResultPayload::Stream(stream) => {
                Ok(stream.map(|r| r.map_err(BlobError::from)).boxed())
            }
        }
    }

    /// Re-reads a blob and hashes it: `Ok(Some(size))` when it matches its name.
    pub async fn verify(&self, digest: &Digest) -> Result<Option<u64>, BlobError> {
        let mut stream = self.open(digest, None).await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((Digest(hasher.finalize().into()) == *digest).then_some(size))
    }

    /// Removes a blob; a missing one is fine.
    pub async fn delete(&self, digest: &Digest) -> Result<(), BlobError> {
        match self.store.delete(&Self::blob_key(digest)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The digest of every blob stored. On the local backend the directories are walked
    /// without following symlinks, so a link planted under `blobs/` leads nowhere.
    pub async fn list(&self) -> Result<Vec<Digest>, BlobError> {
        let keys: Vec<String> = if let Some(root) = &self.local_root {
            let dir = root.join("blobs");
            let walk = move || -> std::io::Result<Vec<String>> {
                let mut keys = Vec::new();
                for shard in std::fs::read_dir(&dir)? {
                    let shard = shard?;
                    if !shard.file_type()?.is_dir() {
                        continue;
                    }
                    for file in std::fs::read_dir(shard.path())? {
                        let file = file?;
                        if file.file_type()?.is_file() {
                            keys.push(format!(
                                "blobs/{}/{}",
                                shard.file_name().to_string_lossy(),
                                file.file_name().to_string_lossy()
                            ));
                        }
                    }
                }
                Ok(keys)
            };
            match tokio::task::spawn_blocking(walk)
                .await
                .map_err(|e| BlobError::Backend(e.to_string()))?
            {
                Ok(keys) => keys,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(BlobError::Backend(e.to_string())),
            }
        } else {
            let metas: Vec<_> = self.store.list(Some(&Key::from("blobs"))).collect().await;
            metas
                .into_iter()
                .map(|m| m.map(|m| m.location.to_string()))
                .collect::<Result<_, _>>()?
        };
        // Only names this module makes: `blobs/<first two hex>/<64 hex>`.
        Ok(keys
            .iter()
            .filter_map(|key| {
                let digest = Digest::parse(key.rsplit('/').next()?)?;
                (*key == Self::blob_key(&digest).to_string()).then_some(digest)
            })
            .collect())
    }

    /// Streams one multipart part into its own object.
    pub async fn put_part<S, E>(
        &self,
        upload_id: &str,
        part: u32,
        body: S,
    ) -> Result<Staged, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: fmt::Display,
    {
        self.write(Self::part_key(upload_id, part), body).await
    }

    /// Concatenates the parts, in order, into a staged upload (hashing as it goes).
    pub async fn assemble(&self, upload_id: &str, parts: &[u32]) -> Result<Staged, BlobError> {
        let mut streams = Vec::with_capacity(parts.len());
        for part in parts {
            streams.push(
                self.store
                    .get(&Self::part_key(upload_id, *part))
                    .await?
                    .into_stream(),
            );
        }
        let joined = futures_util::stream::iter(streams).flatten();
        self.stage(Box::pin(joined)).await
    }

    /// Removes every part of an upload.
    pub async fn drop_parts(&self, upload_id: &str) -> Result<(), BlobError> {
        let prefix = Key::from(format!("parts/{upload_id}"));
        let keys: Vec<_> = self.store.list(Some(&prefix)).collect().await;
        for meta in keys {
            match self.store.delete(&meta?.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Start-up sweep: removes uploads a crash left half-written.
    pub async fn sweep_temp(&self) -> Result<usize, BlobError> {
        if let Some(root) = &self.local_root {
            // The local backend's own staging files (`name#N`) are invisible to listing,
            // so the temp directory is cleared on disk.
            let dir = root.join("tmp");
            let count = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
            if count > 0 {
                std::fs::remove_dir_all(&dir).map_err(|e| BlobError::Backend(e.to_string()))?;
            }
            return Ok(count);
        }
        let keys: Vec<_> = self.store.list(Some(&Key::from("tmp"))).collect().await;
        let mut removed = 0;
        for meta in keys {
            self.store.delete(&meta?.location).await?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Whether nothing but blobs remains (no temp objects): for tests.
    pub async fn temp_objects(&self) -> Result<usize, BlobError> {
        if let Some(root) = &self.local_root {
            return Ok(std::fs::read_dir(root.join("tmp"))
                .map(|d| d.count())
                .unwrap_or(0));
        }
        let keys: Vec<_> = self.store.list(Some(&Key::from("tmp"))).collect().await;
        Ok(keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(chunks: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures_util::stream::iter(
            chunks
                .iter()
                .map(|c| Ok(Bytes::from_static(c)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn staged_bytes_are_named_by_their_sha256_and_read_back() {
        let store = BlobStore::memory();
        let staged = store.stage(body(&[b"hello ", b"world"])).await.unwrap();
        assert_eq!(
            staged.digest.to_string(),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(staged.size, 11);
        store.promote(&staged, false).await.unwrap();
        let bytes: Vec<u8> = store
            .open(&staged.digest, Some(6..11))
            .await
            .unwrap()
            .map(|c| c.unwrap().to_vec())
            .concat()
            .await;
        assert_eq!(bytes, b"world");
        assert_eq!(store.verify(&staged.digest).await.unwrap(), Some(11));
        assert_eq!(store.temp_objects().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn an_interrupted_body_leaves_no_temp_object() {
        let store = BlobStore::memory();
        let broken = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"part")),
            Err("client went away".to_string()),
        ]);
        assert!(matches!(
            store.stage(broken).await,
            Err(BlobError::Interrupted(_))
        ));
        assert_eq!(store.temp_objects().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn listing_names_only_blobs_stored_under_their_digest() {
        let store = BlobStore::memory();
        let mut expected = Vec::new();
        for bytes in [&b"one"[..], b"two"] {
            let staged = store.stage(body(&[bytes])).await.unwrap();
            store.promote(&staged, false).await.unwrap();
            expected.push(staged.digest);
        }
        store.stage(body(&[b"in flight"])).await.unwrap();
        let hex = expected[0].to_string();
        for junk in [
            format!("blobs/zz/{hex}"),
            format!("blobs/{}/{}", &hex[..2], hex.to_uppercase()),
            "blobs/ab/readme.txt".to_owned(),
        ] {
            store
                .store
                .put(&Key::from(junk), Bytes::from_static(b"x").into())
                .await
                .unwrap();
        }
        let mut listed = store.list().await.unwrap();
        listed.sort();
        expected.sort();
        assert_eq!(listed, expected);
    }

    #[test]
    fn digests_round_trip_through_hex_and_reject_junk() {
        let hex = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
        assert_eq!(Digest::parse(hex).unwrap().to_string(), hex);
        assert!(Digest::parse("zz").is_none());
        assert!(Digest::parse(&"é".repeat(32)).is_none());
    }
}
