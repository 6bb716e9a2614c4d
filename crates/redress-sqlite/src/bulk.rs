//! Bulk copy (`redress migrate-data`): whole tables read in pages and
//! written back as they are, `seq`, versions and hashes included.

use super::*;
use r2d2_sqlite::rusqlite::types::Value as SqlValue;
use r2d2_sqlite::rusqlite::{self, Connection, params, params_from_iter};
use redress_store::sql::actions;
use redress_store::{CaseRow, StoreError, StoreResult};

use crate::codec::{db, ts};
use crate::{case_violation, shared_case_values};

const IMPORT_CASE: &str = "INSERT INTO cases (seq, id, tracking_no, status, closure, channel, \
     category, department, assignee, respondent_key, respondent_name, complainant_key, subject, \
     created_at, updated_at, next_due_at, staff_due, sweep_at, decided_by, decider_level, \
     report, outcome, missed, version, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
     ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)";

/// Inserts rows with their own `seq` (the rowid: later inserts continue
/// after the largest). A trigger keeps the per-status counts; the rows go
/// into the search index together at the end.
pub fn import_cases(c: &Connection, rows: &[CaseRow]) -> StoreResult<()> {
    let mut stmt = c.prepare_cached(IMPORT_CASE).map_err(db)?;
    for r in rows {
        let mut values = vec![SqlValue::Integer(r.seq), SqlValue::Text(r.id.to_string())];
        values.extend(shared_case_values(r)?);
        values.push(SqlValue::Integer(r.version));
        values.push(SqlValue::Blob(r.doc.clone()));
        stmt.execute(params_from_iter(values))
            .map_err(case_violation)?;
        crate::insert_tokens(c, r.seq, &r.search_tokens)?;
        actions::write(&mut &*c, r.id, &r.actions)?;
    }
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    crate::writer::index_cases(c, &seqs)?;
    crate::rollups::insert_many(c, rows)
}

#[async_trait]
impl UpkeepStore for SqliteStore {
    async fn migrate(&self) -> StoreResult<()> {
        self.write(|ctx| schema::apply(ctx.conn).map(|_| ())).await
    }

    async fn forget_case(&self, case_id: Uuid) -> StoreResult<u64> {
        self.write(move |ctx| redress_store::sql::cases::forget(ctx, case_id))
            .await
    }

    async fn journal_splice(&self) -> StoreResult<Option<redress_store::journal::JournalSplice>> {
        self.read(redress_store::sql::cases::splice).await
    }

    async fn rewrite_journal(
        &self,
        after: i64,
        data: Vec<(i64, Option<String>)>,
        at: DateTime<Utc>,
    ) -> StoreResult<redress_store::journal::RewriteOutcome> {
        use redress_store::journal::{RewriteOutcome, plan_rewrite, resealed_event};
        self.write(move |ctx| {
            let splice = match redress_store::sql::cases::splice(ctx)? {
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
            let stored = redress_store::sql::cases::events_after(ctx, after, data.len())?;
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
        /// How long a truncating checkpoint is retried while another
        /// checkpoint holds the lock (each try also waits out readers for
        /// up to the busy timeout).
        const COMPACT_WITHIN: Duration = Duration::from_secs(10);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let conn = Connection::open(&path).map_err(db)?;
            conn.execute_batch("PRAGMA busy_timeout = 5000;")
                .map_err(db)?;
            // Every frame goes into the main file (where secure_delete
            // zeroed what was freed) and the log is cut to nothing. While
            // another checkpoint runs (the store's checkpointer, or a
            // `redress` command's) SQLite does not wait: it answers busy
            // (the first column) without having copied or cut anything, so
            // this tries again until one pass ran whole.
            let deadline = std::time::Instant::now() + COMPACT_WITHIN;
            loop {
                let busy: i64 = conn
                    .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
                    .map_err(db)?;
                if busy == 0 {
                    return Ok(());
                }
                if std::time::Instant::now() >= deadline {
                    return Err(StoreError::other(
                        "the write-ahead log could not be truncated: the checkpoint stayed busy",
                    ));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .await
        .map_err(|e| StoreError::other(format!("checkpoint task: {e}")))?
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
