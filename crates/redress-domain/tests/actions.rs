//! Reminders of corrective actions (SPEC §3): two working days before the
//! due date, then one per working day once it has passed, each key once.
//! Hand-worked on December 2026 in Shanghai (no holidays that month).

use chrono::{DateTime, Duration, Utc};
use redress_domain::*;

#[allow(dead_code)] // `date` is for the other test files
mod common;
use common::{sh, sh_end};

fn action(due: DateTime<Utc>) -> CorrectiveAction {
    CorrectiveAction {
        id: "a1".into(),
        description: "整改".into(),
        owner: "handler1".into(),
        due_at: due,
        done_at: None,
        done_by: None,
        done_note: None,
        reminders: Vec::new(),
    }
}

fn keys(r: &[ActionReminder]) -> Vec<&str> {
    r.iter().map(|r| r.key.as_str()).collect()
}

#[test]
fn reminded_two_working_days_ahead_then_each_working_day_overdue() {
    let cal = Calendar::china();
    // Due at the end of Friday 11 December 2026.
    let mut a = action(sh_end(2026, 12, 11));
    // Two working days remain from the start of Thursday.
    assert_eq!(a.soon_at(&cal), sh_end(2026, 12, 9));
    assert_eq!(a.next_reminder_at(&cal), Some(sh_end(2026, 12, 9)));
    assert!(a.take_reminders(&cal, sh(2026, 12, 9, 23, 59)).is_empty());
    let sent = a.take_reminders(&cal, sh(2026, 12, 10, 9, 0));
    assert_eq!(keys(&sent), ["soon:2026-12-11"]);
    assert_eq!(sent[0].overdue_days, None);
    assert!(a.take_reminders(&cal, sh(2026, 12, 11, 9, 0)).is_empty());
    assert_eq!(a.next_reminder_at(&cal), Some(sh_end(2026, 12, 11)));
    // At the due instant (Saturday 00:00), then Monday, not on Sunday.
    let sent = a.take_reminders(&cal, sh_end(2026, 12, 11));
    assert_eq!(keys(&sent), ["overdue:2026-12-12"]);
    assert!(a.take_reminders(&cal, sh(2026, 12, 13, 12, 0)).is_empty());
    assert_eq!(a.next_reminder_at(&cal), Some(sh_end(2026, 12, 13)));
    assert_eq!(
        keys(&a.take_reminders(&cal, sh(2026, 12, 14, 8, 0))),
        ["overdue:2026-12-14"]
    );
    assert!(a.take_reminders(&cal, sh(2026, 12, 14, 18, 0)).is_empty());
    // A stop of three days: only that day's reminder.
    let sent = a.take_reminders(&cal, sh(2026, 12, 17, 10, 0));
    assert_eq!(keys(&sent), ["overdue:2026-12-17"]);
    assert_eq!(sent[0].overdue_days, Some(3));
    assert_eq!(a.next_reminder_at(&cal), Some(sh_end(2026, 12, 17)));
    // Done: nothing more.
    a.done_at = Some(sh(2026, 12, 17, 11, 0));
    assert_eq!(a.next_reminder_at(&cal), None);
    assert!(a.take_reminders(&cal, sh(2026, 12, 21, 10, 0)).is_empty());
}

#[test]
fn a_due_date_already_passed_skips_the_early_reminder() {
    let cal = Calendar::china();
    // Due on a Monday afternoon; first looked at on Tuesday.
    let mut a = action(sh(2026, 12, 14, 15, 0));
    // Two working days: the Friday before (Saturday and Sunday do not count).
    assert_eq!(a.soon_at(&cal), sh_end(2026, 12, 10));
    let sent = a.take_reminders(&cal, sh(2026, 12, 15, 9, 0));
    assert_eq!(keys(&sent), ["overdue:2026-12-15"]);
    assert!(a.reminders.contains(&"soon:2026-12-14".to_string()));
    assert!(
        a.take_reminders(&cal, sh(2026, 12, 15, 9, 0) + Duration::hours(3))
            .is_empty()
    );
}
