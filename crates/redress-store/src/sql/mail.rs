//! The held-mail queue ([`crate::MailStore`]).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Conn;
use crate::rows::{Columns, HELD_MAIL_COLUMNS as COLUMNS, held_mail};
use crate::{HeldMail, HeldMailState, Page, StoreResult, args};

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
