//! The bodies of the actions on a case: staff's, the complainant's and the
//! respondent's.

use chrono::{DateTime, Utc};
use redress_domain::{
    ActionInput, Audience, ExtendTo, Measure, NoteKind, NoticeKind, Outcome, Reason, ReviewChange,
    ReviewResult,
};
use serde_json::Value;

use super::Form;
use crate::error::{AppError, AppResult};
use crate::input::Body;

/// `POST /complaints/{id}/accept {category, department?}`: the category
/// (and department, else the category's) are checked against the store by
/// [`crate::App::accept`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AcceptCommand {
    pub category: String,
    pub department: Option<String>,
}

impl AcceptCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let category = b.str("category");
        let department = b.opt_str("department");
        b.finish()?;
        Ok(Self {
            category,
            department,
        })
    }

    pub fn from_form(category: Option<&str>, department: Option<&str>) -> AppResult<Self> {
        let mut f = Form::new();
        let category = f.str("category", category);
        f.finish()?;
        Ok(Self {
            category,
            department: department.map(str::to_string),
        })
    }
}

/// `POST /complaints/{id}/reject {reason?, guidance?}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RejectCommand {
    pub reason: String,
    pub guidance: String,
}

impl RejectCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let reason = b.opt_str("reason").unwrap_or_default();
        let guidance = b.opt_str("guidance").unwrap_or_default();
        b.finish()?;
        Ok(Self { reason, guidance })
    }
}

/// `POST /complaints/{id}/request-info {items[], due_days?}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestInfoCommand {
    pub items: Vec<String>,
    pub due_days: Option<u32>,
}

impl RequestInfoCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let items = b.str_list("items", true);
        let due_days = b.opt_u32("due_days");
        b.finish()?;
        Ok(Self { items, due_days })
    }
}

one_field_command! {
    /// `POST /complaints/{id}/assign {handler}`: a user name.
    AssignCommand: required "handler" => handler,
}

/// `POST /complaints/{id}/messages {audience, body}`.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffMessageCommand {
    pub audience: Audience,
    pub body: String,
}

impl StaffMessageCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let audience = b.parsed::<Audience>("audience", true);
        let text = b.opt_str("body").unwrap_or_default();
        b.finish()?;
        Ok(Self {
            audience: audience.expect("checked"),
            body: text,
        })
    }

    pub fn from_form(audience: Option<&str>, body: Option<String>) -> AppResult<Self> {
        let mut f = Form::new();
        let audience = f.parsed::<Audience>("audience", audience, true);
        f.finish()?;
        Ok(Self {
            audience: audience.expect("checked"),
            body: body.unwrap_or_default(),
        })
    }
}

/// `POST /complaints/{id}/notes {kind?, body}`: a note unless `kind` says
/// otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteCommand {
    pub kind: NoteKind,
    pub body: String,
}

impl NoteCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let kind = b
            .parsed::<NoteKind>("kind", false)
            .unwrap_or(NoteKind::Note);
        let text = b.opt_str("body").unwrap_or_default();
        b.finish()?;
        Ok(Self { kind, body: text })
    }

    pub fn from_form(kind: Option<&str>, body: Option<&str>) -> AppResult<Self> {
        let mut f = Form::new();
        let kind = f
            .parsed::<NoteKind>("kind", kind, false)
            .unwrap_or(NoteKind::Note);
        f.finish()?;
        Ok(Self {
            kind,
            body: body.unwrap_or_default().to_string(),
        })
    }
}

/// `POST /complaints/{id}/deliveries {notice, channel: post, sent_at,
/// reference}`: only `post` is recorded this way.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPostCommand {
    pub notice: NoticeKind,
    pub sent_at: DateTime<Utc>,
    pub reference: String,
}

impl RecordPostCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let notice = b.parsed::<NoticeKind>("notice", true);
        let channel = b.str("channel");
        let sent_at = b.instant("sent_at", true);
        let reference = b.str("reference");
        b.finish()?;
        if channel != "post" {
            return Err(AppError::invalid(
                "channel",
                Reason::OneOf {
                    list: "post".into(),
                },
            ));
        }
        let (Some(notice), Some(sent_at)) = (notice, sent_at) else {
            return Err(AppError::internal("checked fields are missing"));
        };
        Ok(Self {
            notice,
            sent_at,
            reference,
        })
    }
}

/// `POST /complaints/{id}/extend`: `{due_at, reason}` moves the handling
/// deadline to a date, `{days, reason}` adds working days.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtendCommand {
    pub to: ExtendTo,
    pub reason: String,
}

impl ExtendCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let due_at = b.instant("due_at", false);
        let days = b.opt_u32("days");
        let reason = b.opt_str("reason").unwrap_or_default();
        let to = match (due_at, days) {
            (Some(at), None) => Some(ExtendTo::Date(at)),
            (None, Some(d)) => Some(ExtendTo::WorkingDays(d)),
            (Some(_), Some(_)) => {
                b.errors.add("days", Reason::DueOrDays);
                None
            }
            (None, None) => {
                b.errors.add("due_at", Reason::RequiredOrDays);
                None
            }
        };
        b.finish()?;
        Ok(Self {
            to: to.expect("checked"),
            reason,
        })
    }

    /// The page's form gives working days only (`None`: none, or not a
    /// number).
    pub fn from_form(days: Option<u32>, reason: Option<&str>) -> AppResult<Self> {
        let Some(days) = days else {
            return Err(AppError::invalid("due_at", Reason::RequiredOrDays));
        };
        Ok(Self {
            to: ExtendTo::WorkingDays(days),
            reason: reason.unwrap_or_default().to_string(),
        })
    }
}

one_field_command! {
    /// `POST /complaints/{id}/pause {reason}`.
    PauseCommand: text "reason" => reason,
}

one_field_command! {
    /// `POST /complaints/{id}/resume {reason?}`.
    ResumeCommand: optional "reason" => reason,
}

/// `POST /complaints/{id}/decide {outcome, basis[], reply, remedies?,
/// sanctions?, actions?}`.
#[derive(Debug, Clone, PartialEq)]
pub struct DecideCommand {
    pub outcome: Outcome,
    pub basis: Vec<String>,
    pub reply: String,
    pub remedies: Vec<Measure>,
    pub sanctions: Vec<Measure>,
    pub actions: Vec<ActionInput>,
}

impl DecideCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let outcome = b.parsed::<Outcome>("outcome", true);
        let basis = basis(&mut b);
        let reply = b.text("reply");
        let remedies = measures(&mut b, "remedies");
        let sanctions = measures(&mut b, "sanctions");
        let actions = actions(&mut b);
        b.finish()?;
        Ok(Self {
            outcome: outcome.expect("checked"),
            basis,
            reply,
            remedies,
            sanctions,
            actions,
        })
    }
}

/// `POST /complaints/{id}/review {result, basis[], reply, outcome?,
/// remedies?, sanctions?, actions?}`: what a `modified` result orders
/// instead of the decision is in `change`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewCommand {
    pub result: ReviewResult,
    pub basis: Vec<String>,
    pub reply: String,
    pub change: ReviewChange,
}

impl ReviewCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let result = b.parsed::<ReviewResult>("result", true);
        let basis = basis(&mut b);
        let reply = b.text("reply");
        let outcome = b.parsed::<Outcome>("outcome", false);
        let remedies = measures(&mut b, "remedies");
        let sanctions = measures(&mut b, "sanctions");
        let actions = actions(&mut b);
        b.finish()?;
        Ok(Self {
            result: result.expect("checked"),
            basis,
            reply,
            change: ReviewChange {
                outcome,
                remedies,
                sanctions,
                actions,
            },
        })
    }
}

one_field_command! {
    /// `POST /complaints/{id}/actions/{action_id}/complete {note?}`.
    CompleteActionCommand: text "note" => note,
}

/// `PATCH /complaints/{id}/actions/{action_id} {owner?, due_at?}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateActionCommand {
    pub owner: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
}

impl UpdateActionCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let owner = b.opt_str("owner");
        let due_at = b.instant("due_at", false);
        b.finish()?;
        Ok(Self { owner, due_at })
    }

    pub fn from_form(owner: Option<&str>, due_at: Option<&str>) -> AppResult<Self> {
        let mut f = Form::new();
        let due_at = f.instant("due_at", due_at, false);
        f.finish()?;
        Ok(Self {
            owner: owner.map(str::to_string),
            due_at,
        })
    }
}

/// `PATCH /complaints/{id}`: a merge patch over the registration record,
/// parsed whole again (with the case) by [`crate::App::patch_record`].
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRecordCommand {
    /// A JSON object.
    pub patch: Value,
}

impl PatchRecordCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        if !body.is_object() {
            return Err(AppError::invalid("body", Reason::JsonObject));
        }
        Ok(Self {
            patch: body.clone(),
        })
    }
}

one_field_command! {
    /// `POST /complaints/{id}/links {other}`: a case id or tracking number.
    LinkCommand: required "other" => other,
}

one_field_command! {
    /// `POST /complaints/{id}/merge {into}`: a case id or tracking number.
    MergeCommand: required "into" => into,
}

/// `POST /complaints/{id}/legal-hold {hold, reason}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegalHoldCommand {
    pub hold: bool,
    pub reason: String,
}

impl LegalHoldCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let hold = b.opt_bool("hold");
        let reason = b.opt_str("reason").unwrap_or_default();
        if hold.is_none() {
            b.errors.add("hold", Reason::RequiredBool);
        }
        b.finish()?;
        Ok(Self {
            hold: hold.expect("checked"),
            reason,
        })
    }
}

one_field_command! {
    /// `POST /complaints/{id}/erase {reason}`.
    EraseCommand: text "reason" => reason,
}

/// `POST /track/{no}/supplement {message?}`: blank counts as none (the
/// domain decides whether one is needed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SupplementCommand {
    pub message: Option<String>,
}

impl SupplementCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let message = b.opt_str("message").filter(|m| !m.trim().is_empty());
        b.finish()?;
        Ok(Self { message })
    }

    pub fn from_form(message: Option<String>) -> Self {
        Self {
            message: message.filter(|m| !m.trim().is_empty()),
        }
    }
}

one_field_command! {
    /// `{body}`: a message from the complainant (`POST /track/{no}/messages`)
    /// or the respondent (`POST /respondent/cases/{id}/messages`).
    PartyMessageCommand: text "body" => body,
}

one_field_command! {
    /// `POST /track/{no}/appeal {reason}`.
    AppealCommand: text "reason" => reason,
}

one_field_command! {
    /// `POST /track/{no}/withdraw {reason?}`.
    WithdrawCommand: optional "reason" => reason,
}

/// `POST /track/{no}/feedback {score, comment?}`: the score's range is the
/// domain's to check.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackCommand {
    pub score: i64,
    pub comment: Option<String>,
}

impl FeedbackCommand {
    pub fn parse(body: &Value) -> AppResult<Self> {
        let mut b = Body::new(body);
        let score = b.opt_i64("score");
        let comment = b.opt_str("comment");
        if score.is_none() && !b.errors.0.contains_key("score") {
            b.errors.add("score", Reason::Required);
        }
        b.finish()?;
        Ok(Self {
            score: score.expect("checked"),
            comment,
        })
    }

    /// The page's score (`None`: none, or not a whole number).
    pub fn from_form(score: Option<i64>, comment: Option<String>) -> AppResult<Self> {
        let Some(score) = score else {
            return Err(AppError::invalid("score", Reason::Required));
        };
        Ok(Self { score, comment })
    }
}

/// The cited basis of a decision or review: at least one.
fn basis(b: &mut Body) -> Vec<String> {
    let basis = b.str_list("basis", true);
    b.require_some("basis", &basis, Reason::Basis);
    basis
}

fn measures(b: &mut Body, key: &str) -> Vec<Measure> {
    let Some(raw) = b.raw(key) else { return vec![] };
    let Some(items) = raw.as_array() else {
        b.errors.add(key, Reason::List);
        return vec![];
    };
    let mut out = vec![];
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(s) => out.push(Measure {
                kind: s.clone(),
                description: None,
                amount: None,
                currency: None,
                duration_days: None,
            }),
            Value::Object(fields) => match serde_json::from_value::<Measure>(Value::Object(
                // `30.0` days is 30 days (JSON Schema's `integer` admits it).
                fields
                    .iter()
                    .map(|(k, v)| match (k.as_str(), crate::input::whole_u32(v)) {
                        ("duration_days", Some(n)) => (k.clone(), Value::from(n)),
                        _ => (k.clone(), v.clone()),
                    })
                    .collect(),
            )) {
                Ok(m) => {
                    if let Some(m) = checked_measure(b, &format!("{key}[{i}]"), m) {
                        out.push(m);
                    }
                }
                Err(_) => b.errors.add(format!("{key}[{i}]"), Reason::MeasureFields),
            },
            _ => b.errors.add(format!("{key}[{i}]"), Reason::Measure),
        }
    }
    out
}

/// A structured remedy or sanction checked: an amount of at least 0 in
/// cents, a currency of three capital letters (CNY when an amount comes
/// without one), a duration of 1–3650 days.
fn checked_measure(b: &mut Body, at: &str, mut m: Measure) -> Option<Measure> {
    let mut ok = true;
    if m.kind.trim().is_empty() || m.kind.chars().count() > 100 {
        b.errors
            .add(format!("{at}.kind"), Reason::Length { n: 100 });
        ok = false;
    }
    if m.description
        .as_deref()
        .is_some_and(|d| d.chars().count() > 2000)
    {
        b.errors
            .add(format!("{at}.description"), Reason::AtMost { n: 2000 });
        ok = false;
    }
    if let Some(a) = m.amount {
        let cents = a * 100.0;
        if !a.is_finite() || !(0.0..=1e12).contains(&a) || (cents - cents.round()).abs() > 1e-6 {
            b.errors.add(format!("{at}.amount"), Reason::Amount);
            ok = false;
        }
    }
    match m.currency.as_deref() {
        Some(c) if c.len() != 3 || !c.bytes().all(|x| x.is_ascii_uppercase()) => {
            b.errors.add(format!("{at}.currency"), Reason::Currency);
            ok = false;
        }
        None if m.amount.is_some() => m.currency = Some("CNY".into()),
        _ => {}
    }
    if m.duration_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        b.errors.add(
            format!("{at}.duration_days"),
            Reason::IntRange { a: 1, b: 3650 },
        );
        ok = false;
    }
    ok.then_some(m)
}

fn actions(b: &mut Body) -> Vec<ActionInput> {
    let Some(raw) = b.raw("actions") else {
        return vec![];
    };
    let Some(items) = raw.as_array() else {
        b.errors.add("actions", Reason::List);
        return vec![];
    };
    let mut out = vec![];
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::String(s) => out.push(ActionInput {
                description: s.clone(),
                owner: None,
                due_at: None,
            }),
            Value::Object(o) => {
                let mut ib = Body::new(item);
                let description = o
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let owner = ib.opt_str("owner");
                let due_at = ib.instant("due_at", false);
                for (f, m) in ib.errors.0 {
                    b.errors.add(format!("actions[{i}].{f}"), m);
                }
                out.push(ActionInput {
                    description,
                    owner,
                    due_at,
                });
            }
            _ => b.errors.add(format!("actions[{i}]"), Reason::ActionObject),
        }
    }
    out
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
    fn every_bad_field_of_a_decision_is_named_in_one_answer() {
        let e = DecideCommand::parse(&json!({
            "outcome": "maybe", "basis": [" "], "reply": "",
            "remedies": [{"kind": "refund", "amount": -1}], "actions": [7]
        }))
        .unwrap_err();
        let fields: Vec<String> = reasons(e).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "actions[0]",
                "basis",
                "outcome",
                "remedies[0].amount",
                "reply"
            ]
        );
    }

    #[test]
    fn a_note_is_a_note_unless_told_and_a_blank_category_is_empty() {
        let n = NoteCommand::parse(&json!({"body": "called"})).unwrap();
        assert_eq!((n.kind, n.body.as_str()), (NoteKind::Note, "called"));
        let e = AcceptCommand::parse(&json!({"category": " "})).unwrap_err();
        assert_eq!(reasons(e), [("category".to_string(), Reason::Empty)]);
        let e = AcceptCommand::from_form(None, None).unwrap_err();
        assert_eq!(reasons(e), [("category".to_string(), Reason::Required)]);
    }

    #[test]
    fn an_extension_takes_a_date_or_days_and_a_body_must_be_an_object() {
        let x = ExtendCommand::parse(&json!({"days": 3.0, "reason": "r"})).unwrap();
        assert_eq!(x.to, ExtendTo::WorkingDays(3));
        let e = ExtendCommand::parse(&json!({"days": 3, "due_at": "2030-01-01T00:00:00Z"}))
            .unwrap_err();
        assert_eq!(reasons(e), [("days".to_string(), Reason::DueOrDays)]);
        let e = ExtendCommand::parse(&json!([1])).unwrap_err();
        assert_eq!(
            reasons(e),
            [
                ("body".to_string(), Reason::JsonObject),
                ("due_at".to_string(), Reason::RequiredOrDays)
            ]
        );
    }

    #[test]
    fn a_posted_delivery_is_by_post_and_a_feedback_needs_a_score() {
        let e = RecordPostCommand::parse(&json!({"notice": "result", "channel": "sms",
            "sent_at": "2030-01-01T00:00:00Z", "reference": "R1"}))
        .unwrap_err();
        assert_eq!(
            reasons(e),
            [(
                "channel".to_string(),
                Reason::OneOf {
                    list: "post".into()
                }
            )]
        );
        let e = FeedbackCommand::parse(&json!({"comment": "ok"})).unwrap_err();
        assert_eq!(reasons(e), [("score".to_string(), Reason::Required)]);
        let e = FeedbackCommand::parse(&json!({"score": "five"})).unwrap_err();
        assert_eq!(reasons(e), [("score".to_string(), Reason::Integer)]);
    }
}
