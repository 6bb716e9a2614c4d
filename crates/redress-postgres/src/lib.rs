//! The [`Store`] on PostgreSQL, for one or several `redress serve`
//! instances on one database.
//!
//! * Writes that touch the journal go through this instance's writer
//!   threads ([`writer`]): queued jobs are committed in groups, each group
//!   one transaction that locks the journal head just before it commits.
//!   The lock gives the hash chain one order across instances; grouping
//!   lets concurrent requests share that lock and the commit's WAL flush.
//! * Cases carry a version: an update names the version it read and
//!   changes nothing when another instance moved the case first
//!   (`VersionConflict`).
//! * Background work is claimed: [`Store::claim_due`] marks due cases with
//!   a lease (`FOR UPDATE SKIP LOCKED`), so instances share the work; a
//!   claim whose holder died runs out and the case is claimed again.
//! * Reads, sessions and claims use a pool of connections on blocking
//!   threads.

mod actions;
mod bulk;
mod codec;
mod mail;
mod query;
mod webhooks;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use postgres::types::{Json, ToSql, Type};
use postgres::{Client, NoTls, Row};
use r2d2_postgres::PostgresConnectionManager;
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
    CASE_COLUMNS, col, constraint, db, from_json, parse_enum, parse_enum_opt, to_json,
    unique_constraint, us, us_opt,
};
use writer::{Job, WriteCtx};

fn feed_row(r: &Row) -> StoreResult<CalendarFeed> {
    Ok(CalendarFeed {
        url: col(r, 0)?,
        etag: col(r, 1)?,
        last_modified: col(r, 2)?,
        fetched_at: col(r, 3)?,
        outcome: col(r, 4)?,
        next_fetch_at: col(r, 5)?,
        set_by: col(r, 6)?,
        set_at: col(r, 7)?,
    })
}

/// Connections in the read pool.
const READERS: u32 = 8;

/// Writer connections per instance: enough for PostgreSQL to spread the
/// case work of concurrent groups over its cores.
const WRITERS: usize = 4;

/// `(version, name, sql)`, in order. Never edit a released migration: add one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (
        2,
        "deadlines",
        include_str!("../migrations/0002_deadlines.sql"),
    ),
    (
        3,
        "canned_replies",
        include_str!("../migrations/0003_canned_replies.sql"),
    ),
    (
        5,
        "webhooks",
        include_str!("../migrations/0005_webhooks.sql"),
    ),
    (
        6,
        "held_mail",
        include_str!("../migrations/0006_held_mail.sql"),
    ),
    (
        7,
        "user_email",
        include_str!("../migrations/0007_user_email.sql"),
    ),
    (
        8,
        "notice_templates",
        include_str!("../migrations/0008_notice_templates.sql"),
    ),
    (
        10,
        "key_lifecycle",
        include_str!("../migrations/0010_key_lifecycle.sql"),
    ),
    (
        11,
        "retention",
        include_str!("../migrations/0011_retention.sql"),
    ),
    (
        12,
        "erasure",
        include_str!("../migrations/0012_erasure.sql"),
    ),
    (
        13,
        "calendar_feed",
        include_str!("../migrations/0013_calendar_feed.sql"),
    ),
    (
        14,
        "staff_channels",
        include_str!("../migrations/0014_staff_channels.sql"),
    ),
    (
        15,
        "settings",
        include_str!("../migrations/0015_settings.sql"),
    ),
    (
        16,
        "corrective_actions",
        include_str!("../migrations/0016_corrective_actions.sql"),
    ),
    (
        17,
        "respondent_reply",
        include_str!("../migrations/0017_respondent_reply.sql"),
    ),
];

/// Key of the advisory lock that serialises migrations of instances
/// starting together.
const MIGRATION_LOCK: i64 = 0x7265_6472_6573_7301;

/// The PostgreSQL store. Dropping it stops the writer after the queued jobs.
pub struct PgStore {
    sender: Option<mpsc::Sender<Box<dyn Job>>>,
    writers: Vec<JoinHandle<()>>,
    /// `Some` until dropped.
    pool: Option<r2d2::Pool<PostgresConnectionManager<NoTls>>>,
    commits: Arc<AtomicU64>,
}

impl PgStore {
    /// Connects to `url` (`postgres://…`), applies pending migrations and
    /// starts the writer thread. Blocks: call it on a blocking thread.
    pub fn open(url: &str) -> StoreResult<PgStore> {
        let mut config = postgres::Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("bad PostgreSQL URL: {e}")))?;
        if config.get_application_name().is_none() {
            config.application_name("redress");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let mut first = config.connect(NoTls).map_err(db)?;
        migrate(&mut first)?;
        drop(first);

        let manager = PostgresConnectionManager::new(config.clone(), NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(READERS)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            // No round trip per checkout: a connection found closed on
            // return is discarded, and a failed query names its error.
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| StoreError::Backend(format!("connection pool: {e}")))?;

        let commits = Arc::new(AtomicU64::new(0));
        let (sender, rx) = mpsc::channel::<Box<dyn Job>>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        // A writer that froze inside a group (a stopped VM, a cut network)
        // would hold the journal head and stop every instance's writes: the
        // server ends such a session, and notices a dead peer, within
        // seconds.
        let mut writer_config = config.clone();
        let options = writer_config.get_options().unwrap_or_default().to_string();
        writer_config
            .options(format!("{options} -c idle_in_transaction_session_timeout=30000").trim())
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30));
        let connect: writer::Connect = Arc::new(move || writer_config.connect(NoTls));
        let mut writers = Vec::with_capacity(WRITERS);
        for i in 0..WRITERS {
            let (connect, rx, counter) = (connect.clone(), rx.clone(), commits.clone());
            writers.push(
                std::thread::Builder::new()
                    .name(format!("postgres-writer-{i}"))
                    .spawn(move || writer::run(connect, rx, counter))
                    .map_err(|e| StoreError::Backend(format!("writer thread: {e}")))?,
            );
        }
        Ok(PgStore {
            sender: Some(sender),
            writers,
            pool: Some(pool),
            commits,
        })
    }

    /// How many group COMMITs succeeded since `open`.
    pub fn commit_count(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Loads cases in one transaction, without events or idempotency
    /// records (test data, benchmarks). Blocks the calling thread.
    pub fn bulk_insert(&self, rows: Vec<CaseRow>) -> StoreResult<()> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job = writer::job(
            move |ctx: &mut WriteCtx<'_>| {
                for row in &rows {
                    insert_case_row(ctx, row)?;
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
            .send(job)
            .map_err(|_| StoreError::Backend("the writer thread stopped".into()))
    }

    /// Runs `f` on the writer, in the next group; answers after COMMIT.
    ///
    /// Two groups that take the same keys (a department code, a user name)
    /// in opposite orders deadlock, and PostgreSQL rolls one job back. That
    /// job did nothing wrong: it runs again, in a later group, a few times
    /// before the error reaches the caller.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: Fn(&mut WriteCtx<'_>) -> StoreResult<T> + Clone + Send + 'static,
    {
        const ATTEMPTS: usize = 4;
        for attempt in 1.. {
            match self.write_once(f.clone()).await {
                Err(StoreError::Backend(e)) if e.starts_with(DEADLOCK) && attempt < ATTEMPTS => {
                    tracing::debug!(
                        attempt,
                        "postgres write job lost a deadlock; running it again"
                    );
                }
                r => return r,
            }
        }
        unreachable!("the loop returns by its last attempt")
    }

    /// Queues `f` for a writer once and waits for its answer.
    async fn write_once<T, F>(&self, f: F) -> StoreResult<T>
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

    /// Runs `f` with a pooled connection on a blocking thread.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Client) -> StoreResult<T> + Send + 'static,
    {
        let pool = self
            .pool
            .clone()
            .ok_or_else(|| StoreError::Backend("the store is closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Backend(format!("connection pool: {e}")))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("database task: {e}")))?
    }

    /// One query on a pooled connection: its rows. Parameters carry their
    /// types, so the query goes out in one round trip (no prepare).
    async fn rows(&self, sql: impl Into<String>, params: Vec<P>) -> StoreResult<Vec<Row>> {
        let sql = sql.into();
        self.read(move |c| {
            let typed: Vec<(&(dyn ToSql + Sync), Type)> = params.iter().map(P::typed).collect();
            c.query_typed(sql.as_str(), &typed).map_err(db)
        })
        .await
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // A synchronous client runs its own runtime to close its
        // connection, which may not happen on an async thread: the pool is
        // dropped on a thread of its own.
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
        drop(self.sender.take());
        for w in self.writers.drain(..) {
            if w.join().is_err() {
                tracing::error!("a postgres writer thread panicked");
            }
        }
    }
}

/// Applies the migrations not yet recorded, one instance at a time, in
/// order of version. Each version is looked up on its own, not compared
/// with the highest one applied, so that a lower version merged after a
/// higher one (branches numbered apart) is still applied.
fn migrate(client: &mut Client) -> StoreResult<usize> {
    let mut tx = client.transaction().map_err(db)?;
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    bigint PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .map_err(db)?;
    let done: std::collections::HashSet<i64> = tx
        .query("SELECT version FROM schema_migrations", &[])
        .map_err(db)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut applied = 0;
    for (version, name, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        tx.batch_execute(sql).map_err(db)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .map_err(db)?;
        tracing::info!(version, name, "applied migration");
        applied += 1;
    }
    tx.commit().map_err(db)?;
    Ok(applied)
}

// ---- cases ------------------------------------------------------------------

/// The INSERT of a new case's 23 values (see [`CaseValues::params`]).
macro_rules! insert_case {
    () => {
        "INSERT INTO cases (id, tracking_no, status, closure, channel, \
         category, department, assignee, respondent_key, respondent_name, complainant_key, \
         subject, created_at, updated_at, next_due_at, staff_due, sweep_at, decided_by, \
         decider_level, search_tokens, report, version, doc) VALUES ($1, $2, $3, $4, $5, $6, \
         $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
    };
}

const INSERT_CASE: &str = concat!(insert_case!(), " RETURNING seq");

/// How [`codec::db`] begins the message of a detected deadlock.
const DEADLOCK: &str = "40P01";

/// [`INSERT_CASE`] that answers no row, instead of failing, when the
/// tracking number is taken.
const INSERT_CASE_IF_FREE: &str = concat!(
    insert_case!(),
    " ON CONFLICT (tracking_no) DO NOTHING RETURNING seq"
);

const UPDATE_CASE: &str = "UPDATE cases SET tracking_no = $2, status = $3, closure = $4, \
     channel = $5, category = $6, department = $7, assignee = $8, respondent_key = $9, \
     respondent_name = $10, complainant_key = $11, subject = $12, created_at = $13, \
     updated_at = $14, next_due_at = $15, staff_due = $16, sweep_at = $17, decided_by = $18, \
     decider_level = $19, search_tokens = $20, report = $21, version = $22 + 1, doc = $23, \
     claimed_until = NULL WHERE id = $1 AND version = $22";

fn case_violation(e: postgres::Error) -> StoreError {
    match unique_constraint(&e).as_deref() {
        Some("cases_id_key") => StoreError::Duplicate("id"),
        Some(_) => StoreError::Duplicate("tracking_no"),
        None => db(e),
    }
}

/// The 23 values an insert and an update both bind, in placeholder order.
struct CaseValues {
    id: Uuid,
    status: &'static str,
    closure: Option<&'static str>,
    channel: &'static str,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    next_due_at: Option<DateTime<Utc>>,
    sweep_at: Option<DateTime<Utc>>,
    report: Json<serde_json::Value>,
}

impl CaseValues {
    fn of(r: &CaseRow) -> StoreResult<CaseValues> {
        Ok(CaseValues {
            id: r.id,
            status: r.status.as_str(),
            closure: r.closure.map(|c| c.as_str()),
            channel: r.channel.as_str(),
            created_at: us(&r.created_at),
            updated_at: us(&r.updated_at),
            next_due_at: us_opt(&r.next_due_at),
            sweep_at: us_opt(&r.sweep_at),
            report: Json(to_json(&r.report)?),
        })
    }

    fn params<'a>(&'a self, r: &'a CaseRow, version: &'a i64) -> [&'a (dyn ToSql + Sync); 23] {
        [
            &self.id,
            &r.tracking_no,
            &self.status,
            &self.closure,
            &self.channel,
            &r.category,
            &r.department,
            &r.assignee,
            &r.respondent_key,
            &r.respondent_name,
            &r.complainant_key,
            &r.subject,
            &self.created_at,
            &self.updated_at,
            &self.next_due_at,
            &r.staff_due,
            &self.sweep_at,
            &r.decided_by,
            &r.decider_level,
            &r.search_tokens,
            &self.report,
            version,
            &r.doc,
        ]
    }
}

fn insert_case_row(ctx: &mut WriteCtx<'_>, r: &CaseRow) -> StoreResult<i64> {
    let v = CaseValues::of(r)?;
    let stmt = ctx.statement(INSERT_CASE)?;
    let row = ctx
        .client
        .query_one(&stmt, &v.params(r, &r.version))
        .map_err(case_violation)?;
    col(&row, 0)
}

fn update_case_row(ctx: &mut WriteCtx<'_>, u: &CaseUpdate) -> StoreResult<()> {
    let v = CaseValues::of(&u.row)?;
    let changed = ctx
        .execute(UPDATE_CASE, &v.params(&u.row, &u.expected_version))
        .map_err(|e| {
            // Two groups that update the same cases in opposite orders: the
            // one PostgreSQL picks loses this job only, and the caller
            // reloads and tries again, as after any concurrent change.
            if e.code() == Some(&postgres::error::SqlState::T_R_DEADLOCK_DETECTED) {
                StoreError::VersionConflict
            } else {
                case_violation(e)
            }
        })?;
    if changed == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(())
}

fn idempotency(row: &Row) -> StoreResult<IdempotencyRecord> {
    let status: i32 = col(row, 2)?;
    Ok(IdempotencyRecord {
        key: col(row, 0)?,
        request_hash: col(row, 1)?,
        status: u16::try_from(status)
            .map_err(|_| StoreError::Backend(format!("bad http status {status}")))?,
        body: col(row, 3)?,
        created_at: col(row, 4)?,
    })
}

const GET_IDEMPOTENCY: &str =
    "SELECT key, request_hash, status, body, created_at FROM idempotency_keys WHERE key = $1";

// ---- journal ------------------------------------------------------------------

fn journal_entry(r: &Row) -> StoreResult<JournalEntry> {
    Ok(JournalEntry {
        seq: col(r, 0)?,
        case_id: col(r, 1)?,
        kind: col(r, 2)?,
        actor: col(r, 3)?,
        at: col(r, 4)?,
        data: col(r, 5)?,
        prev_hash: col(r, 6)?,
        hash: col(r, 7)?,
    })
}

const SELECT_SPLICE: &str = "SELECT seq, old_hash, new_hash, rewritten, started_seq, \
     started_hash FROM journal_splice WHERE id = 1";

fn splice(r: &Row) -> StoreResult<redress_store::journal::JournalSplice> {
    Ok(redress_store::journal::JournalSplice {
        seq: col(r, 0)?,
        old_hash: col(r, 1)?,
        new_hash: col(r, 2)?,
        rewritten: col(r, 3)?,
        started_seq: col(r, 4)?,
        started_hash: col(r, 5)?,
    })
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

const USER_COLUMNS: &str = "id, username, display_name, password_hash, roles, departments, level, \
     active, created_at, email, must_change_password";

fn user(r: &Row) -> StoreResult<User> {
    Ok(User {
        id: col(r, 0)?,
        username: col(r, 1)?,
        display_name: col(r, 2)?,
        password_hash: col(r, 3)?,
        roles: from_json(col(r, 4)?)?,
        departments: from_json(col(r, 5)?)?,
        level: col(r, 6)?,
        active: col(r, 7)?,
        created_at: col(r, 8)?,
        email: col(r, 9)?,
        must_change_password: col(r, 10)?,
    })
}

/// A query parameter with its PostgreSQL type.
enum P {
    Uuid(Uuid),
    Text(String),
    Time(DateTime<Utc>),
    Int(i64),
    Texts(Vec<String>),
}

impl P {
    fn typed(&self) -> (&(dyn ToSql + Sync), Type) {
        match self {
            P::Uuid(v) => (v, Type::UUID),
            P::Text(v) => (v, Type::TEXT),
            P::Time(v) => (v, Type::TIMESTAMPTZ),
            P::Int(v) => (v, Type::INT8),
            P::Texts(v) => (v, Type::TEXT_ARRAY),
        }
    }
}

impl From<Vec<String>> for P {
    fn from(v: Vec<String>) -> P {
        P::Texts(v)
    }
}

impl From<Uuid> for P {
    fn from(v: Uuid) -> P {
        P::Uuid(v)
    }
}

impl From<String> for P {
    fn from(v: String) -> P {
        P::Text(v)
    }
}

impl From<DateTime<Utc>> for P {
    fn from(v: DateTime<Utc>) -> P {
        P::Time(v)
    }
}

impl From<i64> for P {
    fn from(v: i64) -> P {
        P::Int(v)
    }
}

fn boxed(v: impl Into<P>) -> P {
    v.into()
}

#[async_trait]
impl Store for PgStore {
    async fn migrate(&self) -> StoreResult<()> {
        self.read(|c| migrate(c).map(|_| ())).await
    }

    async fn insert_case(
        &self,
        row: CaseRow,
        events: Vec<NewEvent>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<InsertOutcome> {
        // A taken number or key is an answer, not an error: the job keeps
        // its savepoint and undoes by hand what it wrote before finding out.
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(writer::job(
            move |ctx: &mut WriteCtx<'_>| -> StoreResult<StoreResult<InsertOutcome>> {
                // The key is taken first: a concurrent writer (of this or
                // another instance) holding the same key makes this
                // statement wait for its outcome, then find its record.
                if let Some(idem) = &idempotency {
                    let taken = ctx
                        .execute(
                            "INSERT INTO idempotency_keys (key, request_hash, status, body, created_at) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING",
                            &[
                                &idem.key,
                                &idem.request_hash,
                                &i32::from(idem.status),
                                &idem.body,
                                &us(&idem.created_at),
                            ],
                        )
                        .map_err(db)?;
                    if taken == 0 {
                        let stmt = ctx.statement(GET_IDEMPOTENCY)?;
                        let first = ctx.client.query_one(&stmt, &[&idem.key]).map_err(db)?;
                        return Ok(Ok(InsertOutcome::Replayed(self::idempotency(&first)?)));
                    }
                }
                let v = CaseValues::of(&row)?;
                let stmt = ctx.statement(INSERT_CASE_IF_FREE)?;
                let Some(inserted) = ctx
                    .client
                    .query_opt(&stmt, &v.params(&row, &row.version))
                    .map_err(db)?
                else {
                    if let Some(idem) = &idempotency {
                        ctx.execute("DELETE FROM idempotency_keys WHERE key = $1", &[&idem.key])
                            .map_err(db)?;
                    }
                    return Ok(Err(StoreError::Duplicate("tracking_no")));
                };
                actions::write(ctx, row.id, &row.actions)?;
                ctx.append(&events)?;
                Ok(Ok(InsertOutcome::Inserted {
                    seq: col(&inserted, 0)?,
                }))
            },
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        ))?;
        match rx
            .await
            .map_err(|_| StoreError::Backend("the write job failed without an answer".into()))?
        {
            Ok(outcome) => outcome,
            // Two groups took the same numbers or keys in opposite orders and
            // PostgreSQL gave up this one: its number is as good as taken. The
            // caller tries again with a new number, and finds the key's first
            // answer if the key was the conflict.
            Err(StoreError::Backend(e)) if e.starts_with(DEADLOCK) => {
                Err(StoreError::Duplicate("tracking_no"))
            }
            Err(e) => Err(e),
        }
    }

    async fn get_case(&self, id: Uuid) -> StoreResult<Option<CaseRow>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        let rows = self.rows(sql, vec![boxed(id)]).await?;
        rows.first().map(codec::case_row).transpose()
    }

    async fn get_case_by_tracking_no(&self, tracking_no: &str) -> StoreResult<Option<CaseRow>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE tracking_no = $1");
        let rows = self.rows(sql, vec![boxed(tracking_no.to_string())]).await?;
        rows.first().map(codec::case_row).transpose()
    }

    async fn update_cases(
        &self,
        updates: Vec<CaseUpdate>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            for u in &updates {
                update_case_row(ctx, u)?;
                actions::write(ctx, u.row.id, &u.row.actions)?;
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
        self.write(move |ctx| actions::replace(ctx, case_id, &rows))
            .await
    }

    async fn open_cases_between(
        &self,
        complainant_key: &str,
        respondent_key: &str,
    ) -> StoreResult<Vec<Uuid>> {
        let rows = self
            .rows(
                "SELECT id FROM cases WHERE complainant_key = $1 AND respondent_key = $2 \
                 AND status <> 'closed' ORDER BY seq",
                vec![
                    boxed(complainant_key.to_string()),
                    boxed(respondent_key.to_string()),
                ],
            )
            .await?;
        rows.iter().map(|r| col(r, 0)).collect()
    }

    async fn cases_due_from(
        &self,
        from: DateTime<Utc>,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<(i64, Uuid)>> {
        let rows = self
            .rows(
                "SELECT seq, id FROM cases WHERE seq > $1 AND next_due_at >= $2 \
                 AND status <> 'closed' ORDER BY seq LIMIT $3",
                vec![
                    boxed(after_seq),
                    boxed(us(&from)),
                    boxed(i64::try_from(limit).unwrap_or(i64::MAX)),
                ],
            )
            .await?;
        rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
    }

    async fn deadline_queues(
        &self,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> StoreResult<Vec<QueueCount>> {
        let rows = self
            .rows(
                "SELECT department, assignee, \
                 count(*) FILTER (WHERE next_due_at <= $1), \
                 count(*) FILTER (WHERE next_due_at > $1) \
                 FROM cases WHERE staff_due AND next_due_at <= $2 \
                 GROUP BY department, assignee ORDER BY department, assignee",
                vec![boxed(us(&now)), boxed(us(&soon))],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(QueueCount {
                    department: col(r, 0)?,
                    assignee: col(r, 1)?,
                    overdue: col(r, 2)?,
                    due_soon: col(r, 3)?,
                })
            })
            .collect()
    }

    async fn due_for_sweep(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Uuid>> {
        let rows = self
            .rows(
                "SELECT id FROM cases WHERE sweep_at <= $1 ORDER BY sweep_at, seq LIMIT $2",
                vec![
                    boxed(us(&now)),
                    boxed(i64::try_from(limit).unwrap_or(i64::MAX)),
                ],
            )
            .await?;
        rows.iter().map(|r| col(r, 0)).collect()
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: usize,
    ) -> StoreResult<Vec<Uuid>> {
        let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
        let rows = self
            .rows(
                "UPDATE cases SET claimed_until = clock_timestamp() + make_interval(secs => $3::bigint / 1e6) \
                 WHERE seq IN (SELECT seq FROM cases WHERE sweep_at <= $1 \
                     AND (claimed_until IS NULL OR claimed_until < clock_timestamp()) \
                     ORDER BY sweep_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, sweep_at, seq",
                vec![
                    boxed(us(&now)),
                    boxed(i64::try_from(limit).unwrap_or(i64::MAX)),
                    boxed(lease_us),
                ],
            )
            .await?;
        let mut claimed = rows
            .iter()
            .map(|r| Ok((col::<DateTime<Utc>>(r, 1)?, col::<i64>(r, 2)?, col(r, 0)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        claimed.sort();
        Ok(claimed.into_iter().map(|(_, _, id)| id).collect())
    }

    async fn count_by_status(&self) -> StoreResult<Vec<(Status, i64)>> {
        let rows = self
            .rows(
                "SELECT status, sum(n)::bigint AS n FROM case_counts GROUP BY status \
                 HAVING sum(n) > 0",
                vec![],
            )
            .await?;
        let mut out = rows
            .iter()
            .map(|r| Ok((parse_enum::<Status>("status", col(r, 0)?)?, col(r, 1)?)))
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by_key(|(s, _)| Status::ALL.iter().position(|x| x == s));
        Ok(out)
    }

    async fn report_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ReportRow>> {
        let rows = self
            .rows(
                "SELECT channel, category, status, closure, respondent_key, report FROM cases \
                 WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, seq",
                vec![boxed(us(&from)), boxed(us(&to))],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    parse_enum("channel", col(r, 0)?)?,
                    col(r, 1)?,
                    parse_enum("status", col(r, 2)?)?,
                    parse_enum_opt("closure", col(r, 3)?)?,
                    col(r, 4)?,
                    from_json(col(r, 5)?)?,
                ))
            })
            .collect()
    }

    async fn events_for_case(&self, case_id: Uuid) -> StoreResult<Vec<JournalEntry>> {
        let rows = self
            .rows(
                "SELECT seq, case_id, kind, actor, at, data, prev_hash, hash FROM events \
                 WHERE case_id = $1 ORDER BY seq",
                vec![boxed(case_id)],
            )
            .await?;
        rows.iter().map(journal_entry).collect()
    }

    async fn journal_after(&self, after: i64, limit: usize) -> StoreResult<Vec<JournalEntry>> {
        let rows = self
            .rows(
                "SELECT seq, case_id, kind, actor, at, data, prev_hash, hash FROM events \
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
                vec![
                    boxed(after),
                    boxed(i64::try_from(limit).unwrap_or(i64::MAX)),
                ],
            )
            .await?;
        rows.iter().map(journal_entry).collect()
    }

    async fn list_global_events(
        &self,
        kinds: Vec<String>,
        limit: usize,
    ) -> StoreResult<Vec<JournalEntry>> {
        let rows = self
            .rows(
                "SELECT seq, case_id, kind, actor, at, data, prev_hash, hash FROM events \
                 WHERE case_id IS NULL AND kind = ANY($1) ORDER BY seq DESC LIMIT $2",
                vec![
                    boxed(kinds),
                    boxed(i64::try_from(limit).unwrap_or(i64::MAX)),
                ],
            )
            .await?;
        rows.iter().map(journal_entry).collect()
    }

    async fn journal_head(&self) -> StoreResult<Option<(i64, String)>> {
        let rows = self
            .rows(
                "SELECT seq, hash FROM journal_head WHERE id = 1 AND seq > 0",
                vec![],
            )
            .await?;
        rows.first()
            .map(|r| Ok((col(r, 0)?, col(r, 1)?)))
            .transpose()
    }

    async fn append_events(&self, events: Vec<NewEvent>) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.write(move |ctx| ctx.append(&events)).await
    }

    async fn get_idempotency(&self, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        let rows = self
            .rows(GET_IDEMPOTENCY, vec![boxed(key.to_string())])
            .await?;
        rows.first().map(idempotency).transpose()
    }

    async fn insert_department(&self, d: Department, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_departments(ctx, std::slice::from_ref(&d), &[])?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_departments(&self) -> StoreResult<Vec<Department>> {
        let rows = self
            .rows(
                "SELECT code, name, review, head FROM departments ORDER BY code",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Department {
                    code: col(r, 0)?,
                    name: col(r, 1)?,
                    review: col(r, 2)?,
                    head: col(r, 3)?,
                })
            })
            .collect()
    }

    async fn insert_category(&self, c: Category, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_departments(ctx, &[], std::slice::from_ref(&c))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        let rows = self
            .rows(
                "SELECT code, name, name_en, department, handling_days, appeal_days, review_days, \
                 respondent_reply_days FROM categories ORDER BY code",
                vec![],
            )
            .await?;
        let days = |r: &postgres::Row, i: usize| -> StoreResult<Option<u32>> {
            let d: Option<i32> = col(r, i)?;
            d.map(|d| u32::try_from(d).map_err(|_| StoreError::Backend(format!("bad days {d}"))))
                .transpose()
        };
        rows.iter()
            .map(|r| {
                Ok(Category {
                    code: col(r, 0)?,
                    name: col(r, 1)?,
                    name_en: col(r, 2)?,
                    department: col(r, 3)?,
                    handling_days: days(r, 4)?,
                    appeal_days: days(r, 5)?,
                    review_days: days(r, 6)?,
                    respondent_reply_days: days(r, 7)?,
                })
            })
            .collect()
    }

    async fn insert_user(&self, u: User, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_users(ctx, std::slice::from_ref(&u))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn update_user(&self, u: User, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let roles = postgres::types::Json(codec::to_json(&u.roles)?);
            let departments = postgres::types::Json(codec::to_json(&u.departments)?);
            let n = ctx
                .execute(
                    "UPDATE users SET display_name = $2, password_hash = $3, roles = $4, \
                     departments = $5, level = $6, active = $7, email = $8, \
                     must_change_password = $9 WHERE id = $1",
                    &[
                        &u.id,
                        &u.display_name,
                        &u.password_hash,
                        &roles,
                        &departments,
                        &u.level,
                        &u.active,
                        &u.email,
                        &u.must_change_password,
                    ],
                )
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
            let days = |d: Option<u32>| -> StoreResult<Option<i32>> {
                d.map(i32::try_from)
                    .transpose()
                    .map_err(|_| StoreError::Backend("category days out of range".into()))
            };
            let (h, a, r, rr) = (
                days(c.handling_days)?,
                days(c.appeal_days)?,
                days(c.review_days)?,
                days(c.respondent_reply_days)?,
            );
            let n = ctx
                .execute(
                    "UPDATE categories SET name = $2, name_en = $3, department = $4, \
                     handling_days = $5, appeal_days = $6, review_days = $7, \
                     respondent_reply_days = $8 WHERE code = $1",
                    &[&c.code, &c.name, &c.name_en, &c.department, &h, &a, &r, &rr],
                )
                .map_err(|e| codec::constraint(e, "code", "department"))?;
            if n == 0 {
                return Err(StoreError::Missing("category"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let rows = self.rows(sql, vec![boxed(username.to_string())]).await?;
        rows.first().map(user).transpose()
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let rows = self.rows(sql, vec![boxed(id)]).await?;
        rows.first().map(user).transpose()
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        let rows = self.rows(sql, vec![]).await?;
        rows.iter().map(user).collect()
    }

    async fn count_users(&self) -> StoreResult<i64> {
        let rows = self.rows("SELECT count(*) FROM users", vec![]).await?;
        rows.first().map(|r| col(r, 0)).unwrap_or(Ok(0))
    }

    async fn insert_session(&self, s: Session) -> StoreResult<()> {
        self.read(move |c| {
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
                &[
                    &s.token_hash,
                    &s.user_id,
                    &us(&s.created_at),
                    &us(&s.expires_at),
                ],
            )
            .map_err(|e| constraint(e, "session", "user"))?;
            Ok(())
        })
        .await
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let rows = self
            .rows(
                "SELECT token_hash, user_id, created_at, expires_at FROM sessions \
                 WHERE token_hash = $1",
                vec![boxed(token_hash.to_string())],
            )
            .await?;
        rows.first()
            .map(|r| {
                Ok(Session {
                    token_hash: col(r, 0)?,
                    user_id: col(r, 1)?,
                    created_at: col(r, 2)?,
                    expires_at: col(r, 3)?,
                })
            })
            .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.read(move |c| {
            c.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn delete_user_sessions(&self, user_id: Uuid, keep: Option<String>) -> StoreResult<u64> {
        self.read(move |c| {
            c.execute(
                "DELETE FROM sessions WHERE user_id = $1 \
                 AND ($2::text IS NULL OR token_hash <> $2)",
                &[&user_id, &keep],
            )
            .map_err(db)
        })
        .await
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.read(move |c| {
            c.execute("DELETE FROM sessions WHERE expires_at < $1", &[&us(&now)])
                .map_err(db)
        })
        .await
    }

    async fn insert_respondent(&self, r: RespondentAccount, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_respondents(ctx, std::slice::from_ref(&r))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_respondent_by_key_hash(
        &self,
        key_hash: &str,
    ) -> StoreResult<Option<RespondentAccount>> {
        let rows = self
            .rows(
                "SELECT id, kind, external_id, name, email, key_hash, created_at, \
                 key_revoked, key_expires_at FROM respondents WHERE key_hash = $1",
                vec![boxed(key_hash.to_string())],
            )
            .await?;
        rows.first().map(bulk::respondent).transpose()
    }

    async fn get_respondent(
        &self,
        kind: redress_domain::RespondentKind,
        external_id: &str,
    ) -> StoreResult<Option<RespondentAccount>> {
        let rows = self
            .rows(
                "SELECT id, kind, external_id, name, email, key_hash, created_at, \
                 key_revoked, key_expires_at FROM respondents WHERE kind = $1 AND external_id = $2",
                vec![
                    boxed(kind.as_str().to_string()),
                    boxed(external_id.to_string()),
                ],
            )
            .await?;
        rows.first().map(bulk::respondent).transpose()
    }

    async fn insert_api_key(&self, k: ApiKey, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_api_keys(ctx, std::slice::from_ref(&k))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let rows = self
            .rows(
                "SELECT id, name, scopes, key_hash, created_at, revoked, expires_at \
                 FROM api_keys WHERE key_hash = $1",
                vec![boxed(key_hash.to_string())],
            )
            .await?;
        rows.first().map(bulk::api_key).transpose()
    }

    async fn revoke_api_key(&self, id: Uuid, event: NewEvent) -> StoreResult<bool> {
        self.write(move |ctx| {
            let n = ctx
                .execute("UPDATE api_keys SET revoked = true WHERE id = $1", &[&id])
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
            let expires = expires_at.as_ref().map(us);
            let n = match &key_hash {
                Some(hash) => ctx.execute(
                    "UPDATE respondents SET key_hash = $2, key_revoked = false, \
                     key_expires_at = $3 WHERE id = $1",
                    &[&id, hash, &expires],
                ),
                None => ctx.execute(
                    "UPDATE respondents SET key_revoked = true WHERE id = $1",
                    &[&id],
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
        let rows = self
            .rows(
                "SELECT date, kind, name FROM calendar_days ORDER BY date",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DayException {
                    date: col(r, 0)?,
                    kind: parse_day_kind(col(r, 1)?)?,
                    name: col(r, 2)?,
                })
            })
            .collect()
    }

    async fn upsert_calendar(
        &self,
        days: Vec<DayException>,
        event: Option<NewEvent>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let dates: Vec<NaiveDate> = days.iter().map(|d| d.date).collect();
            let kinds: Vec<&str> = days.iter().map(|d| day_kind_str(d.kind)).collect();
            let names: Vec<&str> = days.iter().map(|d| d.name.as_str()).collect();
            let source = if event.is_some() {
                DaySource::Manual
            } else {
                DaySource::Builtin
            }
            .as_str();
            ctx.execute(
                "INSERT INTO calendar_days (date, kind, name, source) \
                 SELECT d, k, n, $4 FROM unnest($1::date[], $2::text[], $3::text[]) AS u(d, k, n) \
                 ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                 source = excluded.source",
                &[&dates, &kinds, &names, &source],
            )
            .map_err(db)?;
            if let Some(e) = &event {
                ctx.append(std::slice::from_ref(e))?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_calendar_day(&self, date: NaiveDate) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.execute("DELETE FROM calendar_days WHERE date = $1", &[&date])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn calendar_sources(&self) -> StoreResult<Vec<(NaiveDate, DaySource)>> {
        let rows = self
            .rows(
                "SELECT date, source FROM calendar_days ORDER BY date",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((col(r, 0)?, parse_enum("source", col(r, 1)?)?)))
            .collect()
    }

    async fn apply_calendar_feed(
        &self,
        days: Vec<DayException>,
        remove: Vec<NaiveDate>,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let dates: Vec<NaiveDate> = days.iter().map(|d| d.date).collect();
            let kinds: Vec<&str> = days.iter().map(|d| day_kind_str(d.kind)).collect();
            let names: Vec<&str> = days.iter().map(|d| d.name.as_str()).collect();
            ctx.execute(
                "INSERT INTO calendar_days (date, kind, name, source) \
                 SELECT d, k, n, 'feed' FROM unnest($1::date[], $2::text[], $3::text[]) AS u(d, k, n) \
                 ON CONFLICT (date) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                 source = 'feed' WHERE calendar_days.source <> 'manual'",
                &[&dates, &kinds, &names],
            )
            .map_err(db)?;
            ctx.execute(
                "DELETE FROM calendar_days WHERE date = ANY($1::date[]) AND source = 'feed'",
                &[&remove],
            )
            .map_err(db)?;
            ctx.append(std::slice::from_ref(&event))?;
            Ok(())
        })
        .await
    }

    async fn get_calendar_feed(&self) -> StoreResult<Option<CalendarFeed>> {
        let rows = self
            .rows(
                "SELECT url, etag, last_modified, fetched_at, outcome, next_fetch_at, set_by, \
                 set_at FROM calendar_feed WHERE id = 1",
                vec![],
            )
            .await?;
        rows.first().map(feed_row).transpose()
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let rows = self
            .rows(
                "SELECT value FROM settings WHERE key = $1",
                vec![boxed(key.to_string())],
            )
            .await?;
        Ok(rows.first().map(|r| r.get::<_, String>(0)))
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
            ctx.execute(
                "INSERT INTO settings (key, value, set_by, set_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, \
                 set_by = excluded.set_by, set_at = excluded.set_at",
                &[&key, &value, &set_by, &set_at.to_rfc3339()],
            )
            .map_err(db)?;
            ctx.append(std::slice::from_ref(&event))?;
            Ok(())
        })
        .await
    }

    async fn set_calendar_feed(
        &self,
        feed: Option<CalendarFeed>,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.execute("DELETE FROM calendar_feed", &[]).map_err(db)?;
            if let Some(f) = &feed {
                ctx.execute(
                    "INSERT INTO calendar_feed (id, url, etag, last_modified, fetched_at, \
                     outcome, next_fetch_at, set_by, set_at) \
                     VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        &f.url,
                        &f.etag,
                        &f.last_modified,
                        &us_opt(&f.fetched_at),
                        &f.outcome,
                        &us(&f.next_fetch_at),
                        &f.set_by,
                        &us(&f.set_at),
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
        let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
        self.read(move |c| {
            let rows = c
                .query(
                    "UPDATE calendar_feed \
                     SET claimed_until = clock_timestamp() + make_interval(secs => $2::bigint / 1e6) \
                     WHERE id IN (SELECT id FROM calendar_feed WHERE id = 1 \
                       AND (claimed_until IS NULL OR claimed_until < clock_timestamp()) \
                       AND ($3 OR next_fetch_at <= $1) FOR UPDATE SKIP LOCKED) \
                     RETURNING url, etag, last_modified, fetched_at, outcome, next_fetch_at, \
                     set_by, set_at",
                    &[&us(&now), &lease_us, &force],
                )
                .map_err(db)?;
            rows.first().map(feed_row).transpose()
        })
        .await
    }

    async fn finish_calendar_feed(&self, f: CalendarFeed) -> StoreResult<()> {
        self.read(move |c| {
            c.execute(
                "UPDATE calendar_feed SET etag = $2, last_modified = $3, fetched_at = $4, \
                 outcome = $5, next_fetch_at = $6, claimed_until = NULL \
                 WHERE id = 1 AND url = $1",
                &[
                    &f.url,
                    &f.etag,
                    &f.last_modified,
                    &us_opt(&f.fetched_at),
                    &f.outcome,
                    &us(&f.next_fetch_at),
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    // ---- canned replies ----------------------------------------------------

    async fn list_canned_replies(&self) -> StoreResult<Vec<CannedReply>> {
        let rows = self
            .rows(
                format!(
                    "SELECT {} FROM canned_replies ORDER BY created_at, id",
                    bulk::CANNED_REPLY_COLUMNS
                ),
                vec![],
            )
            .await?;
        rows.iter().map(bulk::canned_reply).collect()
    }

    async fn get_canned_reply(&self, id: Uuid) -> StoreResult<Option<CannedReply>> {
        let rows = self
            .rows(
                format!(
                    "SELECT {} FROM canned_replies WHERE id = $1",
                    bulk::CANNED_REPLY_COLUMNS
                ),
                vec![boxed(id)],
            )
            .await?;
        rows.first().map(bulk::canned_reply).transpose()
    }

    async fn insert_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_canned_replies(ctx, std::slice::from_ref(&r))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn update_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .execute(
                    "UPDATE canned_replies SET title = $2, body = $3, locale = $4, \
                     updated_at = $5 WHERE id = $1",
                    &[
                        &r.id,
                        &r.title,
                        &r.body,
                        &r.locale.map(|l| l.as_str()),
                        &codec::us(&r.updated_at),
                    ],
                )
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
                .execute("DELETE FROM canned_replies WHERE id = $1", &[&id])
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
            if !bulk::mark_seeded(ctx, "canned_replies")? {
                return Ok(false);
            }
            let held: i64 = ctx
                .client
                .query_one("SELECT count(*) FROM canned_replies", &[])
                .map_err(db)?
                .get(0);
            if held > 0 || replies.is_empty() {
                return Ok(false);
            }
            bulk::import_canned_replies(ctx, &replies)?;
            ctx.append(&events)?;
            Ok(true)
        })
        .await
    }

    // ---- bulk copy (migrate-data) ------------------------------------------

    async fn table_counts(&self) -> StoreResult<redress_store::TableCounts> {
        self.read(bulk::table_counts).await
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
        self.read(bulk::export_respondents).await
    }

    async fn export_api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        self.read(bulk::export_api_keys).await
    }

    async fn import_cases(&self, rows: Vec<CaseRow>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_cases(ctx, &rows)).await
    }

    async fn import_events(&self, entries: Vec<JournalEntry>) -> StoreResult<()> {
        self.write(move |ctx| ctx.import(&entries)).await
    }

    async fn import_idempotency(&self, records: Vec<IdempotencyRecord>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_idempotency(ctx, &records))
            .await
    }

    async fn import_departments(
        &self,
        departments: Vec<Department>,
        categories: Vec<Category>,
    ) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_departments(ctx, &departments, &categories))
            .await
    }

    async fn import_users(&self, users: Vec<User>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_users(ctx, &users)).await
    }

    async fn import_respondents(&self, respondents: Vec<RespondentAccount>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_respondents(ctx, &respondents))
            .await
    }

    async fn import_api_keys(&self, keys: Vec<ApiKey>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_api_keys(ctx, &keys))
            .await
    }

    async fn import_canned_replies(&self, replies: Vec<CannedReply>) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_canned_replies(ctx, &replies)?;
            bulk::mark_seeded(ctx, "canned_replies")?;
            Ok(())
        })
        .await
    }

    async fn import_calendar(&self, days: Vec<DayException>) -> StoreResult<()> {
        self.write(move |ctx| bulk::import_calendar(ctx, &days))
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
        self.read(move |c| {
            // One statement: the attempts and their calls go together (the
            // foreign key is checked at its end); calls another instance
            // is working on are skipped.
            c.execute(
                "WITH gone AS (SELECT id FROM webhook_calls WHERE state <> 'pending' \
                   AND created_at < $1 ORDER BY created_at, id LIMIT $2 \
                   FOR UPDATE SKIP LOCKED), \
                 attempts AS (DELETE FROM webhook_attempts \
                   WHERE call_id IN (SELECT id FROM gone)) \
                 DELETE FROM webhook_calls WHERE id IN (SELECT id FROM gone)",
                &[&us(&before), &(limit as i64)],
            )
            .map_err(db)
        })
        .await
    }

    async fn expire_held_mail(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64> {
        self.read(move |c| {
            c.execute(
                "DELETE FROM held_mail WHERE seq IN (SELECT seq FROM (\
                   SELECT seq FROM held_mail WHERE state = 'held' AND received_at < $1 \
                   UNION ALL \
                   SELECT seq FROM held_mail WHERE state <> 'held' \
                     AND COALESCE(settled_at, received_at) < $1) old \
                 ORDER BY seq LIMIT $2)",
                &[&us(&before), &(limit as i64)],
            )
            .map_err(db)
        })
        .await
    }

    async fn forget_case(&self, case_id: Uuid) -> StoreResult<u64> {
        self.read(move |c| {
            let calls = c
                .execute(
                    "UPDATE webhook_calls SET payload = '{\"erased\":true}' \
                     WHERE case_id = $1 AND payload <> '{\"erased\":true}'",
                    &[&case_id],
                )
                .map_err(db)?;
            let mail = c
                .execute(
                    "DELETE FROM held_mail WHERE case_id = $1 OR attached_to = $1",
                    &[&case_id],
                )
                .map_err(db)?;
            Ok(calls + mail)
        })
        .await
    }

    async fn journal_splice(&self) -> StoreResult<Option<redress_store::journal::JournalSplice>> {
        self.read(|c| {
            let row = c.query_opt(SELECT_SPLICE, &[]).map_err(db)?;
            row.as_ref().map(splice).transpose()
        })
        .await
    }

    async fn rewrite_journal(
        &self,
        after: i64,
        data: Vec<(i64, Option<String>)>,
        at: DateTime<Utc>,
    ) -> StoreResult<redress_store::journal::RewriteOutcome> {
        use redress_store::journal::{
            GENESIS, JournalSplice, RewriteOutcome, chain_hash, plan_rewrite, resealed_event,
        };
        self.read(move |c| {
            let mut tx = c.transaction().map_err(db)?;
            // The head first, as every writing group takes it: appends wait
            // for this step, and this step for them.
            let head = tx
                .query_one(
                    "SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE",
                    &[],
                )
                .map_err(db)?;
            let (head_seq, head_hash): (i64, String) = (head.get(0), head.get(1));
            let current = tx.query_opt(SELECT_SPLICE, &[]).map_err(db)?;
            let start = match current.as_ref().map(splice).transpose()? {
                Some(s) if s.seq != after => return Err(StoreError::VersionConflict),
                Some(s) => s,
                None => {
                    let at_after: String = if after == 0 {
                        GENESIS.to_string()
                    } else {
                        tx.query_one("SELECT hash FROM events WHERE seq = $1", &[&after])
                            .map_err(db)?
                            .get(0)
                    };
                    JournalSplice::start(after, at_after, (head_seq, head_hash))
                }
            };
            let stored = tx
                .query(
                    "SELECT seq, case_id, kind, actor, at, data, prev_hash, hash FROM events \
                     WHERE seq > $1 ORDER BY seq LIMIT $2",
                    &[&after, &(data.len() as i64)],
                )
                .map_err(db)?
                .iter()
                .map(journal_entry)
                .collect::<StoreResult<Vec<_>>>()?;
            let (rows, next) =
                plan_rewrite(&start, &stored, &data).ok_or(StoreError::VersionConflict)?;
            let update = tx
                .prepare("UPDATE events SET data = $2, prev_hash = $3, hash = $4 WHERE seq = $1")
                .map_err(db)?;
            for e in &rows {
                tx.execute(&update, &[&e.seq, &e.data, &e.prev_hash, &e.hash])
                    .map_err(db)?;
            }
            let outcome = if head_seq == next.seq {
                let mut event = resealed_event(&next, at);
                event.at = us(&event.at);
                let seq = next.seq + 1;
                let hash = chain_hash(&next.new_hash, seq, &event);
                tx.execute(
                    "INSERT INTO events (seq, case_id, kind, actor, at, data, prev_hash, hash) \
                     VALUES ($1, NULL, $2, $3, $4, $5, $6, $7)",
                    &[
                        &seq,
                        &event.kind,
                        &event.actor,
                        &event.at,
                        &event.data,
                        &next.new_hash,
                        &hash,
                    ],
                )
                .map_err(db)?;
                tx.execute(
                    "UPDATE journal_head SET seq = $1, hash = $2 WHERE id = 1",
                    &[&seq, &hash],
                )
                .map_err(db)?;
                tx.execute("DELETE FROM journal_splice", &[]).map_err(db)?;
                RewriteOutcome::Finished {
                    rewritten: next.rewritten,
                    old_head: (next.seq, next.old_hash),
                    new_head: (next.seq, next.new_hash),
                }
            } else {
                tx.execute(
                    "INSERT INTO journal_splice (id, seq, old_hash, new_hash, rewritten, \
                     started_seq, started_hash) VALUES (1, $1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, \
                     old_hash = excluded.old_hash, new_hash = excluded.new_hash, \
                     rewritten = excluded.rewritten",
                    &[
                        &next.seq,
                        &next.old_hash,
                        &next.new_hash,
                        &next.rewritten,
                        &next.started_seq,
                        &next.started_hash,
                    ],
                )
                .map_err(db)?;
                RewriteOutcome::Continues(next)
            };
            tx.commit().map_err(db)?;
            Ok(outcome)
        })
        .await
    }

    async fn reseal(&self, value: redress_store::Resealed) -> StoreResult<()> {
        use redress_store::Resealed;
        self.read(move |c| {
            match value {
                Resealed::HeldMail {
                    id,
                    sender,
                    subject,
                    raw,
                } => c.execute(
                    "UPDATE held_mail SET sender = $2, subject = $3, raw = $4 WHERE id = $1",
                    &[&id, &sender, &subject, &raw],
                ),
                Resealed::Idempotency { key, body } => c.execute(
                    "UPDATE idempotency_keys SET body = $2 WHERE key = $1",
                    &[&key, &body],
                ),
                Resealed::WebhookSecret { id, secret } => c.execute(
                    "UPDATE webhook_subscriptions SET secret = $2 WHERE id = $1",
                    &[&id, &secret],
                ),
            }
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn compact_after_purge(&self) -> StoreResult<()> {
        self.read(|c| {
            // Outside a transaction: VACUUM cannot run in one. Dead row
            // versions holding the old texts are removed from the pages.
            c.batch_execute("VACUUM cases, events, webhook_calls, held_mail")
                .map_err(db)
        })
        .await
    }

    async fn expire_idempotency(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64> {
        self.read(move |c| {
            c.execute(
                "DELETE FROM idempotency_keys WHERE key IN (\
                   SELECT key FROM idempotency_keys WHERE created_at < $1 \
                   ORDER BY created_at LIMIT $2)",
                &[&us(&before), &(limit as i64)],
            )
            .map_err(db)
        })
        .await
    }
}
