//! `GET /reports/summary` (SPEC §10, docs/reports.md): the figures of a
//! period of whole local days, answered from the rollup table
//! `report_days` (`redress_store::rollup`), never from the case rows, so
//! that a year costs about what a week does. Also the CSV form and
//! `redress report rebuild`.

use std::collections::BTreeMap;

use redress_domain::Reason;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use redress_domain::{Outcome, Role, Status};
use redress_store::rollup::{self, Group, ReportStage, RollupQuery, RollupSum};
use serde_json::{Map, Value, json};

use crate::App;
use crate::access::Principal;
use crate::error::{AppError, AppResult};

/// How the series divides the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    Month,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// The first day of the interval holding `d`.
    fn start(self, d: NaiveDate) -> NaiveDate {
        match self {
            Interval::Day => d,
            Interval::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
            Interval::Month => d.with_day(1).unwrap_or(d),
        }
    }
}

/// What the caller asks: the query string as given.
#[derive(Debug, Clone, Default)]
pub struct ReportParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub interval: Option<String>,
    pub department: Option<String>,
    pub category: Option<String>,
}

/// The longest period a report covers (days).
const MAX_DAYS: i64 = 366 * 20;

/// `from`/`to` as local days, both included: a date is that day, an RFC
/// 3339 instant the local day it falls in (for `to`, the day of the
/// instant just before it, so that a midnight ends the day before).
/// Default: the last 30 days up to today. A bound is a date or an instant
/// of the years 1970 to 2200 (as written), so that every day a report
/// names is a four-digit-year date.
pub fn parse_days(
    app: &App,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<(NaiveDate, NaiveDate)> {
    let cal = app.calendar();
    let mut errors = redress_domain::FieldErrors::new();
    let mut parse = |field: &str, raw: Option<&str>, end: bool| -> Option<NaiveDate> {
        let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
        let years = 1970..=2200;
        if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            if !years.contains(&d.year()) {
                errors.add(field, Reason::YearRange);
                return None;
            }
            return Some(d);
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
            if !years.contains(&t.year()) {
                errors.add(field, Reason::YearRange);
                return None;
            }
            let t = t.with_timezone(&Utc);
            return Some(cal.local_date(if end { t - Duration::seconds(1) } else { t }));
        }
        errors.add(field, Reason::DateOrTime);
        None
    };
    let from_d = parse("from", from, false);
    let to_d = parse("to", to, true);
    errors.into_result()?;
    let to_d = to_d.unwrap_or_else(|| cal.local_date(app.now()));
    let from_d = from_d.unwrap_or(to_d - Duration::days(29));
    if from_d > to_d {
        return Err(AppError::invalid("from", Reason::BeforeTo));
    }
    if (to_d - from_d).num_days() > MAX_DAYS {
        // At most 20 years, so that a series stays small.
        return Err(AppError::invalid(
            "from",
            Reason::DateBetween {
                from: (to_d - Duration::days(MAX_DAYS)).to_string(),
                to: to_d.to_string(),
            },
        ));
    }
    Ok((from_d, to_d))
}

fn share(part: i64, whole: i64) -> Value {
    if whole <= 0 {
        Value::Null
    } else {
        json!(part as f64 / whole as f64)
    }
}

/// Rounded to 0.01 h: the buckets are 5 % wide anyway.
fn hours(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |h| json!((h * 100.0).round() / 100.0))
}

/// The summed counters of a period, by metric.
#[derive(Debug, Default)]
pub(crate) struct Sums {
    /// metric → dim → n
    by_dim: BTreeMap<String, BTreeMap<String, i64>>,
    /// `filed` per category.
    filed_by_category: BTreeMap<String, i64>,
}

impl Sums {
    pub(crate) fn of(rows: &[RollupSum]) -> Sums {
        let mut s = Sums::default();
        for r in rows {
            *s.by_dim
                .entry(r.metric.clone())
                .or_default()
                .entry(r.dim.clone())
                .or_default() += r.n;
            if r.metric == rollup::FILED {
                *s.filed_by_category.entry(r.category.clone()).or_default() += r.n;
            }
        }
        s
    }

    pub(crate) fn dims(&self, metric: &str) -> BTreeMap<String, i64> {
        self.by_dim.get(metric).cloned().unwrap_or_default()
    }

    pub(crate) fn total(&self, metric: &str) -> i64 {
        self.by_dim.get(metric).map_or(0, |m| m.values().sum())
    }

    pub(crate) fn get(&self, metric: &str, dim: &str) -> i64 {
        self.by_dim
            .get(metric)
            .and_then(|m| m.get(dim))
            .copied()
            .unwrap_or(0)
    }

    fn histogram(&self, metric: &str) -> Value {
        let h: BTreeMap<u32, i64> = self
            .dims(metric)
            .into_iter()
            .filter_map(|(b, n)| Some((b.parse().ok()?, n)))
            .collect();
        let count: i64 = h.values().sum();
        json!({
            "median_hours": hours(rollup::quantile(&h, 0.5)),
            "p90_hours": hours(rollup::quantile(&h, 0.9)),
            "count": count,
        })
    }

    fn on_time_rate(&self) -> Value {
        share(self.total(rollup::ON_TIME), self.total(rollup::DUE))
    }

    /// The counts a series entry and the previous period carry.
    fn main_counts(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("filed".into(), json!(self.total(rollup::FILED)));
        for metric in [
            rollup::ACCEPTED,
            rollup::REJECTED,
            rollup::DECIDED,
            rollup::CLOSED,
            rollup::APPEALED,
        ] {
            m.insert(metric.into(), json!(self.total(metric)));
        }
        m.insert("stages_due".into(), json!(self.total(rollup::DUE)));
        m.insert("stages_on_time".into(), json!(self.total(rollup::ON_TIME)));
        m.insert("on_time_rate".into(), self.on_time_rate());
        m.insert(
            "acceptance_rate".into(),
            share(
                self.total(rollup::ACCEPTED),
                self.total(rollup::ACCEPTED) + self.total(rollup::REJECTED),
            ),
        );
        m
    }
}

impl App {
    /// Checks the parameters of a report: the period, the interval and
    /// the department and category codes (422 naming each bad one).
    pub async fn report_query(&self, p: &ReportParams) -> AppResult<(RollupQuery, Interval)> {
        let (from, to) = parse_days(self, p.from.as_deref(), p.to.as_deref())?;
        let mut errors = redress_domain::FieldErrors::new();
        let interval = match p
            .interval
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => {
                let days = (to - from).num_days() + 1;
                if days <= 62 {
                    Interval::Day
                } else if days <= 366 {
                    Interval::Week
                } else {
                    Interval::Month
                }
            }
            Some("day") => Interval::Day,
            Some("week") => Interval::Week,
            Some("month") => Interval::Month,
            Some(_) => {
                errors.add("interval", Reason::one_of(["day", "week", "month"]));
                Interval::Day
            }
        };
        let department = p.department.clone().filter(|s| !s.trim().is_empty());
        let category = p.category.clone().filter(|s| !s.trim().is_empty());
        if let Some(d) = &department
            && !self
                .store
                .list_departments()
                .await?
                .iter()
                .any(|x| &x.code == d)
        {
            errors.add("department", Reason::no_such("department"));
        }
        if let Some(c) = &category
            && !self
                .store
                .list_categories()
                .await?
                .iter()
                .any(|x| &x.code == c)
        {
            errors.add("category", Reason::no_such("category"));
        }
        errors.into_result()?;
        Ok((
            RollupQuery {
                from,
                to,
                department,
                category,
                metrics: Vec::new(),
                group: Group::Period,
            },
            interval,
        ))
    }

    pub async fn report_summary(&self, who: &Principal, p: &ReportParams) -> AppResult<Value> {
        let staff = who.staff()?;
        staff.require(Role::Supervisor)?;
        let (q, interval) = self.report_query(p).await?;
        self.summary_of(&q, interval).await
    }

    /// The figures of the query's days (no access check: the caller has
    /// made it, or is the CLI).
    pub async fn summary_of(&self, q: &RollupQuery, interval: Interval) -> AppResult<Value> {
        let cal = self.calendar();
        // The period of the same length just before, for the trend.
        let len = (q.to - q.from).num_days() + 1;
        let prev_q = RollupQuery {
            from: q.from - Duration::days(len),
            to: q.from - Duration::days(1),
            ..q.clone()
        };
        // The summary's questions to the rollups are independent: asked
        // together, on the store's read pool, the answer takes about as
        // long as the slowest of them.
        // The respondent counters are kept per respondent and department,
        // not per category (docs/reports.md, "respondents apart"): a
        // report of one category has no top respondents.
        let top = async {
            if q.category.is_some() {
                Ok(Vec::new())
            } else {
                self.store.report_top_respondents(q, 10).await
            }
        };
        let (sums, departments, top, series, prev) = tokio::try_join!(
            async { Ok::<_, AppError>(self.store.report_rollup(q).await?) },
            self.filed_by_department(q),
            async { Ok::<_, AppError>(top.await?) },
            self.series(q, interval),
            async { Ok::<_, AppError>(self.store.report_rollup(&prev_q).await?) },
        )?;
        let s = Sums::of(&sums);
        let mut by_status: BTreeMap<String, i64> =
            Status::ALL.iter().map(|s| (s.to_string(), 0)).collect();
        by_status.extend(s.dims(rollup::FILED_STATUS));
        let by_category: BTreeMap<String, i64> = s
            .filed_by_category
            .iter()
            .map(|(c, n)| {
                let key = if c.is_empty() {
                    "(unclassified)".to_string()
                } else {
                    c.clone()
                };
                (key, *n)
            })
            .collect();
        let mut compliance = Map::new();
        for stage in ReportStage::ALL {
            let st = stage.as_str();
            let (due, ok) = (s.get(rollup::DUE, st), s.get(rollup::ON_TIME, st));
            compliance.insert(
                st.into(),
                json!({
                    "due": due,
                    "on_time": ok,
                    "missed": due - ok,
                    "rate": share(ok, due),
                    "extended": s.get(rollup::EXTENDED, st),
                }),
            );
        }
        let mut outcomes: BTreeMap<String, i64> =
            Outcome::ALL.iter().map(|o| (o.to_string(), 0)).collect();
        outcomes.extend(
            s.dims(rollup::DECIDED)
                .into_iter()
                .filter(|(k, _)| !k.is_empty()),
        );
        let (accepted, rejected) = (s.total(rollup::ACCEPTED), s.total(rollup::REJECTED));
        let decided = s.total(rollup::DECIDED);
        let appealed = s.total(rollup::APPEALED);
        let reviewed = s.total(rollup::REVIEWED);
        let changed = s.get(rollup::REVIEWED, "modified");
        let responses = s.total(rollup::FEEDBACK);
        let by_department = unclassified(departments, s.total(rollup::FILED));
        let prev = Sums::of(&prev);
        let now_counts = s.main_counts();
        let prev_counts = prev.main_counts();
        let mut change = Map::new();
        for (k, v) in &now_counts {
            if let (Some(a), Some(b)) = (v.as_i64(), prev_counts.get(k).and_then(Value::as_i64)) {
                change.insert(k.clone(), json!(a - b));
            }
        }
        let mut previous = prev_counts;
        previous.insert("from_day".into(), json!(prev_q.from));
        previous.insert("to_day".into(), json!(prev_q.to));
        Ok(json!({
            "from": cal.start_of_local_day(q.from),
            "to": cal.end_of_local_day(q.to),
            "from_day": q.from,
            "to_day": q.to,
            "time_zone": self.config.time_zone.name(),
            "interval": interval.as_str(),
            "department": q.department,
            "category": q.category,
            "total": s.total(rollup::FILED),
            "by_status": by_status,
            "by_channel": s.dims(rollup::FILED),
            "by_category": by_category,
            "by_department": by_department,
            "by_closure": s.dims(rollup::FILED_CLOSURE),
            "accepted": accepted,
            "rejected": rejected,
            "decided": decided,
            "closed": s.total(rollup::CLOSED),
            "closed_by_closure": s.dims(rollup::CLOSED),
            "acceptance_rate": share(accepted, accepted + rejected),
            "deadline_compliance": compliance,
            "on_time_rate": s.on_time_rate(),
            "extended_share": share(
                s.get(rollup::EXTENDED, "handling"),
                s.get(rollup::DUE, "handling")
            ),
            "outcomes": outcomes,
            "time_to_accept": s.histogram(rollup::HOURS_TO_ACCEPT),
            "time_to_decide": s.histogram(rollup::HOURS_TO_DECIDE),
            "time_to_close": s.histogram(rollup::HOURS_TO_CLOSE),
            "appealed": appealed,
            "appeal_rate": share(appealed, decided),
            "reviews": {
                "total": reviewed,
                "upheld": s.get(rollup::REVIEWED, "upheld"),
                "modified": changed,
            },
            "appeals_changed_share": share(changed, reviewed),
            "satisfaction": {
                "average": if responses > 0 {
                    json!(s.total(rollup::FEEDBACK_SCORE) as f64 / responses as f64)
                } else {
                    Value::Null
                },
                "responses": responses,
            },
            "top_respondents": top
                .into_iter()
                .map(|(k, n)| json!({"respondent": k, "count": n}))
                .collect::<Vec<_>>(),
            "series": series,
            "previous": previous,
            "change": change,
        }))
    }

    /// Cases filed in the query's days per department code (the
    /// department the case has when saved, like `by_category`); see
    /// [`unclassified`] for the rest. One rollup query per department
    /// (an installation has a handful), asked together.
    async fn filed_by_department(&self, q: &RollupQuery) -> AppResult<BTreeMap<String, i64>> {
        let departments: Vec<String> = self
            .store
            .list_departments()
            .await?
            .into_iter()
            .map(|d| d.code)
            .filter(|code| q.department.as_ref().is_none_or(|only| only == code))
            .collect();
        let counts = futures_util::future::try_join_all(departments.iter().map(|code| {
            let one = RollupQuery {
                department: Some(code.clone()),
                metrics: vec![rollup::FILED],
                group: Group::Period,
                ..q.clone()
            };
            async move { self.store.report_rollup(&one).await }
        }))
        .await?;
        let mut out = BTreeMap::new();
        for (code, rows) in departments.into_iter().zip(counts) {
            let n: i64 = rows.iter().map(|r| r.n).sum();
            if n != 0 {
                out.insert(code, n);
            }
        }
        Ok(out)
    }

    /// One entry per interval of the period (the first and last clipped
    /// to it), with the main counts.
    async fn series(&self, q: &RollupQuery, interval: Interval) -> AppResult<Vec<Value>> {
        let rows = self
            .store
            .report_rollup(&RollupQuery {
                metrics: rollup::SERIES_METRICS.to_vec(),
                // Months from the monthly counters; days and weeks from
                // the daily ones.
                group: if interval == Interval::Month {
                    Group::Month
                } else {
                    Group::Day
                },
                ..q.clone()
            })
            .await?;
        let mut per: BTreeMap<NaiveDate, Vec<RollupSum>> = BTreeMap::new();
        for r in rows {
            if let Some(d) = r.day {
                per.entry(interval.start(d).max(q.from))
                    .or_default()
                    .push(r);
            }
        }
        let mut out = Vec::new();
        let mut start = q.from;
        while start <= q.to {
            let next = match interval {
                Interval::Day => start + Duration::days(1),
                Interval::Week => interval.start(start) + Duration::days(7),
                Interval::Month => {
                    let first = interval.start(start);
                    first
                        .checked_add_months(chrono::Months::new(1))
                        .unwrap_or(first + Duration::days(31))
                }
            };
            let end = (next - Duration::days(1)).min(q.to);
            let sums = Sums::of(per.get(&start).map(Vec::as_slice).unwrap_or(&[]));
            let mut entry = Map::new();
            entry.insert("start".into(), json!(start));
            entry.insert("end".into(), json!(end));
            entry.extend(sums.main_counts());
            out.push(Value::Object(entry));
            start = next;
        }
        Ok(out)
    }

    /// Once, after the upgrade that added the rollup table: sums the cases
    /// stored before it (recorded as the setting `report_rollups_built`).
    pub async fn build_report_rollups_once(&self) -> AppResult<()> {
        const BUILT: &str = "report_rollups_built";
        if self.store.get_setting(BUILT).await?.is_some() {
            return Ok(());
        }
        let cases = self.rebuild_report_rollups().await?;
        let event = self.admin_event(
            &Principal::Anonymous,
            "report_rollups_built",
            json!({"cases": cases}),
        );
        self.store
            .put_setting(
                BUILT,
                json!({"cases": cases}).to_string(),
                "system".into(),
                self.now(),
                event,
            )
            .await?;
        tracing::info!(cases, "report rollups built from the stored cases");
        Ok(())
    }

    /// `redress report rebuild`: recomputes the rollup table from every
    /// case row; the number of cases read.
    pub async fn rebuild_report_rollups(&self) -> AppResult<u64> {
        Ok(self
            .store
            .rebuild_report_rollups(self.config.time_zone)
            .await?)
    }
}

/// `by_department` from the counts per listed department: cases without
/// one, or of a department no longer listed, under `(unclassified)`.
fn unclassified(mut counted: BTreeMap<String, i64>, total: i64) -> BTreeMap<String, i64> {
    let sum: i64 = counted.values().sum();
    if total - sum > 0 {
        counted.insert("(unclassified)".to_string(), total - sum);
    }
    counted
}

/// The summary as CSV rows `figure,key,value`: every figure of the JSON
/// answer, flattened (`deadline_compliance.acceptance,rate,0.5`;
/// `series.2026-03-02,filed,4`), UTF-8 with a byte-order mark so that
/// spreadsheet programs read Chinese correctly.
pub fn summary_csv(v: &Value) -> String {
    let mut out = String::from("\u{feff}figure,key,value\r\n");
    let mut line = |figure: &str, key: &str, value: &Value| {
        let value = match value {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push_str(&format!(
            "{},{},{}\r\n",
            csv_field(figure),
            csv_field(key),
            csv_field(&value)
        ));
    };
    let Value::Object(top) = v else {
        return out;
    };
    for (name, value) in top {
        match (name.as_str(), value) {
            ("top_respondents", Value::Array(items)) => {
                for i in items {
                    line(name, i["respondent"].as_str().unwrap_or(""), &i["count"]);
                }
            }
            ("series", Value::Array(items)) => {
                for i in items {
                    let start = i["start"].as_str().unwrap_or("");
                    if let Value::Object(m) = i {
                        for (k, x) in m {
                            if k != "start" {
                                line(&format!("series.{start}"), k, x);
                            }
                        }
                    }
                }
            }
            (_, Value::Object(m)) => flatten(name, m, &mut line),
            _ => line(name, "", value),
        }
    }
    out
}

/// The summary as a standalone HTML page: one table of the same rows as
/// the CSV (`redress report --format html`).
pub fn summary_html(v: &Value) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let csv = summary_csv(v);
    let mut rows = String::new();
    for line in csv.trim_start_matches('\u{feff}').lines().skip(1) {
        let cells = split_csv_line(line);
        rows.push_str("<tr>");
        for c in cells {
            rows.push_str(&format!("<td>{}</td>", esc(&c)));
        }
        rows.push_str("</tr>\n");
    }
    let title = format!(
        "redress report {} – {}",
        v["from_day"].as_str().unwrap_or(""),
        v["to_day"].as_str().unwrap_or("")
    );
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}</style></head>\n\
         <body><h1>{t}</h1>\n<table><thead><tr><th>figure</th><th>key</th><th>value</th></tr></thead>\n\
         <tbody>\n{rows}</tbody></table></body></html>\n",
        t = esc(&title)
    )
}

/// The fields of one line written by [`csv_field`].
fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn flatten(prefix: &str, m: &Map<String, Value>, line: &mut impl FnMut(&str, &str, &Value)) {
    for (k, x) in m {
        match x {
            Value::Object(inner) => flatten(&format!("{prefix}.{k}"), inner, line),
            _ => line(prefix, k, x),
        }
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break; a
/// leading `=`, `+`, `-` or `@` of text (not of a number) is defused for
/// spreadsheets.
fn csv_field(s: &str) -> String {
    let numeric = s.parse::<f64>().is_ok();
    let mut s = s.to_string();
    if !numeric && s.starts_with(['=', '+', '-', '@']) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_starts_with_a_bom_and_flattens_every_figure() {
        let v = json!({
            "total": 3,
            "by_channel": {"web": 2, "email": 1},
            "deadline_compliance": {"acceptance": {"due": 2, "rate": 0.5}},
            "top_respondents": [{"respondent": "company:a,b", "count": 2}],
            "series": [{"start": "2026-03-02", "filed": 1}],
            "department": null,
        });
        let csv = summary_csv(&v);
        assert!(csv.starts_with("\u{feff}figure,key,value\r\n"));
        assert!(csv.contains("total,,3\r\n"));
        assert!(csv.contains("by_channel,web,2\r\n"));
        assert!(csv.contains("deadline_compliance.acceptance,rate,0.5\r\n"));
        assert!(csv.contains("top_respondents,\"company:a,b\",2\r\n"));
        assert!(csv.contains("series.2026-03-02,filed,1\r\n"));
        assert!(csv.contains("department,,\r\n"));
        assert_eq!(csv_field("=cmd"), "'=cmd");
        assert_eq!(csv_field("-1.5"), "-1.5");
    }

    #[test]
    fn intervals_start_on_monday_and_the_first() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap(); // a Thursday
        assert_eq!(
            Interval::Week.start(d),
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
        );
        assert_eq!(
            Interval::Month.start(d),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
    }
}
