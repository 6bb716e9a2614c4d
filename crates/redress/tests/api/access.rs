//! Access rules end to end (SPEC §2, §9, §11): department scoping, the
//! reviewer's view, the respondent portal, API keys and their scopes,
//! complainant tokens, login, and personal data at rest.

use serde_json::{Value, json};

use crate::harness::*;

async fn total(t: &TestApp, path: &str, token: &str) -> u64 {
    let list = t.get(path, Some(token)).await.expect(200);
    list["total"].as_u64().unwrap()
}

fn ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| s(&i["id"]).to_string())
        .collect();
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// An action refused to someone who may not see or act on the case.
#[track_caller]
fn refused(a: Answer) {
    assert!(
        matches!(a.status.as_u16(), 403 | 404),
        "expected 403 or 404, got {}: {}",
        a.status,
        a.body
    );
    assert!(a.body["error"]["code"].is_string(), "{}", a.body);
}

/// Files complaint `n` and accepts it into `category`; the registration answer.
async fn routed(t: &TestApp, intake: &str, n: u32, category: &str) -> Value {
    let f = t.file(complaint(n)).await;
    t.act(
        &s(&f["id"]),
        "accept",
        intake,
        json!({"category": category}),
    )
    .await;
    f
}

async fn decide(t: &TestApp, id: &str, token: &str) {
    t.act(
        &id,
        "decide",
        token,
        json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "已处理"}),
    )
    .await;
}

async fn appeal(t: &TestApp, f: &Value) {
    t.post(
        &format!("/track/{}/appeal", s(&f["tracking_no"])),
        Some(s(&f["access_token"])),
        json!({"reason": "不服"}),
    )
    .await
    .expect(200);
}

async fn access_a_handler_reads_and_lists_only_cases_of_their_department() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let safety = t.staff("safety1", &["handler"], &["trust-safety"], 1).await;
    let both = t
        .staff(
            "both1",
            &["handler"],
            &["customer-service", "trust-safety"],
            1,
        )
        .await;
    let a1 = routed(&t, &c.intake, 1, "refunds-returns").await; // customer-service
    let a2 = routed(&t, &c.intake, 2, "refunds-returns").await;
    let b1 = routed(&t, &c.intake, 3, "account-security").await; // trust-safety
    let unrouted = t.file(complaint(4)).await;

    // Another department's case is "not there" for the handler, for reads and actions.
    for other in [&b1, &unrouted] {
        let id = s(&other["id"]);
        t.get(&format!("/complaints/{id}"), Some(&c.handler))
            .await
            .expect_error(404);
        // An action on it is refused (403: the caller holds the id).
        refused(
            t.action(
                &id,
                "notes",
                &c.handler,
                json!({"kind": "note", "body": "x"}),
            )
            .await,
        );
    }
    t.get(&format!("/complaints/{}", s(&a1["id"])), Some(&safety))
        .await
        .expect_error(404);
    t.case(&s(&a1["id"]), &c.handler).await;

    let list = t.get("/complaints", Some(&c.handler)).await.expect(200);
    assert_eq!(list["total"], 2, "{list}");
    assert_eq!(
        ids(&list),
        sorted(vec![s(&a1["id"]).into(), s(&a2["id"]).into()])
    );
    let list = t.get("/complaints", Some(&safety)).await.expect(200);
    assert_eq!(list["total"], 1);
    assert_eq!(ids(&list), vec![s(&b1["id"]).to_string()]);
    assert_eq!(total(&t, "/complaints", &both).await, 3);

    // Filters cannot widen the view: asking for another department, or
    // searching words that only other departments' cases contain.
    assert_eq!(
        total(&t, "/complaints?department=trust-safety", &c.handler).await,
        0
    );
    assert_eq!(
        total(&t, "/complaints?status=submitted", &c.handler).await,
        0
    );
    assert_eq!(
        total(&t, "/complaints?status=in_progress", &c.handler).await,
        2
    );
    let q = "/complaints?q=%E9%80%80%E6%AC%BE"; // 退款: in every complaint
    assert_eq!(total(&t, q, &c.handler).await, 2);
    assert_eq!(total(&t, q, &safety).await, 1);
    assert_eq!(total(&t, q, &c.supervisor).await, 4);
    // Paging a handler's list visits only their cases.
    let page = t
        .get("/complaints?limit=1", Some(&c.handler))
        .await
        .expect(200);
    assert_eq!(page["total"], 2);
    let next = s(&page["next_cursor"]).to_string();
    let page2 = t
        .get(
            &format!("/complaints?limit=1&cursor={next}"),
            Some(&c.handler),
        )
        .await
        .expect(200);
    assert_eq!(page2["total"], 2);
    assert!(page2["next_cursor"].is_null(), "{page2}");
    assert_eq!(
        sorted(vec![
            s(&page["items"][0]["id"]).into(),
            s(&page2["items"][0]["id"]).into()
        ]),
        sorted(vec![s(&a1["id"]).into(), s(&a2["id"]).into()])
    );

    // Intake and supervisors see everything.
    for who in [&c.intake, &c.supervisor] {
        assert_eq!(total(&t, "/complaints", who).await, 4);
        t.case(&s(&b1["id"]), who).await;
    }
    // `admin` alone manages settings and reads no case.
    t.get("/complaints", Some(&t.admin)).await.expect_error(403);
    t.get(&format!("/complaints/{}", s(&a1["id"])), Some(&t.admin))
        .await
        .expect_error(403);
    // An admin who is also a supervisor does read cases.
    let both_roles = t.staff("boss", &["admin", "supervisor"], &[], 9).await;
    assert_eq!(total(&t, "/complaints", &both_roles).await, 4);
}

async fn access_a_reviewer_sees_the_appeals_they_may_decide_and_no_others() {
    let t = TestApp::new().await;
    let c = t.cast().await; // reviewer1: customer-service, level 3
    let outside = t.staff("rev-out", &["reviewer"], &[], 4).await;
    let low = t.staff("low", &["handler"], &["trust-safety"], 1).await;
    let high = t.staff("high", &["handler"], &["trust-safety"], 7).await;

    // Decided by a level-1 handler, appealed: the outside reviewer (4) may decide it.
    let mine = routed(&t, &c.intake, 1, "account-security").await;
    decide(&t, s(&mine["id"]), &low).await;
    appeal(&t, &mine).await;
    // Decided by a level-7 handler, appealed: beyond the reviewer's level.
    let above = routed(&t, &c.intake, 2, "account-security").await;
    decide(&t, s(&above["id"]), &high).await;
    appeal(&t, &above).await;
    // Decided by the low handler but not appealed: nothing to review yet.
    let resolved = routed(&t, &c.intake, 3, "account-security").await;
    decide(&t, s(&resolved["id"]), &low).await;

    let list = t.get("/complaints", Some(&outside)).await.expect(200);
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(ids(&list), vec![s(&mine["id"]).to_string()]);
    assert_eq!(
        total(&t, "/complaints?status=under_review", &outside).await,
        1
    );
    assert_eq!(total(&t, "/complaints?status=resolved", &outside).await, 0);
    t.case(&s(&mine["id"]), &outside).await;
    for hidden in [&above, &resolved] {
        t.get(&format!("/complaints/{}", s(&hidden["id"])), Some(&outside))
            .await
            .expect_error(404);
    }
    // The decision is reviewable by them, and not by a lower-level one.
    refused(
        t.action(
            &s(&above["id"]),
            "review",
            &outside,
            json!({"result": "upheld", "basis": ["b"], "reply": "r"}),
        )
        .await,
    );

    // The customer-service reviewer (level 3) also sees the level-1 appeal,
    // besides their own department (which has none here).
    let list = t.get("/complaints", Some(&c.reviewer)).await.expect(200);
    assert_eq!(ids(&list), vec![s(&mine["id"]).to_string()], "{list}");
    t.act(
        &s(&mine["id"]),
        "review",
        &outside,
        json!({"result": "upheld", "basis": ["协议"], "reply": "维持"}),
    )
    .await;
    // Once decided, the appeal leaves the other reviewer's view.
    assert_eq!(total(&t, "/complaints", &c.reviewer).await, 0);
}

async fn access_the_respondent_portal_shows_only_their_cases_masked() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let answer = t
        .post(
            "/admin/respondents",
            Some(&t.admin),
            json!({"kind": "merchant", "id": "shop-1", "name": "好店"}),
        )
        .await
        .expect(201);
    assert!(
        answer["id"].is_string() || answer["id"].is_number(),
        "{answer}"
    );
    let key = s(&answer["api_key"]).to_string();
    let other = t.respondent("merchant", "shop-2").await;
    // Same id, another kind: another respondent.
    let user_shop = t.respondent("user", "shop-1").await;
    // Only admins create respondents.
    t.post(
        "/admin/respondents",
        Some(&c.supervisor),
        json!({"kind": "merchant", "id": "shop-9", "name": "x"}),
    )
    .await
    .expect_error(403);

    let mut mine = complaint(1);
    mine["complainant"]["email"] = json!("zora.quinn@example.com");
    mine["complainant"]["phone"] = json!("13855555678");
    let f = t.file(mine).await;
    let id = s(&f["id"]).to_string();
    t.act(
        &id,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    t.act(
        &id,
        "messages",
        &c.handler,
        json!({"audience": "respondent", "body": "请说明发货情况"}),
    )
    .await;
    t.act(
        &id,
        "messages",
        &c.handler,
        json!({"audience": "internal", "body": "内部备注-勿外传"}),
    )
    .await;
    let mut elsewhere = complaint(2);
    elsewhere["respondent"] = json!({"kind": "merchant", "id": "shop-2", "name": "别家"});
    let g = routed_body(&t, &c.intake, elsewhere).await;

    let a = t.get("/respondent/complaints", Some(&key)).await;
    let raw = String::from_utf8(a.bytes.clone()).unwrap();
    let list = a.expect(200);
    assert_eq!(list["total"], 1, "{list}");
    let item = &list["items"][0];
    assert_eq!(item["id"], f["id"]);
    assert_eq!(item["tracking_no"], f["tracking_no"]);
    assert_eq!(item["complainant"]["email"], "z***@example.com");
    assert_eq!(item["complainant"]["phone"], "138****5678");
    for clear in ["zora.quinn", "13855555678", "内部备注", s(&g["id"])] {
        assert!(
            !raw.contains(clear),
            "{clear} shown to the respondent: {raw}"
        );
    }
    assert!(
        raw.contains("请说明发货情况"),
        "the question to them: {raw}"
    );

    // The other respondents see only their own.
    let theirs = t
        .get("/respondent/complaints", Some(&other))
        .await
        .expect(200);
    assert_eq!(theirs["total"], 1);
    assert_eq!(theirs["items"][0]["id"], g["id"]);
    let none = t
        .get("/respondent/complaints", Some(&user_shop))
        .await
        .expect(200);
    assert_eq!(
        none["total"], 0,
        "user:shop-1 is not merchant:shop-1: {none}"
    );

    // The reply reaches the case, for staff, as the respondent's.
    let replied = t
        .post(
            &format!("/respondent/complaints/{id}/messages"),
            Some(&key),
            json!({"body": "已于3日发货，单号SF123"}),
        )
        .await;
    let raw = String::from_utf8(replied.bytes.clone()).unwrap();
    replied.expect(200);
    assert!(
        !raw.contains("zora.quinn") && !raw.contains("13855555678"),
        "{raw}"
    );
    let case = t.case(&id, &c.handler).await;
    let reply = case["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == "已于3日发货，单号SF123")
        .unwrap_or_else(|| panic!("reply not on the case: {}", case["messages"]));
    assert_eq!(reply["audience"], "respondent");
    t.post(
        &format!("/respondent/complaints/{id}/messages"),
        Some(&key),
        json!({}),
    )
    .await
    .expect_error(422);

    // Another respondent's case is not there.
    t.post(
        &format!("/respondent/complaints/{}/messages", s(&g["id"])),
        Some(&key),
        json!({"body": "x"}),
    )
    .await
    .expect_error(404);
    t.post(
        &format!("/respondent/complaints/{id}/messages"),
        Some(&user_shop),
        json!({"body": "x"}),
    )
    .await
    .expect_error(404);
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[9u8; 40]].concat();
    t.upload(
        &format!("/respondent/complaints/{}/evidence", s(&g["id"])),
        Some(&key),
        "x.png",
        &png,
    )
    .await
    .expect_error(404);

    // Evidence from the respondent.
    let up = t
        .upload(
            &format!("/respondent/complaints/{id}/evidence"),
            Some(&key),
            "发货单.png",
            &png,
        )
        .await
        .expect(200);
    assert_eq!(up["evidence"][0]["filename"], "发货单.png");
    assert_eq!(up["evidence"][0]["content_type"], "image/png");
    let case = t.case(&id, &c.handler).await;
    assert_eq!(case["evidence"].as_array().unwrap().len(), 1);

    // A portal key is no staff token, and no key is no respondent.
    t.get("/complaints", Some(&key)).await.expect_error(403);
    t.get(&format!("/complaints/{id}"), Some(&key))
        .await
        .expect_error(403);
    t.get("/respondent/complaints", None)
        .await
        .expect_error(401);
    t.get("/respondent/complaints", Some("rdr_forged"))
        .await
        .expect_error(401);
    t.get("/respondent/complaints", Some(&c.handler))
        .await
        .expect_error(403);
}

async fn routed_body(t: &TestApp, intake: &str, body: Value) -> Value {
    let f = t.file(body).await;
    t.act(
        &s(&f["id"]),
        "accept",
        intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    f
}

async fn api_key(t: &TestApp, scopes: &[&str]) -> String {
    let a = t
        .post(
            "/admin/api-keys",
            Some(&t.compliance().await),
            json!({"name": format!("key-{}", scopes.join("-")), "scopes": scopes}),
        )
        .await
        .expect(201);
    assert!(a["id"].is_string() || a["id"].is_number(), "{a}");
    s(&a["api_key"]).to_string()
}

async fn access_api_keys_file_by_scope_and_bad_credentials_are_refused() {
    let t = TestApp::new().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let intake = api_key(&t, &["intake"]).await;
    let read = api_key(&t, &["read"]).await;

    let by_api = t
        .post("/complaints", Some(&intake), complaint(1))
        .await
        .expect(201);
    let mut chat = complaint(2);
    chat["channel"] = json!("chat");
    let by_chat = t.post("/complaints", Some(&intake), chat).await.expect(201);
    for (f, channel) in [(&by_api, "api"), (&by_chat, "chat")] {
        let case = t.case(&s(&f["id"]), &sup).await;
        assert_eq!(case["channel"], channel);
    }
    // Keys file only on their channels.
    for channel in ["phone", "web", "email"] {
        let mut b = complaint(3);
        b["channel"] = json!(channel);
        let fields = t
            .post("/complaints", Some(&intake), b)
            .await
            .expect_error(422);
        assert!(fields.get("channel").is_some(), "{channel}: {fields}");
    }
    // A read-only key cannot file.
    t.post("/complaints", Some(&read), complaint(4))
        .await
        .expect_error(403);
    // The public cannot pick a staff channel.
    let mut phone = complaint(5);
    phone["channel"] = json!("phone");
    let fields = t.post("/complaints", None, phone).await.expect_error(422);
    assert!(fields.get("channel").is_some(), "{fields}");

    // Staff calls without or with bad credentials.
    for path in ["/complaints", "/audit/verify", "/reports/summary"] {
        t.get(path, None).await.expect_error(401);
        t.get(path, Some("garbage")).await.expect_error(401);
        t.get(path, Some("rds_forged-session"))
            .await
            .expect_error(401);
        t.get(path, Some("rdk_forged-key")).await.expect_error(401);
    }
    t.get(&format!("/complaints/{}", s(&by_api["id"])), None)
        .await
        .expect_error(401);
    t.post(
        &format!("/complaints/{}/accept", s(&by_api["id"])),
        None,
        json!({"category": "refunds-returns"}),
    )
    .await
    .expect_error(401);
    t.refused(
        &s(&by_api["id"]),
        "accept",
        "garbage",
        json!({"category": "refunds-returns"}),
        401,
    )
    .await;
    // A bad token never files as the public.
    t.post("/complaints", Some("garbage"), complaint(6))
        .await
        .expect_error(401);
    t.post("/complaints", Some("rdk_forged-key"), complaint(6))
        .await
        .expect_error(401);
    assert_eq!(
        total(&t, "/complaints", &sup).await,
        2,
        "nothing else filed"
    );
}

async fn access_complainants_reach_their_own_case_only() {
    let t = TestApp::new().await;
    let mut body_a = complaint(1);
    body_a["subject"] = json!("甲的投诉");
    let mut body_b = complaint(2);
    body_b["subject"] = json!("乙的投诉-保密");
    body_b["complainant"]["email"] = json!("bravo.secret@example.net");
    let a = t.file(body_a).await;
    let b = t.file(body_b).await;
    let (no, token) = (s(&a["tracking_no"]), s(&a["access_token"]));
    let (b_no, b_token) = (s(&b["tracking_no"]), s(&b["access_token"]));

    t.get(&format!("/track/{no}"), None).await.expect_error(401);
    t.get(&format!("/track/{no}"), Some("rdt_wrong-token"))
        .await
        .expect_error(401);
    t.get(&format!("/track/{no}"), Some("garbage"))
        .await
        .expect_error(401);
    t.get(&format!("/track/{no}"), Some(b_token))
        .await
        .expect_error(401);
    // Nor can A act on B's case with A's token.
    t.post(
        &format!("/track/{b_no}/messages"),
        Some(token),
        json!({"body": "hi"}),
    )
    .await
    .expect_error(401);
    t.post(&format!("/track/{b_no}/withdraw"), Some(token), json!({}))
        .await
        .expect_error(401);
    t.upload(
        &format!("/track/{b_no}/evidence"),
        Some(token),
        "a.txt",
        b"text",
    )
    .await
    .expect_error(401);
    // A staff token is no access token either.
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    t.get(&format!("/track/{no}"), Some(&sup))
        .await
        .expect_error(401);

    let a_view = t.get(&format!("/track/{no}"), Some(token)).await;
    let raw = String::from_utf8(a_view.bytes.clone()).unwrap();
    let view = a_view.expect(200);
    assert_eq!(view["tracking_no"], no);
    assert_eq!(view["id"], a["id"]);
    assert_eq!(view["subject"], "甲的投诉");
    for foreign in [b_no, s(&b["id"]), "乙的投诉", "bravo.secret", b_token] {
        assert!(!raw.contains(foreign), "B's {foreign} on A's page: {raw}");
    }
    assert!(!raw.contains(token), "the token is not echoed: {raw}");
    let b_view = t
        .get(&format!("/track/{b_no}"), Some(b_token))
        .await
        .expect(200);
    assert_eq!(
        b_view["record"]["complainant"]["email"],
        "bravo.secret@example.net"
    );
    let sup_case = t.case(&s(&b["id"]), &sup).await;
    assert_eq!(sup_case["status"], "submitted", "B untouched by A's calls");
}

async fn access_login_does_not_tell_users_apart_and_sets_an_httponly_cookie() {
    let t = TestApp::new().await;
    t.staff("someone", &["intake"], &[], 1).await;
    let wrong = t
        .post(
            "/auth/login",
            None,
            json!({"username": "someone", "password": "not-the-password"}),
        )
        .await;
    let unknown = t
        .post(
            "/auth/login",
            None,
            json!({"username": "nobody-at-all", "password": "not-the-password"}),
        )
        .await;
    assert_eq!(wrong.status.as_u16(), 401);
    assert_eq!(unknown.status.as_u16(), 401);
    assert_eq!(wrong.bytes, unknown.bytes, "same body");
    assert!(wrong.headers.get("set-cookie").is_none());
    assert!(wrong.body["error"]["code"].is_string());

    let ok = t
        .post(
            "/auth/login",
            None,
            json!({"username": "someone", "password": PASSWORD}),
        )
        .await;
    let cookies: Vec<String> = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let body = ok.expect(200);
    let token = s(&body["token"]).to_string();
    assert!(
        cookies.iter().any(|c| c.contains("HttpOnly")),
        "{cookies:?}"
    );
    assert_eq!(total(&t, "/complaints", &token).await, 0);
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn access_contact_data_is_encrypted_at_rest_and_each_clear_view_logged() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let email = "xavier.quill.8842@example.org";
    let phone = "13698765432";
    let mut body = complaint(1);
    body["complainant"]["email"] = json!(email);
    body["complainant"]["phone"] = json!(phone);
    let f = t
        .call_raw(
            "POST",
            "/complaints",
            None,
            Some(&body.to_string()),
            &[("idempotency-key", "privacy-1")],
        )
        .await
        .expect(201);
    let id = s(&f["id"]).to_string();
    // Some activity that writes notices and deliveries to the complainant.
    t.act(
        &id,
        "request-info",
        &c.intake,
        json!({"items": ["订单截图"]}),
    )
    .await;
    t.post(
        &format!("/track/{}/supplement", s(&f["tracking_no"])),
        Some(s(&f["access_token"])),
        json!({"message": "已补充"}),
    )
    .await
    .expect(200);
    t.act(
        &id,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    t.act(
        &id,
        "messages",
        &c.handler,
        json!({"audience": "complainant", "body": "我们正在处理"}),
    )
    .await;

    // Not in the clear anywhere in the database files.
    let bytes = t.database_bytes();
    assert!(bytes.len() > 10_000);
    for clear in [email, "xavier.quill", phone] {
        assert!(!contains(&bytes, clear), "{clear} in the clear at rest");
    }

    // A staff read shows them in the clear and is journalled on the case.
    let before = t.case(&id, &c.handler).await;
    assert_eq!(before["complainant"]["email"], email);
    assert_eq!(before["complainant"]["phone"], phone);
    let viewed = |case: &Value| -> Vec<Value> {
        case["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "personal_data_viewed")
            .cloned()
            .collect()
    };
    let first = viewed(&before);
    assert!(
        first.iter().any(|e| e["actor"] == "staff:handler1"),
        "{first:?}"
    );
    let after = t.case(&id, &c.supervisor).await;
    let second = viewed(&after);
    assert_eq!(second.len(), first.len() + 1, "every view is logged");
    assert!(second.iter().any(|e| e["actor"] == "staff:super1"));
    // The log itself holds no contact data.
    let events = after["events"].to_string();
    assert!(
        !events.contains(email) && !events.contains(phone),
        "{events}"
    );
    // ...and the chain stays intact.
    assert_eq!(
        t.get("/audit/verify", Some(&c.supervisor))
            .await
            .expect(200)["ok"],
        true
    );
    // Still sealed after all that.
    let bytes = t.database_bytes();
    assert!(!contains(&bytes, email) && !contains(&bytes, phone));
}

tests![
    access_a_handler_reads_and_lists_only_cases_of_their_department,
    access_a_reviewer_sees_the_appeals_they_may_decide_and_no_others,
    access_the_respondent_portal_shows_only_their_cases_masked,
    access_api_keys_file_by_scope_and_bad_credentials_are_refused,
    access_complainants_reach_their_own_case_only,
    access_login_does_not_tell_users_apart_and_sets_an_httponly_cookie,
    access_contact_data_is_encrypted_at_rest_and_each_clear_view_logged,
];
