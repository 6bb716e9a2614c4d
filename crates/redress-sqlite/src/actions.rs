//! The `corrective_actions` table: each case's corrective actions, written
//! with the case row in the same transaction (read by
//! [`redress_store::sql::actions`]).

use r2d2_sqlite::rusqlite::{Connection, params};
use redress_store::sql::Conn;
use redress_store::sql::actions::{COLUMNS, row};
use redress_store::{ActionRow, StoreResult};
use uuid::Uuid;

use crate::codec::{db, ts, ts_opt};

/// Replaces the case's rows with `rows`. Actions are never removed from a
/// case, so an empty list (a case without a decision, or one without
/// actions) has nothing to replace and costs nothing.
pub fn write(conn: &Connection, case_id: &str, rows: &[ActionRow]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    replace(conn, case_id, rows)
}

/// Replaces the case's rows, also with none.
pub fn replace(conn: &Connection, case_id: &str, rows: &[ActionRow]) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM corrective_actions WHERE case_id = ?1")
        .map_err(db)?
        .execute([case_id])
        .map_err(db)?;
    let mut stmt = conn
        .prepare_cached(&format!(
            "INSERT INTO corrective_actions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))
        .map_err(db)?;
    for r in rows {
        stmt.execute(params![
            case_id,
            r.action_id,
            r.tracking_no,
            r.department,
            r.description,
            r.owner,
            ts(&r.due_at),
            ts_opt(&r.done_at),
            r.done_by,
        ])
        .map_err(db)?;
    }
    Ok(())
}

/// The rows of one case (the bulk copy carries them with the case row).
pub fn of_case(conn: &Connection, case_id: Uuid) -> StoreResult<Vec<ActionRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM corrective_actions WHERE case_id = ?1 ORDER BY due_at, action_id"
    );
    let mut conn = conn;
    conn.query(&sql, &redress_store::args![case_id], |r| row(r))
}
