//! `GET /reports/summary`, `GET /reports/summary.csv` and `redress report`
//! (SPEC §10, docs/reports.md): figures from the rollups against
//! hand-counted fixtures on the test clock.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::harness::*;

/// Monday 2 March 2026, 09:00 in Shanghai: an ordinary working week.
const MONDAY: &str = "2026-03-02T01:00:00Z";

const MARCH: &str = "/reports/summary?from=2026-03-01&to=2026-03-31";

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

/// Seven cases filed on Monday 2 March at 09:00, each through a different
/// path, then the clock moved to Tuesday 10 March (B's supplement deadline,
/// five working days, ended with Monday 9 March):
/// - A accepted, decided, appealed, changed by review; rated 4.
/// - B asked for material at once (in time), never supplied it: lapsed.
/// - C asked for material, supplied it, accepted at once.
/// - D refused at once.
/// - E left alone: its acceptance deadline passed (missed, still open).
/// - F accepted, its handling deadline extended, decided.
/// - G accepted into `goods-quality` (department `merchant-compliance`).
async fn fixture(t: &TestApp) -> Cast {
    t.app.clock.start_at(MONDAY.parse().unwrap());
    let c = t.cast().await;
    let accept = |cat: &'static str| json!({"category": cat});
    let a = t.filed(1).await;
    t.act(&a.id, "accept", &c.intake, accept("refunds-returns"))
        .await;
    t.act(&a.id, "decide", &c.handler, decision()).await;
    t.track_act(&a, "appeal", json!({"reason": "金额不对"}))
        .await;
    t.act(
        &a.id,
        "review",
        &c.reviewer,
        json!({"result": "modified", "outcome": "partially_upheld",
               "basis": ["平台服务协议 5.3"], "reply": "改为部分支持。"}),
    )
    .await;
    t.track_act(&a, "feedback", json!({"score": 4})).await;

    let b = t.filed(2).await;
    t.act(
        &b.id,
        "request-info",
        &c.intake,
        json!({"items": ["订单截图"]}),
    )
    .await;

    let cc = t.filed(3).await;
    t.act(
        &cc.id,
        "request-info",
        &c.intake,
        json!({"items": ["订单截图"]}),
    )
    .await;
    t.track_act(&cc, "supplement", json!({"message": "截图已上传"}))
        .await;
    t.act(&cc.id, "accept", &c.intake, accept("refunds-returns"))
        .await;

    let d = t.filed(4).await;
    t.act(
        &d.id,
        "reject",
        &c.intake,
        json!({"reason": "不属于受理范围", "guidance": "请向市场监管部门反映"}),
    )
    .await;

    let _e = t.filed(5).await;

    let f = t.filed(6).await;
    let case = t
        .act(&f.id, "accept", &c.intake, accept("refunds-returns"))
        .await;
    let later = at(&case["handling_due_at"]) + Duration::days(5);
    t.act(
        &f.id,
        "extend",
        &c.handler,
        json!({"due_at": rfc(later), "reason": "等待第三方检测"}),
    )
    .await;
    t.act(&f.id, "decide", &c.handler, decision()).await;

    let g = t.filed(7).await;
    t.act(&g.id, "accept", &c.intake, accept("goods-quality"))
        .await;

    t.advance_to("2026-03-10T02:00:00Z".parse().unwrap()).await;
    let lapsed = t.case(&b.id, &c.supervisor).await;
    assert_eq!(lapsed["closure"], "lapsed", "{lapsed}");
    c
}

fn compliance(r: &Value, stage: &str) -> (i64, i64, i64) {
    let s = &r["deadline_compliance"][stage];
    (
        s["due"].as_i64().unwrap(),
        s["on_time"].as_i64().unwrap(),
        s["extended"].as_i64().unwrap(),
    )
}

async fn every_stage_is_counted_against_its_own_deadline() {
    let t = TestApp::new().await;
    let c = fixture(&t).await;
    let r = t.get(MARCH, Some(&c.supervisor)).await.expect(200);
    assert_eq!(r["total"], 7, "{r}");
    // Acceptance: six in time — B's request for material in time is not a
    // missed acceptance although B then lapsed, and C's acceptance counts
    // from its supplement — and E missed.
    assert_eq!(compliance(&r, "acceptance"), (7, 6, 0), "{r}");
    assert_eq!(r["deadline_compliance"]["acceptance"]["missed"], 1);
    // Supplement: C supplied in time, B lapsed.
    assert_eq!(compliance(&r, "supplement"), (2, 1, 0));
    // Handling: A and F decided in time (F's deadline extended).
    assert_eq!(compliance(&r, "handling"), (2, 2, 1));
    assert_eq!(r["extended_share"], 0.5);
    assert_eq!(compliance(&r, "review"), (1, 1, 0));
    assert_eq!(r["on_time_rate"], json!(10.0 / 12.0));
    assert_eq!(r["accepted"], 4);
    assert_eq!(r["rejected"], 1);
    assert_eq!(r["acceptance_rate"], 0.8);
    assert_eq!(r["decided"], 2);
    assert_eq!(r["outcomes"]["upheld"], 2);
    assert_eq!(r["outcomes"]["partially_upheld"], 0);
    assert_eq!(r["appealed"], 1);
    assert_eq!(r["appeal_rate"], 0.5);
    assert_eq!(
        r["reviews"],
        json!({"total": 1, "upheld": 0, "modified": 1})
    );
    assert_eq!(r["appeals_changed_share"], 1.0);
    assert_eq!(r["satisfaction"], json!({"average": 4.0, "responses": 1}));
    assert_eq!(r["by_channel"], json!({"web": 7}));
    assert_eq!(
        r["by_category"],
        json!({"(unclassified)": 3, "goods-quality": 1, "refunds-returns": 3})
    );
    assert_eq!(
        r["by_department"],
        json!({"(unclassified)": 3, "customer-service": 3, "merchant-compliance": 1})
    );
    assert_eq!(r["by_status"]["submitted"], 1);
    assert_eq!(r["by_status"]["in_progress"], 2);
    assert_eq!(r["by_closure"]["lapsed"], 1);
    assert_eq!(r["by_closure"]["rejected"], 1);
    assert_eq!(r["by_closure"]["reviewed"], 1);
    assert_eq!(r["time_to_accept"]["count"], 4);
    assert_eq!(r["time_to_accept"]["median_hours"], 0.0);
    assert_eq!(r["time_to_decide"]["count"], 2);
    assert_eq!(
        r["top_respondents"],
        json!([{"respondent": "merchant:shop-1", "count": 7}])
    );
    // Events count on their own local day: everything on the 2nd but B's
    // lapse (its supplement deadline ended with the 9th; the sweep closed it
    // then) and E's missed acceptance.
    let series = r["series"].as_array().unwrap();
    assert_eq!(series.len(), 31);
    let day = |d: &str| series.iter().find(|e| e["start"] == d).unwrap().clone();
    assert_eq!(day("2026-03-02")["filed"], 7);
    assert_eq!(day("2026-03-02")["accepted"], 4);
    assert_eq!(day("2026-03-02")["decided"], 2);
    assert_eq!(day("2026-03-01")["filed"], 0);
    let lapse_day = series
        .iter()
        .filter(|e| e["start"] != "2026-03-02")
        .map(|e| e["closed"].as_i64().unwrap())
        .sum::<i64>();
    assert_eq!(lapse_day, 1, "B's lapse counts after the day it was filed");
    // A period that holds none of these days has none of these figures.
    let april = t
        .get(
            "/reports/summary?from=2026-04-01&to=2026-04-30",
            Some(&c.supervisor),
        )
        .await
        .expect(200);
    assert_eq!(april["total"], 0);
    assert_eq!(april["deadline_compliance"]["acceptance"]["due"], 0);
    assert_eq!(april["previous"]["filed"], 7, "{april}");
}

async fn filters_intervals_and_the_previous_period() {
    let t = TestApp::new().await;
    let c = fixture(&t).await;
    let get = |q: &'static str| {
        let sup = c.supervisor.clone();
        let t = &t;
        async move { t.get(q, Some(&sup)).await }
    };
    let r = get("/reports/summary?from=2026-03-01&to=2026-03-31&department=merchant-compliance")
        .await
        .expect(200);
    assert_eq!(r["total"], 1);
    assert_eq!(r["accepted"], 1);
    assert_eq!(r["department"], "merchant-compliance");
    assert_eq!(r["by_department"], json!({"merchant-compliance": 1}));
    let r = get("/reports/summary?from=2026-03-01&to=2026-03-31&category=refunds-returns")
        .await
        .expect(200);
    assert_eq!(r["total"], 3);
    assert_eq!(compliance(&r, "handling"), (2, 2, 1));
    assert_eq!(r["decided"], 2);
    let fields = get("/reports/summary?department=nowhere&category=nothing&interval=year")
        .await
        .expect_error(422);
    for f in ["department", "category", "interval"] {
        assert!(fields[f].is_string(), "{f} in {fields}");
    }
    get("/reports/summary?from=2026-03-05&to=2026-03-01")
        .await
        .expect_error(422);

    // Weeks run Monday to Sunday, clipped to the period.
    let w = get("/reports/summary?from=2026-03-01&to=2026-03-14&interval=week")
        .await
        .expect(200);
    let series = w["series"].as_array().unwrap();
    let spans: Vec<(String, String, i64)> = series
        .iter()
        .map(|e| {
            (
                s(&e["start"]).to_string(),
                s(&e["end"]).to_string(),
                e["filed"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        vec![
            ("2026-03-01".into(), "2026-03-01".into(), 0),
            ("2026-03-02".into(), "2026-03-08".into(), 7),
            ("2026-03-09".into(), "2026-03-14".into(), 0),
        ]
    );
    let m = get("/reports/summary?from=2026-02-15&to=2026-04-10&interval=month")
        .await
        .expect(200);
    let months: Vec<&str> = m["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["start"]))
        .collect();
    assert_eq!(months, ["2026-02-15", "2026-03-01", "2026-04-01"]);
    assert_eq!(m["series"][1]["filed"], 7);
    // The previous period of the same length, and the change against it.
    let next = get("/reports/summary?from=2026-03-15&to=2026-03-28")
        .await
        .expect(200);
    assert_eq!(next["previous"]["from_day"], "2026-03-01");
    assert_eq!(next["previous"]["to_day"], "2026-03-14");
    assert_eq!(next["previous"]["filed"], 7);
    assert_eq!(next["change"]["filed"], -7);
    assert_eq!(next["interval"], "day");
}

async fn csv_cli_and_a_rebuild_give_the_same_figures() {
    let t = TestApp::new().await;
    let c = fixture(&t).await;
    let json_answer = t.get(MARCH, Some(&c.supervisor)).await.expect(200);

    let a = t
        .get(
            "/reports/summary.csv?from=2026-03-01&to=2026-03-31",
            Some(&c.supervisor),
        )
        .await;
    assert_eq!(a.status.as_u16(), 200);
    assert_eq!(a.headers["content-type"], "text/csv; charset=utf-8");
    let disposition = a.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("filename=\"redress-report-2026-03-01-2026-03-31.csv\""),
        "{disposition}"
    );
    assert!(
        a.bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "a byte-order mark"
    );
    let csv = String::from_utf8(a.bytes.clone()).unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "figure,key,value");
    for line in [
        "total,,7",
        "deadline_compliance.acceptance,due,7",
        "deadline_compliance.acceptance,on_time,6",
        "deadline_compliance.supplement,on_time,1",
        "by_category,(unclassified),3",
        "top_respondents,merchant:shop-1,7",
        "series.2026-03-02,filed,7",
        "acceptance_rate,,0.8",
    ] {
        assert!(lines.contains(&line), "{line} in {csv}");
    }
    t.get("/reports/summary.csv", Some(&c.handler))
        .await
        .expect_error(403);

    // The command line answers the same figures.
    let out = t
        .command()
        .args(["report", "--from", "2026-03-01", "--to", "2026-03-31"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, json_answer);
    let file = t.dir.join("march.csv");
    let out = t
        .command()
        .args(["report", "--from", "2026-03-01", "--to", "2026-03-31"])
        .args(["--format", "csv", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&file).unwrap(), a.bytes);
    let out = t
        .command()
        .args(["report", "--from", "2026-03-01", "--to", "2026-03-31"])
        .args(["--format", "html"])
        .output()
        .unwrap();
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains("<td>deadline_compliance.acceptance</td><td>on_time</td><td>6</td>"));

    // The counters kept case by case are what a rebuild computes: empty
    // the table, rebuild, and every figure comes back.
    t.sql("DELETE FROM report_days");
    t.sql("DELETE FROM report_months");
    let empty = t.get(MARCH, Some(&c.supervisor)).await.expect(200);
    assert_eq!(empty["total"], 0);
    let out = t.command().args(["report", "rebuild"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rebuilt: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rebuilt["cases"], 7);
    let again = t.get(MARCH, Some(&c.supervisor)).await.expect(200);
    assert_eq!(again, json_answer);
}

async fn the_page_shows_names_the_new_figures_and_a_csv_link() {
    use crate::pages::{console, html};
    let t = TestApp::new().await;
    fixture(&t).await;
    t.respondent("merchant", "shop-1").await;
    let mut sup = console(&t, "super1").await;
    let a = sup
        .get(&t, "/staff/reports?from=2026-03-01&to=2026-03-31&lang=en")
        .await;
    assert_eq!(a.status.as_u16(), 200);
    let page = html(&a);
    for text in [
        // Names, not codes: category, respondent, outcome, channel.
        "Refunds",
        "Respondent shop-1",
        "Upheld",
        "Web form",
        // The new figures.
        "Material supplied on time",
        "50.0%",
        "Reviewed on time",
        "Handling deadlines extended",
        "2026-03-02",
        "/staff/reports.csv?from=2026-03-01&#38;to=2026-03-31&#38;interval=day",
    ] {
        assert!(page.contains(text), "{text} in {page}");
    }
    assert!(!page.contains(">refunds-returns<"), "a code shown: {page}");
    let a = sup
        .get(
            &t,
            "/staff/reports.csv?from=2026-03-01&to=2026-03-31&category=refunds-returns",
        )
        .await;
    assert_eq!(a.status.as_u16(), 200);
    assert!(a.bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let csv = String::from_utf8(a.bytes).unwrap();
    assert!(csv.contains("\r\ntotal,,3\r\n"), "{csv}");
    let zh = html(
        &sup.get(
            &t,
            "/staff/reports?from=2026-03-01&to=2026-03-31&lang=zh-CN",
        )
        .await,
    );
    assert!(zh.contains("按时补正率") && zh.contains("下载 CSV"), "{zh}");
    let mut handler = console(&t, "handler1").await;
    assert_eq!(
        handler
            .get(&t, "/staff/reports.csv?from=2026-03-01")
            .await
            .status
            .as_u16(),
        403
    );
}

/// The rows of the data tables under the report's charts: label, the
/// link's path and query (unescaped), value.
fn chart_rows(page: &str) -> Vec<(String, Option<String>, u64)> {
    let mut out = Vec::new();
    for table in page.split("<table class=\"chart-data\">").skip(1) {
        let table = table.split("</table>").next().unwrap();
        for row in table.split("<tr><th scope=\"row\">").skip(1) {
            let (head, value) = row.split_once("</th><td>").unwrap();
            let text = |cell: &str| -> String {
                match cell.strip_prefix("<a href=\"") {
                    Some(linked) => linked
                        .split_once("\">")
                        .unwrap()
                        .1
                        .split("</a>")
                        .next()
                        .unwrap()
                        .to_string(),
                    None => cell.split("</td>").next().unwrap().to_string(),
                }
            };
            let href = head.strip_prefix("<a href=\"").map(|h| {
                h.split('"')
                    .next()
                    .unwrap()
                    .replace("&#38;", "&")
                    .replace("&amp;", "&")
            });
            let value = text(value).trim().parse().unwrap();
            out.push((text(head), href, value));
        }
    }
    out
}

/// The total the staff case list answers at `href`.
async fn list_total(b: &mut crate::pages::Browser, t: &TestApp, href: &str) -> u64 {
    let a = b.get(t, href).await;
    assert_eq!(a.status.as_u16(), 200, "{href}");
    let page = crate::pages::html(&a);
    let at = page
        .find("<p id=\"total\">")
        .unwrap_or_else(|| panic!("no total: {page}"));
    page[at + 14..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

async fn figures_link_to_their_cases_by_name_and_print() {
    use crate::pages::{console, html};
    let t = TestApp::new().await;
    fixture(&t).await;
    // merchant:shop-1 has no account: its name comes from its cases.
    let mut sup = console(&t, "super1").await;
    let page = html(
        &sup.get(&t, "/staff/reports?from=2026-03-01&to=2026-03-31&lang=en")
            .await,
    );
    let rows = chart_rows(&page);
    let link = |label: &str| -> (String, u64) {
        let (_, href, n) = rows
            .iter()
            .find(|(l, _, _)| l == label)
            .unwrap_or_else(|| panic!("no row {label} in {rows:?}"));
        (
            href.clone().unwrap_or_else(|| panic!("{label} not linked")),
            *n,
        )
    };
    let period = "/staff/cases?from=2026-03-01&to=2026-03-31";
    // Each figure's link carries the period and its own filter, and the
    // list behind it holds as many cases as the figure says.
    for (label, filter, n) in [
        ("Web form", "channel=web", 7),
        ("Refunds and returns", "category=refunds-returns", 3),
        ("Customer Service", "department=customer-service", 3),
        ("Merchant Compliance", "department=merchant-compliance", 1),
        ("好店", "respondent=merchant%3Ashop-1", 7),
        ("Material not supplied in time", "closure=lapsed", 1),
        ("Acceptance", "missed=acceptance", 1),
        ("2026-03-02", "", 7),
    ] {
        let (href, value) = link(label);
        let want = if filter.is_empty() {
            "/staff/cases?from=2026-03-02&to=2026-03-02".to_string()
        } else {
            format!("{period}&{filter}")
        };
        assert_eq!(href, want, "{label}");
        assert_eq!(value, n, "{label}");
        assert_eq!(list_total(&mut sup, &t, &href).await, n, "{href}");
    }
    let (href, value) = link("Upheld");
    assert_eq!(href, format!("{period}&outcome=upheld"));
    assert_eq!(value, 2);
    // The unclassified cases have no list filter: no link.
    let unclassified = rows
        .iter()
        .filter(|(l, _, _)| l == "Not yet classified")
        .collect::<Vec<_>>();
    assert_eq!(unclassified.len(), 2, "by category and by department");
    assert!(unclassified.iter().all(|(_, h, n)| h.is_none() && *n == 3));
    // The headline total links to the whole period's cases.
    assert!(
        page.contains(&format!("<a href=\"{}\">7 (", period.replace('&', "&#38;"))),
        "{page}"
    );
    // Chart bars are links inside the SVG too.
    assert!(
        page.contains("<a href=\"/staff/cases?from=2026-03-01&#38;to=2026-03-31&#38;channel=web\" tabindex=\"-1\">"),
        "{page}"
    );
    // Names, not codes, in the labels.
    for code in [
        ">merchant:shop-1<",
        ">customer-service<",
        ">refunds-returns<",
        ">web<",
    ] {
        assert!(!page.contains(code), "{code} shown: {page}");
    }
    // A report for one department keeps it in every link.
    let one = html(
        &sup.get(
            &t,
            "/staff/reports?from=2026-03-01&to=2026-03-31&department=customer-service&lang=en",
        )
        .await,
    );
    let (href, n) = chart_rows(&one)
        .into_iter()
        .find(|(l, _, _)| l == "Web form")
        .map(|(_, h, n)| (h.unwrap(), n))
        .unwrap();
    assert_eq!(
        href,
        format!("{period}&department=customer-service&channel=web")
    );
    assert_eq!(n, 3);
    assert_eq!(list_total(&mut sup, &t, &href).await, 3);

    // Chinese: the same figures by their Chinese names.
    let zh = html(
        &sup.get(
            &t,
            "/staff/reports?from=2026-03-01&to=2026-03-31&lang=zh-CN",
        )
        .await,
    );
    let zh_rows = chart_rows(&zh);
    for (label, n) in [
        ("网页表单", 7),
        ("好店", 7),
        ("客户服务部", 3),
        ("退款退货", 3),
    ] {
        assert!(
            zh_rows
                .iter()
                .any(|(l, h, v)| l == label && h.is_some() && *v == n),
            "{label} in {zh_rows:?}"
        );
    }
    assert!(zh.contains("按部门") && zh.contains("各阶段超期数"), "{zh}");
    // The scorecards too: the name on the cases, the volume linked.
    let cards = html(
        &sup.get(
            &t,
            "/staff/reports/respondents?from=2026-03-01&to=2026-03-31&lang=en",
        )
        .await,
    );
    assert!(cards.contains("<td>好店<br>"), "{cards}");
    let volume = format!(
        "<td><a href=\"{}\">7</a></td>",
        format!("{period}&respondent=merchant%3Ashop-1").replace('&', "&#38;")
    );
    assert!(cards.contains(&volume), "{volume} in {cards}");
    // A registered respondent is shown by the name an admin gave it.
    t.respondent("merchant", "shop-1").await;
    let en = html(
        &sup.get(&t, "/staff/reports?from=2026-03-01&to=2026-03-31&lang=en")
            .await,
    );
    assert!(link_label(&en, "Respondent shop-1"), "{en}");
    // Printable: the form and links are marked to be left out in print,
    // and the stylesheet says so.
    assert!(en.contains("class=\"search no-print\""));
    let css = html(&sup.get(&t, "/static/app.css").await);
    let print = css.rsplit("@media print").next().unwrap();
    assert!(print.contains("form, .no-print, header.top nav"), "{css}");
}

fn link_label(page: &str, label: &str) -> bool {
    chart_rows(page)
        .iter()
        .any(|(l, h, _)| l == label && h.is_some())
}

/// The integer figures of a summary that add up over periods, by path
/// (`deadline_compliance.acceptance.due`, `by_channel.web`, …): every
/// count but the series, the previous period and the trend.
fn counts(r: &Value) -> std::collections::BTreeMap<String, i64> {
    fn walk(v: &Value, path: String, out: &mut std::collections::BTreeMap<String, i64>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, p, out);
                }
            }
            Value::Number(n) if n.is_i64() => {
                out.insert(path, n.as_i64().unwrap());
            }
            _ => {}
        }
    }
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in r.as_object().unwrap() {
        if ["series", "previous", "change", "top_respondents"].contains(&k.as_str()) {
            continue;
        }
        walk(v, k.clone(), &mut out);
    }
    for item in r["top_respondents"].as_array().unwrap() {
        out.insert(
            format!("top_respondents.{}", s(&item["respondent"])),
            item["count"].as_i64().unwrap(),
        );
    }
    out.retain(|_, n| *n != 0);
    out
}

/// A period of whole months and partial edge months (read from the
/// monthly counters plus the daily ones, migration 0022) gives what its
/// days give: the sum of three periods that each hold no whole month (read
/// from the daily counters only), and per month what its days add up to.
async fn a_period_of_partial_months_adds_up_from_its_days() {
    let t = TestApp::new().await;
    let c = fixture(&t).await;
    // More events in April and May: cases filed, accepted and decided.
    t.advance_to("2026-04-14T02:00:00Z".parse().unwrap()).await;
    let h = t.accepted(&c, 8).await;
    t.advance_to("2026-04-16T02:00:00Z".parse().unwrap()).await;
    t.act(&h.id, "decide", &c.handler, decision()).await;
    t.filed(9).await;
    t.advance_to("2026-05-06T02:00:00Z".parse().unwrap()).await;
    t.accepted(&c, 10).await;
    t.advance_to("2026-05-20T02:00:00Z".parse().unwrap()).await;

    let get = |q: String| {
        let sup = c.supervisor.clone();
        let t = &t;
        async move { t.get(&q, Some(&sup)).await.expect(200) }
    };
    let period = "from=2026-02-20&to=2026-05-10";
    let whole = get(format!("/reports/summary?{period}")).await;
    assert_eq!(whole["total"], 10, "{whole}");
    assert_eq!(whole["accepted"], 6, "{whole}");
    assert_eq!(whole["decided"], 3, "{whole}");
    let mut summed: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for (from, to) in [
        ("2026-02-20", "2026-03-15"),
        ("2026-03-16", "2026-04-15"),
        ("2026-04-16", "2026-05-10"),
    ] {
        let part = get(format!("/reports/summary?from={from}&to={to}")).await;
        for (k, n) in counts(&part) {
            *summed.entry(k).or_default() += n;
        }
    }
    summed.retain(|_, n| *n != 0);
    assert_eq!(counts(&whole), summed);
    // The same with a department filter.
    let ops = get(format!(
        "/reports/summary?{period}&department=customer-service"
    ))
    .await;
    assert_eq!(ops["total"], 5, "{ops}");

    // Per month (whole months from the monthly counters) as per day.
    let months = get(format!("/reports/summary?{period}&interval=month")).await;
    let days = get(format!("/reports/summary?{period}&interval=day")).await;
    let mut per_month: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>> =
        std::collections::BTreeMap::new();
    for e in days["series"].as_array().unwrap() {
        let month = s(&e["start"])[..7].to_string();
        let entry = per_month.entry(month).or_default();
        for (k, v) in e.as_object().unwrap() {
            if let Some(n) = v.as_i64() {
                *entry.entry(k.clone()).or_default() += n;
            }
        }
    }
    let series = months["series"].as_array().unwrap();
    assert_eq!(series.len(), 4, "{months}");
    for e in series {
        let month = s(&e["start"])[..7].to_string();
        for (k, n) in &per_month[&month] {
            assert_eq!(e[k].as_i64(), Some(*n), "{month} {k}: {e}");
        }
    }
    assert_eq!(series[0]["start"], "2026-02-20");
    assert_eq!(series[1]["filed"], 7);
}

tests![
    every_stage_is_counted_against_its_own_deadline,
    filters_intervals_and_the_previous_period,
    csv_cli_and_a_rebuild_give_the_same_figures,
    the_page_shows_names_the_new_figures_and_a_csv_link,
    figures_link_to_their_cases_by_name_and_print,
    a_period_of_partial_months_adds_up_from_its_days,
];
