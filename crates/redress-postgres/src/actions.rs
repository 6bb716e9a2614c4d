//! The `corrective_actions` table: each case's corrective actions, written
//! with the case row in the same transaction, read by `GET /actions`
//! without opening a case document.

use postgres::types::ToSql;
use postgres::{Client, Row};
use redress_store::{ActionFilter, ActionRow, ActionState, StoreResult, Visibility};
use uuid::Uuid;

use crate::codec::{col, db, us, us_opt};
use crate::writer::WriteCtx;

const COLUMNS: &str =
    "case_id, action_id, tracking_no, department, description, owner, due_at, done_at, done_by";

const DELETE: &str = "DELETE FROM corrective_actions WHERE case_id = $1";
const INSERT: &str = "INSERT INTO corrective_actions (case_id, action_id, tracking_no, \
     department, description, owner, due_at, done_at, done_by) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Replaces the case's rows with `rows`. Actions are never removed from a
/// case, so an empty list has nothing to replace and costs nothing.
pub fn write(ctx: &mut WriteCtx<'_>, case_id: Uuid, rows: &[ActionRow]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    replace(ctx, case_id, rows)
}

/// Replaces the case's rows, also with none.
pub fn replace(ctx: &mut WriteCtx<'_>, case_id: Uuid, rows: &[ActionRow]) -> StoreResult<()> {
    ctx.execute(DELETE, &[&case_id]).map_err(db)?;
    for r in rows {
        ctx.execute(
            INSERT,
            &[
                &case_id,
                &r.action_id,
                &r.tracking_no,
                &r.department,
                &r.description,
                &r.owner,
                &us(&r.due_at),
                &us_opt(&r.done_at),
                &r.done_by,
            ],
        )
        .map_err(db)?;
    }
    Ok(())
}

fn row(r: &Row) -> StoreResult<ActionRow> {
    Ok(ActionRow {
        case_id: col(r, 0)?,
        action_id: col(r, 1)?,
        tracking_no: col(r, 2)?,
        department: col(r, 3)?,
        description: col(r, 4)?,
        owner: col(r, 5)?,
        due_at: col(r, 6)?,
        done_at: col(r, 7)?,
        done_by: col(r, 8)?,
    })
}

type Param = Box<dyn ToSql + Sync + Send>;

pub fn list(
    client: &mut Client,
    visibility: &Visibility,
    filter: &ActionFilter,
) -> StoreResult<Vec<ActionRow>> {
    let mut terms: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    let next = |params: &mut Vec<Param>, p: Param| {
        params.push(p);
        format!("${}", params.len())
    };
    match visibility {
        Visibility::All => {}
        Visibility::Departments { departments, .. } => {
            if departments.is_empty() {
                return Ok(Vec::new());
            }
            let p = next(&mut params, Box::new(departments.clone()));
            terms.push(format!("department = ANY({p}::text[])"));
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
            let p = next(&mut params, Box::new(us(&now)));
            terms.push(format!("due_at <= {p}"));
            "due_at, case_id, action_id"
        }
        ActionState::Done => {
            terms.push("done_at IS NOT NULL".into());
            "done_at DESC, case_id, action_id"
        }
    };
    if let Some(o) = &filter.owner {
        let p = next(&mut params, Box::new(o.clone()));
        terms.push(format!("owner = {p}"));
    }
    if let Some(d) = &filter.department {
        let p = next(&mut params, Box::new(d.clone()));
        terms.push(format!("department = {p}"));
    }
    let limit = next(
        &mut params,
        Box::new(i64::try_from(filter.limit).unwrap_or(i64::MAX)),
    );
    let sql = format!(
        "SELECT {COLUMNS} FROM corrective_actions WHERE {} ORDER BY {order} LIMIT {limit}",
        terms.join(" AND ")
    );
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    client
        .query(sql.as_str(), &refs)
        .map_err(db)?
        .iter()
        .map(row)
        .collect()
}

/// The rows of the given cases (the bulk copy carries them with the case
/// rows).
pub fn of_cases(client: &mut Client, ids: &[Uuid]) -> StoreResult<Vec<ActionRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM corrective_actions WHERE case_id = ANY($1::uuid[]) \
         ORDER BY due_at, action_id"
    );
    client
        .query(sql.as_str(), &[&ids.to_vec()])
        .map_err(db)?
        .iter()
        .map(row)
        .collect()
}
