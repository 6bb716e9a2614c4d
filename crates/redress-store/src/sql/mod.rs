//! Statements written once for both backends.
//!
//! A statement that is the same on SQLite and PostgreSQL lives here, once,
//! over [`Conn`]: the few calls each backend implements for its own
//! connection (and its writer's context). Its parameters are [`Param`]s,
//! which each backend binds its own way (SQLite: times, ids and JSON as
//! text, exactly as it stores them; PostgreSQL: native types), and its
//! rows are read through [`Columns`], mostly by the readers of
//! [`crate::rows`]. Placeholders are written `?1`, `?2`, … (or `?` in
//! order); the PostgreSQL side numbers them `$n` ([`numbered`]).
//!
//! Where the SQL of the backends truly differs (an upsert's syntax, the
//! full-text search, arrays), the statement stays in its backend.

pub mod actions;
pub mod backend;
pub mod cases;
pub mod copy;
pub mod list;
pub mod mail;
pub mod people;
pub mod rollups;
pub mod settings;
pub mod templates;
pub mod webhooks;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::StoreResult;
pub use crate::filter::Dialect;
use crate::rows::Columns;
pub use backend::{Backend, Journal};

/// The type of a parameter, kept by a null so that PostgreSQL may be told
/// what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Int64,
    Bool,
    Time,
    Date,
    Uuid,
    Json,
    Bytes,
}

/// A parameter value; each backend binds it its own way.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    /// A `text[]` (PostgreSQL only).
    Texts(Vec<String>),
    /// A `uuid[]` (PostgreSQL only).
    Uuids(Vec<Uuid>),
    /// A `bigint[]` (PostgreSQL only).
    Int64s(Vec<i64>),
    Int(i32),
    Int64(i64),
    Bool(bool),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Uuid(Uuid),
    /// A JSON document as text (a `jsonb` on PostgreSQL).
    Json(String),
    Bytes(Vec<u8>),
    /// A null of the given type.
    Null(Kind),
}

impl Param {
    /// `v` as a JSON document.
    pub fn json<T: serde::Serialize + ?Sized>(v: &T) -> StoreResult<Param> {
        serde_json::to_string(v)
            .map(Param::Json)
            .map_err(|e| crate::StoreError::other(format!("json: {e}")))
    }
}

/// A Rust type that binds as one [`Kind`] of parameter (so that its
/// `None` is a typed null).
pub trait Typed: Into<Param> {
    const KIND: Kind;
}

macro_rules! typed {
    ($($t:ty => $kind:ident, |$v:ident| $e:expr;)*) => {$(
        impl From<$t> for Param {
            fn from($v: $t) -> Param {
                $e
            }
        }
        impl Typed for $t {
            const KIND: Kind = Kind::$kind;
        }
    )*};
}

typed! {
    String => Text, |v| Param::Text(v);
    &String => Text, |v| Param::Text(v.clone());
    &str => Text, |v| Param::Text(v.to_string());
    i32 => Int, |v| Param::Int(v);
    i64 => Int64, |v| Param::Int64(v);
    bool => Bool, |v| Param::Bool(v);
    DateTime<Utc> => Time, |v| Param::Time(v);
    &DateTime<Utc> => Time, |v| Param::Time(*v);
    NaiveDate => Date, |v| Param::Date(v);
    Uuid => Uuid, |v| Param::Uuid(v);
    &Uuid => Uuid, |v| Param::Uuid(*v);
}

impl<T: Typed> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Param {
        v.map_or(Param::Null(T::KIND), Into::into)
    }
}

impl From<Vec<String>> for Param {
    fn from(v: Vec<String>) -> Param {
        Param::Texts(v)
    }
}

impl From<Vec<Uuid>> for Param {
    fn from(v: Vec<Uuid>) -> Param {
        Param::Uuids(v)
    }
}

impl From<Vec<i64>> for Param {
    fn from(v: Vec<i64>) -> Param {
        Param::Int64s(v)
    }
}

/// `[Param; n]` of the given values (each through `Param::from`).
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        [$($crate::sql::Param::from($v)),*]
    };
}

/// A connection (or a writer's context) that runs statements written
/// for both backends.
///
/// `D` is the backend's marker of [`Columns`] (a type of the
/// implementing backend, for the orphan rule).
pub trait Conn<D> {
    type Row<'r>: Columns<D>;
    /// Whose SQL it speaks, for the few statements that differ.
    const DIALECT: Dialect;

    /// Runs `sql` and reads each row it answers with `read`.
    fn query<T>(
        &mut self,
        sql: &str,
        params: &[Param],
        read: impl FnMut(&Self::Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>>;

    /// Runs `sql`; the number of rows it changed. A unique violation is
    /// [`crate::StoreError::Duplicate`]`(what)`, a foreign-key violation
    /// [`crate::StoreError::Missing`]`(missing)`.
    fn execute_or(
        &mut self,
        sql: &str,
        params: &[Param],
        what: &'static str,
        missing: &'static str,
    ) -> StoreResult<u64>;

    /// Runs `sql`; the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param]) -> StoreResult<u64>;

    /// The first row `sql` answers, read with `read`.
    fn query_opt<T>(
        &mut self,
        sql: &str,
        params: &[Param],
        read: impl FnMut(&Self::Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        Ok(self.query(sql, params, read)?.into_iter().next())
    }

    /// The one row `sql` answers, read with `read`.
    fn query_one<T>(
        &mut self,
        sql: &str,
        params: &[Param],
        read: impl FnMut(&Self::Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.query_opt(sql, params, read)?
            .ok_or_else(|| crate::StoreError::other("the query answered no row"))
    }
}

/// A row count as a bound `LIMIT`.
pub(crate) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A term `column` is one of `values` (with its parameters): `IN (…)`
/// on SQLite, `= ANY(array)` on PostgreSQL.
pub(crate) fn one_of<D, C: Conn<D>, T>(
    column: &str,
    values: &[T],
    params: &mut Vec<Param>,
) -> String
where
    T: Clone + Into<Param>,
    Vec<T>: Into<Param>,
{
    match C::DIALECT {
        Dialect::Sqlite => {
            params.extend(values.iter().cloned().map(Into::into));
            format!("{column} IN ({})", vec!["?"; values.len()].join(", "))
        }
        Dialect::Postgres => {
            params.push(values.to_vec().into());
            format!("{column} = ANY(?)")
        }
    }
}

/// A lease's two terms, `(until, now)`, and their parameters, numbered
/// from `?{first}`: `claimed_until = until` takes it, `claimed_until <
/// now` finds it expired. On PostgreSQL they run on the database's clock,
/// which every instance shares; on SQLite on this machine's (one process
/// owns the file).
pub(crate) fn lease<D, C: Conn<D>>(
    lease: std::time::Duration,
    first: usize,
) -> (String, String, Vec<Param>) {
    match C::DIALECT {
        Dialect::Sqlite => {
            let wall = Utc::now();
            let until = wall + chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::MAX);
            let (now, until_at) = (format!("?{first}"), format!("?{}", first + 1));
            (until_at, now, vec![wall.into(), until.into()])
        }
        Dialect::Postgres => (
            format!("clock_timestamp() + make_interval(secs => ?{first}::bigint / 1e6)"),
            "clock_timestamp()".into(),
            vec![i64::try_from(lease.as_micros()).unwrap_or(i64::MAX).into()],
        ),
    }
}

/// The journal's last `seq` as the caller's transaction sees it.
pub(crate) fn journal_head<D, C: Conn<D>>(c: &mut C) -> StoreResult<i64> {
    let sql = match C::DIALECT {
        Dialect::Sqlite => "SELECT coalesce(max(seq), 0) FROM journal_head",
        Dialect::Postgres => "SELECT seq FROM journal_head WHERE id = 1",
    };
    c.query_one(sql, &[], |r| r.int(0))
}

/// `sql` with its placeholders written `$n` (PostgreSQL's): `?n` becomes
/// `$n`, a bare `?` the next number. Quoted text is left alone.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                out.push('$');
                if chars.peek().is_some_and(char::is_ascii_digit) {
                    while let Some(d) = chars.next_if(char::is_ascii_digit) {
                        out.push(d);
                    }
                } else {
                    n += 1;
                    out.push_str(&n.to_string());
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("UPDATE t SET a = ?2 WHERE id = ?1 AND b <> '?'"),
            "UPDATE t SET a = $2 WHERE id = $1 AND b <> '?'"
        );
        assert_eq!(
            numbered("SELECT ? , ?, x FROM t WHERE y = ?"),
            "SELECT $1 , $2, x FROM t WHERE y = $3"
        );
    }

    #[test]
    fn a_none_is_a_typed_null() {
        assert_eq!(Param::from(None::<Uuid>), Param::Null(Kind::Uuid));
        assert_eq!(Param::from(Some("a")), Param::Text("a".into()));
    }
}
