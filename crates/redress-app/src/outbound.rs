//! Notices that leave the system: the seam to the providers (e-mail, SMS,
//! the platform's notice webhook), the notice templates, and the sweep's sending step.
//!
//! A transition that owes a notice records its deliveries in the same save
//! (see `App::deliver`): `in_app` ones are sent at once, e-mail and SMS ones
//! are `queued` and make the case due for the sweep. The sweep renders each
//! due delivery from the case as it is, hands it to the channel's
//! [`Sender`], and records the outcome on the case through the versioned
//! save path, with a `delivery_sent` / `delivery_retry` / `delivery_failed`
//! event in the journal. A delivery is sent by the instance holding the
//! case's claim, and a settled delivery is never tried again, so a restart
//! or a second instance sends nothing twice; only a crash between the
//! provider's answer and the save can repeat a send (the message id is
//! stable, so a receiver can tell).

use redress_domain::Reason;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::Environment;
use redress_domain::{
    Audience, Case, Delivery, DeliveryChannel, Locale, NoticeKind, Party, SendOutcome,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// One message for a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The delivery's id: stable across attempts (the e-mail Message-ID).
    pub delivery_id: String,
    /// The case it is about (named in the e-mail Message-ID, so that a
    /// bounce or a reply finds the case).
    pub case_id: uuid::Uuid,
    /// The address, phone number, or the platform's user id (webhook).
    pub to: String,
    /// Which notice it is, and the case's tracking number (for a platform
    /// that shows the notice in its own app).
    pub notice: NoticeKind,
    pub tracking_no: String,
    pub subject: String,
    pub body: String,
    pub locale: Locale,
    /// Where a reply should go (e-mail to the complainant: the case's
    /// plus-address with its reply token).
    pub reply_to: Option<String>,
    /// Files sent with an e-mail (the scheduled report's HTML and CSV);
    /// other channels send none.
    pub attachments: Vec<Attachment>,
}

/// A file attached to an e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// A MIME type, with its charset where it has one.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A provider of one delivery channel (the SMTP relay, an SMS gateway, the
/// platform's notice webhook).
#[async_trait::async_trait]
pub trait Sender: Send + Sync + 'static {
    async fn send(&self, message: &Outgoing) -> SendOutcome;
}

/// The providers an installation has; a channel without one is not used.
#[derive(Clone, Default)]
pub struct Senders {
    pub email: Option<Arc<dyn Sender>>,
    pub sms: Option<Arc<dyn Sender>>,
    /// Notices to complainants the platform knows by user id, posted to the
    /// platform, which shows them in its own app.
    pub webhook: Option<Arc<dyn Sender>>,
}

impl std::fmt::Debug for Senders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Senders")
            .field("email", &self.email.is_some())
            .field("sms", &self.sms.is_some())
            .field("webhook", &self.webhook.is_some())
            .finish()
    }
}

impl Senders {
    pub fn for_channel(&self, channel: DeliveryChannel) -> Option<&Arc<dyn Sender>> {
        match channel {
            DeliveryChannel::Email => self.email.as_ref(),
            DeliveryChannel::Sms => self.sms.as_ref(),
            DeliveryChannel::Webhook => self.webhook.as_ref(),
            DeliveryChannel::InApp | DeliveryChannel::Post => None,
        }
    }
}

/// The three texts of a notice kind in one language.
// The fields of the answers here are declared in alphabetical order: the
// order of the JSON objects they replace, whose keys serde_json sorts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct NoticeTemplate {
    pub body: String,
    pub sms: String,
    pub subject: String,
}

/// A notice's kind.
// The contract strings of [`NoticeKind`], for the API document.
#[derive(Debug, Clone, Copy, serde::Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKindName {
    Acknowledgement,
    RequestForMaterial,
    Refusal,
    Acceptance,
    Progress,
    Result,
    ReviewResult,
    Lapsed,
    Withdrawn,
    Merged,
    Message,
    NewComplaint,
    AppealReceived,
    Closed,
    Reminder,
    Escalation,
    AccessCode,
}

/// A notice kind's wording in one language, as used now (the
/// installation's own, or the shipped one), with the shipped text beside it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct NoticeTemplateView {
    pub body: String,
    /// The installation's own wording is used.
    pub customized: bool,
    #[schema(value_type = NoticeKindName)]
    pub kind: NoticeKind,
    /// zh-CN or en
    #[schema(value_type = String)]
    pub locale: Locale,
    /// The wording redress ships, if any.
    pub shipped: Option<NoticeTemplate>,
    pub sms: String,
    pub subject: String,
    /// When the own wording was saved; null for the shipped one.
    pub updated_at: Option<DateTime<Utc>>,
    /// Who saved it (`staff:<username>`).
    pub updated_by: Option<String>,
}

/// `GET /admin/notice-templates`: every notice kind in both languages.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct NoticeTemplateList {
    pub items: Vec<NoticeTemplateView>,
    /// Always null: the whole list is answered.
    pub next_cursor: Option<String>,
    pub total: usize,
}

/// The shipped templates of one language (`notices/<locale>.toml`).
#[derive(Debug, Deserialize)]
struct TemplateFile {
    labels: HashMap<String, String>,
    /// The wording of the notices that go to a respondent (`[respondent.<kind>]`):
    /// they speak of a complaint *about* them and point to their portal.
    #[serde(default)]
    respondent: HashMap<String, NoticeTemplate>,
    #[serde(flatten)]
    kinds: HashMap<String, NoticeTemplate>,
}

const SHIPPED: [(Locale, &str); 2] = [
    (Locale::ZhCn, include_str!("../notices/zh-CN.toml")),
    (Locale::En, include_str!("../notices/en.toml")),
];

/// Which text of a template.
#[derive(Debug, Clone, Copy)]
enum Part {
    Subject,
    Body,
    Sms,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Body => "body",
            Part::Sms => "sms",
        }
    }
}

/// The notice templates, compiled: the shipped ones, with an
/// installation's overrides on top.
pub struct Notices {
    env: Environment<'static>,
    labels: HashMap<(Locale, String), String>,
}

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notices").finish_non_exhaustive()
    }
}

fn template_name(locale: Locale, kind: NoticeKind, part: Part) -> String {
    format!("{}/{}/{}", locale.as_str(), kind.as_str(), part.name())
}

/// The name of a respondent's own wording of `kind`.
fn respondent_template_name(locale: Locale, kind: NoticeKind, part: Part) -> String {
    format!(
        "{}/respondent/{}/{}",
        locale.as_str(),
        kind.as_str(),
        part.name()
    )
}

/// Instructions one rendering may spend (the shipped templates need a
/// few hundred; a list of 100 remedies a few thousand).
const TEMPLATE_FUEL: u64 = 50_000;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Plain text: nothing is escaped, and nothing is executed but the
    // template language itself.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    // A bounded budget: an admin's template cannot loop the sweep away.
    env.set_fuel(Some(TEMPLATE_FUEL));
    env
}

impl Notices {
    /// The shipped templates, with `overrides` (kind, locale → texts).
    pub fn new(
        overrides: &[(NoticeKind, Locale, NoticeTemplate)],
    ) -> Result<Self, minijinja::Error> {
        let mut env = environment();
        let mut labels = HashMap::new();
        for (locale, text) in SHIPPED {
            let file: TemplateFile = toml::from_str(text).expect("shipped notice templates parse");
            for (k, v) in file.labels {
                labels.insert((locale, k), v);
            }
            for (kind, t) in file.kinds {
                let kind: NoticeKind = kind.parse().expect("shipped notice kinds are known");
                add(&mut env, locale, kind, &t)?;
            }
            for (kind, t) in file.respondent {
                let kind: NoticeKind = kind.parse().expect("shipped notice kinds are known");
                for (part, text) in [
                    (Part::Subject, &t.subject),
                    (Part::Body, &t.body),
                    (Part::Sms, &t.sms),
                ] {
                    env.add_template_owned(
                        respondent_template_name(locale, kind, part),
                        text.clone(),
                    )?;
                }
            }
        }
        for (kind, locale, t) in overrides {
            add(&mut env, *locale, *kind, t)?;
        }
        Ok(Self { env, labels })
    }

    /// The shipped texts of a notice kind.
    pub fn shipped(kind: NoticeKind, locale: Locale) -> Option<NoticeTemplate> {
        let (_, text) = SHIPPED.iter().find(|(l, _)| *l == locale)?;
        let mut file: TemplateFile = toml::from_str(text).ok()?;
        file.kinds.remove(kind.as_str())
    }

    /// Checks that `t` compiles and renders on a sample case.
    pub fn check(t: &NoticeTemplate) -> Result<(), (&'static str, String)> {
        let mut env = environment();
        for (part, text) in [
            (Part::Subject, &t.subject),
            (Part::Body, &t.body),
            (Part::Sms, &t.sms),
        ] {
            env.add_template_owned(part.name(), text.clone())
                .map_err(|e| (part.name(), e.to_string()))?;
            env.get_template(part.name())
                .and_then(|tpl| tpl.render(minijinja::value::Serde(sample_context())))
                .map_err(|e| (part.name(), e.to_string()))?;
        }
        Ok(())
    }

    /// `t` rendered on the made-up sample case the check uses (never a
    /// real one): subject, mail text and SMS, for an admin to preview; or
    /// the part that does not work and why.
    pub fn preview(
        t: &NoticeTemplate,
        locale: Locale,
    ) -> Result<[String; 3], (&'static str, String)> {
        let mut env = environment();
        let mut out: [String; 3] = Default::default();
        for (i, (part, text)) in [
            (Part::Subject, &t.subject),
            (Part::Body, &t.body),
            (Part::Sms, &t.sms),
        ]
        .into_iter()
        .enumerate()
        {
            env.add_template_owned(part.name(), text.clone())
                .map_err(|e| (part.name(), e.to_string()))?;
            out[i] = env
                .get_template(part.name())
                .and_then(|tpl| tpl.render(minijinja::value::Serde(sample_in(locale))))
                .map_err(|e| (part.name(), e.to_string()))?;
        }
        Ok(out)
    }

    fn label(&self, locale: Locale, key: &str) -> String {
        self.labels
            .get(&(locale, key.to_string()))
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    fn render(
        &self,
        locale: Locale,
        kind: NoticeKind,
        party: Party,
        part: Part,
        ctx: &Value,
    ) -> Result<String, minijinja::Error> {
        // A respondent reads their own wording of the notice when there is one.
        let own = (party == Party::Respondent)
            .then(|| {
                self.env
                    .get_template(&respondent_template_name(locale, kind, part))
                    .ok()
            })
            .flatten();
        let template = match own {
            Some(t) => t,
            None => self.env.get_template(&template_name(locale, kind, part))?,
        };
        let out = template.render(minijinja::value::Serde(ctx))?;
        Ok(out.trim().to_string())
    }

    /// The message for `delivery` of `case` as the case is now.
    pub fn message(
        &self,
        case: &Case,
        delivery: &Delivery,
        to: String,
        locale: Locale,
        site: &Site,
        access_code: Option<&str>,
    ) -> Result<Outgoing, minijinja::Error> {
        // A respondent's account names no language: their mail carries
        // both, the installation's first.
        if delivery.party == Party::Respondent && delivery.channel == DeliveryChannel::Email {
            let mut subjects = Vec::new();
            let mut bodies = Vec::new();
            for l in [Locale::ZhCn, Locale::En] {
                let ctx = self.context(case, delivery, l, site);
                subjects.push(
                    self.render(l, delivery.notice, delivery.party, Part::Subject, &ctx)?
                        .replace(['\r', '\n'], " "),
                );
                bodies.push(self.render(l, delivery.notice, delivery.party, Part::Body, &ctx)?);
            }
            return Ok(Outgoing {
                delivery_id: delivery.id.clone(),
                case_id: case.id,
                to,
                notice: delivery.notice,
                tracking_no: case.tracking_no.clone(),
                subject: subjects.join(" / "),
                body: bodies.join("\n\n----------\n\n"),
                locale: Locale::ZhCn,
                reply_to: None,
                attachments: Vec::new(),
            });
        }
        let mut ctx = self.context(case, delivery, locale, site);
        ctx["access_code"] = json!(access_code);
        let (subject, body) = match delivery.channel {
            DeliveryChannel::Sms => (
                String::new(),
                self.render(locale, delivery.notice, delivery.party, Part::Sms, &ctx)?,
            ),
            _ => (
                self.render(locale, delivery.notice, delivery.party, Part::Subject, &ctx)?
                    .replace(['\r', '\n'], " "),
                self.render(locale, delivery.notice, delivery.party, Part::Body, &ctx)?,
            ),
        };
        Ok(Outgoing {
            delivery_id: delivery.id.clone(),
            case_id: case.id,
            to,
            notice: delivery.notice,
            tracking_no: case.tracking_no.clone(),
            subject,
            body,
            locale,
            reply_to: None,
            attachments: Vec::new(),
        })
    }

    fn context(&self, case: &Case, delivery: &Delivery, locale: Locale, site: &Site) -> Value {
        let time = |t: Option<DateTime<Utc>>| {
            t.map(|t| {
                t.with_timezone(&site.time_zone)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default()
        };
        let measures = |ms: &[redress_domain::Measure]| -> Vec<String> {
            ms.iter().map(redress_domain::Measure::line).collect()
        };
        // The message a `message` notice announces: the last one to this
        // party written when the delivery was queued.
        let audience = match delivery.party {
            Party::Respondent => Audience::Respondent,
            _ => Audience::Complainant,
        };
        let message = case
            .messages
            .iter()
            .rev()
            .find(|m| m.audience == audience && m.at <= delivery.created_at)
            .map(|m| m.body.clone());
        let decision = case.decision.as_ref();
        let review = case.review.as_ref();
        let last_extension = case.extensions.last();
        let outside_remedies = match locale {
            Locale::ZhCn => &site.outside_remedies_zh,
            Locale::En => &site.outside_remedies_en,
        };
        let reason = match delivery.notice {
            NoticeKind::Refusal => case.rejection.as_ref().map(|r| r.reason.clone()),
            NoticeKind::Progress => last_extension.map(|e| e.reason.clone()),
            NoticeKind::Withdrawn => case.withdrawal_reason.clone(),
            _ => None,
        };
        let due_at = case.next_due_at();
        // Nobody has checked yet that the contact belongs to the filer: the
        // acknowledgement never repeats what the filer typed, so that the
        // intake cannot be used to send someone else a text of one's own.
        let subject =
            (delivery.notice != NoticeKind::Acknowledgement).then(|| case.record.subject.clone());
        // An e-mail to staff leaves the system for an address an admin
        // sets: it names the case and its deadline, never its content
        // (SPEC §2: an admin never reads case content by any route).
        if delivery.party == Party::Staff {
            return json!({
                "tracking_no": case.tracking_no,
                "tracking_url": crate::tracking_url(&site.public_url, &case.tracking_no),
                "status": case.status,
                "status_label": self.label(locale, case.status.as_str()),
                "due_at": time(due_at),
                "acceptance_due_at": time(case.deadlines.acceptance_due_at),
                "handling_due_at": time(case.deadlines.handling_due_at),
                "review_due_at": time(case.deadlines.review_due_at),
            });
        }
        // A respondent sees the complaint about them, never the
        // complainant's contact data, and is pointed to their portal.
        if delivery.party == Party::Respondent {
            // A deadline at local midnight reads as the end of its day
            // ("2026-03-05 24:00"), as on the pages.
            let reply_due = case.respondent_reply.as_ref().map(|r| {
                let local = r.due_at.with_timezone(&site.time_zone);
                match local.date_naive().pred_opt() {
                    Some(day) if local.time() == chrono::NaiveTime::MIN => {
                        format!("{} 24:00", day.format("%Y-%m-%d"))
                    }
                    _ => local.format("%Y-%m-%d %H:%M").to_string(),
                }
            });
            return json!({
                "tracking_no": case.tracking_no,
                "portal_url": format!("{}/respondent/cases", site.public_url.trim_end_matches('/')),
                "subject": case.record.subject,
                "status": case.status,
                "status_label": self.label(locale, case.status.as_str()),
                "respondent_reply_due_at": reply_due.clone().unwrap_or_default(),
                "reply_expected": case.respondent_reply_expected(),
                "due_at": reply_due.unwrap_or_default(),
                "outcome": decision.map(|d| d.outcome.as_str()),
                "outcome_label": decision.map(|d| self.label(locale, d.outcome.as_str())),
                "reply": match delivery.notice {
                    NoticeKind::ReviewResult => review.map(|r| r.reply.clone()),
                    _ => decision.map(|d| d.reply.clone()),
                },
                "sanctions": measures(case.final_sanctions()),
                "remedies": measures(case.final_remedies()),
                "review_label": review.map(|r| self.label(locale, &format!("review_{}", r.result.as_str()))),
                "message": message,
            });
        }
        json!({
            "tracking_no": case.tracking_no,
            "tracking_url": crate::tracking_url(&site.public_url, &case.tracking_no),
            "subject": subject,
            "status": case.status,
            "status_label": self.label(locale, case.status.as_str()),
            "acceptance_due_at": time(case.deadlines.acceptance_due_at),
            "supplement_due_at": time(case.deadlines.supplement_due_at),
            "handling_due_at": time(case.deadlines.handling_due_at),
            "appeal_due_at": time(case.deadlines.appeal_due_at),
            "review_due_at": time(case.deadlines.review_due_at),
            "due_at": time(due_at),
            "items": case.info_request.as_ref().map(|r| r.items.clone()).unwrap_or_default(),
            "reason": reason,
            "guidance": case.rejection.as_ref().map(|r| r.guidance.clone()),
            "outcome": decision.map(|d| d.outcome.as_str()),
            "outcome_label": decision.map(|d| self.label(locale, d.outcome.as_str())),
            "basis": review.map(|r| r.basis.clone()).filter(|_| delivery.notice == NoticeKind::ReviewResult)
                .or_else(|| decision.map(|d| d.basis.clone())).unwrap_or_default(),
            "reply": match delivery.notice {
                NoticeKind::ReviewResult => review.map(|r| r.reply.clone()),
                _ => decision.map(|d| d.reply.clone()),
            },
            "remedies": measures(case.final_remedies()),
            "review_result": review.map(|r| r.result.as_str()),
            "review_label": review.map(|r| self.label(locale, &format!("review_{}", r.result.as_str()))),
            "outside_remedies": outside_remedies,
            "merged_into": case.merged_into.map(|id| id.to_string()),
            "message": message,
        })
    }
}

/// What templates need of the installation.
#[derive(Debug, Clone)]
pub struct Site {
    pub public_url: String,
    pub time_zone: Tz,
    pub outside_remedies_zh: String,
    pub outside_remedies_en: String,
}

fn add(
    env: &mut Environment<'static>,
    locale: Locale,
    kind: NoticeKind,
    t: &NoticeTemplate,
) -> Result<(), minijinja::Error> {
    for (part, text) in [
        (Part::Subject, &t.subject),
        (Part::Body, &t.body),
        (Part::Sms, &t.sms),
    ] {
        env.add_template_owned(template_name(locale, kind, part), text.clone())?;
    }
    Ok(())
}

/// The sample case in the template's language, so that a preview reads
/// as a real notice would: the variables of [`sample_context`], with the
/// words a complainant would see in that language.
fn sample_in(locale: Locale) -> Value {
    let mut v = sample_context();
    if locale == Locale::ZhCn {
        let zh = json!({
            "subject": "订单已付款十天未发货", "status_label": "处理中",
            "items": ["付款凭证截图"], "reason": "投诉事项不属于本平台受理范围",
            "guidance": "可向商家所在地市场监督管理部门反映", "outcome_label": "投诉成立",
            "basis": ["平台服务协议第 5.2 条"], "reply": "商家已同意全额退款，款项将在 3 个工作日内原路退回。",
            "remedies": ["全额退款（199.00 CNY）"], "review_label": "维持原处理结果",
            "outside_remedies": "12315 全国消费者投诉举报平台", "message": "请补充订单截图，谢谢。",
            "sanctions": ["警告"],
        });
        for (k, value) in zh.as_object().expect("an object") {
            v[k] = value.clone();
        }
    } else {
        let en = json!({
            "subject": "Paid ten days ago, not shipped", "status_label": "being handled",
            "items": ["a screenshot of the payment"], "reason": "the matter is outside this platform's remit",
            "guidance": "you may contact the market regulator where the shop is registered",
            "outcome_label": "upheld", "basis": ["Platform terms, section 5.2"],
            "reply": "The shop agreed to a full refund, paid back within 3 working days.",
            "remedies": ["Full refund (199.00 CNY)"], "review_label": "result upheld",
            "outside_remedies": "the national consumer complaint line 12315",
            "message": "Please send a screenshot of the order, thank you.", "sanctions": ["Warning"],
        });
        for (k, value) in en.as_object().expect("an object") {
            v[k] = value.clone();
        }
    }
    v
}

/// Every variable a template may use, with sample values.
fn sample_context() -> Value {
    json!({
        "tracking_no": "TS-20260101-000001",
        "tracking_url": "https://example.invalid/track/TS-20260101-000001",
        "access_code": "7KQ4-9XMT-2PRD",
        "subject": "subject", "status": "in_progress", "status_label": "in progress",
        "acceptance_due_at": "2026-01-02 18:00", "supplement_due_at": "2026-01-02 18:00",
        "handling_due_at": "2026-01-02 18:00", "appeal_due_at": "2026-01-02 18:00",
        "review_due_at": "2026-01-02 18:00", "due_at": "2026-01-02 18:00",
        "items": ["receipt"], "reason": "reason", "guidance": "guidance",
        "outcome": "upheld", "outcome_label": "upheld", "basis": ["rule 1"], "reply": "reply",
        "remedies": ["refund"], "review_result": "upheld", "review_label": "upheld",
        "outside_remedies": "12315", "merged_into": "TS-20260101-000002", "message": "message",
        "portal_url": "https://example.invalid/respondent/cases",
        "respondent_reply_due_at": "2026-01-02 24:00", "reply_expected": true,
        "sanctions": ["warning"],
    })
}

impl crate::App {
    /// The installation facts templates use.
    pub fn site(&self) -> Site {
        Site {
            public_url: self.config.public_url.clone(),
            time_zone: self.config.time_zone,
            outside_remedies_zh: self.config.outside_remedies_zh.clone(),
            outside_remedies_en: self.config.outside_remedies_en.clone(),
        }
    }

    /// The compiled notice templates.
    pub fn notices(&self) -> Arc<Notices> {
        self.notices.read().expect("notices lock").clone()
    }

    /// Counts one notice against the hourly cap. `Some(next hour)` when the
    /// cap is reached: the notice waits until then (the first time in an
    /// hour, supervisors are alerted). The count is per instance.
    pub(crate) async fn over_cap(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let cap = self.config.outbound_per_hour;
        if cap == 0 {
            return None;
        }
        let hour = hour_of(now);
        let alert = {
            let mut c = self.sent_this_hour.lock().expect("cap lock");
            if c.hour != Some(hour) {
                *c = HourlyCap {
                    hour: Some(hour),
                    sent: 0,
                    alerted: false,
                };
            }
            if c.sent < cap {
                c.sent += 1;
                return None;
            }
            let first = !c.alerted;
            c.alerted = true;
            first
        };
        if alert {
            metrics::counter!("redress_outbound_cap_reached_total").increment(1);
            tracing::warn!(cap, "the hourly cap on notices is reached; the rest wait");
            if let Err(e) = self.cap_reached(cap).await {
                tracing::error!(error = %e, "could not record the cap alert");
            }
        }
        Some(hour + chrono::Duration::hours(1))
    }

    /// Wakes the sweep when `case` has a delivery waiting to be sent.
    pub(crate) fn wake_if_pending(&self, case: &Case) {
        if case.next_delivery_at().is_some() {
            self.wake.notify_one();
        }
    }

    /// Sends the deliveries of case `id` that are due at `now` and records
    /// their outcomes; the number of attempts made.
    pub(crate) async fn send_due(
        &self,
        id: uuid::Uuid,
        loaded: &crate::Loaded,
        now: DateTime<Utc>,
    ) -> crate::AppResult<SendReport> {
        let case = &loaded.case;
        // The access code, for the complainant's acknowledgement only.
        let code = loaded
            .pending_code
            .as_deref()
            .and_then(|sealed| crate::codes::open_pending(loaded.key(), sealed));
        let due: Vec<Delivery> = case.deliveries_due(now).into_iter().cloned().collect();
        if due.is_empty() {
            return Ok(SendReport::default());
        }
        let notices = self.notices();
        let site = self.site();
        let staff = if due.iter().any(|d| d.party == Party::Staff) {
            Some(self.directory().await?)
        } else {
            None
        };
        // The respondent's account address as it is now.
        let respondent = if due.iter().any(|d| d.party == Party::Respondent) {
            self.respondent_email(case).await?
        } else {
            None
        };
        let mut outcomes = Vec::with_capacity(due.len());
        let mut deferred = Vec::new();
        for d in &due {
            // Over the hourly cap, a notice waits for the next hour.
            if let Some(until) = self.over_cap(now).await {
                deferred.push((d.id.clone(), until));
                continue;
            }
            // A result notice states the appeal date that holds once it
            // reaches the person (the one rule, `Case::result_reached`).
            let shown;
            let case = if d.notice == NoticeKind::Result && d.party == Party::Complainant {
                let mut preview = case.clone();
                if let Some(p) = preview.deliveries.iter_mut().find(|p| p.id == d.id) {
                    p.status = redress_domain::DeliveryStatus::Sent;
                    p.sent_at = Some(now);
                }
                let calendar = self.calendar();
                let ctx = redress_domain::Ctx {
                    now,
                    calendar: &calendar,
                    policy: &self.config.policy,
                    actor: redress_domain::Actor::system("outbound"),
                };
                preview.result_reached(now, &ctx);
                shown = preview;
                &shown
            } else {
                case
            };
            let outcome = match self.config.senders.for_channel(d.channel) {
                // The provider was switched off since: the delivery cannot
                // leave, and says so.
                None => SendOutcome::Permanent {
                    error: format!("no {} provider is configured", d.channel),
                },
                Some(sender) => match address(case, d, staff.as_deref(), respondent.as_deref()) {
                    None => SendOutcome::Permanent {
                        error: "no address on file".into(),
                    },
                    Some(to)
                        if d.channel == DeliveryChannel::Sms
                            && !sms_allowed(&to, &self.config.sms_prefixes) =>
                    {
                        SendOutcome::Permanent {
                            error: "SMS is not sent to this number's country (sms_prefixes)".into(),
                        }
                    }
                    // Staff read the installation's language.
                    Some(to) => match notices.message(
                        case,
                        d,
                        to,
                        if d.party == Party::Staff {
                            Locale::ZhCn
                        } else {
                            case.locale
                        },
                        &site,
                        code.as_deref().filter(|_| {
                            matches!(
                                d.notice,
                                NoticeKind::Acknowledgement | NoticeKind::AccessCode
                            ) && d.party == Party::Complainant
                        }),
                    ) {
                        Ok(mut message) => {
                            if d.party == Party::Complainant && d.channel == DeliveryChannel::Email
                            {
                                message.reply_to = self.reply_address(&case.tracking_no);
                            }
                            sender.send(&message).await
                        }
                        Err(e) => {
                            tracing::error!(delivery = %d.id, error = %e, "a notice template failed");
                            SendOutcome::Permanent {
                                error: "the notice template failed to render".into(),
                            }
                        }
                    },
                },
            };
            outcomes.push((d.id.clone(), outcome));
        }
        let mut report = SendReport {
            deferred: deferred.len() as u64,
            ..Default::default()
        };
        for (_, o) in &outcomes {
            match o {
                SendOutcome::Sent { .. } => report.sent += 1,
                SendOutcome::Temporary { .. } => report.retried += 1,
                SendOutcome::Permanent { .. } => report.failed += 1,
            }
        }
        for (id, o) in &outcomes {
            let channel = due
                .iter()
                .find(|d| &d.id == id)
                .map_or(DeliveryChannel::InApp, |d| d.channel);
            let result = match o {
                SendOutcome::Sent { .. } => "sent",
                SendOutcome::Temporary { .. } => "retry",
                SendOutcome::Permanent { .. } => "failed",
            };
            metrics::counter!("redress_deliveries_total", "channel" => channel.as_str(), "result" => result)
                .increment(1);
        }
        self.mutate(
            id,
            redress_domain::Actor::system("outbound"),
            |case, ctx| {
                let mut effects = redress_domain::Effects::default();
                for (delivery, outcome) in &outcomes {
                    effects.merge(case.settle_delivery(delivery, outcome, ctx));
                }
                for (delivery, until) in &deferred {
                    effects.merge(case.defer_delivery(delivery, *until));
                }
                Ok(effects)
            },
        )
        .await?;
        Ok(report)
    }
}

/// The notices sent in one hour of the application's clock.
#[derive(Debug, Default)]
pub struct HourlyCap {
    hour: Option<DateTime<Utc>>,
    sent: u64,
    alerted: bool,
}

/// The start of the clock hour `now` is in.
fn hour_of(now: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{DurationRound, TimeDelta};
    now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now)
}

/// Whether an SMS may go to `phone`: its country prefix is one of
/// `prefixes` (a number without `+` is a mainland number, `+86`).
pub fn sms_allowed(phone: &str, prefixes: &[String]) -> bool {
    // What is checked is what is sent: a number of other characters
    // (a full-width plus, letters) is not judged, it is refused.
    if !phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        return false;
    }
    let digits: String = phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    let international = if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else if digits.starts_with('+') {
        digits
    } else {
        format!("+86{digits}")
    };
    prefixes.iter().any(|p| international.starts_with(p.trim()))
}

#[cfg(test)]
mod sms_tests {
    use super::sms_allowed;

    #[test]
    fn sms_goes_only_to_allowed_prefixes_in_plain_numbers() {
        let cn = ["+86".to_string()];
        assert!(sms_allowed("13812345678", &cn));
        assert!(sms_allowed("+86 138-1234-5678", &cn));
        assert!(sms_allowed("0086 13812345678", &cn));
        assert!(!sms_allowed("+1 202 555 0100", &cn));
        // A full-width plus would be checked as +86 and sent as +1.
        assert!(!sms_allowed("\u{ff0b}1 416 555 0100", &cn));
        assert!(sms_allowed(
            "+852 9123 4567",
            &["+86".into(), "+852".into()]
        ));
    }
}

/// What one sending step did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SendReport {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
    /// Put off to the next hour by the installation's cap.
    pub deferred: u64,
}

/// Where `delivery` goes: the complainant's address or phone as recorded,
/// or the staff member's address as the directory has it now.
fn address(
    case: &Case,
    delivery: &Delivery,
    staff: Option<&crate::Directory>,
    respondent: Option<&str>,
) -> Option<String> {
    let c = &case.record.complainant;
    match (delivery.party, delivery.channel) {
        (Party::Respondent, DeliveryChannel::Email) => respondent.map(str::to_string),
        (Party::Complainant, DeliveryChannel::Email) => c.email.clone(),
        (Party::Complainant, DeliveryChannel::Sms) => c.phone.clone(),
        (Party::Complainant, DeliveryChannel::Webhook) => c.user_id.clone(),
        (Party::Staff, DeliveryChannel::Email) => staff
            .and_then(|d| d.email(&delivery.recipient))
            .map(str::to_string),
        _ => None,
    }
}

/// How long each text of a template may be.
pub(crate) const MAX_SUBJECT: usize = 300;
pub(crate) const MAX_BODY: usize = 10_000;
pub(crate) const MAX_SMS: usize = 500;

impl crate::App {
    /// Compiles the shipped templates with the installation's saved ones on
    /// top. A saved template that no longer compiles (it was checked when
    /// saved, so only a newer build could refuse it) is left out and logged.
    pub async fn reload_notices(&self) -> crate::AppResult<()> {
        let rows = self.store.list_notice_templates().await?;
        let mut overrides = Vec::new();
        for r in rows {
            let Ok(kind) = r.kind.parse::<NoticeKind>() else {
                tracing::warn!(kind = %r.kind, "a saved notice template names an unknown kind");
                continue;
            };
            let t = NoticeTemplate {
                subject: r.subject,
                body: r.body,
                sms: r.sms,
            };
            if let Err((part, e)) = Notices::check(&t) {
                tracing::error!(%kind, locale = %r.locale, part, error = %e, "a saved notice template does not compile; the shipped one is used");
                continue;
            }
            overrides.push((kind, r.locale, t));
        }
        let notices = Notices::new(&overrides).map_err(crate::AppError::internal)?;
        *self.notices.write().expect("notices lock") = Arc::new(notices);
        Ok(())
    }

    fn template_json(
        kind: NoticeKind,
        locale: Locale,
        saved: Option<&redress_store::NoticeTemplateRow>,
    ) -> NoticeTemplateView {
        let shipped = Notices::shipped(kind, locale);
        let (subject, body, sms) = match (saved, &shipped) {
            (Some(s), _) => (s.subject.clone(), s.body.clone(), s.sms.clone()),
            (None, Some(t)) => (t.subject.clone(), t.body.clone(), t.sms.clone()),
            (None, None) => Default::default(),
        };
        NoticeTemplateView {
            body,
            customized: saved.is_some(),
            kind,
            locale,
            shipped,
            sms,
            subject,
            updated_at: saved.map(|s| s.updated_at),
            updated_by: saved.map(|s| s.updated_by.clone()),
        }
    }

    /// `GET /admin/notice-templates`: every notice kind in both languages,
    /// as used now (saved or shipped), with the shipped text beside it.
    pub async fn list_notice_templates(
        &self,
        who: &crate::Principal,
    ) -> crate::AppResult<NoticeTemplateList> {
        self.admin(who)?;
        let saved = self.store.list_notice_templates().await?;
        let mut items = Vec::new();
        for kind in NoticeKind::ALL {
            for locale in [Locale::ZhCn, Locale::En] {
                let s = saved
                    .iter()
                    .find(|r| r.kind == kind.as_str() && r.locale == locale);
                items.push(Self::template_json(*kind, locale, s));
            }
        }
        let total = items.len();
        Ok(NoticeTemplateList {
            items,
            next_cursor: None,
            total,
        })
    }

    /// The template a path names: its kind and locale, or why not (the API
    /// handler asks before it parses the body).
    pub fn template_key(kind: &str, locale: &str) -> crate::AppResult<(NoticeKind, Locale)> {
        let mut errors = redress_domain::FieldErrors::new();
        let k = kind.parse::<NoticeKind>().ok();
        if k.is_none() {
            errors.add("kind", Reason::NoticeKind);
        }
        let l = locale.parse::<Locale>().ok();
        if l.is_none() {
            errors.add("locale", Reason::Locale);
        }
        errors.into_result().map_err(crate::AppError::from)?;
        Ok((k.expect("checked"), l.expect("checked")))
    }

    /// `PUT /admin/notice-templates/{kind}/{locale} {subject, body, sms}`:
    /// the installation's wording, checked by rendering it on a sample case
    /// before it is saved; it applies to notices sent from then on.
    pub async fn put_notice_template(
        &self,
        who: &crate::Principal,
        kind: &str,
        locale: &str,
        cmd: &crate::commands::NoticeTemplateCommand,
    ) -> crate::AppResult<NoticeTemplateView> {
        let admin = self.admin(who)?.user.username.clone();
        let (kind, locale) = Self::template_key(kind, locale)?;
        let t = NoticeTemplate {
            subject: cmd.subject.clone(),
            body: cmd.body.clone(),
            sms: cmd.sms.clone(),
        };
        if let Err((part, e)) = Notices::check(&t) {
            return Err(crate::AppError::invalid(
                part,
                Reason::Template {
                    what: e.to_string(),
                },
            ));
        }
        let row = redress_store::NoticeTemplateRow {
            kind: kind.as_str().to_string(),
            locale,
            subject: t.subject,
            body: t.body,
            sms: t.sms,
            updated_at: self.now(),
            updated_by: format!("staff:{admin}"),
        };
        let event = self.admin_event(
            who,
            "notice_template_saved",
            json!({"kind": kind, "locale": locale}),
        );
        self.store.put_notice_template(row.clone(), event).await?;
        self.reload_notices().await?;
        Ok(Self::template_json(kind, locale, Some(&row)))
    }

    /// `DELETE /admin/notice-templates/{kind}/{locale}`: back to the
    /// shipped wording; 404 when the installation had none of its own.
    pub async fn delete_notice_template(
        &self,
        who: &crate::Principal,
        kind: &str,
        locale: &str,
    ) -> crate::AppResult<NoticeTemplateView> {
        self.admin(who)?;
        let (kind, locale) = Self::template_key(kind, locale)?;
        let event = self.admin_event(
            who,
            "notice_template_reset",
            json!({"kind": kind, "locale": locale}),
        );
        if !self
            .store
            .delete_notice_template(kind.as_str(), locale, event)
            .await?
        {
            return Err(crate::AppError::NotFound);
        }
        self.reload_notices().await?;
        Ok(Self::template_json(kind, locale, None))
    }
}
