//! The case lifecycle of SPEC §3 and §4 through HTTP, transition by
//! transition: each success checks the state it leads to and what it leaves
//! behind (deadlines, deliveries, events), and each refusal checks its status
//! (409 wrong state, 403 wrong person, 422 bad fields, each named) and that
//! the case did not change.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::harness::*;

// ---- helpers ----------------------------------------------------------------

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The server's clock.
async fn now(t: &TestApp) -> DateTime<Utc> {
    at(&t.advance(0).await["now"])
}

/// Moves the test clock to `seconds` after `instant`.
async fn advance_to(t: &TestApp, instant: DateTime<Utc>, seconds: i64) {
    let n = now(t).await;
    let delta = (instant - n).num_seconds() + seconds;
    assert!(delta >= 0, "cannot move the clock back ({delta}s)");
    t.advance(delta).await;
}

/// `GET /calendar/due`: `days` working days after `from`.
async fn due_after(t: &TestApp, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    let a = t
        .get(
            &format!(
                "/calendar/due?from={}&working_days={days}",
                rfc(from).replace('+', "%2B")
            ),
            None,
        )
        .await
        .expect(200);
    at(&a["due_at"])
}

/// The error names `field` (and, with `only`, nothing else).
#[track_caller]
fn names(fields: &Value, field: &str) {
    assert!(
        fields.get(field).is_some(),
        "field `{field}` not named in {fields}"
    );
}

#[track_caller]
fn names_only(fields: &Value, wanted: &[&str]) {
    let mut got: Vec<&str> = fields
        .as_object()
        .unwrap_or_else(|| panic!("no fields: {fields}"))
        .keys()
        .map(String::as_str)
        .collect();
    got.sort_unstable();
    let mut wanted = wanted.to_vec();
    wanted.sort_unstable();
    assert_eq!(got, wanted, "fields named: {fields}");
}

fn deliveries<'a>(case: &'a Value, party: &str, notice: &str) -> Vec<&'a Value> {
    case["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["party"] == party && d["notice"] == notice)
        .collect()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

/// A staff action's answer has the shape of `GET /complaints/{id}` and is that case.
async fn assert_staff_shape(t: &TestApp, answer: &Value, token: &str) {
    let id = answer["id"].as_str().expect("answer has an id");
    let full = t.case(id, token).await;
    assert_eq!(keys(answer), keys(&full), "answer differs from GET shape");
    assert_eq!(answer["tracking_no"], full["tracking_no"]);
    assert!(answer["events"].is_array() && answer["deliveries"].is_array());
    assert!(!answer["events"].as_array().unwrap().is_empty());
}

/// A complainant action's answer has the shape of `GET /track/{no}`.
async fn assert_track_shape(t: &TestApp, answer: &Value, f: &Filed) {
    let full = t.track(f).await;
    assert_eq!(keys(answer), keys(&full), "answer differs from track shape");
    assert_eq!(answer["status"], full["status"]);
    assert_eq!(answer["tracking_no"], f.no.as_str());
    assert!(
        answer.get("events").is_none(),
        "the complainant sees no journal"
    );
}

async fn accept(t: &TestApp, intake: &str, f: &Filed, category: &str) -> Value {
    t.act(&f.id, "accept", intake, json!({"category": category}))
        .await
}

fn status_closure(v: &Value) -> (Option<&str>, Option<&str>) {
    (v["status"].as_str(), v["closure"].as_str())
}

// ---- request for material ---------------------------------------------------

async fn material_is_requested_once_with_every_item_and_the_supplement_restarts_acceptance() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.filed(1).await;
    let before = t.case(&f.id, &c.intake).await;
    let old_acceptance = at(&before["acceptance_due_at"]);

    let fields = t
        .refused(&f.id, "request-info", &c.intake, json!({}), 422)
        .await;
    names(&fields, "items");
    let fields = t
        .refused(&f.id, "request-info", &c.intake, json!({"items": []}), 422)
        .await;
    names(&fields, "items");
    let fields = t
        .refused(
            &f.id,
            "request-info",
            &c.intake,
            json!({"items": ["截图", "  "]}),
            422,
        )
        .await;
    names(&fields, "items[1]");
    // Only intake asks for material.
    t.refused(
        &f.id,
        "request-info",
        &c.handler,
        json!({"items": ["截图"]}),
        403,
    )
    .await;
    assert_eq!(t.case(&f.id, &c.intake).await["status"], "submitted");

    let case = t
        .act(
            &f.id,
            "request-info",
            &c.intake,
            json!({"items": ["订单截图", "聊天记录"]}),
        )
        .await;
    assert_staff_shape(&t, &case, &c.intake).await;
    assert_eq!(case["status"], "needs_info");
    assert_eq!(
        case["info_request"]["items"],
        json!(["订单截图", "聊天记录"])
    );
    let requested_at = at(&case["info_request"]["requested_at"]);
    // 5 working days by default.
    assert_eq!(
        at(&case["supplement_due_at"]),
        due_after(&t, requested_at, 5).await
    );
    assert_eq!(case["next_due_at"], case["supplement_due_at"]);
    let notices = deliveries(&case, "complainant", "request_for_material");
    assert_eq!(notices.len(), 1, "{}", case["deliveries"]);
    assert_eq!(notices[0]["channel"], "in_app");
    assert_eq!(notices[0]["status"], "sent");
    assert_eq!(events(&case, "info_requested").len(), 1);

    let tracked = t.track(&f).await;
    assert_eq!(tracked["status"], "needs_info");
    assert_eq!(
        tracked["info_request"]["items"],
        json!(["订单截图", "聊天记录"])
    );
    assert_eq!(tracked["actions"]["supplement"], true);

    // Waiting for material is not the platform's delay: no acceptance here.
    t.refused(
        &f.id,
        "accept",
        &c.intake,
        json!({"category": "delivery"}),
        409,
    )
    .await;

    // Past the first acceptance deadline; the supplement window is longer.
    advance_to(&t, old_acceptance, 60).await;
    let fields = t.track_refused(&f, "supplement", json!({}), 422).await;
    names(&fields, "message");
    let tracked = t
        .track_act(&f, "supplement", json!({"message": "截图已上传"}))
        .await;
    assert_track_shape(&t, &tracked, &f).await;
    assert_eq!(tracked["status"], "submitted");
    let new_acceptance = at(&tracked["acceptance_due_at"]);
    assert!(
        new_acceptance > old_acceptance,
        "{new_acceptance} not later than {old_acceptance}"
    );
    assert!(
        tracked["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"] == "截图已上传")
    );

    let case = t.case(&f.id, &c.intake).await;
    let supplemented = events(&case, "supplemented");
    assert_eq!(supplemented.len(), 1);
    assert_eq!(
        new_acceptance,
        due_after(&t, at(&supplemented[0]["at"]), 1).await
    );
    assert!(case["info_request"]["answered_at"].is_string());
    assert_eq!(case["overdue"], false, "the acceptance clock restarted");

    t.track_refused(&f, "supplement", json!({"message": "再补一次"}), 409)
        .await;
    // Material is asked for once per case.
    let version = case["version"].clone();
    t.refused(
        &f.id,
        "request-info",
        &c.intake,
        json!({"items": ["发票"]}),
        409,
    )
    .await;
    let case = t.case(&f.id, &c.intake).await;
    assert_eq!(case["version"], version);
    assert_eq!(case["status"], "submitted");
    assert_eq!(
        deliveries(&case, "complainant", "request_for_material").len(),
        1
    );
}

// ---- refusal ------------------------------------------------------------------

async fn a_refusal_carries_a_reason_and_guidance_to_the_tracking_page() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.filed(1).await;

    let fields = t.refused(&f.id, "reject", &c.intake, json!({}), 422).await;
    names_only(&fields, &["guidance", "reason"]);
    let fields = t
        .refused(
            &f.id,
            "reject",
            &c.intake,
            json!({"reason": "不属于平台受理范围"}),
            422,
        )
        .await;
    names_only(&fields, &["guidance"]);
    let fields = t
        .refused(
            &f.id,
            "reject",
            &c.intake,
            json!({"reason": "   ", "guidance": "请联系当地市场监管部门"}),
            422,
        )
        .await;
    names_only(&fields, &["reason"]);
    t.refused(
        &f.id,
        "reject",
        &c.handler,
        json!({"reason": "r", "guidance": "g"}),
        403,
    )
    .await;
    let case = t.case(&f.id, &c.intake).await;
    assert_eq!(case["status"], "submitted");
    assert!(case["rejection"].is_null());

    let case = t
        .act(
            &f.id,
            "reject",
            &c.intake,
            json!({"reason": "不属于平台受理范围", "guidance": "请联系当地市场监管部门（12315）"}),
        )
        .await;
    assert_staff_shape(&t, &case, &c.intake).await;
    assert_eq!(status_closure(&case), (Some("closed"), Some("rejected")));
    assert_eq!(case["rejection"]["reason"], "不属于平台受理范围");
    assert_eq!(deliveries(&case, "complainant", "refusal").len(), 1);
    assert_eq!(events(&case, "rejected").len(), 1);

    let tracked = t.track(&f).await;
    assert_eq!(status_closure(&tracked), (Some("closed"), Some("rejected")));
    assert_eq!(tracked["rejection"]["reason"], "不属于平台受理范围");
    assert_eq!(
        tracked["rejection"]["guidance"],
        "请联系当地市场监管部门（12315）"
    );
    assert_eq!(tracked["actions"]["withdraw"], false);

    t.refused(
        &f.id,
        "reject",
        &c.intake,
        json!({"reason": "again", "guidance": "again"}),
        409,
    )
    .await;
}

// ---- acceptance ---------------------------------------------------------------

async fn acceptance_checks_category_and_department_and_routes_by_category() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.filed(1).await;

    names(
        &t.refused(&f.id, "accept", &c.intake, json!({}), 422).await,
        "category",
    );
    names(
        &t.refused(
            &f.id,
            "accept",
            &c.intake,
            json!({"category": "no-such"}),
            422,
        )
        .await,
        "category",
    );
    let fields = t
        .refused(
            &f.id,
            "accept",
            &c.intake,
            json!({"category": "delivery", "department": "no-such"}),
            422,
        )
        .await;
    names_only(&fields, &["department"]);
    t.refused(
        &f.id,
        "accept",
        &c.handler,
        json!({"category": "delivery"}),
        403,
    )
    .await;
    let case = t.case(&f.id, &c.intake).await;
    assert_eq!(case["status"], "submitted");
    assert!(case["department"].is_null() && case["category"].is_null());

    // Routed by the category.
    let case = accept(&t, &c.intake, &f, "delivery").await;
    assert_staff_shape(&t, &case, &c.intake).await;
    assert_eq!(case["status"], "in_progress");
    assert_eq!(case["category"], "delivery");
    assert_eq!(case["department"], "customer-service");
    let accepted_at = at(&case["accepted_at"]);
    let default_due = at(&case["handling_due_at"]);
    assert_eq!(default_due, due_after(&t, accepted_at, 15).await);
    assert_eq!(case["next_due_at"], case["handling_due_at"]);
    assert_eq!(deliveries(&case, "complainant", "acceptance").len(), 1);
    assert_eq!(deliveries(&case, "respondent", "new_complaint").len(), 1);
    let ev = events(&case, "accepted");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["data"]["department"], "customer-service");

    let g = t.filed(2).await;
    let case = accept(&t, &c.intake, &g, "goods-quality").await;
    assert_eq!(case["department"], "merchant-compliance");

    // The agent overrides the department; the category stays.
    let h = t.filed(3).await;
    let case = t
        .act(
            &h.id,
            "accept",
            &c.intake,
            json!({"category": "delivery", "department": "trust-safety"}),
        )
        .await;
    assert_eq!(case["department"], "trust-safety");
    assert_eq!(case["category"], "delivery");

    // A category with its own handling time.
    t.category("express-refunds", "merchant-compliance", Some(3))
        .await;
    let k = t.filed(4).await;
    let case = accept(&t, &c.intake, &k, "express-refunds").await;
    assert_eq!(case["department"], "merchant-compliance");
    let accepted_at = at(&case["accepted_at"]);
    let due = at(&case["handling_due_at"]);
    assert_eq!(due, due_after(&t, accepted_at, 3).await);
    assert!(due < due_after(&t, accepted_at, 15).await);
    assert!(due < default_due);

    // Accepting is for submitted cases only.
    let version = t.case(&f.id, &c.intake).await["version"].clone();
    t.refused(
        &f.id,
        "accept",
        &c.intake,
        json!({"category": "goods-quality"}),
        409,
    )
    .await;
    let case = t.case(&f.id, &c.intake).await;
    assert_eq!(case["version"], version);
    assert_eq!(case["department"], "customer-service");
}

// ---- assignment ---------------------------------------------------------------

async fn assignment_goes_to_a_handler_of_the_department_and_handlers_take_only_free_cases() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    t.staff("handler2", &["handler"], &["merchant-compliance"], 1)
        .await;
    t.staff("handler3", &["handler"], &["customer-service"], 1)
        .await;
    let f = t.filed(1).await;
    accept(&t, &c.intake, &f, "delivery").await;

    // A handler does not assign others (SPEC §11: only themselves, on an
    // unassigned case of their department).
    t.refused(
        &f.id,
        "assign",
        &c.handler,
        json!({"handler": "handler3"}),
        403,
    )
    .await;
    names(
        &t.refused(
            &f.id,
            "assign",
            &c.intake,
            json!({"handler": "handler2"}),
            422,
        )
        .await,
        "handler",
    );
    names(
        &t.refused(
            &f.id,
            "assign",
            &c.intake,
            json!({"handler": "intake1"}),
            422,
        )
        .await,
        "handler",
    );
    names(
        &t.refused(
            &f.id,
            "assign",
            &c.intake,
            json!({"handler": "nobody"}),
            422,
        )
        .await,
        "handler",
    );
    names(
        &t.refused(&f.id, "assign", &c.intake, json!({}), 422).await,
        "handler",
    );
    assert!(t.case(&f.id, &c.intake).await["assignee"].is_null());

    let case = t
        .act(&f.id, "assign", &c.intake, json!({"handler": "handler1"}))
        .await;
    assert_staff_shape(&t, &case, &c.intake).await;
    assert_eq!(case["assignee"], "handler1");
    let case = t
        .act(
            &f.id,
            "assign",
            &c.supervisor,
            json!({"handler": "handler3"}),
        )
        .await;
    assert_eq!(case["assignee"], "handler3");
    let ev = events(&case, "assigned");
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1]["data"]["handler"], "handler3");
    assert_eq!(ev[1]["data"]["previous"], "handler1");
    // An assigned case is not taken by another handler.
    t.refused(
        &f.id,
        "assign",
        &c.handler,
        json!({"handler": "handler1"}),
        403,
    )
    .await;
    // An unassigned one is, by a handler of its department, for themselves.
    let free = t.filed(2).await;
    accept(&t, &c.intake, &free, "delivery").await;
    let other = t
        .staff("handler4", &["handler"], &["merchant-compliance"], 1)
        .await;
    t.refused(
        &free.id,
        "assign",
        &other,
        json!({"handler": "handler4"}),
        403,
    )
    .await;
    let case = t
        .act(
            &free.id,
            "assign",
            &c.handler,
            json!({"handler": "handler1"}),
        )
        .await;
    assert_eq!(case["assignee"], "handler1");
}

// ---- messages -----------------------------------------------------------------

async fn messages_reach_their_audience_each_with_a_delivery() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.filed(1).await;
    accept(&t, &c.intake, &f, "delivery").await;
    let msg = |n: &Value, party: &str| deliveries(n, party, "message").len();

    names(
        &t.refused(
            &f.id,
            "messages",
            &c.handler,
            json!({"audience": "public", "body": "x"}),
            422,
        )
        .await,
        "audience",
    );
    names(
        &t.refused(
            &f.id,
            "messages",
            &c.handler,
            json!({"audience": "internal"}),
            422,
        )
        .await,
        "body",
    );
    names(
        &t.refused(&f.id, "messages", &c.handler, json!({"body": "x"}), 422)
            .await,
        "audience",
    );

    let before = t.case(&f.id, &c.handler).await;
    let n_deliveries = before["deliveries"].as_array().unwrap().len();

    let case = t
        .act(
            &f.id,
            "messages",
            &c.handler,
            json!({"audience": "internal", "body": "内部备注：商家有前科"}),
        )
        .await;
    assert_staff_shape(&t, &case, &c.handler).await;
    assert_eq!(
        case["deliveries"].as_array().unwrap().len(),
        n_deliveries,
        "an internal message is no notice"
    );
    let case = t
        .act(
            &f.id,
            "messages",
            &c.handler,
            json!({"audience": "complainant", "body": "我们正在核实，请耐心等待"}),
        )
        .await;
    assert_eq!(msg(&case, "complainant"), 1);
    assert_eq!(msg(&case, "respondent"), 0);
    let case = t
        .act(
            &f.id,
            "messages",
            &c.handler,
            json!({"audience": "respondent", "body": "请商家说明拒绝退款的理由"}),
        )
        .await;
    assert_eq!(msg(&case, "complainant"), 1);
    assert_eq!(msg(&case, "respondent"), 1);
    assert_eq!(
        case["deliveries"].as_array().unwrap().len(),
        n_deliveries + 2
    );
    let audiences: Vec<&str> = case["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["audience"].as_str().unwrap())
        .collect();
    assert_eq!(audiences, ["internal", "complainant", "respondent"]);
    assert_eq!(events(&case, "message_added").len(), 3);

    // The complainant sees only their own thread.
    let tracked = t.track(&f).await;
    let bodies: Vec<&str> = tracked["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["我们正在核实，请耐心等待"]);
    let text = tracked.to_string();
    assert!(!text.contains("商家有前科") && !text.contains("请商家说明"));

    // The complainant's reply reaches staff.
    names(
        &t.track_refused(&f, "messages", json!({"body": " "}), 422)
            .await,
        "body",
    );
    let tracked = t
        .track_act(&f, "messages", json!({"body": "好的，谢谢"}))
        .await;
    assert_track_shape(&t, &tracked, &f).await;
    assert_eq!(tracked["messages"].as_array().unwrap().len(), 2);
    let case = t.case(&f.id, &c.handler).await;
    let reply = case["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == "好的，谢谢")
        .expect("staff see the complainant's reply");
    assert_eq!(reply["audience"], "complainant");
    assert_eq!(reply["author"]["kind"], "complainant");
    assert_eq!(msg(&case, "staff"), 1, "{}", case["deliveries"]);
    assert_eq!(msg(&case, "complainant"), 1, "no notice to oneself");

    // The respondent sees only their own thread, and answers in it.
    let key = t.respondent("merchant", "shop-1").await;
    let answered = t
        .post(
            &format!("/respondent/complaints/{}/messages", f.id),
            Some(&key),
            json!({"body": "已发货"}),
        )
        .await
        .expect(200);
    let bodies: Vec<&str> = answered["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["请商家说明拒绝退款的理由", "已发货"]);
    let case = t.case(&f.id, &c.handler).await;
    assert_eq!(case["messages"].as_array().unwrap().len(), 5);
}

// ---- notes --------------------------------------------------------------------

async fn notes_record_the_investigation_by_kind_and_stay_internal() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.filed(1).await;
    accept(&t, &c.intake, &f, "delivery").await;
    let n_deliveries = t.case(&f.id, &c.handler).await["deliveries"]
        .as_array()
        .unwrap()
        .len();

    names(
        &t.refused(
            &f.id,
            "notes",
            &c.handler,
            json!({"kind": "gossip", "body": "x"}),
            422,
        )
        .await,
        "kind",
    );
    names(
        &t.refused(
            &f.id,
            "notes",
            &c.handler,
            json!({"kind": "note", "body": ""}),
            422,
        )
        .await,
        "body",
    );

    for (kind, body) in [
        ("investigation", "调取了订单物流记录"),
        ("contact", "电话联系商家客服"),
        ("note", "等待商家回复"),
    ] {
        let case = t
            .act(
                &f.id,
                "notes",
                &c.handler,
                json!({"kind": kind, "body": body}),
            )
            .await;
        assert_staff_shape(&t, &case, &c.handler).await;
    }
    // Without a kind, a plain note.
    let case = t
        .act(&f.id, "notes", &c.handler, json!({"body": "无类型"}))
        .await;
    let notes: Vec<(&str, &str, &str)> = case["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap(),
                n["body"].as_str().unwrap(),
                n["author"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        notes,
        [
            ("investigation", "调取了订单物流记录", "handler1"),
            ("contact", "电话联系商家客服", "handler1"),
            ("note", "等待商家回复", "handler1"),
            ("note", "无类型", "handler1"),
        ]
    );
    assert_eq!(events(&case, "note_added").len(), 4);
    assert_eq!(case["deliveries"].as_array().unwrap().len(), n_deliveries);
    assert!(!t.track(&f).await.to_string().contains("调取了订单物流记录"));
}

// ---- extension ----------------------------------------------------------------

async fn an_extension_needs_a_reason_and_a_later_date_and_sends_a_progress_notice() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let other = t
        .staff("handler2", &["handler"], &["merchant-compliance"], 1)
        .await;
    let f = t.filed(1).await;
    let case = accept(&t, &c.intake, &f, "delivery").await;
    let old = at(&case["handling_due_at"]);
    let later = old + Duration::days(5);

    // Only handlers of the case's department extend.
    t.refused(
        &f.id,
        "extend",
        &c.intake,
        json!({"due_at": rfc(later), "reason": "等待第三方检测"}),
        403,
    )
    .await;
    let a = t
        .action(
            &f.id,
            "extend",
            &other,
            json!({"due_at": rfc(later), "reason": "等待第三方检测"}),
        )
        .await;
    assert!(
        matches!(a.status.as_u16(), 403 | 404),
        "{} {}",
        a.status,
        a.body
    );

    names_only(
        &t.refused(
            &f.id,
            "extend",
            &c.handler,
            json!({"due_at": rfc(later)}),
            422,
        )
        .await,
        &["reason"],
    );
    names_only(
        &t.refused(
            &f.id,
            "extend",
            &c.handler,
            json!({"due_at": rfc(old - Duration::days(1)), "reason": "x"}),
            422,
        )
        .await,
        &["due_at"],
    );
    names_only(
        &t.refused(
            &f.id,
            "extend",
            &c.handler,
            json!({"due_at": rfc(old), "reason": "x"}),
            422,
        )
        .await,
        &["due_at"],
    );
    names(
        &t.refused(&f.id, "extend", &c.handler, json!({"reason": "x"}), 422)
            .await,
        "due_at",
    );
    names(
        &t.refused(
            &f.id,
            "extend",
            &c.handler,
            json!({"due_at": "next tuesday", "reason": "x"}),
            422,
        )
        .await,
        "due_at",
    );
    let case = t.case(&f.id, &c.handler).await;
    assert_eq!(at(&case["handling_due_at"]), old);
    assert!(deliveries(&case, "complainant", "progress").is_empty());

    let case = t
        .act(
            &f.id,
            "extend",
            &c.handler,
            json!({"due_at": rfc(later), "reason": "等待第三方检测"}),
        )
        .await;
    assert_staff_shape(&t, &case, &c.handler).await;
    assert_eq!(case["status"], "in_progress");
    assert_eq!(at(&case["handling_due_at"]), later);
    assert_eq!(at(&case["extensions"][0]["previous_due_at"]), old);
    assert_eq!(case["extensions"][0]["reason"], "等待第三方检测");
    assert_eq!(deliveries(&case, "complainant", "progress").len(), 1);
    assert_eq!(events(&case, "extended").len(), 1);
    let tracked = t.track(&f).await;
    assert_eq!(at(&tracked["handling_due_at"]), later);
    assert_eq!(at(&tracked["extensions"][0]["due_at"]), later);

    // Not later than the new date.
    names(
        &t.refused(
            &f.id,
            "extend",
            &c.handler,
            json!({"due_at": rfc(later), "reason": "x"}),
            422,
        )
        .await,
        "due_at",
    );
    // Only while in progress.
    t.act(&f.id, "decide", &c.handler, decision()).await;
    t.refused(
        &f.id,
        "extend",
        &c.handler,
        json!({"due_at": rfc(later + Duration::days(5)), "reason": "x"}),
        409,
    )
    .await;
}

// ---- decision and corrective actions ------------------------------------------

async fn a_decision_needs_outcome_basis_and_reply_and_tracks_its_orders() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let other = t
        .staff("handler2", &["handler"], &["merchant-compliance"], 1)
        .await;
    t.category("express-refunds", "customer-service", Some(4))
        .await;
    let f = t.filed(1).await;
    accept(&t, &c.intake, &f, "express-refunds").await;

    let fields = t.refused(&f.id, "decide", &c.handler, json!({}), 422).await;
    names_only(&fields, &["basis", "outcome", "reply"]);
    let mut body = decision();
    body["outcome"] = json!("mostly_upheld");
    names_only(
        &t.refused(&f.id, "decide", &c.handler, body, 422).await,
        &["outcome"],
    );
    let mut body = decision();
    body["basis"] = json!([]);
    names_only(
        &t.refused(&f.id, "decide", &c.handler, body, 422).await,
        &["basis"],
    );
    let mut body = decision();
    body["basis"] = json!(["  "]);
    names(
        &t.refused(&f.id, "decide", &c.handler, body, 422).await,
        "basis",
    );
    let mut body = decision();
    body["reply"] = json!("");
    names_only(
        &t.refused(&f.id, "decide", &c.handler, body, 422).await,
        &["reply"],
    );
    // Not by the front desk, not from another department.
    t.refused(&f.id, "decide", &c.intake, decision(), 403).await;
    let a = t.action(&f.id, "decide", &other, decision()).await;
    assert!(
        matches!(a.status.as_u16(), 403 | 404),
        "{} {}",
        a.status,
        a.body
    );
    let case = t.case(&f.id, &c.handler).await;
    assert_eq!(case["status"], "in_progress");
    assert!(case["decision"].is_null());

    let action_due = now(&t).await + Duration::days(30);
    let case = t.act(&f.id,
        "decide",
        &c.handler,
        json!({
            "outcome": "partially_upheld",
            "basis": ["平台服务协议 5.2", "《消费者权益保护法》第二十四条"],
            "reply": "商家退还货款，运费由平台补贴。",
            "remedies": ["refund", {"kind": "compensation", "description": "运费补贴", "amount": 12.5}],
            "sanctions": ["warning"],
            "actions": [
                "修改退款流程说明",
                // The owner must see the case (SPEC §3): a supervisor does;
                // handler2, of another department, would not (tests/api/actions.rs).
                {"description": "培训商家客服", "owner": "super1", "due_at": rfc(action_due)}
            ]
        }),
    )
    .await;
    assert_staff_shape(&t, &case, &c.handler).await;
    assert_eq!(case["status"], "resolved");
    let d = &case["decision"];
    assert_eq!(d["outcome"], "partially_upheld");
    assert_eq!(
        d["basis"],
        json!(["平台服务协议 5.2", "《消费者权益保护法》第二十四条"])
    );
    assert_eq!(d["reply"], "商家退还货款，运费由平台补贴。");
    assert_eq!(d["decided_by"], "handler1");
    assert_eq!(d["remedies"][0]["kind"], "refund");
    assert_eq!(d["remedies"][1]["kind"], "compensation");
    assert_eq!(d["remedies"][1]["amount"], 12.5);
    assert_eq!(d["sanctions"][0]["kind"], "warning");
    let decided_at = at(&d["decided_at"]);
    let actions = case["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[0]["description"], "修改退款流程说明");
    assert_eq!(
        actions[0]["owner"], "handler1",
        "owner defaults to the decider"
    );
    assert_eq!(
        at(&actions[0]["due_at"]),
        due_after(&t, decided_at, 4).await,
        "due date defaults to the category's handling time"
    );
    assert!(actions[0]["done_at"].is_null());
    assert_eq!(actions[1]["owner"], "super1");
    assert_eq!(at(&actions[1]["due_at"]), action_due);
    assert!(case["appeal_due_at"].is_string());
    assert_eq!(case["next_due_at"], case["appeal_due_at"]);
    assert_eq!(deliveries(&case, "complainant", "result").len(), 1);
    assert_eq!(deliveries(&case, "respondent", "result").len(), 1);
    assert_eq!(events(&case, "decided").len(), 1);
    assert_eq!(events(&case, "sanction_ordered").len(), 1);

    let tracked = t.track(&f).await;
    assert_eq!(tracked["status"], "resolved");
    assert_eq!(tracked["decision"]["outcome"], "partially_upheld");
    assert_eq!(
        tracked["decision"]["reply"],
        "商家退还货款，运费由平台补贴。"
    );
    assert_eq!(tracked["actions"]["appeal"], true);

    // Decided once: the case is no longer in progress.
    t.refused(&f.id, "decide", &c.handler, decision(), 409)
        .await;

    // Corrective actions are tracked until done.
    let action_id = actions[0]["id"].as_str().unwrap().to_string();
    let path = format!("/complaints/{}/actions/{action_id}/complete", f.id);
    let case = t
        .post(&path, Some(&c.handler), json!({"note": "已更新说明页"}))
        .await
        .expect(200);
    assert_staff_shape(&t, &case, &c.handler).await;
    assert!(case["actions"][0]["done_at"].is_string());
    assert_eq!(case["actions"][0]["done_by"], "handler1");
    assert_eq!(case["actions"][0]["done_note"], "已更新说明页");
    assert!(case["actions"][1]["done_at"].is_null());
    assert_eq!(events(&case, "action_completed").len(), 1);
    t.post(&path, Some(&c.handler), json!({"note": "again"}))
        .await
        .expect_error(409);
    t.post(
        &format!("/complaints/{}/actions/no-such-action/complete", f.id),
        Some(&c.handler),
        json!({}),
    )
    .await
    .expect_error(422);
    let case = t.case(&f.id, &c.handler).await;
    assert_eq!(case["actions"][0]["done_note"], "已更新说明页");
    assert_eq!(events(&case, "action_completed").len(), 1);
}

// ---- appeal -------------------------------------------------------------------

async fn an_appeal_comes_after_a_decision_once_and_within_the_window() {
    let t = TestApp::new().await;
    let c = t.cast().await;

    // Before a decision there is nothing to appeal.
    let f = t.filed(1).await;
    t.track_refused(&f, "appeal", json!({"reason": "太慢"}), 409)
        .await;
    accept(&t, &c.intake, &f, "refunds-returns").await;
    t.track_refused(&f, "appeal", json!({"reason": "太慢"}), 409)
        .await;

    t.act(&f.id, "decide", &c.handler, decision()).await;
    names(
        &t.track_refused(&f, "appeal", json!({}), 422).await,
        "reason",
    );
    let tracked = t
        .track_act(&f, "appeal", json!({"reason": "金额不对"}))
        .await;
    assert_track_shape(&t, &tracked, &f).await;
    assert_eq!(tracked["status"], "under_review");
    assert_eq!(tracked["appeal"]["reason"], "金额不对");
    assert!(tracked["review_due_at"].is_string());
    let case = t.case(&f.id, &c.supervisor).await;
    assert_eq!(deliveries(&case, "complainant", "appeal_received").len(), 1);
    assert_eq!(events(&case, "appealed").len(), 1);
    // Once.
    t.track_refused(&f, "appeal", json!({"reason": "再申诉"}), 409)
        .await;
    let case = t.case(&f.id, &c.supervisor).await;
    assert_eq!(case["appeal"]["reason"], "金额不对");
    assert_eq!(events(&case, "appealed").len(), 1);

    // Within 15 calendar days of the result notice.
    let g = t.decided(&c, 2).await;
    let case = t.case(&g.id, &c.supervisor).await;
    let decided_at = at(&case["decision"]["decided_at"]);
    let window_end = at(&case["appeal_due_at"]);
    assert!(
        window_end >= decided_at + Duration::days(15)
            && window_end <= decided_at + Duration::days(16),
        "{decided_at} → {window_end}"
    );
    advance_to(&t, window_end, -3600).await;
    let tracked = t.track(&g).await;
    assert_eq!(tracked["status"], "resolved", "the window is still open");
    assert_eq!(tracked["actions"]["appeal"], true);

    let sweep = t.advance(2 * 3600).await;
    assert!(sweep["sweep"]["closed"].as_u64().unwrap() >= 1, "{sweep}");
    let tracked = t.track(&g).await;
    assert_eq!(status_closure(&tracked), (Some("closed"), Some("resolved")));
    assert_eq!(tracked["actions"]["appeal"], false);
    assert_eq!(
        tracked["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["notice"] == "closed")
            .count(),
        1
    );
    t.track_refused(&g, "appeal", json!({"reason": "晚了"}), 409)
        .await;
    let case = t.case(&g.id, &c.supervisor).await;
    assert_eq!(status_closure(&case), (Some("closed"), Some("resolved")));
    assert!(case["appeal"].is_null());
    assert_eq!(events(&case, "closed").len(), 1);
}

// ---- review -------------------------------------------------------------------

async fn the_reviewer_is_never_the_decider_and_ranks_above_or_is_independent() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let boss = t
        .staff("boss", &["handler", "reviewer"], &["customer-service"], 3)
        .await;
    let peer = t
        .staff("peer", &["reviewer"], &["customer-service"], 3)
        .await;
    let senior = t
        .staff("senior", &["reviewer"], &["customer-service"], 4)
        .await;
    let review =
        json!({"result": "upheld", "basis": ["平台服务协议 5.2"], "reply": "维持原结果。"});

    let f = t.filed(1).await;
    accept(&t, &c.intake, &f, "refunds-returns").await;
    // Nothing to review yet.
    t.refused(&f.id, "review", &senior, review.clone(), 409)
        .await;
    t.act(&f.id, "decide", &boss, decision()).await;
    t.refused(&f.id, "review", &senior, review.clone(), 409)
        .await;
    t.track_act(&f, "appeal", json!({"reason": "不服"})).await;

    // The decider, even with the reviewer role and a high level.
    t.refused(&f.id, "review", &boss, review.clone(), 403).await;
    // A reviewer of the decider's level.
    t.refused(&f.id, "review", &peer, review.clone(), 403).await;
    // A handler without the reviewer role.
    t.refused(&f.id, "review", &c.handler, review.clone(), 403)
        .await;
    // A reviewer below the decider's level.
    let junior = t
        .staff("junior", &["reviewer"], &["customer-service"], 2)
        .await;
    t.refused(&f.id, "review", &junior, review.clone(), 403)
        .await;
    let case = t.case(&f.id, &c.supervisor).await;
    assert_eq!(case["status"], "under_review");
    assert!(case["review"].is_null());

    // Bad fields, from an eligible reviewer.
    names_only(
        &t.refused(
            &f.id,
            "review",
            &senior,
            json!({"result": "modified", "basis": ["协议 5.2"], "reply": "改判。"}),
            422,
        )
        .await,
        &["outcome"],
    );
    names(
        &t.refused(
            &f.id,
            "review",
            &senior,
            json!({"result": "overturned", "basis": ["协议 5.2"], "reply": "x"}),
            422,
        )
        .await,
        "result",
    );
    names(
        &t.refused(
            &f.id,
            "review",
            &senior,
            json!({"result": "upheld", "basis": [], "reply": "x"}),
            422,
        )
        .await,
        "basis",
    );
    names(
        &t.refused(
            &f.id,
            "review",
            &senior,
            json!({"result": "upheld", "basis": ["协议 5.2"]}),
            422,
        )
        .await,
        "reply",
    );
    assert_eq!(t.case(&f.id, &c.supervisor).await["status"], "under_review");

    // A higher level may review; the result is final.
    let case = t.act(&f.id,
        "review",
        &senior,
        json!({"result": "modified", "outcome": "partially_upheld", "basis": ["平台服务协议 5.3"], "reply": "部分支持。"}),
    )
    .await;
    assert_staff_shape(&t, &case, &senior).await;
    assert_eq!(status_closure(&case), (Some("closed"), Some("reviewed")));
    assert_eq!(case["review"]["result"], "modified");
    assert_eq!(case["review"]["outcome"], "partially_upheld");
    assert_eq!(case["review"]["reviewed_by"], "senior");
    assert_eq!(deliveries(&case, "complainant", "review_result").len(), 1);
    let tracked = t.track(&f).await;
    assert_eq!(status_closure(&tracked), (Some("closed"), Some("reviewed")));
    assert_eq!(tracked["review"]["reply"], "部分支持。");
    let remedies = tracked["review"]["outside_remedies"].as_str().unwrap();
    assert!(remedies.contains("12315"), "{remedies}");
    t.refused(&f.id, "review", &senior, review.clone(), 409)
        .await;
    t.track_refused(&f, "appeal", json!({"reason": "再申诉"}), 409)
        .await;

    // A level-1 reviewer of an independent department reviews a level-1
    // decision; a level-1 reviewer elsewhere may not.
    t.department("review-panel", true).await;
    let independent = t.staff("panel1", &["reviewer"], &["review-panel"], 1).await;
    let flat = t
        .staff("flat1", &["reviewer"], &["customer-service"], 1)
        .await;
    let g = t.appealed(&c, 2).await;
    t.refused(&g.id, "review", &flat, review.clone(), 403).await;
    let case = t.act(&g.id, "review", &independent, review.clone()).await;
    assert_eq!(status_closure(&case), (Some("closed"), Some("reviewed")));
    assert_eq!(case["review"]["reviewed_by"], "panel1");
    assert_eq!(case["decision"]["decided_by"], "handler1");
}

// ---- withdrawal ---------------------------------------------------------------

async fn the_complainant_withdraws_before_a_result_only() {
    let t = TestApp::new().await;
    let c = t.cast().await;

    let submitted = t.filed(1).await;
    let waiting = t.filed(2).await;
    t.act(
        &waiting.id,
        "request-info",
        &c.intake,
        json!({"items": ["截图"]}),
    )
    .await;
    let handled = t.filed(3).await;
    accept(&t, &c.intake, &handled, "delivery").await;
    let resolved = t.decided(&c, 4).await;

    let tracked = t
        .track_act(
            &submitted,
            "withdraw",
            json!({"reason": "已和商家协商解决"}),
        )
        .await;
    assert_track_shape(&t, &tracked, &submitted).await;
    assert_eq!(
        status_closure(&tracked),
        (Some("closed"), Some("withdrawn"))
    );
    assert_eq!(tracked["withdrawal_reason"], "已和商家协商解决");
    let case = t.case(&submitted.id, &c.intake).await;
    assert_eq!(deliveries(&case, "complainant", "withdrawn").len(), 1);
    assert_eq!(events(&case, "withdrawn").len(), 1);

    for f in [&waiting, &handled] {
        let tracked = t.track_act(f, "withdraw", json!({})).await;
        assert_eq!(
            status_closure(&tracked),
            (Some("closed"), Some("withdrawn"))
        );
        assert!(tracked["withdrawal_reason"].is_null());
    }

    // After a result, and after closing, too late.
    t.track_refused(&resolved, "withdraw", json!({}), 409).await;
    assert_eq!(t.track(&resolved).await["status"], "resolved");
    t.track_refused(&submitted, "withdraw", json!({}), 409)
        .await;
    // Someone else's token does not withdraw.
    t.post(
        &format!("/track/{}/withdraw", resolved.no),
        Some(&handled.token),
        json!({}),
    )
    .await
    .expect_error(401);
}

// ---- merge and links ----------------------------------------------------------

async fn a_duplicate_merges_into_an_open_original_and_both_numbers_keep_working() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let original = t.filed(1).await;
    let dup = t.file(complaint(1)).await;
    assert!(
        t.dups(&dup)
            .await
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == original.id.as_str())
    );
    let dup = Filed::from(&dup);
    t.track_act(&dup, "messages", json!({"body": "补充：订单号 123"}))
        .await;
    let receipt = b"receipt of order 123";
    let sha = s(&t
        .upload(
            &format!("/track/{}/evidence", dup.no),
            Some(&dup.token),
            "receipt.txt",
            receipt,
        )
        .await
        .expect(200)["evidence"][0]["sha256"])
    .to_string();
    t.act(
        &dup.id,
        "messages",
        &c.intake,
        json!({"audience": "internal", "body": "重复投诉"}),
    )
    .await;

    // Not into itself, not into nothing.
    t.refused(&dup.id, "merge", &c.intake, json!({"into": dup.id}), 422)
        .await;
    names(
        &t.refused(
            &dup.id,
            "merge",
            &c.intake,
            json!({"into": "RD000000-XXXXXX"}),
            422,
        )
        .await,
        "into",
    );

    let case = t
        .act(&dup.id, "merge", &c.intake, json!({"into": original.id}))
        .await;
    assert_staff_shape(&t, &case, &c.intake).await;
    assert_eq!(case["id"], dup.id.as_str());
    assert_eq!(status_closure(&case), (Some("closed"), Some("merged")));
    assert_eq!(case["merged_into"], original.id.as_str());
    assert_eq!(deliveries(&case, "complainant", "merged").len(), 1);

    let orig = t.case(&original.id, &c.intake).await;
    assert_eq!(orig["status"], "submitted", "the original stays open");
    assert_eq!(orig["merged_from"], json!([dup.id]));
    let moved: Vec<&str> = orig["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from_case"] == dup.id.as_str())
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(moved, ["补充：订单号 123", "重复投诉"]);
    let evidence: Vec<&Value> = orig["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["from_case"] == dup.id.as_str())
        .collect();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0]["filename"], "receipt.txt");
    assert_eq!(events(&orig, "merged_from").len(), 1);
    // The duplicate's file moved too: sealed again under the original's
    // key and name, so it outlives the duplicate's purge.
    assert!(t.case_file(&original.id, &sha).await.exists());
    let loaded = t
        .app
        .load(uuid::Uuid::parse_str(&original.id).unwrap())
        .await
        .unwrap();
    assert_eq!(
        t.app
            .evidence
            .read_in_case(loaded.key(), &sha)
            .await
            .unwrap(),
        receipt
    );

    // Both tracking numbers still work.
    let tracked = t.track(&dup).await;
    assert_eq!(status_closure(&tracked), (Some("closed"), Some("merged")));
    assert_eq!(tracked["merged_into"], original.no.as_str());
    let tracked = t.track(&original).await;
    assert_eq!(tracked["status"], "submitted");
    assert!(
        tracked["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"] == "补充：订单号 123")
    );
    assert!(!tracked.to_string().contains("重复投诉"));

    // A merged case is closed; a closed original takes nothing.
    t.refused(
        &dup.id,
        "merge",
        &c.intake,
        json!({"into": original.id}),
        409,
    )
    .await;
    let closed = t.filed(2).await;
    t.act(
        &closed.id,
        "reject",
        &c.intake,
        json!({"reason": "r", "guidance": "g"}),
    )
    .await;
    let late = t.filed(3).await;
    t.refused(
        &late.id,
        "merge",
        &c.intake,
        json!({"into": closed.id}),
        409,
    )
    .await;
    let case = t.case(&late.id, &c.intake).await;
    assert_eq!(case["status"], "submitted");
    assert!(case["merged_into"].is_null());
    assert!(
        t.case(&closed.id, &c.intake).await["merged_from"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

async fn linked_cases_list_each_other() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let a = t.filed(1).await;
    let b = t.filed(2).await;

    names(
        &t.refused(&a.id, "links", &c.intake, json!({}), 422).await,
        "other",
    );
    t.refused(&a.id, "links", &c.intake, json!({"other": a.id}), 422)
        .await;

    // By tracking number.
    let case = t
        .act(&a.id, "links", &c.intake, json!({"other": b.no}))
        .await;
    assert_staff_shape(&t, &case, &c.intake).await;
    assert_eq!(case["linked_cases"], json!([b.id]));
    let other = t.case(&b.id, &c.intake).await;
    assert_eq!(other["linked_cases"], json!([a.id]));
    assert_eq!(events(&other, "linked").len(), 1);
    // Both remain open: a link is not a merge.
    assert_eq!(case["status"], "submitted");
    assert_eq!(other["status"], "submitted");
}

// ---- the sealed case ----------------------------------------------------------

async fn a_sealed_case_refuses_every_change_but_takes_one_rating() {
    let t = TestApp::new().await;
    let c = t.cast().await;

    // No rating before a result.
    let early = t.filed(9).await;
    t.track_refused(&early, "feedback", json!({"score": 5}), 409)
        .await;

    let f = t.decided(&c, 1).await;
    let window_end = at(&t.case(&f.id, &c.handler).await["appeal_due_at"]);
    advance_to(&t, window_end, 60).await;
    let case = t.case(&f.id, &c.handler).await;
    assert_eq!(status_closure(&case), (Some("closed"), Some("resolved")));
    assert_eq!(case["sealed"], true);
    let version = case["version"].clone();
    let due = rfc(at(&case["handling_due_at"]) + Duration::days(30));

    let staff_attempts: Vec<(&str, &String, Value)> = vec![
        (
            "messages",
            &c.handler,
            json!({"audience": "internal", "body": "补记"}),
        ),
        (
            "messages",
            &c.handler,
            json!({"audience": "complainant", "body": "补记"}),
        ),
        ("notes", &c.handler, json!({"kind": "note", "body": "补记"})),
        (
            "extend",
            &c.handler,
            json!({"due_at": due, "reason": "补记"}),
        ),
        ("accept", &c.intake, json!({"category": "delivery"})),
        ("request-info", &c.intake, json!({"items": ["发票"]})),
        ("reject", &c.intake, json!({"reason": "r", "guidance": "g"})),
        ("decide", &c.handler, decision()),
        ("assign", &c.intake, json!({"handler": "handler1"})),
    ];
    for (action, token, body) in staff_attempts {
        let a = t
            .post(&format!("/complaints/{}/{action}", f.id), Some(token), body)
            .await;
        assert_eq!(
            a.status.as_u16(),
            409,
            "{action} on a sealed case: {}",
            a.body
        );
    }
    t.upload(
        &format!("/complaints/{}/evidence", f.id),
        Some(&c.handler),
        "late.txt",
        b"late evidence",
    )
    .await
    .expect_error(409);
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"late evidence"));
    assert!(
        !t.dir.join("evidence").join(&sha[..2]).join(&sha).exists(),
        "a refused upload leaves no file behind"
    );
    t.call(
        "PATCH",
        &format!("/complaints/{}", f.id),
        Some(&c.intake),
        Some(json!({"subject": "改个标题"})),
    )
    .await
    .expect_error(409);
    t.track_refused(&f, "messages", json!({"body": "还有一句"}), 409)
        .await;
    t.track_refused(&f, "supplement", json!({"message": "补充"}), 409)
        .await;
    t.upload(
        &format!("/track/{}/evidence", f.no),
        Some(&f.token),
        "late.txt",
        b"late evidence",
    )
    .await
    .expect_error(409);

    let case = t.case(&f.id, &c.handler).await;
    assert_eq!(case["version"], version, "nothing in a sealed case changed");
    assert_eq!(case["messages"], json!([]));
    assert_eq!(case["notes"], json!([]));
    assert_eq!(case["evidence"], json!([]));

    // The rating is kept beside the sealed file.
    for bad in [
        json!({"score": 0}),
        json!({"score": 6}),
        json!({}),
        json!({"score": "5"}),
    ] {
        names(&t.track_refused(&f, "feedback", bad, 422).await, "score");
    }
    let tracked = t
        .track_act(&f, "feedback", json!({"score": 4, "comment": "处理及时"}))
        .await;
    assert_track_shape(&t, &tracked, &f).await;
    assert_eq!(tracked["feedback"]["score"], 4);
    assert_eq!(tracked["feedback"]["comment"], "处理及时");
    assert_eq!(tracked["actions"]["feedback"], false);
    t.track_refused(&f, "feedback", json!({"score": 1}), 409)
        .await;
    let case = t.case(&f.id, &c.handler).await;
    assert_eq!(case["feedback"]["score"], 4);
    assert_eq!(status_closure(&case), (Some("closed"), Some("resolved")));

    // A refusal is a result too.
    let r = t.filed(2).await;
    t.act(
        &r.id,
        "reject",
        &c.intake,
        json!({"reason": "r", "guidance": "g"}),
    )
    .await;
    t.track_refused(&r, "messages", json!({"body": "为什么"}), 409)
        .await;
    for (action, body) in [
        ("messages", json!({"audience": "internal", "body": "x"})),
        ("notes", json!({"kind": "note", "body": "x"})),
        ("accept", json!({"category": "delivery"})),
    ] {
        t.refused(&r.id, action, &c.intake, body, 409).await;
    }
    t.upload(
        &format!("/complaints/{}/evidence", r.id),
        Some(&c.intake),
        "a.txt",
        b"late",
    )
    .await
    .expect_error(409);
    t.call(
        "PATCH",
        &format!("/complaints/{}", r.id),
        Some(&c.intake),
        Some(json!({"subject": "new"})),
    )
    .await
    .expect_error(409);
    let tracked = t.track_act(&r, "feedback", json!({"score": 1})).await;
    assert_eq!(tracked["feedback"]["score"], 1);
}

// ---- the registration record ------------------------------------------------

async fn the_record_is_corrected_before_acceptance_and_the_old_values_kept() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.filed(1).await;
    let patch = |body: Value, token: &str| {
        let path = format!("/complaints/{}", f.id);
        let token = token.to_string();
        let t = &t;
        async move { t.call("PATCH", &path, Some(&token), Some(body)).await }
    };

    patch(
        json!({"respondent": {"kind": "merchant", "id": "shop-2"}}),
        &c.handler,
    )
    .await
    .expect_error(403);
    names(
        &patch(json!({"subject": ""}), &c.intake)
            .await
            .expect_error(422),
        "subject",
    );
    names(
        &patch(
            json!({"respondent": {"kind": "alien", "id": "x"}}),
            &c.intake,
        )
        .await
        .expect_error(422),
        "respondent.kind",
    );
    let case = t.case(&f.id, &c.intake).await;
    assert_eq!(case["respondent"]["id"], "shop-1");
    assert_eq!(case["subject"], "申请退款被拒绝");
    assert!(events(&case, "record_updated").is_empty());

    let case = patch(
        json!({"respondent": {"kind": "merchant", "id": "shop-2", "name": "另一家店"}}),
        &c.intake,
    )
    .await
    .expect(200);
    assert_staff_shape(&t, &case, &c.intake).await;
    assert_eq!(case["respondent"]["id"], "shop-2");
    assert_eq!(case["respondent"]["name"], "另一家店");
    assert_eq!(case["subject"], "申请退款被拒绝", "other fields stay");
    let ev = events(&case, "record_updated");
    assert_eq!(ev.len(), 1);
    let previous = &ev[0]["data"]["previous"];
    assert_eq!(previous["respondent"]["id"], "shop-1");
    assert_eq!(previous["respondent"]["name"], "好店");
    assert!(
        previous.get("subject").is_none(),
        "only changed fields: {previous}"
    );

    accept(&t, &c.intake, &f, "refunds-returns").await;
    patch(json!({"subject": "新标题"}), &c.intake)
        .await
        .expect_error(409);
    assert_eq!(t.case(&f.id, &c.intake).await["subject"], "申请退款被拒绝");
}

async fn a_mailed_complaint_without_respondent_is_completed_before_acceptance() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let mut body = complaint(1);
    body.as_object_mut().unwrap().remove("respondent");
    // The public form needs a respondent.
    t.post("/complaints", None, body.clone())
        .await
        .expect_error(422);
    body["channel"] = json!("email");
    let filed = t
        .post("/complaints", Some(&c.intake), body)
        .await
        .expect(201);
    let f = Filed::from(&filed);
    let case = t.case(&f.id, &c.intake).await;
    assert_eq!(case["channel"], "email");
    assert!(case["respondent"].is_null());

    let fields = t
        .refused(
            &f.id,
            "accept",
            &c.intake,
            json!({"category": "refunds-returns"}),
            422,
        )
        .await;
    names(&fields, "respondent");
    assert_eq!(t.case(&f.id, &c.intake).await["status"], "submitted");

    let case = t
        .call(
            "PATCH",
            &format!("/complaints/{}", f.id),
            Some(&c.intake),
            Some(json!({"respondent": {"kind": "merchant", "id": "shop-9", "name": "邮件里的店"},
                        "subject": "改正后的主题", "complainant": {"email": "new.address@example.com"}})),
        )
        .await
        .expect(200);
    assert_eq!(case["respondent"]["id"], "shop-9");
    assert_eq!(case["channel"], "email", "the channel is kept");
    let ev = events(&case, "record_updated");
    assert_eq!(ev.len(), 1);
    let previous = &ev[0]["data"]["previous"];
    assert!(previous["respondent"].is_null());
    assert_eq!(previous["subject"], "申请退款被拒绝");
    // Old contact values are personal data: only the fact of a change is journaled.
    assert_eq!(previous["complainant"]["email"], "(changed)");
    assert!(previous["complainant"]["name"].is_null());
    assert!(!ev[0].to_string().contains("zhang1@example.com"));
    assert_eq!(case["complainant"]["email"], "n***@example.com");

    let case = accept(&t, &c.intake, &f, "refunds-returns").await;
    assert_eq!(case["status"], "in_progress");
    assert_eq!(deliveries(&case, "respondent", "new_complaint").len(), 1);
}

// ---- deadlines ----------------------------------------------------------------

async fn a_case_waiting_for_material_lapses_after_its_window() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.filed(1).await;
    let case = t
        .act(
            &f.id,
            "request-info",
            &c.intake,
            json!({"items": ["订单截图"]}),
        )
        .await;
    let window_end = at(&case["supplement_due_at"]);

    advance_to(&t, window_end, -3600).await;
    let tracked = t.track(&f).await;
    assert_eq!(tracked["status"], "needs_info", "not before the deadline");
    assert!(deliveries(&tracked, "complainant", "lapsed").is_empty());

    t.advance(2 * 3600).await;
    let tracked = t.track(&f).await;
    assert_eq!(status_closure(&tracked), (Some("closed"), Some("lapsed")));
    let lapsed = deliveries(&tracked, "complainant", "lapsed");
    assert_eq!(lapsed.len(), 1);
    assert_eq!(lapsed[0]["channel"], "in_app");
    let case = t.case(&f.id, &c.intake).await;
    assert_eq!(events(&case, "lapsed").len(), 1);
    assert_eq!(case["overdue"], false);
    t.track_refused(&f, "supplement", json!({"message": "晚了"}), 409)
        .await;

    // A second sweep changes nothing.
    t.advance(86400).await;
    let case = t.case(&f.id, &c.intake).await;
    assert_eq!(events(&case, "lapsed").len(), 1);
    assert_eq!(deliveries(&case, "complainant", "lapsed").len(), 1);
}

async fn an_unaccepted_case_past_its_deadline_is_overdue_and_flagged_once() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let idle = t.filed(1).await;
    let waiting = t.filed(2).await;
    t.act(
        &waiting.id,
        "request-info",
        &c.intake,
        json!({"items": ["截图"]}),
    )
    .await;
    let busy = t.filed(3).await;
    accept(&t, &c.intake, &busy, "delivery").await;

    let listed = t
        .get("/complaints?overdue=true", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(listed["total"], 0);
    let case = t.case(&idle.id, &c.supervisor).await;
    assert_eq!(case["overdue"], false);
    let acceptance_due = at(&case["acceptance_due_at"]);

    advance_to(&t, acceptance_due, 60).await;
    let case = t.case(&idle.id, &c.supervisor).await;
    assert_eq!(case["status"], "submitted");
    assert_eq!(case["overdue"], true);
    assert_eq!(events(&case, "deadline_missed").len(), 1);
    for other in [&waiting, &busy] {
        assert_eq!(t.case(&other.id, &c.supervisor).await["overdue"], false);
    }
    let listed = t
        .get("/complaints?overdue=true", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["id"], idle.id.as_str());
    assert_eq!(listed["items"][0]["overdue"], true);
    let all = t.get("/complaints", Some(&c.supervisor)).await.expect(200);
    assert_eq!(all["total"], 3);

    // Flagged once, however often the sweep runs.
    t.advance(3600).await;
    t.advance(86400).await;
    let case = t.case(&idle.id, &c.supervisor).await;
    assert_eq!(events(&case, "deadline_missed").len(), 1);
    assert_eq!(
        t.get("/complaints?overdue=true", Some(&c.supervisor))
            .await
            .expect(200)["total"],
        1
    );

    // Acting on it clears the flag.
    let case = accept(&t, &c.intake, &idle, "delivery").await;
    assert_eq!(case["overdue"], false);
    assert_eq!(
        t.get("/complaints?overdue=true", Some(&c.supervisor))
            .await
            .expect(200)["total"],
        0
    );
}

// ---- the answer of every action -----------------------------------------------

async fn every_action_answers_with_the_whole_case() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.filed(1).await;
    let g = t.filed(2).await;

    let mut answers = vec![];
    answers.push(
        t.act(&f.id, "request-info", &c.intake, json!({"items": ["截图"]}))
            .await,
    );
    let tracked = t
        .track_act(&f, "supplement", json!({"message": "已补充"}))
        .await;
    assert_track_shape(&t, &tracked, &f).await;
    answers.push(
        t.call(
            "PATCH",
            &format!("/complaints/{}", f.id),
            Some(&c.intake),
            Some(json!({"demands": "退款并道歉"})),
        )
        .await
        .expect(200),
    );
    answers.push(accept(&t, &c.intake, &f, "delivery").await);
    answers.push(
        t.act(&f.id, "assign", &c.intake, json!({"handler": "handler1"}))
            .await,
    );
    answers.push(
        t.act(
            &f.id,
            "messages",
            &c.handler,
            json!({"audience": "complainant", "body": "收到"}),
        )
        .await,
    );
    answers.push(
        t.act(
            &f.id,
            "notes",
            &c.handler,
            json!({"kind": "investigation", "body": "查了"}),
        )
        .await,
    );
    answers.push(
        t.upload(
            &format!("/complaints/{}/evidence", f.id),
            Some(&c.handler),
            "note.txt",
            b"a note",
        )
        .await
        .expect(200),
    );
    answers.push(
        t.act(&f.id, "links", &c.intake, json!({"other": g.id}))
            .await,
    );
    let due = at(&answers.last().unwrap()["handling_due_at"]) + Duration::days(3);
    answers.push(
        t.act(
            &f.id,
            "extend",
            &c.handler,
            json!({"due_at": rfc(due), "reason": "等待回复"}),
        )
        .await,
    );
    let decided = t.act(&f.id,
        "decide",
        &c.handler,
        json!({"outcome": "settled", "basis": ["协议 1"], "reply": "和解", "actions": ["回访"]}),
    )
    .await;
    let action_id = decided["actions"][0]["id"].as_str().unwrap().to_string();
    answers.push(decided);
    answers.push(
        t.post(
            &format!("/complaints/{}/actions/{action_id}/complete", f.id),
            Some(&c.handler),
            json!({}),
        )
        .await
        .expect(200),
    );
    let tracked = t.track_act(&f, "appeal", json!({"reason": "不满意"})).await;
    assert_track_shape(&t, &tracked, &f).await;
    answers.push(
        t.act(
            &f.id,
            "review",
            &c.reviewer,
            json!({"result": "upheld", "basis": ["协议 1"], "reply": "维持"}),
        )
        .await,
    );
    let tracked = t.track_act(&f, "feedback", json!({"score": 5})).await;
    assert_track_shape(&t, &tracked, &f).await;
    answers.push(
        t.act(
            &g.id,
            "reject",
            &c.intake,
            json!({"reason": "r", "guidance": "g"}),
        )
        .await,
    );

    let statuses: Vec<&str> = answers
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "needs_info",
            "submitted",
            "in_progress",
            "in_progress",
            "in_progress",
            "in_progress",
            "in_progress",
            "in_progress",
            "in_progress",
            "resolved",
            "resolved",
            "closed",
            "closed",
        ]
    );
    for a in &answers {
        assert_staff_shape(&t, a, &c.supervisor).await;
    }
    // Each answer is the case right after its action (not a stale copy).
    let versions: Vec<i64> = answers
        .iter()
        .take(12)
        .map(|a| a["version"].as_i64().unwrap())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
}

tests![
    material_is_requested_once_with_every_item_and_the_supplement_restarts_acceptance,
    a_refusal_carries_a_reason_and_guidance_to_the_tracking_page,
    acceptance_checks_category_and_department_and_routes_by_category,
    assignment_goes_to_a_handler_of_the_department_and_handlers_take_only_free_cases,
    messages_reach_their_audience_each_with_a_delivery,
    notes_record_the_investigation_by_kind_and_stay_internal,
    an_extension_needs_a_reason_and_a_later_date_and_sends_a_progress_notice,
    a_decision_needs_outcome_basis_and_reply_and_tracks_its_orders,
    an_appeal_comes_after_a_decision_once_and_within_the_window,
    the_reviewer_is_never_the_decider_and_ranks_above_or_is_independent,
    the_complainant_withdraws_before_a_result_only,
    a_duplicate_merges_into_an_open_original_and_both_numbers_keep_working,
    linked_cases_list_each_other,
    a_sealed_case_refuses_every_change_but_takes_one_rating,
    the_record_is_corrected_before_acceptance_and_the_old_values_kept,
    a_mailed_complaint_without_respondent_is_completed_before_acceptance,
    a_case_waiting_for_material_lapses_after_its_window,
    an_unaccepted_case_past_its_deadline_is_overdue_and_flagged_once,
    every_action_answers_with_the_whole_case,
];
