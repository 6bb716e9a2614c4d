//! Canned replies and notice templates ([`TemplateStore`]), over the
//! statements of [`redress_store::sql::templates`].

use redress_store::sql::templates as sql;

use super::*;

#[async_trait]
impl TemplateStore for SqliteStore {
    async fn list_notice_templates(&self) -> StoreResult<Vec<redress_store::NoticeTemplateRow>> {
        self.read(sql::list).await
    }

    async fn put_notice_template(
        &self,
        t: redress_store::NoticeTemplateRow,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::put(ctx, &t)?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    /// Bulk copy: templates as they are, no events.
    async fn import_notice_templates(
        &self,
        templates: Vec<redress_store::NoticeTemplateRow>,
    ) -> StoreResult<()> {
        self.write(move |ctx| sql::import(ctx, &templates)).await
    }

    async fn delete_notice_template(
        &self,
        kind: &str,
        locale: redress_domain::Locale,
        event: NewEvent,
    ) -> StoreResult<bool> {
        let kind = kind.to_string();
        self.write(move |ctx| {
            if !sql::delete(ctx, &kind, locale)? {
                return Ok(false);
            }
            ctx.append(std::slice::from_ref(&event))?;
            Ok(true)
        })
        .await
    }

    async fn list_canned_replies(&self) -> StoreResult<Vec<CannedReply>> {
        self.read(sql::canned_replies).await
    }

    async fn get_canned_reply(&self, id: Uuid) -> StoreResult<Option<CannedReply>> {
        self.read(move |c| sql::canned_reply_by_id(c, id)).await
    }

    async fn insert_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::import_canned_replies(ctx, std::slice::from_ref(&r))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn update_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::update_canned_reply(ctx, &r)?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn delete_canned_reply(&self, id: Uuid, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::delete_canned_reply(ctx, id)?;
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
            if !sql::seed_canned_replies(ctx, &replies)? {
                return Ok(false);
            }
            ctx.append(&events)?;
            Ok(true)
        })
        .await
    }
}
