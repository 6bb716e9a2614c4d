//! Canned replies and notice templates ([`TemplateStore`]).

use super::*;

#[async_trait]
impl TemplateStore for PgStore {
    async fn list_notice_templates(&self) -> StoreResult<Vec<redress_store::NoticeTemplateRow>> {
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
                        StoreError::other(format!("bad notice template locale {locale:?}"))
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

    async fn put_notice_template(
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

    /// Bulk copy: templates as they are, no events.
    async fn import_notice_templates(
        &self,
        templates: Vec<redress_store::NoticeTemplateRow>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            for t in &templates {
                ctx.execute(
                    "INSERT INTO notice_templates (kind, locale, subject, body, sms, updated_at, \
                     updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
                .map_err(|e| constraint(e, "template", "template"))?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_notice_template(
        &self,
        kind: &str,
        locale: redress_domain::Locale,
        event: NewEvent,
    ) -> StoreResult<bool> {
        let kind = kind.to_string();
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

    async fn list_canned_replies(&self) -> StoreResult<Vec<CannedReply>> {
        let rows = self
            .rows(
                format!(
                    "SELECT {} FROM canned_replies ORDER BY created_at, id",
                    bulk::CANNED_REPLY_COLUMNS
                ),
                vec![],
            )
            .await?;
        rows.iter().map(bulk::canned_reply).collect()
    }

    async fn get_canned_reply(&self, id: Uuid) -> StoreResult<Option<CannedReply>> {
        let rows = self
            .rows(
                format!(
                    "SELECT {} FROM canned_replies WHERE id = $1",
                    bulk::CANNED_REPLY_COLUMNS
                ),
                vec![boxed(id)],
            )
            .await?;
        rows.first().map(bulk::canned_reply).transpose()
    }

    async fn insert_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_canned_replies(ctx, std::slice::from_ref(&r))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn update_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .execute(
                    "UPDATE canned_replies SET title = $2, body = $3, locale = $4, \
                     updated_at = $5 WHERE id = $1",
                    &[
                        &r.id,
                        &r.title,
                        &r.body,
                        &r.locale.map(|l| l.as_str()),
                        &codec::us(&r.updated_at),
                    ],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Missing("canned_reply"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn delete_canned_reply(&self, id: Uuid, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .execute("DELETE FROM canned_replies WHERE id = $1", &[&id])
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Missing("canned_reply"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn seed_canned_replies(
        &self,
        replies: Vec<CannedReply>,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool> {
        self.write(move |ctx| {
            if !bulk::mark_seeded(ctx, "canned_replies")? {
                return Ok(false);
            }
            let held: i64 = ctx
                .client
                .query_one("SELECT count(*) FROM canned_replies", &[])
                .map_err(db)?
                .get(0);
            if held > 0 || replies.is_empty() {
                return Ok(false);
            }
            bulk::import_canned_replies(ctx, &replies)?;
            ctx.append(&events)?;
            Ok(true)
        })
        .await
    }
}
