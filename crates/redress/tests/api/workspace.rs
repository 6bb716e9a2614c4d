//! The staff console as a workspace (issue: "an agent workspace"): each
//! role is offered the actions it may take in the case's state and no
//! others; the navigation shows what the user may use; a handler takes an
//! unassigned case; a stale form is not applied; refusing asks for a
//! confirmation and keeps what was typed; the activity shows names and
//! reasons, not codes, with views of personal data summarised; remedies
//! and sanctions have structure (kind, amount, currency, duration), through
//! the API as well.

use serde_json::{Value, json};

use crate::harness::*;
use crate::pages::{console, console_as, hidden, html};

/// The action forms a case page offers, by their form's action path.
fn offered(page: &str, id: &str) -> Vec<String> {
    let prefix = format!("action=\"/staff/cases/{id}/");
    page.match_indices(&prefix)
        .map(|(i, _)| {
            let rest = &page[i + prefix.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .collect()
}

async fn each_role_is_offered_what_it_may_do_now() {
    let t = TestApp::new().await;
    let _c = t.cast().await;
    let f = t.filed(1).await;
    let id = f.id.as_str();
    let path = format!("/staff/cases/{id}");

    let mut intake = console(&t, "intake1").await;
    let page = html(&intake.get(&t, &path).await);
    let forms = offered(&page, id);
    for want in [
        "accept",
        "request-info",
        "reject",
        "assign",
        "message",
        "note",
    ] {
        assert!(
            forms.iter().any(|f| f == want),
            "intake lacks {want}: {forms:?}"
        );
    }
    for not in ["decide", "extend", "review", "take", "erase"] {
        assert!(
            !forms.iter().any(|f| f == not),
            "intake offered {not}: {forms:?}"
        );
    }
    // Accepting from the page: redirect with a message, the case changed.
    let csrf = hidden(&page, "csrf");
    let version = hidden(&page, "version");
    let a = intake
        .post_form(
            &t,
            &format!("{path}/accept"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("category", "refunds-returns"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    assert_eq!(
        a.headers["location"],
        format!("{path}?done=accept").as_str()
    );
    let page = html(&intake.get(&t, &format!("{path}?done=accept")).await);
    assert!(page.contains("id=\"notice\""), "{page}");
    assert!(page.contains("已受理。"), "{page}");
    assert!(page.contains("正在处理"), "{page}");
    let forms = offered(&page, id);
    assert!(
        !forms.iter().any(|f| f == "accept" || f == "decide"),
        "{forms:?}"
    );

    // The handler of the department: decide, extend, take; not accept.
    let mut handler = console(&t, "handler1").await;
    let page = html(&handler.get(&t, &path).await);
    let forms = offered(&page, id);
    for want in ["decide", "extend", "take", "pause", "message"] {
        assert!(
            forms.iter().any(|f| f == want),
            "handler lacks {want}: {forms:?}"
        );
    }
    for not in ["accept", "reject", "assign", "review", "erase"] {
        assert!(
            !forms.iter().any(|f| f == not),
            "handler offered {not}: {forms:?}"
        );
    }
    // Taking the case.
    let csrf = hidden(&page, "csrf");
    let a = handler
        .post_form(&t, &format!("{path}/take"), &[("csrf", &csrf)])
        .await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    let case = t.case(id, &_c.supervisor).await;
    assert_eq!(case["assignee"], "handler1");
    let page = html(&handler.get(&t, &path).await);
    assert!(!offered(&page, id).iter().any(|f| f == "take"));
    assert!(
        page.contains("此案件已由您办理") || page.contains("id=\"assignee\">handler1<"),
        "{page}"
    );

    // The reviewer sees the case only once it is appealed, and is then
    // offered the review with the appeal and the original decision.
    t.act(id, "decide", &_c.handler, decision()).await;
    t.track_act(&f, "appeal", json!({"reason": "金额不对，应全额退款"}))
        .await;
    let mut reviewer = console(&t, "reviewer1").await;
    let page = html(&reviewer.get(&t, &path).await);
    let forms = offered(&page, id);
    assert!(forms.iter().any(|f| f == "review"), "{forms:?}");
    assert!(
        !forms.iter().any(|f| f == "decide" || f == "accept"),
        "{forms:?}"
    );
    assert!(page.contains("金额不对，应全额退款"), "{page}");
}

async fn the_navigation_shows_what_the_user_may_use() {
    let t = TestApp::new().await;
    let _c = t.cast().await;
    let mut handler = console(&t, "handler1").await;
    let page = html(&handler.get(&t, "/staff").await);
    assert!(page.contains("href=\"/staff/cases\""), "{page}");
    assert!(!page.contains("href=\"/staff/reports\""), "{page}");
    assert!(!page.contains("href=\"/staff/admin\""), "{page}");
    assert!(!page.contains("href=\"/staff/intake\""), "{page}");
    // A page the user may not use says so (not "form expired").
    let a = handler.get(&t, "/staff/reports").await;
    assert_eq!(a.status.as_u16(), 403);
    let page = html(&a);
    assert!(page.contains("没有进行此操作或查看此页面的权限"), "{page}");
    assert!(!page.contains("表单已过期"), "{page}");

    let mut supervisor = console(&t, "super1").await;
    let page = html(&supervisor.get(&t, "/staff").await);
    assert!(page.contains("href=\"/staff/reports\""), "{page}");

    // An admin starts on administration and is shown no case pages.
    let mut admin = console_as(&t, "admin", ADMIN_PASSWORD).await;
    let a = admin.get(&t, "/staff").await;
    assert_eq!(a.status.as_u16(), 303);
    assert_eq!(a.headers["location"], "/staff/admin");
    let page = html(&admin.get(&t, "/staff/admin").await);
    assert!(page.contains("href=\"/staff/admin\""), "{page}");
    assert!(!page.contains("href=\"/staff/cases\""), "{page}");
    let a = admin.get(&t, "/staff/cases").await;
    assert_eq!(a.status.as_u16(), 403);
    assert!(html(&a).contains("没有进行此操作或查看此页面的权限"));
}

async fn a_stale_or_unconfirmed_form_changes_nothing_and_keeps_what_was_typed() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.filed(1).await;
    let id = f.id.as_str();
    let path = format!("/staff/cases/{id}");
    let mut intake = console(&t, "intake1").await;
    let page = html(&intake.get(&t, &path).await);
    let csrf = hidden(&page, "csrf");
    let version = hidden(&page, "version");
    // Refusing without the ticked box: nothing happens, the text stays.
    let a = intake
        .post_form(
            &t,
            &format!("{path}/reject"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("reason", "不属于平台受理范围"),
                ("guidance", "请向市场监管部门反映"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    let page = html(&a);
    assert!(page.contains("请勾选确认框"), "{page}");
    assert!(page.contains(">不属于平台受理范围</textarea>"), "{page}");
    assert!(page.contains("id=\"act-reject\" open"), "{page}");
    assert_eq!(t.case(id, &c.supervisor).await["status"], "submitted");

    // Someone else acts meanwhile: the old page's form is not applied.
    t.act(
        id,
        "request-info",
        &c.intake,
        json!({"items": ["订单截图"]}),
    )
    .await;
    let a = intake
        .post_form(
            &t,
            &format!("{path}/reject"),
            &[
                ("csrf", &csrf),
                ("version", &version),
                ("reason", "不属于平台受理范围"),
                ("guidance", "请向市场监管部门反映"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 409);
    let page = html(&a);
    assert!(page.contains("此案件在您打开页面后已有变动"), "{page}");
    assert!(page.contains("等待投诉人补充材料"), "{page}");
    assert_eq!(t.case(id, &c.supervisor).await["status"], "needs_info");
    // In English the same, with staff wording.
    let a = intake
        .post_form(
            &t,
            &format!("{path}/reject?lang=en"),
            &[("csrf", &csrf), ("version", &version), ("confirm", "yes")],
        )
        .await;
    let page = html(&a);
    assert!(
        page.contains("This case changed after you opened the page"),
        "{page}"
    );
    assert!(
        page.contains("Waiting for the complainant&#39;s material")
            || page.contains("Waiting for the complainant's material"),
        "{page}"
    );
}

async fn the_activity_shows_names_reasons_and_summarised_views() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.accepted(&c, 1).await;
    let id = f.id.as_str();
    t.act(
        id,
        "extend",
        &c.handler,
        json!({"days": 5, "reason": "需要向物流公司调取签收记录"}),
    )
    .await;
    t.track_act(&f, "messages", json!({"body": "请尽快处理，谢谢。"}))
        .await;
    let path = format!("/staff/cases/{id}");
    let mut handler = console(&t, "handler1").await;
    for _ in 0..3 {
        handler.get(&t, &path).await;
    }
    let page = html(&handler.get(&t, &path).await);
    let activity = page
        .split("id=\"activity\"")
        .nth(1)
        .and_then(|rest| rest.split("</ol>").next())
        .expect("the activity list");
    for part in [
        "登记投诉",
        "受理",
        "延长处理期限",
        "需要向物流公司调取签收记录",
        "投诉人来信",
        "请尽快处理，谢谢。",
        "退款退货",
        "查看个人信息 4 次",
    ] {
        assert!(activity.contains(part), "{part:?} missing in {activity}");
    }
    for raw in [
        "registered",
        "personal_data_viewed",
        "complainant:",
        "refunds-returns",
    ] {
        assert!(!activity.contains(raw), "{raw:?} shown in {activity}");
    }
    assert_eq!(activity.matches("查看个人信息").count(), 1, "{activity}");
    // The side column names the category and department, not codes.
    assert!(page.contains("id=\"category-name\">退款退货<"), "{page}");
    assert!(
        !page.contains("id=\"department\">customer-service<"),
        "{page}"
    );
    // English mode: English words for the same.
    let page = html(&handler.get(&t, &format!("{path}?lang=en")).await);
    for part in [
        "extended the handling deadline",
        "From the complainant",
        "viewed personal data",
    ] {
        assert!(page.contains(part), "{part:?} missing in {page}");
    }
}

async fn remedies_and_sanctions_have_kind_amount_currency_and_duration() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.accepted(&c, 1).await;
    let id = f.id.as_str();
    let base = json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "全额退款。"});
    let with = |extra: Value| {
        let mut b = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    // Three decimals, a lower-case currency, a duration of 0: each named.
    let reasons = t
        .action(
            id,
            "decide",
            &c.handler,
            with(json!({
                "remedies": [{"kind": "refund", "amount": 10.005, "currency": "cny"}],
                "sanctions": [{"kind": "suspension", "duration_days": 0}]
            })),
        )
        .await
        .expect_reasons();
    assert_eq!(reasons["remedies[0].amount"], "invalid", "{reasons}");
    assert_eq!(reasons["remedies[0].currency"], "invalid", "{reasons}");
    assert_eq!(
        reasons["sanctions[0].duration_days"], "out_of_range",
        "{reasons}"
    );
    assert_eq!(t.case(id, &c.supervisor).await["status"], "in_progress");
    // The structured shape, and the older one beside it, are both taken;
    // an amount without a currency is in CNY.
    let case = t
        .act(
            id,
            "decide",
            &c.handler,
            with(json!({
                "remedies": [{"kind": "refund", "description": "全额退款", "amount": 199.5}, "apology"],
                "sanctions": [{"kind": "suspension", "description": "暂停上架", "duration_days": 30}]
            })),
        )
        .await;
    let remedy = &case["decision"]["remedies"][0];
    assert_eq!(remedy["amount"], 199.5);
    assert_eq!(remedy["currency"], "CNY");
    assert_eq!(case["decision"]["remedies"][1]["kind"], "apology");
    assert_eq!(case["decision"]["sanctions"][0]["duration_days"], 30);
    // The page shows them in words.
    let mut handler = console(&t, "handler1").await;
    let page = html(&handler.get(&t, &format!("/staff/cases/{id}")).await);
    for part in [
        "退款：全额退款（199.50 CNY）",
        "赔礼道歉",
        "暂停经营或账号：暂停上架（30 天）",
    ] {
        assert!(page.contains(part), "{part:?} missing in {page}");
    }
}

async fn files_open_in_place_only_when_they_are_safe_pictures_or_pdf() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.accepted(&c, 1).await;
    let id = f.id.as_str();
    let path = format!("/staff/cases/{id}");
    let mut handler = console(&t, "handler1").await;
    let page = html(&handler.get(&t, &path).await);
    let csrf = hidden(&page, "csrf");
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";
    for (name, bytes) in [("收据.png", png), ("记录.txt", b"call notes" as &[u8])] {
        let a = handler
            .post_multipart(
                &t,
                &format!("{path}/evidence"),
                &[("csrf", &csrf)],
                Some((name, bytes)),
            )
            .await;
        assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    }
    let case = t.case(id, &c.supervisor).await;
    let files = case["evidence"].as_array().unwrap();
    let page = html(&handler.get(&t, &path).await);
    for file in files {
        let fid = file["id"].as_str().unwrap();
        let a = handler.get(&t, &format!("{path}/evidence/{fid}")).await;
        assert_eq!(a.status.as_u16(), 200);
        let disposition = a.headers["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        let csp = a.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("sandbox"), "{csp}");
        assert_eq!(a.headers["x-content-type-options"], "nosniff");
        if file["content_type"] == "image/png" {
            assert!(disposition.starts_with("inline"), "{disposition}");
        } else {
            assert!(disposition.starts_with("attachment"), "{disposition}");
            assert!(
                page.contains(&format!("/evidence/{fid}\" download>")),
                "{page}"
            );
        }
    }
    // Who uploaded each file is shown.
    assert!(page.contains("handler1 上传了文件"), "{page}");
}

/// A real 2 × 2 PNG.
const PNG: &[u8] = b"\x89PNG\x0d\x0a\x1a\x0a\x00\x00\x00\x0dIHDR\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9as\x00\x00\x00\x10IDATx\x9cc8!'\x07D\x0c\x10\x0a\x00\x1f&\x04\x11\xa2\x8f\x22\xaf\x00\x00\x00\x00IEND\xaeB`\x82";

async fn pictures_get_a_thumbnail_at_upload_that_goes_with_the_case() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let filed = t.file(complaint(7)).await;
    let (id, no, token) = (
        s(&filed["id"]),
        s(&filed["tracking_no"]),
        s(&filed["access_token"]),
    );
    // The same picture with a header claiming 50,000 × 50,000 pixels (a
    // decompression bomb): stored as evidence, but never decoded.
    let mut bomb = PNG.to_vec();
    bomb[16..33].copy_from_slice(b"\x00\x00\xc3P\x00\x00\xc3P\x08\x02\x00\x00\x00\xc4\xcd\xaa\x9d");
    for (name, bytes) in [
        ("截图.png", PNG),
        ("炸弹.png", &bomb[..]),
        ("记录.txt", b"notes" as &[u8]),
    ] {
        t.upload(&format!("/track/{no}/evidence"), Some(token), name, bytes)
            .await
            .expect(200);
    }
    let case = t.case(id, &c.supervisor).await;
    let files = case["evidence"].as_array().unwrap();
    let thumbs: Vec<(&str, bool)> = files
        .iter()
        .map(|f| (s(&f["filename"]), f["thumbnail"] == true))
        .collect();
    assert_eq!(
        thumbs,
        [("截图.png", true), ("炸弹.png", false), ("记录.txt", false)]
    );
    let (picture, sha) = (s(&files[0]["id"]), s(&files[0]["sha256"]));

    // A JPEG, for staff who see the case, by API and on the case page.
    let path = format!("/complaints/{id}/evidence/{picture}/thumbnail");
    let a = t.get(&path, Some(&c.supervisor)).await;
    assert_eq!(a.status.as_u16(), 200);
    assert_eq!(a.headers["content-type"], "image/jpeg");
    assert_eq!(a.headers["x-content-type-options"], "nosniff");
    assert!(a.bytes.starts_with(&[0xff, 0xd8, 0xff]), "not a JPEG");
    t.get(&path, None).await.expect_error(401);
    for other in [&files[1], &files[2]] {
        let path = format!("/complaints/{id}/evidence/{}/thumbnail", s(&other["id"]));
        t.get(&path, Some(&c.supervisor)).await.expect_error(404);
    }
    let mut sup = console(&t, "super1").await;
    let page = html(&sup.get(&t, &format!("/staff/cases/{id}")).await);
    let src = format!("/staff/cases/{id}/evidence/{picture}/thumbnail");
    // The thumbnail repeats the file's link: hidden from screen readers
    // and the keyboard, which reach the named link beside it.
    assert!(
        page.contains(&format!("<img src=\"{src}\" alt=\"\"")),
        "{page}"
    );
    assert!(
        page.contains("tabindex=\"-1\" aria-hidden=\"true\""),
        "{page}"
    );
    let a = sup.get(&t, &src).await;
    assert_eq!(a.status.as_u16(), 200);
    assert_eq!(a.headers["content-type"], "image/jpeg");

    // Stored sealed with the case's key, and erased with the case.
    let stored = t.case_thumbnail(id, sha).await;
    let sealed = std::fs::read(&stored).unwrap();
    assert!(!sealed.starts_with(&[0xff, 0xd8]), "stored in the clear");
    t.post(
        &format!("/track/{no}/withdraw"),
        Some(token),
        json!({"reason": "已协商解决"}),
    )
    .await
    .expect(200);
    t.post(
        &format!("/complaints/{id}/erase"),
        Some(&c.supervisor),
        json!({"reason": "投诉人申请删除"}),
    )
    .await
    .expect(200);
    assert!(!stored.exists(), "the thumbnail is removed with the file");
}

async fn a_supervisor_assigns_several_cases_from_the_list() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let a = t.accepted(&c, 1).await;
    let b = t.accepted(&c, 2).await;
    // Not in the handler's department: refused, the others assigned.
    let other = t.filed(3).await;
    let mut sup = console(&t, "super1").await;
    let page = html(&sup.get(&t, "/staff/cases").await);
    assert!(page.contains("name=\"ids\""), "{page}");
    assert!(page.contains("id=\"bulk-handler\""), "{page}");
    // The list sorts by the next deadline first and says what is left.
    assert!(page.contains("个工作日"), "{page}");
    let csrf = hidden(&page, "csrf");
    let answer = sup
        .post_form(
            &t,
            "/staff/cases/bulk-assign",
            &[
                ("csrf", &csrf),
                ("ids", &a.id),
                ("ids", &b.id),
                ("ids", &other.id),
                ("handler", "handler1"),
            ],
        )
        .await;
    assert_eq!(answer.status.as_u16(), 303, "{}", html(&answer));
    assert_eq!(answer.headers["location"], "/staff/cases?assigned=2-1");
    let page = html(&sup.get(&t, "/staff/cases?assigned=2-1").await);
    assert!(page.contains("已指派 2 件；1 件未能指派"), "{page}");
    for (id, who) in [(&a.id, "handler1"), (&b.id, "handler1")] {
        assert_eq!(t.case(id, &c.supervisor).await["assignee"], who);
    }
    assert!(t.case(&other.id, &c.supervisor).await["assignee"].is_null());
    // A handler has no bulk form and may not post one.
    let mut handler = console(&t, "handler1").await;
    let page = html(&handler.get(&t, "/staff/cases").await);
    assert!(!page.contains("id=\"bulk-handler\""), "{page}");
    let csrf = hidden(&page, "csrf");
    let answer = handler
        .post_form(
            &t,
            "/staff/cases/bulk-assign",
            &[("csrf", &csrf), ("ids", &a.id), ("handler", "handler1")],
        )
        .await;
    assert_eq!(answer.status.as_u16(), 403);
}

tests![
    each_role_is_offered_what_it_may_do_now,
    the_navigation_shows_what_the_user_may_use,
    a_stale_or_unconfirmed_form_changes_nothing_and_keeps_what_was_typed,
    the_activity_shows_names_reasons_and_summarised_views,
    remedies_and_sanctions_have_kind_amount_currency_and_duration,
    files_open_in_place_only_when_they_are_safe_pictures_or_pdf,
    pictures_get_a_thumbnail_at_upload_that_goes_with_the_case,
    a_supervisor_assigns_several_cases_from_the_list,
];
