//! The held-mail queue on PostgreSQL. Holding and settling journal an
//! event, so they go through the writer.

use super::*;
use chrono::{DateTime, Utc};
use redress_store::{HeldMail, HeldMailState, NewEvent, Page, StoreResult};
use uuid::Uuid;

use crate::PgStore;
use crate::codec::{col, constraint, db, us, us_opt};
use crate::writer::WriteCtx;

use redress_store::rows::{HELD_MAIL_COLUMNS as COLUMNS, held_mail};

const IMPORT_HELD_MAIL: &str = "INSERT INTO held_mail (seq, id, mail_key, received_at, sender, \
     subject, tracking_no, case_id, size, state, settled_by, settled_at, attached_to, raw) \
     SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::timestamptz[], $5::text[], \
     $6::text[], $7::text[], $8::uuid[], $9::bigint[], $10::text[], $11::text[], \
     $12::timestamptz[], $13::uuid[], $14::text[])";

/// Moves the `seq` sequence past the largest imported `seq`, so that mail
/// held later comes after the imported.
const ADVANCE_HELD_MAIL_SEQ: &str = "SELECT setval(pg_get_serial_sequence('held_mail', 'seq'), \
     (SELECT max(seq) FROM held_mail)) FROM held_mail HAVING count(*) > 0";

/// Bulk copy: rows as they are, `seq` included, in one statement.
fn import_held_mail(ctx: &mut WriteCtx<'_>, mails: &[HeldMail]) -> StoreResult<()> {
    if mails.is_empty() {
        return Ok(());
    }
    let seqs: Vec<i64> = mails.iter().map(|m| m.seq).collect();
    let ids: Vec<Uuid> = mails.iter().map(|m| m.id).collect();
    let keys: Vec<&str> = mails.iter().map(|m| m.mail_key.as_str()).collect();
    let received: Vec<DateTime<Utc>> = mails.iter().map(|m| us(&m.received_at)).collect();
    let senders: Vec<&str> = mails.iter().map(|m| m.sender.as_str()).collect();
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    let tracking: Vec<Option<&str>> = mails.iter().map(|m| m.tracking_no.as_deref()).collect();
    let cases: Vec<Option<Uuid>> = mails.iter().map(|m| m.case_id).collect();
    let sizes: Vec<i64> = mails.iter().map(|m| m.size).collect();
    let states: Vec<&str> = mails.iter().map(|m| m.state.as_str()).collect();
    let settled_by: Vec<Option<&str>> = mails.iter().map(|m| m.settled_by.as_deref()).collect();
    let settled_at: Vec<Option<DateTime<Utc>>> =
        mails.iter().map(|m| us_opt(&m.settled_at)).collect();
    let attached: Vec<Option<Uuid>> = mails.iter().map(|m| m.attached_to).collect();
    let raws: Vec<&str> = mails.iter().map(|m| m.raw.as_str()).collect();
    ctx.execute(
        IMPORT_HELD_MAIL,
        &[
            &seqs,
            &ids,
            &keys,
            &received,
            &senders,
            &subjects,
            &tracking,
            &cases,
            &sizes,
            &states,
            &settled_by,
            &settled_at,
            &attached,
            &raws,
        ],
    )
    .map_err(|e| constraint(e, "held_mail", "held_mail"))?;
    ctx.execute(ADVANCE_HELD_MAIL_SEQ, &[]).map_err(db)?;
    Ok(())
}

#[async_trait]
impl MailStore for PgStore {
    async fn hold_mail(&self, m: HeldMail, event: NewEvent) -> StoreResult<Uuid> {
        self.write(move |ctx| {
            // Another instance holding the same mail at once waits on the
            // unique key and then finds it taken.
            let inserted = ctx
                .client
                .query_opt(
                    "INSERT INTO held_mail (id, mail_key, received_at, sender, subject, \
                     tracking_no, case_id, raw, size, state) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'held') \
                     ON CONFLICT (mail_key) DO NOTHING RETURNING id",
                    &[
                        &m.id,
                        &m.mail_key,
                        &us(&m.received_at),
                        &m.sender,
                        &m.subject,
                        &m.tracking_no,
                        &m.case_id,
                        &m.raw,
                        &m.size,
                    ],
                )
                .map_err(db)?;
            if inserted.is_some() {
                ctx.append(std::slice::from_ref(&event))?;
                return Ok(m.id);
            }
            let row = ctx
                .client
                .query_one(
                    "SELECT id FROM held_mail WHERE mail_key = $1",
                    &[&m.mail_key],
                )
                .map_err(db)?;
            col(&row, 0)
        })
        .await
    }

    async fn list_held_mail(
        &self,
        state: Option<HeldMailState>,
        n: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<HeldMail>> {
        self.read(move |c| {
            let state = state.map(|s| s.as_str());
            let total: i64 = c
                .query_one(
                    "SELECT count(*) FROM held_mail WHERE $1::text IS NULL OR state = $1::text",
                    &[&state],
                )
                .map_err(db)?
                .get(0);
            let limit = i64::try_from(n).unwrap_or(i64::MAX - 1) + 1;
            let mut items = c
                .query(
                    &format!(
                        "SELECT {COLUMNS} FROM held_mail \
                         WHERE ($1::text IS NULL OR state = $1::text) \
                         AND ($2::bigint IS NULL OR seq < $2::bigint) ORDER BY seq DESC LIMIT $3"
                    ),
                    &[&state, &after, &limit],
                )
                .map_err(db)?
                .iter()
                .map(|r| held_mail(r, false))
                .collect::<StoreResult<Vec<_>>>()?;
            let more = items.len() > n;
            items.truncate(n);
            let next = more.then(|| items.last().map(|m| m.seq)).flatten();
            Ok(Page { items, total, next })
        })
        .await
    }

    async fn get_held_mail(&self, id: Uuid) -> StoreResult<Option<HeldMail>> {
        self.read(move |c| {
            c.query_opt(
                &format!("SELECT {COLUMNS}, raw FROM held_mail WHERE id = $1"),
                &[&id],
            )
            .map_err(db)?
            .map(|r| held_mail(&r, true))
            .transpose()
        })
        .await
    }

    /// Bulk copy: whole rows (`raw` included) with `seq > after`, by `seq`.
    async fn export_held_mail(&self, after: i64, n: usize) -> StoreResult<Vec<HeldMail>> {
        let limit = i64::try_from(n).unwrap_or(i64::MAX);
        self.read(move |c| {
            c.query(
                &format!(
                    "SELECT {COLUMNS}, raw FROM held_mail WHERE seq > $1 ORDER BY seq LIMIT $2"
                ),
                &[&after, &limit],
            )
            .map_err(db)?
            .iter()
            .map(|r| held_mail(r, true))
            .collect()
        })
        .await
    }

    /// Bulk copy: rows as they are, no events; later holds get a higher `seq`.
    async fn import_held_mail(&self, mails: Vec<HeldMail>) -> StoreResult<()> {
        self.write(move |ctx| import_held_mail(ctx, &mails)).await
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
        self.write(move |ctx| {
            let n = ctx
                .client
                .execute(
                    "UPDATE held_mail SET state = $2, settled_by = $3, settled_at = $4, \
                     attached_to = $5 WHERE id = $1 AND state = 'held'",
                    &[&id, &state.as_str(), &by, &us(&at), &attached_to],
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
}
