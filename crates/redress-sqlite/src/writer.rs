//! The single writer: one OS thread owns the only write connection and
//! commits queued jobs in groups.
//!
//! Each job runs inside its own SAVEPOINT of a shared `BEGIN IMMEDIATE`
//! transaction; a failing job is rolled back alone. Answers go out only
//! after the group's COMMIT returned, so an acknowledged write is durable
//! (WAL + `synchronous=FULL`).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use r2d2_sqlite::rusqlite::{Connection, OptionalExtension, params};
use redress_store::group::{Answer, Reply, TypedJob};
use redress_store::journal::{GENESIS, JournalEntry, NewEvent, chain_hash};
use redress_store::{StoreError, StoreResult};

use crate::codec::{db, ts};

/// Most jobs committed together.
pub const MAX_BATCH: usize = 256;

/// The end of the hash chain as the writer knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

impl ChainHead {
    pub fn load(conn: &Connection) -> StoreResult<ChainHead> {
        let head = conn
            .prepare_cached("SELECT seq, hash FROM journal_head WHERE id = 1")
            .map_err(db)?
            .query_row([], |r| {
                Ok(ChainHead {
                    seq: r.get(0)?,
                    hash: r.get(1)?,
                })
            })
            .optional()
            .map_err(db)?;
        Ok(head.unwrap_or(ChainHead {
            seq: 0,
            hash: GENESIS.to_string(),
        }))
    }
}

/// What a job sees: the connection, inside the group's transaction and the
/// job's savepoint, and the chain head.
pub struct WriteCtx<'a> {
    pub conn: &'a Connection,
    head: &'a mut ChainHead,
    /// New cases (their `seq`) not yet in the search index.
    unindexed: &'a mut Vec<i64>,
}

impl WriteCtx<'_> {
    /// Puts a new case row into the search index before the group
    /// commits. FTS5 writes its pending terms out as a new segment at
    /// every statement that opens a statement journal and at every
    /// savepoint release: indexed one by one, each registration would
    /// write (and later merge) a segment of its own; indexed together at
    /// the end of the group, the group writes one. Rows are indexed in the
    /// same transaction, so a reader sees a case and its index entry
    /// together; before any job that is not [`redress_store::group::Job::small`] runs, the
    /// pending rows are indexed first (such a job may update or delete
    /// them, or search).
    pub fn index_case(&mut self, seq: i64) {
        self.unindexed.push(seq);
    }
}

/// Adds the cases of `seqs` to `cases_fts` in one statement (one FTS5
/// segment).
pub fn index_cases(conn: &Connection, seqs: &[i64]) -> StoreResult<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let list = serde_json::to_string(seqs).map_err(|e| StoreError::other(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO cases_fts (rowid, search_tokens) \
         SELECT seq, search_tokens FROM case_tokens WHERE seq IN (SELECT value FROM json_each(?1))",
    )
    .map_err(db)?
    .execute([list])
    .map_err(db)?;
    Ok(())
}

impl WriteCtx<'_> {
    /// Appends events to the journal, extending the hash chain.
    pub fn append(&mut self, events: &[NewEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO events (seq, case_id, kind, actor, at, data, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(db)?;
        for e in events {
            let seq = self.head.seq + 1;
            let hash = chain_hash(&self.head.hash, seq, e);
            insert
                .execute(params![
                    seq,
                    e.case_id.map(|c| c.to_string()),
                    e.kind,
                    e.actor,
                    ts(&e.at),
                    e.data,
                    self.head.hash,
                    hash,
                ])
                .map_err(db)?;
            self.head.seq = seq;
            self.head.hash = hash;
        }
        self.conn
            .prepare_cached(
                "INSERT INTO journal_head (id, seq, hash) VALUES (1, ?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            )
            .map_err(db)?
            .execute(params![self.head.seq, self.head.hash])
            .map_err(db)?;
        Ok(())
    }
}

impl WriteCtx<'_> {
    /// The head of the chain: its seq and hash.
    pub fn head(&self) -> (i64, String) {
        (self.head.seq, self.head.hash.clone())
    }

    /// Moves the head to a new hash for the same event (a rewrite of the
    /// journal reached it).
    pub fn rehash_head(&mut self, hash: String) -> StoreResult<()> {
        self.head.hash = hash;
        self.conn
            .execute(
                "UPDATE journal_head SET hash = ?2 WHERE id = 1 AND seq = ?1",
                params![self.head.seq, self.head.hash],
            )
            .map_err(db)?;
        Ok(())
    }
}

impl WriteCtx<'_> {
    /// Writes journal entries as they are (bulk copy: `seq` and hashes come
    /// from another store) and moves the head to the last one.
    pub fn import(&mut self, entries: &[JournalEntry]) -> StoreResult<()> {
        let Some(last) = entries.last() else {
            return Ok(());
        };
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO events (seq, case_id, kind, actor, at, data, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(db)?;
        for e in entries {
            insert
                .execute(params![
                    e.seq,
                    e.case_id.map(|c| c.to_string()),
                    e.kind,
                    e.actor,
                    ts(&e.at),
                    e.data,
                    e.prev_hash,
                    e.hash,
                ])
                .map_err(|e| crate::codec::constraint(e, "event", "event"))?;
        }
        self.conn
            .prepare_cached(
                "INSERT INTO journal_head (id, seq, hash) VALUES (1, ?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            )
            .map_err(db)?
            .execute(params![last.seq, last.hash])
            .map_err(db)?;
        self.head.seq = last.seq;
        self.head.hash = last.hash.clone();
        Ok(())
    }
}

/// A unit of work for the writer ([`redress_store::group::Job`]).
pub type Job = dyn for<'a> redress_store::group::Job<WriteCtx<'a>>;

/// Wraps a typed closure into a [`Job`] answering through `tx`; `small`
/// for a [`redress_store::group::Job::small`] one.
pub fn job<T, F>(f: F, tx: Answer<T>, small: bool) -> Box<Job>
where
    T: Send + 'static,
    F: FnOnce(&mut WriteCtx<'_>) -> StoreResult<T> + Send + 'static,
{
    Box::new(TypedJob { f, tx, small })
}

/// A queued job and whether it is background work
/// ([`redress_store::priority`]).
pub struct Queued {
    pub background: bool,
    pub job: Box<Job>,
}

/// How long after the last request's write background writes stay
/// limited to their share, when requests keep the writer busy: requests
/// from one client follow each other with a little application work
/// between them, and a background group slipped into every such gap would
/// make the next request wait for its commit. Meanwhile background jobs
/// only ride along in groups that hold requests.
pub const GRACE: Duration = Duration::from_millis(20);
/// The share applies only while requests' groups take at least this
/// fraction of the writer's wall time: below it the writer has room, and
/// background work runs freely (a trickle of requests must not starve it).
pub const BUSY_LOAD: f64 = 0.5;
/// Over how long the requests' load is measured.
const LOAD_WINDOW: Duration = Duration::from_millis(250);
/// While requests keep the writer busy, background jobs get this fraction
/// of the time the writer spends on requests' jobs. A sent notice costs
/// about as much CPU outside the writer (rendering, the SMTP conversation)
/// as inside it, so 1/32 of the writer is some 1/16 of the machine
/// (`bench/mail.sh`: with 1/16, intake with a backlog at 0.85-0.86 of
/// idle in two of three runs).
pub const SHARE_DIVISOR: u32 = 32;
/// The most background time that can be saved up, and so the most a
/// request's group grows by background jobs riding along.
const CREDIT_CAP: Duration = Duration::from_millis(20);
/// The most debt an expensive background job leaves (repaid at 1/32 of
/// the requests' time: at most some 32 s of saturation without
/// background work).
const DEBT_CAP: Duration = Duration::from_secs(1);

/// Which background jobs may join the next group. Unless requests keep the
/// writer busy (their groups took at least [`BUSY_LOAD`] of its time over
/// the last [`LOAD_WINDOW`], and one wrote within [`GRACE`]): all of them,
/// in groups of their own if need be. While they do: only in a group that
/// holds requests, and as many as their credit pays for at the average
/// cost of recent background jobs. Credit is earned as 1/[`SHARE_DIVISOR`]
/// of the requests' job time, up to [`CREDIT_CAP`]; a group may overdraw,
/// and the debt (at most [`DEBT_CAP`]) is paid back before the next
/// admission. So a writer saturated by requests gives background work
/// about 1/32 of its time, and one with room gives it the room.
#[derive(Debug)]
pub struct Share {
    /// Background time earned and not spent, in nanoseconds (negative: owed).
    credit: i64,
    last_foreground: Option<Instant>,
    /// Average run time of recent background jobs, in nanoseconds.
    average: i64,
    /// The requests' share of the writer's wall time, as last measured.
    load: f64,
    window_start: Instant,
    /// Wall time of groups with requests in the current window.
    window_busy: Duration,
}

impl Default for Share {
    fn default() -> Self {
        Share {
            credit: 0,
            last_foreground: None,
            average: 100_000,
            load: 0.0,
            window_start: Instant::now(),
            window_busy: Duration::ZERO,
        }
    }
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

impl Share {
    /// Background jobs that may join a group formed at `now`; `None` when
    /// unlimited. `foreground`: the group holds request jobs.
    pub fn allowance(&self, now: Instant, foreground: bool) -> Option<usize> {
        if !self.busy(now) {
            return None;
        }
        if !foreground || self.credit <= 0 {
            return Some(0);
        }
        let n = self.credit / self.average.max(1);
        Some(usize::try_from(n).unwrap_or(usize::MAX).max(1))
    }

    /// How long background work waits, at most, before it may run with
    /// no request in between.
    pub fn wait(&self, now: Instant) -> Duration {
        self.last_foreground.map_or(Duration::ZERO, |t| {
            (t + GRACE).saturating_duration_since(now)
        })
    }

    fn busy(&self, now: Instant) -> bool {
        self.load >= BUSY_LOAD
            && self
                .last_foreground
                .is_some_and(|t| now.saturating_duration_since(t) < GRACE)
    }

    /// Books a group that ended at `now` after `wall` time: `foreground`
    /// job time (`None`: no request in it), `background` job time over
    /// `jobs` background jobs that ran, `limited` whether they ran on the
    /// share.
    pub fn spent(
        &mut self,
        now: Instant,
        wall: Duration,
        foreground: Option<Duration>,
        background: Duration,
        jobs: usize,
        limited: bool,
    ) {
        if let Some(f) = foreground {
            self.last_foreground = Some(now);
            self.credit =
                (self.credit + nanos(f) / i64::from(SHARE_DIVISOR)).min(nanos(CREDIT_CAP));
            self.window_busy += wall;
        }
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= LOAD_WINDOW {
            self.load = self.window_busy.as_secs_f64() / elapsed.as_secs_f64();
            self.window_start = now;
            self.window_busy = Duration::ZERO;
        }
        if jobs > 0 {
            let per_job = nanos(background) / i64::try_from(jobs).unwrap_or(i64::MAX);
            self.average = (self.average * 7 + per_job) / 8;
            if limited {
                self.credit = (self.credit - nanos(background)).max(-nanos(DEBT_CAP));
            }
        }
    }
}

/// Runs on the writer thread until every sender is gone. Jobs of requests
/// go first; background jobs wait for their [`Share`] while requests are
/// being written, and run freely when none are.
pub fn run(conn: Connection, mut head: ChainHead, rx: Receiver<Queued>, commits: Arc<AtomicU64>) {
    let mut foreground: Vec<Box<Job>> = Vec::with_capacity(MAX_BATCH);
    let mut background: VecDeque<Box<Job>> = VecDeque::new();
    let mut share = Share::default();
    let mut journal = TempStore::File;
    let mut open = true;
    while open || !background.is_empty() {
        let sort = |q: Queued, f: &mut Vec<_>, b: &mut VecDeque<_>| {
            if q.background {
                b.push_back(q.job);
            } else {
                f.push(q.job);
            }
        };
        // Wait for work: any job when nothing waits; while background jobs
        // wait for their turn, a request or the end of the grace.
        if open {
            let now = Instant::now();
            let received = if background.is_empty() {
                rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
            } else if share.allowance(now, false) == Some(0) {
                let wait = share.wait(now).max(Duration::from_millis(1));
                rx.recv_timeout(wait)
            } else {
                Err(RecvTimeoutError::Timeout)
            };
            match received {
                Ok(q) => sort(q, &mut foreground, &mut background),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => open = false,
            }
        }
        while open && foreground.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(q) => sort(q, &mut foreground, &mut background),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => open = false,
            }
        }
        let now = Instant::now();
        let allowance = if open {
            share.allowance(now, !foreground.is_empty())
        } else {
            None
        };
        let room = MAX_BATCH - foreground.len();
        let admitted = allowance.unwrap_or(room).min(room).min(background.len());
        let mut batch: Vec<Queued> = foreground
            .drain(..)
            .map(|job| Queued {
                background: false,
                job,
            })
            .collect();
        batch.extend(background.drain(..admitted).map(|job| Queued {
            background: true,
            job,
        }));
        if batch.is_empty() {
            continue;
        }
        let had_foreground = batch.len() > admitted;
        let started = Instant::now();
        let ran = run_batch(&conn, &mut head, &mut batch, &commits, &mut journal);
        share.spent(
            Instant::now(),
            started.elapsed(),
            had_foreground.then_some(ran.foreground),
            ran.background,
            ran.background_jobs,
            allowance.is_some(),
        );
    }
    tracing::debug!("sqlite writer stopped");
}

/// What one group's jobs took.
#[derive(Debug, Default)]
struct Ran {
    foreground: Duration,
    background: Duration,
    /// Background jobs that ran (not those failed without running).
    background_jobs: usize,
}

/// Where the writer connection keeps its savepoint (sub-)journals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TempStore {
    /// In memory, for groups of [`redress_store::group::Job::small`] jobs only: each job's
    /// savepoint journals the pages it changes, some 20 of them for a
    /// registration, which is more than SQLite keeps in memory before it
    /// spills to a temporary file (64 KiB): a group would write that file.
    /// Not for large jobs (an import, a rebuild): the in-memory journal is
    /// truncated at the end of each statement by walking it from its
    /// start, which makes each statement of a large job cost time in
    /// proportion to the job's size so far.
    Memory,
    /// A temporary file (SQLite's default).
    File,
}

/// Switches `temp_store` (between transactions: SQLite fixes where a
/// transaction's sub-journal lives when it begins).
fn set_temp_store(conn: &Connection, now: &mut TempStore, want: TempStore) -> StoreResult<()> {
    if *now != want {
        conn.execute_batch(match want {
            TempStore::Memory => "PRAGMA temp_store = MEMORY",
            TempStore::File => "PRAGMA temp_store = DEFAULT",
        })
        .map_err(db)?;
        *now = want;
    }
    Ok(())
}

/// Runs one group.
fn run_batch(
    conn: &Connection,
    head: &mut ChainHead,
    batch: &mut Vec<Queued>,
    commits: &AtomicU64,
    journal: &mut TempStore,
) -> Ran {
    let mut spent = Ran::default();
    let small = batch.iter().all(|q| q.job.small());
    let want = if small {
        TempStore::Memory
    } else {
        TempStore::File
    };
    if let Err(e) = set_temp_store(conn, journal, want) {
        tracing::error!(error = %e, "sqlite writer could not set temp_store");
        for q in batch.drain(..) {
            q.job.fail(&e);
        }
        return spent;
    }
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE").map_err(db) {
        tracing::error!(error = %e, "sqlite writer could not begin a transaction");
        for q in batch.drain(..) {
            q.job.fail(&e);
        }
        return spent;
    }
    // The head as the file holds it, under the write lock: another process
    // (`redress keys rotate`, `redress user add`) may have moved it.
    match ChainHead::load(conn) {
        Ok(now) => *head = now,
        Err(e) => {
            tracing::error!(error = %e, "sqlite writer could not read the chain head");
            let _ = conn.execute_batch("ROLLBACK");
            for q in batch.drain(..) {
                q.job.fail(&e);
            }
            return spent;
        }
    }
    let mut replies: Vec<Reply> = Vec::with_capacity(batch.len());
    let mut broken: Option<StoreError> = None;
    let mut unindexed: Vec<i64> = Vec::new();
    for Queued { background, job } in batch.drain(..) {
        if let Some(e) = &broken {
            job.fail(e);
            continue;
        }
        let started = Instant::now();
        if !job.small() {
            // The pending new cases go into the search index first: this
            // job may update, delete or search them.
            if let Err(e) = index_cases(conn, &unindexed) {
                job.fail(&e);
                broken = Some(e);
                continue;
            }
            unindexed.clear();
        }
        if let Err(e) = conn.execute_batch("SAVEPOINT job").map_err(db) {
            job.fail(&e);
            broken = Some(e);
            continue;
        }
        let before = head.clone();
        let pending = unindexed.len();
        let mut ctx = WriteCtx {
            conn,
            head,
            unindexed: &mut unindexed,
        };
        // A panicking job drops its answer channel: its caller sees an error.
        let ok = match catch_unwind(AssertUnwindSafe(|| job.run(&mut ctx))) {
            Ok((ok, reply)) => {
                replies.push(reply);
                ok.is_ok()
            }
            Err(_) => {
                tracing::error!("a sqlite writer job panicked");
                false
            }
        };
        if background {
            spent.background += started.elapsed();
            spent.background_jobs += 1;
        } else {
            spent.foreground += started.elapsed();
        }
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (I/O error, full disk…).
            broken = Some(StoreError::other(
                "the transaction was rolled back by the database",
            ));
            continue;
        }
        let end = if ok {
            conn.execute_batch("RELEASE job")
        } else {
            *head = before;
            unindexed.truncate(pending);
            conn.execute_batch("ROLLBACK TO job; RELEASE job")
        };
        if let Err(e) = end {
            broken = Some(db(e));
        }
    }
    if broken.is_none()
        && let Err(e) = index_cases(conn, &unindexed)
    {
        broken = Some(e);
    }
    let commit = match broken {
        Some(e) => Err(e),
        None => conn.execute_batch("COMMIT").map_err(db),
    };
    match &commit {
        Ok(()) => {
            commits.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => {
            tracing::error!(error = %e, "sqlite group commit failed");
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            match ChainHead::load(conn) {
                Ok(h) => *head = h,
                Err(e) => tracing::error!(error = %e, "could not reload the journal head"),
            }
        }
    }
    let commit = commit.as_ref().map(|_| ());
    for reply in replies {
        reply(commit);
    }
    spent
}

impl redress_store::sql::Journal for WriteCtx<'_> {
    fn append(&mut self, events: &[NewEvent]) -> StoreResult<()> {
        WriteCtx::append(self, events)
    }

    fn import(&mut self, entries: &[JournalEntry]) -> StoreResult<()> {
        WriteCtx::import(self, entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// A share that has seen requests fill the writer for a whole window,
    /// the last of them at the returned instant.
    fn saturated() -> (Share, Instant) {
        let mut share = Share::default();
        let t = share.window_start + LOAD_WINDOW;
        share.spent(
            t,
            LOAD_WINDOW,
            Some(Duration::ZERO),
            Duration::ZERO,
            0,
            false,
        );
        (share, t)
    }

    #[test]
    fn background_runs_freely_when_no_request_writes() {
        let share = Share::default();
        let now = Instant::now();
        assert_eq!(share.allowance(now, false), None);
        assert_eq!(share.allowance(now, true), None);
        assert_eq!(share.wait(now), Duration::ZERO);
    }

    #[test]
    fn a_trickle_of_requests_leaves_background_free() {
        let mut share = Share::default();
        let mut t = share.window_start;
        // A request group of 1 ms every 15 ms: the writer has room.
        for _ in 0..40 {
            t += 15 * MS;
            share.spent(t, MS, Some(MS), Duration::ZERO, 0, false);
        }
        assert!(share.load < BUSY_LOAD, "{}", share.load);
        assert_eq!(share.allowance(t, true), None);
        assert_eq!(share.allowance(t, false), None);
    }

    #[test]
    fn while_requests_fill_the_writer_background_rides_along_on_its_credit() {
        let (mut share, t0) = saturated();
        // Nothing earned yet: a group of requests takes no background job.
        assert_eq!(share.allowance(t0, true), Some(0));
        // 32 ms of request jobs earn 1 ms: ten jobs at the assumed 0.1 ms.
        share.spent(t0, 32 * MS, Some(32 * MS), Duration::ZERO, 0, false);
        assert_eq!(share.allowance(t0, true), Some(10));
        // Within the grace, no group of their own: it would make the next
        // request wait for its commit.
        assert_eq!(share.allowance(t0 + 5 * MS, false), Some(0));
        assert_eq!(share.wait(t0 + 5 * MS), GRACE - 5 * MS);
        // Once it has passed they run freely.
        assert_eq!(share.allowance(t0 + GRACE, false), None);
    }

    #[test]
    fn an_overdrawn_share_is_paid_back_first_and_debt_is_capped() {
        let (mut share, t0) = saturated();
        share.spent(t0, 32 * MS, Some(32 * MS), Duration::ZERO, 0, false);
        // One admitted job took 5 ms against 1 ms earned.
        share.spent(t0, 5 * MS, None, 5 * MS, 1, true);
        assert_eq!(share.allowance(t0, true), Some(0));
        // 128 ms of requests earn 4 ms: the debt is paid, nothing is left.
        share.spent(t0, 128 * MS, Some(128 * MS), Duration::ZERO, 0, false);
        assert_eq!(share.allowance(t0, true), Some(0));
        share.spent(t0, 32 * MS, Some(32 * MS), Duration::ZERO, 0, false);
        assert!(share.allowance(t0, true).unwrap() >= 1);
        // A job of a minute leaves a debt of the cap, not of a minute.
        let minute = Duration::from_secs(60);
        share.spent(t0, minute, None, minute, 1, true);
        let repay = DEBT_CAP * SHARE_DIVISOR + 32 * MS;
        share.spent(t0, repay, Some(repay), Duration::ZERO, 0, false);
        assert!(share.allowance(t0, true).unwrap() >= 1);
    }

    #[test]
    fn under_steady_requests_background_keeps_to_its_share() {
        let (mut share, mut now) = saturated();
        let (mut requests, mut background) = (Duration::ZERO, Duration::ZERO);
        // Groups of 8 ms of request jobs back to back; background jobs of
        // 0.7 ms always waiting.
        for _ in 0..10_000 {
            let n = share.allowance(now, true).unwrap();
            let b = Duration::from_micros(700) * u32::try_from(n).unwrap();
            now += 8 * MS + b;
            share.spent(now, 8 * MS + b, Some(8 * MS), b, n, true);
            requests += 8 * MS;
            background += b;
        }
        let fraction = background.as_secs_f64() / requests.as_secs_f64();
        let target = 1.0 / f64::from(SHARE_DIVISOR);
        assert!(
            fraction <= target * 1.05 && fraction >= target * 0.8,
            "background took {fraction:.4} of the request time (share {target:.4})"
        );
    }
}
