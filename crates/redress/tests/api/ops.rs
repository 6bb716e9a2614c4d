//! The record and the running server (SPEC §8, §11): the tamper-evident
//! journal through the API and the CLI, the archive ZIP, search and
//! paging, and the operational endpoints.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::{Value, json};

use crate::harness::*;

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn cli(t: &TestApp, args: &[&str]) -> std::process::Output {
    t.command().args(args).output().unwrap()
}

fn cli_verify_code(t: &TestApp) -> i32 {
    let out = cli(t, &["audit", "verify"]);
    out.status.code().unwrap_or(-1)
}

async fn verify(t: &TestApp, token: &str) -> Value {
    t.get("/audit/verify", Some(token)).await.expect(200)
}

/// A case with evidence, a message and a decision.
async fn decided_case(t: &TestApp, c: &Cast, png: &[u8]) -> Value {
    let f = t.file(complaint(1)).await;
    let id = s(&f["id"]);
    t.upload(
        &format!("/complaints/{id}/evidence"),
        Some(&c.intake),
        "photo.png",
        png,
    )
    .await
    .expect(200);
    t.act(
        &id,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    t.act(
        &id,
        "messages",
        &c.handler,
        json!({"audience": "complainant", "body": "正在核实"}),
    )
    .await;
    t.act(&id, "decide", &c.handler, json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "全额退款", "remedies": ["refund"]})).await;
    f
}

fn png_bytes() -> Vec<u8> {
    [b"\x89PNG\r\n\x1a\n".as_slice(), &[5u8; 80]].concat()
}

async fn ops_an_edited_event_fails_verification_by_api_and_cli() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    decided_case(&t, &c, &png_bytes()).await;
    let ok = verify(&t, &c.supervisor).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert!(ok["events_checked"].as_u64().unwrap() >= 5);
    assert_eq!(cli_verify_code(&t), 0, "the CLI passes an intact journal");

    t.sql("UPDATE events SET data = '{}' WHERE seq = 2");
    let bad = verify(&t, &c.supervisor).await;
    assert_eq!(bad["ok"], false, "{bad}");
    assert_eq!(cli_verify_code(&t), 1, "the CLI fails a tampered journal");
    // Only supervisors ask.
    t.get("/audit/verify", Some(&c.handler))
        .await
        .expect_error(403);
    t.get("/audit/verify", None).await.expect_error(401);
}

async fn ops_every_field_of_an_event_is_covered_by_the_chain() {
    for statement in [
        "UPDATE events SET actor = 'staff:someone-else' WHERE seq = CASE_SEQ",
        "UPDATE events SET kind = 'note_added' WHERE seq = CASE_SEQ",
        "UPDATE events SET case_id = NULL WHERE seq = CASE_SEQ",
        "UPDATE events SET case_id = (SELECT id FROM cases) WHERE seq = 3",
        "UPDATE events SET at = '2020-01-01T00:00:00.000000Z' WHERE seq = CASE_SEQ",
        "UPDATE events SET hash = prev_hash WHERE seq = CASE_SEQ",
    ] {
        // An event of the case (the first ones are the cast's accounts).
        let statement = statement.replace(
            "CASE_SEQ",
            "(SELECT min(seq) + 1 FROM events WHERE case_id IS NOT NULL)",
        );
        let statement = statement.as_str();
        let t = TestApp::new().await;
        let c = t.cast().await;
        decided_case(&t, &c, &png_bytes()).await;
        t.sql(statement);
        assert_eq!(verify(&t, &c.supervisor).await["ok"], false, "{statement}");
    }
}

async fn ops_an_unreadable_event_fails_verification_instead_of_erroring() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    decided_case(&t, &c, &png_bytes()).await;
    t.sql("UPDATE events SET at = 'yesterday' WHERE seq = 3");
    let bad = verify(&t, &c.supervisor).await;
    assert_eq!(bad["ok"], false, "{bad}");
    assert_eq!(cli_verify_code(&t), 1);

    let t = TestApp::new().await;
    let c = t.cast().await;
    decided_case(&t, &c, &png_bytes()).await;
    t.sql("UPDATE events SET case_id = 'not-a-uuid' WHERE seq = (SELECT max(seq) FROM events)");
    let bad = verify(&t, &c.supervisor).await;
    assert_eq!(bad["ok"], false, "{bad}");
    assert_eq!(cli_verify_code(&t), 1);
}

async fn ops_a_removed_event_is_detected_by_api_and_cli() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    decided_case(&t, &c, &png_bytes()).await;
    assert_eq!(cli_verify_code(&t), 0);
    t.sql("DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)");
    assert_eq!(verify(&t, &c.supervisor).await["ok"], false);
    assert_eq!(cli_verify_code(&t), 1);

    let t = TestApp::new().await;
    let c = t.cast().await;
    decided_case(&t, &c, &png_bytes()).await;
    t.sql("DELETE FROM events WHERE seq = 4");
    assert_eq!(verify(&t, &c.supervisor).await["ok"], false);
    assert_eq!(cli_verify_code(&t), 1);
}

fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut buf = vec![];
        f.read_to_end(&mut buf).unwrap();
        out.insert(f.name().to_string(), buf);
    }
    out
}

/// Finds `name` in the archive, at the top or in one folder.
fn entry<'a>(
    files: &'a BTreeMap<String, Vec<u8>>,
    name: &str,
) -> Option<(&'a String, &'a Vec<u8>)> {
    files.iter().find(|(k, _)| {
        *k == name || k.ends_with(&format!("/{name}")) && k.matches('/').count() == 1
    })
}

fn check_archive(files: &BTreeMap<String, Vec<u8>>, case: &Value, png: &[u8]) {
    for name in [
        "record.json",
        "events.json",
        "case-file.html",
        "manifest.json",
    ] {
        assert!(
            entry(files, name).is_some(),
            "{name} missing: {:?}",
            files.keys()
        );
    }
    let record: Value = serde_json::from_slice(entry(files, "record.json").unwrap().1).unwrap();
    assert!(
        record.to_string().contains(s(&case["tracking_no"])),
        "record.json is this case's"
    );
    let events: Value = serde_json::from_slice(entry(files, "events.json").unwrap().1).unwrap();
    let events = events
        .as_array()
        .or_else(|| events["events"].as_array())
        .expect("events.json lists events");
    assert!(events.len() >= 4, "{events:?}");
    let html = String::from_utf8(entry(files, "case-file.html").unwrap().1.clone()).unwrap();
    assert!(html.contains(s(&case["tracking_no"])));

    let sha = sha256_hex(png);
    let (_, ev) = files
        .iter()
        .find(|(k, _)| k.ends_with(&format!("evidence/{sha}")))
        .unwrap_or_else(|| panic!("evidence/{sha} missing: {:?}", files.keys()));
    assert_eq!(ev.as_slice(), png);

    let (manifest_name, manifest) = entry(files, "manifest.json").unwrap();
    let prefix = manifest_name.trim_end_matches("manifest.json");
    let manifest: Value = serde_json::from_slice(manifest).unwrap();
    let listed = manifest["files"].as_array().expect("manifest.files");
    let mut covered = 0;
    for f in listed {
        let path = s(&f["path"]);
        let bytes = files
            .get(path)
            .or_else(|| files.get(&format!("{prefix}{path}")))
            .unwrap_or_else(|| panic!("{path} listed but absent"));
        assert_eq!(s(&f["sha256"]), sha256_hex(bytes), "{path}");
        covered += 1;
    }
    // Every other file is in the manifest.
    assert_eq!(covered, files.len() - 1, "manifest: {manifest}");
}

async fn ops_the_archive_zip_holds_the_case_file_and_a_matching_manifest() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let png = png_bytes();
    let f = decided_case(&t, &c, &png).await;
    let (id, no) = (s(&f["id"]), s(&f["tracking_no"]));

    for who in [&c.handler, &c.intake, &c.reviewer] {
        t.get(&format!("/complaints/{id}/archive"), Some(who))
            .await
            .expect_error(403);
    }
    t.get(&format!("/complaints/{id}/archive"), None)
        .await
        .expect_error(401);
    let a = t
        .get(&format!("/complaints/{id}/archive"), Some(&c.supervisor))
        .await;
    assert_eq!(a.status.as_u16(), 200);
    assert!(a.bytes.starts_with(b"PK"), "a ZIP");
    check_archive(&unzip(&a.bytes), &f, &png);

    let out = t.dir.join("export.zip");
    let run = cli(&t, &["archive", "export", no, "-o", out.to_str().unwrap()]);
    assert!(run.status.success(), "{run:?}");
    check_archive(&unzip(&std::fs::read(&out).unwrap()), &f, &png);
    // An unknown case: a failure, no file.
    let missing = t.dir.join("missing.zip");
    let run = cli(
        &t,
        &[
            "archive",
            "export",
            "RD000000-NOPE00",
            "-o",
            missing.to_str().unwrap(),
        ],
    );
    assert!(!run.status.success());
    assert!(!missing.exists());
}

fn pct(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn total(t: &TestApp, path: &str, token: &str) -> u64 {
    t.get(path, Some(token)).await.expect(200)["total"]
        .as_u64()
        .unwrap()
}

async fn ops_search_finds_chinese_words_and_english_and_pages_exactly() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let sup = &c.supervisor;
    let texts = [
        ("快递迟迟未到", "下单两周了快递还没有送到", "尽快发货"),
        ("商家拒绝退款", "退货已签收但是不给退款", "退还货款"),
        (
            "Refund refused",
            "The seller refused my refund request",
            "full refund",
        ),
        ("账号被盗", "有人登录了我的账号并修改了密码", "找回账号"),
        ("屏幕有划痕", "收到的手机屏幕有明显划痕", "换新"),
    ];
    let mut ids = vec![];
    for (i, (subject, description, demands)) in texts.iter().enumerate() {
        let mut b = complaint(i as u32);
        b["subject"] = json!(subject);
        b["description"] = json!(description);
        b["demands"] = json!(demands);
        ids.push(s(&t.file(b).await["id"]).to_string());
    }
    let found = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| s(&i["id"]).to_string())
            .collect()
    };
    for (word, expect) in [
        ("退款", vec![1]),
        ("快递", vec![0]),
        ("账号", vec![3]),
        ("划痕", vec![4]),
        ("refund", vec![2]),
        ("REFUND", vec![2]),
        ("发票", vec![]),
    ] {
        let list = t
            .get(&format!("/complaints?q={}", pct(word)), Some(sup))
            .await
            .expect(200);
        let want: Vec<String> = expect.iter().map(|&i| ids[i].clone()).collect();
        assert_eq!(found(&list), want, "q={word}: {list}");
        assert_eq!(list["total"], want.len(), "q={word}");
    }
    // Search and a filter together.
    t.act(
        &ids[1],
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    assert_eq!(
        total(
            &t,
            &format!("/complaints?q={}&status=in_progress", pct("退款")),
            sup
        )
        .await,
        1
    );
    assert_eq!(
        total(
            &t,
            &format!("/complaints?q={}&status=submitted", pct("退款")),
            sup
        )
        .await,
        0
    );

    // Paging: limit 2 over 5 cases, each once, the total on every page.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/complaints?limit=2&cursor={c}"),
            None => "/complaints?limit=2".into(),
        };
        let page = t.get(&path, Some(sup)).await.expect(200);
        pages += 1;
        assert_eq!(page["total"], 5, "page {pages}: {page}");
        assert!(page["items"].as_array().unwrap().len() <= 2);
        seen.extend(found(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => {
                assert!(page["next_cursor"].is_null());
                break;
            }
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(unique.len(), 5, "{seen:?}");

    // Status filter.
    assert_eq!(total(&t, "/complaints?status=submitted", sup).await, 4);
    assert_eq!(total(&t, "/complaints?status=in_progress", sup).await, 1);
    let list = t
        .get("/complaints?status=in_progress", Some(sup))
        .await
        .expect(200);
    assert_eq!(found(&list), vec![ids[1].clone()]);
    assert_eq!(total(&t, "/complaints?status=closed", sup).await, 0);
    // Bad parameters are named.
    for (path, field) in [
        ("/complaints?status=opened", "status"),
        ("/complaints?status=SUBMITTED", "status"),
        ("/complaints?cursor=not-a-cursor", "cursor"),
        ("/complaints?cursor=%00%01", "cursor"),
        ("/complaints?limit=0", "limit"),
        ("/complaints?limit=abc", "limit"),
    ] {
        let fields = t.get(path, Some(sup)).await.expect_error(422);
        assert!(fields.get(field).is_some(), "{path}: {fields}");
    }
}

async fn ops_health_metrics_openapi_and_calendar_answer() {
    let t = TestApp::new().await;
    t.file(complaint(1)).await;
    t.file(complaint(2)).await;
    t.get("/healthz", None).await.expect(200);
    let m = t.get("/metrics", None).await;
    assert_eq!(m.status.as_u16(), 200);
    let text = String::from_utf8(m.bytes).unwrap();
    assert!(text.contains("redress_http_requests_total"), "{text}");
    assert!(text.contains("redress_cases"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("redress_cases{")
            && l.contains("submitted")
            && l.ends_with(" 2")),
        "{text}"
    );

    let doc = t.get("/api/openapi.json", None).await.expect(200);
    assert!(doc["openapi"].is_string());
    for path in ["/api/v1/complaints", "/api/v1/complaints/{id}/decide"] {
        assert!(doc["paths"].get(path).is_some(), "{path} not documented");
    }
    assert!(doc["paths"]["/api/v1/complaints"].get("post").is_some());
    assert!(doc["paths"]["/api/v1/complaints"].get("get").is_some());
    assert!(
        doc["paths"]["/api/v1/complaints/{id}/decide"]
            .get("post")
            .is_some()
    );

    let year = t.get("/calendar/2026", None).await.expect(200);
    assert_eq!(year["year"], 2026);
    let days = year["days"].as_array().unwrap();
    let kind = |d: &str| {
        days.iter()
            .find(|x| x["date"] == d)
            .map(|x| s(&x["kind"]).to_string())
    };
    assert_eq!(kind("2026-02-14").as_deref(), Some("workday"));
    assert_eq!(kind("2026-10-01").as_deref(), Some("holiday"));
    assert_eq!(kind("2026-10-07").as_deref(), Some("holiday"));
    assert_eq!(kind("2026-10-10").as_deref(), Some("workday"));
    assert_eq!(kind("2026-03-10"), None, "an ordinary Tuesday");

    // 2026: National Day is 1–7 October (State Council notice of
    // 2025-11-04), so the first working day after 30 September is Thursday
    // 8 October, and the deadline its end, 24:00 Beijing time.
    let due = t
        .get(
            "/calendar/due?from=2026-09-30T02:00:00Z&working_days=1",
            None,
        )
        .await
        .expect(200);
    assert_eq!(due["due_at"], "2026-10-08T16:00:00Z");
    // 2025: the holiday ran 1–8 October.
    let due = t
        .get(
            "/calendar/due?from=2025-09-30T02:00:00Z&working_days=1",
            None,
        )
        .await
        .expect(200);
    assert_eq!(due["due_at"], "2025-10-09T16:00:00Z");
    // Over the make-up Saturday 10 October 2026: 8 Oct, 9 Oct, 10 Oct.
    let due = t
        .get(
            "/calendar/due?from=2026-09-30T02:00:00Z&working_days=3",
            None,
        )
        .await
        .expect(200);
    assert_eq!(due["due_at"], "2026-10-10T16:00:00Z");
    for bad in [
        "/calendar/due?from=2026-09-30&working_days=-1",
        "/calendar/due?from=nonsense&working_days=1",
        "/calendar/due?from=2026-09-30T02:00:00Z",
    ] {
        t.get(bad, None).await.expect_error(422);
    }
}

tests![
    ops_an_edited_event_fails_verification_by_api_and_cli,
    ops_every_field_of_an_event_is_covered_by_the_chain,
    ops_a_removed_event_is_detected_by_api_and_cli,
    ops_the_archive_zip_holds_the_case_file_and_a_matching_manifest,
    ops_search_finds_chinese_words_and_english_and_pages_exactly,
    ops_health_metrics_openapi_and_calendar_answer,
    // PostgreSQL's column types (timestamptz, uuid) refuse the garbage
    // this test writes into the journal, so only SQLite can hold it.
    ; sqlite_only: ops_an_unreadable_event_fails_verification_instead_of_erroring,
];
