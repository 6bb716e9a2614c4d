//! The held-mail queue on SQLite.

use super::*;
use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::{Connection, OptionalExtension, Row, params};
use redress_store::{HeldMail, HeldMailState, NewEvent, Page, StoreError, StoreResult};
use uuid::Uuid;

use crate::SqliteStore;
use crate::codec::{
    constraint, db, parse_ts, parse_ts_opt, parse_uuid, parse_uuid_opt, ts, ts_opt,
};

/// Every column but `raw`, which only `get` reads.
const COLUMNS: &str = "seq, id, mail_key, received_at, sender, subject, tracking_no, case_id, \
     size, state, settled_by, settled_at, attached_to";

type Raw = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn raw_row(r: &Row<'_>) -> Result<Raw, r2d2_sqlite::rusqlite::Error> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
    ))
}

fn held(r: Raw, raw: String) -> StoreResult<HeldMail> {
    let state = HeldMailState::parse(&r.9)
        .ok_or_else(|| StoreError::other(format!("bad held mail state {:?}", r.9)))?;
    Ok(HeldMail {
        seq: r.0,
        id: parse_uuid(&r.1)?,
        mail_key: r.2,
        received_at: parse_ts(&r.3)?,
        sender: r.4,
        subject: r.5,
        tracking_no: r.6,
        case_id: parse_uuid_opt(r.7)?,
        raw,
        size: r.8,
        state,
        settled_by: r.10,
        settled_at: parse_ts_opt(r.11)?,
        attached_to: parse_uuid_opt(r.12)?,
    })
}

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
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM held_mail WHERE (?1 IS NULL OR state = ?1) \
                     AND (?2 IS NULL OR seq < ?2) ORDER BY seq DESC LIMIT ?3"
                ))
                .map_err(db)?
                .query_map(params![state, after, limit], raw_row)
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            let mut items = rows
                .into_iter()
                .map(|r| held(r, String::new()))
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
            let found = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS}, raw FROM held_mail WHERE id = ?1"
                ))
                .map_err(db)?
                .query_row([id.to_string()], |r| {
                    Ok((raw_row(r)?, r.get::<_, String>(13)?))
                })
                .optional()
                .map_err(db)?;
            found.map(|(r, raw)| held(r, raw)).transpose()
        })
        .await
    }

    /// Bulk copy: whole rows (`raw` included) with `seq > after`, by `seq`.
    async fn export_held_mail(&self, after: i64, n: usize) -> StoreResult<Vec<HeldMail>> {
        self.read(move |c| {
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS}, raw FROM held_mail WHERE seq > ?1 ORDER BY seq LIMIT ?2"
                ))
                .map_err(db)?
                .query_map(params![after, i64::try_from(n).unwrap_or(i64::MAX)], |r| {
                    Ok((raw_row(r)?, r.get::<_, String>(13)?))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter().map(|(r, raw)| held(r, raw)).collect()
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
