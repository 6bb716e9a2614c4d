//! The calendar feed subscription (issue 19) against a feed served in
//! this process (an axum server on a local port; the tests run with
//! `webhook_allow_private` on, as the webhook tests do): the daily fetch
//! is a due job the test clock's advance runs; conditional GET; manual
//! days win; days the feed drops go; each change is journaled and moves
//! the open deadlines; a failed fetch alerts admins once a day; the
//! console form. Deadlines into a year without data are provisional.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::calendar::spring_festival_feed;
use crate::harness::*;
use crate::pages::{Browser, console_as, hidden, html};

#[derive(Default)]
struct Served {
    body: String,
    etag: String,
    /// Answer this status instead of the feed.
    fail: Option<u16>,
    /// The `If-None-Match` of every request, in order.
    seen: Vec<Option<String>>,
    /// The `If-Modified-Since` of every request, in order.
    since: Vec<Option<String>>,
}

/// The feed's publisher.
#[derive(Clone, Default)]
struct Publisher {
    inner: Arc<Mutex<Served>>,
    base: String,
}

impl Publisher {
    async fn start(body: String, etag: &str) -> Publisher {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let p = Publisher {
            base: format!("http://{}", listener.local_addr().unwrap()),
            ..Publisher::default()
        };
        p.publish(body, etag);
        let app = axum::Router::new()
            .route("/cn.ics", axum::routing::get(serve))
            .route(
                "/moved",
                axum::routing::get(|| async {
                    (StatusCode::FOUND, [(header::LOCATION, "/cn.ics")]).into_response()
                }),
            )
            .with_state(p.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        p
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn publish(&self, body: String, etag: &str) {
        let mut s = self.inner.lock().unwrap();
        s.body = body;
        s.etag = format!("\"{etag}\"");
    }

    fn fail_with(&self, status: Option<u16>) {
        self.inner.lock().unwrap().fail = status;
    }

    fn seen(&self) -> Vec<Option<String>> {
        self.inner.lock().unwrap().seen.clone()
    }

    fn since(&self) -> Vec<Option<String>> {
        self.inner.lock().unwrap().since.clone()
    }
}

async fn serve(State(p): State<Publisher>, headers: HeaderMap) -> Response {
    let mut s = p.inner.lock().unwrap();
    let tag = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    s.seen.push(tag.clone());
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    s.since.push(since);
    if let Some(code) = s.fail {
        return StatusCode::from_u16(code).unwrap().into_response();
    }
    if tag.as_deref() == Some(s.etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (header::ETAG, s.etag.clone()),
            (header::LAST_MODIFIED, LAST_MODIFIED.to_string()),
        ],
        s.body.clone(),
    )
        .into_response()
}

const LAST_MODIFIED: &str = "Wed, 04 Nov 2026 00:00:00 GMT";

fn events_of(all: &[redress_store::JournalEntry], kind: &str) -> Vec<Value> {
    all.iter()
        .filter(|e| e.kind == kind)
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect()
}

async fn journal(t: &TestApp, kind: &str) -> Vec<Value> {
    events_of(&t.app.store.journal_after(0, 100_000).await.unwrap(), kind)
}

async fn feed(t: &TestApp) -> Value {
    t.get("/admin/calendar/feed", Some(&t.admin))
        .await
        .expect(200)
}

/// Friday 2037-02-13, 10:00 in Shanghai: 2037 has no built-in data (its
/// weekdays are those of 2026, whose Spring Festival the feed lays on it).
const FRIDAY: &str = "2037-02-13T02:00:00Z";

async fn a_subscribed_feed_sets_days_and_moves_deadlines() {
    let t = TestApp::new().await;
    t.app.clock.start_at(FRIDAY.parse().unwrap());
    let c = t.cast().await;
    let publisher = Publisher::start(spring_festival_feed(), "v1").await;
    // A case filed on Friday: accepted by the end of the next working
    // day, Monday without data, and provisional (2037 has none).
    let filed = t.file(complaint(1)).await;
    let id = filed["id"].as_str().unwrap().to_string();
    let case = || t.case(&id, &c.supervisor);
    let before = case().await;
    assert!(
        before["acceptance_due_at"]
            .as_str()
            .unwrap()
            .starts_with("2037-02-16T16:00:00"),
        "{}",
        before["acceptance_due_at"]
    );
    assert_eq!(before["deadlines"]["provisional"], true, "{before}");
    assert_eq!(
        before["deadlines"]["provisional_deadlines"],
        json!(["acceptance_due_at"])
    );

    assert_eq!(feed(&t).await["url"], Value::Null);
    let set = t
        .call(
            "PUT",
            "/admin/calendar/feed",
            Some(&t.admin),
            Some(json!({"url": publisher.url("/moved")})),
        )
        .await
        .expect(200);
    assert_eq!(set["fetched_at"], Value::Null, "{set}");
    assert_eq!(journal(&t, "calendar_feed_set").await.len(), 1);

    // The next run of the jobs fetches it (through the redirect).
    t.advance(1).await;
    let f = feed(&t).await;
    assert_eq!(f["outcome"]["status"], "changed", "{f}");
    assert_eq!(f["outcome"]["added"].as_array().unwrap().len(), 11, "{f}");
    assert_eq!(f["outcome"]["holidays"], 9);
    assert_eq!(f["outcome"]["workdays"], 2);
    assert_eq!(f["etag"], "\"v1\"");
    assert_eq!(f["last_modified"], LAST_MODIFIED);
    assert_eq!(f["feed_days"], 11);
    assert!(f["fetched_at"].is_string());
    // The make-up Saturday counts: the deadline moved to it, with an event.
    let after = case().await;
    assert!(
        after["acceptance_due_at"]
            .as_str()
            .unwrap()
            .starts_with("2037-02-14T16:00:00"),
        "{}",
        after["acceptance_due_at"]
    );
    assert_eq!(after["deadlines"]["provisional"], false, "{after}");
    let moved = |c: &Value| {
        c["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "deadline_recomputed")
            .count()
    };
    assert_eq!(moved(&after), 1);
    let applied = journal(&t, "calendar_feed_applied").await;
    assert_eq!(applied.len(), 1);
    assert!(
        applied[0]["added"]
            .as_array()
            .unwrap()
            .contains(&json!("2037-02-14")),
        "{applied:?}"
    );

    // Asked again the same day, the job waits (daily).
    t.advance(3600).await;
    assert_eq!(publisher.seen().len(), 1, "fetched once a day");
    // Fetch now: a conditional GET, answered 304, changes nothing.
    let now = t
        .post("/admin/calendar/feed/fetch", Some(&t.admin), json!({}))
        .await
        .expect(200);
    assert_eq!(now["status"], "not_modified", "{now}");
    assert_eq!(publisher.seen().last().unwrap().as_deref(), Some("\"v1\""));
    assert_eq!(
        publisher.since().last().unwrap().as_deref(),
        Some(LAST_MODIFIED)
    );
    assert_eq!(journal(&t, "calendar_feed_applied").await.len(), 1);
    assert_eq!(moved(&case().await), 1);

    // An admin's own day wins over the feed.
    t.call(
        "PUT",
        "/admin/calendar/2037-02-28",
        Some(&t.admin),
        Some(json!({"kind": "holiday", "name": "本单位休息"})),
    )
    .await
    .expect(200);
    // The publisher drops the first make-up day; the next day's run
    // removes it (the feed had set it) and keeps the admin's day.
    let dropped: String = spring_festival_feed()
        .split("BEGIN:VEVENT")
        .filter(|e| !e.contains("UID:mk1@feed"))
        .collect::<Vec<_>>()
        .join("BEGIN:VEVENT");
    publisher.publish(dropped, "v2");
    t.advance(24 * 3600).await;
    let f = feed(&t).await;
    assert_eq!(f["outcome"]["status"], "changed", "{f}");
    assert_eq!(f["outcome"]["removed"], json!(["2037-02-14"]), "{f}");
    assert_eq!(f["outcome"]["kept_manual"], 1, "{f}");
    assert_eq!(f["etag"], "\"v2\"");
    let year = t.get("/calendar/2037", None).await.expect(200);
    let day = |date: &str| {
        year["days"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["date"] == date)
            .cloned()
    };
    assert_eq!(day("2037-02-14"), None, "{year}");
    assert_eq!(day("2037-02-28").unwrap()["name"], "本单位休息");
    assert_eq!(day("2037-02-28").unwrap()["kind"], "holiday");
    // Without the make-up Saturday the deadline runs past the festival.
    let last = case().await;
    assert!(
        last["acceptance_due_at"]
            .as_str()
            .unwrap()
            .starts_with("2037-02-24T16:00:00"),
        "{}",
        last["acceptance_due_at"]
    );
    assert_eq!(moved(&last), 2);
    assert_eq!(journal(&t, "calendar_feed_applied").await.len(), 2);

    // Unsubscribing keeps the days.
    t.call("DELETE", "/admin/calendar/feed", Some(&t.admin), None)
        .await
        .expect(204);
    assert_eq!(feed(&t).await["url"], Value::Null);
    assert!(day("2037-02-15").is_some());
    assert_eq!(journal(&t, "calendar_feed_removed").await.len(), 1);
    t.post("/admin/calendar/feed/fetch", Some(&t.admin), json!({}))
        .await
        .expect_error(404);
    // The chain stays whole.
    assert_eq!(
        t.get("/audit/verify", Some(&c.supervisor))
            .await
            .expect(200)["ok"],
        true
    );
}

async fn bad_feed_urls_are_refused_naming_the_field() {
    let t = TestApp::new().await;
    for bad in [
        json!({}),
        json!({"url": "ftp://example.com/a.ics"}),
        json!({"url": "not a url"}),
    ] {
        let fields = t
            .call("PUT", "/admin/calendar/feed", Some(&t.admin), Some(bad))
            .await
            .expect_error(422);
        assert!(fields.get("url").is_some(), "{fields}");
    }
    assert_eq!(feed(&t).await["url"], Value::Null, "nothing stored");
    let c = t.cast().await;
    t.call(
        "PUT",
        "/admin/calendar/feed",
        Some(&c.supervisor),
        Some(json!({"url": "https://example.com/a.ics"})),
    )
    .await
    .expect_error(403);
    // With private addresses refused (as in production), a loopback feed
    // is refused when it is set.
    let t = TestApp::with(|c| c.webhook_allow_private = false).await;
    let fields = t
        .call(
            "PUT",
            "/admin/calendar/feed",
            Some(&t.admin),
            Some(json!({"url": "http://127.0.0.1:9/cn.ics"})),
        )
        .await
        .expect_error(422);
    assert!(fields.get("url").is_some(), "{fields}");
    // And fetching one anyway (say, stored before the rule, or a name
    // that resolves inward now) is refused before any request is made:
    // every hop is checked, the first one too.
    let publisher = Publisher::start(spring_festival_feed(), "v1").await;
    let now = t.app.now();
    t.app
        .store
        .set_calendar_feed(
            Some(redress_store::CalendarFeed {
                url: publisher.url("/moved"),
                etag: None,
                last_modified: None,
                fetched_at: None,
                outcome: None,
                next_fetch_at: now,
                set_by: "staff:admin".into(),
                set_at: now,
            }),
            redress_store::NewEvent {
                case_id: None,
                kind: "calendar_feed_set".into(),
                actor: "staff:admin".into(),
                at: now,
                data: "{}".into(),
            },
        )
        .await
        .unwrap();
    let answer = t
        .post("/admin/calendar/feed/fetch", Some(&t.admin), json!({}))
        .await
        .expect(200);
    assert_eq!(answer["status"], "failed", "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("not public"),
        "{answer}"
    );
    assert!(publisher.seen().is_empty(), "no request left");
    assert_eq!(journal(&t, "calendar_feed_applied").await.len(), 0);
}

/// A feed that cannot be fetched alerts admins with an address, once a
/// day; the job tries again sooner than a day.
async fn a_failing_feed_alerts_admins_once_a_day() {
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
    t.app.clock.start_at(FRIDAY.parse().unwrap());
    let publisher = Publisher::start(spring_festival_feed(), "v1").await;
    publisher.fail_with(Some(503));
    t.call(
        "PUT",
        "/admin/calendar/feed",
        Some(&t.admin),
        Some(json!({"url": publisher.url("/cn.ics")})),
    )
    .await
    .expect(200);
    let feed_mail = |sink: &MailSink| {
        sink.messages()
            .into_iter()
            .filter(|m| m.subject.contains("日历订阅"))
            .count()
    };
    t.advance(1).await;
    let f = feed(&t).await;
    assert_eq!(f["outcome"]["status"], "failed", "{f}");
    assert!(
        f["outcome"]["error"].as_str().unwrap().contains("503"),
        "{f}"
    );
    let answer = t
        .post("/admin/calendar/feed/fetch", Some(&t.admin), json!({}))
        .await
        .expect(200);
    assert_eq!(answer["status"], "failed");
    // An hour later the job tries again: still one alert that day.
    t.advance(3600).await;
    assert_eq!(publisher.seen().len(), 3, "retried within the day");
    for _ in 0..50 {
        if feed_mail(&sink) >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(feed_mail(&sink), 1, "once a day");
    assert_eq!(journal(&t, "calendar_feed_alert_sent").await.len(), 1);
    // The next day, again.
    t.advance(24 * 3600).await;
    for _ in 0..50 {
        if feed_mail(&sink) >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(feed_mail(&sink), 2);
    // A fetch that works clears the failure; no more alerts.
    publisher.fail_with(None);
    let answer = t
        .post("/admin/calendar/feed/fetch", Some(&t.admin), json!({}))
        .await
        .expect(200);
    assert_eq!(answer["status"], "changed", "{answer}");
    assert_eq!(journal(&t, "calendar_feed_alert_sent").await.len(), 2);
    // A feed beyond the size limit is refused and changes nothing.
    publisher.publish(
        format!(
            "{}X-PAD:{}\r\n",
            spring_festival_feed(),
            "x".repeat(3 << 20)
        ),
        "v-large",
    );
    let answer = t
        .post("/admin/calendar/feed/fetch", Some(&t.admin), json!({}))
        .await
        .expect(200);
    assert_eq!(answer["status"], "failed", "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("larger than"),
        "{answer}"
    );
    assert_eq!(feed(&t).await["etag"], "\"v1\"", "the validators stay");
    assert_eq!(journal(&t, "calendar_feed_applied").await.len(), 1);
}

/// Two instances on one database: the due fetch is claimed by one of
/// them, and the other picks the calendar up when it reloads.
async fn one_instance_fetches_the_feed() {
    let t = TestApp::new().await;
    t.app.clock.start_at(FRIDAY.parse().unwrap());
    let publisher = Publisher::start(spring_festival_feed(), "v1").await;
    t.call(
        "PUT",
        "/admin/calendar/feed",
        Some(&t.admin),
        Some(json!({"url": publisher.url("/cn.ics")})),
    )
    .await
    .expect(200);
    let twin = t.twin().await;
    let (a, b) = tokio::join!(t.app.calendar_feed_job(), twin.calendar_feed_job());
    let ran = [a.unwrap(), b.unwrap()];
    assert_eq!(ran.iter().flatten().count(), 1, "{ran:?}");
    assert_eq!(publisher.seen().len(), 1);
    // Each instance sees the days once it reloads (its sweep tick).
    for app in [&t.app, &twin] {
        app.reload_calendar().await.unwrap();
        assert!(app.calendar().has_year(2037));
    }
    // Done for the day on both.
    assert!(twin.calendar_feed_job().await.unwrap().is_none());
    assert!(t.app.calendar_feed_job().await.unwrap().is_none());
}

/// The admin page's feed form: subscribe, fetch now (the outcome shown),
/// unsubscribe, in either language; and the provisional mark on the
/// staff case page and the tracking page.
async fn the_console_sets_fetches_and_removes_the_feed() {
    let t = TestApp::new().await;
    t.app.clock.start_at(FRIDAY.parse().unwrap());
    let c = t.cast().await;
    let publisher = Publisher::start(spring_festival_feed(), "v1").await;
    let filed = t.file(complaint(1)).await;
    let (id, no) = (
        filed["id"].as_str().unwrap().to_string(),
        filed["tracking_no"].as_str().unwrap().to_string(),
    );
    let token = filed["access_token"].as_str().unwrap().to_string();

    // Provisional: marked on the staff case page and the tracking page.
    let mut sup = console_as(&t, "super1", PASSWORD).await;
    let case_page = html(&sup.get(&t, &format!("/staff/cases/{id}")).await);
    assert!(
        case_page.contains("id=\"deadline-provisional\""),
        "{case_page}"
    );
    assert!(case_page.contains("暂定"), "{case_page}");
    let mut complainant = Browser::default();
    let lookup = html(&complainant.get(&t, &format!("/track?no={no}")).await);
    let csrf = hidden(&lookup, "csrf");
    let a = complainant
        .post_form(
            &t,
            "/track",
            &[
                ("csrf", &csrf),
                ("tracking_no", &no),
                ("access_token", &token),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let track = html(&complainant.get(&t, &format!("/track/{no}")).await);
    assert!(track.contains("id=\"deadline-provisional\""), "{track}");
    assert!(track.contains("暂定"));
    let track_en = html(&complainant.get(&t, &format!("/track/{no}?lang=en")).await);
    assert!(track_en.contains("Provisional"), "{track_en}");

    let mut b = console_as(&t, "admin", ADMIN_PASSWORD).await;
    let page = html(&b.get(&t, "/staff/admin/calendar").await);
    assert!(page.contains("id=\"feed-none\""), "{page}");
    assert!(page.contains("日历订阅"));
    let csrf = hidden(&page, "csrf");
    // Without the CSRF field, nothing.
    let a = b
        .post_form(
            &t,
            "/staff/admin/calendar-feed",
            &[("url", &publisher.url("/cn.ics"))],
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);
    // A bad URL is named.
    let a = b
        .post_form(
            &t,
            "/staff/admin/calendar-feed",
            &[("csrf", &csrf), ("url", "ftp://x")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    assert!(html(&a).contains("http://"), "{}", html(&a));
    let a = b
        .post_form(
            &t,
            "/staff/admin/calendar-feed",
            &[("csrf", &csrf), ("url", &publisher.url("/cn.ics"))],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let to = a.headers["location"].to_str().unwrap().to_string();
    let page = html(&b.get(&t, &to).await);
    assert!(page.contains("已订阅"), "{page}");
    assert!(page.contains(&publisher.url("/cn.ics")), "{page}");
    assert!(page.contains("尚未获取"), "{page}");
    let a = b
        .post_form(&t, "/staff/admin/calendar-feed-fetch", &[("csrf", &csrf)])
        .await;
    assert_eq!(a.status.as_u16(), 200);
    let page = html(&a);
    assert!(page.contains("有变化：新增 11 天"), "{page}");
    assert!(page.contains("id=\"feed-last\""), "{page}");
    // In English.
    let page = html(&b.get(&t, "/staff/admin/calendar?lang=en").await);
    assert!(page.contains("Calendar feed"), "{page}");
    assert!(page.contains("11 days added"), "{page}");
    // The deadline is no longer provisional.
    let case_page = html(&sup.get(&t, &format!("/staff/cases/{id}")).await);
    assert!(!case_page.contains("id=\"deadline-provisional\""));
    let a = b
        .post_form(&t, "/staff/admin/calendar-feed-remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let to = a.headers["location"].to_str().unwrap().to_string();
    assert!(html(&b.get(&t, &to).await).contains("id=\"feed-none\""));
    assert_eq!(feed(&t).await["url"], Value::Null);
    drop(c);
}

tests![
    a_subscribed_feed_sets_days_and_moves_deadlines,
    bad_feed_urls_are_refused_naming_the_field,
    a_failing_feed_alerts_admins_once_a_day,
    one_instance_fetches_the_feed,
    the_console_sets_fetches_and_removes_the_feed,
];
