//! The held-mail queue on SQLite.

use super::*;
use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::{Connection, OptionalExtension, params};
use redress_store::{HeldMail, HeldMailState, NewEvent, Page, StoreResult};
use uuid::Uuid;

use crate::SqliteStore;
use crate::codec::{constraint, db, parse_uuid, ts, ts_opt};

use redress_store::rows::{HELD_MAIL_COLUMNS as COLUMNS, held_mail};

fn id_for_key(c: &Connection, key: &str) -> StoreResult<Option<Uuid>> {
    c.prepare_cached("SELECT id FROM held_mail WHERE mail_key = ?1")
        .map_err(db)?
        .query_row([key], |r| r.get::<_, String>(0))
        .optional()
        .map_err(db)?
        .map(|s| parse_uuid(&s))
        .transpose()
}

#[async_trait]
impl MailStore for SqliteStore {
    async fn hold_mail(&self, m: HeldMail, event: NewEvent) -> StoreResult<Uuid> {
        self.write(move |ctx| {
            if let Some(id) = id_for_key(ctx.conn, &m.mail_key)? {
                return Ok(id);
            }
            ctx.conn
                .prepare_cached(
                    "INSERT INTO held_mail (id, mail_key, received_at, sender, subject, \
                     tracking_no, case_id, raw, size, state) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'held')",
                )
                .map_err(db)?
                .execute(params![
                    m.id.to_string(),
                    m.mail_key,
                    ts(&m.received_at),
                    m.sender,
                    m.subject,
                    m.tracking_no,
                    m.case_id.map(|c| c.to_string()),
                    m.raw,
                    m.size,
                ])
                .map_err(db)?;
            ctx.append(std::slice::from_ref(&event))?;
            Ok(m.id)
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
                .prepare_cached("SELECT count(*) FROM held_mail WHERE ?1 IS NULL OR state = ?1")
                .map_err(db)?
                .query_row([state], |r| r.get(0))
                .map_err(db)?;
            let limit = i64::try_from(n).unwrap_or(i64::MAX - 1) + 1;
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM held_mail WHERE (?1 IS NULL OR state = ?1) \
                     AND (?2 IS NULL OR seq < ?2) ORDER BY seq DESC LIMIT ?3"
                ))
                .map_err(db)?;
            let rows = stmt.query(params![state, after, limit]).map_err(db)?;
            let mut items = crate::codec::all(rows, |r| held_mail(r, false))?;
            let more = items.len() > n;
            items.truncate(n);
            let next = more.then(|| items.last().map(|m| m.seq)).flatten();
            Ok(Page { items, total, next })
        })
        .await
    }

    async fn get_held_mail(&self, id: Uuid) -> StoreResult<Option<HeldMail>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS}, raw FROM held_mail WHERE id = ?1"
                ))
                .map_err(db)?;
            let rows = stmt.query([id.to_string()]).map_err(db)?;
            Ok(crate::codec::all(rows, |r| held_mail(r, true))?.pop())
        })
        .await
    }

    /// Bulk copy: whole rows (`raw` included) with `seq > after`, by `seq`.
    async fn export_held_mail(&self, after: i64, n: usize) -> StoreResult<Vec<HeldMail>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS}, raw FROM held_mail WHERE seq > ?1 ORDER BY seq LIMIT ?2"
                ))
                .map_err(db)?;
            let rows = stmt
                .query(params![after, i64::try_from(n).unwrap_or(i64::MAX)])
                .map_err(db)?;
            crate::codec::all(rows, |r| held_mail(r, true))
        })
        .await
    }

    /// Bulk copy: rows as they are, with their own `seq` (AUTOINCREMENT
    /// remembers the largest, so later holds continue after it), no events.
    async fn import_held_mail(&self, mails: Vec<HeldMail>) -> StoreResult<()> {
        self.write(move |ctx| {
            let mut stmt = ctx
                .conn
                .prepare_cached(&format!(
                    "INSERT INTO held_mail ({COLUMNS}, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
                     ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ))
                .map_err(db)?;
            for m in &mails {
                stmt.execute(params![
                    m.seq,
                    m.id.to_string(),
                    m.mail_key,
                    ts(&m.received_at),
                    m.sender,
                    m.subject,
                    m.tracking_no,
                    m.case_id.map(|c| c.to_string()),
                    m.size,
                    m.state.as_str(),
                    m.settled_by,
                    ts_opt(&m.settled_at),
                    m.attached_to.map(|c| c.to_string()),
                    m.raw,
                ])
                .map_err(|e| constraint(e, "held_mail", "held_mail"))?;
            }
            Ok(())
        })
        .await
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
                .conn
                .prepare_cached(
                    "UPDATE held_mail SET state = ?2, settled_by = ?3, settled_at = ?4, \
                     attached_to = ?5 WHERE id = ?1 AND state = 'held'",
                )
                .map_err(db)?
                .execute(params![
                    id.to_string(),
                    state.as_str(),
                    by,
                    ts_opt(&Some(at)),
                    attached_to.map(|c| c.to_string()),
                ])
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
        self.write(move |ctx| {
            let n = ctx
                .conn
                .execute(
                    "DELETE FROM held_mail WHERE seq IN (\
                     SELECT seq FROM held_mail WHERE state = 'held' AND received_at < ?1 \
                     UNION ALL \
                     SELECT seq FROM held_mail WHERE state <> 'held' \
                       AND COALESCE(settled_at, received_at) < ?1 \
                     ORDER BY seq LIMIT ?2)",
                    rusqlite::params![ts(&before), limit as i64],
                )
                .map_err(db)?;
            Ok(n as u64)
        })
        .await
    }
}
