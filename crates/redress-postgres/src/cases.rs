//! Cases, their corrective actions, reports, the journal and idempotency
//! records ([`CaseStore`]).

use redress_store::sql::cases as sql;

use super::*;
use redress_store::sql::actions;

#[async_trait]
impl CaseStore for PgStore {
    async fn insert_case(
        &self,
        row: CaseRow,
        events: Vec<NewEvent>,
        idempotency: Option<IdempotencyRecord>,
    ) -> StoreResult<InsertOutcome> {
        // A taken number or key is an answer, not an error: the job keeps
        // its savepoint and undoes by hand what it wrote before finding out.
        let (answer, wait) = redress_store::group::awaited();
        self.submit(writer::job(
            move |ctx: &mut WriteCtx<'_>| -> StoreResult<StoreResult<InsertOutcome>> {
                // The key is taken first: a concurrent writer (of this or
                // another instance) holding the same key makes this
                // statement wait for its outcome, then find its record.
                if let Some(idem) = &idempotency {
                    let taken = ctx
                        .execute(
                            "INSERT INTO idempotency_keys (key, request_hash, status, body, created_at) \
                             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) DO NOTHING",
                            &[
                                &idem.key,
                                &idem.request_hash,
                                &i32::from(idem.status),
                                &idem.body,
                                &us(&idem.created_at),
                            ],
                        )
                        .map_err(db)?;
                    if taken == 0 {
                        let stmt = ctx.statement(GET_IDEMPOTENCY)?;
                        let first = ctx.client.query_one(&stmt, &[&idem.key]).map_err(db)?;
                        return Ok(Ok(InsertOutcome::Replayed(sql::idempotency(&first)?)));
                    }
                }
                let v = CaseValues::of(&row)?;
                let stmt = ctx.statement(INSERT_CASE_IF_FREE)?;
                let Some(inserted) = ctx
                    .client
                    .query_opt(&stmt, &v.params(&row, &row.version))
                    .map_err(db)?
                else {
                    if let Some(idem) = &idempotency {
                        ctx.execute("DELETE FROM idempotency_keys WHERE key = $1", &[&idem.key])
                            .map_err(db)?;
                    }
                    return Ok(Err(StoreError::Duplicate("tracking_no")));
                };
                actions::write(ctx, row.id, &row.actions)?;
                rollups::insert(ctx, &row)?;
                ctx.append(&events)?;
                Ok(Ok(InsertOutcome::Inserted {
                    seq: col(&inserted, 0)?,
                }))
            },
            answer,
        ))?;
        match wait.await {
            Ok(outcome) => outcome,
            // Two groups took the same numbers or keys in opposite orders and
            // PostgreSQL gave up this one: its number is as good as taken. The
            // caller tries again with a new number, and finds the key's first
            // answer if the key was the conflict.
            Err(StoreError::Deadlock(_)) => Err(StoreError::Duplicate("tracking_no")),
            Err(e) => Err(e),
        }
    }

    async fn update_cases(
        &self,
        updates: Vec<CaseUpdate>,
        events: Vec<NewEvent>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            for u in &updates {
                update_case_row(ctx, u)?;
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
