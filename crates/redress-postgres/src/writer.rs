//! The instance's writer: one OS thread owns one connection and commits
//! queued jobs in groups, as the SQLite writer does.
//!
//! Each group is one transaction that first locks the journal head row
//! (`SELECT … FOR UPDATE`). That lock orders the journal across every
//! instance on the database: the hash chain has one head and one order, and
//! two instances' groups never interleave, so they cannot deadlock on case
//! rows either. Each job runs inside its own SAVEPOINT; a failing job is
//! rolled back alone. Answers go out only after the COMMIT returned.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

use postgres::types::ToSql;
use postgres::{Client, Statement};
use redress_store::journal::{JournalEntry, NewEvent, chain_hash};
use redress_store::{StoreError, StoreResult};
use uuid::Uuid;

use crate::codec::{clone_err, db, us};

/// Most jobs committed together.
pub const MAX_BATCH: usize = 256;

/// The end of the hash chain, as locked by the current group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// What a job sees: the connection, inside the group's transaction and the
/// job's savepoint, the chain head, and prepared statements.
pub struct WriteCtx<'a> {
    pub client: &'a mut Client,
    head: &'a mut ChainHead,
    statements: &'a mut HashMap<&'static str, Statement>,
}

const INSERT_EVENTS: &str = "INSERT INTO events (seq, case_id, kind, actor, at, data, prev_hash, hash) \
     SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], \
     $6::text[], $7::text[], $8::text[])";

impl WriteCtx<'_> {
    /// A prepared statement for `sql`, prepared once per connection.
    pub fn statement(&mut self, sql: &'static str) -> StoreResult<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(db)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    /// Runs a prepared `sql`; the number of rows it changed.
    pub fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let stmt = match self.statements.get(sql) {
            Some(s) => s.clone(),
            None => {
                let s = self.client.prepare(sql)?;
                self.statements.insert(sql, s.clone());
                s
            }
        };
        self.client.execute(&stmt, params)
    }

    /// Appends events to the journal (one statement), extending the chain.
    pub fn append(&mut self, events: &[NewEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let n = events.len();
        let (mut seqs, mut cases, mut kinds, mut actors, mut ats, mut datas, mut prevs, mut hashes) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for e in events {
            let seq = self.head.seq + 1;
            let hash = chain_hash(&self.head.hash, seq, e);
            seqs.push(seq);
            cases.push(e.case_id);
            kinds.push(e.kind.as_str());
            actors.push(e.actor.as_str());
            ats.push(us(&e.at));
            datas.push(e.data.as_str());
            prevs.push(std::mem::replace(&mut self.head.hash, hash.clone()));
            hashes.push(hash);
            self.head.seq = seq;
        }
        let cases: Vec<Option<Uuid>> = cases;
        self.execute(
            INSERT_EVENTS,
            &[
                &seqs, &cases, &kinds, &actors, &ats, &datas, &prevs, &hashes,
            ],
        )
        .map_err(db)?;
        Ok(())
    }
}

impl WriteCtx<'_> {
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
        self.head.seq = last.seq;
        self.head.hash = last.hash.clone();
        Ok(())
    }
}

/// Delivers a job's answer once the group's fate is known.
pub type Reply = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// A unit of work for the writer.
pub trait Job: Send {
    /// Runs the work; `true` when it succeeded (and its savepoint is kept).
    fn run(self: Box<Self>, ctx: &mut WriteCtx<'_>) -> (bool, Reply);
    /// Answers without running (the group already failed).
    fn fail(self: Box<Self>, e: &StoreError);
}

/// Where a job's answer goes.
pub type Answer<T> = Box<dyn FnOnce(StoreResult<T>) + Send>;

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
        let outcome = f(ctx);
        let ok = outcome.is_ok();
        let reply: Reply = Box::new(move |commit: Result<(), &StoreError>| {
            let answer = match (outcome, commit) {
                (Err(e), _) => Err(e),
                (Ok(v), Ok(())) => Ok(v),
                (Ok(_), Err(e)) => Err(clone_err(e)),
            };
            tx(answer);
        });
        (ok, reply)
    }

    fn fail(self: Box<Self>, e: &StoreError) {
        (self.tx)(Err(clone_err(e)));
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

/// Opens a new connection for the writer.
pub type Connect = Box<dyn Fn() -> Result<Client, postgres::Error> + Send>;

/// Runs on the writer thread until every sender is gone.
pub fn run(connect: Connect, rx: Receiver<Box<dyn Job>>, commits: Arc<AtomicU64>) {
    let mut client: Option<Client> = None;
    let mut statements = HashMap::new();
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        if client.as_ref().is_none_or(Client::is_closed) {
            statements.clear();
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
                    continue;
                }
            };
        }
        if let Some(c) = client.as_mut() {
            run_batch(c, &mut statements, &mut batch, &commits);
        }
    }
    tracing::debug!("postgres writer stopped");
}

fn lock_head(client: &mut Client) -> StoreResult<ChainHead> {
    client.batch_execute("BEGIN").map_err(db)?;
    let row = client
        .query_one(
            "SELECT seq, hash FROM journal_head WHERE id = 1 FOR UPDATE",
            &[],
        )
        .map_err(db)?;
    Ok(ChainHead {
        seq: row.get(0),
        hash: row.get(1),
    })
}

fn run_batch(
    client: &mut Client,
    statements: &mut HashMap<&'static str, Statement>,
    batch: &mut Vec<Box<dyn Job>>,
    commits: &AtomicU64,
) {
    let mut head = match lock_head(client) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "postgres writer could not begin a group");
            let _ = client.batch_execute("ROLLBACK");
            for job in batch.drain(..) {
                job.fail(&e);
            }
            return;
        }
    };
    let start = head.clone();
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
        let before = head.clone();
        let mut ctx = WriteCtx {
            client,
            head: &mut head,
            statements,
        };
        // A panicking job drops its answer channel: its caller sees an error.
        let ok = match catch_unwind(AssertUnwindSafe(|| job.run(&mut ctx))) {
            Ok((ok, reply)) => {
                replies.push(reply);
                ok
            }
            Err(_) => {
                tracing::error!("a postgres writer job panicked");
                false
            }
        };
        let end = if ok {
            client.batch_execute("RELEASE SAVEPOINT job")
        } else {
            head = before;
            client.batch_execute("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job")
        };
        if let Err(e) = end {
            broken = Some(db(e));
        }
    }
    let commit = match broken {
        Some(e) => Err(e),
        None => (|| {
            if head != start {
                client
                    .execute(
                        "UPDATE journal_head SET seq = $1, hash = $2 WHERE id = 1",
                        &[&head.seq, &head.hash],
                    )
                    .map_err(db)?;
            }
            client.batch_execute("COMMIT").map_err(db)
        })(),
    };
    match &commit {
        Ok(()) => {
            commits.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => {
            tracing::error!(error = %e, "postgres group commit failed");
            let _ = client.batch_execute("ROLLBACK");
        }
    }
    let commit = commit.as_ref().map(|_| ());
    for reply in replies {
        reply(commit);
    }
}
