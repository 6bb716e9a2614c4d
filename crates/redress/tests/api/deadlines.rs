//! The deadline engine through HTTP (SPEC §4): reminders at 50% and 80%,
//! daily reminders once overdue, the escalation ladder, each sent once
//! across restarts; pause and resume; extension by working days; calendar
//! edits moving open deadlines; per-category lengths; the queues.
//!
//! The test clock starts at the wall clock, so expected instants are
//! derived from the case's own clock with the installation's calendar
//! (whose arithmetic has its own tests in `redress-domain`).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::harness::*;

struct Care {
    intake: String,
    handler: String,
    head: String,
    supervisor: String,
    outsider: String,
}

/// A department `care` with a head, its category, a handler, an intake
/// agent, a supervisor and a handler of another department.
async fn care(t: &TestApp) -> Care {
    t.post(
        "/admin/departments",
        Some(&t.admin),
        json!({"code": "care", "name": "关怀部 Care", "head": "head1"}),
    )
    .await
    .expect(201);
    t.post(
        "/admin/categories",
        Some(&t.admin),
        json!({"code": "care-cat", "name": "关怀", "department": "care", "handling_days": 10,
               "appeal_days": 30, "review_days": 3}),
    )
    .await
    .expect(201);
    Care {
        intake: t.staff("intake1", &["intake"], &[], 1).await,
        handler: t.staff("handler1", &["handler"], &["care"], 1).await,
        head: t.staff("head1", &["handler"], &["care"], 3).await,
        supervisor: t.staff("super1", &["supervisor"], &[], 5).await,
        outsider: t
            .staff("other1", &["handler"], &["customer-service"], 1)
            .await,
    }
}

/// Files, accepts into `care` and assigns to handler1; returns the
/// registration answer (id, tracking number, access token).
async fn handled_filing(t: &TestApp, c: &Care, n: u32) -> Value {
    let filed = t.file(complaint(n)).await;
    let id = filed["id"].as_str().unwrap();
    t.act(&id, "accept", &c.intake, json!({"category": "care-cat"}))
        .await;
    t.act(&id, "assign", &c.supervisor, json!({"handler": "handler1"}))
        .await;
    filed
}

/// Like [`handled_filing`], returning the id.
async fn handled(t: &TestApp, c: &Care, n: u32) -> String {
    handled_filing(t, c, n).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// handler1 decides the case.
async fn decide(t: &TestApp, c: &Care, id: &str, outcome: &str) -> Value {
    t.act(
        &id,
        "decide",
        &c.handler,
        json!({"outcome": outcome, "basis": ["平台服务协议 5.2"], "reply": "已处理。"}),
    )
    .await
}

/// The case's reminder and escalation events, in order, by key (daily
/// reminders as `overdue:<working days overdue>`).
fn alert_keys(case: &Value) -> Vec<String> {
    case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reminder_sent" || e["kind"] == "escalated")
        .map(|e| match e["data"]["working_days_overdue"].as_u64() {
            Some(days) => format!("overdue:{days}"),
            None => e["data"]["key"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// Staff deliveries of `notice` kind, as (recipient) in order.
fn staff_deliveries(case: &Value, notice: &str) -> Vec<String> {
    case["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["party"] == "staff" && d["notice"] == notice)
        .map(|d| d["recipient"].as_str().unwrap().to_string())
        .collect()
}

/// The instant `percent` of the clock's working time has passed.
fn share(t: &TestApp, clock: &Value, percent: i64) -> DateTime<Utc> {
    let cal = t.app.calendar();
    let (start, due) = (at(&clock["started_at"]), at(&clock["due_at"]));
    cal.after_working_seconds(start, cal.working_seconds(start, due) * percent / 100)
}

async fn reminders_escalations_and_daily_repeats_come_once_each() {
    let mut t = TestApp::new().await;
    let c = care(&t).await;
    let id = handled(&t, &c, 1).await;
    let clock = t.case(&id, &c.supervisor).await["clock"].clone();
    assert_eq!(clock["stage"], "handling");
    assert_eq!(clock["length"], 10, "the category's handling time");
    let due = at(&clock["due_at"]);
    let cal = t.app.calendar();

    // Just before half the working time: nothing.
    let half = share(&t, &clock, 50);
    t.advance((half - t.app.now()).num_seconds() - 60).await;
    assert!(alert_keys(&t.case(&id, &c.supervisor).await).is_empty());
    t.advance_to(half).await;
    let now = t.case(&id, &c.supervisor).await;
    assert_eq!(alert_keys(&now), ["reminder:50"]);
    assert_eq!(staff_deliveries(&now, "reminder"), ["handler1"]);
    let event = now["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reminder_sent")
        .unwrap()
        .clone();
    assert_eq!(event["data"]["percent"], 50);
    assert_eq!(event["actor"], "system:deadline-sweep");

    // A restart between two alerts: the sent one is not sent again, the
    // next one comes when due.
    t.restart().await;
    t.advance(0).await;
    assert_eq!(
        alert_keys(&t.case(&id, &c.supervisor).await),
        ["reminder:50"]
    );
    t.advance_to(share(&t, &clock, 80)).await;
    assert_eq!(
        alert_keys(&t.case(&id, &c.supervisor).await),
        ["reminder:50", "reminder:80"]
    );

    // At the deadline: flagged overdue, the handler reminded, the head told.
    t.advance_to(due).await;
    let now = t.case(&id, &c.supervisor).await;
    assert_eq!(now["overdue"], true);
    assert_eq!(now["clock"]["overdue"], true);
    let keys = alert_keys(&now);
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(keys.contains(&"overdue:0".to_string()) && keys.contains(&"escalation:0".to_string()));
    assert_eq!(staff_deliveries(&now, "escalation"), ["head1"]);
    let step = now["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "escalated")
        .unwrap()
        .clone();
    assert_eq!(
        (step["data"]["step"].clone(), step["data"]["to"].clone()),
        (json!(1), json!("head"))
    );

    // One working day later: a daily reminder, no escalation yet.
    t.advance_to(cal.working_days_after(due, 1)).await;
    let keys = alert_keys(&t.case(&id, &c.supervisor).await);
    assert_eq!(keys.last().unwrap(), "overdue:1");
    assert_eq!(keys.len(), 5);

    // Two working days after the deadline: supervisors, and today's reminder.
    t.advance_to(cal.working_days_after(due, 2)).await;
    let now = t.case(&id, &c.supervisor).await;
    let keys = alert_keys(&now);
    assert!(
        keys.ends_with(&["escalation:1".to_string(), "overdue:2".to_string()])
            || keys.ends_with(&["overdue:2".to_string(), "escalation:1".to_string()]),
        "{keys:?}"
    );
    assert_eq!(staff_deliveries(&now, "escalation"), ["head1", "super1"]);
    assert_eq!(
        now["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "deadline_missed")
            .count(),
        1,
        "flagged once"
    );

    // However often the sweep runs, nothing more until the next working day.
    let before = keys.len();
    t.advance(0).await;
    t.advance(0).await;
    assert_eq!(alert_keys(&t.case(&id, &c.supervisor).await).len(), before);

    // A stop of several working days: only that day's reminder is sent.
    let quiet = (cal.working_days_after(due, 5) - t.app.now()).num_seconds() + 1;
    assert!(t.app.clock.advance(quiet), "clock moved without a sweep");
    t.restart().await;
    t.advance(0).await;
    let keys = alert_keys(&t.case(&id, &c.supervisor).await);
    assert_eq!(keys.len(), before + 1, "{keys:?}");
    assert_eq!(keys.last().unwrap(), "overdue:5");

    // The case moves (a decision): reminders stop.
    decide(&t, &c, &id, "upheld").await;
    t.advance(3 * 86400).await;
    assert_eq!(
        alert_keys(&t.case(&id, &c.supervisor).await).len(),
        before + 1
    );
    // The head sees the case (their department) and its escalation.
    assert_eq!(
        staff_deliveries(&t.case(&id, &c.head).await, "escalation")[0],
        "head1"
    );
}

async fn an_acceptance_deadline_reminds_intake_and_escalates_to_supervisors() {
    let t = TestApp::new().await;
    let c = care(&t).await;
    let id = t.file(complaint(1)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let now = t.case(&id, &c.supervisor).await;
    assert_eq!(now["clock"]["stage"], "acceptance");
    t.advance_to(at(&now["clock"]["due_at"])).await;
    let now = t.case(&id, &c.supervisor).await;
    let mut keys = alert_keys(&now);
    keys.sort();
    assert_eq!(
        keys,
        ["escalation:0", "overdue:0"],
        "no share reminders for acceptance"
    );
    assert_eq!(staff_deliveries(&now, "reminder"), ["role:intake"]);
    assert_eq!(staff_deliveries(&now, "escalation"), ["super1"]);
    // Accepting moves the case on: a new stage with its own clock.
    let accepted = t
        .act(&id, "accept", &c.intake, json!({"category": "care-cat"}))
        .await;
    assert_eq!(accepted["clock"]["stage"], "handling");
    assert_eq!(accepted["overdue"], false);
}

async fn a_paused_clock_stops_and_gives_back_its_working_days() {
    let t = TestApp::new().await;
    let c = care(&t).await;
    let id = handled(&t, &c, 1).await;
    let path = |action: &str| format!("/complaints/{id}/{action}");
    let due = at(&t.case(&id, &c.supervisor).await["handling_due_at"]);

    // Refusals first: no reason, wrong person, nothing to resume.
    let fields = t
        .post(&path("pause"), Some(&c.handler), json!({"reason": " "}))
        .await
        .expect_error(422);
    assert!(fields.get("reason").is_some(), "{fields}");
    t.post(&path("pause"), Some(&c.outsider), json!({"reason": "检测"}))
        .await
        .expect_error(403);
    t.post(&path("resume"), Some(&c.handler), json!({}))
        .await
        .expect_error(409);

    let paused = t
        .post(
            &path("pause"),
            Some(&c.handler),
            json!({"reason": "等待第三方检测报告"}),
        )
        .await
        .expect(200);
    assert_eq!(paused["paused"], true);
    assert_eq!(paused["clock"]["paused"], true);
    assert_eq!(paused["clock"]["pause_reason"], "等待第三方检测报告");
    assert_eq!(paused["next_due_at"], Value::Null);
    let frozen = paused["clock"]["remaining_working_seconds"].clone();
    t.post(&path("pause"), Some(&c.handler), json!({"reason": "again"}))
        .await
        .expect_error(409);
    t.post(
        &path("extend"),
        Some(&c.handler),
        json!({"days": 3, "reason": "需要更多时间"}),
    )
    .await
    .expect_error(409);

    // Far past the old deadline while paused: not overdue, no alerts,
    // remaining time frozen.
    t.advance_to(t.app.calendar().working_days_after(due, 3))
        .await;
    let now = t.case(&id, &c.supervisor).await;
    assert_eq!(now["overdue"], false);
    assert!(alert_keys(&now).is_empty(), "{:?}", alert_keys(&now));
    assert_eq!(now["clock"]["remaining_working_seconds"], frozen);
    let listed = t
        .get("/complaints?overdue=true", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(listed["total"], 0);
    let complainant_notices = now["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["party"] == "complainant" && d["notice"] == "progress")
        .count();
    assert_eq!(
        complainant_notices, 1,
        "the complainant is told of the pause"
    );

    let resumed = t
        .post(
            &path("resume"),
            Some(&c.handler),
            json!({"reason": "报告已到"}),
        )
        .await
        .expect(200);
    let cal = t.app.calendar();
    let credit = cal.working_days_in(event_at(&resumed, "paused"), event_at(&resumed, "resumed"));
    assert!(credit >= 1);
    let new_due = at(&resumed["handling_due_at"]);
    assert_eq!(new_due, cal.working_days_after(due, credit));
    assert!(new_due > t.app.now(), "no longer overdue");
    assert_eq!(resumed["paused"], false);
    assert_eq!(resumed["clock"]["paused_days"], credit);
    let event = resumed["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "resumed")
        .unwrap()
        .clone();
    assert_eq!(event["data"]["working_days_added"], credit);
    assert_eq!(at(&event["data"]["previous_due_at"]), due);
}

async fn an_extension_by_working_days_moves_the_deadline() {
    let t = TestApp::new().await;
    let c = care(&t).await;
    let id = handled(&t, &c, 1).await;
    let path = format!("/complaints/{id}/extend");
    let due = at(&t.case(&id, &c.supervisor).await["handling_due_at"]);
    let fields = t
        .post(
            &path,
            Some(&c.handler),
            json!({"days": 3, "due_at": "2099-01-01T00:00:00Z", "reason": "x"}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("days").is_some(), "{fields}");
    let fields = t
        .post(&path, Some(&c.handler), json!({"days": 0, "reason": "x"}))
        .await
        .expect_error(422);
    assert!(fields.get("days").is_some(), "{fields}");
    let fields = t
        .post(&path, Some(&c.handler), json!({"reason": "x"}))
        .await
        .expect_error(422);
    assert!(fields.get("due_at").is_some(), "{fields}");

    let extended = t
        .post(
            &path,
            Some(&c.handler),
            json!({"days": 5, "reason": "需要调取物流记录"}),
        )
        .await
        .expect(200);
    let cal = t.app.calendar();
    assert_eq!(
        at(&extended["handling_due_at"]),
        cal.working_days_after(due, 5)
    );
    assert_eq!(extended["clock"]["extension_days"], 5);
    assert_eq!(extended["extensions"][0]["reason"], "需要调取物流记录");
    assert_eq!(at(&extended["extensions"][0]["previous_due_at"]), due);
}

async fn a_calendar_edit_moves_the_open_deadlines_it_affects() {
    let t = TestApp::new().await;
    let c = care(&t).await;
    let open = handled(&t, &c, 1).await;
    let closed = handled(&t, &c, 2).await;
    decide(&t, &c, &closed, "upheld").await;
    let due = at(&t.case(&open, &c.supervisor).await["handling_due_at"]);
    let cal = t.app.calendar();
    // A working day strictly between today and the deadline.
    let mut day = cal.local_date(t.app.now()).succ_opt().unwrap();
    while !cal.is_working_day(day) {
        day = day.succ_opt().unwrap();
    }
    let appeal_before = t.case(&closed, &c.supervisor).await["appeal_due_at"].clone();

    let answer = t
        .call(
            "PUT",
            &format!("/admin/calendar/{day}"),
            Some(&t.admin),
            Some(json!({"kind": "holiday", "name": "临时休假"})),
        )
        .await
        .expect(200);
    assert_eq!(answer["recomputed"], 1, "{answer}");
    let moved = t.case(&open, &c.supervisor).await;
    let cal = t.app.calendar();
    assert_eq!(
        at(&moved["handling_due_at"]),
        cal.working_days_after(due, 1)
    );
    let event = moved["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "deadline_recomputed")
        .unwrap()
        .clone();
    assert_eq!(at(&event["data"]["previous_due_at"]), due);
    assert_eq!(event["actor"], "system:calendar");
    // The appeal window counts calendar days: untouched.
    assert_eq!(
        t.case(&closed, &c.supervisor).await["appeal_due_at"],
        appeal_before
    );

    // A day after every open deadline moves nothing.
    let later = cal.local_date(at(&moved["handling_due_at"])) + chrono::Days::new(30);
    let answer = t
        .call(
            "PUT",
            &format!("/admin/calendar/{later}"),
            Some(&t.admin),
            Some(json!({"kind": "holiday", "name": "远期"})),
        )
        .await
        .expect(200);
    assert_eq!(answer["recomputed"], 0);
    // Undoing the holiday (a make-up working day) moves it back.
    let answer = t
        .call(
            "PUT",
            &format!("/admin/calendar/{day}"),
            Some(&t.admin),
            Some(json!({"kind": "workday", "name": "恢复上班"})),
        )
        .await
        .expect(200);
    assert_eq!(answer["recomputed"], 1);
    assert_eq!(
        at(&t.case(&open, &c.supervisor).await["handling_due_at"]),
        due
    );
}

async fn a_category_sets_its_appeal_and_review_lengths() {
    let t = TestApp::new().await;
    let c = care(&t).await;
    let filed = handled_filing(&t, &c, 1).await;
    let decided = decide(&t, &c, filed["id"].as_str().unwrap(), "not_upheld").await;
    let cal = t.app.calendar();
    assert_eq!(
        at(&decided["appeal_due_at"]),
        cal.calendar_days_after(t.app.now(), 30),
        "the category's 30 calendar days, not the default 15"
    );
    assert_eq!(decided["clock"]["stage"], "appeal");
    assert_eq!(decided["clock"]["unit"], "calendar_days");
    let appealed = t
        .post(
            &format!("/track/{}/appeal", filed["tracking_no"].as_str().unwrap()),
            Some(filed["access_token"].as_str().unwrap()),
            json!({"reason": "不服"}),
        )
        .await
        .expect(200);
    assert_eq!(
        at(&appealed["review_due_at"]),
        cal.working_days_after(t.app.now(), 3),
        "the category's 3 working days, not the default 10"
    );
}

async fn queues_count_overdue_and_due_soon_per_department_and_person() {
    let t = TestApp::new().await;
    let c = care(&t).await;
    let a = handled(&t, &c, 1).await;
    let _b = handled(&t, &c, 2).await;
    let unassigned = t.file(complaint(3)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = t.file(complaint(4)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.act(
        &other,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    let q = t.get("/queues", Some(&c.supervisor)).await.expect(200);
    assert_eq!(
        (q["overdue"].clone(), q["due_soon"].clone()),
        (json!(0), json!(1)),
        "{q}"
    );

    // Past the acceptance deadlines (1 working day), before handling ones.
    let acceptance_due = at(&t.case(&unassigned, &c.supervisor).await["acceptance_due_at"]);
    t.advance_to(acceptance_due).await;
    let q = t.get("/queues", Some(&c.supervisor)).await.expect(200);
    assert_eq!(q["overdue"], 1, "{q}");
    // Move one handled case to its deadline by moving the clock there.
    let a_due = at(&t.case(&a, &c.supervisor).await["handling_due_at"]);
    t.advance_to(a_due).await;
    let q = t.get("/queues", Some(&c.supervisor)).await.expect(200);
    // Both care cases (10 working days) are overdue, the customer-service
    // one (15) is not; the unaccepted case still is.
    let dept = |q: &Value, d: &str| {
        q["departments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["department"] == d)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(dept(&q, "care")["overdue"], 2, "{q}");
    assert_eq!(dept(&q, "customer-service"), Value::Null, "{q}");
    let unaccepted = q["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["department"].is_null())
        .cloned()
        .unwrap();
    assert_eq!(unaccepted["overdue"], 1, "{q}");
    let person = q["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["assignee"] == "handler1")
        .cloned()
        .unwrap();
    assert_eq!(person["overdue"], 2);
    assert_eq!(q["overdue"], 3, "the unaccepted case too: {q}");

    // Exact totals in the lists agree with the queues.
    let listed = t
        .get(
            "/complaints?overdue=true&assignee=handler1",
            Some(&c.supervisor),
        )
        .await
        .expect(200);
    assert_eq!(listed["total"], 2);
    // The handler's own view: their department and their cases only.
    let mine = t.get("/queues", Some(&c.handler)).await.expect(200);
    assert_eq!(mine["mine"]["overdue"], 2, "{mine}");
    assert_eq!(mine["overdue"], 2, "customer-service is not theirs: {mine}");
    // Pausing takes a case out of the queues.
    t.act(&a, "pause", &c.handler, json!({"reason": "等待鉴定"}))
        .await;
    let mine = t.get("/queues", Some(&c.handler)).await.expect(200);
    assert_eq!(mine["mine"]["overdue"], 1, "{mine}");
    t.get("/queues", None).await.expect_error(401);
}

async fn due_soon_lists_the_deadlines_within_the_window() {
    let t = TestApp::new().await;
    let c = care(&t).await;
    let id = handled(&t, &c, 1).await;
    let due = at(&t.case(&id, &c.supervisor).await["handling_due_at"]);
    let listed = t
        .get("/complaints?due_soon=true", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(listed["total"], 0, "ten working days away");
    // The day before the deadline's last working day.
    let cal = t.app.calendar();
    let window_start = cal.start_of_local_day(cal.local_date(due - chrono::Duration::seconds(1)));
    t.advance_to(window_start).await;
    let listed = t
        .get("/complaints?due_soon=true", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert_eq!(
        listed["items"][0]["remaining_working_days"], 0,
        "the last day has begun"
    );
    t.get("/complaints?due_soon=maybe", Some(&c.supervisor))
        .await
        .expect_error(422);
}

async fn an_installation_counting_in_working_hours() {
    let t = TestApp::with(|c| {
        c.working_hours = Some("09:00-18:00".into());
        c.policy.hours.acceptance = Some(8);
    })
    .await;
    let c = t.cast().await;
    // Tuesday 2026-12-01 10:00 in Shanghai: 8 working hours end at 18:00,
    // 9 at 10:00 the next morning.
    let due = |q: &str| {
        let t = &t;
        let q = q.to_string();
        async move {
            t.get(
                &format!("/calendar/due?from=2026-12-01T10:00:00%2B08:00&{q}"),
                None,
            )
            .await
            .expect(200)["due_at"]
                .clone()
        }
    };
    assert_eq!(due("working_hours=8").await, "2026-12-01T10:00:00Z");
    assert_eq!(due("working_hours=9").await, "2026-12-02T02:00:00Z");
    assert_eq!(due("working_days=1").await, "2026-12-02T16:00:00Z");
    let fields = t
        .get("/calendar/due?working_hours=1&working_days=1", None)
        .await
        .expect_error(422);
    assert!(fields.get("working_hours").is_some(), "{fields}");

    // Acceptance counts 8 working hours.
    let id = t.file(complaint(1)).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["clock"]["unit"], "working_hours");
    assert_eq!(case["clock"]["length"], 8);
    let cal = t.app.calendar();
    let started = at(&case["clock"]["started_at"]);
    let due_at = at(&case["acceptance_due_at"]);
    assert_eq!(due_at, cal.working_hours_after(started, 8));
    assert_eq!(cal.working_seconds(started, due_at), 8 * 3600);
    assert!(case["clock"]["remaining_working_seconds"].as_i64().unwrap() <= 8 * 3600);

    // A pause gives back the working seconds it covered.
    t.act(
        &id,
        "pause",
        &c.intake,
        json!({"reason": "等待平台调取记录"}),
    )
    .await;
    t.advance(26 * 3600).await;
    let resumed = t.act(&id, "resume", &c.intake, json!({})).await;
    // The server's own instants of the pause and the resume.
    let credit = cal.working_seconds(event_at(&resumed, "paused"), event_at(&resumed, "resumed"));
    assert_eq!(resumed["clock"]["paused_seconds"], credit);
    assert_eq!(
        at(&resumed["acceptance_due_at"]),
        cal.after_working_seconds(due_at, credit)
    );
    assert_eq!(resumed["clock"]["paused_days"], 0);
}

async fn two_instances_sweeping_at_once_send_each_alert_once() {
    let t = TestApp::new().await;
    let c = care(&t).await;
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(handled(&t, &c, n).await);
    }
    let twin = t.twin().await;
    let due = at(&t.case(&ids[0], &c.supervisor).await["handling_due_at"]);
    // Both clocks two working days past the deadline (every step due at
    // once, as after a stop), then both sweeps together.
    let target = t.app.calendar().working_days_after(due, 2);
    let seconds = (target - t.app.now()).num_seconds() + 1;
    assert!(t.app.clock.advance(seconds) && twin.clock.advance(seconds));
    let (a, b) = tokio::join!(t.app.sweep(), twin.sweep());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.cases + b.cases,
        12,
        "each case swept by one of them: {a:?} {b:?}"
    );
    for id in &ids {
        let now = t.case(id, &c.supervisor).await;
        let mut keys = alert_keys(&now);
        keys.sort();
        assert_eq!(
            keys,
            ["escalation:0", "escalation:1", "overdue:2"],
            "each step once; share reminders whose moment came only with the deadline are superseded"
        );
        assert_eq!(staff_deliveries(&now, "escalation"), ["head1", "super1"]);
        assert_eq!(staff_deliveries(&now, "reminder"), ["handler1"]);
    }
    // Sweeping again on either changes nothing.
    let (a, b) = tokio::join!(t.app.sweep(), twin.sweep());
    assert_eq!(a.unwrap().cases + b.unwrap().cases, 0);
}

/// Files a complaint with one evidence file; returns (filing, sha256).
async fn filed_with_file(t: &TestApp, n: u32, bytes: &[u8]) -> (Value, String) {
    let filed = t.file(complaint(n)).await;
    let no = filed["tracking_no"].as_str().unwrap();
    let token = filed["access_token"].as_str().unwrap();
    let case = t
        .upload(
            &format!("/track/{no}/evidence"),
            Some(token),
            "收据.txt",
            bytes,
        )
        .await
        .expect(200);
    let sha = case["evidence"][0]["sha256"].as_str().unwrap().to_string();
    (filed, sha)
}

async fn withdraw(t: &TestApp, filed: &Value) {
    let no = filed["tracking_no"].as_str().unwrap();
    t.post(
        &format!("/track/{no}/withdraw"),
        Some(filed["access_token"].as_str().unwrap()),
        json!({"reason": "已协商解决"}),
    )
    .await
    .expect(200);
}

/// Retention counts to the same calendar date (SPEC §4): a case closed on
/// 29 February is purged on 28 February three years later, not a day
/// early or late.
async fn retention_counts_to_the_same_calendar_date() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    // 29 February 2028, 10:00 in Shanghai.
    let leap: DateTime<Utc> = "2028-02-29T02:00:00Z".parse().unwrap();
    t.advance_to(leap).await;
    let filed = t.file(complaint(1)).await;
    withdraw(&t, &filed).await;
    let id = filed["id"].as_str().unwrap();
    let closed = t.case(id, &c.supervisor).await;
    let closed_at = at(&closed["closed_at"]);
    let until = at(&closed["retention_until"]);
    let shanghai = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    assert_eq!(
        closed_at.with_timezone(&shanghai).date_naive().to_string(),
        "2028-02-29"
    );
    assert_eq!(
        until.with_timezone(&shanghai).date_naive().to_string(),
        "2031-02-28",
        "{closed}"
    );
    assert_eq!(
        until.with_timezone(&shanghai).time(),
        closed_at.with_timezone(&shanghai).time()
    );
    // Not purged the day before; purged on the day.
    t.advance_to(until - chrono::Duration::days(1)).await;
    assert_eq!(t.case(id, &c.supervisor).await["purged_at"], Value::Null);
    t.advance_to(until).await;
    let purged = t.case(id, &c.supervisor).await;
    assert!(purged["purged_at"].is_string(), "{purged}");
}

async fn retention_purges_the_file_unless_a_legal_hold_keeps_it() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let shared = b"receipt 2026-11 order 778899, paid 120 yuan";
    let (a, a_sha) = filed_with_file(&t, 1, shared).await;
    let (b, b_sha) = filed_with_file(&t, 2, shared).await;
    assert_eq!(a_sha, b_sha, "the same content");
    let (held, held_sha) = filed_with_file(&t, 3, b"chat log with the shop, unique").await;
    withdraw(&t, &a).await;
    withdraw(&t, &held).await;
    let (a_id, held_id) = (a["id"].as_str().unwrap(), held["id"].as_str().unwrap());
    // Each case keeps its own copy, named and sealed with its key.
    let a_file = t.case_file(a_id, &a_sha).await;
    let b_file = t.case_file(b["id"].as_str().unwrap(), &b_sha).await;
    let held_file = t.case_file(held_id, &held_sha).await;
    assert_ne!(a_file, b_file);
    assert!(a_file.exists() && b_file.exists());

    // A legal hold: a supervisor's, with a reason, once.
    let hold = format!("/complaints/{held_id}/legal-hold");
    t.post(
        &hold,
        Some(&c.handler),
        json!({"hold": true, "reason": "诉讼中"}),
    )
    .await
    .expect_error(403);
    let fields = t
        .post(&hold, Some(&c.supervisor), json!({"hold": true}))
        .await
        .expect_error(422);
    assert!(fields.get("reason").is_some(), "{fields}");
    let fields = t
        .post(&hold, Some(&c.supervisor), json!({"reason": "诉讼中"}))
        .await
        .expect_error(422);
    assert!(fields.get("hold").is_some(), "{fields}");
    let answer = t
        .post(
            &hold,
            Some(&c.supervisor),
            json!({"hold": true, "reason": "诉讼中"}),
        )
        .await
        .expect(200);
    assert_eq!(answer["legal_hold"], true);
    t.post(
        &hold,
        Some(&c.supervisor),
        json!({"hold": true, "reason": "again"}),
    )
    .await
    .expect_error(409);

    // Three years after closure.
    let closed = t.case(a_id, &c.supervisor).await;
    let until = at(&closed["retention_until"]);
    assert!(until > t.app.now() + chrono::Duration::days(3 * 365 - 1));
    t.advance((until - t.app.now()).num_seconds() - 3600).await;
    assert_eq!(t.case(a_id, &c.supervisor).await["purged_at"], Value::Null);
    t.advance_to(until).await;

    let purged = t.case(a_id, &c.supervisor).await;
    assert!(purged["purged_at"].is_string(), "{purged}");
    assert_eq!(purged["status"], "closed");
    assert_eq!(purged["closure"], "withdrawn");
    assert_eq!(purged["record"]["description"], "");
    assert_eq!(purged["subject"], "");
    assert_eq!(purged["complainant"]["email"], Value::Null);
    assert_eq!(purged["complainant"]["phone"], Value::Null);
    assert_eq!(purged["evidence"], json!([]));
    assert_eq!(purged["withdrawal_reason"], Value::Null);
    assert!(event_kinds(&purged).contains(&"purged".to_string()));
    // The tracking number and the statistics' skeleton remain.
    assert_eq!(purged["tracking_no"], a["tracking_no"]);
    assert_eq!(purged["channel"], "web");
    // The purged case's copy goes; the open case keeps its own.
    assert!(!a_file.exists());
    assert!(b_file.exists());
    // Nothing of the text is found any more.
    let found = t
        .get("/complaints?q=退款&status=closed", Some(&c.supervisor))
        .await
        .expect(200);
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != a_id),
        "{found}"
    );

    // The held case is kept whole, file and all, until the hold is released.
    let kept = t.case(held_id, &c.supervisor).await;
    assert_eq!(kept["purged_at"], Value::Null);
    assert_eq!(kept["evidence"].as_array().unwrap().len(), 1);
    assert!(held_file.exists());
    t.post(
        &hold,
        Some(&c.supervisor),
        json!({"hold": false, "reason": "诉讼结束"}),
    )
    .await
    .expect(200);
    t.advance(0).await;
    let gone = t.case(held_id, &c.supervisor).await;
    assert!(gone["purged_at"].is_string(), "{gone}");
    assert!(!held_file.exists(), "its own file is removed");
    t.post(
        &hold,
        Some(&c.supervisor),
        json!({"hold": true, "reason": "late"}),
    )
    .await
    .expect_error(409);

    // Purged once, and the journal still verifies.
    t.advance(86400).await;
    let again = t.case(a_id, &c.supervisor).await;
    assert_eq!(
        event_kinds(&again)
            .iter()
            .filter(|k| *k == "purged")
            .count(),
        1
    );
    assert_eq!(
        t.get("/audit/verify", Some(&c.supervisor))
            .await
            .expect(200)["ok"],
        true
    );
}

/// When the case's first event of `kind` happened (the server's clock).
fn event_at(case: &Value, kind: &str) -> DateTime<Utc> {
    at(&case["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event"))["at"])
}

tests![
    reminders_escalations_and_daily_repeats_come_once_each,
    an_acceptance_deadline_reminds_intake_and_escalates_to_supervisors,
    a_paused_clock_stops_and_gives_back_its_working_days,
    an_extension_by_working_days_moves_the_deadline,
    a_calendar_edit_moves_the_open_deadlines_it_affects,
    a_category_sets_its_appeal_and_review_lengths,
    queues_count_overdue_and_due_soon_per_department_and_person,
    due_soon_lists_the_deadlines_within_the_window,
    an_installation_counting_in_working_hours,
    two_instances_sweeping_at_once_send_each_alert_once,
    retention_purges_the_file_unless_a_legal_hold_keeps_it,
    retention_counts_to_the_same_calendar_date,
];
