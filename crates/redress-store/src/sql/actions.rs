//! The `corrective_actions` table: each case's corrective actions, written
//! with the case row in the same transaction and read by `GET /actions`
//! without opening a case document.

use uuid::Uuid;

use super::{Conn, Dialect, Param};
use crate::rows::Columns;
use crate::{ActionFilter, ActionRow, ActionState, StoreResult, Visibility, args};

/// The columns [`row`] reads, in order.
pub const COLUMNS: &str =
    "case_id, action_id, tracking_no, department, description, owner, due_at, done_at, done_by";

pub fn row<D>(r: &impl Columns<D>) -> StoreResult<ActionRow> {
    Ok(ActionRow {
        case_id: r.uuid(0)?,
        action_id: r.text(1)?,
        tracking_no: r.text(2)?,
        department: r.text_opt(3)?,
        description: r.text(4)?,
        owner: r.text(5)?,
        due_at: r.time(6)?,
        done_at: r.time_opt(7)?,
        done_by: r.text_opt(8)?,
    })
}

pub fn list<D, C: Conn<D>>(
    c: &mut C,
    visibility: &Visibility,
    filter: &ActionFilter,
) -> StoreResult<Vec<ActionRow>> {
    let mut terms: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    match visibility {
        Visibility::All => {}
        Visibility::Departments { departments, .. } => {
            if departments.is_empty() {
                return Ok(Vec::new());
            }
            match C::DIALECT {
                Dialect::Sqlite => {
                    let marks = vec!["?"; departments.len()].join(", ");
                    terms.push(format!("department IN ({marks})"));
                    params.extend(departments.iter().map(Param::from));
                }
                Dialect::Postgres => {
                    terms.push("department = ANY(?)".into());
                    params.push(departments.clone().into());
                }
            }
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
            params.push(now.into());
            "due_at, case_id, action_id"
        }
        ActionState::Done => {
            terms.push("done_at IS NOT NULL".into());
            "done_at DESC, case_id, action_id"
        }
    };
    if let Some(o) = &filter.owner {
        terms.push("owner = ?".into());
        params.push(o.into());
    }
    if let Some(d) = &filter.department {
        terms.push("department = ?".into());
        params.push(d.into());
    }
    params.push(i64::try_from(filter.limit).unwrap_or(i64::MAX).into());
    let sql = format!(
        "SELECT {COLUMNS} FROM corrective_actions WHERE {} ORDER BY {order} LIMIT ?",
        terms.join(" AND ")
    );
    c.query(&sql, &params, |r| row(r))
}

/// Replaces the case's rows with `rows`. Actions are never removed from a
/// case, so an empty list (a case without a decision, or one without
/// actions) has nothing to replace and costs nothing.
pub fn write<D>(c: &mut impl Conn<D>, case_id: Uuid, rows: &[ActionRow]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    replace(c, case_id, rows)
}

/// Replaces the case's rows, also with none.
pub fn replace<D>(c: &mut impl Conn<D>, case_id: Uuid, rows: &[ActionRow]) -> StoreResult<()> {
    c.execute(
        "DELETE FROM corrective_actions WHERE case_id = ?1",
        &args![case_id],
    )?;
    let sql = format!(
        "INSERT INTO corrective_actions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    );
    for r in rows {
        let args = args![
            case_id,
            &r.action_id,
            &r.tracking_no,
            r.department.as_ref(),
            &r.description,
            &r.owner,
            r.due_at,
            r.done_at,
            r.done_by.as_ref()
        ];
        c.execute(&sql, &args)?;
    }
    Ok(())
}

/// The rows of the given cases (the bulk copy carries them with the case
/// rows), by due date.
pub fn of_cases<D, C: Conn<D>>(c: &mut C, ids: &[Uuid]) -> StoreResult<Vec<ActionRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = Vec::new();
    let term = super::one_of::<D, C, _>("case_id", ids, &mut params);
    c.query(
        &format!(
            "SELECT {COLUMNS} FROM corrective_actions WHERE {term} ORDER BY due_at, action_id"
        ),
        &params,
        |r| row(r),
    )
}
