//! Handling an accepted case: the responsible person, messages, notes,
//! evidence, and the handling clock (extensions, pauses, a calendar change).

use super::*;

impl Case {
    /// Assigns the responsible person: a handler of the case's department
    /// while it is handled, an eligible reviewer while it is under review.
    pub fn assign(&mut self, to: &StaffRef, ctx: &Ctx) -> Result<Effects, Refusal> {
        match self.status {
            Status::Submitted | Status::NeedsInfo | Status::InProgress => {
                let dept = self.department.as_deref();
                let in_dept = dept.is_some_and(|d| to.departments.iter().any(|x| x == d));
                if dept.is_some() && !(to.roles.contains(&Role::Handler) && in_dept) {
                    return Err(Refusal::invalid("handler", Reason::Handler));
                }
                if dept.is_none() && !to.roles.contains(&Role::Intake) {
                    return Err(Refusal::invalid("handler", Reason::AssignIntake));
                }
            }
            Status::UnderReview => self
                .check_reviewer(to)
                .map_err(|_| Refusal::invalid("handler", Reason::Reviewer))?,
            _ => return Err(wrong(self.status, "assigned")),
        }
        let previous = self.assignee.replace(to.username.clone());
        self.touch(ctx.now);
        Ok(Effects::default().event(CaseEvent::Assigned(ev::Assigned {
            handler: to.username.clone(),
            previous,
        })))
    }

    pub(super) fn push_message(
        &mut self,
        audience: Audience,
        kind: ActorKind,
        name: &str,
        body: String,
        ctx: &Ctx,
    ) -> Effects {
        let id = new_id();
        self.messages.push(Message {
            id: id.clone(),
            audience,
            author: Author {
                kind,
                name: name.into(),
            },
            body: body.trim().to_string(),
            at: ctx.now,
            from_case: None,
            mail_id: None,
        });
        self.touch(ctx.now);
        let mut effects = Effects::default().event(CaseEvent::MessageAdded(ev::MessageAdded {
            message_id: id,
            audience,
            author: kind,
        }));
        // A message written by one party to another is a notice to that party.
        let to = match (audience, kind) {
            (Audience::Complainant, ActorKind::Staff) => Some(Party::Complainant),
            (Audience::Respondent, ActorKind::Staff) => Some(Party::Respondent),
            (_, ActorKind::Complainant | ActorKind::Respondent) => Some(Party::Staff),
            _ => None,
        };
        if let Some(party) = to {
            effects = effects.notify(party, NoticeKind::Message);
        }
        effects
    }

    /// A message on the case. Staff choose the audience; complainants and
    /// respondents always write in their own thread.
    pub fn add_message(
        &mut self,
        audience: Audience,
        author_kind: ActorKind,
        body: &str,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        self.open_for_change("messaged")?;
        if self.messages.len() >= MAX_MESSAGES {
            return Err(Refusal::Full(format!(
                "the case has {MAX_MESSAGES} messages, as many as a case may have"
            )));
        }
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "body", body, 20_000);
        errors.into_result()?;
        if audience == Audience::Respondent && self.record.respondent.is_none() {
            return Err(Refusal::invalid("audience", Reason::NoRespondent));
        }
        let mut effects = self.push_message(
            audience,
            author_kind,
            &ctx.actor.id.clone(),
            body.into(),
            ctx,
        );
        if author_kind == ActorKind::Respondent {
            effects.merge(self.record_respondent_reply(ctx));
        }
        Ok(effects)
    }

    /// A respondent message after acceptance is a reply: recorded with
    /// whether it came after the reply deadline (the first one meets it).
    fn record_respondent_reply(&mut self, ctx: &Ctx) -> Effects {
        let Some(message_id) = self.messages.last().map(|m| m.id.clone()) else {
            return Effects::default();
        };
        let Some(reply) = self.respondent_reply.as_mut() else {
            return Effects::default();
        };
        let first = reply.awaiting();
        let late = reply.record(&message_id, ctx.now);
        Effects::default().event(CaseEvent::RespondentReplied(ev::RespondentReplied {
            message_id,
            due_at: reply.due_at,
            late,
            first,
        }))
    }

    pub fn add_note(&mut self, kind: NoteKind, body: &str, ctx: &Ctx) -> Result<Effects, Refusal> {
        self.open_for_change("annotated")?;
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "body", body, 20_000);
        errors.into_result()?;
        let id = new_id();
        self.notes.push(Note {
            id: id.clone(),
            kind,
            body: body.trim().into(),
            author: ctx.actor.id.clone(),
            at: ctx.now,
        });
        self.touch(ctx.now);
        Ok(Effects::default().event(CaseEvent::NoteAdded(ev::NoteAdded { note_id: id, kind })))
    }

    pub fn add_evidence(&mut self, evidence: Evidence, ctx: &Ctx) -> Result<Effects, Refusal> {
        self.open_for_change("given evidence")?;
        if self.evidence.len() >= MAX_EVIDENCE {
            return Err(Refusal::Full(format!(
                "the case has {MAX_EVIDENCE} evidence files, as many as a case may have"
            )));
        }
        let event = CaseEvent::EvidenceAdded(ev::EvidenceAdded {
            evidence_id: evidence.id.clone(),
            sha256: evidence.sha256.clone(),
            size: evidence.size,
            content_type: evidence.content_type.clone(),
            filename: evidence.filename.clone(),
            by: evidence.uploaded_by.kind,
        });
        self.evidence.push(evidence);
        self.touch(ctx.now);
        Ok(Effects::default().event(event))
    }

    /// A new handling due date, with a reason and a progress notice: a
    /// date chosen by the handler, or a number of working days added.
    pub fn extend(&mut self, to: ExtendTo, reason: &str, ctx: &Ctx) -> Result<Effects, Refusal> {
        if self.status != Status::InProgress {
            return Err(wrong(self.status, "extended"));
        }
        if self.is_paused() {
            return Err(wrong(self.status, "extended while its clock is paused"));
        }
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "reason", reason, 5000);
        let previous = self.deadlines.handling_due_at;
        match to {
            ExtendTo::Date(due_at) => {
                if due_at <= ctx.now || previous.is_some_and(|p| due_at <= p) {
                    errors.add("due_at", Reason::LaterDue);
                }
                if due_at > ctx.now + chrono::Duration::days(366) {
                    errors.add("due_at", Reason::WithinYear);
                }
            }
            ExtendTo::WorkingDays(days) => {
                if !(1..=250).contains(&days) {
                    errors.add("days", Reason::Between { a: 1, b: 250 });
                }
            }
        }
        errors.into_result()?;
        let clock = self.staff_clock_mut("extended")?;
        match to {
            ExtendTo::Date(due_at) => {
                clock.extend_to(due_at, &ctx.policy.alerts, ctx.calendar, ctx.now)
            }
            ExtendTo::WorkingDays(days) => {
                clock.extend_by(days, &ctx.policy.alerts, ctx.calendar, ctx.now)
            }
        }
        let due_at = clock.due_at;
        self.mirror_due(Stage::Handling, due_at);
        self.extensions.push(Extension {
            due_at,
            previous_due_at: previous,
            reason: reason.trim().into(),
            by: ctx.actor.id.clone(),
            at: ctx.now,
        });
        self.touch(ctx.now);
        let days = match to {
            ExtendTo::WorkingDays(d) => Some(d),
            ExtendTo::Date(_) => None,
        };
        Ok(Effects::default()
            .event(CaseEvent::Extended(ev::Extended {
                due_at,
                previous_due_at: previous,
                working_days: days,
                reason: reason.trim().into(),
            }))
            .notify(Party::Complainant, NoticeKind::Progress))
    }

    /// Stops the clock of a staff deadline while the case waits for
    /// something outside the platform's hands; paused time does not count.
    pub fn pause(&mut self, reason: &str, ctx: &Ctx) -> Result<Effects, Refusal> {
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "reason", reason, 5000);
        let status = self.status;
        let clock = self.staff_clock_mut("paused")?;
        if clock.paused.is_some() {
            return Err(wrong(status, "paused (its clock is already paused)"));
        }
        errors.into_result()?;
        clock.pause(Pause {
            since: ctx.now,
            reason: reason.trim().into(),
            by: ctx.actor.id.clone(),
        });
        let (stage, due) = (clock.stage, clock.due_at);
        if let Some(reply) = self.respondent_reply.as_mut()
            && self.status == Status::InProgress
        {
            reply.pause(ctx.now);
        }
        self.touch(ctx.now);
        Ok(Effects::default()
            .event(CaseEvent::Paused(ev::Paused {
                stage,
                due_at: due,
                reason: reason.trim().into(),
            }))
            .notify(Party::Complainant, NoticeKind::Progress))
    }

    /// Restarts a paused clock; the working days the pause covered are
    /// added to the deadline.
    pub fn resume(&mut self, reason: Option<&str>, ctx: &Ctx) -> Result<Effects, Refusal> {
        if let Some(r) = reason {
            let mut errors = FieldErrors::new();
            required_text(&mut errors, "reason", r, 5000);
            errors.into_result()?;
        }
        let status = self.status;
        let clock = self.staff_clock_mut("resumed")?;
        let Some(since) = clock.paused.as_ref().map(|p| p.since) else {
            return Err(wrong(status, "resumed (its clock is not paused)"));
        };
        let previous = clock.due_at;
        let credit = clock.resume(&ctx.policy.alerts, ctx.calendar, ctx.now);
        let (stage, due) = (clock.stage, clock.due_at);
        self.mirror_due(stage, due);
        let reply_due = self.respondent_reply.as_mut().and_then(|r| {
            r.is_paused().then(|| {
                r.resume(ctx.now, ctx.calendar);
                r.due_at
            })
        });
        self.touch(ctx.now);
        Ok(Effects::default()
            .event(CaseEvent::Resumed(ev::Resumed {
                stage,
                paused_at: since,
                working_days_added: credit,
                previous_due_at: previous,
                due_at: due,
                respondent_reply_due_at: reply_due,
                reason: reason.map(|r| r.trim().to_string()),
            }))
            .notify(Party::Complainant, NoticeKind::Progress))
    }

    /// Re-derives the running deadline after the calendar changed; an
    /// event when it moved, nothing otherwise.
    pub fn recompute_deadline(&mut self, ctx: &Ctx) -> Option<Effects> {
        if self.is_sealed() {
            return None;
        }
        if self.status == Status::InProgress
            && let Some(reply) = self.respondent_reply.as_mut()
            && !reply.is_paused()
            && reply.awaiting()
        {
            reply.recompute(ctx.calendar);
        }
        let clock = self.clock.as_mut()?;
        let previous = clock.recompute(&ctx.policy.alerts, ctx.calendar, ctx.now)?;
        let (stage, due) = (clock.stage, clock.due_at);
        self.mirror_due(stage, due);
        if self.status == Status::NeedsInfo
            && let Some(req) = &mut self.info_request
        {
            req.due_at = due;
        }
        Some(
            Effects::default().event(CaseEvent::DeadlineRecomputed(ev::DeadlineRecomputed {
                stage,
                previous_due_at: previous,
                due_at: due,
                cause: ev::RecomputeCause::Calendar,
            })),
        )
    }
}
