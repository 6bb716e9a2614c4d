//! The single writer: one OS thread owns the only write connection and
//! commits queued jobs in groups.
//!
//! Each job runs inside its own SAVEPOINT of a shared `BEGIN IMMEDIATE`
//! transaction; a failing job is rolled back alone. Answers go out only
//! after the group's COMMIT returned, so an acknowledged write is durable
//! (WAL + `synchronous=FULL`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};

use r2d2_sqlite::rusqlite::{Connection, OptionalExtension, params};
use redress_store::group::{Answer, Reply, settle};
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
            .query_row("SELECT seq, hash FROM journal_head WHERE id = 1", [], |r| {
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

/// A unit of work for the writer.
pub trait Job: Send {
    /// Runs the work; `true` when it succeeded (and its savepoint is kept).
    fn run(self: Box<Self>, ctx: &mut WriteCtx<'_>) -> (bool, Reply);
    /// Answers without running (the group already failed).
    fn fail(self: Box<Self>, e: &StoreError);
}

struct TypedJob<T, F> {
    f: F,
    tx: Answer<T>,
}

impl<T, F> Job for TypedJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut WriteCtx<'_>) -> StoreResult<T> + Send + 'static,
{
    fn run(self: Box<Self>, ctx: &mut WriteCtx<'_>) -> (bool, Reply) {
        let TypedJob { f, tx } = *self;
        settle(f(ctx), tx)
    }

    fn fail(self: Box<Self>, e: &StoreError) {
        (self.tx)(Err(e.clone()));
    }
}

/// Wraps a typed closure into a [`Job`] answering through `tx`.
pub fn job<T, F>(f: F, tx: Answer<T>) -> Box<dyn Job>
where
    T: Send + 'static,
    F: FnOnce(&mut WriteCtx<'_>) -> StoreResult<T> + Send + 'static,
{
    Box::new(TypedJob { f, tx })
}

/// Runs on the writer thread until every sender is gone.
pub fn run(
    conn: Connection,
    mut head: ChainHead,
    rx: Receiver<Box<dyn Job>>,
    commits: Arc<AtomicU64>,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        run_batch(&conn, &mut head, &mut batch, &commits);
    }
    tracing::debug!("sqlite writer stopped");
}

fn run_batch(
    conn: &Connection,
    head: &mut ChainHead,
    batch: &mut Vec<Box<dyn Job>>,
    commits: &AtomicU64,
) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE").map_err(db) {
        tracing::error!(error = %e, "sqlite writer could not begin a transaction");
        for job in batch.drain(..) {
            job.fail(&e);
        }
        return;
    }
    let mut replies: Vec<Reply> = Vec::with_capacity(batch.len());
    let mut broken: Option<StoreError> = None;
    for job in batch.drain(..) {
        if let Some(e) = &broken {
            job.fail(e);
            continue;
        }
        if let Err(e) = conn.execute_batch("SAVEPOINT job").map_err(db) {
            job.fail(&e);
            broken = Some(e);
            continue;
        }
        let before = head.clone();
        let mut ctx = WriteCtx { conn, head };
        // A panicking job drops its answer channel: its caller sees an error.
        let ok = match catch_unwind(AssertUnwindSafe(|| job.run(&mut ctx))) {
            Ok((ok, reply)) => {
                replies.push(reply);
                ok
            }
            Err(_) => {
                tracing::error!("a sqlite writer job panicked");
                false
            }
        };
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (I/O error, full disk…).
            broken = Some(StoreError::Backend(
                "the transaction was rolled back by the database".into(),
            ));
            continue;
        }
        let end = if ok {
            conn.execute_batch("RELEASE job")
        } else {
            *head = before;
            conn.execute_batch("ROLLBACK TO job; RELEASE job")
        };
        if let Err(e) = end {
            broken = Some(db(e));
        }
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
}
