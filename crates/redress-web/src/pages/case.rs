//! The staff console's case page, a workspace: on wide screens a main
//! column (the record, the result, the work forms, and the case's activity
//! — messages, notes, files and journal — in time order) and a side column
//! (status and deadlines, parties, routing, related cases, corrective
//! actions). Only the actions the viewer may take in the case's current
//! state are offered, each folded until opened. Every action posts, then
//! redirects back with a message (post/redirect/get); a refused form is
//! shown again open, with what was typed; refusing, merging, deciding and
//! reviewing need a ticked confirmation; a form filled on a page that has
//! since gone stale is not applied: the page says the case changed and
//! shows it as it is now.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use redress_app::commands::{
    AcceptCommand, AssignCommand, CompleteActionCommand, DecideCommand, EraseCommand,
    ExtendCommand, LinkCommand, MergeCommand, NoteCommand, PauseCommand, RejectCommand,
    RequestInfoCommand, ResumeCommand, ReviewCommand, StaffMessageCommand, UpdateActionCommand,
};
use redress_app::workspace::{CaseWorkspace, Offers, Relation};
use redress_app::{AppError, Principal};
use redress_domain::{ActorKind, Audience, Case, Reason};
use serde::Deserialize;
use serde_json::{Value, json};

use super::public::LangQuery;
use super::staff::staff_ctx;
use super::{Base, PageCtx, Tr, local_time};
use crate::state::AppState;

/// Rows of the structured remedy, sanction and corrective-action fields
/// the decide and review forms offer (the API takes any number).
const REMEDY_ROWS: usize = 3;
const SANCTION_ROWS: usize = 2;
const ACTION_ROWS: usize = 3;

/// One entry of the case's activity, in time order.
struct Item {
    at: String,
    /// `in` (from a party), `out` (staff to a party), `internal`, `note`,
    /// `file`, `event`, `views`.
    class: &'static str,
    head: String,
    body: Option<String>,
    details: Vec<(String, String)>,
    file: Option<FileLine>,
}

/// A file of the case.
struct FileLine {
    id: String,
    name: String,
    /// Type, size.
    meta: String,
    /// Opens in the browser (a sniffed picture or PDF), else downloads.
    inline: bool,
    /// A thumbnail was made at upload.
    thumbnail: bool,
    shared: Option<String>,
    sha256: String,
}

/// A corrective action: id, description, owner, due, done, overdue.
struct ActionLine {
    id: String,
    description: String,
    owner: String,
    owner_username: String,
    due: String,
    done: Option<String>,
}

/// The result in force and what led to it.
struct ResultView {
    outcome: String,
    basis: Vec<String>,
    reply: String,
    remedies: Vec<String>,
    sanctions: Vec<String>,
    by: String,
    at: String,
}

struct ReviewView {
    result: String,
    outcome: Option<String>,
    basis: Vec<String>,
    reply: String,
    remedies: Vec<String>,
    sanctions: Vec<String>,
    by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "staff_case.html")]
struct CasePage<'a> {
    base: &'a Base,
    id: String,
    version: i64,
    tracking_no: String,
    status: String,
    status_code: String,
    closure: Option<String>,
    subject: String,
    description: String,
    demands: String,
    /// The complainant's contact lines: label, value.
    complainant: Vec<(String, String)>,
    respondent: String,
    channel: String,
    category: String,
    department: String,
    assignee: String,
    /// The running clock in words, and whether it is overdue.
    clock: Option<(String, bool)>,
    paused: Option<String>,
    provisional: bool,
    deadlines: Vec<(String, String)>,
    rejection: Option<(String, String)>,
    info_request: Option<(Vec<String>, String)>,
    decision: Option<ResultView>,
    appeal: Option<(String, String)>,
    review: Option<ReviewView>,
    legal_hold: Option<String>,
    /// Related cases: id, tracking number, relation in words.
    related: Vec<(String, String, String)>,
    similar: Vec<(String, String, String, String)>,
    activity: Vec<Item>,
    corrective: Vec<ActionLine>,
    offers: Offers,
    categories: Vec<(String, String)>,
    suggestions: Vec<(String, String, String)>,
    preselect: String,
    assignees: Vec<(String, String)>,
    owners: Vec<(String, String)>,
    canned: Vec<(String, String, String)>,
    remedy_kinds: Vec<(String, String)>,
    sanction_kinds: Vec<(String, String)>,
    remedy_rows: Vec<usize>,
    sanction_rows: Vec<usize>,
    action_rows: Vec<usize>,
    outcomes: Vec<(String, String)>,
    max_file: u64,
    notice: Option<String>,
    error: Option<String>,
    /// The form to show open (the one refused), and what was typed in it.
    open: String,
    typed: HashMap<String, String>,
}

impl CasePage<'_> {
    /// What was typed into `field` of the refused form `form`.
    fn v(&self, form: &str, field: &str) -> &str {
        if self.open == form {
            self.typed.get(field).map_or("", String::as_str)
        } else {
            ""
        }
    }

    /// Whether `value` was the choice of `field` in the refused `form`.
    fn sel(&self, form: &str, field: &str, value: &str) -> bool {
        self.v(form, field) == value
    }

    fn is_open(&self, form: &str) -> bool {
        self.open == form
    }
}

/// How a page is rendered besides the case: what to say, what to keep.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    error: Option<String>,
    open: String,
    typed: HashMap<String, String>,
}

/// Names the page shows instead of codes.
struct Names<'a> {
    tr: Tr,
    tz: chrono_tz::Tz,
    w: &'a CaseWorkspace,
}

impl Names<'_> {
    fn person(&self, username: &str) -> String {
        self.w
            .names
            .get(username)
            .filter(|n| !n.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| username.to_string())
    }

    fn department(&self, code: &str) -> String {
        self.w
            .departments
            .iter()
            .find(|d| d.code == code)
            .map_or_else(
                || code.to_string(),
                |d| super::admin::localized(self.tr, &d.name, d.name_en.as_deref()),
            )
    }

    fn category(&self, code: &str) -> String {
        let en = self.tr.locale == redress_domain::Locale::En;
        self.w
            .categories
            .iter()
            .find(|c| c.code == code)
            .map_or_else(
                || code.to_string(),
                |c| match (en, &c.name_en) {
                    (true, Some(n)) if !n.is_empty() => n.clone(),
                    _ => c.name.clone(),
                },
            )
    }

    fn respondent(&self) -> String {
        let Some(r) = self.w.case.record.respondent.as_ref() else {
            return self.tr.t("case-respondent-none");
        };
        let name = r
            .name
            .clone()
            .or_else(|| self.w.respondent_name.clone())
            .unwrap_or_default();
        let kind = self.tr.t(&format!("rk-{}", r.kind));
        if name.is_empty() {
            format!("{kind} {}", r.id)
        } else {
            format!("{name}（{kind} {}）", r.id)
        }
    }

    fn respondent_short(&self) -> String {
        let r = self.w.case.record.respondent.as_ref();
        r.and_then(|r| r.name.clone())
            .or_else(|| self.w.respondent_name.clone())
            .or_else(|| r.map(|r| r.id.clone()))
            .unwrap_or_default()
    }

    /// A journal actor (`staff:alice`, `complainant:…`, `system:sweep`) in
    /// words.
    fn actor(&self, actor: &str) -> String {
        let (kind, id) = actor.split_once(':').unwrap_or((actor, ""));
        match kind {
            "staff" => self.person(id),
            "complainant" => self.tr.t("actor-complainant"),
            "respondent" => format!(
                "{} {}",
                self.tr.t("actor-respondent"),
                self.respondent_short()
            ),
            "integration" => self.tr.with("actor-integration", &[("name", id)]),
            _ => self.tr.t("actor-system"),
        }
    }

    fn time(&self, at: DateTime<Utc>) -> String {
        local_time(at, self.tz)
    }

    fn outcome(&self, o: impl std::fmt::Display) -> String {
        self.tr.t(&format!("outcome-{o}"))
    }

    /// A remedy or sanction in words: its kind by name, the details, the
    /// amount with its currency, the duration.
    fn measure(&self, m: &redress_domain::Measure) -> String {
        let key = format!("measure-{}", m.kind);
        let kind = match self.tr.t(&key) {
            k if k == key => m.kind.clone(),
            k => k,
        };
        let mut line = kind;
        let tr = self.tr;
        if let Some(d) = m.description.as_deref().filter(|d| !d.is_empty()) {
            line = tr.with("measure-detail", &[("line", &line), ("detail", d)]);
        }
        if let Some(a) = m.amount {
            let currency = m.currency.as_deref().unwrap_or("CNY");
            let extra = format!("{a:.2} {currency}");
            line = tr.with("measure-extra", &[("line", &line), ("extra", &extra)]);
        }
        if let Some(days) = m.duration_days {
            let days = days.to_string();
            let extra = tr.with("measure-days", &[("n", days.as_str())]);
            line = tr.with("measure-extra", &[("line", &line), ("extra", &extra)]);
        }
        line
    }
}

/// The detail lines of a journal entry, from its data: the reasons,
/// dates, people and choices it records, each labelled.
fn event_details(n: &Names, kind: &str, data: &Value) -> Vec<(String, String)> {
    let tr = n.tr;
    let mut out = Vec::new();
    let Some(obj) = data.as_object() else {
        return out;
    };
    let text = |v: &Value| v.as_str().map(str::to_string);
    let time = |v: &Value| {
        v.as_str()
            .and_then(|t| t.parse::<DateTime<Utc>>().ok())
            .map(|t| n.time(t))
    };
    for (field, value) in obj {
        let shown = match field.as_str() {
            "reason" | "guidance" | "note" => text(value)
                .filter(|t| !t.is_empty())
                .map(|t| (format!("evd-{field}"), t)),
            "items" => value.as_array().map(|a| {
                let items: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                ("evd-items".to_string(), items.join("；"))
            }),
            "due_at" if kind != "deadline_missed" && kind != "respondent_replied" => {
                time(value).map(|t| ("evd-due".to_string(), t))
            }
            "handling_due_at" => time(value).map(|t| ("dl-handling".to_string(), t)),
            "review_due_at" => time(value).map(|t| ("dl-review".to_string(), t)),
            "acceptance_due_at" => time(value).map(|t| ("dl-acceptance".to_string(), t)),
            "category" => text(value).map(|c| ("case-category".to_string(), n.category(&c))),
            "department" if kind == "accepted" => {
                text(value).map(|d| ("col-department".to_string(), n.department(&d)))
            }
            "handler" => text(value).map(|h| ("evd-handler".to_string(), n.person(&h))),
            "outcome" => text(value).map(|o| ("act-decide-outcome".to_string(), n.outcome(o))),
            "result" => text(value).map(|r| {
                (
                    "act-review-result".to_string(),
                    tr.t(&format!("review-{r}")),
                )
            }),
            "working_days" => value
                .as_u64()
                .map(|d| ("evd-working-days".to_string(), d.to_string())),
            "score" => value
                .as_u64()
                .map(|s| ("evd-score".to_string(), s.to_string())),
            "late" if value == true => Some(("evd-late".to_string(), tr.t("yes"))),
            _ => None,
        };
        if let Some((key, value)) = shown {
            out.push((tr.t(&key), value));
        }
    }
    out
}

/// The activity of the case: messages, notes and files as themselves, the
/// other journal entries with their details, and views of personal data
/// summarised per person and day.
fn activity(n: &Names) -> Vec<Item> {
    let tr = n.tr;
    let case = &n.w.case;
    let mut items: Vec<(DateTime<Utc>, Item)> = Vec::new();
    for m in &case.messages {
        let (class, head) = match (m.author.kind, m.audience) {
            (ActorKind::Complainant, _) => ("in", tr.t("msg-from-complainant")),
            (ActorKind::Respondent, _) => (
                "in",
                tr.with("msg-from-respondent", &[("name", &n.respondent_short())]),
            ),
            (_, Audience::Internal) => (
                "internal",
                tr.with("msg-internal", &[("who", &n.person(&m.author.name))]),
            ),
            (kind, audience) => {
                let who = match kind {
                    ActorKind::Staff => n.person(&m.author.name),
                    ActorKind::Integration => {
                        tr.with("actor-integration", &[("name", &m.author.name)])
                    }
                    _ => tr.t("actor-system"),
                };
                let to = tr.t(&format!("to-{audience}"));
                ("out", tr.with("msg-to", &[("who", &who), ("to", &to)]))
            }
        };
        items.push((
            m.at,
            Item {
                at: n.time(m.at),
                class,
                head,
                body: Some(m.body.clone()),
                details: Vec::new(),
                file: None,
            },
        ));
    }
    for note in &case.notes {
        let kind = tr.t(&format!("note-{}", note.kind));
        items.push((
            note.at,
            Item {
                at: n.time(note.at),
                class: "note",
                head: tr.with(
                    "note-by",
                    &[("kind", &kind), ("who", &n.person(&note.author))],
                ),
                body: Some(note.body.clone()),
                details: Vec::new(),
                file: None,
            },
        ));
    }
    for e in &case.evidence {
        let who = match e.uploaded_by.kind {
            ActorKind::Staff => n.person(&e.uploaded_by.name),
            ActorKind::Complainant => tr.t("actor-complainant"),
            ActorKind::Respondent => {
                format!("{} {}", tr.t("actor-respondent"), n.respondent_short())
            }
            ActorKind::Integration => {
                tr.with("actor-integration", &[("name", &e.uploaded_by.name)])
            }
            ActorKind::System => tr.t("actor-system"),
        };
        let shared: Vec<String> = e
            .shared_with
            .iter()
            .map(|p| tr.t(&format!("staff-file-share-{p}")))
            .collect();
        items.push((
            e.at,
            Item {
                at: n.time(e.at),
                class: "file",
                head: tr.with("file-by", &[("who", &who)]),
                body: None,
                details: Vec::new(),
                file: Some(FileLine {
                    id: e.id.clone(),
                    name: e.filename.clone(),
                    meta: format!("{} · {}", e.content_type, super::track::size_text(e.size)),
                    inline: crate::api::track::opens_inline(&e.content_type),
                    thumbnail: e.thumbnail,
                    shared: (!shared.is_empty())
                        .then(|| tr.with("staff-file-shared-with", &[("who", &shared.join("、"))])),
                    sha256: e.sha256.clone(),
                }),
            },
        ));
    }
    // Views: per person, kind and local day, one line with the count.
    let mut views: BTreeMap<(String, String, String), (DateTime<Utc>, usize)> = BTreeMap::new();
    for e in &n.w.events {
        match e.kind.as_str() {
            "message_added" | "note_added" | "evidence_added" => continue,
            "personal_data_viewed" | "evidence_viewed" | "case_viewed" => {
                let day = e.at.with_timezone(&n.tz).format("%Y-%m-%d").to_string();
                let entry = views
                    .entry((day, e.actor.clone(), e.kind.clone()))
                    .or_insert((e.at, 0));
                entry.0 = entry.0.max(e.at);
                entry.1 += 1;
                continue;
            }
            _ => {}
        }
        let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
        let what = tr.t(&format!("ev-{}", e.kind.replace('_', "-")));
        items.push((
            e.at,
            Item {
                at: n.time(e.at),
                class: "event",
                head: tr.with("ev-line", &[("who", &n.actor(&e.actor)), ("what", &what)]),
                body: None,
                details: event_details(n, &e.kind, &data),
                file: None,
            },
        ));
    }
    for ((day, actor, kind), (last, count)) in views {
        let what = tr.t(&format!("ev-{}", kind.replace('_', "-")));
        let count = count.to_string();
        items.push((
            last,
            Item {
                at: day.clone(),
                class: "views",
                head: tr.with(
                    "ev-views",
                    &[
                        ("who", &n.actor(&actor)),
                        ("what", &what),
                        ("count", &count),
                        ("day", &day),
                    ],
                ),
                body: None,
                details: Vec::new(),
                file: None,
            },
        ));
    }
    items.sort_by_key(|(at, _)| *at);
    items.into_iter().map(|(_, i)| i).collect()
}

/// The running clock in words: the stage, its due time and the working
/// time left (or overdue).
fn clock_text(
    n: &Names,
    case: &Case,
    now: DateTime<Utc>,
    cal: &redress_domain::Calendar,
) -> Option<(String, bool)> {
    let c = case.clock.as_ref().filter(|_| !case.is_sealed())?;
    let tr = n.tr;
    let stage = match c.stage {
        redress_domain::Stage::Acceptance => "dl-acceptance",
        redress_domain::Stage::Supplement => "dl-supplement",
        redress_domain::Stage::Handling => "dl-handling",
        redress_domain::Stage::Appeal => "dl-appeal",
        redress_domain::Stage::Review => "dl-review",
    };
    let stage = tr.t(stage);
    let due = n.time(c.due_at);
    let seconds = c.remaining_working_seconds(cal, now);
    let overdue = c.stage.is_staff_duty() && c.paused.is_none() && c.due_at <= now;
    let left = if overdue {
        tr.t("clock-overdue")
    } else {
        let hours = (seconds.max(0) as f64 / 3600.0).round() as i64;
        let days = c.remaining_working_days(cal, now);
        if hours < 24 {
            tr.with("clock-hours-left", &[("n", &hours.to_string())])
        } else {
            tr.with("clock-days-left", &[("n", &days.to_string())])
        }
    };
    Some((format!("{stage} {due} · {left}"), overdue))
}

async fn render(
    s: &AppState,
    ctx: PageCtx,
    who: &Principal,
    id: &str,
    status: StatusCode,
    out: Outcome,
) -> Response {
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    let w = match s.app.case_workspace(who, uuid).await {
        Ok(w) => w,
        Err(e) => return ctx.fail(&e),
    };
    let tr = ctx.tr();
    let tz = s.app.config.time_zone;
    let now = s.app.now();
    let cal = s.app.calendar();
    let n = Names { tr, tz, w: &w };
    let case = &w.case;
    let c = &case.record.complainant;
    let complainant = [
        ("f-name", Some(c.name.clone())),
        ("f-phone", c.phone.clone()),
        ("f-email", c.email.clone()),
        ("f-user-id", c.user_id.clone()),
        ("f-postal-address", c.postal_address.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((tr.t(k), v.filter(|v| !v.is_empty())?)))
    .collect();
    let d = &case.deadlines;
    let mut deadlines: Vec<(String, String)> = [
        ("dl-acceptance", d.acceptance_due_at),
        ("dl-supplement", d.supplement_due_at),
        ("dl-handling", d.handling_due_at),
        ("dl-appeal", d.appeal_due_at),
        ("dl-review", d.review_due_at),
    ]
    .into_iter()
    .filter_map(|(k, at)| Some((tr.t(k), n.time(at?))))
    .collect();
    if let Some(r) = case.respondent_reply.as_ref() {
        let state = match (r.first_reply(), r.missed_at.is_some()) {
            (Some(_), _) if r.on_time() == Some(false) => "dl-respondent-replied-late",
            (Some(_), _) => "dl-respondent-replied",
            (None, true) => "dl-respondent-missed",
            (None, false) if case.respondent_reply_expected() => "dl-respondent-waiting",
            (None, false) => "dl-respondent-none",
        };
        deadlines.push((
            tr.t("dl-respondent-reply"),
            format!("{} · {}", n.time(r.due_at), tr.t(state)),
        ));
    }
    if let Some(at) = d.retention_until {
        deadlines.push((tr.t("dl-retention"), n.time(at)));
    }
    let lines = |m: &[redress_domain::Measure]| m.iter().map(|m| n.measure(m)).collect::<Vec<_>>();
    let decision = case.decision.as_ref().map(|d| ResultView {
        outcome: n.outcome(d.outcome),
        basis: d.basis.clone(),
        reply: d.reply.clone(),
        remedies: lines(&d.remedies),
        sanctions: lines(&d.sanctions),
        by: n.person(&d.decided_by),
        at: n.time(d.decided_at),
    });
    let review = case.review.as_ref().map(|r| ReviewView {
        result: tr.t(&format!("review-{}", r.result)),
        outcome: r.outcome.map(|o| n.outcome(o)),
        basis: r.basis.clone(),
        reply: r.reply.clone(),
        remedies: lines(&r.remedies),
        sanctions: lines(&r.sanctions),
        by: n.person(&r.reviewed_by),
        at: n.time(r.reviewed_at),
    });
    let related = w
        .related
        .iter()
        .map(|r| {
            let key = match r.relation {
                Relation::Linked => "rel-linked",
                Relation::PossibleDuplicate => "rel-duplicate",
                Relation::MergedInto => "rel-merged-into",
                Relation::MergedFrom => "rel-merged-from",
            };
            (r.id.to_string(), r.tracking_no.clone(), tr.t(key))
        })
        .collect();
    let percent = |x: f64| format!("{:.0}", x * 100.0);
    let similar = w
        .similar
        .iter()
        .map(|c| {
            let score = tr.with("case-similar-score", &[("score", &percent(c.score))]);
            (
                c.id.to_string(),
                c.tracking_no.clone(),
                c.subject.clone(),
                score,
            )
        })
        .collect();
    let categories: Vec<(String, String)> = w
        .categories
        .iter()
        .map(|c| (c.code.clone(), n.category(&c.code)))
        .collect();
    let suggestions: Vec<(String, String, String)> = w
        .suggestions
        .iter()
        .map(|x| {
            let confidence = tr.with(
                "act-accept-confidence",
                &[("confidence", &percent(x.confidence))],
            );
            (x.category.clone(), n.category(&x.category), confidence)
        })
        .collect();
    let preselect = suggestions.first().map(|x| x.0.clone()).unwrap_or_default();
    let corrective = case
        .decision
        .as_ref()
        .map(|d| {
            d.actions
                .iter()
                .map(|a| ActionLine {
                    id: a.id.clone(),
                    description: a.description.clone(),
                    owner: n.person(&a.owner),
                    owner_username: a.owner.clone(),
                    due: n.time(a.due_at),
                    done: a.done_at.map(|at| {
                        let by = a
                            .done_by
                            .as_deref()
                            .map(|b| n.person(b))
                            .unwrap_or_default();
                        format!("{} · {by}", n.time(at))
                    }),
                })
                .collect()
        })
        .unwrap_or_default();
    let people = |list: &[redress_app::workspace::Person]| {
        list.iter()
            .map(|p| {
                let shown = if p.display_name.trim().is_empty() || p.display_name == p.username {
                    p.username.clone()
                } else {
                    tr.with(
                        "person-with-username",
                        &[("name", &p.display_name), ("username", &p.username)],
                    )
                };
                (p.username.clone(), shown)
            })
            .collect::<Vec<_>>()
    };
    let kinds = |list: &[&str]| {
        list.iter()
            .map(|k| (k.to_string(), tr.t(&format!("measure-{k}"))))
            .collect::<Vec<_>>()
    };
    let canned = canned_choices(s, tr, Some(case.locale.as_str())).await;
    let page = CasePage {
        base: &ctx.base,
        id: id.to_string(),
        version: case.version,
        tracking_no: case.tracking_no.clone(),
        status: tr.t(&format!("sst-{}", case.status)),
        status_code: case.status.to_string(),
        closure: case
            .closure
            .map(|c| tr.with("closure-as", &[("how", &tr.t(&format!("sclosure-{c}")))])),
        subject: case.record.subject.clone(),
        description: case.record.description.clone(),
        demands: case.record.demands.clone().unwrap_or_default(),
        complainant,
        respondent: n.respondent(),
        channel: match case.call_reference.as_deref() {
            Some(r) => format!(
                "{} · {} {r}",
                tr.t(&format!("case-channel-{}", case.channel)),
                tr.t("f-call-reference")
            ),
            None => tr.t(&format!("case-channel-{}", case.channel)),
        },
        category: case
            .category
            .as_deref()
            .map_or_else(|| tr.t("not-yet"), |c| n.category(c)),
        department: case
            .department
            .as_deref()
            .map_or_else(|| tr.t("not-yet"), |d| n.department(d)),
        assignee: case
            .assignee
            .as_deref()
            .map_or_else(|| tr.t("unassigned"), |a| n.person(a)),
        clock: clock_text(&n, case, now, &cal),
        paused: case
            .clock
            .as_ref()
            .and_then(|c| c.paused.as_ref())
            .map(|p| p.reason.clone()),
        provisional: case
            .clock
            .as_ref()
            .is_some_and(|c| !case.is_sealed() && c.is_provisional(&cal, now)),
        deadlines,
        rejection: case
            .rejection
            .as_ref()
            .map(|r| (r.reason.clone(), r.guidance.clone())),
        info_request: case
            .info_request
            .as_ref()
            .map(|r| (r.items.clone(), n.time(r.due_at))),
        decision,
        appeal: case
            .appeal
            .as_ref()
            .map(|a| (a.reason.clone(), n.time(a.at))),
        review,
        legal_hold: case.legal_hold.then(|| tr.t("legal-hold-on")),
        related,
        similar,
        activity: activity(&n),
        corrective,
        offers: w.offers,
        categories,
        suggestions,
        preselect,
        assignees: people(&w.assignees),
        owners: people(&w.owners),
        canned,
        remedy_kinds: kinds(redress_domain::REMEDY_KINDS),
        sanction_kinds: kinds(redress_domain::SANCTION_KINDS),
        remedy_rows: (0..REMEDY_ROWS).collect(),
        sanction_rows: (0..SANCTION_ROWS).collect(),
        action_rows: (0..ACTION_ROWS).collect(),
        outcomes: ["upheld", "partially_upheld", "not_upheld", "settled"]
            .into_iter()
            .map(|o| (o.to_string(), tr.t(&format!("outcome-{o}"))))
            .collect(),
        max_file: s.app.evidence.max_bytes,
        notice: out.notice,
        error: out.error,
        open: out.open,
        typed: out.typed,
    }
    .render();
    ctx.respond(status, page)
}

#[derive(Debug, Default, Deserialize)]
pub struct CaseQuery {
    pub lang: Option<String>,
    /// What the action before the redirect did, to say so.
    pub done: Option<String>,
}

/// `GET /staff/cases/{id}`.
pub async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let path = format!("/staff/cases/{id}");
    let (ctx, who) = match staff_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let notice = q.done.as_deref().map(|done| {
        let key = format!("did-{}", url_word(done));
        match ctx.tr().t(&key) {
            k if k == key => ctx.tr().t("staff-done"),
            text => text,
        }
    });
    let out = Outcome {
        notice,
        ..Default::default()
    };
    render(&s, ctx, &who, &id, StatusCode::OK, out).await
}

/// Lines of a text area as a list.
fn lines(v: Option<&String>) -> Vec<String> {
    v.map(|t| {
        t.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    })
    .unwrap_or_default()
}

/// The actions that ask for a ticked confirmation first.
const CONFIRMED: &[&str] = &["reject", "merge", "decide", "review", "erase"];

/// The remedies, sanctions and corrective actions of a decide or review
/// form: the structured rows, after any lines of the older text areas.
fn orders(
    app: &redress_app::App,
    f: &HashMap<String, String>,
) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let get = |k: &str| f.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    // A number when the text reads as one; else the text, for the API's
    // check to name.
    let number = |raw: &str| -> Value {
        match raw.replace([',', '，'], "").parse::<f64>() {
            Ok(x) => json!(x),
            Err(_) => json!(raw),
        }
    };
    // The older text area's lines, then each row whose first field is
    // filled: `(form field prefix, JSON key)` pairs, the first the row's key.
    let rows = |list: &str, n: usize, fields: &[(&str, &str)]| -> Vec<Value> {
        let mut out: Vec<Value> = lines(f.get(list)).into_iter().map(Value::from).collect();
        for i in 0..n {
            let mut row = serde_json::Map::new();
            for (prefix, key) in fields {
                let Some(raw) = get(&format!("{prefix}_{i}")) else {
                    continue;
                };
                let value = match *key {
                    "amount" => number(raw),
                    "duration_days" => match raw.parse::<u64>() {
                        Ok(n) => json!(n),
                        Err(_) => json!(raw),
                    },
                    "due_at" => json!(end_of_day(app, raw)),
                    _ => json!(raw),
                };
                row.insert(key.to_string(), value);
            }
            if row.contains_key(fields[0].1) {
                out.push(Value::Object(row));
            }
        }
        out
    };
    let mut remedies = rows(
        "remedies",
        REMEDY_ROWS,
        &[
            ("remedy_kind", "kind"),
            ("remedy_desc", "description"),
            ("remedy_amount", "amount"),
            ("remedy_currency", "currency"),
        ],
    );
    // A currency goes with an amount, in CNY unless given.
    for m in remedies.iter_mut().filter_map(Value::as_object_mut) {
        if !m.contains_key("amount") {
            m.remove("currency");
        } else if !m.contains_key("currency") {
            m.insert("currency".into(), json!("CNY"));
        }
    }
    let sanctions = rows(
        "sanctions",
        SANCTION_ROWS,
        &[
            ("sanction_kind", "kind"),
            ("sanction_desc", "description"),
            ("sanction_days", "duration_days"),
        ],
    );
    let actions = rows(
        "actions",
        ACTION_ROWS,
        &[
            ("action_desc", "description"),
            ("action_owner", "owner"),
            ("action_due", "due_at"),
        ],
    );
    (remedies, sanctions, actions)
}

/// A date from a form is due at its end (24:00 local time); anything else
/// is passed on for the API's check to name.
fn end_of_day(app: &redress_app::App, d: &str) -> String {
    match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
        Ok(day) => app.calendar().end_of_local_day(day).to_rfc3339(),
        Err(_) => d.to_string(),
    }
}

/// `POST /staff/cases/{id}/{action}`: the case actions as forms.
pub async fn act(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let path = format!("/staff/cases/{id}");
    let (ctx, who) = match staff_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !super::csrf::verify(&headers, f.get("csrf").map(String::as_str)) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    let mut typed = f.clone();
    typed.remove("csrf");
    let again = |ctx: PageCtx, status: StatusCode, error: String| {
        let out = Outcome {
            error: Some(error),
            open: url_word(&action),
            typed: typed.clone(),
            ..Default::default()
        };
        let (s, who, id) = (s.clone(), who.clone(), id.clone());
        async move { render(&s, ctx, &who, &id, status, out).await }
    };
    // A form filled on a page that is stale now is not applied: the case
    // changed under it.
    if let Some(seen) = f.get("version").and_then(|v| v.parse::<i64>().ok()) {
        match s.app.case_version(&who, uuid).await {
            Ok(now) if now != seen => {
                let message = ctx.tr().t("case-changed");
                return again(ctx, StatusCode::CONFLICT, message).await;
            }
            Ok(_) => {}
            Err(e) => return ctx.fail(&e),
        }
    }
    let get = |k: &str| f.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if CONFIRMED.contains(&action.as_str()) && get("confirm") != Some("yes") {
        let message = ctx.tr().t("act-unconfirmed");
        return again(ctx, StatusCode::UNPROCESSABLE_ENTITY, message).await;
    }
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
    let result = match action.as_str() {
        "accept" => run!(AcceptCommand::from_form(get("category"), None), |c| app
            .accept(&who, uuid, &c)),
        "reject" => {
            let c = RejectCommand {
                reason: get("reason").unwrap_or_default().into(),
                guidance: get("guidance").unwrap_or_default().into(),
            };
            app.reject(&who, uuid, &c).await
        }
        "request-info" => {
            let c = RequestInfoCommand {
                items: lines(f.get("items")),
                due_days: None,
            };
            app.request_info(&who, uuid, &c).await
        }
        "assign" => run!(AssignCommand::from_form(get("handler")), |c| app
            .assign(&who, uuid, &c)),
        "take" => {
            let me = who
                .staff()
                .map(|u| u.user.username.clone())
                .unwrap_or_default();
            run!(AssignCommand::from_form(Some(&me)), |c| app
                .assign(&who, uuid, &c))
        }
        "message" => {
            // Without script, a chosen canned reply stands in for an empty body.
            let canned = match get("canned").and_then(|c| c.parse::<uuid::Uuid>().ok()) {
                Some(reply) if get("body").is_none() => app
                    .store
                    .get_canned_reply(reply)
                    .await
                    .ok()
                    .flatten()
                    .map(|r| r.body),
                _ => None,
            };
            let body = get("body").map(str::to_string).or(canned);
            run!(StaffMessageCommand::from_form(get("audience"), body), |c| {
                app.staff_message(&who, uuid, &c)
            })
        }
        "note" => run!(NoteCommand::from_form(get("kind"), get("body")), |c| app
            .note(&who, uuid, &c)),
        "extend" => {
            let days: Option<u32> = get("days").and_then(|d| d.parse().ok());
            run!(ExtendCommand::from_form(days, get("reason")), |c| app
                .extend(&who, uuid, &c))
        }
        "pause" => {
            let c = PauseCommand {
                reason: get("reason").unwrap_or_default().into(),
            };
            app.pause(&who, uuid, &c).await
        }
        "resume" => {
            let c = ResumeCommand {
                reason: get("reason").map(str::to_string),
            };
            app.resume(&who, uuid, &c).await
        }
        "link" => run!(LinkCommand::from_form(get("other")), |c| app
            .link(&who, uuid, &c)),
        "merge" => run!(MergeCommand::from_form(get("into")), |c| app
            .merge(&who, uuid, &c)),
        "complete-action" => {
            let action_id = get("action_id").unwrap_or_default().to_string();
            let c = CompleteActionCommand {
                note: get("note").unwrap_or_default().into(),
            };
            app.complete_action(&who, uuid, &action_id, &c).await
        }
        "update-action" => {
            let action_id = get("action_id").unwrap_or_default().to_string();
            let due_at = get("due_date").map(|d| end_of_day(app, d));
            run!(
                UpdateActionCommand::from_form(get("owner"), due_at.as_deref()),
                |c| app.update_action(&who, uuid, &action_id, &c)
            )
        }
        // The orders' rows are read from JSON: their amounts, day counts
        // and dates get the API's reasons, named by row (`remedies[0].amount`).
        "decide" => {
            let (remedies, sanctions, actions) = orders(app, &f);
            let body = json!({"outcome": get("outcome"), "basis": lines(f.get("basis")),
                        "reply": get("reply"), "remedies": remedies,
                        "sanctions": sanctions, "actions": actions});
            run!(DecideCommand::parse(&body), |c| app.decide(&who, uuid, &c))
        }
        "erase" => {
            let c = EraseCommand {
                reason: get("reason").unwrap_or_default().into(),
            };
            app.erase(&who, uuid, &c).await
        }
        "review" => {
            // The outcome and what is ordered count for a changed result
            // only (the form offers them beside the result).
            let modified = get("result") == Some("modified");
            let (remedies, sanctions, actions) = if modified {
                orders(app, &f)
            } else {
                (Vec::new(), Vec::new(), Vec::new())
            };
            let body = json!({"result": get("result"), "basis": lines(f.get("basis")),
                        "reply": get("reply"),
                        "outcome": get("outcome").filter(|o| modified && !o.is_empty()),
                        "remedies": remedies, "sanctions": sanctions,
                        "actions": actions});
            run!(ReviewCommand::parse(&body), |c| app.review(&who, uuid, &c))
        }
        _ => return ctx.error(StatusCode::NOT_FOUND, "error-not-found"),
    };
    match result {
        Ok(_) => {
            let done = match action.as_str() {
                "update-action" => "action-updated".to_string(),
                "erase" => "erased".to_string(),
                other => url_word(other),
            };
            ctx.redirect(&format!("{path}?done={done}"))
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            let tr = ctx.tr();
            let (status, message) = match &e {
                AppError::Invalid(fields) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    super::fields_message(tr, fields),
                ),
                AppError::Forbidden(_) => (StatusCode::FORBIDDEN, tr.t("error-no-permission")),
                _ => (StatusCode::CONFLICT, tr.t("case-action-conflict")),
            };
            again(ctx, status, message).await
        }
        Err(e) => ctx.fail(&e),
    }
}

/// `POST /staff/cases/{id}/evidence`: a file from staff.
pub async fn evidence(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    form: axum::extract::Multipart,
) -> Response {
    let path = format!("/staff/cases/{id}");
    let (ctx, who) = match staff_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let sent = super::read_file_form(form, s.app.evidence.max_bytes, &|name| {
        matches!(name, "share_complainant" | "share_respondent")
    })
    .await;
    if sent.problem.is_none() && !super::csrf::verify(&headers, sent.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    let share: Vec<redress_domain::Party> = [
        ("share_complainant", redress_domain::Party::Complainant),
        ("share_respondent", redress_domain::Party::Respondent),
    ]
    .into_iter()
    .filter(|(k, _)| sent.values.get(*k).is_some_and(|v| v == "yes"))
    .map(|(_, p)| p)
    .collect();
    let (problem_errors, problem_status) = (sent.problem_errors(), sent.problem_status());
    let result = match (sent.problem, sent.file) {
        (Some(_), _) => Err(AppError::Invalid(redress_domain::FieldErrors(
            problem_errors,
        ))),
        (None, Some((name, bytes))) => {
            s.app
                .staff_evidence(&who, uuid, name.as_deref(), &bytes, &share)
                .await
        }
        (None, None) => Err(AppError::invalid("file", Reason::ChooseFile)),
    };
    match result {
        Ok(_) => ctx.redirect(&format!("{path}?done=evidence")),
        Err(AppError::Invalid(f)) => {
            let message = super::fields_message(ctx.tr(), &f);
            let status = if sent.problem.is_some() {
                problem_status
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let out = Outcome {
                error: Some(message),
                open: "evidence".into(),
                ..Default::default()
            };
            render(&s, ctx, &who, &id, status, out).await
        }
        Err(e) => ctx.fail(&e),
    }
}

/// `GET /staff/cases/{id}/evidence/{evidence_id}`: opens a file of the
/// case (the view is journaled).
pub async fn evidence_file(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, evidence_id)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
) -> Response {
    let (ctx, who, uuid) = match file_ctx(&s, &headers, &id, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match s.app.staff_evidence_file(&who, uuid, &evidence_id).await {
        Ok(file) => crate::api::track::file_download(file),
        Err(e) => ctx.fail(&e),
    }
}

/// The signed-in staff member and the case id of a file's address; the
/// page to answer with otherwise.
async fn file_ctx(
    s: &AppState,
    headers: &HeaderMap,
    id: &str,
    lang: Option<&str>,
) -> Result<(super::PageCtx, Principal, uuid::Uuid), Response> {
    let (ctx, who) = staff_ctx(s, headers, &format!("/staff/cases/{id}"), lang).await?;
    match id.parse::<uuid::Uuid>() {
        Ok(uuid) => Ok((ctx, who, uuid)),
        Err(_) => Err(ctx.error(StatusCode::NOT_FOUND, "error-not-found")),
    }
}

/// `GET /staff/cases/{id}/evidence/{evidence_id}/thumbnail`: the
/// thumbnail of a picture of the case (JPEG, made at upload).
pub async fn evidence_thumbnail(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, evidence_id)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
) -> Response {
    let (ctx, who, uuid) = match file_ctx(&s, &headers, &id, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match s
        .app
        .staff_evidence_thumbnail(&who, uuid, &evidence_id)
        .await
    {
        Ok(bytes) => crate::api::track::thumbnail_response(bytes),
        Err(e) => ctx.fail(&e),
    }
}

/// An action's name as it may appear in a query string.
fn url_word(action: &str) -> String {
    action
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The canned replies a case page offers: those in the case's language or
/// in any first, then the others, marked with their language.
async fn canned_choices(
    s: &AppState,
    tr: super::Tr,
    case_locale: Option<&str>,
) -> Vec<(String, String, String)> {
    let replies = s.app.store.list_canned_replies().await.unwrap_or_default();
    let fits = |r: &redress_store::CannedReply| {
        r.locale
            .is_none_or(|l| case_locale.is_none_or(|c| l.as_str() == c))
    };
    let (mut first, others): (Vec<_>, Vec<_>) = replies.into_iter().partition(fits);
    first.extend(others.into_iter().map(|mut r| {
        if let Some(l) = r.locale {
            r.title = format!("{} ({})", r.title, tr.t(&format!("locale-{l}")));
        }
        r
    }));
    first
        .into_iter()
        .map(|r| (r.id.to_string(), r.title, r.body))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use redress_domain::Locale;

    /// Every journal kind a case page may show has a name in both
    /// languages, and so have the kinds of remedy and sanction offered.
    #[test]
    fn every_event_and_measure_kind_has_a_name_in_both_languages() {
        let app_kinds = [
            "personal_data_viewed",
            "evidence_viewed",
            "case_viewed",
            "archive_exported",
            "data_exported",
            "cases_exported",
        ];
        for locale in [Locale::ZhCn, Locale::En] {
            let tr = Tr::new(locale);
            for kind in redress_domain::events::CASE_EVENTS
                .iter()
                .chain(app_kinds.iter())
            {
                let key = format!("ev-{}", kind.replace('_', "-"));
                assert_ne!(tr.t(&key), key, "{key} missing in {locale:?}");
            }
            let measures = redress_domain::REMEDY_KINDS
                .iter()
                .chain(redress_domain::SANCTION_KINDS);
            for kind in measures {
                let key = format!("measure-{kind}");
                assert_ne!(tr.t(&key), key, "{key} missing in {locale:?}");
            }
            for status in [
                "submitted",
                "needs_info",
                "in_progress",
                "resolved",
                "under_review",
                "closed",
            ] {
                let key = format!("sst-{status}");
                assert_ne!(tr.t(&key), key, "{key} missing in {locale:?}");
            }
        }
    }
}
