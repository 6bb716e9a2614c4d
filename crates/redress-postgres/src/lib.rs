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

/// The `tsvector` that `cases.search_tokens` stores (migration 0028) for
/// the application's tokens, given as an SQL expression of one
/// space-separated text (a parameter such as `"$20"`, or a column): each
/// token a lexeme as it is, never parsed or stemmed. Written once here so
/// that every statement that writes the column writes the same value; the
/// reading side is `redress_store::rows::search_tokens_text`.
#[macro_export]
macro_rules! search_vector {
    ($tokens:literal) => {
        concat!(
            "array_to_tsvector(array_remove(string_to_array(",
            $tokens,
            ", ' '), ''))"
        )
    };
}

mod bulk;
mod cases;
mod codec;
mod model;
mod rollups;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{Client, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use redress_store::{
    CaseRow, CaseUpdate, IdempotencyRecord, InsertOutcome, NewEvent, StoreError, StoreResult,
};
use redress_store::{CaseStore, UpkeepStore};
use uuid::Uuid;

use codec::{col, db, unique_constraint, us, us_opt};
use redress_store::sql::Backend;
use writer::{Job, WriteCtx};

/// Connections in the read pool.
const READERS: u32 = 8;

/// Writer connections per instance: enough for PostgreSQL to spread the
/// case work of concurrent groups over its cores.
pub const WRITERS: usize = 4;

/// `(version, name, sql)`, in order. Never edit a released migration: add one.
/// From 0016 on a migration has the same number and name on both backends
/// (checked by `redress-conformance/tests/migrations.rs`); the older ones
/// keep the numbers they were recorded with.
// The numbers are written as the files are named (`0001` is 1).
#[allow(clippy::zero_prefixed_literal)]
pub const MIGRATIONS: &[(i64, &str, &str)] = redress_store::migrations![
    0001 init, 0002 deadlines, 0003 canned_replies, 0005 webhooks, 0006 held_mail,
    0007 user_email, 0008 notice_templates, 0010 key_lifecycle, 0011 retention, 0012 erasure,
    0013 calendar_feed, 0014 staff_channels, 0015 settings, 0016 corrective_actions,
    0017 respondent_reply, 0018 report_days, 0019 category_model, 0020 alerts,
    0021 department_name_en, 0022 report_months, 0023 cases_due, 0024 search_index_per_group,
    0025 compact_cases, 0026 smaller_cases, 0027 fewer_case_indexes, 0028 search_vector,
    0029 cases_vacuum_sooner, 0030 case_tokens,
];

/// Key of the advisory lock that serialises migrations of instances
/// starting together.
const MIGRATION_LOCK: i64 = 0x7265_6472_6573_7301;

/// A pooled read connection and the statements prepared on it.
pub struct Reader {
    client: Client,
    prepared: codec::Prepared,
}

impl std::ops::Deref for Reader {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl std::ops::DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// A transaction on a pooled connection, with the connection's prepared
/// statements (report snapshots, sessions, leases).
pub struct ReaderTx<'a> {
    tx: postgres::Transaction<'a>,
    prepared: &'a mut codec::Prepared,
}

impl<'a> ReaderTx<'a> {
    fn commit(self) -> Result<(), postgres::Error> {
        self.tx.commit()
    }
}

impl<'a> std::ops::Deref for ReaderTx<'a> {
    type Target = postgres::Transaction<'a>;
    fn deref(&self) -> &postgres::Transaction<'a> {
        &self.tx
    }
}

impl<'a> std::ops::DerefMut for ReaderTx<'a> {
    fn deref_mut(&mut self) -> &mut postgres::Transaction<'a> {
        &mut self.tx
    }
}

impl Reader {
    /// A connection of its own to `url`, outside the pool, that prepares
    /// its statements as the pool's do (tools and tests).
    pub fn connect(url: &str) -> Result<Reader, postgres::Error> {
        Ok(Reader {
            client: postgres::Client::connect(url, NoTls)?,
            prepared: codec::Prepared::default(),
        })
    }

    /// How many statements this connection keeps prepared.
    pub fn prepared_count(&self) -> usize {
        self.prepared.count()
    }

    /// A read-write transaction on this connection, with its statements.
    fn transaction(&mut self) -> Result<ReaderTx<'_>, postgres::Error> {
        Ok(ReaderTx {
            tx: self.client.transaction()?,
            prepared: &mut self.prepared,
        })
    }
}

/// The read pool's connections: r2d2_postgres's, each with its prepared
/// statements.
struct ReadManager(PostgresConnectionManager<NoTls>);

impl r2d2::ManageConnection for ReadManager {
    type Connection = Reader;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Reader, postgres::Error> {
        Ok(Reader {
            client: self.0.connect()?,
            prepared: codec::Prepared::default(),
        })
    }

    fn is_valid(&self, conn: &mut Reader) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut Reader) -> bool {
        self.0.has_broken(&mut conn.client)
    }
}

/// The PostgreSQL store. Dropping it stops the writer after the queued jobs.
pub struct PgStore {
    sender: Option<mpsc::Sender<Box<Job>>>,
    writers: Vec<JoinHandle<()>>,
    /// `Some` until dropped.
    pool: Option<r2d2::Pool<ReadManager>>,
    commits: Arc<AtomicU64>,
}

/// The settings of every connection the store opens to `url`: the URL's
/// own, with the application's name and a connect timeout where it gives
/// none, and JIT compilation off unless it asks for it.
fn connect_config(url: &str) -> StoreResult<postgres::Config> {
    let mut config = postgres::Config::from_str(url)
        .map_err(|e| StoreError::other(format!("bad PostgreSQL URL: {e}")))?;
    if config.get_application_name().is_none() {
        config.application_name("redress");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    // No JIT compilation: a report's questions cost PostgreSQL enough to
    // pass `jit_above_cost`, and compiling them took about 55 ms of a 270
    // ms query at a million cases (docs/benchmarks.md, "Insight at a
    // million"), more than it saved. Options in the URL come after, so an
    // operator's `-c jit=on` still wins.
    let options = config.get_options().unwrap_or_default().to_string();
    config.options(format!("-c jit=off {options}").trim());
    Ok(config)
}

impl PgStore {
    /// Whether the server at `url` runs with autovacuum off, for a warning
    /// at `redress serve`'s start: the case lists' counts are index-only
    /// scans, and each changed case sends them to the table until a
    /// VACUUM (migration 0029, docs/operations.md).
    pub fn autovacuum_off(url: &str) -> StoreResult<bool> {
        let mut client = connect_config(url)?.connect(NoTls).map_err(db)?;
        let on: bool = client
            .query_one("SELECT current_setting('autovacuum')::boolean", &[])
            .map_err(db)?
            .get(0);
        Ok(!on)
    }

    /// Connects to `url` (`postgres://…`), applies pending migrations and
    /// starts the writer thread. Blocks: call it on a blocking thread.
    pub fn open(url: &str) -> StoreResult<PgStore> {
        let config = connect_config(url)?;
        let mut first = config.connect(NoTls).map_err(db)?;
        migrate(&mut first)?;
        drop(first);

        let manager = ReadManager(PostgresConnectionManager::new(config.clone(), NoTls));
        let pool = r2d2::Pool::builder()
            .max_size(READERS)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            // No round trip per checkout: a connection found closed on
            // return is discarded, and a failed query names its error.
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| StoreError::other(format!("connection pool: {e}")))?;

        let commits = Arc::new(AtomicU64::new(0));
        let (sender, rx) = mpsc::channel::<Box<Job>>();
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
                    .map_err(|e| StoreError::other(format!("writer thread: {e}")))?,
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

    /// The bytes each table and index of the store's schema takes, largest
    /// first: a table with its TOAST table, an index apart
    /// (`pg_relation_size`). The storage benchmark prints them per case
    /// (`redress-bench storage`).
    pub async fn space_by_object(&self) -> StoreResult<Vec<(String, i64)>> {
        self.read(|c| {
            let rows = c
                .query(
                    "SELECT c.relname::text, (pg_relation_size(c.oid) \
                       + CASE WHEN c.reltoastrelid = 0 THEN 0 \
                         ELSE pg_total_relation_size(c.reltoastrelid) END)::bigint \
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 'm') \
                     ORDER BY 2 DESC, 1",
                    &[],
                )
                .map_err(db)?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
        .await
    }

    /// Loads cases in one transaction, without events or idempotency
    /// records (test data, benchmarks). Blocks the calling thread.
    pub fn bulk_insert(&self, rows: Vec<CaseRow>) -> StoreResult<()> {
        let (answer, wait) = redress_store::group::blocking();
        let job = writer::job(
            move |ctx: &mut WriteCtx<'_>| {
                for row in &rows {
                    insert_case_row(ctx, row)?;
                    redress_store::sql::actions::write(ctx, row.id, &row.actions)?;
                }
                rollups::insert_many(ctx, &rows)
            },
            answer,
        );
        self.submit(job)?;
        wait()
    }

    fn submit(&self, job: Box<Job>) -> StoreResult<()> {
        self.sender
            .as_ref()
            .ok_or_else(|| StoreError::other("the store is closed"))?
            .send(job)
            .map_err(|_| StoreError::other("the writer thread stopped"))
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
                Err(StoreError::Deadlock(_)) if attempt < ATTEMPTS => {
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
        let (answer, wait) = redress_store::group::awaited();
        self.submit(writer::job(f, answer))?;
        wait.await
    }
}

/// The statements written once run on the writers and the pool.
impl Backend for PgStore {
    type D = codec::Postgres;
    type Read = Reader;
    type Write<'a> = WriteCtx<'a>;
    type Plain<'a> = ReaderTx<'a>;
    type Snapshot<'a> = ReaderTx<'a>;

    fn rebuild_rollups(
        ctx: &mut WriteCtx<'_>,
        zone: redress_domain::calendar::Tz,
    ) -> StoreResult<u64> {
        rollups::rebuild(ctx, zone)
    }

    fn learn_category(
        ctx: &mut WriteCtx<'_>,
        category: &str,
        tokens: &[redress_store::LearntToken],
        min_cases: i64,
    ) -> StoreResult<()> {
        model::learn(ctx, category, tokens, min_cases)
    }

    fn import_case_rows(ctx: &mut WriteCtx<'_>, rows: &[CaseRow]) -> StoreResult<()> {
        bulk::import_cases(ctx, rows)
    }

    fn read<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut Reader) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        async move {
            let pool = pool.ok_or_else(|| StoreError::other("the store is closed"))?;
            tokio::task::spawn_blocking(move || {
                let mut conn = pool
                    .get()
                    .map_err(|e| StoreError::other(format!("connection pool: {e}")))?;
                f(&mut conn)
            })
            .await
            .map_err(|e| StoreError::other(format!("database task: {e}")))?
        }
    }

    fn write<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: Fn(&mut WriteCtx<'_>) -> StoreResult<T> + Clone + Send + 'static,
    {
        PgStore::write(self, f)
    }

    fn read_snapshot<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut ReaderTx<'_>) -> StoreResult<T> + Send + 'static,
    {
        self.read(move |c| {
            let Reader { client, prepared } = c;
            let tx = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(db)?;
            let mut tx = ReaderTx { tx, prepared };
            let out = f(&mut tx)?;
            tx.commit().map_err(db)?;
            Ok(out)
        })
    }

    fn write_plain<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut ReaderTx<'_>) -> StoreResult<T> + Send + 'static,
    {
        self.read(move |c| {
            let mut tx = c.transaction().map_err(db)?;
            let out = f(&mut tx)?;
            tx.commit().map_err(db)?;
            Ok(out)
        })
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

/// The INSERT of a new case's 25 values (see [`CaseValues::params`]).
macro_rules! insert_case {
    () => {
        concat!(
            "INSERT INTO cases (id, tracking_no, status, closure, channel, \
         category, department, assignee, respondent_key, respondent_name, complainant_key, \
         subject, created_at, updated_at, next_due_at, staff_due, sweep_at, decided_by, \
         decider_level, search_tokens, report, version, doc, outcome, missed) VALUES ($1, $2, \
         $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, ",
            search_vector!("$20"),
            ", $21, $22, $23, $24, $25)"
        )
    };
}

const INSERT_CASE: &str = concat!(insert_case!(), " RETURNING seq");

/// [`INSERT_CASE`] that answers no row, instead of failing, when the
/// tracking number is taken.
const INSERT_CASE_IF_FREE: &str = concat!(
    insert_case!(),
    " ON CONFLICT (tracking_no) DO NOTHING RETURNING seq"
);

const UPDATE_CASE: &str = concat!(
    "UPDATE cases SET tracking_no = $2, status = $3, closure = $4, \
     channel = $5, category = $6, department = $7, assignee = $8, respondent_key = $9, \
     respondent_name = $10, complainant_key = $11, subject = $12, created_at = $13, \
     updated_at = $14, next_due_at = $15, staff_due = $16, sweep_at = $17, decided_by = $18, \
     decider_level = $19, search_tokens = ",
    search_vector!("$20"),
    ", report = $21, version = $22 + 1, doc = $23, \
     outcome = $24, missed = $25, claimed_until = NULL WHERE id = $1 AND version = $22"
);

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
    report: Vec<u8>,
    outcome: Option<&'static str>,
    missed: Option<String>,
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
            report: r.report.packed()?,
            outcome: r.report.outcome_column(),
            missed: r.report.missed_column(),
        })
    }

    fn params<'a>(&'a self, r: &'a CaseRow, version: &'a i64) -> [&'a (dyn ToSql + Sync); 25] {
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
            &self.outcome,
            &self.missed,
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
    // The row as it was, locked: the report counters move by what this
    // save changes, in the same transaction.
    let before = match rollups::current(ctx, u.row.id, u.expected_version) {
        Ok(Some(before)) => before,
        Ok(None) => return Err(StoreError::VersionConflict),
        Err(StoreError::Deadlock(_)) => return Err(StoreError::VersionConflict),
        Err(e) => return Err(e),
    };
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
    rollups::update(ctx, Some(before), &u.row)
}

const GET_IDEMPOTENCY: &str =
    "SELECT key, request_hash, status, body, created_at FROM idempotency_keys WHERE key = $1";
