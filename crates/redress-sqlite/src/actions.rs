//! The `corrective_actions` table: each case's corrective actions, written
//! with the case row in the same transaction, read by `GET /actions`
//! without opening a case document.

use r2d2_sqlite::rusqlite::types::Value as SqlValue;
use r2d2_sqlite::rusqlite::{Connection, params, params_from_iter};
use redress_store::{ActionFilter, ActionRow, ActionState, StoreResult, Visibility};

use crate::codec::{db, parse_ts, parse_ts_opt, parse_uuid, ts, ts_opt};

const COLUMNS: &str =
    "case_id, action_id, tracking_no, department, description, owner, due_at, done_at, done_by";

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

type Raw = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn read(r: &r2d2_sqlite::rusqlite::Row<'_>) -> r2d2_sqlite::rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn row(r: Raw) -> StoreResult<ActionRow> {
    Ok(ActionRow {
        case_id: parse_uuid(&r.0)?,
        action_id: r.1,
        tracking_no: r.2,
        department: r.3,
        description: r.4,
        owner: r.5,
        due_at: parse_ts(&r.6)?,
        done_at: parse_ts_opt(r.7)?,
        done_by: r.8,
    })
}

pub fn list(
    conn: &Connection,
    visibility: &Visibility,
    filter: &ActionFilter,
) -> StoreResult<Vec<ActionRow>> {
    let mut terms: Vec<String> = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    match visibility {
        Visibility::All => {}
        Visibility::Departments { departments, .. } => {
            if departments.is_empty() {
                return Ok(Vec::new());
            }
            let marks = vec!["?"; departments.len()].join(", ");
            terms.push(format!("department IN ({marks})"));
            values.extend(departments.iter().map(|d| SqlValue::Text(d.clone())));
        }
        Visibility::Respondent { .. } => return Ok(Vec::new()),
    }
    let order = match filter.state {
        ActionState::Open => {
            terms.push("done_at IS NULL".into());
            "due_at, case_id, action_id"
        }
        ActionState::OverdueAt(now) => {
            terms.push("done_at IS NULL".into());
            terms.push("due_at <= ?".into());
            values.push(SqlValue::Text(ts(&now)));
            "due_at, case_id, action_id"
        }
        ActionState::Done => {
            terms.push("done_at IS NOT NULL".into());
            "done_at DESC, case_id, action_id"
        }
    };
    if let Some(o) = &filter.owner {
        terms.push("owner = ?".into());
        values.push(SqlValue::Text(o.clone()));
    }
    if let Some(d) = &filter.department {
        terms.push("department = ?".into());
        values.push(SqlValue::Text(d.clone()));
    }
    values.push(SqlValue::Integer(
        i64::try_from(filter.limit).unwrap_or(i64::MAX),
    ));
    let sql = format!(
        "SELECT {COLUMNS} FROM corrective_actions WHERE {} ORDER BY {order} LIMIT ?",
        terms.join(" AND ")
    );
    let raw = conn
        .prepare_cached(&sql)
        .map_err(db)?
        .query_map(params_from_iter(values), read)
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    raw.into_iter().map(row).collect()
}

/// The rows of one case (the bulk copy carries them with the case row).
pub fn of_case(conn: &Connection, case_id: &str) -> StoreResult<Vec<ActionRow>> {
    let raw = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM corrective_actions WHERE case_id = ?1 ORDER BY due_at, action_id"
        ))
        .map_err(db)?
        .query_map([case_id], read)
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    raw.into_iter().map(row).collect()
}
