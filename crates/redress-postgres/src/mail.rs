//! The held-mail queue on PostgreSQL. Holding and settling journal an
//! event, so they go through the writer.

use chrono::{DateTime, Utc};
use postgres::Row;
use redress_store::{HeldMail, HeldMailState, NewEvent, Page, StoreError, StoreResult};
use uuid::Uuid;

use crate::PgStore;
use crate::codec::{col, db, us};

/// Every column but `raw`, which only `get` reads.
const COLUMNS: &str = "seq, id, mail_key, received_at, sender, subject, tracking_no, case_id, \
     size, state, settled_by, settled_at, attached_to";

fn held(r: &Row, raw: String) -> StoreResult<HeldMail> {
    let state: String = col(r, 9)?;
    Ok(HeldMail {
        seq: col(r, 0)?,
        id: col(r, 1)?,
        mail_key: col(r, 2)?,
        received_at: col(r, 3)?,
        sender: col(r, 4)?,
        subject: col(r, 5)?,
        tracking_no: col(r, 6)?,
        case_id: col(r, 7)?,
        raw,
        size: col(r, 8)?,
        state: HeldMailState::parse(&state)
            .ok_or_else(|| StoreError::Backend(format!("bad held mail state {state:?}")))?,
        settled_by: col(r, 10)?,
        settled_at: col(r, 11)?,
        attached_to: col(r, 12)?,
    })
}

impl PgStore {
    pub(crate) async fn hm_hold(&self, m: HeldMail, event: NewEvent) -> StoreResult<Uuid> {
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

    pub(crate) async fn hm_list(
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
                .map(|r| held(r, String::new()))
                .collect::<StoreResult<Vec<_>>>()?;
            let more = items.len() > n;
            items.truncate(n);
            let next = more.then(|| items.last().map(|m| m.seq)).flatten();
            Ok(Page { items, total, next })
        })
        .await
    }

    pub(crate) async fn hm_get(&self, id: Uuid) -> StoreResult<Option<HeldMail>> {
        self.read(move |c| {
            c.query_opt(
                &format!("SELECT {COLUMNS}, raw FROM held_mail WHERE id = $1"),
                &[&id],
            )
            .map_err(db)?
            .map(|r| {
                let raw: String = col(&r, 13)?;
                held(&r, raw)
            })
            .transpose()
        })
        .await
    }

    pub(crate) async fn hm_settle(
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
}

impl PgStore {
    pub(crate) async fn nt_list(&self) -> StoreResult<Vec<redress_store::NoticeTemplateRow>> {
        self.read(|c| {
            c.query(
                "SELECT kind, locale, subject, body, sms, updated_at, updated_by \
                 FROM notice_templates ORDER BY kind, locale",
                &[],
            )
            .map_err(db)?
            .iter()
            .map(|r| {
                let locale: String = col(r, 1)?;
                Ok(redress_store::NoticeTemplateRow {
                    kind: col(r, 0)?,
                    locale: locale.parse().map_err(|_| {
                        StoreError::Backend(format!("bad notice template locale {locale:?}"))
                    })?,
                    subject: col(r, 2)?,
                    body: col(r, 3)?,
                    sms: col(r, 4)?,
                    updated_at: col(r, 5)?,
                    updated_by: col(r, 6)?,
                })
            })
            .collect()
        })
        .await
    }

    pub(crate) async fn nt_put(
        &self,
        t: redress_store::NoticeTemplateRow,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.client
                .execute(
                    "INSERT INTO notice_templates (kind, locale, subject, body, sms, updated_at, \
                     updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (kind, locale) DO UPDATE SET subject = excluded.subject, \
                     body = excluded.body, sms = excluded.sms, updated_at = excluded.updated_at, \
                     updated_by = excluded.updated_by",
                    &[
                        &t.kind,
                        &t.locale.as_str(),
                        &t.subject,
                        &t.body,
                        &t.sms,
                        &us(&t.updated_at),
                        &t.updated_by,
                    ],
                )
                .map_err(db)?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    pub(crate) async fn nt_delete(
        &self,
        kind: String,
        locale: redress_domain::Locale,
        event: NewEvent,
    ) -> StoreResult<bool> {
        self.write(move |ctx| {
            let n = ctx
                .client
                .execute(
                    "DELETE FROM notice_templates WHERE kind = $1 AND locale = $2",
                    &[&kind, &locale.as_str()],
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
}
