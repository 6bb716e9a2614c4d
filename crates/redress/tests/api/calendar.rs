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

tests![
    admins_set_a_day_and_deadlines_follow,
    bad_calendar_edits_name_their_fields_and_need_an_admin,
    an_icalendar_file_sets_holidays_and_make_up_days,
];
