//! The deadline engine (SPEC §4) as pure domain maths: pause credit,
//! extensions, calendar edits, the alert schedule and its exactly-once
//! bookkeeping. Hand-worked tables on fixed 2025/2026 dates around China's
//! real holidays (National Day, Spring Festival and their make-up
//! Saturdays), properties over random instants, and one run of a case
//! through `register`/`accept`/`pause`/`resume`/`sweep`.
//!
//! Four tests pinned defects found while writing this file, since fixed:
//! `hours_clock_extend_to_is_the_chosen_date_even_after_an_earlier_pause`,
//! `hours_clock_pause_after_extend_by_gives_back_the_paused_hours`,
//! `a_still_overdue_case_is_reminded_every_working_day_after_extend_by`,
//! `after_working_seconds_of_zero_is_the_start_itself`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use redress_domain::calendar::{DayException, DayKind, WorkingHours};
use redress_domain::deadline::AlertBatch;
use redress_domain::testing::{World, event_kinds};
use redress_domain::*;

// ---------------------------------------------------------------- helpers

mod common;
use common::{date, sh, sh_end};

fn holiday(cal: &mut Calendar, d: NaiveDate) {
    cal.set(DayException {
        date: d,
        kind: DayKind::Holiday,
        name: "test holiday".into(),
    });
}

fn workday(cal: &mut Calendar, d: NaiveDate) {
    cal.set(DayException {
        date: d,
        kind: DayKind::Workday,
        name: "test make-up day".into(),
    });
}

fn policy() -> AlertPolicy {
    AlertPolicy::default()
}

fn handling(start: DateTime<Utc>, days: u32, cal: &Calendar) -> StageClock {
    StageClock::start(Stage::Handling, Unit::WorkingDays, days, start, cal)
}

fn pause_at(since: DateTime<Utc>) -> Pause {
    Pause {
        since,
        reason: "waiting for the respondent's records".into(),
        by: "handler".into(),
    }
}

/// Pauses at `since`, resumes at `until`; checks the engine's own
/// bookkeeping (credit == `working_days_in`, due moved by exactly the
/// credit) and returns the credit.
fn pause_resume(
    c: &mut StageClock,
    cal: &Calendar,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> u32 {
    let before = c.due_at;
    c.pause(pause_at(since));
    assert_eq!(c.running_due(), None, "paused clocks have no running due");
    let credit = c.resume(&policy(), cal, until);
    assert_eq!(
        credit,
        cal.working_days_in(since, until),
        "{since} → {until}"
    );
    assert_eq!(
        c.due_at,
        cal.working_days_after(before, credit),
        "due after resume == working_days_after(old due, credit)"
    );
    assert_eq!(c.running_due(), Some(c.due_at));
    credit
}

/// An alert's key, daily reminders named by their working days overdue
/// (`overdue:3`; the engine keys them by local date).
fn label(a: &Alert) -> String {
    match a.kind {
        AlertKind::Overdue { working_days } => format!("overdue:{working_days}"),
        _ => a.key.clone(),
    }
}

/// The keys a batch sends, sorted.
fn sent(batch: &AlertBatch) -> Vec<String> {
    let mut keys: Vec<String> = batch.send.iter().map(label).collect();
    keys.sort();
    keys
}

fn plan_at(c: &StageClock, cal: &Calendar, key: &str) -> DateTime<Utc> {
    c.plan(&policy(), cal)
        .into_iter()
        .find(|a| label(a) == key)
        .unwrap_or_else(|| panic!("{key} is not planned"))
        .at
}

/// The moment `percent` of the clock's working time has passed.
fn share_moment(c: &StageClock, cal: &Calendar, percent: i64) -> DateTime<Utc> {
    let total = cal.working_seconds(c.started_at, c.due_at);
    cal.after_working_seconds(c.started_at, total * percent / 100)
}

// ------------------------------------------------------ 1. pause / resume

/// (pause since, resume at, working days given back, why)
type PauseRow = (DateTime<Utc>, DateTime<Utc>, u32, &'static str);

#[test]
fn pause_credit_table() {
    let cal = Calendar::china();
    let rows: &[PauseRow] = &[
        (
            sh(2026, 11, 9, 10, 0),
            sh(2026, 11, 10, 15, 0),
            1,
            "Mon 10:00 → Tue 15:00: Tuesday",
        ),
        (
            sh(2026, 11, 9, 10, 0),
            sh(2026, 11, 9, 17, 0),
            0,
            "same day",
        ),
        (
            sh(2026, 11, 9, 0, 1),
            sh(2026, 11, 9, 23, 59),
            0,
            "same day, almost all of it",
        ),
        (
            sh(2026, 11, 6, 10, 0),
            sh(2026, 11, 9, 15, 0),
            1,
            "Fri → Mon over a weekend: Monday only",
        ),
        (
            sh(2026, 11, 6, 10, 0),
            sh(2026, 11, 8, 15, 0),
            0,
            "Fri → Sun: only weekend days",
        ),
        (
            sh(2026, 11, 6, 10, 0),
            sh(2026, 11, 16, 9, 0),
            6,
            "Fri → Mon a week later: 9..13 and 16",
        ),
        (
            sh(2026, 9, 24, 10, 0),
            sh(2026, 10, 8, 10, 0),
            4,
            "Mid-Autumn 09-25..27 and National Day 10-01..07 off: 28, 29, 30, 10-08",
        ),
        (
            sh(2026, 9, 30, 10, 0),
            sh(2026, 10, 7, 18, 0),
            0,
            "the whole Golden Week 2026 is off",
        ),
        (
            sh(2026, 9, 30, 10, 0),
            sh(2026, 10, 8, 9, 0),
            1,
            "Golden Week 2026 then Thu 10-08",
        ),
        (
            sh(2026, 10, 9, 10, 0),
            sh(2026, 10, 12, 10, 0),
            2,
            "make-up Saturday 10-10 counts, then Mon 10-12",
        ),
        (
            sh(2026, 10, 9, 10, 0),
            sh(2026, 10, 11, 10, 0),
            1,
            "make-up Saturday 10-10 alone",
        ),
        (
            sh(2026, 9, 18, 10, 0),
            sh(2026, 9, 21, 10, 0),
            2,
            "make-up Sunday 09-20, Mon 09-21",
        ),
        (
            sh(2026, 2, 13, 10, 0),
            sh(2026, 2, 24, 10, 0),
            2,
            "Spring Festival 2026: make-up Sat 02-14, 02-15..23 off, Tue 02-24",
        ),
        (
            sh(2026, 2, 13, 10, 0),
            sh(2026, 2, 23, 20, 0),
            1,
            "Spring Festival 2026: only the make-up Saturday",
        ),
        (
            sh(2026, 2, 14, 9, 0),
            sh(2026, 2, 14, 18, 0),
            0,
            "same make-up Saturday",
        ),
        (
            sh(2026, 2, 27, 10, 0),
            sh(2026, 3, 2, 10, 0),
            2,
            "make-up Sat 02-28, Mon 03-02",
        ),
        (
            sh(2025, 9, 30, 10, 0),
            sh(2025, 10, 9, 10, 0),
            1,
            "National Day 2025 10-01..08 off, Thu 10-09",
        ),
        (
            sh(2025, 1, 24, 10, 0),
            sh(2025, 2, 5, 10, 0),
            3,
            "Spring Festival 2025: make-up Sun 01-26, Mon 27, 01-28..02-04 off, Wed 02-05",
        ),
        // The instant of local midnight belongs to the end of the previous day.
        (
            sh_end(2026, 11, 9),
            sh(2026, 11, 10, 15, 0),
            1,
            "paused at Mon 24:00, resumed Tue 15:00: Tuesday",
        ),
        (
            sh(2026, 11, 9, 10, 0),
            sh_end(2026, 11, 9),
            0,
            "resumed at Mon 24:00: still Monday",
        ),
    ];
    for &(since, until, expected, why) in rows {
        // A handling clock that started on the day the pause begins.
        let mut c = handling(since, 15, &cal);
        let credit = pause_resume(&mut c, &cal, since, until);
        assert_eq!(credit, expected, "{why}");
        assert_eq!(c.paused_days, expected, "{why}");
    }
}

#[test]
fn due_after_resume_is_the_old_due_plus_the_credit() {
    let cal = Calendar::china();
    // Accepted Wed 2026-09-09 10:00: 15 working days are 09-10, 11, 14..18,
    // the make-up Sunday 09-20, 21..24, (25..27 Mid-Autumn), 28, 29, 30.
    let mut c = handling(sh(2026, 9, 9, 10, 0), 15, &cal);
    assert_eq!(c.due_at, sh_end(2026, 9, 30));
    // Paused Thu 09-24 10:00, resumed Thu 10-08: 28, 29, 30 and 10-08.
    let credit = pause_resume(&mut c, &cal, sh(2026, 9, 24, 10, 0), sh(2026, 10, 8, 11, 0));
    assert_eq!(credit, 4);
    // 10-08, 09, 10 (make-up Saturday), 12.
    assert_eq!(c.due_at, sh_end(2026, 10, 12));

    // Spring Festival 2026: accepted Mon 01-26, 15 working days end on the
    // make-up Saturday 02-14.
    let mut c = handling(sh(2026, 1, 26, 10, 0), 15, &cal);
    assert_eq!(c.due_at, sh_end(2026, 2, 14));
    // Paused Fri 02-13 → Tue 02-24: the make-up Saturday and 02-24.
    let credit = pause_resume(&mut c, &cal, sh(2026, 2, 13, 16, 0), sh(2026, 2, 24, 9, 30));
    assert_eq!(credit, 2);
    // 02-24, 02-25.
    assert_eq!(c.due_at, sh_end(2026, 2, 25));
}

#[test]
fn several_pauses_add_up() {
    let cal = Calendar::china();
    // Mon 2026-11-02 10:00 + 15 working days = Mon 11-23.
    let mut c = handling(sh(2026, 11, 2, 10, 0), 15, &cal);
    let original = c.due_at;
    assert_eq!(original, sh_end(2026, 11, 23));
    let a = pause_resume(&mut c, &cal, sh(2026, 11, 3, 10, 0), sh(2026, 11, 3, 16, 0));
    let b = pause_resume(
        &mut c,
        &cal,
        sh(2026, 11, 9, 10, 0),
        sh(2026, 11, 10, 15, 0),
    );
    let d = pause_resume(&mut c, &cal, sh(2026, 11, 12, 9, 0), sh(2026, 11, 16, 9, 0));
    assert_eq!((a, b, d), (0, 1, 2));
    assert_eq!(c.paused_days, 3);
    assert_eq!(c.due_at, cal.working_days_after(original, 3));
    assert_eq!(c.due_at, sh_end(2026, 11, 26));
    // The clock's basis re-derives the same instant.
    assert_eq!(c.compute(&cal), c.due_at);
}

#[test]
fn remaining_working_time_is_frozen_while_paused() {
    let cal = Calendar::china();
    let mut c = handling(sh(2026, 11, 2, 10, 0), 15, &cal);
    let since = sh(2026, 11, 9, 10, 0);
    let secs = c.remaining_working_seconds(&cal, since);
    let days = c.remaining_working_days(&cal, since);
    // Mon 11-09 10:00 → Mon 11-23 24:00: 14 h on Monday, then 10 whole days.
    assert_eq!(secs, 14 * 3600 + 10 * 86_400);
    assert_eq!(days, 10);
    c.pause(pause_at(since));
    for later in [
        sh(2026, 11, 9, 18, 0),
        sh(2026, 11, 14, 12, 0),
        sh(2026, 11, 30, 12, 0), // past the (frozen) due
    ] {
        assert_eq!(c.remaining_working_seconds(&cal, later), secs, "{later}");
        assert_eq!(c.remaining_working_days(&cal, later), days, "{later}");
    }
    // Running again: the time left at the resume is what was left at the
    // pause, up to the part of the resume day already gone.
    let resumed = sh(2026, 11, 12, 10, 0);
    c.resume(&policy(), &cal, resumed);
    assert_eq!(c.remaining_working_days(&cal, resumed), days);
    assert_eq!(
        c.remaining_working_seconds(&cal, resumed),
        14 * 3600 + 10 * 86_400
    );
}

// ------------------------------------------------------------ 2. extensions

#[test]
fn extend_by_adds_working_days_to_the_previous_due() {
    let cal = Calendar::china();
    let now = sh(2026, 9, 15, 10, 0);
    // (accepted, length, days added, expected due)
    let rows = [
        // Due Wed 09-30 (see above); National Day 2026 then make-up Sat 10-10.
        (sh(2026, 9, 9, 10, 0), 15, 1, sh_end(2026, 10, 8)),
        (sh(2026, 9, 9, 10, 0), 15, 3, sh_end(2026, 10, 10)),
        (sh(2026, 9, 9, 10, 0), 15, 5, sh_end(2026, 10, 13)),
        // Due on the make-up Sat 02-14; Spring Festival 02-15..23 off,
        // make-up Sat 02-28.
        (sh(2026, 1, 26, 10, 0), 15, 1, sh_end(2026, 2, 24)),
        (sh(2026, 1, 26, 10, 0), 15, 5, sh_end(2026, 2, 28)),
        (sh(2026, 1, 26, 10, 0), 15, 6, sh_end(2026, 3, 2)),
    ];
    for (start, length, n, expected) in rows {
        let mut c = handling(start, length, &cal);
        let previous = c.due_at;
        c.extend_by(n, &policy(), &cal, now.min(previous));
        assert_eq!(
            c.due_at,
            cal.working_days_after(previous, n),
            "{start} +{n}"
        );
        assert_eq!(c.due_at, expected, "{start} +{n}");
        assert_eq!(c.extension_days, n);
    }
    // Two extensions add up.
    let mut c = handling(sh(2026, 9, 9, 10, 0), 15, &cal);
    c.extend_by(1, &policy(), &cal, now);
    c.extend_by(2, &policy(), &cal, now);
    assert_eq!(c.due_at, sh_end(2026, 10, 10));
}

#[test]
fn extend_to_fixes_the_date_against_calendar_edits() {
    let mut cal = Calendar::china();
    let now = sh(2026, 9, 15, 10, 0);
    let mut c = handling(sh(2026, 9, 9, 10, 0), 15, &cal);
    // An earlier pause and an earlier extension are folded into the date.
    pause_resume(&mut c, &cal, sh(2026, 9, 10, 10, 0), sh(2026, 9, 11, 10, 0));
    c.extend_by(2, &policy(), &cal, now);
    let chosen = sh_end(2026, 10, 20);
    c.extend_to(chosen, &policy(), &cal, now);
    assert_eq!(c.due_at, chosen);
    assert_eq!((c.extension_days, c.paused_days), (0, 0));
    // New holidays before the date, a removed make-up day, a new make-up
    // Saturday: the chosen date stays.
    holiday(&mut cal, date(2026, 10, 14));
    holiday(&mut cal, date(2026, 9, 16));
    cal.remove(date(2026, 10, 10));
    workday(&mut cal, date(2026, 10, 17));
    assert_eq!(c.recompute(&policy(), &cal, now), None);
    assert_eq!(c.due_at, chosen);
    // A later pause still gives back its working days on top of the date.
    let credit = pause_resume(
        &mut c,
        &cal,
        sh(2026, 10, 12, 10, 0),
        sh(2026, 10, 13, 10, 0),
    );
    assert_eq!(credit, 1);
    assert_eq!(c.due_at, cal.working_days_after(chosen, 1));
}

#[test]
fn extend_by_then_a_holiday_edit_moves_the_due() {
    let mut cal = Calendar::china();
    let now = sh(2026, 11, 3, 10, 0);
    let mut c = handling(sh(2026, 11, 2, 10, 0), 15, &cal);
    assert_eq!(c.due_at, sh_end(2026, 11, 23));
    c.extend_by(5, &policy(), &cal, now);
    // 24..27, 30.
    assert_eq!(c.due_at, sh_end(2026, 11, 30));
    // A holiday inside the extension's span.
    holiday(&mut cal, date(2026, 11, 26));
    assert_eq!(
        c.recompute(&policy(), &cal, now),
        Some(sh_end(2026, 11, 30))
    );
    assert_eq!(c.due_at, sh_end(2026, 12, 1));
    // A holiday inside the original span.
    holiday(&mut cal, date(2026, 11, 5));
    assert_eq!(c.recompute(&policy(), &cal, now), Some(sh_end(2026, 12, 1)));
    assert_eq!(c.due_at, sh_end(2026, 12, 2));
    assert_eq!(c.recompute(&policy(), &cal, now), None, "stable");
}

// ---------------------------------------------------- 3. calendar recompute

#[test]
fn recompute_after_calendar_edits() {
    let now = sh(2026, 11, 3, 10, 0);
    let base = Calendar::china();
    let start = sh(2026, 11, 2, 10, 0);
    let due = sh_end(2026, 11, 23);
    // (edit, expected due after recompute)
    type Edit = fn(&mut Calendar);
    let rows: [(&str, Edit, DateTime<Utc>); 6] = [
        (
            "holiday Wed 11-11, between start and due",
            |c| holiday(c, date(2026, 11, 11)),
            sh_end(2026, 11, 24),
        ),
        (
            "holiday on the due day itself",
            |c| holiday(c, date(2026, 11, 23)),
            sh_end(2026, 11, 24),
        ),
        (
            "holiday after the due",
            |c| holiday(c, date(2026, 11, 24)),
            due,
        ),
        (
            "holiday on the start day (it does not count anyway)",
            |c| holiday(c, date(2026, 11, 2)),
            due,
        ),
        (
            "holiday on a Saturday (already off)",
            |c| holiday(c, date(2026, 11, 14)),
            due,
        ),
        (
            "make-up Saturday 11-14",
            |c| workday(c, date(2026, 11, 14)),
            sh_end(2026, 11, 20),
        ),
    ];
    for (why, edit, expected) in rows {
        let mut cal = base.clone();
        let mut c = handling(start, 15, &cal);
        assert_eq!(c.due_at, due);
        edit(&mut cal);
        let moved = c.recompute(&policy(), &cal, now);
        assert_eq!(c.due_at, expected, "{why}");
        assert_eq!(moved, (expected != due).then_some(due), "{why}");
        assert_eq!(c.recompute(&policy(), &cal, now), None, "{why}: stable");
    }
}

#[test]
fn recompute_keeps_pause_credit_on_the_new_calendar() {
    let mut cal = Calendar::china();
    let mut c = handling(sh(2026, 11, 2, 10, 0), 15, &cal);
    pause_resume(
        &mut c,
        &cal,
        sh(2026, 11, 9, 10, 0),
        sh(2026, 11, 10, 15, 0),
    );
    assert_eq!(c.due_at, sh_end(2026, 11, 24));
    holiday(&mut cal, date(2026, 11, 24));
    assert_eq!(
        c.recompute(&policy(), &cal, sh(2026, 11, 11, 9, 0)),
        Some(sh_end(2026, 11, 24))
    );
    assert_eq!(c.due_at, sh_end(2026, 11, 25));
}

#[test]
fn calendar_day_clocks_never_move() {
    let mut cal = Calendar::china();
    // The appeal window over National Day 2026: 15 calendar days from
    // Tue 09-22 end on Wed 10-07, holidays or not.
    let start = sh(2026, 9, 22, 10, 0);
    let mut appeal = StageClock::start(Stage::Appeal, Unit::CalendarDays, 15, start, &cal);
    assert_eq!(appeal.due_at, sh_end(2026, 10, 7));
    let now = sh(2026, 9, 23, 10, 0);
    holiday(&mut cal, date(2026, 9, 29));
    holiday(&mut cal, date(2026, 10, 8));
    cal.remove(date(2026, 10, 1));
    workday(&mut cal, date(2026, 10, 3));
    assert_eq!(appeal.recompute(&policy(), &cal, now), None);
    assert_eq!(appeal.due_at, sh_end(2026, 10, 7));
    // The complainant's window raises no staff alerts.
    assert!(appeal.plan(&policy(), &cal).is_empty());
    assert_eq!(appeal.next_alert_at(&policy(), &cal), None);
    assert!(sent(&appeal.take_alerts(&policy(), &cal, sh_end(2026, 10, 20))).is_empty());
}

// ------------------------------------------------------------- 4. alerts

/// Handling, 15 working days from Mon 2026-11-02 10:00: due Mon 11-23 24:00.
fn november_clock(cal: &Calendar) -> StageClock {
    let c = handling(sh(2026, 11, 2, 10, 0), 15, cal);
    assert_eq!(c.due_at, sh_end(2026, 11, 23));
    c
}

#[test]
fn share_reminders_fall_at_their_share_of_working_time() {
    let cal = Calendar::china();
    let c = november_clock(&cal);
    let total = cal.working_seconds(c.started_at, c.due_at);
    // 14 h on Monday 11-02, then 15 whole working days.
    assert_eq!(total, 14 * 3600 + 15 * 86_400);
    let at50 = cal.after_working_seconds(c.started_at, total * 50 / 100);
    let at80 = cal.after_working_seconds(c.started_at, total * 80 / 100);
    assert_eq!(plan_at(&c, &cal, "reminder:50"), at50);
    assert_eq!(plan_at(&c, &cal, "reminder:80"), at80);
    // By hand: 673 200 s = 14 h (11-02) + 7 days (3..6, 9..11) + 5 h.
    assert_eq!(at50, sh(2026, 11, 12, 5, 0));
    // 1 077 120 s = 14 h + 11 days (3..6, 9..13, 16, 17) + 21 h 12 min.
    assert_eq!(at80, sh(2026, 11, 18, 21, 12));
    let kinds: BTreeMap<String, AlertKind> = c
        .plan(&policy(), &cal)
        .into_iter()
        .map(|a| (label(&a), a.kind))
        .collect();
    assert_eq!(kinds["reminder:50"], AlertKind::Share { percent: 50 });
    assert_eq!(
        kinds["escalation:0"],
        AlertKind::Escalation {
            step: 0,
            to: Recipient::Head
        }
    );
    assert_eq!(
        kinds["escalation:1"],
        AlertKind::Escalation {
            step: 1,
            to: Recipient::Supervisors
        }
    );
    assert_eq!(kinds["overdue:0"], AlertKind::Overdue { working_days: 0 });
    assert_eq!(plan_at(&c, &cal, "escalation:0"), c.due_at);
    assert_eq!(plan_at(&c, &cal, "overdue:0"), c.due_at);
    assert_eq!(plan_at(&c, &cal, "escalation:1"), sh_end(2026, 11, 25));
    // In time order.
    let plan = c.plan(&policy(), &cal);
    assert!(plan.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn each_alert_is_sent_exactly_once_at_its_moment() {
    let cal = Calendar::china();
    let p = policy();
    let mut c = november_clock(&cal);
    let second = Duration::seconds(1);
    let at50 = sh(2026, 11, 12, 5, 0);
    let at80 = sh(2026, 11, 18, 21, 12);
    let due = c.due_at;

    assert_eq!(c.next_alert_at(&p, &cal), Some(at50));
    assert!(sent(&c.take_alerts(&p, &cal, c.started_at)).is_empty());
    assert!(sent(&c.take_alerts(&p, &cal, at50 - second)).is_empty());
    assert_eq!(sent(&c.take_alerts(&p, &cal, at50)), ["reminder:50"]);
    assert!(sent(&c.take_alerts(&p, &cal, at50)).is_empty(), "same time");
    assert!(
        sent(&c.take_alerts(&p, &cal, at80 - second)).is_empty(),
        "later"
    );
    assert_eq!(c.next_alert_at(&p, &cal), Some(at80));

    let batch = c.take_alerts(&p, &cal, at80 + Duration::hours(1));
    assert_eq!(sent(&batch), ["reminder:80"]);
    assert!(batch.superseded.is_empty());
    assert_eq!(
        batch.send[0].at, at80,
        "an alert carries its planned moment"
    );
    assert_eq!(batch.send[0].recipient(), Recipient::Responsible);
    assert!(sent(&c.take_alerts(&p, &cal, due - second)).is_empty());
    assert_eq!(c.next_alert_at(&p, &cal), Some(due));

    // At the due instant: the first overdue reminder and the first rung.
    let batch = c.take_alerts(&p, &cal, due);
    assert_eq!(sent(&batch), ["escalation:0", "overdue:0"]);
    let esc = batch.send.iter().find(|a| a.key == "escalation:0").unwrap();
    assert_eq!(esc.recipient(), Recipient::Head);
    assert_eq!(esc.at, due);
    assert!(sent(&c.take_alerts(&p, &cal, due)).is_empty());
    assert!(sent(&c.take_alerts(&p, &cal, due + Duration::hours(20))).is_empty());

    // One working day later (Tue 11-24 24:00): overdue:1.
    assert_eq!(c.next_alert_at(&p, &cal), Some(sh_end(2026, 11, 24)));
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, sh_end(2026, 11, 24))),
        ["overdue:1"]
    );
    // Two working days later: overdue:2 and the second rung, to Supervisors.
    let two = cal.working_days_after(due, 2);
    assert_eq!(two, sh_end(2026, 11, 25));
    assert!(sent(&c.take_alerts(&p, &cal, two - second)).is_empty());
    let batch = c.take_alerts(&p, &cal, two);
    assert_eq!(sent(&batch), ["escalation:1", "overdue:2"]);
    let esc = batch.send.iter().find(|a| a.key == "escalation:1").unwrap();
    assert_eq!(esc.recipient(), Recipient::Supervisors);
    assert!(sent(&c.take_alerts(&p, &cal, two)).is_empty());

    // Thursday and Friday each bring one; the weekend none; then the end
    // of Monday 11-30.
    assert_eq!(c.next_alert_at(&p, &cal), Some(sh_end(2026, 11, 26)));
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, sh_end(2026, 11, 26))),
        ["overdue:3"]
    );
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, sh_end(2026, 11, 27))),
        ["overdue:4"]
    );
    assert!(sent(&c.take_alerts(&p, &cal, sh(2026, 11, 29, 12, 0))).is_empty());
    assert!(sent(&c.take_alerts(&p, &cal, sh(2026, 11, 30, 23, 59))).is_empty());
    assert_eq!(c.next_alert_at(&p, &cal), Some(sh_end(2026, 11, 30)));
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, sh_end(2026, 11, 30))),
        ["overdue:5"]
    );
}

#[test]
fn after_a_stop_only_todays_overdue_reminder_but_every_missed_rung() {
    let cal = Calendar::china();
    let p = policy();
    let mut c = november_clock(&cal);
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, sh(2026, 11, 12, 5, 0))),
        ["reminder:50"]
    );
    // Nothing ran from before the 80 % moment until Sat 11-28 03:00: four
    // working days (24..27) after the due.
    let late = sh(2026, 11, 28, 3, 0);
    assert_eq!(cal.working_days_between(c.due_at, late), 4);
    let batch = c.take_alerts(&p, &cal, late);
    assert_eq!(sent(&batch), ["escalation:0", "escalation:1", "overdue:4"]);
    let overdue = batch.send.iter().find(|a| label(a) == "overdue:4").unwrap();
    assert_eq!(overdue.kind, AlertKind::Overdue { working_days: 4 });
    // The 80 % reminder's moment passed before anyone looked, and after
    // the due: recorded, not sent.
    assert_eq!(batch.superseded, ["reminder:80"]);
    assert!(c.alerts.contains(&"reminder:80".to_string()));
    // Only today's daily reminder is recorded: the days the stop skipped
    // are not.
    assert_eq!(
        c.alerts
            .iter()
            .filter(|k| k.starts_with("overdue:"))
            .count(),
        1,
        "{:?}",
        c.alerts
    );
    let again = c.take_alerts(&p, &cal, late);
    assert!(again.send.is_empty() && again.superseded.is_empty());
    // Then daily again: Mon 11-30 24:00 is overdue:5.
    assert_eq!(c.next_alert_at(&p, &cal), Some(sh_end(2026, 11, 30)));
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, sh_end(2026, 11, 30))),
        ["overdue:5"]
    );
}

#[test]
fn a_first_look_at_the_due_supersedes_every_share_reminder() {
    let cal = Calendar::china();
    let p = policy();
    let mut c = november_clock(&cal);
    let batch = c.take_alerts(&p, &cal, c.due_at);
    assert_eq!(batch.superseded, ["reminder:50", "reminder:80"]);
    assert_eq!(sent(&batch), ["escalation:0", "overdue:0"]);
}

#[test]
fn a_paused_clock_sends_nothing() {
    let cal = Calendar::china();
    let p = policy();
    let mut c = november_clock(&cal);
    c.pause(pause_at(sh(2026, 11, 4, 10, 0)));
    assert_eq!(c.next_alert_at(&p, &cal), None);
    for t in [
        sh(2026, 11, 12, 5, 0),
        sh_end(2026, 11, 23),
        sh_end(2026, 12, 31),
    ] {
        let batch = c.take_alerts(&p, &cal, t);
        assert!(batch.send.is_empty() && batch.superseded.is_empty(), "{t}");
    }
    assert!(c.alerts.is_empty());
    // Resumed Thu 11-05: one day back, and the schedule follows the new due.
    c.resume(&p, &cal, sh(2026, 11, 5, 9, 0));
    assert_eq!(c.due_at, sh_end(2026, 11, 24));
    assert_eq!(c.next_alert_at(&p, &cal), Some(share_moment(&c, &cal, 50)));
}

#[test]
fn extend_by_into_the_future_rearms_the_overdue_steps_but_not_past_shares() {
    let cal = Calendar::china();
    let p = policy();
    let mut c = november_clock(&cal);
    let old_due = c.due_at;
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, sh(2026, 11, 12, 5, 0))),
        ["reminder:50"]
    );
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, sh(2026, 11, 18, 21, 12))),
        ["reminder:80"]
    );
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, old_due)),
        ["escalation:0", "overdue:0"]
    );
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, sh_end(2026, 11, 24))),
        ["overdue:1"]
    );

    // Wed 11-25 01:00: ten more working days → Mon 12-07.
    let now = sh(2026, 11, 25, 1, 0);
    c.extend_by(10, &p, &cal, now);
    let due = c.due_at;
    assert_eq!(due, cal.working_days_after(old_due, 10));
    assert_eq!(due, sh_end(2026, 12, 7));
    // The 50 % moment of the longer clock is still in the past: kept.
    assert!(share_moment(&c, &cal, 50) <= now);
    assert!(c.alerts.contains(&"reminder:50".to_string()));
    // The 80 % moment moved into the future: it may come again.
    let at80 = share_moment(&c, &cal, 80);
    assert!(at80 > now);
    assert_eq!(at80, sh(2026, 11, 30, 21, 12));
    for key in ["overdue:", "escalation:0", "reminder:80"] {
        assert!(
            !c.alerts.iter().any(|k| k.starts_with(key)),
            "{key} re-armed"
        );
    }
    assert!(sent(&c.take_alerts(&p, &cal, now)).is_empty());
    assert_eq!(c.next_alert_at(&p, &cal), Some(at80));
    assert_eq!(sent(&c.take_alerts(&p, &cal, at80)), ["reminder:80"]);

    // The new due: the first rung and overdue:0 once more; no 50 % reminder.
    let batch = c.take_alerts(&p, &cal, due);
    assert_eq!(sent(&batch), ["escalation:0", "overdue:0"]);
    assert!(batch.superseded.is_empty());
    assert!(sent(&c.take_alerts(&p, &cal, due)).is_empty());
    let two = cal.working_days_after(due, 2);
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, two)),
        ["escalation:1", "overdue:2"]
    );
}

#[test]
fn extend_by_while_still_overdue_does_not_resend_what_was_sent() {
    let cal = Calendar::china();
    let p = policy();
    let mut c = november_clock(&cal);
    let late = sh(2026, 11, 28, 3, 0);
    c.take_alerts(&p, &cal, late);
    // One working day more: the new due (Tue 11-24) has passed too.
    c.extend_by(1, &p, &cal, late);
    assert_eq!(c.due_at, sh_end(2026, 11, 24));
    let batch = c.take_alerts(&p, &cal, late);
    assert!(batch.send.is_empty(), "{:?}", batch.send);
}

/// "After a staff deadline has passed, remind the responsible person again
/// every working day until the case moves" (`AlertPolicy::repeat_overdue`).
/// When the due moves later but stays in the past (an extension in working
/// days, or a holiday added before it), the overdue keys already sent are
/// kept while the count restarts from the new due, so the next working
/// day's count is a key already used and that day gets no reminder.
#[test]
fn a_still_overdue_case_is_reminded_every_working_day_after_extend_by() {
    let cal = Calendar::china();
    let p = policy();
    let mut c = november_clock(&cal);
    // Sat 11-28: four working days overdue (24..27).
    let late = sh(2026, 11, 28, 3, 0);
    assert!(sent(&c.take_alerts(&p, &cal, late)).contains(&"overdue:4".to_string()));
    c.extend_by(1, &p, &cal, late);
    assert_eq!(c.due_at, sh_end(2026, 11, 24));
    // Monday 11-30 is a working day on which the case is still overdue.
    let monday = sh_end(2026, 11, 30);
    assert_eq!(cal.working_days_between(c.due_at, monday), 4);
    let batch = c.take_alerts(&p, &cal, monday);
    assert!(
        batch
            .send
            .iter()
            .any(|a| matches!(a.kind, AlertKind::Overdue { .. })),
        "no overdue reminder on Mon 11-30; next planned at {:?}",
        c.next_alert_at(&p, &cal)
    );
}

#[test]
fn acceptance_escalates_to_supervisors_at_the_due_without_share_reminders() {
    let cal = Calendar::china();
    let p = policy();
    // Submitted Fri 2026-02-13: one working day is the make-up Sat 02-14.
    let mut c = StageClock::start(
        Stage::Acceptance,
        Unit::WorkingDays,
        1,
        sh(2026, 2, 13, 10, 0),
        &cal,
    );
    assert_eq!(c.due_at, sh_end(2026, 2, 14));
    let plan = c.plan(&p, &cal);
    assert!(
        plan.iter()
            .all(|a| !matches!(a.kind, AlertKind::Share { .. })),
        "{plan:?}"
    );
    let keys: Vec<String> = plan.iter().map(label).collect();
    assert_eq!(keys, ["escalation:0", "overdue:0"]);
    assert!(plan.iter().all(|a| a.at == c.due_at));
    assert_eq!(c.next_alert_at(&p, &cal), Some(c.due_at));
    assert!(sent(&c.take_alerts(&p, &cal, sh(2026, 2, 14, 23, 59))).is_empty());
    let batch = c.take_alerts(&p, &cal, c.due_at);
    assert_eq!(sent(&batch), ["escalation:0", "overdue:0"]);
    assert!(batch.superseded.is_empty());
    let esc = batch.send.iter().find(|a| a.key == "escalation:0").unwrap();
    assert_eq!(
        esc.kind,
        AlertKind::Escalation {
            step: 0,
            to: Recipient::Supervisors
        }
    );
    // The acceptance ladder has one rung: after the Spring Festival only
    // the daily reminder (first working day after 02-14 is 02-24).
    assert_eq!(c.next_alert_at(&p, &cal), Some(sh_end(2026, 2, 24)));
    assert_eq!(
        sent(&c.take_alerts(&p, &cal, sh_end(2026, 2, 25))),
        ["overdue:2"]
    );
}

// -------------------------------------------------- clocks in working hours

fn office_hours() -> Calendar {
    Calendar::china().with_working_hours(Some(WorkingHours::parse("09:00-18:00").unwrap()))
}

/// An extension to a date fixes the due instant at that date ("from then
/// on the due instant is that date (plus later pauses)"). A clock in
/// working hours keeps the seconds of pauses that ended *before* the
/// extension in `paused_seconds`, which `extend_to` does not clear, so the
/// chosen date is pushed later by them.
#[test]
fn hours_clock_extend_to_is_the_chosen_date_even_after_an_earlier_pause() {
    let cal = office_hours();
    let p = policy();
    // Mon 2026-11-02 10:00 + 16 working hours: 8 on Monday, 8 on Tuesday.
    let mut c = StageClock::start(
        Stage::Handling,
        Unit::WorkingHours,
        16,
        sh(2026, 11, 2, 10, 0),
        &cal,
    );
    assert_eq!(c.due_at, sh(2026, 11, 3, 17, 0));
    c.pause(pause_at(sh(2026, 11, 3, 9, 0)));
    c.resume(&p, &cal, sh(2026, 11, 3, 11, 0));
    assert_eq!(c.paused_seconds, 7200);
    assert_eq!(c.due_at, sh(2026, 11, 4, 10, 0));
    let chosen = sh(2026, 11, 10, 17, 0);
    c.extend_to(chosen, &p, &cal, sh(2026, 11, 3, 12, 0));
    assert_eq!(c.due_at, chosen, "extend_to must land on the chosen date");
}

/// A pause on a clock in working hours gives back the working seconds it
/// covered, also after an extension in working days (which adds whole
/// working days of working time, keeping the time of day).
#[test]
fn hours_clock_pause_after_extend_by_gives_back_the_paused_hours() {
    let cal = office_hours();
    let p = policy();
    // Mon 2026-11-02 10:00 + 4 working hours = 14:00.
    let mut c = StageClock::start(
        Stage::Handling,
        Unit::WorkingHours,
        4,
        sh(2026, 11, 2, 10, 0),
        &cal,
    );
    assert_eq!(c.due_at, sh(2026, 11, 2, 14, 0));
    c.extend_by(2, &p, &cal, sh(2026, 11, 2, 11, 0));
    assert_eq!(c.due_at, sh(2026, 11, 4, 14, 0));
    let previous = c.due_at;
    // Paused Tue 10:00 → 12:00: two working hours.
    c.pause(pause_at(sh(2026, 11, 3, 10, 0)));
    c.resume(&p, &cal, sh(2026, 11, 3, 12, 0));
    assert_eq!(c.paused_seconds, 7200);
    assert_eq!(
        c.due_at,
        cal.after_working_seconds(previous, 7200),
        "two paused working hours must move the due (was {previous})"
    );
}

// ------------------------------------------------------- calendar contract

/// `after_working_seconds` promises "the earliest instant t >= from with
/// working_seconds(from, t) == seconds". For 0 seconds that is `from`
/// itself; from non-working time it returns the start of the next working
/// day instead.
#[test]
fn after_working_seconds_of_zero_is_the_start_itself() {
    let cal = Calendar::china();
    // Within a working day it holds.
    let tue = sh(2026, 11, 3, 10, 0);
    assert_eq!(cal.after_working_seconds(tue, 0), tue);
    // Saturday 2026-11-07 10:00 → 15:00: no working time between.
    let a = sh(2026, 11, 7, 10, 0);
    let b = sh(2026, 11, 7, 15, 0);
    assert_eq!(cal.working_seconds(a, b), 0);
    assert_eq!(cal.after_working_seconds(a, 0), a);
    assert!(cal.after_working_seconds(a, cal.working_seconds(a, b)) <= b);
}

// ------------------------------------------------------- 5. properties

const RANGE_START: i64 = 1_735_660_800; // 2025-01-01T00:00:00+08:00
const RANGE_END: i64 = 1_798_732_800; // 2027-01-01T00:00:00+08:00

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (RANGE_START..RANGE_END).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

fn is_share(a: &Alert) -> bool {
    matches!(a.kind, AlertKind::Share { .. })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) Shares fall in [start, due); rungs and overdue reminders at or
    /// after the due.
    #[test]
    fn plan_is_ordered_around_the_due(start in instant(), len in 1u32..40, review in any::<bool>()) {
        let cal = Calendar::china();
        let stage = if review { Stage::Review } else { Stage::Handling };
        let c = StageClock::start(stage, Unit::WorkingDays, len, start, &cal);
        let plan = c.plan(&policy(), &cal);
        prop_assert!(plan.windows(2).all(|w| w[0].at <= w[1].at));
        for a in &plan {
            prop_assert!(a.at >= start, "{a:?}");
            if is_share(a) {
                prop_assert!(a.at < c.due_at, "{a:?}");
            } else {
                prop_assert!(a.at >= c.due_at, "{a:?}");
            }
        }
        // Both shares exist for any real deadline, and both rungs.
        prop_assert_eq!(plan.iter().filter(|a| is_share(a)).count(), 2);
        prop_assert!(plan.iter().any(|a| a.key == "escalation:1"));
        let acceptance = StageClock::start(Stage::Acceptance, Unit::WorkingDays, len, start, &cal);
        for a in acceptance.plan(&policy(), &cal) {
            prop_assert!(!is_share(&a));
            prop_assert!(a.at >= acceptance.due_at);
        }
    }

    /// (b) + (c) Sweeping at increasing random times: no key twice; at due
    /// + 5 working days every share and every rung was handled exactly
    /// once; `next_alert_at` is always ahead of the last sweep (or an
    /// alert still owed).
    #[test]
    fn sweeps_at_random_times_handle_each_alert_once(
        start in instant(),
        len in 1u32..40,
        steps in prop::collection::vec(0i64..(3 * 86_400), 1..60),
    ) {
        let cal = Calendar::china();
        let p = policy();
        let mut c = handling(start, len, &cal);
        let plan = c.plan(&p, &cal);
        let end = cal.working_days_after(c.due_at, 5);
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut sent_keys = BTreeSet::new();
        let mut now = start;
        let mut times: Vec<DateTime<Utc>> = Vec::new();
        for s in steps {
            now += Duration::seconds(s);
            if now >= end {
                break;
            }
            times.push(now);
        }
        times.push(end);
        let mut last = None;
        for now in times {
            let batch = c.take_alerts(&p, &cal, now);
            for a in &batch.send {
                prop_assert!(a.at <= now, "{a:?} sent early at {now}");
                *seen.entry(a.key.clone()).or_default() += 1;
                sent_keys.insert(label(a));
            }
            for k in &batch.superseded {
                *seen.entry(k.clone()).or_default() += 1;
            }
            last = Some(now);
            if let Some(next) = c.next_alert_at(&p, &cal) {
                let owed = c
                    .plan(&p, &cal)
                    .into_iter()
                    .any(|a| a.at == next && !c.alerts.contains(&a.key));
                prop_assert!(next > now || owed, "next {next} at {now}");
            }
        }
        prop_assert_eq!(last, Some(end));
        for (k, n) in &seen {
            prop_assert_eq!(*n, 1, "{} handled {} times", k, n);
        }
        for a in plan.iter().filter(|a| is_share(a) || a.key.starts_with("escalation:")) {
            prop_assert_eq!(seen.get(&a.key).copied(), Some(1), "{}", a.key);
        }
        // Rungs are always sent, never superseded; and today's overdue
        // reminder was sent on the last sweep.
        prop_assert!(sent_keys.contains("escalation:0") && sent_keys.contains("escalation:1"));
        prop_assert!(sent_keys.contains("overdue:5"));
        let mut keys = c.alerts.clone();
        keys.sort();
        keys.dedup();
        prop_assert_eq!(keys.len(), c.alerts.len(), "{:?}", c.alerts);
    }

    /// (d) Working seconds are additive, and `after_working_seconds`
    /// inverts them (exactly when `b` ends a stretch of working time).
    #[test]
    fn working_seconds_are_additive_and_invertible(
        a in instant(),
        ab in prop_oneof![0i64..86_400, 0i64..(40 * 86_400)],
        bc in prop_oneof![0i64..86_400, 0i64..(40 * 86_400)],
    ) {
        let cal = Calendar::china();
        let b = a + Duration::seconds(ab);
        let c = b + Duration::seconds(bc);
        let (x, y, z) = (cal.working_seconds(a, b), cal.working_seconds(b, c), cal.working_seconds(a, c));
        prop_assert_eq!(x + y, z);
        prop_assert!(x <= ab && y <= bc);
        // (`after_working_seconds(a, 0)` from non-working time is covered
        // by `after_working_seconds_of_zero_is_the_start_itself`.)
        if x > 0 {
            let back = cal.after_working_seconds(a, x);
            prop_assert!(back <= b, "{back} > {b}");
            prop_assert_eq!(cal.working_seconds(a, back), x);
            let working_just_before_b = cal.is_working_day(cal.local_date(b - Duration::seconds(1)));
            if working_just_before_b {
                prop_assert_eq!(back, b);
            }
        }
    }

    /// (e) A pause never makes the due earlier; a pause within one local
    /// day leaves it unchanged.
    #[test]
    fn pauses_never_pull_the_due_earlier(
        start in instant(),
        len in 1u32..40,
        after in 0i64..(30 * 86_400),
        length in 0i64..(20 * 86_400),
        same_day in 0i64..86_400,
    ) {
        let cal = Calendar::china();
        let p = policy();
        let mut c = handling(start, len, &cal);
        let before = c.due_at;
        let since = start + Duration::seconds(after);
        c.pause(pause_at(since));
        c.resume(&p, &cal, since + Duration::seconds(length));
        prop_assert!(c.due_at >= before);
        prop_assert_eq!(c.due_at, cal.working_days_after(before, c.paused_days));

        // Within one local day: from `since` to at most that day's 24:00.
        let mut c = handling(start, len, &cal);
        let day_end = cal.working_days_after(since, 0);
        let until = (since + Duration::seconds(same_day)).min(day_end);
        c.pause(pause_at(since));
        prop_assert_eq!(c.resume(&p, &cal, until), 0);
        prop_assert_eq!(c.due_at, before);
    }
}

// ------------------------------------------------------- the case level

fn staff_notices(effects: &Effects) -> Vec<(NoticeKind, Option<Recipient>)> {
    effects
        .notices
        .iter()
        .filter(|n| n.party == Party::Staff)
        .map(|n| (n.kind, n.to))
        .collect()
}

#[test]
fn a_case_is_swept_through_reminders_a_pause_and_escalation() {
    let w = World::at(sh(2026, 11, 2, 9, 0));
    let staff = |now| w.ctx_as(now, Actor::staff("handler"));
    let sweep = |case: &mut Case, now| case.sweep(&w.ctx_as(now, Actor::system("sweep")));

    let mut case = w.registered();
    assert_eq!(case.deadlines.acceptance_due_at, Some(sh_end(2026, 11, 3)));
    assert_eq!(sweep(&mut case, sh(2026, 11, 2, 9, 30)), None);

    case.accept(
        "refund",
        "ops",
        StageDays::default(),
        &staff(sh(2026, 11, 2, 10, 0)),
    )
    .unwrap();
    // This test follows the staff clock alone: the respondent's reply
    // deadline (which wakes the sweep too) has its own tests.
    assert!(case.respondent_reply.is_some());
    case.respondent_reply = None;
    assert_eq!(case.deadlines.handling_due_at, Some(sh_end(2026, 11, 23)));
    let at50 = sh(2026, 11, 12, 5, 0);
    assert_eq!(case.sweep_at(&w.policy, &w.calendar), Some(at50));
    assert_eq!(sweep(&mut case, at50 - Duration::seconds(1)), None);

    // The 50 % reminder, to the responsible person.
    let effects = sweep(&mut case, at50).expect("the 50 % reminder");
    assert_eq!(event_kinds(&effects), ["reminder_sent"]);
    assert_eq!(effects.events[0].data()["key"], "reminder:50");
    assert_eq!(effects.events[0].data()["percent"], 50);
    assert_eq!(effects.events[0].data()["to"], "responsible");
    assert_eq!(
        staff_notices(&effects),
        [(NoticeKind::Reminder, Some(Recipient::Responsible))]
    );
    assert_eq!(sweep(&mut case, at50), None, "exactly once");

    // Paused Fri 11-13 → Mon 11-16 15:00: one working day back.
    case.pause("等待被投诉方提供记录", &staff(sh(2026, 11, 13, 10, 0)))
        .unwrap();
    assert_eq!(case.sweep_at(&w.policy, &w.calendar), None);
    assert_eq!(sweep(&mut case, sh(2026, 11, 30, 12, 0)), None, "paused");
    let resumed = case
        .resume(Some("记录已收到"), &staff(sh(2026, 11, 16, 15, 0)))
        .unwrap();
    assert_eq!(resumed.events[0].data()["working_days_added"], 1);
    let due = sh_end(2026, 11, 24);
    assert_eq!(case.deadlines.handling_due_at, Some(due));
    assert_eq!(case.next_due_at(), Some(due));

    // The 80 % reminder of the longer clock.
    let clock = case.clock.clone().unwrap();
    let at80 = share_moment(&clock, &w.calendar, 80);
    assert_eq!(case.sweep_at(&w.policy, &w.calendar), Some(at80));
    let effects = sweep(&mut case, at80).expect("the 80 % reminder");
    assert_eq!(event_kinds(&effects), ["reminder_sent"]);
    assert_eq!(effects.events[0].data()["key"], "reminder:80");
    assert_eq!(sweep(&mut case, at80), None);

    // At the due: missed, escalated to the head, first overdue reminder.
    assert_eq!(case.sweep_at(&w.policy, &w.calendar), Some(due));
    let effects = sweep(&mut case, due).expect("the due");
    let mut k = event_kinds(&effects);
    k.sort();
    assert_eq!(k, ["deadline_missed", "escalated", "reminder_sent"]);
    let escalated = effects
        .events
        .iter()
        .find(|e| e.kind() == "escalated")
        .unwrap();
    assert_eq!(escalated.data()["to"], "head");
    assert_eq!(escalated.data()["step"], 1);
    assert_eq!(escalated.data()["key"], "escalation:0");
    let reminder = effects
        .events
        .iter()
        .find(|e| e.kind() == "reminder_sent")
        .unwrap();
    // Keyed by the local date the reminder's moment begins (24:00 of 11-24).
    assert_eq!(reminder.data()["key"], "overdue:2026-11-25");
    assert_eq!(reminder.data()["working_days_overdue"], 0);
    let mut notices = staff_notices(&effects);
    notices.sort_by_key(|(kind, _)| kind.as_str());
    assert_eq!(
        notices,
        [
            (NoticeKind::Escalation, Some(Recipient::Head)),
            (NoticeKind::Reminder, Some(Recipient::Responsible)),
        ]
    );
    assert_eq!(sweep(&mut case, due), None, "exactly once");

    // Nobody looked for two working days: the supervisors, and today's
    // overdue reminder only.
    let two = w.calendar.working_days_after(due, 2);
    let effects = sweep(&mut case, two).expect("two working days overdue");
    let mut k = event_kinds(&effects);
    k.sort();
    assert_eq!(k, ["escalated", "reminder_sent"]);
    let escalated = effects
        .events
        .iter()
        .find(|e| e.kind() == "escalated")
        .unwrap();
    assert_eq!(escalated.data()["to"], "supervisors");
    assert_eq!(escalated.data()["key"], "escalation:1");
    let reminder = effects
        .events
        .iter()
        .find(|e| e.kind() == "reminder_sent")
        .unwrap();
    assert_eq!(reminder.data()["working_days_overdue"], 2);
    assert!(
        staff_notices(&effects).contains(&(NoticeKind::Escalation, Some(Recipient::Supervisors)))
    );
    assert_eq!(sweep(&mut case, two), None, "exactly once");
}
