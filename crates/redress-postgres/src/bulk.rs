//! Bulk copy (`redress migrate-data`): whole tables read in pages and
//! written back as they are, `seq`, versions and hashes included. Large
//! tables are written with one `unnest` statement per batch.

use super::*;
use chrono::{DateTime, Utc};
use redress_store::sql::actions;
use redress_store::{CaseRow, StoreError, StoreResult};
use uuid::Uuid;

use crate::case_violation;
use crate::codec::{db, unique_constraint, us, us_opt};
use crate::writer::WriteCtx;

const IMPORT_CASES: &str = concat!(
    "INSERT INTO cases (seq, id, tracking_no, status, closure, channel, \
     category, department, assignee, respondent_key, respondent_name, complainant_key, subject, \
     created_at, updated_at, next_due_at, staff_due, sweep_at, decided_by, decider_level, \
     search_tokens, report, version, doc, outcome, missed) \
     SELECT seq, id, tracking_no, status, closure, channel, category, department, assignee, \
     respondent_key, respondent_name, complainant_key, subject, created_at, updated_at, \
     next_due_at, staff_due, sweep_at, decided_by, decider_level, ",
    crate::search_vector!("search_tokens"),
    ", report, version, doc, outcome, missed \
     FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], \
     $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], \
     $14::timestamptz[], $15::timestamptz[], $16::timestamptz[], $17::boolean[], \
     $18::timestamptz[], $19::text[], $20::integer[], $21::text[], $22::bytea[], $23::bigint[], \
     $24::bytea[], $25::text[], $26::text[]) \
     AS t(seq, id, tracking_no, status, closure, channel, category, department, assignee, \
     respondent_key, respondent_name, complainant_key, subject, created_at, updated_at, \
     next_due_at, staff_due, sweep_at, decided_by, decider_level, search_tokens, report, \
     version, doc, outcome, missed)"
);

/// Moves the `seq` sequence past the largest imported `seq`, so that new
/// cases continue after the imported ones.
const ADVANCE_CASE_SEQ: &str = "SELECT setval(pg_get_serial_sequence('cases', 'seq'), \
     (SELECT max(seq) FROM cases)) FROM cases HAVING count(*) > 0";

/// Inserts rows with their own `seq` and `version` in one statement. The
/// trigger keeps the per-status counts.
pub fn import_cases(ctx: &mut WriteCtx<'_>, rows: &[CaseRow]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let s = |f: fn(&CaseRow) -> &str| rows.iter().map(f).collect::<Vec<&str>>();
    let o = |f: fn(&CaseRow) -> &Option<String>| {
        rows.iter()
            .map(|r| f(r).as_deref())
            .collect::<Vec<Option<&str>>>()
    };
    let t = |f: fn(&CaseRow) -> &DateTime<Utc>| {
        rows.iter()
            .map(|r| us(f(r)))
            .collect::<Vec<DateTime<Utc>>>()
    };
    let to = |f: fn(&CaseRow) -> &Option<DateTime<Utc>>| {
        rows.iter()
            .map(|r| us_opt(f(r)))
            .collect::<Vec<Option<DateTime<Utc>>>>()
    };
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let statuses: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
    let closures: Vec<Option<&str>> = rows.iter().map(|r| r.closure.map(|c| c.as_str())).collect();
    let channels: Vec<&str> = rows.iter().map(|r| r.channel.as_str()).collect();
    let staff_due: Vec<bool> = rows.iter().map(|r| r.staff_due).collect();
    let levels: Vec<Option<i32>> = rows.iter().map(|r| r.decider_level).collect();
    let reports = rows
        .iter()
        .map(|r| r.report.packed())
        .collect::<StoreResult<Vec<Vec<u8>>>>()?;
    let versions: Vec<i64> = rows.iter().map(|r| r.version).collect();
    // Rows from an older SQLite store may hold a token longer than a
    // `tsvector` lexeme may be; as a set without those, as new rows are.
    let tokens: Vec<String> = rows
        .iter()
        .map(|r| redress_domain::text::stored_tokens(&r.search_tokens))
        .collect();
    ctx.execute(
        IMPORT_CASES,
        &[
            &seqs,
            &ids,
            &s(|r| &r.tracking_no),
            &statuses,
            &closures,
            &channels,
            &o(|r| &r.category),
            &o(|r| &r.department),
            &o(|r| &r.assignee),
            &o(|r| &r.respondent_key),
            &o(|r| &r.respondent_name),
            &o(|r| &r.complainant_key),
            &s(|r| &r.subject),
            &t(|r| &r.created_at),
            &t(|r| &r.updated_at),
            &to(|r| &r.next_due_at),
            &staff_due,
            &to(|r| &r.sweep_at),
            &o(|r| &r.decided_by),
            &levels,
            &tokens,
            &reports,
            &versions,
            &rows
                .iter()
                .map(|r| r.doc.as_slice())
                .collect::<Vec<&[u8]>>(),
            &rows
                .iter()
                .map(|r| r.report.outcome_column())
                .collect::<Vec<_>>(),
            &rows
                .iter()
                .map(|r| r.report.missed_column())
                .collect::<Vec<_>>(),
        ],
    )
    .map_err(|e| match unique_constraint(&e).as_deref() {
        Some("cases_pkey") => StoreError::Duplicate("seq"),
        _ => case_violation(e),
    })?;
    ctx.execute(ADVANCE_CASE_SEQ, &[]).map_err(db)?;
    for r in rows {
        actions::write(ctx, r.id, &r.actions)?;
    }
    crate::rollups::insert_many(ctx, rows)
}

#[async_trait]
impl UpkeepStore for PgStore {
    async fn migrate(&self) -> StoreResult<()> {
        self.read(|c| migrate(c).map(|_| ())).await
    }

    async fn forget_case(&self, case_id: Uuid) -> StoreResult<u64> {
        self.read(move |c| redress_store::sql::cases::forget(c, case_id))
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
            let start = match redress_store::sql::cases::splice(&mut tx)? {
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
            let stored = redress_store::sql::cases::events_after(&mut tx, after, data.len())?;
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
