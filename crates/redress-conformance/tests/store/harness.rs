//! Opening a fresh store per test, running the test on its own runtime, and
//! closing the store where it may be closed; sample rows.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use redress_domain::{Channel, Status};
use redress_postgres::PgStore;
use redress_sqlite::SqliteStore;
use redress_store::journal::Verifier;
use redress_store::sql::Backend as _;
use redress_store::{CaseRow, NewEvent, ReportFacts, Store, StoreResult};
use redress_testkit::{Backend, Failed, PgSchema, postgres};
use uuid::Uuid;

/// A temporary directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, Failed> {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "redress-conformance-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where a store's data lives; must outlive the store.
enum Place {
    Dir { _dir: TempDir },
    Schema { _schema: PgSchema },
}

/// The store under test, with the test hooks both backends have.
#[derive(Clone)]
pub enum Db {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

impl Db {
    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Db::Sqlite(s) => Arc::clone(s) as Arc<dyn Store>,
            Db::Postgres(s) => Arc::clone(s) as Arc<dyn Store>,
        }
    }

    /// Group COMMITs since the store was opened.
    pub fn commit_count(&self) -> u64 {
        match self {
            Db::Sqlite(s) => s.commit_count(),
            Db::Postgres(s) => s.commit_count(),
        }
    }

    /// A write job that appends `events` and then fails.
    pub async fn append_events_then_fail(&self, events: Vec<NewEvent>) -> StoreResult<()> {
        match self {
            Db::Sqlite(s) => s.append_events_then_fail(events).await,
            Db::Postgres(s) => s.append_events_then_fail(events).await,
        }
    }

    /// `bulk_insert` blocks: it runs on a blocking thread.
    pub async fn bulk_insert(&self, rows: Vec<CaseRow>) -> StoreResult<()> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || match &db {
            Db::Sqlite(s) => s.bulk_insert(rows),
            Db::Postgres(s) => s.bulk_insert(rows),
        })
        .await
        .expect("bulk_insert panicked")
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> Failed {
    format!("{what}: {e}").into()
}

/// Opens a fresh store on `backend`. Blocks: call it outside the runtime.
fn open(backend: Backend) -> Result<(Place, Db), Failed> {
    match backend {
        Backend::Sqlite => {
            let dir = TempDir::new()?;
            let s = SqliteStore::open(&dir.0.join("redress.db"))
                .map_err(|e| failed("open SQLite", e))?;
            Ok((Place::Dir { _dir: dir }, Db::Sqlite(Arc::new(s))))
        }
        Backend::Postgres => {
            let schema = postgres().schema()?;
            let s = PgStore::open(&schema.url).map_err(|e| failed("open PostgreSQL", e))?;
            Ok((Place::Schema { _schema: schema }, Db::Postgres(Arc::new(s))))
        }
    }
}

/// The runtime each trial runs its test on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Runs `test` with a fresh store of `backend`, then closes the store on
/// this (non-async) thread. A synchronous `postgres` client may not be
/// dropped on an async worker; `PgStore`'s `Drop` already drops its pool
/// on a thread of its own and joins its writer (whose client dies there),
/// but closing blocks, so it happens here, after the runtime is gone. The
/// order is the same when the test panics (locals drop in reverse):
/// runtime, store, then the store's directory or schema.
pub fn with_db<F, Fut>(backend: Backend, test: F) -> Result<(), Failed>
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let (place, db) = open(backend)?;
    let rt = runtime();
    rt.block_on(test(db.clone()));
    drop(rt);
    drop(db);
    drop(place);
    Ok(())
}

/// [`with_db`] for a test that needs only the `Store` trait.
pub fn with_store<F, Fut>(backend: Backend, test: F) -> Result<(), Failed>
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    with_db(backend, |db| test(db.store()))
}

/// Two fresh stores of `backend`, each on its own file or schema: a source
/// and an empty target, as a copy between installations needs.
pub fn with_two_stores<F, Fut>(backend: Backend, test: F) -> Result<(), Failed>
where
    F: FnOnce(Arc<dyn Store>, Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let (source_place, source) = open(backend)?;
    let (target_place, target) = open(backend)?;
    let rt = runtime();
    rt.block_on(test(source.store(), target.store()));
    drop(rt);
    drop(target);
    drop(source);
    drop(target_place);
    drop(source_place);
    Ok(())
}

/// Two `PgStore`s on one fresh schema: two instances sharing a database.
pub fn with_two_instances<F, Fut>(test: F) -> Result<(), Failed>
where
    F: FnOnce(Arc<dyn Store>, Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let schema = postgres().schema()?;
    let a: Arc<dyn Store> =
        Arc::new(PgStore::open(&schema.url).map_err(|e| failed("open instance a", e))?);
    let b: Arc<dyn Store> =
        Arc::new(PgStore::open(&schema.url).map_err(|e| failed("open instance b", e))?);
    let rt = runtime();
    rt.block_on(test(Arc::clone(&a), Arc::clone(&b)));
    drop(rt);
    drop(b);
    drop(a);
    drop(schema);
    Ok(())
}

/// A fresh, empty schema; `test` gets its URL and opens what it needs.
pub fn with_schema(test: impl FnOnce(&str)) -> Result<(), Failed> {
    let schema = postgres().schema()?;
    test(&schema.url);
    drop(schema);
    Ok(())
}

// ---- sample data ---------------------------------------------------------------

pub fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap() + Duration::minutes(minutes)
}

pub fn case(n: u32) -> CaseRow {
    CaseRow {
        id: Uuid::now_v7(),
        seq: 0,
        tracking_no: format!("TS{n:08}"),
        status: Status::Submitted,
        closure: None,
        channel: Channel::Web,
        category: Some("delivery".into()),
        department: Some("ops".into()),
        assignee: None,
        respondent_key: Some("merchant:m1".into()),
        respondent_name: Some("Shop One".into()),
        complainant_key: Some("ck1".into()),
        subject: format!("case {n}"),
        created_at: t(i64::from(n)),
        updated_at: t(i64::from(n)),
        next_due_at: Some(t(i64::from(n) + 60)),
        staff_due: true,
        sweep_at: None,
        decided_by: None,
        decider_level: None,
        search_tokens: String::new(),
        report: ReportFacts::default(),
        version: 1,
        doc: format!("{{\"n\":{n}}}").into_bytes(),
        actions: Vec::new(),
    }
}

pub fn event(case_id: Option<Uuid>, kind: &str) -> NewEvent {
    NewEvent {
        case_id,
        kind: kind.into(),
        actor: "staff:alice".into(),
        at: t(0),
        data: "{}".into(),
    }
}

/// Verifies the whole journal, read in pages, against the stored head;
/// returns how many events it checked.
pub async fn verify(s: &dyn Store) -> u64 {
    let mut v = Verifier::default();
    let mut after = 0;
    loop {
        let batch = s.journal_after(after, 37).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for e in &batch {
            v.feed(e);
        }
    }
    v.finish(s.journal_head().await.unwrap());
    assert_eq!(v.problem, None);
    v.checked
}
