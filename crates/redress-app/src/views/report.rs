//! The period summary of `GET /reports/summary` (SPEC §10,
//! docs/reports.md), built by [`crate::report`] from the rollup table.
//!
//! As for the case views, the fields of every struct are declared in
//! alphabetical order, the order of the `json!` object the summary was
//! before (serde_json sorts its keys), so that the answer, the CLI's JSON
//! and the CSV stay the same byte for byte; the tests compare them with
//! the old builder (`old_report.rs`). A rate is null when its whole is
//! zero.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::report::Interval;

/// The figures of a period of whole local days.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReportSummary {
    /// `accepted / (accepted + rejected)`.
    pub acceptance_rate: Option<f64>,
    /// Cases accepted in the period.
    pub accepted: i64,
    /// `appealed / decided`.
    pub appeal_rate: Option<f64>,
    /// Appeals lodged in the period.
    pub appealed: i64,
    /// The share of reviews that changed the decision.
    pub appeals_changed_share: Option<f64>,
    /// Cases filed per category code; `(unclassified)` for those without.
    pub by_category: BTreeMap<String, i64>,
    /// Cases filed per channel.
    pub by_channel: BTreeMap<String, i64>,
    /// Cases filed per closure they have now (closed ones only).
    pub by_closure: BTreeMap<String, i64>,
    /// Cases filed per department code; `(unclassified)` for those
    /// without one or of a department no longer listed.
    pub by_department: BTreeMap<String, i64>,
    /// Cases filed per status they have now; every status is named.
    pub by_status: BTreeMap<String, i64>,
    /// The category the report is limited to.
    pub category: Option<String>,
    /// Each count minus the previous period's.
    pub change: CountChange,
    /// Cases closed in the period.
    pub closed: i64,
    /// Cases closed in the period per closure.
    pub closed_by_closure: BTreeMap<String, i64>,
    /// Deadlines that fell due in the period, per stage.
    pub deadline_compliance: DeadlineCompliance,
    /// Decisions made in the period.
    pub decided: i64,
    /// The department the report is limited to.
    pub department: Option<String>,
    /// The share of handling deadlines that were extended.
    pub extended_share: Option<f64>,
    /// The start of the first day.
    pub from: DateTime<Utc>,
    /// The first day.
    pub from_day: NaiveDate,
    /// How `series` divides the period.
    pub interval: Interval,
    /// The share of all stage deadlines met.
    pub on_time_rate: Option<f64>,
    /// Decisions made in the period per outcome; every outcome is named.
    pub outcomes: BTreeMap<String, i64>,
    /// The period of the same length just before, for the trend.
    pub previous: PreviousPeriod,
    /// Cases refused in the period.
    pub rejected: i64,
    pub reviews: Reviews,
    pub satisfaction: Satisfaction,
    /// One entry per interval of the period, in time order.
    pub series: Vec<SeriesEntry>,
    pub time_to_accept: Histogram,
    pub time_to_close: Histogram,
    pub time_to_decide: Histogram,
    /// The installation's time zone, in which the days are counted.
    pub time_zone: String,
    /// The end of the last day.
    pub to: DateTime<Utc>,
    /// The last day.
    pub to_day: NaiveDate,
    /// The respondents with the most cases filed, most first (at most
    /// 10; none in a report of one category).
    pub top_respondents: Vec<TopRespondent>,
    /// Cases filed in the period.
    pub total: i64,
}

/// The counts a series entry and the previous period carry (and whose
/// integers `change` compares). Not itself part of the answer: each
/// carrier declares them among its own fields, in alphabetical order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MainCounts {
    pub acceptance_rate: Option<f64>,
    pub accepted: i64,
    pub appealed: i64,
    pub closed: i64,
    pub decided: i64,
    pub filed: i64,
    pub on_time_rate: Option<f64>,
    pub rejected: i64,
    pub stages_due: i64,
    pub stages_on_time: i64,
}

/// One interval of the series (the first and last clipped to the period).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SeriesEntry {
    pub acceptance_rate: Option<f64>,
    pub accepted: i64,
    pub appealed: i64,
    pub closed: i64,
    pub decided: i64,
    /// The interval's last day.
    pub end: NaiveDate,
    pub filed: i64,
    pub on_time_rate: Option<f64>,
    pub rejected: i64,
    pub stages_due: i64,
    pub stages_on_time: i64,
    /// The interval's first day.
    pub start: NaiveDate,
}

impl SeriesEntry {
    pub fn new(start: NaiveDate, end: NaiveDate, c: MainCounts) -> Self {
        Self {
            acceptance_rate: c.acceptance_rate,
            accepted: c.accepted,
            appealed: c.appealed,
            closed: c.closed,
            decided: c.decided,
            end,
            filed: c.filed,
            on_time_rate: c.on_time_rate,
            rejected: c.rejected,
            stages_due: c.stages_due,
            stages_on_time: c.stages_on_time,
            start,
        }
    }
}

/// The main counts of the period just before.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PreviousPeriod {
    pub acceptance_rate: Option<f64>,
    pub accepted: i64,
    pub appealed: i64,
    pub closed: i64,
    pub decided: i64,
    pub filed: i64,
    /// Its first day.
    pub from_day: NaiveDate,
    pub on_time_rate: Option<f64>,
    pub rejected: i64,
    pub stages_due: i64,
    pub stages_on_time: i64,
    /// Its last day.
    pub to_day: NaiveDate,
}

impl PreviousPeriod {
    pub fn new(from_day: NaiveDate, to_day: NaiveDate, c: MainCounts) -> Self {
        Self {
            acceptance_rate: c.acceptance_rate,
            accepted: c.accepted,
            appealed: c.appealed,
            closed: c.closed,
            decided: c.decided,
            filed: c.filed,
            from_day,
            on_time_rate: c.on_time_rate,
            rejected: c.rejected,
            stages_due: c.stages_due,
            stages_on_time: c.stages_on_time,
            to_day,
        }
    }
}

/// The integer main counts of the period minus the previous period's.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CountChange {
    pub accepted: i64,
    pub appealed: i64,
    pub closed: i64,
    pub decided: i64,
    pub filed: i64,
    pub rejected: i64,
    pub stages_due: i64,
    pub stages_on_time: i64,
}

impl CountChange {
    pub fn between(now: &MainCounts, before: &MainCounts) -> Self {
        Self {
            accepted: now.accepted - before.accepted,
            appealed: now.appealed - before.appealed,
            closed: now.closed - before.closed,
            decided: now.decided - before.decided,
            filed: now.filed - before.filed,
            rejected: now.rejected - before.rejected,
            stages_due: now.stages_due - before.stages_due,
            stages_on_time: now.stages_on_time - before.stages_on_time,
        }
    }
}

/// Deadline compliance per stage.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DeadlineCompliance {
    pub acceptance: StageCompliance,
    pub handling: StageCompliance,
    pub review: StageCompliance,
    pub supplement: StageCompliance,
}

impl DeadlineCompliance {
    /// The stages by name, in the order of a case.
    pub fn stages(&self) -> [(&'static str, &StageCompliance); 4] {
        [
            ("acceptance", &self.acceptance),
            ("supplement", &self.supplement),
            ("handling", &self.handling),
            ("review", &self.review),
        ]
    }
}

/// The deadlines of one stage that fell due in the period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StageCompliance {
    pub due: i64,
    /// Of those due, how many had been extended.
    pub extended: i64,
    /// `due - on_time`.
    pub missed: i64,
    pub on_time: i64,
    /// `on_time / due`.
    pub rate: Option<f64>,
}

/// A duration's distribution, from 5 %-wide buckets; the quantiles in
/// hours to 0.01, null without cases.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Histogram {
    pub count: i64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

/// Reviews concluded in the period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Reviews {
    pub modified: i64,
    pub total: i64,
    pub upheld: i64,
}

/// Complainants' feedback given in the period (scores 1 to 5).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Satisfaction {
    /// The average score; null without responses.
    pub average: Option<f64>,
    pub responses: i64,
}

/// A respondent and the cases filed against it in the period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TopRespondent {
    pub count: i64,
    /// The respondent's key (`kind:id`).
    pub respondent: String,
}
