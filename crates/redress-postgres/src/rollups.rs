//! The `report_days` table (migration 0018): daily report counters kept
//! as cases change (`redress_store::rollup`). Written in the same
//! transaction as the case row; read by `GET /reports/summary`.

use chrono::NaiveDate;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, Row};
use redress_domain::calendar::Tz;
use redress_store::rollup::{
    self, DailyCount, DailyQuery, FILED, FILED_RESPONDENT, RESPONDENT_METRICS, RollupCase,
    RollupKey, RollupQuery, RollupSum, Subject, Totals,
};
use redress_store::{CaseRow, StoreResult};
use uuid::Uuid;

use crate::codec::{col, db, from_json, parse_enum, parse_enum_opt};
use crate::writer::WriteCtx;

/// Every change in one statement (the keys of a delta are distinct).
const UPSERT: &str = "INSERT INTO report_days (day, metric, department, category, dim, n) \
     SELECT * FROM UNNEST($1::date[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) \
     ON CONFLICT (day, metric, department, category, dim) \
     DO UPDATE SET n = report_days.n + EXCLUDED.n";

/// Adds each change to its counter, at the end of the job's group
/// (`WriteCtx::queue_rollups`).
pub fn apply(ctx: &mut WriteCtx<'_>, changes: &[(RollupKey, i64)]) -> StoreResult<()> {
    if !changes.is_empty() {
        ctx.queue_rollups(changes.to_vec());
    }
    Ok(())
}

/// A group's queued changes, summed per counter and written in key order
/// (one statement per 10,000 counters).
pub fn apply_group(client: &mut Client, changes: Vec<(RollupKey, i64)>) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut sum: std::collections::BTreeMap<RollupKey, i64> = std::collections::BTreeMap::new();
    for (k, n) in changes {
        *sum.entry(k).or_default() += n;
    }
    let sorted: Vec<(RollupKey, i64)> = sum.into_iter().filter(|(_, n)| *n != 0).collect();
    for chunk in sorted.chunks(10_000) {
        let days: Vec<NaiveDate> = chunk.iter().map(|(k, _)| k.day).collect();
        let metrics: Vec<&str> = chunk.iter().map(|(k, _)| k.metric).collect();
        let departments: Vec<&str> = chunk.iter().map(|(k, _)| k.department.as_str()).collect();
        let categories: Vec<&str> = chunk.iter().map(|(k, _)| k.category.as_str()).collect();
        let dims: Vec<&str> = chunk.iter().map(|(k, _)| k.dim.as_str()).collect();
        let ns: Vec<i64> = chunk.iter().map(|(_, n)| *n).collect();
        client
            .execute(
                UPSERT,
                &[&days, &metrics, &departments, &categories, &dims, &ns],
            )
            .map_err(db)?;
    }
    Ok(())
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
        report: from_json(col(r, 6)?)?,
    })
}

type Params = Vec<Box<dyn ToSql + Sync + Send>>;

fn filters(q: &RollupQuery, values: &mut Params) -> String {
    values.push(Box::new(q.from));
    values.push(Box::new(q.to));
    let mut sql = String::from("day >= $1 AND day <= $2");
    if let Some(d) = &q.department {
        values.push(Box::new(d.clone()));
        sql.push_str(&format!(" AND department = ${}", values.len()));
    }
    if let Some(c) = &q.category {
        values.push(Box::new(c.clone()));
        sql.push_str(&format!(" AND category = ${}", values.len()));
    }
    if q.metrics.is_empty() {
        let metrics: Vec<String> = RESPONDENT_METRICS.iter().map(|m| m.to_string()).collect();
        values.push(Box::new(metrics));
        sql.push_str(&format!(" AND NOT (metric = ANY(${}))", values.len()));
    } else {
        let metrics: Vec<String> = q.metrics.iter().map(|m| m.to_string()).collect();
        values.push(Box::new(metrics));
        sql.push_str(&format!(" AND metric = ANY(${})", values.len()));
    }
    sql
}

fn params(values: &Params) -> Vec<&(dyn ToSql + Sync)> {
    values
        .iter()
        .map(|v| v.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

pub fn query(c: &mut Client, q: &RollupQuery) -> StoreResult<Vec<RollupSum>> {
    let mut values: Params = Vec::new();
    let filter = filters(q, &mut values);
    let sql = if q.by_day {
        format!(
            "SELECT day, metric, ''::text, dim, SUM(n)::bigint FROM report_days WHERE {filter} \
             GROUP BY day, metric, dim HAVING SUM(n) <> 0"
        )
    } else {
        format!(
            "SELECT NULL::date, metric, category, dim, SUM(n)::bigint FROM report_days \
             WHERE {filter} GROUP BY metric, category, dim HAVING SUM(n) <> 0"
        )
    };
    let rows = c.query(sql.as_str(), &params(&values)).map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(RollupSum {
                day: col(r, 0)?,
                metric: col(r, 1)?,
                category: col(r, 2)?,
                dim: col(r, 3)?,
                n: col(r, 4)?,
            })
        })
        .collect()
}

pub fn top_respondents(
    c: &mut Client,
    q: &RollupQuery,
    limit: usize,
) -> StoreResult<Vec<(String, i64)>> {
    let q = RollupQuery {
        metrics: vec![FILED_RESPONDENT],
        ..q.clone()
    };
    let mut values: Params = Vec::new();
    let filter = filters(&q, &mut values);
    let sql = format!(
        "SELECT dim, SUM(n)::bigint AS total FROM report_days WHERE {filter} \
         GROUP BY dim HAVING SUM(n) > 0 ORDER BY total DESC, dim LIMIT {limit}"
    );
    let rows = c.query(sql.as_str(), &params(&values)).map_err(db)?;
    rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
}

/// Per-day counts of cases filed per subject, each at least `q.min`.
pub fn daily(c: &mut Client, q: &DailyQuery) -> StoreResult<Vec<DailyCount>> {
    let (metric, column) = match q.subject {
        Subject::Respondent => (FILED_RESPONDENT, "dim"),
        Subject::Category => (FILED, "category"),
    };
    let mut values: Params = vec![
        Box::new(metric.to_string()),
        Box::new(q.from),
        Box::new(q.to),
        Box::new(q.min),
    ];
    let mut only = String::new();
    if !q.only.is_empty() {
        values.push(Box::new(q.only.clone()));
        only = format!(" AND {column} = ANY(${})", values.len());
    }
    let sql = format!(
        "SELECT day, {column}, SUM(n)::bigint FROM report_days \
         WHERE metric = $1 AND day >= $2 AND day <= $3 AND {column} <> ''{only} \
         GROUP BY day, {column} HAVING SUM(n)::bigint >= $4 AND SUM(n) > 0"
    );
    let rows = c.query(sql.as_str(), &params(&values)).map_err(db)?;
    rows.iter()
        .map(|r| {
            Ok(DailyCount {
                day: col(r, 0)?,
                subject: col(r, 1)?,
                n: col(r, 2)?,
            })
        })
        .collect()
}

/// Records an alert as sent; `false` when it was already.
pub fn claim_alert(
    ctx: &mut WriteCtx<'_>,
    kind: Subject,
    subject: &str,
    day: NaiveDate,
    at: chrono::DateTime<chrono::Utc>,
) -> StoreResult<bool> {
    let n = ctx
        .execute(
            "INSERT INTO alerts_sent (kind, subject, day, sent_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, subject, day) DO NOTHING",
            &[&kind.as_str(), &subject, &day, &at],
        )
        .map_err(db)?;
    Ok(n == 1)
}

/// Empties the table and sums every case row's contributions into it.
pub fn rebuild(ctx: &mut WriteCtx<'_>, zone: Tz) -> StoreResult<u64> {
    // No other writer changes a counter until this group commits; they
    // wait at their groups' ends, holding no lock this one needs.
    ctx.execute("LOCK TABLE report_days IN EXCLUSIVE MODE", &[])
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
    let changes: Vec<(RollupKey, i64)> = std::mem::take(&mut totals.counters)
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .collect();
    apply_group(ctx.client, changes)?;
    Ok(cases)
}
