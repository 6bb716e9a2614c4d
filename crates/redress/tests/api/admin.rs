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

/// The keys of an answer's objects, at any depth: what a list gives away.
fn keys_of(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                keys_of(v, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| keys_of(v, out)),
        _ => {}
    }
}

async fn admins_list_users_departments_and_respondents_without_secrets() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    t.call(
        "PATCH",
        "/admin/users/intake1",
        Some(&t.admin),
        Some(json!({"active": false})),
    )
    .await
    .expect(200);
    // An address set, then cleared by null (as the field's description says).
    let set = t
        .call(
            "PATCH",
            "/admin/users/reviewer1",
            Some(&t.admin),
            Some(json!({"email": "r1@example.com"})),
        )
        .await
        .expect(200);
    assert_eq!(set["email"], "r1@example.com");
    let cleared = t
        .call(
            "PATCH",
            "/admin/users/reviewer1",
            Some(&t.admin),
            Some(json!({"email": null})),
        )
        .await
        .expect(200);
    assert!(cleared["email"].is_null(), "{cleared}");
    let users = t.get("/admin/users", Some(&t.admin)).await.expect(200);
    let names: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["admin", "handler1", "intake1", "reviewer1", "super1"],
        "by username"
    );
    assert_eq!(users["total"], 5);
    assert!(users["next_cursor"].is_null());
    let handler = &users["items"][1];
    assert_eq!(handler["roles"], json!(["handler"]));
    assert_eq!(handler["departments"], json!(["customer-service"]));
    assert_eq!(handler["active"], true);
    assert_eq!(users["items"][2]["active"], false, "deactivated is shown");

    let key = t
        .post(
            "/admin/respondents",
            Some(&t.admin),
            json!({"kind": "merchant", "id": "shop-5", "name": "五号店", "email": "shop5@example.com"}),
        )
        .await
        .expect(201);
    let secret = key["api_key"].as_str().unwrap().to_string();
    let other = t
        .post(
            "/admin/respondents",
            Some(&t.admin),
            json!({"kind": "merchant", "id": "shop-1", "name": "一号店"}),
        )
        .await
        .expect(201);
    t.call(
        "DELETE",
        &format!("/admin/respondents/{}/keys", other["id"].as_str().unwrap()),
        Some(&t.admin),
        None,
    )
    .await
    .expect(200);
    let list = t
        .get("/admin/respondents", Some(&t.admin))
        .await
        .expect(200);
    assert_eq!(list["total"], 2);
    assert_eq!(
        list["items"][0]["respondent_id"], "shop-1",
        "by kind and id"
    );
    assert_eq!(list["items"][0]["key_state"], "revoked");
    assert_eq!(list["items"][1]["key_state"], "active");
    assert_eq!(list["items"][1]["id"], key["id"]);
    assert_eq!(list["items"][1]["email"], "shop5@example.com");

    let departments = t
        .get("/admin/departments", Some(&t.admin))
        .await
        .expect(200);
    let cs = departments["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "customer-service")
        .unwrap();
    assert_eq!(cs["name"], "客户服务部");
    assert_eq!(cs["name_en"], "Customer Service");
    assert_eq!(departments["total"], 4);

    // No secret, hash or key in any of them.
    for list in [&users, &list, &departments] {
        let mut keys = vec![];
        keys_of(list, &mut keys);
        for k in &keys {
            assert!(
                !k.contains("hash") && !k.contains("password") || k == "must_change_password",
                "{k} in {list}"
            );
            assert_ne!(k, "api_key");
        }
        assert!(!list.to_string().contains(&secret));
        assert!(!list.to_string().contains("$argon2"));
    }
    // Admins only.
    for token in [&c.supervisor, &c.handler] {
        for path in ["/admin/users", "/admin/departments", "/admin/respondents"] {
            t.get(path, Some(token)).await.expect_error(403);
        }
    }
}

async fn admins_change_a_department_and_leave_out_what_they_do_not_give() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    t.post(
        "/admin/departments",
        Some(&t.admin),
        json!({"code": "care", "name": "关怀部", "name_en": "Care", "head": "super1"}),
    )
    .await
    .expect(201);
    let changed = t
        .call(
            "PATCH",
            "/admin/departments/care",
            Some(&t.admin),
            Some(json!({"name_en": "Customer Care", "review": true})),
        )
        .await
        .expect(200);
    assert_eq!(changed["name"], "关怀部", "left out, kept");
    assert_eq!(changed["head"], "super1", "left out, kept");
    assert_eq!(changed["name_en"], "Customer Care");
    assert_eq!(changed["review"], true);
    let listed = t
        .get("/admin/departments", Some(&t.admin))
        .await
        .expect(200);
    let care = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "care")
        .unwrap()
        .clone();
    assert_eq!(care, changed, "stored as answered");
    // Cleared only when asked: empty or null.
    let cleared = t
        .call(
            "PATCH",
            "/admin/departments/care",
            Some(&t.admin),
            Some(json!({"head": "", "name_en": null, "name": "客户关怀部"})),
        )
        .await
        .expect(200);
    assert!(cleared["head"].is_null() && cleared["name_en"].is_null());
    assert_eq!(cleared["name"], "客户关怀部");
    assert_eq!(cleared["review"], true);
    // A head must be a user; a name may not be emptied; nothing changes then.
    let fields = t
        .call(
            "PATCH",
            "/admin/departments/care",
            Some(&t.admin),
            Some(json!({"head": "nobody", "name": " ", "review": "yes"})),
        )
        .await
        .expect_error(422);
    for f in ["head", "name", "review"] {
        assert!(fields.get(f).is_some(), "{f}: {fields}");
    }
    // Creating may name a head whose account comes later.
    t.post(
        "/admin/departments",
        Some(&t.admin),
        json!({"code": "ghosts", "name": "幽灵部", "head": "nobody"}),
    )
    .await
    .expect(201);
    let after = t
        .call(
            "PATCH",
            "/admin/departments/care",
            Some(&t.admin),
            Some(json!({"head": "handler1"})),
        )
        .await
        .expect(200);
    assert_eq!(after["name"], "客户关怀部");
    assert_eq!(after["head"], "handler1");
    t.call(
        "PATCH",
        "/admin/departments/absent",
        Some(&t.admin),
        Some(json!({"name": "x"})),
    )
    .await
    .expect_error(404);
    t.call(
        "PATCH",
        "/admin/departments/care",
        Some(&c.supervisor),
        Some(json!({"name": "x"})),
    )
    .await
    .expect_error(403);
    let events = t.app.store.journal_after(0, 10_000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "department_changed")
            .count(),
        3,
        "each change journaled, refusals not"
    );
}

// ---- The administration sub-pages (issue 15 item 6) ----

use crate::pages::{Browser, console, console_as, hidden, html};

/// Chinese characters in a text.
fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A page's main part (without the header's switch to the other language).
fn main_of(page: &str) -> &str {
    let start = page.find("<main").unwrap_or(0);
    let end = page.find("</main>").unwrap_or(page.len());
    &page[start..end]
}

/// Where a post/redirect/get answer sends the browser (after checking it
/// is a 303).
fn redirected(a: &Answer) -> String {
    assert_eq!(a.status.as_u16(), 303, "{}", html(a));
    a.headers["location"].to_str().unwrap().to_string()
}

/// Posts a form and follows its redirect: the page it lands on.
async fn post_and_follow(
    b: &mut Browser,
    t: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> (String, String) {
    let a = b.post_form(t, path, form).await;
    let to = redirected(&a);
    let page = html(&b.get(t, &to).await);
    (to, page)
}

async fn admins_manage_the_installation_from_the_sub_pages() {
    let t = TestApp::new().await;
    t.cast().await;
    let mut b = console_as(&t, "admin", ADMIN_PASSWORD).await;
    // The overview: the admin navigation, one page each; webhooks are for
    // supervisors, not offered to an admin.
    let page = html(&b.get(&t, "/staff/admin").await);
    for section in [
        "users",
        "departments",
        "categories",
        "respondents",
        "api-keys",
        "calendar",
        "canned",
        "notices",
        "channels",
    ] {
        assert!(
            page.contains(&format!("href=\"/staff/admin/{section}\"")),
            "{section}: {page}"
        );
        let a = b.get(&t, &format!("/staff/admin/{section}")).await;
        assert_eq!(a.status.as_u16(), 200, "{section}");
        assert!(
            html(&a).contains(&format!(
                "href=\"/staff/admin/{section}\" id=\"subnav-{section}\" aria-current=\"page\""
            )),
            "{section} marked current"
        );
    }
    assert!(!page.contains("/staff/admin/webhooks"));
    assert_eq!(b.get(&t, "/staff/admin/nowhere").await.status.as_u16(), 404);
    let csrf = hidden(&page, "csrf");

    // A department whose head is chosen from the users.
    let page = html(&b.get(&t, "/staff/admin/departments").await);
    assert!(
        page.contains("<option value=\"super1\">super1 (super1)</option>"),
        "{page}"
    );
    let (to, page) = post_and_follow(
        &mut b,
        &t,
        "/staff/admin/department",
        &[
            ("csrf", &csrf),
            ("code", "care"),
            ("name", "关怀部"),
            ("name_en", "Care"),
            ("head", "super1"),
        ],
    )
    .await;
    assert_eq!(to, "/staff/admin/departments?done=department-added");
    assert!(
        page.contains("部门已添加") && page.contains("关怀部"),
        "{page}"
    );
    // A category whose department is chosen from the departments.
    let page = html(&b.get(&t, "/staff/admin/categories").await);
    assert!(
        page.contains("<option value=\"care\">关怀部</option>"),
        "{page}"
    );
    let (_, page) = post_and_follow(
        &mut b,
        &t,
        "/staff/admin/category",
        &[
            ("csrf", &csrf),
            ("code", "care-cat"),
            ("name", "关怀"),
            ("department", "care"),
            ("handling_days", "7"),
            ("appeal_days", "20"),
            ("review_days", ""),
        ],
    )
    .await;
    assert!(
        page.contains("类别已添加") && page.contains("7 / 20 / —"),
        "{page}"
    );
    // A user with roles and departments ticked.
    let (_, page) = post_and_follow(
        &mut b,
        &t,
        "/staff/admin/user",
        &[
            ("csrf", &csrf),
            ("username", "carer1"),
            ("display_name", "Carer One"),
            ("password", PASSWORD),
            ("roles", "handler"),
            ("roles", "intake"),
            ("departments", "care"),
            ("level", "2"),
        ],
    )
    .await;
    assert!(
        page.contains("工作人员账号已添加") && page.contains("carer1"),
        "{page}"
    );
    let users = t.get("/admin/users", Some(&t.admin)).await.expect(200);
    let carer = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "carer1")
        .unwrap()
        .clone();
    assert_eq!(carer["roles"], json!(["handler", "intake"]));
    assert_eq!(carer["departments"], json!(["care"]));
    assert_eq!(carer["level"], 2);
    let mut carer_browser = console(&t, "carer1").await;
    assert_eq!(carer_browser.get(&t, "/staff").await.status.as_u16(), 200);

    // Respondents: the new key is shown once, on the answer to the post.
    let a = b
        .post_form(
            &t,
            "/staff/admin/respondent",
            &[
                ("csrf", &csrf),
                ("kind", "merchant"),
                ("id", "shop-77"),
                ("name", "七七店"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 200, "{}", html(&a));
    let key = html(&a)
        .split("id=\"new-key\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(key.starts_with("rdr_"), "{key}");
    let page = html(&b.get(&t, "/staff/admin/respondents").await);
    assert!(!page.contains(&key), "shown once");
    assert!(page.contains("七七店") && page.contains("有效"), "{page}");
    t.get("/respondent/complaints", Some(&key))
        .await
        .expect(200);
    let rid = page
        .split("action=\"/staff/admin/respondent-key\"")
        .nth(1)
        .and_then(|rest| rest.split("name=\"id\" value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let a = b
        .post_form(
            &t,
            "/staff/admin/respondent-key",
            &[("csrf", &csrf), ("id", &rid)],
        )
        .await;
    assert_eq!(a.status.as_u16(), 200);
    assert!(html(&a).contains("id=\"new-key\">rdr_"));
    t.get("/respondent/complaints", Some(&key))
        .await
        .expect_error(401);
    // A revocation needs its confirmation.
    let a = b
        .post_form(
            &t,
            "/staff/admin/respondent-key-revoke",
            &[("csrf", &csrf), ("id", &rid)],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422, "not confirmed");
    assert!(html(&a).contains("确认吊销"));
    let (to, page) = post_and_follow(
        &mut b,
        &t,
        "/staff/admin/respondent-key-revoke",
        &[("csrf", &csrf), ("id", &rid), ("confirm", "1")],
    )
    .await;
    assert_eq!(to, "/staff/admin/respondents?done=key-revoked");
    assert!(
        page.contains("密钥已吊销") && page.contains("已吊销"),
        "{page}"
    );

    // API keys: made (shown once), listed, revoked.
    let a = b
        .post_form(
            &t,
            "/staff/admin/api-key",
            &[("csrf", &csrf), ("name", "客服系统"), ("scopes", "intake")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 200, "{}", html(&a));
    let api_key = html(&a)
        .split("id=\"new-key\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(api_key.starts_with("rdk_"));
    let page = html(&b.get(&t, "/staff/admin/api-keys").await);
    assert!(
        page.contains("客服系统") && !page.contains(&api_key),
        "{page}"
    );
    let kid = page
        .split("action=\"/staff/admin/api-key-revoke\"")
        .nth(1)
        .and_then(|rest| rest.split("name=\"id\" value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    post_and_follow(
        &mut b,
        &t,
        "/staff/admin/api-key-revoke",
        &[("csrf", &csrf), ("id", &kid), ("confirm", "1")],
    )
    .await;
    t.get("/complaints", Some(&api_key)).await.expect_error(401);

    // Staff without the admin role do not come in, nor post.
    let mut handler = console(&t, "handler1").await;
    for path in [
        "/staff/admin",
        "/staff/admin/users",
        "/staff/admin/users/admin",
    ] {
        assert_eq!(handler.get(&t, path).await.status.as_u16(), 403, "{path}");
    }
    let handler_csrf = hidden(&html(&handler.get(&t, "/staff").await), "csrf");
    let a = handler
        .post_form(
            &t,
            "/staff/admin/department",
            &[("csrf", &handler_csrf), ("code", "x"), ("name", "x")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);
}

/// The calendar page shows any year with data or deadlines, sets a day
/// of another year and imports iCalendar files.
async fn the_calendar_page_offers_every_year_with_data() {
    let t = TestApp::new().await;
    let mut b = console_as(&t, "admin", ADMIN_PASSWORD).await;
    let page = html(&b.get(&t, "/staff/admin/calendar?year=2025").await);
    for y in ["2025", "2026"] {
        assert!(page.contains(&format!("id=\"year-{y}\"")), "{y}: {page}");
    }
    assert!(
        page.contains("id=\"year-2025\" aria-current=\"page\""),
        "{page}"
    );
    assert!(
        page.contains("2025-01-29") && page.contains(">春节<"),
        "{page}"
    );
    let en = html(&b.get(&t, "/staff/admin/calendar?year=2025&lang=en").await);
    assert!(
        en.contains(">Spring Festival<") && !en.contains("春节"),
        "{en}"
    );
    let csrf = hidden(&page, "csrf");
    let (to, page) = post_and_follow(
        &mut b,
        &t,
        "/staff/admin/calendar?lang=zh-CN",
        &[
            ("csrf", &csrf),
            ("date", "2031-12-31"),
            ("kind", "holiday"),
            ("name", "年末盘点"),
        ],
    )
    .await;
    assert_eq!(to, "/staff/admin/calendar?done=day-set&year=2031");
    assert!(
        page.contains("年末盘点") && page.contains("id=\"year-2031\" aria-current"),
        "{page}"
    );
    // A refused day keeps what was typed.
    let a = b
        .post_form(
            &t,
            "/staff/admin/calendar",
            &[
                ("csrf", &csrf),
                ("date", "2031-02-30"),
                ("kind", "workday"),
                ("name", "补班"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    let page = html(&a);
    assert!(
        page.contains("value=\"2031-02-30\" aria-invalid=\"true\""),
        "{page}"
    );
    assert!(page.contains("value=\"补班\""), "{page}");
    assert!(
        page.contains("<option value=\"workday\" selected>"),
        "{page}"
    );
    // An iCalendar file sets days too.
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270503\r\nDTEND;VALUE=DATE:20270505\r\nSUMMARY:劳动节\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let a = b
        .post_multipart(
            &t,
            "/staff/admin/calendar-import",
            &[("csrf", &csrf)],
            Some(("2027.ics", ics.as_bytes())),
        )
        .await;
    assert_eq!(a.status.as_u16(), 200);
    assert!(html(&a).contains("已导入 2 天"), "{}", html(&a));
    let page = html(&b.get(&t, "/staff/admin/calendar?year=2027").await);
    assert!(page.contains("2027-05-04"), "{page}");
    let a = b
        .post_multipart(
            &t,
            "/staff/admin/calendar-import",
            &[("csrf", &csrf)],
            Some(("bad.ics", b"not a calendar")),
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
}

/// A refused form comes back with what was typed and each field's reason
/// beside it, in the page's language (never the password).
async fn a_refused_form_keeps_what_was_typed_with_reasons_in_the_page_language() {
    let t = TestApp::new().await;
    t.cast().await;
    let mut b = console_as(&t, "admin", ADMIN_PASSWORD).await;
    let csrf = hidden(&html(&b.get(&t, "/staff/admin/users").await), "csrf");
    let form = [
        ("csrf", csrf.as_str()),
        ("username", "Bad Name"),
        ("display_name", "Wang Wu"),
        ("password", "short-1"),
        ("departments", "customer-service"),
        ("level", "500"),
        ("email", "not-an-address"),
    ];
    let a = b.post_form(&t, "/staff/admin/user?lang=en", &form).await;
    assert_eq!(a.status.as_u16(), 422);
    let page = html(&a);
    assert!(
        page.contains("value=\"Bad Name\" aria-invalid=\"true\""),
        "{page}"
    );
    assert!(page.contains("value=\"Wang Wu\""), "{page}");
    assert!(
        page.contains("value=\"not-an-address\" aria-invalid=\"true\""),
        "{page}"
    );
    assert!(
        page.contains("value=\"500\" min=\"0\" aria-invalid=\"true\""),
        "{page}"
    );
    assert!(
        page.contains("id=\"u-dept-customer-service\" checked"),
        "the ticked box stays ticked: {page}"
    );
    assert!(!page.contains("short-1"), "a password is never sent back");
    for id in ["u-name", "u-password", "u-roles", "u-level", "u-email"] {
        assert!(page.contains(&format!("id=\"{id}-error\"")), "{id}: {page}");
    }
    // In English the page has no Chinese at all (the names are English).
    assert!(!has_cjk(main_of(&page)), "{page}");
    // In Chinese, the same reasons in Chinese.
    let a = b.post_form(&t, "/staff/admin/user?lang=zh-CN", &form).await;
    let page = html(&a);
    let reason = page
        .split("id=\"u-level-error\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(has_cjk(reason), "{reason}");
    assert!(
        t.app
            .store
            .get_user_by_username("Bad Name")
            .await
            .unwrap()
            .is_none()
    );
    // A forged head (not a user) is named at the head's list.
    let a = b
        .post_form(
            &t,
            "/staff/admin/department",
            &[
                ("csrf", &csrf),
                ("code", "care"),
                ("name", "关怀部"),
                ("head", "nobody"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    let page = html(&a);
    assert!(page.contains("id=\"d-head-error\""), "{page}");
    assert!(
        page.contains("value=\"care\"") && page.contains("value=\"关怀部\""),
        "{page}"
    );
}

/// Edit pages show the current values; what is left blank of an optional
/// field keeps it; deactivation is confirmed.
async fn edit_forms_are_prefilled_and_blank_optional_fields_keep_their_value() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    t.call(
        "PATCH",
        "/admin/users/handler1",
        Some(&t.admin),
        Some(json!({"email": "handler1@example.com", "display_name": "Han Del"})),
    )
    .await
    .expect(200);
    let mut b = console_as(&t, "admin", ADMIN_PASSWORD).await;
    let users = html(&b.get(&t, "/staff/admin/users?lang=en").await);
    assert!(
        users.contains("href=\"/staff/admin/users/handler1\""),
        "{users}"
    );
    assert!(
        users.contains("Customer Service") && !has_cjk(main_of(&users)),
        "{users}"
    );
    let page = html(&b.get(&t, "/staff/admin/users/handler1?lang=zh-CN").await);
    let csrf = hidden(&page, "csrf");
    for prefilled in [
        "id=\"e-display\" name=\"display_name\" type=\"text\" value=\"Han Del\"",
        "id=\"e-email\" name=\"email\" type=\"email\" value=\"handler1@example.com\"",
        "id=\"e-level\" name=\"level\" type=\"number\" value=\"1\"",
        "id=\"e-role-handler\" checked",
        "id=\"e-dept-customer-service\" checked",
    ] {
        assert!(page.contains(prefilled), "{prefilled}: {page}");
    }
    assert!(!page.contains("id=\"e-role-intake\" checked"));
    assert_eq!(
        b.get(&t, "/staff/admin/users/nobody").await.status.as_u16(),
        404
    );
    // Saved with the e-mail left blank: kept. Roles as ticked.
    let (to, page) = post_and_follow(
        &mut b,
        &t,
        "/staff/admin/user-edit",
        &[
            ("csrf", &csrf),
            ("username", "handler1"),
            ("display_name", "Han Del"),
            ("roles", "handler"),
            ("roles", "reviewer"),
            ("departments", "customer-service"),
            ("level", "2"),
            ("email", ""),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(to, "/staff/admin/users?done=user-saved");
    assert!(page.contains("工作人员账号已保存"), "{page}");
    let user = t
        .app
        .store
        .get_user_by_username("handler1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        user.email.as_deref(),
        Some("handler1@example.com"),
        "blank keeps"
    );
    assert_eq!(user.level, 2);
    assert_eq!(
        user.roles,
        [
            redress_domain::Role::Handler,
            redress_domain::Role::Reviewer
        ]
    );
    assert!(
        !user.must_change_password,
        "a blank password changes nothing"
    );
    // Cleared only when asked.
    post_and_follow(
        &mut b,
        &t,
        "/staff/admin/user-edit",
        &[
            ("csrf", &csrf),
            ("username", "handler1"),
            ("roles", "handler"),
            ("departments", "customer-service"),
            ("email", ""),
            ("clear_email", "1"),
        ],
    )
    .await;
    let user = t
        .app
        .store
        .get_user_by_username("handler1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.email, None);
    // Deactivation needs its confirmation; the user is then locked out.
    let a = b
        .post_form(
            &t,
            "/staff/admin/user-deactivate",
            &[("csrf", &csrf), ("username", "handler1")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    assert!(
        html(&a).contains("id=\"deactivate-confirm-error\""),
        "{}",
        html(&a)
    );
    t.get("/complaints", Some(&c.handler)).await.expect(200);
    let (to, page) = post_and_follow(
        &mut b,
        &t,
        "/staff/admin/user-deactivate",
        &[("csrf", &csrf), ("username", "handler1"), ("confirm", "1")],
    )
    .await;
    assert_eq!(to, "/staff/admin/users?done=user-deactivated");
    assert!(page.contains("已停用"), "{page}");
    t.get("/complaints", Some(&c.handler))
        .await
        .expect_error(401);
    let page = html(&b.get(&t, "/staff/admin/users/handler1").await);
    assert!(page.contains("id=\"user-activate-form\""), "{page}");

    // A department: prefilled; a blank English name keeps it; the head is
    // chosen from the users.
    let page = html(&b.get(&t, "/staff/admin/departments/customer-service").await);
    assert!(
        page.contains("id=\"de-name\" name=\"name\" type=\"text\" value=\"客户服务部\""),
        "{page}"
    );
    assert!(page.contains("value=\"Customer Service\""), "{page}");
    assert!(
        page.contains("<option value=\"\">— 无 —</option>"),
        "{page}"
    );
    let (to, _) = post_and_follow(
        &mut b,
        &t,
        "/staff/admin/department-edit",
        &[
            ("csrf", &csrf),
            ("code", "customer-service"),
            ("name", "客服部"),
            ("name_en", ""),
            ("head", "super1"),
            ("review", "1"),
        ],
    )
    .await;
    assert_eq!(to, "/staff/admin/departments?done=department-saved");
    let d = t
        .get("/admin/departments", Some(&t.admin))
        .await
        .expect(200);
    let cs = d["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "customer-service")
        .unwrap()
        .clone();
    assert_eq!(cs["name"], "客服部");
    assert_eq!(cs["name_en"], "Customer Service", "blank keeps");
    assert_eq!(cs["head"], "super1");
    assert_eq!(cs["review"], true);
    let page = html(&b.get(&t, "/staff/admin/departments/customer-service").await);
    assert!(
        page.contains("<option value=\"super1\" selected>"),
        "{page}"
    );
    assert!(page.contains("id=\"de-review\" checked"), "{page}");
    // An emptied name is refused; what was typed stays.
    let a = b
        .post_form(
            &t,
            "/staff/admin/department-edit",
            &[
                ("csrf", &csrf),
                ("code", "customer-service"),
                ("name", ""),
                ("name_en", "Service Desk"),
                ("head", ""),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    let page = html(&a);
    assert!(page.contains("id=\"de-name-error\""), "{page}");
    assert!(page.contains("value=\"Service Desk\""), "{page}");
    assert!(page.contains("<option value=\"\">"), "{page}");
    assert!(
        !page.contains("<option value=\"super1\" selected>"),
        "as typed: {page}"
    );

    // A category: prefilled with its department and lengths.
    let page = html(&b.get(&t, "/staff/admin/categories/delivery").await);
    assert!(
        page.contains("<option value=\"customer-service\" selected>"),
        "{page}"
    );
    assert!(page.contains("value=\"Delivery\""), "{page}");
    post_and_follow(
        &mut b,
        &t,
        "/staff/admin/category-edit",
        &[
            ("csrf", &csrf),
            ("code", "delivery"),
            ("name", "物流配送"),
            ("name_en", ""),
            ("department", "trust-safety"),
            ("handling_days", "9"),
            ("appeal_days", ""),
            ("review_days", ""),
            ("respondent_reply_days", ""),
        ],
    )
    .await;
    let cat = t
        .app
        .store
        .list_categories()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == "delivery")
        .unwrap();
    assert_eq!(cat.department, "trust-safety");
    assert_eq!(cat.handling_days, Some(9));
    assert_eq!(cat.name_en.as_deref(), Some("Delivery"), "blank keeps");
    let page = html(&b.get(&t, "/staff/admin/categories/delivery").await);
    assert!(page.contains("value=\"9\""), "{page}");
    assert!(
        page.contains("<option value=\"trust-safety\" selected>"),
        "{page}"
    );
    let en = html(&b.get(&t, "/staff/admin/categories?lang=en").await);
    assert!(
        en.contains("Trust &#38; Safety"),
        "department by its English name: {en}"
    );
}

tests![
    an_inactive_user_is_locked_out_at_once,
    a_category_change_applies_to_cases_accepted_afterwards,
    admins_list_users_departments_and_respondents_without_secrets,
    admins_change_a_department_and_leave_out_what_they_do_not_give,
    admins_manage_the_installation_from_the_sub_pages,
    the_calendar_page_offers_every_year_with_data,
    a_refused_form_keeps_what_was_typed_with_reasons_in_the_page_language,
    edit_forms_are_prefilled_and_blank_optional_fields_keep_their_value,
];
