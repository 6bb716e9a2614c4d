//! Who sees what (SPEC §2, §9): departments, reviewers, respondents,
//! complainants, API keys; contact data encrypted at rest and masked.

use serde_json::{Value, json};

use crate::harness::*;

async fn file_and_accept(t: &TestApp, intake: &str, n: u32, category: &str) -> Value {
    let f = t.file(complaint(n)).await;
    let id = f["id"].as_str().unwrap();
    t.act(&id, "accept", intake, json!({"category": category}))
        .await;
    f
}

async fn handlers_see_only_their_departments() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let safety = t.staff("safety1", &["handler"], &["trust-safety"], 1).await;
    let mine = file_and_accept(&t, &c.intake, 1, "refunds-returns").await; // customer-service
    let theirs = file_and_accept(&t, &c.intake, 2, "account-security").await; // trust-safety
    t.file(complaint(3)).await; // not yet routed

    t.get(
        &format!("/complaints/{}", theirs["id"].as_str().unwrap()),
        Some(&c.handler),
    )
    .await
    .expect_error(404);
    t.get(
        &format!("/complaints/{}", mine["id"].as_str().unwrap()),
        Some(&safety),
    )
    .await
    .expect_error(404);
    t.case(&mine["id"].as_str().unwrap(), &c.handler).await;

    let list = t.get("/complaints", Some(&c.handler)).await.expect(200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], mine["id"]);
    let list = t.get("/complaints", Some(&safety)).await.expect(200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], theirs["id"]);
    for who in [&c.intake, &c.supervisor] {
        let list = t.get("/complaints", Some(who)).await.expect(200);
        assert_eq!(list["total"], 3);
    }
    // `admin` alone manages settings and does not read cases.
    t.get("/complaints", Some(&t.admin)).await.expect_error(403);
    t.get(
        &format!("/complaints/{}", mine["id"].as_str().unwrap()),
        Some(&t.admin),
    )
    .await
    .expect_error(403);
}

async fn reviewers_see_the_appeals_they_may_decide() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let senior = t.staff("senior", &["handler"], &["trust-safety"], 9).await;
    let outsider_reviewer = t.staff("rev-out", &["reviewer"], &[], 4).await;
    let decide = json!({"outcome": "upheld", "basis": ["b"], "reply": "r"});

    let low = file_and_accept(&t, &c.intake, 1, "account-security").await;
    let low_id = low["id"].as_str().unwrap();
    t.refused(&low_id, "decide", &c.handler, decide.clone(), 403)
        .await;
    let low_handler = t
        .staff("safety-low", &["handler"], &["trust-safety"], 1)
        .await;
    t.act(&low_id, "decide", &low_handler, decide.clone()).await;
    t.post(
        &format!("/track/{}/appeal", low["tracking_no"].as_str().unwrap()),
        Some(low["access_token"].as_str().unwrap()),
        json!({"reason": "no"}),
    )
    .await
    .expect(200);

    let high = file_and_accept(&t, &c.intake, 2, "account-security").await;
    let high_id = high["id"].as_str().unwrap();
    t.act(&high_id, "decide", &senior, decide).await;
    t.post(
        &format!("/track/{}/appeal", high["tracking_no"].as_str().unwrap()),
        Some(high["access_token"].as_str().unwrap()),
        json!({"reason": "no"}),
    )
    .await
    .expect(200);

    let list = t
        .get("/complaints", Some(&outsider_reviewer))
        .await
        .expect(200);
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["id"], low_id);
    t.case(&low_id, &outsider_reviewer).await;
    t.get(&format!("/complaints/{high_id}"), Some(&outsider_reviewer))
        .await
        .expect_error(404);
}

async fn respondents_see_their_cases_with_contact_data_masked() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let key = t.respondent("merchant", "shop-1").await;
    let other_key = t.respondent("merchant", "shop-2").await;
    let f = file_and_accept(&t, &c.intake, 7, "refunds-returns").await;
    let mut elsewhere = complaint(8);
    elsewhere["respondent"] = json!({"kind": "merchant", "id": "shop-2"});
    let g = t.file(elsewhere).await;

    let a = t.get("/respondent/complaints", Some(&key)).await;
    let raw = String::from_utf8(a.bytes.clone()).unwrap();
    let list = a.expect(200);
    assert_eq!(list["total"], 1);
    let item = &list["items"][0];
    assert_eq!(item["id"], f["id"]);
    assert_eq!(item["tracking_no"], f["tracking_no"]);
    assert_eq!(item["complainant"]["email"], "z***@example.com");
    assert_eq!(item["complainant"]["phone"], "138****5678");
    assert!(
        item["complainant"]["name"]
            .as_str()
            .unwrap()
            .starts_with("张*"),
        "{item}"
    );
    assert!(
        !raw.contains("zhang7@example.com") && !raw.contains("13812345678"),
        "{raw}"
    );

    t.post(
        &format!(
            "/respondent/complaints/{}/messages",
            g["id"].as_str().unwrap()
        ),
        Some(&key),
        json!({"body": "x"}),
    )
    .await
    .expect_error(404);
    let mine = t
        .get("/respondent/complaints", Some(&other_key))
        .await
        .expect(200);
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["id"], g["id"]);

    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0u8; 64]].concat();
    let r = t
        .upload(
            &format!(
                "/respondent/complaints/{}/evidence",
                f["id"].as_str().unwrap()
            ),
            Some(&key),
            "发货单.png",
            &png,
        )
        .await
        .expect(200);
    assert_eq!(r["evidence"][0]["filename"], "发货单.png");
    // Respondents cannot use staff calls.
    t.get("/complaints", Some(&key)).await.expect_error(403);
}

async fn complainants_reach_only_their_own_case() {
    let t = TestApp::new().await;
    let a = t.file(complaint(1)).await;
    let b = t.file(complaint(2)).await;
    let no = a["tracking_no"].as_str().unwrap();
    t.get(&format!("/track/{no}"), None).await.expect_error(401);
    t.get(&format!("/track/{no}"), Some("rdt_wrong"))
        .await
        .expect_error(401);
    t.get(
        &format!("/track/{no}"),
        Some(b["access_token"].as_str().unwrap()),
    )
    .await
    .expect_error(401);
    t.get(
        "/track/RD000000-NOPE00",
        Some(a["access_token"].as_str().unwrap()),
    )
    .await
    .expect_error(401);
    let view = t
        .get(
            &format!("/track/{no}"),
            Some(a["access_token"].as_str().unwrap()),
        )
        .await
        .expect(200);
    assert_eq!(view["tracking_no"], no);
    assert_eq!(view["record"]["complainant"]["email"], "zhang1@example.com");
    assert!(
        view.get("events").is_none() && view.get("notes").is_none(),
        "no internal records on the tracking page"
    );
}

async fn api_keys_file_with_their_scope_only() {
    let t = TestApp::new().await;
    let intake = t
        .post(
            "/admin/api-keys",
            Some(&t.compliance().await),
            json!({"name": "chat", "scopes": ["intake"]}),
        )
        .await
        .expect(201);
    let read = t
        .post(
            "/admin/api-keys",
            Some(&t.compliance().await),
            json!({"name": "bi", "scopes": ["read"]}),
        )
        .await
        .expect(201);
    let fields = t
        .post(
            "/admin/api-keys",
            Some(&t.compliance().await),
            json!({"name": "x", "scopes": ["root"]}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("scopes[0]").is_some());
    let (ik, rk) = (
        intake["api_key"].as_str().unwrap(),
        read["api_key"].as_str().unwrap(),
    );

    let mut body = complaint(1);
    body["channel"] = json!("chat");
    let filed = t
        .post("/complaints", Some(ik), body.clone())
        .await
        .expect(201);
    t.post("/complaints", Some(rk), body.clone())
        .await
        .expect_error(403);
    body["channel"] = json!("phone");
    t.post("/complaints", Some(ik), body.clone())
        .await
        .expect_error(422);
    t.post("/complaints", None, body).await.expect_error(422);
    let list = t.get("/complaints", Some(rk)).await.expect(200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["channel"], "chat");
    assert_eq!(list["items"][0]["id"], filed["id"]);
    let case = t.case(&filed["id"].as_str().unwrap(), rk).await;
    assert_eq!(
        case["complainant"]["email"], "z***@example.com",
        "keys read contact data masked"
    );
    t.get(
        &format!("/complaints/{}", filed["id"].as_str().unwrap()),
        Some(ik),
    )
    .await
    .expect_error(403);
    t.get("/complaints", None).await.expect_error(401);
    t.get("/complaints", Some("rds_forged"))
        .await
        .expect_error(401);
    t.get("/complaints", Some("garbage"))
        .await
        .expect_error(401);
}

async fn contact_data_is_sealed_at_rest_and_every_clear_view_is_logged() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let mut body = complaint(1);
    body["complainant"]["email"] = json!("unique.person.4711@example.org");
    body["complainant"]["phone"] = json!("13987654321");
    body["complainant"]["name"] = json!("Wolfgang Privatus");
    body["complainant"]["user_id"] = json!("uid-secret-0815");
    let f = t.file(body).await;
    let id = f["id"].as_str().unwrap();
    // An action answer shows contact data masked.
    let masked = t
        .act(
            &id,
            "notes",
            &c.intake,
            json!({"kind": "note", "body": "n"}),
        )
        .await;
    assert_eq!(masked["complainant"]["phone"], "139****4321");
    // A read shows it in the clear, and is logged.
    let case = t.case(&id, &c.intake).await;
    assert_eq!(
        case["complainant"]["email"],
        "unique.person.4711@example.org"
    );
    assert!(
        case["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "personal_data_viewed" && e["actor"] == "staff:intake1")
    );

    let bytes = t.database_bytes();
    assert!(bytes.len() > 10_000);
    let hay = String::from_utf8_lossy(&bytes);
    assert!(
        !hay.contains("unique.person.4711"),
        "email in the clear in the database"
    );
    assert!(
        !hay.contains("13987654321"),
        "phone in the clear in the database"
    );
    assert!(
        !hay.contains("Privatus"),
        "name in the clear in the database"
    );
    assert!(!hay.contains("uid-secret-0815"), "user id in the clear");
}

async fn login_does_not_tell_unknown_users_from_wrong_passwords() {
    let t = TestApp::new().await;
    t.staff("someone", &["intake"], &[], 1).await;
    let a = t
        .post(
            "/auth/login",
            None,
            json!({"username": "someone", "password": "wrong-password"}),
        )
        .await;
    let b = t
        .post(
            "/auth/login",
            None,
            json!({"username": "nobody", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(a.status.as_u16(), 401);
    assert_eq!(a.body, b.body);
    let ok = t
        .post(
            "/auth/login",
            None,
            json!({"username": "someone", "password": PASSWORD}),
        )
        .await;
    let cookie = ok
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite"),
        "{cookie}"
    );
    let token = ok.expect(200)["token"].as_str().unwrap().to_string();
    t.call("POST", "/auth/logout", Some(&token), None).await;
    t.get("/complaints", Some(&token)).await.expect_error(401);
}

tests![
    handlers_see_only_their_departments,
    reviewers_see_the_appeals_they_may_decide,
    respondents_see_their_cases_with_contact_data_masked,
    complainants_reach_only_their_own_case,
    api_keys_file_with_their_scope_only,
    contact_data_is_sealed_at_rest_and_every_clear_view_is_logged,
    login_does_not_tell_unknown_users_from_wrong_passwords,
];
