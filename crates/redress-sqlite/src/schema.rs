//! Embedded migrations, applied in order and recorded in `schema_migrations`.

use chrono::Utc;
use r2d2_sqlite::rusqlite::{Connection, params};
use redress_store::StoreResult;

use crate::codec::{db, ts};

/// `(version, name, sql)`, in order. Never edit a released migration: add one.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "claims", include_str!("../migrations/0002_claims.sql")),
    (
        3,
        "deadlines",
        include_str!("../migrations/0003_deadlines.sql"),
    ),
    (
        4,
        "canned_replies",
        include_str!("../migrations/0004_canned_replies.sql"),
    ),
];

/// Applies the migrations not yet recorded. Runs inside the caller's
/// transaction (or savepoint); returns how many were applied.
pub fn apply(conn: &Connection) -> StoreResult<usize> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    )
    .map_err(db)?;
    let current: i64 = conn
        .query_row(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(db)?;
    let mut applied = 0;
    for (version, name, sql) in MIGRATIONS {
        if *version <= current {
            continue;
        }
        conn.execute_batch(sql).map_err(db)?;
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![version, name, ts(&Utc::now())],
        )
        .map_err(db)?;
        tracing::info!(version, name, "applied migration");
        applied += 1;
    }
    Ok(applied)
}

/// Applies pending migrations in a transaction of their own.
pub fn migrate(conn: &Connection) -> StoreResult<usize> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
    match apply(conn) {
        Ok(n) => {
            conn.execute_batch("COMMIT").map_err(db)?;
            Ok(n)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
