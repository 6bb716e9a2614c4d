//! The held-mail queue on SQLite.

use super::*;
use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::params;
use redress_store::{HeldMail, HeldMailState, NewEvent, Page, StoreResult};
use uuid::Uuid;

use crate::SqliteStore;
use crate::codec::{constraint, db, ts, ts_opt};

use redress_store::rows::HELD_MAIL_COLUMNS as COLUMNS;
use redress_store::sql::mail as sql;

#[async_trait]
impl MailStore for SqliteStore {
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
            if !sql::settle(ctx, id, state, &by, at, attached_to)? {
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
