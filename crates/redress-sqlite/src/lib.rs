//! The [`Store`] on embedded SQLite.
//!
//! * Durability: WAL, `synchronous=FULL`; a write is acknowledged only after
//!   the COMMIT that contains it returned.
//! * Group commit: one writer thread owns the only write connection. Write
//!   calls queue jobs; the writer runs every queued job (up to
//!   [`writer::MAX_BATCH`]) in one `BEGIN IMMEDIATE` transaction, each inside
//!   its own savepoint, and commits once. Concurrent clients share fsyncs.
//! * Requests first: jobs of background work (the sweep, notices, webhook
//!   calls; [`redress_store::priority`]) join a group only within a share of
//!   the writer's time while requests keep it busy ([`writer::Share`]), and
//!   freely otherwise. A case update names only the columns that changed,
//!   so that SQLite leaves the other indexes alone.
//! * The journal's hash chain is extended by the writer, which keeps the
//!   head in memory (restored when a job rolls back, reloaded when a COMMIT
//!   fails).
//! * Reads run on a few read threads, each owning a `query_only`
//!   connection ([`readers`]); WAL lets them read while the writer writes.
//!   Indexed point reads run on the caller's thread when one of a small
//!   pool of connections is free at once (`read_point`).
//! * New cases enter the search index (`cases_fts`) once per group, before
//!   its COMMIT (`writer::WriteCtx::index_case`); a checkpointer thread
//!   copies the WAL into the database file off the writer's path.

mod bulk;
mod cases;
mod codec;
mod model;
mod readers;
mod rollups;
mod schema;
mod writer;

pub use schema::MIGRATIONS;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, LazyLock};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use r2d2_sqlite::SqliteConnectionManager;
use r2d2_sqlite::rusqlite::types::Value as SqlValue;
use r2d2_sqlite::rusqlite::{
    self, Connection, OpenFlags, OptionalExtension, params, params_from_iter,
};
use redress_store::{
    CaseRow, CaseUpdate, IdempotencyRecord, InsertOutcome, NewEvent, StoreError, StoreResult,
};
use redress_store::{CaseStore, UpkeepStore};
use uuid::Uuid;

use codec::{constraint, db, parse_ts, ts, ts_opt};
use redress_store::sql::Backend;
use writer::{ChainHead, Job, Queued, WriteCtx};

/// Connections for point reads on the caller's thread (`read_point`):
/// one per async worker thread is all that can be in use at once on this
/// machine's two cores; a point read that finds none free goes to the read
/// threads.
const POINT_READERS: u32 = 4;
/// Read threads, each with its own connection ([`readers`]): the reads
/// whose cost grows with the data. Four keep both cores busy while one
/// waits on the disk, and bound the memory SQLite holds for reads (each
/// connection's page cache, `cache_size` below, plus its sorter) to four.
const READ_THREADS: usize = 4;

/// Settings every connection gets. Not `temp_store = MEMORY`: the writer
/// keeps a savepoint open per job, and SQLite's in-memory statement journal
/// is truncated by walking it from the start, which makes every statement
/// of a large job cost time proportional to the job's size so far. The
/// writer switches it on for groups of small jobs only (`writer::TempStore`).
const COMMON_PRAGMAS: &str = "PRAGMA foreign_keys = ON;
     PRAGMA secure_delete = ON;
     PRAGMA busy_timeout = 5000;
     PRAGMA synchronous = FULL;
     PRAGMA cache_size = -8192;";

/// Settings of the read threads' connections, after [`COMMON_PRAGMAS`]:
/// read only, and a page cache (which also bounds the sorter's memory
/// before it spills to a temporary file) of 4 MiB instead of 8. Their reads
/// are the large ones (reports, searches, exports), which stream through
/// far more pages than any cache holds and find them in the operating
/// system's; what the cache keeps warm between reads is the indexes'
/// upper levels. Four connections at 8 MiB took the server over 150 MB
/// at a million cases (docs/benchmarks.md, "The case export walks by
/// filing time, and the read threads' page cache").
const READ_THREAD_PRAGMAS: &str = "PRAGMA query_only = ON; PRAGMA cache_size = -4096;";

/// How often the checkpointer copies committed WAL frames into the
/// database file, when something was committed since its last pass.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// The WAL size (pages) at which the writer checkpoints by itself, after
/// its COMMIT: a fallback for when the checkpointer falls behind. It is
/// also what lets the WAL start over from its beginning under a steady
/// load: SQLite restarts the log only when a write transaction begins on a
/// completely checkpointed WAL, and only the writer's own checkpoint,
/// right after a commit, finds it so.
const WRITER_AUTOCHECKPOINT: u32 = 8000;

/// The SQLite store. Dropping it stops the writer after the queued jobs.
pub struct SqliteStore {
    sender: Option<mpsc::Sender<Queued>>,
    writer: Option<JoinHandle<()>>,
    /// Dropped to stop the checkpointer.
    checkpoint_stop: Option<mpsc::Sender<()>>,
    checkpointer: Option<JoinHandle<()>>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    read_threads: readers::ReadThreads,
    commits: Arc<AtomicU64>,
    path: std::path::PathBuf,
}

/// The writer connection's settings, as SQLite reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterSettings {
    pub journal_mode: String,
    /// 2 is FULL.
    pub synchronous: i64,
    pub foreign_keys: bool,
    pub busy_timeout: i64,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applies pending
    /// migrations and starts the writer thread.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let conn = Connection::open(path).map_err(db)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::other(format!(
                "could not switch {} to WAL (journal_mode is {mode})",
                path.display()
            )));
        }
        conn.execute_batch(COMMON_PRAGMAS).map_err(db)?;
        // A case update's statement depends on which columns moved: room
        // for those variants besides every other write statement.
        conn.set_prepared_statement_cache_capacity(128);
        schema::migrate(&conn)?;
        let head = ChainHead::load(&conn)?;
        // Checkpoints off the request path: the checkpointer thread copies
        // the WAL into the database file on a connection of its own, and
        // the writer's own checkpoint after COMMIT (SQLite's default at
        // 1,000 pages) only runs when that falls far behind.
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT)
            .map_err(db)?;

        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(|c| {
                c.execute_batch(COMMON_PRAGMAS)?;
                c.execute_batch("PRAGMA query_only = ON;")
            });
        let readers = r2d2::Pool::builder()
            .max_size(POINT_READERS)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .build(manager)
            .map_err(|e| StoreError::other(format!("read pool: {e}")))?;

        let read_threads = readers::ReadThreads::start(READ_THREADS, || {
            let c = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(db)?;
            c.execute_batch(COMMON_PRAGMAS).map_err(db)?;
            c.execute_batch(READ_THREAD_PRAGMAS).map_err(db)?;
            Ok(c)
        })?;

        let commits = Arc::new(AtomicU64::new(0));
        let (sender, rx) = mpsc::channel::<Queued>();
        let counter = Arc::clone(&commits);
        let writer = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::run(conn, head, rx, counter))
            .map_err(|e| StoreError::other(format!("writer thread: {e}")))?;
        let checkpoints = Connection::open(path).map_err(db)?;
        checkpoints.execute_batch(COMMON_PRAGMAS).map_err(db)?;
        let (checkpoint_stop, stop) = mpsc::channel::<()>();
        let counter = Arc::clone(&commits);
        let checkpointer = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpoints, &stop, &counter))
            .map_err(|e| StoreError::other(format!("checkpoint thread: {e}")))?;
        Ok(SqliteStore {
            sender: Some(sender),
            writer: Some(writer),
            checkpoint_stop: Some(checkpoint_stop),
            checkpointer: Some(checkpointer),
            readers,
            read_threads,
            commits,
            path: path.to_path_buf(),
        })
    }

    /// Writes a consistent copy of the database to `target` (which must not
    /// exist) while the store keeps serving: `VACUUM INTO` on a read
    /// connection of its own (the pool's are `query_only`, which refuses
    /// it) reads one snapshot; WAL lets the writer go on meanwhile. The copy
    /// is fsynced before this returns.
    pub async fn backup(&self, target: &Path) -> StoreResult<()> {
        let (source, target) = (self.path.clone(), target.to_path_buf());
        tokio::task::spawn_blocking(move || backup_file(&source, &target))
            .await
            .map_err(|e| StoreError::other(format!("backup task: {e}")))?
    }

    /// The bytes each table and index takes, largest first (SQLite's
    /// `dbstat`: whole pages, free space in them included; an FTS5 table
    /// shows as its shadow tables). The storage benchmark prints them per
    /// case (`redress-bench storage`).
    pub async fn space_by_object(&self) -> StoreResult<Vec<(String, i64)>> {
        self.read(|c| {
            let mut stmt = c
                .prepare(
                    "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name \
                     ORDER BY 2 DESC, 1",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            Ok(rows)
        })
        .await
    }

    /// How many group COMMITs succeeded since `open`.
    pub fn commit_count(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// The writer connection's durability settings.
    pub async fn writer_settings(&self) -> StoreResult<WriterSettings> {
        self.write(|ctx| {
            let c = ctx.conn;
            let get_i = |name: &str| -> StoreResult<i64> {
                c.pragma_query_value(None, name, |r| r.get(0)).map_err(db)
            };
            Ok(WriterSettings {
                journal_mode: c
                    .pragma_query_value(None, "journal_mode", |r| r.get(0))
                    .map_err(db)?,
                synchronous: get_i("synchronous")?,
                foreign_keys: get_i("foreign_keys")? == 1,
                busy_timeout: get_i("busy_timeout")?,
            })
        })
        .await
    }

    /// Loads cases in one transaction, with their corrective actions but
    /// without events or idempotency records (test data, benchmarks).
    /// Blocks the calling thread; call it outside async code, with chunks
    /// of some 10,000 rows. The `seq` of the rows is ignored and assigned
    /// as usual.
    pub fn bulk_insert(&self, rows: Vec<CaseRow>) -> StoreResult<()> {
        let (answer, wait) = redress_store::group::blocking();
        let job = writer::job(
            move |ctx: &mut WriteCtx<'_>| {
                let conn = ctx.conn;
                for row in &rows {
                    let seq = insert_case_row(conn, row)?;
                    ctx.index_case(seq);
                    redress_store::sql::actions::write(&mut &*conn, row.id, &row.actions)?;
                }
                rollups::insert_many(conn, &rows)
            },
            answer,
            false,
        );
        self.submit(job)?;
        wait()
    }

    fn submit(&self, job: Box<Job>) -> StoreResult<()> {
        self.sender
            .as_ref()
            .ok_or_else(|| StoreError::other("the store is closed"))?
            .send(Queued {
                background: redress_store::priority::is_background(),
                job,
            })
            .map_err(|_| StoreError::other("the writer thread stopped"))
    }

    /// Runs `f` on the writer, in the next group commit; answers after COMMIT.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (answer, wait) = redress_store::group::awaited();
        self.submit(writer::job(f, answer, false))?;
        wait.await
    }

    /// Runs `f` on the writer like [`Self::write`], as a [`redress_store::group::Job::small`]
    /// job: a few statements over a few rows (a registration).
    async fn write_small<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (answer, wait) = redress_store::group::awaited();
        self.submit(writer::job(f, answer, true))?;
        wait.await
    }
}

/// The statements written once run on the writer and the read threads.
impl Backend for SqliteStore {
    type D = codec::Sqlite;
    type Read = Connection;
    type Write<'a> = WriteCtx<'a>;
    type Plain<'a> = WriteCtx<'a>;
    type Snapshot<'a> = &'a Connection;

    fn rebuild_rollups(
        ctx: &mut WriteCtx<'_>,
        zone: redress_domain::calendar::Tz,
    ) -> StoreResult<u64> {
        rollups::rebuild(ctx.conn, zone)
    }

    fn learn_category(
        ctx: &mut WriteCtx<'_>,
        category: &str,
        tokens: &[redress_store::LearntToken],
        min_cases: i64,
    ) -> StoreResult<()> {
        model::learn(ctx.conn, category, tokens, min_cases)
    }

    fn import_case_rows(ctx: &mut WriteCtx<'_>, rows: &[CaseRow]) -> StoreResult<()> {
        bulk::import_cases(ctx.conn, rows)
    }

    /// On one of the read threads ([`readers`]).
    fn read<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.read_threads.run(f)
    }

    fn read_snapshot<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut &Connection) -> StoreResult<T> + Send + 'static,
    {
        self.read_threads.run(move |conn| {
            let tx = conn.transaction().map_err(db)?;
            let out = f(&mut &*tx)?;
            tx.commit().map_err(db)?;
            Ok(out)
        })
    }

    /// Runs `f`, an indexed point read (one row, or the few rows under one
    /// index key: tens of microseconds), on the calling thread when a
    /// pooled read connection is free at once, and like [`Backend::read`]
    /// otherwise. Handing such a read to a blocking thread and back costs
    /// more than the read: two thread wake-ups, and on a machine whose
    /// cores are busy, two context switches (`docs/benchmarks.md`, "Intake
    /// CPU"). Never for a read whose cost grows with the data (lists,
    /// searches, reports): those keep to blocking threads.
    async fn read_point<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        match self.readers.try_get() {
            Some(mut conn) => f(&mut conn),
            None => self.read_threads.run(f).await,
        }
    }

    fn write<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: Fn(&mut WriteCtx<'_>) -> StoreResult<T> + Clone + Send + 'static,
    {
        SqliteStore::write(self, f)
    }

    fn write_plain<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> StoreResult<T> + Send + 'static,
    {
        SqliteStore::write(self, f)
    }
}

/// [`SqliteStore::backup`] for a database file that another process (a
/// running server) owns: opens it read-only, without migrations or a
/// writer, and copies one snapshot to `target` (which must not exist).
pub fn backup_file(source: &Path, target: &Path) -> StoreResult<()> {
    if !source.exists() {
        return Err(StoreError::other(format!(
            "no database at {}",
            source.display()
        )));
    }
    let conn = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db)?;
    conn.execute_batch("PRAGMA busy_timeout = 5000;")
        .map_err(db)?;
    vacuum_into(&conn, target)
}

/// `VACUUM INTO ?1`, the path as a bound parameter, then an fsync of the
/// new file (SQLite does not sync it).
fn vacuum_into(conn: &Connection, target: &Path) -> StoreResult<()> {
    if target.exists() {
        return Err(StoreError::other(format!(
            "{} exists already",
            target.display()
        )));
    }
    let name = target
        .to_str()
        .ok_or_else(|| StoreError::other(format!("{} is not a UTF-8 path", target.display())))?;
    conn.execute("VACUUM INTO ?1", params![name]).map_err(db)?;
    let io = |e: std::io::Error| StoreError::other(format!("{}: {e}", target.display()));
    std::fs::File::open(target)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
    }
    Ok(())
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(w) = self.writer.take()
            && w.join().is_err()
        {
            tracing::error!("the sqlite writer thread panicked");
        }
        drop(self.checkpoint_stop.take());
        if let Some(c) = self.checkpointer.take()
            && c.join().is_err()
        {
            tracing::error!("the sqlite checkpoint thread panicked");
        }
    }
}

/// The checkpointer: every [`CHECKPOINT_EVERY`], when a group committed
/// since its last pass, `PRAGMA wal_checkpoint(PASSIVE)` (never waits for
/// the writer or readers, nor makes them wait). Copying fewer, larger
/// stretches of WAL also copies each hot page (index roots, counters, the
/// journal head) once per pass rather than once per 1,000 pages. Stops
/// when `stop`'s sender is dropped.
fn checkpoint_loop(conn: &Connection, stop: &mpsc::Receiver<()>, commits: &AtomicU64) {
    let mut seen = commits.load(Ordering::Relaxed);
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        let now = commits.load(Ordering::Relaxed);
        if now == seen {
            continue;
        }
        seen = now;
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "sqlite checkpoint failed");
        }
    }
}

// ---- cases ------------------------------------------------------------------

const INSERT_CASE: &str = "INSERT INTO cases (id, tracking_no, status, closure, channel, \
     category, department, assignee, respondent_key, respondent_name, complainant_key, subject, \
     created_at, updated_at, next_due_at, staff_due, sweep_at, decided_by, decider_level, \
     report, outcome, missed, version, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
     ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)";

/// A case's search tokens, in their own table since migration 0030 (the
/// search index's content; the case row, without them, fits three to a
/// page).
const INSERT_TOKENS: &str = "INSERT INTO case_tokens (seq, search_tokens) VALUES (?1, ?2)";

fn case_violation(e: rusqlite::Error) -> StoreError {
    let which = e.to_string();
    match constraint(e, "tracking_no", "case") {
        StoreError::Duplicate(_) if which.contains("cases.id") => StoreError::Duplicate("id"),
        other => other,
    }
}

/// The columns an insert and an update both write, in the order of
/// `INSERT_CASE`'s 2nd..22nd placeholders ([`SHARED_CASE_COLUMNS`]).
fn shared_case_values(r: &CaseRow) -> StoreResult<Vec<SqlValue>> {
    let text = |s: &str| SqlValue::Text(s.to_string());
    let opt = |s: &Option<String>| s.as_deref().map_or(SqlValue::Null, text);
    Ok(vec![
        text(&r.tracking_no),
        text(r.status.as_str()),
        r.closure.map_or(SqlValue::Null, |c| text(c.as_str())),
        text(r.channel.as_str()),
        opt(&r.category),
        opt(&r.department),
        opt(&r.assignee),
        opt(&r.respondent_key),
        opt(&r.respondent_name),
        opt(&r.complainant_key),
        text(&r.subject),
        SqlValue::Text(ts(&r.created_at)),
        SqlValue::Text(ts(&r.updated_at)),
        ts_opt(&r.next_due_at).map_or(SqlValue::Null, SqlValue::Text),
        SqlValue::Integer(i64::from(r.staff_due)),
        ts_opt(&r.sweep_at).map_or(SqlValue::Null, SqlValue::Text),
        opt(&r.decided_by),
        r.decider_level
            .map_or(SqlValue::Null, |l| SqlValue::Integer(i64::from(l))),
        SqlValue::Blob(r.report.packed()?),
        r.report.outcome_column().map_or(SqlValue::Null, text),
        r.report
            .missed_column()
            .map_or(SqlValue::Null, SqlValue::Text),
    ])
}

/// Inserts a case row and its search tokens; the row's `seq`. The tokens
/// enter the search index at the group's end (`writer::index_cases`).
fn insert_case_row(conn: &Connection, r: &CaseRow) -> StoreResult<i64> {
    let mut values = vec![SqlValue::Text(r.id.to_string())];
    values.extend(shared_case_values(r)?);
    values.push(SqlValue::Integer(r.version));
    values.push(SqlValue::Blob(r.doc.clone()));
    let seq = conn
        .prepare_cached(INSERT_CASE)
        .map_err(db)?
        .insert(params_from_iter(values))
        .map_err(case_violation)?;
    insert_tokens(conn, seq, &r.search_tokens)?;
    Ok(seq)
}

fn insert_tokens(conn: &Connection, seq: i64, tokens: &str) -> StoreResult<()> {
    conn.prepare_cached(INSERT_TOKENS)
        .map_err(db)?
        .execute(params![seq, tokens])
        .map_err(db)?;
    Ok(())
}

/// The columns of [`shared_case_values`], in its order.
const SHARED_CASE_COLUMNS: [&str; 21] = [
    "tracking_no",
    "status",
    "closure",
    "channel",
    "category",
    "department",
    "assignee",
    "respondent_key",
    "respondent_name",
    "complainant_key",
    "subject",
    "created_at",
    "updated_at",
    "next_due_at",
    "staff_due",
    "sweep_at",
    "decided_by",
    "decider_level",
    "report",
    "outcome",
    "missed",
];

/// The place of `column` among [`SHARED_CASE_COLUMNS`].
pub(crate) fn column_of(column: &str) -> usize {
    SHARED_CASE_COLUMNS
        .iter()
        .position(|c| *c == column)
        .expect("one of the shared case columns")
}

/// Saves a case row over the version it was read at.
///
/// Only the columns whose value moved are named in the `SET` list: SQLite
/// rewrites the entry of every index over a column the statement names,
/// changed or not, and `cases` carries sixteen of them. A typical save (a
/// notice settled, a message added) changes the document and one or two
/// index columns, and costs about half the writer time this way (measured
/// in `docs/benchmarks.md`, "Mail in and notices out"). The current row is
/// read first, on the writer's own connection inside the transaction, so
/// the comparison cannot race another write.
fn update_case_row(conn: &Connection, u: &CaseUpdate) -> StoreResult<()> {
    let r = &u.row;
    let id = r.id.to_string();
    static CURRENT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT version, {} FROM cases WHERE id = ?1",
            SHARED_CASE_COLUMNS.join(", ")
        )
    });
    let current = conn
        .prepare_cached(&CURRENT)
        .map_err(db)?
        .query_row([&id], |row| {
            let version: i64 = row.get(0)?;
            let values = (1..=SHARED_CASE_COLUMNS.len())
                .map(|i| row.get::<_, SqlValue>(i))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((version, values))
        })
        .optional()
        .map_err(db)?;
    let Some((version, old)) = current else {
        return Err(StoreError::VersionConflict);
    };
    if version != u.expected_version {
        return Err(StoreError::VersionConflict);
    }
    // The report counters move by what this save changes (same
    // transaction as the row).
    let before = rollups::from_values(&old)?;
    let mut set = String::new();
    let mut values = Vec::new();
    for ((column, new), old) in SHARED_CASE_COLUMNS
        .iter()
        .zip(shared_case_values(r)?)
        .zip(old)
    {
        if new != old {
            values.push(new);
            set.push_str(&format!("{column} = ?{}, ", values.len()));
        }
    }
    values.push(SqlValue::Blob(r.doc.clone()));
    values.push(SqlValue::Integer(u.expected_version));
    values.push(SqlValue::Text(id));
    let n = values.len();
    let sql = format!(
        "UPDATE cases SET {set}doc = ?{}, version = ?{} + 1, claimed_until = NULL \
         WHERE id = ?{n} AND version = ?{}",
        n - 2,
        n - 1,
        n - 1
    );
    let changed = conn
        .prepare_cached(&sql)
        .map_err(db)?
        .execute(params_from_iter(values))
        .map_err(case_violation)?;
    if changed == 0 {
        return Err(StoreError::VersionConflict);
    }
    // The tokens only when they moved: their trigger then replaces the
    // case's entries in the search index.
    conn.prepare_cached(
        "UPDATE case_tokens SET search_tokens = ?2 \
         WHERE seq = (SELECT seq FROM cases WHERE id = ?1) AND search_tokens IS NOT ?2",
    )
    .map_err(db)?
    .execute(params![r.id.to_string(), r.search_tokens])
    .map_err(db)?;
    rollups::update(conn, Some(before), r)
}

fn get_idempotency(conn: &Connection, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
    let raw = conn
        .prepare_cached(
            "SELECT key, request_hash, status, body, created_at FROM idempotency_keys WHERE key = ?1",
        )
        .map_err(db)?
        .query_row([key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .optional()
        .map_err(db)?;
    raw.map(|(key, request_hash, status, body, created_at)| {
        Ok(IdempotencyRecord {
            key,
            request_hash,
            status: u16::try_from(status)
                .map_err(|_| StoreError::other(format!("bad http status {status}")))?,
            body,
            created_at: parse_ts(&created_at)?,
        })
    })
    .transpose()
}
