//! Translations for the pages: Fluent message files for zh-CN (the
//! default) and English, embedded in the binary. Every string a page shows
//! comes from here; none is written in code.

use std::sync::OnceLock;

use axum::http::HeaderMap;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use redress_domain::Locale;

const ZH_CN: &str = include_str!("../../locales/zh-CN.ftl");
const EN: &str = include_str!("../../locales/en.ftl");

struct Bundles {
    zh: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

fn bundle(lang: &str, text: &str) -> FluentBundle<FluentResource> {
    let id: unic_langid::LanguageIdentifier = lang.parse().expect("a valid language tag");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Unicode isolation marks would show up inside attributes and titles.
    bundle.set_use_isolating(false);
    let resource = FluentResource::try_new(text.to_string())
        .unwrap_or_else(|(_, errors)| panic!("{lang}.ftl does not parse: {errors:?}"));
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("{lang}.ftl repeats a message: {errors:?}"));
    bundle
}

fn bundles() -> &'static Bundles {
    static BUNDLES: OnceLock<Bundles> = OnceLock::new();
    BUNDLES.get_or_init(|| Bundles {
        zh: bundle("zh-CN", ZH_CN),
        en: bundle("en", EN),
    })
}

/// The translator a page renders with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    pub locale: Locale,
}

impl Tr {
    pub fn new(locale: Locale) -> Self {
        Self { locale }
    }

    fn bundle(&self) -> &'static FluentBundle<FluentResource> {
        match self.locale {
            Locale::En => &bundles().en,
            Locale::ZhCn => &bundles().zh,
        }
    }

    /// The message `key`; the key itself when it is missing (a test checks
    /// that none is).
    pub fn t(&self, key: &str) -> String {
        self.with(key, &[])
    }

    /// The message `key` with named arguments.
    pub fn with(&self, key: &str, args: &[(&str, &str)]) -> String {
        let bundle = self.bundle();
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_string();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, FluentValue::from(value.to_string()));
        }
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }

    /// A refused field's reason in the page's language. The domain and
    /// the application word their reasons in English; every one they give
    /// has a message in both files ([`REASONS`]; a test reads their
    /// sources to keep it so). An unknown reason is shown as it is.
    pub fn field_message(&self, message: &str) -> String {
        match reason(message) {
            Some((key, args)) => self.with(key, &args),
            None => message.to_string(),
        }
    }

    /// A field's name as the page calls it (its form label), or the name
    /// itself for fields without one. An item of a list is named with its
    /// place (`basis[1]`: the basis, item 2), and a part of an item after it.
    pub fn field_label(&self, field: &str) -> String {
        if let Some((list, rest)) = field.split_once('[')
            && let Some((index, part)) = rest.split_once(']')
            && let Ok(i) = index.parse::<usize>()
        {
            let (list, n) = (self.field_label(list), (i + 1).to_string());
            let item = self.with("field-item", &[("field", list.as_str()), ("n", n.as_str())]);
            return match part.strip_prefix('.') {
                Some(part) => format!("{item} · {}", self.part_label(part)),
                None => item,
            };
        }
        match label_key(field) {
            Some(key) => self.t(key),
            None => field.to_string(),
        }
    }

    /// A part of a list item (`actions[0].owner`) by its name.
    fn part_label(&self, part: &str) -> String {
        let key = match part {
            "description" => "fl-item-description",
            "owner" => "fl-owner",
            "due_at" => "fl-due-at",
            "kind" => "a-kind",
            "amount" => "fl-amount",
            _ => return part.to_string(),
        };
        self.t(key)
    }

    /// The `lang` attribute of the page.
    pub fn lang(&self) -> &'static str {
        self.locale.as_str()
    }

    /// The other language, for the switch.
    pub fn other(&self) -> Locale {
        match self.locale {
            Locale::En => Locale::ZhCn,
            Locale::ZhCn => Locale::En,
        }
    }
}

/// The message key of each field name the pages may be told about.
fn label_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "complainant" => "case-complainant",
        "complainant.name" => "f-name",
        "complainant.phone" => "f-phone",
        "complainant.email" => "f-email",
        "complainant.postal_address" => "f-postal-address",
        "complainant.user_id" => "f-user-id",
        "respondent" | "respondent_name" => "case-respondent",
        "respondent.kind" => "f-respondent-kind",
        "respondent.id" | "id" => "f-respondent-id",
        "respondent.name" => "f-respondent-name",
        "subject" => "f-subject",
        "description" => "f-description",
        "demands" => "f-demands",
        "occurred_at" => "f-occurred",
        "order_numbers" => "f-orders",
        "links" => "fl-links",
        "locale" => "fl-locale",
        "channel" => "f-channel",
        "call_reference" => "f-call-reference",
        "file" => "fl-file",
        "form" => "fl-form",
        "share" => "staff-file-share",
        "message" => "act-supplement",
        "body" => "fl-body",
        "title" => "a-canned-title",
        "basis" => "act-basis",
        "reply" => "act-reply",
        "reason" => "act-reason",
        "guidance" => "act-reject-guidance",
        "items" => "fl-items",
        "due_days" => "fl-due-days",
        "category" => "case-category",
        "department" => "col-department",
        "handler" | "assignee" => "col-assignee",
        "audience" => "act-audience",
        "kind" => "a-kind",
        "days" => "act-extend-days",
        "due_at" => "fl-due-at",
        "other" => "fl-other",
        "into" => "fl-into",
        "action_id" => "fl-action",
        "note" => "act-complete-note",
        "outcome" => "act-decide-outcome",
        "remedies" => "fl-remedies",
        "sanctions" => "fl-sanctions",
        "actions" => "fl-actions",
        "result" => "act-review-result",
        "score" => "fl-score",
        "comment" => "act-feedback-comment",
        "hold" => "fl-hold",
        "code" => "a-code",
        "name" => "a-name",
        "name_en" => "a-name-en",
        "head" => "a-head",
        "hotline" => "a-channels-hotline",
        "hotline_hours" => "a-channels-hours",
        "mailbox" => "a-channels-mailbox",
        "postal_address" => "a-channels-postal",
        "visiting_address" => "a-channels-visiting",
        "enabled" => "a-channels-enabled",
        "handling_days" => "a-handling-days",
        "appeal_days" => "a-appeal-days",
        "review_days" => "a-review-days",
        "respondent_reply_days" => "a-respondent-reply-days",
        "username" => "f-username",
        "password" => "f-password",
        "display_name" => "a-display-name",
        "roles" => "a-roles",
        "departments" => "fl-departments",
        "level" => "a-level",
        "active" => "fl-active",
        "email" => "f-email",
        "scopes" => "fl-scopes",
        "date" => "a-date",
        "from" => "r-from",
        "to" => "r-to",
        "status" => "f-status",
        "overdue" => "q-overdue",
        "due_soon" => "q-due-soon",
        "limit" => "fl-limit",
        "cursor" => "fl-cursor",
        _ => return None,
    })
}

/// Every reason the domain and the application give for a refused field,
/// with its message key. `{name}` stands for a value (a number, a word, a
/// list), which the message gets as the argument `$name`. Exact reasons
/// come first.
pub const REASONS: &[(&str, &str)] = &[
    ("is required", "err-required"),
    ("must not be empty", "err-required"),
    ("names no case", "err-no-case"),
    ("is required (or days)", "err-required-or-days"),
    ("is required (true or false)", "err-required-bool"),
    ("is not an email address", "err-email"),
    ("is not a phone number", "err-phone"),
    (
        "give an email address, a phone number, a platform user id or a postal address",
        "err-contact",
    ),
    ("must not be in the future", "err-future"),
    (
        "is not a notice to the complainant",
        "err-not-complainant-notice",
    ),
    ("must not be before the case was filed", "err-before-filed"),
    ("must be in the future", "err-in-future"),
    ("must be within a year", "err-within-year"),
    ("must be later than the current due date", "err-later-due"),
    ("must be an RFC 3339 time or a YYYY-MM-DD date", "err-date"),
    (
        "must be a date (YYYY-MM-DD) or an RFC 3339 time",
        "err-date",
    ),
    ("must be an RFC 3339 time", "err-time"),
    ("must be before to", "err-before-to"),
    ("choose a file", "err-choose-file"),
    ("the file is too large", "err-file-too-large"),
    ("the form could not be read", "err-form-unreadable"),
    ("a field is longer than 64 KiB", "err-field-too-long"),
    ("must be complainant or respondent", "err-share"),
    ("the file is empty", "err-file-empty"),
    ("must be UTF-8 text", "err-utf8"),
    ("holds no holiday or working day", "err-ics-empty"),
    (
        "the file type is not recognised; send images, PDF, audio, video, office documents or plain text",
        "err-file-unknown",
    ),
    (
        "at least one basis (rule, agreement clause or law) is required",
        "err-basis",
    ),
    (
        "a modified result needs the new outcome",
        "err-review-outcome",
    ),
    (
        "only a modified result changes what was ordered",
        "err-review-upheld-orders",
    ),
    ("list every missing item (at least one)", "err-items"),
    (
        "describe the material you are adding",
        "err-describe-material",
    ),
    ("give either due_at or days, not both", "err-due-or-days"),
    ("a case cannot be linked to itself", "err-link-self"),
    ("a case cannot be merged into itself", "err-merge-self"),
    ("must be another case", "err-other-case"),
    (
        "a duplicate must have the same complainant and respondent as its original",
        "err-merge-parties",
    ),
    (
        "before acceptance a case can only be assigned to an intake agent",
        "err-assign-intake",
    ),
    ("must be a handler in the case's department", "err-handler"),
    (
        "must be a staff member who can see the case (a handler of its department or a supervisor)",
        "err-action-owner",
    ),
    ("give owner or due_at (or both)", "err-owner-or-due"),
    (
        "must be a reviewer independent of the decision",
        "err-reviewer",
    ),
    ("the case has no respondent yet", "err-no-respondent"),
    (
        "the registration record names no respondent; complete it before accepting",
        "err-record-no-respondent",
    ),
    ("contains control characters", "err-control"),
    ("must be a JSON object", "err-json-object"),
    ("must be an object", "err-object"),
    ("must be a string", "err-string"),
    ("must be a list", "err-list"),
    ("must be a list of strings", "err-list-strings"),
    ("must be an integer", "err-integer"),
    ("must be a non-negative integer", "err-non-negative"),
    ("must be true or false", "err-bool"),
    (
        "must be a date (2026-12-06) or an instant (2026-12-06T09:00:00+08:00)",
        "err-date-or-instant",
    ),
    ("must come after from", "err-after-from"),
    ("must be an http(s) link", "err-link"),
    ("must be zh-CN or en", "err-locale"),
    ("must be holiday or workday", "err-day-kind"),
    ("must be a string or an object with a kind", "err-measure"),
    (
        "must have a kind, and optionally a description and an amount",
        "err-measure-fields",
    ),
    ("must be an object with a description", "err-action-object"),
    (
        "must be 1–64 characters of a–z, 0–9, '_', '-' or '.'",
        "err-code-chars",
    ),
    ("give at least one role", "err-one-role"),
    ("give at least one scope", "err-one-scope"),
    ("you cannot deactivate yourself", "err-deactivate-self"),
    ("is already taken", "err-taken"),
    ("is not a cursor this server gave out", "err-cursor"),
    (
        "was already used for a different request",
        "err-idempotency",
    ),
    ("must be at most {n} characters", "err-at-most"),
    ("may have at most {n} characters", "err-at-most"),
    (
        "give at least one event kind, or * for all",
        "err-wh-events",
    ),
    (
        "is not a case event kind (see GET /webhooks/events) or *",
        "err-wh-kind",
    ),
    ("must be an http:// or https:// URL", "err-http-url"),
    ("must not have a #fragment", "err-url-fragment"),
    (
        "must not hold a user name or password; authenticate with the signature",
        "err-url-userinfo",
    ),
    ("must have at least {n} characters", "err-at-least"),
    ("must be 1–{n} characters", "err-length"),
    (
        "must be a non-empty string of at most {n} characters",
        "err-nonempty-at-most",
    ),
    ("must have at most {n} items", "err-at-most-items"),
    ("must be between {a} and {b}", "err-between"),
    ("must be an integer from {a} to {b}", "err-int-range"),
    ("must be one of: {list}", "err-one-of"),
    ("the {channel} channel is switched off", "err-channel-off"),
    ("no such {what}", "err-no-such"),
    ("is not a notice kind", "err-notice-kind"),
    ("the template does not work: {what}", "err-template"),
    ("{what} is already taken", "err-taken"),
    (
        "change your own password with POST /auth/password",
        "err-own-password",
    ),
    ("is not your current password", "err-wrong-password"),
    ("must differ from the current password", "err-same-password"),
    ("must lie in the future", "err-ahead"),
    ("names a host that does not resolve", "err-host-unresolved"),
    ("the feed is larger than {n} bytes", "err-feed-too-large"),
    ("the server answered {status}", "err-feed-status"),
    ("an event on {start} ends before it starts", "err-ics-order"),
    (
        "an event from {start} lasts more than {n} days",
        "err-ics-long",
    ),
    ("sets more than {n} days", "err-ics-many"),
    (
        "files of type {mime} are not accepted as evidence",
        "err-file-type",
    ),
];

/// The message key and arguments of a refused field's reason.
pub fn reason(message: &str) -> Option<(&'static str, Vec<(&'static str, &str)>)> {
    REASONS
        .iter()
        .find_map(|(pattern, key)| Some((*key, holes(pattern, message)?)))
}

/// Matches `text` against `pattern`, whose `{name}` holes stand for any
/// non-empty text: the holes' values by name.
fn holes<'t>(pattern: &'static str, text: &'t str) -> Option<Vec<(&'static str, &'t str)>> {
    let (first, mut pattern) = pattern.split_once('{').unwrap_or((pattern, ""));
    let mut rest = text.strip_prefix(first)?;
    let mut out = Vec::new();
    while !pattern.is_empty() {
        let (name, after) = pattern.split_once('}')?;
        let (literal, next) = after.split_once('{').unwrap_or((after, ""));
        let value = if next.is_empty() && after == literal {
            // The last hole: it runs up to the final literal.
            let value = rest.strip_suffix(literal)?;
            rest = "";
            value
        } else {
            let at = rest.find(literal)?;
            let value = &rest[..at];
            rest = &rest[at + literal.len()..];
            value
        };
        if value.is_empty() {
            return None;
        }
        out.push((name, value));
        pattern = next;
    }
    rest.is_empty().then_some(out)
}

/// Every message key of a file, for the completeness test.
pub fn keys(lang: Locale) -> Vec<String> {
    let text = match lang {
        Locale::En => EN,
        Locale::ZhCn => ZH_CN,
    };
    text.lines()
        .filter_map(|l| {
            let (key, _) = l.split_once(" =")?;
            (!key.starts_with([' ', '#', '.']) && !key.is_empty()).then(|| key.trim().to_string())
        })
        .collect()
}

/// The page language: `?lang=` first, then the `rd_lang` cookie, then
/// Accept-Language; zh-CN when nothing says otherwise.
pub fn negotiate(query_lang: Option<&str>, headers: &HeaderMap) -> Locale {
    let parse = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
        "en" | "en-us" | "en-gb" => Some(Locale::En),
        "zh" | "zh-cn" | "zh-hans" | "zh-hans-cn" => Some(Locale::ZhCn),
        _ => None,
    };
    if let Some(l) = query_lang.and_then(parse) {
        return l;
    }
    if let Some(l) = super::cookie(headers, "rd_lang").and_then(|c| parse(&c)) {
        return l;
    }
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // The first listed language we speak, in the order given (weights are
    // nearly always in descending order).
    for part in accept.split(',') {
        let tag = part
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if tag.starts_with("zh") {
            return Locale::ZhCn;
        }
        if tag.starts_with("en") {
            return Locale::En;
        }
    }
    Locale::ZhCn
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reasons the scan finds that no page shows: the configuration's,
    /// refused when the server starts, and the mail receiver's, which go
    /// back to the sending server in its SMTP reply.
    const NOT_ON_PAGES: &[&str] = &[
        "is not an e-mail message",
        "the message has no text and no attachment",
        "the message names no sender",
        "policy.alerts.reminder_percents: {p} is not between 1 and 99",
        "policy.hours.{key} must be between 1 and 8760",
        "policy.{key} must be between 1 and 365 (it is {d})",
        "policy.retention_years must be between 1 and 100 (it is {})",
        "policy.due_soon_days must be between 0 and 365",
        "{raw:?}: the start must come before the end",
        // A stored value the store cannot read: a server error.
        "unknown day source {other:?}",
    ];

    /// The index just past the `)` that closes a call whose arguments
    /// begin at `from` (string and char literals skipped).
    fn call_end(src: &[u8], from: usize) -> Option<usize> {
        let (mut depth, mut i) = (1, from);
        while i < src.len() {
            match src[i] {
                b'"' => {
                    i += 1;
                    while i < src.len() && src[i] != b'"' {
                        i += if src[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'\'' if src.get(i + 2) == Some(&b'\'') => i += 2,
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        None
    }

    /// The arguments of a call, split at top-level commas.
    fn split_args(inner: &str) -> Vec<&str> {
        let b = inner.as_bytes();
        let (mut out, mut depth, mut start, mut i) = (Vec::new(), 0, 0, 0);
        while i < b.len() {
            match b[i] {
                b'"' => {
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                b',' if depth == 0 => {
                    out.push(inner[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        if !inner[start..].trim().is_empty() {
            out.push(inner[start..].trim());
        }
        out
    }

    /// The text of the string literal a message argument starts with
    /// (`"…"`, `"…".into()`, `format!("…", …)`, or a tuple's last part).
    fn literal(arg: &str) -> Option<String> {
        if let Some(tuple) = arg.strip_prefix('(').and_then(|a| a.strip_suffix(')')) {
            return literal(split_args(tuple).last()?);
        }
        let arg = arg.strip_prefix("format!(").unwrap_or(arg).trim_start();
        let body = arg.strip_prefix('"')?;
        let mut text = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(text),
                '\\' => text.push(chars.next()?),
                c => text.push(c),
            }
        }
        None
    }

    /// The message texts given to `errors.add`, `invalid`, `single` and
    /// `Err` in one source file (its tests left out).
    fn reasons_in(src: &str) -> Vec<String> {
        let src = src.split("#[cfg(test)]").next().unwrap_or(src);
        let bytes = src.as_bytes();
        let mut out = Vec::new();
        for call in [".add(", "invalid(", "single(", "Err("] {
            for (at, _) in src.match_indices(call) {
                let from = at + call.len();
                let Some(end) = call_end(bytes, from) else {
                    continue;
                };
                if let Some(text) = split_args(&src[from..end]).last().and_then(|a| literal(a)) {
                    out.push(text);
                }
            }
        }
        out
    }

    /// A reason as it reaches a page: each `{…}` of its format string filled.
    fn sample(template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some((before, after)) = rest.split_once('{') {
            out.push_str(before);
            out.push('7');
            rest = after.split_once('}').map_or("", |(_, r)| r);
        }
        out + rest
    }

    #[test]
    fn every_reason_the_domain_and_the_application_give_has_a_message() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut found = std::collections::BTreeSet::new();
        for dir in ["redress-domain/src", "redress-app/src"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("the sources") {
                let path = entry.expect("a directory entry").path();
                if path.extension().is_some_and(|e| e == "rs") {
                    let src = std::fs::read_to_string(&path).expect("a source file");
                    found.extend(reasons_in(&src));
                }
            }
        }
        // The scan itself works: it finds the reasons it is known to.
        for known in [
            "is required",
            "must be at most {max} characters",
            "no such {what}",
        ] {
            assert!(
                found.contains(known),
                "the scan missed {known:?}: {found:?}"
            );
        }
        let (zh, en) = (Tr::new(Locale::ZhCn), Tr::new(Locale::En));
        let mut missing = Vec::new();
        for template in found.iter().filter(|t| !NOT_ON_PAGES.contains(&t.as_str())) {
            let text = sample(template);
            match reason(&text) {
                Some((key, _)) => {
                    assert_ne!(zh.t(key), key, "{key} has no zh-CN text");
                    assert_ne!(en.t(key), key, "{key} has no English text");
                    assert_ne!(zh.field_message(&text), text, "{text:?} shows untranslated");
                }
                None => missing.push(text),
            }
        }
        assert!(
            missing.is_empty(),
            "reasons without a message: {missing:#?}"
        );
    }

    #[test]
    fn reasons_with_values_pass_them_on() {
        let zh = Tr::new(Locale::ZhCn);
        assert_eq!(
            zh.field_message("must be between 1 and 365"),
            "必须在 1 到 365 之间"
        );
        assert_eq!(
            Tr::new(Locale::En).field_message("must be one of: upheld, modified"),
            "must be one of: upheld, modified"
        );
        assert_eq!(zh.field_message("no such department"), "不存在");
        assert_eq!(zh.field_message("code is already taken"), "已被占用");
        assert_eq!(zh.field_message("an unknown reason"), "an unknown reason");
        assert_eq!(
            holes("a {x} b {y}", "a 1 b 22"),
            Some(vec![("x", "1"), ("y", "22")])
        );
        assert_eq!(holes("a {x} b", "a  b"), None);
    }

    #[test]
    fn list_items_are_named_with_their_place() {
        let en = Tr::new(Locale::En);
        assert_eq!(en.field_label("remedies[1]"), "Remedies, item 2");
        assert_eq!(
            en.field_label("actions[0].owner"),
            "Corrective actions, item 1 · Owner"
        );
        assert_eq!(
            Tr::new(Locale::ZhCn).field_label("basis[0]"),
            "依据（每行一条）第 1 项"
        );
        assert_eq!(en.field_label("x.y"), "x.y");
    }
}
