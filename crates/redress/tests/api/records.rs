//! The case file: the archive ZIP, the tamper-evident journal (API and
//! CLI), and the operational endpoints.

use std::io::Read;

use serde_json::{Value, json};

use crate::harness::*;

async fn closed_case(t: &TestApp, c: &Cast) -> Value {
    let f = t.file(complaint(1)).await;
    let id = f["id"].as_str().unwrap();
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[3u8; 50]].concat();
    t.upload(
        &format!("/complaints/{id}/evidence"),
        Some(&c.intake),
        "photo.png",
        &png,
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
        json!({"audience": "complainant", "body": "<script>alert(1)</script>"}),
    )
    .await;
    t.act(
        &id,
        "decide",
        &c.handler,
        json!({"outcome": "settled", "basis": ["协议"], "reply": "和解"}),
    )
    .await;
    f
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut buf = vec![];
        f.read_to_end(&mut buf).unwrap();
        out.insert(f.name().to_string(), buf);
    }
    out
}

fn check_archive(files: &std::collections::BTreeMap<String, Vec<u8>>, no: &str) {
    for name in [
        "record.json",
        "events.json",
        "messages.json",
        "decision.json",
        "deliveries.json",
        "case-file.html",
        "manifest.json",
    ] {
        assert!(
            files.contains_key(&format!("{no}/{name}")),
            "{name} missing: {:?}",
            files.keys()
        );
    }
    let manifest: Value = serde_json::from_slice(&files[&format!("{no}/manifest.json")]).unwrap();
    let listed = manifest["files"].as_array().unwrap();
    assert!(listed.len() >= 8);
    for f in listed {
        let path = f["path"].as_str().unwrap();
        let bytes = files
            .get(path)
            .or_else(|| files.get(&format!("{no}/{path}")))
            .unwrap_or_else(|| panic!("{path} listed but absent"));
        assert_eq!(f["sha256"].as_str().unwrap(), sha256_hex(bytes), "{path}");
    }
    assert!(
        files
            .keys()
            .any(|k| k.starts_with(&format!("{no}/evidence/")))
    );
    let html = String::from_utf8(files[&format!("{no}/case-file.html")].clone()).unwrap();
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "user text is escaped in the case file"
    );
}

async fn the_archive_holds_records_case_file_evidence_and_manifest() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let f = closed_case(&t, &c).await;
    let (id, no) = (
        f["id"].as_str().unwrap(),
        f["tracking_no"].as_str().unwrap(),
    );
    t.get(&format!("/complaints/{id}/archive"), Some(&c.handler))
        .await
        .expect_error(403);
    let a = t
        .get(&format!("/complaints/{id}/archive"), Some(&c.supervisor))
        .await;
    assert_eq!(a.status.as_u16(), 200);
    assert_eq!(a.headers["content-type"], "application/zip");
    check_archive(&unzip(&a.bytes), no);

    // The CLI writes the same kind of file.
    let out = t.dir.join("export.zip");
    let status = t
        .command()
        .args(["archive", "export", no, "-o"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    check_archive(&unzip(&std::fs::read(&out).unwrap()), no);
}

fn cli_verify(t: &TestApp) -> bool {
    t.command()
        .args(["audit", "verify"])
        .output()
        .unwrap()
        .status
        .success()
}

async fn an_edited_event_is_detected_by_the_api_and_the_cli() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    closed_case(&t, &c).await;
    let ok = t
        .get("/audit/verify", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(ok["ok"], true);
    assert!(cli_verify(&t));
    t.sql(
        "UPDATE events SET data = '{\"outcome\":\"not_upheld\"}' WHERE seq = (SELECT max(seq) - 3 FROM events)",
    );
    let bad = t
        .get("/audit/verify", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(bad["ok"], false, "{bad}");
    assert!(!cli_verify(&t));
    t.get("/audit/verify", Some(&c.handler))
        .await
        .expect_error(403);
}

async fn a_removed_event_is_detected() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    closed_case(&t, &c).await;
    t.sql("DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)");
    assert_eq!(
        t.get("/audit/verify", Some(&c.supervisor))
            .await
            .expect(200)["ok"],
        false
    );
    let t2 = TestApp::new().await;
    let c2 = t2.cast().await;
    closed_case(&t2, &c2).await;
    t2.sql("DELETE FROM events WHERE seq = 5");
    assert_eq!(
        t2.get("/audit/verify", Some(&c2.supervisor))
            .await
            .expect(200)["ok"],
        false
    );
}

async fn operations_endpoints_answer() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    t.file(complaint(1)).await;
    assert_eq!(t.get("/healthz", None).await.expect(200)["status"], "ok");
    let m = t.get("/metrics", None).await;
    let text = String::from_utf8(m.bytes).unwrap();
    assert!(text.contains("redress_http_requests_total"), "{text}");
    assert!(
        text.contains("redress_cases{status=\"submitted\"} 1"),
        "{text}"
    );
    let doc = t.get("/api/openapi.json", None).await.expect(200);
    for path in [
        "/api/v1/complaints",
        "/api/v1/complaints/{id}/decide",
        "/api/v1/track/{tracking_no}/appeal",
        "/api/v1/calendar/due",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} not documented");
    }
    let year = t.get("/calendar/2026", None).await.expect(200);
    let days = year["days"].as_array().unwrap();
    let kind = |d: &str| {
        days.iter()
            .find(|x| x["date"] == d)
            .map(|x| x["kind"].as_str().unwrap().to_string())
    };
    assert_eq!(kind("2026-02-14").as_deref(), Some("workday"));
    assert_eq!(kind("2026-10-01").as_deref(), Some("holiday"));
    let due = t
        .get(
            "/calendar/due?from=2025-09-30T02:00:00Z&working_days=1",
            None,
        )
        .await
        .expect(200);
    assert_eq!(due["due_at"], "2025-10-09T16:00:00Z");
    assert!(
        t.get("/calendar/due?from=yesterday&working_days=x", None)
            .await
            .expect_error(422)
            .get("working_days")
            .is_some()
    );
    let report = t
        .get("/reports/summary", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(report["by_status"]["submitted"], 1);
    assert_eq!(report["by_channel"]["web"], 1);
    t.get("/reports/summary", Some(&c.handler))
        .await
        .expect_error(403);
    t.get("/nowhere", None).await.expect_error(404);
    t.call("DELETE", "/complaints", None, None)
        .await
        .expect_error(405);
}

tests![
    the_archive_holds_records_case_file_evidence_and_manifest,
    an_edited_event_is_detected_by_the_api_and_the_cli,
    a_removed_event_is_detected,
    operations_endpoints_answer,
];
