//! The typed period summary serialises to the same bytes as the `json!`
//! builder it replaced (`old_report.rs`), compact and pretty (the CLI),
//! and its CSV and HTML are the same text: for an empty period and for
//! periods with counts, rates that are null, series of several entries
//! (days, weeks, months, clipped at both ends) and top respondents.

use chrono::NaiveDate;
use redress_domain::Calendar;
use redress_store::rollup::{self, Group, RollupQuery, RollupSum};

use super::old_report;
use crate::report::{Interval, SummaryInput, summary, summary_csv, summary_html};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn row(metric: &str, category: &str, dim: &str, n: i64) -> RollupSum {
    RollupSum {
        day: None,
        metric: metric.into(),
        category: category.into(),
        dim: dim.into(),
        n,
    }
}

fn on(d: &str, metric: &str, dim: &str, n: i64) -> RollupSum {
    RollupSum {
        day: Some(day(d)),
        ..row(metric, "", dim, n)
    }
}

fn query(from: &str, to: &str, department: Option<&str>, category: Option<&str>) -> RollupQuery {
    RollupQuery {
        from: day(from),
        to: day(to),
        department: department.map(str::to_string),
        category: category.map(str::to_string),
        metrics: Vec::new(),
        group: Group::Period,
    }
}

/// A period with a bit of everything; some stages without deadlines
/// (null rates), no closures timed (null hours).
fn busy() -> SummaryInput {
    use rollup::*;
    SummaryInput {
        sums: vec![
            row(FILED, "", "web", 3),
            row(FILED, "refunds", "email", 2),
            row(FILED, "refunds", "web", 1),
            row(FILED_STATUS, "", "submitted", 2),
            row(FILED_STATUS, "", "closed", 4),
            row(FILED_CLOSURE, "", "resolved", 3),
            row(FILED_CLOSURE, "", "rejected", 1),
            row(ACCEPTED, "", "", 5),
            row(REJECTED, "", "", 1),
            row(DECIDED, "", "upheld", 2),
            row(DECIDED, "", "", 1),
            row(DECIDED, "", "settled", 1),
            row(CLOSED, "", "resolved", 3),
            row(DUE, "", "acceptance", 6),
            row(DUE, "", "handling", 3),
            row(ON_TIME, "", "acceptance", 5),
            row(ON_TIME, "", "handling", 1),
            row(EXTENDED, "", "handling", 2),
            row(APPEALED, "", "", 1),
            row(REVIEWED, "", "modified", 1),
            row(REVIEWED, "", "upheld", 2),
            row(FEEDBACK, "", "", 3),
            row(FEEDBACK_SCORE, "", "", 11),
            row(HOURS_TO_ACCEPT, "", "3", 2),
            row(HOURS_TO_ACCEPT, "", "10", 1),
            row(HOURS_TO_ACCEPT, "", "17", 4),
            row(HOURS_TO_DECIDE, "", "40", 1),
        ],
        departments: [("customer-service".to_string(), 4)].into_iter().collect(),
        top: vec![
            ("merchant:m-1".into(), 3),
            ("company:a,b".into(), 2),
            ("person:=x".into(), 1),
        ],
        series: vec![
            // A month's row (the monthly counters) before the period.
            on("2026-02-01", FILED, "web", 2),
            on("2026-02-26", FILED, "web", 1),
            on("2026-02-26", ACCEPTED, "", 1),
            on("2026-03-02", FILED, "email", 2),
            on("2026-03-02", REJECTED, "", 1),
            on("2026-03-02", DUE, "acceptance", 3),
            on("2026-03-02", ON_TIME, "acceptance", 2),
            on("2026-03-09", DECIDED, "upheld", 1),
            on("2026-03-09", CLOSED, "resolved", 1),
            on("2026-03-09", APPEALED, "", 1),
            on("2026-03-01", FILED, "web", 1),
        ],
        previous: vec![
            row(FILED, "", "web", 4),
            row(ACCEPTED, "", "", 2),
            row(REJECTED, "", "", 2),
            row(DUE, "", "acceptance", 4),
            row(ON_TIME, "", "acceptance", 4),
        ],
    }
}

fn same(q: &RollupQuery, interval: Interval, input: SummaryInput) {
    let cal = Calendar::new(chrono_tz::Asia::Shanghai);
    let new = summary(&cal, "Asia/Shanghai", q, interval, input.clone());
    let old = old_report::summary(&cal, "Asia/Shanghai", q, interval, input);
    assert_eq!(
        serde_json::to_string(&new).unwrap(),
        serde_json::to_string(&old).unwrap()
    );
    assert_eq!(
        serde_json::to_string_pretty(&new).unwrap(),
        serde_json::to_string_pretty(&old).unwrap()
    );
    assert_eq!(summary_csv(&new), old_report::summary_csv(&old));
    let html = summary_html(&new);
    let title = format!(
        "<title>redress report {} – {}</title>",
        old["from_day"].as_str().unwrap(),
        old["to_day"].as_str().unwrap()
    );
    assert!(html.contains(&title), "{html}");
}

#[test]
fn an_empty_period_is_the_old_json() {
    for interval in [Interval::Day, Interval::Week, Interval::Month] {
        same(
            &query("2026-03-01", "2026-03-31", None, None),
            interval,
            SummaryInput::default(),
        );
        same(
            &query("2026-03-04", "2026-03-04", None, Some("refunds")),
            interval,
            SummaryInput::default(),
        );
    }
}

#[test]
fn a_busy_period_is_the_old_json() {
    for interval in [Interval::Day, Interval::Week, Interval::Month] {
        same(
            &query("2026-02-25", "2026-03-10", Some("customer-service"), None),
            interval,
            busy(),
        );
        same(
            &query("2025-12-20", "2026-04-02", None, Some("refunds")),
            interval,
            SummaryInput {
                top: Vec::new(),
                departments: Default::default(),
                ..busy()
            },
        );
    }
}

#[test]
fn the_csv_flattens_every_figure() {
    let cal = Calendar::new(chrono_tz::Asia::Shanghai);
    let s = summary(
        &cal,
        "Asia/Shanghai",
        &query("2026-03-02", "2026-03-03", None, None),
        Interval::Day,
        busy(),
    );
    let csv = summary_csv(&s);
    assert!(csv.starts_with("\u{feff}figure,key,value\r\n"));
    assert!(csv.contains("total,,6\r\n"));
    assert!(csv.contains("by_channel,web,4\r\n"));
    assert!(csv.contains("deadline_compliance.acceptance,rate,0.8333333333333334\r\n"));
    assert!(csv.contains("deadline_compliance.review,rate,\r\n"));
    assert!(csv.contains("top_respondents,\"company:a,b\",2\r\n"));
    assert!(csv.contains("top_respondents,person:=x,1\r\n"));
    assert!(csv.contains("series.2026-03-02,filed,6\r\n"));
    assert!(csv.contains("series.2026-03-02,end,2026-03-02\r\n"));
    assert!(csv.contains("department,,\r\n"));
    assert!(csv.contains("interval,,day\r\n"));
}
