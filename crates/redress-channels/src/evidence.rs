//! Where evidence files are kept, through the `object_store` crate:
//! `LocalFileSystem` under `<data_dir>/evidence` by default (written files
//! and their directories are fsynced), or `AmazonS3` when `evidence_url`
//! names a bucket, so that every instance sees the same files. The app
//! names, seals and checks the files ([`redress_app::EvidenceStore`]);
//! this is the [`EvidenceBackend`] it keeps them in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use redress_app::edges::EvidenceBackend;

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

/// Evidence objects in an [`ObjectStore`].
#[derive(Debug, Clone)]
pub struct ObjectEvidence {
    objects: Arc<dyn ObjectStore>,
    /// The directory, when the files are local: written files are fsynced.
    local_root: Option<PathBuf>,
    /// The directory or the bucket URL.
    description: String,
}

impl ObjectEvidence {
    /// The store for `location`: the data dir's `evidence/` or a bucket.
    pub fn open(location: &EvidenceLocation, data_dir: &Path) -> Result<Self, String> {
        match location {
            EvidenceLocation::DataDir => Self::local(data_dir.join("evidence")),
            EvidenceLocation::S3(s) => Self::s3(s),
        }
    }

    /// Files under `root` (`<root>/<2 hex>/<sha256>`).
    pub fn local(root: PathBuf) -> Result<Self, String> {
        std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        let objects = LocalFileSystem::new_with_prefix(&root).map_err(|e| e.to_string())?;
        Ok(Self {
            objects: Arc::new(objects),
            description: root.display().to_string(),
            local_root: Some(root),
        })
    }

    /// Files in an S3-compatible bucket, under the URL's prefix if any.
    pub fn s3(settings: &S3Settings) -> Result<Self, String> {
        let url = settings.url.trim();
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("evidence_url {url:?} must start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("evidence_url {url:?} names no bucket"));
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
            .map_err(|e| format!("evidence store {url}: {e}"))?;
        let prefix = prefix.trim_matches('/');
        let objects: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        };
        Ok(Self::with_objects(objects, url.to_string()))
    }

    /// Files in any object store (tests, other backends).
    pub fn with_objects(objects: Arc<dyn ObjectStore>, description: String) -> Self {
        Self {
            objects,
            local_root: None,
            description,
        }
    }
}

/// An `object_store` error as an I/O error, keeping `NotFound`.
fn io(e: object_store::Error) -> std::io::Error {
    match e {
        object_store::Error::NotFound { .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string())
        }
        e => std::io::Error::other(e.to_string()),
    }
}

#[async_trait]
impl EvidenceBackend for ObjectEvidence {
    fn description(&self) -> String {
        self.description.clone()
    }

    fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    async fn exists(&self, key: &str) -> std::io::Result<bool> {
        match self.objects.head(&Key::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(io(e)),
        }
    }

    async fn put(&self, key: &str, data: Vec<u8>) -> std::io::Result<()> {
        self.objects
            .put(&Key::from(key), PutPayload::from(data))
            .await
            .map_err(io)?;
        if let Some(root) = &self.local_root {
            // LocalFileSystem writes a staged file and renames it; make
            // the file and the rename durable before a case names it.
            let path = root.join(key);
            tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                std::fs::File::open(&path)?.sync_all()?;
                std::fs::File::open(path.parent().expect("has a parent"))?.sync_all()
            })
            .await
            .map_err(std::io::Error::other)??;
        }
        Ok(())
    }

    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>> {
        let got = self.objects.get(&Key::from(key)).await.map_err(io)?;
        Ok(got.bytes().await.map_err(io)?.to_vec())
    }

    async fn delete(&self, key: &str) -> std::io::Result<()> {
        match self.objects.delete(&Key::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io(e)),
        }
    }

    async fn list(&self, prefix: &str) -> std::io::Result<Vec<(String, DateTime<Utc>)>> {
        use futures_util::StreamExt;
        let dir = Key::from(prefix);
        let mut listing = self.objects.list(Some(&dir));
        let mut out = Vec::new();
        while let Some(meta) = listing.next().await {
            match meta {
                Ok(m) => out.push((m.location.to_string(), m.last_modified)),
                // A file removed while listed.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(io(e)),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_files_are_kept_listed_and_removed() {
        let root = std::env::temp_dir().join(format!("redress-evidence-{}", uuid::Uuid::now_v7()));
        let store = ObjectEvidence::local(root.clone()).unwrap();
        assert!(store.is_local());
        let key = format!("ab/{}", "ab".repeat(32));
        assert!(!store.exists(&key).await.unwrap());
        assert_eq!(
            store.get(&key).await.unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        store.put(&key, b"sealed".to_vec()).await.unwrap();
        assert!(store.exists(&key).await.unwrap());
        assert!(root.join(&key).is_file());
        assert_eq!(store.get(&key).await.unwrap(), b"sealed");
        let listed = store.list("ab").await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].0, key);
        assert!(store.list("cd").await.unwrap().is_empty());
        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert!(!store.exists(&key).await.unwrap());
        std::fs::remove_dir_all(root).unwrap();
    }
}
