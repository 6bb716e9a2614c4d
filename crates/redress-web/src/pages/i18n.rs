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

    /// A refused field's reason in the page's language. The domain words
    /// its reasons in English; the common ones have messages here, and
    /// others are shown as they are.
    pub fn field_message(&self, message: &str) -> String {
        if let Some(n) = message
            .strip_prefix("must be at most ")
            .and_then(|r| r.strip_suffix(" characters"))
        {
            return self.with("err-at-most", &[("n", n)]);
        }
        let key = match message {
            "is required" => "err-required",
            "must not be empty" => "err-required",
            "is not an email address" => "err-email",
            "is not a phone number" => "err-phone",
            "give an email address, a phone number or a platform user id" => "err-contact",
            "must not be in the future" => "err-future",
            "must be an RFC 3339 time or a YYYY-MM-DD date" => "err-date",
            "no such department" | "no such category" | "no such case" => "err-no-such",
            "choose a file" => "err-choose-file",
            "at least one basis (rule, agreement clause or law) is required" => "err-basis",
            _ => return message.to_string(),
        };
        self.t(key)
    }

    /// A field's name as the page calls it (its form label), or the name
    /// itself for fields without one.
    pub fn field_label(&self, field: &str) -> String {
        let key = match field {
            "complainant.name" => "f-name",
            "complainant.phone" => "f-phone",
            "complainant.email" => "f-email",
            "complainant.user_id" => "f-user-id",
            "respondent.kind" => "f-respondent-kind",
            "respondent.id" => "f-respondent-id",
            "respondent.name" => "f-respondent-name",
            "subject" => "f-subject",
            "description" => "f-description",
            "demands" => "f-demands",
            "occurred_at" => "f-occurred",
            "order_numbers" => "f-orders",
            "file" => "f-file",
            "basis" => "act-basis",
            "reply" => "act-reply",
            "reason" => "act-reason",
            _ => return field.to_string(),
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
