//! `GET /exports/cases.csv` (SPEC §10, docs/exports.md): every case filed
//! in the period, one row each, in the documented columns; complainant
//! contact data masked unless a supervisor asks for it in full; every
//! export journaled.

use serde_json::json;

use crate::harness::*;

/// The header row docs/exports.md documents.
const HEADER: &str = "tracking_no,filed_at,channel,category,department,respondent_kind,\
respondent_id,respondent_name,complainant_name,complainant_email,complainant_phone,status,\
closure,acceptance_due_at,accepted_at,rejected_at,info_requested_at,handling_due_at,extensions,\
decided_at,outcome,remedies,appealed_at,review_due_at,review_result,reviewed_at,closed_at,\
missed_stages,deadlines_met,satisfaction";

/// The export's rows (the header first), without the byte-order mark.
async fn export(t: &TestApp, token: &str, query: &str) -> Vec<csv_row::Row> {
    let a = t
        .get(&format!("/exports/cases.csv{query}"), Some(token))
        .await;
    assert_eq!(
        a.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&a.bytes)
    );
    assert_eq!(a.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        a.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"redress-cases-"),
    );
    assert!(
        a.bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "no byte-order mark"
    );
    csv_row::parse(std::str::from_utf8(&a.bytes[3..]).unwrap())
}

/// A small reader of the export's CSV (quoted fields, doubled quotes).
mod csv_row {
    pub type Row = Vec<String>;

    pub fn parse(text: &str) -> Vec<Row> {
        let mut rows = Vec::new();
        let (mut row, mut field) = (Vec::new(), String::new());
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                ('"', true) => quoted = false,
                ('"', false) => quoted = true,
                (',', false) => row.push(std::mem::take(&mut field)),
                ('\n', false) => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                (c, _) => field.push(c),
            }
        }
        rows
    }
}

async fn the_export_masks_contacts_unless_asked_and_is_journaled() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let decided = t.accepted(&c, 1).await;
    t.act(
        &decided.id,
        "decide",
        &c.handler,
        json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将退款。",
               "remedies": [{"kind": "refund", "description": "全额退款, 含运费", "amount": 199}]}),
    )
    .await;
    let filed = t.filed(2).await;

    let rows = export(&t, &c.supervisor, "").await;
    assert_eq!(rows[0].join(","), HEADER);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let row_of = |no: &str| rows.iter().find(|r| r[0] == no).unwrap().clone();
    let d = row_of(&decided.no);
    assert_eq!(d[col("status")], "resolved");
    assert_eq!(d[col("outcome")], "upheld");
    assert_eq!(d[col("category")], "refunds-returns");
    assert_eq!(d[col("respondent_id")], "shop-1");
    assert!(d[col("remedies")].contains("全额退款, 含运费"), "{d:?}");
    assert_eq!(d[col("deadlines_met")], "true");
    assert!(!d[col("accepted_at")].is_empty() && !d[col("decided_at")].is_empty());
    // Masked: the first character of the name, the e-mail's first letter.
    assert_eq!(d[col("complainant_name")], "张*");
    assert_eq!(d[col("complainant_email")], "z***@example.com");
    assert_eq!(d[col("complainant_phone")], "138****5678");
    let f = row_of(&filed.no);
    assert_eq!(f[col("status")], "submitted");
    assert_eq!(f[col("outcome")], "");

    // In full on request; each export is journaled with its mode.
    let full = export(&t, &c.supervisor, "?contact=full").await;
    let d = full.iter().find(|r| r[0] == decided.no).unwrap();
    assert_eq!(d[col("complainant_email")], "zhang1@example.com");
    assert_eq!(d[col("complainant_name")], "张三1");
    let journal = t.app.store.journal_after(0, 100_000).await.unwrap();
    let modes: Vec<String> = journal
        .iter()
        .filter(|e| e.kind == "cases_exported")
        .map(|e| {
            assert_eq!(e.actor, "staff:super1");
            serde_json::from_str::<serde_json::Value>(&e.data).unwrap()["contact"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(modes, vec!["masked", "full"]);

    // Nobody else exports; bad parameters are named.
    for who in [&c.intake, &c.handler, &c.reviewer] {
        t.get("/exports/cases.csv", Some(who))
            .await
            .expect_error(403);
    }
    let reasons = t
        .get("/exports/cases.csv?contact=everything", Some(&c.supervisor))
        .await
        .expect_reasons();
    assert_eq!(reasons["contact"], "not_one_of");
}

async fn the_period_is_the_filing_time() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let early = t.filed(1).await;
    t.advance(3 * 86_400).await;
    let late = t.filed(2).await;
    let case = t.case(&late.id, &c.supervisor).await;
    let from = s(&case["created_at"]).to_string();
    let rows = export(
        &t,
        &c.supervisor,
        &format!("?from={}", from.replace('+', "%2B")),
    )
    .await;
    let numbers: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(numbers, vec![late.no.as_str()]);
    let rows = export(
        &t,
        &c.supervisor,
        &format!("?to={}", from.replace('+', "%2B")),
    )
    .await;
    let numbers: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(numbers, vec![early.no.as_str()]);
}

tests![
    the_export_masks_contacts_unless_asked_and_is_journaled,
    the_period_is_the_filing_time,
];
