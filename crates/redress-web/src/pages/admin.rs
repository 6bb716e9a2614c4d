//! Administration as sub-pages (`/staff/admin/…`, issue 15 item 6): staff
//! users, departments, categories, respondents and their portal keys, API
//! keys, the calendar, canned replies and the published channels, each a
//! page of its own under a small admin navigation (the notice templates
//! and webhooks have their own modules and share the navigation).
//!
//! Forms post to `/staff/admin/{what}` and follow post/redirect/get: a
//! change that worked redirects to its page with a message (`?done=`);
//! a refused one shows the page again (422) with what was typed kept and
//! each field's reason in the page's language. A key is shown once, on the
//! answer to the post that made it (never in a URL). Edit forms are
//! prefilled with the current values; an optional field left blank keeps
//! its value unless its "clear" box is ticked.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Datelike;
use redress_app::calendar_feed::{FeedOutcome, FeedStatus};
use redress_app::commands::{
    CreateApiKeyCommand, CreateCannedReplyCommand, CreateCategoryCommand, CreateDepartmentCommand,
    CreateRespondentCommand, CreateUserCommand, IssueRespondentKeyCommand, Parsed,
    SetCalendarDayCommand, SetCalendarFeedCommand, SetChannelsCommand, UpdateCannedReplyCommand,
    UpdateCategoryCommand, UpdateDepartmentCommand, UpdateUserCommand,
};
use redress_app::{AppError, Principal};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Base, PageCtx, Tr};
use crate::state::AppState;

/// The admin sub-pages with a page of their own here, in navigation order
/// (the notice templates and webhooks follow them in the navigation).
const SECTIONS: &[&str] = &[
    "users",
    "departments",
    "categories",
    "respondents",
    "api-keys",
    "calendar",
    "canned",
    "channels",
];

/// The admin navigation: every sub-page, and the message key of its name.
pub(super) const NAV: &[(&str, &str)] = &[
    ("users", "admin-users"),
    ("departments", "admin-departments"),
    ("categories", "admin-categories"),
    ("respondents", "admin-respondents"),
    ("api-keys", "admin-api-keys"),
    ("calendar", "admin-calendar-nav"),
    ("canned", "admin-canned"),
    ("notices", "a-notices-link"),
    ("channels", "a-channels"),
];

/// What a redirect after a change may say (`?done=`), and the message key
/// of each; anything else in the URL is ignored.
const DONE: &[(&str, &str)] = &[
    ("department-added", "a-done-department-added"),
    ("department-saved", "a-done-department-saved"),
    ("category-added", "a-done-category-added"),
    ("category-saved", "a-done-category-saved"),
    ("user-added", "a-done-user-added"),
    ("user-saved", "a-done-user-saved"),
    ("user-deactivated", "a-done-user-deactivated"),
    ("user-activated", "a-done-user-activated"),
    ("canned-added", "a-done-canned-added"),
    ("canned-saved", "a-done-canned-saved"),
    ("canned-deleted", "a-done-canned-deleted"),
    ("key-revoked", "a-key-revoked-done"),
    ("day-set", "a-done-day-set"),
    ("channels-saved", "a-channels-saved"),
    ("feed-saved", "a-feed-saved"),
    ("feed-removed", "a-feed-removed"),
];

/// A refused form as it was typed: which form, its values, and the
/// reason of each refused field (by the field's name without its list
/// place: `roles[0]` is told at `roles`) in the page's language.
#[derive(Default)]
pub(super) struct Typed {
    form: String,
    values: Vec<(String, String)>,
    errors: BTreeMap<String, String>,
}

impl Typed {
    fn new(
        form: &str,
        values: &[(String, String)],
        tr: Tr,
        e: &redress_domain::FieldErrors,
    ) -> Self {
        let mut errors: BTreeMap<String, String> = BTreeMap::new();
        for (field, reason) in &e.0 {
            let name = field.split(['[', '.']).next().unwrap_or(field).to_string();
            let message = tr.field_message(reason);
            errors
                .entry(name)
                .and_modify(|m| {
                    if !m.contains(&message) {
                        m.push_str("; ");
                        m.push_str(&message);
                    }
                })
                .or_insert(message);
        }
        Self {
            form: form.to_string(),
            values: values.to_vec(),
            errors,
        }
    }

    /// The value of a text field: as typed when this form was refused,
    /// else `current` (the stored value of an edit form, or empty).
    pub fn v(&self, form: &str, name: &str, current: &str) -> String {
        if self.form == form {
            self.values
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        } else {
            current.to_string()
        }
    }

    /// Whether a checkbox (`name` = `value`) is ticked: as typed when this
    /// form was refused, else `current`.
    pub fn on(&self, form: &str, name: &str, value: &str, current: impl Flag) -> bool {
        if self.form == form {
            self.values.iter().any(|(k, v)| k == name && v == value)
        } else {
            current.flag()
        }
    }

    /// The reason a field of this form was refused.
    pub fn err(&self, form: &str, name: &str) -> Option<String> {
        if self.form == form {
            self.errors.get(name).cloned()
        } else {
            None
        }
    }
}

/// A yes/no as the templates hand it over (a value or a reference).
pub(super) trait Flag {
    fn flag(&self) -> bool;
}

impl Flag for bool {
    fn flag(&self) -> bool {
        *self
    }
}

impl Flag for &bool {
    fn flag(&self) -> bool {
        **self
    }
}

/// A staff user as the users page shows and edits them.
struct UserRow {
    username: String,
    display_name: String,
    roles: Vec<String>,
    roles_label: String,
    departments: Vec<String>,
    departments_label: String,
    level: String,
    email: String,
    active: bool,
}

impl UserRow {
    fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    fn in_department(&self, code: &str) -> bool {
        self.departments.iter().any(|d| d == code)
    }
}

/// A department, with its name in the page's language.
struct DeptRow {
    code: String,
    name: String,
    name_en: String,
    label: String,
    head: String,
    head_label: String,
    review: bool,
}

/// A category, with its names and deadline lengths.
struct CatRow {
    code: String,
    name: String,
    name_en: String,
    department: String,
    department_label: String,
    handling_days: String,
    appeal_days: String,
    review_days: String,
    respondent_reply_days: String,
    days_label: String,
}

/// A canned reply as the admin page lists it.
struct CannedRow {
    id: String,
    title: String,
    /// `zh-CN`, `en`, or empty for any language.
    locale: String,
    /// The language's name, or "any".
    language: String,
    body: String,
}

struct RespondentRow {
    id: String,
    kind: String,
    external_id: String,
    name: String,
    state: String,
}

struct KeyRow {
    id: String,
    name: String,
    scopes: String,
    state: String,
    revoked: bool,
}

/// The published channels' form (公示渠道).
#[derive(Default, Clone)]
struct ChannelsForm {
    hotline: String,
    hotline_hours: String,
    mailbox: String,
    postal_address: String,
    visiting_address: String,
    /// Every channel with whether it is switched on.
    enabled: Vec<(&'static str, bool)>,
}

impl ChannelsForm {
    fn stored(p: &redress_app::channels::PublishedChannels) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            hotline: text(&p.hotline),
            hotline_hours: text(&p.hotline_hours),
            mailbox: text(&p.mailbox),
            postal_address: text(&p.postal_address),
            visiting_address: text(&p.visiting_address),
            enabled: redress_domain::Channel::ALL
                .iter()
                .map(|c| (c.as_str(), p.is_enabled(*c)))
                .collect(),
        }
    }

    fn typed(f: &HashMap<String, String>) -> Self {
        let text = |k: &str| f.get(k).cloned().unwrap_or_default();
        Self {
            hotline: text("hotline"),
            hotline_hours: text("hotline_hours"),
            mailbox: text("mailbox"),
            postal_address: text("postal_address"),
            visiting_address: text("visiting_address"),
            enabled: redress_domain::Channel::ALL
                .iter()
                .map(|c| {
                    (
                        c.as_str(),
                        f.contains_key(&format!("enabled.{}", c.as_str())),
                    )
                })
                .collect(),
        }
    }

    fn command(&self) -> Result<SetChannelsCommand, AppError> {
        let enabled = self
            .enabled
            .iter()
            .filter(|(_, on)| *on)
            .filter_map(|(c, _)| c.parse().ok())
            .collect();
        SetChannelsCommand::from_form(
            [
                &self.hotline,
                &self.hotline_hours,
                &self.mailbox,
                &self.postal_address,
                &self.visiting_address,
            ],
            enabled,
        )
    }
}

#[derive(Template)]
#[template(path = "staff_admin.html")]
struct AdminPage<'a> {
    base: &'a Base,
    /// `home`, one of [`SECTIONS`], or `user-edit`, `department-edit`,
    /// `category-edit`.
    section: &'a str,
    nav: &'static [(&'static str, &'static str)],
    f: Typed,
    shown_key: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    missing_years: Vec<String>,
    users: Vec<UserRow>,
    departments: Vec<DeptRow>,
    categories: Vec<CatRow>,
    /// Every role: code and name.
    roles: Vec<(&'static str, String)>,
    canned: Vec<CannedRow>,
    respondents: Vec<RespondentRow>,
    api_keys: Vec<KeyRow>,
    /// The years the calendar page offers, and the one shown.
    years: Vec<i32>,
    year: i32,
    days: Vec<(String, String, String)>,
    feed_url: Option<String>,
    feed_last: String,
    channels: ChannelsForm,
    /// The object an edit page is about (its index in its list).
    editing: Option<usize>,
}

impl AdminPage<'_> {
    fn editing_user(&self) -> Option<&UserRow> {
        self.editing.and_then(|i| self.users.get(i))
    }

    fn editing_department(&self) -> Option<&DeptRow> {
        self.editing.and_then(|i| self.departments.get(i))
    }

    fn editing_category(&self) -> Option<&CatRow> {
        self.editing.and_then(|i| self.categories.get(i))
    }
}

/// What a page says besides its lists.
#[derive(Default)]
struct Said {
    typed: Typed,
    /// The channels' form as typed, when it was refused.
    channels: Option<ChannelsForm>,
    shown_key: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    /// The calendar year to show.
    year: Option<i32>,
    /// The key (username or code) of the object an edit page is about.
    editing: Option<String>,
}

/// A name in the page's language: the English one in English mode when
/// there is one, else the name as the admin gave it.
/// A name given in both languages in one field ("元旦 New Year's Day", as
/// the built-in calendar and older installations have them) shows the
/// part in the page's language.
pub(super) fn localized(tr: Tr, name: &str, name_en: Option<&str>) -> String {
    let en = tr.lang() == "en";
    match name_en.filter(|n| !n.trim().is_empty()) {
        Some(english) if en => english.to_string(),
        Some(_) => name.to_string(),
        None => match split_bilingual(name) {
            Some((_, english)) if en => english,
            Some((chinese, _)) => chinese,
            None => name.to_string(),
        },
    }
}

/// `("元旦", "New Year's Day")` of `"元旦 New Year's Day"`: a name that
/// starts in Chinese and has both Chinese and English words, each part
/// kept with its brackets (`"春节 Spring Festival (调休上班 make-up working
/// day)"`: `"春节 (调休上班)"` and `"Spring Festival (make-up working day)"`).
fn split_bilingual(name: &str) -> Option<(String, String)> {
    let cjk =
        |c: char| ('\u{3000}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c);
    let latin = |c: char| c.is_ascii_alphabetic();
    if !name.chars().next().is_some_and(cjk) || !name.chars().any(latin) {
        return None;
    }
    let tidy = |words: Vec<String>| {
        words
            .into_iter()
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
            .replace("( ", "(")
            .replace(" )", ")")
            .replace("()", "")
            .trim()
            .to_string()
    };
    let words: Vec<&str> = name.split(' ').collect();
    let zh = tidy(
        words
            .iter()
            .map(|w| {
                if w.chars().any(latin) && !w.chars().any(cjk) {
                    w.chars()
                        .filter(|c| !c.is_ascii_alphanumeric() && !matches!(c, '-' | '\''))
                        .collect()
                } else {
                    w.to_string()
                }
            })
            .collect(),
    );
    let en = tidy(
        words
            .iter()
            .map(|w| w.chars().filter(|c| !cjk(*c)).collect())
            .collect(),
    );
    (en.chars().any(latin) && zh.chars().any(cjk)).then_some((zh, en))
}

async fn render(
    s: &AppState,
    ctx: PageCtx,
    section: &str,
    status: StatusCode,
    said: Said,
) -> Response {
    let store = &s.app.store;
    let tr = ctx.tr();
    let all_users = store.list_users().await.unwrap_or_default();
    let display = |username: &str| {
        all_users
            .iter()
            .find(|u| u.username == username)
            .map(|u| format!("{} ({})", u.display_name, u.username))
            .unwrap_or_else(|| username.to_string())
    };
    let stored_departments = store.list_departments().await.unwrap_or_default();
    let dept_label = |code: &str| {
        stored_departments
            .iter()
            .find(|d| d.code == code)
            .map(|d| localized(tr, &d.name, d.name_en.as_deref()))
            .unwrap_or_else(|| code.to_string())
    };
    let departments: Vec<DeptRow> = stored_departments
        .iter()
        .map(|d| DeptRow {
            code: d.code.clone(),
            name: d.name.clone(),
            name_en: d.name_en.clone().unwrap_or_default(),
            label: localized(tr, &d.name, d.name_en.as_deref()),
            head: d.head.clone().unwrap_or_default(),
            head_label: d.head.as_deref().map(display).unwrap_or_default(),
            review: d.review,
        })
        .collect();
    let days_text = |d: Option<u32>| d.map_or(String::new(), |d| d.to_string());
    let categories: Vec<CatRow> = store
        .list_categories()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let days_label = [
                c.handling_days,
                c.appeal_days,
                c.review_days,
                c.respondent_reply_days,
            ]
            .map(|d| d.map_or("—".to_string(), |d| d.to_string()))
            .join(" / ");
            CatRow {
                department_label: dept_label(&c.department),
                code: c.code,
                name: c.name,
                name_en: c.name_en.unwrap_or_default(),
                department: c.department,
                handling_days: days_text(c.handling_days),
                appeal_days: days_text(c.appeal_days),
                review_days: days_text(c.review_days),
                respondent_reply_days: days_text(c.respondent_reply_days),
                days_label,
            }
        })
        .collect();
    let mut sorted_users = all_users.clone();
    sorted_users.sort_by(|a, b| a.username.cmp(&b.username));
    let users: Vec<UserRow> = sorted_users
        .into_iter()
        .map(|u| {
            let roles: Vec<String> = u.roles.iter().map(|r| r.as_str().to_string()).collect();
            let roles_label = roles
                .iter()
                .map(|r| tr.t(&format!("role-{r}")))
                .collect::<Vec<_>>()
                .join(", ");
            let departments_label = u
                .departments
                .iter()
                .map(|d| dept_label(d))
                .collect::<Vec<_>>()
                .join(", ");
            UserRow {
                username: u.username,
                display_name: u.display_name,
                roles,
                roles_label,
                departments: u.departments,
                departments_label,
                level: u.level.to_string(),
                email: u.email.unwrap_or_default(),
                active: u.active,
            }
        })
        .collect();
    let roles = redress_domain::Role::ALL
        .iter()
        .map(|r| (r.as_str(), tr.t(&format!("role-{}", r.as_str()))))
        .collect();
    let canned = store
        .list_canned_replies()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let locale = r.locale.map(|l| l.as_str().to_string()).unwrap_or_default();
            CannedRow {
                id: r.id.to_string(),
                title: r.title,
                language: if locale.is_empty() {
                    tr.t("locale-any")
                } else {
                    tr.t(&format!("locale-{locale}"))
                },
                locale,
                body: r.body,
            }
        })
        .collect();
    // The calendar: the years that have data or deadlines (this one and
    // the next, into which deadlines run), any of them on request.
    let calendar = s.app.calendar();
    let this_year = calendar.local_date(s.app.now()).year();
    let mut years: Vec<i32> = calendar
        .exceptions()
        .map(|d| d.date.year())
        .chain([this_year, this_year + 1])
        .collect();
    let year = said.year.unwrap_or(this_year);
    years.push(year);
    years.sort_unstable();
    years.dedup();
    let days = calendar
        .exceptions_in_year(year)
        .into_iter()
        .map(|d| {
            let kind = match d.kind {
                redress_domain::calendar::DayKind::Holiday => "holiday",
                redress_domain::calendar::DayKind::Workday => "workday",
            };
            (
                d.date.to_string(),
                tr.t(&format!("day-{kind}")),
                localized(tr, &d.name, None),
            )
        })
        .collect();
    let now = s.app.now();
    let tz = s.app.config.time_zone;
    let state = |revoked: bool, expires: Option<chrono::DateTime<chrono::Utc>>| {
        if revoked {
            tr.t("a-key-revoked")
        } else if expires.is_some_and(|e| e <= now) {
            tr.t("a-key-expired")
        } else if let Some(e) = expires {
            tr.with("a-key-until", &[("at", super::local_time(e, tz).as_str())])
        } else {
            tr.t("a-key-active")
        }
    };
    let mut stored_respondents = store.export_respondents().await.unwrap_or_default();
    stored_respondents
        .sort_by(|a, b| (a.kind.as_str(), &a.external_id).cmp(&(b.kind.as_str(), &b.external_id)));
    let respondents = stored_respondents
        .into_iter()
        .map(|r| RespondentRow {
            id: r.id.to_string(),
            kind: tr.t(&format!("rk-{}", r.kind.as_str())),
            state: state(r.key_revoked, r.key_expires_at),
            external_id: r.external_id,
            name: r.name,
        })
        .collect();
    let mut keys = store.export_api_keys().await.unwrap_or_default();
    keys.sort_by_key(|k| k.revoked);
    let api_keys = keys
        .into_iter()
        .map(|k| {
            let scopes = k
                .scopes
                .iter()
                .map(|s| tr.t(&format!("scope-{}", s.as_str())))
                .collect::<Vec<_>>()
                .join(", ");
            KeyRow {
                id: k.id.to_string(),
                state: state(k.revoked, k.expires_at),
                revoked: k.revoked,
                name: k.name,
                scopes,
            }
        })
        .collect();
    let feed = store.get_calendar_feed().await.ok().flatten();
    let feed_last = match &feed {
        Some(f) => match (f.fetched_at, f.outcome.as_deref()) {
            (Some(at), Some(outcome)) => {
                let said = match FeedOutcome::from_stored(outcome) {
                    Some(o) => feed_outcome(tr, &o),
                    // Not an outcome: said as a failure without a reason.
                    None => tr.with("feed-failed", &[("error", "")]),
                };
                tr.with(
                    "a-feed-last",
                    &[
                        ("at", super::local_time(at, tz).as_str()),
                        ("outcome", said.as_str()),
                    ],
                )
            }
            _ => tr.t("a-feed-never"),
        },
        None => String::new(),
    };
    let editing = said.editing.as_deref().and_then(|key| match section {
        "user-edit" => users.iter().position(|u| u.username == key),
        "department-edit" => departments.iter().position(|d| d.code == key),
        "category-edit" => categories.iter().position(|c| c.code == key),
        _ => None,
    });
    if section.ends_with("-edit") && editing.is_none() {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    }
    let page = AdminPage {
        base: &ctx.base,
        section,
        nav: NAV,
        f: said.typed,
        users,
        departments,
        categories,
        roles,
        canned,
        years,
        year,
        days,
        respondents,
        api_keys,
        missing_years: s
            .app
            .calendar_warnings()
            .iter()
            .map(|w| w.year.to_string())
            .collect(),
        feed_url: feed.map(|f| f.url),
        feed_last,
        channels: match said.channels {
            Some(typed) => typed,
            None => ChannelsForm::stored(&s.app.published_channels().await.unwrap_or_default()),
        },
        shown_key: said.shown_key,
        notice: said.notice,
        error: said.error,
        editing,
    }
    .render();
    ctx.respond(status, page)
}

/// A feed fetch's outcome in words.
fn feed_outcome(tr: Tr, o: &FeedOutcome) -> String {
    let days = |d: &Option<Vec<_>>| d.as_ref().map_or(0, Vec::len).to_string();
    let n = |n: Option<usize>| n.unwrap_or(0).to_string();
    match o.status {
        FeedStatus::Changed => tr.with(
            "feed-changed",
            &[
                ("added", &days(&o.added)),
                ("changed", &days(&o.changed)),
                ("removed", &days(&o.removed)),
                ("kept", &n(o.kept_manual)),
                ("moved", &o.recomputed.unwrap_or(0).to_string()),
            ],
        ),
        FeedStatus::Unchanged => tr.with(
            "feed-unchanged",
            &[("holidays", &n(o.holidays)), ("workdays", &n(o.workdays))],
        ),
        FeedStatus::NotModified => tr.t("feed-not_modified"),
        FeedStatus::Failed => tr.with("feed-failed", &[("error", &feed_error(tr, o))]),
    }
}

/// Why a feed fetch failed, in the page's language: the outcome keeps the
/// reason's message key and arguments beside its English sentence (older
/// outcomes have the sentence only).
fn feed_error(tr: Tr, o: &FeedOutcome) -> String {
    match &o.reason {
        Some(reason) => {
            let args: Vec<(&str, &str)> = reason
                .args
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            tr.with(&reason.key, &args)
        }
        None => o.error.clone().unwrap_or_default(),
    }
}

/// The signed-in admin, or the answer for anyone else: the sign-in page,
/// or 403 for staff without the admin role.
pub(super) async fn admin_ctx(
    s: &AppState,
    headers: &HeaderMap,
    path: &str,
    lang: Option<&str>,
) -> Result<(PageCtx, Principal), Response> {
    let (ctx, who) = super::staff::staff_ctx(s, headers, path, lang).await?;
    let is_admin = who
        .staff()
        .is_ok_and(|u| u.has(redress_domain::Role::Admin));
    if is_admin {
        Ok((ctx, who))
    } else {
        Err(ctx.error(StatusCode::FORBIDDEN, "error-no-permission"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redress_domain::Locale;

    #[test]
    fn a_name_in_both_languages_shows_the_page_language() {
        let (zh, en) = (Tr::new(Locale::ZhCn), Tr::new(Locale::En));
        assert_eq!(localized(en, "元旦 New Year's Day", None), "New Year's Day");
        assert_eq!(localized(zh, "元旦 New Year's Day", None), "元旦");
        assert_eq!(localized(en, "关怀部", Some("Care")), "Care");
        assert_eq!(localized(zh, "关怀部", Some("Care")), "关怀部");
        // Given only in Chinese: the name as given, in both.
        assert_eq!(localized(en, "关怀部", None), "关怀部");
        assert_eq!(localized(en, "关怀部", Some(" ")), "关怀部");
        assert_eq!(localized(en, "Shop 7 店", None), "Shop 7 店");
        let makeup = "春节 Spring Festival (调休上班 make-up working day)";
        assert_eq!(
            localized(en, makeup, None),
            "Spring Festival (make-up working day)"
        );
        assert_eq!(localized(zh, makeup, None), "春节 (调休上班)");
        assert_eq!(
            localized(
                zh,
                "国庆节、中秋节 National Day and Mid-Autumn Festival",
                None
            ),
            "国庆节、中秋节"
        );
    }
}

#[derive(Debug, Deserialize)]
pub struct SectionQuery {
    lang: Option<String>,
    done: Option<String>,
    year: Option<i32>,
}

impl SectionQuery {
    fn said(&self, tr: Tr) -> Said {
        let notice = self
            .done
            .as_deref()
            .and_then(|d| DONE.iter().find(|(code, _)| *code == d))
            .map(|(_, key)| tr.t(key));
        Said {
            notice,
            year: self.year.filter(|y| (1900..=2200).contains(y)),
            ..Said::default()
        }
    }
}

/// `GET /staff/admin`: the admin navigation and what each page is for.
pub async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SectionQuery>,
) -> Response {
    match admin_ctx(&s, &headers, "/staff/admin", q.lang.as_deref()).await {
        Ok((ctx, _)) => {
            let said = q.said(ctx.tr());
            render(&s, ctx, "home", StatusCode::OK, said).await
        }
        Err(r) => r,
    }
}

/// `GET /staff/admin/{section}`: one admin page.
pub async fn section(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(section): Path<String>,
    Query(q): Query<SectionQuery>,
) -> Response {
    let path = format!("/staff/admin/{section}");
    let (ctx, _) = match admin_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(section) = SECTIONS.iter().find(|x| **x == section) else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    let said = q.said(ctx.tr());
    render(&s, ctx, section, StatusCode::OK, said).await
}

/// `GET /staff/admin/{users|departments|categories}/{key}`: the edit page
/// of one user, department or category, prefilled.
pub async fn edit(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((list, key)): Path<(String, String)>,
    Query(q): Query<SectionQuery>,
) -> Response {
    let path = format!("/staff/admin/{list}/{key}");
    let (ctx, _) = match admin_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let section = match list.as_str() {
        "users" => "user-edit",
        "departments" => "department-edit",
        "categories" => "category-edit",
        _ => return ctx.error(StatusCode::NOT_FOUND, "error-not-found"),
    };
    let said = Said {
        editing: Some(key),
        ..q.said(ctx.tr())
    };
    render(&s, ctx, section, StatusCode::OK, said).await
}

/// Where an action's form lives: the page it is shown again on when
/// refused, and the page (with `?done=`) a success redirects to.
fn home_of(what: &str) -> Option<(&'static str, &'static str)> {
    Some(match what {
        "department" => ("departments", "department-added"),
        "department-edit" => ("department-edit", "department-saved"),
        "category" => ("categories", "category-added"),
        "category-edit" => ("category-edit", "category-saved"),
        "user" => ("users", "user-added"),
        "user-edit" => ("user-edit", "user-saved"),
        "user-deactivate" => ("user-edit", "user-deactivated"),
        "user-activate" => ("user-edit", "user-activated"),
        "canned-reply" => ("canned", "canned-added"),
        "canned-reply-edit" => ("canned", "canned-saved"),
        "canned-reply-delete" => ("canned", "canned-deleted"),
        "respondent" | "respondent-key" => ("respondents", ""),
        "respondent-key-revoke" => ("respondents", "key-revoked"),
        "api-key" => ("api-keys", ""),
        "api-key-revoke" => ("api-keys", "key-revoked"),
        "calendar" => ("calendar", "day-set"),
        "calendar-feed" => ("calendar", "feed-saved"),
        "calendar-feed-remove" => ("calendar", "feed-removed"),
        "calendar-feed-fetch" => ("calendar", ""),
        "channels" => ("channels", "channels-saved"),
        _ => return None,
    })
}

/// The list page an edit page belongs to.
fn list_of(section: &str) -> &str {
    match section {
        "user-edit" => "users",
        "department-edit" => "departments",
        "category-edit" => "categories",
        other => other,
    }
}

/// `POST /staff/admin/{what}`: adds, changes or removes one thing.
pub async fn add(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(what): Path<String>,
    Query(q): Query<SectionQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    // The language switch of a refused form's page leads to its list.
    let back = home_of(&what).map_or_else(
        || "/staff/admin".to_string(),
        |(section, _)| format!("/staff/admin/{}", list_of(section)),
    );
    let (ctx, who) = match admin_ctx(&s, &headers, &back, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut f: HashMap<String, String> = HashMap::new();
    for (k, v) in &pairs {
        f.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if !super::csrf::verify(&headers, f.get("csrf").map(String::as_str)) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let Some((section, done)) = home_of(&what) else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    let get = |k: &str| f.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let all = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(name, v)| name == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    };
    // A number field: its value, or the text as typed so that the app
    // names it (never silently dropped).
    let num = |k: &str| match get(k) {
        None => Value::Null,
        Some(v) => v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n)),
    };
    // The object an edit form is about.
    let editing = match section {
        "user-edit" => get("username").map(str::to_string),
        "department-edit" | "category-edit" => get("code").map(str::to_string),
        _ => None,
    };
    let year = get("date")
        .and_then(|d| d.get(..4))
        .and_then(|y| y.parse::<i32>().ok());
    let app = &s.app;
    // A command the form's fields make, or the reasons they do not.
    macro_rules! run {
        ($command:expr, |$c:ident| $call:expr) => {
            match $command {
                Ok($c) => $call.await,
                Err(e) => Err(e),
            }
        };
    }
    let result: Result<Option<String>, AppError> = match what.as_str() {
        "department" => {
            // The page offers the users as heads; a name that is none of
            // them is refused here (the API lets a head be named before
            // their account exists).
            let unknown_head = match get("head") {
                Some(head) => app
                    .store
                    .get_user_by_username(head)
                    .await
                    .map(|u| u.is_none())
                    .unwrap_or(false),
                None => false,
            };
            if unknown_head {
                Err(AppError::invalid(
                    "head",
                    redress_domain::Reason::no_such("user"),
                ))
            } else {
                let command = CreateDepartmentCommand::from_form(
                    get("code"),
                    get("name"),
                    get("name_en"),
                    get("head"),
                    get("review").is_some(),
                );
                run!(command, |c| app.create_department(&who, &c)).map(|_| None)
            }
        }
        "department-edit" => {
            let code = editing.clone().unwrap_or_default();
            let mut patch = serde_json::Map::new();
            patch.insert(
                "name".into(),
                json!(f.get("name").cloned().unwrap_or_default()),
            );
            // A blank English name keeps the stored one unless cleared.
            if let Some(en) = get("name_en") {
                patch.insert("name_en".into(), json!(en));
            } else if get("clear_name_en").is_some() {
                patch.insert("name_en".into(), Value::Null);
            }
            // The head is chosen from a list that has "none" in it.
            patch.insert("head".into(), json!(get("head")));
            patch.insert("review".into(), json!(get("review").is_some()));
            app.update_department(
                &who,
                &code,
                UpdateDepartmentCommand::read(&Value::Object(patch)),
            )
            .await
            .map(|_| None)
        }
        // Read from JSON: the day counts typed as text get the API's reasons.
        "category" => {
            let body = json!({"code": get("code"), "name": get("name"), "name_en": get("name_en"),
                        "department": get("department"), "handling_days": num("handling_days"),
                        "appeal_days": num("appeal_days"), "review_days": num("review_days"),
                        "respondent_reply_days": num("respondent_reply_days")});
            run!(CreateCategoryCommand::parse(&body), |c| app
                .create_category(&who, &c))
            .map(|_| None)
        }
        "category-edit" => {
            let code = editing.clone().unwrap_or_default();
            let mut patch = serde_json::Map::new();
            if let Some(name) = get("name") {
                patch.insert("name".into(), json!(name));
            }
            if let Some(en) = get("name_en") {
                patch.insert("name_en".into(), json!(en));
            } else if get("clear_name_en").is_some() {
                patch.insert("name_en".into(), Value::Null);
            }
            if let Some(d) = get("department") {
                patch.insert("department".into(), json!(d));
            }
            // The lengths are prefilled: one emptied falls back to the
            // installation's default, as the form says.
            for key in [
                "handling_days",
                "appeal_days",
                "review_days",
                "respondent_reply_days",
            ] {
                if f.contains_key(key) {
                    patch.insert(key.into(), num(key));
                }
            }
            // An emptied name is refused by the app, not kept silently.
            if f.get("name").is_some_and(|n| n.trim().is_empty()) {
                let mut e = redress_domain::FieldErrors::new();
                e.add("name", redress_domain::Reason::Required);
                Err(AppError::Invalid(e))
            } else {
                app.update_category(
                    &who,
                    &code,
                    UpdateCategoryCommand::read(&Value::Object(patch)),
                )
                .await
                .map(|_| None)
            }
        }
        "user" => app
            .create_user(
                &who,
                &CreateUserCommand::read(&json!({"username": get("username"),
                        "password": get("password"), "display_name": get("display_name"),
                        "roles": all("roles"), "departments": all("departments"),
                        "level": num("level"), "email": get("email")})),
            )
            .await
            .map(|_| None),
        "user-edit" => {
            let username = editing.clone().unwrap_or_default();
            let mut patch = serde_json::Map::new();
            if let Some(name) = get("display_name") {
                patch.insert("display_name".into(), json!(name));
            }
            // Roles and departments are checkboxes, shown ticked as they
            // are: what is ticked is what the user has.
            patch.insert("roles".into(), json!(all("roles")));
            patch.insert("departments".into(), json!(all("departments")));
            if get("level").is_some() {
                patch.insert("level".into(), num("level"));
            }
            if let Some(password) = get("password") {
                patch.insert("password".into(), json!(password));
            }
            // A blank e-mail keeps the stored one unless cleared.
            if let Some(email) = get("email") {
                patch.insert("email".into(), json!(email));
            } else if get("clear_email").is_some() {
                patch.insert("email".into(), json!(""));
            }
            app.update_user(
                &who,
                &username,
                UpdateUserCommand::read(&Value::Object(patch)),
            )
            .await
            .map(|_| None)
        }
        "user-deactivate" | "user-activate" => {
            let username = editing.clone().unwrap_or_default();
            if what == "user-deactivate" && get("confirm").is_none() {
                let mut e = redress_domain::FieldErrors::new();
                e.add("confirm", redress_domain::Reason::Required);
                Err(AppError::Invalid(e))
            } else {
                let cmd = UpdateUserCommand {
                    active: Some(what == "user-activate"),
                    ..Default::default()
                };
                app.update_user(&who, &username, Parsed::ok(cmd))
                    .await
                    .map(|_| None)
            }
        }
        "canned-reply" => {
            let command =
                CreateCannedReplyCommand::from_form(get("title"), get("body"), get("locale"));
            run!(command, |c| app.create_canned_reply(&who, &c)).map(|_| None)
        }
        "canned-reply-edit" => {
            let id = get("id").unwrap_or_default().to_string();
            app.update_canned_reply(
                &who,
                &id,
                UpdateCannedReplyCommand::read(&json!({"title": get("title").unwrap_or_default(),
                        "body": get("body").unwrap_or_default(), "locale": get("locale")})),
            )
            .await
            .map(|_| None)
        }
        "canned-reply-delete" => {
            let id = get("id").unwrap_or_default().to_string();
            app.delete_canned_reply(&who, &id).await.map(|()| None)
        }
        "respondent" => {
            let command = CreateRespondentCommand::from_form(
                get("kind"),
                get("id"),
                get("name"),
                get("email"),
            );
            run!(command, |c| app.create_respondent(&who, &c)).map(|r| Some(r.api_key))
        }
        // Keys: a new portal key (shown once), or a revocation, which the
        // form confirms with a checkbox.
        "respondent-key" | "respondent-key-revoke" | "api-key-revoke" => {
            match get("id").and_then(|id| uuid::Uuid::parse_str(id).ok()) {
                None => return ctx.error(StatusCode::NOT_FOUND, "error-not-found"),
                Some(_) if what != "respondent-key" && get("confirm").is_none() => {
                    let said = Said {
                        error: Some(ctx.tr().t("a-confirm-needed")),
                        ..Said::default()
                    };
                    return render(&s, ctx, section, StatusCode::UNPROCESSABLE_ENTITY, said).await;
                }
                Some(id) => match what.as_str() {
                    "respondent-key" => app
                        .issue_respondent_key(&who, id, &IssueRespondentKeyCommand::default())
                        .await
                        .map(|k| Some(k.api_key)),
                    "respondent-key-revoke" => {
                        app.revoke_respondent_key(&who, id).await.map(|_| None)
                    }
                    _ => app.revoke_api_key(&who, id).await.map(|_| None),
                },
            }
        }
        "api-key" => {
            let command = CreateApiKeyCommand::from_form(get("name"), &all("scopes"));
            run!(command, |c| app.create_api_key(&who, &c)).map(|k| Some(k.api_key))
        }
        "calendar" => {
            let date = get("date").unwrap_or_default().to_string();
            let command = SetCalendarDayCommand::from_form(&date, get("kind"), get("name"));
            run!(command, |c| app.set_calendar_day(&who, &c)).map(|_| None)
        }
        // The published channels: saved whole; refused, the form keeps
        // what was typed.
        "channels" => {
            let typed = ChannelsForm::typed(&f);
            match run!(typed.command(), |c| app.set_channel_settings(&who, &c)) {
                Ok(_) => Ok(None),
                Err(AppError::Invalid(fields)) => {
                    let said = Said {
                        error: Some(super::fields_message(ctx.tr(), &fields)),
                        channels: Some(typed),
                        ..Said::default()
                    };
                    return render(&s, ctx, section, StatusCode::UNPROCESSABLE_ENTITY, said).await;
                }
                Err(e) => Err(e),
            }
        }
        "calendar-feed" => {
            let command = SetCalendarFeedCommand::from_form(get("url"));
            run!(command, |c| app.set_calendar_feed(&who, &c)).map(|_| None)
        }
        "calendar-feed-remove" => app.remove_calendar_feed(&who).await.map(|()| None),
        "calendar-feed-fetch" => match app.fetch_calendar_feed_now(&who).await {
            // What the fetch did is said on the page it answers with.
            Ok(o) => {
                let said = Said {
                    notice: Some(feed_outcome(ctx.tr(), &o)),
                    ..Said::default()
                };
                return render(&s, ctx, section, StatusCode::OK, said).await;
            }
            Err(e) => Err(e),
        },
        _ => return ctx.error(StatusCode::NOT_FOUND, "error-not-found"),
    };
    match result {
        // A key is shown once, on this answer (never in a URL).
        Ok(Some(key)) => {
            let said = Said {
                shown_key: Some(key),
                ..Said::default()
            };
            render(&s, ctx, section, StatusCode::OK, said).await
        }
        Ok(_) => {
            let mut to = format!("/staff/admin/{}?done={done}", list_of(section));
            if let (Some(y), "calendar") = (year, what.as_str()) {
                to.push_str(&format!("&year={y}"));
            }
            ctx.redirect(&to)
        }
        Err(AppError::Invalid(fields)) => {
            let tr = ctx.tr();
            let typed_pairs: Vec<(String, String)> = pairs
                .iter()
                .filter(|(k, _)| k != "csrf" && k != "password")
                .cloned()
                .collect();
            let said = Said {
                typed: Typed::new(&what, &typed_pairs, tr, &fields),
                error: Some(super::fields_message(tr, &fields)),
                editing,
                year,
                ..Said::default()
            };
            render(&s, ctx, section, StatusCode::UNPROCESSABLE_ENTITY, said).await
        }
        Err(e) => ctx.fail(&e),
    }
}

/// `POST /staff/admin/calendar-import`: an iCalendar file of holidays and
/// make-up working days; the answer is the calendar page saying what the
/// import did.
pub async fn import(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SectionQuery>,
    form: axum::extract::Multipart,
) -> Response {
    let (ctx, who) = match admin_ctx(&s, &headers, "/staff/admin/calendar", q.lang.as_deref()).await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let sent = super::read_file_form(form, 1024 * 1024, &|_| false).await;
    if sent.problem.is_some() {
        return ctx.error(StatusCode::PAYLOAD_TOO_LARGE, "error-too-large");
    }
    if !super::csrf::verify(&headers, sent.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let bytes = sent.file.map(|(_, b)| b).unwrap_or_default();
    if bytes.len() > 1024 * 1024 {
        return ctx.error(StatusCode::PAYLOAD_TOO_LARGE, "error-too-large");
    }
    match s.app.import_calendar(&who, &bytes).await {
        Ok(v) => {
            let tr = ctx.tr();
            let note = tr.with(
                "admin-imported",
                &[
                    ("days", &v.imported.to_string()),
                    ("holidays", &v.holidays.to_string()),
                    ("workdays", &v.workdays.to_string()),
                    ("skipped", &v.skipped.len().to_string()),
                    ("moved", &v.recomputed.to_string()),
                ],
            );
            let said = Said {
                notice: Some(note),
                ..Said::default()
            };
            render(&s, ctx, "calendar", StatusCode::OK, said).await
        }
        Err(AppError::Invalid(fields)) => {
            let said = Said {
                error: Some(super::fields_message(ctx.tr(), &fields)),
                ..Said::default()
            };
            render(&s, ctx, "calendar", StatusCode::UNPROCESSABLE_ENTITY, said).await
        }
        Err(e) => ctx.fail(&e),
    }
}
