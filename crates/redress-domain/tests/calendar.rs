//! Deadline arithmetic: properties over random instants and hand-worked
//! tables around every shipped Chinese holiday.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use proptest::prelude::*;
use redress_domain::calendar::{Calendar, DayException, DayKind, Tz};

mod common;
use common::{date, sh, sh_end};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

// ---------------------------------------------------------------- tables

/// (submitted, Shanghai local y/m/d/h/min), n working days, deadline date.
type Case = ((i32, u32, u32, u32, u32), u32, (i32, u32, u32));

fn check_working(cases: &[Case]) {
    let calendar = Calendar::china();
    for &((y, m, d, h, mi), n, (ey, em, ed)) in cases {
        let from = sh(y, m, d, h, mi);
        let got = calendar.working_days_after(from, n);
        assert_eq!(
            got,
            sh_end(ey, em, ed),
            "{y}-{m:02}-{d:02} {h:02}:{mi:02} + {n} working days"
        );
        if n >= 1 {
            assert_eq!(calendar.working_days_between(from, got), i64::from(n));
        }
    }
}

#[test]
fn new_year_2025() {
    check_working(&[
        ((2024, 12, 31, 10, 0), 1, (2025, 1, 2)), // 01-01 off
        ((2024, 12, 31, 10, 0), 2, (2025, 1, 3)),
        ((2025, 1, 1, 9, 0), 1, (2025, 1, 2)), // submitted on the holiday
        ((2024, 12, 27, 10, 0), 3, (2025, 1, 2)), // Mon 30, Tue 31, (Wed off), Thu 2
    ]);
}

#[test]
fn spring_festival_2025() {
    check_working(&[
        ((2025, 1, 24, 10, 0), 1, (2025, 1, 26)), // Sun 01-26 make-up day
        ((2025, 1, 24, 10, 0), 2, (2025, 1, 27)),
        ((2025, 1, 24, 10, 0), 3, (2025, 2, 5)), // 01-28..02-04 off
        ((2025, 1, 27, 10, 0), 1, (2025, 2, 5)),
        ((2025, 1, 27, 10, 0), 4, (2025, 2, 8)), // Sat 02-08 make-up day
        ((2025, 1, 27, 10, 0), 5, (2025, 2, 10)), // Sun 02-09 off
        ((2025, 1, 30, 10, 0), 1, (2025, 2, 5)), // submitted mid-holiday
        ((2025, 1, 25, 10, 0), 1, (2025, 1, 26)), // Sat before the make-up Sun
    ]);
}

#[test]
fn qingming_2025() {
    check_working(&[
        ((2025, 4, 3, 10, 0), 1, (2025, 4, 7)), // 04-04..04-06 off
        ((2025, 4, 2, 10, 0), 2, (2025, 4, 7)),
    ]);
}

#[test]
fn labour_day_2025() {
    check_working(&[
        ((2025, 4, 25, 10, 0), 1, (2025, 4, 27)), // Sun 04-27 make-up day
        ((2025, 4, 25, 10, 0), 2, (2025, 4, 28)),
        ((2025, 4, 25, 10, 0), 4, (2025, 4, 30)),
        ((2025, 4, 25, 10, 0), 5, (2025, 5, 6)), // 05-01..05-05 off
        ((2025, 4, 30, 10, 0), 1, (2025, 5, 6)),
    ]);
}

#[test]
fn dragon_boat_2025() {
    check_working(&[
        ((2025, 5, 30, 10, 0), 1, (2025, 6, 3)), // 05-31..06-02 off
        ((2025, 5, 29, 10, 0), 2, (2025, 6, 3)),
    ]);
}

#[test]
fn national_day_2025() {
    check_working(&[
        ((2025, 9, 30, 10, 0), 1, (2025, 10, 9)), // 10-01..10-08 off
        ((2025, 9, 26, 10, 0), 1, (2025, 9, 28)), // Sun 09-28 make-up day
        ((2025, 9, 26, 10, 0), 3, (2025, 9, 30)),
        ((2025, 10, 3, 10, 0), 1, (2025, 10, 9)),
        ((2025, 10, 9, 10, 0), 2, (2025, 10, 11)), // Sat 10-11 make-up day
        ((2025, 10, 9, 10, 0), 3, (2025, 10, 13)),
        // The usual 15-working-day handling time across the Golden Week:
        // 09-26, 09-28, 09-29, 09-30, 10-09, 10-10, 10-11, 10-13..10-17,
        // 10-20, 10-21, 10-22.
        ((2025, 9, 25, 10, 0), 15, (2025, 10, 22)),
    ]);
    assert_eq!(sh_end(2025, 10, 9), utc("2025-10-09T16:00:00Z"));
}

#[test]
fn new_year_2026() {
    check_working(&[
        ((2025, 12, 31, 10, 0), 1, (2026, 1, 4)), // 01-01..01-03 off, Sun 01-04 make-up
        ((2025, 12, 31, 10, 0), 2, (2026, 1, 5)),
        ((2026, 1, 2, 10, 0), 1, (2026, 1, 4)),
    ]);
}

#[test]
fn spring_festival_2026() {
    check_working(&[
        ((2026, 2, 13, 10, 0), 1, (2026, 2, 14)), // Sat 02-14 make-up day
        ((2026, 2, 13, 10, 0), 2, (2026, 2, 24)), // 02-15..02-23 off
        ((2026, 2, 13, 10, 0), 5, (2026, 2, 27)),
        ((2026, 2, 13, 10, 0), 6, (2026, 2, 28)), // Sat 02-28 make-up day
        ((2026, 2, 13, 10, 0), 7, (2026, 3, 2)),
        ((2026, 2, 14, 10, 0), 1, (2026, 2, 24)), // submitted on the make-up day
        ((2026, 2, 20, 10, 0), 1, (2026, 2, 24)),
    ]);
}

#[test]
fn qingming_2026() {
    check_working(&[
        ((2026, 4, 3, 10, 0), 1, (2026, 4, 7)), // 04-04..04-06 off
        ((2026, 4, 2, 10, 0), 2, (2026, 4, 7)),
    ]);
}

#[test]
fn labour_day_2026() {
    check_working(&[
        ((2026, 4, 30, 10, 0), 1, (2026, 5, 6)), // 05-01..05-05 off
        ((2026, 4, 30, 10, 0), 4, (2026, 5, 9)), // Sat 05-09 make-up day
        ((2026, 4, 30, 10, 0), 5, (2026, 5, 11)),
        ((2026, 5, 8, 10, 0), 1, (2026, 5, 9)),
    ]);
}

#[test]
fn dragon_boat_2026() {
    check_working(&[
        ((2026, 6, 18, 10, 0), 1, (2026, 6, 22)), // 06-19..06-21 off
    ]);
}

#[test]
fn mid_autumn_and_national_day_2026() {
    check_working(&[
        ((2026, 9, 24, 10, 0), 1, (2026, 9, 28)), // 09-25..09-27 off
        ((2026, 9, 24, 10, 0), 5, (2026, 10, 9)), // 28, 29, 30, (10-01..10-07 off), 8, 9
        ((2026, 9, 18, 10, 0), 1, (2026, 9, 20)), // Sun 09-20 make-up day
        ((2026, 9, 30, 10, 0), 1, (2026, 10, 8)),
        ((2026, 9, 30, 10, 0), 3, (2026, 10, 10)), // Sat 10-10 make-up day
        ((2026, 9, 30, 10, 0), 4, (2026, 10, 12)),
    ]);
}

#[test]
fn calendar_days_ignore_holidays() {
    let calendar = Calendar::china();
    assert_eq!(
        calendar.calendar_days_after(sh(2025, 9, 30, 10, 0), 7),
        sh_end(2025, 10, 7)
    );
    assert_eq!(
        calendar.calendar_days_after(sh(2026, 2, 13, 23, 59), 15),
        sh_end(2026, 2, 28)
    );
    assert_eq!(
        calendar.calendar_days_after(sh(2026, 2, 13, 10, 0), 0),
        sh_end(2026, 2, 13)
    );
}

#[test]
fn shipped_days_are_classified() {
    let calendar = Calendar::china();
    assert!(!calendar.is_working_day(date(2025, 10, 8)));
    assert!(calendar.is_working_day(date(2025, 10, 11)));
    assert!(!calendar.is_working_day(date(2026, 2, 15)));
    assert!(calendar.is_working_day(date(2026, 2, 14)));
    assert!(calendar.is_working_day(date(2026, 3, 2)));
    assert!(!calendar.is_working_day(date(2026, 3, 7)));
    let plain = Calendar::new(chrono_tz::Asia::Shanghai);
    assert!(plain.is_working_day(date(2025, 10, 8)));
    assert!(!plain.is_working_day(date(2025, 10, 11)));
}

#[test]
fn exceptions_in_2026_are_exactly_the_notice() {
    let calendar = Calendar::china();
    let mut holidays = Vec::new();
    let mut ranges = vec![
        (date(2026, 1, 1), date(2026, 1, 3)),
        (date(2026, 2, 15), date(2026, 2, 23)),
        (date(2026, 4, 4), date(2026, 4, 6)),
        (date(2026, 5, 1), date(2026, 5, 5)),
        (date(2026, 6, 19), date(2026, 6, 21)),
        (date(2026, 9, 25), date(2026, 9, 27)),
        (date(2026, 10, 1), date(2026, 10, 7)),
    ];
    for (first, last) in ranges.drain(..) {
        let mut d = first;
        while d <= last {
            holidays.push(d);
            d = d.succ_opt().unwrap();
        }
    }
    let workdays = vec![
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ];
    let list = calendar.exceptions_in_year(2026);
    let got_holidays: Vec<_> = list
        .iter()
        .filter(|e| e.kind == DayKind::Holiday)
        .map(|e| e.date)
        .collect();
    let got_workdays: Vec<_> = list
        .iter()
        .filter(|e| e.kind == DayKind::Workday)
        .map(|e| e.date)
        .collect();
    assert_eq!(got_holidays, holidays);
    assert_eq!(got_workdays, workdays);
    assert_eq!(list.len(), 33 + 6);
    assert!(list.windows(2).all(|w| w[0].date < w[1].date));
    for e in &workdays {
        assert!(matches!(e.weekday(), Weekday::Sat | Weekday::Sun));
    }
    assert_eq!(
        list.iter()
            .find(|e| e.date == date(2026, 2, 16))
            .unwrap()
            .name,
        "春节 Spring Festival"
    );
    // 2025: 1 + 8 + 3 + 5 + 3 + 8 days off, 5 make-up days.
    assert_eq!(calendar.exceptions_in_year(2025).len(), 28 + 5);
    assert!(calendar.exceptions_in_year(2024).is_empty());
    assert_eq!(Calendar::china_exceptions().len(), 33 + 39);
}

#[test]
fn set_and_remove() {
    let mut calendar = Calendar::china();
    let from = sh(2026, 3, 2, 10, 0); // Monday
    assert_eq!(calendar.working_days_after(from, 1), sh_end(2026, 3, 3));
    calendar.set(DayException {
        date: date(2026, 3, 3),
        kind: DayKind::Holiday,
        name: "local holiday".into(),
    });
    assert_eq!(calendar.working_days_after(from, 1), sh_end(2026, 3, 4));
    calendar.remove(date(2026, 3, 3));
    assert_eq!(calendar.working_days_after(from, 1), sh_end(2026, 3, 3));
    calendar.remove(date(2026, 2, 14));
    assert_eq!(
        calendar.working_days_after(sh(2026, 2, 13, 10, 0), 1),
        sh_end(2026, 2, 24)
    );
    assert_eq!(calendar.tz(), chrono_tz::Asia::Shanghai);
}

// ------------------------------------------------------ midnight and zones

#[test]
fn shanghai_midnight_belongs_to_the_previous_day() {
    let calendar = Calendar::china();
    let midnight = utc("2026-03-02T16:00:00Z"); // 00:00 Tue 03-03 in Shanghai
    assert_eq!(calendar.local_date(midnight), date(2026, 3, 3));
    assert_eq!(calendar.end_of_local_day(date(2026, 3, 2)), midnight);
    assert_eq!(calendar.working_days_after(midnight, 0), midnight);
    assert_eq!(calendar.working_days_after(midnight, 1), sh_end(2026, 3, 3));

    let before = utc("2026-03-02T15:59:59Z"); // 23:59:59 Mon
    assert_eq!(calendar.local_date(before), date(2026, 3, 2));
    assert_eq!(calendar.working_days_after(before, 0), midnight);
    assert_eq!(calendar.working_days_after(before, 1), sh_end(2026, 3, 3));

    let after = utc("2026-03-02T16:00:01Z"); // 00:00:01 Tue
    assert_eq!(calendar.working_days_after(after, 0), sh_end(2026, 3, 3));
    assert_eq!(calendar.working_days_after(after, 1), sh_end(2026, 3, 4));

    // Thursday midnight: still Thursday, so one working day is Friday; a
    // second later it is Friday, so one working day is Monday.
    assert_eq!(
        calendar.working_days_after(utc("2026-03-05T16:00:00Z"), 1),
        sh_end(2026, 3, 6)
    );
    assert_eq!(
        calendar.working_days_after(utc("2026-03-05T16:00:01Z"), 1),
        sh_end(2026, 3, 9)
    );

    // UTC midnight is 08:00 in Shanghai: nothing special.
    assert_eq!(
        calendar.working_days_after(utc("2026-03-03T00:00:00Z"), 1),
        sh_end(2026, 3, 4)
    );
    assert_eq!(
        calendar.working_days_after(utc("2026-03-02T23:59:59Z"), 1),
        sh_end(2026, 3, 4)
    );
    assert_eq!(
        calendar.calendar_days_after(midnight, 1),
        sh_end(2026, 3, 3)
    );
    assert_eq!(calendar.calendar_days_after(after, 1), sh_end(2026, 3, 4));
}

#[test]
fn holiday_eve_midnight() {
    let calendar = Calendar::china();
    // 00:00 on 2025-10-01 Shanghai is the end of Tuesday 09-30.
    let midnight = utc("2025-09-30T16:00:00Z");
    assert_eq!(
        calendar.working_days_after(midnight, 1),
        sh_end(2025, 10, 9)
    );
    assert_eq!(
        calendar.working_days_after(midnight + Duration::seconds(1), 1),
        sh_end(2025, 10, 9)
    );
    assert_eq!(
        calendar.working_days_after(midnight - Duration::seconds(1), 1),
        sh_end(2025, 10, 9)
    );
    // 00:00 on 2025-10-09 is the end of the last holiday; one working day
    // later is the end of 10-09 itself.
    assert_eq!(
        calendar.working_days_after(utc("2025-10-08T16:00:00Z"), 1),
        sh_end(2025, 10, 9)
    );
}

#[test]
fn utc_calendar_midnight() {
    let calendar = Calendar::new(Tz::UTC);
    let midnight = utc("2026-03-03T00:00:00Z");
    assert_eq!(calendar.local_date(midnight), date(2026, 3, 3));
    assert_eq!(calendar.end_of_local_day(date(2026, 3, 2)), midnight);
    assert_eq!(
        calendar.working_days_after(midnight, 1),
        utc("2026-03-04T00:00:00Z")
    );
    assert_eq!(
        calendar.working_days_after(utc("2026-03-03T00:00:01Z"), 1),
        utc("2026-03-05T00:00:00Z")
    );
    // Friday 10:00 + 1 → Monday.
    assert_eq!(
        calendar.working_days_after(utc("2026-03-06T10:00:00Z"), 1),
        utc("2026-03-10T00:00:00Z")
    );
}

#[test]
fn remaining_working_days() {
    let calendar = Calendar::china();
    let now = sh(2026, 3, 2, 18, 0); // Monday evening
    assert_eq!(calendar.working_days_between(now, sh_end(2026, 3, 2)), 0);
    assert_eq!(calendar.working_days_between(now, sh_end(2026, 3, 4)), 2);
    assert_eq!(calendar.working_days_between(now, sh(2026, 3, 4, 12, 0)), 1);
    assert_eq!(calendar.working_days_between(sh_end(2026, 3, 4), now), -2);
    assert_eq!(calendar.working_days_between(now, now), 0);
    // Over the 2026 Spring Festival: 02-14 (make-up) and 02-24..02-27.
    assert_eq!(
        calendar.working_days_between(sh(2026, 2, 13, 10, 0), sh_end(2026, 2, 27)),
        5
    );
    // A deadline already passed yesterday.
    assert_eq!(calendar.working_days_between(now, sh_end(2026, 2, 27)), -1);
}

#[test]
fn dst_zones() {
    let berlin = Calendar::new(chrono_tz::Europe::Berlin);
    // Clocks go forward at 02:00 on 2026-03-29; midnights are unaffected.
    assert_eq!(
        berlin.end_of_local_day(date(2026, 3, 28)),
        utc("2026-03-28T23:00:00Z")
    );
    assert_eq!(
        berlin.end_of_local_day(date(2026, 3, 29)),
        utc("2026-03-29T22:00:00Z")
    );
    // Friday 03-27 + 1 working day → Monday 03-30 (CEST).
    assert_eq!(
        berlin.working_days_after(utc("2026-03-27T10:00:00Z"), 1),
        utc("2026-03-30T22:00:00Z")
    );

    // Cuba moves its clocks at midnight: 00:00 on 2026-03-08 does not exist
    // (00:00 CST → 01:00 CDT), and 00:00 on 2026-11-01 happens twice.
    let havana = Calendar::new(chrono_tz::America::Havana);
    let gap_end = havana.end_of_local_day(date(2026, 3, 7));
    assert_eq!(gap_end, utc("2026-03-08T05:00:00Z"));
    assert_eq!(havana.local_date(gap_end), date(2026, 3, 8));
    assert_eq!(
        havana.local_date(gap_end - Duration::seconds(1)),
        date(2026, 3, 7)
    );
    // The first instant after the gap still belongs to Saturday 03-07.
    assert_eq!(havana.calendar_days_after(gap_end, 0), gap_end);
    let ambiguous_end = havana.end_of_local_day(date(2026, 10, 31));
    assert_eq!(ambiguous_end, utc("2026-11-01T04:00:00Z"));
    assert_eq!(havana.calendar_days_after(ambiguous_end, 0), ambiguous_end);
    // The second 00:00 on 11-01 is already Sunday.
    assert_eq!(
        havana.calendar_days_after(utc("2026-11-01T05:00:00Z"), 0),
        havana.end_of_local_day(date(2026, 11, 1))
    );
}

// ------------------------------------------------------------- properties

fn calendars() -> Vec<Calendar> {
    vec![
        Calendar::china(),
        Calendar::new(Tz::UTC),
        Calendar::new(chrono_tz::Europe::Berlin),
        Calendar::new(chrono_tz::America::Havana),
    ]
}

const START: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z
const END: i64 = 1_830_297_600; // 2028-01-01T00:00:00Z

/// Random instants in 2024..2028, with a third of them exactly at a local
/// midnight of the chosen calendar (the interesting edge).
fn instant() -> impl Strategy<Value = (usize, DateTime<Utc>)> {
    (0usize..4, START..END, 0u8..3).prop_map(|(which, secs, edge)| {
        let at = DateTime::from_timestamp(secs, 0).unwrap();
        let at = if edge == 0 {
            let calendar = &calendars()[which];
            calendar.end_of_local_day(calendar.local_date(at))
        } else {
            at
        };
        (which, at)
    })
}

fn is_end_of_working_day(calendar: &Calendar, at: DateTime<Utc>) -> bool {
    let day = calendar.local_date(at - Duration::seconds(1));
    calendar.is_working_day(day) && calendar.end_of_local_day(day) == at
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn result_is_end_of_a_working_day((which, t) in instant(), n in 1u32..40) {
        let calendar = &calendars()[which];
        let end = calendar.working_days_after(t, n);
        prop_assert!(is_end_of_working_day(calendar, end));
        prop_assert!(end > t);
    }

    #[test]
    fn zero_days_is_end_of_own_day((which, t) in instant()) {
        let calendar = &calendars()[which];
        let end = calendar.working_days_after(t, 0);
        prop_assert!(end >= t);
        prop_assert!(end - t <= Duration::hours(25));
        prop_assert_eq!(end, calendar.calendar_days_after(t, 0));
        prop_assert_eq!(calendar.working_days_after(end, 0), end);
    }

    #[test]
    fn working_days_are_additive((which, t) in instant(), m in 0u32..40, n in 0u32..40) {
        let calendar = &calendars()[which];
        let stepwise = calendar.working_days_after(calendar.working_days_after(t, m), n);
        prop_assert_eq!(stepwise, calendar.working_days_after(t, m + n));
    }

    #[test]
    fn calendar_days_are_additive((which, t) in instant(), m in 0u32..40, n in 0u32..40) {
        let calendar = &calendars()[which];
        let stepwise = calendar.calendar_days_after(calendar.calendar_days_after(t, m), n);
        prop_assert_eq!(stepwise, calendar.calendar_days_after(t, m + n));
        let end = calendar.calendar_days_after(t, m);
        prop_assert!(end >= t);
        if m >= 1 {
            prop_assert!(end > t);
            prop_assert_eq!(calendar.end_of_local_day(calendar.local_date(end - Duration::seconds(1))), end);
        }
    }

    #[test]
    fn monotonic_in_from(
        (which, t) in instant(),
        delta in 0i64..(10 * 86_400),
        n in 0u32..40,
    ) {
        let calendar = &calendars()[which];
        let later = t + Duration::seconds(delta);
        prop_assert!(calendar.working_days_after(t, n) <= calendar.working_days_after(later, n));
        prop_assert!(calendar.calendar_days_after(t, n) <= calendar.calendar_days_after(later, n));
    }

    #[test]
    fn monotonic_in_n((which, t) in instant(), n in 0u32..40) {
        let calendar = &calendars()[which];
        prop_assert!(calendar.working_days_after(t, n) < calendar.working_days_after(t, n + 1));
        prop_assert!(calendar.working_days_after(t, n) >= calendar.calendar_days_after(t, n));
    }

    #[test]
    fn between_inverts_after((which, t) in instant(), n in 1u32..40) {
        let calendar = &calendars()[which];
        let end = calendar.working_days_after(t, n);
        prop_assert_eq!(calendar.working_days_between(t, end), i64::from(n));
        prop_assert_eq!(calendar.working_days_between(end, t), -i64::from(n));
        // One second before the deadline the last day is not yet whole.
        prop_assert_eq!(
            calendar.working_days_between(t, end - Duration::seconds(1)),
            i64::from(n) - 1
        );
    }

    #[test]
    fn between_is_zero_within_a_day((which, t) in instant(), delta in 0i64..86_400) {
        let calendar = &calendars()[which];
        let end = calendar.working_days_after(t, 0);
        let other = (t + Duration::seconds(delta)).min(end);
        prop_assert_eq!(calendar.working_days_between(t, other), 0);
    }
}
