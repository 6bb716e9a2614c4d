//! The complainant's copy of their own data (PIPL's right of access, SPEC
//! §9): `GET /track/{no}/export` and the tracking page's download link.
//!
//! One ZIP:
//!
//! ```text
//! case.json          their view of the case, exactly as GET /track/{no} answers it
//!                    (their own contact data in the clear)
//! README.txt         what the files are, in Chinese and English
//! files/<sha256>     each file they uploaded themselves, named by its hash
//!                    like the archive's evidence (case.json's `evidence`
//!                    maps each hash to the name it was uploaded under)
//! ```
//!
//! Nothing staff-only goes in: no internal messages or notes, no files
//! staff or the respondent uploaded, no deliveries to others. The ZIP is
//! written to an unlinked temporary file in the data directory, one
//! evidence file in memory at a time, then streamed from there: memory
//! stays bounded by one file whatever the case holds.

use std::io::{Seek, SeekFrom, Write};

use futures_util::Stream;
use redress_domain::{Actor, ActorKind};
use serde_json::json;
use uuid::Uuid;
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

use crate::App;
use crate::archive::{is_sha256_hex, zip_time};
use crate::error::{AppError, AppResult};

/// The README's text: both languages, the Chinese first.
const README: &str = "\
投诉资料副本 — 您本人的数据
==========================

本压缩包是您依据《个人信息保护法》下载的本人数据副本：

  case.json      您的投诉，与跟踪页面所示相同：登记内容（含您的联系方式）、
                 状态、期限、处理结果、您与处理人员之间的消息和通知记录。
  files/         您本人上传的文件，按内容的 SHA-256 哈希命名；
                 case.json 中 \"evidence\" 一项列出每个哈希对应的原文件名。
  README.txt     本说明。

工作人员的内部记录和他人上传的文件不在其中。请妥善保管本文件。

Copy of your complaint — your own data
======================================

This archive is the copy of your own data you downloaded (right of access
under China's Personal Information Protection Law):

  case.json      your complaint as the tracking page shows it: the record
                 (with your contact data), status, deadlines, the result,
                 the messages between you and the staff, and the notices
                 sent to you.
  files/         the files you uploaded yourself, each named by the SHA-256
                 hash of its content; \"evidence\" in case.json gives the
                 name each hash was uploaded under.
  README.txt     this note.

Staff's internal records and files others uploaded are not included.
Keep this file safe.
";

/// A finished export, ready to be streamed.
#[derive(Debug)]
pub struct DataExport {
    /// `<tracking number>-data.zip`.
    pub filename: String,
    pub len: u64,
    file: tokio::fs::File,
}

impl DataExport {
    /// A finished ZIP in `file` (read from its start).
    pub(crate) fn from_file(filename: String, mut file: std::fs::File) -> std::io::Result<Self> {
        file.flush()?;
        let len = file.seek(SeekFrom::End(0))?;
        file.seek(SeekFrom::Start(0))?;
        Ok(Self {
            filename,
            len,
            file: tokio::fs::File::from_std(file),
        })
    }

    /// The ZIP's bytes in chunks of 64 KiB.
    pub fn into_stream(self) -> impl Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static {
        use tokio::io::AsyncReadExt;
        futures_util::stream::unfold(Some(self.file), |file| async move {
            let mut file = file?;
            let mut buf = vec![0u8; 64 * 1024];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(buf), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        })
    }

    /// Copies the ZIP into a new file at `path`; its length.
    pub async fn save(self, path: &std::path::Path) -> std::io::Result<u64> {
        let mut file = self.file;
        let mut out = tokio::fs::File::create(path).await?;
        let n = tokio::io::copy(&mut file, &mut out).await?;
        out.sync_all().await?;
        Ok(n)
    }

    /// The whole ZIP in memory (tests, small cases).
    pub async fn into_bytes(self) -> std::io::Result<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let mut file = self.file;
        let mut out = Vec::with_capacity(self.len as usize);
        file.read_to_end(&mut out).await?;
        Ok(out)
    }
}

/// An unlinked temporary file in the data directory: gone when closed.
pub(crate) fn temp_file(data_dir: &std::path::Path) -> std::io::Result<std::fs::File> {
    let dir = data_dir.join("tmp");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("export-{}.zip", Uuid::now_v7()));
    let file = std::fs::File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

/// Runs one step of writing the ZIP on a blocking thread.
async fn blocking<T, F>(f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, zip::result::ZipError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

impl App {
    /// `GET /track/{no}/export`: the complainant's own data as a ZIP, with
    /// the same checks and throttle as `GET /track/{no}`; journals
    /// `data_exported` on the case.
    pub async fn track_export(
        &self,
        tracking_no: &str,
        token: Option<&str>,
    ) -> AppResult<DataExport> {
        let loaded = self.track_case(tracking_no, token).await?;
        let view = self.track_answer(&loaded).await?;
        let case = &loaded.case;
        let time = zip_time(self.now(), self.config.time_zone);
        let text = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(time)
            .unix_permissions(0o644);
        // Evidence is mostly compressed already (images, PDF, video).
        let stored = text
            .compression_method(CompressionMethod::Stored)
            .large_file(self.evidence.max_bytes >= u64::from(u32::MAX));

        let data_dir = self.config.data_dir.clone();
        let case_json = serde_json::to_vec_pretty(&view).map_err(AppError::internal)?;
        let mut zip = blocking(move || {
            let mut zip = ZipWriter::new(temp_file(&data_dir)?);
            zip.start_file("case.json", text)?;
            zip.write_all(&case_json)?;
            zip.write_all(b"\n")?;
            zip.start_file("README.txt", text)?;
            zip.write_all(README.as_bytes())?;
            Ok(zip)
        })
        .await?;

        // Their own uploads, once per distinct hash; never a name they gave.
        let mut hashes: Vec<String> = case
            .evidence
            .iter()
            .filter(|e| e.uploaded_by.kind == ActorKind::Complainant)
            .map(|e| e.sha256.to_ascii_lowercase())
            .filter(|h| is_sha256_hex(h))
            .collect();
        hashes.sort();
        hashes.dedup();
        let mut files = 0u64;
        for hash in hashes {
            let bytes = match self.evidence.read_in_case(loaded.key(), &hash).await {
                Ok(b) => b,
                // A file gone from the store (purged, lost): the copy holds
                // what there is; case.json still names it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!(case = %case.id, "an uploaded file is missing from the evidence store");
                    continue;
                }
                Err(e) => return Err(AppError::internal(e)),
            };
            files += 1;
            zip = blocking(move || {
                zip.start_file(format!("files/{hash}"), stored)?;
                zip.write_all(&bytes)?;
                Ok(zip)
            })
            .await?;
        }
        let (file, len) = blocking(move || {
            let mut file = zip.finish()?;
            file.flush()?;
            let len = file.seek(SeekFrom::End(0))?;
            file.seek(SeekFrom::Start(0))?;
            Ok((file, len))
        })
        .await?;

        self.log_event(
            Some(case.id),
            &Actor {
                kind: ActorKind::Complainant,
                id: case.tracking_no.clone(),
            },
            "data_exported",
            json!({"files": files, "bytes": len}),
        )
        .await?;
        Ok(DataExport {
            filename: format!("{}-data.zip", safe_name(&case.tracking_no)),
            len,
            file: tokio::fs::File::from_std(file),
        })
    }
}

/// A tracking number as a file name (letters, digits, `-`, `_`).
fn safe_name(tracking_no: &str) -> String {
    let name: String = tracking_no
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    if name.is_empty() { "case".into() } else { name }
}
