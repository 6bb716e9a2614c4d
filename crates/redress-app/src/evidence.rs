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
//! Storage goes through [`EvidenceBackend`], which `redress-channels`
//! implements with the `object_store` crate (`evidence.rs`):
//! `LocalFileSystem` under `<data_dir>/evidence` by default (files are
//! fsynced), or `AmazonS3` when `evidence_url` names a bucket, so that
//! every instance sees the same files. This module keeps the naming,
//! sealing and checks.

use redress_domain::Reason;
use std::sync::Arc;

use crate::edges::EvidenceBackend;
use crate::error::{AppError, AppResult};
use crate::privacy::CaseKey;
use crate::privacy::sha256_hex;

#[derive(Clone)]
pub struct EvidenceStore {
    objects: Arc<dyn EvidenceBackend>,
    /// Seals files on the way in and opens them on the way out; `None`
    /// only for a store built without one (tests of the store itself).
    vault: Option<crate::privacy::Vault>,
    /// For logs and messages: the directory or the bucket URL.
    pub description: String,
    pub max_bytes: u64,
}

impl std::fmt::Debug for EvidenceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceStore")
            .field("description", &self.description)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
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
    /// Files kept by `objects`, at most `max_bytes` each.
    pub fn new(objects: Arc<dyn EvidenceBackend>, max_bytes: u64) -> Self {
        Self {
            description: objects.description(),
            objects,
            vault: None,
            max_bytes,
        }
    }

    /// Files sealed with `vault`'s keys.
    pub fn sealed_with(mut self, vault: crate::privacy::Vault) -> Self {
        self.vault = Some(vault);
        self
    }

    /// Whether the files live on this machine's disk.
    pub fn is_local(&self) -> bool {
        self.objects.is_local()
    }

    /// `<2 hex>/<sha256>` for a well-formed lower-case hash, else `None`.
    pub fn key_for(sha256: &str) -> Option<String> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        valid.then(|| format!("{}/{sha256}", &sha256[..2]))
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
        self.objects.exists(&key).await.map_err(AppError::internal)
    }

    /// Writes a file under `name`, durably on a local disk.
    async fn write(&self, name: &str, data: Vec<u8>) -> AppResult<()> {
        let key = Self::key_for(name).ok_or_else(|| AppError::internal("not a name"))?;
        self.objects
            .put(&key, data)
            .await
            .map_err(AppError::internal)
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
        self.objects.get(&key).await
    }

    /// Removes the file with that hash (no error when it is not there).
    pub async fn delete(&self, sha256: &str) -> AppResult<()> {
        let key = Self::key_for(sha256).ok_or_else(|| AppError::internal("not a hash"))?;
        self.objects.delete(&key).await.map_err(AppError::internal)
    }

    /// The files under one key prefix (`00`…`ff`, the first two hex
    /// digits of their hashes) written before `before`: their hashes.
    /// Anything whose key is not `<2 hex>/<sha256>` is left out.
    pub async fn files_older_than(
        &self,
        prefix: u8,
        before: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<Vec<String>> {
        let dir = format!("{prefix:02x}");
        let listing = self.objects.list(&dir).await.map_err(AppError::internal)?;
        let mut out = Vec::new();
        for (key, written) in listing {
            let Some(hash) = key.rsplit('/').next() else {
                continue;
            };
            let well_formed = Self::key_for(hash).is_some_and(|k| k == key);
            if well_formed && written < before {
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

    /// Objects in memory, written at the epoch.
    #[derive(Default)]
    struct Memory(std::sync::Mutex<std::collections::BTreeMap<String, Vec<u8>>>);

    #[async_trait::async_trait]
    impl EvidenceBackend for Memory {
        fn description(&self) -> String {
            "memory".into()
        }
        fn is_local(&self) -> bool {
            false
        }
        async fn exists(&self, key: &str) -> std::io::Result<bool> {
            Ok(self.0.lock().unwrap().contains_key(key))
        }
        async fn put(&self, key: &str, data: Vec<u8>) -> std::io::Result<()> {
            self.0.lock().unwrap().insert(key.into(), data);
            Ok(())
        }
        async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
            self.0
                .lock()
                .unwrap()
                .get(key)
                .cloned()
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        }
        async fn delete(&self, key: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().remove(key);
            Ok(())
        }
        async fn list(
            &self,
            prefix: &str,
        ) -> std::io::Result<Vec<(String, chrono::DateTime<chrono::Utc>)>> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with(&format!("{prefix}/")))
                .map(|k| (k.clone(), chrono::DateTime::UNIX_EPOCH))
                .collect())
        }
    }

    #[tokio::test]
    async fn files_are_kept_under_their_hash() {
        let memory = Arc::new(Memory::default());
        let store = EvidenceStore::new(memory.clone(), 100);
        assert_eq!(store.description, "memory");
        let stored = store.put(b"%PDF-1.4 hello").await.unwrap();
        assert_eq!(stored.content_type, "application/pdf");
        let key = EvidenceStore::key_for(&stored.sha256).unwrap();
        assert_eq!(key, format!("{}/{}", &stored.sha256[..2], stored.sha256));
        assert!(memory.0.lock().unwrap().contains_key(&key));
        assert_eq!(store.read(&stored.sha256).await.unwrap(), b"%PDF-1.4 hello");
        // A stray object under the prefix is not a file of the store.
        let prefix = &stored.sha256[..2];
        memory
            .0
            .lock()
            .unwrap()
            .insert(format!("{prefix}/stray"), vec![]);
        let first = u8::from_str_radix(prefix, 16).unwrap();
        assert_eq!(
            store
                .files_older_than(first, chrono::Utc::now())
                .await
                .unwrap(),
            vec![stored.sha256.clone()]
        );
        store.delete(&stored.sha256).await.unwrap();
        assert_eq!(
            store.read(&stored.sha256).await.unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        assert!(matches!(
            store.put(&[0u8; 101]).await,
            Err(AppError::TooLarge(_))
        ));
    }
}
