//! Proof of notice: deliveries recorded, the appeal window that the
//! result notice starts, and new access codes.

use super::*;

impl Case {
    /// The one rule of the appeal window (SPEC §4), for every channel: the
    /// result notice reached the complainant at `at` (the first e-mail,
    /// SMS, webhook or postal delivery of it that succeeded). When it is
    /// the first such delivery and the case still waits for an appeal,
    /// `appeal_due_at` becomes the end of the appeal period counted from
    /// `at`; it never moves earlier. Call it *after* the delivery is
    /// recorded as sent: the answer is `(previous, new)` when it moved.
    /// A later delivery, a bounce or a failure never moves it.
    pub fn result_reached(
        &mut self,
        at: DateTime<Utc>,
        ctx: &Ctx,
    ) -> Option<(Option<DateTime<Utc>>, DateTime<Utc>)> {
        if self.status != Status::Resolved
            || self.appeal.is_some()
            || self.clock.as_ref().is_none_or(|c| c.stage != Stage::Appeal)
        {
            return None;
        }
        let reached = self
            .deliveries
            .iter()
            .filter(|d| {
                d.notice == NoticeKind::Result
                    && d.party == Party::Complainant
                    && d.channel != DeliveryChannel::InApp
                    && d.sent_at.is_some()
                    && matches!(d.status, DeliveryStatus::Sent | DeliveryStatus::Bounced)
            })
            .count();
        if reached != 1 {
            return None;
        }
        let appeal_days = self
            .stage_days
            .appeal_days
            .unwrap_or(ctx.policy.appeal_days);
        let from = StageClock::start(
            Stage::Appeal,
            Unit::CalendarDays,
            appeal_days,
            at,
            ctx.calendar,
        );
        let current = self.deadlines.appeal_due_at;
        if current.is_some_and(|c| from.due_at <= c) {
            return None;
        }
        let due = from.due_at;
        self.clock = Some(from);
        self.mirror_due(Stage::Appeal, due);
        Some((current, due))
    }

    /// Staff record a notice they sent by post (SPEC §7): a delivery on
    /// channel `post`, already sent on `sent_at`, with the letter's
    /// `reference` (kept as the delivery's provider id). A posted result
    /// notice starts the appeal window like any other delivery that
    /// reached the person: when no e-mail, SMS, webhook or postal delivery
    /// of the result succeeded before, `appeal_due_at` becomes the end of
    /// the appeal period counted from `sent_at`; it never moves earlier.
    pub fn record_post(
        &mut self,
        notice: NoticeKind,
        sent_at: DateTime<Utc>,
        reference: &str,
        ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        let mut errors = FieldErrors::new();
        if matches!(
            notice,
            NoticeKind::NewComplaint
                | NoticeKind::Reminder
                | NoticeKind::Escalation
                | NoticeKind::AppealReceived
        ) {
            errors.add("notice", Reason::NotComplainantNotice);
        }
        if sent_at > ctx.now {
            errors.add("sent_at", Reason::NotFuture);
        }
        if sent_at < self.created_at {
            errors.add("sent_at", Reason::BeforeFiled);
        }
        required_text(&mut errors, "reference", reference, 128);
        errors.into_result()?;
        if self.purged_at.is_some() {
            return Err(wrong(
                self.status,
                "given a posted notice (its file was purged)",
            ));
        }
        let mut delivery = Delivery::owed(
            new_id(),
            Party::Complainant,
            notice,
            DeliveryChannel::Post,
            "post".into(),
            ctx.now,
        );
        delivery.status = DeliveryStatus::Sent;
        delivery.sent_at = Some(sent_at);
        delivery.provider_id = Some(reference.trim().to_string());
        let id = delivery.id.clone();
        self.record_delivery(delivery);
        let appeal = if notice == NoticeKind::Result {
            self.result_reached(sent_at, ctx)
                .map(|(previous, due)| ev::AppealWindowMoved {
                    previous_appeal_due_at: previous,
                    appeal_due_at: due,
                })
        } else {
            None
        };
        self.touch(ctx.now);
        Ok(
            Effects::default().event(CaseEvent::DeliveryRecorded(ev::DeliveryRecorded {
                delivery: id,
                notice,
                channel: DeliveryChannel::Post,
                sent_at,
                reference: reference.trim().into(),
                appeal,
            })),
        )
    }

    /// Intake gave the complainant a new access code, after checking who
    /// they are (SPEC §11 `reissue-code`). The code lives beside the case
    /// (like the rating, it may change on a sealed case): only the journal
    /// records that it changed, never the code.
    ///
    /// `sent_by`: the channel a code asked for with `POST /track/recover`
    /// goes by (the application queues that delivery); `None` when intake
    /// hands it over.
    pub fn reissue_code(
        &mut self,
        sent_by: Option<DeliveryChannel>,
        _ctx: &Ctx,
    ) -> Result<Effects, Refusal> {
        if self.purged_at.is_some() {
            return Err(wrong(
                self.status,
                "given a new access code (its file was purged)",
            ));
        }
        Ok(
            Effects::default().event(CaseEvent::AccessCodeReissued(ev::AccessCodeReissued {
                sent_by,
            })),
        )
    }

    /// Records the delivery of a notice (the proof of notice).
    pub fn record_delivery(&mut self, delivery: Delivery) {
        self.deliveries.push(delivery);
    }
}
