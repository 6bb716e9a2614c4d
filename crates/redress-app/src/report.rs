//! `GET /reports/summary`: the first figures of SPEC §10 — counts by
//! status, channel and category, acceptance rate, deadline compliance,
//! times to accept and decide, appeals and satisfaction.

use redress_domain::Reason;
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use redress_domain::{Closure, Role, Status};
use serde_json::{Value, json};

use crate::App;
use crate::access::Principal;
use crate::error::{AppError, AppResult};

fn median_p90(mut hours: Vec<f64>) -> Value {
    if hours.is_empty() {
        return json!({"median_hours": null, "p90_hours": null, "count": 0});
    }
    hours.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| hours[((hours.len() as f64 - 1.0) * q).round() as usize];
    json!({"median_hours": at(0.5), "p90_hours": at(0.9), "count": hours.len()})
}

fn share(part: u64, whole: u64) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!(part as f64 / whole as f64)
    }
}

/// `from`/`to` as dates (local midnight) or RFC 3339; default the last 30 days.
pub fn parse_period(
    app: &App,
    from: Option<&str>,
    to: Option<&str>,
) -> AppResult<(DateTime<Utc>, DateTime<Utc>)> {
    let mut errors = redress_domain::FieldErrors::new();
    let mut parse = |field: &str, raw: Option<&str>| -> Option<DateTime<Utc>> {
        let raw = raw.filter(|s| !s.is_empty())?;
        if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
            return Some(t.with_timezone(&Utc));
        }
        match chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            Ok(d) => {
                let cal = app.calendar();
                Some(cal.end_of_local_day(d.pred_opt().unwrap_or(d)))
            }
            Err(_) => {
                errors.add(field, Reason::DateOrTime);
                None
            }
        }
    };
    let now = app.now();
    let to_t = parse("to", to);
    let from_t = parse("from", from);
    errors.into_result()?;
    // A plain `to` date includes that whole day.
    let to_t = match (to, to_t) {
        (Some(raw), Some(t)) if chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").is_ok() => {
            t + Duration::days(1)
        }
        (_, Some(t)) => t,
        (_, None) => now,
    };
    let from_t = from_t.unwrap_or(to_t - Duration::days(30));
    if from_t >= to_t {
        return Err(AppError::invalid("from", Reason::BeforeTo));
    }
    Ok((from_t, to_t))
}

impl App {
    pub async fn report_summary(
        &self,
        who: &Principal,
        from: Option<&str>,
        to: Option<&str>,
    ) -> AppResult<Value> {
        let staff = who.staff()?;
        staff.require(Role::Supervisor)?;
        let (from, to) = parse_period(self, from, to)?;
        let rows = self.store.report_rows(from, to).await?;
        let now = self.now();
        let mut by_status: BTreeMap<String, u64> =
            Status::ALL.iter().map(|s| (s.to_string(), 0)).collect();
        let mut by_channel: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_category: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_closure: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_respondent: BTreeMap<String, u64> = BTreeMap::new();
        let (mut accepted, mut rejected) = (0u64, 0u64);
        let (mut acc_due, mut acc_ok, mut dec_due, mut dec_ok) = (0u64, 0u64, 0u64, 0u64);
        let (mut to_accept, mut to_decide, mut to_close) = (vec![], vec![], vec![]);
        let (mut decided, mut appealed, mut changed) = (0u64, 0u64, 0u64);
        let mut scores = vec![];
        for (channel, category, status, closure, respondent, f) in &rows {
            *by_status.entry(status.to_string()).or_default() += 1;
            *by_channel.entry(channel.to_string()).or_default() += 1;
            *by_category
                .entry(category.clone().unwrap_or_else(|| "(unclassified)".into()))
                .or_default() += 1;
            if let Some(c) = closure {
                *by_closure.entry(c.to_string()).or_default() += 1;
            }
            if let Some(r) = respondent {
                *by_respondent.entry(r.clone()).or_default() += 1;
            }
            if f.accepted_at.is_some() {
                accepted += 1;
            }
            if *closure == Some(Closure::Rejected) {
                rejected += 1;
            }
            // Deadline compliance: a stage counts once its deadline has
            // passed or the stage is done.
            if let Some(due) = f.acceptance_due_at {
                let done = f.accepted_at.or(if *closure == Some(Closure::Rejected) {
                    f.closed_at
                } else {
                    None
                });
                if done.is_some() || due <= now {
                    acc_due += 1;
                    if done.is_some_and(|d| d <= due) {
                        acc_ok += 1;
                    }
                }
            }
            if let Some(due) = f.handling_due_at
                && (f.decided_at.is_some() || due <= now)
            {
                dec_due += 1;
                if f.decided_at.is_some_and(|d| d <= due) {
                    dec_ok += 1;
                }
            }
            if let Some(c) = f.created_at {
                let hours = |t: DateTime<Utc>| (t - c).num_seconds() as f64 / 3600.0;
                to_accept.extend(f.accepted_at.map(hours));
                to_decide.extend(f.decided_at.map(hours));
                to_close.extend(f.closed_at.map(hours));
            }
            if f.decided_at.is_some() {
                decided += 1;
            }
            if f.appealed {
                appealed += 1;
            }
            if f.review_changed {
                changed += 1;
            }
            if let Some(s) = f.feedback_score {
                scores.push(f64::from(s));
            }
        }
        let mut top: Vec<(String, u64)> = by_respondent.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(10);
        let satisfaction = if scores.is_empty() {
            Value::Null
        } else {
            json!(scores.iter().sum::<f64>() / scores.len() as f64)
        };
        Ok(json!({
            "from": from,
            "to": to,
            "total": rows.len(),
            "by_status": by_status,
            "by_channel": by_channel,
            "by_category": by_category,
            "by_closure": by_closure,
            "acceptance_rate": share(accepted, accepted + rejected),
            "deadline_compliance": {
                "acceptance": {"due": acc_due, "on_time": acc_ok, "rate": share(acc_ok, acc_due)},
                "handling": {"due": dec_due, "on_time": dec_ok, "rate": share(dec_ok, dec_due)},
            },
            "time_to_accept": median_p90(to_accept),
            "time_to_decide": median_p90(to_decide),
            "time_to_close": median_p90(to_close),
            "appeal_rate": share(appealed, decided),
            "appeals_changed_share": share(changed, appealed),
            "satisfaction": {"average": satisfaction, "responses": scores.len()},
            "top_respondents": top.into_iter().map(|(k, n)| json!({"respondent": k, "count": n})).collect::<Vec<_>>(),
        }))
    }
}
