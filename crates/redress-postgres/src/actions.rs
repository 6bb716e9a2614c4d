//! The `corrective_actions` table: each case's corrective actions, written
//! with the case row in the same transaction (read by
//! [`redress_store::sql::actions`]).

use postgres::Client;
use redress_store::sql::actions::{COLUMNS, row};
use redress_store::{ActionRow, StoreResult};
use uuid::Uuid;

use crate::codec::{db, us, us_opt};
use crate::writer::WriteCtx;

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
