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
//! * Reads go through a pool of `query_only` connections on blocking threads;
//!   WAL lets them read while the writer writes.

mod actions;
mod bulk;
mod codec;
mod mail;
mod query;
mod schema;
mod webhooks;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, LazyLock};
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use r2d2_sqlite::SqliteConnectionManager;
use r2d2_sqlite::rusqlite::types::Value as SqlValue;
use r2d2_sqlite::rusqlite::{
    self, Connection, OpenFlags, OptionalExtension, Row, params, params_from_iter,
};
use redress_domain::Status;
use redress_domain::calendar::{DayException, DayKind, DaySource};
use redress_store::{
    ApiKey, AttemptEffect, CalendarFeed, CannedReply, CaseFilter, CaseRow, CaseSummary, CaseUpdate,
    Category, Department, IdempotencyRecord, InsertOutcome, JournalEntry, NewEvent, Page,
    QueueCount, ReportRow, RespondentAccount, Session, Store, StoreError, StoreResult, User,
    Visibility, WebhookAttempt, WebhookCall, WebhookCallState, WebhookSubscription,
};
use redress_store::{HeldMail, HeldMailState};
use uuid::Uuid;

use codec::{
    CASE_COLUMNS, constraint, db, from_json, parse_date, parse_enum, parse_enum_opt, parse_ts,
    parse_ts_opt, parse_uuid, parse_uuid_opt, to_json, ts, ts_opt,
};
use writer::{ChainHead, Job, Queued, WriteCtx};

/// Read connections in the pool.
const READERS: u32 = 8;

/// Settings every connection gets. Not `temp_store = MEMORY`: the writer
/// keeps a savepoint open per job, and SQLite's in-memory statement journal
/// is truncated by walking it from the start, which makes every statement
/// of a large job cost time proportional to the job's size so far.
const COMMON_PRAGMAS: &str = "PRAGMA foreign_keys = ON;
     PRAGMA secure_delete = ON;
     PRAGMA busy_timeout = 5000;
     PRAGMA synchronous = FULL;
     PRAGMA cache_size = -8192;";

/// The SQLite store. Dropping it stops the writer after the queued jobs.
pub struct SqliteStore {
    sender: Option<mpsc::Sender<Queued>>,
    writer: Option<JoinHandle<()>>,
    readers: r2d2::Pool<SqliteConnectionManager>,
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
            return Err(StoreError::Backend(format!(
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

        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(|c| {
                c.execute_batch(COMMON_PRAGMAS)?;
                c.execute_batch("PRAGMA query_only = ON;")
            });
        let readers = r2d2::Pool::builder()
            .max_size(READERS)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .build(manager)
            .map_err(|e| StoreError::Backend(format!("read pool: {e}")))?;

        let commits = Arc::new(AtomicU64::new(0));
        let (sender, rx) = mpsc::channel::<Queued>();
        let counter = Arc::clone(&commits);
        let writer = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::run(conn, head, rx, counter))
            .map_err(|e| StoreError::Backend(format!("writer thread: {e}")))?;
        Ok(SqliteStore {
            sender: Some(sender),
            writer: Some(writer),
            readers,
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
            .map_err(|e| StoreError::Backend(format!("backup task: {e}")))?
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

    /// Loads cases in one transaction, without events or idempotency
    /// records (test data, benchmarks). Blocks the calling thread; call it
    /// outside async code, with chunks of some 10,000 rows. The `seq` of the
    /// rows is ignored and assigned as usual.
    pub fn bulk_insert(&self, rows: Vec<CaseRow>) -> StoreResult<()> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job = writer::job(
            move |ctx: &mut WriteCtx<'_>| {
                let mut stmt = ctx.conn.prepare_cached(INSERT_CASE).map_err(db)?;
                for row in &rows {
                    insert_case_row(&mut stmt, row)?;
                }
                Ok(())
            },
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        self.submit(job)?;
        rx.recv()
            .map_err(|_| StoreError::Backend("the writer dropped the job".into()))?
    }

    /// Test hook: a write job that appends events and then fails, so that
    /// its savepoint (and the chain head) must be rolled back.
    #[doc(hidden)]
    pub async fn append_events_then_fail(&self, events: Vec<NewEvent>) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.append(&events)?;
            Err(StoreError::Backend("failed on purpose".into()))
        })
        .await
    }

    fn submit(&self, job: Box<dyn Job>) -> StoreResult<()> {
        self.sender
            .as_ref()
            .ok_or_else(|| StoreError::Backend("the store is closed".into()))?
            .send(Queued {
                background: redress_store::priority::is_background(),
                job,
            })
            .map_err(|_| StoreError::Backend("the writer thread stopped".into()))
    }

    /// Runs `f` on the writer, in the next group commit; answers after COMMIT.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(writer::job(
            f,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        ))?;
        rx.await
            .map_err(|_| StoreError::Backend("the write job failed without an answer".into()))?
    }

    /// Runs `f` with a pooled read connection on a blocking thread.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Backend(format!("read pool: {e}")))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("read task: {e}")))?
    }
}

/// [`SqliteStore::backup`] for a database file that another process (a
/// running server) owns: opens it read-only, without migrations or a
/// writer, and copies one snapshot to `target` (which must not exist).
pub fn backup_file(source: &Path, target: &Path) -> StoreResult<()> {
    if !source.exists() {
        return Err(StoreError::Backend(format!(
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
        return Err(StoreError::Backend(format!(
            "{} exists already",
            target.display()
        )));
    }
    let name = target
        .to_str()
        .ok_or_else(|| StoreError::Backend(format!("{} is not a UTF-8 path", target.display())))?;
    conn.execute("VACUUM INTO ?1", params![name]).map_err(db)?;
    let io = |e: std::io::Error| StoreError::Backend(format!("{}: {e}", target.display()));
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
    }
}

// ---- cases ------------------------------------------------------------------

const INSERT_CASE: &str = "INSERT INTO cases (id, tracking_no, status, closure, channel, \
     category, department, assignee, respondent_key, respondent_name, complainant_key, subject, \
     created_at, updated_at, next_due_at, staff_due, sweep_at, decided_by, decider_level, \
     search_tokens, report, version, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, \
     ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)";

fn case_violation(e: rusqlite::Error) -> StoreError {
    let which = e.to_string();
    match constraint(e, "tracking_no", "case") {
        StoreError::Duplicate(_) if which.contains("cases.id") => StoreError::Duplicate("id"),
        other => other,
    }
}

/// The columns an insert and an update both write, in the order of
/// `INSERT_CASE`'s 2nd..21st and `UPDATE_CASE`'s 1st..20th placeholders.
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
        text(&r.search_tokens),
        SqlValue::Text(to_json(&r.report)?),
    ])
}

fn insert_case_row(stmt: &mut rusqlite::CachedStatement<'_>, r: &CaseRow) -> StoreResult<i64> {
    let mut values = vec![SqlValue::Text(r.id.to_string())];
    values.extend(shared_case_values(r)?);
    values.push(SqlValue::Integer(r.version));
    values.push(SqlValue::Text(r.doc.clone()));
    stmt.insert(params_from_iter(values))
        .map_err(case_violation)
}

/// The columns of [`shared_case_values`], in its order.
const SHARED_CASE_COLUMNS: [&str; 20] = [
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
    "search_tokens",
    "report",
];

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
    values.push(SqlValue::Text(r.doc.clone()));
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
    Ok(())
}

fn get_case_where(conn: &Connection, column: &str, value: &str) -> StoreResult<Option<CaseRow>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE {column} = ?1");
    let raw = conn
        .prepare_cached(&sql)
        .map_err(db)?
        .query_row([value], codec::read_case)
        .optional()
        .map_err(db)?;
    raw.map(codec::case_row).transpose()
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
                .map_err(|_| StoreError::Backend(format!("bad http status {status}")))?,
            body,
            created_at: parse_ts(&created_at)?,
        })
    })
    .transpose()
}

// ---- journal ----------------------------------------------------------------

const EVENT_COLUMNS: &str = "seq, case_id, kind, actor, at, data, prev_hash, hash";

fn journal_entries(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<JournalEntry>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let raw = stmt
        .query_map(params, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    raw.into_iter()
        .map(|(seq, case_id, kind, actor, at, data, prev_hash, hash)| {
            Ok(JournalEntry {
                seq,
                case_id: parse_uuid_opt(case_id)?,
                kind,
                actor,
                at: parse_ts(&at)?,
                data,
                prev_hash,
                hash,
            })
        })
        .collect()
}

fn read_splice(c: &Connection) -> StoreResult<Option<redress_store::journal::JournalSplice>> {
    c.query_row(
        "SELECT seq, old_hash, new_hash, rewritten, started_seq, started_hash \
         FROM journal_splice WHERE id = 1",
        [],
        |r| {
            Ok(redress_store::journal::JournalSplice {
                seq: r.get(0)?,
                old_hash: r.get(1)?,
                new_hash: r.get(2)?,
                rewritten: r.get(3)?,
                started_seq: r.get(4)?,
                started_hash: r.get(5)?,
            })
        },
    )
    .optional()
    .map_err(db)
}

// ---- people and settings ------------------------------------------------------

fn day_kind_str(k: DayKind) -> &'static str {
    match k {
        DayKind::Holiday => "holiday",
        DayKind::Workday => "workday",
    }
}

fn parse_day_kind(s: &str) -> StoreResult<DayKind> {
    match s {
        "holiday" => Ok(DayKind::Holiday),
        "workday" => Ok(DayKind::Workday),
        other => Err(StoreError::Backend(format!("bad day kind {other:?}"))),
    }
}

const FEED_COLUMNS: &str =
    "url, etag, last_modified, fetched_at, outcome, next_fetch_at, set_by, set_at";

type RawFeed = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);

fn read_feed(r: &Row<'_>) -> rusqlite::Result<RawFeed> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn feed_row(r: RawFeed) -> StoreResult<CalendarFeed> {
    let (url, etag, last_modified, fetched_at, outcome, next, set_by, set_at) = r;
    Ok(CalendarFeed {
        url,
        etag,
        last_modified,
        fetched_at: parse_ts_opt(fetched_at)?,
        outcome,
        next_fetch_at: parse_ts(&next)?,
        set_by,
        set_at: parse_ts(&set_at)?,
    })
}

const USER_COLUMNS: &str = "id, username, display_name, password_hash, roles, departments, level, \
     active, created_at, email, must_change_password";

type RawUser = (
    String,
    String,
    String,
    String,
    String,
    String,
    i32,
    bool,
    String,
    Option<String>,
    bool,
);

fn read_user(r: &Row<'_>) -> rusqlite::Result<RawUser> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

fn user(r: RawUser) -> StoreResult<User> {
    Ok(User {
        id: parse_uuid(&r.0)?,
        username: r.1,
        display_name: r.2,
        password_hash: r.3,
        roles: from_json(&r.4)?,
        departments: from_json(&r.5)?,
        level: r.6,
        active: r.7,
        created_at: parse_ts(&r.8)?,
        email: r.9,
        must_change_password: r.10,
    })
}

fn users_where(conn: &Connection, clause: &str, value: &str) -> StoreResult<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users {clause}");
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let raw = if clause.contains("?1") {
        stmt.query_map([value], read_user)
    } else {
        stmt.query_map([], read_user)
    }
    .map_err(db)?
    .collect::<Result<Vec<_>, _>>()
    .map_err(db)?;
    raw.into_iter().map(user).collect()
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> StoreResult<()> {
        self.write(|ctx| schema::apply(ctx.conn).map(|_| ())).await
    }

    async fn insert_case(
        &self,
        row: CaseRow,
        events: Vec<NewEvent>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<InsertOutcome> {
        self.write(move |ctx| {
            if let Some(idem) = &idempotency
                && let Some(first) = get_idempotency(ctx.conn, &idem.key)?
            {
                return Ok(InsertOutcome::Replayed(first));
            }
            let seq = insert_case_row(&mut ctx.conn.prepare_cached(INSERT_CASE).map_err(db)?, &row)?;
            actions::write(ctx.conn, &row.id.to_string(), &row.actions)?;
            ctx.append(&events)?;
            if let Some(idem) = &idempotency {
                ctx.conn
                    .prepare_cached(
                        "INSERT INTO idempotency_keys (key, request_hash, status, body, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(db)?
                    .execute(params![
                        idem.key,
                        idem.request_hash,
                        idem.status,
                        idem.body,
                        ts(&idem.created_at)
                    ])
                    .map_err(|e| constraint(e, "key", "key"))?;
            }
            Ok(InsertOutcome::Inserted { seq })
        })
        .await
    }

    async fn get_case(&self, id: Uuid) -> StoreResult<Option<CaseRow>> {
        self.read(move |c| get_case_where(c, "id", &id.to_string()))
            .await
    }

    async fn get_case_by_tracking_no(&self, tracking_no: &str) -> StoreResult<Option<CaseRow>> {
        let t = tracking_no.to_string();
        self.read(move |c| get_case_where(c, "tracking_no", &t))
            .await
    }

    async fn update_cases(
        &self,
        updates: Vec<CaseUpdate>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            for u in &updates {
                update_case_row(ctx.conn, u)?;
                actions::write(ctx.conn, &u.row.id.to_string(), &u.row.actions)?;
            }
            ctx.append(&events)
        })
        .await
    }

    async fn list_cases(
        &self,
        visibility: &Visibility,
        filter: &CaseFilter,
        limit: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<CaseSummary>> {
        let (visibility, filter) = (visibility.clone(), filter.clone());
        self.read(move |c| query::list_cases(c, &visibility, &filter, limit, after))
            .await
    }

    async fn list_actions(
        &self,
        visibility: &Visibility,
        filter: &redress_store::ActionFilter,
    ) -> StoreResult<Vec<redress_store::ActionRow>> {
        let (visibility, filter) = (visibility.clone(), filter.clone());
        self.read(move |c| actions::list(c, &visibility, &filter))
            .await
    }

    async fn put_actions(
        &self,
        case_id: Uuid,
        rows: Vec<redress_store::ActionRow>,
    ) -> StoreResult<()> {
        self.write(move |ctx| actions::replace(ctx.conn, &case_id.to_string(), &rows))
            .await
    }

    async fn open_cases_between(
        &self,
        complainant_key: &str,
        respondent_key: &str,
    ) -> StoreResult<Vec<Uuid>> {
        let (ck, rk) = (complainant_key.to_string(), respondent_key.to_string());
        self.read(move |c| {
            let ids = c
                .prepare_cached(
                    "SELECT id FROM cases WHERE complainant_key = ?1 AND respondent_key = ?2 \
                     AND status <> 'closed' ORDER BY seq",
                )
                .map_err(db)?
                .query_map([ck, rk], |r| r.get::<_, String>(0))
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            ids.iter().map(|s| parse_uuid(s)).collect()
        })
        .await
    }

    async fn cases_due_from(
        &self,
        from: DateTime<Utc>,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, Uuid)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let rows = c
                .prepare_cached(
                    "SELECT seq, id FROM cases WHERE seq > ?1 AND next_due_at >= ?2 \
                     AND status <> 'closed' ORDER BY seq LIMIT ?3",
                )
                .map_err(db)?
                .query_map(params![after_seq, ts(&from), limit], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter()
                .map(|(seq, id)| Ok((seq, parse_uuid(&id)?)))
                .collect()
        })
        .await
    }

    async fn deadline_queues(
        &self,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> StoreResult<Vec<QueueCount>> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT department, assignee, sum(next_due_at <= ?1), sum(next_due_at > ?1) \
                 FROM cases WHERE staff_due = 1 AND next_due_at <= ?2 \
                 GROUP BY department, assignee ORDER BY department, assignee",
            )
            .map_err(db)?
            .query_map(params![ts(&now), ts(&soon)], |r| {
                Ok(QueueCount {
                    department: r.get(0)?,
                    assignee: r.get(1)?,
                    overdue: r.get(2)?,
                    due_soon: r.get(3)?,
                })
            })
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)
        })
        .await
    }

    async fn due_for_sweep(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Uuid>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let ids = c
                .prepare_cached(
                    "SELECT id FROM cases WHERE sweep_at <= ?1 ORDER BY sweep_at, seq LIMIT ?2",
                )
                .map_err(db)?
                .query_map(params![ts(&now), limit], |r| r.get::<_, String>(0))
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            ids.iter().map(|s| parse_uuid(s)).collect()
        })
        .await
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> StoreResult<Vec<Uuid>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // One process owns a SQLite file: its own clock is the wall clock.
        let wall = Utc::now();
        let until = wall + chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::MAX);
        self.write(move |ctx| {
            let ids = ctx
                .conn
                .prepare_cached(
                    "UPDATE cases SET claimed_until = ?4 WHERE seq IN (SELECT seq FROM cases \
                     WHERE sweep_at <= ?1 AND (claimed_until IS NULL OR claimed_until < ?2) \
                     ORDER BY sweep_at, seq LIMIT ?3) RETURNING id, sweep_at, seq",
                )
                .map_err(db)?
                .query_map(params![ts(&now), ts(&wall), limit, ts(&until)], |r| {
                    Ok((
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(0)?,
                    ))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            let mut ids = ids;
            ids.sort();
            ids.iter().map(|(_, _, id)| parse_uuid(id)).collect()
        })
        .await
    }

    async fn count_by_status(&self) -> StoreResult<Vec<(Status, i64)>> {
        self.read(|c| {
            let raw = c
                .prepare_cached("SELECT status, n FROM case_counts WHERE n > 0")
                .map_err(db)?
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            let mut out = raw
                .into_iter()
                .map(|(s, n)| Ok((parse_enum::<Status>("status", &s)?, n)))
                .collect::<StoreResult<Vec<_>>>()?;
            out.sort_by_key(|(s, _)| Status::ALL.iter().position(|x| x == s));
            Ok(out)
        })
        .await
    }

    async fn report_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ReportRow>> {
        self.read(move |c| {
            let raw = c
                .prepare_cached(
                    "SELECT channel, category, status, closure, respondent_key, report FROM cases \
                     WHERE created_at >= ?1 AND created_at < ?2 ORDER BY created_at, seq",
                )
                .map_err(db)?
                .query_map([ts(&from), ts(&to)], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            raw.into_iter()
                .map(|(ch, cat, st, cl, rk, rep)| {
                    Ok((
                        parse_enum("channel", &ch)?,
                        cat,
                        parse_enum("status", &st)?,
                        parse_enum_opt("closure", cl)?,
                        rk,
                        from_json(&rep)?,
                    ))
                })
                .collect()
        })
        .await
    }

    async fn events_for_case(&self, case_id: Uuid) -> StoreResult<Vec<JournalEntry>> {
        self.read(move |c| {
            journal_entries(
                c,
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE case_id = ?1 ORDER BY seq"),
                [case_id.to_string()],
            )
        })
        .await
    }

    async fn journal_after(&self, after: i64, limit: usize) -> StoreResult<Vec<JournalEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            journal_entries(
                c,
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
                [after, limit],
            )
        })
        .await
    }

    async fn list_global_events(
        &self,
        kinds: Vec<String>,
        limit: usize,
    ) -> StoreResult<Vec<JournalEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            // `events_global` indexes the events without a case.
            journal_entries(
                c,
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE case_id IS NULL \
                     AND kind IN (SELECT value FROM json_each(?1)) ORDER BY seq DESC LIMIT ?2"
                ),
                params![codec::to_json(&kinds)?, limit],
            )
        })
        .await
    }

    async fn journal_head(&self) -> StoreResult<Option<(i64, String)>> {
        self.read(|c| {
            c.query_row("SELECT seq, hash FROM journal_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn append_events(&self, events: Vec<NewEvent>) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.write(move |ctx| ctx.append(&events)).await
    }

    async fn get_idempotency(&self, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        let key = key.to_string();
        self.read(move |c| get_idempotency(c, &key)).await
    }

    async fn insert_department(&self, d: Department, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_departments(ctx.conn, std::slice::from_ref(&d), &[])?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_departments(&self) -> StoreResult<Vec<Department>> {
        self.read(|c| {
            c.prepare_cached("SELECT code, name, review, head FROM departments ORDER BY code")
                .map_err(db)?
                .query_map([], |r| {
                    Ok(Department {
                        code: r.get(0)?,
                        name: r.get(1)?,
                        review: r.get(2)?,
                        head: r.get(3)?,
                    })
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)
        })
        .await
    }

    async fn insert_category(&self, c: Category, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_departments(ctx.conn, &[], std::slice::from_ref(&c))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        self.read(|c| {
            let raw = c
                .prepare_cached(
                    "SELECT code, name, name_en, department, handling_days, appeal_days, \
                     review_days, respondent_reply_days FROM categories ORDER BY code",
                )
                .map_err(db)?
                .query_map([], |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, String>(3)?,
                        ),
                        [
                            r.get::<_, Option<i64>>(4)?,
                            r.get::<_, Option<i64>>(5)?,
                            r.get::<_, Option<i64>>(6)?,
                            r.get::<_, Option<i64>>(7)?,
                        ],
                    ))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            let days = |d: Option<i64>| -> StoreResult<Option<u32>> {
                d.map(|d| {
                    u32::try_from(d).map_err(|_| StoreError::Backend(format!("bad days {d}")))
                })
                .transpose()
            };
            raw.into_iter()
                .map(|((code, name, name_en, department), [h, a, r, rr])| {
                    Ok(Category {
                        code,
                        name,
                        name_en,
                        department,
                        handling_days: days(h)?,
                        appeal_days: days(a)?,
                        review_days: days(r)?,
                        respondent_reply_days: days(rr)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn insert_user(&self, u: User, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_users(ctx.conn, std::slice::from_ref(&u))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn update_user(&self, u: User, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .prepare_cached(
                    "UPDATE users SET display_name = ?2, password_hash = ?3, roles = ?4, \
                     departments = ?5, level = ?6, active = ?7, email = ?8, \
                     must_change_password = ?9 WHERE id = ?1",
                )
                .map_err(db)?
                .execute(params![
                    u.id.to_string(),
                    u.display_name,
                    u.password_hash,
                    codec::to_json(&u.roles)?,
                    codec::to_json(&u.departments)?,
                    u.level,
                    u.active,
                    u.email,
                    u.must_change_password,
                ])
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Missing("user"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn update_category(&self, c: Category, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .prepare_cached(
                    "UPDATE categories SET name = ?2, name_en = ?3, department = ?4, \
                     handling_days = ?5, appeal_days = ?6, review_days = ?7, \
                     respondent_reply_days = ?8 WHERE code = ?1",
                )
                .map_err(db)?
                .execute(params![
                    c.code,
                    c.name,
                    c.name_en,
                    c.department,
                    c.handling_days.map(i64::from),
                    c.appeal_days.map(i64::from),
                    c.review_days.map(i64::from),
                    c.respondent_reply_days.map(i64::from),
                ])
                .map_err(|e| codec::constraint(e, "code", "department"))?;
            if n == 0 {
                return Err(StoreError::Missing("category"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let username = username.to_string();
        self.read(move |c| Ok(users_where(c, "WHERE username = ?1", &username)?.pop()))
            .await
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>> {
        self.read(move |c| Ok(users_where(c, "WHERE id = ?1", &id.to_string())?.pop()))
            .await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.read(|c| users_where(c, "ORDER BY username", "")).await
    }

    async fn count_users(&self) -> StoreResult<i64> {
        self.read(|c| {
            c.query_row("SELECT count(*) FROM users", [], |r| r.get(0))
                .map_err(db)
        })
        .await
    }

    async fn insert_session(&self, s: Session) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.conn
                .execute(
                    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        s.token_hash,
                        s.user_id.to_string(),
                        ts(&s.created_at),
                        ts(&s.expires_at)
                    ],
                )
                .map_err(|e| constraint(e, "session", "user"))?;
            Ok(())
        })
        .await
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let token_hash = token_hash.to_string();
        self.read(move |c| {
            let raw = c
                .prepare_cached(
                    "SELECT token_hash, user_id, created_at, expires_at FROM sessions \
                     WHERE token_hash = ?1",
                )
                .map_err(db)?
                .query_row([token_hash], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .optional()
                .map_err(db)?;
            raw.map(|(token_hash, user_id, created_at, expires_at)| {
                Ok(Session {
                    token_hash,
                    user_id: parse_uuid(&user_id)?,
                    created_at: parse_ts(&created_at)?,
                    expires_at: parse_ts(&expires_at)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |ctx| {
            ctx.conn
                .execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn delete_user_sessions(&self, user_id: Uuid, keep: Option<String>) -> StoreResult<u64> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .execute(
                    "DELETE FROM sessions WHERE user_id = ?1 \
                     AND (?2 IS NULL OR token_hash <> ?2)",
                    params![user_id.to_string(), keep],
                )
                .map_err(db)?;
            Ok(n as u64)
        })
        .await
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .execute("DELETE FROM sessions WHERE expires_at < ?1", [ts(&now)])
                .map_err(db)?;
            Ok(n as u64)
        })
        .await
    }

    async fn insert_respondent(&self, r: RespondentAccount, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_respondents(ctx.conn, std::slice::from_ref(&r))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_respondent_by_key_hash(
        &self,
        key_hash: &str,
    ) -> StoreResult<Option<RespondentAccount>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| Ok(bulk::respondents(c, "WHERE key_hash = ?1", [key_hash])?.pop()))
            .await
    }

    async fn get_respondent(
        &self,
        kind: redress_domain::RespondentKind,
        external_id: &str,
    ) -> StoreResult<Option<RespondentAccount>> {
        let (kind, external_id) = (kind.as_str().to_string(), external_id.to_string());
        self.read(move |c| {
            Ok(bulk::respondents(
                c,
                "WHERE kind = ?1 AND external_id = ?2",
                [kind, external_id],
            )?
            .pop())
        })
        .await
    }

    async fn insert_api_key(&self, k: ApiKey, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_api_keys(ctx.conn, std::slice::from_ref(&k))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| Ok(bulk::api_keys(c, "WHERE key_hash = ?1", [key_hash])?.pop()))
            .await
    }

    async fn revoke_api_key(&self, id: Uuid, event: NewEvent) -> StoreResult<bool> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .execute(
                    "UPDATE api_keys SET revoked = 1 WHERE id = ?1",
                    [id.to_string()],
                )
                .map_err(db)?;
            if n == 0 {
                return Ok(false);
            }
            ctx.append(std::slice::from_ref(&event))?;
            Ok(true)
        })
        .await
    }

    async fn set_respondent_key(
        &self,
        id: Uuid,
        key_hash: Option<String>,
        expires_at: Option<DateTime<Utc>>,
        event: NewEvent,
    ) -> StoreResult<bool> {
        self.write(move |ctx| {
            let n = match &key_hash {
                Some(hash) => ctx.conn.execute(
                    "UPDATE respondents SET key_hash = ?2, key_revoked = 0, \
                     key_expires_at = ?3 WHERE id = ?1",
                    params![id.to_string(), hash, expires_at.as_ref().map(ts)],
                ),
                None => ctx.conn.execute(
                    "UPDATE respondents SET key_revoked = 1 WHERE id = ?1",
                    [id.to_string()],
                ),
            }
            .map_err(|e| constraint(e, "key", "key"))?;
            if n == 0 {
                return Ok(false);
            }
            ctx.append(std::slice::from_ref(&event))?;
            Ok(true)
        })
        .await
    }

    async fn list_calendar(&self) -> StoreResult<Vec<DayException>> {
        self.read(|c| {
            let raw = c
                .prepare_cached("SELECT date, kind, name FROM calendar_days ORDER BY date")
                .map_err(db)?
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            raw.into_iter()
                .map(|(date, kind, name)| {
                    Ok(DayException {
                        date: parse_date(&date)?,
                        kind: parse_day_kind(&kind)?,
                        name,
                    })
                })
                .collect()
        })
        .await
    }

    async fn upsert_calendar(
        &self,
        days: Vec<DayException>,
        event: Option<NewEvent>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let mut stmt = ctx
                .conn
                .prepare_cached(
                    "INSERT INTO calendar_days (date, kind, name, source) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                     source = excluded.source",
                )
                .map_err(db)?;
            let source = if event.is_some() {
                DaySource::Manual
            } else {
                DaySource::Builtin
            };
            for d in &days {
                stmt.execute(params![
                    d.date.format("%Y-%m-%d").to_string(),
                    day_kind_str(d.kind),
                    d.name,
                    source.as_str()
                ])
                .map_err(db)?;
            }
            drop(stmt);
            if let Some(e) = &event {
                ctx.append(std::slice::from_ref(e))?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_calendar_day(&self, date: NaiveDate) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.conn
                .execute(
                    "DELETE FROM calendar_days WHERE date = ?1",
                    [date.format("%Y-%m-%d").to_string()],
                )
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn calendar_sources(&self) -> StoreResult<Vec<(NaiveDate, DaySource)>> {
        self.read(|c| {
            let raw = c
                .prepare_cached("SELECT date, source FROM calendar_days ORDER BY date")
                .map_err(db)?
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            raw.into_iter()
                .map(|(date, source)| Ok((parse_date(&date)?, parse_enum("source", &source)?)))
                .collect()
        })
        .await
    }

    async fn apply_calendar_feed(
        &self,
        days: Vec<DayException>,
        remove: Vec<NaiveDate>,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let mut set = ctx
                .conn
                .prepare_cached(
                    "INSERT INTO calendar_days (date, kind, name, source) \
                     VALUES (?1, ?2, ?3, 'feed') \
                     ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                     source = 'feed' WHERE calendar_days.source <> 'manual'",
                )
                .map_err(db)?;
            for d in &days {
                set.execute(params![
                    d.date.format("%Y-%m-%d").to_string(),
                    day_kind_str(d.kind),
                    d.name
                ])
                .map_err(db)?;
            }
            drop(set);
            let mut del = ctx
                .conn
                .prepare_cached("DELETE FROM calendar_days WHERE date = ?1 AND source = 'feed'")
                .map_err(db)?;
            for d in &remove {
                del.execute([d.format("%Y-%m-%d").to_string()])
                    .map_err(db)?;
            }
            drop(del);
            ctx.append(std::slice::from_ref(&event))?;
            Ok(())
        })
        .await
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_string();
        self.read(move |c| {
            c.prepare_cached("SELECT value FROM settings WHERE key = ?1")
                .map_err(db)?
                .query_map(params![key], |r| r.get::<_, String>(0))
                .map_err(db)?
                .next()
                .transpose()
                .map_err(db)
        })
        .await
    }

    async fn put_setting(
        &self,
        key: &str,
        value: String,
        set_by: String,
        set_at: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let key = key.to_string();
        self.write(move |ctx| {
            ctx.conn
                .execute(
                    "INSERT INTO settings (key, value, set_by, set_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                     set_by = excluded.set_by, set_at = excluded.set_at",
                    params![key, value, set_by, ts(&set_at)],
                )
                .map_err(db)?;
            ctx.append(std::slice::from_ref(&event))?;
            Ok(())
        })
        .await
    }

    async fn get_calendar_feed(&self) -> StoreResult<Option<CalendarFeed>> {
        self.read(|c| {
            let raw = c
                .prepare_cached(&format!(
                    "SELECT {FEED_COLUMNS} FROM calendar_feed WHERE id = 1"
                ))
                .map_err(db)?
                .query_map([], read_feed)
                .map_err(db)?
                .next()
                .transpose()
                .map_err(db)?;
            raw.map(feed_row).transpose()
        })
        .await
    }

    async fn set_calendar_feed(
        &self,
        feed: Option<CalendarFeed>,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.conn
                .execute("DELETE FROM calendar_feed", [])
                .map_err(db)?;
            if let Some(f) = &feed {
                ctx.conn
                    .execute(
                        "INSERT INTO calendar_feed (id, url, etag, last_modified, fetched_at, \
                         outcome, next_fetch_at, set_by, set_at) \
                         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![
                            f.url,
                            f.etag,
                            f.last_modified,
                            ts_opt(&f.fetched_at),
                            f.outcome,
                            ts(&f.next_fetch_at),
                            f.set_by,
                            ts(&f.set_at)
                        ],
                    )
                    .map_err(db)?;
            }
            ctx.append(std::slice::from_ref(&event))?;
            Ok(())
        })
        .await
    }

    async fn claim_calendar_feed(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        force: bool,
    ) -> StoreResult<Option<CalendarFeed>> {
        let wall = Utc::now();
        let until = wall + chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::MAX);
        self.write(move |ctx| {
            let raw = ctx
                .conn
                .prepare_cached(&format!(
                    "UPDATE calendar_feed SET claimed_until = ?3 WHERE id = 1 \
                     AND (claimed_until IS NULL OR claimed_until < ?2) \
                     AND (?4 OR next_fetch_at <= ?1) \
                     RETURNING {FEED_COLUMNS}"
                ))
                .map_err(db)?
                .query_map(params![ts(&now), ts(&wall), ts(&until), force], read_feed)
                .map_err(db)?
                .next()
                .transpose()
                .map_err(db)?;
            raw.map(feed_row).transpose()
        })
        .await
    }

    async fn finish_calendar_feed(&self, f: CalendarFeed) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.conn
                .execute(
                    "UPDATE calendar_feed SET etag = ?2, last_modified = ?3, fetched_at = ?4, \
                     outcome = ?5, next_fetch_at = ?6, claimed_until = NULL \
                     WHERE id = 1 AND url = ?1",
                    params![
                        f.url,
                        f.etag,
                        f.last_modified,
                        ts_opt(&f.fetched_at),
                        f.outcome,
                        ts(&f.next_fetch_at)
                    ],
                )
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    // ---- canned replies ----------------------------------------------------

    async fn list_canned_replies(&self) -> StoreResult<Vec<CannedReply>> {
        self.read(|c| bulk::canned_replies(c, "ORDER BY created_at, id", []))
            .await
    }

    async fn get_canned_reply(&self, id: Uuid) -> StoreResult<Option<CannedReply>> {
        self.read(move |c| Ok(bulk::canned_replies(c, "WHERE id = ?1", [id.to_string()])?.pop()))
            .await
    }

    async fn insert_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_canned_replies(ctx.conn, std::slice::from_ref(&r))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn update_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .prepare_cached(
                    "UPDATE canned_replies SET title = ?2, body = ?3, locale = ?4, \
                     updated_at = ?5 WHERE id = ?1",
                )
                .map_err(db)?
                .execute(params![
                    r.id.to_string(),
                    r.title,
                    r.body,
                    r.locale.map(|l| l.as_str()),
                    ts(&r.updated_at),
                ])
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Missing("canned_reply"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn delete_canned_reply(&self, id: Uuid, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .execute("DELETE FROM canned_replies WHERE id = ?1", [id.to_string()])
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Missing("canned_reply"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn seed_canned_replies(
        &self,
        replies: Vec<CannedReply>,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool> {
        self.write(move |ctx| {
            if !bulk::mark_seeded(ctx.conn, "canned_replies")? {
                return Ok(false);
            }
            let held: i64 = ctx
                .conn
                .query_row("SELECT count(*) FROM canned_replies", [], |r| r.get(0))
                .map_err(db)?;
            if held > 0 || replies.is_empty() {
                return Ok(false);
            }
            bulk::import_canned_replies(ctx.conn, &replies)?;
            ctx.append(&events)?;
            Ok(true)
        })
        .await
    }

    // ---- bulk copy (migrate-data) ------------------------------------------

    async fn table_counts(&self) -> StoreResult<redress_store::TableCounts> {
        self.read(|c| bulk::table_counts(c)).await
    }

    async fn export_cases(&self, after: i64, limit: usize) -> StoreResult<Vec<CaseRow>> {
        self.read(move |c| bulk::export_cases(c, after, limit))
            .await
    }

    async fn export_idempotency(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<Vec<IdempotencyRecord>> {
        self.read(move |c| bulk::export_idempotency(c, after, limit))
            .await
    }

    async fn export_respondents(&self) -> StoreResult<Vec<RespondentAccount>> {
        self.read(|c| bulk::export_respondents(c)).await
    }

    async fn export_api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        self.read(|c| bulk::export_api_keys(c)).await
    }

    async fn import_cases(&self, rows: Vec<CaseRow>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_cases(ctx.conn, &rows))
            .await
    }

    async fn import_events(&self, entries: Vec<JournalEntry>) -> StoreResult<()> {
        self.write(move |ctx| ctx.import(&entries)).await
    }

    async fn import_idempotency(&self, records: Vec<IdempotencyRecord>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_idempotency(ctx.conn, &records))
            .await
    }

    async fn import_departments(
        &self,
        departments: Vec<Department>,
        categories: Vec<Category>,
    ) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_departments(ctx.conn, &departments, &categories))
            .await
    }

    async fn import_users(&self, users: Vec<User>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_users(ctx.conn, &users))
            .await
    }

    async fn import_respondents(&self, respondents: Vec<RespondentAccount>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_respondents(ctx.conn, &respondents))
            .await
    }

    async fn import_api_keys(&self, keys: Vec<ApiKey>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_api_keys(ctx.conn, &keys))
            .await
    }

    async fn import_canned_replies(&self, replies: Vec<CannedReply>) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_canned_replies(ctx.conn, &replies)?;
            bulk::mark_seeded(ctx.conn, "canned_replies")?;
            Ok(())
        })
        .await
    }

    async fn import_calendar(&self, days: Vec<DayException>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_calendar(ctx.conn, &days))
            .await
    }

    async fn import_notice_templates(
        &self,
        templates: Vec<redress_store::NoticeTemplateRow>,
    ) -> StoreResult<()> {
        self.nt_import(templates).await
    }

    async fn export_held_mail(&self, after: i64, limit: usize) -> StoreResult<Vec<HeldMail>> {
        self.hm_export(after, limit).await
    }

    async fn import_held_mail(&self, mails: Vec<HeldMail>) -> StoreResult<()> {
        self.hm_import(mails).await
    }

    async fn import_webhook_subscriptions(
        &self,
        subscriptions: Vec<WebhookSubscription>,
    ) -> StoreResult<()> {
        self.wh_import_subscriptions(subscriptions).await
    }

    async fn export_webhook_calls(
        &self,
        after: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<WebhookCall>> {
        self.wh_export_calls(after, limit).await
    }

    async fn import_webhook_calls(&self, calls: Vec<WebhookCall>) -> StoreResult<()> {
        self.wh_import_calls(calls).await
    }

    async fn export_webhook_attempts(
        &self,
        after: Option<(Uuid, i32)>,
        limit: usize,
    ) -> StoreResult<Vec<WebhookAttempt>> {
        self.wh_export_attempts(after, limit).await
    }

    async fn import_webhook_attempts(&self, attempts: Vec<WebhookAttempt>) -> StoreResult<()> {
        self.wh_import_attempts(attempts).await
    }

    // ---- webhooks (see webhooks.rs) ---------------------------------------

    async fn insert_webhook_subscription(
        &self,
        s: WebhookSubscription,
        event: NewEvent,
    ) -> StoreResult<WebhookSubscription> {
        self.wh_insert_subscription(s, event).await
    }

    async fn list_webhook_subscriptions(&self) -> StoreResult<Vec<WebhookSubscription>> {
        self.wh_list_subscriptions().await
    }

    async fn get_webhook_subscription(&self, id: Uuid) -> StoreResult<Option<WebhookSubscription>> {
        self.wh_get_subscription(id).await
    }

    async fn update_webhook_subscription(
        &self,
        s: WebhookSubscription,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.wh_update_subscription(s, event).await
    }

    async fn claim_webhook_subscriptions(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> StoreResult<Vec<WebhookSubscription>> {
        self.wh_claim(now, lease, limit).await
    }

    async fn release_webhook_subscription(&self, id: Uuid) -> StoreResult<()> {
        self.wh_release(id).await
    }

    async fn advance_webhook_cursor(&self, id: Uuid, seq: i64) -> StoreResult<()> {
        self.wh_advance(id, seq).await
    }

    async fn insert_webhook_call(&self, call: WebhookCall) -> StoreResult<()> {
        self.wh_insert_call(call).await
    }

    async fn pending_webhook_call(
        &self,
        subscription_id: Uuid,
    ) -> StoreResult<Option<WebhookCall>> {
        self.wh_pending_call(subscription_id).await
    }

    async fn get_webhook_call(&self, id: Uuid) -> StoreResult<Option<WebhookCall>> {
        self.wh_get_call(id).await
    }

    async fn list_notice_templates(&self) -> StoreResult<Vec<redress_store::NoticeTemplateRow>> {
        self.nt_list().await
    }

    async fn put_notice_template(
        &self,
        t: redress_store::NoticeTemplateRow,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.nt_put(t, event).await
    }

    async fn delete_notice_template(
        &self,
        kind: &str,
        locale: redress_domain::Locale,
        event: NewEvent,
    ) -> StoreResult<bool> {
        self.nt_delete(kind.to_string(), locale, event).await
    }

    async fn hold_mail(&self, m: HeldMail, event: NewEvent) -> StoreResult<Uuid> {
        self.hm_hold(m, event).await
    }

    async fn list_held_mail(
        &self,
        state: Option<HeldMailState>,
        limit: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<HeldMail>> {
        self.hm_list(state, limit, after).await
    }

    async fn get_held_mail(&self, id: Uuid) -> StoreResult<Option<HeldMail>> {
        self.hm_get(id).await
    }

    async fn settle_held_mail(
        &self,
        id: Uuid,
        state: HeldMailState,
        by: String,
        at: DateTime<Utc>,
        attached_to: Option<Uuid>,
        event: NewEvent,
    ) -> StoreResult<bool> {
        self.hm_settle(id, state, by, at, attached_to, event).await
    }

    async fn list_webhook_calls(
        &self,
        subscription_id: Uuid,
        state: Option<WebhookCallState>,
        limit: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<WebhookCall>> {
        self.wh_list_calls(subscription_id, state, limit, after)
            .await
    }

    async fn webhook_attempts(&self, call_ids: Vec<Uuid>) -> StoreResult<Vec<WebhookAttempt>> {
        self.wh_attempts(call_ids).await
    }

    async fn record_webhook_attempt(
        &self,
        attempt: WebhookAttempt,
        effect: AttemptEffect,
    ) -> StoreResult<WebhookCall> {
        self.wh_record_attempt(attempt, effect).await
    }

    async fn expire_webhook_calls(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64> {
        self.write(move |ctx| {
            // One writer transaction: both statements pick the same calls.
            let picked = "SELECT id FROM webhook_calls WHERE state <> 'pending' \
                          AND created_at < ?1 ORDER BY created_at, id LIMIT ?2";
            let (before, limit) = (ts(&before), limit as i64);
            let args = rusqlite::params![before, limit];
            ctx.conn
                .execute(
                    &format!("DELETE FROM webhook_attempts WHERE call_id IN ({picked})"),
                    args,
                )
                .map_err(db)?;
            let n = ctx
                .conn
                .execute(
                    &format!("DELETE FROM webhook_calls WHERE id IN ({picked})"),
                    args,
                )
                .map_err(db)?;
            Ok(n as u64)
        })
        .await
    }

    async fn expire_held_mail(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .execute(
                    "DELETE FROM held_mail WHERE seq IN (\
                     SELECT seq FROM held_mail WHERE state = 'held' AND received_at < ?1 \
                     UNION ALL \
                     SELECT seq FROM held_mail WHERE state <> 'held' \
                       AND COALESCE(settled_at, received_at) < ?1 \
                     ORDER BY seq LIMIT ?2)",
                    rusqlite::params![ts(&before), limit as i64],
                )
                .map_err(db)?;
            Ok(n as u64)
        })
        .await
    }

    async fn forget_case(&self, case_id: Uuid) -> StoreResult<u64> {
        let id = case_id.to_string();
        self.write(move |ctx| {
            let calls = ctx
                .conn
                .execute(
                    "UPDATE webhook_calls SET payload = '{\"erased\":true}' \
                     WHERE case_id = ?1 AND payload <> '{\"erased\":true}'",
                    [&id],
                )
                .map_err(db)?;
            let mail = ctx
                .conn
                .execute(
                    "DELETE FROM held_mail WHERE case_id = ?1 OR attached_to = ?1",
                    [&id],
                )
                .map_err(db)?;
            Ok((calls + mail) as u64)
        })
        .await
    }

    async fn journal_splice(&self) -> StoreResult<Option<redress_store::journal::JournalSplice>> {
        self.read(|c| read_splice(c)).await
    }

    async fn rewrite_journal(
        &self,
        after: i64,
        data: Vec<(i64, Option<String>)>,
        at: DateTime<Utc>,
    ) -> StoreResult<redress_store::journal::RewriteOutcome> {
        use redress_store::journal::{RewriteOutcome, plan_rewrite, resealed_event};
        self.write(move |ctx| {
            let splice = match read_splice(ctx.conn)? {
                Some(s) if s.seq != after => return Err(StoreError::VersionConflict),
                Some(s) => s,
                None => {
                    let at_after: String = if after == 0 {
                        redress_store::journal::GENESIS.to_string()
                    } else {
                        ctx.conn
                            .query_row("SELECT hash FROM events WHERE seq = ?1", [after], |r| {
                                r.get(0)
                            })
                            .map_err(db)?
                    };
                    redress_store::journal::JournalSplice::start(after, at_after, ctx.head())
                }
            };
            let stored = journal_entries(
                ctx.conn,
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
                [after, data.len() as i64],
            )?;
            let (rows, next) =
                plan_rewrite(&splice, &stored, &data).ok_or(StoreError::VersionConflict)?;
            let mut update = ctx
                .conn
                .prepare_cached(
                    "UPDATE events SET data = ?2, prev_hash = ?3, hash = ?4 WHERE seq = ?1",
                )
                .map_err(db)?;
            for e in &rows {
                update
                    .execute(params![e.seq, e.data, e.prev_hash, e.hash])
                    .map_err(db)?;
            }
            drop(update);
            if ctx.head().0 == next.seq {
                ctx.rehash_head(next.new_hash.clone())?;
                ctx.conn
                    .execute("DELETE FROM journal_splice", [])
                    .map_err(db)?;
                ctx.append(&[resealed_event(&next, at)])?;
                Ok(RewriteOutcome::Finished {
                    rewritten: next.rewritten,
                    old_head: (next.seq, next.old_hash),
                    new_head: (next.seq, next.new_hash),
                })
            } else {
                ctx.conn
                    .execute(
                        "INSERT INTO journal_splice (id, seq, old_hash, new_hash, rewritten, \
                         started_seq, started_hash) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) \
                         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, \
                         old_hash = excluded.old_hash, new_hash = excluded.new_hash, \
                         rewritten = excluded.rewritten",
                        params![
                            next.seq,
                            next.old_hash,
                            next.new_hash,
                            next.rewritten,
                            next.started_seq,
                            next.started_hash
                        ],
                    )
                    .map_err(db)?;
                Ok(RewriteOutcome::Continues(next))
            }
        })
        .await
    }

    async fn reseal(&self, value: redress_store::Resealed) -> StoreResult<()> {
        use redress_store::Resealed;
        self.write(move |ctx| {
            match value {
                Resealed::HeldMail {
                    id,
                    sender,
                    subject,
                    raw,
                } => ctx.conn.execute(
                    "UPDATE held_mail SET sender = ?2, subject = ?3, raw = ?4 WHERE id = ?1",
                    rusqlite::params![id.to_string(), sender, subject, raw],
                ),
                Resealed::Idempotency { key, body } => ctx.conn.execute(
                    "UPDATE idempotency_keys SET body = ?2 WHERE key = ?1",
                    rusqlite::params![key, body],
                ),
                Resealed::WebhookSecret { id, secret } => ctx.conn.execute(
                    "UPDATE webhook_subscriptions SET secret = ?2 WHERE id = ?1",
                    rusqlite::params![id.to_string(), secret],
                ),
            }
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn compact_after_purge(&self) -> StoreResult<()> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = Connection::open(&path).map_err(db)?;
            conn.execute_batch("PRAGMA busy_timeout = 5000;")
                .map_err(db)?;
            // Every frame goes into the main file (where secure_delete
            // zeroed what was freed) and the log is cut to nothing.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(db)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("checkpoint task: {e}")))?
    }

    async fn expire_idempotency(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .execute(
                    "DELETE FROM idempotency_keys WHERE key IN (\
                     SELECT key FROM idempotency_keys WHERE created_at < ?1 \
                     ORDER BY created_at LIMIT ?2)",
                    rusqlite::params![ts(&before), limit as i64],
                )
                .map_err(db)?;
            Ok(n as u64)
        })
        .await
    }
}
