//! Canned replies (SPEC §7: staff can save canned replies): ready-made
//! message texts in the database. Every staff member may list them (the
//! case page offers them); admins create, change and delete them, each
//! change journaled. The configuration's `[[canned_replies]]` are the seed
//! of a new installation, written once at first start.

use chrono::{DateTime, Utc};
use redress_domain::Reason;
use redress_domain::{FieldErrors, Locale, normalize_locale};
use redress_store::{CannedReply, NewEvent};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::input::Body;
use crate::{App, CannedReplySeed, Principal};

/// The longest title, in characters.
pub const MAX_TITLE: usize = 100;
/// The longest text, in characters.
pub const MAX_BODY: usize = 5000;

/// A canned reply as the API shows it.
/// A canned reply as the API answers it (and the journal records it).
// The fields are declared in alphabetical order: the order of the JSON
// object this replaces, whose keys serde_json sorts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CannedReplyView {
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
    /// zh-CN, en, or null for any language.
    #[schema(value_type = Option<String>)]
    pub locale: Option<Locale>,
    pub title: String,
    pub updated_at: DateTime<Utc>,
}

impl CannedReplyView {
    pub fn of(r: &CannedReply) -> Self {
        Self {
            body: r.body.clone(),
            created_at: r.created_at,
            id: r.id,
            locale: r.locale,
            title: r.title.clone(),
            updated_at: r.updated_at,
        }
    }
}

/// `GET /admin/canned-replies`: every canned reply, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CannedReplyList {
    pub items: Vec<CannedReplyView>,
    /// Always null: the whole list is answered.
    pub next_cursor: Option<String>,
    pub total: usize,
}

/// What the journal records of a reply: the view, as JSON.
fn reply_json(r: &CannedReply) -> Value {
    json!(CannedReplyView::of(r))
}

/// Checks a title or text: required, at most `max` characters, and no
/// control characters (line breaks and tabs allowed in texts only).
pub(crate) fn check_text(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    max: usize,
    multiline: bool,
) {
    if value.trim().is_empty() {
        errors.add(field, Reason::Empty);
    } else if value.chars().count() > max {
        errors.add(field, Reason::AtMost { n: max });
    } else if value
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
    {
        errors.add(field, Reason::Control);
    }
}

/// `locale`: absent, `null` or empty for any language; otherwise zh-CN or en.
pub(crate) fn read_locale(b: &mut Body<'_>) -> Option<Locale> {
    let raw = b.opt_str("locale")?;
    if raw.trim().is_empty() {
        return None;
    }
    let locale = normalize_locale(&raw);
    if locale.is_none() {
        b.errors.add("locale", Reason::Locale);
    }
    locale
}

fn parse_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

impl App {
    /// `GET /admin/canned-replies`: every canned reply, for any staff
    /// member, as a list answer.
    pub async fn list_canned_replies(&self, who: &Principal) -> AppResult<CannedReplyList> {
        who.staff()?;
        let items: Vec<CannedReplyView> = self
            .store
            .list_canned_replies()
            .await?
            .iter()
            .map(CannedReplyView::of)
            .collect();
        Ok(CannedReplyList {
            total: items.len(),
            items,
            next_cursor: None,
        })
    }

    /// `POST /admin/canned-replies` `{title, body, locale?}` (admins).
    pub async fn create_canned_reply(
        &self,
        who: &Principal,
        cmd: &crate::commands::CreateCannedReplyCommand,
    ) -> AppResult<CannedReplyView> {
        self.admin(who)?;
        let now = self.now();
        let r = CannedReply {
            id: Uuid::now_v7(),
            title: cmd.title.trim().to_string(),
            body: cmd.body.clone(),
            locale: cmd.locale,
            created_at: now,
            updated_at: now,
        };
        let event = self.admin_event(who, "canned_reply_created", reply_json(&r));
        self.store.insert_canned_reply(r.clone(), event).await?;
        Ok(CannedReplyView::of(&r))
    }

    /// `PATCH /admin/canned-replies/{id}`: changes what is given of title,
    /// text and locale (`null` or empty: any language).
    pub async fn update_canned_reply(
        &self,
        who: &Principal,
        id: &str,
        cmd: crate::commands::Parsed<crate::commands::UpdateCannedReplyCommand>,
    ) -> AppResult<CannedReplyView> {
        self.admin(who)?;
        cmd.object()?;
        let mut r = self
            .store
            .get_canned_reply(parse_id(id)?)
            .await?
            .ok_or(AppError::NotFound)?;
        // The body's refusals are answered once the reply is found: a
        // missing one is a 404 whatever the body says.
        let cmd = cmd.finish()?;
        if let Some(title) = cmd.title {
            r.title = title;
        }
        if let Some(text) = cmd.body {
            r.body = text;
        }
        if let Some(locale) = cmd.locale {
            r.locale = locale;
        }
        r.updated_at = self.now();
        let event = self.admin_event(who, "canned_reply_changed", reply_json(&r));
        self.store.update_canned_reply(r.clone(), event).await?;
        Ok(CannedReplyView::of(&r))
    }

    /// `DELETE /admin/canned-replies/{id}` (admins).
    pub async fn delete_canned_reply(&self, who: &Principal, id: &str) -> AppResult<()> {
        self.admin(who)?;
        let r = self
            .store
            .get_canned_reply(parse_id(id)?)
            .await?
            .ok_or(AppError::NotFound)?;
        let event = self.admin_event(
            who,
            "canned_reply_deleted",
            json!({"id": r.id, "title": r.title}),
        );
        match self.store.delete_canned_reply(r.id, event).await {
            Err(redress_store::StoreError::Missing(_)) => Err(AppError::NotFound),
            other => Ok(other?),
        }
    }

    /// First start: the configured canned replies, unless the installation
    /// had its seed already (see [`redress_store::Store::seed_canned_replies`]).
    /// True when they were written.
    pub(crate) async fn seed_canned_replies(&self, seeds: &[CannedReplySeed]) -> AppResult<bool> {
        let now = self.now();
        let replies: Vec<CannedReply> = seeds
            .iter()
            .map(|s| CannedReply {
                id: Uuid::now_v7(),
                title: s.title.clone(),
                body: s.body.clone(),
                locale: s.locale,
                created_at: now,
                updated_at: now,
            })
            .collect();
        let system = Principal::Anonymous;
        let events: Vec<NewEvent> = replies
            .iter()
            .map(|r| self.admin_event(&system, "canned_reply_created", reply_json(r)))
            .collect();
        Ok(self.store.seed_canned_replies(replies, events).await?)
    }
}
