//! The public transparency figures (SPEC §10): `GET /public/stats` and the
//! page `/transparency`. Monthly figures for anyone, answered from the
//! report rollups (`redress_store::rollup`, docs/reports.md) in one query
//! per request, never from the case rows; no personal data, and a figure
//! whose base is fewer than [`MIN_CASES`] is suppressed (docs/reports.md,
//! "Public figures").

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, Months, NaiveDate};
use redress_domain::{Outcome, Reason};
use redress_store::rollup::{self, RollupQuery, RollupSum};
use serde::Serialize;

use crate::App;
use crate::error::{AppError, AppResult};
use crate::report::{Sums, parse_days};

/// The smallest base a public figure is shown from.
pub const MIN_CASES: i64 = 10;

/// The longest period the public figures cover, in months.
pub const MAX_MONTHS: usize = 60;

/// The metrics the public figures read.
const METRICS: [&str; 8] = [
    rollup::FILED,
    rollup::ACCEPTED,
    rollup::REJECTED,
    rollup::DECIDED,
    rollup::DUE,
    rollup::ON_TIME,
    rollup::REVIEWED,
    rollup::HOURS_TO_DECIDE,
];

/// One public figure: `value` is null and `suppressed` true when its base
/// (the cases it is drawn from) is under [`MIN_CASES`], including none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figure<T> {
    pub value: Option<T>,
    pub suppressed: bool,
}

impl<T> Figure<T> {
    fn from_base(base: i64, value: impl FnOnce() -> Option<T>) -> Figure<T> {
        if base < MIN_CASES {
            Figure {
                value: None,
                suppressed: true,
            }
        } else {
            let value = value();
            Figure {
                suppressed: value.is_none(),
                value,
            }
        }
    }
}

fn count(n: i64) -> Figure<i64> {
    Figure::from_base(n, || Some(n))
}

fn rate(part: i64, whole: i64) -> Figure<f64> {
    Figure::from_base(whole, || {
        Some((part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
    })
}

/// Decisions of the month by outcome; each count shown only from 10.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicOutcomes {
    pub upheld: Figure<i64>,
    pub partially_upheld: Figure<i64>,
    pub not_upheld: Figure<i64>,
    pub settled: Figure<i64>,
}

/// The figures of one calendar month (clipped to the period).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    /// Cases filed.
    pub filed: Figure<i64>,
    /// Accepted / (accepted + refused), of the intake decisions made.
    pub acceptance_rate: Figure<f64>,
    /// Stage deadlines met / stage deadlines counted (all stages).
    pub on_time_rate: Figure<f64>,
    /// Median hours from filing to decision (of the decisions made).
    pub median_hours_to_decide: Figure<f64>,
    pub outcomes: PublicOutcomes,
    /// Reviews that changed the result / reviews decided.
    pub appeals_changed_share: Figure<f64>,
}

/// The answer of `GET /public/stats`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicStats {
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    pub time_zone: String,
    /// The smallest base a figure is shown from (10).
    pub min_cases: i64,
    pub months: Vec<PublicMonth>,
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn next_month(d: NaiveDate) -> NaiveDate {
    let first = month_start(d);
    first
        .checked_add_months(Months::new(1))
        .unwrap_or(first + Duration::days(31))
}

impl PublicMonth {
    fn of(start: NaiveDate, end: NaiveDate, s: &Sums) -> PublicMonth {
        let (accepted, rejected) = (s.total(rollup::ACCEPTED), s.total(rollup::REJECTED));
        // Each case counts at most once per stage, so the largest count of
        // one stage is a floor of the cases behind the on-time rate.
        let stage_cases = s.dims(rollup::DUE).values().copied().max().unwrap_or(0);
        let hist: BTreeMap<u32, i64> = s
            .dims(rollup::HOURS_TO_DECIDE)
            .into_iter()
            .filter_map(|(b, n)| Some((b.parse().ok()?, n)))
            .collect();
        let decided_count: i64 = hist.values().sum();
        let outcome = |o: Outcome| count(s.get(rollup::DECIDED, &o.to_string()));
        PublicMonth {
            month: start.format("%Y-%m").to_string(),
            from_day: start,
            to_day: end,
            filed: count(s.total(rollup::FILED)),
            acceptance_rate: rate(accepted, accepted + rejected),
            on_time_rate: Figure::from_base(stage_cases, || {
                let due = s.total(rollup::DUE);
                (due > 0).then(|| {
                    (s.total(rollup::ON_TIME) as f64 / due as f64 * 10_000.0).round() / 10_000.0
                })
            }),
            median_hours_to_decide: Figure::from_base(decided_count, || {
                rollup::quantile(&hist, 0.5).map(|h| (h * 10.0).round() / 10.0)
            }),
            outcomes: PublicOutcomes {
                upheld: outcome(Outcome::Upheld),
                partially_upheld: outcome(Outcome::PartiallyUpheld),
                not_upheld: outcome(Outcome::NotUpheld),
                settled: outcome(Outcome::Settled),
            },
            appeals_changed_share: rate(
                s.get(rollup::REVIEWED, "modified"),
                s.total(rollup::REVIEWED),
            ),
        }
    }
}

impl App {
    /// The public figures of `from`–`to` (dates or RFC 3339, as for
    /// reports), month by month. Default: the last 12 whole months; with
    /// only `to`, the 12 months ending with it. Anyone may ask.
    pub async fn public_stats(
        &self,
        from: Option<&str>,
        to: Option<&str>,
    ) -> AppResult<PublicStats> {
        let given = |s: Option<&str>| s.is_some_and(|s| !s.trim().is_empty());
        let (from_d, to_d) = if !given(from) && !given(to) {
            let this_month = month_start(self.calendar().local_date(self.now()));
            let to_d = this_month - Duration::days(1);
            (month_start(to_d) - Months::new(11), to_d)
        } else {
            let (f, t) = parse_days(self, from, to)?;
            if given(from) {
                (f, t)
            } else {
                let f = month_start(t) - Months::new(11);
                (f, t)
            }
        };
        let mut starts = Vec::new();
        let mut start = from_d;
        while start <= to_d {
            starts.push(start);
            start = next_month(start);
        }
        if starts.len() > MAX_MONTHS {
            return Err(AppError::invalid(
                "from",
                Reason::DateBetween {
                    from: (month_start(to_d) - Months::new(MAX_MONTHS as u32 - 1)).to_string(),
                    to: to_d.to_string(),
                },
            ));
        }
        let rows = self
            .store
            .report_rollup(&RollupQuery {
                from: from_d,
                to: to_d,
                department: None,
                category: None,
                metrics: METRICS.to_vec(),
                group: rollup::Group::Month,
            })
            .await?;
        let mut per: BTreeMap<NaiveDate, Vec<RollupSum>> = BTreeMap::new();
        for r in rows {
            if let Some(d) = r.day {
                per.entry(month_start(d).max(from_d)).or_default().push(r);
            }
        }
        let months = starts
            .into_iter()
            .map(|start| {
                let end = (next_month(start) - Duration::days(1)).min(to_d);
                let sums = Sums::of(per.get(&start).map(Vec::as_slice).unwrap_or(&[]));
                PublicMonth::of(start, end, &sums)
            })
            .collect();
        Ok(PublicStats {
            from_day: from_d,
            to_day: to_d,
            time_zone: self.config.time_zone.name().to_string(),
            min_cases: MIN_CASES,
            months,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_under_ten_is_suppressed() {
        assert_eq!(
            count(9),
            Figure {
                value: None,
                suppressed: true
            }
        );
        assert_eq!(count(0).value, None);
        assert_eq!(count(10).value, Some(10));
        assert!(!count(10).suppressed);
        assert_eq!(rate(9, 9).value, None);
        assert_eq!(rate(5, 10).value, Some(0.5));
    }
}
