//! The `report_days` table (migration 0018) and `report_months` (0022):
//! daily and monthly report counters kept as cases change
//! (`redress_store::rollup`). Written in the same transaction as the case
//! row; read by `GET /reports/summary`: a period from its whole months
//! plus the days of its partial edge months.

use chrono::NaiveDate;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, Row};
use redress_domain::calendar::Tz;
use redress_store::rollup::{self, RollupCase, RollupKey, Totals};
use redress_store::{CaseRow, StoreResult};
use uuid::Uuid;

use crate::codec::{Prepared, col, db, parse_enum, parse_enum_opt};
use crate::writer::WriteCtx;

/// Every change in one statement (the keys of a delta are distinct).
const UPSERT_DAYS: &str = "INSERT INTO report_days (day, metric, department, category, dim, n) \
     SELECT * FROM UNNEST($1::date[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) \
     ON CONFLICT (metric, day, department, category, dim) \
     DO UPDATE SET n = report_days.n + EXCLUDED.n";
const UPSERT_MONTHS: &str = "INSERT INTO report_months (day, metric, department, category, dim, n) \
     SELECT * FROM UNNEST($1::date[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) \
     ON CONFLICT (metric, day, department, category, dim) \
     DO UPDATE SET n = report_months.n + EXCLUDED.n";

/// Adds each change to its counter, at the end of the job's group
/// (`WriteCtx::queue_rollups`).
pub fn apply(ctx: &mut WriteCtx<'_>, changes: &[(RollupKey, i64)]) -> StoreResult<()> {
    if !changes.is_empty() {
        ctx.queue_rollups(changes.to_vec());
    }
    Ok(())
}

fn upsert(
    client: &mut Client,
    prepared: &mut Prepared,
    sql: &str,
    sorted: &[(RollupKey, i64)],
) -> StoreResult<()> {
    let statement = prepared.statement(client, sql).map_err(db)?;
    for chunk in sorted.chunks(10_000) {
        let days: Vec<NaiveDate> = chunk.iter().map(|(k, _)| k.day).collect();
        let metrics: Vec<&str> = chunk.iter().map(|(k, _)| k.metric).collect();
        let departments: Vec<&str> = chunk.iter().map(|(k, _)| k.department.as_str()).collect();
        let categories: Vec<&str> = chunk.iter().map(|(k, _)| k.category.as_str()).collect();
        let dims: Vec<&str> = chunk.iter().map(|(k, _)| k.dim.as_str()).collect();
        let ns: Vec<i64> = chunk.iter().map(|(_, n)| *n).collect();
        client
            .execute(
                &statement,
                &[&days, &metrics, &departments, &categories, &dims, &ns],
            )
            .map_err(db)?;
    }
    Ok(())
}

/// A group's queued changes, summed per counter and written in key order
/// (one statement per 10,000 counters).
pub fn apply_group(
    client: &mut Client,
    prepared: &mut Prepared,
    changes: Vec<(RollupKey, i64)>,
) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut sum: std::collections::BTreeMap<RollupKey, i64> = std::collections::BTreeMap::new();
    for (k, n) in changes {
        *sum.entry(k).or_default() += n;
    }
    let mut sorted: Vec<(RollupKey, i64)> = sum.into_iter().filter(|(_, n)| *n != 0).collect();
    // Both tables in their key order (metric first, migration 0026): every
    // group takes the counters' locks in the same order.
    let key_order = |(a, _): &(RollupKey, i64), (b, _): &(RollupKey, i64)| {
        (a.metric, a.day).cmp(&(b.metric, b.day)).then(a.cmp(b))
    };
    sorted.sort_by(key_order);
    upsert(client, prepared, UPSERT_DAYS, &sorted)?;
    let mut months = rollup::months_of(&sorted);
    months.sort_by(key_order);
    upsert(client, prepared, UPSERT_MONTHS, &months)
}

/// A new case's counters.
pub fn insert(ctx: &mut WriteCtx<'_>, row: &CaseRow) -> StoreResult<()> {
    apply(ctx, &rollup::changes_of_save(None, row))
}

/// The counters of many new cases (an import), in one pass.
pub fn insert_many(ctx: &mut WriteCtx<'_>, rows: &[CaseRow]) -> StoreResult<()> {
    apply(ctx, &rollup::changes_of_new(rows))
}

/// A saved case's changes to the counters, from the row as it was.
pub fn update(ctx: &mut WriteCtx<'_>, old: Option<RollupCase>, row: &CaseRow) -> StoreResult<()> {
    apply(ctx, &rollup::changes_of_save(old.as_ref(), row))
}

/// The columns [`from_row`] reads, in order.
pub const COLUMNS: &str = "status, closure, channel, category, department, respondent_key, report";

const CURRENT: &str = "SELECT status, closure, channel, category, department, respondent_key, \
     report FROM cases WHERE id = $1 AND version = $2 FOR UPDATE";

/// The row as it is before a save over `version`, locked; `None` when the
/// version moved.
pub fn current(ctx: &mut WriteCtx<'_>, id: Uuid, version: i64) -> StoreResult<Option<RollupCase>> {
    let stmt = ctx.statement(CURRENT)?;
    let row = ctx.client.query_opt(&stmt, &[&id, &version]).map_err(db)?;
    row.as_ref().map(from_row).transpose()
}

pub fn from_row(r: &Row) -> StoreResult<RollupCase> {
    Ok(RollupCase {
        status: parse_enum("status", col(r, 0)?)?,
        closure: parse_enum_opt("closure", col(r, 1)?)?,
        channel: parse_enum("channel", col(r, 2)?)?,
        category: col(r, 3)?,
        department: col(r, 4)?,
        respondent_key: col(r, 5)?,
        report: redress_store::ReportFacts::unpacked(&col::<Vec<u8>>(r, 6)?)?,
    })
}

/// Empties the table and sums every case row's contributions into it.
pub fn rebuild(ctx: &mut WriteCtx<'_>, zone: Tz) -> StoreResult<u64> {
    // No other writer changes a counter until this group commits; they
    // wait at their groups' ends, holding no lock this one needs.
    ctx.execute(
        "LOCK TABLE report_days, report_months IN EXCLUSIVE MODE",
        &[],
    )
    .map_err(db)?;
    let mut totals = Totals::default();
    let mut cases = 0u64;
    {
        let sql = format!("SELECT {COLUMNS} FROM cases");
        let none: [&(dyn ToSql + Sync); 0] = [];
        let mut rows = ctx
            .client
            .query_raw(sql.as_str(), none.iter().copied())
            .map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            totals.add(&from_row(&r)?, zone);
            cases += 1;
        }
    }
    // The rows read include those this group saved before: their queued
    // changes are counted already. Jobs after this one queue theirs anew.
    ctx.clear_rollups();
    ctx.execute("DELETE FROM report_days", &[]).map_err(db)?;
    ctx.execute("DELETE FROM report_months", &[]).map_err(db)?;
    let changes: Vec<(RollupKey, i64)> = std::mem::take(&mut totals.counters)
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .collect();
    let (client, prepared) = ctx.prepared_client();
    apply_group(client, prepared, changes)?;
    Ok(cases)
}
