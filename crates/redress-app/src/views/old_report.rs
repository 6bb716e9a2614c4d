//! The `json!` builder of the period summary and the CSV of it that the
//! typed [`super::ReportSummary`] replaced, kept for the tests only: the
//! summary must serialise to the same bytes, its CSV and HTML be the
//! same text.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use redress_domain::{Calendar, Outcome, Status};
use redress_store::rollup::{self, ReportStage, RollupQuery, RollupSum};
use serde_json::{Map, Value, json};

use crate::report::{Interval, SummaryInput, Sums};

fn share(part: i64, whole: i64) -> Value {
    if whole <= 0 {
        Value::Null
    } else {
        json!(part as f64 / whole as f64)
    }
}

fn hours(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |h| json!((h * 100.0).round() / 100.0))
}

fn histogram(s: &Sums, metric: &str) -> Value {
    let h: BTreeMap<u32, i64> = s
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

fn on_time_rate(s: &Sums) -> Value {
    share(s.total(rollup::ON_TIME), s.total(rollup::DUE))
}

fn main_counts(s: &Sums) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("filed".into(), json!(s.total(rollup::FILED)));
    for metric in [
        rollup::ACCEPTED,
        rollup::REJECTED,
        rollup::DECIDED,
        rollup::CLOSED,
        rollup::APPEALED,
    ] {
        m.insert(metric.into(), json!(s.total(metric)));
    }
    m.insert("stages_due".into(), json!(s.total(rollup::DUE)));
    m.insert("stages_on_time".into(), json!(s.total(rollup::ON_TIME)));
    m.insert("on_time_rate".into(), on_time_rate(s));
    m.insert(
        "acceptance_rate".into(),
        share(
            s.total(rollup::ACCEPTED),
            s.total(rollup::ACCEPTED) + s.total(rollup::REJECTED),
        ),
    );
    m
}

fn unclassified(mut counted: BTreeMap<String, i64>, total: i64) -> BTreeMap<String, i64> {
    let sum: i64 = counted.values().sum();
    if total - sum > 0 {
        counted.insert("(unclassified)".to_string(), total - sum);
    }
    counted
}

fn series(rows: Vec<RollupSum>, q: &RollupQuery, interval: Interval) -> Vec<Value> {
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
        entry.extend(main_counts(&sums));
        out.push(Value::Object(entry));
        start = next;
    }
    out
}

pub fn summary(
    cal: &Calendar,
    time_zone: &str,
    q: &RollupQuery,
    interval: Interval,
    input: SummaryInput,
) -> Value {
    let len = (q.to - q.from).num_days() + 1;
    let prev_q = RollupQuery {
        from: q.from - Duration::days(len),
        to: q.from - Duration::days(1),
        ..q.clone()
    };
    let SummaryInput {
        sums,
        departments,
        top,
        series: series_rows,
        previous: prev,
    } = input;
    let series = series(series_rows, q, interval);
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
    let now_counts = main_counts(&s);
    let prev_counts = main_counts(&prev);
    let mut change = Map::new();
    for (k, v) in &now_counts {
        if let (Some(a), Some(b)) = (v.as_i64(), prev_counts.get(k).and_then(Value::as_i64)) {
            change.insert(k.clone(), json!(a - b));
        }
    }
    let mut previous = prev_counts;
    previous.insert("from_day".into(), json!(prev_q.from));
    previous.insert("to_day".into(), json!(prev_q.to));
    json!({
        "from": cal.start_of_local_day(q.from),
        "to": cal.end_of_local_day(q.to),
        "from_day": q.from,
        "to_day": q.to,
        "time_zone": time_zone,
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
        "on_time_rate": on_time_rate(&s),
        "extended_share": share(
            s.get(rollup::EXTENDED, "handling"),
            s.get(rollup::DUE, "handling")
        ),
        "outcomes": outcomes,
        "time_to_accept": histogram(&s, rollup::HOURS_TO_ACCEPT),
        "time_to_decide": histogram(&s, rollup::HOURS_TO_DECIDE),
        "time_to_close": histogram(&s, rollup::HOURS_TO_CLOSE),
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
    })
}

/// The CSV of the old summary, by string path.
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

fn flatten(prefix: &str, m: &Map<String, Value>, line: &mut impl FnMut(&str, &str, &Value)) {
    for (k, x) in m {
        match x {
            Value::Object(inner) => flatten(&format!("{prefix}.{k}"), inner, line),
            _ => line(prefix, k, x),
        }
    }
}

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
