//! The `report_days` table (migration 0018) and `report_months` (0022):
//! daily and monthly report counters kept as cases change
//! (`redress_store::rollup`). Written in the same transaction as the case
//! row; read by `GET /reports/summary`: a period from its whole months
//! plus the days of its partial edge months.

use r2d2_sqlite::rusqlite::types::Value as SqlValue;
use r2d2_sqlite::rusqlite::{Connection, params};
use redress_domain::calendar::Tz;
use redress_store::rollup::{self, RollupCase, RollupKey, Totals};
use redress_store::{CaseRow, ReportFacts, StoreResult};

use crate::codec::{db, parse_enum, parse_enum_opt, value_bytes};

const UPSERT_DAYS: &str = "INSERT INTO report_days (metric, day, department, category, dim, n) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
     ON CONFLICT (metric, day, department, category, dim) DO UPDATE SET n = n + excluded.n";
const UPSERT_MONTHS: &str = "INSERT INTO report_months (metric, day, department, category, dim, n) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
     ON CONFLICT (metric, day, department, category, dim) DO UPDATE SET n = n + excluded.n";

fn upsert(conn: &Connection, sql: &str, changes: &[(RollupKey, i64)]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    for (k, n) in changes {
        stmt.execute(params![
            k.metric,
            k.day.to_string(),
            k.department,
            k.category,
            k.dim,
            n
        ])
        .map_err(db)?;
    }
    Ok(())
}

/// Adds each change to its daily counter and to its month's
/// (`report_months`, migration 0022).
pub fn apply(conn: &Connection, changes: &[(RollupKey, i64)]) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    upsert(conn, UPSERT_DAYS, changes)?;
    upsert(conn, UPSERT_MONTHS, &rollup::months_of(changes))
}

/// A new case's counters.
pub fn insert(conn: &Connection, row: &CaseRow) -> StoreResult<()> {
    apply(conn, &rollup::changes_of_save(None, row))
}

/// The counters of many new cases (an import), in one pass.
pub fn insert_many(conn: &Connection, rows: &[CaseRow]) -> StoreResult<()> {
    apply(conn, &rollup::changes_of_new(rows))
}

/// A saved case's changes to the counters, from the row as it was.
pub fn update(conn: &Connection, old: Option<RollupCase>, row: &CaseRow) -> StoreResult<()> {
    apply(conn, &rollup::changes_of_save(old.as_ref(), row))
}

/// What the rollups read of a row, from the values of
/// `SHARED_CASE_COLUMNS` as stored.
pub fn from_values(values: &[SqlValue]) -> StoreResult<RollupCase> {
    let text = |i: usize| -> Option<String> {
        match values.get(i) {
            Some(SqlValue::Text(s)) => Some(s.clone()),
            _ => None,
        }
    };
    Ok(RollupCase {
        status: parse_enum("status", &text(1).unwrap_or_default())?,
        closure: parse_enum_opt("closure", text(2))?,
        channel: parse_enum("channel", &text(3).unwrap_or_default())?,
        category: text(4),
        department: text(5),
        respondent_key: text(7),
        report: match values.get(crate::column_of("report")) {
            Some(SqlValue::Blob(b)) => ReportFacts::unpacked(b)?,
            Some(SqlValue::Text(t)) => ReportFacts::unpacked(t.as_bytes())?,
            _ => ReportFacts::default(),
        },
    })
}

/// Empties both tables and sums every case row's contributions into them.
pub fn rebuild(conn: &Connection, zone: Tz) -> StoreResult<u64> {
    let mut totals = Totals::default();
    let mut cases = 0u64;
    {
        let mut stmt = conn
            .prepare(
                "SELECT status, closure, channel, category, department, respondent_key, report \
                 FROM cases",
            )
            .map_err(db)?;
        let mut rows = stmt.query([]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            let case = RollupCase {
                status: parse_enum("status", &r.get::<_, String>(0).map_err(db)?)?,
                closure: parse_enum_opt("closure", r.get(1).map_err(db)?)?,
                channel: parse_enum("channel", &r.get::<_, String>(2).map_err(db)?)?,
                category: r.get(3).map_err(db)?,
                department: r.get(4).map_err(db)?,
                respondent_key: r.get(5).map_err(db)?,
                report: ReportFacts::unpacked(&value_bytes(r.get_ref(6).map_err(db)?)?)?,
            };
            totals.add(&case, zone);
            cases += 1;
        }
    }
    conn.execute_batch("DELETE FROM report_days; DELETE FROM report_months")
        .map_err(db)?;
    let changes: Vec<(RollupKey, i64)> = std::mem::take(&mut totals.counters)
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .collect();
    apply(conn, &changes)?;
    Ok(cases)
}
