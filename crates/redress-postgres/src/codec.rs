//! Conversions between Rust values and PostgreSQL columns, and error mapping.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use postgres::Row;
use postgres::error::SqlState;
use redress_store::StoreError;

/// PostgreSQL keeps microseconds and rounds what it is given; the journal
/// hashes times truncated to microseconds. Every bound time is truncated
/// first, so that what is read back is what was hashed.
pub fn us(t: &DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(*t)
}

pub fn us_opt(t: &Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.as_ref().map(us)
}

pub fn parse_enum<T: FromStr<Err: std::fmt::Display>>(
    what: &str,
    s: &str,
) -> Result<T, StoreError> {
    T::from_str(s).map_err(|e| StoreError::other(format!("bad {what} {s:?}: {e}")))
}

pub fn parse_enum_opt<T: FromStr<Err: std::fmt::Display>>(
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

pub use redress_store::rows::{CASE_COLUMNS, SUMMARY_COLUMNS, case_row, summary};

/// The PostgreSQL side of [`redress_store::rows::Columns`].
pub struct Postgres;

impl redress_store::rows::Columns<Postgres> for Row {
    fn text(&self, i: usize) -> Result<String, StoreError> {
        col(self, i)
    }
    fn text_opt(&self, i: usize) -> Result<Option<String>, StoreError> {
        col(self, i)
    }
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        col(self, i)
    }
    fn small(&self, i: usize) -> Result<i32, StoreError> {
        col(self, i)
    }
    fn small_opt(&self, i: usize) -> Result<Option<i32>, StoreError> {
        col(self, i)
    }
    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        col(self, i)
    }
    fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        col(self, i)
    }
    fn time_opt(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        col(self, i)
    }
    fn uuid(&self, i: usize) -> Result<uuid::Uuid, StoreError> {
        col(self, i)
    }
    fn uuid_opt(&self, i: usize) -> Result<Option<uuid::Uuid>, StoreError> {
        col(self, i)
    }
    fn json<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T, StoreError> {
        from_json(col(self, i)?)
    }
    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        col(self, i)
    }
}
