//! The `report_days` table (migration 0018) and `report_months` (0022):
//! daily and monthly report counters kept as cases change
//! (`redress_store::rollup`). Written in the same transaction as the case
//! row; read by `GET /reports/summary`: a period from its whole months
//! plus the days of its partial edge months.

use chrono::NaiveDate;
use r2d2_sqlite::rusqlite::types::Value as SqlValue;
use r2d2_sqlite::rusqlite::{Connection, params, params_from_iter};
use redress_domain::calendar::Tz;
use redress_store::rollup::{
    self, DailyCount, DailyQuery, FILED, FILED_RESPONDENT, Group, RollupCase, RollupKey,
    RollupQuery, RollupSum, SUMMARY_METRICS, Subject, Totals,
};
use redress_store::{CaseRow, ReportFacts, StoreResult};

use crate::codec::{db, parse_date, parse_enum, parse_enum_opt, value_bytes};

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
        report: match values.get(19) {
            Some(SqlValue::Blob(b)) => ReportFacts::unpacked(b)?,
            Some(SqlValue::Text(t)) => ReportFacts::unpacked(t.as_bytes())?,
            _ => ReportFacts::default(),
        },
    })
}

/// The counters a query reads, as one `UNION ALL` of selects
/// `(day, metric, category, dim, n)`: per day, the daily counters of the
/// period; else its whole months from the monthly counters and its
/// partial edge months from the daily ones (per month, the edge days
/// under their month's first day).
fn source(q: &RollupQuery, values: &mut Vec<SqlValue>) -> String {
    let mut parts: Vec<(&str, &str, NaiveDate, NaiveDate)> = Vec::new();
    if q.group == Group::Day {
        parts.push(("report_days", "day", q.from, q.to));
    } else {
        let split = rollup::split_period(q.from, q.to);
        let day = if q.group == Group::Month {
            "substr(day, 1, 8) || '01'"
        } else {
            "day"
        };
        for (a, b) in split.days {
            parts.push(("report_days", day, a, b));
        }
        if let Some((a, b)) = split.months {
            parts.push(("report_months", "day", a, b));
        }
    }
    let metrics: Vec<&str> = if q.metrics.is_empty() {
        SUMMARY_METRICS.to_vec()
    } else {
        q.metrics.clone()
    };
    let mut selects = Vec::new();
    for (table, day, a, b) in parts {
        let mut sql = format!(
            "SELECT {day} AS day, metric, category, dim, n FROM {table} WHERE metric IN ({})",
            vec!["?"; metrics.len()].join(", ")
        );
        values.extend(metrics.iter().map(|m| SqlValue::Text((*m).into())));
        sql.push_str(" AND day >= ? AND day <= ?");
        values.push(SqlValue::Text(a.to_string()));
        values.push(SqlValue::Text(b.to_string()));
        if let Some(d) = &q.department {
            values.push(SqlValue::Text(d.clone()));
            sql.push_str(" AND department = ?");
        }
        if let Some(c) = &q.category {
            values.push(SqlValue::Text(c.clone()));
            sql.push_str(" AND category = ?");
        }
        selects.push(sql);
    }
    if selects.is_empty() {
        return "SELECT NULL AS day, '' AS metric, '' AS category, '' AS dim, 0 AS n WHERE 0"
            .into();
    }
    selects.join(" UNION ALL ")
}

pub fn query(conn: &Connection, q: &RollupQuery) -> StoreResult<Vec<RollupSum>> {
    let mut values = Vec::new();
    let src = source(q, &mut values);
    let sql = if q.group == Group::Period {
        format!(
            "SELECT NULL, metric, category, dim, SUM(n) FROM ({src}) \
             GROUP BY metric, category, dim HAVING SUM(n) <> 0"
        )
    } else {
        format!(
            "SELECT day, metric, '', dim, SUM(n) FROM ({src}) \
             GROUP BY day, metric, dim HAVING SUM(n) <> 0"
        )
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let raw = stmt
        .query_map(params_from_iter(values), |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    raw.into_iter()
        .map(|(day, metric, category, dim, n)| {
            Ok(RollupSum {
                day: day.as_deref().map(parse_date).transpose()?,
                metric,
                category,
                dim,
                n,
            })
        })
        .collect()
}

pub fn top_respondents(
    conn: &Connection,
    q: &RollupQuery,
    limit: usize,
) -> StoreResult<Vec<(String, i64)>> {
    let q = RollupQuery {
        metrics: vec![FILED_RESPONDENT],
        group: Group::Period,
        ..q.clone()
    };
    let mut values = Vec::new();
    let src = source(&q, &mut values);
    let sql = format!(
        "SELECT dim, SUM(n) AS total FROM ({src}) \
         GROUP BY dim HAVING SUM(n) > 0 ORDER BY total DESC, dim LIMIT {limit}"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    stmt.query_map(params_from_iter(values), |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)
}

/// Per-day counts of cases filed per subject, each at least `q.min`.
pub fn daily(conn: &Connection, q: &DailyQuery) -> StoreResult<Vec<DailyCount>> {
    let (metric, column) = match q.subject {
        Subject::Respondent => (FILED_RESPONDENT, "dim"),
        Subject::Category => (FILED, "category"),
    };
    let mut values = vec![
        SqlValue::Text(metric.into()),
        SqlValue::Text(q.from.to_string()),
        SqlValue::Text(q.to.to_string()),
        SqlValue::Integer(q.min),
    ];
    let mut only = String::new();
    if !q.only.is_empty() {
        let mut marks = Vec::new();
        for s in &q.only {
            values.push(SqlValue::Text(s.clone()));
            marks.push(format!("?{}", values.len()));
        }
        only = format!(" AND {column} IN ({})", marks.join(", "));
    }
    let sql = format!(
        "SELECT day, {column}, SUM(n) FROM report_days \
         WHERE metric = ?1 AND day >= ?2 AND day <= ?3 AND {column} <> ''{only} \
         GROUP BY day, {column} HAVING SUM(n) >= ?4 AND SUM(n) > 0"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let raw = stmt
        .query_map(params_from_iter(values), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    raw.into_iter()
        .map(|(day, subject, n)| {
            Ok(DailyCount {
                day: parse_date(&day)?,
                subject,
                n,
            })
        })
        .collect()
}

/// Records an alert as sent; `false` when it was already.
/// Records a mailing of `kind` about `subject` for `day` in `alerts_sent`:
/// true the first time (spike alerts, scheduled reports).
pub fn claim_sent(
    conn: &Connection,
    kind: &str,
    subject: &str,
    day: chrono::NaiveDate,
    at: chrono::DateTime<chrono::Utc>,
) -> StoreResult<bool> {
    let n = conn
        .execute(
            "INSERT INTO alerts_sent (kind, subject, day, sent_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (kind, subject, day) DO NOTHING",
            params![kind, subject, day.to_string(), at.to_rfc3339()],
        )
        .map_err(db)?;
    Ok(n == 1)
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
