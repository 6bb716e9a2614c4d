//! Notice templates and canned replies: their statements, and
//! [`crate::TemplateStore`] over them for every [`Backend`].

use redress_domain::Locale;
use uuid::Uuid;

use super::{Backend, Conn, Journal};
use crate::rows::Columns;
use crate::{CannedReply, NewEvent, NoticeTemplateRow, StoreError, StoreResult, args};

const TEMPLATE_COLUMNS: &str = "kind, locale, subject, body, sms, updated_at, updated_by";

fn template<D>(r: &impl Columns<D>) -> StoreResult<NoticeTemplateRow> {
    let locale = r.text(1)?;
    Ok(NoticeTemplateRow {
        kind: r.text(0)?,
        locale: locale
            .parse()
            .map_err(|_| StoreError::other(format!("bad notice template locale {locale:?}")))?,
        subject: r.text(2)?,
        body: r.text(3)?,
        sms: r.text(4)?,
        updated_at: r.time(5)?,
        updated_by: r.text(6)?,
    })
}

pub fn list<D>(c: &mut impl Conn<D>) -> StoreResult<Vec<NoticeTemplateRow>> {
    c.query(
        &format!("SELECT {TEMPLATE_COLUMNS} FROM notice_templates ORDER BY kind, locale"),
        &[],
        |r| template(r),
    )
}

fn template_args(t: &NoticeTemplateRow) -> [super::Param; 7] {
    args![
        &t.kind,
        t.locale.as_str(),
        &t.subject,
        &t.body,
        &t.sms,
        t.updated_at,
        &t.updated_by
    ]
}

/// Writes a template, replacing the one of its kind and locale.
pub fn put<D>(c: &mut impl Conn<D>, t: &NoticeTemplateRow) -> StoreResult<()> {
    c.execute(
        "INSERT INTO notice_templates (kind, locale, subject, body, sms, updated_at, \
         updated_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (kind, locale) DO UPDATE SET subject = excluded.subject, \
         body = excluded.body, sms = excluded.sms, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
        &template_args(t),
    )?;
    Ok(())
}

/// Bulk copy: templates as they are.
pub fn import<D>(c: &mut impl Conn<D>, templates: &[NoticeTemplateRow]) -> StoreResult<()> {
    for t in templates {
        c.execute_or(
            "INSERT INTO notice_templates (kind, locale, subject, body, sms, updated_at, \
             updated_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &template_args(t),
            "template",
            "template",
        )?;
    }
    Ok(())
}

/// Deletes a template; false when there was none.
pub fn delete<D>(
    c: &mut impl Conn<D>,
    kind: &str,
    locale: redress_domain::Locale,
) -> StoreResult<bool> {
    let n = c.execute(
        "DELETE FROM notice_templates WHERE kind = ?1 AND locale = ?2",
        &args![kind, locale.as_str()],
    )?;
    Ok(n > 0)
}

const CANNED_REPLY_COLUMNS: &str = "id, title, body, locale, created_at, updated_at";

fn canned_reply<D>(r: &impl Columns<D>) -> StoreResult<CannedReply> {
    Ok(CannedReply {
        id: r.uuid(0)?,
        title: r.text(1)?,
        body: r.text(2)?,
        locale: r.parsed_opt("locale", 3)?,
        created_at: r.time(4)?,
        updated_at: r.time(5)?,
    })
}

pub fn canned_replies<D>(c: &mut impl Conn<D>) -> StoreResult<Vec<CannedReply>> {
    c.query(
        &format!("SELECT {CANNED_REPLY_COLUMNS} FROM canned_replies ORDER BY created_at, id"),
        &[],
        |r| canned_reply(r),
    )
}

pub fn canned_reply_by_id<D>(
    c: &mut impl Conn<D>,
    id: uuid::Uuid,
) -> StoreResult<Option<CannedReply>> {
    c.query_opt(
        &format!("SELECT {CANNED_REPLY_COLUMNS} FROM canned_replies WHERE id = ?1"),
        &args![id],
        |r| canned_reply(r),
    )
}

/// Inserts canned replies as they are (a duplicate id is
/// [`StoreError::Duplicate`]).
pub fn import_canned_replies<D>(c: &mut impl Conn<D>, replies: &[CannedReply]) -> StoreResult<()> {
    for r in replies {
        c.execute_or(
            "INSERT INTO canned_replies (id, title, body, locale, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &args![
                r.id,
                &r.title,
                &r.body,
                r.locale.map(|l| l.as_str()),
                r.created_at,
                r.updated_at
            ],
            "id",
            "canned_reply",
        )?;
    }
    Ok(())
}

/// Updates a canned reply ([`StoreError::Missing`] when there is none).
pub fn update_canned_reply<D>(c: &mut impl Conn<D>, r: &CannedReply) -> StoreResult<()> {
    let n = c.execute(
        "UPDATE canned_replies SET title = ?2, body = ?3, locale = ?4, \
         updated_at = ?5 WHERE id = ?1",
        &args![
            r.id,
            &r.title,
            &r.body,
            r.locale.map(|l| l.as_str()),
            r.updated_at
        ],
    )?;
    if n == 0 {
        return Err(StoreError::Missing("canned_reply"));
    }
    Ok(())
}

/// Deletes a canned reply ([`StoreError::Missing`] when there is none).
pub fn delete_canned_reply<D>(c: &mut impl Conn<D>, id: uuid::Uuid) -> StoreResult<()> {
    if c.execute("DELETE FROM canned_replies WHERE id = ?1", &args![id])? == 0 {
        return Err(StoreError::Missing("canned_reply"));
    }
    Ok(())
}

/// Records that the seed `name` ran; false when it had run before (on
/// PostgreSQL, a concurrent first run waits for the other's commit, then
/// sees it).
pub fn mark_seeded<D>(c: &mut impl Conn<D>, name: &str) -> StoreResult<bool> {
    let n = c.execute(
        "INSERT INTO seeds (name, seeded_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        &args![name, chrono::Utc::now()],
    )?;
    Ok(n == 1)
}

/// Inserts the seed canned replies when the seed never ran and there are
/// none; true when it did.
pub fn seed_canned_replies<D>(c: &mut impl Conn<D>, replies: &[CannedReply]) -> StoreResult<bool> {
    if !mark_seeded(c, "canned_replies")? {
        return Ok(false);
    }
    let held = c.query_one("SELECT count(*) FROM canned_replies", &[], |r| r.int(0))?;
    if held > 0 || replies.is_empty() {
        return Ok(false);
    }
    import_canned_replies(c, replies)?;
    Ok(true)
}

#[async_trait::async_trait]
impl<B: Backend> crate::TemplateStore for B {
    async fn list_notice_templates(&self) -> StoreResult<Vec<NoticeTemplateRow>> {
        self.read(list).await
    }

    async fn put_notice_template(&self, t: NoticeTemplateRow, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| put(ctx, &t)).await
    }

    async fn import_notice_templates(&self, templates: Vec<NoticeTemplateRow>) -> StoreResult<()> {
        self.write(move |ctx| import(ctx, &templates)).await
    }

    async fn delete_notice_template(
        &self,
        kind: &str,
        locale: Locale,
        event: NewEvent,
    ) -> StoreResult<bool> {
        let kind = kind.to_string();
        self.write(move |ctx| {
            let deleted = delete(ctx, &kind, locale)?;
            if deleted {
                ctx.append(std::slice::from_ref(&event))?;
            }
            Ok(deleted)
        })
        .await
    }

    async fn list_canned_replies(&self) -> StoreResult<Vec<CannedReply>> {
        self.read(canned_replies).await
    }

    async fn get_canned_reply(&self, id: Uuid) -> StoreResult<Option<CannedReply>> {
        self.read(move |c| canned_reply_by_id(c, id)).await
    }

    async fn insert_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| {
            import_canned_replies(ctx, std::slice::from_ref(&r))
        })
        .await
    }

    async fn update_canned_reply(&self, r: CannedReply, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| update_canned_reply(ctx, &r))
            .await
    }

    async fn delete_canned_reply(&self, id: Uuid, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| delete_canned_reply(ctx, id))
            .await
    }

    async fn seed_canned_replies(
        &self,
        replies: Vec<CannedReply>,
        events: Vec<NewEvent>,
    ) -> StoreResult<bool> {
        self.write(move |ctx| {
            let seeded = seed_canned_replies(ctx, &replies)?;
            if seeded {
                ctx.append(&events)?;
            }
            Ok(seeded)
        })
        .await
    }
}
