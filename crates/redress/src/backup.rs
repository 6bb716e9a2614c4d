//! `redress backup --to DIR`: an online copy of a SQLite installation.
//!
//! The database is copied first (`VACUUM INTO` on a read-only connection:
//! one consistent snapshot while the server goes on writing), then the local
//! evidence folder. Evidence files are written before the case that names
//! them is committed, so every file the snapshot refers to is already there
//! when the folder is copied. The copy is then checked: it opens as a store,
//! its audit chain verifies, its cases are counted, and every evidence file
//! stored before case keys still opens and hashes to its name.

use std::path::{Path, PathBuf};

use anyhow::Context;
use redress_store::journal::Verifier;
use serde::Serialize;

use crate::config::{Config, Database};

/// The database file's name inside the backup (and inside a data dir).
pub const DATABASE_FILE: &str = "redress.sqlite3";

/// What a backup wrote and what its check found.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub ok: bool,
    pub target: PathBuf,
    pub database: PathBuf,
    pub database_bytes: u64,
    pub cases: i64,
    pub events_checked: u64,
    /// `None` when evidence lives on an object store (not copied).
    pub evidence_files: Option<u64>,
    pub evidence_bytes: Option<u64>,
    pub problems: Vec<String>,
    pub note: String,
}

/// What to tell an operator whose database is PostgreSQL.
pub const POSTGRES_ADVICE: &str = "the database is PostgreSQL: `redress backup` copies SQLite \
     installations only. Back PostgreSQL up with `pg_dump -Fc` and restore with `pg_restore \
     --clean --if-exists -d …`, then run `redress audit verify` (docs/operations.md, \"Back up\").";

/// Copies the installation named by `config` into `target`, then checks the
/// copy. Refuses a PostgreSQL database and a non-empty `target` before
/// writing anything.
pub async fn run(config: &Config, target: &Path) -> anyhow::Result<Summary> {
    let source = match config.database()? {
        Database::Sqlite(path) => path,
        Database::Postgres(_) => anyhow::bail!(POSTGRES_ADVICE),
    };
    if target.exists() {
        let mut entries =
            std::fs::read_dir(target).with_context(|| format!("reading {}", target.display()))?;
        if entries.next().is_some() {
            anyhow::bail!(
                "{} exists and is not empty; name a new or empty directory",
                target.display()
            );
        }
    }
    std::fs::create_dir_all(target).with_context(|| format!("creating {}", target.display()))?;

    let database = target.join(DATABASE_FILE);
    {
        let (from, to) = (source.clone(), database.clone());
        tokio::task::spawn_blocking(move || redress_sqlite::backup_file(&from, &to))
            .await?
            .with_context(|| format!("copying {}", source.display()))?;
    }
    let database_bytes = std::fs::metadata(&database)?.len();

    let (mut problems, evidence_files, evidence_bytes, note) = if config.evidence_on_object_store()
    {
        let note = "evidence is in the bucket named by evidence_url and was not copied: back the \
                    bucket up with its own tools. The data key is not copied either: keep it \
                    separately";
        (Vec::new(), None, None, note.to_string())
    } else {
        let from = config.data_dir.join("evidence");
        let to = target.join("evidence");
        // Files are sealed: the check opens each copy with the data key.
        let vault = redress_app::Vault::load(
            config.data_key.as_deref(),
            config.data_key_previous.as_deref(),
            &config.data_dir,
        )?;
        let copied =
            tokio::task::spawn_blocking(move || copy_evidence(&from, &to, &vault)).await??;
        let note = "the data key is not copied: keep it separately";
        (
            copied.problems,
            Some(copied.files),
            Some(copied.bytes),
            note.to_string(),
        )
    };

    // The check: open the copy as a store (as a restore would), verify the
    // audit chain, count the cases.
    let store = crate::open_database(Database::Sqlite(database.clone())).await?;
    let mut v = Verifier::spliced(store.journal_splice().await?);
    let mut after = 0;
    loop {
        let page = match store.journal_after(after, 5000).await {
            Ok(page) => page,
            Err(e) => {
                v.problem = Some(format!("an event after {after} cannot be read: {e}"));
                break;
            }
        };
        let Some(last) = page.last() else { break };
        after = last.seq;
        if !page.iter().all(|e| v.feed(e)) {
            break;
        }
    }
    v.finish(store.journal_head().await?);
    if let Some(p) = v.problem.take() {
        problems.push(format!("audit chain: {p}"));
    }
    let cases = store.table_counts().await?.cases;
    drop(store);

    Ok(Summary {
        ok: problems.is_empty(),
        target: target.to_path_buf(),
        database,
        database_bytes,
        cases,
        events_checked: v.checked,
        evidence_files,
        evidence_bytes,
        problems,
        note,
    })
}

/// What [`copy_evidence`] did.
struct Copied {
    files: u64,
    bytes: u64,
    problems: Vec<String>,
}

/// Copies `<from>/<2 hex>/<sha256>` files (staged writes are skipped),
/// checking that each copy opens and hashes to its name.
fn copy_evidence(from: &Path, to: &Path, vault: &redress_app::Vault) -> anyhow::Result<Copied> {
    std::fs::create_dir_all(to)?;
    let mut out = Copied {
        files: 0,
        bytes: 0,
        problems: Vec::new(),
    };
    if !from.exists() {
        return Ok(out);
    }
    for shard in std::fs::read_dir(from)? {
        let shard = shard?;
        if !shard.file_type()?.is_dir() {
            continue;
        }
        let target_dir = to.join(shard.file_name());
        for file in std::fs::read_dir(shard.path())? {
            let file = file?;
            let name = file.file_name().to_string_lossy().into_owned();
            // Only `<sha256>` files: staged writes in progress are skipped.
            if redress_app::EvidenceStore::key_for(&name).is_none() || !file.file_type()?.is_file()
            {
                continue;
            }
            std::fs::create_dir_all(&target_dir)?;
            let dest = target_dir.join(&name);
            let n = std::fs::copy(file.path(), &dest)
                .with_context(|| format!("copying {}", file.path().display()))?;
            let copied = std::fs::read(&dest)?;
            std::fs::File::open(&dest)?.sync_all()?;
            // A case's file is named and sealed with the case's key: its
            // seal (an AEAD tag) is checked when it is read. A file stored
            // before case keys must open and hash to its name.
            let opened = vault.open_file(&name, &copied);
            if !redress_app::privacy::is_case_file(&copied)
                && opened.is_none_or(|plain| redress_app::privacy::sha256_hex(&plain) != name)
            {
                out.problems
                    .push(format!("evidence {name} does not match its hash"));
            }
            out.files += 1;
            out.bytes += n;
        }
        std::fs::File::open(&target_dir)
            .and_then(|d| d.sync_all())
            .ok();
    }
    Ok(out)
}
