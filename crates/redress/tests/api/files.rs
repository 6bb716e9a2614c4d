//! People see what they did (issue 14 item 7, SPEC §7 and §11): evidence
//! opens for whoever may see it and for no one else; a file sent while
//! material is requested does not end the stage, the supplement does; the
//! pages list each party's files, confirm every action and show back what
//! was ordered, the appeal and the rating; an oversized file never loses
//! the form.

use serde_json::{Value, json};

use crate::harness::*;
use crate::pages::{Browser, hidden, html};

/// The id of the evidence named `filename` in a case view.
fn evidence_id(view: &Value, filename: &str) -> String {
    view["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["filename"] == filename)
        .unwrap_or_else(|| panic!("no {filename} in {}", view["evidence"]))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn files_open_for_whoever_may_see_them_and_no_one_else() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let portal = t.respondent("merchant", "shop-1").await;
    let f = t.file(complaint(1)).await;
    let (id, no, token) = (
        s(&f["id"]).to_string(),
        s(&f["tracking_no"]).to_string(),
        s(&f["access_token"]).to_string(),
    );
    t.act(
        &id,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;

    // One file from each side, and two from staff: one shared with the
    // complainant, one kept internal.
    t.upload(
        &format!("/track/{no}/evidence"),
        Some(&token),
        "收据.txt",
        "退款收据 A100".as_bytes(),
    )
    .await
    .expect(200);
    t.upload(
        &format!("/respondent/complaints/{id}/evidence"),
        Some(&portal),
        "发货单.txt",
        b"shipping note",
    )
    .await
    .expect(200);
    t.upload_with(
        &format!("/complaints/{id}/evidence"),
        Some(&c.handler),
        &[("share", "complainant")],
        "shared.txt",
        b"policy extract for the complainant",
    )
    .await
    .expect(200);
    t.upload(
        &format!("/complaints/{id}/evidence"),
        Some(&c.handler),
        "internal.txt",
        b"internal memo",
    )
    .await
    .expect(200);
    // An unknown party is refused by name, and nothing is stored.
    let fields = t
        .upload_with(
            &format!("/complaints/{id}/evidence"),
            Some(&c.handler),
            &[("share", "everyone")],
            "x.txt",
            b"x",
        )
        .await
        .expect_error(422);
    assert!(fields["share"].is_string(), "{fields}");

    let staff = t.case(&id, &c.handler).await;
    assert_eq!(
        staff["evidence"].as_array().unwrap().len(),
        4,
        "x.txt was not stored"
    );
    let own = evidence_id(&staff, "收据.txt");
    let theirs = evidence_id(&staff, "发货单.txt");
    let shared = evidence_id(&staff, "shared.txt");
    let internal = evidence_id(&staff, "internal.txt");

    // The complainant sees their own file and the shared one, in the view
    // and by download, and nothing else.
    let tracked = t
        .get(&format!("/track/{no}"), Some(&token))
        .await
        .expect(200);
    let names: Vec<&str> = tracked["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["filename"]))
        .collect();
    assert_eq!(names, vec!["收据.txt", "shared.txt"]);
    let a = t
        .get(&format!("/track/{no}/evidence/{own}"), Some(&token))
        .await;
    assert_eq!(a.status.as_u16(), 200);
    assert_eq!(a.bytes, "退款收据 A100".as_bytes());
    assert_eq!(a.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(a.headers["x-content-type-options"], "nosniff");
    assert!(
        s(&json!(
            a.headers["content-security-policy"].to_str().unwrap()
        ))
        .contains("sandbox")
    );
    let a = t
        .get(&format!("/track/{no}/evidence/{shared}"), Some(&token))
        .await;
    assert_eq!(a.status.as_u16(), 200);
    assert_eq!(a.bytes, b"policy extract for the complainant");
    for hidden_id in [&theirs, &internal, &"no-such-file".to_string()] {
        t.get(&format!("/track/{no}/evidence/{hidden_id}"), Some(&token))
            .await
            .expect_error(404);
    }
    // A wrong code opens nothing.
    t.get(
        &format!("/track/{no}/evidence/{own}"),
        Some("WRONG-CODE-0000"),
    )
    .await
    .expect_error(401);

    // The respondent: their own file only (the shared one was for the
    // complainant).
    let a = t
        .get(
            &format!("/respondent/complaints/{id}/evidence/{theirs}"),
            Some(&portal),
        )
        .await;
    assert_eq!(a.status.as_u16(), 200);
    assert_eq!(a.bytes, b"shipping note");
    for hidden_id in [&own, &shared, &internal] {
        t.get(
            &format!("/respondent/complaints/{id}/evidence/{hidden_id}"),
            Some(&portal),
        )
        .await
        .expect_error(404);
    }
    // Another respondent sees nothing of the case.
    let other = t.respondent("merchant", "shop-2").await;
    let a = t
        .get(
            &format!("/respondent/complaints/{id}/evidence/{theirs}"),
            Some(&other),
        )
        .await;
    assert!(matches!(a.status.as_u16(), 403 | 404), "{}", a.status);

    // Staff who see the case open every file; each view is journaled.
    for (eid, bytes) in [
        (&internal, &b"internal memo"[..]),
        (&theirs, &b"shipping note"[..]),
    ] {
        let a = t
            .get(
                &format!("/complaints/{id}/evidence/{eid}"),
                Some(&c.handler),
            )
            .await;
        assert_eq!(a.status.as_u16(), 200);
        assert_eq!(a.bytes, bytes);
    }
    let case = t.case(&id, &c.supervisor).await;
    let viewed: Vec<&Value> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "evidence_viewed")
        .collect();
    assert_eq!(viewed.len(), 2, "{}", case["events"]);
    assert_eq!(viewed[0]["data"]["evidence_id"], json!(internal));
    assert!(
        viewed[0]["actor"].to_string().contains("handler1"),
        "{}",
        viewed[0]
    );
    // A handler of another department does not.
    let outsider = t
        .staff("handler9", &["handler"], &["trust-safety"], 1)
        .await;
    let a = t
        .get(
            &format!("/complaints/{id}/evidence/{internal}"),
            Some(&outsider),
        )
        .await;
    assert!(matches!(a.status.as_u16(), 403 | 404), "{}", a.status);
}

async fn a_file_sent_for_requested_material_waits_for_the_supplement() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = t.file(complaint(2)).await;
    let (id, no, token) = (s(&f["id"]), s(&f["tracking_no"]), s(&f["access_token"]));
    t.act(
        &id,
        "request-info",
        &c.intake,
        json!({"items": ["订单截图", "聊天记录"]}),
    )
    .await;
    // Without a file or a message, the supplement says what is missing.
    let fields = t
        .post(&format!("/track/{no}/supplement"), Some(token), json!({}))
        .await
        .expect_error(422);
    assert!(fields["message"].is_string(), "{fields}");

    // Two files, one at a time: the stage goes on after each.
    for name in ["截图.txt", "聊天.txt"] {
        let after = t
            .upload(
                &format!("/track/{no}/evidence"),
                Some(token),
                name,
                name.as_bytes(),
            )
            .await
            .expect(200);
        assert_eq!(
            after["status"], "needs_info",
            "a file does not end the stage"
        );
        assert_eq!(after["actions"]["supplement"], true);
    }
    // Then the person ends it, without a message now that files came.
    let done = t
        .post(&format!("/track/{no}/supplement"), Some(token), json!({}))
        .await
        .expect(200);
    assert_eq!(done["status"], "submitted");
    assert_eq!(done["evidence"].as_array().unwrap().len(), 2);
    let case = t.case(&id, &c.supervisor).await;
    let kinds: Vec<&str> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["kind"]))
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "supplemented").count(),
        1,
        "{kinds:?}"
    );
}

async fn the_pages_show_each_party_what_they_did() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let portal = t.respondent("merchant", "shop-1").await;
    let mut b = Browser::default();
    let page = html(&b.get(&t, "/complain").await);
    let (csrf, nonce) = (hidden(&page, "csrf"), hidden(&page, "nonce"));
    let form = [
        ("csrf", csrf.as_str()),
        ("nonce", nonce.as_str()),
        ("complainant.name", "李四"),
        ("complainant.phone", "13900001111"),
        ("respondent.kind", "merchant"),
        ("respondent.id", "shop-1"),
        ("subject", "申请退款被拒绝"),
        ("description", "商家拒绝退款，订单 A100。"),
    ];
    let done = html(
        &b.post_multipart(
            &t,
            "/complain",
            &form,
            Some(("收据.txt", "收据内容".as_bytes())),
        )
        .await,
    );
    let no = done
        .split("id=\"tracking-no\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let listed = t.get("/complaints", Some(&c.supervisor)).await.expect(200);
    let id = s(&listed["items"][0]["id"]).to_string();

    // The tracking page lists the file with a link that opens it.
    let page = html(&b.get(&t, &format!("/track/{no}")).await);
    assert!(page.contains("收据.txt"), "{page}");
    assert!(page.contains("你上传的"));
    let link = page
        .split(&format!("href=\"/track/{no}/evidence/"))
        .nth(1)
        .expect("a link to the file")
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let a = b.get(&t, &format!("/track/{no}/evidence/{link}")).await;
    assert_eq!(a.status.as_u16(), 200);
    assert_eq!(a.bytes, "收据内容".as_bytes());

    // A message from the page is confirmed after the redirect.
    let page_csrf = hidden(&page, "csrf");
    let a = b
        .post_form(
            &t,
            &format!("/track/{no}/message"),
            &[("csrf", &page_csrf), ("body", "请尽快处理")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let to = a.headers["location"].to_str().unwrap().to_string();
    assert_eq!(to, format!("/track/{no}?done=message"));
    let page = html(&b.get(&t, &to).await);
    assert!(page.contains("留言已发送。"), "{page}");

    // Decided with a remedy: the page shows what was ordered.
    t.act(
        &id,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    t.act(
        &id,
        "decide",
        &c.handler,
        json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将全额退款。",
               "remedies": [{"kind": "refund", "description": "全额退款", "amount": 199.0}]}),
    )
    .await;
    let page = html(&b.get(&t, &format!("/track/{no}")).await);
    assert!(page.contains("为你作出的补救"), "{page}");
    assert!(page.contains("refund: 全额退款 (199.00 CNY)"), "{page}");

    // The rating and the appeal are shown back once given.
    let a = b
        .post_form(
            &t,
            &format!("/track/{no}/feedback"),
            &[("csrf", &page_csrf), ("score", "2"), ("comment", "太慢了")],
        )
        .await;
    assert_eq!(
        a.headers["location"],
        format!("/track/{no}?done=feedback").as_str()
    );
    let a = b
        .post_form(
            &t,
            &format!("/track/{no}/appeal"),
            &[("csrf", &page_csrf), ("reason", "退款金额不对，少了运费")],
        )
        .await;
    let to = a.headers["location"].to_str().unwrap().to_string();
    let page = html(&b.get(&t, &to).await);
    assert!(page.contains("复核申请已提交"), "{page}");
    assert!(page.contains("退款金额不对，少了运费"));
    assert!(page.contains("你对处理的评分：2 分"));
    assert!(page.contains("太慢了"));

    // The English page says the same in English.
    let page = html(&b.get(&t, &format!("/track/{no}?lang=en")).await);
    assert!(page.contains("Ordered for you:"), "{page}");
    assert!(page.contains("You rated the handling 2 out of 5."));
    assert!(page.contains("sent by you"));

    // The respondent portal lists their upload with its link, and
    // confirms it.
    let mut r = Browser::default();
    let key_page = html(&r.get(&t, "/respondent").await);
    let rcsrf = hidden(&key_page, "csrf");
    r.post_form(&t, "/respondent", &[("csrf", &rcsrf), ("key", &portal)])
        .await;
    t.upload(
        &format!("/respondent/complaints/{id}/evidence"),
        Some(&portal),
        "发货单.txt",
        b"shipping note",
    )
    .await;
    let page = html(&r.get(&t, "/respondent/cases?done=evidence").await);
    assert!(page.contains("文件已添加。"), "{page}");
    assert!(page.contains("发货单.txt"));
    assert!(
        !page.contains("收据.txt"),
        "the complainant's file is theirs"
    );
    let link = page
        .split(&format!("href=\"/respondent/cases/{id}/evidence/"))
        .nth(1)
        .expect("a link to the file")
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let a = r
        .get(&t, &format!("/respondent/cases/{id}/evidence/{link}"))
        .await;
    assert_eq!(a.bytes, b"shipping note");
}

async fn an_oversized_file_keeps_the_form() {
    let t = TestApp::with(|c| c.evidence_max_bytes = 1024).await;
    let c = t.cast().await;
    let mut b = Browser::default();
    let page = html(&b.get(&t, "/complain").await);
    // The page tells the browser the limit, for the check before sending.
    assert!(page.contains("data-max=\"1024\""), "{page}");
    let (csrf, nonce) = (hidden(&page, "csrf"), hidden(&page, "nonce"));
    let form = [
        ("csrf", csrf.as_str()),
        ("nonce", nonce.as_str()),
        ("complainant.name", "王五"),
        ("complainant.email", "wang@example.com"),
        ("respondent.kind", "merchant"),
        ("respondent.id", "shop-7"),
        ("subject", "商品与描述不符"),
        ("description", "收到的商品颜色和尺码都不对，要求退货。"),
    ];
    let big = vec![b'a'; 3000];
    let a = b
        .post_multipart(&t, "/complain", &form, Some(("big.txt", &big)))
        .await;
    assert_eq!(a.status.as_u16(), 413);
    let page = html(&a);
    // What was typed is still there, the reason beside the file field.
    assert!(
        page.contains("收到的商品颜色和尺码都不对，要求退货。"),
        "{page}"
    );
    assert!(page.contains("value=\"wang@example.com\""));
    assert!(page.contains("文件过大"));
    let file_field = page.split("id=\"file\"").nth(1).unwrap();
    assert!(
        file_field.find("文件过大").unwrap() < file_field.find("</div>").unwrap(),
        "the error sits with the file field"
    );
    // Nothing was filed.
    let listed = t.get("/complaints", Some(&c.supervisor)).await.expect(200);
    assert_eq!(listed["total"], 0);
    // Sent again with a small file, the same form files once.
    let page_nonce = hidden(&page, "nonce");
    assert_eq!(page_nonce, nonce, "the form keeps its nonce");
    let a = b
        .post_multipart(&t, "/complain", &form, Some(("small.txt", b"ok")))
        .await;
    assert_eq!(a.status.as_u16(), 200);
    let listed = t.get("/complaints", Some(&c.supervisor)).await.expect(200);
    assert_eq!(listed["total"], 1);

    // The tracking page's upload answers 413 with the page and the reason.
    let no = s(&listed["items"][0]["tracking_no"]).to_string();
    let page = html(&b.get(&t, &format!("/track/{no}")).await);
    let a = b
        .post_multipart(
            &t,
            &format!("/track/{no}/evidence"),
            &[("csrf", &hidden(&page, "csrf"))],
            Some(("big.txt", &big)),
        )
        .await;
    assert_eq!(a.status.as_u16(), 413);
    assert!(html(&a).contains("文件过大"));
    assert!(html(&a).contains(&no));
}

tests![
    files_open_for_whoever_may_see_them_and_no_one_else,
    a_file_sent_for_requested_material_waits_for_the_supplement,
    the_pages_show_each_party_what_they_did,
    an_oversized_file_keeps_the_form,
];
