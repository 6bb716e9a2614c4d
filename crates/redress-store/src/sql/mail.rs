//! The held-mail queue: its statements, and [`crate::MailStore`] over
//! them for every [`Backend`].

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Backend, Conn, Dialect, Journal};
use crate::rows::{Columns, HELD_MAIL_COLUMNS as COLUMNS, held_mail};
use crate::{HeldMail, HeldMailState, NewEvent, Page, StoreResult, args};

/// Holds a mail; the id of the one held before under its key, if any
/// (then nothing is written). True when it was inserted.
pub fn hold<D>(c: &mut impl Conn<D>, m: &HeldMail) -> StoreResult<(Uuid, bool)> {
    // Another instance holding the same mail at once waits on the unique
    // key and then finds it taken.
    let inserted = c.query_opt(
        "INSERT INTO held_mail (id, mail_key, received_at, sender, subject, \
         tracking_no, case_id, raw, size, state) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'held') \
         ON CONFLICT (mail_key) DO NOTHING RETURNING id",
        &args![
            m.id,
            &m.mail_key,
            m.received_at,
            &m.sender,
            &m.subject,
            m.tracking_no.as_ref(),
            m.case_id,
            &m.raw,
            m.size
        ],
        |r| r.uuid(0),
    )?;
    if let Some(id) = inserted {
        return Ok((id, true));
    }
    let id = c.query_one(
        "SELECT id FROM held_mail WHERE mail_key = ?1",
        &args![&m.mail_key],
        |r| r.uuid(0),
    )?;
    Ok((id, false))
}

/// A page of held mail (without `raw`), newest first, and the total.
pub fn list<D>(
    c: &mut impl Conn<D>,
    state: Option<HeldMailState>,
    n: usize,
    after: Option<i64>,
) -> StoreResult<Page<HeldMail>> {
    let state = state.map(|s| s.as_str());
    let total = c.query_one(
        "SELECT count(*) FROM held_mail WHERE ?1 IS NULL OR state = ?1",
        &args![state],
        |r| r.int(0),
    )?;
    let limit = i64::try_from(n).unwrap_or(i64::MAX - 1) + 1;
    let mut items = c.query(
        &format!(
            "SELECT {COLUMNS} FROM held_mail WHERE (?1 IS NULL OR state = ?1) \
             AND (?2 IS NULL OR seq < ?2) ORDER BY seq DESC LIMIT ?3"
        ),
        &args![state, after, limit],
        |r| held_mail(r, false),
    )?;
    let more = items.len() > n;
    items.truncate(n);
    let next = more.then(|| items.last().map(|m| m.seq)).flatten();
    Ok(Page { items, total, next })
}

/// One mail, `raw` included.
pub fn get<D>(c: &mut impl Conn<D>, id: Uuid) -> StoreResult<Option<HeldMail>> {
    c.query_opt(
        &format!("SELECT {COLUMNS}, raw FROM held_mail WHERE id = ?1"),
        &args![id],
        |r| held_mail(r, true),
    )
}

/// Bulk copy: whole rows (`raw` included) with `seq > after`, by `seq`.
pub fn export<D>(c: &mut impl Conn<D>, after: i64, n: usize) -> StoreResult<Vec<HeldMail>> {
    c.query(
        &format!("SELECT {COLUMNS}, raw FROM held_mail WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
        &args![after, i64::try_from(n).unwrap_or(i64::MAX)],
        |r| held_mail(r, true),
    )
}

/// Settles a held mail; false when it is not held (any more).
pub fn settle<D>(
    c: &mut impl Conn<D>,
    id: Uuid,
    state: HeldMailState,
    by: &str,
    at: DateTime<Utc>,
    attached_to: Option<Uuid>,
) -> StoreResult<bool> {
    let n = c.execute(
        "UPDATE held_mail SET state = ?2, settled_by = ?3, settled_at = ?4, \
         attached_to = ?5 WHERE id = ?1 AND state = 'held'",
        &args![id, state.as_str(), by, at, attached_to],
    )?;
    Ok(n > 0)
}

/// Bulk copy: rows as they are, `seq` included; later holds get a higher
/// `seq` (SQLite's AUTOINCREMENT remembers the largest; PostgreSQL's
/// sequence is moved past it).
fn import<D, C: Conn<D>>(c: &mut C, mails: &[HeldMail]) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO held_mail ({COLUMNS}, raw) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    );
    for m in mails {
        let args = args![
            m.seq,
            m.id,
            &m.mail_key,
            m.received_at,
            &m.sender,
            &m.subject,
            m.tracking_no.as_ref(),
            m.case_id,
            m.size,
            m.state.as_str(),
            m.settled_by.as_ref(),
            m.settled_at,
            m.attached_to,
            &m.raw
        ];
        c.execute_or(&sql, &args, "held_mail", "held_mail")?;
    }
    if C::DIALECT == Dialect::Postgres && !mails.is_empty() {
        c.execute(
            "SELECT setval(pg_get_serial_sequence('held_mail', 'seq'), max(seq)) FROM held_mail",
            &[],
        )?;
    }
    Ok(())
}

/// Deletes mail held unsettled since before `before`, and settled mail
/// settled before it, oldest first, at most `limit`.
fn expire<D>(c: &mut impl Conn<D>, before: DateTime<Utc>, limit: usize) -> StoreResult<u64> {
    c.execute(
        "DELETE FROM held_mail WHERE seq IN (SELECT seq FROM (\
           SELECT seq FROM held_mail WHERE state = 'held' AND received_at < ?1 \
           UNION ALL \
           SELECT seq FROM held_mail WHERE state <> 'held' \
             AND COALESCE(settled_at, received_at) < ?1) old \
         ORDER BY seq LIMIT ?2)",
        &args![before, limit as i64],
    )
}

#[async_trait::async_trait]
impl<B: Backend> crate::MailStore for B {
    async fn hold_mail(&self, m: HeldMail, event: NewEvent) -> StoreResult<Uuid> {
        self.write(move |ctx| {
            let (id, inserted) = hold(ctx, &m)?;
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
        self.read(move |c| list(c, state, n, after)).await
    }

    async fn get_held_mail(&self, id: Uuid) -> StoreResult<Option<HeldMail>> {
        self.read(move |c| get(c, id)).await
    }

    async fn export_held_mail(&self, after: i64, n: usize) -> StoreResult<Vec<HeldMail>> {
        self.read(move |c| export(c, after, n)).await
    }

    async fn import_held_mail(&self, mails: Vec<HeldMail>) -> StoreResult<()> {
        self.write(move |ctx| import(ctx, &mails)).await
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
        self.write_event_if(event, move |ctx| {
            settle(ctx, id, state, &by, at, attached_to)
        })
        .await
    }

    async fn expire_held_mail(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64> {
        self.write_plain(move |c| expire(c, before, limit)).await
    }
}
