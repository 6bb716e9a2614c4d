//! Respondent scorecards (`GET /reports/respondents`) and spike alerts
//! (`GET /alerts`, their e-mail to supervisors), SPEC §10 and
//! docs/reports.md, from the rollups on the test clock.

use serde_json::{Value, json};

use crate::harness::*;

/// Monday 2 March 2026, 09:00 in Shanghai.
const MONDAY: &str = "2026-03-02T01:00:00Z";

const DAY: i64 = 24 * 3600;

/// A complaint from complainant `n` against merchant `shop`.
fn against(n: u32, shop: &str) -> Value {
    let mut body = complaint(n);
    body["respondent"] = json!({"kind": "merchant", "id": shop, "name": shop});
    body
}

/// Files `count` complaints against `shop` from complainants `from..`;
/// their registration answers.
async fn file_many(t: &TestApp, shop: &str, from: u32, count: u32) -> Vec<Filed> {
    let mut out = Vec::new();
    for n in from..from + count {
        out.push(Filed::from(&t.file(against(n, shop)).await));
    }
    out
}

/// The respondent's reply on a case, with their portal key.
async fn reply(t: &TestApp, key: &str, id: &str) {
    t.post(
        &format!("/respondent/complaints/{id}/messages"),
        Some(key),
        json!({"body": "已处理"}),
    )
    .await
    .expect(200);
}

/// The alerts of one day, as `(kind, id, count)`.
async fn alerts_of(t: &TestApp, token: &str, day: &str) -> Vec<(String, String, i64)> {
    let a = t
        .get(&format!("/alerts?from={day}&to={day}"), Some(token))
        .await
        .expect(200);
    a["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                s(&i["subject_kind"]).to_string(),
                s(&i["subject_id"]).to_string(),
                i["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Scorecards: volume, upheld and partially upheld apart, replies on time
/// (one on time, one late, one missed), a repeat complainant, the change
/// against the previous period; sorting; a rebuild gives the same figures.
async fn scorecards_count_volume_outcomes_replies_and_repeats() {
    let t = TestApp::new().await;
    t.app.clock.start_at(MONDAY.parse().unwrap());
    let c = t.cast().await;
    let key = t.respondent("merchant", "shop-1").await;
    let accept = json!({"category": "refunds-returns"});
    // 1 and 2 from the same complainant: 2 is a repeat complaint.
    let one = Filed::from(&t.file(against(1, "shop-1")).await);
    let two = Filed::from(&t.file(against(1, "shop-1")).await);
    let three = Filed::from(&t.file(against(2, "shop-1")).await);
    Filed::from(&t.file(against(3, "shop-2")).await);
    // Complainant 4 again after a refusal closed the first case: a repeat
    // too (any earlier case, not only an open one).
    let refused = Filed::from(&t.file(against(4, "shop-3")).await);
    t.act(
        &refused.id,
        "reject",
        &c.intake,
        json!({"reason": "不属于受理范围", "guidance": "请向市场监管部门反映"}),
    )
    .await;
    Filed::from(&t.file(against(4, "shop-3")).await);
    for f in [&one, &two, &three] {
        t.act(&f.id, "accept", &c.intake, accept.clone()).await;
    }
    // One reply in time; the deadline (3 working days: Thursday 24:00)
    // passes for the two others; one replies late.
    reply(&t, &key, &one.id).await;
    t.advance(4 * DAY).await;
    reply(&t, &key, &two.id).await;
    for (f, outcome) in [
        (&one, "upheld"),
        (&two, "partially_upheld"),
        (&three, "not_upheld"),
    ] {
        t.act(
            &f.id,
            "decide",
            &c.handler,
            json!({"outcome": outcome, "basis": ["平台服务协议 5.2"], "reply": "结果如下。"}),
        )
        .await;
    }
    let march = "/reports/respondents?from=2026-03-01&to=2026-03-31";
    let v = t.get(march, Some(&c.supervisor)).await.expect(200);
    assert_eq!(v["total"], 3, "{v}");
    assert_eq!(v["sort"], "volume");
    assert_eq!(v["previous_to_day"], "2026-02-28");
    let first = &v["items"][0];
    assert_eq!(first["respondent"], "merchant:shop-1", "{v}");
    assert_eq!(first["kind"], "merchant");
    assert_eq!(first["id"], "shop-1");
    assert_eq!(first["name"], "Respondent shop-1");
    assert_eq!(first["volume"], 3);
    assert_eq!(first["decided"], 3);
    assert_eq!(first["upheld"], 1);
    assert_eq!(first["partially_upheld"], 1);
    assert_eq!(first["upheld_share"], json!(0.3333));
    assert_eq!(first["partially_upheld_share"], json!(0.3333));
    assert_eq!(first["replies_due"], 3);
    assert_eq!(first["replies_on_time"], 1);
    assert_eq!(first["replies_late"], 2);
    assert_eq!(first["reply_on_time_rate"], json!(0.3333));
    assert_eq!(first["repeat_complainants"], 1);
    assert_eq!(first["previous_volume"], 0);
    assert_eq!(first["change"], 3);
    let second = &v["items"][1];
    assert_eq!(second["respondent"], "merchant:shop-3");
    assert_eq!(second["volume"], 2);
    assert_eq!(second["repeat_complainants"], 1);
    assert_eq!(second["repeat_share"], json!(0.5));
    let third = &v["items"][2];
    assert_eq!(third["respondent"], "merchant:shop-2");
    assert_eq!(third["name"], Value::Null, "no account names shop-2");
    assert_eq!(third["volume"], 1);
    assert_eq!(third["repeat_complainants"], 0);
    assert_eq!(third["reply_on_time_rate"], Value::Null);

    // Sorted by replies on time, the worst first; those without any last.
    let by_rate = t
        .get(
            &format!("{march}&sort=reply_on_time_rate"),
            Some(&c.supervisor),
        )
        .await
        .expect(200);
    assert_eq!(by_rate["order"], "asc");
    assert_eq!(by_rate["items"][0]["respondent"], "merchant:shop-1");
    assert_eq!(by_rate["items"][2]["respondent"], "merchant:shop-2");
    let by_volume_asc = t
        .get(&format!("{march}&order=asc&limit=1"), Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(by_volume_asc["total"], 3);
    assert_eq!(by_volume_asc["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_volume_asc["items"][0]["respondent"], "merchant:shop-2");
    let reasons = t
        .get(&format!("{march}&sort=worst&limit=0"), Some(&c.supervisor))
        .await
        .expect_reasons();
    assert_eq!(reasons["sort"], "not_one_of");
    assert_eq!(reasons["limit"], "out_of_range");
    // The next month: shop-1 had 3 cases in March and none in April.
    let april = t
        .get(
            "/reports/respondents?from=2026-04-01&to=2026-04-30",
            Some(&c.supervisor),
        )
        .await
        .expect(200);
    assert_eq!(april["total"], 0, "{april}");

    // What the saves kept is what a rebuild computes.
    t.sql("DELETE FROM report_days");
    t.sql("DELETE FROM report_months");
    let out = t.command().args(["report", "rebuild"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = t.get(march, Some(&c.supervisor)).await.expect(200);
    assert_eq!(again, v);
}

/// Default rule: 10 cases on a day against a respondent with nothing
/// before is a spike, 9 is not; the 10 accepted into one category make
/// that category spike too.
async fn ten_is_a_spike_and_nine_is_not() {
    let t = TestApp::new().await;
    t.app.clock.start_at(MONDAY.parse().unwrap());
    let c = t.cast().await;
    t.respondent("merchant", "shop-1").await;
    let ten = file_many(&t, "shop-1", 1, 10).await;
    file_many(&t, "shop-2", 100, 9).await;
    for f in &ten {
        t.act(
            &f.id,
            "accept",
            &c.intake,
            json!({"category": "refunds-returns"}),
        )
        .await;
    }
    let v = t
        .get("/alerts?from=2026-03-02&to=2026-03-02", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(v["rule"]["min_count"], 10);
    assert_eq!(v["rule"]["baseline_days"], 28);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{v}");
    let respondent = items
        .iter()
        .find(|i| i["subject_kind"] == "respondent")
        .unwrap();
    assert_eq!(respondent["subject_id"], "merchant:shop-1");
    assert_eq!(respondent["name"], "Respondent shop-1");
    assert_eq!(respondent["day"], "2026-03-02");
    assert_eq!(respondent["count"], 10);
    assert_eq!(respondent["baseline_mean"], json!(0.0));
    assert_eq!(respondent["baseline_sd"], json!(0.0));
    // The deviation's floor of 1: 0 + 3 × 1.
    assert_eq!(respondent["threshold"], json!(3.0));
    let category = items
        .iter()
        .find(|i| i["subject_kind"] == "category")
        .unwrap();
    assert_eq!(category["subject_id"], "refunds-returns");
    assert_eq!(category["count"], 10);
    assert!(category["name"].is_string(), "{category}");
    // The day before and after: nothing.
    assert!(alerts_of(&t, &c.supervisor, "2026-03-01").await.is_empty());
    // 422 for a period over 366 days.
    let reasons = t
        .get("/alerts?from=2024-01-01&to=2026-03-02", Some(&c.supervisor))
        .await
        .expect_reasons();
    assert_eq!(reasons["from"], "out_of_range");
}

/// With a baseline of 2 days (a setting): a steady 10 a day is not a
/// spike after its first day; a steady 8 then 10 is not (the deviation is
/// floored at 1: the threshold is 8 + 3 × 1 = 11), then 12 is.
async fn a_flat_series_is_not_a_spike_and_the_deviation_has_a_floor() {
    let t = TestApp::with(|c| c.spike_alerts.baseline_days = 2).await;
    t.app.clock.start_at(MONDAY.parse().unwrap());
    let c = t.cast().await;
    let mut n = 1;
    for day in 0..3 {
        file_many(&t, "flat", n, 10).await;
        n += 10;
        file_many(&t, "steady", n, if day < 2 { 8 } else { 10 }).await;
        n += 10;
        if day < 2 {
            t.advance(DAY).await;
        }
    }
    assert_eq!(
        alerts_of(&t, &c.supervisor, "2026-03-02").await,
        vec![(
            "respondent".to_string(),
            "merchant:flat".to_string(),
            10_i64
        )],
        "the first day of `flat` has nothing before it"
    );
    assert!(alerts_of(&t, &c.supervisor, "2026-03-03").await.is_empty());
    assert!(
        alerts_of(&t, &c.supervisor, "2026-03-04").await.is_empty(),
        "flat 10 after 10, 10; steady 10 after 8, 8 (threshold 11)"
    );
    file_many(&t, "steady", n, 2).await;
    let v = t
        .get("/alerts?from=2026-03-04&to=2026-03-04", Some(&c.supervisor))
        .await
        .expect(200);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    assert_eq!(items[0]["subject_id"], "merchant:steady");
    assert_eq!(items[0]["count"], 12);
    assert_eq!(items[0]["baseline_mean"], json!(8.0));
    assert_eq!(items[0]["baseline_sd"], json!(0.0));
    assert_eq!(items[0]["threshold"], json!(11.0));
}

/// A spike is mailed to the supervisors with an address once: not again
/// at the next sweep, nor after a restart.
async fn a_spike_is_mailed_to_supervisors_once() {
    use crate::notices::{MailSink, free_port};
    let sink = MailSink::start(free_port());
    let mut t = TestApp::with(|c| {
        c.smtp_relay = Some(format!("smtp://127.0.0.1:{}", sink.port));
        c.mail_from = Some("complaints@example.com".into());
    })
    .await;
    t.app.clock.start_at(MONDAY.parse().unwrap());
    t.watching_supervisor().await;
    t.respondent("merchant", "shop-1").await;
    file_many(&t, "shop-1", 1, 10).await;
    let spike_mail = |sink: &MailSink| {
        sink.messages()
            .into_iter()
            .filter(|m| m.to == "watch@example.com" && m.subject.contains("Spike"))
            .collect::<Vec<_>>()
    };
    t.advance(120).await;
    let mut got = Vec::new();
    for _ in 0..100 {
        got = spike_mail(&sink);
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(got.len(), 1, "{:?}", sink.messages());
    assert!(got[0].subject.contains("Respondent shop-1"), "{:?}", got[0]);
    assert!(got[0].subject.contains("2026-03-02"), "{:?}", got[0]);
    // More cases the same day, another sweep, a restart: still once.
    file_many(&t, "shop-1", 20, 5).await;
    t.advance(120).await;
    t.restart().await;
    t.advance(120).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(spike_mail(&sink).len(), 1, "{:?}", sink.messages());
}

/// The weekly report leaves on Monday from 08:00 to the supervisors with
/// an address, once, with the HTML and the CSV of the week before.
async fn the_weekly_report_is_mailed_to_supervisors_once() {
    use crate::notices::{MailSink, free_port};
    let sink = MailSink::start(free_port());
    let mut t = TestApp::with(|c| {
        c.smtp_relay = Some(format!("smtp://127.0.0.1:{}", sink.port));
        c.mail_from = Some("complaints@example.com".into());
        c.scheduled_report = redress_app::digest::ReportSchedule::default();
    })
    .await;
    // Monday 2 March 2026, 09:00: the week of 23 February is due, and
    // nobody could receive it yet.
    t.app.clock.start_at(MONDAY.parse().unwrap());
    t.advance(120).await;
    t.watching_supervisor().await;
    file_many(&t, "shop-1", 1, 3).await;
    let reports = |sink: &MailSink| {
        sink.messages()
            .into_iter()
            .filter(|m| m.to == "watch@example.com" && m.subject.contains("Weekly"))
            .collect::<Vec<_>>()
    };
    // The week of 23 February: mailed at the next sweep, with no case.
    t.advance(120).await;
    let mut got = Vec::new();
    for _ in 0..100 {
        got = reports(&sink);
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(got.len(), 1, "{:?}", sink.messages());
    assert!(
        got[0].subject.contains("2026-02-23"),
        "{:?}",
        got[0].subject
    );
    // Sunday evening: the week of 2 March is not over.
    t.advance_to("2026-03-08T12:00:00Z".parse().unwrap()).await;
    t.advance(120).await;
    assert_eq!(reports(&sink).len(), 1);
    // Monday 9 March, 08:00 in Shanghai: the week of 2 March, 3 cases.
    t.advance_to("2026-03-09T00:00:00Z".parse().unwrap()).await;
    t.advance(120).await;
    let mut got = Vec::new();
    for _ in 0..100 {
        got = reports(&sink);
        if got.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(got.len(), 2, "{:?}", sink.messages());
    let week = &got[1];
    assert!(week.subject.contains("2026-03-02") && week.subject.contains("2026-03-08"));
    assert!(week.subject.contains("周报"), "{}", week.subject);
    assert!(week.body.contains("收到投诉 3 件"), "{}", week.body);
    assert!(week.body.contains("3 filed"), "{}", week.body);
    assert!(
        week.body
            .contains("/staff/reports?from=2026-03-02&to=2026-03-08"),
        "{}",
        week.body
    );
    let names: Vec<(&str, &str)> = week
        .attachments
        .iter()
        .map(|(n, ct, _)| (n.as_str(), ct.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("report-2026-03-02-2026-03-08.html", "text/html"),
            ("report-2026-03-02-2026-03-08.csv", "text/csv")
        ]
    );
    let csv = String::from_utf8(week.attachments[1].2.clone()).unwrap();
    assert!(csv.starts_with("\u{feff}figure,key,value"), "{csv}");
    assert!(csv.contains("\r\ntotal,,3\r\n"), "{csv}");
    let html = String::from_utf8(week.attachments[0].2.clone()).unwrap();
    assert!(html.contains("<td>total</td><td></td><td>3</td>"), "{html}");
    // Another sweep, a restart: still once.
    t.advance(120).await;
    t.restart().await;
    t.advance(120).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(reports(&sink).len(), 2, "{:?}", sink.messages());
}

/// The pages, in both languages, with names rather than codes and column
/// links that sort; a handler may not see them.
async fn the_pages_show_scorecards_and_alerts_in_both_languages() {
    use crate::pages::{console, html};
    let t = TestApp::new().await;
    t.app.clock.start_at(MONDAY.parse().unwrap());
    let c = t.cast().await;
    t.respondent("merchant", "shop-1").await;
    let ten = file_many(&t, "shop-1", 1, 10).await;
    t.act(
        &ten[0].id,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    let mut sup = console(&t, "super1").await;
    let en = html(
        &sup.get(
            &t,
            "/staff/reports/respondents?from=2026-03-01&to=2026-03-31&lang=en",
        )
        .await,
    );
    for text in [
        "Respondent scorecards",
        "Respondent shop-1",
        "Merchant",
        "Replies on time",
        "sort=reply_on_time_rate",
        "sort=repeat_complainants",
    ] {
        assert!(en.contains(text), "{text} in {en}");
    }
    let zh = html(
        &sup.get(
            &t,
            "/staff/reports/respondents?from=2026-03-01&to=2026-03-31&lang=zh-CN",
        )
        .await,
    );
    assert!(zh.contains("被投诉人评分卡") && zh.contains("商家"), "{zh}");
    let alerts_en = html(
        &sup.get(&t, "/staff/alerts?from=2026-03-02&to=2026-03-02&lang=en")
            .await,
    );
    for text in [
        "Spike alerts",
        "Respondent shop-1",
        "2026-03-02",
        "at least 10",
    ] {
        assert!(alerts_en.contains(text), "{text} in {alerts_en}");
    }
    let alerts_zh = html(
        &sup.get(&t, "/staff/alerts?from=2026-03-02&to=2026-03-02&lang=zh-CN")
            .await,
    );
    assert!(
        alerts_zh.contains("投诉激增告警") && alerts_zh.contains("被投诉人"),
        "{alerts_zh}"
    );
    let reports = html(
        &sup.get(&t, "/staff/reports?from=2026-03-01&to=2026-03-31&lang=en")
            .await,
    );
    assert!(
        reports.contains("/staff/reports/respondents?") && reports.contains("/staff/alerts?"),
        "links from the reports page: {reports}"
    );
    let mut handler = console(&t, "handler1").await;
    for path in ["/staff/reports/respondents", "/staff/alerts"] {
        assert_eq!(handler.get(&t, path).await.status.as_u16(), 403, "{path}");
    }
}

tests![
    scorecards_count_volume_outcomes_replies_and_repeats,
    ten_is_a_spike_and_nine_is_not,
    a_flat_series_is_not_a_spike_and_the_deviation_has_a_floor,
    a_spike_is_mailed_to_supervisors_once,
    the_weekly_report_is_mailed_to_supervisors_once,
    the_pages_show_scorecards_and_alerts_in_both_languages,
];
