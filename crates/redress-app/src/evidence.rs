//! Evidence files, in a local directory or an S3-compatible bucket, never
//! in the clear. A case's files are named by a keyed hash of their content
//! under the case's key (`CaseKey::evidence_name`: the same bytes are
//! stored once per case) and sealed with that key, so that a purge, which
//! destroys the key, leaves nothing readable even where a deleted object
//! lingers (a versioned bucket). Files stored before case keys are named
//! by their SHA-256 and shared between cases: they are read as they are,
//! or opened with the data key (`Vault::seal_file`), and
//! `redress keys rotate` seals them again.
//!
//! The uploader's file name is kept as metadata and never reaches the
//! storage; the key is derived from the content hash alone
//! (`<2 hex>/<sha256>`, the same layout on disk and in a bucket). Types are
//! sniffed from the bytes, not taken from the upload's headers.
//!
//! Storage goes through the `object_store` crate: `LocalFileSystem` under
//! `<data_dir>/evidence` by default (files are fsynced, as before), or
//! `AmazonS3` when `evidence_url` names a bucket, so that every instance
//! sees the same files.

use redress_domain::Reason;
use std::path::PathBuf;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::error::{AppError, AppResult};
use crate::privacy::CaseKey;
use crate::privacy::sha256_hex;

/// Where evidence files live.
#[derive(Debug, Clone, Default)]
pub enum EvidenceLocation {
    /// `<data_dir>/evidence` (the default).
    #[default]
    DataDir,
    /// An S3-compatible bucket.
    S3(S3Settings),
}

/// An S3-compatible bucket for evidence. Unset fields fall back to the
/// standard `AWS_*` variables (`AmazonS3Builder::from_env`).
#[derive(Clone, Default)]
pub struct S3Settings {
    /// `s3://bucket` or `s3://bucket/prefix`.
    pub url: String,
    /// For S3-compatible servers (MinIO, Ceph, …): `http://host:9000`.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Allows a plain-HTTP endpoint.
    pub allow_http: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("url", &self.url)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "…"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct EvidenceStore {
    objects: Arc<dyn ObjectStore>,
    /// Seals files on the way in and opens them on the way out; `None`
    /// only for a store built without one (tests of the store itself).
    vault: Option<crate::privacy::Vault>,
    /// The directory, when the files are local: written files are fsynced.
    local_root: Option<PathBuf>,
    /// For logs and messages: the directory or the bucket URL.
    pub description: String,
    pub max_bytes: u64,
}

/// Content types accepted as evidence.
const ALLOWED: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heif",
    "image/heic",
    "image/bmp",
    "application/pdf",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "audio/mpeg",
    "audio/mp4",
    "audio/x-wav",
    "audio/ogg",
    "audio/amr",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword",
    "application/vnd.ms-excel",
    "application/zip",
    "text/plain",
];

/// What a stored file turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
}

/// The sniffed content type, or the reason it is refused.
pub fn sniff(bytes: &[u8]) -> Result<String, Reason> {
    if let Some(kind) = infer::get(bytes) {
        let mime = kind.mime_type();
        return if ALLOWED.contains(&mime) {
            Ok(mime.to_string())
        } else {
            Err(Reason::FileType {
                mime: mime.to_string(),
            })
        };
    }
    if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        return Ok("text/plain".into());
    }
    Err(Reason::FileUnknown)
}

/// A user's file name reduced to something safe to show and to put in a
/// `Content-Disposition` header: no directories, no control characters.
pub fn clean_filename(raw: Option<&str>) -> String {
    let base = raw
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect::<String>();
    let base = base.trim().trim_start_matches('.').to_string();
    if base.is_empty() {
        "evidence".into()
    } else {
        base
    }
}

impl EvidenceStore {
    /// Files under `root` (`<root>/<2 hex>/<sha256>`).
    pub fn new(root: PathBuf, max_bytes: u64) -> AppResult<Self> {
        std::fs::create_dir_all(&root).map_err(AppError::internal)?;
        let objects = LocalFileSystem::new_with_prefix(&root).map_err(AppError::internal)?;
        Ok(Self {
            objects: Arc::new(objects),
            vault: None,
            description: root.display().to_string(),
            local_root: Some(root),
            max_bytes,
        })
    }

    /// Files in an S3-compatible bucket, under the URL's prefix if any.
    pub fn s3(settings: &S3Settings, max_bytes: u64) -> AppResult<Self> {
        let url = settings.url.trim();
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            AppError::Internal(format!("evidence_url {url:?} must start with s3://"))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(AppError::Internal(format!(
                "evidence_url {url:?} names no bucket"
            )));
        }
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(v) = settings.endpoint.as_deref().filter(|v| !v.is_empty()) {
            b = b.with_endpoint(v);
        }
        if let Some(v) = settings.region.as_deref().filter(|v| !v.is_empty()) {
            b = b.with_region(v);
        }
        if let Some(v) = settings.access_key_id.as_deref().filter(|v| !v.is_empty()) {
            b = b.with_access_key_id(v);
        }
        if let Some(v) = settings
            .secret_access_key
            .as_deref()
            .filter(|v| !v.is_empty())
        {
            b = b.with_secret_access_key(v);
        }
        if settings.allow_http {
            b = b.with_allow_http(true);
        }
        let s3 = b
            .build()
            .map_err(|e| AppError::Internal(format!("evidence store {url}: {e}")))?;
        let prefix = prefix.trim_matches('/');
        let objects: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        };
        Ok(Self::with_objects(objects, url.to_string(), max_bytes))
    }

    /// Files in any object store (tests, other backends).
    pub fn with_objects(
        objects: Arc<dyn ObjectStore>,
        description: String,
        max_bytes: u64,
    ) -> Self {
        Self {
            objects,
            vault: None,
            local_root: None,
            description,
            max_bytes,
        }
    }

    /// The store for `location`: the data dir's `evidence/` or a bucket.
    pub fn open(
        location: &EvidenceLocation,
        data_dir: &std::path::Path,
        max_bytes: u64,
    ) -> AppResult<Self> {
        match location {
            EvidenceLocation::DataDir => Self::new(data_dir.join("evidence"), max_bytes),
            EvidenceLocation::S3(s) => Self::s3(s, max_bytes),
        }
    }

    /// Files sealed with `vault`'s keys.
    pub fn sealed_with(mut self, vault: crate::privacy::Vault) -> Self {
        self.vault = Some(vault);
        self
    }

    /// Whether the files live on this machine's disk.
    pub fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    /// `<2 hex>/<sha256>` for a well-formed lower-case hash, else `None`.
    pub fn key_for(sha256: &str) -> Option<Key> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        valid.then(|| Key::from(format!("{}/{sha256}", &sha256[..2])))
    }

    /// Checks and stores one file of a case, under its name and sealed with
    /// the case's key; the same content is stored once per case.
    pub async fn put_in_case(&self, key: &CaseKey, bytes: &[u8]) -> AppResult<StoredFile> {
        self.check_size(bytes)?;
        self.store_as(bytes, None, Some(key)).await
    }

    /// Checks and stores one file by its content hash, sealed with the data
    /// key: the layout of files stored before case keys (and of a file no
    /// case names yet, in tests). Hashing and sniffing run on a blocking
    /// thread.
    pub async fn put(&self, bytes: &[u8]) -> AppResult<StoredFile> {
        self.check_size(bytes)?;
        self.store_as(bytes, None, None).await
    }

    fn check_size(&self, bytes: &[u8]) -> AppResult<()> {
        if bytes.is_empty() {
            return Err(AppError::invalid("file", Reason::FileEmpty));
        }
        if bytes.len() as u64 > self.max_bytes {
            return Err(AppError::TooLarge(format!(
                "a file may have at most {} bytes",
                self.max_bytes
            )));
        }
        Ok(())
    }

    /// Stores a message received by mail, as it came (`message/rfc822`):
    /// the receiver's own size limit bounded it, and it need not be a
    /// type evidence may have.
    pub async fn put_mail(&self, key: &CaseKey, bytes: &[u8]) -> AppResult<StoredFile> {
        if bytes.is_empty() {
            return Err(AppError::invalid("file", Reason::FileEmpty));
        }
        self.store_as(bytes, Some("message/rfc822"), Some(key))
            .await
    }

    /// Hashes (and, without a given type, sniffs) and stores one file: for
    /// a case (named and sealed with its key), or by its hash.
    async fn store_as(
        &self,
        bytes: &[u8],
        given: Option<&'static str>,
        case: Option<&CaseKey>,
    ) -> AppResult<StoredFile> {
        let data = bytes.to_vec();
        let (data, content_type, sha256) = tokio::task::spawn_blocking(move || {
            let content_type = match given {
                Some(t) => t.to_string(),
                None => sniff(&data)?,
            };
            let sha256 = sha256_hex(&data);
            Ok::<_, Reason>((data, content_type, sha256))
        })
        .await
        .map_err(AppError::internal)?
        .map_err(|m| AppError::invalid("file", m))?;
        let name = match case {
            Some(k) => k.evidence_name(&sha256),
            None => sha256.clone(),
        };
        // Content-addressed: a file already there holds these very bytes.
        if !self.exists(&name).await? {
            let data = match (case, &self.vault) {
                (Some(k), _) => k.seal_file(&name, &data),
                (None, Some(v)) => v.seal_file(&sha256, &data),
                (None, None) => data,
            };
            self.write(&name, data).await?;
        }
        Ok(StoredFile {
            sha256,
            size: bytes.len() as u64,
            content_type,
        })
    }

    /// Whether a file is stored under `name` (a well-formed hash).
    async fn exists(&self, name: &str) -> AppResult<bool> {
        let key = Self::key_for(name).ok_or_else(|| AppError::internal("not a name"))?;
        match self.objects.head(&key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(AppError::internal(e)),
        }
    }

    /// Writes a file under `name`, durably on a local disk.
    async fn write(&self, name: &str, data: Vec<u8>) -> AppResult<()> {
        let key = Self::key_for(name).ok_or_else(|| AppError::internal("not a name"))?;
        {
            self.objects
                .put(&key, PutPayload::from(data))
                .await
                .map_err(AppError::internal)?;
            if let Some(root) = &self.local_root {
                // LocalFileSystem writes a staged file and renames it; make
                // the file and the rename durable before a case names it.
                let path = root.join(&name[..2]).join(name);
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    std::fs::File::open(&path)?.sync_all()?;
                    std::fs::File::open(path.parent().expect("has a parent"))?.sync_all()
                })
                .await
                .map_err(AppError::internal)?
                .map_err(AppError::internal)?;
            }
        }
        Ok(())
    }

    /// A case's file with content hash `sha256`: under its name in the
    /// case (sealed with the case's key), else — a file stored before case
    /// keys — under its hash. `NotFound` when neither is there.
    pub async fn read_in_case(
        &self,
        key: Option<&CaseKey>,
        sha256: &str,
    ) -> std::io::Result<Vec<u8>> {
        if let Some(k) = key {
            let name = k.evidence_name(sha256);
            match self.raw(&name).await {
                Ok(stored) => {
                    return k.open_file(&name, &stored).ok_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            "an evidence file does not open with its case's key",
                        )
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        self.read(sha256).await
    }

    /// Makes and stores the thumbnail of a picture of the case (sealed
    /// with its key, under `CaseKey::thumbnail_name`); false, logged,
    /// when the picture does not decode within the limits.
    pub async fn put_thumbnail(
        &self,
        key: &CaseKey,
        sha256: &str,
        bytes: &[u8],
    ) -> AppResult<bool> {
        let name = key.thumbnail_name(sha256);
        // The same picture uploaded again: its thumbnail is there.
        if self.exists(&name).await? {
            return Ok(true);
        }
        let data = bytes.to_vec();
        let made = tokio::task::spawn_blocking(move || crate::thumbnail::make(&data))
            .await
            .map_err(AppError::internal)?;
        let thumb = match made {
            Ok(thumb) => thumb,
            Err(refused) => {
                tracing::info!(%refused, "no thumbnail for an uploaded picture");
                metrics::counter!("redress_thumbnails_refused_total").increment(1);
                return Ok(false);
            }
        };
        let sealed = key.seal_file(&name, &thumb);
        self.write(&name, sealed).await?;
        Ok(true)
    }

    /// The thumbnail of the case's file with content hash `sha256`.
    pub async fn read_thumbnail(&self, key: &CaseKey, sha256: &str) -> std::io::Result<Vec<u8>> {
        let name = key.thumbnail_name(sha256);
        let stored = self.raw(&name).await?;
        key.open_file(&name, &stored).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a thumbnail does not open with its case's key",
            )
        })
    }

    /// Copies a thumbnail into another case, as [`Self::copy_to_case`]
    /// copies the file (nothing when there is none).
    pub async fn copy_thumbnail_to_case(
        &self,
        from: &CaseKey,
        to: &CaseKey,
        sha256: &str,
    ) -> AppResult<()> {
        let plain = match self.read_thumbnail(from, sha256).await {
            Ok(plain) => plain,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(AppError::internal(e)),
        };
        let name = to.thumbnail_name(sha256);
        self.write(&name, to.seal_file(&name, &plain)).await
    }

    /// Copies a case's file into another case: opened with the one's key,
    /// sealed and named with the other's (a merge).
    pub async fn copy_to_case(&self, from: &CaseKey, to: &CaseKey, sha256: &str) -> AppResult<()> {
        let name = to.evidence_name(sha256);
        if self.exists(&name).await? {
            return Ok(());
        }
        let plain = match self.read_in_case(Some(from), sha256).await {
            Ok(plain) => plain,
            // Nothing to copy (lost, or never stored): the case names it
            // as the other case did.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(AppError::internal(e)),
        };
        self.write(&name, to.seal_file(&name, &plain)).await
    }

    /// The bytes stored under `name`, as stored.
    async fn raw(&self, name: &str) -> std::io::Result<Vec<u8>> {
        let key = Self::key_for(name)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a hash"))?;
        let io = |e: object_store::Error| match e {
            object_store::Error::NotFound { .. } => {
                std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string())
            }
            e => std::io::Error::other(e.to_string()),
        };
        let got = self.objects.get(&key).await.map_err(io)?;
        Ok(got.bytes().await.map_err(io)?.to_vec())
    }

    /// Removes the file with that hash (no error when it is not there).
    pub async fn delete(&self, sha256: &str) -> AppResult<()> {
        let key = Self::key_for(sha256).ok_or_else(|| AppError::internal("not a hash"))?;
        match self.objects.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(AppError::internal(e)),
        }
    }

    /// The files under one key prefix (`00`…`ff`, the first two hex
    /// digits of their hashes) written before `before`: their hashes.
    /// Anything whose key is not `<2 hex>/<sha256>` is left out.
    pub async fn files_older_than(
        &self,
        prefix: u8,
        before: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<Vec<String>> {
        use futures_util::StreamExt;
        let dir = Key::from(format!("{prefix:02x}"));
        let mut listing = self.objects.list(Some(&dir));
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = match meta {
                Ok(m) => m,
                // A file removed while listed.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(AppError::internal(e)),
            };
            let Some(hash) = meta.location.filename() else {
                continue;
            };
            let well_formed = Self::key_for(hash).is_some_and(|k| k == meta.location);
            if well_formed && meta.last_modified < before {
                out.push(hash.to_string());
            }
        }
        Ok(out)
    }

    /// The bytes of the file stored by its hash (before case keys);
    /// `NotFound` when no file has that hash.
    pub async fn read(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        let stored = self.raw(sha256).await?;
        match &self.vault {
            Some(v) => v.open_file(sha256, &stored).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "an evidence file does not open with this data key",
                )
            }),
            None => Ok(stored.to_vec()),
        }
    }

    /// Seals one stored file again under the current key (key rotation);
    /// true when it was rewritten.
    pub async fn reseal(&self, sha256: &str) -> AppResult<bool> {
        let Some(vault) = &self.vault else {
            return Ok(false);
        };
        let stored = match self.raw(sha256).await {
            Ok(stored) => stored,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(AppError::internal(e)),
        };
        // A case's file is sealed with the case's key, not the data key.
        if vault.file_is_current(&stored) || crate::privacy::is_case_file(&stored) {
            return Ok(false);
        }
        let plain = vault.open_file(sha256, &stored).ok_or_else(|| {
            AppError::internal("an evidence file does not open with this data key")
        })?;
        self.write(sha256, vault.seal_file(sha256, &plain)).await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_become_paths() {
        assert_eq!(clean_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_filename(Some("C:\\x\\..\\a.png")), "a.png");
        assert_eq!(clean_filename(Some("..")), "evidence");
        assert_eq!(clean_filename(None), "evidence");
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"%PDF-1.4 hello").unwrap(), "application/pdf");
        assert_eq!(sniff("退款凭证".as_bytes()).unwrap(), "text/plain");
        assert!(sniff(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").is_err());
    }
}
