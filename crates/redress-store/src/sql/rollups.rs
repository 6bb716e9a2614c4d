//! Reading the report counters, `report_days` (migration 0018) and
//! `report_months` (0022): a period from its whole months plus the days
//! of its partial edge months (`GET /reports/summary`). (Writing them
//! differs: one statement per change on SQLite, sorted batches at the end
//! of a group on PostgreSQL.) [`crate::ReportStore`] over them for every
//! [`Backend`].

use chrono::{DateTime, NaiveDate, Utc};

use super::{Backend, Conn, Dialect, Param};
use crate::rollup::{
    DailyCount, DailyQuery, FILED, FILED_RESPONDENT, Group, RollupQuery, RollupSum,
    SUMMARY_METRICS, Subject, split_period,
};
use crate::rows::Columns;
use crate::{ReportRow, StoreResult};

/// The counters a query reads, as one `UNION ALL` of selects
/// `(day, metric, category, dim, n)`: per day, the daily counters of the
/// period; else its whole months from the monthly counters and its
/// partial edge months from the daily ones (per month, the edge days
/// under their month's first day). Its placeholders are `?` in order.
fn source<D, C: Conn<D>>(q: &RollupQuery, params: &mut Vec<Param>) -> String {
    let mut parts: Vec<(&str, &str, NaiveDate, NaiveDate)> = Vec::new();
    if q.group == Group::Day {
        parts.push(("report_days", "day", q.from, q.to));
    } else {
        let split = split_period(q.from, q.to);
        let day = match (q.group, C::DIALECT) {
            (Group::Month, Dialect::Sqlite) => "substr(day, 1, 8) || '01'",
            (Group::Month, Dialect::Postgres) => "date_trunc('month', day)::date",
            _ => "day",
        };
        for (a, b) in split.days {
            parts.push(("report_days", day, a, b));
        }
        if let Some((a, b)) = split.months {
            parts.push(("report_months", "day", a, b));
        }
    }
    let metrics: Vec<String> = if q.metrics.is_empty() {
        SUMMARY_METRICS.iter().map(|m| m.to_string()).collect()
    } else {
        q.metrics.iter().map(|m| m.to_string()).collect()
    };
    let mut selects = Vec::new();
    for (table, day, a, b) in parts {
        let metric = super::one_of::<D, C, _>("metric", &metrics, params);
        let mut sql = format!(
            "SELECT {day} AS day, metric, category, dim, n FROM {table} \
             WHERE {metric} AND day >= ? AND day <= ?"
        );
        params.extend([a.into(), b.into()]);
        if let Some(d) = &q.department {
            params.push(d.into());
            sql.push_str(" AND department = ?");
        }
        if let Some(c) = &q.category {
            params.push(c.into());
            sql.push_str(" AND category = ?");
        }
        selects.push(sql);
    }
    if selects.is_empty() {
        return "SELECT CAST(NULL AS DATE) AS day, CAST('' AS TEXT) AS metric, \
                CAST('' AS TEXT) AS category, CAST('' AS TEXT) AS dim, \
                CAST(0 AS BIGINT) AS n WHERE 1 = 0"
            .into();
    }
    selects.join(" UNION ALL ")
}

/// The sums a report asks for: per period, or per day or month.
pub fn query<D, C: Conn<D>>(c: &mut C, q: &RollupQuery) -> StoreResult<Vec<RollupSum>> {
    let mut params = Vec::new();
    let src = source::<D, C>(q, &mut params);
    let period = q.group == Group::Period;
    let sql = if period {
        format!(
            "SELECT metric, category, dim, CAST(SUM(n) AS BIGINT) FROM ({src}) s \
             GROUP BY metric, category, dim HAVING SUM(n) <> 0"
        )
    } else {
        format!(
            "SELECT metric, CAST('' AS TEXT), dim, CAST(SUM(n) AS BIGINT), day FROM ({src}) s \
             GROUP BY day, metric, dim HAVING SUM(n) <> 0"
        )
    };
    c.query(&sql, &params, |r| {
        Ok(RollupSum {
            day: if period { None } else { Some(r.date(4)?) },
            metric: r.text(0)?,
            category: r.text(1)?,
            dim: r.text(2)?,
            n: r.int(3)?,
        })
    })
}

/// The respondents most filed against in the period, most first.
pub fn top_respondents<D, C: Conn<D>>(
    c: &mut C,
    q: &RollupQuery,
    limit: usize,
) -> StoreResult<Vec<(String, i64)>> {
    let q = RollupQuery {
        metrics: vec![FILED_RESPONDENT],
        group: Group::Period,
        ..q.clone()
    };
    let mut params = Vec::new();
    let src = source::<D, C>(&q, &mut params);
    let sql = format!(
        "SELECT dim, CAST(SUM(n) AS BIGINT) AS total FROM ({src}) s \
         GROUP BY dim HAVING SUM(n) > 0 ORDER BY total DESC, dim LIMIT {limit}"
    );
    c.query(&sql, &params, |r| Ok((r.text(0)?, r.int(1)?)))
}

/// Per-day counts of cases filed per subject, each at least `q.min`.
pub fn daily<D, C: Conn<D>>(c: &mut C, q: &DailyQuery) -> StoreResult<Vec<DailyCount>> {
    let (metric, column) = match q.subject {
        Subject::Respondent => (FILED_RESPONDENT, "dim"),
        Subject::Category => (FILED, "category"),
    };
    let mut params = vec![metric.into(), q.from.into(), q.to.into()];
    let only = if q.only.is_empty() {
        String::new()
    } else {
        format!(
            " AND {}",
            super::one_of::<D, C, _>(column, &q.only, &mut params)
        )
    };
    params.push(q.min.into());
    let sql = format!(
        "SELECT day, {column}, CAST(SUM(n) AS BIGINT) FROM report_days \
         WHERE metric = ? AND day >= ? AND day <= ? AND {column} <> ''{only} \
         GROUP BY day, {column} HAVING CAST(SUM(n) AS BIGINT) >= ? AND SUM(n) > 0"
    );
    c.query(&sql, &params, |r| {
        Ok(DailyCount {
            day: r.date(0)?,
            subject: r.text(1)?,
            n: r.int(2)?,
        })
    })
}

/// Records a mailing of `kind` about `subject` for `day` in `alerts_sent`:
/// true the first time (spike alerts, scheduled reports).
pub fn claim_sent<D, C: Conn<D>>(
    c: &mut C,
    kind: &str,
    subject: &str,
    day: NaiveDate,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    // `sent_at` is RFC 3339 text on SQLite.
    let at = match C::DIALECT {
        Dialect::Sqlite => Param::Text(at.to_rfc3339()),
        Dialect::Postgres => Param::Time(at),
    };
    let n = c.execute(
        "INSERT INTO alerts_sent (kind, subject, day, sent_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (kind, subject, day) DO NOTHING",
        &[kind.into(), subject.into(), day.into(), at],
    )?;
    Ok(n == 1)
}

#[async_trait::async_trait]
impl<B: Backend> crate::ReportStore for B {
    async fn rebuild_report_rollups(&self, zone: redress_domain::calendar::Tz) -> StoreResult<u64> {
        self.write(move |ctx| B::rebuild_rollups(ctx, zone)).await
    }

    async fn count_by_status(&self) -> StoreResult<Vec<(redress_domain::Status, i64)>> {
        self.read(super::cases::count_by_status).await
    }

    async fn report_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<ReportRow>> {
        self.read(move |c| super::cases::report_rows(c, from, to))
            .await
    }

    async fn report_rollup(&self, query: &RollupQuery) -> StoreResult<Vec<RollupSum>> {
        let q = query.clone();
        self.read(move |c| self::query(c, &q)).await
    }

    async fn report_top_respondents(
        &self,
        query: &RollupQuery,
        limit: usize,
    ) -> StoreResult<Vec<(String, i64)>> {
        let q = query.clone();
        self.read(move |c| top_respondents(c, &q, limit)).await
    }

    async fn report_daily(&self, query: &DailyQuery) -> StoreResult<Vec<DailyCount>> {
        let q = query.clone();
        self.read(move |c| daily(c, &q)).await
    }

    async fn claim_alert(
        &self,
        kind: Subject,
        subject: &str,
        day: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let subject = subject.to_string();
        self.write(move |ctx| claim_sent(ctx, kind.as_str(), &subject, day, at))
            .await
    }

    async fn claim_mailing(
        &self,
        kind: &str,
        period: NaiveDate,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let kind = kind.to_string();
        self.write(move |ctx| claim_sent(ctx, &kind, "", period, at))
            .await
    }
}
