//! The held-mail queue on PostgreSQL. Holding and settling journal an
//! event, so they go through the writer.

use super::*;
use chrono::{DateTime, Utc};
use redress_store::{HeldMail, HeldMailState, NewEvent, Page, StoreResult};
use uuid::Uuid;

use crate::PgStore;
use crate::codec::{constraint, db, us, us_opt};
use crate::writer::WriteCtx;

use redress_store::sql::mail as sql;

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
            let (id, inserted) = sql::hold(ctx, &m)?;
            if inserted {
                ctx.append(std::slice::from_ref(&event))?;
            }
            Ok(id)
        })
        .await
    }

    async fn list_held_mail(
        &self,
        state: Option<HeldMailState>,
        n: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<HeldMail>> {
        self.read(move |c| sql::list(c, state, n, after)).await
    }

    async fn get_held_mail(&self, id: Uuid) -> StoreResult<Option<HeldMail>> {
        self.read(move |c| sql::get(c, id)).await
    }

    /// Bulk copy: whole rows (`raw` included) with `seq > after`, by `seq`.
    async fn export_held_mail(&self, after: i64, n: usize) -> StoreResult<Vec<HeldMail>> {
        self.read(move |c| sql::export(c, after, n)).await
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
            if !sql::settle(ctx, id, state, &by, at, attached_to)? {
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
