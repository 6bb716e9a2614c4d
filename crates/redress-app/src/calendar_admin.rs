//! Editing the working-day calendar: one day at a time, or an iCalendar
//! file of all-day events.
//!
//! Every instance keeps the calendar in memory; the one that changes it
//! reloads at once, the others on their next sweep tick.

use chrono::{Duration, NaiveDate};
use icalendar::{Calendar as Ics, CalendarComponent, CalendarDateTime, Component, DatePerhapsTime};
use redress_domain::Reason;
use redress_domain::calendar::{DayException, DayKind};
use serde::Serialize;
use serde_json::{Value, json};

use crate::App;
use crate::access::Principal;
use crate::error::{AppError, AppResult};

/// The longest run of days one imported event may cover.
const MAX_EVENT_DAYS: i64 = 60;
/// The most days one import may set.
const MAX_IMPORT_DAYS: usize = 3660;

pub(crate) fn parse_date(raw: &str) -> Result<NaiveDate, Reason> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (1970..=2200).contains(&chrono::Datelike::year(d)))
        .ok_or(Reason::DateRange)
}

pub(crate) fn parse_kind(raw: &str) -> Option<DayKind> {
    match raw {
        "holiday" => Some(DayKind::Holiday),
        "workday" => Some(DayKind::Workday),
        _ => None,
    }
}

/// A make-up working day, by the words calendars use for it (补班, 上班,
/// 调休上班, 工作日, "workday"), in the summary or the categories.
fn looks_like_workday(text: &str) -> bool {
    let t = text.to_lowercase();
    [
        "补班",
        "上班",
        "调休上班",
        "工作日",
        "workday",
        "working day",
        "make-up",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// What an iCalendar file sets, and the events it skipped (with why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcsImport {
    pub days: Vec<DayException>,
    pub skipped: Vec<(String, String)>,
}

/// The local date of a timed event's start: its own time zone's date
/// (`TZID` or floating), a UTC time in the installation's zone.
fn local_date(start: &CalendarDateTime, zone: chrono_tz::Tz) -> NaiveDate {
    match start {
        CalendarDateTime::Floating(t) => t.date(),
        CalendarDateTime::WithTimezone { date_time, .. } => date_time.date(),
        CalendarDateTime::Utc(t) => t.with_timezone(&zone).date_naive(),
    }
}

/// The days an iCalendar text sets, as the public holiday feeds write
/// them: an all-day `VEVENT` is a holiday (a working day when its summary
/// or categories say so) on every day from `DTSTART` up to (not
/// including) `DTEND`; a timed event counts only when it marks a make-up
/// working day (the feeds write those as 09:00–18:00 events), on its
/// local date; cancelled events and other timed events are skipped.
/// `VTIMEZONE` blocks, `VALARM`s, folded lines, LF or CRLF and a BOM are
/// taken as they come. An error names what is wrong; nothing is applied.
pub fn days_from_ics(text: &str, zone: chrono_tz::Tz) -> Result<IcsImport, Reason> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The parser wants CRLF line ends; files written with LF alone are common.
    let normalized;
    let text = if text.contains("\r\n") {
        text
    } else {
        normalized = text.replace('\n', "\r\n");
        normalized.as_str()
    };
    let ics: Ics = text.parse::<Ics>().map_err(|e| Reason::NotIcs {
        detail: e.to_string(),
    })?;
    let mut days = Vec::new();
    let mut skipped = Vec::new();
    for component in &ics.components {
        let CalendarComponent::Event(event) = component else {
            continue;
        };
        let name: String = event
            .get_summary()
            .unwrap_or("")
            .trim()
            .chars()
            .take(100)
            .collect();
        if event
            .property_value("STATUS")
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("CANCELLED"))
        {
            skipped.push((name, "cancelled".to_string()));
            continue;
        }
        let categories = event.property_value("CATEGORIES").unwrap_or("");
        let workday = looks_like_workday(&name) || looks_like_workday(categories);
        let (start, end) = match event.get_start() {
            Some(DatePerhapsTime::Date(start)) => {
                let end = match event.get_end() {
                    Some(DatePerhapsTime::Date(end)) if end > start => end,
                    Some(DatePerhapsTime::Date(_)) => {
                        return Err(Reason::IcsOrder {
                            start: start.to_string(),
                        });
                    }
                    _ => start + Duration::days(1),
                };
                (start, end)
            }
            Some(DatePerhapsTime::DateTime(at)) if workday => {
                let day = local_date(&at, zone);
                (day, day + Duration::days(1))
            }
            Some(DatePerhapsTime::DateTime(_)) => {
                skipped.push((name, "a timed event that is not a working day".to_string()));
                continue;
            }
            None => {
                skipped.push((name, "no start".to_string()));
                continue;
            }
        };
        if (end - start).num_days() > MAX_EVENT_DAYS {
            return Err(Reason::IcsLong {
                start: start.to_string(),
                n: MAX_EVENT_DAYS as usize,
            });
        }
        let kind = if workday {
            DayKind::Workday
        } else {
            DayKind::Holiday
        };
        let name = if name.is_empty() {
            match kind {
                DayKind::Holiday => "holiday".to_string(),
                DayKind::Workday => "workday".to_string(),
            }
        } else {
            name
        };
        let mut day = start;
        while day < end {
            days.push(DayException {
                date: day,
                kind,
                name: name.clone(),
            });
            day += Duration::days(1);
        }
        if days.len() > MAX_IMPORT_DAYS {
            return Err(Reason::IcsMany { n: MAX_IMPORT_DAYS });
        }
    }
    if days.is_empty() {
        return Err(Reason::IcsEmpty);
    }
    // The last event naming a day wins, as if they were set one by one.
    days.reverse();
    let mut seen = std::collections::HashSet::new();
    days.retain(|d| seen.insert(d.date));
    days.sort_by_key(|d| d.date);
    Ok(IcsImport { days, skipped })
}

// The fields of these answers are declared in alphabetical order: the
// order of the JSON objects they replace, whose keys serde_json sorts.

/// What an exception does to its day (the contract strings of
/// [`DayKind`]).
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayKindName {
    /// A day off.
    Holiday,
    /// A make-up working day (调休).
    Workday,
}

/// A warning about the calendar (`GET /healthz`, the administration page).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarWarning {
    /// `calendar_year_missing`: a year deadlines may fall in has no
    /// holidays or make-up working days.
    pub kind: &'static str,
    pub year: i32,
    pub message: String,
}

/// A date set in the calendar.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarDayView {
    pub date: NaiveDate,
    #[schema(value_type = DayKindName)]
    pub kind: DayKind,
    pub name: String,
}

impl From<DayException> for CalendarDayView {
    fn from(d: DayException) -> Self {
        Self {
            date: d.date,
            kind: d.kind,
            name: d.name,
        }
    }
}

/// `PUT /admin/calendar/{date}`: the day as set, and how many open
/// deadlines were computed again.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarDaySet {
    pub date: NaiveDate,
    #[schema(value_type = DayKindName)]
    pub kind: DayKind,
    pub name: String,
    /// Deadlines that moved.
    pub recomputed: u64,
}

/// An event of an imported file that set no day, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SkippedEvent {
    pub reason: String,
    pub summary: String,
}

/// `POST /admin/calendar/import`: what the file set.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CalendarImported {
    /// Every day set, in date order.
    pub days: Vec<CalendarDayView>,
    pub holidays: usize,
    /// How many days were set.
    pub imported: usize,
    /// Deadlines that moved.
    pub recomputed: u64,
    pub skipped: Vec<SkippedEvent>,
    pub workdays: usize,
}

impl App {
    /// Once a day while a year is missing ([`App::calendar_warnings`]),
    /// admins with an address are told by e-mail; a journal event
    /// (`calendar_warning_sent`, with the local date) keeps it to once a
    /// day across restarts and instances.
    pub async fn warn_admins_of_calendar(&self) -> AppResult<bool> {
        let warnings = self.calendar_warnings();
        if warnings.is_empty() {
            return Ok(false);
        }
        let today = self.calendar().local_date(self.now()).to_string();
        let last = self
            .store
            .list_global_events(vec!["calendar_warning_sent".into()], 1)
            .await?;
        if last.first().is_some_and(|e| {
            serde_json::from_str::<Value>(&e.data)
                .ok()
                .is_some_and(|d| d["date"] == today)
        }) {
            return Ok(false);
        }
        let admins = self.staff_emails(redress_domain::Role::Admin).await?;
        // Nobody to tell: the console and /healthz say it.
        if admins.is_empty() {
            return Ok(false);
        }
        let years: Vec<String> = warnings.iter().map(|w| w.year.to_string()).collect();
        self.store
            .append_events(vec![redress_store::NewEvent {
                case_id: None,
                kind: "calendar_warning_sent".into(),
                actor: "system:calendar".into(),
                at: self.now(),
                data: json!({"date": today, "years": years}).to_string(),
            }])
            .await?;
        let years = years.join(", ");
        self.send_security_mail(
            admins,
            format!("【提醒】日历缺少 {years} 年的节假日安排 / The calendar lacks {years}"),
            format!(
                "日历中没有 {years} 年的节假日与调休安排：该年的期限只按周末计算，可能早于或晚于法定期限。\
                 请在“系统管理”页导入国务院通知的 iCalendar 文件或逐日设置。本提醒每天发送一次，直至补齐。\n\n\
                 The calendar has no holidays or make-up working days for {years}: deadlines in it count \
                 weekends only and may end too early or too late. Import the year's notice as an iCalendar \
                 file on the administration page, or set its days. This reminder comes once a day until then.\n"
            ),
        );
        Ok(true)
    }

    /// The years the calendar should have and does not: the current year,
    /// and from November 1 the next one (SPEC §4: deadlines count working
    /// days; a year without holiday data counts weekends only). Also sets
    /// the gauge `redress_calendar_years_missing`.
    pub fn calendar_warnings(&self) -> Vec<CalendarWarning> {
        let calendar = self.calendar();
        let today = calendar.local_date(self.now());
        let year = chrono::Datelike::year(&today);
        let mut missing = vec![];
        if !calendar.has_year(year) {
            missing.push(year);
        }
        if chrono::Datelike::month(&today) >= 11 && !calendar.has_year(year + 1) {
            missing.push(year + 1);
        }
        metrics::gauge!("redress_calendar_years_missing").set(missing.len() as f64);
        missing
            .into_iter()
            .map(|year| CalendarWarning {
                kind: "calendar_year_missing",
                year,
                message: format!(
                    "the calendar has no holidays for {year}: deadlines in {year} count weekends \
                     only; import the year's notice or set its days"
                ),
            })
            .collect()
    }
    /// `PUT /admin/calendar/{date}`: makes one date a holiday or a working day.
    pub async fn set_calendar_day(
        &self,
        who: &Principal,
        cmd: &crate::commands::SetCalendarDayCommand,
    ) -> AppResult<CalendarDaySet> {
        self.admin(who)?;
        let day = DayException {
            date: cmd.date,
            kind: cmd.kind,
            name: cmd.name.clone(),
        };
        let event = self.admin_event(who, "calendar_day_set", json!(day));
        self.store
            .upsert_calendar(vec![day.clone()], Some(event))
            .await?;
        self.reload_calendar().await?;
        let recomputed = self.recompute_deadlines(day.date).await?;
        Ok(CalendarDaySet {
            date: day.date,
            kind: day.kind,
            name: day.name,
            recomputed,
        })
    }

    /// `POST /admin/calendar/import`: sets every day of an iCalendar file.
    pub async fn import_calendar(
        &self,
        who: &Principal,
        ics: &[u8],
    ) -> AppResult<CalendarImported> {
        self.admin(who)?;
        let text = std::str::from_utf8(ics).map_err(|_| AppError::invalid("file", Reason::Utf8))?;
        let IcsImport { days, skipped } =
            days_from_ics(text, self.config.time_zone).map_err(|m| AppError::invalid("file", m))?;
        let event = self.admin_event(
            who,
            "calendar_imported",
            json!({"days": days.len(), "from": days.first().map(|d| d.date), "to": days.last().map(|d| d.date)}),
        );
        self.store
            .upsert_calendar(days.clone(), Some(event))
            .await?;
        self.reload_calendar().await?;
        let recomputed = match days.first() {
            Some(first) => self.recompute_deadlines(first.date).await?,
            None => 0,
        };
        let count = |k: DayKind| days.iter().filter(|d| d.kind == k).count();
        let skipped: Vec<SkippedEvent> = skipped
            .into_iter()
            .map(|(summary, reason)| SkippedEvent { reason, summary })
            .collect();
        Ok(CalendarImported {
            holidays: count(DayKind::Holiday),
            imported: days.len(),
            workdays: count(DayKind::Workday),
            days: days.into_iter().map(CalendarDayView::from).collect(),
            recomputed,
            skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHANGHAI: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn all_day_events_become_days_and_make_up_days_are_workdays() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20271001\r\nDTEND;VALUE=DATE:20271004\r\nSUMMARY:国庆节\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270926\r\nSUMMARY:国庆节调休上班\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:3\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20271005T090000Z\r\nDTEND:20271005T100000Z\r\nSUMMARY:meeting\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";
        let got = days_from_ics(ics, SHANGHAI).unwrap();
        let days: Vec<(String, DayKind)> = got
            .days
            .iter()
            .map(|d| (d.date.to_string(), d.kind))
            .collect();
        assert_eq!(
            days,
            vec![
                ("2027-09-26".to_string(), DayKind::Workday),
                ("2027-10-01".to_string(), DayKind::Holiday),
                ("2027-10-02".to_string(), DayKind::Holiday),
                ("2027-10-03".to_string(), DayKind::Holiday),
            ]
        );
        assert_eq!(got.days[1].name, "国庆节");
        assert_eq!(got.skipped.len(), 1, "the meeting");
    }

    /// One event in the layout of the widely used public feed: a rest day
    /// all day, a make-up day as a timed 09:00–18:00 event, with a
    /// VTIMEZONE block, VALARMs and folded lines.
    fn feed_event(
        uid: u32,
        summary: &str,
        timed: Option<&str>,
        all_day: Option<(&str, &str)>,
    ) -> String {
        let when = match (timed, all_day) {
            (Some(day), _) => format!(
                "DTSTART;TZID=Asia/Shanghai:{day}T090000\nDTEND;TZID=Asia/Shanghai:{day}T180000\n"
            ),
            (None, Some((start, end))) => {
                format!("DTSTART;VALUE=DATE:{start}\nDTEND;VALUE=DATE:{end}\n")
            }
            _ => unreachable!(),
        };
        format!(
            "BEGIN:VEVENT\nUID:{uid}@holiday-feed\nDTSTAMP:20251104T000000Z\n{when}\
             SUMMARY:{summary}\nSTATUS:TENTATIVE\nTRANSP:OPAQUE\nDESCRIPTION:根据国务院办公厅通知，\n 本日安排见通知原文。\n\
             BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15H\nDESCRIPTION:提醒\nEND:VALARM\nEND:VEVENT\n"
        )
    }

    /// The 2026 Spring Festival and National Day as the feed writes them
    /// (facts of the State Council notice of 2025-11-04: rest 2-15..2-23,
    /// make-up 2-14 and 2-28; rest 10-1..10-7, make-up 9-20 and 10-10), in
    /// LF lines after a BOM, with one cancelled event.
    fn feed_2026() -> String {
        let mut events = String::new();
        for n in 1..=9 {
            let day = format!("202602{:02}", 14 + n);
            let next = format!("202602{:02}", 15 + n);
            events += &feed_event(
                n,
                &format!("春节 假期 第{n}天/共9天"),
                None,
                Some((&day, &next)),
            );
        }
        events += &feed_event(20, "春节 补班 第1天/共2天", Some("20260214"), None);
        events += &feed_event(21, "春节 补班 第2天/共2天", Some("20260228"), None);
        // National Day as one multi-day event.
        events += &feed_event(
            30,
            "国庆节 假期 共7天",
            None,
            Some(("20261001", "20261008")),
        );
        events += &feed_event(31, "国庆节 补班 第1天/共2天", Some("20260920"), None);
        events += &feed_event(32, "国庆节 补班 第2天/共2天", Some("20261010"), None);
        events += "BEGIN:VEVENT\nUID:99@holiday-feed\nDTSTAMP:20251104T000000Z\nDTSTART;VALUE=DATE:20260501\n\
                   SUMMARY:作废的安排\nSTATUS:CANCELLED\nEND:VEVENT\n";
        format!(
            "\u{feff}BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//holiday feed//CN\nX-WR-CALNAME:中国节假日\n\
             BEGIN:VTIMEZONE\nTZID:Asia/Shanghai\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0800\n\
             TZOFFSETTO:+0800\nTZNAME:CST\nEND:STANDARD\nEND:VTIMEZONE\n{events}END:VCALENDAR\n"
        )
    }

    #[test]
    fn a_public_feed_gives_holidays_and_its_timed_make_up_days() {
        let got = days_from_ics(&feed_2026(), SHANGHAI).unwrap();
        let of = |kind| {
            got.days
                .iter()
                .filter(|d| d.kind == kind)
                .map(|d| d.date.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            of(DayKind::Workday),
            ["2026-02-14", "2026-02-28", "2026-09-20", "2026-10-10"]
        );
        let holidays = of(DayKind::Holiday);
        assert_eq!(holidays.len(), 9 + 7, "{holidays:?}");
        assert_eq!(holidays.first().unwrap(), "2026-02-15");
        assert_eq!(holidays.last().unwrap(), "2026-10-07");
        assert!(!holidays.contains(&"2026-05-01".to_string()), "cancelled");
        assert_eq!(
            got.skipped,
            [("作废的安排".to_string(), "cancelled".to_string())]
        );
        // The same days as the built-in calendar from the notice.
        let built_in: Vec<(String, DayKind)> = redress_domain::Calendar::china_exceptions()
            .into_iter()
            .filter(|d| {
                chrono::Datelike::year(&d.date) == 2026
                    && (d.name.contains("春节") || d.name.contains("国庆"))
            })
            .map(|d| (d.date.to_string(), d.kind))
            .collect();
        let imported: Vec<(String, DayKind)> = got
            .days
            .iter()
            .map(|d| (d.date.to_string(), d.kind))
            .collect();
        assert_eq!(imported, built_in);
    }

    #[test]
    fn files_without_days_or_with_huge_ranges_are_refused() {
        assert!(days_from_ics("hello", SHANGHAI).is_err());
        let empty = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n";
        assert_eq!(
            days_from_ics(empty, SHANGHAI).unwrap_err(),
            Reason::IcsEmpty
        );
        let long = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n\
DTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20280101\r\nSUMMARY:year\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert!(matches!(
            days_from_ics(long, SHANGHAI).unwrap_err(),
            Reason::IcsLong { .. }
        ));
    }
}
