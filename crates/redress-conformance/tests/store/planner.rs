//! What PostgreSQL's planner is left with by the migrations.

use redress_postgres::{PgStore, Reader};
use redress_store::rows::Columns;
use redress_store::sql::Conn;

/// A new installation's migrations leave `cases` without statistics.
/// Statistics saying "no rows" would stay until the next ANALYZE (never,
/// where autovacuum is off) and so would the plans made on them: with
/// them, the look-up of a complainant's cases against a respondent that
/// every registration makes read the pair's whole history, and a
/// PostgreSQL registration cost twice the database CPU (migration 0028).
pub fn a_new_schema_leaves_cases_without_statistics(url: &str) {
    drop(PgStore::open(url).expect("a new schema migrates"));
    let mut r = Reader::connect(url).expect("connect");
    let reltuples = r
        .query(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = 'cases'::regclass",
            &[],
            |row| row.int(0),
        )
        .expect("pg_class answers");
    assert_eq!(reltuples, [-1], "never analysed");
}
