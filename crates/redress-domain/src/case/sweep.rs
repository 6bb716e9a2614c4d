//! What the deadline sweep does to a case when its time comes: lapses,
//! closes, missed deadlines, reminders and escalations, the respondent's
//! reply deadline, and the next instant the case wants the sweep.

use super::*;

impl Case {
    /// The complainant's supplement deadline has passed.
    pub fn lapse(&mut self, ctx: &Ctx) -> Result<Effects, Refusal> {
        let due = self.deadlines.supplement_due_at;
        if self.status != Status::NeedsInfo || due.is_none_or(|d| ctx.now < d) {
            return Err(wrong(self.status, "lapsed"));
        }
        self.close(Closure::Lapsed, ctx);
        Ok(Effects::default()
            .event(CaseEvent::Lapsed(ev::Lapsed {
                supplement_due_at: due,
            }))
            .notify(Party::Complainant, NoticeKind::Lapsed))
    }

    /// The appeal window has ended without an appeal.
    pub fn close_after_appeal_window(&mut self, ctx: &Ctx) -> Result<Effects, Refusal> {
        let due = self.deadlines.appeal_due_at;
        if self.status != Status::Resolved || due.is_none_or(|d| ctx.now < d) {
            return Err(wrong(self.status, "closed"));
        }
        self.close(Closure::Resolved, ctx);
        Ok(Effects::default()
            .event(CaseEvent::Closed(ev::Closed { appeal_due_at: due }))
            .notify(Party::Complainant, NoticeKind::Closed))
    }

    /// Flags a missed staff deadline once per deadline.
    pub fn flag_overdue(&mut self, ctx: &Ctx) -> Result<Effects, Refusal> {
        let due = self.next_due_at();
        if !self.is_overdue(ctx.now) || self.overdue_flagged_for == due {
            return Err(wrong(self.status, "flagged overdue"));
        }
        self.overdue_flagged_for = due;
        self.note_missed(ctx.now);
        Ok(
            Effects::default().event(CaseEvent::DeadlineMissed(ev::DeadlineMissed {
                status: self.status,
                due_at: due,
                assignee: self.assignee.clone(),
            })),
        )
    }

    /// Sends the reminders and escalations of the running clock that are
    /// due now, each once.
    pub fn send_alerts(&mut self, ctx: &Ctx) -> Option<Effects> {
        if !self.status.deadline_is_staff_duty() {
            return None;
        }
        let assignee = self.assignee.clone();
        let clock = self.clock.as_mut()?;
        let batch = clock.take_alerts(&ctx.policy.alerts, ctx.calendar, ctx.now);
        if batch.send.is_empty() && batch.superseded.is_empty() {
            return None;
        }
        let (stage, due) = (clock.stage, clock.due_at);
        let mut effects = Effects::default();
        for alert in batch.send {
            let to = alert.recipient();
            effects = match alert.kind {
                AlertKind::Share { percent } => effects
                    .event(CaseEvent::ReminderSent(ev::ReminderSent {
                        stage,
                        key: alert.key.clone(),
                        percent: Some(percent),
                        working_days_overdue: None,
                        due_at: due,
                        to,
                        assignee: assignee.clone(),
                    }))
                    .notify_staff(NoticeKind::Reminder, to),
                AlertKind::Overdue { working_days } => effects
                    .event(CaseEvent::ReminderSent(ev::ReminderSent {
                        stage,
                        key: alert.key.clone(),
                        percent: None,
                        working_days_overdue: Some(working_days),
                        due_at: due,
                        to,
                        assignee: assignee.clone(),
                    }))
                    .notify_staff(NoticeKind::Reminder, to),
                AlertKind::Escalation { step, to } => effects
                    .event(CaseEvent::Escalated(ev::Escalated {
                        stage,
                        key: alert.key.clone(),
                        step: step + 1,
                        due_at: due,
                        to,
                        assignee: assignee.clone(),
                    }))
                    .notify_staff(NoticeKind::Escalation, to),
            };
        }
        if effects.events.is_empty() {
            // Only superseded keys: recorded with the next event (they are
            // in the past, so they never trigger a sweep by themselves).
            return None;
        }
        Some(effects)
    }

    /// The next instant the sweep has something to do for this case.
    pub fn sweep_at(&self, policy: &DeadlinePolicy, calendar: &Calendar) -> Option<DateTime<Utc>> {
        [
            self.deadline_sweep_at(policy, calendar),
            self.next_delivery_at(),
            self.next_action_reminder_at(calendar),
            self.reply_sweep_at(calendar),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The respondent's reply deadline while the case is handled: its
    /// reminder, then its expiry.
    fn reply_sweep_at(&self, calendar: &Calendar) -> Option<DateTime<Utc>> {
        if self.status != Status::InProgress {
            return None;
        }
        self.respondent_reply.as_ref()?.next_at(calendar)
    }

    /// Whether a reply from the respondent is still expected: the case is
    /// handled and they have not replied yet.
    pub fn respondent_reply_expected(&self) -> bool {
        self.status == Status::InProgress
            && self.respondent_reply.as_ref().is_some_and(|r| r.awaiting())
    }

    /// The reminder one working day before the reply deadline, and the
    /// record of a deadline missed, each once.
    pub fn sweep_reply(&mut self, ctx: &Ctx) -> Option<Effects> {
        if self.status != Status::InProgress {
            return None;
        }
        let reply = self.respondent_reply.as_mut()?;
        let alert = reply.take_due(ctx.now, ctx.calendar)?;
        let due = reply.due_at;
        let respondent = self.record.respondent.as_ref().map(|r| r.key());
        Some(match alert {
            crate::reply::ReplyAlert::Reminder => Effects::default()
                .event(CaseEvent::RespondentReminderSent(ev::ReplyDue {
                    due_at: due,
                    respondent: respondent.clone(),
                }))
                .notify(Party::Respondent, NoticeKind::Reminder),
            crate::reply::ReplyAlert::Missed => {
                Effects::default().event(CaseEvent::RespondentReplyMissed(ev::ReplyDue {
                    due_at: due,
                    respondent: respondent.clone(),
                }))
            }
        })
    }

    /// [`Case::sweep_at`] for the deadlines alone.
    fn deadline_sweep_at(
        &self,
        policy: &DeadlinePolicy,
        calendar: &Calendar,
    ) -> Option<DateTime<Utc>> {
        if self.status == Status::Closed {
            return self
                .deadlines
                .retention_until
                .filter(|_| !self.legal_hold && self.purged_at.is_none());
        }
        let due = self.next_due_at()?;
        match self.status {
            Status::NeedsInfo | Status::Resolved => Some(due),
            Status::Closed => None,
            _ => {
                let flag = (self.overdue_flagged_for != Some(due)).then_some(due);
                let alert = self
                    .clock
                    .as_ref()
                    .and_then(|c| c.next_alert_at(&policy.alerts, calendar));
                match (flag, alert) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }

    /// Whatever the deadline sweep should do to this case now, if anything.
    /// (After a purge the caller removes the evidence files the case held.)
    pub fn sweep(&mut self, ctx: &Ctx) -> Option<Effects> {
        let mut effects = self.sweep_deadlines(ctx).unwrap_or_default();
        // Corrective actions are followed up whatever the case's status
        // (not once its file was purged).
        if let Some(reminders) = self.send_action_reminders(ctx) {
            effects.merge(reminders);
        }
        (!effects.events.is_empty()).then_some(effects)
    }

    fn sweep_deadlines(&mut self, ctx: &Ctx) -> Option<Effects> {
        match self.status {
            Status::Closed => self.purge(ctx).ok().map(|(effects, _)| effects),
            Status::NeedsInfo => self.lapse(ctx).ok(),
            Status::Resolved => self.close_after_appeal_window(ctx).ok(),
            _ => {
                let mut effects = self.flag_overdue(ctx).unwrap_or_default();
                if let Some(alerts) = self.send_alerts(ctx) {
                    effects.merge(alerts);
                }
                if let Some(reply) = self.sweep_reply(ctx) {
                    effects.merge(reply);
                }
                (!effects.events.is_empty()).then_some(effects)
            }
        }
    }
}
