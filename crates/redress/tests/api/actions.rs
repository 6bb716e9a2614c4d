//! Corrective actions followed up (SPEC §3, 四.3; issue 14 item 5): the
//! owner must be staff who can see the case; `PATCH
//! /complaints/{id}/actions/{action_id}` reassigns and re-dates, journaled;
//! `GET /actions` lists open, overdue and done actions by owner and
//! department, scoped like the case list; owners are reminded two working
//! days before the due date and daily once it passed, each once across
//! sweeps and restarts (also after the case closed).

use chrono::Duration;
use redress_domain::CorrectiveAction;
use serde_json::{Value, json};

use crate::harness::*;

struct People {
    c: Cast,
    /// A handler of trust-safety.
    other: String,
}

async fn people(t: &TestApp) -> People {
    let c = t.cast().await;
    let other = t
        .staff("handler2", &["handler"], &["trust-safety"], 1)
        .await;
    People { c, other }
}

/// Files and accepts a case into `department` (category by department).
async fn accepted(t: &TestApp, p: &People, n: u32, department: &str) -> (String, Value) {
    let filed = t.file(complaint(n)).await;
    let id = filed["id"].as_str().unwrap().to_string();
    let category = match department {
        "trust-safety" => "account-security",
        _ => "refunds-returns",
    };
    t.act(
        &id,
        "accept",
        &p.c.intake,
        json!({"category": category, "department": department}),
    )
    .await;
    (id, filed)
}

fn decision(actions: Value) -> Value {
    json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将退款。",
           "actions": actions})
}

/// An action of the staff view, as the domain sees it.
fn action(case: &Value, i: usize) -> CorrectiveAction {
    serde_json::from_value(case["actions"][i].clone()).unwrap()
}

fn keys(case: &Value, i: usize) -> Vec<String> {
    action(case, i).reminders
}

/// Staff reminder deliveries, as their recipients.
fn reminded(case: &Value) -> Vec<String> {
    case["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["party"] == "staff" && d["notice"] == "reminder")
        .map(|d| d["recipient"].as_str().unwrap().to_string())
        .collect()
}

async fn an_owner_who_cannot_see_the_case_is_refused() {
    let t = TestApp::new().await;
    let p = people(&t).await;
    let (id, filed) = accepted(&t, &p, 1, "customer-service").await;
    let path = format!("/complaints/{id}/decide");
    // A handler of another department, an intake agent, nobody at all.
    for owner in ["handler2", "intake1", "nobody"] {
        let fields = t
            .post(
                &path,
                Some(&p.c.handler),
                decision(json!([{"description": "整改商品页面"},
                                {"description": "培训客服", "owner": owner}])),
            )
            .await
            .expect_error(422);
        assert!(fields["actions[1].owner"].is_string(), "{owner}: {fields}");
        assert!(fields["actions[0].owner"].is_null(), "{fields}");
    }
    // Nothing stored: still in progress, no decision.
    let now = t.case(&id, &p.c.supervisor).await;
    assert_eq!(now["status"], "in_progress");
    assert!(now["decision"].is_null());
    // A supervisor, and the decider by default.
    let decided = t
        .post(
            &path,
            Some(&p.c.handler),
            decision(json!([{"description": "整改商品页面"},
                            {"description": "培训客服", "owner": "super1"}])),
        )
        .await
        .expect(200);
    assert_eq!(decided["actions"][0]["owner"], "handler1");
    assert_eq!(decided["actions"][1]["owner"], "super1");

    // A modified review: its actions are the reviewer's by default; the
    // same check on a named owner.
    let no = filed["tracking_no"].as_str().unwrap();
    t.post(
        &format!("/track/{no}/appeal"),
        Some(filed["access_token"].as_str().unwrap()),
        json!({"reason": "金额不对"}),
    )
    .await
    .expect(200);
    let review = |owner: Option<&str>| {
        let mut a = json!({"description": "复核后整改"});
        if let Some(o) = owner {
            a["owner"] = json!(o);
        }
        json!({"result": "modified", "basis": ["平台服务协议 5.3"], "reply": "改为部分支持。",
               "outcome": "partially_upheld", "actions": [a]})
    };
    let fields = t
        .refused(&id, "review", &p.c.reviewer, review(Some("handler2")), 422)
        .await;
    assert!(fields["actions[0].owner"].is_string(), "{fields}");
    let reviewed = t.act(&id, "review", &p.c.reviewer, review(None)).await;
    assert_eq!(reviewed["actions"][2]["owner"], "reviewer1");
}

async fn reassigning_and_redating_are_journaled() {
    let t = TestApp::new().await;
    let p = people(&t).await;
    let (id, _) = accepted(&t, &p, 1, "customer-service").await;
    let decided = t
        .act(
            &id,
            "decide",
            &p.c.handler,
            decision(json!([{"description": "整改商品页面"}])),
        )
        .await;
    let action_id = decided["actions"][0]["id"].as_str().unwrap().to_string();
    let first_due = at(&decided["actions"][0]["due_at"]);
    let path = format!("/complaints/{id}/actions/{action_id}");
    let patch = |token: String, body: Value| {
        let path = path.clone();
        let t = &t;
        async move { t.call("PATCH", &path, Some(&token), Some(body)).await }
    };

    // Refused: an owner who may not own it, a date in the past, nothing
    // to change; an unknown action; a handler of another department.
    let f = patch(p.c.handler.clone(), json!({"owner": "handler2"}))
        .await
        .expect_error(422);
    assert!(f["owner"].is_string(), "{f}");
    let past = (t.app.now() - Duration::days(1)).to_rfc3339();
    let f = patch(p.c.handler.clone(), json!({"due_at": past}))
        .await
        .expect_error(422);
    assert!(f["due_at"].is_string(), "{f}");
    let f = patch(p.c.handler.clone(), json!({}))
        .await
        .expect_error(422);
    assert!(f["owner"].is_string(), "{f}");
    t.call(
        "PATCH",
        &format!("/complaints/{id}/actions/no-such-action"),
        Some(&p.c.handler),
        Some(json!({"owner": "super1"})),
    )
    .await
    .expect_error(404);
    let denied = patch(p.other.clone(), json!({"owner": "super1"})).await;
    assert!(
        [403, 404].contains(&denied.status.as_u16()),
        "{}",
        denied.body
    );
    let now = t.case(&id, &p.c.supervisor).await;
    assert_eq!(now["actions"][0]["owner"], "handler1", "nothing stored");
    assert!(events(&now, "action_updated").is_empty());

    // Reassigned by intake, re-dated by the handler: each journaled with
    // the old and the new value.
    let moved = patch(p.c.intake.clone(), json!({"owner": "super1"}))
        .await
        .expect(200);
    assert_eq!(moved["actions"][0]["owner"], "super1");
    let later = first_due + Duration::days(10);
    let redated = patch(p.c.handler.clone(), json!({"due_at": later.to_rfc3339()}))
        .await
        .expect(200);
    assert_eq!(at(&redated["actions"][0]["due_at"]), later);
    let now = t.case(&id, &p.c.supervisor).await;
    let updates = events(&now, "action_updated");
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[0]["actor"], "staff:intake1");
    assert_eq!(
        updates[0]["data"]["owner"],
        json!({"old": "handler1", "new": "super1"})
    );
    assert_eq!(updates[1]["actor"], "staff:handler1");
    assert_eq!(at(&updates[1]["data"]["due_at"]["old"]), first_due);
    assert_eq!(at(&updates[1]["data"]["due_at"]["new"]), later);
    assert_eq!(updates[1]["data"]["action_id"], action_id.as_str());

    // Completed: who and when are recorded; a done action is not changed.
    let done = t
        .post(
            &format!("{path}/complete"),
            Some(&p.c.supervisor),
            json!({"note": "已整改"}),
        )
        .await
        .expect(200);
    assert_eq!(done["actions"][0]["done_by"], "super1");
    assert_eq!(done["actions"][0]["done"], true);
    assert!(at(&done["actions"][0]["done_at"]) <= t.app.now());
    patch(p.c.handler.clone(), json!({"owner": "handler1"}))
        .await
        .expect_error(409);
}

async fn the_list_filters_by_status_owner_and_department() {
    let t = TestApp::new().await;
    let p = people(&t).await;
    let (a, _) = accepted(&t, &p, 1, "customer-service").await;
    let (b, _) = accepted(&t, &p, 2, "trust-safety").await;
    let soon = t.app.now() + Duration::days(3);
    let late = t.app.now() + Duration::days(30);
    let decided_a = t
        .act(
            &a,
            "decide",
            &p.c.handler,
            decision(json!([
                {"description": "整改商品页面", "due_at": soon.to_rfc3339()},
                {"description": "培训客服", "owner": "super1", "due_at": late.to_rfc3339()},
            ])),
        )
        .await;
    t.act(
        &b,
        "decide",
        &p.other,
        decision(json!([{"description": "加强账号风控", "due_at": late.to_rfc3339()}])),
    )
    .await;
    let list = |token: String, query: &str| {
        let path = format!("/actions{query}");
        let t = &t;
        async move {
            let v = t.get(&path, Some(&token)).await.expect(200);
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["description"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let sup = p.c.supervisor.clone();
    // Open by default, by due date.
    assert_eq!(
        list(sup.clone(), "").await,
        ["整改商品页面", "培训客服", "加强账号风控"]
    );
    let all = t.get("/actions", Some(&sup)).await.expect(200);
    let first = &all["items"][0];
    assert_eq!(first["case_id"], a.as_str());
    assert_eq!(first["tracking_no"], decided_a["tracking_no"]);
    assert_eq!(first["department"], "customer-service");
    assert_eq!(first["owner"], "handler1");
    assert_eq!(first["overdue"], false);
    assert_eq!(first["id"], decided_a["actions"][0]["id"]);
    assert_eq!(list(sup.clone(), "?owner=super1").await, ["培训客服"]);
    assert_eq!(
        list(sup.clone(), "?department=trust-safety").await,
        ["加强账号风控"]
    );
    // Scoped like the case list: each handler sees their department's.
    assert_eq!(
        list(p.c.handler.clone(), "").await,
        ["整改商品页面", "培训客服"]
    );
    assert_eq!(list(p.other.clone(), "").await, ["加强账号风控"]);
    assert!(
        list(p.other.clone(), "?department=customer-service")
            .await
            .is_empty()
    );
    assert_eq!(list(p.c.intake.clone(), "").await.len(), 3);
    // Overdue once the date passed; done once completed.
    assert!(list(sup.clone(), "?status=overdue").await.is_empty());
    t.advance_to(soon).await;
    assert_eq!(list(sup.clone(), "?status=overdue").await, ["整改商品页面"]);
    let overdue = t
        .get("/actions?status=overdue", Some(&sup))
        .await
        .expect(200);
    assert_eq!(overdue["items"][0]["overdue"], true);
    let action = decided_a["actions"][0]["id"].as_str().unwrap();
    t.post(
        &format!("/complaints/{a}/actions/{action}/complete"),
        Some(&p.c.handler),
        json!({"note": "已整改"}),
    )
    .await
    .expect(200);
    assert!(list(sup.clone(), "?status=overdue").await.is_empty());
    let done = t.get("/actions?status=done", Some(&sup)).await.expect(200);
    assert_eq!(done["items"].as_array().unwrap().len(), 1);
    assert_eq!(done["items"][0]["done_by"], "handler1");
    assert!(done["items"][0]["done_at"].is_string());
    assert_eq!(list(sup.clone(), "").await, ["培训客服", "加强账号风控"]);
    // Bad filters name the field; the public and admins are kept out.
    let f = t
        .get("/actions?status=late", Some(&sup))
        .await
        .expect_error(422);
    assert!(f["status"].is_string(), "{f}");
    t.get("/actions", None).await.expect_error(401);
    t.get("/actions", Some(&t.admin)).await.expect_error(403);
}

async fn owners_are_reminded_ahead_and_daily_once_overdue_across_restarts() {
    let mut t = TestApp::new().await;
    let p = people(&t).await;
    let (id, _) = accepted(&t, &p, 1, "customer-service").await;
    let cal = t.app.calendar();
    // Due after the appeal window (15 days): the case has closed by then,
    // and its action is still followed up.
    let due = cal.working_days_after(t.app.now(), 15);
    t.act(
        &id,
        "decide",
        &p.c.handler,
        decision(json!([{"description": "整改商品页面", "due_at": due.to_rfc3339()}])),
    )
    .await;
    let sup = p.c.supervisor.clone();
    let first = action(&t.case(&id, &sup).await, 0);
    assert_eq!(first.due_at, due);
    let soon = first.soon_at(&cal);
    assert_eq!(
        cal.working_days_between(soon, due),
        2,
        "two working days remain"
    );

    // Just before: nothing. Then once, to the owner, also after a second
    // sweep and a restart.
    t.advance((soon - t.app.now()).num_seconds() - 60).await;
    let now = t.case(&id, &sup).await;
    assert_eq!(now["status"], "closed", "the appeal window ended");
    assert!(keys(&now, 0).is_empty());
    t.advance_to(soon).await;
    let now = t.case(&id, &sup).await;
    assert_eq!(keys(&now, 0).len(), 1);
    assert!(keys(&now, 0)[0].starts_with("soon:"));
    assert_eq!(reminded(&now), ["handler1"]);
    let sent = events(&now, "action_reminder_sent");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["data"]["kind"], "due_soon");
    assert_eq!(sent[0]["data"]["owner"], "handler1");
    assert_eq!(sent[0]["actor"], "system:deadline-sweep");
    t.advance(0).await;
    t.restart().await;
    t.advance(60).await;
    assert_eq!(reminded(&t.case(&id, &sup).await).len(), 1);

    // At the due date: the first overdue reminder; not again that day.
    t.advance_to(due).await;
    let now = t.case(&id, &sup).await;
    assert_eq!(keys(&now, 0).len(), 2, "{:?}", keys(&now, 0));
    assert_eq!(reminded(&now).len(), 2);
    assert_eq!(now["actions"][0]["overdue"], true);
    let last = events(&now, "action_reminder_sent")[1].clone();
    assert_eq!(last["data"]["kind"], "overdue");
    t.advance(0).await;
    t.restart().await;
    t.advance(3600).await;
    let now = t.case(&id, &sup).await;
    assert_eq!(reminded(&now).len(), 2, "once a day");
    // The next working day: one more, once.
    let next = action(&now, 0).next_reminder_at(&cal).unwrap();
    assert!(next > due && cal.is_working_day(cal.local_date(next)));
    t.advance_to(next).await;
    t.advance(0).await;
    t.restart().await;
    t.advance(60).await;
    let now = t.case(&id, &sup).await;
    assert_eq!(reminded(&now).len(), 3);
    assert_eq!(
        events(&now, "action_reminder_sent")
            .iter()
            .filter(|e| e["data"]["kind"] == "overdue")
            .count(),
        2
    );
    // Done: no more reminders.
    let action_id = now["actions"][0]["id"].as_str().unwrap().to_string();
    t.post(
        &format!("/complaints/{id}/actions/{action_id}/complete"),
        Some(&p.c.handler),
        json!({}),
    )
    .await
    .expect(200);
    t.advance(5 * 86400).await;
    assert_eq!(reminded(&t.case(&id, &sup).await).len(), 3);
}

async fn redating_resets_the_reminders_of_the_old_date() {
    let t = TestApp::new().await;
    let p = people(&t).await;
    let (id, _) = accepted(&t, &p, 1, "customer-service").await;
    let cal = t.app.calendar();
    let due = cal.working_days_after(t.app.now(), 4);
    let decided = t
        .act(
            &id,
            "decide",
            &p.c.handler,
            decision(json!([{"description": "整改商品页面", "due_at": due.to_rfc3339()}])),
        )
        .await;
    let action_id = decided["actions"][0]["id"].as_str().unwrap().to_string();
    let sup = p.c.supervisor.clone();
    t.advance_to(action(&t.case(&id, &sup).await, 0).soon_at(&cal))
        .await;
    assert_eq!(reminded(&t.case(&id, &sup).await), ["handler1"]);
    // Re-dated and reassigned: the new owner is reminded of the new date.
    let later = cal.working_days_after(due, 10);
    t.call(
        "PATCH",
        &format!("/complaints/{id}/actions/{action_id}"),
        Some(&p.c.handler),
        Some(json!({"due_at": later.to_rfc3339(), "owner": "super1"})),
    )
    .await
    .expect(200);
    let now = t.case(&id, &sup).await;
    assert!(keys(&now, 0).is_empty(), "{:?}", keys(&now, 0));
    // The old date passes quietly.
    t.advance_to(due).await;
    assert_eq!(reminded(&t.case(&id, &sup).await).len(), 1);
    let soon = action(&t.case(&id, &sup).await, 0).soon_at(&cal);
    t.advance_to(soon).await;
    t.advance(0).await;
    assert_eq!(reminded(&t.case(&id, &sup).await), ["handler1", "super1"]);
}

/// A purge leaves no action text behind in the list's table (the case's
/// own document goes with its key; the table is in the clear).
async fn a_purged_case_leaves_no_action_in_the_list() {
    let t = TestApp::new().await;
    let p = people(&t).await;
    let (id, _) = accepted(&t, &p, 1, "customer-service").await;
    let due = (t.app.now() + Duration::days(30)).to_rfc3339();
    t.act(
        &id,
        "decide",
        &p.c.handler,
        decision(json!([{"description": "整改 qzaction5521", "due_at": due}])),
    )
    .await;
    let listed = t
        .get("/actions?status=open", Some(&p.c.supervisor))
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    // Closed after the appeal window, then past retention: purged.
    let case = t.case(&id, &p.c.supervisor).await;
    let appeal_due: chrono::DateTime<chrono::Utc> =
        case["appeal_due_at"].as_str().unwrap().parse().unwrap();
    t.advance_to(appeal_due + Duration::hours(1)).await;
    let closed = t.case(&id, &p.c.supervisor).await;
    let until: chrono::DateTime<chrono::Utc> =
        closed["retention_until"].as_str().unwrap().parse().unwrap();
    t.advance_to(until + Duration::hours(1)).await;
    assert!(t.case(&id, &p.c.supervisor).await["purged_at"].is_string());
    for status in ["open", "overdue", "done"] {
        let listed = t
            .get(&format!("/actions?status={status}"), Some(&p.c.supervisor))
            .await
            .expect(200);
        assert!(
            !listed.to_string().contains("qzaction5521") && listed["items"] == json!([]),
            "{status}: {listed}"
        );
    }
}

tests![
    a_purged_case_leaves_no_action_in_the_list,
    an_owner_who_cannot_see_the_case_is_refused,
    reassigning_and_redating_are_journaled,
    the_list_filters_by_status_owner_and_department,
    owners_are_reminded_ahead_and_daily_once_overdue_across_restarts,
    redating_resets_the_reminders_of_the_old_date,
];
