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
            fluent_args.set(*name, arg_value(value));
        }
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }

    /// A refused field's reason in the page's language: every reason has
    /// a message in both files (a test checks [`redress_domain::Reason::KEYS`]).
    pub fn field_message(&self, reason: &redress_domain::Reason) -> String {
        let args = reason.args();
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.with(reason.key(), &args)
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
            "currency" => "fl-currency",
            "duration_days" => "fl-duration-days",
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
        // Administration sub-pages (issue 15 item 6).
        "confirm" => "fl-confirm",
        _ => return None,
    })
}

/// Every message key of a file, for the completeness test.
/// An argument as Fluent sees it: a whole number written canonically
/// (`0`, `7`, `120`; not `007`) is a number, so that messages can choose
/// their plural form (`1 working day`, `2 working days`); anything else,
/// codes and dates included, is text.
fn arg_value(value: &str) -> FluentValue<'static> {
    let canonical = !value.is_empty()
        && value.len() <= 15
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'));
    match value.parse::<i64>() {
        Ok(n) if canonical => FluentValue::from(n),
        _ => FluentValue::from(value.to_string()),
    }
}

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

    #[test]
    fn english_counts_take_their_plural_form_and_codes_stay_text() {
        let (zh, en) = (Tr::new(Locale::ZhCn), Tr::new(Locale::En));
        assert_eq!(
            en.with("clock-days-left", &[("n", "1")]),
            "1 working day left"
        );
        assert_eq!(
            en.with("clock-days-left", &[("n", "3")]),
            "3 working days left"
        );
        assert_eq!(en.with("cases-total", &[("n", "1")]), "1 case");
        assert_eq!(en.with("cases-total", &[("n", "0")]), "0 cases");
        assert!(zh.with("clock-days-left", &[("n", "1")]).contains('1'));
        // Not numbers: kept exactly as given.
        assert_eq!(arg_value("007"), FluentValue::from("007"));
        assert_eq!(arg_value("2026-12-06"), FluentValue::from("2026-12-06"));
        assert_eq!(arg_value("12"), FluentValue::from(12));
    }

    #[test]
    fn every_reason_has_a_message_in_both_languages() {
        let (zh, en) = (Tr::new(Locale::ZhCn), Tr::new(Locale::En));
        for key in redress_domain::Reason::KEYS {
            assert_ne!(zh.t(key), *key, "{key} has no zh-CN text");
            assert_ne!(en.t(key), *key, "{key} has no English text");
        }
    }

    #[test]
    fn reasons_with_values_pass_them_on() {
        use redress_domain::Reason;
        let zh = Tr::new(Locale::ZhCn);
        assert_eq!(
            zh.field_message(&Reason::Between { a: 1, b: 365 }),
            "必须在 1 到 365 之间"
        );
        assert_eq!(
            Tr::new(Locale::En).field_message(&Reason::one_of(["upheld", "modified"])),
            "must be one of: upheld, modified"
        );
        assert_eq!(zh.field_message(&Reason::no_such("department")), "不存在");
        assert_eq!(
            zh.field_message(&Reason::TakenWhat {
                what: "code".into()
            }),
            "已被占用"
        );
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
