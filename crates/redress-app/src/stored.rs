//! Case ↔ row: the application's half of persistence. A case's document
//! is sealed with the case's own key on the way in and opened on the way
//! out; the key itself travels in the row wrapped by the master key
//! (`privacy`). A purged case's row holds its skeleton in the clear and no
//! key, so what was sealed with the key — the old documents in free pages,
//! the payloads of its journal events — can no longer be read.

use redress_domain::Case;
use redress_store::{CaseRow, ReportFacts};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::privacy::{CaseKey, Vault, is_case_sealed};

/// The document inside: the case, plus the complainant's access-token hash.
/// Written in the clear only for a purged case; contact fields written by
/// versions before case keys are sealed one by one with the master key.
#[derive(Serialize, Deserialize)]
struct StoredDoc {
    case: Value,
    access_token_hash: String,
    /// The access code itself, sealed, while an acknowledgement that must
    /// carry it waits to leave; dropped once none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_code: Option<String>,
}

/// [`StoredDoc`] as written: the case serialised straight from the struct,
/// without a `Value` tree in between (the same JSON, built once).
#[derive(Serialize)]
struct StoredDocRef<'a> {
    case: &'a Case,
    access_token_hash: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_code: Option<&'a str>,
}

/// The row's `doc` for a case with a key: the wrapped key and the sealed
/// [`StoredDoc`].
#[derive(Serialize, Deserialize)]
struct SealedDoc {
    key: String,
    sealed: String,
}

/// A case's key, open, with its wrapped form for the row.
#[derive(Debug, Clone)]
pub struct Sealing {
    pub key: CaseKey,
    pub wrapped: String,
}

/// A case as loaded, with what the row adds to it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub case: Case,
    pub access_token_hash: String,
    /// The sealed access code, while an acknowledgement waits to carry it.
    pub pending_code: Option<String>,
    pub seq: i64,
    /// The case's key; `None` once the case was purged or erased.
    pub sealing: Option<Sealing>,
}

impl Loaded {
    pub fn key(&self) -> Option<&CaseKey> {
        self.sealing.as_ref().map(|s| &s.key)
    }
}

/// A case's key as a transition sees it: with whether the case is purged
/// now (its last events are then written in the clear).
pub struct CaseKeyRef<'a> {
    pub key: &'a CaseKey,
    pub purged: bool,
}

impl<'a> CaseKeyRef<'a> {
    pub fn of(l: &'a Loaded) -> Option<Self> {
        Some(Self {
            key: l.key()?,
            purged: l.case.purged_at.is_some(),
        })
    }
}

/// Where a case's sealed document and event payloads are bound.
const DOC_PLACE: &str = "doc";

/// The payload of a journal event of a case, sealed with its key (bound to
/// the event's kind).
pub fn seal_event(key: &CaseKey, kind: &str, data: &str) -> String {
    key.seal(&format!("event:{kind}"), data)
}

/// An event's payload as JSON text: opened with the case's key when it was
/// sealed, `{"erased":true}` when the key is gone (a purged case).
pub fn open_event(key: Option<&CaseKey>, kind: &str, data: &str) -> String {
    if !is_case_sealed(data) {
        return data.to_string();
    }
    key.and_then(|k| k.open(&format!("event:{kind}"), data))
        .unwrap_or_else(|| r#"{"erased":true}"#.to_string())
}

/// Whether a row's case key is wrapped by the current master key.
pub fn row_key_is_current(row: &CaseRow, vault: &Vault) -> bool {
    serde_json::from_str::<SealedDoc>(&row.doc).is_ok_and(|d| vault.is_current(&d.key))
}

/// Whether a row is a purged case's skeleton (it has no key).
pub fn row_is_purged(row: &CaseRow) -> bool {
    serde_json::from_str::<StoredDoc>(&row.doc)
        .is_ok_and(|d| d.case.get("purged_at").is_some_and(|v| !v.is_null()))
}

/// The key a stored row carries, open (the webhook dispatcher reads events
/// of cases it has not loaded).
pub fn row_key(row: &CaseRow, vault: &Vault) -> Option<CaseKey> {
    let doc: SealedDoc = serde_json::from_str(&row.doc).ok()?;
    vault.unwrap_case_key(row.id, &doc.key)
}

/// The complainant's personal fields, sealed one by one with the master
/// key in documents written before case keys.
const CONTACT_FIELDS: [&str; 5] = ["name", "user_id", "email", "phone", "postal_address"];

fn complainant_mut(case: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    case.get_mut("record")?
        .get_mut("complainant")?
        .as_object_mut()
}

/// `sweep_at` is the next instant the deadline sweep must look at the case
/// ([`Case::sweep_at`]).
/// `sealing` is the case's key; a case without one is written in the
/// clear, which only a purged case may be.
pub fn to_row(
    case: &Case,
    access_token_hash: &str,
    pending_code: Option<&str>,
    seq: i64,
    vault: &Vault,
    sealing: Option<&Sealing>,
    sweep_at: Option<chrono::DateTime<chrono::Utc>>,
) -> AppResult<CaseRow> {
    // Kept only while a complainant's acknowledgement is queued.
    let ack_waiting = case.deliveries.iter().any(|d| {
        matches!(
            d.notice,
            redress_domain::NoticeKind::Acknowledgement | redress_domain::NoticeKind::AccessCode
        ) && d.party == redress_domain::Party::Complainant
            && d.status == redress_domain::DeliveryStatus::Queued
    });
    let inner = serde_json::to_string(&StoredDocRef {
        case,
        access_token_hash,
        pending_code: pending_code.filter(|_| ack_waiting),
    })
    .map_err(AppError::internal)?;
    let doc = match (sealing, case.purged_at) {
        (_, Some(_)) => inner,
        (Some(s), None) => serde_json::to_string(&SealedDoc {
            key: s.wrapped.clone(),
            sealed: s.key.seal(DOC_PLACE, &inner),
        })
        .map_err(AppError::internal)?,
        (None, None) => return Err(AppError::internal("a case is saved without its key")),
    };
    let next_due_at = case.next_due_at();
    let staff_due = case.status.deadline_is_staff_duty();
    let respondent = case.record.respondent.as_ref();
    Ok(CaseRow {
        id: case.id,
        seq,
        tracking_no: case.tracking_no.clone(),
        status: case.status,
        closure: case.closure,
        channel: case.channel,
        category: case.category.clone(),
        department: case.department.clone(),
        assignee: case.assignee.clone(),
        respondent_key: respondent.map(|r| r.key()),
        respondent_name: respondent.and_then(|r| r.name.clone()),
        complainant_key: complainant_key(case, vault),
        subject: case.record.subject.clone(),
        created_at: case.created_at,
        updated_at: case.updated_at,
        next_due_at,
        staff_due,
        sweep_at,
        decided_by: case.decision.as_ref().map(|d| d.decided_by.clone()),
        decider_level: case.decision.as_ref().map(|d| d.decider_level),
        // Evidence hashes are tokens too: "which cases name this file" is
        // then an index look-up (a purge asks it before removing a file).
        search_tokens: redress_domain::text::index_tokens(&case.record.searchable_text())
            + " "
            + &redress_domain::text::index_tokens(&case.tracking_no)
            + &evidence_tokens(case, sealing.map(|s| &s.key)),
        report: report_facts(case),
        version: case.version,
        doc,
        actions: action_rows(case),
    })
}

/// The case's corrective actions as the `corrective_actions` table keeps
/// them (`GET /actions`).
pub fn action_rows(case: &Case) -> Vec<redress_store::ActionRow> {
    case.decision
        .iter()
        .flat_map(|d| d.actions.iter())
        .map(|a| redress_store::ActionRow {
            case_id: case.id,
            action_id: a.id.clone(),
            tracking_no: case.tracking_no.clone(),
            department: case.department.clone(),
            description: a.description.clone(),
            owner: a.owner.clone(),
            due_at: a.due_at,
            done_at: a.done_at,
            done_by: a.done_by.clone(),
        })
        .collect()
}

/// The names of the case's files in the evidence store, as search tokens
/// ("which cases name this file" is then an index look-up): each file's
/// name under the case's key, and its hash (the name of a file stored
/// before case keys, which cases may share).
fn evidence_tokens(case: &Case, key: Option<&CaseKey>) -> String {
    let mut names: Vec<String> = case.evidence.iter().map(|e| e.sha256.clone()).collect();
    if let Some(k) = key {
        names.extend(case.evidence.iter().map(|e| k.evidence_name(&e.sha256)));
        names.extend(
            case.evidence
                .iter()
                .filter(|e| e.thumbnail)
                .map(|e| k.thumbnail_name(&e.sha256)),
        );
    }
    names.sort_unstable();
    names.dedup();
    names.iter().map(|h| format!(" {h}")).collect()
}

/// Keyed hash of the complainant's strongest identifier.
pub fn complainant_key(case: &Case, vault: &Vault) -> Option<String> {
    let c = &case.record.complainant;
    let id = c
        .user_id
        .as_ref()
        .map(|u| format!("u:{u}"))
        .or_else(|| c.email.as_ref().map(|e| format!("e:{e}")))
        // By its digits: `+86 138-0013-8000` is `13800138000`.
        .or_else(|| {
            c.phone
                .as_ref()
                .map(|p| format!("p:{}", redress_domain::phone_digits(p)))
        })?;
    Some(vault.lookup_hash(&id))
}

/// The report facts of a case; the caller records the time zone
/// ([`ReportFacts::zone`]).
fn report_facts(case: &Case) -> ReportFacts {
    ReportFacts {
        created_at: Some(case.created_at),
        accepted_at: case.accepted_at,
        acceptance_due_at: case.deadlines.acceptance_due_at,
        decided_at: case.decision.as_ref().map(|d| d.decided_at),
        handling_due_at: case.deadlines.handling_due_at,
        closed_at: case.closed_at,
        appealed: case.appeal.is_some(),
        review_changed: case
            .review
            .as_ref()
            .is_some_and(|r| r.result == redress_domain::ReviewResult::Modified),
        feedback_score: case.feedback.as_ref().map(|f| i32::from(f.score)),
        respondent_reply_on_time: case.respondent_reply.as_ref().and_then(|r| r.on_time()),
        respondent_late_replies: case
            .respondent_reply
            .as_ref()
            .map_or(0, |r| u32::try_from(r.late_replies()).unwrap_or(u32::MAX)),
        respondent_reply_due_at: case.respondent_reply.as_ref().map(|r| r.due_at),
        respondent_replied_at: case
            .respondent_reply
            .as_ref()
            .and_then(|r| r.first_reply())
            .map(|r| r.at),
        repeat_complainant: case.repeat_complainant,
        zone: None,
        outcome: case.decision.as_ref().map(|d| d.outcome.to_string()),
        appealed_at: case.appeal.as_ref().map(|a| a.at),
        review_result: case.review.as_ref().map(|r| r.result.to_string()),
        reviewed_at: case.review.as_ref().map(|r| r.reviewed_at),
        feedback_at: case.feedback.as_ref().map(|f| f.at),
        stages: stage_facts(case),
        outcome_in_force: case.outcome_in_force(),
        missed: case.missed.clone(),
    }
}

/// The stages counted for deadline compliance (docs/reports.md): each
/// stage that ended — on time when it ended by the deadline in force — and
/// each that still runs past its deadline (flagged overdue: missed).
///
/// - **acceptance**: from filing, or from the last supplement when the
///   complainant supplied material; ended by acceptance or refusal. A
///   request for material ends it too, when no supplement followed: a
///   request made in time is not a missed acceptance, whatever happens
///   after it (the case lapses, is refused, withdrawn).
/// - **supplement** (the complainant's): ended by the supplement, or by
///   the case closing during it (a lapse is late: the deadline passed).
/// - **handling**: from acceptance to the decision; **review**: from the
///   appeal to the review's result.
///
/// A case closed in a stage by something else (withdrawn, merged) counts
/// that stage only when it closed after the deadline.
fn stage_facts(case: &Case) -> Vec<redress_store::rollup::StageFact> {
    use redress_domain::{Closure, Status};
    use redress_store::rollup::{ReportStage, StageFact};
    let mut out = Vec::new();
    let d = &case.deadlines;
    // A staff stage: `done` is its own end; without one, a closure after
    // the deadline ends it late, and a running stage flagged overdue is
    // missed.
    let staff =
        |stage, due, done: Option<chrono::DateTime<chrono::Utc>>, running: bool, extended| {
            let ended_at = match (done, case.closed_at) {
                (Some(t), _) => Some(t),
                (None, Some(c)) if c > due => Some(c),
                (None, Some(_)) => return None,
                (None, None) if running && case.overdue_flagged_for == Some(due) => None,
                (None, None) => return None,
            };
            Some(StageFact {
                stage,
                due_at: due,
                ended_at,
                extended,
            })
        };
    let request = case.info_request.as_ref();
    let supplemented = request.is_some_and(|r| r.answered_at.is_some());
    if let Some(due) = d.acceptance_due_at {
        match request {
            // Material was asked for and never came: the request ended the
            // acceptance stage.
            Some(r) if !supplemented => out.extend(staff(
                ReportStage::Acceptance,
                due,
                Some(r.requested_at),
                false,
                false,
            )),
            _ => {
                let done = case.accepted_at.or_else(|| {
                    (case.closure == Some(Closure::Rejected))
                        .then_some(case.closed_at)
                        .flatten()
                });
                out.extend(staff(
                    ReportStage::Acceptance,
                    due,
                    done,
                    case.status == Status::Submitted,
                    false,
                ));
            }
        }
    }
    if let (Some(r), Some(due)) = (request, d.supplement_due_at) {
        // Supplied, or the case closed while waiting (a lapse comes after
        // the deadline: late).
        if let Some(end) = r.answered_at.or(case.closed_at) {
            out.push(StageFact {
                stage: ReportStage::Supplement,
                due_at: due,
                ended_at: Some(end),
                extended: false,
            });
        }
    }
    if let (Some(accepted), Some(due)) = (case.accepted_at, d.handling_due_at) {
        let decided = case.decision.as_ref().map(|x| x.decided_at);
        let end = decided.or(case.closed_at);
        let extended = case
            .extensions
            .iter()
            .any(|e| e.at >= accepted && end.is_none_or(|t| e.at <= t));
        out.extend(staff(
            ReportStage::Handling,
            due,
            decided,
            case.status == Status::InProgress,
            extended,
        ));
    }
    if let (Some(appeal), Some(due)) = (case.appeal.as_ref(), d.review_due_at) {
        let reviewed = case.review.as_ref().map(|r| r.reviewed_at);
        let extended = case.extensions.iter().any(|e| e.at >= appeal.at);
        out.extend(staff(
            ReportStage::Review,
            due,
            reviewed,
            case.status == Status::UnderReview,
            extended,
        ));
    }
    out
}

/// Opens a row. A row written before case keys gets a new key here, used
/// from its next save on.
pub fn from_row(row: &CaseRow, vault: &Vault) -> AppResult<Loaded> {
    let (doc, sealing): (StoredDoc, Option<Sealing>) =
        match serde_json::from_str::<SealedDoc>(&row.doc) {
            Ok(sealed) => {
                let key = vault.unwrap_case_key(row.id, &sealed.key).ok_or_else(|| {
                    AppError::internal("a case key does not open with this data key")
                })?;
                let inner = key
                    .open(DOC_PLACE, &sealed.sealed)
                    .ok_or_else(|| AppError::internal("a case document does not open"))?;
                let doc = serde_json::from_str(&inner).map_err(AppError::internal)?;
                let sealing = Sealing {
                    key,
                    wrapped: sealed.key,
                };
                (doc, Some(sealing))
            }
            Err(_) => {
                let doc: StoredDoc = serde_json::from_str(&row.doc).map_err(AppError::internal)?;
                let purged = doc.case.get("purged_at").is_some_and(|v| !v.is_null());
                let sealing = (!purged).then(|| {
                    let (key, wrapped) = vault.new_case_key(row.id);
                    Sealing { key, wrapped }
                });
                (doc, sealing)
            }
        };
    let mut value = doc.case;
    if let Some(c) = complainant_mut(&mut value) {
        for field in CONTACT_FIELDS {
            if let Some(Value::String(sealed)) = c.get(field)
                && sealed.starts_with("sealed:")
            {
                let plain = vault.open_for("", sealed).ok_or_else(|| {
                    AppError::internal("a sealed field does not open with this data key")
                })?;
                c.insert(field.into(), Value::String(plain));
            }
        }
    }
    let mut case: Case = serde_json::from_value(value).map_err(AppError::internal)?;
    case.version = row.version;
    Ok(Loaded {
        case,
        access_token_hash: doc.access_token_hash,
        pending_code: doc.pending_code,
        seq: row.seq,
        sealing,
    })
}

/// A new case's key.
pub fn new_sealing(vault: &Vault, case_id: uuid::Uuid) -> Sealing {
    let (key, wrapped) = vault.new_case_key(case_id);
    Sealing { key, wrapped }
}
