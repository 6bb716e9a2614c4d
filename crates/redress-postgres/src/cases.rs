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
        let (tx, rx) = tokio::sync::oneshot::channel();
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
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        ))?;
        match rx
            .await
            .map_err(|_| StoreError::other("the write job failed without an answer"))?
        {
            Ok(outcome) => outcome,
            // Two groups took the same numbers or keys in opposite orders and
            // PostgreSQL gave up this one: its number is as good as taken. The
            // caller tries again with a new number, and finds the key's first
            // answer if the key was the conflict.
            Err(StoreError::Deadlock(_)) => Err(StoreError::Duplicate("tracking_no")),
            Err(e) => Err(e),
        }
    }

    async fn get_case(&self, id: Uuid) -> StoreResult<Option<CaseRow>> {
        self.read(move |c| sql::case_where(c, "id", id.into()))
            .await
    }

    async fn get_case_by_tracking_no(&self, tracking_no: &str) -> StoreResult<Option<CaseRow>> {
        let t = tracking_no.to_string();
        self.read(move |c| sql::case_where(c, "tracking_no", t.into()))
            .await
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

    async fn list_cases(
        &self,
        visibility: &Visibility,
        filter: &CaseFilter,
        limit: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<CaseSummary>> {
        let (visibility, filter) = (visibility.clone(), filter.clone());
        self.read(move |c| query::list_cases(c, &visibility, &filter, limit, after))
            .await
    }

    async fn list_actions(
        &self,
        visibility: &Visibility,
        filter: &redress_store::ActionFilter,
    ) -> StoreResult<Vec<redress_store::ActionRow>> {
        let (visibility, filter) = (visibility.clone(), filter.clone());
        self.read(move |c| redress_store::sql::actions::list(c, &visibility, &filter))
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

    async fn open_cases_between(
        &self,
        complainant_key: &str,
        respondent_key: &str,
    ) -> StoreResult<Vec<Uuid>> {
        let (ck, rk) = (complainant_key.to_string(), respondent_key.to_string());
        self.read(move |c| sql::open_between(c, ck, rk)).await
    }

    async fn has_case_between(
        &self,
        complainant_key: &str,
        respondent_key: &str,
    ) -> StoreResult<bool> {
        let (ck, rk) = (complainant_key.to_string(), respondent_key.to_string());
        self.read(move |c| sql::any_between(c, ck, rk)).await
    }

    async fn rebuild_report_rollups(&self, zone: redress_domain::calendar::Tz) -> StoreResult<u64> {
        self.write(move |ctx| rollups::rebuild(ctx, zone)).await
    }

    async fn get_idempotency(&self, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        let key = key.to_string();
        self.read(move |c| sql::idempotency_record(c, key)).await
    }
}
