//! Case ↔ row: the application's half of persistence. Personal fields are
//! sealed on the way in and opened on the way out, so neither the store
//! nor the journal ever holds them in the clear.

use redress_domain::Case;
use redress_store::{CaseRow, ReportFacts};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::privacy::Vault;

/// The stored document: the case with sealed contact fields, plus the
/// complainant's access-token hash.
#[derive(Serialize, Deserialize)]
struct StoredDoc {
    case: Value,
    access_token_hash: String,
    /// The access code itself, sealed, while an acknowledgement that must
    /// carry it waits to leave; dropped once none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_code: Option<String>,
}

/// A case as loaded, with what the row adds to it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub case: Case,
    pub access_token_hash: String,
    /// The sealed access code, while an acknowledgement waits to carry it.
    pub pending_code: Option<String>,
    pub seq: i64,
}

/// The complainant's personal fields sealed in the stored document.
const CONTACT_FIELDS: [&str; 5] = ["name", "user_id", "email", "phone", "postal_address"];

fn complainant_mut(case: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    case.get_mut("record")?
        .get_mut("complainant")?
        .as_object_mut()
}

/// `sweep_at` is the next instant the deadline sweep must look at the case
/// ([`Case::sweep_at`]).
pub fn to_row(
    case: &Case,
    access_token_hash: &str,
    pending_code: Option<&str>,
    seq: i64,
    vault: &Vault,
    sweep_at: Option<chrono::DateTime<chrono::Utc>>,
) -> AppResult<CaseRow> {
    let mut value = serde_json::to_value(case).map_err(AppError::internal)?;
    if let Some(c) = complainant_mut(&mut value) {
        for field in CONTACT_FIELDS {
            if let Some(Value::String(plain)) = c.get(field) {
                let sealed = vault.seal(plain);
                c.insert(field.into(), Value::String(sealed));
            }
        }
    }
    // Kept only while a complainant's acknowledgement is queued.
    let ack_waiting = case.deliveries.iter().any(|d| {
        matches!(
            d.notice,
            redress_domain::NoticeKind::Acknowledgement | redress_domain::NoticeKind::AccessCode
        ) && d.party == redress_domain::Party::Complainant
            && d.status == redress_domain::DeliveryStatus::Queued
    });
    let doc = serde_json::to_string(&StoredDoc {
        case: value,
        access_token_hash: access_token_hash.into(),
        pending_code: pending_code.filter(|_| ack_waiting).map(str::to_string),
    })
    .map_err(AppError::internal)?;
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
            + &evidence_tokens(case),
        report: report_facts(case),
        version: case.version,
        doc,
    })
}

fn evidence_tokens(case: &Case) -> String {
    let mut hashes: Vec<&str> = case.evidence.iter().map(|e| e.sha256.as_str()).collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes.iter().map(|h| format!(" {h}")).collect()
}

/// Keyed hash of the complainant's strongest identifier.
pub fn complainant_key(case: &Case, vault: &Vault) -> Option<String> {
    let c = &case.record.complainant;
    let id = c
        .user_id
        .as_ref()
        .map(|u| format!("u:{u}"))
        .or_else(|| c.email.as_ref().map(|e| format!("e:{e}")))
        .or_else(|| c.phone.as_ref().map(|p| format!("p:{p}")))?;
    Some(vault.lookup_hash(&id))
}

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
    }
}

pub fn from_row(row: &CaseRow, vault: &Vault) -> AppResult<Loaded> {
    let doc: StoredDoc = serde_json::from_str(&row.doc).map_err(AppError::internal)?;
    let mut value = doc.case;
    if let Some(c) = complainant_mut(&mut value) {
        for field in CONTACT_FIELDS {
            if let Some(Value::String(sealed)) = c.get(field) {
                let plain = vault.open(sealed).ok_or_else(|| {
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
    })
}
