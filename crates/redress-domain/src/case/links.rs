//! Links between cases and merging a duplicate into its original.

use super::*;

impl Case {
    pub fn link(&mut self, other: &mut Case, ctx: &Ctx) -> Result<(Effects, Effects), Refusal> {
        self.open_for_change("linked")?;
        if other.id == self.id {
            return Err(Refusal::invalid("other", Reason::LinkSelf));
        }
        if self.links.contains(&other.id) {
            return Ok((Effects::default(), Effects::default()));
        }
        self.links.push(other.id);
        self.touch(ctx.now);
        let mine = Effects::default().event(CaseEvent::Linked(ev::Linked {
            other: other.id,
            tracking_no: other.tracking_no.clone(),
        }));
        let mut theirs = Effects::default();
        if !other.is_sealed() && !other.links.contains(&self.id) {
            other.links.push(self.id);
            other.touch(ctx.now);
            theirs = theirs.event(CaseEvent::Linked(ev::Linked {
                other: self.id,
                tracking_no: self.tracking_no.clone(),
            }));
        }
        Ok((mine, theirs))
    }

    /// Merges this duplicate into an open original: this case closes, its
    /// messages and evidence move over, both tracking numbers keep working.
    pub fn merge_into(
        &mut self,
        original: &mut Case,
        ctx: &Ctx,
    ) -> Result<(Effects, Effects), Refusal> {
        if !self.status.is_before_result() {
            return Err(wrong(self.status, "merged"));
        }
        if original.id == self.id {
            return Err(Refusal::invalid("into", Reason::MergeSelf));
        }
        if original.is_sealed() || original.merged_into.is_some() {
            return Err(Refusal::WrongState {
                status: original.status.to_string(),
                action: "merged into (the original must be open)",
            });
        }
        if !self.same_parties(original) {
            return Err(Refusal::invalid("into", Reason::MergeParties));
        }
        // The original keeps within the caps with what it receives.
        if original.messages.len() + self.messages.len() > MAX_MESSAGES
            || original.evidence.len() + self.evidence.len() > MAX_EVIDENCE
        {
            return Err(Refusal::Full(format!(
                "merged, the original would hold more than {MAX_MESSAGES} messages or \
                 {MAX_EVIDENCE} evidence files"
            )));
        }
        let from = self.id.to_string();
        for m in &self.messages {
            let mut m = m.clone();
            m.from_case = Some(from.clone());
            original.messages.push(m);
        }
        for e in &self.evidence {
            let mut e = e.clone();
            e.from_case = Some(from.clone());
            original.evidence.push(e);
        }
        original.merged_from.push(self.id);
        original.touch(ctx.now);
        self.merged_into = Some(original.id);
        self.close(Closure::Merged, ctx);
        let mine = Effects::default()
            .event(CaseEvent::Merged(ev::Merged {
                into: original.id,
                tracking_no: original.tracking_no.clone(),
            }))
            .notify(Party::Complainant, NoticeKind::Merged);
        let theirs = Effects::default().event(CaseEvent::MergedFrom(ev::MergedFrom {
            from: self.id,
            tracking_no: self.tracking_no.clone(),
            messages: self.messages.len(),
            evidence: self.evidence.len(),
        }));
        Ok((mine, theirs))
    }

    /// Same respondent, and the same complainant by user id, email or phone.
    pub fn same_parties(&self, other: &Case) -> bool {
        let (a, b) = (&self.record.complainant, &other.record.complainant);
        let same = |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(x), Some(y)) if x.eq_ignore_ascii_case(y));
        let respondent = |c: &Case| c.record.respondent.as_ref().map(|r| r.key());
        respondent(self) == respondent(other)
            && (same(&a.user_id, &b.user_id)
                || same(&a.email, &b.email)
                || same(&a.phone, &b.phone))
    }
}
