//! Embedded migrations, applied in order and recorded in `schema_migrations`.

use chrono::Utc;
use r2d2_sqlite::rusqlite::{Connection, params};
use redress_store::StoreResult;

use crate::codec::{db, ts};

/// `(version, name, sql)`, in order. Never edit a released migration: add one.
/// From 0016 on a migration has the same number and name on both backends
/// (checked by `redress-conformance/tests/migrations.rs`); the older ones
/// keep the numbers they were recorded with.
// The numbers are written as the files are named (`0001` is 1).
#[allow(clippy::zero_prefixed_literal)]
pub const MIGRATIONS: &[(i64, &str, &str)] = redress_store::migrations![
    0001 init, 0002 claims, 0003 deadlines, 0004 canned_replies, 0006 webhooks, 0007 held_mail,
    0008 user_email, 0009 notice_templates, 0010 key_lifecycle, 0011 retention, 0012 erasure,
    0013 calendar_feed, 0014 staff_channels, 0015 settings, 0016 corrective_actions,
    0017 respondent_reply, 0018 report_days, 0019 category_model, 0020 alerts,
    0021 department_name_en, 0022 report_months, 0023 cases_due, 0024 search_index_per_group,
    0025 compact_cases, 0026 smaller_cases, 0027 fewer_case_indexes, 0028 search_vector,
    0029 cases_vacuum_sooner, 0030 case_tokens,
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
        if sql.contains("PRAGMA writable_schema = ON") {
            schema_written(conn, *version)?;
        }
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

/// After a migration that edits the schema text in place (a CHECK widened
/// without rebuilding a large table, as SQLite's documentation describes):
/// bumps `schema_version`, so that every connection re-reads the schema,
/// and checks that the schema still parses.
fn schema_written(conn: &Connection, version: i64) -> StoreResult<()> {
    let current: i64 = conn
        .query_row("PRAGMA schema_version", [], |r| r.get(0))
        .map_err(db)?;
    conn.execute_batch(&format!("PRAGMA schema_version = {}", current + 1))
        .map_err(db)?;
    // Reading the table list parses every statement of the schema anew.
    conn.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0)))
        .map_err(|e| {
            redress_store::StoreError::other(format!(
                "migration {version} left a schema SQLite cannot read: {e}"
            ))
        })?;
    Ok(())
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

    /// The channel CHECK widened in place (0014) takes `letter` and
    /// `in_person` at once, on this connection and on a new one, and still
    /// refuses what is not a channel.
    #[test]
    fn staff_channels_are_accepted_after_the_schema_edit() {
        let dir = std::env::temp_dir().join(format!("redress-0014-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let conn = Connection::open(&dir).unwrap();
        let before: Vec<_> = MIGRATIONS.iter().filter(|m| m.0 < 14).copied().collect();
        apply_list(&conn, &before).unwrap();
        let insert = |c: &Connection, n: i64, channel: &str| {
            c.execute(
                "INSERT INTO cases (id, tracking_no, status, channel, subject, created_at, \
                 updated_at, staff_due, report, version, doc) \
                 VALUES (?1, ?1, 'submitted', ?2, 's', 't', 't', 0, '{}', 1, '{}')",
                params![format!("c{n}"), channel],
            )
        };
        insert(&conn, 1, "phone").unwrap();
        assert!(insert(&conn, 2, "letter").is_err());
        // 0014 and every migration after it.
        let rest = MIGRATIONS.iter().filter(|m| m.0 >= 14).count();
        assert_eq!(apply(&conn).unwrap(), rest);
        insert(&conn, 3, "letter").unwrap();
        insert(&conn, 4, "in_person").unwrap();
        assert!(insert(&conn, 5, "fax").is_err());
        let other = Connection::open(&dir).unwrap();
        insert(&other, 6, "in_person").unwrap();
        assert!(insert(&other, 7, "fax").is_err());
        let sql: String = other
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'cases'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sql.contains("'in_person'"), "{sql}");
        drop((conn, other));
        let _ = std::fs::remove_file(&dir);
    }

    /// 0025 fills the new `outcome` and `missed` columns from the JSON
    /// report facts of the rows written before it.
    #[test]
    fn the_list_filter_columns_are_filled_from_the_report_facts() {
        let conn = Connection::open_in_memory().unwrap();
        let before: Vec<_> = MIGRATIONS.iter().filter(|m| m.0 < 25).copied().collect();
        apply_list(&conn, &before).unwrap();
        for (n, report) in [
            (
                1,
                r#"{"outcome_in_force":"upheld","missed":["acceptance","handling"]}"#,
            ),
            (2, r#"{"outcome_in_force":"not_upheld"}"#),
            (3, r#"{"appealed":false}"#),
        ] {
            conn.execute(
                "INSERT INTO cases (id, tracking_no, status, channel, subject, created_at, \
                 updated_at, staff_due, report, version, doc) \
                 VALUES (?1, ?1, 'submitted', 'web', 's', 't', 't', 0, ?2, 1, '{}')",
                params![format!("c{n}"), report],
            )
            .unwrap();
        }
        apply(&conn).unwrap();
        let got: Vec<(Option<String>, Option<String>)> = conn
            .prepare("SELECT outcome, missed FROM cases ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            got,
            [
                (some("upheld"), some(",acceptance,handling,")),
                (some("not_upheld"), None),
                (None, None)
            ]
        );
    }

    #[test]
    fn the_shipped_list_is_in_order_without_repeats() {
        assert!(MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0));
        let conn = Connection::open_in_memory().unwrap();
        assert_eq!(apply(&conn).unwrap(), MIGRATIONS.len());
        assert_eq!(apply(&conn).unwrap(), 0);
    }
}
