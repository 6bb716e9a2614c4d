//! The bodies of the settings calls: sign-in, the directory, keys, canned
//! replies, the calendar, notice templates, held mail and code recovery.

use chrono::{DateTime, NaiveDate, Utc};
use redress_domain::calendar::DayKind;
use redress_domain::{FieldErrors, Locale, Reason, RespondentKind, Scope, parse_code};
use serde_json::Value;

use super::{Form, Parsed};
use crate::error::{AppError, AppResult};
use crate::input::Body;

/// `POST /auth/login {username, password}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoginCommand {
    pub username: String,
    pub password: String,
}

impl LoginCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let username = b.str("username");
        let password = b.str("password");
        b.finish()?;
        Ok(Self { username, password })
    }

    pub fn from_form(username: &str, password: &str) -> AppResult<Self> {
        let mut f = Form::new();
        let username = f.str("username", Some(username));
        let password = f.str("password", Some(password));
        f.finish()?;
        Ok(Self { username, password })
    }
}

/// `POST /auth/password {old, new}`: a new password of at least 8
/// characters, not the old one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangePasswordCommand {
    pub old: String,
    pub new: String,
}

impl ChangePasswordCommand {
    fn check(&self, errors: &mut FieldErrors) {
        if !self.new.is_empty() && self.new.chars().count() < 8 {
            errors.add("new", Reason::AtLeast { n: 8 });
        }
        if !self.new.is_empty() && self.new == self.old {
            errors.add("new", Reason::SamePassword);
        }
    }

    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let old = b.str("old");
        let new = b.str("new");
        let c = Self { old, new };
        c.check(&mut b.errors);
        b.finish()?;
        Ok(c)
    }

    pub fn from_form(old: &str, new: &str) -> AppResult<Self> {
        let mut f = Form::new();
        let old = f.str("old", Some(old));
        let new = f.str("new", Some(new));
        let c = Self { old, new };
        c.check(&mut f.errors);
        f.finish()?;
        Ok(c)
    }
}

/// `POST /admin/departments {code, name, name_en?, review?, head?}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateDepartmentCommand {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub review: bool,
    pub head: Option<String>,
}

impl CreateDepartmentCommand {
    fn check(&self, errors: &mut FieldErrors) {
        if !self.code.is_empty()
            && let Err((f, m)) = parse_code("code", &self.code)
        {
            errors.add(f, m);
        }
    }

    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let code = b.str("code");
        let name = b.str("name");
        let name_en = b.opt_str("name_en").filter(|n| !n.trim().is_empty());
        let review = b.opt_bool("review").unwrap_or(false);
        let head = b.opt_str("head").filter(|h| !h.trim().is_empty());
        let c = Self {
            code,
            name,
            name_en,
            review,
            head,
        };
        c.check(&mut b.errors);
        b.finish()?;
        Ok(c)
    }

    pub fn from_form(
        code: Option<&str>,
        name: Option<&str>,
        name_en: Option<&str>,
        head: Option<&str>,
        review: bool,
    ) -> AppResult<Self> {
        let mut f = Form::new();
        let c = Self {
            code: f.str("code", code),
            name: f.str("name", name),
            name_en: name_en.map(str::to_string),
            review,
            head: head.map(str::to_string),
        };
        c.check(&mut f.errors);
        f.finish()?;
        Ok(c)
    }
}

/// `POST /admin/categories {code, name, name_en?, department, *_days?}`:
/// the department is checked against the store by
/// [`crate::App::create_category`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateCategoryCommand {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub department: String,
    pub handling_days: Option<u32>,
    pub appeal_days: Option<u32>,
    pub review_days: Option<u32>,
    pub respondent_reply_days: Option<u32>,
}

impl CreateCategoryCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let code = b.str("code");
        let name = b.str("name");
        let name_en = b.opt_str("name_en");
        let department = b.str("department");
        let mut days = |field: &str, max: u32| {
            let d = b.opt_u32(field);
            if d.is_some_and(|d| !(1..=max).contains(&d)) {
                b.errors.add(
                    field,
                    Reason::Between {
                        a: 1,
                        b: max as i64,
                    },
                );
            }
            d
        };
        let handling_days = days("handling_days", 365);
        let appeal_days = days("appeal_days", 365);
        let review_days = days("review_days", 365);
        let respondent_reply_days = days("respondent_reply_days", 60);
        if !code.is_empty()
            && let Err((f, m)) = parse_code("code", &code)
        {
            b.errors.add(f, m);
        }
        b.finish()?;
        Ok(Self {
            code,
            name,
            name_en,
            department,
            handling_days,
            appeal_days,
            review_days,
            respondent_reply_days,
        })
    }
}

/// `POST /admin/respondents {kind, id, name, email?, expires_at?}`: the
/// expiry is ahead of `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRespondentCommand {
    pub kind: RespondentKind,
    pub external_id: String,
    pub name: String,
    pub email: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl CreateRespondentCommand {
    pub fn parse(body: &Value, now: DateTime<Utc>) -> AppResult<Self> {
        let mut b = Body::new(body);
        let kind = b.parsed::<RespondentKind>("kind", true);
        let external_id = b.str("id");
        let name = b.str("name");
        let email = b.opt_str("email");
        let email = email.and_then(|e| match redress_domain::parse_email(&e) {
            Ok(e) => Some(e),
            Err(m) => {
                b.errors.add("email", m);
                None
            }
        });
        let expires_at = expiry(&mut b, now);
        b.finish()?;
        Ok(Self {
            kind: kind.expect("checked"),
            external_id,
            name,
            email,
            expires_at,
        })
    }

    /// The page's form has no expiry.
    pub fn from_form(
        kind: Option<&str>,
        external_id: Option<&str>,
        name: Option<&str>,
        email: Option<&str>,
    ) -> AppResult<Self> {
        let mut f = Form::new();
        let kind = f.parsed::<RespondentKind>("kind", kind, true);
        let external_id = f.str("id", external_id);
        let name = f.str("name", name);
        let email = email.and_then(|e| match redress_domain::parse_email(e) {
            Ok(e) => Some(e),
            Err(m) => {
                f.errors.add("email", m);
                None
            }
        });
        f.finish()?;
        Ok(Self {
            kind: kind.expect("checked"),
            external_id,
            name,
            email,
            expires_at: None,
        })
    }
}

/// `POST /admin/respondents/{id}/keys {expires_at?}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IssueRespondentKeyCommand {
    pub expires_at: Option<DateTime<Utc>>,
}

impl IssueRespondentKeyCommand {
    pub fn parse(body: &Value, now: DateTime<Utc>) -> AppResult<Self> {
        let mut b = Body::new(body);
        let expires_at = expiry(&mut b, now);
        b.finish()?;
        Ok(Self { expires_at })
    }
}

/// `POST /admin/api-keys {name, scopes[], expires_at?}`: who may create
/// which scopes is [`crate::App::create_api_key`]'s to check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateApiKeyCommand {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl CreateApiKeyCommand {
    fn scopes(errors: &mut FieldErrors, raw: &[String]) -> Vec<Scope> {
        let mut scopes = vec![];
        for (i, s) in raw.iter().enumerate() {
            match s.parse::<Scope>() {
                Ok(sc) => scopes.push(sc),
                Err(m) => errors.add(format!("scopes[{i}]"), m),
            }
        }
        if raw.is_empty() && !errors.0.contains_key("scopes") {
            errors.add("scopes", Reason::OneScope);
        }
        scopes
    }

    pub fn parse(body: &Value, now: DateTime<Utc>) -> AppResult<Self> {
        let mut b = Body::new(body);
        let name = b.str("name");
        if name.chars().count() > 200 {
            b.errors.add("name", Reason::AtMost { n: 200 });
        }
        let raw = b.str_list("scopes", true);
        let scopes = Self::scopes(&mut b.errors, &raw);
        let expires_at = expiry(&mut b, now);
        b.finish()?;
        Ok(Self {
            name,
            scopes,
            expires_at,
        })
    }

    /// The page's form has no expiry.
    pub fn from_form(name: Option<&str>, scopes: &[String]) -> AppResult<Self> {
        let mut f = Form::new();
        let name = f.str("name", name);
        if name.chars().count() > 200 {
            f.errors.add("name", Reason::AtMost { n: 200 });
        }
        let scopes = Self::scopes(&mut f.errors, scopes);
        f.finish()?;
        Ok(Self {
            name,
            scopes,
            expires_at: None,
        })
    }
}

/// An expiry, if given, ahead of `now`.
fn expiry(b: &mut Body, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let at = b.instant("expires_at", false);
    if at.is_some_and(|t| t <= now) {
        b.errors.add("expires_at", Reason::Ahead);
    }
    at
}

/// `POST /admin/canned-replies {title, body, locale?}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateCannedReplyCommand {
    pub title: String,
    pub body: String,
    /// `None`: any language.
    pub locale: Option<Locale>,
}

impl CreateCannedReplyCommand {
    fn check(&self, errors: &mut FieldErrors) {
        use crate::canned::{MAX_BODY, MAX_TITLE, check_text};
        if !self.title.is_empty() {
            check_text(errors, "title", &self.title, MAX_TITLE, false);
        }
        if !self.body.is_empty() {
            check_text(errors, "body", &self.body, MAX_BODY, true);
        }
    }

    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let title = b.str("title");
        let text = b.str("body");
        let locale = crate::canned::read_locale(&mut b);
        let c = Self {
            title,
            body: text,
            locale,
        };
        c.check(&mut b.errors);
        b.finish()?;
        Ok(c)
    }

    pub fn from_form(
        title: Option<&str>,
        body: Option<&str>,
        locale: Option<&str>,
    ) -> AppResult<Self> {
        let mut f = Form::new();
        let title = f.str("title", title);
        let text = f.str("body", body);
        let locale = match locale.filter(|l| !l.trim().is_empty()) {
            None => None,
            Some(raw) => {
                let locale = redress_domain::normalize_locale(raw);
                if locale.is_none() {
                    f.errors.add("locale", Reason::Locale);
                }
                locale
            }
        };
        let c = Self {
            title,
            body: text,
            locale,
        };
        c.check(&mut f.errors);
        f.finish()?;
        Ok(c)
    }
}

/// `PUT /admin/calendar/{date} {kind, name}`: the date from the path is
/// checked with the body, in one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SetCalendarDayCommand {
    pub date: NaiveDate,
    pub kind: DayKind,
    /// Trimmed.
    pub name: String,
}

impl SetCalendarDayCommand {
    fn checked(
        errors: &mut FieldErrors,
        date: &str,
        kind: &str,
        name: &str,
    ) -> (Option<NaiveDate>, Option<DayKind>) {
        use crate::calendar_admin::{parse_date, parse_kind};
        let date = match parse_date(date) {
            Ok(d) => Some(d),
            Err(m) => {
                errors.add("date", m);
                None
            }
        };
        let parsed_kind = parse_kind(kind);
        if !kind.is_empty() && parsed_kind.is_none() {
            errors.add("kind", Reason::DayKind);
        }
        if name.chars().count() > 100 {
            errors.add("name", Reason::AtMost { n: 100 });
        }
        (date, parsed_kind)
    }

    fn made(date: Option<NaiveDate>, kind: Option<DayKind>, name: &str) -> AppResult<Self> {
        let (Some(date), Some(kind)) = (date, kind) else {
            return Err(AppError::invalid("date", Reason::Required));
        };
        Ok(Self {
            date,
            kind,
            name: name.trim().to_string(),
        })
    }

    pub fn parse(date: &str, body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let kind = b.str("kind");
        let name = b.str("name");
        let (date, parsed_kind) = Self::checked(&mut b.errors, date, &kind, &name);
        b.finish()?;
        Self::made(date, parsed_kind, &name)
    }

    pub fn from_form(date: &str, kind: Option<&str>, name: Option<&str>) -> AppResult<Self> {
        let mut f = Form::new();
        let kind = f.str("kind", kind);
        let name = f.str("name", name);
        let (date, parsed_kind) = Self::checked(&mut f.errors, date, &kind, &name);
        f.finish()?;
        Self::made(date, parsed_kind, &name)
    }
}

/// `PUT /admin/calendar/feed {url}`: an http(s) URL; whether it may be
/// fetched (no private address) is [`crate::App::set_calendar_feed`]'s to
/// check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetCalendarFeedCommand {
    pub url: String,
}

impl SetCalendarFeedCommand {
    fn read(errors: &mut FieldErrors, raw: &str) -> Option<String> {
        if raw.trim().is_empty() {
            errors.add("url", Reason::Required);
            None
        } else {
            match crate::calendar_feed::parse_feed_url(raw) {
                Ok(u) => Some(u),
                Err(m) => {
                    errors.add("url", m);
                    None
                }
            }
        }
    }

    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let raw = b.str("url");
        let url = Self::read(&mut b.errors, &raw);
        b.finish()?;
        let Some(url) = url else {
            return Err(AppError::invalid("url", Reason::Required));
        };
        Ok(Self { url })
    }

    pub fn from_form(url: Option<&str>) -> AppResult<Self> {
        let mut f = Form::new();
        let raw = f.str("url", url);
        let url = Self::read(&mut f.errors, &raw);
        f.finish()?;
        let Some(url) = url else {
            return Err(AppError::invalid("url", Reason::Required));
        };
        Ok(Self { url })
    }
}

/// `PUT /admin/notice-templates/{kind}/{locale} {subject, body, sms}`: the
/// wording is checked by rendering it in
/// [`crate::App::put_notice_template`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NoticeTemplateCommand {
    pub subject: String,
    pub body: String,
    pub sms: String,
}

impl NoticeTemplateCommand {
    fn check(&self, errors: &mut FieldErrors) {
        use crate::outbound::{MAX_BODY, MAX_SMS, MAX_SUBJECT};
        for (field, value, max) in [
            ("subject", &self.subject, MAX_SUBJECT),
            ("body", &self.body, MAX_BODY),
            ("sms", &self.sms, MAX_SMS),
        ] {
            if value.chars().count() > max {
                errors.add(field, Reason::MayHaveAtMost { n: max });
            }
        }
    }

    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let c = Self {
            subject: b.str("subject"),
            body: b.str("body"),
            sms: b.str("sms"),
        };
        c.check(&mut b.errors);
        b.finish()?;
        Ok(c)
    }

    pub fn from_form(subject: &str, body: &str, sms: &str) -> AppResult<Self> {
        let mut f = Form::new();
        let c = Self {
            subject: f.str("subject", Some(subject)),
            body: f.str("body", Some(body)),
            sms: f.str("sms", Some(sms)),
        };
        c.check(&mut f.errors);
        f.finish()?;
        Ok(c)
    }
}

/// `POST /mail/held/{id}/attach {case, as?}`: the case by id or tracking
/// number; as the complainant's message (default) or an internal note.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttachHeldMailCommand {
    pub case: String,
    pub as_note: bool,
}

impl AttachHeldMailCommand {
    fn read(errors: &mut FieldErrors, case: String, as_: &str) -> Self {
        if case.trim().is_empty() {
            errors.add("case", Reason::Required);
        }
        if !["complainant", "note"].contains(&as_) {
            errors.add(
                "as",
                Reason::OneOf {
                    list: "complainant, note".into(),
                },
            );
        }
        Self {
            case,
            as_note: as_ == "note",
        }
    }

    /// `complainant` or `note`, as the body names it.
    pub fn as_name(&self) -> &'static str {
        if self.as_note { "note" } else { "complainant" }
    }

    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let target = b.opt_str("case").unwrap_or_default();
        let as_ = b.opt_str("as").unwrap_or_else(|| "complainant".into());
        let c = Self::read(&mut b.errors, target, &as_);
        b.finish()?;
        Ok(c)
    }

    pub fn from_form(case: &str, as_: &str) -> AppResult<Self> {
        let mut errors = FieldErrors::new();
        let c = Self::read(&mut errors, case.to_string(), as_);
        Form { errors }.finish()?;
        Ok(c)
    }
}

/// `POST /track/recover {tracking_no, contact}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecoverCodeCommand {
    pub tracking_no: String,
    pub contact: String,
}

impl RecoverCodeCommand {
    fn made(tracking_no: String, contact: String) -> AppResult<Self> {
        if tracking_no.len() > 64 {
            return Err(AppError::invalid("tracking_no", Reason::AtMost { n: 64 }));
        }
        if contact.len() > 254 {
            return Err(AppError::invalid("contact", Reason::AtMost { n: 254 }));
        }
        Ok(Self {
            tracking_no,
            contact,
        })
    }

    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let tracking_no = b.str("tracking_no");
        let contact = b.str("contact");
        b.finish()?;
        Self::made(tracking_no, contact)
    }

    pub fn from_form(tracking_no: &str, contact: &str) -> AppResult<Self> {
        let mut f = Form::new();
        let tracking_no = f.str("tracking_no", Some(tracking_no));
        let contact = f.str("contact", Some(contact));
        f.finish()?;
        Self::made(tracking_no, contact)
    }
}

/// `PUT /admin/settings/channels {hotline?, hotline_hours?, mailbox?,
/// postal_address?, visiting_address?, enabled[]}`: texts trimmed (blank:
/// none), the mailbox an address, the channels switched on without repeats.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetChannelsCommand {
    pub hotline: Option<String>,
    pub hotline_hours: Option<String>,
    pub mailbox: Option<String>,
    pub postal_address: Option<String>,
    pub visiting_address: Option<String>,
    pub enabled: Vec<redress_domain::Channel>,
}

impl SetChannelsCommand {
    /// The longest text of a field (an address may run to several lines).
    const MAX_TEXT: usize = 500;

    fn text(errors: &mut FieldErrors, key: &str, v: Option<String>) -> Option<String> {
        match v.map(|s| s.trim().to_string()) {
            Some(s) if s.chars().count() > Self::MAX_TEXT => {
                errors.add(key, Reason::AtMost { n: Self::MAX_TEXT });
                None
            }
            Some(s) if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r') => {
                errors.add(key, Reason::Control);
                None
            }
            Some(s) if s.is_empty() => None,
            other => other,
        }
    }

    /// The texts in the order the body's fields are read.
    fn texts(errors: &mut FieldErrors, raw: [Option<String>; 5]) -> Self {
        let [
            hotline,
            hotline_hours,
            mailbox,
            postal_address,
            visiting_address,
        ] = raw;
        let hotline = Self::text(errors, "hotline", hotline);
        let hotline_hours = Self::text(errors, "hotline_hours", hotline_hours);
        let mailbox = Self::text(errors, "mailbox", mailbox);
        let postal_address = Self::text(errors, "postal_address", postal_address);
        let visiting_address = Self::text(errors, "visiting_address", visiting_address);
        let mailbox = match mailbox.map(|m| redress_domain::parse_email(&m)) {
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                errors.add("mailbox", e);
                None
            }
            None => None,
        };
        Self {
            hotline,
            hotline_hours,
            mailbox,
            postal_address,
            visiting_address,
            enabled: Vec::new(),
        }
    }

    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let raw = [
            "hotline",
            "hotline_hours",
            "mailbox",
            "postal_address",
            "visiting_address",
        ]
        .map(|key| b.opt_str(key));
        let mut c = Self::texts(&mut b.errors, raw);
        if b.raw("enabled").is_none() {
            b.errors.add("enabled", Reason::Required);
        }
        for raw in b.str_list("enabled", false) {
            match raw.trim().parse::<redress_domain::Channel>() {
                Ok(ch) if !c.enabled.contains(&ch) => c.enabled.push(ch),
                Ok(_) => {}
                Err(m) => b.errors.add("enabled", m),
            }
        }
        b.finish()?;
        Ok(c)
    }

    /// The page's form: each text as typed, the channels ticked.
    pub fn from_form(texts: [&str; 5], enabled: Vec<redress_domain::Channel>) -> AppResult<Self> {
        let mut errors = FieldErrors::new();
        let c = Self {
            enabled,
            ..Self::texts(&mut errors, texts.map(|t| Some(t.to_string())))
        };
        Form { errors }.finish()?;
        Ok(c)
    }
}

/// `PATCH /admin/canned-replies/{id} {title?, body?, locale?}`: what is
/// given changes (`locale` `null` or empty: any language). Its refusals are answered by
/// [`crate::App::update_canned_reply`] once the reply is found (404 first);
/// they wait in the [`Parsed`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateCannedReplyCommand {
    /// Trimmed.
    pub title: Option<String>,
    pub body: Option<String>,
    pub locale: Option<Option<Locale>>,
}

impl UpdateCannedReplyCommand {
    pub fn read(body: &Value) -> Parsed<Self> {
        use crate::canned::{MAX_BODY, MAX_TITLE, check_text};
        let mut b = Body::new(body);
        let title = if b.raw("title").is_some() {
            let title = b.str("title");
            if !title.is_empty() {
                check_text(&mut b.errors, "title", &title, MAX_TITLE, false);
            }
            Some(title.trim().to_string())
        } else {
            None
        };
        let text = if b.raw("body").is_some() {
            let text = b.str("body");
            if !text.is_empty() {
                check_text(&mut b.errors, "body", &text, MAX_BODY, true);
            }
            Some(text)
        } else {
            None
        };
        let locale = match body.get("locale") {
            None => None,
            Some(field) if field.is_null() => Some(None),
            Some(_) => Some(crate::canned::read_locale(&mut b)),
        };
        Parsed {
            command: Self {
                title,
                body: text,
                locale,
            },
            refused: b.errors,
        }
    }
}

/// `PATCH /admin/categories/{code}`: what is given of the names, the
/// department and the deadline lengths. Its refusals are answered by
/// [`crate::App::update_category`] once the category is found (404 first);
/// they wait in the [`Parsed`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateCategoryCommand {
    pub name: Option<String>,
    pub name_en: Option<Option<String>>,
    pub department: Option<String>,
    pub handling_days: Option<Option<u32>>,
    pub appeal_days: Option<Option<u32>>,
    pub review_days: Option<Option<u32>>,
    pub respondent_reply_days: Option<Option<u32>>,
}

impl UpdateCategoryCommand {
    pub fn read(body: &Value) -> Parsed<Self> {
        let mut b = Body::new(body);
        let name = b.opt_str("name");
        let name_en = b.raw("name_en").is_some().then(|| b.opt_str("name_en"));
        let department = b.opt_str("department");
        let mut days = |field: &str, max: u32| {
            b.raw(field)?;
            let d = b.opt_u32(field);
            if d.is_some_and(|d| !(1..=max).contains(&d)) {
                b.errors.add(
                    field,
                    Reason::Between {
                        a: 1,
                        b: max as i64,
                    },
                );
            }
            Some(d)
        };
        let handling_days = days("handling_days", 365);
        let appeal_days = days("appeal_days", 365);
        let review_days = days("review_days", 365);
        let respondent_reply_days = days("respondent_reply_days", 60);
        let command = Self {
            name,
            name_en,
            department,
            handling_days,
            appeal_days,
            review_days,
            respondent_reply_days,
        };
        Parsed {
            command,
            refused: b.errors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reasons(e: AppError) -> Vec<(String, Reason)> {
        match e {
            AppError::Invalid(f) => f.0.into_iter().collect(),
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn a_form_is_refused_as_its_body_would_be() {
        let body = ChangePasswordCommand::parse(&json!({"old": "", "new": "short"})).unwrap_err();
        let form = ChangePasswordCommand::from_form("", "short").unwrap_err();
        assert_eq!(reasons(body), reasons(form));
        let body = SetCalendarFeedCommand::parse(&json!({"url": null})).unwrap_err();
        let form = SetCalendarFeedCommand::from_form(None).unwrap_err();
        assert_eq!(reasons(form), [("url".to_string(), Reason::Required)]);
        assert_eq!(reasons(body), [("url".to_string(), Reason::Required)]);
    }

    #[test]
    fn the_path_date_is_refused_with_the_body_fields() {
        let e = SetCalendarDayCommand::parse("2024-13-01", &json!({"kind": "party", "name": 3}))
            .unwrap_err();
        assert_eq!(
            reasons(e),
            [
                ("date".to_string(), Reason::DateRange),
                ("kind".to_string(), Reason::DayKind),
                ("name".to_string(), Reason::NotString),
            ]
        );
    }

    #[test]
    fn held_mail_goes_to_the_complainant_unless_told_and_a_respondent_id_is_its_external_id() {
        let c = AttachHeldMailCommand::parse(&json!({"case": "RD1"})).unwrap();
        assert_eq!((c.as_note, c.as_name()), (false, "complainant"));
        let r = CreateRespondentCommand::parse(
            &json!({"kind": "merchant", "id": "shop-1", "name": "Shop"}),
            Utc::now(),
        )
        .unwrap();
        assert_eq!(r.external_id, "shop-1");
        let e = CreateApiKeyCommand::parse(
            &json!({"name": "crm", "scopes": [], "expires_at": "2000-01-01T00:00:00Z"}),
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(
            reasons(e),
            [
                ("expires_at".to_string(), Reason::Ahead),
                ("scopes".to_string(), Reason::OneScope),
            ]
        );
    }
}
