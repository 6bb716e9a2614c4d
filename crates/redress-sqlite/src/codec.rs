//! Conversions between Rust values and SQLite columns, and error mapping.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use r2d2_sqlite::rusqlite::{self, Row, ffi};
use redress_store::{CaseRow, CaseSummary, ReportFacts, StoreError};
use uuid::Uuid;

/// Fixed-width UTC: string order is time order.
pub const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

pub fn ts(t: &DateTime<Utc>) -> String {
    t.format(TIME_FORMAT).to_string()
}

pub fn ts_opt(t: &Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(ts)
}

pub fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    NaiveDateTime::parse_from_str(s, TIME_FORMAT)
        .map(|n| n.and_utc())
        .or_else(|_| DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)))
        .map_err(|e| StoreError::other(format!("bad timestamp {s:?}: {e}")))
}

pub fn parse_ts_opt(s: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.as_deref().map(parse_ts).transpose()
}

pub fn parse_date(s: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::other(format!("bad date {s:?}: {e}")))
}

pub fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| StoreError::other(format!("bad uuid {s:?}: {e}")))
}

pub fn parse_uuid_opt(s: Option<String>) -> Result<Option<Uuid>, StoreError> {
    s.as_deref().map(parse_uuid).transpose()
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

pub fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::other(format!("json: {e}")))
}

pub fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::other(format!("json: {e}")))
}

/// Any database error that has no more specific meaning.
/// `BUSY` and `LOCKED` (another connection held the lock past the busy
/// timeout) are [`StoreError::Serialization`]: the work may be retried.
pub fn db(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let busy = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    let source: redress_store::Source = std::sync::Arc::new(e);
    if busy {
        StoreError::Serialization(source)
    } else {
        StoreError::Backend(source)
    }
}

/// Which kind of constraint a failed statement broke, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    Unique,
    ForeignKey,
}

pub fn violation(e: &rusqlite::Error) -> Option<Violation> {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => match f.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                Some(Violation::Unique)
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Some(Violation::ForeignKey),
            _ => None,
        },
        _ => None,
    }
}

/// Maps a unique violation to `Duplicate(what)`, a foreign-key violation to
/// `Missing(missing)`, anything else to `Backend`.
pub fn constraint(e: rusqlite::Error, what: &'static str, missing: &'static str) -> StoreError {
    match violation(&e) {
        Some(Violation::Unique) => StoreError::Duplicate(what),
        Some(Violation::ForeignKey) => StoreError::Missing(missing),
        None => db(e),
    }
}

/// The columns of a full case row, in the order [`case_row`] reads them.
pub const CASE_COLUMNS: &str = "seq, id, tracking_no, status, closure, channel, category, \
     department, assignee, respondent_key, respondent_name, complainant_key, subject, \
     created_at, updated_at, next_due_at, staff_due, sweep_at, decided_by, decider_level, \
     search_tokens, report, version, doc";

/// Raw columns of a case, read without failing on content.
type RawCase = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    bool,
    Option<String>,
    Option<String>,
    Option<i32>,
    String,
    String,
    i64,
    String,
);

pub fn read_case(row: &Row<'_>) -> rusqlite::Result<RawCase> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
        row.get(10)?,
        row.get(11)?,
        row.get(12)?,
        row.get(13)?,
        row.get(14)?,
        row.get(15)?,
        row.get(16)?,
        row.get(17)?,
        row.get(18)?,
        row.get(19)?,
        row.get(20)?,
        row.get(21)?,
        row.get(22)?,
        row.get(23)?,
    ))
}

pub fn case_row(r: RawCase) -> Result<CaseRow, StoreError> {
    Ok(CaseRow {
        seq: r.0,
        id: parse_uuid(&r.1)?,
        tracking_no: r.2,
        status: parse_enum("status", &r.3)?,
        closure: parse_enum_opt("closure", r.4)?,
        channel: parse_enum("channel", &r.5)?,
        category: r.6,
        department: r.7,
        assignee: r.8,
        respondent_key: r.9,
        respondent_name: r.10,
        complainant_key: r.11,
        subject: r.12,
        created_at: parse_ts(&r.13)?,
        updated_at: parse_ts(&r.14)?,
        next_due_at: parse_ts_opt(r.15)?,
        staff_due: r.16,
        sweep_at: parse_ts_opt(r.17)?,
        decided_by: r.18,
        decider_level: r.19,
        search_tokens: r.20,
        report: from_json::<ReportFacts>(&r.21)?,
        version: r.22,
        doc: r.23,
        actions: Vec::new(),
    })
}

/// The columns of a list item, in the order [`summary`] reads them.
pub const SUMMARY_COLUMNS: &str = "seq, id, tracking_no, status, closure, channel, category, \
     department, assignee, respondent_key, respondent_name, subject, created_at, next_due_at, \
     staff_due";

type RawSummary = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    bool,
);

pub fn read_summary(row: &Row<'_>) -> rusqlite::Result<RawSummary> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
        row.get(10)?,
        row.get(11)?,
        row.get(12)?,
        row.get(13)?,
        row.get(14)?,
    ))
}

pub fn summary(r: RawSummary) -> Result<CaseSummary, StoreError> {
    Ok(CaseSummary {
        seq: r.0,
        id: parse_uuid(&r.1)?,
        tracking_no: r.2,
        status: parse_enum("status", &r.3)?,
        closure: parse_enum_opt("closure", r.4)?,
        channel: parse_enum("channel", &r.5)?,
        category: r.6,
        department: r.7,
        assignee: r.8,
        respondent_key: r.9,
        respondent_name: r.10,
        subject: r.11,
        created_at: parse_ts(&r.12)?,
        next_due_at: parse_ts_opt(r.13)?,
        staff_due: r.14,
    })
}
