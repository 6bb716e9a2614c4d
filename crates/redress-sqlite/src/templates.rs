//! Canned replies and notice templates ([`TemplateStore`]).

use super::*;

#[async_trait]
impl TemplateStore for SqliteStore {
    async fn list_notice_templates(&self) -> StoreResult<Vec<redress_store::NoticeTemplateRow>> {
        self.read(|c| {
            let rows = c
                .prepare_cached(
                    "SELECT kind, locale, subject, body, sms, updated_at, updated_by \
                     FROM notice_templates ORDER BY kind, locale",
                )
                .map_err(db)?
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                    ))
                })
                .map_err(db)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db)?;
            rows.into_iter()
                .map(|r| {
                    Ok(redress_store::NoticeTemplateRow {
                        kind: r.0,
                        locale: r.1.parse().map_err(|_| {
                            StoreError::other(format!("bad notice template locale {:?}", r.1))
                        })?,
                        subject: r.2,
                        body: r.3,
                        sms: r.4,
                        updated_at: parse_ts(&r.5)?,
                        updated_by: r.6,
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
            ctx.conn
                .prepare_cached(
                    "INSERT INTO notice_templates (kind, locale, subject, body, sms, updated_at, \
                     updated_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                     ON CONFLICT (kind, locale) DO UPDATE SET subject = excluded.subject, \
                     body = excluded.body, sms = excluded.sms, updated_at = excluded.updated_at, \
                     updated_by = excluded.updated_by",
                )
                .map_err(db)?
                .execute(params![
                    t.kind,
                    t.locale.as_str(),
                    t.subject,
                    t.body,
                    t.sms,
                    ts(&t.updated_at),
                    t.updated_by,
                ])
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
            let mut stmt = ctx
                .conn
                .prepare_cached(
                    "INSERT INTO notice_templates (kind, locale, subject, body, sms, updated_at, \
                     updated_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(db)?;
            for t in &templates {
                stmt.execute(params![
                    t.kind,
                    t.locale.as_str(),
                    t.subject,
                    t.body,
                    t.sms,
                    ts(&t.updated_at),
                    t.updated_by,
                ])
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
                .conn
                .execute(
                    "DELETE FROM notice_templates WHERE kind = ?1 AND locale = ?2",
                    params![kind, locale.as_str()],
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
        self.read(|c| bulk::canned_replies(c, "ORDER BY created_at, id", []))
            .await
    }

    async fn get_canned_reply(&self, id: Uuid) -> StoreResult<Option<CannedReply>> {
        self.read(move |c| Ok(bulk::canned_replies(c, "WHERE id = ?1", [id.to_string()])?.pop()))
            .await
    }

    async fn insert_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_canned_replies(ctx.conn, std::slice::from_ref(&r))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn update_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .prepare_cached(
                    "UPDATE canned_replies SET title = ?2, body = ?3, locale = ?4, \
                     updated_at = ?5 WHERE id = ?1",
                )
                .map_err(db)?
                .execute(params![
                    r.id.to_string(),
                    r.title,
                    r.body,
                    r.locale.map(|l| l.as_str()),
                    ts(&r.updated_at),
                ])
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
                .conn
                .execute("DELETE FROM canned_replies WHERE id = ?1", [id.to_string()])
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
            if !bulk::mark_seeded(ctx.conn, "canned_replies")? {
                return Ok(false);
            }
            let held: i64 = ctx
                .conn
                .query_row("SELECT count(*) FROM canned_replies", [], |r| r.get(0))
                .map_err(db)?;
            if held > 0 || replies.is_empty() {
                return Ok(false);
            }
            bulk::import_canned_replies(ctx.conn, &replies)?;
            ctx.append(&events)?;
            Ok(true)
        })
        .await
    }
}
