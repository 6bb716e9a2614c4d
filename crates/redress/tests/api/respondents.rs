//! Respondents take part on time (SPEC §4 "respondent's reply after
//! acceptance", §7, §10; policy 三.2): the reply deadline that acceptance
//! answers (3 working days, or the category's), respondent notices by
//! e-mail at the account's address as well as in the portal, the reminder
//! one working day before the deadline (once, across a restart), replies
//! recorded late or on time, a missed deadline recorded once (also for a
//! respondent without an account), the deadline pausing with the case
//! clock, and the portal showing what is due in both languages.
//!
//! The test clock starts at the wall clock, so expected instants are
//! derived from the case's own times with the installation's calendar.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::harness::*;
use crate::notices::{MailSink, free_port, with_relay};
use crate::pages::{Browser, hidden, html};

async fn staff_case(t: &TestApp, viewer: &str, id: &str) -> Value {
    t.case(&id, viewer).await
}

fn count_events(case: &Value, kind: &str) -> usize {
    case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .count()
}

fn event_at(case: &Value, kind: &str) -> DateTime<Utc> {
    at(&case["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event"))["at"])
}

/// The respondent's deliveries of a notice kind, by channel.
fn respondent_deliveries(case: &Value, notice: &str, channel: &str) -> Vec<Value> {
    case["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["party"] == "respondent" && d["notice"] == notice && d["channel"] == channel)
        .cloned()
        .collect()
}

/// A respondent account with an e-mail address; its portal key.
async fn respondent_with_email(t: &TestApp, id: &str, email: &str) -> String {
    t.post(
        "/admin/respondents",
        Some(&t.admin),
        json!({"kind": "merchant", "id": id, "name": format!("Shop {id}"), "email": email}),
    )
    .await
    .expect(201)["api_key"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Files complaint `n` against `merchant:<respondent>` and accepts it into
/// `category`; the accept answer.
async fn accepted(t: &TestApp, c: &Cast, n: u32, respondent: &str, category: &str) -> Value {
    let mut body = complaint(n);
    body["respondent"] = json!({"kind": "merchant", "id": respondent, "name": "好店"});
    let filed = t.file(body).await;
    let id = filed["id"].as_str().unwrap();
    t.act(&id, "accept", &c.intake, json!({"category": category}))
        .await
}

async fn accept_answers_the_reply_deadline_by_default_and_per_category() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let cal = t.app.calendar();
    // The default: 3 working days after acceptance, in the answer and the
    // staff view.
    let a = accepted(&t, &c, 1, "shop-1", "refunds-returns").await;
    let due = at(&a["respondent_reply_due_at"]);
    assert_eq!(due, cal.working_days_after(at(&a["accepted_at"]), 3));
    assert_eq!(
        a["respondent_reply"]["due_at"],
        a["respondent_reply_due_at"]
    );
    assert_eq!(a["respondent_reply"]["expected"], true);
    assert_eq!(a["respondent_reply"]["days"], 3);
    let accepted_event = a["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "accepted")
        .unwrap()
        .clone();
    assert_eq!(
        accepted_event["data"]["respondent_reply_due_at"],
        a["respondent_reply_due_at"]
    );

    // Bad values name the field and store nothing.
    for bad in [json!(0), json!(61), json!("x")] {
        let fields = t
            .post(
                "/admin/categories",
                Some(&t.admin),
                json!({"code": "fast", "name": "快", "department": "customer-service",
                       "respondent_reply_days": bad}),
            )
            .await
            .expect_error(422);
        assert!(fields.get("respondent_reply_days").is_some(), "{fields}");
    }
    let stored = t.app.store.list_categories().await.unwrap();
    assert!(stored.iter().all(|c| c.code != "fast"), "{stored:?}");

    // A category's own length.
    let made = t
        .post(
            "/admin/categories",
            Some(&t.admin),
            json!({"code": "fast", "name": "快", "department": "customer-service",
                   "respondent_reply_days": 1}),
        )
        .await
        .expect(201);
    assert_eq!(made["respondent_reply_days"], 1);
    let a = accepted(&t, &c, 2, "shop-1", "fast").await;
    assert_eq!(
        at(&a["respondent_reply_due_at"]),
        cal.working_days_after(at(&a["accepted_at"]), 1)
    );
    // Changed by PATCH: later acceptances count the new length.
    let changed = t
        .call(
            "PATCH",
            "/admin/categories/fast",
            Some(&t.admin),
            Some(json!({"respondent_reply_days": 5})),
        )
        .await
        .expect(200);
    assert_eq!(changed["respondent_reply_days"], 5);
    t.call(
        "PATCH",
        "/admin/categories/fast",
        Some(&t.admin),
        Some(json!({"respondent_reply_days": 0})),
    )
    .await
    .expect_error(422);
    let a = accepted(&t, &c, 3, "shop-1", "fast").await;
    assert_eq!(
        at(&a["respondent_reply_due_at"]),
        cal.working_days_after(at(&a["accepted_at"]), 5)
    );
    // Before acceptance there is no reply deadline.
    let filed = t.file(complaint(4)).await;
    let open = staff_case(&t, &c.supervisor, filed["id"].as_str().unwrap()).await;
    assert_eq!(open["respondent_reply_due_at"], Value::Null);
}

async fn respondent_notices_go_by_email_and_in_the_portal() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let c = t.cast().await;
    respondent_with_email(&t, "shop-1", "shop@example.com").await;
    let a = accepted(&t, &c, 1, "shop-1", "refunds-returns").await;
    let id = a["id"].as_str().unwrap().to_string();
    let no = a["tracking_no"].as_str().unwrap().to_string();
    t.app.sweep().await.unwrap();
    // The account's key notice, the complainant's two, the respondent's one.
    let got = sink.wait_for(4).await;
    let about =
        |m: &&crate::notices::Received| m.to == "shop@example.com" && m.subject.contains(&no);
    let to_shop: Vec<_> = got.iter().filter(about).collect();
    assert_eq!(to_shop.len(), 1, "{got:?}");
    let mail = to_shop[0];
    assert!(mail.subject.contains(&no), "{}", mail.subject);
    assert!(
        mail.subject.contains("涉及您的投诉") && mail.subject.contains("A complaint about you"),
        "both languages: {}",
        mail.subject
    );
    let due =
        redress_web::pages::local_time(at(&a["respondent_reply_due_at"]), t.app.config.time_zone);
    for part in [
        "申请退款被拒绝",
        due.as_str(),
        "https://complaints.example.com/respondent/cases",
        "Please reply by",
    ] {
        assert!(
            mail.body.contains(part),
            "{part:?} missing in {}",
            mail.body
        );
    }
    // The complainant's contact data never reaches the respondent.
    for secret in ["zhang1@example.com", "13812345678", "张三1", "/track/"] {
        assert!(!mail.body.contains(secret), "{secret} in {}", mail.body);
    }
    let case = staff_case(&t, &c.supervisor, &id).await;
    let email = respondent_deliveries(&case, "new_complaint", "email");
    assert_eq!(email.len(), 1, "{email:?}");
    assert_eq!(email[0]["status"], "sent");
    assert!(
        !email[0]["recipient"]
            .as_str()
            .unwrap()
            .contains("shop@example.com"),
        "the recipient is shown masked: {}",
        email[0]["recipient"]
    );
    assert_eq!(
        respondent_deliveries(&case, "new_complaint", "in_app").len(),
        1
    );

    // A message from staff to the respondent: by e-mail too, with its text.
    t.act(
        &id,
        "messages",
        &c.intake,
        json!({"audience": "respondent", "body": "请于三日内说明退款情况。"}),
    )
    .await;
    t.app.sweep().await.unwrap();
    let n = got.len() + 1;
    let got = sink.wait_for(n).await;
    let to_shop: Vec<_> = got.iter().filter(about).collect();
    assert_eq!(to_shop.len(), 2, "{got:?}");
    assert!(to_shop[1].body.contains("请于三日内说明退款情况。"));
    let case = staff_case(&t, &c.supervisor, &id).await;
    assert_eq!(respondent_deliveries(&case, "message", "email").len(), 1);
    assert_eq!(respondent_deliveries(&case, "message", "in_app").len(), 1);
}

async fn a_respondent_without_email_hears_in_the_portal_only() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let c = t.cast().await;
    // An account without an address, and a respondent with no account.
    t.respondent("merchant", "shop-1").await;
    for (n, who) in [(1, "shop-1"), (2, "no-account")] {
        let a = accepted(&t, &c, n, who, "refunds-returns").await;
        let id = a["id"].as_str().unwrap();
        t.app.sweep().await.unwrap();
        let case = staff_case(&t, &c.supervisor, id).await;
        assert_eq!(
            respondent_deliveries(&case, "new_complaint", "in_app").len(),
            1
        );
        assert!(
            respondent_deliveries(&case, "new_complaint", "email").is_empty(),
            "{:?}",
            case["deliveries"]
        );
        // The complainant's own mail still goes.
        assert!(
            case["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["party"] == "complainant" && d["channel"] == "email")
        );
    }
    let got = sink.wait_for(4).await;
    assert!(
        got.iter()
            .all(|m| m.to.starts_with("zhang") && m.to.ends_with("@example.com")),
        "{got:?}"
    );
}

async fn the_respondent_is_reminded_once_a_working_day_before() {
    let sink = MailSink::start(free_port());
    let mut t = with_relay(sink.port).await;
    let c = t.cast().await;
    respondent_with_email(&t, "shop-1", "shop@example.com").await;
    let a = accepted(&t, &c, 1, "shop-1", "refunds-returns").await;
    let id = a["id"].as_str().unwrap().to_string();
    let cal = t.app.calendar();
    let remind = cal.working_days_after(at(&a["accepted_at"]), 2);
    let due = at(&a["respondent_reply_due_at"]);
    assert!(remind < due);

    // Not yet an hour before.
    t.advance_to(remind - chrono::Duration::hours(1)).await;
    let case = staff_case(&t, &c.supervisor, &id).await;
    assert_eq!(count_events(&case, "respondent_reminder_sent"), 0);

    // At the moment: once, by e-mail and in the portal.
    t.advance_to(remind).await;
    let case = staff_case(&t, &c.supervisor, &id).await;
    assert_eq!(count_events(&case, "respondent_reminder_sent"), 1);
    assert_eq!(respondent_deliveries(&case, "reminder", "in_app").len(), 1);
    assert_eq!(respondent_deliveries(&case, "reminder", "email").len(), 1);
    assert!(case["respondent_reply"]["reminded_at"].is_string());
    let got = sink.wait_for(3).await;
    let reminders: Vec<_> = got
        .iter()
        .filter(|m| m.to == "shop@example.com" && m.subject.contains("答复即将到期"))
        .collect();
    assert_eq!(reminders.len(), 1, "{got:?}");
    assert!(reminders[0].subject.contains("Your reply is due"));

    // Across a restart and further sweeps: still once.
    t.restart().await;
    t.advance(600).await;
    t.app.sweep().await.unwrap();
    let case = staff_case(&t, &c.supervisor, &id).await;
    assert_eq!(count_events(&case, "respondent_reminder_sent"), 1);
    assert_eq!(respondent_deliveries(&case, "reminder", "email").len(), 1);
    assert_eq!(
        sink.messages()
            .iter()
            .filter(|m| m.subject.contains("答复即将到期"))
            .count(),
        1
    );
}

async fn replies_are_recorded_on_time_late_or_missed_once() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let key = t.respondent("merchant", "shop-1").await;
    let on_time = accepted(&t, &c, 1, "shop-1", "refunds-returns").await;
    let late = accepted(&t, &c, 2, "shop-1", "refunds-returns").await;
    let silent = accepted(&t, &c, 3, "no-account", "refunds-returns").await;
    let (a, b, s) = (
        on_time["id"].as_str().unwrap().to_string(),
        late["id"].as_str().unwrap().to_string(),
        silent["id"].as_str().unwrap().to_string(),
    );
    let due = at(&on_time["respondent_reply_due_at"]);

    // The portal list shows what is due.
    let listed = t
        .get("/respondent/complaints", Some(&key))
        .await
        .expect(200);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        assert_eq!(at(&item["respondent_reply_due_at"]), due);
        assert_eq!(item["respondent_reply"]["expected"], true);
    }

    // A reply in time meets the deadline.
    t.post(
        &format!("/respondent/complaints/{a}/messages"),
        Some(&key),
        json!({"body": "已退款。"}),
    )
    .await
    .expect(200);
    let case = staff_case(&t, &c.supervisor, &a).await;
    let r = &case["respondent_reply"];
    assert_eq!(r["expected"], false);
    assert_eq!(r["on_time"], true);
    assert_eq!(r["replies"], 1);
    assert_eq!(r["late_replies"], 0);
    let replied = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "respondent_replied")
        .unwrap()
        .clone();
    assert_eq!(replied["data"]["late"], false);
    assert_eq!(replied["data"]["first"], true);

    // The deadline passes: the two without a reply are missed, once each.
    t.advance_to(due).await;
    t.advance(3600).await;
    t.app.sweep().await.unwrap();
    for id in [&b, &s] {
        let case = staff_case(&t, &c.supervisor, id).await;
        assert_eq!(count_events(&case, "respondent_reply_missed"), 1, "{id}");
        assert_eq!(case["respondent_reply"]["missed"], true);
        assert_eq!(case["respondent_reply"]["on_time"], false);
        assert_eq!(case["respondent_reply"]["expected"], true);
    }
    let case = staff_case(&t, &c.supervisor, &a).await;
    assert_eq!(count_events(&case, "respondent_reply_missed"), 0);
    assert_eq!(case["respondent_reply"]["on_time"], true);

    // A reply after the deadline is recorded late; a second one too.
    for body in ["抱歉回复晚了。", "补充说明。"] {
        t.post(
            &format!("/respondent/complaints/{b}/messages"),
            Some(&key),
            json!({"body": body}),
        )
        .await
        .expect(200);
    }
    let case = staff_case(&t, &c.supervisor, &b).await;
    let r = &case["respondent_reply"];
    assert_eq!(r["expected"], false);
    assert_eq!(r["on_time"], false);
    assert_eq!(r["replies"], 2);
    assert_eq!(r["late_replies"], 2);
    assert!(
        case["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "respondent_replied")
            .all(|e| e["data"]["late"] == true)
    );
    // Days later: the miss is still recorded once.
    t.advance(3 * 86_400).await;
    for id in [&b, &s] {
        let case = staff_case(&t, &c.supervisor, id).await;
        assert_eq!(count_events(&case, "respondent_reply_missed"), 1, "{id}");
    }
    let listed = t
        .get("/respondent/complaints", Some(&key))
        .await
        .expect(200);
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["respondent_reply"]["expected"] == false)
    );
}

async fn a_pause_moves_the_reply_deadline() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let a = accepted(&t, &c, 1, "shop-1", "refunds-returns").await;
    let id = a["id"].as_str().unwrap().to_string();
    let due = at(&a["respondent_reply_due_at"]);
    t.act(&id, "assign", &c.supervisor, json!({"handler": "handler1"}))
        .await;
    let paused = t
        .act(
            &id,
            "pause",
            &c.handler,
            json!({"reason": "等待物流公司记录"}),
        )
        .await;
    assert_eq!(paused["respondent_reply"]["paused"], true);
    // Past the old deadline while paused: nothing missed, nothing reminded.
    let cal = t.app.calendar();
    t.advance_to(cal.working_days_after(due, 2)).await;
    let case = staff_case(&t, &c.supervisor, &id).await;
    assert_eq!(count_events(&case, "respondent_reply_missed"), 0);
    assert_eq!(count_events(&case, "respondent_reminder_sent"), 0);
    assert_eq!(case["respondent_reply"]["expected"], true);

    let resumed = t
        .act(&id, "resume", &c.handler, json!({"reason": "记录已到"}))
        .await;
    let credit = cal.working_days_in(event_at(&resumed, "paused"), event_at(&resumed, "resumed"));
    assert!(credit >= 2, "{credit}");
    let moved = at(&resumed["respondent_reply_due_at"]);
    assert_eq!(moved, cal.working_days_after(due, credit));
    assert!(moved > t.app.now());
    assert_eq!(resumed["respondent_reply"]["paused"], false);
    assert_eq!(resumed["respondent_reply"]["paused_days"], credit);
    // It runs again from there: missed only after the moved deadline.
    t.advance_to(moved - chrono::Duration::hours(1)).await;
    let case = staff_case(&t, &c.supervisor, &id).await;
    assert_eq!(count_events(&case, "respondent_reply_missed"), 0);
    t.advance_to(moved).await;
    let case = staff_case(&t, &c.supervisor, &id).await;
    assert_eq!(count_events(&case, "respondent_reply_missed"), 1);
}

async fn the_portal_page_shows_the_reply_deadline_in_both_languages() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let key = t.respondent("merchant", "shop-1").await;
    let a = accepted(&t, &c, 1, "shop-1", "refunds-returns").await;
    let due =
        redress_web::pages::local_time(at(&a["respondent_reply_due_at"]), t.app.config.time_zone);
    let mut b = Browser::default();
    let page = html(&b.get(&t, "/respondent").await);
    let csrf = hidden(&page, "csrf");
    let answer = b
        .post_form(&t, "/respondent", &[("csrf", &csrf), ("key", &key)])
        .await;
    assert_eq!(answer.status.as_u16(), 303);
    let page = html(&b.get(&t, "/respondent/cases").await);
    assert!(page.contains("答复期限"), "{page}");
    assert!(page.contains(&due), "{due} missing in {page}");
    assert!(page.contains("等待您的答复"), "{page}");
    let page = html(&b.get(&t, "/respondent/cases?lang=en").await);
    assert!(page.contains("Your reply is due by"), "{page}");
    assert!(page.contains(&due));
    assert!(page.contains("a reply from you is expected"), "{page}");
    // After the reply: no longer expected, said so.
    let id = a["id"].as_str().unwrap();
    let answer = b
        .post_form(
            &t,
            &format!("/respondent/cases/{id}/reply"),
            &[("csrf", &csrf), ("body", "已安排退款。")],
        )
        .await;
    assert_eq!(answer.status.as_u16(), 303);
    let page = html(&b.get(&t, "/respondent/cases?lang=zh-CN").await);
    assert!(page.contains("已按期答复"), "{page}");
    assert!(!page.contains("等待您的答复"));
    // Staff see it on the case page too.
    let mut sup = crate::pages::console(&t, "super1").await;
    let page = html(&sup.get(&t, &format!("/staff/cases/{id}")).await);
    assert!(page.contains("被投诉方答复期限"), "{page}");
    assert!(page.contains(&due));
}

tests![
    accept_answers_the_reply_deadline_by_default_and_per_category,
    respondent_notices_go_by_email_and_in_the_portal,
    a_respondent_without_email_hears_in_the_portal_only,
    the_respondent_is_reminded_once_a_working_day_before,
    replies_are_recorded_on_time_late_or_missed_once,
    a_pause_moves_the_reply_deadline,
    the_portal_page_shows_the_reply_deadline_in_both_languages,
];
