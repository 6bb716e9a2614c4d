//! Cases, their corrective actions, reports, the journal and idempotency
//! records ([`CaseStore`]).

use redress_store::sql::cases as sql;

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
            let seq = insert_case_row(&mut ctx.conn.prepare_cached(INSERT_CASE).map_err(db)?, &row)?;
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

    async fn get_case(&self, id: Uuid) -> StoreResult<Option<CaseRow>> {
        self.read_point(move |c| sql::case_where(c, "id", id.into()))
            .await
    }

    async fn get_case_by_tracking_no(&self, tracking_no: &str) -> StoreResult<Option<CaseRow>> {
        let t = tracking_no.to_string();
        self.read_point(move |c| sql::case_where(c, "tracking_no", t.into()))
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
        self.read_point(move |c| sql::open_between(c, ck, rk)).await
    }

    async fn has_case_between(
        &self,
        complainant_key: &str,
        respondent_key: &str,
    ) -> StoreResult<bool> {
        let (ck, rk) = (complainant_key.to_string(), respondent_key.to_string());
        self.read_point(move |c| sql::any_between(c, ck, rk)).await
    }

    async fn rebuild_report_rollups(&self, zone: redress_domain::calendar::Tz) -> StoreResult<u64> {
        self.write(move |ctx| rollups::rebuild(ctx.conn, zone))
            .await
    }

    async fn get_idempotency(&self, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        let key = key.to_string();
        self.read_point(move |c| sql::idempotency_record(c, key))
            .await
    }
}
