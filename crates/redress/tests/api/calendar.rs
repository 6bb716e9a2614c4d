//! Admins edit the working-day calendar: one day, or an iCalendar file;
//! the deadline answers follow at once.

use serde_json::json;

use crate::harness::*;

/// `GET /calendar/due` one working day after a Friday evening of 2027
/// (no shipped data for 2027: only weekends count).
async fn due_after_friday(t: &TestApp) -> String {
    t.get(
        "/calendar/due?from=2027-03-05T12:00:00%2B08:00&working_days=1",
        None,
    )
    .await
    .expect(200)["due_at"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn admins_set_a_day_and_deadlines_follow() {
    let t = TestApp::new().await;
    // Monday 2027-03-08 ends the first working day after Friday the 5th.
    assert!(due_after_friday(&t).await.starts_with("2027-03-08"));
    // A make-up working day on Saturday the 6th comes first.
    let day = t
        .call(
            "PUT",
            "/admin/calendar/2027-03-06",
            Some(&t.admin),
            Some(json!({"kind": "workday", "name": "调休上班"})),
        )
        .await
        .expect(200);
    assert_eq!(
        day,
        json!({"date": "2027-03-06", "kind": "workday", "name": "调休上班", "recomputed": 0})
    );
    assert!(due_after_friday(&t).await.starts_with("2027-03-06"));
    let year = t.get("/calendar/2027", None).await.expect(200);
    assert!(
        year["days"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["date"] == "2027-03-06" && d["kind"] == "workday"),
        "{year}"
    );
    // The change is journalled, and the chain stays whole.
    let events = t.app.store.journal_after(0, 10_000).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "calendar_day_set" && e.data.contains("2027-03-06")),
        "a calendar_day_set event"
    );
    let c = t.cast().await;
    assert_eq!(
        t.get("/audit/verify", Some(&c.supervisor))
            .await
            .expect(200)["ok"],
        true
    );
}

async fn bad_calendar_edits_name_their_fields_and_need_an_admin() {
    let t = TestApp::new().await;
    let fields = t
        .call(
            "PUT",
            "/admin/calendar/2027-02-30",
            Some(&t.admin),
            Some(json!({"kind": "party", "name": ""})),
        )
        .await
        .expect_error(422);
    for f in ["date", "kind", "name"] {
        assert!(fields.get(f).is_some(), "{f} named: {fields}");
    }
    let c = t.cast().await;
    t.call(
        "PUT",
        "/admin/calendar/2027-03-06",
        Some(&c.supervisor),
        Some(json!({"kind": "holiday", "name": "x"})),
    )
    .await
    .expect_error(403);
    t.call(
        "PUT",
        "/admin/calendar/2027-03-06",
        None,
        Some(json!({"kind": "holiday", "name": "x"})),
    )
    .await
    .expect_error(401);
    // Nothing was stored.
    assert!(due_after_friday(&t).await.starts_with("2027-03-08"));
}

const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//redress test//EN\r\n\
BEGIN:VEVENT\r\nUID:a\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270308\r\n\
DTEND;VALUE=DATE:20270310\r\nSUMMARY:测试假期\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:b\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270313\r\n\
SUMMARY:测试补班\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

async fn an_icalendar_file_sets_holidays_and_make_up_days() {
    let t = TestApp::new().await;
    let a = t
        .call_raw(
            "POST",
            "/admin/calendar/import",
            Some(&t.admin),
            Some(ICS),
            &[],
        )
        .await
        .expect(200);
    assert_eq!(a["imported"], 3, "{a}");
    // Monday and Tuesday off: the first working day after Friday is Wednesday.
    assert!(due_after_friday(&t).await.starts_with("2027-03-10"));
    let year = t.get("/calendar/2027", None).await.expect(200);
    let days: Vec<(String, String)> = year["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_string(),
                d["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for want in [
        ("2027-03-08", "holiday"),
        ("2027-03-09", "holiday"),
        ("2027-03-13", "workday"),
    ] {
        assert!(
            days.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} in {days:?}"
        );
    }
    let fields = t
        .call_raw(
            "POST",
            "/admin/calendar/import",
            Some(&t.admin),
            Some("not a calendar"),
            &[],
        )
        .await
        .expect_error(422);
    assert!(fields.get("file").is_some(), "{fields}");
}

/// A feed in the layout of the widely used public China-holiday
/// subscription: rest days all day (`X 假期 第n天/共m天`), make-up working
/// days as timed 09:00–18:00 events (`X 补班 …`, `STATUS:TENTATIVE`, a
/// `VALARM`), a `VTIMEZONE`, LF lines after a BOM. The days are the 2026
/// Spring Festival of the State Council's notice (rest 2-15..2-23, make-up
/// Saturdays 2-14 and 2-28), laid on 2037, which has the same weekdays and
/// no built-in data, so that only the import can make 2-14 a working day.
pub(crate) fn spring_festival_feed() -> String {
    let alarm = "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15H\nDESCRIPTION:提醒\nEND:VALARM\n";
    let mut events = String::new();
    for n in 1..=9 {
        events += &format!(
            "BEGIN:VEVENT\nUID:sf{n}@feed\nDTSTAMP:20251104T000000Z\nDTSTART;VALUE=DATE:203702{:02}\n\
             DTEND;VALUE=DATE:203702{:02}\nSUMMARY:春节 假期 第{n}天/共9天\nSTATUS:TENTATIVE\nTRANSP:OPAQUE\n{alarm}END:VEVENT\n",
            14 + n,
            15 + n
        );
    }
    for (n, day) in [(1, "20370214"), (2, "20370228")] {
        events += &format!(
            "BEGIN:VEVENT\nUID:mk{n}@feed\nDTSTAMP:20251104T000000Z\nDTSTART;TZID=Asia/Shanghai:{day}T090000\n\
             DTEND;TZID=Asia/Shanghai:{day}T180000\nSUMMARY:春节 补班 第{n}天/共2天\nSTATUS:TENTATIVE\n\
             TRANSP:OPAQUE\n{alarm}END:VEVENT\n"
        );
    }
    format!(
        "\u{feff}BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//feed//CN\nBEGIN:VTIMEZONE\nTZID:Asia/Shanghai\n\
         BEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0800\nTZOFFSETTO:+0800\nTZNAME:CST\n\
         END:STANDARD\nEND:VTIMEZONE\n{events}END:VCALENDAR\n"
    )
}

async fn a_public_feed_imports_its_timed_make_up_days() {
    let t = TestApp::new().await;
    let due = |from: &'static str| {
        let t = &t;
        async move {
            t.get(&format!("/calendar/due?from={from}&working_days=1"), None)
                .await
                .expect(200)["due_at"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    // Friday 2037-02-13: without data the next working day is Monday.
    let friday = "2037-02-13T10:00:00%2B08:00";
    assert!(
        due(friday).await.starts_with("2037-02-16"),
        "{}",
        due(friday).await
    );
    // A malformed file changes nothing.
    let broken = spring_festival_feed().replace("END:VCALENDAR", "");
    let fields = t
        .call_raw(
            "POST",
            "/admin/calendar/import",
            Some(&t.admin),
            Some(&broken),
            &[],
        )
        .await
        .expect_error(422);
    assert!(fields.get("file").is_some(), "{fields}");
    let year = t.get("/calendar/2037", None).await.expect(200);
    assert_eq!(year["days"].as_array().unwrap().len(), 0, "{year}");

    let answer = t
        .call_raw(
            "POST",
            "/admin/calendar/import",
            Some(&t.admin),
            Some(&spring_festival_feed()),
            &[],
        )
        .await
        .expect(200);
    assert_eq!(answer["imported"], 11, "{answer}");
    assert_eq!(answer["holidays"], 9, "{answer}");
    assert_eq!(answer["workdays"], 2, "{answer}");
    // The make-up Saturday is a working day: the deadline ends with it.
    let ends = due(friday).await;
    assert!(
        ends.starts_with("2037-02-14T16:00:00"),
        "24:00 local: {ends}"
    );
    // Across the festival: from Saturday 2-14 the next working day is
    // Tuesday 2-24.
    assert!(
        due("2037-02-14T10:00:00%2B08:00")
            .await
            .starts_with("2037-02-24"),
        "{}",
        due("2037-02-14T10:00:00%2B08:00").await
    );
}

/// The admin page's HTML, signed in as `admin` through the login form.
async fn admin_page(t: &TestApp) -> String {
    use crate::pages::{console_as, html};
    let mut b = console_as(t, "admin", ADMIN_PASSWORD).await;
    html(&b.get(t, "/staff/admin").await)
}

/// A year without holiday data is said, never silent: `complete` on
/// `GET /calendar/{year}`, a warning in `/healthz` (still 200) for the
/// current year and, from November 1, the next, and a banner on the admin
/// page, until the year is set.
async fn a_missing_calendar_year_is_warned_of_from_november() {
    let t = TestApp::new().await;
    // October 31, 2026, noon in Shanghai: 2026 has data, 2027 not yet.
    t.app
        .clock
        .start_at("2026-10-31T04:00:00Z".parse().unwrap());
    assert_eq!(
        t.get("/calendar/2026", None).await.expect(200)["complete"],
        true
    );
    assert_eq!(
        t.get("/calendar/2027", None).await.expect(200)["complete"],
        false
    );
    let health = t.get("/healthz", None).await.expect(200);
    assert_eq!(health["warnings"], json!([]), "{health}");
    // November 1: the next year is missing.
    t.advance(24 * 3600).await;
    let health = t.get("/healthz", None).await.expect(200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["warnings"][0]["year"], 2027, "{health}");
    assert_eq!(health["warnings"][0]["kind"], "calendar_year_missing");
    // The admin page says so too.
    let page = admin_page(&t).await;
    assert!(page.contains("calendar-missing-2027"), "{page}");
    assert!(page.contains("日历缺少 2027 年的节假日安排"), "{page}");
    // Setting the year's first holiday ends the warning.
    t.call(
        "PUT",
        "/admin/calendar/2027-01-01",
        Some(&t.admin),
        Some(json!({"kind": "holiday", "name": "元旦"})),
    )
    .await
    .expect(200);
    assert_eq!(
        t.get("/calendar/2027", None).await.expect(200)["complete"],
        true
    );
    let health = t.get("/healthz", None).await.expect(200);
    assert_eq!(health["warnings"], json!([]), "{health}");
}

/// Admins with an address hear of a missing year once a day.
async fn admins_are_mailed_once_a_day_while_a_year_is_missing() {
    use crate::notices::{MailSink, free_port};
    let sink = MailSink::start(free_port());
    let t = TestApp::with(|c| {
        c.smtp_relay = Some(format!("smtp://127.0.0.1:{}", sink.port));
        c.mail_from = Some("complaints@example.com".into());
    })
    .await;
    t.call(
        "PATCH",
        "/admin/users/admin",
        Some(&t.admin),
        Some(json!({"email": "it@example.com"})),
    )
    .await
    .expect(200);
    // November 1, 2026: 2027 is missing.
    t.app
        .clock
        .start_at("2026-11-01T02:00:00Z".parse().unwrap());
    assert!(t.app.warn_admins_of_calendar().await.unwrap());
    assert!(
        !t.app.warn_admins_of_calendar().await.unwrap(),
        "once a day"
    );
    let got = sink.wait_for(1).await;
    assert_eq!(got[0].to, "it@example.com");
    assert!(got[0].subject.contains("2027"), "{:?}", got[0]);
    // The next day, again (the hourly housekeeping the advance runs sends
    // it; asked again the same day, nothing more).
    t.advance(24 * 3600).await;
    assert_eq!(sink.wait_for(2).await.len(), 2);
    assert!(!t.app.warn_admins_of_calendar().await.unwrap());
    // Once the year has days, no more.
    t.call(
        "PUT",
        "/admin/calendar/2027-01-01",
        Some(&t.admin),
        Some(json!({"kind": "holiday", "name": "元旦"})),
    )
    .await
    .expect(200);
    t.advance(24 * 3600).await;
    assert!(!t.app.warn_admins_of_calendar().await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(sink.messages().len(), 2, "no mail once the year has days");
}

tests![
    admins_set_a_day_and_deadlines_follow,
    admins_are_mailed_once_a_day_while_a_year_is_missing,
    a_missing_calendar_year_is_warned_of_from_november,
    a_public_feed_imports_its_timed_make_up_days,
    bad_calendar_edits_name_their_fields_and_need_an_admin,
    an_icalendar_file_sets_holidays_and_make_up_days,
];
