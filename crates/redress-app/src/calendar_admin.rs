//! Editing the working-day calendar: one day at a time, or an iCalendar
//! file of all-day events.
//!
//! Every instance keeps the calendar in memory; the one that changes it
//! reloads at once, the others on their next sweep tick.

use chrono::{Duration, NaiveDate};
use icalendar::{Calendar as Ics, CalendarComponent, Component, DatePerhapsTime};
use redress_domain::calendar::{DayException, DayKind};
use serde_json::{Value, json};

use crate::App;
use crate::access::Principal;
use crate::error::{AppError, AppResult};
use crate::input::Body;

/// The longest run of days one imported event may cover.
const MAX_EVENT_DAYS: i64 = 60;
/// The most days one import may set.
const MAX_IMPORT_DAYS: usize = 3660;

fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (1970..=2200).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| "must be a date YYYY-MM-DD between 1970 and 2200".to_string())
}

fn parse_kind(raw: &str) -> Option<DayKind> {
    match raw {
        "holiday" => Some(DayKind::Holiday),
        "workday" => Some(DayKind::Workday),
        _ => None,
    }
}

/// A make-up working day, by the words calendars use for it (调休上班,
/// 补班, "workday"), in the summary or the categories.
fn looks_like_workday(text: &str) -> bool {
    let t = text.to_lowercase();
    [
        "补班",
        "上班",
        "调休上班",
        "workday",
        "working day",
        "make-up",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// The days an iCalendar text sets: every all-day `VEVENT` from `DTSTART`
/// up to (not including) `DTEND`. Events with a time of day are skipped:
/// they do not make a day a holiday.
pub fn days_from_ics(text: &str) -> Result<Vec<DayException>, String> {
    let ics: Ics = text
        .parse()
        .map_err(|e| format!("is not an iCalendar file: {e}"))?;
    let mut days = Vec::new();
    for component in &ics.components {
        let CalendarComponent::Event(event) = component else {
            continue;
        };
        let Some(DatePerhapsTime::Date(start)) = event.get_start() else {
            continue;
        };
        let end = match event.get_end() {
            Some(DatePerhapsTime::Date(end)) if end > start => end,
            Some(DatePerhapsTime::Date(_)) => {
                return Err(format!("an event on {start} ends before it starts"));
            }
            _ => start + Duration::days(1),
        };
        if (end - start).num_days() > MAX_EVENT_DAYS {
            return Err(format!(
                "an event from {start} lasts more than {MAX_EVENT_DAYS} days"
            ));
        }
        let name: String = event
            .get_summary()
            .unwrap_or("")
            .trim()
            .chars()
            .take(100)
            .collect();
        let categories = event.property_value("CATEGORIES").unwrap_or("");
        let kind = if looks_like_workday(&name) || looks_like_workday(categories) {
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
            return Err(format!("sets more than {MAX_IMPORT_DAYS} days"));
        }
    }
    if days.is_empty() {
        return Err("holds no all-day event".into());
    }
    // The last event naming a day wins, as if they were set one by one.
    days.reverse();
    let mut seen = std::collections::HashSet::new();
    days.retain(|d| seen.insert(d.date));
    days.sort_by_key(|d| d.date);
    Ok(days)
}

impl App {
    /// `PUT /admin/calendar/{date}`: makes one date a holiday or a working day.
    pub async fn set_calendar_day(
        &self,
        who: &Principal,
        date: &str,
        body: &Value,
    ) -> AppResult<Value> {
        self.admin(who)?;
        let mut b = Body::new(body);
        let kind = b.str("kind");
        let name = b.str("name");
        let date = match parse_date(date) {
            Ok(d) => Some(d),
            Err(m) => {
                b.errors.add("date", m);
                None
            }
        };
        let parsed_kind = parse_kind(&kind);
        if !kind.is_empty() && parsed_kind.is_none() {
            b.errors.add("kind", "must be holiday or workday");
        }
        if name.chars().count() > 100 {
            b.errors.add("name", "must be at most 100 characters");
        }
        b.finish()?;
        let (Some(date), Some(kind)) = (date, parsed_kind) else {
            return Err(AppError::invalid("date", "is required"));
        };
        let day = DayException {
            date,
            kind,
            name: name.trim().to_string(),
        };
        let event = self.admin_event(who, "calendar_day_set", json!(day));
        self.store
            .upsert_calendar(vec![day.clone()], Some(event))
            .await?;
        self.reload_calendar().await?;
        let recomputed = self.recompute_deadlines(day.date).await?;
        let mut answer = json!(day);
        answer["recomputed"] = json!(recomputed);
        Ok(answer)
    }

    /// `POST /admin/calendar/import`: sets every day of an iCalendar file.
    pub async fn import_calendar(&self, who: &Principal, ics: &[u8]) -> AppResult<Value> {
        self.admin(who)?;
        let text = std::str::from_utf8(ics)
            .map_err(|_| AppError::invalid("file", "must be UTF-8 text"))?;
        let days = days_from_ics(text).map_err(|m| AppError::invalid("file", m))?;
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
        Ok(json!({"imported": days.len(), "days": days, "recomputed": recomputed}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_day_events_become_days_and_make_up_days_are_workdays() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20271001\r\nDTEND;VALUE=DATE:20271004\r\nSUMMARY:国庆节\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270926\r\nSUMMARY:国庆节调休上班\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:3\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20271005T090000Z\r\nDTEND:20271005T100000Z\r\nSUMMARY:meeting\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";
        let days = days_from_ics(ics).unwrap();
        let got: Vec<(String, DayKind)> =
            days.iter().map(|d| (d.date.to_string(), d.kind)).collect();
        assert_eq!(
            got,
            vec![
                ("2027-09-26".to_string(), DayKind::Workday),
                ("2027-10-01".to_string(), DayKind::Holiday),
                ("2027-10-02".to_string(), DayKind::Holiday),
                ("2027-10-03".to_string(), DayKind::Holiday),
            ]
        );
        assert_eq!(days[1].name, "国庆节");
    }

    #[test]
    fn files_without_all_day_events_or_with_huge_ranges_are_refused() {
        assert!(days_from_ics("hello").is_err());
        let empty = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n";
        assert!(
            days_from_ics(empty)
                .unwrap_err()
                .contains("no all-day event")
        );
        let long = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n\
DTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20280101\r\nSUMMARY:year\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert!(days_from_ics(long).unwrap_err().contains("more than"));
    }
}
