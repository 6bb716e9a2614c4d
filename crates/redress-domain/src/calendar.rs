//! The working-day calendar and the deadline arithmetic (SPEC §4).
//!
//! Working days are Monday to Friday, except public holidays, plus the
//! make-up working days (调休) that fall on weekends. The calendar has one
//! time zone per installation; the default is `Asia/Shanghai`.
//!
//! Counting follows Chinese administrative practice: it starts on the day
//! AFTER the starting event, and "within N working days" ends at the end
//! (24:00 local time) of the Nth working day. "Within N calendar days" ends
//! at the end of the Nth day. A deadline is an instant, returned as the
//! instant of local 00:00 on the day following the Nth day.
//!
//! The instant that is exactly local midnight belongs to the END of the
//! previous local day. With that convention counting is additive:
//! `working_days_after(working_days_after(t, m), n) ==
//! working_days_after(t, m + n)`.

use std::collections::BTreeMap;

use chrono::offset::LocalResult;
use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use serde::{Deserialize, Serialize};

pub use chrono_tz::Tz;

/// The longest run of consecutive non-working days the counting functions
/// walk through before giving up. A real calendar never comes close; a
/// misconfigured one (say, every day a holiday) would otherwise loop
/// forever. When the guard trips, [`Calendar::working_days_after`] returns
/// the end of the last day it looked at.
pub const MAX_NON_WORKING_RUN: u32 = 3660;

/// What an exception does to its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off: a public holiday on a weekday, or a listed weekend day
    /// that belongs to a holiday period.
    Holiday,
    /// A make-up working day (调休), usually on a weekend.
    Workday,
}

/// Where a calendar day came from. Manual days win over the feed, the
/// feed over the built-in data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DaySource {
    /// Seeded from the State Council's notices.
    Builtin,
    /// Set or imported by an admin.
    Manual,
    /// Set by the subscribed iCalendar feed.
    Feed,
}

impl DaySource {
    pub fn as_str(self) -> &'static str {
        match self {
            DaySource::Builtin => "builtin",
            DaySource::Manual => "manual",
            DaySource::Feed => "feed",
        }
    }
}

impl std::str::FromStr for DaySource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "builtin" => Ok(DaySource::Builtin),
            "manual" => Ok(DaySource::Manual),
            "feed" => Ok(DaySource::Feed),
            other => Err(format!("unknown day source {other:?}")),
        }
    }
}

/// One date whose status differs from (or is listed next to) the plain
/// weekday/weekend rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayException {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// A working-day calendar: a time zone plus dated exceptions to the
/// Monday-to-Friday rule, and optionally the hours of a working day.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
    exceptions: BTreeMap<NaiveDate, DayException>,
    hours: Option<WorkingHours>,
}

/// The hours of a working day, local time, for installations that count
/// some deadlines in working hours (and show remaining time in them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl WorkingHours {
    /// Parses `HH:MM-HH:MM` (start before end, both within one day).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (a, b) = raw
            .split_once('-')
            .ok_or_else(|| format!("{raw:?} is not HH:MM-HH:MM"))?;
        let time = |s: &str| {
            NaiveTime::parse_from_str(s.trim(), "%H:%M")
                .map_err(|_| format!("{s:?} is not a time HH:MM"))
        };
        let (start, end) = (time(a)?, time(b)?);
        if start >= end {
            return Err(format!("{raw:?}: the start must come before the end"));
        }
        Ok(Self { start, end })
    }

    /// Seconds in one working day.
    pub fn seconds(&self) -> i64 {
        (self.end - self.start).num_seconds()
    }
}

impl Calendar {
    /// Weekends only, no exceptions.
    pub fn new(tz: Tz) -> Self {
        Self {
            tz,
            exceptions: BTreeMap::new(),
            hours: None,
        }
    }

    /// The same calendar counting working time only within `hours`.
    pub fn with_working_hours(mut self, hours: Option<WorkingHours>) -> Self {
        self.hours = hours;
        self
    }

    pub fn working_hours(&self) -> Option<WorkingHours> {
        self.hours
    }

    /// `Asia/Shanghai` with China's official holiday data for 2025 and
    /// 2026 (see [`Calendar::china_exceptions`]).
    pub fn china() -> Self {
        Self::with_exceptions(chrono_tz::Asia::Shanghai, Self::china_exceptions())
    }

    /// China's public holidays and make-up working days as shipped.
    ///
    /// Sources: the General Office of the State Council notices on the
    /// arrangement of public holidays (国务院办公厅关于部分节假日安排的通知):
    /// - 2025: notice of 2024-11-12, 国办发明电〔2024〕12号;
    /// - 2026: notice of 2025-11-04.
    ///
    /// Every listed day off is a [`DayKind::Holiday`], including days off
    /// that fall on a weekend, so each holiday period is complete; make-up
    /// working days are [`DayKind::Workday`]. The list is sorted by date.
    pub fn china_exceptions() -> Vec<DayException> {
        // (year, festival name, days off as inclusive (month, day) range,
        //  make-up working days as (month, day))
        type Period = (
            i32,
            &'static str,
            (u32, u32),
            (u32, u32),
            &'static [(u32, u32)],
        );
        const PERIODS: &[Period] = &[
            (2025, "元旦 New Year's Day", (1, 1), (1, 1), &[]),
            (
                2025,
                "春节 Spring Festival",
                (1, 28),
                (2, 4),
                &[(1, 26), (2, 8)],
            ),
            (2025, "清明节 Qingming Festival", (4, 4), (4, 6), &[]),
            (2025, "劳动节 Labour Day", (5, 1), (5, 5), &[(4, 27)]),
            (2025, "端午节 Dragon Boat Festival", (5, 31), (6, 2), &[]),
            (
                2025,
                "国庆节、中秋节 National Day and Mid-Autumn Festival",
                (10, 1),
                (10, 8),
                &[(9, 28), (10, 11)],
            ),
            (2026, "元旦 New Year's Day", (1, 1), (1, 3), &[(1, 4)]),
            (
                2026,
                "春节 Spring Festival",
                (2, 15),
                (2, 23),
                &[(2, 14), (2, 28)],
            ),
            (2026, "清明节 Qingming Festival", (4, 4), (4, 6), &[]),
            (2026, "劳动节 Labour Day", (5, 1), (5, 5), &[(5, 9)]),
            (2026, "端午节 Dragon Boat Festival", (6, 19), (6, 21), &[]),
            (2026, "中秋节 Mid-Autumn Festival", (9, 25), (9, 27), &[]),
            (
                2026,
                "国庆节 National Day",
                (10, 1),
                (10, 7),
                &[(9, 20), (10, 10)],
            ),
        ];
        let date = |year: i32, (month, day): (u32, u32)| {
            NaiveDate::from_ymd_opt(year, month, day).expect("valid shipped date")
        };
        let mut out = Vec::new();
        for &(year, name, first, last, makeup) in PERIODS {
            let last = date(year, last);
            let mut day = date(year, first);
            while day <= last {
                out.push(DayException {
                    date: day,
                    kind: DayKind::Holiday,
                    name: name.to_owned(),
                });
                day = day
                    .succ_opt()
                    .expect("shipped dates are far from the end of time");
            }
            for &md in makeup {
                out.push(DayException {
                    date: date(year, md),
                    kind: DayKind::Workday,
                    name: format!("{name} (调休上班 make-up working day)"),
                });
            }
        }
        out.sort_by_key(|e| e.date);
        out
    }

    /// A calendar in `tz` with the given exceptions; a later exception for
    /// the same date replaces an earlier one.
    pub fn with_exceptions(tz: Tz, exceptions: impl IntoIterator<Item = DayException>) -> Self {
        let mut calendar = Self::new(tz);
        for exception in exceptions {
            calendar.set(exception);
        }
        calendar
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Inserts an exception, replacing any existing one for the same date.
    pub fn set(&mut self, exception: DayException) {
        self.exceptions.insert(exception.date, exception);
    }

    /// Removes the exception for `date`, if any.
    pub fn remove(&mut self, date: NaiveDate) {
        self.exceptions.remove(&date);
    }

    /// Whether `date` is a working day: an exception decides if there is
    /// one, otherwise Monday to Friday are working days.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.exceptions.get(&date) {
            Some(exception) => exception.kind == DayKind::Workday,
            None => !is_weekend(date),
        }
    }

    /// The plain local date of an instant (local midnight is the start of
    /// its date here; the counting functions treat it as the end of the
    /// previous day).
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The instant of local 00:00 on the day after `date`, i.e. 24:00 of
    /// `date`. If that midnight is ambiguous (clocks turned back) the
    /// earlier instant is used; if it does not exist (clocks turned forward
    /// across midnight) the earliest instant after the gap is used.
    /// Saturates at the end of the representable range.
    pub fn end_of_local_day(&self, date: NaiveDate) -> DateTime<Utc> {
        let Some(next) = date.succ_opt() else {
            return DateTime::<Utc>::MAX_UTC;
        };
        let midnight = next.and_time(NaiveTime::MIN);
        match self.tz.from_local_datetime(&midnight) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => a.with_timezone(&Utc).min(b.with_timezone(&Utc)),
            LocalResult::None => self.first_instant_at_or_after(midnight),
        }
    }

    /// The deadline "within `n` working days" of `from`: the end of the
    /// `n`th working day after the local day `from` belongs to. For `n == 0`
    /// the end of that day itself. An instant at exactly local midnight
    /// belongs to the previous day.
    ///
    /// Stops after [`MAX_NON_WORKING_RUN`] consecutive non-working days and
    /// returns the end of the last day looked at.
    pub fn working_days_after(&self, from: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let mut day = self.day_of(from);
        let mut remaining = n;
        let mut idle = 0u32;
        while remaining > 0 {
            let Some(next) = day.succ_opt() else {
                return DateTime::<Utc>::MAX_UTC;
            };
            day = next;
            if self.is_working_day(day) {
                remaining -= 1;
                idle = 0;
            } else {
                idle += 1;
                if idle >= MAX_NON_WORKING_RUN {
                    break;
                }
            }
        }
        self.end_of_local_day(day)
    }

    /// The deadline "within `n` calendar days" of `from`: like
    /// [`Calendar::working_days_after`] with every day counting.
    pub fn calendar_days_after(&self, from: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        match self.day_of(from).checked_add_days(Days::new(u64::from(n))) {
            Some(day) => self.end_of_local_day(day),
            None => DateTime::<Utc>::MAX_UTC,
        }
    }

    /// `years` years after `from` on the same local calendar date and time
    /// of day (SPEC §4 retention: "to the same calendar date"). A date that
    /// the target year lacks (29 February) becomes the last day of that
    /// month (28 February). Saturates at the end of the representable range.
    pub fn years_after(&self, from: DateTime<Utc>, years: u32) -> DateTime<Utc> {
        let local = from.with_timezone(&self.tz).naive_local();
        match years
            .checked_mul(12)
            .and_then(|months| local.checked_add_months(Months::new(months)))
        {
            Some(later) => self.local_instant(later),
            None => DateTime::<Utc>::MAX_UTC,
        }
    }

    /// The number of whole working days in `(from, to]`: working days after
    /// the local day `from` belongs to whose end is at or before `to`. The
    /// day in progress at `from` does not count (it is not whole), so for
    /// `n >= 1`, `working_days_between(t, working_days_after(t, n)) == n`.
    /// Used for "remaining working days" until a deadline. Negative (the
    /// mirror image) if `to < from`.
    pub fn working_days_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        let Some(first) = self.day_of(from).succ_opt() else {
            return 0;
        };
        let to_day = self.day_of(to);
        let last = if to == self.end_of_local_day(to_day) {
            Some(to_day)
        } else {
            to_day.pred_opt()
        };
        match last {
            Some(last) if first <= last => self.count_working_days(first, last),
            _ => 0,
        }
    }

    /// The working days after the local day of `from`, up to and including
    /// the local day of `to`; 0 when `to` is not on a later day. This is the
    /// credit a paused clock gets: a pause from Monday 10:00 to Tuesday
    /// 15:00 gives back one working day (Tuesday), a pause that ends on the
    /// day it began gives back none.
    pub fn working_days_in(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
        let (first, last) = (self.day_of(from), self.day_of(to));
        match first.succ_opt() {
            Some(next) if next <= last => {
                u32::try_from(self.count_working_days(next, last)).unwrap_or(u32::MAX)
            }
            _ => 0,
        }
    }

    /// The part of local `date` that counts as working time: the whole
    /// day, or its working hours when the calendar has them.
    fn working_window(&self, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        match self.hours {
            None => (self.start_of_local_day(date), self.end_of_local_day(date)),
            Some(h) => (
                self.local_instant(date.and_time(h.start)),
                self.local_instant(date.and_time(h.end)),
            ),
        }
    }

    /// The instant of a local time (the earlier one when clocks turn back,
    /// the first after the gap when they jump forward).
    fn local_instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => a.with_timezone(&Utc).min(b.with_timezone(&Utc)),
            LocalResult::None => self.first_instant_at_or_after(local),
        }
    }

    /// Working time in `[from, to)`: the seconds that fall on working days
    /// (within the working hours, when the calendar has them). Stops after
    /// [`MAX_NON_WORKING_RUN`] days (a span that long is not a deadline).
    pub fn working_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        let mut total = 0;
        let mut day = self.local_date(from);
        for _ in 0..MAX_NON_WORKING_RUN {
            let (start, end) = self.working_window(day);
            if self.start_of_local_day(day) >= to {
                break;
            }
            if self.is_working_day(day) {
                let end = end.min(to);
                let begin = start.max(from);
                if end > begin {
                    total += (end - begin).num_seconds();
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        total
    }

    /// The earliest instant `t >= from` with `working_seconds(from, t) ==
    /// seconds`: the point a share of a deadline's working time has passed.
    pub fn after_working_seconds(&self, from: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
        if seconds <= 0 {
            return from;
        }
        let mut left = seconds;
        let mut day = self.local_date(from);
        let mut last = from;
        for _ in 0..MAX_NON_WORKING_RUN {
            if self.is_working_day(day) {
                let (start, end) = self.working_window(day);
                let begin = start.max(from);
                if end > begin {
                    let available = (end - begin).num_seconds();
                    if left <= available {
                        return begin + chrono::Duration::seconds(left);
                    }
                    left -= available;
                    last = end;
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        last
    }

    /// The instant `hours` working hours after `from` (with the working
    /// hours of the calendar, or whole working days without them).
    pub fn working_hours_after(&self, from: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
        self.after_working_seconds(from, i64::from(hours) * 3600)
    }

    /// The instant local `date` begins (24:00 of the day before).
    pub fn start_of_local_day(&self, date: NaiveDate) -> DateTime<Utc> {
        match date.pred_opt() {
            Some(previous) => self.end_of_local_day(previous),
            None => DateTime::<Utc>::MIN_UTC,
        }
    }

    /// The exceptions dated in `year`, sorted by date.
    /// Whether `year` has holiday data: at least one holiday (a year with
    /// none is a year nobody entered, and its deadlines count weekends
    /// only).
    pub fn has_year(&self, year: i32) -> bool {
        self.exceptions_in_year(year)
            .iter()
            .any(|d| d.kind == DayKind::Holiday)
    }

    /// Whether a deadline running from `from` to `due` is provisional: it
    /// reaches into a (local) year without holiday data, where only
    /// weekends are counted, so it may move once the year's notice is set.
    pub fn is_provisional(&self, from: DateTime<Utc>, due: DateTime<Utc>) -> bool {
        let first = self.local_date(from.min(due)).year();
        let last = self.local_date(due).year();
        // A deadline decades away (retention) is not a working-day count.
        (first..=last.min(first + 5)).any(|y| !self.has_year(y))
    }

    pub fn exceptions_in_year(&self, year: i32) -> Vec<DayException> {
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return Vec::new();
        };
        self.exceptions
            .range(first..=last)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// All exceptions, sorted by date.
    pub fn exceptions(&self) -> impl Iterator<Item = &DayException> {
        self.exceptions.values()
    }

    /// The local day an instant belongs to: the date `d` with
    /// `end_of_local_day(d - 1) < at <= end_of_local_day(d)`.
    fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        let mut day = self.local_date(at);
        // Exactly local midnight (or, after a gap, the first instant of the
        // day) belongs to the previous day.
        while let Some(previous) = day.pred_opt() {
            if at <= self.end_of_local_day(previous) {
                day = previous;
            } else {
                break;
            }
        }
        while at > self.end_of_local_day(day) {
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        day
    }

    /// Working days in the inclusive range `first..=last` (`first <= last`).
    fn count_working_days(&self, first: NaiveDate, last: NaiveDate) -> i64 {
        let total = (last - first).num_days() + 1;
        let weeks = total / 7;
        let mut count = weeks * 5;
        let mut day = first + Days::new((weeks * 7) as u64);
        for _ in 0..total % 7 {
            if !is_weekend(day) {
                count += 1;
            }
            day = day.succ_opt().unwrap_or(day);
        }
        for exception in self.exceptions.range(first..=last).map(|(_, e)| e) {
            match (exception.kind, is_weekend(exception.date)) {
                (DayKind::Holiday, false) => count -= 1,
                (DayKind::Workday, true) => count += 1,
                _ => {}
            }
        }
        count
    }

    /// The earliest instant whose local time is at or after `local`, for a
    /// local time that falls into a gap. Binary search over whole seconds
    /// (transitions happen on whole seconds); UTC offsets are below 26 h.
    fn first_instant_at_or_after(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let window = 48 * 3600;
        let centre = local.and_utc().timestamp();
        let (mut lo, mut hi) = (centre - window, centre + window);
        let local_at = |secs: i64| {
            DateTime::from_timestamp(secs, 0).map(|t| t.with_timezone(&self.tz).naive_local())
        };
        // Invariant: local_at(lo) < local <= local_at(hi).
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match local_at(mid) {
                Some(t) if t >= local => hi = mid,
                Some(_) => lo = mid,
                None => return DateTime::<Utc>::MAX_UTC,
            }
        }
        DateTime::from_timestamp(hi, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn deadlines_into_a_year_without_data_are_provisional() {
        let calendar = Calendar::china();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(!calendar.is_provisional(at("2026-03-01T00:00:00Z"), at("2026-04-01T00:00:00Z")));
        // 2027 has no shipped data (the notice is not published yet).
        assert!(calendar.is_provisional(at("2026-12-20T00:00:00Z"), at("2027-01-10T00:00:00Z")));
        // 2026-12-31T17:00Z is already January 1 in Shanghai.
        assert!(calendar.is_provisional(at("2026-12-20T00:00:00Z"), at("2026-12-31T17:00:00Z")));
        assert!(!calendar.is_provisional(at("2026-12-20T00:00:00Z"), at("2026-12-31T15:00:00Z")));
    }

    #[test]
    fn years_count_to_the_same_local_calendar_date() {
        let calendar = Calendar::china();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // 29 February (Shanghai) → 28 February three years later.
        assert_eq!(
            calendar.years_after(at("2028-02-29T02:00:00Z"), 3),
            at("2031-02-28T02:00:00Z")
        );
        // To a leap year's 29 February: four years, same date.
        assert_eq!(
            calendar.years_after(at("2028-02-29T02:00:00Z"), 4),
            at("2032-02-29T02:00:00Z")
        );
        // 1 March after a leap day stays 1 March (a count of 365-day years
        // would land on 28 February).
        assert_eq!(
            calendar.years_after(at("2023-03-01T02:00:00Z"), 3),
            at("2026-03-01T02:00:00Z")
        );
        // The local date counts: 2028-02-29T20:00Z is 1 March 04:00 in
        // Shanghai, so 1 March 04:00 there three years later.
        assert_eq!(
            calendar.years_after(at("2028-02-29T20:00:00Z"), 3),
            at("2031-02-28T20:00:00Z")
        );
        assert_eq!(
            calendar.years_after(at("2028-02-29T02:00:00Z"), u32::MAX),
            DateTime::<Utc>::MAX_UTC
        );
    }

    #[test]
    fn shipped_makeup_days_are_weekends() {
        for e in Calendar::china_exceptions() {
            if e.kind == DayKind::Workday {
                assert!(is_weekend(e.date), "{e:?}");
            }
        }
    }

    #[test]
    fn shipped_data_has_no_duplicate_dates() {
        let list = Calendar::china_exceptions();
        let calendar = Calendar::china();
        assert_eq!(list.len(), calendar.exceptions().count());
        assert!(list.windows(2).all(|w| w[0].date < w[1].date));
    }

    #[test]
    fn count_matches_day_by_day_walk() {
        let calendar = Calendar::china();
        let start = d(2024, 12, 20);
        for len in 0..500u64 {
            let last = start + Days::new(len);
            let mut expected = 0;
            let mut day = start;
            while day <= last {
                if calendar.is_working_day(day) {
                    expected += 1;
                }
                day = day.succ_opt().unwrap();
            }
            assert_eq!(calendar.count_working_days(start, last), expected, "{last}");
        }
    }

    #[test]
    fn guard_stops_an_all_holiday_calendar() {
        let mut calendar = Calendar::new(Tz::UTC);
        let mut day = d(2026, 1, 1);
        while day < d(2040, 1, 1) {
            calendar.set(DayException {
                date: day,
                kind: DayKind::Holiday,
                name: "off".into(),
            });
            day = day.succ_opt().unwrap();
        }
        let from = d(2025, 12, 31).and_hms_opt(12, 0, 0).unwrap().and_utc();
        let end = calendar.working_days_after(from, 1);
        let expected = calendar.end_of_local_day(d(2025, 12, 31) + Days::new(3660));
        assert_eq!(end, expected);
    }

    #[test]
    fn serde_names() {
        let json = serde_json::to_string(&DayException {
            date: d(2026, 1, 4),
            kind: DayKind::Workday,
            name: "x".into(),
        })
        .unwrap();
        assert_eq!(json, r#"{"date":"2026-01-04","kind":"workday","name":"x"}"#);
    }
}
