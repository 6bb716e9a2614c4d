//! The respondent's reply deadline after acceptance (SPEC §4, policy 三.2):
//! `respondent_reply_days` working days (per category, default 3). It
//! pauses with the case clock, the respondent is reminded one working day
//! before it, and every reply is recorded with whether it came late; a
//! deadline that passes without a reply is recorded as missed, once. The
//! respondents' scorecard (SPEC §10) counts from these records.
//!
//! Like [`crate::StageClock`], the due instant is derived from a basis
//! (start, length, working days given back by pauses), so a pause gives
//! back exactly the working days it covered and a calendar edit moves it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;

/// One respondent message after acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyRecord {
    pub message_id: String,
    pub at: DateTime<Utc>,
    /// Written after the reply deadline.
    pub late: bool,
}

/// The reply deadline of a case with a known respondent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyDeadline {
    pub started_at: DateTime<Utc>,
    /// The length in working days when it started.
    pub days: u32,
    /// Working days given back by ended pauses of the case clock.
    #[serde(default)]
    pub paused_days: u32,
    /// Set while the case clock is paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_since: Option<DateTime<Utc>>,
    /// The derived due instant.
    pub due_at: DateTime<Utc>,
    #[serde(default)]
    pub replies: Vec<ReplyRecord>,
    /// When the reminder (one working day before) was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<DateTime<Utc>>,
    /// When the sweep found the deadline passed without a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_at: Option<DateTime<Utc>>,
}

/// What the sweep found due on a reply deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyAlert {
    /// One working day is left: remind the respondent.
    Reminder,
    /// The deadline passed without a reply.
    Missed,
}

impl ReplyDeadline {
    pub fn start(now: DateTime<Utc>, days: u32, cal: &Calendar) -> Self {
        let mut d = Self {
            started_at: now,
            days,
            paused_days: 0,
            paused_since: None,
            due_at: now,
            replies: Vec::new(),
            reminded_at: None,
            missed_at: None,
        };
        d.due_at = d.compute(cal);
        d
    }

    fn total(&self) -> u32 {
        self.days.saturating_add(self.paused_days)
    }

    /// The due instant the basis gives on `cal`.
    pub fn compute(&self, cal: &Calendar) -> DateTime<Utc> {
        cal.working_days_after(self.started_at, self.total())
    }

    /// When one working day is left (the reminder's moment).
    pub fn remind_at(&self, cal: &Calendar) -> DateTime<Utc> {
        cal.working_days_after(self.started_at, self.total().saturating_sub(1))
    }

    /// No reply has come yet.
    pub fn awaiting(&self) -> bool {
        self.replies.is_empty()
    }

    pub fn is_paused(&self) -> bool {
        self.paused_since.is_some()
    }

    /// The first reply, if any.
    pub fn first_reply(&self) -> Option<&ReplyRecord> {
        self.replies.first()
    }

    pub fn late_replies(&self) -> usize {
        self.replies.iter().filter(|r| r.late).count()
    }

    /// Whether the deadline was met: `None` while it still runs.
    pub fn on_time(&self) -> Option<bool> {
        match self.replies.first() {
            Some(r) => Some(!r.late),
            None => self.missed_at.map(|_| false),
        }
    }

    pub fn pause(&mut self, now: DateTime<Utc>) {
        if self.paused_since.is_none() {
            self.paused_since = Some(now);
        }
    }

    /// Gives back the working days the pause covered (the same credit as
    /// the case clock's); the working days added.
    pub fn resume(&mut self, now: DateTime<Utc>, cal: &Calendar) -> u32 {
        let Some(since) = self.paused_since.take() else {
            return 0;
        };
        // A deadline already missed stays missed: the pause came after it.
        if self.missed_at.is_some() || since >= self.due_at {
            return 0;
        }
        let credit = cal.working_days_in(since, now);
        self.paused_days = self.paused_days.saturating_add(credit);
        self.due_at = self.compute(cal);
        credit
    }

    /// Re-derives the due instant (after a calendar edit); the previous
    /// one when it moved.
    pub fn recompute(&mut self, cal: &Calendar) -> Option<DateTime<Utc>> {
        if self.missed_at.is_some() {
            return None;
        }
        let due = self.compute(cal);
        (due != self.due_at).then(|| std::mem::replace(&mut self.due_at, due))
    }

    /// Records a respondent message written at `now`; whether it was late.
    /// While paused, the time stands still at the pause.
    pub fn record(&mut self, message_id: &str, now: DateTime<Utc>) -> bool {
        let at = self.paused_since.unwrap_or(now);
        let late = self.missed_at.is_some() || at > self.due_at;
        self.replies.push(ReplyRecord {
            message_id: message_id.into(),
            at: now,
            late,
        });
        late
    }

    /// The next instant the sweep must look at this deadline, if any.
    pub fn next_at(&self, cal: &Calendar) -> Option<DateTime<Utc>> {
        if !self.awaiting() || self.is_paused() || self.missed_at.is_some() {
            return None;
        }
        let remind = self.remind_at(cal);
        if self.reminded_at.is_none() && remind < self.due_at && remind >= self.started_at {
            return Some(remind);
        }
        Some(self.due_at)
    }

    /// What is due at `now`, recorded as done (each once).
    pub fn take_due(&mut self, now: DateTime<Utc>, cal: &Calendar) -> Option<ReplyAlert> {
        if !self.awaiting() || self.is_paused() || self.missed_at.is_some() {
            return None;
        }
        if now >= self.due_at {
            self.missed_at = Some(now);
            return Some(ReplyAlert::Missed);
        }
        if self.reminded_at.is_none() && now >= self.remind_at(cal) {
            self.reminded_at = Some(now);
            return Some(ReplyAlert::Reminder);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cal() -> Calendar {
        Calendar::new(chrono_tz::Asia::Shanghai)
    }

    fn local(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn three_working_days_with_a_reminder_one_day_before() {
        let c = cal();
        // Monday 2026-03-02 10:00: due Thursday 24:00, reminded at Wednesday 24:00.
        let mut d = ReplyDeadline::start(local(2026, 3, 2, 10), 3, &c);
        assert_eq!(d.due_at, local(2026, 3, 6, 0));
        assert_eq!(d.next_at(&c), Some(local(2026, 3, 5, 0)));
        assert_eq!(d.take_due(local(2026, 3, 4, 23), &c), None);
        assert_eq!(
            d.take_due(local(2026, 3, 5, 1), &c),
            Some(ReplyAlert::Reminder)
        );
        assert_eq!(d.take_due(local(2026, 3, 5, 2), &c), None);
        assert_eq!(d.next_at(&c), Some(d.due_at));
        assert_eq!(
            d.take_due(local(2026, 3, 6, 1), &c),
            Some(ReplyAlert::Missed)
        );
        assert_eq!(d.take_due(local(2026, 3, 6, 2), &c), None);
        assert_eq!(d.next_at(&c), None);
        assert!(d.record("m1", local(2026, 3, 6, 3)));
        assert_eq!(d.on_time(), Some(false));
    }

    #[test]
    fn a_pause_gives_back_its_working_days_and_freezes_lateness() {
        let c = cal();
        let mut d = ReplyDeadline::start(local(2026, 3, 2, 10), 3, &c);
        d.pause(local(2026, 3, 3, 9));
        assert_eq!(d.next_at(&c), None);
        // Paused over the old deadline: a reply meanwhile is on time.
        let mut early = d.clone();
        assert!(!early.record("m", local(2026, 3, 9, 9)));
        // Resumed the next Monday: Wed, Thu, Fri and Mon given back.
        assert_eq!(d.resume(local(2026, 3, 9, 9), &c), 4);
        assert_eq!(d.due_at, local(2026, 3, 12, 0));
        assert!(!d.record("m", local(2026, 3, 11, 23)));
        assert_eq!(d.on_time(), Some(true));
        assert_eq!(d.next_at(&c), None);
    }
}
