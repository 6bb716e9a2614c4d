//! The deadline and assignee lists are answered from an index, not by
//! reading every case (migration 0027 left fewer indexes on `cases`: each
//! of these shapes must still find one). The statements are the shapes
//! `redress_store::filter` and `redress_store::sql` build for them; the
//! planner is SQLite's own, without statistics, as in an installation.

mod common;

use r2d2_sqlite::rusqlite::Connection;

/// SQLite's plan for `sql`, one line per step.
fn plan(conn: &Connection, sql: &str) -> String {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    rows.join("\n")
}

fn assert_uses(conn: &Connection, sql: &str, index: &str) {
    let p = plan(conn, sql);
    assert!(
        p.contains(&format!("INDEX {index}")),
        "expected {index} for\n  {sql}\nplan:\n{p}"
    );
    assert!(
        !p.lines().any(|l| l.trim() == "SCAN cases"),
        "a scan of every case for\n  {sql}\nplan:\n{p}"
    );
}

#[test]
fn deadline_and_assignee_lists_read_an_index() {
    let (store, dir) = common::store();
    drop(store);
    let conn = Connection::open(dir.db()).unwrap();
    let now = "'2026-12-07T00:00:00.000000Z'";
    let soon = "'2026-12-08T00:00:00.000000Z'";
    // Overdue, everything visible: the keys of the overdue cases, newest
    // first (redress_store::sql::list, `+seq`).
    assert_uses(
        &conn,
        &format!(
            "SELECT seq FROM cases WHERE staff_due = 1 AND next_due_at <= {now} \
             ORDER BY +seq DESC LIMIT 51"
        ),
        "cases_due",
    );
    // Due soon.
    assert_uses(
        &conn,
        &format!(
            "SELECT seq FROM cases WHERE staff_due = 1 AND next_due_at > {now} \
             AND next_due_at <= {soon} ORDER BY +seq DESC LIMIT 51"
        ),
        "cases_due",
    );
    // Overdue in one department.
    assert_uses(
        &conn,
        &format!(
            "SELECT seq FROM cases WHERE department = 'ops' AND staff_due = 1 \
             AND next_due_at <= {now} ORDER BY +seq DESC LIMIT 51"
        ),
        "cases_overdue_dept",
    );
    // The queues' counts (redress_store::sql::cases::queues).
    let p = plan(
        &conn,
        &format!(
            "SELECT department, assignee, count(*) FROM cases \
             WHERE staff_due = 1 AND next_due_at <= {soon} GROUP BY department, assignee"
        ),
    );
    assert!(
        p.contains("INDEX cases_due") || p.contains("INDEX cases_overdue_dept"),
        "{p}"
    );
    // One assignee's cases, newest first, and their overdue ones.
    assert_uses(
        &conn,
        "SELECT seq FROM cases WHERE assignee = 'u1' ORDER BY seq DESC LIMIT 51",
        "cases_assignee_seq",
    );
    let p = plan(
        &conn,
        &format!(
            "SELECT seq FROM cases WHERE assignee = 'u1' AND staff_due = 1 \
             AND next_due_at <= {now} ORDER BY +seq DESC LIMIT 51"
        ),
    );
    assert!(
        p.contains("INDEX cases_overdue_assignee") || p.contains("INDEX cases_assignee_seq"),
        "{p}"
    );
    // The list by deadline walks `cases_due` (named by `INDEXED BY`).
    assert_uses(
        &conn,
        "SELECT seq FROM cases INDEXED BY cases_due WHERE next_due_at IS NOT NULL \
         ORDER BY next_due_at, seq LIMIT 51",
        "cases_due",
    );
}
