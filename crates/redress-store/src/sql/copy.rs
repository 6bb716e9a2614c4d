//! The bulk copy ([`crate::CopyStore`]) for every [`Backend`]: each table
//! over its module's statements; case rows the backend's own way.

use redress_domain::calendar::{DayException, DaySource};
use uuid::Uuid;

use super::people::{api_keys, import_api_keys, import_respondents, import_users, respondents};
use super::settings::{import_departments, put_days};
use super::templates::{import_canned_replies, mark_seeded};
use super::{Backend, Conn, Journal, actions, cases};
use crate::rows::{case_columns, case_row};
use crate::{
    ApiKey, CannedReply, CaseRow, Category, Department, IdempotencyRecord, JournalEntry,
    RespondentAccount, StoreResult, TableCounts, User, args,
};

/// Replaces every calendar day (as set by hand: the column's default).
fn import_calendar<D>(c: &mut impl Conn<D>, days: &[DayException]) -> StoreResult<()> {
    c.execute("DELETE FROM calendar_days", &[])?;
    put_days(c, days, DaySource::Manual)
}

fn import_idempotency<D>(c: &mut impl Conn<D>, records: &[IdempotencyRecord]) -> StoreResult<()> {
    for i in records {
        c.execute_or(
            "INSERT INTO idempotency_keys (key, request_hash, status, body, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            &args![
                &i.key,
                &i.request_hash,
                i32::from(i.status),
                &i.body,
                i.created_at
            ],
            "key",
            "key",
        )?;
    }
    Ok(())
}

/// Case rows with `seq > after`, by `seq`, each with its corrective
/// actions.
fn export_cases<D, C: Conn<D>>(c: &mut C, after: i64, n: usize) -> StoreResult<Vec<CaseRow>> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    let mut rows = c.query(
        &format!(
            "SELECT {} FROM cases WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            case_columns(C::DIALECT)
        ),
        &args![after, n],
        |r| case_row(r),
    )?;
    let decided: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.decided_by.is_some())
        .map(|r| r.id)
        .collect();
    for a in actions::of_cases(c, &decided)? {
        if let Some(r) = rows.iter_mut().find(|r| r.id == a.case_id) {
            r.actions.push(a);
        }
    }
    Ok(rows)
}

#[async_trait::async_trait]
impl<B: Backend> crate::CopyStore for B {
    async fn table_counts(&self) -> StoreResult<TableCounts> {
        self.read(cases::table_counts).await
    }

    async fn export_cases(&self, after: i64, n: usize) -> StoreResult<Vec<CaseRow>> {
        self.read(move |c| export_cases(c, after, n)).await
    }

    async fn export_idempotency(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<Vec<IdempotencyRecord>> {
        self.read(move |c| cases::export_idempotency(c, after, limit))
            .await
    }

    async fn export_respondents(&self) -> StoreResult<Vec<RespondentAccount>> {
        self.read(|c| respondents(c, "ORDER BY created_at, id", &[]))
            .await
    }

    async fn export_api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        self.read(|c| api_keys(c, "ORDER BY created_at, id", &[]))
            .await
    }

    async fn import_cases(&self, rows: Vec<CaseRow>) -> StoreResult<()> {
        self.write(move |ctx| B::import_case_rows(ctx, &rows)).await
    }

    async fn import_events(&self, entries: Vec<JournalEntry>) -> StoreResult<()> {
        self.write(move |ctx| ctx.import(&entries)).await
    }

    async fn import_idempotency(&self, records: Vec<IdempotencyRecord>) -> StoreResult<()> {
        self.write(move |ctx| import_idempotency(ctx, &records))
            .await
    }

    async fn import_departments(
        &self,
        departments: Vec<Department>,
        categories: Vec<Category>,
    ) -> StoreResult<()> {
        self.write(move |ctx| import_departments(ctx, &departments, &categories))
            .await
    }

    async fn import_users(&self, users: Vec<User>) -> StoreResult<()> {
        self.write(move |ctx| import_users(ctx, &users)).await
    }

    async fn import_respondents(&self, respondents: Vec<RespondentAccount>) -> StoreResult<()> {
        self.write(move |ctx| import_respondents(ctx, &respondents))
            .await
    }

    async fn import_api_keys(&self, keys: Vec<ApiKey>) -> StoreResult<()> {
        self.write(move |ctx| import_api_keys(ctx, &keys)).await
    }

    async fn import_canned_replies(&self, replies: Vec<CannedReply>) -> StoreResult<()> {
        self.write(move |ctx| {
            import_canned_replies(ctx, &replies)?;
            mark_seeded(ctx, "canned_replies").map(|_| ())
        })
        .await
    }

    async fn import_calendar(&self, days: Vec<DayException>) -> StoreResult<()> {
        self.write(move |ctx| import_calendar(ctx, &days)).await
    }
}
