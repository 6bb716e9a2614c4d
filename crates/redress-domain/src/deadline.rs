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
//! Alerts are keyed (`reminder:50`, `overdue:3`, `escalation:1`) and the
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
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Acceptance => "acceptance",
            Stage::Supplement => "supplement",
            Stage::Handling => "handling",
            Stage::Appeal => "appeal",
            Stage::Review => "review",
        }
    }

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
        let mut base = self.fixed_due.unwrap_or_else(|| match self.unit {
            Unit::WorkingDays => cal.working_days_after(self.started_at, self.length),
            Unit::CalendarDays => cal.calendar_days_after(self.started_at, self.length),
            Unit::WorkingHours => cal.working_hours_after(self.started_at, self.length),
        });
        if self.paused_seconds > 0 {
            base = cal.after_working_seconds(base, self.paused_seconds);
        }
        let added = self.extension_days + self.paused_days;
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
        let next = self.last_overdue_day().map_or(0, |d| d + 1);
        if next == 0 || policy.repeat_overdue {
            out.push(Alert {
                key: format!("overdue:{next}"),
                at: after_due(cal, due, next),
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

    fn last_overdue_day(&self) -> Option<u32> {
        self.alerts
            .iter()
            .filter_map(|k| k.strip_prefix("overdue:")?.parse().ok())
            .max()
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
                    let key = format!("overdue:{days}");
                    if !self.sent(&key) {
                        batch.send.push(Alert {
                            key,
                            at: after_due(cal, self.due_at, days),
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

/// `n` working days after the deadline; `n == 0` is the deadline itself.
fn after_due(cal: &Calendar, due: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    if n == 0 {
        due
    } else {
        cal.working_days_after(due, n)
    }
}
