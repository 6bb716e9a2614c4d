//! Conversions between Rust values and PostgreSQL columns, and error mapping.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use postgres::Row;
use postgres::error::SqlState;
use redress_store::{CaseRow, CaseSummary, ReportFacts, StoreError};

/// PostgreSQL keeps microseconds and rounds what it is given; the journal
/// hashes times truncated to microseconds. Every bound time is truncated
/// first, so that what is read back is what was hashed.
pub fn us(t: &DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(*t)
}

pub fn us_opt(t: &Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.as_ref().map(us)
}

pub fn parse_enum<T: FromStr<Err = String>>(what: &str, s: &str) -> Result<T, StoreError> {
    T::from_str(s).map_err(|e| StoreError::other(format!("bad {what} {s:?}: {e}")))
}

pub fn parse_enum_opt<T: FromStr<Err = String>>(
    what: &str,
    s: Option<String>,
) -> Result<Option<T>, StoreError> {
    s.as_deref().map(|s| parse_enum(what, s)).transpose()
}

pub fn to_json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(|e| StoreError::other(format!("json: {e}")))
}

pub fn from_json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(v).map_err(|e| StoreError::other(format!("json: {e}")))
}

/// Any database error that has no more specific meaning.
/// A deadlock (SQLSTATE 40P01) and a serialization failure (40001) are
/// told apart by their code.
pub fn db(e: postgres::Error) -> StoreError {
    use postgres::error::SqlState;
    let code = e.code().cloned();
    let source: redress_store::Source = std::sync::Arc::new(e);
    match code {
        Some(c) if c == SqlState::T_R_DEADLOCK_DETECTED => StoreError::Deadlock(source),
        Some(c) if c == SqlState::T_R_SERIALIZATION_FAILURE => StoreError::Serialization(source),
        _ => StoreError::Backend(source),
    }
}

/// Maps a unique violation to `Duplicate(what)`, a foreign-key violation to
/// `Missing(missing)`, anything else to `Backend`.
pub fn constraint(e: postgres::Error, what: &'static str, missing: &'static str) -> StoreError {
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::Duplicate(what),
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => StoreError::Missing(missing),
        _ => db(e),
    }
}

/// The constraint a unique violation broke, when it is one.
pub fn unique_constraint(e: &postgres::Error) -> Option<String> {
    (e.code() == Some(&SqlState::UNIQUE_VIOLATION))
        .then(|| {
            e.as_db_error()
                .and_then(|d| d.constraint())
                .map(String::from)
        })
        .flatten()
}

/// Reads column `i` of `row`.
pub fn col<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, StoreError> {
    row.try_get(i).map_err(db)
}

/// The columns of a full case row, in the order [`case_row`] reads them.
pub const CASE_COLUMNS: &str = "seq, id, tracking_no, status, closure, channel, category, \
     department, assignee, respondent_key, respondent_name, complainant_key, subject, \
     created_at, updated_at, next_due_at, staff_due, sweep_at, decided_by, decider_level, \
     search_tokens, report, version, doc";

pub fn case_row(r: &Row) -> Result<CaseRow, StoreError> {
    Ok(CaseRow {
        seq: col(r, 0)?,
        id: col(r, 1)?,
        tracking_no: col(r, 2)?,
        status: parse_enum("status", col(r, 3)?)?,
        closure: parse_enum_opt("closure", col(r, 4)?)?,
        channel: parse_enum("channel", col(r, 5)?)?,
        category: col(r, 6)?,
        department: col(r, 7)?,
        assignee: col(r, 8)?,
        respondent_key: col(r, 9)?,
        respondent_name: col(r, 10)?,
        complainant_key: col(r, 11)?,
        subject: col(r, 12)?,
        created_at: col(r, 13)?,
        updated_at: col(r, 14)?,
        next_due_at: col(r, 15)?,
        staff_due: col(r, 16)?,
        sweep_at: col(r, 17)?,
        decided_by: col(r, 18)?,
        decider_level: col(r, 19)?,
        search_tokens: col(r, 20)?,
        report: from_json::<ReportFacts>(col(r, 21)?)?,
        version: col(r, 22)?,
        doc: col(r, 23)?,
        actions: Vec::new(),
    })
}

/// The columns of a list item, in the order [`summary`] reads them.
pub const SUMMARY_COLUMNS: &str = "seq, id, tracking_no, status, closure, channel, category, \
     department, assignee, respondent_key, respondent_name, subject, created_at, next_due_at, \
     staff_due";

pub fn summary(r: &Row) -> Result<CaseSummary, StoreError> {
    Ok(CaseSummary {
        seq: col(r, 0)?,
        id: col(r, 1)?,
        tracking_no: col(r, 2)?,
        status: parse_enum("status", col(r, 3)?)?,
        closure: parse_enum_opt("closure", col(r, 4)?)?,
        channel: parse_enum("channel", col(r, 5)?)?,
        category: col(r, 6)?,
        department: col(r, 7)?,
        assignee: col(r, 8)?,
        respondent_key: col(r, 9)?,
        respondent_name: col(r, 10)?,
        subject: col(r, 11)?,
        created_at: col(r, 12)?,
        next_due_at: col(r, 13)?,
        staff_due: col(r, 14)?,
    })
}
