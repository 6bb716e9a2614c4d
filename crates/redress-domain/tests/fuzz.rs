//! Fuzzing the registration parser (`parse_registration`) on stable, with
//! proptest: arbitrary bytes, arbitrary JSON, and registrations that are
//! almost right (the known field names with hostile values). 256 cases
//! each in the normal run; `PROPTEST_CASES=100000 cargo test -p
//! redress-domain --test fuzz` runs them longer (docs/security.md).
//!
//! The contract: the parser never panics; it answers a record or the
//! refusal, and a refusal names at least one field, each by its JSON path
//! (`complainant.email`, `links[2]`) with a message; a record it accepts
//! has the required text and a usable contact, and parsing is
//! deterministic.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use redress_domain::registration::{parse_email, parse_registration};
use serde_json::{Map, Value, json};

fn now() -> DateTime<Utc> {
    "2026-12-01T08:00:00Z".parse().unwrap()
}

/// A field path: `word(.word | [n])*`.
fn is_path(s: &str) -> bool {
    let mut rest = s;
    let mut first = true;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else { return false };
            if first || end == 0 || !r[..end].bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            rest = &r[end + 1..];
        } else {
            let r = if first {
                rest
            } else {
                match rest.strip_prefix('.') {
                    Some(r) => r,
                    None => return false,
                }
            };
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0
                || !r[..end]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            {
                return false;
            }
            rest = &r[end..];
        }
        first = false;
    }
    !first
}

fn check(body: &Value) {
    let first = parse_registration(body, now());
    match &first {
        Ok(input) => {
            let r = &input.record;
            assert!(
                !r.subject.trim().is_empty(),
                "accepted without a subject: {body}"
            );
            assert!(
                !r.description.trim().is_empty(),
                "accepted without a description: {body}"
            );
            assert!(
                !r.complainant.name.trim().is_empty(),
                "accepted without a name: {body}"
            );
            let c = &r.complainant;
            assert!(
                c.email.is_some() || c.phone.is_some() || c.user_id.is_some(),
                "accepted without a contact: {body}"
            );
            if let Some(email) = &c.email {
                assert_eq!(parse_email(email).as_deref(), Ok(email.as_str()), "{body}");
            }
            if let Some(at) = r.occurred_at {
                assert!(at <= now(), "occurred in the future: {body}");
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "a refusal naming no field: {body}");
            for (field, message) in &errors.0 {
                assert!(is_path(field), "not a field path: {field:?} ({body})");
                assert!(
                    !message.to_string().trim().is_empty(),
                    "{field} without a message: {body}"
                );
            }
        }
    }
    let again = parse_registration(body, now());
    assert_eq!(
        format!("{first:?}"),
        format!("{again:?}"),
        "not deterministic: {body}"
    );
}

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        "[ \t\r\n\u{0}\u{200b}\u{feff}]{0,4}",
        "[a-z0-9._%+-]{0,12}@[a-z0-9.-]{0,12}",
        "\\+?[0-9 ()-]{0,20}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2}))?",
        "(zh|en|ZH_cn|zh-Hans|xx)",
        "(web|phone|email|api|chat|letter|merchant|user|x)",
        Just("退款".repeat(3_000)),
        Just("a".repeat(20_001)),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const TOP: &[&str] = &[
    "subject",
    "description",
    "facts",
    "demands",
    "request",
    "claims",
    "occurred_at",
    "happened_at",
    "links",
    "evidence_links",
    "order_numbers",
    "orders",
    "channel",
    "locale",
    "call_reference",
    "reference",
];
const PERSON: &[&str] = &[
    "name",
    "username",
    "user_id",
    "platform_user_id",
    "email",
    "phone",
    "kind",
    "id",
];

fn fields(names: &'static [&'static str]) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((prop::sample::select(names), json_value()), 0..names.len())
        .prop_map(|pairs| pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// A registration with the known names, each value valid or hostile.
fn almost_registration() -> impl Strategy<Value = Value> {
    (
        fields(TOP),
        fields(PERSON),
        fields(PERSON),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(mut top, complainant, respondent, valid_base, with_people)| {
                if valid_base {
                    for (k, v) in [
                        ("subject", json!("申请退款被拒绝")),
                        ("description", json!("商家拒绝退款。")),
                    ] {
                        top.entry(k).or_insert(v);
                    }
                }
                if with_people {
                    top.insert("complainant".into(), Value::Object(complainant));
                    top.insert("respondent".into(), Value::Object(respondent));
                }
                Value::Object(top)
            },
        )
}

proptest! {
    // proptest's default: 256 cases, or PROPTEST_CASES.
    #[test]
    fn fuzz_registration_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(body) = serde_json::from_slice::<Value>(&bytes) {
            check(&body);
        }
    }

    #[test]
    fn fuzz_registration_json(body in json_value()) {
        check(&body);
    }

    #[test]
    fn fuzz_registration_almost_valid(body in almost_registration()) {
        check(&body);
    }
}

#[test]
fn field_paths_are_recognised() {
    for ok in ["subject", "complainant.email", "links[2]", "a_b.c[0].d"] {
        assert!(is_path(ok), "{ok}");
    }
    for bad in ["", ".a", "a.", "[0]", "a[]", "a[x]", "A", "a..b"] {
        assert!(!is_path(bad), "{bad}");
    }
}
