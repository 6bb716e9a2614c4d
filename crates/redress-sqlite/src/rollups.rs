//! The `report_days` table (migration 0018): daily report counters kept
//! as cases change (`redress_store::rollup`). Written in the same
//! transaction as the case row; read by `GET /reports/summary`.

use r2d2_sqlite::rusqlite::types::Value as SqlValue;
use r2d2_sqlite::rusqlite::{Connection, params, params_from_iter};
use redress_domain::calendar::Tz;
use redress_store::rollup::{
    self, DailyCount, DailyQuery, FILED, FILED_RESPONDENT, RESPONDENT_METRICS, RollupCase,
    RollupKey, RollupQuery, RollupSum, Subject, Totals,
};
use redress_store::{CaseRow, StoreResult};

use crate::codec::{db, from_json, parse_date, parse_enum, parse_enum_opt};

const UPSERT: &str = "INSERT INTO report_days (day, metric, department, category, dim, n) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
     ON CONFLICT (day, metric, department, category, dim) DO UPDATE SET n = n + excluded.n";

/// Adds each change to its counter.
pub fn apply(conn: &Connection, changes: &[(RollupKey, i64)]) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut stmt = conn.prepare_cached(UPSERT).map_err(db)?;
    for (k, n) in changes {
        stmt.execute(params![
            k.day.to_string(),
            k.metric,
            k.department,
            k.category,
            k.dim,
            n
        ])
        .map_err(db)?;
    }
    Ok(())
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
        report: from_json(&text(19).unwrap_or_else(|| "{}".into()))?,
    })
}

fn filters(q: &RollupQuery, values: &mut Vec<SqlValue>) -> String {
    let mut sql = String::from("day >= ?1 AND day <= ?2");
    values.push(SqlValue::Text(q.from.to_string()));
    values.push(SqlValue::Text(q.to.to_string()));
    if let Some(d) = &q.department {
        values.push(SqlValue::Text(d.clone()));
        sql.push_str(&format!(" AND department = ?{}", values.len()));
    }
    if let Some(c) = &q.category {
        values.push(SqlValue::Text(c.clone()));
        sql.push_str(&format!(" AND category = ?{}", values.len()));
    }
    if q.metrics.is_empty() {
        let mut marks = Vec::new();
        for m in RESPONDENT_METRICS {
            values.push(SqlValue::Text(m.into()));
            marks.push(format!("?{}", values.len()));
        }
        sql.push_str(&format!(" AND metric NOT IN ({})", marks.join(", ")));
    } else {
        let mut marks = Vec::new();
        for m in &q.metrics {
            values.push(SqlValue::Text((*m).into()));
            marks.push(format!("?{}", values.len()));
        }
        sql.push_str(&format!(" AND metric IN ({})", marks.join(", ")));
    }
    sql
}

pub fn query(conn: &Connection, q: &RollupQuery) -> StoreResult<Vec<RollupSum>> {
    let mut values = Vec::new();
    let filter = filters(q, &mut values);
    let sql = if q.by_day {
        format!(
            "SELECT day, metric, '', dim, SUM(n) FROM report_days WHERE {filter} \
             GROUP BY day, metric, dim HAVING SUM(n) <> 0"
        )
    } else {
        format!(
            "SELECT NULL, metric, category, dim, SUM(n) FROM report_days WHERE {filter} \
             GROUP BY metric, category, dim HAVING SUM(n) <> 0"
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
        ..q.clone()
    };
    let mut values = Vec::new();
    let filter = filters(&q, &mut values);
    let sql = format!(
        "SELECT dim, SUM(n) AS total FROM report_days WHERE {filter} \
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
pub fn claim_alert(
    conn: &Connection,
    kind: Subject,
    subject: &str,
    day: chrono::NaiveDate,
    at: chrono::DateTime<chrono::Utc>,
) -> StoreResult<bool> {
    let n = conn
        .execute(
            "INSERT INTO alerts_sent (kind, subject, day, sent_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (kind, subject, day) DO NOTHING",
            params![kind.as_str(), subject, day.to_string(), at.to_rfc3339()],
        )
        .map_err(db)?;
    Ok(n == 1)
}

/// Empties the table and sums every case row's contributions into it.
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
                report: from_json(&r.get::<_, String>(6).map_err(db)?)?,
            };
            totals.add(&case, zone);
            cases += 1;
        }
    }
    conn.execute("DELETE FROM report_days", []).map_err(db)?;
    let changes: Vec<(RollupKey, i64)> = std::mem::take(&mut totals.counters)
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .collect();
    apply(conn, &changes)?;
    Ok(cases)
}
