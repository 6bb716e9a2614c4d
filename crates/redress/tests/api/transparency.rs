//! `GET /public/stats` and `/transparency` (SPEC §10, docs/reports.md
//! "Public figures"): monthly figures for anyone, from the rollups; a
//! figure whose base is under 10 cases is null with `suppressed: true`
//! ("—" on the page); no personal data.

use serde_json::{Value, json};

use crate::harness::*;
use crate::pages::{Browser, html};

/// Monday 2 March 2026, 09:00 in Shanghai.
const MONDAY: &str = "2026-03-02T01:00:00Z";

/// March: 12 cases filed, 11 accepted and decided `upheld` at once, 1
/// refused. April (clock moved to Monday 6 April): 7 cases filed, 2 of
/// them accepted.
async fn fixture(t: &TestApp) {
    t.app.clock.start_at(MONDAY.parse().unwrap());
    let c = t.cast().await;
    for n in 1..=11 {
        t.decided(&c, n).await;
    }
    let refused = t.filed(12).await;
    t.act(
        &refused.id,
        "reject",
        &c.intake,
        json!({"reason": "不属于受理范围", "guidance": "请向市场监管部门反映"}),
    )
    .await;
    t.advance_to("2026-04-06T01:00:00Z".parse().unwrap()).await;
    for n in 13..=19 {
        if n <= 14 {
            t.accepted(&c, n).await;
        } else {
            t.filed(n).await;
        }
    }
}

fn month<'a>(v: &'a Value, m: &str) -> &'a Value {
    v["months"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["month"] == m)
        .unwrap_or_else(|| panic!("no month {m}: {v}"))
}

fn shown(v: &Value) -> Value {
    assert_eq!(v["suppressed"], false, "{v}");
    v["value"].clone()
}

fn suppressed(v: &Value) {
    assert_eq!(v, &json!({"value": null, "suppressed": true}));
}

async fn a_month_of_ten_or_more_shows_its_figures_and_one_under_ten_hides_them() {
    let t = TestApp::new().await;
    fixture(&t).await;
    // Anyone: no credentials.
    let v = t
        .get("/public/stats?from=2026-03-01&to=2026-04-30", None)
        .await
        .expect(200);
    assert_eq!(v["min_cases"], 10);
    assert_eq!(v["months"].as_array().unwrap().len(), 2, "{v}");
    let march = month(&v, "2026-03");
    assert_eq!(march["from_day"], "2026-03-01");
    assert_eq!(march["to_day"], "2026-03-31");
    assert_eq!(shown(&march["filed"]), 12);
    let rate = shown(&march["acceptance_rate"]).as_f64().unwrap();
    assert!((rate - 11.0 / 12.0).abs() < 0.001, "{march}");
    assert_eq!(shown(&march["on_time_rate"]), 1.0, "{march}");
    let median = shown(&march["median_hours_to_decide"]).as_f64().unwrap();
    assert!((0.0..1.0).contains(&median), "decided at once: {march}");
    assert_eq!(shown(&march["outcomes"]["upheld"]), 11);
    // Outcomes under 10 (here none), and no review at all: suppressed.
    for o in ["partially_upheld", "not_upheld", "settled"] {
        suppressed(&march["outcomes"][o]);
    }
    suppressed(&march["appeals_changed_share"]);

    let april = month(&v, "2026-04");
    for f in [
        "filed",
        "acceptance_rate",
        "on_time_rate",
        "median_hours_to_decide",
        "appeals_changed_share",
    ] {
        suppressed(&april[f]);
    }
    suppressed(&april["outcomes"]["upheld"]);

    // Default: the last 12 whole months (the clock is in April 2026).
    let d = t.get("/public/stats", None).await.expect(200);
    assert_eq!(d["from_day"], "2025-04-01", "{d}");
    assert_eq!(d["to_day"], "2026-03-31", "{d}");
    assert_eq!(d["months"].as_array().unwrap().len(), 12);
    assert_eq!(shown(&month(&d, "2026-03")["filed"]), 12);
    suppressed(&month(&d, "2025-04")["filed"]);

    // No personal data: none of the fixtures' names, contacts or
    // respondents appear.
    let body = String::from_utf8(
        t.get("/public/stats?from=2026-03-01&to=2026-04-30", None)
            .await
            .bytes,
    )
    .unwrap();
    for private in [
        "张三",
        "zhang",
        "example.com",
        "13812345678",
        "好店",
        "shop-1",
    ] {
        assert!(!body.contains(private), "{private} in {body}");
    }

    let bad = t
        .get("/public/stats?from=2020-01-01&to=2026-03-31", None)
        .await
        .expect_error(422);
    assert!(bad.to_string().contains("from"), "{bad}");
}

async fn the_page_shows_the_figures_in_both_languages() {
    let t = TestApp::new().await;
    fixture(&t).await;
    let mut b = Browser::default();
    let start = html(&b.get(&t, "/").await);
    assert!(start.contains("href=\"/transparency\""), "{start}");
    // The default period (the last 12 whole months) ends with March.
    let default = html(&b.get(&t, "/transparency").await);
    assert!(default.contains("id=\"month-2025-04\""), "{default}");
    assert!(!default.contains("id=\"month-2026-04\""), "{default}");
    let a = b
        .get(&t, "/transparency?from=2026-03-01&to=2026-04-30")
        .await;
    assert_eq!(a.status.as_u16(), 200);
    let zh = html(&a);
    assert!(zh.contains("<html lang=\"zh-CN\">"));
    assert!(
        zh.contains("投诉处理数据公示") && zh.contains("受理率"),
        "{zh}"
    );
    let row = |page: &str, m: &str| -> String {
        let start = page
            .find(&format!("id=\"month-{m}\""))
            .unwrap_or_else(|| panic!("no row {m}: {page}"));
        page[start..].split("</tr>").next().unwrap().to_string()
    };
    let march = row(&zh, "2026-03");
    assert!(march.contains("<td>12</td>"), "{march}");
    assert!(march.contains("<td>91.7%</td>"), "{march}");
    assert!(march.contains("<td>11</td>"), "{march}");
    let april = row(&zh, "2026-04");
    assert!(!april.contains("<td>7</td>"), "{april}");
    assert!(april.contains("<td>—</td>"), "{april}");
    assert!(zh.contains("id=\"suppression-note\""), "{zh}");
    assert!(!zh.contains("张三") && !zh.contains("好店"));

    let en = html(
        &b.get(&t, "/transparency?from=2026-03-01&to=2026-04-30&lang=en")
            .await,
    );
    assert!(en.contains("<html lang=\"en\">"));
    assert!(
        en.contains("Complaint handling in figures") && en.contains("Deadlines met"),
        "{en}"
    );
    assert!(row(&en, "2026-03").contains("<td>12</td>"));
    assert!(en.contains("fewer than"), "{en}");
}

tests![
    a_month_of_ten_or_more_shows_its_figures_and_one_under_ten_hides_them,
    the_page_shows_the_figures_in_both_languages,
];
