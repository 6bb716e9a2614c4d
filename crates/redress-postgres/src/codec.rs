//! Conversions between Rust values and PostgreSQL columns, and error mapping.

use chrono::{DateTime, Utc};
use postgres::Row;
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type};
use redress_store::StoreError;
use redress_store::sql::{Conn, Dialect, Kind, Param, numbered};

/// PostgreSQL keeps microseconds and rounds what it is given; the journal
/// hashes times truncated to microseconds. Every bound time is truncated
/// first, so that what is read back is what was hashed.
pub fn us(t: &DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(*t)
}

pub fn us_opt(t: &Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.as_ref().map(us)
}

pub use redress_store::rows::{parse_enum, parse_enum_opt};

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
    fn date(&self, i: usize) -> Result<chrono::NaiveDate, StoreError> {
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

/// A parameter of [`redress_store::sql`], bound as its native type (a
/// time truncated to microseconds, see [`us`]).
#[derive(Debug)]
struct Bind<'a>(&'a Param);

impl ToSql for Bind<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Param::Text(s) => s.to_sql(ty, out),
            Param::Texts(v) => v.to_sql(ty, out),
            Param::Uuids(v) => v.to_sql(ty, out),
            Param::Int64s(v) => v.to_sql(ty, out),
            Param::Int(i) => i.to_sql(ty, out),
            Param::Int64(i) => i.to_sql(ty, out),
            Param::Bool(b) => b.to_sql(ty, out),
            Param::Time(t) => us(t).to_sql(ty, out),
            Param::Date(d) => d.to_sql(ty, out),
            Param::Uuid(u) => u.to_sql(ty, out),
            Param::Json(s) => serde_json::from_str::<serde_json::Value>(s)?.to_sql(ty, out),
            Param::Bytes(b) => b.to_sql(ty, out),
            Param::Null(_) => Ok(IsNull::Yes),
        }
    }

    /// The type is the one [`pg_type`] declared for the value.
    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

fn pg_type(p: &Param) -> Type {
    let kind = match p {
        Param::Texts(_) => return Type::TEXT_ARRAY,
        Param::Uuids(_) => return Type::UUID_ARRAY,
        Param::Int64s(_) => return Type::INT8_ARRAY,
        Param::Text(_) => Kind::Text,
        Param::Int(_) => Kind::Int,
        Param::Int64(_) => Kind::Int64,
        Param::Bool(_) => Kind::Bool,
        Param::Time(_) => Kind::Time,
        Param::Date(_) => Kind::Date,
        Param::Uuid(_) => Kind::Uuid,
        Param::Json(_) => Kind::Json,
        Param::Bytes(_) => Kind::Bytes,
        Param::Null(k) => *k,
    };
    match kind {
        Kind::Text => Type::TEXT,
        Kind::Int => Type::INT4,
        Kind::Int64 => Type::INT8,
        Kind::Bool => Type::BOOL,
        Kind::Time => Type::TIMESTAMPTZ,
        Kind::Date => Type::DATE,
        Kind::Uuid => Type::UUID,
        Kind::Json => Type::JSONB,
        Kind::Bytes => Type::BYTEA,
    }
}

/// Most statements one connection keeps prepared. The statements are
/// written in the code, but some are assembled from the filters a call
/// gives (a list's `WHERE`, an `IN` of n ids): beyond this many the
/// connection forgets them all and starts again.
const PREPARED_MAX: usize = 256;

/// The statements prepared on one connection, by their SQL and parameter
/// types. A statement is parsed once per connection, and PostgreSQL keeps
/// its plan (a generic one once it has seen that custom plans are no
/// better), where an unnamed statement is parsed and planned at every
/// call: on intake that was a quarter of the server's CPU
/// (docs/benchmarks.md, "PostgreSQL intake: prepared statements").
#[derive(Default)]
pub struct Prepared {
    statements: std::collections::HashMap<String, postgres::Statement>,
}

impl Prepared {
    /// Forgets every statement (a new connection).
    pub fn clear(&mut self) {
        self.statements.clear();
    }

    /// `sql` as written (placeholders `$1`…, types inferred by the
    /// server), prepared once: the writer's own statements.
    pub fn statement(
        &mut self,
        client: &mut postgres::Client,
        sql: &str,
    ) -> Result<postgres::Statement, postgres::Error> {
        self.cached(sql, || client.prepare(sql))
    }

    /// The statement kept under `key`, prepared by `prepare` on a miss
    /// (the whole cache forgotten first when it holds [`PREPARED_MAX`]).
    fn cached(
        &mut self,
        key: &str,
        prepare: impl FnOnce() -> Result<postgres::Statement, postgres::Error>,
    ) -> Result<postgres::Statement, postgres::Error> {
        if let Some(s) = self.statements.get(key) {
            return Ok(s.clone());
        }
        if self.statements.len() >= PREPARED_MAX {
            self.statements.clear();
        }
        let s = prepare()?;
        self.statements.insert(key.to_string(), s.clone());
        Ok(s)
    }

    /// Runs `sql` through its prepared statement. A plan whose result
    /// changed shape (another instance migrated the schema under it,
    /// 0A000) or a statement the server no longer has (`DEALLOCATE ALL`
    /// by a pooler, 26000) empties the cache, so that the next call
    /// prepares anew instead of failing for ever; with `retry` (a
    /// connection outside a transaction, where the failed call changed
    /// nothing and aborted nothing) the call itself is prepared and run
    /// again at once.
    fn run<C: postgres::GenericClient, R>(
        &mut self,
        client: &mut C,
        sql: &str,
        params: &[Param],
        retry: bool,
        mut run: impl FnMut(
            &mut C,
            &postgres::Statement,
            &[&(dyn ToSql + Sync)],
        ) -> Result<R, postgres::Error>,
    ) -> Result<R, postgres::Error> {
        let out = self.run_once(client, sql, params, &mut run);
        match out {
            Err(e) if stale(&e) => {
                self.statements.clear();
                if retry {
                    self.run_once(client, sql, params, &mut run)
                } else {
                    Err(e)
                }
            }
            out => out,
        }
    }

    fn run_once<C: postgres::GenericClient, R>(
        &mut self,
        client: &mut C,
        sql: &str,
        params: &[Param],
        run: &mut impl FnMut(
            &mut C,
            &postgres::Statement,
            &[&(dyn ToSql + Sync)],
        ) -> Result<R, postgres::Error>,
    ) -> Result<R, postgres::Error> {
        use std::fmt::Write;
        let types: Vec<Type> = params.iter().map(pg_type).collect();
        let mut key = String::with_capacity(sql.len() + 6 * types.len());
        key.push_str(sql);
        for t in &types {
            let _ = write!(key, ",{}", t.oid());
        }
        let statement = self.cached(&key, || client.prepare_typed(&numbered(sql), &types))?;
        let binds: Vec<Bind<'_>> = params.iter().map(Bind).collect();
        let refs: Vec<&(dyn ToSql + Sync)> =
            binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
        run(client, &statement, &refs)
    }

    /// How many statements are prepared.
    pub fn count(&self) -> usize {
        self.statements.len()
    }
}

/// A prepared statement the server refused as stale: its plan's result
/// changed shape (0A000), or the server forgot it (26000).
fn stale(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::FEATURE_NOT_SUPPORTED)
        || e.code() == Some(&SqlState::INVALID_SQL_STATEMENT_NAME)
}

/// Whether `e` is a PostgreSQL error that [`stale`] recognises (the
/// writer sees its statements' errors as [`StoreError`]s).
pub fn is_stale(e: &StoreError) -> bool {
    // [`db`] maps the stale codes, as every code but deadlock and
    // serialization failure, to `Backend`.
    match e {
        StoreError::Backend(source) => source.downcast_ref::<postgres::Error>().is_some_and(stale),
        _ => false,
    }
}

/// [`Conn`] for a connection that keeps its statements prepared
/// ([`Prepared`]): `$c` gives the client and the statements.
macro_rules! prepared_conn {
    ($t:ty, retry = $retry:expr, |$s:ident| $c:expr) => {
        impl Conn<Postgres> for $t {
            const DIALECT: Dialect = Dialect::Postgres;
            type Row<'r> = Row;

            fn query<T>(
                &mut self,
                sql: &str,
                params: &[Param],
                read: impl FnMut(&Row) -> Result<T, StoreError>,
            ) -> Result<Vec<T>, StoreError> {
                let $s = self;
                let (client, prepared) = $c;
                let rows = prepared
                    .run(client, sql, params, $retry, |c, s, p| c.query(s, p))
                    .map_err(db)?;
                rows.iter().map(read).collect()
            }

            fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
                let $s = self;
                let (client, prepared) = $c;
                prepared
                    .run(client, sql, params, $retry, |c, s, p| c.execute(s, p))
                    .map_err(db)
            }

            fn execute_or(
                &mut self,
                sql: &str,
                params: &[Param],
                what: &'static str,
                missing: &'static str,
            ) -> Result<u64, StoreError> {
                let $s = self;
                let (client, prepared) = $c;
                prepared
                    .run(client, sql, params, $retry, |c, s, p| c.execute(s, p))
                    .map_err(|e| constraint(e, what, missing))
            }
        }
    };
}

// A pooled connection outside a transaction retries a stale statement at
// once; inside a transaction (a snapshot, the writer's group) the error
// has aborted the transaction, so it is the caller's to see.
prepared_conn!(crate::Reader, retry = true, |s| (
    &mut s.client,
    &mut s.prepared
));
prepared_conn!(crate::ReaderTx<'_>, retry = false, |s| (
    &mut s.tx,
    &mut *s.prepared
));
prepared_conn!(crate::writer::WriteCtx<'_>, retry = false, |s| s
    .prepared_client());
