//! The scheduled report (issue 16): once a week (or month) the report of
//! the last whole period is mailed to every supervisor with an address,
//! with the HTML report and the CSV attached. Each period's mailing is
//! recorded (`claim_mailing`) before it leaves, so that it leaves once
//! across restarts and instances; a mailing that could not be recorded
//! is not sent, and one whose sending failed is not retried (the figures
//! stay on the reports page, from which the same files download).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use redress_domain::{Locale, NoticeKind, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::App;
use crate::error::AppResult;
use crate::outbound::{Attachment, Outgoing};
use crate::report::{ReportParams, summary_csv, summary_html};
use crate::views::ReportSummary;

/// How often the report is mailed (setting `scheduled_report.every`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Every {
    /// Monday to Sunday, mailed on Monday.
    #[default]
    Week,
    /// A calendar month, mailed on the first.
    Month,
    Off,
}

/// The schedule (settings `scheduled_report.every`, `.hour`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportSchedule {
    pub every: Every,
    /// The local hour (0–23) from which the report of the period that
    /// just ended is mailed.
    pub hour: u32,
}

impl Default for ReportSchedule {
    fn default() -> Self {
        Self {
            every: Every::Week,
            hour: 8,
        }
    }
}

impl ReportSchedule {
    /// The schedule, or what is wrong with it (`redress serve` refuses to
    /// start).
    pub fn checked(self) -> Result<Self, String> {
        if self.hour > 23 {
            return Err(format!(
                "scheduled_report.hour must be from 0 to 23, not {}",
                self.hour
            ));
        }
        Ok(self)
    }

    /// The period whose report is due at local time `now` (both days
    /// included): the last whole week or month, once the period after it
    /// reached its first day's `hour`; `None` before that hour, or when
    /// the schedule is off.
    pub fn due_period(&self, now: chrono::NaiveDateTime) -> Option<(NaiveDate, NaiveDate)> {
        let today = now.date();
        let start = match self.every {
            Every::Off => return None,
            Every::Week => {
                today - Duration::days(i64::from(today.weekday().num_days_from_monday()))
            }
            Every::Month => today.with_day(1)?,
        };
        let hour = NaiveTime::from_hms_opt(self.hour, 0, 0)?;
        if now < start.and_time(hour) {
            return None;
        }
        let last = start - Duration::days(1);
        let first = match self.every {
            Every::Week => start - Duration::days(7),
            _ => last.with_day(1)?,
        };
        Some((first, last))
    }

    fn kind(&self) -> &'static str {
        match self.every {
            Every::Week => "report:week",
            Every::Month => "report:month",
            Every::Off => "report:off",
        }
    }
}

/// A share as a percentage, or "—".
fn percent(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0))
        .unwrap_or_else(|| "—".into())
}

impl App {
    /// Mails the report of the period that is due, unless it was mailed
    /// already; true when this call mailed it.
    pub async fn mail_scheduled_report(&self, now: DateTime<Utc>) -> AppResult<bool> {
        let schedule = self.config.report_schedule;
        if self.config.senders.email.is_none() {
            return Ok(false);
        }
        let local = now.with_timezone(&self.config.time_zone).naive_local();
        let Some((from, to)) = schedule.due_period(local) else {
            return Ok(false);
        };
        let to_addresses = self.staff_emails(Role::Supervisor).await?;
        if to_addresses.is_empty() {
            return Ok(false);
        }
        if !self.store.claim_mailing(schedule.kind(), from, now).await? {
            return Ok(false);
        }
        let params = ReportParams {
            from: Some(from.to_string()),
            to: Some(to.to_string()),
            ..ReportParams::default()
        };
        let (q, interval) = self.report_query(&params).await?;
        let summary = self.summary_of(&q, interval).await?;
        let message = self.report_message(&summary, schedule.every, from, to);
        self.send_to_all(to_addresses, message).await;
        Ok(true)
    }

    /// The mail of one period's report: headline figures in both
    /// languages, a link to the page, the HTML and CSV attached.
    fn report_message(
        &self,
        v: &ReportSummary,
        every: Every,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Outgoing {
        let (zh, en) = match every {
            Every::Month => ("月报", "Monthly"),
            _ => ("周报", "Weekly"),
        };
        let link = format!(
            "{}/staff/reports?from={from}&to={to}",
            self.config.public_url.trim_end_matches('/')
        );
        let body = format!(
            "{from} 至 {to} 的投诉处理{zh}：\n\
             收到投诉 {filed} 件，受理 {accepted} 件，不予受理 {rejected} 件，作出处理结果 {decided} 件，结案 {closed} 件；\n\
             各环节按时率 {on_time}，申诉率 {appeal}，复核改变率 {changed}。\n\
             完整报表见附件（HTML 与 CSV），或打开：{link}\n\n\
             {en} complaints report, {from} to {to}:\n\
             {filed} filed, {accepted} accepted, {rejected} refused, {decided} decided, {closed} closed;\n\
             deadlines met {on_time}, appeal rate {appeal}, changed on review {changed}.\n\
             The full report is attached (HTML and CSV), or open: {link}\n",
            filed = v.total,
            accepted = v.accepted,
            rejected = v.rejected,
            decided = v.decided,
            closed = v.closed,
            on_time = percent(v.on_time_rate),
            appeal = percent(v.appeal_rate),
            changed = percent(v.appeals_changed_share),
        );
        let stem = format!("report-{from}-{to}");
        Outgoing {
            delivery_id: Uuid::now_v7().to_string(),
            case_id: Uuid::nil(),
            to: String::new(),
            notice: NoticeKind::Escalation,
            tracking_no: String::new(),
            subject: format!(
                "【投诉处理{zh}】{from} 至 {to} / {en} complaints report {from} – {to}"
            ),
            body,
            locale: Locale::ZhCn,
            reply_to: None,
            attachments: vec![
                Attachment {
                    filename: format!("{stem}.html"),
                    content_type: "text/html; charset=utf-8".into(),
                    bytes: summary_html(v).into_bytes(),
                },
                Attachment {
                    filename: format!("{stem}.csv"),
                    content_type: "text/csv; charset=utf-8".into(),
                    bytes: summary_csv(v).into_bytes(),
                },
            ],
        }
    }

    /// Sends one message to each address (each its own delivery id),
    /// logging what failed.
    async fn send_to_all(&self, to: Vec<String>, message: Outgoing) {
        let Some(sender) = self.config.senders.email.clone() else {
            return;
        };
        for address in to {
            let one = Outgoing {
                delivery_id: Uuid::now_v7().to_string(),
                to: address,
                ..message.clone()
            };
            let outcome = sender.send(&one).await;
            if !matches!(outcome, redress_domain::SendOutcome::Sent { .. }) {
                tracing::warn!(
                    ?outcome,
                    "the scheduled report was not sent to a supervisor"
                );
                metrics::counter!("redress_scheduled_report_failures_total").increment(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> chrono::NaiveDateTime {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_last_whole_week_is_due_from_monday_at_the_hour() {
        let weekly = ReportSchedule::default();
        // Monday 2026-12-07: not before 08:00, then the week before.
        assert_eq!(weekly.due_period(at("2026-12-07 07:59")), None);
        let week = Some((day("2026-11-30"), day("2026-12-06")));
        assert_eq!(weekly.due_period(at("2026-12-07 08:00")), week);
        assert_eq!(weekly.due_period(at("2026-12-13 23:59")), week);
        assert_eq!(
            weekly.due_period(at("2026-12-14 09:00")),
            Some((day("2026-12-07"), day("2026-12-13")))
        );
    }

    #[test]
    fn the_last_whole_month_is_due_from_the_first_at_the_hour() {
        let monthly = ReportSchedule {
            every: Every::Month,
            hour: 0,
        };
        assert_eq!(
            monthly.due_period(at("2027-03-01 00:00")),
            Some((day("2027-02-01"), day("2027-02-28")))
        );
        assert_eq!(
            monthly.due_period(at("2027-01-15 12:00")),
            Some((day("2026-12-01"), day("2026-12-31")))
        );
        let off = ReportSchedule {
            every: Every::Off,
            hour: 8,
        };
        assert_eq!(off.due_period(at("2027-01-15 12:00")), None);
        assert!(
            ReportSchedule {
                hour: 24,
                ..monthly
            }
            .checked()
            .is_err()
        );
    }
}
