//! The case list's filters of SPEC §11 that read a case's course:
//! `outcome` (the outcome in force), `missed` (a stage whose deadline was
//! missed), `sort=due` (by next deadline, with its own cursor), and a
//! search's `total_relation`.

use serde_json::{Value, json};

use crate::harness::*;

/// The ids of a list answer, in order.
fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| s(&i["id"]).to_string())
        .collect()
}

async fn list(t: &TestApp, token: &str, query: &str) -> Value {
    t.get(&format!("/complaints?{query}"), Some(token))
        .await
        .expect(200)
}

async fn outcome_and_missed_stages_filter_the_list() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let upheld = t.decided(&c, 1).await;
    let refused = t.accepted(&c, 2).await;
    t.act(
        &refused.id,
        "decide",
        &c.handler,
        json!({"outcome": "not_upheld", "basis": ["平台服务协议 5.2"], "reply": "证据不足。"}),
    )
    .await;
    // Nobody answers the third within its working day: the sweep records
    // the missed acceptance, and accepting it late keeps the record.
    let late = t.filed(3).await;
    t.advance(4 * 86_400).await;
    let missed = list(&t, &c.supervisor, "missed=acceptance").await;
    assert_eq!(ids(&missed), vec![late.id.clone()], "{missed}");
    t.act(
        &late.id,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;

    let by = |q: &'static str| list(&t, &c.supervisor, q);
    assert_eq!(ids(&by("outcome=upheld").await), vec![upheld.id.clone()]);
    assert_eq!(
        ids(&by("outcome=not_upheld").await),
        vec![refused.id.clone()]
    );
    assert_eq!(by("outcome=settled").await["total"], 0);
    assert_eq!(ids(&by("missed=acceptance").await), vec![late.id.clone()]);
    assert_eq!(ids(&by("missed=any").await), vec![late.id.clone()]);
    assert_eq!(by("missed=handling").await["total"], 0);
    let page = by("missed=acceptance&outcome=upheld").await;
    assert_eq!(page["total"], 0, "filters combine: {page}");

    // A review that modifies the result changes the outcome in force.
    t.track_act(&upheld, "appeal", json!({"reason": "金额不对"}))
        .await;
    t.act(
        &upheld.id,
        "review",
        &c.reviewer,
        json!({"result": "modified", "outcome": "partially_upheld",
               "basis": ["平台服务协议 5.3"], "reply": "改为部分支持。"}),
    )
    .await;
    assert_eq!(
        ids(&by("outcome=partially_upheld").await),
        vec![upheld.id.clone()]
    );
    assert_eq!(by("outcome=upheld").await["total"], 0);

    // Bad values are named with their reason.
    for (query, field) in [
        ("outcome=won", "outcome"),
        ("missed=lunch", "missed"),
        ("sort=oldest", "sort"),
    ] {
        let reasons = t
            .get(&format!("/complaints?{query}"), Some(&c.supervisor))
            .await
            .expect_reasons();
        assert_eq!(reasons[field], "not_one_of", "{query}: {reasons}");
    }
}

async fn sort_by_due_pages_through_every_case_soonest_deadline_first() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    // Deadlines of different lengths: acceptance (one working day),
    // handling (the category's days), the appeal window of a decided case,
    // none for a closed one.
    let submitted = t.filed(1).await;
    let accepted = t.accepted(&c, 2).await;
    let decided = t.decided(&c, 3).await;
    let withdrawn = t.filed(4).await;
    t.track_act(&withdrawn, "withdraw", json!({})).await;
    let again = t.filed(5).await;
    let withdrawn_later = t.filed(6).await;
    t.track_act(&withdrawn_later, "withdraw", json!({})).await;

    let all = list(&t, &c.supervisor, "sort=due&limit=50").await;
    assert_eq!(all["total"], 6);
    let items = all["items"].as_array().unwrap();
    let dues: Vec<Option<chrono::DateTime<chrono::Utc>>> = items
        .iter()
        .map(|i| i["next_due_at"].as_str().map(|d| d.parse().unwrap()))
        .collect();
    // Soonest first, cases without a deadline last.
    let mut sorted = dues.clone();
    sorted.sort_by_key(|d| (d.is_none(), *d));
    assert_eq!(dues, sorted, "{all}");
    assert_eq!(
        dues.last(),
        Some(&None),
        "the withdrawn case has no deadline: {all}"
    );
    // Cases without a deadline come after all the others, oldest first.
    assert_eq!(s(&items[4]["id"]), withdrawn.id);
    assert_eq!(s(&items[5]["id"]), withdrawn_later.id);
    // Equal deadlines keep the filing order.
    let pos = |id: &str| items.iter().position(|i| s(&i["id"]) == id).unwrap();
    if dues[pos(&submitted.id)] == dues[pos(&again.id)] {
        assert!(pos(&submitted.id) < pos(&again.id), "{all}");
    }
    let _ = (accepted, decided);

    // One at a time, the cursor walks the same order and ends.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let q = match &cursor {
            Some(c) => format!("sort=due&limit=1&cursor={c}"),
            None => "sort=due&limit=1".to_string(),
        };
        let page = t
            .get(&format!("/complaints?{q}"), Some(&c.supervisor))
            .await
            .expect(200);
        assert_eq!(page["total"], 6);
        walked.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(walked, ids(&all));
    // A page of four ends inside the cases with a deadline; the next one
    // crosses to those without.
    let first = list(&t, &c.supervisor, "sort=due&limit=4").await;
    let rest = list(
        &t,
        &c.supervisor,
        &format!("sort=due&limit=4&cursor={}", s(&first["next_cursor"])),
    )
    .await;
    assert_eq!(
        [ids(&first), ids(&rest)].concat(),
        ids(&all),
        "{first} {rest}"
    );
    assert!(rest["next_cursor"].is_null(), "{rest}");
    // One status: its cases in the same order.
    let submitted_only = list(&t, &c.supervisor, "status=submitted&sort=due").await;
    let expected: Vec<String> = items
        .iter()
        .filter(|i| i["status"] == "submitted")
        .map(|i| s(&i["id"]).to_string())
        .collect();
    assert_eq!(expected.len(), 2, "{all}");
    assert_eq!(ids(&submitted_only), expected, "{submitted_only}");

    // A cursor of the newest-first order is not one of this order.
    let newest = list(&t, &c.supervisor, "limit=1").await;
    let foreign = s(&newest["next_cursor"]).to_string();
    let reasons = t
        .get(
            &format!("/complaints?sort=due&cursor={foreign}"),
            Some(&c.supervisor),
        )
        .await
        .expect_reasons();
    assert_eq!(reasons["cursor"], "invalid", "{reasons}");
}

async fn a_search_says_its_total_is_exact() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    t.filed(1).await;
    let found = list(&t, &c.supervisor, "q=退款").await;
    assert_eq!(found["total_relation"], "eq", "{found}");
    assert_eq!(found["total"], found["items"].as_array().unwrap().len());
    let plain = list(&t, &c.supervisor, "").await;
    assert!(plain.get("total_relation").is_none(), "{plain}");
}

/// A search lists its best matches first: the query as typed in the
/// subject, then subjects holding more of its words, newest first among
/// equals; `sort=newest` keeps the newest first; the cursor pages through
/// the ranked list.
async fn a_search_lists_its_best_matches_first() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let file = |subject: &str, description: &str| {
        let mut body = complaint(1);
        body["subject"] = json!(subject);
        body["description"] = json!(description);
        body
    };
    let a = t
        .file(file("物流太慢", "我提交了退款申请，一直没有结果。"))
        .await;
    let b = t.file(file("退款申请被拒绝", "商家不同意。")).await;
    let c2 = t.file(file("商家拒绝退款", "我的退款申请被驳回。")).await;
    t.file(file("无关的投诉", "与本次搜索无关。")).await;
    let (a, b, c2) = (s(&a["id"]), s(&b["id"]), s(&c2["id"]));
    let ranked = list(&t, &c.supervisor, "q=退款申请").await;
    assert_eq!(ids(&ranked), [b, c2, a], "{ranked}");
    assert_eq!(ranked["total"], 3);
    assert_eq!(ranked["total_relation"], "eq");
    assert_eq!(
        ids(&list(&t, &c.supervisor, "q=退款申请&sort=relevance").await),
        [b, c2, a]
    );
    let newest = list(&t, &c.supervisor, "q=退款申请&sort=newest").await;
    assert_eq!(ids(&newest), [c2, b, a], "{newest}");
    assert_eq!(newest["total"], 3);
    // One at a time through the ranked list.
    let mut seen = Vec::new();
    let mut query = "q=退款申请&limit=1".to_string();
    loop {
        let page = list(&t, &c.supervisor, &query).await;
        assert_eq!(page["total"], 3);
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("q=退款申请&limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, [b, c2, a]);
    // The console's case list ranks a search the same way by default.
    let mut sup = crate::pages::console(&t, "super1").await;
    let page = crate::pages::html(&sup.get(&t, "/staff/cases?q=退款申请").await);
    let at = |id: &str| {
        page.find(&format!("/staff/cases/{id}\""))
            .unwrap_or_else(|| panic!("{id} not listed: {page}"))
    };
    assert!(at(b) < at(c2) && at(c2) < at(a), "{page}");
    assert!(page.contains("<option value=\"\" selected>"), "{page}");
    // A cursor of another order is refused, naming the field.
    let other = list(&t, &c.supervisor, "q=退款申请&sort=newest&limit=1").await;
    let cursor = s(&other["next_cursor"]);
    let refused = t
        .get(
            &format!("/complaints?q=退款申请&cursor={cursor}"),
            Some(&c.supervisor),
        )
        .await
        .expect_error(422);
    assert!(refused.get("cursor").is_some(), "{refused}");
}

tests![
    a_search_lists_its_best_matches_first,
    outcome_and_missed_stages_filter_the_list,
    sort_by_due_pages_through_every_case_soonest_deadline_first,
    a_search_says_its_total_is_exact,
];
