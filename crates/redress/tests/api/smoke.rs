//! The whole process once, start to end.

use serde_json::json;

use crate::harness::*;

async fn a_complaint_goes_from_filing_to_review() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let filed = t.file(complaint(1)).await;
    assert_eq!(filed["status"], "submitted");
    let id = filed["id"].as_str().unwrap();
    let no = filed["tracking_no"].as_str().unwrap();
    let token = filed["access_token"].as_str().unwrap();

    let case = t
        .act(
            &id,
            "accept",
            &c.intake,
            json!({"category": "refunds-returns"}),
        )
        .await;
    assert_eq!(case["status"], "in_progress");
    assert_eq!(case["department"], "customer-service");
    assert!(case["handling_due_at"].is_string());

    let case = t.act(&id, "decide", &c.handler, json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将全额退款。", "remedies": ["refund"]})).await;
    assert_eq!(case["status"], "resolved");
    assert!(case["appeal_due_at"].is_string());

    let tracked = t
        .post(
            &format!("/track/{no}/appeal"),
            Some(token),
            json!({"reason": "金额不对"}),
        )
        .await
        .expect(200);
    assert_eq!(tracked["status"], "under_review");

    let case = t
        .act(
            &id,
            "review",
            &c.reviewer,
            json!({"result": "upheld", "basis": ["平台服务协议 5.2"], "reply": "维持原结果。"}),
        )
        .await;
    assert_eq!(case["status"], "closed");
    assert_eq!(case["closure"], "reviewed");

    let audit = t
        .get("/audit/verify", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(audit["ok"], true);
    assert!(audit["events_checked"].as_u64().unwrap() > 5);
}

tests![a_complaint_goes_from_filing_to_review,];
