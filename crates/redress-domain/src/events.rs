//! The kinds of journal event a case carries that the platform may
//! subscribe to with a webhook. Each kind's data is what the transition
//! wrote into the journal (never unsealed contact data).

/// Every case event kind the domain's transitions append, in lifecycle
/// order. Kinds the application adds about staff work on a case
/// (`personal_data_viewed`, `evidence_viewed`, `archive_exported`) and the complainant's
/// download of their own data (`data_exported`) are not offered.
pub const CASE_EVENTS: &[&str] = &[
    // filing and the front door
    "registered",
    "record_updated",
    "info_requested",
    "supplemented",
    "rejected",
    "accepted",
    "assigned",
    "access_code_reissued",
    "delivery_recorded",
    // the file
    "message_added",
    "note_added",
    "evidence_added",
    "linked",
    "merged",
    "merged_from",
    // deadlines
    "extended",
    "paused",
    "resumed",
    "deadline_recomputed",
    "deadline_missed",
    "reminder_sent",
    "escalated",
    // the respondent's reply deadline
    "respondent_replied",
    "respondent_reminder_sent",
    "respondent_reply_missed",
    // the result
    "decided",
    "sanction_ordered",
    "sanction_lifted",
    "action_completed",
    "action_updated",
    "action_reminder_sent",
    "appealed",
    "reviewed",
    // the end
    "withdrawn",
    "lapsed",
    "closed",
    "feedback",
    "legal_hold_set",
    "legal_hold_released",
    "purged",
    "erased",
];

/// Whether `kind` is a case event kind one may subscribe to.
pub fn is_case_event(kind: &str) -> bool {
    CASE_EVENTS.contains(&kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kinds written as literals in `case.rs` (`.event("kind", …)`),
    /// so that a new transition's event cannot be left out of the list.
    fn kinds_in_case_rs() -> Vec<String> {
        let source = include_str!("case.rs");
        let mut out = Vec::new();
        for (i, _) in source.match_indices(".event(") {
            let rest = source[i + ".event(".len()..].trim_start();
            if let Some(literal) = rest.strip_prefix('"')
                && let Some(end) = literal.find('"')
            {
                out.push(literal[..end].to_string());
            }
        }
        out
    }

    #[test]
    fn every_event_the_domain_writes_is_offered() {
        let found = kinds_in_case_rs();
        assert!(found.len() > 20, "the scan found too little: {found:?}");
        for kind in found {
            assert!(is_case_event(&kind), "{kind} is missing from CASE_EVENTS");
        }
        assert!(is_case_event("legal_hold_set") && is_case_event("legal_hold_released"));
        assert!(!is_case_event("personal_data_viewed") && !is_case_event("*"));
        let mut sorted = CASE_EVENTS.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), CASE_EVENTS.len(), "a kind is listed twice");
    }
}
