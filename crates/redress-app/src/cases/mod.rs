//! Case use cases: registration, the staff actions of SPEC §3, the
//! complainant's and the respondent's calls, lists and search.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use redress_domain::Reason;
use redress_domain::{
    ActionInput, Actor, ActorKind, Audience, Author, Case, CaseId, Channel, Evidence, NoteKind,
    Party, Role, Scope, Status, parse_registration,
};
use redress_store::{CaseFilter, IdempotencyRecord, InsertOutcome, StoreError, Visibility};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::access::{CaseAccess, Principal, StaffUser};
use crate::commands;
use crate::error::{AppError, AppResult};
use crate::views::{self, Contact};
use crate::{App, Loaded, refuse, stored};

// The calls by audience (each an `impl App` block).
mod complainant;
mod intake;
mod list;
mod respondent;
mod retention;
mod staff;

/// A fresh human-readable tracking number: `RD` + local date + six
/// characters of Crockford base32 (no I, L, O, U), e.g. `RD261128-7K3F9Q`.
pub fn new_tracking_no(app: &App) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let date = app
        .now()
        .with_timezone(&app.config.time_zone)
        .format("%y%m%d");
    let mut rng = rand::thread_rng();
    let suffix: String = (0..6)
        .map(|_| ALPHABET[rng.gen_range(0..32)] as char)
        .collect();
    format!("RD{date}-{suffix}")
}

/// How many earlier open cases a new one points to as likely duplicates.
const MAX_DUPLICATES: usize = 20;

/// Query of `GET /complaints`.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub status: Option<String>,
    pub department: Option<String>,
    pub category: Option<String>,
    pub respondent: Option<String>,
    pub respondent_name: Option<String>,
    pub assignee: Option<String>,
    pub channel: Option<String>,
    pub closure: Option<String>,
    /// The outcome in force.
    pub outcome: Option<String>,
    /// A stage whose deadline was missed (`acceptance`, `supplement`,
    /// `handling`, `review`), or `any`.
    pub missed: Option<String>,
    /// `due`: by next deadline, soonest first; default newest first.
    pub sort: Option<String>,
    /// Filed at or after: an instant (RFC 3339) or a date (from its start,
    /// in the installation's zone).
    pub from: Option<String>,
    /// Filed before: an instant, or a date (to its end).
    pub to: Option<String>,
    pub overdue: Option<String>,
    pub due_soon: Option<String>,
    pub q: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A list bound: an RFC 3339 instant, or a date in `tz` — its start, or
/// with `end` the start of the next day (so that `to=2026-12-06` takes the
/// whole day).
pub(crate) fn filing_bound(
    raw: Option<&str>,
    tz: chrono_tz::Tz,
    end: bool,
    field: &str,
    errors: &mut redress_domain::FieldErrors,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| if end { d.succ_opt() } else { Some(d) })
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(tz).earliest());
    if day.is_none() {
        errors.add(field, Reason::DateOrInstant);
    }
    day.map(|t| t.with_timezone(&chrono::Utc))
}

/// The stages `missed=` names.
const MISSED_STAGES: [(&str, redress_domain::Stage); 4] = [
    ("acceptance", redress_domain::Stage::Acceptance),
    ("supplement", redress_domain::Stage::Supplement),
    ("handling", redress_domain::Stage::Handling),
    ("review", redress_domain::Stage::Review),
];

pub(crate) fn encode_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("c1:{seq}"))
}

/// Beyond this many matches a search's total says "at least" (SPEC §11).
const SEARCH_TOTAL_CAP: i64 = 10_000;

/// A cursor of a list sorted by next deadline: the last item's deadline
/// (microseconds, or `-` for none) and seq.
fn encode_due_cursor(due: Option<chrono::DateTime<chrono::Utc>>, seq: i64) -> String {
    let due = due.map_or("-".to_string(), |d| d.timestamp_micros().to_string());
    URL_SAFE_NO_PAD.encode(format!("d1:{due}:{seq}"))
}

fn decode_due_cursor(raw: &str) -> Option<(Option<chrono::DateTime<chrono::Utc>>, i64)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (due, seq) = text.strip_prefix("d1:")?.split_once(':')?;
    let due = match due {
        "-" => None,
        micros => Some(chrono::DateTime::from_timestamp_micros(
            micros.parse().ok()?,
        )?),
    };
    Some((due, seq.parse().ok()?))
}

/// A cursor of a search ranked by relevance: the last item's score and seq.
fn encode_rank_cursor(score: i64, seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("r1:{score}:{seq}"))
}

fn decode_rank_cursor(raw: &str) -> Option<(i64, i64)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (score, seq) = text.strip_prefix("r1:")?.split_once(':')?;
    Some((score.parse().ok()?, seq.parse().ok()?))
}

fn decode_cursor(raw: &str) -> Option<i64> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    text.strip_prefix("c1:")?.parse().ok()
}

/// A page as lists answered it before they were typed (the typed lists'
/// tests compare against it).
#[cfg(test)]
pub fn page_json(page: redress_store::Page<Value>) -> Value {
    json!({"items": page.items, "total": page.total, "next_cursor": page.next.map(encode_cursor)})
}

/// Parses `limit` and `cursor` of any list.
pub fn paging(limit: Option<&str>, cursor: Option<&str>) -> AppResult<(usize, Option<i64>)> {
    let mut errors = redress_domain::FieldErrors::new();
    let limit = match limit {
        None | Some("") => 20,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => {
                errors.add("limit", Reason::IntRange { a: 1, b: 200 });
                20
            }
        },
    };
    let after = match cursor {
        None | Some("") => None,
        Some(c) => match decode_cursor(c) {
            Some(s) => Some(s),
            None => {
                errors.add("cursor", Reason::Cursor);
                None
            }
        },
    };
    errors.into_result().map_err(AppError::from)?;
    Ok((limit, after))
}

/// The answer to a registration.
pub struct Registered {
    pub status: u16,
    pub body: Value,
}

/// Who files a registration, and on which channels.
pub(crate) struct Intake<'a> {
    pub default_channel: Channel,
    pub allowed: &'a [Channel],
    pub actor: Actor,
    /// The namespace of the caller's idempotency keys.
    pub scope: String,
    /// Staff see likely duplicates in the answer.
    pub staff: bool,
    /// Files already stored that the new case names as evidence (a mail's
    /// attachments).
    pub evidence: Vec<Evidence>,
    /// An internal note to file with the case (what intake could not keep).
    pub note: Option<String>,
    /// The new case's id and key, when they were made first (its files are
    /// already stored with the key).
    pub case: Option<(Uuid, stored::Sealing)>,
}

impl App {
    pub(crate) fn staff_actor(staff: &StaffUser) -> Actor {
        Actor::staff(&staff.user.username)
    }

    /// Loads a case for a staff member, with their rights on it.
    pub(crate) async fn staff_case(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> AppResult<(StaffUser, Loaded, CaseAccess)> {
        let staff = who.staff()?.clone();
        if !staff.reads_cases() {
            return Err(AppError::Forbidden(
                "admins manage settings and do not read cases".into(),
            ));
        }
        let loaded = self.load(id).await?;
        let access = staff.access(&loaded.case)?;
        Ok((staff, loaded, access))
    }

    /// A case's journal entries with their payloads opened.
    pub async fn case_events(
        &self,
        loaded: &Loaded,
    ) -> AppResult<Vec<redress_store::JournalEntry>> {
        let mut events = self.store.events_for_case(loaded.case.id).await?;
        for e in &mut events {
            e.data = stored::open_event(loaded.key(), &e.kind, &e.data);
        }
        Ok(events)
    }

    /// The whole case as staff see it after an action (contact data masked:
    /// only an explicit read shows it, and is logged).
    pub async fn staff_answer(&self, loaded: &Loaded) -> AppResult<views::StaffCaseView> {
        let events = self.case_events(loaded).await?;
        Ok(views::staff_view(
            &loaded.case,
            &events,
            Contact::Masked,
            self.now(),
            &self.calendar(),
        ))
    }

    /// `GET /complaints/{id}`: the whole case, contact data in the clear;
    /// the view is logged.
    pub async fn get_case(&self, who: &Principal, id: Uuid) -> AppResult<views::StaffCaseView> {
        if let Principal::Integration(k) = who
            && who.has_scope(Scope::Read)
        {
            // The platform's own systems read cases without contact data;
            // each read is journaled like a staff member's.
            let loaded = self.load(id).await?;
            self.log_event(
                Some(id),
                &Actor {
                    kind: ActorKind::Integration,
                    id: k.name.clone(),
                },
                "case_viewed",
                json!({"api_key": k.id}),
            )
            .await?;
            return self.staff_answer(&loaded).await;
        }
        let (staff, loaded, _) = self.staff_case(who, id).await?;
        self.log_event(
            Some(id),
            &Self::staff_actor(&staff),
            "personal_data_viewed",
            json!({"fields": ["complainant.email", "complainant.phone"]}),
        )
        .await?;
        let events = self.case_events(&loaded).await?;
        Ok(views::staff_view(
            &loaded.case,
            &events,
            Contact::Clear,
            self.now(),
            &self.calendar(),
        ))
    }

    /// Runs a staff action: loads, checks rights with `check`, transitions with `f`.
    pub(crate) async fn staff_action<C, F>(
        &self,
        who: &Principal,
        id: Uuid,
        check: C,
        f: F,
    ) -> AppResult<views::StaffCaseView>
    where
        C: Fn(&StaffUser, CaseAccess, &Case) -> AppResult<()>,
        F: Fn(&mut Case, &redress_domain::Ctx) -> AppResult<redress_domain::Effects>,
    {
        let staff = who.staff()?.clone();
        if !staff.reads_cases() {
            return Err(AppError::Forbidden(
                "admins manage settings and do not act on cases".into(),
            ));
        }
        let loaded = self
            .mutate(id, Self::staff_actor(&staff), |case, ctx| {
                // Reads of a case one may not see answer 404; an action on
                // it answers 403: the caller has the id, and the refusal
                // concerns the person.
                let access = staff.access(case).map_err(|e| match e {
                    AppError::NotFound => {
                        AppError::Forbidden("this case is not in your departments".into())
                    }
                    other => other,
                })?;
                check(&staff, access, case)?;
                f(case, ctx)
            })
            .await?;
        self.staff_answer(&loaded).await
    }
}

/// The owners named in an order's corrective actions, with their place.
fn named_owners(actions: &[ActionInput]) -> Vec<(usize, String)> {
    actions
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let o = a.owner.as_deref()?.trim();
            (!o.is_empty()).then(|| (i, o.to_string()))
        })
        .collect()
}

fn merge_json(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge_json(existing, v)
                    }
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Who may pause or resume the clock: the role that owes the running
/// deadline (intake for acceptance, a handler of the department while the
/// case is handled, a reviewer during review), or a supervisor.
fn clock_owner(
    staff: &StaffUser,
    access: CaseAccess,
    case: &redress_domain::Case,
    action: &str,
) -> AppResult<()> {
    let owner = match case.status {
        redress_domain::Status::Submitted => access.intake,
        redress_domain::Status::InProgress => access.handle,
        redress_domain::Status::UnderReview => access.review,
        _ => true, // the domain refuses with 409
    };
    access.require(owner || staff.has(Role::Supervisor), action)
}

/// Where a stored answer to an idempotent registration is sealed for.
pub(crate) fn idempotency_aad(key: &str) -> String {
    format!("idempotency:{key}:body")
}

/// The key of a case that takes new files (a purged case has none, and is
/// closed).
fn case_key(loaded: &Loaded) -> AppResult<&crate::privacy::CaseKey> {
    loaded
        .key()
        .ok_or_else(|| AppError::Conflict("the case is closed".into()))
}

// Fields in alphabetical order: the order of the `json!` object it
// replaced, so that the answer stays the same byte for byte.
/// A re-issued access code, shown this once.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReissuedCode {
    /// The new access code (`7KQ4-9XMT-2PRD`); the old one no longer works.
    pub access_token: String,
    #[schema(value_type = String, format = Uuid)]
    pub id: CaseId,
    pub tracking_no: String,
    pub tracking_url: String,
}

#[cfg(test)]
mod reissued_code_tests {
    use super::*;

    #[test]
    fn the_reissued_code_is_the_old_object() {
        let id = uuid::Uuid::now_v7();
        let typed = ReissuedCode {
            access_token: "7KQ4-9XMT-2PRD".into(),
            id,
            tracking_no: "TS-2026-000001".into(),
            tracking_url: "https://x.cn/track/TS-2026-000001".into(),
        };
        let old = json!({
            "id": id,
            "tracking_no": "TS-2026-000001",
            "access_token": "7KQ4-9XMT-2PRD",
            "tracking_url": "https://x.cn/track/TS-2026-000001",
        });
        assert_eq!(serde_json::to_string(&typed).unwrap(), old.to_string());
    }
}
