//! Cases, their corrective actions, reports, the journal and idempotency
//! records ([`CaseStore`]).

use super::*;
use redress_store::sql::actions;

#[async_trait]
impl CaseStore for SqliteStore {
    async fn insert_case(
        &self,
        row: CaseRow,
        events: Vec<NewEvent>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<InsertOutcome> {
        self.write_small(move |ctx| {
            if let Some(idem) = &idempotency
                && let Some(first) = get_idempotency(ctx.conn, &idem.key)?
            {
                return Ok(InsertOutcome::Replayed(first));
            }
            let seq = insert_case_row(ctx.conn, &row)?;
            ctx.index_case(seq);
            actions::write(ctx, row.id, &row.actions)?;
            rollups::insert(ctx.conn, &row)?;
            ctx.append(&events)?;
            if let Some(idem) = &idempotency {
                ctx.conn
                    .prepare_cached(
                        "INSERT INTO idempotency_keys (key, request_hash, status, body, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(db)?
                    .execute(params![
                        idem.key,
                        idem.request_hash,
                        idem.status,
                        idem.body,
                        ts(&idem.created_at)
                    ])
                    .map_err(|e| constraint(e, "key", "key"))?;
            }
            Ok(InsertOutcome::Inserted { seq })
        })
        .await
    }

    async fn update_cases(
        &self,
        updates: Vec<CaseUpdate>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            for u in &updates {
                update_case_row(ctx.conn, u)?;
                actions::write(ctx, u.row.id, &u.row.actions)?;
            }
            ctx.append(&events)
        })
        .await
    }

    async fn put_actions(
        &self,
        case_id: Uuid,
        rows: Vec<redress_store::ActionRow>,
    ) -> StoreResult<()> {
        self.write(move |ctx| actions::replace(ctx, case_id, &rows))
            .await
    }
}
