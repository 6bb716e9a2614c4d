//! Case ↔ row: the application's half of persistence. A case's document
//! is sealed with the case's own key on the way in and opened on the way
//! out; the key itself travels in the row wrapped by the master key
//! (`privacy`). A purged case's row holds its skeleton in the clear and no
//! key, so what was sealed with the key — the old documents in free pages,
//! the payloads of its journal events — can no longer be read.

use std::borrow::Cow;

use redress_domain::Case;
use redress_store::pack::{self, Dict};
use redress_store::{CaseRow, ReportFacts};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::privacy::{self, CaseKey, Vault, is_case_sealed};

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

/// Where a packed document is bound (its seal says which form it holds).
const PACKED_DOC_PLACE: &str = "doc:packed";

/// The first byte of a row's document written since issue 18: then the
/// wrapped key's length (one byte), the wrapped key, and the document
/// packed (`redress_store::pack`) and sealed with the case's key as raw
/// bytes. A purged case's document is its skeleton packed, in the clear (a
/// zstd frame); rows written before hold JSON text (a [`SealedDoc`] or a
/// [`StoredDoc`]). All three read.
const SEALED_PACKED: u8 = 0x01;

/// The first byte of a row's document written since its wrapped key is
/// kept as raw bytes (issue 18, 39 bytes a case less): then the wrapped
/// key ([`privacy::WRAPPED_KEY_RAW_LEN`] bytes, [`privacy::wrapped_key_raw`])
/// and the document packed and sealed as with [`SEALED_PACKED`]. A key
/// wrapped in a form without raw bytes is written as [`SEALED_PACKED`].
const SEALED_RAW_KEY: u8 = 0x02;

/// A row's document, parsed but not opened.
enum RowDoc<'a> {
    /// Sealed with the case's key, which travels wrapped beside it.
    Sealed {
        wrapped: Cow<'a, str>,
        body: Body<'a>,
    },
    /// In the clear: a purged case's skeleton, or a row written before
    /// case keys.
    Clear(StoredDoc),
}

/// A sealed document as stored.
enum Body<'a> {
    /// Packed and sealed as raw bytes.
    Packed(&'a [u8]),
    /// JSON sealed as base64 text (rows written before issue 18).
    Text(String),
}

fn parse_doc(doc: &[u8]) -> AppResult<RowDoc<'_>> {
    if let [SEALED_RAW_KEY, rest @ ..] = doc {
        let cut = || AppError::internal("a case document is cut short");
        let (raw, body) = rest
            .split_at_checked(privacy::WRAPPED_KEY_RAW_LEN)
            .ok_or_else(cut)?;
        return Ok(RowDoc::Sealed {
            wrapped: Cow::Owned(privacy::wrapped_key_text(raw).ok_or_else(cut)?),
            body: Body::Packed(body),
        });
    }
    if let [SEALED_PACKED, n, rest @ ..] = doc {
        let n = usize::from(*n);
        if rest.len() < n {
            return Err(AppError::internal("a case document is cut short"));
        }
        let (wrapped, body) = rest.split_at(n);
        let wrapped = std::str::from_utf8(wrapped).map_err(AppError::internal)?;
        return Ok(RowDoc::Sealed {
            wrapped: Cow::Borrowed(wrapped),
            body: Body::Packed(body),
        });
    }
    let json = pack::unpack(Dict::CaseDoc, doc).map_err(AppError::internal)?;
    if let Ok(sealed) = serde_json::from_slice::<SealedDoc>(&json) {
        return Ok(RowDoc::Sealed {
            wrapped: Cow::Owned(sealed.key),
            body: Body::Text(sealed.sealed),
        });
    }
    Ok(RowDoc::Clear(
        serde_json::from_slice(&json).map_err(AppError::internal)?,
    ))
}

/// A sealed document, opened with the case's key.
fn open_body(key: &CaseKey, body: &Body<'_>) -> AppResult<StoredDoc> {
    let fail = || AppError::internal("a case document does not open");
    match body {
        Body::Packed(sealed) => {
            let packed = key.open_raw(PACKED_DOC_PLACE, sealed).ok_or_else(fail)?;
            let json = pack::unpack(Dict::CaseDoc, &packed).map_err(AppError::internal)?;
            serde_json::from_slice(&json).map_err(AppError::internal)
        }
        Body::Text(sealed) => {
            let inner = key.open(DOC_PLACE, sealed).ok_or_else(fail)?;
            serde_json::from_str(&inner).map_err(AppError::internal)
        }
    }
}

/// The document of a loaded case as JSON, as it is packed inside the seal
/// (`redress-bench` measures and trains on it).
pub fn document_json(loaded: &Loaded) -> AppResult<Vec<u8>> {
    serde_json::to_vec(&StoredDocRef {
        case: &loaded.case,
        access_token_hash: &loaded.access_token_hash,
        pending_code: loaded.pending_code.as_deref(),
    })
    .map_err(AppError::internal)
}

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
    matches!(parse_doc(&row.doc), Ok(RowDoc::Sealed { wrapped, .. }) if vault.is_current(&wrapped))
}

/// Whether a row's document is in the packed form of issue 18 (a purged
/// skeleton counts as packed: it is never written again).
pub fn row_is_packed(row: &CaseRow) -> bool {
    matches!(row.doc.first(), Some(&(SEALED_PACKED | SEALED_RAW_KEY))) || row_is_purged(row)
}

/// Whether a row is a purged case's skeleton (it has no key).
pub fn row_is_purged(row: &CaseRow) -> bool {
    matches!(parse_doc(&row.doc), Ok(RowDoc::Clear(d)) if is_purged(&d))
}

fn is_purged(doc: &StoredDoc) -> bool {
    doc.case.get("purged_at").is_some_and(|v| !v.is_null())
}

/// The key a stored row carries, open (the webhook dispatcher reads events
/// of cases it has not loaded).
pub fn row_key(row: &CaseRow, vault: &Vault) -> Option<CaseKey> {
    match parse_doc(&row.doc).ok()? {
        RowDoc::Sealed { wrapped, .. } => vault.unwrap_case_key(row.id, &wrapped),
        RowDoc::Clear(_) => None,
    }
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
    let inner = serde_json::to_vec(&StoredDocRef {
        case,
        access_token_hash,
        pending_code: pending_code.filter(|_| ack_waiting),
    })
    .map_err(AppError::internal)?;
    let packed = pack::pack(Dict::CaseDoc, &inner);
    let doc = match (sealing, case.purged_at) {
        (_, Some(_)) => packed,
        (Some(s), None) => {
            let sealed = s.key.seal_raw(PACKED_DOC_PLACE, &packed);
            let mut doc = Vec::with_capacity(2 + s.wrapped.len() + sealed.len());
            match privacy::wrapped_key_raw(&s.wrapped) {
                Some(raw) => {
                    doc.push(SEALED_RAW_KEY);
                    doc.extend_from_slice(&raw);
                }
                None => {
                    let n = u8::try_from(s.wrapped.len())
                        .map_err(|_| AppError::internal("a wrapped case key is too long"))?;
                    doc.push(SEALED_PACKED);
                    doc.push(n);
                    doc.extend_from_slice(s.wrapped.as_bytes());
                }
            }
            doc.extend_from_slice(&sealed);
            doc
        }
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
        search_tokens: redress_domain::text::stored_tokens(
            &(redress_domain::text::index_tokens(&case.record.searchable_text())
                + " "
                + &redress_domain::text::index_tokens(&case.tracking_no)
                + &evidence_tokens(case, sealing.map(|s| &s.key))),
        ),
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
    // The first 64 bits: the key only tells one complainant's cases
    // among a respondent's (migration 0026).
    let mut key = vault.lookup_hash(&id);
    key.truncate(16);
    Some(key)
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
    let mut loaded = open_document(row.id, &row.doc, vault)?;
    loaded.case.version = row.version;
    loaded.seq = row.seq;
    Ok(loaded)
}

/// A case's stored document (`cases.doc`) opened from its bytes alone,
/// without the row's version and `seq` (left at 0): for tools and tests
/// that read the database directly.
pub fn open_document(id: uuid::Uuid, stored: &[u8], vault: &Vault) -> AppResult<Loaded> {
    let (doc, sealing): (StoredDoc, Option<Sealing>) = match parse_doc(stored)? {
        RowDoc::Sealed { wrapped, body } => {
            let key = vault
                .unwrap_case_key(id, &wrapped)
                .ok_or_else(|| AppError::internal("a case key does not open with this data key"))?;
            let doc = open_body(&key, &body)?;
            let sealing = Sealing {
                key,
                wrapped: wrapped.into_owned(),
            };
            (doc, Some(sealing))
        }
        RowDoc::Clear(doc) => {
            let sealing = (!is_purged(&doc)).then(|| {
                let (key, wrapped) = vault.new_case_key(id);
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
    let case: Case = serde_json::from_value(value).map_err(AppError::internal)?;
    Ok(Loaded {
        case,
        access_token_hash: doc.access_token_hash,
        pending_code: doc.pending_code,
        seq: 0,
        sealing,
    })
}

/// A new case's key.
pub fn new_sealing(vault: &Vault, case_id: uuid::Uuid) -> Sealing {
    let (key, wrapped) = vault.new_case_key(case_id);
    Sealing { key, wrapped }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redress_domain::{Actor, Calendar, Channel, Ctx, DeadlinePolicy};

    fn case() -> Case {
        let now = chrono::Utc::now();
        let calendar = Calendar::china();
        let policy = DeadlinePolicy::default();
        let ctx = Ctx {
            now,
            calendar: &calendar,
            policy: &policy,
            actor: Actor::system("test"),
        };
        let input = redress_domain::parse_registration(
            &serde_json::json!({
                "complainant": {"name": "王芳", "email": "wf@example.com"},
                "respondent": {"kind": "merchant", "id": "shop-1", "name": "商家"},
                "subject": "申请退款被拒绝",
                "description": "订单已取消，但商家拒绝退款。",
            }),
            now,
        )
        .unwrap();
        Case::register(
            uuid::Uuid::now_v7(),
            "RD-TEST-1".into(),
            input,
            Channel::Web,
            vec![],
            &ctx,
        )
        .0
    }

    fn row(case: &Case, vault: &Vault, sealing: Option<&Sealing>) -> CaseRow {
        to_row(case, "hash", None, 7, vault, sealing, None).unwrap()
    }

    /// The row a version before issue 18 wrote: the document as JSON,
    /// sealed as base64 text beside the wrapped key.
    fn row_as_before(case: &Case, vault: &Vault, sealing: &Sealing) -> CaseRow {
        let mut r = row(case, vault, Some(sealing));
        let inner = serde_json::to_string(&StoredDocRef {
            case,
            access_token_hash: "hash",
            pending_code: None,
        })
        .unwrap();
        r.doc = serde_json::to_vec(&SealedDoc {
            key: sealing.wrapped.clone(),
            sealed: sealing.key.seal(DOC_PLACE, &inner),
        })
        .unwrap();
        r
    }

    /// The two cases are equal as stored (every field, as JSON).
    fn assert_same_case(loaded: &Case, written: &Case) {
        assert_eq!(
            serde_json::to_value(loaded).unwrap(),
            serde_json::to_value(written).unwrap()
        );
    }

    #[test]
    fn a_document_is_packed_sealed_and_opens_to_the_same_case() {
        let vault = Vault::from_master(&[9; 32]);
        let case = case();
        let sealing = new_sealing(&vault, case.id);
        let r = row(&case, &vault, Some(&sealing));
        assert_eq!(r.doc[0], SEALED_RAW_KEY);
        // Nothing of the case reads in the stored bytes.
        let text = String::from_utf8_lossy(&r.doc);
        assert!(!text.contains("wf@example.com") && !text.contains("退款"));
        assert!(r.doc.len() < document_json(&from_row(&r, &vault).unwrap()).unwrap().len());
        let loaded = from_row(&r, &vault).unwrap();
        assert_same_case(&loaded.case, &case);
        assert_eq!(loaded.access_token_hash, "hash");
        assert_eq!(loaded.sealing.unwrap().wrapped, sealing.wrapped);
        assert!(row_key_is_current(&r, &vault));
        assert!(row_is_packed(&r));
        assert!(row_key(&r, &vault).is_some());
        assert!(!row_is_purged(&r));
        // Another data key opens nothing.
        assert!(from_row(&r, &Vault::from_master(&[8; 32])).is_err());
    }

    /// The first packed form kept the wrapped key as its text: such rows
    /// still open, and are written with the raw key at their next save.
    #[test]
    fn rows_with_the_wrapped_key_as_text_still_open() {
        let vault = Vault::from_master(&[9; 32]);
        let case = case();
        let sealing = new_sealing(&vault, case.id);
        let new = row(&case, &vault, Some(&sealing));
        let raw = privacy::wrapped_key_raw(&sealing.wrapped).unwrap();
        assert_eq!(&new.doc[1..=privacy::WRAPPED_KEY_RAW_LEN], raw.as_slice());
        let sealed = &new.doc[1 + privacy::WRAPPED_KEY_RAW_LEN..];
        let mut old = new.clone();
        old.doc = [
            &[SEALED_PACKED, sealing.wrapped.len() as u8][..],
            sealing.wrapped.as_bytes(),
            sealed,
        ]
        .concat();
        assert_eq!(old.doc.len(), new.doc.len() + 115 - 76 + 1);
        assert!(row_is_packed(&old) && row_key_is_current(&old, &vault));
        let loaded = from_row(&old, &vault).unwrap();
        assert_same_case(&loaded.case, &case);
        assert_eq!(loaded.sealing.as_ref().unwrap().wrapped, sealing.wrapped);
        assert_eq!(
            row(&loaded.case, &vault, loaded.sealing.as_ref()).doc[0],
            SEALED_RAW_KEY
        );
        // A raw key cut short is an error, not a panic.
        let mut cut = new.clone();
        cut.doc.truncate(40);
        assert!(from_row(&cut, &vault).is_err());
    }

    #[test]
    fn a_damaged_document_does_not_open() {
        let vault = Vault::from_master(&[9; 32]);
        let case = case();
        let sealing = new_sealing(&vault, case.id);
        let mut r = row(&case, &vault, Some(&sealing));
        let last = r.doc.len() - 1;
        r.doc[last] ^= 1;
        assert!(from_row(&r, &vault).is_err());
        r.doc.truncate(10);
        assert!(from_row(&r, &vault).is_err());
    }

    #[test]
    fn rows_written_before_packing_still_open_and_are_packed_at_their_next_save() {
        let vault = Vault::from_master(&[9; 32]);
        let case = case();
        let sealing = new_sealing(&vault, case.id);
        let old = row_as_before(&case, &vault, &sealing);
        assert_eq!(old.doc[0], b'{');
        assert!(row_key_is_current(&old, &vault));
        assert!(!row_is_packed(&old), "a rotation saves it again");
        assert!(row_key(&old, &vault).is_some());
        let loaded = from_row(&old, &vault).unwrap();
        assert_same_case(&loaded.case, &case);
        let saved = row(&loaded.case, &vault, loaded.sealing.as_ref());
        assert_eq!(saved.doc[0], SEALED_RAW_KEY);
        assert!(saved.doc.len() * 2 < old.doc.len());
        assert_eq!(
            from_row(&saved, &vault).unwrap().sealing.unwrap().wrapped,
            sealing.wrapped
        );
    }

    #[test]
    fn a_purged_skeleton_is_packed_in_the_clear_and_has_no_key() {
        let vault = Vault::from_master(&[9; 32]);
        let mut case = case();
        case.purged_at = Some(chrono::Utc::now());
        let r = row(&case, &vault, None);
        assert!(!r.doc.starts_with(b"{") && ![SEALED_PACKED, SEALED_RAW_KEY].contains(&r.doc[0]));
        assert!(row_is_purged(&r));
        assert!(row_key(&r, &vault).is_none());
        let loaded = from_row(&r, &vault).unwrap();
        assert!(loaded.sealing.is_none() && loaded.case.purged_at.is_some());
        // As written before packing: the skeleton as JSON text.
        let mut old = r.clone();
        old.doc = document_json(&loaded).unwrap();
        assert!(row_is_purged(&old));
        assert!(from_row(&old, &vault).unwrap().sealing.is_none());
    }
}
