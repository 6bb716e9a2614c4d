//! Trust at the edges (SPEC §2, §9; docs/security.md): an admin never
//! reaches case content, keys can be revoked and expire, guessing
//! passwords and access codes is throttled, a password change ends the
//! other sessions.

use serde_json::{Value, json};

use crate::harness::*;
use crate::notices::{MailSink, free_port};

async fn with_relay(port: u16) -> TestApp {
    TestApp::with(|c| {
        c.smtp_relay = Some(format!("smtp://127.0.0.1:{port}"));
        c.mail_from = Some("complaints@example.com".into());
    })
    .await
}

fn kinds(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn an_admin_never_reaches_case_content() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let c = t.cast().await;
    // A supervisor with an address hears of every grant.
    let watch = t.watching_supervisor().await;
    let filed = t.file(complaint(1)).await;
    let id = filed["id"].as_str().unwrap();

    // Keys that read cases or receive webhooks are a supervisor's.
    for scopes in [
        json!(["read"]),
        json!(["webhooks"]),
        json!(["intake", "read"]),
    ] {
        t.post(
            "/admin/api-keys",
            Some(&t.admin),
            json!({"name": format!("k{scopes}"), "scopes": scopes}),
        )
        .await
        .expect_error(403);
    }
    t.post(
        "/admin/api-keys",
        Some(&t.admin),
        json!({"name": "chat", "scopes": ["intake"]}),
    )
    .await
    .expect(201);
    let read = t
        .post(
            "/admin/api-keys",
            Some(&watch),
            json!({"name": "bi", "scopes": ["read"]}),
        )
        .await
        .expect(201);
    let read_key = read["api_key"].as_str().unwrap();
    t.case(&id, read_key).await;
    // The key's read is journaled like a staff member's.
    let case = t.case(&id, &c.supervisor).await;
    let events: Vec<&Value> = case["events"].as_array().unwrap().iter().collect();
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "case_viewed" && e["actor"].as_str().unwrap().contains("bi")),
        "{case}"
    );
    // Webhooks carry case content: not an admin's.
    t.post(
        "/webhooks",
        Some(&t.admin),
        json!({"url": "https://evil.example.net/", "events": ["decided"]}),
    )
    .await
    .expect_error(403);

    // Nobody changes their own roles or departments.
    t.call(
        "PATCH",
        "/admin/users/admin",
        Some(&t.admin),
        Some(json!({"roles": ["admin", "supervisor"]})),
    )
    .await
    .expect_error(403);
    t.call(
        "PATCH",
        "/admin/users/admin",
        Some(&t.admin),
        Some(json!({"departments": ["customer-service"]})),
    )
    .await
    .expect_error(403);
    let me = t.get("/complaints", Some(&t.admin)).await;
    assert_eq!(me.status.as_u16(), 403, "still no reader");

    // A reading role granted, or such a user's password reset, is told to
    // the supervisors at once: journal, console and e-mail.
    t.post(
        "/admin/users",
        Some(&t.admin),
        json!({"username": "mole", "password": "known-to-admin-1", "display_name": "Mole",
               "roles": ["supervisor"], "departments": [], "level": 9}),
    )
    .await
    .expect(201);
    t.call(
        "PATCH",
        "/admin/users/handler1",
        Some(&t.admin),
        Some(json!({"password": "reset-by-admin-1"})),
    )
    .await
    .expect(200);
    // Rerouting a reader's alerts is seen too.
    t.call(
        "PATCH",
        "/admin/users/handler1",
        Some(&t.admin),
        Some(json!({"email": "elsewhere@example.net"})),
    )
    .await
    .expect(200);
    let notices = t.get("/audit/security", Some(&watch)).await.expect(200);
    let seen = kinds(&notices);
    assert!(seen.contains(&"account_changed".to_string()), "{notices}");
    assert!(seen.contains(&"role_granted".to_string()), "{notices}");
    assert!(seen.contains(&"password_reset".to_string()), "{notices}");
    assert!(
        notices["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["data"]["username"] == "mole" && e["data"]["by"] == "admin"),
        "{notices}"
    );
    t.get("/audit/security", Some(&t.admin))
        .await
        .expect_error(403);
    let mail = sink.wait_for(3).await;
    let to_watch: Vec<_> = mail
        .iter()
        .filter(|m| m.to == "watch@example.com")
        .collect();
    assert!(to_watch.iter().any(|m| m.body.contains("mole")), "{mail:?}");
    assert!(
        to_watch
            .iter()
            .any(|m| m.body.contains("handler1") && m.subject.contains("密码")),
        "{mail:?}"
    );
}

async fn keys_are_revoked_and_expire() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let sup = t.compliance().await;
    let filed = t.file(complaint(1)).await;
    let id = filed["id"].as_str().unwrap().to_string();

    // An expiry must lie ahead.
    let fields = t
        .post(
            "/admin/api-keys",
            Some(&sup),
            json!({"name": "old", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("expires_at").is_some(), "{fields}");

    let in_an_hour = (t.app.now() + chrono::Duration::hours(1)).to_rfc3339();
    let made = t
        .post(
            "/admin/api-keys",
            Some(&sup),
            json!({"name": "bi", "scopes": ["read"], "expires_at": in_an_hour}),
        )
        .await
        .expect(201);
    let key = made["api_key"].as_str().unwrap().to_string();
    let other = t
        .post(
            "/admin/api-keys",
            Some(&sup),
            json!({"name": "crm", "scopes": ["read"]}),
        )
        .await
        .expect(201);
    let other_key = other["api_key"].as_str().unwrap().to_string();
    t.case(&id, &key).await;
    // Listed without secrets.
    let listed = t.get("/admin/api-keys", Some(&t.admin)).await.expect(200);
    assert_eq!(listed["total"], 2, "{listed}");
    assert!(!listed.to_string().contains(&key), "no secret listed");

    // Revoked: 401 at once.
    let oid = other["id"].as_str().unwrap();
    let revoked = t
        .call(
            "DELETE",
            &format!("/admin/api-keys/{oid}"),
            Some(&t.admin),
            None,
        )
        .await
        .expect(200);
    assert_eq!(revoked["revoked"], true);
    t.get(&format!("/complaints/{id}"), Some(&other_key))
        .await
        .expect_error(401);
    t.call(
        "DELETE",
        &format!("/admin/api-keys/{}", uuid::Uuid::now_v7()),
        Some(&t.admin),
        None,
    )
    .await
    .expect_error(404);

    // Expired: 401 once its hour has passed.
    t.advance(2 * 3600).await;
    t.get(&format!("/complaints/{id}"), Some(&key))
        .await
        .expect_error(401);

    // A respondent's portal key: revoked, then a new one; the respondent
    // hears a key was issued, never the key.
    let r = t
        .post(
            "/admin/respondents",
            Some(&t.admin),
            json!({"kind": "merchant", "id": "shop-9", "name": "好店",
                   "email": "shop9@example.com"}),
        )
        .await
        .expect(201);
    let rid = r["id"].as_str().unwrap();
    let first = r["api_key"].as_str().unwrap().to_string();
    t.get("/respondent/complaints", Some(&first))
        .await
        .expect(200);
    t.call(
        "DELETE",
        &format!("/admin/respondents/{rid}/keys"),
        Some(&t.admin),
        None,
    )
    .await
    .expect(200);
    t.get("/respondent/complaints", Some(&first))
        .await
        .expect_error(401);
    let again = t
        .post(
            &format!("/admin/respondents/{rid}/keys"),
            Some(&t.admin),
            json!({}),
        )
        .await
        .expect(201);
    let second = again["api_key"].as_str().unwrap().to_string();
    assert!(second.starts_with("rdr_") && second != first);
    t.get("/respondent/complaints", Some(&second))
        .await
        .expect(200);
    t.get("/respondent/complaints", Some(&first))
        .await
        .expect_error(401);
    // Only admins manage portal keys.
    t.post(
        &format!("/admin/respondents/{rid}/keys"),
        Some(&sup),
        json!({}),
    )
    .await
    .expect_error(403);
    // Three mails: the complaint's acknowledgement and the two to the
    // shop (waiting for two raced the acknowledgement).
    let mail = sink.wait_for(3).await;
    let told: Vec<_> = mail
        .iter()
        .filter(|m| m.to == "shop9@example.com")
        .collect();
    assert_eq!(told.len(), 2, "created and re-issued: {mail:?}");
    for m in told {
        assert!(!m.body.contains(&first) && !m.body.contains(&second));
        assert!(m.body.contains("门户密钥"), "{}", m.body);
    }
    let security = t.get("/audit/security", Some(&sup)).await.expect(200);
    assert!(
        kinds(&security).contains(&"respondent_key_issued".to_string()),
        "{security}"
    );
}

async fn guessing_is_throttled_and_a_password_change_ends_other_sessions() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    // Five wrong passwords from one place; the sixth try waits, even with
    // the right password.
    for _ in 0..5 {
        t.post(
            "/auth/login",
            None,
            json!({"username": "handler1", "password": "not-it-at-all"}),
        )
        .await
        .expect_error(401);
    }
    let throttled = t
        .post(
            "/auth/login",
            None,
            json!({"username": "handler1", "password": PASSWORD}),
        )
        .await;
    assert_eq!(throttled.status.as_u16(), 429, "{:?}", throttled.body);
    let wait: u64 = throttled.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1, "{wait}");
    assert_eq!(throttled.body["error"]["code"], "rate_limited");
    // Another user is not held up.
    t.login("intake1", PASSWORD).await;

    // A password change ends the user's other sessions, not this one.
    let a = t.login("reviewer1", PASSWORD).await;
    let b = t.login("reviewer1", PASSWORD).await;
    let fields = t
        .post(
            "/auth/password",
            Some(&a),
            json!({"old": "wrong-old-password", "new": "reviewer-new-pass-1"}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("old").is_some(), "{fields}");
    let fields = t
        .post(
            "/auth/password",
            Some(&a),
            json!({"old": PASSWORD, "new": "short"}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("new").is_some(), "{fields}");
    let done = t
        .post(
            "/auth/password",
            Some(&a),
            json!({"old": PASSWORD, "new": "reviewer-new-pass-1"}),
        )
        .await
        .expect(200);
    assert_eq!(done["sessions_ended"], 2, "b and the cast's own login");
    t.get("/complaints", Some(&a)).await.expect(200);
    t.get("/complaints", Some(&b)).await.expect_error(401);
    t.get("/complaints", Some(&c.reviewer))
        .await
        .expect_error(401);
    t.login("reviewer1", "reviewer-new-pass-1").await;
    t.post("/auth/password", None, json!({"old": "x", "new": "y"}))
        .await
        .expect_error(401);

    // Wrong access codes are counted per tracking number: after ten, the
    // number waits, whatever the code.
    let filed = t.file(complaint(1)).await;
    let no = filed["tracking_no"].as_str().unwrap();
    let token = filed["access_token"].as_str().unwrap();
    t.get(&format!("/track/{no}"), Some(token))
        .await
        .expect(200);
    for i in 0..10 {
        t.get(&format!("/track/{no}"), Some(&format!("rdt_wrong{i}")))
            .await
            .expect_error(401);
    }
    let held = t.get(&format!("/track/{no}"), Some(token)).await;
    assert_eq!(held.status.as_u16(), 429, "{:?}", held.body);
    assert!(held.headers.get("retry-after").is_some());
    // Another case is not affected.
    let other = t.file(complaint(2)).await;
    t.get(
        &format!("/track/{}", other["tracking_no"].as_str().unwrap()),
        Some(other["access_token"].as_str().unwrap()),
    )
    .await
    .expect(200);
}

/// A case takes at most 500 messages and 100 evidence files; past that
/// it answers 409 saying what is full, and stores nothing.
async fn a_case_stops_growing_at_its_caps() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let filed = t.file(complaint(1)).await;
    let id = filed["id"].as_str().unwrap();
    let no = filed["tracking_no"].as_str().unwrap();
    let token = filed["access_token"].as_str().unwrap();
    for i in 0..500 {
        t.act(
            &id,
            "messages",
            &c.intake,
            json!({"audience": "internal", "body": format!("note {i}")}),
        )
        .await;
    }
    let full = t
        .post(
            &format!("/track/{no}/messages"),
            Some(token),
            json!({"body": "one more"}),
        )
        .await;
    assert_eq!(full.status.as_u16(), 409, "{:?}", full.body);
    assert!(
        full.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("500 messages"),
        "{:?}",
        full.body
    );
    for i in 0..100 {
        t.upload(
            &format!("/complaints/{id}/evidence"),
            Some(&c.intake),
            &format!("n{i}.txt"),
            format!("evidence {i}").as_bytes(),
        )
        .await
        .expect(200);
    }
    let full = t
        .upload(
            &format!("/complaints/{id}/evidence"),
            Some(&c.intake),
            "more.txt",
            b"one more",
        )
        .await;
    assert_eq!(full.status.as_u16(), 409, "{:?}", full.body);
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["messages"].as_array().unwrap().len(), 500);
    assert_eq!(case["evidence"].as_array().unwrap().len(), 100);
    // Nor does a merge push it past them.
    let dup = t.file(complaint(1)).await;
    let dup_id = dup["id"].as_str().unwrap();
    t.act(
        &dup_id,
        "messages",
        &c.intake,
        json!({"audience": "internal", "body": "重复投诉"}),
    )
    .await;
    let refused = t
        .action(&dup_id, "merge", &c.intake, json!({"into": id}))
        .await;
    assert_eq!(refused.status.as_u16(), 409, "{:?}", refused.body);
}

/// Behind TLS the pages' cookies carry the `__Host-` prefix and HSTS is
/// sent; a form posted from another site is refused whatever its token,
/// and so is a browser's cross-site API login.
async fn pages_keep_to_their_own_site() {
    use axum::body::Body;
    use axum::http::Request;
    let t = TestApp::with(|c| c.public_url = Some("https://complaints.example.com".into())).await;
    let page = t
        .send(
            Request::get("/staff/login")
                .header("host", "complaints.example.com")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status.as_u16(), 200);
    let cookie = page.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("__Host-rd_csrf=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    assert!(
        page.headers["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age="),
    );
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    let login = |extra: Option<(&'static str, &'static str)>, cookie_name: &'static str| {
        let mut r = Request::post("/staff/login")
            .header("host", "complaints.example.com")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("{cookie_name}={token}"));
        if let Some((k, v)) = extra {
            r = r.header(k, v);
        }
        r.body(Body::from(format!(
            "csrf={token}&username=admin&password={ADMIN_PASSWORD}"
        )))
        .unwrap()
    };
    // From our own page: signed in.
    let ok = t
        .send(login(
            Some(("sec-fetch-site", "same-origin")),
            "__Host-rd_csrf",
        ))
        .await;
    assert_eq!(ok.status.as_u16(), 303);
    assert!(
        ok.headers["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("__Host-redress_session="),
    );
    // A cookie without the prefix (planted by a sibling host) counts for
    // nothing behind TLS.
    assert_eq!(t.send(login(None, "rd_csrf")).await.status.as_u16(), 403);
    // From another site: refused, token or not.
    assert_eq!(
        t.send(login(
            Some(("sec-fetch-site", "cross-site")),
            "__Host-rd_csrf"
        ))
        .await
        .status
        .as_u16(),
        403
    );
    assert_eq!(
        t.send(login(
            Some(("origin", "https://evil.example.net")),
            "__Host-rd_csrf"
        ))
        .await
        .status
        .as_u16(),
        403
    );
    // The JSON login refuses a browser's cross-site post (login CSRF); a
    // client that is not a browser sends no such header.
    let api = |site: Option<&'static str>| {
        let mut r = Request::post("/api/v1/auth/login").header("content-type", "text/plain");
        if let Some(site) = site {
            r = r.header("sec-fetch-site", site);
        }
        r.body(Body::from(format!(
            r#"{{"username": "admin", "password": "{ADMIN_PASSWORD}"}}"#
        )))
        .unwrap()
    };
    assert_eq!(t.send(api(Some("cross-site"))).await.status.as_u16(), 403);
    assert_eq!(t.send(api(None)).await.status.as_u16(), 200);
}

/// One access code or portal key makes at most `token_rate_limit`
/// requests a minute on the tracking and portal calls; others are not
/// held up.
async fn a_token_is_limited_on_its_own_calls() {
    let t = TestApp::with(|c| c.token_rate_limit = 5).await;
    let filed = t.file(complaint(1)).await;
    let no = filed["tracking_no"].as_str().unwrap();
    let token = filed["access_token"].as_str().unwrap();
    for _ in 0..5 {
        t.get(&format!("/track/{no}"), Some(token))
            .await
            .expect(200);
    }
    let limited = t.get(&format!("/track/{no}"), Some(token)).await;
    assert_eq!(limited.status.as_u16(), 429, "{:?}", limited.body);
    assert!(limited.headers.get("retry-after").is_some());
    // Another complainant is not held up.
    let other = t.file(complaint(2)).await;
    t.get(
        &format!("/track/{}", other["tracking_no"].as_str().unwrap()),
        Some(other["access_token"].as_str().unwrap()),
    )
    .await
    .expect(200);
    // A portal key likewise.
    let key = t.respondent("merchant", "shop-1").await;
    for _ in 0..5 {
        t.get("/respondent/complaints", Some(&key))
            .await
            .expect(200);
    }
    let limited = t.get("/respondent/complaints", Some(&key)).await;
    assert_eq!(limited.status.as_u16(), 429);
}

/// A key as an admin could make one before only supervisors could: written
/// straight to the store with its creation event.
async fn legacy_key(t: &TestApp, name: &str, scope: redress_domain::Scope) -> String {
    let token = format!("rdk_legacy_{name}_0123456789abcdef0123456789");
    let id = uuid::Uuid::now_v7();
    let key = redress_store::ApiKey {
        id,
        name: name.into(),
        scopes: vec![scope],
        key_hash: redress_app::privacy::token_hash(&token),
        created_at: t.app.now(),
        revoked: false,
        expires_at: None,
    };
    let event = redress_store::NewEvent {
        case_id: None,
        kind: "api_key_created".into(),
        actor: "staff:admin".into(),
        at: t.app.now(),
        data: json!({"id": id, "name": name, "scopes": [scope]}).to_string(),
    };
    t.app.store.insert_api_key(key, event).await.unwrap();
    token
}

/// A subscription made by `by`, written straight to the store.
async fn legacy_webhook(t: &TestApp, by: &str) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    let s = redress_store::WebhookSubscription {
        id,
        url: "http://127.0.0.1:9/hook".into(),
        events: vec!["*".into()],
        secret: t.app.vault.seal_for(&format!("webhook:{id}:secret"), "s"),
        active: true,
        cursor: 0,
        created_by: by.into(),
        created_at: t.app.now(),
        updated_at: t.app.now(),
    };
    let event = redress_store::NewEvent {
        case_id: None,
        kind: "webhook_subscribed".into(),
        actor: by.into(),
        at: t.app.now(),
        data: json!({"id": id}).to_string(),
    };
    t.app
        .store
        .insert_webhook_subscription(s, event)
        .await
        .unwrap();
    id
}

async fn webhook_active(t: &TestApp, sup: &str, id: uuid::Uuid) -> bool {
    t.get(&format!("/webhooks/{id}"), Some(sup))
        .await
        .expect(200)["active"]
        .as_bool()
        .unwrap()
}

async fn grants_an_admin_made_before_the_rule_are_stopped_once() {
    let t = TestApp::new().await;
    let sup = t.compliance().await;
    t.file(complaint(1)).await;
    let old_read = legacy_key(&t, "old-bi", redress_domain::Scope::Read).await;
    let old_hooks = legacy_key(&t, "old-hooks", redress_domain::Scope::Webhooks).await;
    let by_admin = legacy_webhook(&t, "staff:admin").await;
    let by_old_key = legacy_webhook(&t, "integration:old-hooks").await;
    let kept = t
        .post(
            "/admin/api-keys",
            Some(&sup),
            json!({"name": "bi", "scopes": ["read"]}),
        )
        .await
        .expect(201)["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let by_supervisor = t
        .post(
            "/webhooks",
            Some(&sup),
            json!({"url": "http://127.0.0.1:9/hook", "events": ["accepted"]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .parse::<uuid::Uuid>()
        .unwrap();
    t.get("/complaints", Some(&old_read)).await.expect(200);

    // The review an upgraded installation runs at its first start.
    let report = t.app.revoke_legacy_grants_now().await.unwrap();
    assert_eq!(report.keys, ["old-bi", "old-hooks"], "{report:?}");
    assert_eq!(report.webhooks.len(), 1, "{report:?}");
    t.get("/complaints", Some(&old_read))
        .await
        .expect_error(401);
    t.get("/webhooks", Some(&old_hooks)).await.expect_error(401);
    t.get("/complaints", Some(&kept)).await.expect(200);
    assert!(!webhook_active(&t, &sup, by_admin).await);
    assert!(!webhook_active(&t, &sup, by_old_key).await);
    assert!(webhook_active(&t, &sup, by_supervisor).await);
    // Supervisors are told, in the console's security notices too.
    let notices = t.get("/audit/security", Some(&sup)).await.expect(200);
    assert!(
        notices["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "legacy_grants_revoked"),
        "{notices}"
    );
    // Once: a start after it has nothing to do.
    assert!(t.app.revoke_legacy_grants().await.unwrap().is_none());

    // Revoking a webhooks key stops what it subscribed.
    let made = t
        .post(
            "/admin/api-keys",
            Some(&sup),
            json!({"name": "hooks", "scopes": ["webhooks"]}),
        )
        .await
        .expect(201);
    let hooks_key = made["api_key"].as_str().unwrap().to_string();
    let sub = t
        .post(
            "/webhooks",
            Some(&hooks_key),
            json!({"url": "http://127.0.0.1:9/other", "events": ["accepted"]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .parse::<uuid::Uuid>()
        .unwrap();
    assert!(webhook_active(&t, &sup, sub).await);
    t.call(
        "DELETE",
        &format!("/admin/api-keys/{}", made["id"].as_str().unwrap()),
        Some(&sup),
        None,
    )
    .await
    .expect(200);
    assert!(!webhook_active(&t, &sup, sub).await);
    assert!(webhook_active(&t, &sup, by_supervisor).await);
}

tests![
    a_token_is_limited_on_its_own_calls,
    pages_keep_to_their_own_site,
    a_case_stops_growing_at_its_caps,
    an_admin_never_reaches_case_content,
    keys_are_revoked_and_expire,
    guessing_is_throttled_and_a_password_change_ends_other_sessions,
    grants_an_admin_made_before_the_rule_are_stopped_once,
];
