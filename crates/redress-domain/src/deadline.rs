//! The clock of a case's current stage (SPEC §4): when it started, how long
//! it runs, what moved it (extensions, pauses, calendar edits), and the
//! reminders and escalations it raises as it runs out.
//!
//! The due instant is always *derived*: `start + length` on the calendar,
//! then the working days added by extensions and pauses. Keeping the basis
//! instead of only the result is what lets an edit of the calendar move the
//! open deadlines it affects, and lets a pause give back exactly the
//! working days it took.
//!
//! Alerts are keyed (`reminder:50`, `escalation:1`, and `overdue:<local
//! date>` for the daily reminders, so that a deadline moving while still
//! past neither repeats nor skips a day) and the
//! keys already sent are kept on the clock, in the same versioned save as
//! the events that announce them; a second sweep, a restart or a second
//! instance therefore finds them sent and sends nothing again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::policy::{AlertPolicy, EscalationStep, Level};

/// The stages of SPEC §4 that run a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The acceptance decision after submission or supplement (intake's duty).
    Acceptance,
    /// The complainant's supplement after a request for material.
    Supplement,
    /// Handling after acceptance (the handler's duty).
    Handling,
    /// The complainant's appeal window after the result notice.
    Appeal,
    /// The review decision after an appeal (the reviewer's duty).
    Review,
}

impl Stage {
    /// Whether staff owe something by the deadline (so it can be paused,
    /// reminded, escalated and shown overdue).
    pub fn is_staff_duty(self) -> bool {
        matches!(self, Stage::Acceptance | Stage::Handling | Stage::Review)
    }
}

/// How a stage's length is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    WorkingDays,
    CalendarDays,
    /// Working hours (within the calendar's working hours, when it has
    /// them): a deadline at a time of day rather than at 24:00.
    WorkingHours,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub since: DateTime<Utc>,
    pub reason: String,
    pub by: String,
}

/// The running clock of the current stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageClock {
    pub stage: Stage,
    pub started_at: DateTime<Utc>,
    pub unit: Unit,
    /// The stage's length in `unit`s when it started.
    #[serde(alias = "days")]
    pub length: u32,
    /// Set by an extension to a date: from then on the due instant is that
    /// date (plus later pauses), whatever the calendar says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_due: Option<DateTime<Utc>>,
    /// Working days added by extensions given in days.
    #[serde(default)]
    pub extension_days: u32,
    /// Working days given back by ended pauses.
    #[serde(default)]
    pub paused_days: u32,
    /// Working seconds given back by ended pauses (clocks in working hours).
    #[serde(default)]
    pub paused_seconds: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Pause>,
    /// The derived due instant (kept so that reads need no calendar).
    pub due_at: DateTime<Utc>,
    /// Alert keys already sent (or superseded) for this clock.
    #[serde(default)]
    pub alerts: Vec<String>,
}

/// Who an alert goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The assignee; without one, the pool that owns the stage (intake for
    /// acceptance, the department otherwise).
    Responsible,
    /// The head of the case's department.
    Head,
    /// The supervisors.
    Supervisors,
}

impl From<Level> for Recipient {
    fn from(level: Level) -> Self {
        match level {
            Level::Responsible => Recipient::Responsible,
            Level::Head => Recipient::Head,
            Level::Supervisors => Recipient::Supervisors,
        }
    }
}

/// What an alert says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertKind {
    /// `percent` of the stage's working time has passed.
    Share { percent: u32 },
    /// The deadline passed `working_days` whole working days ago (0: just now).
    Overdue { working_days: u32 },
    /// Escalation step `step` (0-based) of the configured ladder.
    Escalation { step: usize, to: Recipient },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub key: String,
    pub at: DateTime<Utc>,
    pub kind: AlertKind,
}

impl Alert {
    pub fn recipient(&self) -> Recipient {
        match self.kind {
            AlertKind::Escalation { to, .. } => to,
            _ => Recipient::Responsible,
        }
    }
}

/// What [`StageClock::take_alerts`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AlertBatch {
    /// To send now, in time order.
    pub send: Vec<Alert>,
    /// Keys recorded without sending: share reminders whose moment passed
    /// only after the deadline itself (the overdue reminder says more).
    pub superseded: Vec<String>,
}

impl StageClock {
    /// Whether this clock's due instant is provisional: counted on the
    /// calendar (working days or hours, not a date an extension fixed),
    /// still ahead, and reaching into a year without holiday data, so that
    /// it may move once that year's days are set.
    pub fn is_provisional(&self, calendar: &Calendar, now: DateTime<Utc>) -> bool {
        self.unit != Unit::CalendarDays
            && self.fixed_due.is_none()
            && self.due_at > now
            && calendar.is_provisional(now, self.due_at)
    }

    /// Starts the clock of `stage` at `now`.
    pub fn start(
        stage: Stage,
        unit: Unit,
        length: u32,
        now: DateTime<Utc>,
        cal: &Calendar,
    ) -> Self {
        let mut clock = Self {
            stage,
            started_at: now,
            unit,
            length,
            fixed_due: None,
            extension_days: 0,
            paused_days: 0,
            paused_seconds: 0,
            paused: None,
            due_at: now,
            alerts: Vec::new(),
        };
        clock.due_at = clock.compute(cal);
        clock
    }

    /// The due instant this clock's basis gives on `cal`.
    pub fn compute(&self, cal: &Calendar) -> DateTime<Utc> {
        let base = self.fixed_due.unwrap_or_else(|| match self.unit {
            Unit::WorkingDays => cal.working_days_after(self.started_at, self.length),
            Unit::CalendarDays => cal.calendar_days_after(self.started_at, self.length),
            Unit::WorkingHours => cal.working_hours_after(self.started_at, self.length),
        });
        let added = self.extension_days + self.paused_days;
        if self.unit == Unit::WorkingHours {
            // Days added to a clock in hours are whole working days of
            // working time: the deadline keeps its time of day.
            let day = cal.working_hours().map_or(86_400, |h| h.seconds());
            let extra = self.paused_seconds + i64::from(added) * day;
            return if extra == 0 {
                base
            } else {
                cal.after_working_seconds(base, extra)
            };
        }
        if added == 0 {
            base
        } else {
            cal.working_days_after(base, added)
        }
    }

    /// Re-derives the due instant (after a calendar edit). Returns the
    /// previous instant when it moved.
    pub fn recompute(
        &mut self,
        policy: &AlertPolicy,
        cal: &Calendar,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let due = self.compute(cal);
        if due == self.due_at {
            return None;
        }
        let previous = std::mem::replace(&mut self.due_at, due);
        self.rearm(policy, cal, now);
        Some(previous)
    }

    /// The instant the deadline falls due, unless the clock is paused.
    pub fn running_due(&self) -> Option<DateTime<Utc>> {
        self.paused.is_none().then_some(self.due_at)
    }

    /// Stops the clock.
    pub fn pause(&mut self, pause: Pause) {
        self.paused = Some(pause);
    }

    /// Restarts the clock: the working days the pause covered are given
    /// back (for a clock in working hours, the working seconds). Returns
    /// the working days given back (0 for a clock in hours).
    pub fn resume(&mut self, policy: &AlertPolicy, cal: &Calendar, now: DateTime<Utc>) -> u32 {
        let Some(pause) = self.paused.take() else {
            return 0;
        };
        let credit = if self.unit == Unit::WorkingHours {
            self.paused_seconds += cal.working_seconds(pause.since, now);
            0
        } else {
            cal.working_days_in(pause.since, now)
        };
        self.paused_days += credit;
        self.due_at = self.compute(cal);
        self.rearm(policy, cal, now);
        credit
    }

    /// Moves the deadline to a date chosen by a person.
    pub fn extend_to(
        &mut self,
        due: DateTime<Utc>,
        policy: &AlertPolicy,
        cal: &Calendar,
        now: DateTime<Utc>,
    ) {
        self.fixed_due = Some(due);
        self.extension_days = 0;
        self.paused_days = 0;
        self.paused_seconds = 0;
        self.due_at = self.compute(cal);
        self.rearm(policy, cal, now);
    }

    /// Adds working days to the deadline.
    pub fn extend_by(
        &mut self,
        days: u32,
        policy: &AlertPolicy,
        cal: &Calendar,
        now: DateTime<Utc>,
    ) {
        self.extension_days += days;
        self.due_at = self.compute(cal);
        self.rearm(policy, cal, now);
    }

    /// After the due instant moved: alerts whose moment now lies in the
    /// future may be sent again when it comes.
    fn rearm(&mut self, policy: &AlertPolicy, cal: &Calendar, now: DateTime<Utc>) {
        let times: std::collections::HashMap<String, DateTime<Utc>> = self
            .plan(policy, cal)
            .into_iter()
            .map(|a| (a.key, a.at))
            .collect();
        let due = self.due_at;
        self.alerts.retain(|key| {
            if key.starts_with("overdue:") {
                return due <= now;
            }
            times.get(key).is_none_or(|at| *at <= now)
        });
    }

    /// The working time left at `now` in seconds (negative: overdue by
    /// that much working time), frozen at the pause while paused.
    pub fn remaining_working_seconds(&self, cal: &Calendar, now: DateTime<Utc>) -> i64 {
        let at = self.paused.as_ref().map_or(now, |p| p.since);
        if at <= self.due_at {
            cal.working_seconds(at, self.due_at)
        } else {
            -cal.working_seconds(self.due_at, at)
        }
    }

    /// Whole working days left at `now` (negative: whole working days
    /// overdue), frozen at the pause while paused.
    pub fn remaining_working_days(&self, cal: &Calendar, now: DateTime<Utc>) -> i64 {
        let at = self.paused.as_ref().map_or(now, |p| p.since);
        cal.working_days_between(at, self.due_at)
    }

    /// The alerts of this clock with a fixed moment, in time order: share
    /// reminders before the deadline, the escalation ladder after it, and
    /// the next daily overdue reminder after the last one sent.
    pub fn plan(&self, policy: &AlertPolicy, cal: &Calendar) -> Vec<Alert> {
        let mut out = Vec::new();
        if !self.stage.is_staff_duty() {
            return out;
        }
        let due = self.due_at;
        if matches!(self.stage, Stage::Handling | Stage::Review) {
            let total = cal.working_seconds(self.started_at, due);
            for &percent in &policy.reminder_percents {
                if !(1..100).contains(&percent) {
                    continue;
                }
                let at =
                    cal.after_working_seconds(self.started_at, total * i64::from(percent) / 100);
                if at < due {
                    out.push(Alert {
                        key: format!("reminder:{percent}"),
                        at,
                        kind: AlertKind::Share { percent },
                    });
                }
            }
        }
        for (step, s) in self.ladder(policy).iter().enumerate() {
            out.push(Alert {
                key: format!("escalation:{step}"),
                at: after_due(cal, due, s.after_working_days),
                kind: AlertKind::Escalation {
                    step,
                    to: s.to.into(),
                },
            });
        }
        if let Some(next) = self.next_overdue_day(policy, cal) {
            let at = after_due(cal, due, next);
            out.push(Alert {
                key: overdue_key(cal, at),
                at,
                kind: AlertKind::Overdue { working_days: next },
            });
        }
        out.sort_by_key(|a| a.at);
        out
    }

    fn ladder<'p>(&self, policy: &'p AlertPolicy) -> &'p [EscalationStep] {
        match self.stage {
            Stage::Acceptance => &policy.acceptance_escalation,
            _ => &policy.escalation,
        }
    }

    /// The working days after the deadline of the next daily reminder:
    /// the first whose moment falls on a later local day than the last one
    /// sent (none when daily repeats are off and one was sent).
    fn next_overdue_day(&self, policy: &AlertPolicy, cal: &Calendar) -> Option<u32> {
        let last: Option<chrono::NaiveDate> = self
            .alerts
            .iter()
            .filter_map(|k| k.strip_prefix("overdue:")?.parse().ok())
            .max();
        let Some(last) = last else { return Some(0) };
        if !policy.repeat_overdue {
            return None;
        }
        let from = cal.start_of_local_day(last);
        let mut k =
            u32::try_from(cal.working_days_between(self.due_at, from).max(0)).unwrap_or(u32::MAX);
        for _ in 0..8 {
            if cal.local_date(after_due(cal, self.due_at, k)) > last {
                break;
            }
            k = k.saturating_add(1);
        }
        Some(k)
    }

    fn sent(&self, key: &str) -> bool {
        self.alerts.iter().any(|k| k == key)
    }

    /// The moment of the next alert not yet sent (`None` while paused or
    /// when the stage raises none).
    pub fn next_alert_at(&self, policy: &AlertPolicy, cal: &Calendar) -> Option<DateTime<Utc>> {
        if self.paused.is_some() {
            return None;
        }
        self.plan(policy, cal)
            .into_iter()
            .find(|a| !self.sent(&a.key))
            .map(|a| a.at)
    }

    /// The alerts due at `now`, recorded as sent. Each share reminder and
    /// each escalation step is sent once even if it is late (after a
    /// stop); of the daily overdue reminders only today's is sent, however
    /// many days a stop skipped.
    pub fn take_alerts(
        &mut self,
        policy: &AlertPolicy,
        cal: &Calendar,
        now: DateTime<Utc>,
    ) -> AlertBatch {
        let mut batch = AlertBatch::default();
        if self.paused.is_some() {
            return batch;
        }
        let overdue = now >= self.due_at;
        for alert in self.plan(policy, cal) {
            if alert.at > now || self.sent(&alert.key) {
                continue;
            }
            match alert.kind {
                AlertKind::Share { .. } if overdue => batch.superseded.push(alert.key),
                AlertKind::Overdue { .. } => {
                    let days = u32::try_from(cal.working_days_between(self.due_at, now).max(0))
                        .unwrap_or(u32::MAX);
                    let days = if policy.repeat_overdue { days } else { 0 };
                    let at = after_due(cal, self.due_at, days);
                    let key = overdue_key(cal, at);
                    if !self.sent(&key) {
                        batch.send.push(Alert {
                            key,
                            at,
                            kind: AlertKind::Overdue { working_days: days },
                        });
                    }
                }
                _ => batch.send.push(alert),
            }
        }
        self.alerts.extend(batch.superseded.iter().cloned());
        self.alerts.extend(batch.send.iter().map(|a| a.key.clone()));
        batch
    }
}

/// The key of the daily reminder whose moment is `at`: its local date.
fn overdue_key(cal: &Calendar, at: DateTime<Utc>) -> String {
    format!("overdue:{}", cal.local_date(at))
}

/// `n` working days after the deadline; `n == 0` is the deadline itself.
fn after_due(cal: &Calendar, due: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    if n == 0 {
        due
    } else {
        cal.working_days_after(due, n)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::calendar::WorkingHours;

    /// Shanghai local time.
    fn sh(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// 24:00 of a Shanghai day.
    fn end(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Calendar::china().end_of_local_day(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    fn handling(start: DateTime<Utc>, days: u32) -> StageClock {
        StageClock::start(
            Stage::Handling,
            Unit::WorkingDays,
            days,
            start,
            &Calendar::china(),
        )
    }

    /// An alert's key, with daily reminders by working days overdue.
    fn label(a: &Alert) -> String {
        match a.kind {
            AlertKind::Overdue { working_days } => format!("overdue:{working_days}"),
            _ => a.key.clone(),
        }
    }

    fn pause(clock: &mut StageClock, at: DateTime<Utc>) {
        clock.pause(Pause {
            since: at,
            reason: "lab test".into(),
            by: "h".into(),
        });
    }

    #[test]
    fn a_pause_gives_back_the_working_days_it_covered() {
        let cal = Calendar::china();
        let policy = AlertPolicy::default();
        // Accepted Monday 2026-03-02; counting from Tuesday, 10 working
        // days end Monday 03-16.
        let mut c = handling(sh(2026, 3, 2, 9, 0), 10);
        assert_eq!(c.due_at, end(2026, 3, 16));
        // Monday 10:00 → Tuesday 15:00: one day back (Tuesday).
        pause(&mut c, sh(2026, 3, 2, 10, 0));
        assert_eq!(c.running_due(), None);
        assert_eq!(c.resume(&policy, &cal, sh(2026, 3, 3, 15, 0)), 1);
        assert_eq!(c.due_at, end(2026, 3, 17));
        // Paused and resumed the same day: nothing back.
        pause(&mut c, sh(2026, 3, 4, 9, 0));
        assert_eq!(c.resume(&policy, &cal, sh(2026, 3, 4, 17, 0)), 0);
        assert_eq!(c.due_at, end(2026, 3, 17));
        // Friday → Monday over a weekend: Monday only.
        pause(&mut c, sh(2026, 3, 6, 16, 0));
        assert_eq!(c.resume(&policy, &cal, sh(2026, 3, 9, 8, 0)), 1);
        assert_eq!(c.due_at, end(2026, 3, 18));
        assert_eq!(c.paused_days, 2);
    }

    #[test]
    fn a_pause_over_national_day_2026_counts_the_make_up_saturday() {
        let cal = Calendar::china();
        // 2026: 10-01..10-07 off, Saturday 10-10 a make-up working day.
        let mut c = handling(sh(2026, 9, 28, 9, 0), 15);
        pause(&mut c, sh(2026, 9, 30, 12, 0));
        let credit = c.resume(&AlertPolicy::default(), &cal, sh(2026, 10, 12, 9, 0));
        // 10-08, 10-09, 10-10 (make-up Saturday), 10-12.
        assert_eq!(credit, 4);
    }

    #[test]
    fn extensions_and_calendar_edits() {
        let mut cal = Calendar::china();
        let policy = AlertPolicy::default();
        let now = sh(2026, 3, 2, 9, 0);
        let mut c = handling(now, 10);
        c.extend_by(5, &policy, &cal, now);
        assert_eq!(c.due_at, cal.working_days_after(end(2026, 3, 16), 5));
        assert_eq!(c.due_at, end(2026, 3, 23));
        // A new holiday on Wednesday 03-11 moves it one working day.
        cal.set(crate::calendar::DayException {
            date: NaiveDate::from_ymd_opt(2026, 3, 11).unwrap(),
            kind: crate::calendar::DayKind::Holiday,
            name: "x".into(),
        });
        assert_eq!(c.recompute(&policy, &cal, now), Some(end(2026, 3, 23)));
        assert_eq!(c.due_at, end(2026, 3, 24));
        assert_eq!(c.recompute(&policy, &cal, now), None, "stable");
        // A date chosen by a person does not follow the calendar.
        c.extend_to(end(2026, 4, 1), &policy, &cal, now);
        cal.remove(NaiveDate::from_ymd_opt(2026, 3, 11).unwrap());
        assert_eq!(c.recompute(&policy, &cal, now), None);
        assert_eq!(c.due_at, end(2026, 4, 1));
        // Calendar-day clocks ignore holidays.
        let appeal = StageClock::start(Stage::Appeal, Unit::CalendarDays, 15, now, &cal);
        assert_eq!(appeal.due_at, end(2026, 3, 17));
    }

    #[test]
    fn alerts_come_once_each_in_order() {
        let cal = Calendar::china();
        let policy = AlertPolicy::default();
        let start = sh(2026, 3, 2, 9, 0);
        let mut c = handling(start, 10);
        let due = c.due_at;
        let keys = |b: AlertBatch| b.send.iter().map(label).collect::<Vec<_>>();
        let half = cal.after_working_seconds(start, cal.working_seconds(start, due) / 2);
        assert_eq!(c.next_alert_at(&policy, &cal), Some(half));
        assert!(keys(c.take_alerts(&policy, &cal, half - chrono::Duration::seconds(1))).is_empty());
        assert_eq!(keys(c.take_alerts(&policy, &cal, half)), ["reminder:50"]);
        assert!(keys(c.take_alerts(&policy, &cal, half)).is_empty(), "once");
        let at80 = c.next_alert_at(&policy, &cal).unwrap();
        assert!(at80 > half && at80 < due);
        assert_eq!(keys(c.take_alerts(&policy, &cal, at80)), ["reminder:80"]);
        assert_eq!(c.next_alert_at(&policy, &cal), Some(due));
        let mut at_due = keys(c.take_alerts(&policy, &cal, due));
        at_due.sort();
        assert_eq!(at_due, ["escalation:0", "overdue:0"]);
        assert_eq!(
            c.next_alert_at(&policy, &cal),
            Some(cal.working_days_after(due, 1))
        );
        // A stop of four working days: each late step once, today's
        // reminder only.
        let later = cal.working_days_after(due, 4) + chrono::Duration::hours(10);
        let mut late = keys(c.take_alerts(&policy, &cal, later));
        late.sort();
        assert_eq!(late, ["escalation:1", "overdue:4"]);
        assert!(keys(c.take_alerts(&policy, &cal, later)).is_empty());
        // Paused: silent.
        pause(&mut c, later);
        assert_eq!(c.next_alert_at(&policy, &cal), None);
        assert!(keys(c.take_alerts(&policy, &cal, later + chrono::Duration::days(9))).is_empty());
    }

    #[test]
    fn a_late_start_supersedes_share_reminders_and_an_extension_rearms() {
        let cal = Calendar::china();
        let policy = AlertPolicy::default();
        let start = sh(2026, 3, 2, 9, 0);
        let mut c = handling(start, 10);
        let due = c.due_at;
        let batch = c.take_alerts(&policy, &cal, due);
        assert_eq!(batch.superseded, ["reminder:50", "reminder:80"]);
        assert!(batch.send.iter().all(|a| !a.key.starts_with("reminder")));
        // Extended past now: the overdue steps come again at the new due;
        // the share reminders whose moments are still past do not.
        c.extend_by(10, &policy, &cal, due);
        assert!(
            c.alerts.iter().all(|k| k.starts_with("reminder")),
            "{:?}",
            c.alerts
        );
        let new_due = c.due_at;
        assert_eq!(c.next_alert_at(&policy, &cal).map(|t| t > due), Some(true));
        let mut again: Vec<_> = c
            .take_alerts(&policy, &cal, new_due)
            .send
            .iter()
            .map(label)
            .collect();
        again.sort();
        assert!(
            again.contains(&"escalation:0".to_string()) && again.contains(&"overdue:0".to_string())
        );
    }

    #[test]
    fn acceptance_has_no_share_reminders_and_escalates_to_supervisors() {
        let cal = Calendar::china();
        let policy = AlertPolicy::default();
        let c = StageClock::start(
            Stage::Acceptance,
            Unit::WorkingDays,
            1,
            sh(2026, 3, 2, 9, 0),
            &cal,
        );
        let plan = c.plan(&policy, &cal);
        assert!(
            plan.iter()
                .all(|a| !matches!(a.kind, AlertKind::Share { .. }))
        );
        assert!(plan.iter().any(|a| a.kind
            == AlertKind::Escalation {
                step: 0,
                to: Recipient::Supervisors
            }));
        // Non-staff stages raise nothing.
        let s = StageClock::start(
            Stage::Supplement,
            Unit::WorkingDays,
            5,
            sh(2026, 3, 2, 9, 0),
            &cal,
        );
        assert!(s.plan(&policy, &cal).is_empty());
    }

    #[test]
    fn working_hours_clocks_end_at_a_time_of_day() {
        let cal =
            Calendar::china().with_working_hours(Some(WorkingHours::parse("09:00-18:00").unwrap()));
        let policy = AlertPolicy::default();
        // Friday 2026-03-06 16:00 + 8 working hours: 2 on Friday, 6 on
        // Monday → Monday 15:00.
        let mut c = StageClock::start(
            Stage::Acceptance,
            Unit::WorkingHours,
            8,
            sh(2026, 3, 6, 16, 0),
            &cal,
        );
        assert_eq!(c.due_at, sh(2026, 3, 9, 15, 0));
        // Paused Monday 10:00 → 12:30: 2.5 working hours back.
        pause(&mut c, sh(2026, 3, 9, 10, 0));
        c.resume(&policy, &cal, sh(2026, 3, 9, 12, 30));
        assert_eq!(c.paused_seconds, 9000);
        assert_eq!(c.due_at, sh(2026, 3, 9, 17, 30));
        assert_eq!(
            c.remaining_working_seconds(&cal, sh(2026, 3, 9, 17, 0)),
            1800
        );
        assert!(WorkingHours::parse("18:00-09:00").is_err());
    }
}
