//! Canned replies (SPEC §7): stored, seeded once from the configuration,
//! listed for every staff member, changed by admins only, each change
//! journaled; bad input names its field.

use serde_json::{Value, json};

use crate::harness::*;

async fn titles(t: &TestApp, token: &str) -> Vec<String> {
    t.get("/admin/canned-replies", Some(token))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect()
}

fn kinds(events: &[redress_store::JournalEntry], kind: &str) -> usize {
    events.iter().filter(|e| e.kind == kind).count()
}

async fn staff_read_them_and_admins_change_them() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    // A new installation starts with the configured texts, in their order.
    let seeded: Vec<String> = redress_app::CannedReplySeed::defaults()
        .into_iter()
        .map(|r| r.title)
        .collect();
    assert_eq!(titles(&t, &c.handler).await, seeded);
    let list = t
        .get("/admin/canned-replies", Some(&c.intake))
        .await
        .expect(200);
    assert_eq!(list["total"], 4);
    assert_eq!(list["items"][0]["locale"], "zh-CN");
    t.get("/admin/canned-replies", None).await.expect_error(401);
    let portal = t.respondent("merchant", "shop-1").await;
    t.get("/admin/canned-replies", Some(&portal))
        .await
        .expect_error(403);

    let made = t
        .post(
            "/admin/canned-replies",
            Some(&t.admin),
            json!({"title": "  Received  ", "body": "We received your complaint.\nWe will reply soon.", "locale": "en"}),
        )
        .await
        .expect(201);
    assert_eq!(made["title"], "Received");
    assert_eq!(made["locale"], "en");
    let id = made["id"].as_str().unwrap().to_string();
    assert_eq!(titles(&t, &c.handler).await.last().unwrap(), "Received");

    // Only admins write; a handler is refused and nothing changes.
    t.post(
        "/admin/canned-replies",
        Some(&c.handler),
        json!({"title": "x", "body": "y"}),
    )
    .await
    .expect_error(403);
    t.call(
        "PATCH",
        &format!("/admin/canned-replies/{id}"),
        Some(&c.supervisor),
        Some(json!({"title": "x"})),
    )
    .await
    .expect_error(403);
    t.call(
        "DELETE",
        &format!("/admin/canned-replies/{id}"),
        Some(&c.handler),
        None,
    )
    .await
    .expect_error(403);
    assert_eq!(titles(&t, &c.handler).await.len(), 5);

    // Bad input names every bad field at once.
    let fields = t
        .post(
            "/admin/canned-replies",
            Some(&t.admin),
            json!({"title": " ", "body": "长".repeat(5001), "locale": "fr"}),
        )
        .await
        .expect_error(422);
    for f in ["title", "body", "locale"] {
        assert!(fields.get(f).is_some(), "{f}: {fields}");
    }
    let fields = t
        .post(
            "/admin/canned-replies",
            Some(&t.admin),
            json!({"title": "t".repeat(101), "body": 5}),
        )
        .await
        .expect_error(422);
    assert_eq!(fields["title"], "must be at most 100 characters");
    assert_eq!(fields["body"], "must be a string");
    let fields = t
        .post(
            "/admin/canned-replies",
            Some(&t.admin),
            json!({"title": "a\u{7}b", "body": "fine\tline\r\nnext"}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("title").is_some() && fields.get("body").is_none());
    let fields = t
        .post("/admin/canned-replies", Some(&t.admin), json!({}))
        .await
        .expect_error(422);
    assert_eq!(fields["title"], "is required");
    assert_eq!(fields["body"], "is required");

    // Changes: what is given; `null` makes the text fit any language.
    let changed = t
        .call(
            "PATCH",
            &format!("/admin/canned-replies/{id}"),
            Some(&t.admin),
            Some(json!({"title": "Received, checking", "locale": null})),
        )
        .await
        .expect(200);
    assert_eq!(changed["title"], "Received, checking");
    assert_eq!(changed["body"], made["body"]);
    assert_eq!(changed["locale"], Value::Null);
    let fields = t
        .call(
            "PATCH",
            &format!("/admin/canned-replies/{id}"),
            Some(&t.admin),
            Some(json!({"body": ""})),
        )
        .await
        .expect_error(422);
    assert!(fields.get("body").is_some(), "{fields}");
    for missing in [uuid::Uuid::now_v7().to_string(), "not-an-id".into()] {
        t.call(
            "PATCH",
            &format!("/admin/canned-replies/{missing}"),
            Some(&t.admin),
            Some(json!({"title": "x"})),
        )
        .await
        .expect_error(404);
    }
    t.call(
        "DELETE",
        &format!("/admin/canned-replies/{id}"),
        Some(&t.admin),
        None,
    )
    .await
    .expect(204);
    t.call(
        "DELETE",
        &format!("/admin/canned-replies/{id}"),
        Some(&t.admin),
        None,
    )
    .await
    .expect_error(404);
    assert_eq!(titles(&t, &c.handler).await, seeded);

    // Every change is in the journal, and the chain holds.
    let events = t.app.store.journal_after(0, 10_000).await.unwrap();
    assert_eq!(kinds(&events, "canned_reply_created"), 5);
    assert_eq!(kinds(&events, "canned_reply_changed"), 1);
    assert_eq!(kinds(&events, "canned_reply_deleted"), 1);
    let deleted = events
        .iter()
        .find(|e| e.kind == "canned_reply_deleted")
        .unwrap();
    assert!(deleted.actor.ends_with("admin") && deleted.data.contains(&id));
    assert_eq!(
        t.get("/audit/verify", Some(&c.supervisor))
            .await
            .expect(200)["ok"],
        true
    );

    // Described in the OpenAPI document like the other admin calls.
    let doc = t.get("/api/openapi.json", None).await.expect(200);
    let paths = &doc["paths"];
    for (path, method) in [
        ("/api/v1/admin/canned-replies", "get"),
        ("/api/v1/admin/canned-replies", "post"),
        ("/api/v1/admin/canned-replies/{id}", "patch"),
        ("/api/v1/admin/canned-replies/{id}", "delete"),
    ] {
        assert!(paths[path].get(method).is_some(), "{method} {path}");
    }
}

async fn the_configured_replies_are_seeded_once() {
    let t = TestApp::with(|c| {
        c.canned_replies = vec![redress_app::CannedReplySeed {
            title: "Checking".into(),
            body: "We are checking with the merchant.".into(),
            locale: Some(redress_domain::Locale::En),
        }];
    })
    .await;
    let list = t
        .get("/admin/canned-replies", Some(&t.admin))
        .await
        .expect(200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["locale"], "en");
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    t.call(
        "DELETE",
        &format!("/admin/canned-replies/{id}"),
        Some(&t.admin),
        None,
    )
    .await
    .expect(204);
    // Another start does not bring back what an admin deleted.
    let mut t = t;
    t.restart().await;
    t.app.bootstrap(Some(ADMIN_PASSWORD)).await.unwrap();
    assert!(titles(&t, &t.admin).await.is_empty());
}

tests![
    staff_read_them_and_admins_change_them,
    the_configured_replies_are_seeded_once,
];
