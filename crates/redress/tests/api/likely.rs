//! Likely duplicates and likely categories (SPEC §10/§11; issue 16 items
//! 6 and 7): `GET /complaints/{id}/similar` finds near-duplicates from any
//! complainant against the same respondent or in the same category within
//! 90 days, among the cases the caller may see; the same-parties flag
//! compares phone numbers by their digits; `GET
//! /complaints/{id}/suggestions` learns categories from accepted cases and
//! offers none of a category with fewer than 10; the staff case page shows
//! both.

use serde_json::{Value, json};

use crate::harness::*;
use crate::pages::{console, html};

/// A registration by complainant `n` against `shop` with `text` as its
/// subject's start and its whole description.
fn about(n: u32, shop: &str, text: &str) -> Value {
    let subject: String = text.chars().take(20).collect();
    json!({
        "complainant": {"name": format!("投诉人{n}"), "email": format!("p{n}@example.com")},
        "respondent": {"kind": "merchant", "id": shop, "name": format!("店铺{shop}")},
        "subject": subject,
        "description": text,
    })
}

async fn filed(t: &TestApp, body: Value) -> Filed {
    Filed::from(&t.file(body).await)
}

async fn filed_and_accepted(t: &TestApp, c: &Cast, body: Value, category: &str) -> Filed {
    let f = filed(t, body).await;
    t.act(&f.id, "accept", &c.intake, json!({"category": category}))
        .await;
    f
}

/// The tracking numbers a `/similar` answer lists, with their scores.
async fn similar(t: &TestApp, id: &str, token: &str) -> Vec<(String, f64)> {
    let a = t
        .get(&format!("/complaints/{id}/similar"), Some(token))
        .await
        .expect(200);
    a["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert!(i["id"].is_string() && i["subject"].is_string(), "{i}");
            (
                s(&i["tracking_no"]).to_string(),
                i["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

const ROBOT: &str = "扫地机器人用了两周就充不进电，指示灯一直闪红灯，联系客服说要寄回检测，\
    已经等了十天还没有结果，要求换新机。";
/// The same complaint in other words here and there.
const ROBOT_AGAIN: &str = "扫地机器人用了两周就充不进电，指示灯一直闪红灯，联系客服说要寄回检测，\
    已经等了半个月还没有结果，要求退货退款。";
const UNRELATED: &str = "下单时页面显示包邮，结算时却加收了二十元运费，客服不予解释。";

async fn near_duplicates_are_found_across_complainants_within_90_days() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let other_handler = t
        .staff("handler2", &["handler"], &["trust-safety"], 1)
        .await;
    // The same text, filed 91 days before: too old.
    let old = filed_and_accepted(&t, &c, about(1, "shop-1", ROBOT), "refunds-returns").await;
    t.advance(91 * 86_400).await;
    let case = filed_and_accepted(&t, &c, about(2, "shop-1", ROBOT), "refunds-returns").await;
    // Another complainant, same respondent, a near-duplicate.
    let near = filed_and_accepted(&t, &c, about(3, "shop-1", ROBOT_AGAIN), "refunds-returns").await;
    // Another respondent but the same category: found too.
    let by_category =
        filed_and_accepted(&t, &c, about(4, "shop-2", ROBOT_AGAIN), "refunds-returns").await;
    // Same respondent, another text.
    let unrelated =
        filed_and_accepted(&t, &c, about(5, "shop-1", UNRELATED), "refunds-returns").await;
    // The same text in a department handler1 does not see.
    let hidden = filed_and_accepted(&t, &c, about(6, "shop-1", ROBOT), "account-security").await;

    let listed = similar(&t, &case.id, &c.supervisor).await;
    let nos: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    // Best first: the identical text, then the near-duplicates.
    assert_eq!(nos[0], hidden.no, "{listed:?}");
    assert_eq!(listed[0].1, 1.0);
    for f in [&near, &by_category] {
        let score = listed.iter().find(|(n, _)| *n == f.no).map(|(_, s)| *s);
        assert!(
            score.is_some_and(|s| (0.5..1.0).contains(&s)),
            "{}: {listed:?}",
            f.no
        );
    }
    for f in [&old, &unrelated, &case] {
        assert!(!nos.contains(&f.no.as_str()), "{} listed: {listed:?}", f.no);
    }
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(listed.windows(2).all(|w| w[0].1 >= w[1].1), "{listed:?}");

    // A handler sees only their departments' cases: not the hidden one.
    let listed = similar(&t, &case.id, &c.handler).await;
    let nos: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    assert!(!nos.contains(&hidden.no.as_str()), "{listed:?}");
    assert!(nos.contains(&near.no.as_str()) && nos.contains(&by_category.no.as_str()));
    // The near-duplicate finds the case too (the window runs both ways).
    let back = similar(&t, &near.id, &c.handler).await;
    assert!(back.iter().any(|(n, _)| *n == case.no), "{back:?}");

    // A case the caller may not see: 404, like a missing one.
    t.get(
        &format!("/complaints/{}/similar", case.id),
        Some(&other_handler),
    )
    .await
    .expect_error(404);
    t.get(
        &format!("/complaints/{}/similar", uuid::Uuid::now_v7()),
        Some(&c.supervisor),
    )
    .await
    .expect_error(404);
}

async fn the_same_parties_flag_compares_phone_numbers_by_their_digits() {
    let t = TestApp::new().await;
    let by_phone = |phone: &str| {
        json!({
            "complainant": {"name": "王五", "phone": phone},
            "respondent": {"kind": "merchant", "id": "shop-9", "name": "九号店"},
            "subject": "耳机没有声音",
            "description": "收到的耳机左耳没有声音。",
        })
    };
    let first = t.file(by_phone("13800138000")).await;
    assert_eq!(t.dup_flag(&first).await, false);
    let second = t.file(by_phone("+86 138-0013-8000")).await;
    assert_eq!(t.dup_flag(&second).await, true);
    assert_eq!(t.dups(&second).await, json!([first["id"]]));
    let third = t.file(by_phone("0086 13800138000")).await;
    assert_eq!(t.dup_flag(&third).await, true);
    // Another number is another person.
    let other = t.file(by_phone("+86 138-0013-8001")).await;
    assert_eq!(t.dup_flag(&other).await, false);
}

#[derive(serde::Deserialize)]
struct Fixture {
    items: Vec<Item>,
}

#[derive(serde::Deserialize)]
struct Item {
    category: String,
    text: String,
}

fn fixture(category: &str) -> Vec<String> {
    let f: Fixture = serde_json::from_str(include_str!("../fixtures/categories.json")).unwrap();
    f.items
        .into_iter()
        .filter(|i| i.category == category)
        .map(|i| i.text)
        .collect()
}

async fn suggested(t: &TestApp, id: &str, token: &str) -> Vec<(String, f64)> {
    let a = t
        .get(&format!("/complaints/{id}/suggestions"), Some(token))
        .await
        .expect(200);
    a["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                s(&i["category"]).to_string(),
                i["confidence"].as_f64().unwrap(),
            )
        })
        .collect()
}

async fn categories_are_suggested_once_learnt_from_ten_accepted_cases() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let (delivery, refunds, privacy) = (
        fixture("delivery"),
        fixture("refunds-returns"),
        fixture("privacy"),
    );
    let mut batch: Vec<(&str, &String)> = Vec::new();
    for i in 0..10 {
        batch.push(("delivery", &delivery[i]));
        batch.push(("refunds-returns", &refunds[i]));
        if i < 9 {
            batch.push(("privacy", &privacy[i]));
        }
    }
    for (n, (category, text)) in (1..).zip(batch) {
        filed_and_accepted(&t, &c, about(n, "shop-1", text), category).await;
    }
    let ask = |n: u32, text: &str| filed(&t, about(n, "shop-1", text));
    let parcel = ask(100, "快递显示已经签收，但是我没有收到包裹，物流也不更新").await;
    let refund = ask(101, "商家拒绝退款，退货寄回去了钱还没退").await;
    let leak = ask(102, "平台泄露了我的个人信息，每天接到骚扰电话").await;

    let s = suggested(&t, &parcel.id, &c.intake).await;
    assert_eq!(s.first().map(|x| x.0.as_str()), Some("delivery"), "{s:?}");
    assert!(
        s.len() <= 3 && s.iter().all(|x| x.1 >= 0.25 && x.1 <= 1.0),
        "{s:?}"
    );
    assert!(s.windows(2).all(|w| w[0].1 >= w[1].1), "{s:?}");
    let s = suggested(&t, &refund.id, &c.supervisor).await;
    assert_eq!(
        s.first().map(|x| x.0.as_str()),
        Some("refunds-returns"),
        "{s:?}"
    );
    // Nine accepted privacy cases: never suggested, however clear the text.
    let s = suggested(&t, &leak.id, &c.supervisor).await;
    assert!(s.iter().all(|x| x.0 != "privacy"), "{s:?}");

    // The tenth is learnt as it is accepted.
    filed_and_accepted(&t, &c, about(50, "shop-1", &privacy[9]), "privacy").await;
    let s = suggested(&t, &leak.id, &c.intake).await;
    assert_eq!(s.first().map(|x| x.0.as_str()), Some("privacy"), "{s:?}");

    // Staff who may not see the case: 404.
    let other = t
        .staff("handler2", &["handler"], &["trust-safety"], 1)
        .await;
    t.get(
        &format!("/complaints/{}/suggestions", leak.id),
        Some(&other),
    )
    .await
    .expect_error(404);
}

async fn the_case_page_shows_similar_cases_and_suggested_categories() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let delivery = fixture("delivery");
    for (i, text) in delivery.iter().take(10).enumerate() {
        filed_and_accepted(&t, &c, about(i as u32, "shop-1", text), "delivery").await;
    }
    let first = filed_and_accepted(&t, &c, about(20, "shop-1", ROBOT), "refunds-returns").await;
    let again = filed(&t, about(21, "shop-1", ROBOT_AGAIN)).await;
    let percent = {
        let listed = similar(&t, &again.id, &c.intake).await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        format!("{:.0}", listed[0].1 * 100.0)
    };
    let mut b = console(&t, "intake1").await;
    let page = html(&b.get(&t, &format!("/staff/cases/{}", again.id)).await);
    assert!(
        page.contains(&format!(
            "<a href=\"/staff/cases/{}\">{}</a>",
            first.id, first.no
        )),
        "{page}"
    );
    assert!(page.contains(&format!("相似度 {percent}%")), "{page}");
    let page = html(
        &b.get(&t, &format!("/staff/cases/{}?lang=en", again.id))
            .await,
    );
    assert!(page.contains(&format!("{percent}% similar")), "{page}");

    let parcel = filed(
        &t,
        about(30, "shop-7", "快递显示已经签收，但是我没有收到包裹"),
    )
    .await;
    let page = html(
        &b.get(&t, &format!("/staff/cases/{}?lang=zh-CN", parcel.id))
            .await,
    );
    assert!(
        page.contains("可能的类别：") && page.contains("data-category=\"delivery\""),
        "{page}"
    );
    assert!(
        page.contains("<option value=\"delivery\" selected>"),
        "{page}"
    );
    let page = html(
        &b.get(&t, &format!("/staff/cases/{}?lang=en", parcel.id))
            .await,
    );
    assert!(page.contains("Likely categories:"), "{page}");
}

tests![
    near_duplicates_are_found_across_complainants_within_90_days,
    the_same_parties_flag_compares_phone_numbers_by_their_digits,
    categories_are_suggested_once_learnt_from_ten_accepted_cases,
    the_case_page_shows_similar_cases_and_suggested_categories,
];
