//! Admins change users and categories after making them: roles,
//! departments, level, deactivation (which ends the user's sessions at
//! once), and a category's deadline lengths (which apply to cases accepted
//! afterwards).

use serde_json::json;

use crate::harness::*;

async fn an_inactive_user_is_locked_out_at_once() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    t.get("/complaints", Some(&c.handler)).await.expect(200);
    let changed = t
        .call(
            "PATCH",
            "/admin/users/handler1",
            Some(&t.admin),
            Some(json!({"active": false, "display_name": "离职 handler"})),
        )
        .await
        .expect(200);
    assert_eq!(changed["active"], false);
    // The open session stops working, and a new login is refused.
    t.get("/complaints", Some(&c.handler))
        .await
        .expect_error(401);
    t.post(
        "/auth/login",
        None,
        json!({"username": "handler1", "password": PASSWORD}),
    )
    .await
    .expect_error(401);
    // Back again, with other roles and a new password.
    t.call(
        "PATCH",
        "/admin/users/handler1",
        Some(&t.admin),
        Some(
            json!({"active": true, "roles": ["handler", "intake"], "password": "a-new-password-9"}),
        ),
    )
    .await
    .expect(200);
    let token = t.login("handler1", "a-new-password-9").await;
    // A password an admin chose is changed before anything else.
    t.get("/complaints", Some(&token)).await.expect_error(403);
    t.post(
        "/auth/password",
        Some(&token),
        json!({"old": "a-new-password-9", "new": "handler-own-pass-1"}),
    )
    .await
    .expect(200);
    t.get("/complaints", Some(&token)).await.expect(200);

    // Refusals name the field; only admins may; unknown users are 404.
    let fields = t
        .call(
            "PATCH",
            "/admin/users/handler1",
            Some(&t.admin),
            Some(json!({"roles": ["wizard"], "departments": ["nowhere"], "level": 500, "password": "short"})),
        )
        .await
        .expect_error(422);
    for f in ["roles[0]", "departments[0]", "level", "password"] {
        assert!(fields.get(f).is_some(), "{f}: {fields}");
    }
    let fields = t
        .call(
            "PATCH",
            "/admin/users/admin",
            Some(&t.admin),
            Some(json!({"active": false})),
        )
        .await
        .expect_error(422);
    assert!(fields.get("active").is_some());
    t.call(
        "PATCH",
        "/admin/users/handler1",
        Some(&c.supervisor),
        Some(json!({"level": 9})),
    )
    .await
    .expect_error(403);
    t.call(
        "PATCH",
        "/admin/users/nobody",
        Some(&t.admin),
        Some(json!({"level": 2})),
    )
    .await
    .expect_error(404);
    let events = t.app.store.journal_after(0, 10_000).await.unwrap();
    assert_eq!(
        events.iter().filter(|e| e.kind == "user_changed").count(),
        2
    );
}

async fn a_category_change_applies_to_cases_accepted_afterwards() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    t.category("parcels", "customer-service", Some(10)).await;
    let accept = |id: String| {
        let t = &t;
        let intake = c.intake.clone();
        async move {
            t.act(&id, "accept", &intake, json!({"category": "parcels"}))
                .await
        }
    };
    let before = accept(t.file(complaint(1)).await["id"].as_str().unwrap().into()).await;
    let changed = t
        .call(
            "PATCH",
            "/admin/categories/parcels",
            Some(&t.admin),
            Some(json!({"handling_days": 3, "name_en": "Parcels"})),
        )
        .await
        .expect(200);
    assert_eq!(changed["handling_days"], 3);
    assert_eq!(changed["name_en"], "Parcels");
    let after = accept(t.file(complaint(2)).await["id"].as_str().unwrap().into()).await;
    assert_eq!(before["clock"]["length"], 10, "kept what it was given");
    assert_eq!(after["clock"]["length"], 3);
    let fields = t
        .call(
            "PATCH",
            "/admin/categories/parcels",
            Some(&t.admin),
            Some(json!({"department": "nowhere", "review_days": 0})),
        )
        .await
        .expect_error(422);
    assert!(fields.get("review_days").is_some(), "{fields}");
    let fields = t
        .call(
            "PATCH",
            "/admin/categories/parcels",
            Some(&t.admin),
            Some(json!({"department": "nowhere"})),
        )
        .await
        .expect_error(422);
    assert!(fields.get("department").is_some(), "{fields}");
    t.call(
        "PATCH",
        "/admin/categories/absent",
        Some(&t.admin),
        Some(json!({"name": "x"})),
    )
    .await
    .expect_error(404);
}

tests![
    an_inactive_user_is_locked_out_at_once,
    a_category_change_applies_to_cases_accepted_afterwards,
];
