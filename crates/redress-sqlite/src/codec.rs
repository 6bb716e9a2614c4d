//! Conversions between Rust values and SQLite columns, and error mapping.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use r2d2_sqlite::rusqlite::types::ToSqlOutput;
use r2d2_sqlite::rusqlite::{self, Connection, Row, ffi};
use redress_store::StoreError;
use redress_store::sql::{Conn, Dialect, Param};
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

pub use redress_store::rows::{parse_enum, parse_enum_opt};

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

/// The SQLite side of [`redress_store::rows::Columns`].
pub struct Sqlite;

impl redress_store::rows::Columns<Sqlite> for Row<'_> {
    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.get(i).map_err(db)
    }
    fn text_opt(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.get(i).map_err(db)
    }
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.get(i).map_err(db)
    }
    fn small(&self, i: usize) -> Result<i32, StoreError> {
        self.get(i).map_err(db)
    }
    fn small_opt(&self, i: usize) -> Result<Option<i32>, StoreError> {
        self.get(i).map_err(db)
    }
    fn flag(&self, i: usize) -> Result<bool, StoreError> {
        self.get(i).map_err(db)
    }
    fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        parse_ts(&self.text(i)?)
    }
    fn time_opt(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        parse_ts_opt(self.text_opt(i)?)
    }
    fn date(&self, i: usize) -> Result<NaiveDate, StoreError> {
        parse_date(&self.text(i)?)
    }
    fn uuid(&self, i: usize) -> Result<Uuid, StoreError> {
        parse_uuid(&self.text(i)?)
    }
    fn uuid_opt(&self, i: usize) -> Result<Option<Uuid>, StoreError> {
        parse_uuid_opt(self.text_opt(i)?)
    }
    fn json<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T, StoreError> {
        from_json(&self.text(i)?)
    }
    fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        value_bytes(self.get_ref(i).map_err(db)?)
    }
}

/// A column that holds bytes: a blob, or text written before it did.
pub fn value_bytes(v: rusqlite::types::ValueRef<'_>) -> Result<Vec<u8>, StoreError> {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
        other => Err(StoreError::other(format!(
            "bytes expected, found {:?}",
            other.data_type()
        ))),
    }
}

/// A parameter of [`redress_store::sql`] as SQLite stores it: times, ids
/// and dates as text (times in [`TIME_FORMAT`]), flags as integers.
pub fn bind(p: &Param) -> ToSqlOutput<'_> {
    use rusqlite::types::{Value, ValueRef};
    match p {
        Param::Text(s) | Param::Json(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Param::Int(i) => ToSqlOutput::Owned(Value::Integer(i64::from(*i))),
        Param::Int64(i) => ToSqlOutput::Owned(Value::Integer(*i)),
        Param::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
        Param::Time(t) => ToSqlOutput::Owned(Value::Text(ts(t))),
        Param::Date(d) => ToSqlOutput::Owned(Value::Text(d.format("%Y-%m-%d").to_string())),
        Param::Uuid(u) => ToSqlOutput::Owned(Value::Text(u.to_string())),
        Param::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        Param::Null(_) => ToSqlOutput::Owned(Value::Null),
        Param::Texts(_) | Param::Uuids(_) | Param::Int64s(_) => {
            unreachable!("SQLite binds no arrays")
        }
    }
}

fn run(c: &Connection, sql: &str, params: &[Param]) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?
        .execute(rusqlite::params_from_iter(params.iter().map(bind)))
}

fn query<T>(
    c: &Connection,
    sql: &str,
    params: &[Param],
    mut read: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = c.prepare_cached(sql).map_err(db)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter().map(bind)))
        .map_err(db)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(db)? {
        out.push(read(r)?);
    }
    Ok(out)
}

/// [`Conn`] for a connection and for the writer's context.
macro_rules! conn {
    ($t:ty, |$s:ident| $c:expr) => {
        impl Conn<Sqlite> for $t {
            const DIALECT: Dialect = Dialect::Sqlite;
            type Row<'r> = Row<'r>;

            fn query<T>(
                &mut self,
                sql: &str,
                params: &[Param],
                read: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
            ) -> Result<Vec<T>, StoreError> {
                let $s = self;
                query($c, sql, params, read)
            }

            fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
                let $s = self;
                Ok(run($c, sql, params).map_err(db)? as u64)
            }

            fn execute_or(
                &mut self,
                sql: &str,
                params: &[Param],
                what: &'static str,
                missing: &'static str,
            ) -> Result<u64, StoreError> {
                let $s = self;
                Ok(run($c, sql, params).map_err(|e| constraint(e, what, missing))? as u64)
            }
        }
    };
}

conn!(Connection, |s| s);
conn!(&Connection, |s| s);
conn!(crate::writer::WriteCtx<'_>, |s| s.conn);
