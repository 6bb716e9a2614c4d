//! The front door: material asked for and supplied, refusal, acceptance,
//! and the record completed before acceptance.

use super::*;

impl Case {
    /// Request for material: once per case, every missing item at once (一次性告知).
    pub fn request_info(
        &mut self,
        items: Vec<String>,
        due_days: Option<u32>,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.status != Status::Submitted {
            return Err(wrong(self.status, "asked for material"));
        }
        if self.info_request.is_some() {
            return Err(Refusal::WrongState {
                status: self.status.to_string(),
                action: "asked for material a second time (material may be requested only once)",
            });
        }
        let mut errors = FieldErrors::new();
        let items: Vec<String> = items.into_iter().map(|i| i.trim().to_string()).collect();
        if items.is_empty() {
            errors.add("items", Reason::Items);
        }
        if items.len() > 30 {
            errors.add("items", Reason::AtMostItems { n: 30 });
        }
        for (i, item) in items.iter().enumerate() {
            if item.is_empty() || item.chars().count() > 1000 {
                errors.add(format!("items[{i}]"), Reason::Length { n: 1000 });
            }
        }
        if let Some(d) = due_days
            && !(1..=60).contains(&d)
        {
            errors.add("due_days", Reason::Between { a: 1, b: 60 });
        }
        errors.into_result()?;
        let days = due_days.unwrap_or(ctx.policy.supplement_days);
        let due = self.start_clock(Stage::Supplement, Unit::WorkingDays, days, ctx);
        self.info_request = Some(InfoRequest {
            items: items.clone(),
            due_at: due,
            requested_at: ctx.now,
            requested_by: ctx.actor.id.clone(),
            answered_at: None,
        });
        self.status = Status::NeedsInfo;
        self.touch(ctx.now);
        Ok(Effects::default()
            .event(CaseEvent::InfoRequested(ev::InfoRequested {
                items,
                due_at: due,
            }))
            .notify(Party::Complainant, NoticeKind::RequestForMaterial))
    }

    /// Whether the complainant sent a file since material was last
    /// requested.
    pub fn files_sent_since_request(&self) -> bool {
        let Some(asked) = self.info_request.as_ref().map(|r| r.requested_at) else {
            return false;
        };
        self.evidence
            .iter()
            .any(|e| e.uploaded_by.kind == ActorKind::Complainant && e.at >= asked)
    }

    /// Whether the complainant sent anything since material was last
    /// requested: a file, or a message (a mailed reply is both at once).
    fn material_sent_since_request(&self) -> bool {
        let Some(asked) = self.info_request.as_ref().map(|r| r.requested_at) else {
            return false;
        };
        self.files_sent_since_request()
            || self.messages.iter().any(|m| {
                m.audience == Audience::Complainant
                    && m.author.kind == ActorKind::Complainant
                    && m.at >= asked
            })
    }

    /// The complainant's material arrived: back to `submitted`, and the
    /// acceptance clock starts again. Ends the `needs_info` stage: with a
    /// message, or without one when files or messages were sent since the
    /// request (SPEC §11: uploading a file does not end the stage by
    /// itself).
    pub fn supplement(&mut self, message: Option<String>, ctx: &Ctx) -> Result<Effects, Refusal> {
        if self.status != Status::NeedsInfo {
            return Err(wrong(self.status, "supplemented"));
        }
        if self
            .deadlines
            .supplement_due_at
            .is_some_and(|due| ctx.now >= due)
        {
            return Err(wrong(self.status, "supplemented after its deadline"));
        }
        if message.is_none() && !self.material_sent_since_request() {
            // Without a file or message sent since the request, the person
            // must say what they are adding.
            let mut errors = FieldErrors::new();
            errors.add("message", Reason::DescribeMaterial);
            errors.into_result()?;
        }
        if let Some(m) = &message {
            let mut errors = FieldErrors::new();
            required_text(&mut errors, "message", m, 20_000);
            errors.into_result()?;
            if self.messages.len() >= MAX_MESSAGES {
                return Err(Refusal::Full(format!(
                    "the case has {MAX_MESSAGES} messages, as many as a case may have"
                )));
            }
        }
        let (unit, length) = staff_length(Stage::Acceptance, None, ctx.policy);
        let due = self.start_clock(Stage::Acceptance, unit, length, ctx);
        if let Some(req) = &mut self.info_request {
            req.answered_at = Some(ctx.now);
        }
        let mut effects = Effects::default();
        if let Some(body) = message {
            effects = self.push_message(
                Audience::Complainant,
                ActorKind::Complainant,
                "complainant",
                body,
                ctx,
            );
        }
        self.status = Status::Submitted;
        self.touch(ctx.now);
        Ok(effects.event(CaseEvent::Supplemented(ev::Supplemented {
            acceptance_due_at: due,
        })))
    }

    /// Refusal to accept: always with a reason and guidance.
    pub fn reject(&mut self, reason: &str, guidance: &str, ctx: &Ctx) -> Result<Effects, Refusal> {
        if !matches!(self.status, Status::Submitted | Status::NeedsInfo) {
            return Err(wrong(self.status, "rejected"));
        }
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "reason", reason, 5000);
        required_text(&mut errors, "guidance", guidance, 5000);
        errors.into_result()?;
        self.rejection = Some(Rejection {
            reason: reason.trim().into(),
            guidance: guidance.trim().into(),
            by: ctx.actor.id.clone(),
            at: ctx.now,
        });
        self.close(Closure::Rejected, ctx);
        Ok(Effects::default()
            .event(CaseEvent::Rejected(ev::Rejected {
                reason: reason.trim().into(),
                guidance: guidance.trim().into(),
            }))
            .notify(Party::Complainant, NoticeKind::Refusal))
    }

    /// Acceptance classifies the case and routes it to a department.
    pub fn accept(
        &mut self,
        category: &str,
        department: &str,
        stage_days: StageDays,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.status != Status::Submitted {
            return Err(wrong(self.status, "accepted"));
        }
        if self.record.respondent.is_none() {
            return Err(Refusal::invalid("respondent", Reason::RecordNoRespondent));
        }
        let (unit, length) = staff_length(Stage::Handling, stage_days.handling_days, ctx.policy);
        let reply_days = stage_days
            .respondent_reply_days
            .unwrap_or(ctx.policy.respondent_reply_days);
        self.stage_days = stage_days;
        let due = self.start_clock(Stage::Handling, unit, length, ctx);
        let reply = crate::reply::ReplyDeadline::start(ctx.now, reply_days, ctx.calendar);
        let reply_due = reply.due_at;
        self.respondent_reply = Some(reply);
        self.category = Some(category.into());
        self.department = Some(department.into());
        self.accepted_at = Some(ctx.now);
        self.status = Status::InProgress;
        self.touch(ctx.now);
        Ok(Effects::default()
            .event(CaseEvent::Accepted(ev::Accepted {
                category: category.into(),
                department: department.into(),
                handling_due_at: due,
                respondent_reply_due_at: Some(reply_due),
            }))
            .notify(Party::Complainant, NoticeKind::Acceptance)
            .notify(Party::Respondent, NoticeKind::NewComplaint))
    }

    /// Replaces the registration record before acceptance; the event keeps
    /// the fields that changed (contact data only as "changed").
    pub fn update_record(&mut self, record: Registration, ctx: &Ctx) -> Result<Effects, Refusal> {
        if !matches!(self.status, Status::Submitted | Status::NeedsInfo) {
            return Err(wrong(
                self.status,
                "edited (the record can be completed only before acceptance)",
            ));
        }
        let old = serde_json::to_value(&self.record).unwrap_or(Value::Null);
        let new = serde_json::to_value(&record).unwrap_or(Value::Null);
        let mut changed = serde_json::Map::new();
        if let (Value::Object(o), Value::Object(n)) = (&old, &new) {
            for k in o.keys().chain(n.keys()) {
                if o.get(k) != n.get(k) && !changed.contains_key(k) {
                    let previous = if k == "complainant" {
                        redact_contact(&self.record.complainant, &record.complainant)
                    } else {
                        o.get(k).cloned().unwrap_or(Value::Null)
                    };
                    changed.insert(k.clone(), previous);
                }
            }
        }
        if changed.is_empty() {
            return Ok(Effects::default());
        }
        self.record = record;
        self.touch(ctx.now);
        Ok(
            Effects::default().event(CaseEvent::RecordUpdated(ev::RecordUpdated {
                previous: changed.clone(),
            })),
        )
    }
}

/// The complainant's previous values are personal data: the journal only
/// records which of them changed.
fn redact_contact(
    old: &crate::registration::Complainant,
    new: &crate::registration::Complainant,
) -> Value {
    let mark = |changed: bool| {
        if changed {
            json!("(changed)")
        } else {
            Value::Null
        }
    };
    json!({
        "name": mark(old.name != new.name),
        "user_id": mark(old.user_id != new.user_id),
        "email": mark(old.email != new.email),
        "phone": mark(old.phone != new.phone),
        "postal_address": mark(old.postal_address != new.postal_address),
    })
}
