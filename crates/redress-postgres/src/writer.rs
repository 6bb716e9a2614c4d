//! The instance's writers: a few OS threads, each owning one connection,
//! take queued jobs and commit them in groups, as the SQLite writer does.
//!
//! Each group is one transaction; each job runs inside its own SAVEPOINT,
//! so a failing job is rolled back alone. Jobs do their case work at once
//! but only *queue* their journal events; at the end of the group the
//! writer locks the journal head row (`SELECT … FOR UPDATE`), chains the
//! group's events after it in one statement, moves the head and commits.
//! The head lock therefore gives the journal one order across every
//! writer of every instance, yet is held only for the group's last few
//! statements, so the writers' case work runs in parallel. Locks are always
//! taken in the order "case rows, then the report counters (`report_days`,
//! in key order, once per group), then the head", and nobody holding the
//! head waits for a case row or a counter: no deadlock. Answers go out only after the
//! COMMIT returned.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, Statement};
use redress_store::group::{Answer, Reply, TypedJob};
use redress_store::journal::{JournalEntry, NewEvent, chain_hash};
use redress_store::{StoreError, StoreResult};
use uuid::Uuid;

use crate::codec::{Prepared, db, us};

/// Most jobs committed together. Each job is a subtransaction; beyond 64
/// per transaction PostgreSQL's per-backend subtransaction cache overflows
/// and every other session's visibility checks get slower.
pub const MAX_BATCH: usize = 64;

/// The end of the hash chain, as locked by the current group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// What a job sees: the connection, inside the group's transaction and the
/// job's savepoint, the group's queued events, and prepared statements.
pub struct WriteCtx<'a> {
    pub client: &'a mut Client,
    journal: &'a mut GroupJournal,
    /// The statements prepared on this writer's connection: its own and
    /// those of `redress_store::sql`.
    prepared: &'a mut Prepared,
}

/// The journal work of a group, done at its end under the head lock.
#[derive(Debug, Default)]
struct GroupJournal {
    /// Events to chain after the head, in order.
    events: Vec<NewEvent>,
    /// Changes to the report counters, applied at the end of the group in
    /// key order (before the head lock): writers of every instance then
    /// lock shared counter rows in one order, and never deadlock on them.
    rollups: Vec<(redress_store::rollup::RollupKey, i64)>,
    /// Set by a bulk import: the head to store (entries already written).
    imported_head: Option<ChainHead>,
}

const INSERT_EVENTS: &str = "INSERT INTO events (seq, case_id, kind, actor, at, data, prev_hash, hash) \
     SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], \
     $6::text[], $7::text[], $8::text[])";

impl WriteCtx<'_> {
    /// The connection and its prepared statements.
    pub(crate) fn prepared_client(&mut self) -> (&mut Client, &mut Prepared) {
        (self.client, self.prepared)
    }

    /// A prepared statement for `sql`, prepared once per connection.
    pub fn statement(&mut self, sql: &'static str) -> StoreResult<Statement> {
        self.prepared.statement(self.client, sql).map_err(db)
    }

    /// Runs a prepared `sql`; the number of rows it changed.
    pub fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let stmt = self.prepared.statement(self.client, sql)?;
        self.client.execute(&stmt, params)
    }

    /// Queues events for the journal; the group chains and writes them
    /// all at its end, after the head.
    pub fn append(&mut self, events: &[NewEvent]) -> StoreResult<()> {
        self.journal.events.extend_from_slice(events);
        Ok(())
    }

    /// Queues changes to the report counters; the group applies them at
    /// its end, summed and in key order.
    pub fn queue_rollups(&mut self, changes: Vec<(redress_store::rollup::RollupKey, i64)>) {
        self.journal.rollups.extend(changes);
    }

    /// Drops the counter changes queued so far in this group (a rebuild
    /// has counted their cases from the rows).
    pub fn clear_rollups(&mut self) {
        self.journal.rollups.clear();
    }

    /// Writes journal entries as they are (bulk copy: `seq` and hashes come
    /// from another store) in one statement and moves the head to the last
    /// one; the group's COMMIT stores the head.
    pub fn import(&mut self, entries: &[JournalEntry]) -> StoreResult<()> {
        let Some(last) = entries.last() else {
            return Ok(());
        };
        let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
        let cases: Vec<Option<Uuid>> = entries.iter().map(|e| e.case_id).collect();
        let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
        let actors: Vec<&str> = entries.iter().map(|e| e.actor.as_str()).collect();
        let ats: Vec<_> = entries.iter().map(|e| us(&e.at)).collect();
        let datas: Vec<&str> = entries.iter().map(|e| e.data.as_str()).collect();
        let prevs: Vec<&str> = entries.iter().map(|e| e.prev_hash.as_str()).collect();
        let hashes: Vec<&str> = entries.iter().map(|e| e.hash.as_str()).collect();
        self.execute(
            INSERT_EVENTS,
            &[
                &seqs, &cases, &kinds, &actors, &ats, &datas, &prevs, &hashes,
            ],
        )
        .map_err(|e| crate::codec::constraint(e, "event", "event"))?;
        self.journal.imported_head = Some(ChainHead {
            seq: last.seq,
            hash: last.hash.clone(),
        });
        Ok(())
    }
}

/// Chains `events` after `head` and writes them in one statement.
fn write_events(
    client: &mut Client,
    prepared: &mut Prepared,
    head: &mut ChainHead,
    events: &[NewEvent],
) -> StoreResult<()> {
    let n = events.len();
    let mut seqs = Vec::with_capacity(n);
    let mut cases: Vec<Option<Uuid>> = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut actors = Vec::with_capacity(n);
    let mut ats = Vec::with_capacity(n);
    let mut datas = Vec::with_capacity(n);
    let mut prevs = Vec::with_capacity(n);
    let mut hashes = Vec::with_capacity(n);
    for e in events {
        let seq = head.seq + 1;
        let hash = chain_hash(&head.hash, seq, e);
        seqs.push(seq);
        cases.push(e.case_id);
        kinds.push(e.kind.as_str());
        actors.push(e.actor.as_str());
        ats.push(us(&e.at));
        datas.push(e.data.as_str());
        prevs.push(std::mem::replace(&mut head.hash, hash.clone()));
        hashes.push(hash);
        head.seq = seq;
    }
    let stmt = prepared.statement(client, INSERT_EVENTS).map_err(db)?;
    client
        .execute(
            &stmt,
            &[
                &seqs, &cases, &kinds, &actors, &ats, &datas, &prevs, &hashes,
            ],
        )
        .map_err(db)?;
    Ok(())
}

/// A unit of work for the writer ([`redress_store::group::Job`]).
pub type Job = dyn for<'a> redress_store::group::Job<WriteCtx<'a>>;

/// Wraps a typed closure into a [`Job`] answering through `tx`.
pub fn job<T, F>(f: F, tx: Answer<T>) -> Box<Job>
where
    T: Send + 'static,
    F: FnOnce(&mut WriteCtx<'_>) -> StoreResult<T> + Send + 'static,
{
    Box::new(TypedJob {
        f,
        tx,
        small: false,
    })
}

/// Opens a new connection for a writer.
pub type Connect = Arc<dyn Fn() -> Result<Client, postgres::Error> + Send + Sync>;

/// Runs on one writer thread until every sender is gone. Several writers
/// share `rx`: each takes what is queued (up to [`MAX_BATCH`]) as a group.
pub fn run(connect: Connect, rx: Arc<Mutex<Receiver<Box<Job>>>>, commits: Arc<AtomicU64>) {
    let mut client: Option<Client> = None;
    let mut prepared = Prepared::default();
    let mut batch: Vec<Box<Job>> = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            let Ok(rx) = rx.lock() else { return };
            let Ok(first) = rx.recv() else { break };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
        }
        // A connection that died while idle (a restart, a failover) shows
        // only when the group begins: then, before anything ran, the group
        // gets one new connection.
        for attempt in 0..2 {
            if client.as_ref().is_none_or(Client::is_closed) {
                prepared.clear();
                client = match connect() {
                    Ok(c) => Some(c),
                    Err(e) => {
                        let e = db(e);
                        tracing::error!(error = %e, "postgres writer could not connect");
                        for job in batch.drain(..) {
                            job.fail(&e);
                        }
                        // Do not spin against a database that is down.
                        std::thread::sleep(Duration::from_millis(200));
                        break;
                    }
                };
            }
            let Some(c) = client.as_mut() else { break };
            if run_batch(c, &mut prepared, &mut batch, &commits, attempt == 0) {
                break;
            }
        }
    }
    tracing::debug!("postgres writer stopped");
}

/// Forgets every prepared statement of the writer's connection when `e`
/// is the server refusing one as stale (another instance's migration
/// changed a result's shape, 0A000, or a pooler deallocated it, 26000).
/// The job or group that met it has failed inside its transaction and
/// cannot run again; without this, every later group would fail on the
/// same statement.
fn forget_if_stale(prepared: &mut Prepared, e: Option<&StoreError>) {
    if e.is_some_and(crate::codec::is_stale) {
        tracing::warn!("postgres writer: a prepared statement went stale; preparing anew");
        prepared.clear();
    }
}

/// Locks the head, writes the group's journal after it and moves it.
fn finish_journal(
    client: &mut Client,
    prepared: &mut Prepared,
    journal: &GroupJournal,
) -> StoreResult<()> {
    if journal.events.is_empty() && journal.imported_head.is_none() {
        return Ok(());
    }
    let lock = prepared
        .statement(
            client,
            "SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE",
        )
        .map_err(db)?;
    let row = client.query_one(&lock, &[]).map_err(db)?;
    let mut head = journal.imported_head.clone().unwrap_or(ChainHead {
        seq: row.get(0),
        hash: row.get(1),
    });
    if !journal.events.is_empty() {
        write_events(client, prepared, &mut head, &journal.events)?;
    }
    let moved = prepared
        .statement(
            client,
            "UPDATE journal_head SET seq = $1, hash = $2 WHERE id = 1",
        )
        .map_err(db)?;
    client
        .execute(&moved, &[&head.seq, &head.hash])
        .map_err(db)?;
    Ok(())
}

fn run_batch(
    client: &mut Client,
    prepared: &mut Prepared,
    batch: &mut Vec<Box<Job>>,
    commits: &AtomicU64,
    may_retry: bool,
) -> bool {
    if let Err(e) = client.batch_execute("BEGIN").map_err(db) {
        if may_retry && client.is_closed() {
            tracing::warn!(error = %e, "postgres writer lost its connection; reconnecting");
            return false;
        }
        tracing::error!(error = %e, "postgres writer could not begin a group");
        for job in batch.drain(..) {
            job.fail(&e);
        }
        return true;
    }
    let mut journal = GroupJournal::default();
    let mut replies: Vec<Reply> = Vec::with_capacity(batch.len());
    let mut broken: Option<StoreError> = None;
    for job in batch.drain(..) {
        if let Some(e) = &broken {
            job.fail(e);
            continue;
        }
        if let Err(e) = client.batch_execute("SAVEPOINT job").map_err(db) {
            job.fail(&e);
            broken = Some(e);
            continue;
        }
        let (queued, imported) = (journal.events.len(), journal.imported_head.clone());
        let queued_rollups = journal.rollups.len();
        let mut ctx = WriteCtx {
            client,
            journal: &mut journal,
            prepared,
        };
        // A panicking job drops its answer channel: its caller sees an error.
        let ok = match catch_unwind(AssertUnwindSafe(|| job.run(&mut ctx))) {
            Ok((ok, reply)) => {
                replies.push(reply);
                forget_if_stale(prepared, ok.as_ref().err());
                ok.is_ok()
            }
            Err(_) => {
                tracing::error!("a postgres writer job panicked");
                false
            }
        };
        // A kept savepoint needs no RELEASE (one round trip less per job):
        // the next `SAVEPOINT job` shadows it, and COMMIT keeps them all.
        if !ok {
            journal.events.truncate(queued);
            journal.rollups.truncate(queued_rollups);
            journal.imported_head = imported;
            if let Err(e) = client.batch_execute("ROLLBACK TO SAVEPOINT job") {
                broken = Some(db(e));
            }
        }
    }
    let commit = match broken {
        Some(e) => Err(e),
        None => crate::rollups::apply_group(client, prepared, std::mem::take(&mut journal.rollups))
            .and_then(|()| finish_journal(client, prepared, &journal))
            .and_then(|()| client.batch_execute("COMMIT").map_err(db)),
    };
    match &commit {
        Ok(()) => {
            commits.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => {
            tracing::error!(error = %e, "postgres group commit failed");
            let _ = client.batch_execute("ROLLBACK");
            forget_if_stale(prepared, Some(e));
        }
    }
    let commit = commit.as_ref().map(|_| ());
    for reply in replies {
        reply(commit);
    }
    true
}

impl redress_store::sql::Journal for WriteCtx<'_> {
    fn append(&mut self, events: &[NewEvent]) -> StoreResult<()> {
        WriteCtx::append(self, events)
    }

    fn import(&mut self, entries: &[JournalEntry]) -> StoreResult<()> {
        WriteCtx::import(self, entries)
    }
}
