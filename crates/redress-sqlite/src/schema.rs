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
    (
        6,
        "webhooks",
        include_str!("../migrations/0006_webhooks.sql"),
    ),
    (
        7,
        "held_mail",
        include_str!("../migrations/0007_held_mail.sql"),
    ),
    (
        8,
        "user_email",
        include_str!("../migrations/0008_user_email.sql"),
    ),
    (
        9,
        "notice_templates",
        include_str!("../migrations/0009_notice_templates.sql"),
    ),
    (
        10,
        "key_lifecycle",
        include_str!("../migrations/0010_key_lifecycle.sql"),
    ),
    (
        11,
        "retention",
        include_str!("../migrations/0011_retention.sql"),
    ),
    (
        12,
        "erasure",
        include_str!("../migrations/0012_erasure.sql"),
    ),
    (
        13,
        "calendar_feed",
        include_str!("../migrations/0013_calendar_feed.sql"),
    ),
];

/// Applies the migrations not yet recorded, in order of version. Runs
/// inside the caller's transaction (or savepoint); returns how many were
/// applied. Each version is looked up on its own, not compared with the
/// highest one applied: versions may be merged out of order (a branch's
/// migration numbered after another's that lands later), and a lower
/// version that arrives after a higher one is still applied.
pub fn apply(conn: &Connection) -> StoreResult<usize> {
    apply_list(conn, MIGRATIONS)
}

fn apply_list(conn: &Connection, migrations: &[(i64, &str, &str)]) -> StoreResult<usize> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    )
    .map_err(db)?;
    let done: std::collections::HashSet<i64> = conn
        .prepare("SELECT version FROM schema_migrations")
        .map_err(db)?
        .query_map([], |r| r.get(0))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    let mut applied = 0;
    for (version, name, sql) in migrations {
        if done.contains(version) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(conn: &Connection) -> Vec<i64> {
        conn.prepare("SELECT version FROM schema_migrations ORDER BY version")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// A branch's migration numbered after another's that is merged later:
    /// the lower version is still applied, once.
    #[test]
    fn a_lower_version_merged_after_a_higher_one_is_applied() {
        let conn = Connection::open_in_memory().unwrap();
        let early: &[(i64, &str, &str)] = &[
            (1, "one", "CREATE TABLE one (x INTEGER);"),
            (6, "six", "CREATE TABLE six (x INTEGER);"),
        ];
        assert_eq!(apply_list(&conn, early).unwrap(), 2);
        let merged: &[(i64, &str, &str)] = &[
            (1, "one", "CREATE TABLE one (x INTEGER);"),
            (4, "four", "CREATE TABLE four (x INTEGER);"),
            (5, "five", "CREATE TABLE five (x INTEGER);"),
            (6, "six", "CREATE TABLE six (x INTEGER);"),
        ];
        assert_eq!(apply_list(&conn, merged).unwrap(), 2);
        assert_eq!(versions(&conn), [1, 4, 5, 6]);
        assert_eq!(apply_list(&conn, merged).unwrap(), 0);
        conn.execute_batch("SELECT * FROM four, five").unwrap();
    }

    #[test]
    fn the_shipped_list_is_in_order_without_repeats() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0));
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(apply(&conn).unwrap(), MIGRATIONS.len());
        assert_eq!(apply(&conn).unwrap(), 0);
    }
}
