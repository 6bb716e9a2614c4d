//! Report rollups (SPEC §10, docs/reports.md): what one case adds to the
//! daily counters of `report_days`, as a pure function of the case's
//! columns and [`ReportFacts`].
//!
//! The backends keep the table equal to the sum of [`contributions`] over
//! every case row: when a case is saved they apply
//! `contributions(new) − contributions(old)` ([`delta`]) as UPSERTs in the
//! same transaction as the row, and `redress report rebuild` recomputes
//! the sum from scratch. A report then reads a few thousand counters
//! instead of every case of its period.
//!
//! Each counter is keyed by the local day of its own event (filing,
//! acceptance, decision, closure, the end of a stage, …) in the
//! installation's time zone, the case's department and category **as they
//! are when the case is saved** (a case moved to another department moves
//! all its counters with it: a simplification of "the department it had
//! when the event happened", stated in docs/reports.md), a metric name and
//! one value of the metric's own dimension (the channel for `filed`, the
//! stage for `due`, a histogram bucket for `hours_to_accept`, …). Only
//! codes are kept: nothing in the table names a case or a person.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use redress_domain::calendar::Tz;
use redress_domain::{Channel, Closure, Status};
use serde::{Deserialize, Serialize};

use crate::{CaseRow, ReportFacts};

/// Cases filed that day; dimension: channel. `total` and `by_channel`.
pub const FILED: &str = "filed";
/// Cases filed that day by their current status (`by_status`).
pub const FILED_STATUS: &str = "filed_status";
/// Cases filed that day and since closed, by closure (`by_closure`).
pub const FILED_CLOSURE: &str = "filed_closure";
/// Cases filed that day by respondent key (`top_respondents`).
pub const FILED_RESPONDENT: &str = "filed_respondent";
/// Cases accepted that day.
pub const ACCEPTED: &str = "accepted";
/// Cases refused that day.
pub const REJECTED: &str = "rejected";
/// Decisions made that day; dimension: outcome.
pub const DECIDED: &str = "decided";
/// Cases closed that day; dimension: closure.
pub const CLOSED: &str = "closed";
/// Stage deadlines counted that day (the stage ended, or its deadline
/// passed while it ran); dimension: stage.
pub const DUE: &str = "due";
/// Of those, stages that ended by their deadline in force.
pub const ON_TIME: &str = "on_time";
/// Of those, stages whose deadline was extended.
pub const EXTENDED: &str = "extended";
/// Appeals lodged that day.
pub const APPEALED: &str = "appealed";
/// Reviews decided that day; dimension: review result (`upheld`, `modified`).
pub const REVIEWED: &str = "reviewed";
/// Satisfaction answers given that day (count), and the sum of their scores.
pub const FEEDBACK: &str = "feedback";
pub const FEEDBACK_SCORE: &str = "feedback_score";
/// Histograms of hours from filing; dimension: bucket number
/// ([`bucket_of`]), keyed by the day the case was accepted, decided,
/// closed.
pub const HOURS_TO_ACCEPT: &str = "hours_to_accept";
pub const HOURS_TO_DECIDE: &str = "hours_to_decide";
pub const HOURS_TO_CLOSE: &str = "hours_to_close";

/// Respondent scorecards (`GET /reports/respondents`): counters whose
/// dimension is the respondent key (`kind:id`). Cases filed that day by a
/// complainant who had an earlier case against the same respondent.
pub const RESPONDENT_REPEAT: &str = "respondent_repeat";
/// Decisions made that day, per respondent.
pub const RESPONDENT_DECIDED: &str = "respondent_decided";
/// Of those, with the outcome in force `upheld` / `partially_upheld` (a
/// modified review's outcome replaces the decision's).
pub const RESPONDENT_UPHELD: &str = "respondent_upheld";
pub const RESPONDENT_PARTIALLY_UPHELD: &str = "respondent_partially_upheld";
/// Respondent reply deadlines settled that day (the first reply came, or
/// the deadline passed without one), per respondent.
pub const RESPONDENT_REPLY_DUE: &str = "respondent_reply_due";
/// Of those, met: the first reply came by the deadline.
pub const RESPONDENT_REPLY_ON_TIME: &str = "respondent_reply_on_time";

/// The metrics keyed by respondent: a summary leaves them out unless it
/// asks for them.
pub const RESPONDENT_METRICS: [&str; 7] = [
    FILED_RESPONDENT,
    RESPONDENT_REPEAT,
    RESPONDENT_DECIDED,
    RESPONDENT_UPHELD,
    RESPONDENT_PARTIALLY_UPHELD,
    RESPONDENT_REPLY_DUE,
    RESPONDENT_REPLY_ON_TIME,
];

/// Whether the metric is keyed by respondent (kept without category).
pub fn is_respondent_metric(metric: &str) -> bool {
    RESPONDENT_METRICS.contains(&metric)
}

/// The metrics a summary reads: all but the [`RESPONDENT_METRICS`].
pub const SUMMARY_METRICS: [&str; 17] = [
    FILED,
    FILED_STATUS,
    FILED_CLOSURE,
    ACCEPTED,
    REJECTED,
    DECIDED,
    CLOSED,
    DUE,
    ON_TIME,
    EXTENDED,
    APPEALED,
    REVIEWED,
    FEEDBACK,
    FEEDBACK_SCORE,
    HOURS_TO_ACCEPT,
    HOURS_TO_DECIDE,
    HOURS_TO_CLOSE,
];

/// The first day of the month of `day`: the key of the monthly counters
/// (`report_months`).
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The monthly counters a set of daily changes makes: each change's day
/// replaced by the first of its month, summed, without zeros.
pub fn months_of(changes: &[(RollupKey, i64)]) -> Vec<(RollupKey, i64)> {
    let mut sum: BTreeMap<RollupKey, i64> = BTreeMap::new();
    for (k, n) in changes {
        *sum.entry(RollupKey {
            day: month_of(k.day),
            ..k.clone()
        })
        .or_default() += n;
    }
    sum.into_iter().filter(|(_, n)| *n != 0).collect()
}

/// How a period `[from, to]` is read: the whole months it covers from
/// the monthly counters (`months`, first days of the first and last whole
/// month), and the days of its partial edge months from the daily ones
/// (`days`, at most two ranges, both ends included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    pub months: Option<(NaiveDate, NaiveDate)>,
    pub days: Vec<(NaiveDate, NaiveDate)>,
}

/// Splits a period into whole months and the days of its edges.
pub fn split_period(from: NaiveDate, to: NaiveDate) -> Parts {
    if from > to {
        return Parts {
            months: None,
            days: Vec::new(),
        };
    }
    let next_month = |d: NaiveDate| {
        month_of(d)
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(d)
    };
    // The first whole month starts on `from` when it is a first day, else
    // on the next first day; the last whole month ends on `to` when `to`
    // is the last day of its month.
    let first = if from.day() == 1 {
        from
    } else {
        next_month(from)
    };
    let last_end = if next_month(to) - Duration::days(1) == to {
        to
    } else {
        month_of(to) - Duration::days(1)
    };
    if first > last_end {
        return Parts {
            months: None,
            days: vec![(from, to)],
        };
    }
    let mut days = Vec::new();
    if from < first {
        days.push((from, first - Duration::days(1)));
    }
    if last_end < to {
        days.push((last_end + Duration::days(1), to));
    }
    Parts {
        months: Some((first, month_of(last_end))),
        days,
    }
}

/// A stage whose deadline compliance is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStage {
    Acceptance,
    Supplement,
    Handling,
    Review,
}

impl ReportStage {
    pub const ALL: [ReportStage; 4] = [
        ReportStage::Acceptance,
        ReportStage::Supplement,
        ReportStage::Handling,
        ReportStage::Review,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStage::Acceptance => "acceptance",
            ReportStage::Supplement => "supplement",
            ReportStage::Handling => "handling",
            ReportStage::Review => "review",
        }
    }
}

/// One stage of a case as the compliance figures count it (derived by the
/// application from the case, docs/reports.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageFact {
    pub stage: ReportStage,
    /// The deadline in force (extensions included).
    pub due_at: DateTime<Utc>,
    /// When the stage ended; `None`: it still runs and its deadline has
    /// passed (the case was flagged overdue).
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub extended: bool,
}

impl StageFact {
    pub fn on_time(&self) -> bool {
        self.ended_at.is_some_and(|e| e <= self.due_at)
    }
}

/// One counter of `report_days`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RollupKey {
    /// The local day of the event.
    pub day: NaiveDate,
    pub metric: &'static str,
    /// The case's department code, `""` when none.
    pub department: String,
    /// The case's category code, `""` when none.
    pub category: String,
    /// The metric's own dimension, `""` when it has none.
    pub dim: String,
}

/// What [`contributions`] reads of a case row.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupCase {
    pub status: Status,
    pub closure: Option<Closure>,
    pub channel: Channel,
    pub category: Option<String>,
    pub department: Option<String>,
    pub respondent_key: Option<String>,
    pub report: ReportFacts,
}

impl RollupCase {
    pub fn of(row: &CaseRow) -> RollupCase {
        RollupCase {
            status: row.status,
            closure: row.closure,
            channel: row.channel,
            category: row.category.clone(),
            department: row.department.clone(),
            respondent_key: row.respondent_key.clone(),
            report: row.report.clone(),
        }
    }
}

/// Histogram buckets of durations in hours: bucket 0 holds durations under
/// [`BUCKET_BASE_HOURS`]; bucket `b ≥ 1` holds
/// `[BASE·RATIO^(b−1), BASE·RATIO^b)`. A bucket stands for its geometric
/// middle, at most `√RATIO − 1` (4.9 %) away from any duration in it.
pub const BUCKET_BASE_HOURS: f64 = 0.01;
pub const BUCKET_RATIO: f64 = 1.1;
/// The last bucket (some 190 years) takes everything longer.
pub const LAST_BUCKET: u32 = 200;

pub fn bucket_of(hours: f64) -> u32 {
    if hours.is_nan() || hours < BUCKET_BASE_HOURS {
        return 0;
    }
    let b = ((hours / BUCKET_BASE_HOURS).ln() / BUCKET_RATIO.ln()).floor() as i64 + 1;
    b.clamp(1, i64::from(LAST_BUCKET)) as u32
}

/// The value a bucket stands for (hours).
pub fn bucket_value(bucket: u32) -> f64 {
    if bucket == 0 {
        return 0.0;
    }
    BUCKET_BASE_HOURS * BUCKET_RATIO.powf(f64::from(bucket) - 0.5)
}

/// The `q` quantile (0–1) of a histogram (bucket → count): the value of
/// the bucket holding the sample of rank `round((n − 1)·q)` in ascending
/// order. `None` when empty.
pub fn quantile(histogram: &BTreeMap<u32, i64>, q: f64) -> Option<f64> {
    let n: i64 = histogram.values().filter(|c| **c > 0).sum();
    if n <= 0 {
        return None;
    }
    let rank = ((n - 1) as f64 * q).round() as i64;
    let mut seen = 0;
    for (bucket, count) in histogram {
        if *count <= 0 {
            continue;
        }
        seen += count;
        if seen > rank {
            return Some(bucket_value(*bucket));
        }
    }
    histogram.keys().next_back().map(|b| bucket_value(*b))
}

fn hours_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds().max(0) as f64 / 3600.0
}

/// Everything one case adds to the rollup table. Instants become local
/// days in the zone recorded in the facts (`fallback` for facts written
/// before zones were recorded).
pub fn contributions(case: &RollupCase, fallback: Tz) -> BTreeMap<RollupKey, i64> {
    let f = &case.report;
    let tz: Tz = f
        .zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(fallback);
    let day = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    let department = case.department.clone().unwrap_or_default();
    let category = case.category.clone().unwrap_or_default();
    let mut out: BTreeMap<RollupKey, i64> = BTreeMap::new();
    let mut add = |at: NaiveDate, metric: &'static str, dim: &str, n: i64| {
        if n == 0 {
            return;
        }
        // Respondents apart: the counters keyed by respondent keep the
        // department but not the category, so that a day holds one
        // counter per respondent and department, not per category too.
        let category = if is_respondent_metric(metric) {
            String::new()
        } else {
            category.clone()
        };
        *out.entry(RollupKey {
            day: at,
            metric,
            department: department.clone(),
            category,
            dim: dim.to_string(),
        })
        .or_default() += n;
    };
    let Some(created) = f.created_at else {
        return out;
    };
    let filed = day(created);
    add(filed, FILED, case.channel.as_str(), 1);
    add(filed, FILED_STATUS, case.status.as_str(), 1);
    if let Some(c) = case.closure {
        add(filed, FILED_CLOSURE, c.as_str(), 1);
    }
    if let Some(r) = case.respondent_key.as_deref() {
        add(filed, FILED_RESPONDENT, r, 1);
        if f.repeat_complainant {
            add(filed, RESPONDENT_REPEAT, r, 1);
        }
        if let Some(d) = f.decided_at {
            add(day(d), RESPONDENT_DECIDED, r, 1);
            let outcome = f
                .outcome_in_force
                .map(|o| o.to_string())
                .or_else(|| f.outcome.clone());
            match outcome.as_deref() {
                Some("upheld") => add(day(d), RESPONDENT_UPHELD, r, 1),
                Some("partially_upheld") => add(day(d), RESPONDENT_PARTIALLY_UPHELD, r, 1),
                _ => {}
            }
        }
        if let Some(on_time) = f.respondent_reply_on_time {
            // The day the deadline was settled: the first reply, else the
            // day the deadline passed; facts written before these instants
            // were recorded count on the acceptance day.
            let at = f
                .respondent_replied_at
                .or(f.respondent_reply_due_at.map(|d| d - Duration::seconds(1)))
                .or(f.accepted_at);
            if let Some(at) = at {
                add(day(at), RESPONDENT_REPLY_DUE, r, 1);
                if on_time {
                    add(day(at), RESPONDENT_REPLY_ON_TIME, r, 1);
                }
            }
        }
    }
    if let Some(a) = f.accepted_at {
        add(day(a), ACCEPTED, "", 1);
        let b = bucket_of(hours_between(created, a));
        add(day(a), HOURS_TO_ACCEPT, &b.to_string(), 1);
    }
    if let Some(c) = f.closed_at {
        if let Some(closure) = case.closure {
            add(day(c), CLOSED, closure.as_str(), 1);
            if closure == Closure::Rejected {
                add(day(c), REJECTED, "", 1);
            }
        }
        let b = bucket_of(hours_between(created, c));
        add(day(c), HOURS_TO_CLOSE, &b.to_string(), 1);
    }
    if let Some(d) = f.decided_at {
        add(day(d), DECIDED, f.outcome.as_deref().unwrap_or(""), 1);
        let b = bucket_of(hours_between(created, d));
        add(day(d), HOURS_TO_DECIDE, &b.to_string(), 1);
    }
    let stages: Vec<StageFact> = if f.zone.is_some() {
        f.stages.clone()
    } else {
        legacy_stages(f)
    };
    for s in &stages {
        // A stage still running is counted on the day its deadline
        // passed (a due instant at 24:00 belongs to the day it ends).
        let at = match s.ended_at {
            Some(e) => day(e),
            None => day(s.due_at - Duration::seconds(1)),
        };
        let stage = s.stage.as_str();
        add(at, DUE, stage, 1);
        if s.on_time() {
            add(at, ON_TIME, stage, 1);
        }
        if s.extended {
            add(at, EXTENDED, stage, 1);
        }
    }
    // Facts written before these instants were recorded fall back to the
    // nearest instant they have.
    if f.appealed {
        let at = f.appealed_at.or(f.decided_at).unwrap_or(created);
        add(day(at), APPEALED, "", 1);
    }
    if let Some(result) = f.review_result.as_deref() {
        let at = f.reviewed_at.or(f.closed_at).unwrap_or(created);
        add(day(at), REVIEWED, result, 1);
    } else if f.review_changed {
        add(day(f.closed_at.unwrap_or(created)), REVIEWED, "modified", 1);
    }
    if let Some(score) = f.feedback_score {
        let at = f.feedback_at.or(f.closed_at).unwrap_or(created);
        add(day(at), FEEDBACK, "", 1);
        add(day(at), FEEDBACK_SCORE, "", i64::from(score));
    }
    out
}

/// Acceptance and handling compliance from facts written before the
/// application recorded [`StageFact`]s: the stages that ended.
fn legacy_stages(f: &ReportFacts) -> Vec<StageFact> {
    let mut out = Vec::new();
    if let (Some(due), Some(end)) = (f.acceptance_due_at, f.accepted_at) {
        out.push(StageFact {
            stage: ReportStage::Acceptance,
            due_at: due,
            ended_at: Some(end),
            extended: false,
        });
    }
    if let (Some(due), Some(end)) = (f.handling_due_at, f.decided_at) {
        out.push(StageFact {
            stage: ReportStage::Handling,
            due_at: due,
            ended_at: Some(end),
            extended: false,
        });
    }
    out
}

/// `contributions(new) − contributions(old)`: the changes a save makes to
/// the rollup table, without zeros (`old` is `None` for a new case).
pub fn delta(old: Option<&RollupCase>, new: &RollupCase, fallback: Tz) -> Vec<(RollupKey, i64)> {
    // A save that leaves every input as it was (most saves: a message, a
    // notice settled) changes nothing.
    if old == Some(new) {
        return Vec::new();
    }
    let mut sum = contributions(new, fallback);
    if let Some(old) = old {
        for (k, n) in contributions(old, fallback) {
            *sum.entry(k).or_default() -= n;
        }
    }
    sum.into_iter().filter(|(_, n)| *n != 0).collect()
}

/// The zone a backend takes for facts that record none, at a save: the
/// zone of the saved facts (the installation's), else China's.
pub fn save_zone(new: &RollupCase) -> Tz {
    new.report
        .zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(Tz::Asia__Shanghai)
}

/// The sum of [`contributions`] over many cases (a rebuild).
#[derive(Debug, Default)]
pub struct Totals {
    pub counters: BTreeMap<RollupKey, i64>,
}

impl Totals {
    pub fn add(&mut self, case: &RollupCase, fallback: Tz) {
        for (k, n) in contributions(case, fallback) {
            *self.counters.entry(k).or_default() += n;
        }
    }
}

/// The counter changes of a saved case: `old` is the row as it was
/// (`None` for a new case).
pub fn changes_of_save(old: Option<&RollupCase>, row: &CaseRow) -> Vec<(RollupKey, i64)> {
    let new = RollupCase::of(row);
    delta(old, &new, save_zone(&new))
}

/// The counter changes of many new cases (an import), summed in one pass.
pub fn changes_of_new(rows: &[CaseRow]) -> Vec<(RollupKey, i64)> {
    let mut totals = Totals::default();
    for row in rows {
        let case = RollupCase::of(row);
        let zone = save_zone(&case);
        totals.add(&case, zone);
    }
    totals
        .counters
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .collect()
}

/// A question to the rollup table: the counters of the local days
/// `[from, to]`, optionally of one department and/or category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub department: Option<String>,
    pub category: Option<String>,
    /// Only these metrics (the [`SUMMARY_METRICS`] when empty).
    pub metrics: Vec<&'static str>,
    /// Summed over the period, per day or per month.
    pub group: Group,
}

/// How a [`RollupQuery`] sums its counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Over the whole period, per category (whole months from the monthly
    /// counters, the partial edge months from the daily ones).
    Period,
    /// Per local day (the daily counters only).
    Day,
    /// Per month, `day` being the month's first day (whole months from
    /// the monthly counters, the edge days summed into their months).
    Month,
}

/// One summed counter: day (when asked per day; the first of the month
/// when asked per month), metric, category (summed over the period, the
/// counters keep the category apart: `by_category`), dimension, count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupSum {
    pub day: Option<NaiveDate>,
    pub metric: String,
    pub category: String,
    pub dim: String,
    pub n: i64,
}

/// What a spike alert counts per local day (`GET /alerts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// Cases filed, per respondent key ([`FILED_RESPONDENT`]).
    Respondent,
    /// Cases filed, per category code ([`FILED`]; unclassified cases,
    /// category `""`, are left out).
    Category,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Respondent => "respondent",
            Subject::Category => "category",
        }
    }
}

/// A question for per-day counts of cases filed per subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyQuery {
    pub subject: Subject,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only counts of a day at least this big.
    pub min: i64,
    /// Only these subjects (all when empty).
    pub only: Vec<String>,
}

/// One subject's count of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyCount {
    pub day: NaiveDate,
    pub subject: String,
    pub n: i64,
}

/// The metrics a series answers per interval.
pub const SERIES_METRICS: [&str; 8] = [
    FILED, ACCEPTED, REJECTED, DECIDED, CLOSED, DUE, ON_TIME, APPEALED,
];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(day: u32, hour: u32) -> DateTime<Utc> {
        // 2026-03-day hour:00 in Shanghai (UTC+8).
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap() - Duration::hours(8)
    }

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
    }

    fn case() -> RollupCase {
        RollupCase {
            status: Status::Submitted,
            closure: None,
            channel: Channel::Web,
            category: None,
            department: None,
            respondent_key: Some("company:acme".into()),
            report: ReportFacts {
                created_at: Some(t(2, 23)),
                zone: Some("Asia/Shanghai".into()),
                ..ReportFacts::default()
            },
        }
    }

    fn get(c: &BTreeMap<RollupKey, i64>, day: NaiveDate, metric: &str, dim: &str) -> i64 {
        c.iter()
            .filter(|(k, _)| k.day == day && k.metric == metric && k.dim == dim)
            .map(|(_, n)| *n)
            .sum()
    }

    const SH: Tz = Tz::Asia__Shanghai;

    #[test]
    fn a_new_case_counts_on_its_local_filing_day() {
        let c = contributions(&case(), SH);
        // 23:00 local on the 2nd is 15:00 UTC: the local day counts.
        assert_eq!(get(&c, d(2), FILED, "web"), 1);
        assert_eq!(get(&c, d(2), FILED_STATUS, "submitted"), 1);
        assert_eq!(get(&c, d(2), FILED_RESPONDENT, "company:acme"), 1);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn each_event_counts_on_its_own_day_under_the_case_codes() {
        let mut c = case();
        c.status = Status::Closed;
        c.closure = Some(Closure::Resolved);
        c.department = Some("ops".into());
        c.category = Some("refund".into());
        c.report.accepted_at = Some(t(3, 10));
        c.report.decided_at = Some(t(5, 10));
        c.report.closed_at = Some(t(20, 10));
        c.report.outcome = Some("partially_upheld".into());
        c.report.stages = vec![
            StageFact {
                stage: ReportStage::Acceptance,
                due_at: t(4, 0),
                ended_at: Some(t(3, 10)),
                extended: false,
            },
            StageFact {
                stage: ReportStage::Handling,
                due_at: t(4, 0),
                ended_at: Some(t(5, 10)),
                extended: true,
            },
        ];
        c.report.feedback_score = Some(4);
        c.report.feedback_at = Some(t(21, 9));
        let out = contributions(&c, SH);
        // Respondent counters are kept without category.
        assert!(out.keys().all(|k| k.department == "ops"
            && k.category
                == if is_respondent_metric(k.metric) {
                    ""
                } else {
                    "refund"
                }));
        assert_eq!(get(&out, d(3), ACCEPTED, ""), 1);
        assert_eq!(get(&out, d(5), DECIDED, "partially_upheld"), 1);
        assert_eq!(get(&out, d(20), CLOSED, "resolved"), 1);
        assert_eq!(get(&out, d(2), FILED_CLOSURE, "resolved"), 1);
        assert_eq!(get(&out, d(3), DUE, "acceptance"), 1);
        assert_eq!(get(&out, d(3), ON_TIME, "acceptance"), 1);
        assert_eq!(get(&out, d(5), DUE, "handling"), 1);
        assert_eq!(get(&out, d(5), ON_TIME, "handling"), 0);
        assert_eq!(get(&out, d(5), EXTENDED, "handling"), 1);
        assert_eq!(get(&out, d(21), FEEDBACK, ""), 1);
        assert_eq!(get(&out, d(21), FEEDBACK_SCORE, ""), 4);
        // 11 hours from filing to acceptance: bucket of 11 h.
        assert_eq!(
            get(&out, d(3), HOURS_TO_ACCEPT, &bucket_of(11.0).to_string()),
            1
        );
    }

    #[test]
    fn a_running_stage_past_its_deadline_counts_as_missed_on_the_due_day() {
        let mut c = case();
        c.report.stages = vec![StageFact {
            stage: ReportStage::Acceptance,
            // 24:00 of the 4th.
            due_at: t(5, 0),
            ended_at: None,
            extended: false,
        }];
        let out = contributions(&c, SH);
        assert_eq!(get(&out, d(4), DUE, "acceptance"), 1);
        assert_eq!(get(&out, d(4), ON_TIME, "acceptance"), 0);
    }

    #[test]
    fn the_delta_of_a_save_moves_only_what_changed() {
        let old = case();
        let mut new = old.clone();
        new.status = Status::InProgress;
        new.department = Some("ops".into());
        new.category = Some("refund".into());
        new.report.accepted_at = Some(t(3, 9));
        let d1 = delta(Some(&old), &new, SH);
        let sum = |metric: &str| -> i64 {
            d1.iter()
                .filter(|(k, _)| k.metric == metric)
                .map(|(_, n)| n)
                .sum()
        };
        // The filing moves under the new codes: −1 under none, +1 under ops.
        assert_eq!(sum(FILED), 0);
        assert!(
            d1.iter()
                .any(|(k, n)| k.metric == FILED && k.department == "ops" && *n == 1)
        );
        assert!(
            d1.iter()
                .any(|(k, n)| k.metric == FILED && k.department.is_empty() && *n == -1)
        );
        assert_eq!(sum(ACCEPTED), 1);
        assert!(delta(Some(&new), &new, SH).is_empty());
        // Applying every delta from nothing gives the contributions.
        let mut table: BTreeMap<RollupKey, i64> = BTreeMap::new();
        for (k, n) in delta(None, &old, SH).into_iter().chain(d1) {
            *table.entry(k).or_default() += n;
        }
        table.retain(|_, n| *n != 0);
        assert_eq!(table, contributions(&new, SH));
    }

    #[test]
    fn respondent_counters_are_kept_without_category() {
        let mut c = case();
        c.category = Some("refund".into());
        c.department = Some("ops".into());
        let out = contributions(&c, SH);
        for k in out.keys() {
            assert_eq!(k.department, "ops");
            if is_respondent_metric(k.metric) {
                assert_eq!(k.category, "", "{k:?}");
            } else {
                assert_eq!(k.category, "refund", "{k:?}");
            }
        }
        assert!(SUMMARY_METRICS.iter().all(|m| !is_respondent_metric(m)));
    }

    #[test]
    fn a_period_is_whole_months_and_edge_days() {
        let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        // Partial edges on both sides.
        assert_eq!(
            split_period(day(3, 15), day(6, 10)),
            Parts {
                months: Some((day(4, 1), day(5, 1))),
                days: vec![(day(3, 15), day(3, 31)), (day(6, 1), day(6, 10))],
            }
        );
        // Whole months only.
        assert_eq!(
            split_period(day(3, 1), day(4, 30)),
            Parts {
                months: Some((day(3, 1), day(4, 1))),
                days: vec![],
            }
        );
        // Inside one month, or across two without a whole one: days.
        assert_eq!(
            split_period(day(3, 2), day(3, 31)),
            Parts {
                months: None,
                days: vec![(day(3, 2), day(3, 31))],
            }
        );
        assert_eq!(
            split_period(day(3, 20), day(4, 10)),
            Parts {
                months: None,
                days: vec![(day(3, 20), day(4, 10))],
            }
        );
        // February of a leap year, from the first day to the last.
        let leap = |m: u32, d: u32| NaiveDate::from_ymd_opt(2028, m, d).unwrap();
        assert_eq!(
            split_period(leap(2, 1), leap(2, 29)).months,
            Some((leap(2, 1), leap(2, 1)))
        );
        assert_eq!(split_period(day(5, 1), day(4, 1)).days, vec![]);
        // Every day of a period is counted once.
        for (from, to) in [(day(1, 31), day(12, 1)), (day(2, 28), day(3, 1))] {
            let p = split_period(from, to);
            let mut n = 0;
            if let Some((a, b)) = p.months {
                let mut m = a;
                while m <= b {
                    let next = m.checked_add_months(chrono::Months::new(1)).unwrap();
                    n += (next - m).num_days();
                    m = next;
                }
            }
            for (a, b) in &p.days {
                n += (*b - *a).num_days() + 1;
            }
            assert_eq!(n, (to - from).num_days() + 1, "{from}..{to}");
        }
        let k = |d: NaiveDate| RollupKey {
            day: d,
            metric: FILED,
            department: String::new(),
            category: String::new(),
            dim: "web".into(),
        };
        assert_eq!(
            months_of(&[(k(day(3, 2)), 2), (k(day(3, 30)), 1), (k(day(4, 1)), -1)]),
            vec![(k(day(3, 1)), 3), (k(day(4, 1)), -1)]
        );
    }

    #[test]
    fn quantiles_from_buckets_are_within_five_percent() {
        let samples: Vec<f64> = (1..=997).map(|i| f64::from(i) * 0.731).collect();
        let mut h: BTreeMap<u32, i64> = BTreeMap::new();
        for s in &samples {
            *h.entry(bucket_of(*s)).or_default() += 1;
        }
        for q in [0.5, 0.9] {
            let exact = samples[((samples.len() - 1) as f64 * q).round() as usize];
            let got = quantile(&h, q).unwrap();
            assert!(
                (got - exact).abs() / exact <= 0.05,
                "q {q}: {got} vs {exact}"
            );
        }
        assert_eq!(quantile(&BTreeMap::new(), 0.5), None);
        assert_eq!(bucket_of(0.0), 0);
        assert_eq!(bucket_value(0), 0.0);
        for h in [0.01, 0.5, 7.0, 100.0, 5000.0] {
            let v = bucket_value(bucket_of(h));
            assert!((v - h).abs() / h <= 0.0489, "{h} → {v}");
        }
    }
}
