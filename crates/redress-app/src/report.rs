//! `GET /reports/summary` (SPEC §10, docs/reports.md): the figures of a
//! period of whole local days, answered from the rollup table
//! `report_days` (`redress_store::rollup`), never from the case rows, so
//! that a year costs about what a week does. Also the CSV form and
//! `redress report rebuild`.

use std::collections::BTreeMap;

use redress_domain::Reason;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use redress_domain::{Calendar, Outcome, Role, Status};
use redress_store::rollup::{self, Group, ReportStage, RollupQuery, RollupSum};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::App;
use crate::access::Principal;
use crate::error::{AppError, AppResult};
use crate::views::{
    CountChange, DeadlineCompliance, Histogram, MainCounts, PreviousPeriod, ReportSummary, Reviews,
    Satisfaction, SeriesEntry, StageCompliance, TopRespondent,
};

/// How the series divides the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
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

    /// The first day of the interval after the one holding `d`.
    pub(crate) fn next(self, d: NaiveDate) -> NaiveDate {
        match self {
            Interval::Day => d + Duration::days(1),
            Interval::Week => self.start(d) + Duration::days(7),
            Interval::Month => {
                let first = self.start(d);
                first
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(first + Duration::days(31))
            }
        }
    }

    /// The first day of the interval holding `d`.
    pub(crate) fn start(self, d: NaiveDate) -> NaiveDate {
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

/// `part / whole`; none when the whole is not positive.
pub(crate) fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Rounded to 0.01 h: the buckets are 5 % wide anyway.
pub(crate) fn hours(v: Option<f64>) -> Option<f64> {
    v.map(|h| (h * 100.0).round() / 100.0)
}

/// The summed counters of a period, by metric.
#[derive(Debug, Default)]
pub(crate) struct Sums {
    /// metric → dim → n
    by_dim: BTreeMap<String, BTreeMap<String, i64>>,
    /// `filed` per category.
    pub(crate) filed_by_category: BTreeMap<String, i64>,
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

    /// A duration histogram's buckets (the dims are bucket numbers).
    pub(crate) fn buckets(&self, metric: &str) -> BTreeMap<u32, i64> {
        self.dims(metric)
            .into_iter()
            .filter_map(|(b, n)| Some((b.parse().ok()?, n)))
            .collect()
    }

    fn histogram(&self, metric: &str) -> Histogram {
        let h = self.buckets(metric);
        Histogram {
            count: h.values().sum(),
            median_hours: hours(rollup::quantile(&h, 0.5)),
            p90_hours: hours(rollup::quantile(&h, 0.9)),
        }
    }

    fn on_time_rate(&self) -> Option<f64> {
        share(self.total(rollup::ON_TIME), self.total(rollup::DUE))
    }

    /// The counts a series entry and the previous period carry.
    fn main_counts(&self) -> MainCounts {
        let (accepted, rejected) = (self.total(rollup::ACCEPTED), self.total(rollup::REJECTED));
        MainCounts {
            acceptance_rate: share(accepted, accepted + rejected),
            accepted,
            appealed: self.total(rollup::APPEALED),
            closed: self.total(rollup::CLOSED),
            decided: self.total(rollup::DECIDED),
            filed: self.total(rollup::FILED),
            on_time_rate: self.on_time_rate(),
            rejected,
            stages_due: self.total(rollup::DUE),
            stages_on_time: self.total(rollup::ON_TIME),
        }
    }
}

/// What the store answers for a summary: the rollup sums of the period,
/// of the period before, and of the series' days or months; the cases
/// filed per department; the top respondents.
#[derive(Debug, Clone, Default)]
pub(crate) struct SummaryInput {
    pub(crate) sums: Vec<RollupSum>,
    pub(crate) departments: BTreeMap<String, i64>,
    pub(crate) top: Vec<(String, i64)>,
    pub(crate) series: Vec<RollupSum>,
    pub(crate) previous: Vec<RollupSum>,
}

/// The period of the same length just before the query's, for the trend:
/// only the counters of its main counts (the series' metrics), not the
/// time histograms and breakdowns, which are most of a period's rows.
fn previous_query(q: &RollupQuery) -> RollupQuery {
    let len = (q.to - q.from).num_days() + 1;
    RollupQuery {
        from: q.from - Duration::days(len),
        to: q.from - Duration::days(1),
        metrics: rollup::SERIES_METRICS.to_vec(),
        ..q.clone()
    }
}

/// The summary of the query's days from what the store answered.
pub(crate) fn summary(
    cal: &Calendar,
    time_zone: &str,
    q: &RollupQuery,
    interval: Interval,
    input: SummaryInput,
) -> ReportSummary {
    let prev_q = previous_query(q);
    let s = Sums::of(&input.sums);
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
    let stage = |stage: ReportStage| {
        let st = stage.as_str();
        let (due, ok) = (s.get(rollup::DUE, st), s.get(rollup::ON_TIME, st));
        StageCompliance {
            due,
            extended: s.get(rollup::EXTENDED, st),
            missed: due - ok,
            on_time: ok,
            rate: share(ok, due),
        }
    };
    let deadline_compliance = DeadlineCompliance {
        acceptance: stage(ReportStage::Acceptance),
        handling: stage(ReportStage::Handling),
        review: stage(ReportStage::Review),
        supplement: stage(ReportStage::Supplement),
    };
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
    let by_department = unclassified(input.departments, s.total(rollup::FILED));
    let now_counts = s.main_counts();
    let prev_counts = Sums::of(&input.previous).main_counts();
    ReportSummary {
        acceptance_rate: share(accepted, accepted + rejected),
        accepted,
        appeal_rate: share(appealed, decided),
        appealed,
        appeals_changed_share: share(changed, reviewed),
        by_category,
        by_channel: s.dims(rollup::FILED),
        by_closure: s.dims(rollup::FILED_CLOSURE),
        by_department,
        by_status,
        category: q.category.clone(),
        change: CountChange::between(&now_counts, &prev_counts),
        closed: s.total(rollup::CLOSED),
        closed_by_closure: s.dims(rollup::CLOSED),
        deadline_compliance,
        decided,
        department: q.department.clone(),
        extended_share: share(
            s.get(rollup::EXTENDED, "handling"),
            s.get(rollup::DUE, "handling"),
        ),
        from: cal.start_of_local_day(q.from),
        from_day: q.from,
        interval,
        on_time_rate: s.on_time_rate(),
        outcomes,
        previous: PreviousPeriod::new(prev_q.from, prev_q.to, prev_counts),
        rejected,
        reviews: Reviews {
            modified: changed,
            total: reviewed,
            upheld: s.get(rollup::REVIEWED, "upheld"),
        },
        satisfaction: Satisfaction {
            average: (responses > 0)
                .then(|| s.total(rollup::FEEDBACK_SCORE) as f64 / responses as f64),
            responses,
        },
        series: series_of(input.series, q, interval),
        time_to_accept: s.histogram(rollup::HOURS_TO_ACCEPT),
        time_to_close: s.histogram(rollup::HOURS_TO_CLOSE),
        time_to_decide: s.histogram(rollup::HOURS_TO_DECIDE),
        time_zone: time_zone.to_string(),
        to: cal.end_of_local_day(q.to),
        to_day: q.to,
        top_respondents: input
            .top
            .into_iter()
            .map(|(respondent, count)| TopRespondent { count, respondent })
            .collect(),
        total: s.total(rollup::FILED),
    }
}

/// The rollup query of the series: the query's days, by day (days and
/// weeks, from the daily counters) or by month (the monthly ones).
fn series_query(q: &RollupQuery, interval: Interval) -> RollupQuery {
    RollupQuery {
        metrics: rollup::SERIES_METRICS.to_vec(),
        group: if interval == Interval::Month {
            Group::Month
        } else {
            Group::Day
        },
        ..q.clone()
    }
}

/// One entry per interval of the period (the first and last clipped
/// to it), with the main counts, from the rows of [`series_query`].
pub(crate) fn series_of(
    rows: Vec<RollupSum>,
    q: &RollupQuery,
    interval: Interval,
) -> Vec<SeriesEntry> {
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
        let next = interval.next(start);
        let end = (next - Duration::days(1)).min(q.to);
        let sums = Sums::of(per.get(&start).map(Vec::as_slice).unwrap_or(&[]));
        out.push(SeriesEntry::new(start, end, sums.main_counts()));
        start = next;
    }
    out
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

    pub async fn report_summary(
        &self,
        who: &Principal,
        p: &ReportParams,
    ) -> AppResult<ReportSummary> {
        let staff = who.staff()?;
        staff.require(Role::Supervisor)?;
        let (q, interval) = self.report_query(p).await?;
        self.summary_of(&q, interval).await
    }

    /// The figures of the query's days (no access check: the caller has
    /// made it, or is the CLI).
    pub async fn summary_of(
        &self,
        q: &RollupQuery,
        interval: Interval,
    ) -> AppResult<ReportSummary> {
        let prev_q = previous_query(q);
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
        let series = series_query(q, interval);
        let (sums, departments, top, series, previous) = tokio::try_join!(
            async { Ok::<_, AppError>(self.store.report_rollup(q).await?) },
            self.filed_by_department(q),
            async { Ok::<_, AppError>(top.await?) },
            async { Ok::<_, AppError>(self.store.report_rollup(&series).await?) },
            async { Ok::<_, AppError>(self.store.report_rollup(&prev_q).await?) },
        )?;
        let input = SummaryInput {
            sums,
            departments,
            top,
            series,
            previous,
        };
        Ok(summary(
            &self.calendar(),
            self.config.time_zone.name(),
            q,
            interval,
            input,
        ))
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
/// spreadsheet programs read Chinese correctly. The rows follow the
/// serialised summary, so that a figure added to it is in the CSV too.
pub fn summary_csv(summary: &ReportSummary) -> String {
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
    let Ok(Value::Object(top)) = serde_json::to_value(summary) else {
        return out;
    };
    for (name, value) in &top {
        match (name.as_str(), value) {
            ("top_respondents", _) => {
                for t in &summary.top_respondents {
                    line(name, &t.respondent, &Value::from(t.count));
                }
            }
            ("series", _) => {
                for entry in &summary.series {
                    let figure = format!("series.{}", entry.start);
                    if let Ok(Value::Object(m)) = serde_json::to_value(entry) {
                        for (k, x) in m.iter().filter(|(k, _)| *k != "start") {
                            line(&figure, k, x);
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
pub fn summary_html(summary: &ReportSummary) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let csv = summary_csv(summary);
    let mut rows = String::new();
    for line in csv.trim_start_matches('\u{feff}').lines().skip(1) {
        let cells = split_csv_line(line);
        rows.push_str("<tr>");
        for c in cells {
            rows.push_str(&format!("<td>{}</td>", esc(&c)));
        }
        rows.push_str("</tr>\n");
    }
    let title = format!("redress report {} – {}", summary.from_day, summary.to_day);
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
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("=cmd"), "'=cmd");
        assert_eq!(csv_field("-1.5"), "-1.5");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
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
