//! Evidence files: stored once by SHA-256 under the data directory.
//!
//! The uploader's file name is kept as metadata and never reaches the file
//! system; the path is derived from the content hash alone. Types are
//! sniffed from the bytes, not taken from the upload's headers.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{AppError, AppResult};
use crate::privacy::sha256_hex;

#[derive(Debug, Clone)]
pub struct EvidenceStore {
    root: PathBuf,
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
pub fn sniff(bytes: &[u8]) -> Result<String, String> {
    if let Some(kind) = infer::get(bytes) {
        let mime = kind.mime_type();
        return if ALLOWED.contains(&mime) {
            Ok(mime.to_string())
        } else {
            Err(format!("files of type {mime} are not accepted as evidence"))
        };
    }
    if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        return Ok("text/plain".into());
    }
    Err("the file type is not recognised; send images, PDF, audio, video, office documents or plain text".into())
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
    pub fn new(root: PathBuf, max_bytes: u64) -> AppResult<Self> {
        std::fs::create_dir_all(&root).map_err(AppError::internal)?;
        Ok(Self { root, max_bytes })
    }

    fn path_for(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        valid.then(|| self.root.join(&sha256[..2]).join(sha256))
    }

    /// Checks and stores one file; the same content is stored once.
    pub fn put(&self, bytes: &[u8]) -> AppResult<StoredFile> {
        if bytes.is_empty() {
            return Err(AppError::invalid("file", "the file is empty"));
        }
        if bytes.len() as u64 > self.max_bytes {
            return Err(AppError::TooLarge(format!(
                "a file may have at most {} bytes",
                self.max_bytes
            )));
        }
        let content_type = sniff(bytes).map_err(|m| AppError::invalid("file", m))?;
        let sha256 = sha256_hex(bytes);
        let path = self.path_for(&sha256).expect("own hash is valid");
        if !path.exists() {
            let dir = path.parent().expect("has a parent");
            std::fs::create_dir_all(dir).map_err(AppError::internal)?;
            write_atomically(dir, &path, bytes).map_err(AppError::internal)?;
        }
        Ok(StoredFile {
            sha256,
            size: bytes.len() as u64,
            content_type,
        })
    }

    pub fn read(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        let path = self
            .path_for(sha256)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a hash"))?;
        std::fs::read(path)
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::now_v7()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    // Make the rename itself durable.
    std::fs::File::open(dir)?.sync_all()
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
