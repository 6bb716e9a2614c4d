//! The rules of SPEC §3 through HTTP: each transition, and each refusal
//! with its status (409 wrong state, 403 wrong person, 422 bad fields).

use serde_json::{Value, json};

use crate::harness::*;

struct Filed {
    id: String,
    no: String,
    token: String,
}

async fn filed(t: &TestApp, n: u32) -> Filed {
    let f = t.file(complaint(n)).await;
    Filed {
        id: f["id"].as_str().unwrap().into(),
        no: f["tracking_no"].as_str().unwrap().into(),
        token: f["access_token"].as_str().unwrap().into(),
    }
}

fn decision() -> Value {
    json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将全额退款。"})
}

async fn accepted(t: &TestApp, c: &Cast, n: u32) -> Filed {
    let f = filed(t, n).await;
    t.post(
        &format!("/complaints/{}/accept", f.id),
        Some(&c.intake),
        json!({"category": "refunds-returns"}),
    )
    .await
    .expect(200);
    f
}

async fn decided(t: &TestApp, c: &Cast, n: u32) -> Filed {
    let f = accepted(t, c, n).await;
    t.post(
        &format!("/complaints/{}/decide", f.id),
        Some(&c.handler),
        decision(),
    )
    .await
    .expect(200);
    f
}

fn delivery_kinds(case: &Value) -> Vec<String> {
    case["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["notice"].as_str().unwrap().to_string())
        .collect()
}

fn event_kinds(case: &Value) -> Vec<String> {
    case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn material_is_requested_once_and_the_supplement_restarts_acceptance() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = filed(&t, 1).await;
    let before = t
        .get(&format!("/complaints/{}", f.id), Some(&c.intake))
        .await
        .expect(200);

    let fields = t
        .post(
            &format!("/complaints/{}/request-info", f.id),
            Some(&c.intake),
            json!({}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("items").is_some());

    let case = t
        .post(
            &format!("/complaints/{}/request-info", f.id),
            Some(&c.intake),
            json!({"items": ["订单截图", "聊天记录"]}),
        )
        .await
        .expect(200);
    assert_eq!(case["status"], "needs_info");
    assert!(case["supplement_due_at"].is_string());
    assert!(delivery_kinds(&case).contains(&"request_for_material".to_string()));
    assert_eq!(case["deliveries"][1]["channel"], "in_app");

    t.advance(3600).await;
    let tracked = t
        .post(
            &format!("/track/{}/supplement", f.no),
            Some(&f.token),
            json!({"message": "截图已上传"}),
        )
        .await
        .expect(200);
    assert_eq!(tracked["status"], "submitted");
    assert!(
        tracked["acceptance_due_at"].as_str().unwrap()
            >= before["acceptance_due_at"].as_str().unwrap()
    );

    // A second request is refused: material is asked for once.
    t.post(
        &format!("/complaints/{}/request-info", f.id),
        Some(&c.intake),
        json!({"items": ["发票"]}),
    )
    .await
    .expect_error(409);
    // Only intake asks for material.
    let g = filed(&t, 2).await;
    t.post(
        &format!("/complaints/{}/request-info", g.id),
        Some(&c.handler),
        json!({"items": ["x"]}),
    )
    .await
    .expect_error(403);
}

async fn a_refusal_needs_a_reason_and_guidance() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = filed(&t, 1).await;
    let fields = t
        .post(
            &format!("/complaints/{}/reject", f.id),
            Some(&c.intake),
            json!({}),
        )
        .await
        .expect_error(422);
    assert!(
        fields.get("reason").is_some() && fields.get("guidance").is_some(),
        "{fields}"
    );
    let case = t
        .post(
            &format!("/complaints/{}/reject", f.id),
            Some(&c.intake),
            json!({"reason": "不属于受理范围", "guidance": "请拨打12315"}),
        )
        .await
        .expect(200);
    assert_eq!(
        (case["status"].as_str(), case["closure"].as_str()),
        (Some("closed"), Some("rejected"))
    );
    assert!(delivery_kinds(&case).contains(&"refusal".to_string()));
    let tracked = t
        .get(&format!("/track/{}", f.no), Some(&f.token))
        .await
        .expect(200);
    assert_eq!(tracked["rejection"]["guidance"], "请拨打12315");
}

async fn acceptance_routes_by_category_and_counts_its_handling_days() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    t.department("fast-lane", false).await;
    t.category("quick", "fast-lane", Some(3)).await;

    let f = filed(&t, 1).await;
    let fields = t
        .post(
            &format!("/complaints/{}/accept", f.id),
            Some(&c.intake),
            json!({"category": "nope"}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("category").is_some());
    let fields = t
        .post(
            &format!("/complaints/{}/accept", f.id),
            Some(&c.intake),
            json!({"category": "quick", "department": "nope"}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("department").is_some());
    t.post(
        &format!("/complaints/{}/accept", f.id),
        Some(&c.handler),
        json!({"category": "quick"}),
    )
    .await
    .expect_error(403);

    let case = t
        .post(
            &format!("/complaints/{}/accept", f.id),
            Some(&c.intake),
            json!({"category": "quick"}),
        )
        .await
        .expect(200);
    assert_eq!(case["department"], "fast-lane");
    let accepted_at = case["accepted_at"].as_str().unwrap().to_string();
    let due = t
        .get(
            &format!(
                "/calendar/due?from={}&working_days=3",
                accepted_at.replace('+', "%2B")
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        case["handling_due_at"], due["due_at"],
        "handling time of the category"
    );

    // An agent may override the department.
    let g = filed(&t, 2).await;
    let case = t
        .post(
            &format!("/complaints/{}/accept", g.id),
            Some(&c.intake),
            json!({"category": "quick", "department": "customer-service"}),
        )
        .await
        .expect(200);
    assert_eq!(case["department"], "customer-service");
    // Accepting twice: the state no longer allows it.
    t.post(
        &format!("/complaints/{}/accept", g.id),
        Some(&c.intake),
        json!({"category": "quick"}),
    )
    .await
    .expect_error(409);
}

async fn assignment_stays_inside_the_department() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let other = t
        .staff("handler-other", &["handler"], &["trust-safety"], 1)
        .await;
    let _ = other;
    let f = accepted(&t, &c, 1).await;
    let case = t
        .post(
            &format!("/complaints/{}/assign", f.id),
            Some(&c.intake),
            json!({"handler": "handler1"}),
        )
        .await
        .expect(200);
    assert_eq!(case["assignee"], "handler1");
    let fields = t
        .post(
            &format!("/complaints/{}/assign", f.id),
            Some(&c.intake),
            json!({"handler": "handler-other"}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("handler").is_some());
    t.post(
        &format!("/complaints/{}/assign", f.id),
        Some(&c.handler),
        json!({"handler": "handler1"}),
    )
    .await
    .expect_error(403);
    t.post(
        &format!("/complaints/{}/assign", f.id),
        Some(&c.supervisor),
        json!({"handler": "handler1"}),
    )
    .await
    .expect(200);
}

async fn both_sides_are_heard_and_each_sees_only_their_thread() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let key = t.respondent("merchant", "shop-1").await;
    let f = accepted(&t, &c, 1).await;
    for (audience, body) in [
        ("internal", "内部备注"),
        ("complainant", "请提供订单号"),
        ("respondent", "请说明情况"),
    ] {
        t.post(
            &format!("/complaints/{}/messages", f.id),
            Some(&c.handler),
            json!({"audience": audience, "body": body}),
        )
        .await
        .expect(200);
    }
    t.post(
        &format!("/complaints/{}/messages", f.id),
        Some(&c.handler),
        json!({"audience": "everyone", "body": "x"}),
    )
    .await
    .expect_error(422);
    t.post(
        &format!("/track/{}/messages", f.no),
        Some(&f.token),
        json!({"body": "订单号 123"}),
    )
    .await
    .expect(200);
    let r = t
        .post(
            &format!("/respondent/complaints/{}/messages", f.id),
            Some(&key),
            json!({"body": "已发货"}),
        )
        .await
        .expect(200);
    let r_bodies: Vec<&str> = r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(r_bodies, vec!["请说明情况", "已发货"]);

    let tracked = t
        .get(&format!("/track/{}", f.no), Some(&f.token))
        .await
        .expect(200);
    let bodies: Vec<&str> = tracked["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["请提供订单号", "订单号 123"]);

    let case = t
        .get(&format!("/complaints/{}", f.id), Some(&c.handler))
        .await
        .expect(200);
    assert_eq!(case["messages"].as_array().unwrap().len(), 5);
    let deliveries = delivery_kinds(&case);
    assert!(
        deliveries.iter().filter(|k| *k == "message").count() >= 2,
        "{deliveries:?}"
    );

    let case = t
        .post(
            &format!("/complaints/{}/notes", f.id),
            Some(&c.handler),
            json!({"kind": "investigation", "body": "调取了物流记录"}),
        )
        .await
        .expect(200);
    assert_eq!(case["notes"][0]["kind"], "investigation");
    t.post(
        &format!("/complaints/{}/notes", f.id),
        Some(&c.handler),
        json!({"kind": "gossip", "body": "x"}),
    )
    .await
    .expect_error(422);
}

async fn an_extension_needs_a_reason_and_sends_a_progress_notice() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = accepted(&t, &c, 1).await;
    let case = t
        .get(&format!("/complaints/{}", f.id), Some(&c.handler))
        .await
        .expect(200);
    let due = case["handling_due_at"].as_str().unwrap().to_string();
    let later = (chrono::DateTime::parse_from_rfc3339(&due).unwrap() + chrono::Duration::days(10))
        .to_rfc3339();
    let earlier = (chrono::DateTime::parse_from_rfc3339(&due).unwrap() - chrono::Duration::days(1))
        .to_rfc3339();

    let fields = t
        .post(
            &format!("/complaints/{}/extend", f.id),
            Some(&c.handler),
            json!({"due_at": later}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("reason").is_some());
    let fields = t
        .post(
            &format!("/complaints/{}/extend", f.id),
            Some(&c.handler),
            json!({"due_at": earlier, "reason": "r"}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("due_at").is_some());
    t.post(
        &format!("/complaints/{}/extend", f.id),
        Some(&c.intake),
        json!({"due_at": later, "reason": "等待检测"}),
    )
    .await
    .expect_error(403);
    let case = t
        .post(
            &format!("/complaints/{}/extend", f.id),
            Some(&c.handler),
            json!({"due_at": later, "reason": "等待检测"}),
        )
        .await
        .expect(200);
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(case["handling_due_at"].as_str().unwrap()).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&later).unwrap()
    );
    assert!(delivery_kinds(&case).contains(&"progress".to_string()));
}

async fn a_decision_cites_a_basis_and_tracks_its_actions() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = accepted(&t, &c, 1).await;
    let path = format!("/complaints/{}/decide", f.id);
    let fields = t
        .post(
            &path,
            Some(&c.handler),
            json!({"outcome": "won", "basis": [], "reply": ""}),
        )
        .await
        .expect_error(422);
    for f in ["outcome", "basis", "reply"] {
        assert!(fields.get(f).is_some(), "{f} in {fields}");
    }
    t.post(&path, Some(&c.intake), decision())
        .await
        .expect_error(403);
    let other = t
        .staff("handler-other", &["handler"], &["trust-safety"], 1)
        .await;
    let refused = t.post(&path, Some(&other), decision()).await;
    assert!(
        matches!(refused.status.as_u16(), 403 | 404),
        "{}",
        refused.body
    );

    let case = t
        .post(&path, Some(&c.handler), json!({
            "outcome": "partially_upheld", "basis": ["平台服务协议 5.2", "消费者权益保护法 第24条"], "reply": "部分支持。",
            "remedies": [{"kind": "refund", "amount": 50.5}], "sanctions": ["warning"],
            "actions": [{"description": "商家整改商品页面"}, {"description": "复查", "owner": "super1"}]}))
        .await
        .expect(200);
    assert_eq!(case["status"], "resolved");
    assert_eq!(case["decision"]["basis"].as_array().unwrap().len(), 2);
    assert_eq!(case["decision"]["remedies"][0]["amount"], 50.5);
    assert_eq!(case["decision"]["sanctions"][0]["kind"], "warning");
    assert_eq!(
        case["actions"][0]["owner"], "handler1",
        "owner defaults to the decider"
    );
    assert_eq!(case["actions"][1]["owner"], "super1");
    assert!(case["actions"][0]["due_at"].is_string());
    assert!(delivery_kinds(&case).contains(&"result".to_string()));
    t.post(&path, Some(&c.handler), decision())
        .await
        .expect_error(409);

    let action = case["actions"][0]["id"].as_str().unwrap();
    let done = format!("/complaints/{}/actions/{action}/complete", f.id);
    let case = t
        .post(&done, Some(&c.handler), json!({"note": "已整改"}))
        .await
        .expect(200);
    assert!(case["actions"][0]["done_at"].is_string());
    t.post(&done, Some(&c.handler), json!({"note": "again"}))
        .await
        .expect_error(409);

    let tracked = t
        .get(&format!("/track/{}", f.no), Some(&f.token))
        .await
        .expect(200);
    assert_eq!(tracked["decision"]["outcome"], "partially_upheld");
    assert_eq!(tracked["decision"]["reply"], "部分支持。");
    assert_eq!(tracked["actions"]["appeal"], true);
}

async fn one_appeal_within_the_window_then_the_case_closes_by_itself() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    // Appeal before a result: refused.
    let early = accepted(&t, &c, 1).await;
    t.post(
        &format!("/track/{}/appeal", early.no),
        Some(&early.token),
        json!({"reason": "x"}),
    )
    .await
    .expect_error(409);

    let f = decided(&t, &c, 2).await;
    let fields = t
        .post(
            &format!("/track/{}/appeal", f.no),
            Some(&f.token),
            json!({}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("reason").is_some());
    let tracked = t
        .post(
            &format!("/track/{}/appeal", f.no),
            Some(&f.token),
            json!({"reason": "退款金额不足"}),
        )
        .await
        .expect(200);
    assert_eq!(tracked["status"], "under_review");
    t.post(
        &format!("/track/{}/appeal", f.no),
        Some(&f.token),
        json!({"reason": "again"}),
    )
    .await
    .expect_error(409);

    // Another case: the window (15 calendar days) ends and the sweep closes it.
    let g = decided(&t, &c, 3).await;
    let sweep = t.advance(16 * 86400).await;
    assert!(sweep["sweep"]["closed"].as_u64().unwrap() >= 1, "{sweep}");
    let tracked = t
        .get(&format!("/track/{}", g.no), Some(&g.token))
        .await
        .expect(200);
    assert_eq!(
        (tracked["status"].as_str(), tracked["closure"].as_str()),
        (Some("closed"), Some("resolved"))
    );
    t.post(
        &format!("/track/{}/appeal", g.no),
        Some(&g.token),
        json!({"reason": "too late"}),
    )
    .await
    .expect_error(409);
}

async fn the_reviewer_is_independent_of_the_decision() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    // The decider also holds the reviewer role: still may not review.
    let decider = t
        .staff("both", &["handler", "reviewer"], &["customer-service"], 5)
        .await;
    let same_level = t
        .staff("peer", &["reviewer"], &["customer-service"], 5)
        .await;
    t.department("ombuds", true).await;
    let independent = t.staff("ombud", &["reviewer"], &["ombuds"], 1).await;
    let review = json!({"result": "upheld", "basis": ["协议 5.2"], "reply": "维持。"});

    let f = accepted(&t, &c, 1).await;
    t.post(
        &format!("/complaints/{}/decide", f.id),
        Some(&decider),
        decision(),
    )
    .await
    .expect(200);
    t.post(
        &format!("/track/{}/appeal", f.no),
        Some(&f.token),
        json!({"reason": "不服"}),
    )
    .await
    .expect(200);
    let path = format!("/complaints/{}/review", f.id);
    t.post(&path, Some(&decider), review.clone())
        .await
        .expect_error(403);
    t.post(&path, Some(&same_level), review.clone())
        .await
        .expect_error(403);
    t.post(&path, Some(&c.reviewer), review.clone())
        .await
        .expect_error(403); // level 3 < 5
    let fields = t
        .post(
            &path,
            Some(&independent),
            json!({"result": "modified", "basis": ["协议"], "reply": "改判"}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("outcome").is_some());
    let case = t
        .post(&path, Some(&independent), json!({"result": "modified", "outcome": "settled", "basis": ["协议"], "reply": "改判为和解"}))
        .await
        .expect(200);
    assert_eq!(
        (case["status"].as_str(), case["closure"].as_str()),
        (Some("closed"), Some("reviewed"))
    );
    let tracked = t
        .get(&format!("/track/{}", f.no), Some(&f.token))
        .await
        .expect(200);
    assert!(
        tracked["review"]["outside_remedies"]
            .as_str()
            .unwrap()
            .contains("12315")
    );

    // The final result cannot be reviewed again.
    t.post(&path, Some(&independent), review)
        .await
        .expect_error(409);
}

async fn withdrawal_is_possible_only_before_a_result() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let a = filed(&t, 1).await;
    let b = filed(&t, 2).await;
    t.post(
        &format!("/complaints/{}/request-info", b.id),
        Some(&c.intake),
        json!({"items": ["x"]}),
    )
    .await
    .expect(200);
    let d = accepted(&t, &c, 3).await;
    for f in [&a, &b, &d] {
        let tracked = t
            .post(
                &format!("/track/{}/withdraw", f.no),
                Some(&f.token),
                json!({"reason": "已和解"}),
            )
            .await
            .expect(200);
        assert_eq!(tracked["closure"], "withdrawn");
    }
    let e = decided(&t, &c, 4).await;
    t.post(
        &format!("/track/{}/withdraw", e.no),
        Some(&e.token),
        json!({}),
    )
    .await
    .expect_error(409);
}

async fn a_duplicate_merges_into_its_original_and_both_numbers_keep_working() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let original = filed(&t, 1).await;
    let dup = t.file(complaint(1)).await;
    assert_eq!(t.dup_flag(&dup).await, true);
    let dup = Filed {
        id: dup["id"].as_str().unwrap().into(),
        no: dup["tracking_no"].as_str().unwrap().into(),
        token: dup["access_token"].as_str().unwrap().into(),
    };
    t.post(
        &format!("/track/{}/messages", dup.no),
        Some(&dup.token),
        json!({"body": "补充：快递单号 SF123"}),
    )
    .await
    .expect(200);
    let receipt = b"receipt of the duplicate, order 8812";
    let sha = t
        .upload(
            &format!("/track/{}/evidence", dup.no),
            Some(&dup.token),
            "收据.txt",
            receipt,
        )
        .await
        .expect(200)["evidence"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let merged = t
        .post(
            &format!("/complaints/{}/merge", dup.id),
            Some(&c.intake),
            json!({"into": original.no}),
        )
        .await
        .expect(200);
    assert_eq!(
        (merged["status"].as_str(), merged["closure"].as_str()),
        (Some("closed"), Some("merged"))
    );
    let orig = t
        .get(&format!("/complaints/{}", original.id), Some(&c.intake))
        .await
        .expect(200);
    let moved = orig["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == "补充：快递单号 SF123")
        .expect("moved");
    assert_eq!(moved["from_case"], dup.id.as_str());
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
    let tracked = t
        .get(&format!("/track/{}", dup.no), Some(&dup.token))
        .await
        .expect(200);
    assert_eq!(tracked["merged_into"], original.no.as_str());
    t.get(&format!("/track/{}", original.no), Some(&original.token))
        .await
        .expect(200);

    // Into a closed case: refused.
    let third = filed(&t, 3).await;
    t.post(
        &format!("/complaints/{}/merge", third.id),
        Some(&c.intake),
        json!({"into": dup.id}),
    )
    .await
    .expect_error(409);
    // Links go both ways.
    let case = t
        .post(
            &format!("/complaints/{}/links", third.id),
            Some(&c.intake),
            json!({"other": original.id}),
        )
        .await
        .expect(200);
    assert_eq!(case["linked_cases"][0], original.id.as_str());
    let orig = t
        .get(&format!("/complaints/{}", original.id), Some(&c.intake))
        .await
        .expect(200);
    assert_eq!(orig["linked_cases"][0], third.id.as_str());
}

async fn a_sealed_case_refuses_changes_but_takes_a_rating() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = filed(&t, 1).await;
    t.post(
        &format!("/complaints/{}/reject", f.id),
        Some(&c.intake),
        json!({"reason": "r", "guidance": "g"}),
    )
    .await
    .expect(200);
    let id = &f.id;
    t.post(
        &format!("/complaints/{id}/messages"),
        Some(&c.intake),
        json!({"audience": "internal", "body": "x"}),
    )
    .await
    .expect_error(409);
    t.post(
        &format!("/complaints/{id}/notes"),
        Some(&c.intake),
        json!({"kind": "note", "body": "x"}),
    )
    .await
    .expect_error(409);
    t.post(
        &format!("/complaints/{id}/accept"),
        Some(&c.intake),
        json!({"category": "delivery"}),
    )
    .await
    .expect_error(409);
    t.upload(
        &format!("/complaints/{id}/evidence"),
        Some(&c.intake),
        "a.txt",
        b"late",
    )
    .await
    .expect_error(409);
    t.post(
        &format!("/track/{}/messages", f.no),
        Some(&f.token),
        json!({"body": "x"}),
    )
    .await
    .expect_error(409);
    t.call(
        "PATCH",
        &format!("/complaints/{id}"),
        Some(&c.intake),
        Some(json!({"subject": "new"})),
    )
    .await
    .expect_error(409);

    let fields = t
        .post(
            &format!("/track/{}/feedback", f.no),
            Some(&f.token),
            json!({"score": 9}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("score").is_some());
    let tracked = t
        .post(
            &format!("/track/{}/feedback", f.no),
            Some(&f.token),
            json!({"score": 4, "comment": "很快"}),
        )
        .await
        .expect(200);
    assert_eq!(tracked["feedback"]["score"], 4);
    t.post(
        &format!("/track/{}/feedback", f.no),
        Some(&f.token),
        json!({"score": 5}),
    )
    .await
    .expect_error(409);
}

async fn the_record_is_completed_before_acceptance_and_the_old_values_kept() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let mut body = complaint(1);
    body["channel"] = json!("email");
    body.as_object_mut().unwrap().remove("respondent");
    let f = t
        .post("/complaints", Some(&c.intake), body)
        .await
        .expect(201);
    let id = f["id"].as_str().unwrap();
    let fields = t
        .post(
            &format!("/complaints/{id}/accept"),
            Some(&c.intake),
            json!({"category": "delivery"}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("respondent").is_some());
    let fields = t
        .call(
            "PATCH",
            &format!("/complaints/{id}"),
            Some(&c.intake),
            Some(json!({"respondent": {"kind": "alien", "id": "x"}})),
        )
        .await
        .expect_error(422);
    assert!(fields.get("respondent.kind").is_some());
    t.call(
        "PATCH",
        &format!("/complaints/{id}"),
        Some(&c.handler),
        Some(json!({"subject": "x"})),
    )
    .await
    .expect_error(403);
    let case = t
        .call("PATCH", &format!("/complaints/{id}"), Some(&c.intake),
              Some(json!({"respondent": {"kind": "merchant", "id": "shop-9", "name": "九号店"}, "subject": "改正后的主题",
                           "complainant": {"email": "new.address@example.com"}})))
        .await
        .expect(200);
    assert_eq!(case["respondent"]["id"], "shop-9");
    let event = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "record_updated")
        .expect("event");
    assert_eq!(event["data"]["previous"]["subject"], "申请退款被拒绝");
    assert!(event["data"]["previous"]["respondent"].is_null());
    // Old contact values are personal data: only the fact of a change is journaled.
    assert_eq!(
        event["data"]["previous"]["complainant"]["email"],
        "(changed)"
    );
    assert!(event["data"]["previous"]["complainant"]["name"].is_null());
    assert!(!event.to_string().contains("zhang1@example.com"));
    assert_eq!(case["complainant"]["email"], "n***@example.com");
    t.post(
        &format!("/complaints/{id}/accept"),
        Some(&c.intake),
        json!({"category": "delivery"}),
    )
    .await
    .expect(200);
    t.call(
        "PATCH",
        &format!("/complaints/{id}"),
        Some(&c.intake),
        Some(json!({"subject": "again"})),
    )
    .await
    .expect_error(409);
}

async fn deadlines_lapse_close_and_flag_with_the_test_clock() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let waiting = filed(&t, 1).await;
    t.post(
        &format!("/complaints/{}/request-info", waiting.id),
        Some(&c.intake),
        json!({"items": ["截图"]}),
    )
    .await
    .expect(200);
    let idle = filed(&t, 2).await;

    let listed = t
        .get("/complaints?overdue=true", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(listed["total"], 0);

    // Past every acceptance deadline (1 working day) and the supplement window (5).
    t.advance(12 * 86400).await;
    let tracked = t
        .get(&format!("/track/{}", waiting.no), Some(&waiting.token))
        .await
        .expect(200);
    assert_eq!(
        (tracked["status"].as_str(), tracked["closure"].as_str()),
        (Some("closed"), Some("lapsed"))
    );
    let kinds: Vec<&str> = tracked["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["notice"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"lapsed"), "{kinds:?}");

    let case = t
        .get(&format!("/complaints/{}", idle.id), Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(case["overdue"], true);
    let listed = t
        .get("/complaints?overdue=true", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["id"], idle.id.as_str());
    assert_eq!(listed["items"][0]["overdue"], true);

    // Flagged once, however often the sweep runs.
    t.advance(86400).await;
    let case = t
        .get(&format!("/complaints/{}", idle.id), Some(&c.supervisor))
        .await
        .expect(200);
    let missed = event_kinds(&case)
        .iter()
        .filter(|k| *k == "deadline_missed")
        .count();
    assert_eq!(missed, 1);
}

tests![
    material_is_requested_once_and_the_supplement_restarts_acceptance,
    a_refusal_needs_a_reason_and_guidance,
    acceptance_routes_by_category_and_counts_its_handling_days,
    assignment_stays_inside_the_department,
    both_sides_are_heard_and_each_sees_only_their_thread,
    an_extension_needs_a_reason_and_sends_a_progress_notice,
    a_decision_cites_a_basis_and_tracks_its_actions,
    one_appeal_within_the_window_then_the_case_closes_by_itself,
    the_reviewer_is_independent_of_the_decision,
    withdrawal_is_possible_only_before_a_result,
    a_duplicate_merges_into_its_original_and_both_numbers_keep_working,
    a_sealed_case_refuses_changes_but_takes_a_rating,
    the_record_is_completed_before_acceptance_and_the_old_values_kept,
    deadlines_lapse_close_and_flag_with_the_test_clock,
];
