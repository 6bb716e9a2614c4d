//! Keeping the file as long as the law requires: legal holds, the purge at
//! the end of the retention period, and erasure on request.

use super::*;

impl Case {
    /// Sets or releases a legal hold: a held case is kept past its
    /// retention period (SPEC §4) until the hold is released.
    pub fn set_legal_hold(&mut self, hold: bool, reason: &str) -> Result<Effects, Refusal> {
        let mut errors = FieldErrors::new();
        required_text(&mut errors, "reason", reason, 5000);
        errors.into_result()?;
        if self.purged_at.is_some() {
            return Err(wrong(self.status, "held (its file was purged)"));
        }
        if self.legal_hold == hold {
            return Err(wrong(
                self.status,
                if hold {
                    "held (it is already held)"
                } else {
                    "released (it is not held)"
                },
            ));
        }
        self.legal_hold = hold;
        let payload = ev::LegalHold {
            reason: reason.trim().into(),
            retention_until: self.deadlines.retention_until,
        };
        Ok(Effects::default().event(if hold {
            CaseEvent::LegalHoldSet(payload)
        } else {
            CaseEvent::LegalHoldReleased(payload)
        }))
    }

    /// The retention period has ended without a legal hold: the file's
    /// content goes ([`Case::erase_file`] for [`Erasure::RetentionEnded`]).
    pub fn purge(&mut self, ctx: &Ctx) -> Result<(Effects, Vec<String>), Refusal> {
        self.erase_file(Erasure::RetentionEnded, ctx)
    }

    /// Erases a closed case's file: at the end of its retention period (the
    /// sweep, event `purged`) or earlier, when a supervisor grants the
    /// complainant's request (PIPL; event `erased`, with the reason and the
    /// actor). One path for both: the content goes (the complainant's data,
    /// the texts, the messages, the evidence); what remains is the skeleton
    /// that statistics need — number, channel, category, department,
    /// respondent, dates, statuses, outcome and cited basis. Refused (409)
    /// while the case is open, under a legal hold, or once erased; an early
    /// erasure needs a reason (422). Returns the evidence hashes the file
    /// held (the caller removes those no other case names).
    pub fn erase_file(
        &mut self,
        why: Erasure<'_>,
        ctx: &Ctx,
    ) -> Result<(Effects, Vec<String>), Refusal> {
        let due = self.deadlines.retention_until;
        let event = match why {
            Erasure::RetentionEnded => {
                if self.status != Status::Closed
                    || self.legal_hold
                    || self.purged_at.is_some()
                    || due.is_none_or(|d| ctx.now < d)
                {
                    return Err(wrong(self.status, "purged"));
                }
                None
            }
            Erasure::Requested { reason } => {
                if self.status != Status::Closed {
                    return Err(wrong(
                        self.status,
                        "erased (only a closed case's data can be erased)",
                    ));
                }
                if self.legal_hold {
                    return Err(wrong(self.status, "erased (it is under a legal hold)"));
                }
                if self.purged_at.is_some() {
                    return Err(wrong(self.status, "erased (its file was purged already)"));
                }
                let mut errors = FieldErrors::new();
                required_text(&mut errors, "reason", reason, 5000);
                errors.into_result()?;
                Some(reason.trim().to_string())
            }
        };
        let hashes: Vec<String> = self.evidence.iter().map(|e| e.sha256.clone()).collect();
        let removed = ev::Removed {
            messages: self.messages.len(),
            notes: self.notes.len(),
            evidence: self.evidence.len(),
        };
        let record = &mut self.record;
        record.complainant = crate::registration::Complainant {
            name: String::new(),
            user_id: None,
            email: None,
            phone: None,
            postal_address: None,
        };
        record.subject = String::new();
        record.description = String::new();
        record.demands = None;
        record.occurred_at = None;
        record.links.clear();
        record.order_numbers.clear();
        self.call_reference = None;
        self.messages.clear();
        self.notes.clear();
        self.evidence.clear();
        self.possible_duplicates.clear();
        self.withdrawal_reason = None;
        if let Some(r) = &mut self.info_request {
            r.items.clear();
        }
        if let Some(r) = &mut self.rejection {
            r.reason.clear();
            r.guidance.clear();
        }
        if let Some(d) = &mut self.decision {
            d.reply.clear();
        }
        if let Some(a) = &mut self.appeal {
            a.reason.clear();
        }
        if let Some(r) = &mut self.review {
            r.reply.clear();
        }
        if let Some(f) = &mut self.feedback {
            f.comment = None;
        }
        for e in &mut self.extensions {
            e.reason.clear();
        }
        for d in &mut self.deliveries {
            if d.party == Party::Complainant {
                d.recipient = String::new();
            }
        }
        self.purged_at = Some(ctx.now);
        let effects = match event {
            None => Effects::default().event(CaseEvent::Purged(ev::Purged {
                retention_until: due,
                removed,
            })),
            Some(reason) => Effects::default().event(CaseEvent::Erased(ev::Erased {
                reason: reason.clone(),
                by: ctx.actor.clone(),
                retention_until: due,
                removed,
            })),
        };
        Ok((effects, hashes))
    }
}
