//! The registration record (用户投诉登记表, SPEC §6) and its parser.
//!
//! Input arrives as loose JSON from four channels. [`parse_registration`]
//! walks it once, collects every problem under the field's dotted name and
//! either returns a fully valid record or all the errors: nothing half
//! parsed ever reaches storage.

use crate::reason::Reason;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::FieldErrors;
use crate::types::{Channel, Locale, RespondentKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complainant {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Where letters reach them: for those who write or visit and give no
    /// other way (SPEC §6). Sealed at rest like the other contact fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Respondent {
    pub kind: RespondentKind,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Respondent {
    /// The key that identifies a respondent across cases: `kind:id`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind, self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub complainant: Complainant,
    /// Unknown for a mailed complaint until an agent completes the record.
    pub respondent: Option<Respondent>,
    pub subject: String,
    pub description: String,
    #[serde(default)]
    pub demands: Option<String>,
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub order_numbers: Vec<String>,
}

impl Registration {
    /// Text that search looks at. The complainant's name is left out: it
    /// is sealed at rest, and an index of it would undo that.
    pub fn searchable_text(&self) -> String {
        let mut parts = vec![self.subject.as_str(), self.description.as_str()];
        if let Some(d) = &self.demands {
            parts.push(d);
        }
        if let Some(r) = &self.respondent {
            parts.push(&r.id);
            if let Some(n) = &r.name {
                parts.push(n);
            }
        }
        parts.extend(self.order_numbers.iter().map(String::as_str));
        parts.join(" ")
    }
}

/// What a registration call carries besides the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationInput {
    pub record: Registration,
    pub channel: Option<Channel>,
    pub locale: Locale,
    /// A phone call's or chat's reference, recorded with the registration.
    pub call_reference: Option<String>,
}

const MAX_SUBJECT: usize = 200;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_DEMANDS: usize = 5_000;
const MAX_NAME: usize = 100;
const MAX_ID: usize = 128;
const MAX_LINKS: usize = 20;
const MAX_POSTAL_ADDRESS: usize = 500;

/// Parses a registration body. `now` bounds `occurred_at`.
pub fn parse_registration(
    body: &Value,
    now: DateTime<Utc>,
) -> Result<RegistrationInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let Some(obj) = body.as_object() else {
        return Err(FieldErrors::single("body", Reason::JsonObject));
    };
    let mut r = Reader {
        obj,
        prefix: "",
        errors: &mut errors,
    };
    let subject = r.text("subject", MAX_SUBJECT, true);
    let description = r.text_alias(&["description", "facts"], MAX_DESCRIPTION, true);
    let demands = r.text_alias(&["demands", "request", "claims"], MAX_DEMANDS, false);
    let occurred_at = r.instant(&["occurred_at", "happened_at"], now);
    let links = r.string_list(&["links", "evidence_links"], MAX_LINKS, 2_000, true);
    let order_numbers = r.string_list(&["order_numbers", "orders"], 50, MAX_ID, false);
    let channel = r.parsed::<Channel>("channel");
    let locale = parse_locale(obj.get("locale"), r.errors);
    let call_reference = r.text_alias(&["call_reference", "reference"], MAX_ID, false);

    let complainant = match obj.get("complainant") {
        Some(Value::Object(c)) => parse_complainant(c, r.errors),
        Some(_) => {
            r.errors.add("complainant", Reason::Object);
            None
        }
        None => {
            r.errors.add("complainant", Reason::Required);
            None
        }
    };
    let respondent = match obj.get("respondent") {
        Some(Value::Object(o)) => parse_respondent(o, r.errors),
        Some(Value::Null) | None => {
            if channel != Some(Channel::Email) {
                r.errors.add("respondent", Reason::Required);
            }
            None
        }
        Some(_) => {
            r.errors.add("respondent", Reason::Object);
            None
        }
    };

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(RegistrationInput {
        record: Registration {
            complainant: complainant.expect("checked"),
            respondent,
            subject: subject.expect("checked"),
            description: description.expect("checked"),
            demands,
            occurred_at,
            links,
            order_numbers,
        },
        channel,
        locale,
        call_reference,
    })
}

fn parse_locale(raw: Option<&Value>, errors: &mut FieldErrors) -> Locale {
    match raw {
        None | Some(Value::Null) => Locale::ZhCn,
        Some(Value::String(s)) => match normalize_locale(s) {
            Some(l) => l,
            None => {
                errors.add("locale", Reason::Locale);
                Locale::ZhCn
            }
        },
        Some(_) => {
            errors.add("locale", Reason::NotString);
            Locale::ZhCn
        }
    }
}

/// `zh`, `zh-CN`, `zh_cn`, `zh-Hans` → zh-CN; `en`, `en-US`, … → en.
pub fn normalize_locale(raw: &str) -> Option<Locale> {
    let lower = raw.trim().to_ascii_lowercase();
    if lower == "zh" || lower.starts_with("zh-") || lower.starts_with("zh_") {
        Some(Locale::ZhCn)
    } else if lower == "en" || lower.starts_with("en-") || lower.starts_with("en_") {
        Some(Locale::En)
    } else {
        None
    }
}

fn parse_complainant(obj: &Map<String, Value>, errors: &mut FieldErrors) -> Option<Complainant> {
    let mut r = Reader {
        obj,
        prefix: "complainant.",
        errors,
    };
    let name = r.text_alias(&["name", "username"], MAX_NAME, true);
    let user_id = r.text_alias(&["user_id", "platform_user_id"], MAX_ID, false);
    let email = r.text("email", 254, false);
    let phone = r.text("phone", 32, false);
    let postal_address = r.text("postal_address", MAX_POSTAL_ADDRESS, false);
    let email = email.and_then(|e| match parse_email(&e) {
        Ok(e) => Some(e),
        Err(msg) => {
            r.errors.add("complainant.email", msg);
            None
        }
    });
    let phone = phone.and_then(|p| match parse_phone(&p) {
        Ok(p) => Some(p),
        Err(msg) => {
            r.errors.add("complainant.phone", msg);
            None
        }
    });
    let has_contact_field = [
        "email",
        "phone",
        "user_id",
        "platform_user_id",
        "postal_address",
    ]
    .iter()
    .any(|k| obj.get(*k).is_some_and(|v| !v.is_null()));
    if !has_contact_field {
        // Named on the object (no one field is missing: one of four is)
        // and on the fields a form shows first.
        let msg = Reason::Contact;
        r.errors.add("complainant", msg.clone());
        r.errors.add("complainant.email", msg.clone());
        r.errors.add("complainant.phone", msg.clone());
    }
    Some(Complainant {
        name: name?,
        user_id,
        email,
        phone,
        postal_address,
    })
}

fn parse_respondent(obj: &Map<String, Value>, errors: &mut FieldErrors) -> Option<Respondent> {
    let mut r = Reader {
        obj,
        prefix: "respondent.",
        errors,
    };
    let kind = r.parsed::<RespondentKind>("kind");
    if kind.is_none() && !obj.contains_key("kind") {
        r.errors.add("respondent.kind", Reason::Required);
    }
    let id = r.text("id", MAX_ID, true);
    let name = r.text("name", MAX_NAME * 2, false);
    Some(Respondent {
        kind: kind?,
        id: id?,
        name,
    })
}

/// A deliberately simple address check: one `@`, a dotted domain, no spaces.
pub fn parse_email(raw: &str) -> Result<String, Reason> {
    let e = raw.trim();
    let Some((local, domain)) = e.split_once('@') else {
        return Err(Reason::Email);
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || local.len() > 64 || !domain_ok || e.chars().any(char::is_whitespace) {
        return Err(Reason::Email);
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

/// Digits with an optional leading `+`; spaces, dashes and brackets are dropped.
pub fn parse_phone(raw: &str) -> Result<String, Reason> {
    let mut out = String::new();
    for (i, c) in raw.trim().chars().enumerate() {
        match c {
            '+' if i == 0 => out.push('+'),
            '0'..='9' => out.push(c),
            ' ' | '-' | '(' | ')' => {}
            _ => return Err(Reason::Phone),
        }
    }
    let digits = out.trim_start_matches('+').len();
    if !(5..=20).contains(&digits) {
        return Err(Reason::Phone);
    }
    Ok(out)
}

/// A phone number as its digits, for telling whether two records name the
/// same person: `13800138000`, `+86 138-0013-8000` and `0086 13800138000`
/// are one number. Everything but digits is dropped, and a leading `86`
/// (or `0086`) country code is dropped when the rest is an 11-digit
/// mainland mobile number (`1…`).
pub fn phone_digits(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let mainland = |rest: &str| rest.len() == 11 && rest.starts_with('1');
    for prefix in ["0086", "86"] {
        if let Some(rest) = digits.strip_prefix(prefix)
            && mainland(rest)
        {
            return rest.to_string();
        }
    }
    digits
}

/// `z***@example.com`
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// `138****5678`
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// Reads typed fields from a JSON object, recording errors by dotted name.
struct Reader<'a> {
    obj: &'a Map<String, Value>,
    prefix: &'a str,
    errors: &'a mut FieldErrors,
}

impl Reader<'_> {
    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn text(&mut self, key: &str, max: usize, required: bool) -> Option<String> {
        self.text_alias(&[key], max, required)
    }

    /// The first present key of `keys` wins; errors are named after `keys[0]`.
    fn text_alias(&mut self, keys: &[&str], max: usize, required: bool) -> Option<String> {
        let field = self.name(keys[0]);
        let value = keys.iter().find_map(|k| self.obj.get(*k));
        match value {
            None | Some(Value::Null) => {
                if required {
                    self.errors.add(field, Reason::Required);
                }
                None
            }
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.is_empty() {
                    if required {
                        self.errors.add(field, Reason::Empty);
                    }
                    None
                } else if s.chars().count() > max {
                    self.errors.add(field, Reason::AtMost { n: max });
                    None
                } else if s
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
                {
                    self.errors.add(field, Reason::Control);
                    None
                } else {
                    Some(s.to_string())
                }
            }
            Some(_) => {
                self.errors.add(field, Reason::NotString);
                None
            }
        }
    }

    fn parsed<T: std::str::FromStr<Err = Reason>>(&mut self, key: &str) -> Option<T> {
        match self.obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match s.parse() {
                Ok(v) => Some(v),
                Err(msg) => {
                    self.errors.add(self.name(key), msg);
                    None
                }
            },
            Some(_) => {
                self.errors.add(self.name(key), Reason::NotString);
                None
            }
        }
    }

    fn instant(&mut self, keys: &[&str], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let field = self.name(keys[0]);
        let raw = keys.iter().find_map(|k| self.obj.get(*k))?;
        let parsed = match raw {
            Value::Null => return None,
            Value::String(s) => parse_instant(s),
            _ => None,
        };
        match parsed {
            Some(t) if t <= now + chrono::Duration::days(1) => Some(t),
            Some(_) => {
                self.errors.add(field, Reason::NotFuture);
                None
            }
            None => {
                self.errors.add(field, Reason::TimeOrDate);
                None
            }
        }
    }

    fn string_list(
        &mut self,
        keys: &[&str],
        max_items: usize,
        max_len: usize,
        url: bool,
    ) -> Vec<String> {
        let field = self.name(keys[0]);
        let Some(raw) = keys.iter().find_map(|k| self.obj.get(*k)) else {
            return Vec::new();
        };
        let items = match raw {
            Value::Null => return Vec::new(),
            Value::Array(items) => items,
            _ => {
                self.errors.add(field, Reason::ListOfStrings);
                return Vec::new();
            }
        };
        if items.len() > max_items {
            self.errors.add(field, Reason::AtMostItems { n: max_items });
            return Vec::new();
        }
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str().map(str::trim) {
                Some(s) if !s.is_empty() && s.chars().count() <= max_len => {
                    if url && !(s.starts_with("https://") || s.starts_with("http://")) {
                        self.errors.add(format!("{field}[{i}]"), Reason::Link);
                    } else {
                        out.push(s.to_string());
                    }
                }
                _ => self.errors.add(
                    format!("{field}[{i}]"),
                    Reason::NonEmptyAtMost { n: max_len },
                ),
            }
        }
        out
    }
}

/// RFC 3339, or a plain date taken as midnight UTC.
pub fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw.trim()) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-11-28T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn phone_numbers_compare_by_their_digits() {
        let same = [
            "13800138000",
            "+86 138-0013-8000",
            "+8613800138000",
            "0086 138 0013 8000",
            "(86) 138 0013 8000",
        ];
        for p in same {
            assert_eq!(phone_digits(p), "13800138000", "{p}");
        }
        // The country code stays when the rest is not a mainland mobile.
        assert_eq!(phone_digits("+86 10 6552 9988"), "861065529988");
        assert_eq!(phone_digits("+852 9123 4567"), "85291234567");
        assert_ne!(phone_digits("13800138001"), phone_digits("13800138000"));
    }

    #[test]
    fn names_every_bad_field() {
        let body = json!({
            "complainant": {"name": "", "email": "nope"},
            "respondent": {"kind": "alien"},
            "subject": 5,
            "locale": "fr",
            "links": ["ftp://x"],
        });
        let errors = parse_registration(&body, now()).unwrap_err();
        let fields: Vec<&str> = errors.0.keys().map(String::as_str).collect();
        for f in [
            "complainant.name",
            "complainant.email",
            "respondent.kind",
            "respondent.id",
            "subject",
            "description",
            "locale",
            "links[0]",
        ] {
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }
    }

    #[test]
    fn a_good_record_parses() {
        let body = json!({
            "complainant": {"name": "张三", "phone": "138-1234-5678"},
            "respondent": {"kind": "merchant", "id": "m-1", "name": "好店"},
            "subject": "退款",
            "description": "申请退款被拒绝",
            "locale": "en-US",
        });
        let input = parse_registration(&body, now()).unwrap();
        assert_eq!(
            input.record.complainant.phone.as_deref(),
            Some("13812345678")
        );
        assert_eq!(input.locale, Locale::En);
    }

    #[test]
    fn masks() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_email("zhang@example.com"), "z***@example.com");
    }
}
