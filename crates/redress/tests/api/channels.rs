//! The published channels (公示渠道, SPEC §5): `GET /channels`, `GET`/`PUT
//! /admin/settings/channels`; a channel switched off takes no intake.

use redress_app::mail::{Disposition, Envelope};
use serde_json::{Value, json};

use crate::harness::*;
use crate::pages::{Browser, console, console_as, hidden, html};

const ALL: [&str; 7] = [
    "web",
    "api",
    "chat",
    "email",
    "phone",
    "letter",
    "in_person",
];

fn settings(enabled: &[&str]) -> Value {
    json!({
        "hotline": "12315",
        "hotline_hours": "工作日 9:00–17:00",
        "mailbox": "Complaints@Example.COM",
        "postal_address": "北京市西城区某某路 1 号 投诉中心",
        "visiting_address": "北京市西城区某某路 1 号 一楼接待室",
        "enabled": enabled,
    })
}

async fn put(t: &TestApp, token: Option<&str>, body: Value) -> Answer {
    t.call("PUT", "/admin/settings/channels", token, Some(body))
        .await
}

fn journal_kinds(all: &[redress_store::JournalEntry], kind: &str) -> Vec<Value> {
    all.iter()
        .filter(|e| e.kind == kind)
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect()
}

async fn count_cases(t: &TestApp, supervisor: &str) -> usize {
    t.get("/complaints?limit=100", Some(supervisor))
        .await
        .expect(200)["items"]
        .as_array()
        .map_or(0, Vec::len)
}

async fn an_admin_publishes_the_channels_and_bad_input_stores_nothing() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    // Before anything is set: every channel on, nothing published.
    let before = t.get("/channels", None).await.expect(200);
    assert_eq!(before["enabled"], json!(ALL), "{before}");
    assert_eq!(before["hotline"], Value::Null);

    // Only an admin sets them.
    put(&t, Some(&c.supervisor), settings(&ALL))
        .await
        .expect_error(403);
    put(&t, None, settings(&ALL)).await.expect_error(401);

    // Bad input: 422 naming the field, nothing stored.
    for (field, value) in [
        ("enabled", json!(["web", "fax"])),
        ("enabled", json!("web")),
        ("enabled", Value::Null),
        ("mailbox", json!("not an address")),
        ("hotline", json!("1".repeat(501))),
        ("postal_address", json!(42)),
    ] {
        let mut body = settings(&ALL);
        body[field] = value.clone();
        let fields = put(&t, Some(&t.admin), body).await.expect_error(422);
        assert!(fields.get(field).is_some(), "{field}={value}: {fields}");
    }
    assert_eq!(t.get("/channels", None).await.expect(200), before);
    let journal = t.app.store.journal_after(0, 100_000).await.unwrap();
    assert!(journal_kinds(&journal, "channels_set").is_empty());

    // Web, email and visits off.
    let on = ["api", "chat", "phone", "letter"];
    let saved = put(&t, Some(&t.admin), settings(&on)).await.expect(200);
    assert_eq!(saved["mailbox"], "Complaints@example.com");
    let admin_view = t
        .get("/admin/settings/channels", Some(&t.admin))
        .await
        .expect(200);
    assert_eq!(
        admin_view["visiting_address"],
        settings(&on)["visiting_address"]
    );
    assert_eq!(admin_view["enabled"], json!(on));
    t.get("/admin/settings/channels", Some(&c.supervisor))
        .await
        .expect_error(403);
    // The public view shows only what an enabled channel needs.
    let public = t.get("/channels", None).await.expect(200);
    assert_eq!(public["enabled"], json!(on), "{public}");
    assert_eq!(public["hotline"], "12315");
    assert_eq!(public["hotline_hours"], "工作日 9:00–17:00");
    assert_eq!(public["postal_address"], settings(&on)["postal_address"]);
    assert_eq!(public["mailbox"], Value::Null, "email is off: {public}");
    assert_eq!(public["visiting_address"], Value::Null, "visits are off");
    // Journaled, with who did it.
    let journal = t.app.store.journal_after(0, 100_000).await.unwrap();
    let set = journal_kinds(&journal, "channels_set");
    assert_eq!(set.len(), 1);
    assert_eq!(set[0]["hotline"], "12315");
    let entry = journal.iter().find(|e| e.kind == "channels_set").unwrap();
    assert!(entry.actor.starts_with("staff:"), "{}", entry.actor);

    // The public form is refused, naming the channel; nothing is stored.
    let cases = count_cases(&t, &c.supervisor).await;
    let fields = t
        .post("/complaints", None, complaint(1))
        .await
        .expect_error(422);
    assert!(
        fields["channel"].as_str().unwrap().contains("web"),
        "{fields}"
    );
    assert_eq!(count_cases(&t, &c.supervisor).await, cases);
    // Staff intake on the phone goes on.
    let mut phoned = complaint(2);
    phoned["channel"] = json!("phone");
    phoned["call_reference"] = json!("CALL-1");
    t.post("/complaints", Some(&c.intake), phoned)
        .await
        .expect(201);

    // A new mail opens no case while email is off: it is held for an
    // agent. The reply addresses use the published mailbox.
    let raw = b"From: wang@example.net\r\nTo: complaints@example.com\r\n\
        Subject: refund refused\r\nMessage-ID: <m1@example.net>\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\nThe shop refused my refund.\r\n"
        .to_vec();
    let envelope = Envelope {
        mail_from: Some("wang@example.net".into()),
        rcpt_to: vec!["complaints@example.com".into()],
    };
    let disposition = t.app.receive_mail(&envelope, &raw).await.unwrap();
    assert!(
        matches!(disposition, Disposition::Held { .. }),
        "{disposition:?}"
    );
    let held = t.get("/mail/held", Some(&c.intake)).await.expect(200);
    assert_eq!(held["items"].as_array().unwrap().len(), 1, "{held}");
    assert_eq!(count_cases(&t, &c.supervisor).await, cases + 1);
    let reply = t.app.reply_address("RD261206-ABCDEF").unwrap();
    assert!(
        reply.starts_with("Complaints+rd261206-abcdef.") && reply.ends_with("@example.com"),
        "{reply}"
    );

    // Switched back on: the form and the mail work again.
    put(&t, Some(&t.admin), settings(&ALL)).await.expect(200);
    t.file(complaint(3)).await;
    let raw2 = String::from_utf8(raw)
        .unwrap()
        .replace("<m1@", "<m2@")
        .into_bytes();
    let disposition = t.app.receive_mail(&envelope, &raw2).await.unwrap();
    assert!(
        matches!(disposition, Disposition::Opened { .. }),
        "{disposition:?}"
    );
    let public = t.get("/channels", None).await.expect(200);
    assert_eq!(public["mailbox"], "Complaints@example.com");
    assert_eq!(
        public["visiting_address"],
        settings(&ALL)["visiting_address"]
    );
}

/// The settings survive a restart (they are in the database, not memory),
/// and the reply addresses use the stored mailbox from the start.
async fn the_channels_survive_a_restart() {
    let mut t = TestApp::new().await;
    put(&t, Some(&t.admin), settings(&["api", "email"]))
        .await
        .expect(200);
    t.restart().await;
    let public = t.get("/channels", None).await.expect(200);
    assert_eq!(public["enabled"], json!(["api", "email"]));
    assert_eq!(public["mailbox"], "Complaints@example.com");
    let reply = t.app.reply_address("RD261206-ABCDEF").unwrap();
    assert!(reply.ends_with("@example.com"), "{reply}");
    t.post("/complaints", None, complaint(1))
        .await
        .expect_error(422);
}

async fn post_channels(t: &TestApp, b: &mut Browser, f: &[(String, String)]) -> Answer {
    let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post_form(t, "/staff/admin/channels", &fields).await
}

/// The console form (zh-CN and English, CSRF, current values, typed
/// values kept on error), the start page and the acknowledgement slip.
async fn the_console_form_the_start_page_and_the_slip_show_the_channels() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let mut admin = console_as(&t, "admin", ADMIN_PASSWORD).await;
    let page = html(&admin.get(&t, "/staff/admin/channels").await);
    assert!(page.contains("公示渠道"), "{page}");
    assert_eq!(page.matches("id=\"channels-form\"").count(), 1, "{page}");
    assert!(!page.split("</title>").next().unwrap().contains("<form"));
    assert!(
        page.contains("id=\"enabled-web\" checked"),
        "every channel on"
    );
    assert!(!page.contains("<script>"), "no inline script");
    let en = html(&admin.get(&t, "/staff/admin/channels?lang=en").await);
    assert!(en.contains("Published channels"), "{en}");
    admin.get(&t, "/staff/admin/channels?lang=zh-CN").await;
    let csrf = hidden(&page, "csrf");
    let form = |csrf: &str, mailbox: &str| -> Vec<(String, String)> {
        let mut f = vec![
            ("hotline".to_string(), "96315".to_string()),
            ("hotline_hours".into(), "工作日 9:00–17:00".into()),
            ("mailbox".into(), mailbox.into()),
            ("postal_address".into(), "北京市西城区某某路 1 号".into()),
            (
                "visiting_address".into(),
                "北京市西城区某某路 1 号 接待室".into(),
            ),
            ("enabled.api".into(), "on".into()),
            ("enabled.phone".into(), "on".into()),
            ("enabled.letter".into(), "on".into()),
            ("enabled.email".into(), "on".into()),
        ];
        if !csrf.is_empty() {
            f.push(("csrf".into(), csrf.into()));
        }
        f
    };
    // Without the form's token: nothing.
    let a = post_channels(&t, &mut admin, &form("", "mail@example.com")).await;
    assert_eq!(a.status.as_u16(), 403);
    // A bad mailbox is named; what was typed stays in the form.
    let a = post_channels(&t, &mut admin, &form(&csrf, "not-an-address")).await;
    assert_eq!(a.status.as_u16(), 422);
    let refused = html(&a);
    assert!(refused.contains("投诉邮箱"), "{refused}");
    assert!(refused.contains("value=\"not-an-address\""), "{refused}");
    assert!(refused.contains("value=\"96315\""), "{refused}");
    assert!(!refused.contains("id=\"enabled-web\" checked"), "{refused}");
    assert_eq!(
        t.get("/channels", None).await.expect(200)["hotline"],
        Value::Null
    );
    // Saved: web and visits off.
    let a = post_channels(&t, &mut admin, &form(&csrf, "tousu@example.com")).await;
    // Post/redirect/get: the page again, saying so, with the new values.
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    let to = a.headers["location"].to_str().unwrap().to_string();
    assert_eq!(to, "/staff/admin/channels?done=channels-saved");
    let saved = html(&admin.get(&t, &to).await);
    assert!(saved.contains("公示渠道已保存"), "{saved}");
    assert!(saved.contains("value=\"96315\""), "current values: {saved}");
    let public = t.get("/channels", None).await.expect(200);
    assert_eq!(public["hotline"], "96315");
    assert_eq!(
        public["enabled"],
        json!(["api", "email", "phone", "letter"])
    );
    drop(admin);

    // The start page, in both languages: only what is on.
    let mut visitor = Browser::default();
    let home = html(&visitor.get(&t, "/").await);
    assert!(
        home.contains("投诉热线：96315（工作日 9:00–17:00）"),
        "{home}"
    );
    assert!(home.contains("投诉邮箱：tousu@example.com"), "{home}");
    assert!(home.contains("来信地址：北京市西城区某某路 1 号"), "{home}");
    assert!(!home.contains("id=\"channel-web\""), "web is off: {home}");
    assert!(!home.contains("id=\"channel-in_person\""), "{home}");
    assert!(!home.contains("接待室"), "visits are off: {home}");
    let home_en = html(&visitor.get(&t, "/?lang=en").await);
    assert!(
        home_en.contains("Hotline: 96315 (工作日 9:00–17:00)"),
        "{home_en}"
    );
    assert!(
        home_en.contains("Complaint mailbox: tousu@example.com"),
        "{home_en}"
    );
    // The public form says it is off, and posting it is refused.
    let form_page = html(&visitor.get(&t, "/complain?lang=zh-CN").await);
    assert!(form_page.contains("渠道已关闭"), "{form_page}");
    let (csrf, nonce) = (hidden(&form_page, "csrf"), hidden(&form_page, "nonce"));
    let sent = visitor
        .post_multipart(
            &t,
            "/complain",
            &[
                ("csrf", csrf.as_str()),
                ("nonce", nonce.as_str()),
                ("complainant.name", "王五"),
                ("complainant.email", "wang5@example.com"),
                ("respondent.kind", "merchant"),
                ("respondent.name", "好店"),
                ("subject", "退款被拒"),
                ("description", "商家拒绝退款。"),
            ],
            None,
        )
        .await;
    assert_eq!(sent.status.as_u16(), 422, "{}", html(&sent));
    let sent = html(&sent);
    assert!(sent.contains("渠道已关闭"), "{sent}");
    assert!(sent.contains("退款被拒"), "what was typed stays: {sent}");
    assert_eq!(
        t.get("/complaints", Some(&c.supervisor)).await.expect(200)["total"],
        0,
        "nothing stored"
    );
    let form_en = html(&visitor.get(&t, "/complain?lang=en").await);
    assert!(form_en.contains("channel is switched off"), "{form_en}");

    // The slip of a phoned complaint lists the published channels.
    let mut phoned = complaint(4);
    phoned["channel"] = json!("phone");
    phoned["call_reference"] = json!("CALL-9");
    let filed = t
        .post("/complaints", Some(&c.intake), phoned)
        .await
        .expect(201);
    let (no, code) = (
        filed["tracking_no"].as_str().unwrap(),
        filed["access_token"].as_str().unwrap(),
    );
    let mut intake = console(&t, "intake1").await;
    let csrf = hidden(&html(&intake.get(&t, "/staff/intake").await), "csrf");
    let slip = intake
        .post_form(
            &t,
            "/staff/intake/slip",
            &[("csrf", &csrf), ("tracking_no", no), ("access_code", code)],
        )
        .await;
    assert_eq!(slip.status.as_u16(), 200, "{}", html(&slip));
    let slip = html(&slip);
    assert!(
        slip.contains("投诉热线：96315（工作日 9:00–17:00）"),
        "{slip}"
    );
    assert!(slip.contains("来信地址：北京市西城区某某路 1 号"), "{slip}");
    assert!(slip.contains("投诉邮箱：tousu@example.com"), "{slip}");
    assert!(
        !slip.contains("id=\"slip-channel-web\""),
        "web is off: {slip}"
    );
}

tests![
    an_admin_publishes_the_channels_and_bad_input_stores_nothing,
    the_console_form_the_start_page_and_the_slip_show_the_channels,
    the_channels_survive_a_restart,
];
