//! The result and what follows it: the decision with its remedies,
//! sanctions and corrective actions, the appeal and its independent review,
//! withdrawal and the satisfaction rating.

use super::*;

impl Case {
    /// The decision: outcome, basis, reply, and what follows from it.
    #[allow(clippy::too_many_arguments)]
    pub fn decide(
        &mut self,
        outcome: Outcome,
        basis: Vec<String>,
        reply: &str,
        remedies: Vec<Measure>,
        sanctions: Vec<Measure>,
        actions: Vec<ActionInput>,
        decider: &StaffRef,
        action_days: u32,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.status != Status::InProgress {
            return Err(wrong(self.status, "decided"));
        }
        let mut errors = FieldErrors::new();
        basis_errors(&mut errors, &basis);
        required_text(&mut errors, "reply", reply, 20_000);
        measure_errors(&mut errors, &remedies, &sanctions, &actions, ctx);
        errors.into_result()?;
        let actions = corrective_actions(actions, &decider.username, action_days, ctx);
        let appeal_days = self
            .stage_days
            .appeal_days
            .unwrap_or(ctx.policy.appeal_days);
        let appeal_due = self.start_clock(Stage::Appeal, Unit::CalendarDays, appeal_days, ctx);
        let basis: Vec<String> = basis.into_iter().map(|b| b.trim().to_string()).collect();
        let decision = Decision {
            outcome,
            basis,
            reply: reply.trim().into(),
            remedies,
            sanctions,
            actions,
            decided_by: decider.username.clone(),
            decider_level: decider.level,
            department: self.department.clone(),
            decided_at: ctx.now,
        };
        let decided = CaseEvent::Decided(ev::Decided {
            outcome,
            basis: decision.basis.clone(),
            remedies: decision.remedies.clone(),
            sanctions: decision.sanctions.clone(),
            actions: decision.actions.clone(),
            appeal_due_at: appeal_due,
        });
        // The platform acts on a sanction (a webhook carries this event):
        // whom it is against, what it is, and on what grounds.
        let sanction = (!decision.sanctions.is_empty()).then(|| {
            CaseEvent::SanctionOrdered(ev::Sanction {
                respondent: self.record.respondent.clone(),
                sanctions: decision.sanctions.clone(),
                outcome: Some(outcome),
                basis: decision.basis.clone(),
                decided_by: decision.decided_by.clone(),
                decided_at: Some(decision.decided_at),
                appeal_due_at: Some(appeal_due),
                review: None,
            })
        });
        self.decision = Some(decision);
        self.status = Status::Resolved;
        self.touch(ctx.now);
        let mut effects = Effects::default()
            .event(decided)
            .notify(Party::Complainant, NoticeKind::Result)
            .notify(Party::Respondent, NoticeKind::Result);
        if let Some(sanction) = sanction {
            effects = effects.event(sanction);
        }
        Ok(effects)
    }

    /// Marks a corrective action done. Actions are tracked until done, even
    /// after the case has closed: like the satisfaction rating, their
    /// completion is recorded beside the sealed file.
    pub fn complete_action(
        &mut self,
        action_id: &str,
        note: &str,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        let Some(decision) = self.decision.as_mut() else {
            return Err(wrong(
                self.status,
                "given a completed action (it has no decision)",
            ));
        };
        let Some(action) = decision.actions.iter_mut().find(|a| a.id == action_id) else {
            return Err(Refusal::invalid(
                "action_id",
                Reason::NoSuch {
                    what: "corrective action on this case".into(),
                },
            ));
        };
        if action.done_at.is_some() {
            return Err(Refusal::WrongState {
                status: self.status.to_string(),
                action: "given a completed action again (it is already done)",
            });
        }
        let mut errors = FieldErrors::new();
        if note.chars().count() > 5000 {
            errors.add("note", Reason::AtMost { n: 5000 });
        }
        errors.into_result()?;
        action.done_at = Some(ctx.now);
        action.done_by = Some(ctx.actor.id.clone());
        action.done_note = Some(note.trim().to_string()).filter(|n| !n.is_empty());
        self.touch(ctx.now);
        Ok(
            Effects::default().event(CaseEvent::ActionCompleted(ev::ActionCompleted {
                action_id: action_id.into(),
                note: note.trim().into(),
            })),
        )
    }

    /// Reassigns or re-dates an open corrective action (`PATCH
    /// /complaints/{id}/actions/{action_id}`); the event keeps the old and
    /// the new values. Re-dating drops the reminder keys of the old date,
    /// so that the owner is reminded of the new one. Whether the new owner
    /// may own it is the application's check (it knows the staff).
    pub fn update_action(
        &mut self,
        action_id: &str,
        owner: Option<&str>,
        due_at: Option<DateTime<Utc>>,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        let status = self.status;
        let Some(action) = self
            .decision
            .as_mut()
            .and_then(|d| d.actions.iter_mut().find(|a| a.id == action_id))
        else {
            return Err(Refusal::invalid(
                "action_id",
                Reason::NoSuch {
                    what: "corrective action on this case".into(),
                },
            ));
        };
        if action.done_at.is_some() {
            return Err(Refusal::WrongState {
                status: status.to_string(),
                action: "given a changed action (it is already done)",
            });
        }
        let mut errors = FieldErrors::new();
        if owner.is_none() && due_at.is_none() {
            errors.add("owner", Reason::OwnerOrDue);
        }
        if let Some(o) = owner
            && o.trim().is_empty()
        {
            errors.add("owner", Reason::Empty);
        }
        if due_at.is_some_and(|d| d <= ctx.now) {
            errors.add("due_at", Reason::InFuture);
        }
        errors.into_result()?;
        let (old_owner, old_due) = (action.owner.clone(), action.due_at);
        if let Some(o) = owner {
            action.owner = o.trim().to_string();
        }
        if let Some(d) = due_at {
            action.due_at = d;
            let keep = action.soon_key(ctx.calendar);
            action.reminders.retain(|k| *k == keep);
        }
        let event = CaseEvent::ActionUpdated(ev::ActionUpdated {
            action_id: action_id.into(),
            owner: ev::Change {
                old: old_owner,
                new: action.owner.clone(),
            },
            due_at: ev::Change {
                old: old_due,
                new: action.due_at,
            },
        });
        self.touch(ctx.now);
        Ok(Effects::default().event(event))
    }

    /// The reminders of open corrective actions that are due now, each
    /// once, to the action's owner.
    pub fn send_action_reminders(&mut self, ctx: &Ctx) -> Option<Effects> {
        if self.purged_at.is_some() {
            return None;
        }
        let decision = self.decision.as_mut()?;
        let mut effects = Effects::default();
        for action in decision.actions.iter_mut() {
            for r in action.take_reminders(ctx.calendar, ctx.now) {
                effects = effects
                    .event(CaseEvent::ActionReminderSent(ev::ActionReminderSent {
                        action_id: action.id.clone(),
                        key: r.key.clone(),
                        kind: if r.overdue_days.is_some() {
                            ev::ActionReminderKind::Overdue
                        } else {
                            ev::ActionReminderKind::DueSoon
                        },
                        working_days_overdue: r.overdue_days,
                        due_at: action.due_at,
                        owner: action.owner.clone(),
                    }))
                    .notify_user(NoticeKind::Reminder, &action.owner);
            }
        }
        (!effects.events.is_empty()).then_some(effects)
    }

    /// The next moment an open corrective action's owner is reminded.
    pub(super) fn next_action_reminder_at(&self, calendar: &Calendar) -> Option<DateTime<Utc>> {
        if self.purged_at.is_some() {
            return None;
        }
        self.decision
            .as_ref()?
            .actions
            .iter()
            .filter_map(|a| a.next_reminder_at(calendar))
            .min()
    }

    /// One appeal, within the window after the result notice.
    pub fn appeal(&mut self, reason: &str, ctx: &Ctx) -> Result<Effects, Refusal> {
        if self.status != Status::Resolved {
            return Err(wrong(self.status, "appealed"));
        }
        if self.appeal.is_some() {
            return Err(wrong(self.status, "appealed a second time"));
        }
        if self
            .deadlines
            .appeal_due_at
            .is_some_and(|due| ctx.now >= due)
        {
            return Err(wrong(self.status, "appealed after the appeal window"));
        }
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "reason", reason, 20_000);
        errors.into_result()?;
        let (unit, length) = staff_length(Stage::Review, self.stage_days.review_days, ctx.policy);
        let due = self.start_clock(Stage::Review, unit, length, ctx);
        self.appeal = Some(Appeal {
            reason: reason.trim().into(),
            at: ctx.now,
        });
        self.status = Status::UnderReview;
        self.assignee = None;
        self.touch(ctx.now);
        Ok(Effects::default()
            .event(CaseEvent::Appealed(ev::Appealed {
                reason: reason.trim().into(),
                review_due_at: due,
            }))
            .notify(Party::Complainant, NoticeKind::AppealReceived))
    }

    /// Reviewer independence: never the decider, and either a higher level
    /// than the decider or a member of an independent department.
    pub fn check_reviewer(&self, reviewer: &StaffRef) -> Result<(), Refusal> {
        let Some(decision) = &self.decision else {
            return Err(wrong(self.status, "reviewed"));
        };
        if !reviewer.roles.contains(&Role::Reviewer) {
            return Err(Refusal::Forbidden(
                "only a reviewer may decide an appeal".into(),
            ));
        }
        if reviewer.username == decision.decided_by {
            return Err(Refusal::Forbidden(
                "the person who decided the case cannot review it".into(),
            ));
        }
        if !(reviewer.level > decision.decider_level || reviewer.independent) {
            return Err(Refusal::Forbidden(
                "the reviewer must have a higher level than the decider or belong to an independent department".into(),
            ));
        }
        Ok(())
    }

    /// The review decision (final). `upheld` keeps the decision's result;
    /// `modified` states the new `outcome` and may order remedies,
    /// sanctions and corrective actions as a decision does: its remedies
    /// and sanctions replace the decision's (a sanction no longer ordered
    /// is lifted, a new one ordered), its corrective actions join the
    /// decision's in the list that is followed up.
    #[allow(clippy::too_many_arguments)]
    pub fn review(
        &mut self,
        result: ReviewResult,
        basis: Vec<String>,
        reply: &str,
        modified: ReviewChange,
        reviewer: &StaffRef,
        action_days: u32,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.status != Status::UnderReview {
            return Err(wrong(self.status, "reviewed"));
        }
        self.check_reviewer(reviewer)?;
        let ReviewChange {
            outcome,
            remedies,
            sanctions,
            actions,
        } = modified;
        let mut errors = FieldErrors::new();
        basis_errors(&mut errors, &basis);
        required_text(&mut errors, "reply", reply, 20_000);
        match result {
            ReviewResult::Modified if outcome.is_none() => {
                errors.add("outcome", Reason::ReviewOutcome);
            }
            ReviewResult::Upheld => {
                let given = [
                    ("outcome", outcome.is_some()),
                    ("remedies", !remedies.is_empty()),
                    ("sanctions", !sanctions.is_empty()),
                    ("actions", !actions.is_empty()),
                ];
                for (field, set) in given {
                    if set {
                        errors.add(field, Reason::ReviewUpheldOrders);
                    }
                }
            }
            ReviewResult::Modified => {}
        }
        measure_errors(&mut errors, &remedies, &sanctions, &actions, ctx);
        errors.into_result()?;
        let basis: Vec<String> = basis.into_iter().map(|b| b.trim().to_string()).collect();
        let actions = corrective_actions(actions, &reviewer.username, action_days, ctx);
        let decision = self.decision.as_mut().expect("checked by check_reviewer");
        decision.actions.extend(actions.iter().cloned());
        let before = decision.sanctions.clone();
        let (ordered, lifted): (Vec<Measure>, Vec<Measure>) = if result == ReviewResult::Modified {
            (
                sanctions
                    .iter()
                    .filter(|s| !before.contains(s))
                    .cloned()
                    .collect(),
                before
                    .iter()
                    .filter(|s| !sanctions.contains(s))
                    .cloned()
                    .collect(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let review = Review {
            result,
            basis: basis.clone(),
            reply: reply.trim().into(),
            outcome,
            remedies,
            sanctions,
            reviewed_by: reviewer.username.clone(),
            reviewed_at: ctx.now,
        };
        let reviewed = CaseEvent::Reviewed(ev::Reviewed {
            result,
            basis: basis.clone(),
            outcome,
            remedies: review.remedies.clone(),
            sanctions: review.sanctions.clone(),
            actions,
        });
        // The platform acts on sanctions (webhooks carry these events):
        // those the review orders anew, and those it drops.
        let sanction = |list: &[Measure]| ev::Sanction {
            respondent: self.record.respondent.clone(),
            sanctions: list.to_vec(),
            outcome,
            basis: basis.clone(),
            decided_by: reviewer.username.clone(),
            decided_at: Some(ctx.now),
            appeal_due_at: None,
            review: Some(true),
        };
        let ordered = (!ordered.is_empty()).then(|| sanction(&ordered));
        let lifted = (!lifted.is_empty()).then(|| sanction(&lifted));
        self.review = Some(review);
        self.close(Closure::Reviewed, ctx);
        let mut effects = Effects::default()
            .event(reviewed)
            .notify(Party::Complainant, NoticeKind::ReviewResult)
            .notify(Party::Respondent, NoticeKind::ReviewResult);
        if let Some(sanction) = ordered {
            effects = effects.event(CaseEvent::SanctionOrdered(sanction));
        }
        if let Some(sanction) = lifted {
            effects = effects.event(CaseEvent::SanctionLifted(sanction));
        }
        Ok(effects)
    }

    /// The remedies in force: a modified review's, else the decision's.
    pub fn final_remedies(&self) -> &[Measure] {
        match (&self.review, &self.decision) {
            (Some(r), _) if r.result == ReviewResult::Modified => &r.remedies,
            (_, Some(d)) => &d.remedies,
            _ => &[],
        }
    }

    /// The sanctions in force: a modified review's, else the decision's.
    pub fn final_sanctions(&self) -> &[Measure] {
        match (&self.review, &self.decision) {
            (Some(r), _) if r.result == ReviewResult::Modified => &r.sanctions,
            (_, Some(d)) => &d.sanctions,
            _ => &[],
        }
    }

    /// Withdrawal by the complainant, before a result.
    pub fn withdraw(&mut self, reason: Option<&str>, ctx: &Ctx) -> Result<Effects, Refusal> {
        if !self.status.is_before_result() {
            return Err(wrong(self.status, "withdrawn"));
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > 5000) {
            return Err(Refusal::invalid("reason", Reason::AtMost { n: 5000 }));
        }
        self.withdrawal_reason = reason.map(Into::into);
        self.close(Closure::Withdrawn, ctx);
        Ok(Effects::default()
            .event(CaseEvent::Withdrawn(ev::Withdrawn {
                reason: reason.map(Into::into),
            }))
            .notify(Party::Complainant, NoticeKind::Withdrawn))
    }

    /// Satisfaction rating after a result, once; kept beside the sealed file.
    pub fn rate(
        &mut self,
        score: i64,
        comment: Option<&str>,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.decision.is_none() && self.rejection.is_none() {
            return Err(wrong(self.status, "rated before a result"));
        }
        if self.feedback.is_some() {
            return Err(wrong(self.status, "rated a second time"));
        }
        let mut errors = FieldErrors::new();
        if !(1..=5).contains(&score) {
            errors.add("score", Reason::IntRange { a: 1, b: 5 });
        }
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > 5000) {
            errors.add("comment", Reason::AtMost { n: 5000 });
        }
        errors.into_result()?;
        self.feedback = Some(Feedback {
            score: score as u8,
            comment: comment.map(Into::into),
            at: ctx.now,
        });
        Ok(Effects::default().event(CaseEvent::Feedback(ev::FeedbackGiven { score })))
    }
}

/// The checks a decision's and a review's remedies, sanctions and
/// corrective actions share.
fn measure_errors(
    errors: &mut FieldErrors,
    remedies: &[Measure],
    sanctions: &[Measure],
    actions: &[ActionInput],
    ctx: &Ctx,
) {
    for (field, list) in [("remedies", remedies), ("sanctions", sanctions)] {
        for (i, m) in list.iter().enumerate() {
            if m.kind.trim().is_empty() || m.kind.chars().count() > 100 {
                errors.add(format!("{field}[{i}].kind"), Reason::Length { n: 100 });
            }
        }
    }
    for (i, a) in actions.iter().enumerate() {
        required_text(
            errors,
            &format!("actions[{i}].description"),
            &a.description,
            2000,
        );
        if a.due_at.is_some_and(|d| d <= ctx.now) {
            errors.add(format!("actions[{i}].due_at"), Reason::InFuture);
        }
    }
}

/// Corrective actions as ordered: owned by `owner` unless one is named,
/// due `action_days` working days from now unless a date is given.
fn corrective_actions(
    actions: Vec<ActionInput>,
    owner: &str,
    action_days: u32,
    ctx: &Ctx,
) -> Vec<CorrectiveAction> {
    let default_due = ctx.calendar.working_days_after(ctx.now, action_days);
    actions
        .into_iter()
        .map(|a| CorrectiveAction {
            id: new_id(),
            description: a.description.trim().into(),
            owner: a
                .owner
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty())
                .unwrap_or_else(|| owner.to_string()),
            due_at: a.due_at.unwrap_or(default_due),
            done_at: None,
            done_by: None,
            done_note: None,
            reminders: Vec::new(),
        })
        .collect()
}
