//! Data subjects' rights (SPEC §9) and retention (§8): the complainant's
//! download of their own data, a supervisor's early erasure of a closed
//! case, the expiry of what is kept beside the cases, a purge that leaves
//! nothing readable (crypto-shredding) and the rotation of the data key.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::{Value, json};

use crate::harness::*;
use crate::pages::{Browser, hidden, html};

fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut buf = vec![];
        f.read_to_end(&mut buf).unwrap();
        out.insert(f.name().to_string(), buf);
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Where a file stored by its hash (no case yet) lies.
fn evidence_file(t: &TestApp, sha: &str) -> std::path::PathBuf {
    t.dir.join("evidence").join(&sha[..2]).join(sha)
}

/// A browser with the complainant's access code in its cookie.
async fn complainant_browser(t: &TestApp, no: &str, token: &str) -> Browser {
    let mut b = Browser::default();
    let page = html(&b.get(t, "/track").await);
    let csrf = hidden(&page, "csrf");
    let a = b
        .post_form(
            t,
            "/track",
            &[
                ("csrf", &csrf),
                ("tracking_no", no),
                ("access_token", token),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    b
}

/// A browser signed in to the staff console.
async fn staff_browser(t: &TestApp, username: &str) -> Browser {
    let mut b = Browser::default();
    let page = html(&b.get(t, "/staff/login").await);
    let csrf = hidden(&page, "csrf");
    let a = b
        .post_form(
            t,
            "/staff/login",
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    b
}

/// The export's entries: only case.json, README.txt and files/<sha256>.
fn check_export(files: &BTreeMap<String, Vec<u8>>) {
    for name in files.keys() {
        let ok = name == "case.json"
            || name == "README.txt"
            || name.strip_prefix("files/").is_some_and(|h| {
                h.len() == 64
                    && h.bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            });
        assert!(ok, "unexpected entry {name}");
    }
    let readme = String::from_utf8(files["README.txt"].clone()).unwrap();
    assert!(readme.contains("case.json") && readme.contains("个人信息保护法"));
    assert!(readme.contains("Personal Information Protection Law"));
}

async fn a_complainant_downloads_their_own_data() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let filed = t.file(complaint(1)).await;
    let (id, no, token) = (
        filed["id"].as_str().unwrap(),
        filed["tracking_no"].as_str().unwrap(),
        filed["access_token"].as_str().unwrap(),
    );
    let mine = b"my receipt: order 4411, paid 88 yuan";
    t.upload(
        &format!("/track/{no}/evidence"),
        Some(token),
        "../../收据.txt",
        mine,
    )
    .await
    .expect(200);
    let theirs = b"staff-only call transcript, never shown to the complainant";
    t.upload(
        &format!("/complaints/{id}/evidence"),
        Some(&c.intake),
        "transcript.txt",
        theirs,
    )
    .await
    .expect(200);
    t.act(
        &id,
        "notes",
        &c.intake,
        json!({"kind": "note", "body": "INTERNAL-NOTE-7731"}),
    )
    .await;
    t.act(
        &id,
        "messages",
        &c.intake,
        json!({"audience": "internal", "body": "INTERNAL-MESSAGE-7732"}),
    )
    .await;
    t.act(
        &id,
        "messages",
        &c.intake,
        json!({"audience": "complainant", "body": "我们已收到您的材料"}),
    )
    .await;

    // The API, with the access token.
    let path = format!("/track/{no}/export");
    let a = t.get(&path, Some(token)).await;
    assert_eq!(a.status.as_u16(), 200, "{}", a.body);
    assert_eq!(a.headers["content-type"], "application/zip");
    let disposition = a.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains(no), "{disposition}");
    let files = unzip(&a.bytes);
    check_export(&files);
    let case: Value = serde_json::from_slice(&files["case.json"]).unwrap();
    assert_eq!(case["tracking_no"], no);
    assert_eq!(case["record"]["complainant"]["email"], "zhang1@example.com");
    assert_eq!(case["record"]["complainant"]["phone"], "13812345678");
    // Their view of the case, exactly as GET /track answers it.
    let view = t
        .get(&format!("/track/{no}"), Some(token))
        .await
        .expect(200);
    assert_eq!(case["record"], view["record"]);
    assert_eq!(case["messages"], view["messages"]);
    assert_eq!(files[&format!("files/{}", sha256_hex(mine))], mine);
    assert!(
        !files.contains_key(&format!("files/{}", sha256_hex(theirs))),
        "a file staff uploaded is not theirs: {:?}",
        files.keys()
    );
    let everything: Vec<u8> = files.values().flatten().copied().collect();
    let everything = String::from_utf8_lossy(&everything);
    for secret in [
        "INTERNAL-NOTE-7731",
        "INTERNAL-MESSAGE-7732",
        "staff-only call transcript",
    ] {
        assert!(!everything.contains(secret), "{secret} leaked");
    }
    assert!(everything.contains("我们已收到您的材料"));

    // A wrong code, or none, is refused.
    t.get(&path, Some("rdt_wrong")).await.expect_error(401);
    t.get(&path, None).await.expect_error(401);
    t.get("/track/RD000000-XXXXXX/export", Some(token))
        .await
        .expect_error(401);

    // The download is in the case's journal (and no webhook kind).
    let staff = t.case(&id, &c.supervisor).await;
    assert!(event_kinds(&staff).contains(&"data_exported".to_string()));
    assert!(!redress_domain::events::is_case_event("data_exported"));

    // The tracking page links to it, in both languages, and the link
    // works with the code in the cookie.
    let mut b = complainant_browser(&t, no, token).await;
    let page = html(&b.get(&t, &format!("/track/{no}")).await);
    assert!(
        page.contains(&format!("href=\"/track/{no}/export\"")),
        "{page}"
    );
    assert!(page.contains("下载我的数据"), "{page}");
    let page = html(&b.get(&t, &format!("/track/{no}?lang=en")).await);
    assert!(page.contains("Download my data"), "{page}");
    let a = b.get(&t, &path).await;
    assert_eq!(a.status.as_u16(), 200);
    assert_eq!(a.headers["content-type"], "application/zip");
    let files = unzip(&a.bytes);
    check_export(&files);
    assert!(files.contains_key(&format!("files/{}", sha256_hex(mine))));
    // Without the cookie: back to the look-up.
    let mut stranger = Browser::default();
    let a = stranger.get(&t, &path).await;
    assert_eq!(a.status.as_u16(), 303);
}

/// Files a complaint with a file and a message from the complainant, and
/// withdraws it (closed).
async fn closed_with_data(t: &TestApp, n: u32, file: &[u8]) -> (Value, String) {
    let filed = t.file(complaint(n)).await;
    let no = filed["tracking_no"].as_str().unwrap();
    let token = filed["access_token"].as_str().unwrap();
    let case = t
        .upload(
            &format!("/track/{no}/evidence"),
            Some(token),
            "聊天记录.txt",
            file,
        )
        .await
        .expect(200);
    let sha = case["evidence"][0]["sha256"].as_str().unwrap().to_string();
    t.post(
        &format!("/track/{no}/messages"),
        Some(token),
        json!({"body": format!("MY-OWN-WORDS-{n}")}),
    )
    .await
    .expect(200);
    t.post(
        &format!("/track/{no}/withdraw"),
        Some(token),
        json!({"reason": "已协商解决"}),
    )
    .await
    .expect(200);
    (filed, sha)
}

/// Nothing of complaint(n)'s personal data or texts in a staff answer.
fn assert_erased(case: &Value, n: u32) {
    assert!(case["purged_at"].is_string(), "{case}");
    assert_eq!(case["complainant"]["email"], Value::Null);
    assert_eq!(case["complainant"]["phone"], Value::Null);
    assert_eq!(case["record"]["description"], "");
    assert_eq!(case["evidence"], json!([]));
    assert_eq!(case["messages"], json!([]));
    let text = case.to_string();
    for gone in [
        format!("张三{n}"),
        format!("zhang{n}@example.com"),
        "13812345678".to_string(),
        "订单已取消".to_string(),
        format!("MY-OWN-WORDS-{n}"),
    ] {
        assert!(!text.contains(&gone), "{gone} is still there: {case}");
    }
}

async fn a_supervisor_erases_a_closed_case_on_request() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let (filed, sha) = closed_with_data(&t, 2, b"chat log with the shop, erase me").await;
    let id = filed["id"].as_str().unwrap();
    let erase = format!("/complaints/{id}/erase");
    let file = t.case_file(id, &sha).await;
    assert!(file.exists());

    // Supervisors only; a reason is needed; a missing case is 404.
    t.post(&erase, Some(&c.handler), json!({"reason": "用户申请删除"}))
        .await
        .expect_error(403);
    t.post(&erase, Some(&c.intake), json!({"reason": "用户申请删除"}))
        .await
        .expect_error(403);
    let fields = t
        .post(&erase, Some(&c.supervisor), json!({}))
        .await
        .expect_error(422);
    assert!(fields.get("reason").is_some(), "{fields}");
    t.refused(
        &uuid::Uuid::now_v7(),
        "erase",
        &c.supervisor,
        json!({"reason": "用户申请删除"}),
        404,
    )
    .await;

    // An open case is refused.
    let open = t.file(complaint(3)).await;
    t.refused(
        &open["id"].as_str().unwrap(),
        "erase",
        &c.supervisor,
        json!({"reason": "用户申请删除"}),
        409,
    )
    .await;

    // A case under legal hold is refused, and keeps its file.
    let (held, held_sha) = closed_with_data(&t, 4, b"evidence in litigation").await;
    let held_id = held["id"].as_str().unwrap();
    let held_file = t.case_file(held_id, &held_sha).await;
    t.act(
        &held_id,
        "legal-hold",
        &c.supervisor,
        json!({"hold": true, "reason": "诉讼中"}),
    )
    .await;
    t.refused(
        &held_id,
        "erase",
        &c.supervisor,
        json!({"reason": "用户申请删除"}),
        409,
    )
    .await;
    assert!(held_file.exists());

    // Erased: the answer is the case as GET /complaints/{id} shows it.
    let answer = t
        .post(
            &erase,
            Some(&c.supervisor),
            json!({"reason": "投诉人来电申请删除个人信息，已核实身份"}),
        )
        .await
        .expect(200);
    assert_eq!(answer["id"], id);
    assert_eq!(answer["status"], "closed");
    assert_erased(&answer, 2);
    let case = t.case(&id, &c.supervisor).await;
    assert_erased(&case, 2);
    assert_eq!(case["tracking_no"], filed["tracking_no"]);
    let erased: Vec<&Value> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "erased")
        .collect();
    assert_eq!(erased.len(), 1, "{case}");
    assert_eq!(
        erased[0]["data"]["reason"],
        "投诉人来电申请删除个人信息，已核实身份"
    );
    assert_eq!(erased[0]["data"]["by"]["id"], "super1");
    assert!(erased[0]["actor"].as_str().unwrap().contains("super1"));
    assert!(!file.exists(), "the file is removed");
    // Nothing of the text is found any more.
    let found = t
        .get("/complaints?q=MY-OWN-WORDS-2", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(found["total"], 0, "{found}");

    // Once only; the retention's end does not purge it again.
    t.post(&erase, Some(&c.supervisor), json!({"reason": "again"}))
        .await
        .expect_error(409);
    t.advance(4 * 365 * 86400).await;
    let later = t.case(&id, &c.supervisor).await;
    assert!(!event_kinds(&later).contains(&"purged".to_string()));

    // The journal still verifies (API and CLI).
    let v = t
        .get("/audit/verify", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(v["ok"], true, "{v}");
    let out = t.command().args(["audit", "verify"]).output().unwrap();
    assert!(out.status.success());
}

async fn a_supervisor_erases_from_the_case_page_after_confirming() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let (filed, sha) = closed_with_data(&t, 5, b"photo of the broken parcel").await;
    let id = filed["id"].as_str().unwrap();
    let file = t.case_file(id, &sha).await;
    let page_path = format!("/staff/cases/{id}");

    // A handler's page has no erase form; an open case's neither.
    let mut intake = staff_browser(&t, "intake1").await;
    let page = html(&intake.get(&t, &page_path).await);
    assert!(!page.contains("/erase\""), "{page}");

    let mut b = staff_browser(&t, "super1").await;
    let page = html(&b.get(&t, &page_path).await);
    assert!(page.contains(&format!("action=\"/staff/cases/{id}/erase\"")));
    assert!(page.contains("删除个人信息"), "{page}");
    assert!(page.contains("name=\"confirm\""), "{page}");
    let page_en = html(&b.get(&t, &format!("{page_path}?lang=en")).await);
    assert!(page_en.contains("Erase personal data"), "{page_en}");
    b.get(&t, &format!("{page_path}?lang=zh-CN")).await;
    let csrf = hidden(&page, "csrf");
    let form_path = format!("{page_path}/erase");

    // Without the CSRF field: refused.
    let a = b
        .post_form(
            &t,
            &form_path,
            &[("reason", "用户申请"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);
    // Without the ticked box: nothing happens, the page says why.
    let a = b
        .post_form(&t, &form_path, &[("csrf", &csrf), ("reason", "用户申请")])
        .await;
    assert_eq!(a.status.as_u16(), 422);
    assert!(html(&a).contains("请勾选确认框"), "{}", html(&a));
    assert!(file.exists());
    // Without a reason: 422.
    let a = b
        .post_form(&t, &form_path, &[("csrf", &csrf), ("confirm", "yes")])
        .await;
    assert_eq!(a.status.as_u16(), 422);
    // A handler's form is refused.
    let intake_csrf = hidden(&html(&intake.get(&t, &page_path).await), "csrf");
    let a = intake
        .post_form(
            &t,
            &form_path,
            &[
                ("csrf", &intake_csrf),
                ("reason", "用户申请"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);

    // Confirmed: erased, and the page says so.
    let a = b
        .post_form(
            &t,
            &form_path,
            &[
                ("csrf", &csrf),
                ("reason", "用户书面申请删除"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let to = a.headers["location"].to_str().unwrap().to_string();
    let page = html(&b.get(&t, &to).await);
    assert!(page.contains("本案的个人信息和证据已删除"), "{page}");
    assert!(!page.contains("name=\"confirm\""), "no second erase form");
    let case = t.case(&id, &c.supervisor).await;
    assert_erased(&case, 5);
    assert!(!file.exists());
}

/// A webhook receiver that answers 200 to everything.
async fn receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(|| async { "ok" });
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    url
}

/// A mail from a stranger to a case's reply address: held.
async fn held_mail(t: &TestApp, no: &str, n: u32) {
    let reply_to = t.app.reply_address(no).unwrap();
    let raw = format!(
        "From: stranger{n}@example.org\r\nTo: {reply_to}\r\nSubject: about case {n}\r\n\
         Message-ID: <held-{n}-{}@example.org>\r\nDate: Sun, 29 Nov 2026 10:00:00 +0800\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello {n}\r\n",
        uuid::Uuid::now_v7()
    );
    let envelope = redress_app::mail::Envelope {
        mail_from: Some(format!("stranger{n}@example.org")),
        rcpt_to: vec![reply_to],
    };
    t.app.receive_mail(&envelope, raw.as_bytes()).await.unwrap();
}

/// Files complaint(n) with an `Idempotency-Key`; the new case's id.
async fn file_once(t: &TestApp, key: &str, n: u32) -> String {
    let a = t
        .call_raw(
            "POST",
            "/complaints",
            None,
            Some(&complaint(n).to_string()),
            &[
                ("idempotency-key", key),
                ("content-type", "application/json"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 201, "{}", a.body);
    a.body["id"].as_str().unwrap().to_string()
}

async fn calls(t: &TestApp, hook: &str) -> u64 {
    t.get(
        &format!("/webhooks/{hook}/calls"),
        Some(&t.compliance().await),
    )
    .await
    .expect(200)["total"]
        .as_u64()
        .unwrap()
}

async fn held(t: &TestApp, intake: &str) -> u64 {
    t.get("/mail/held", Some(intake)).await.expect(200)["total"]
        .as_u64()
        .unwrap()
}

/// Every file under `dir`, read whole by another process (the database's
/// among them: `read_from_outside` says why).
fn files_under(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if let Ok(bytes) = read_from_outside(&path) {
            out.push((path, bytes));
        }
    }
}

/// What could be read back from storage: every file of the data directory
/// (the SQLite database, its write-ahead log, the evidence files), and on
/// PostgreSQL a `pg_dump` of the test's schema.
fn stored_bytes(t: &TestApp) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    files_under(&t.dir, &mut files);
    let mut all: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|(p, b)| (p.display().to_string(), b))
        .collect();
    if let Some(schema) = &t.schema {
        let out = std::process::Command::new("pg_dump")
            .args(["--dbname", &schema.url, "--schema", &schema.name])
            .output()
            .expect("pg_dump runs");
        assert!(
            out.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        all.push(("pg_dump".into(), out.stdout));
    }
    all
}

fn places_holding(stored: &[(String, Vec<u8>)], marker: &str) -> Vec<String> {
    stored
        .iter()
        .filter(|(_, bytes)| bytes.windows(marker.len()).any(|w| w == marker.as_bytes()))
        .map(|(name, _)| name.clone())
        .collect()
}

async fn a_purge_leaves_nothing_readable_in_the_files() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    // One word, lower case: the search index keeps it as one token.
    const MARKER: &str = "qzmarker7731";
    let hook = t
        .post(
            "/webhooks",
            Some(&t.compliance().await),
            json!({"url": receiver().await, "events": ["*"]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = complaint(7);
    body["subject"] = json!(format!("退款 {MARKER}"));
    body["description"] = json!(format!("订单 {MARKER} 未退款"));
    body["demands"] = json!(format!("退回 {MARKER}"));
    body["complainant"]["name"] = json!(format!("张{MARKER}"));
    let filed = t.file(body).await;
    let (id, no) = (
        filed["id"].as_str().unwrap(),
        filed["tracking_no"].as_str().unwrap(),
    );
    let token = filed["access_token"].as_str().unwrap();
    let sha = t
        .upload(
            &format!("/track/{no}/evidence"),
            Some(token),
            "聊天记录.txt",
            format!("chat log {MARKER}").as_bytes(),
        )
        .await
        .expect(200)["evidence"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    t.post(
        &format!("/track/{no}/messages"),
        Some(token),
        json!({"body": format!("补充 {MARKER}")}),
    )
    .await
    .expect(200);
    t.act(
        &id,
        "notes",
        &c.intake,
        json!({"kind": "note", "body": format!("note {MARKER}")}),
    )
    .await;
    held_mail(&t, no, 7).await;
    t.post(
        &format!("/track/{no}/withdraw"),
        Some(token),
        json!({"reason": format!("已解决 {MARKER}")}),
    )
    .await
    .expect(200);
    t.advance(60).await;
    assert!(calls(&t, &hook).await >= 4, "the webhook calls were made");
    // The search itself finds the marker while the case lives.
    let before = places_holding(&stored_bytes(&t), MARKER);
    assert!(
        !before.is_empty(),
        "the list columns hold the marker in the clear before the purge"
    );
    // The evidence file is sealed at rest even while the case lives.
    let file = t.case_file(id, &sha).await;
    let stored = std::fs::read(&file).unwrap();
    assert!(!stored.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()));

    // Past retention: one advance; the jobs that fall due run once.
    let closed = t.case(&id, &c.supervisor).await;
    let until: chrono::DateTime<chrono::Utc> =
        closed["retention_until"].as_str().unwrap().parse().unwrap();
    t.advance_to(until).await;
    let purged = t.case(&id, &c.supervisor).await;
    assert!(purged["purged_at"].is_string(), "{purged}");
    // The timeline keeps its events; their texts went with the key.
    assert!(!purged.to_string().contains(MARKER), "{purged}");
    assert!(event_kinds(&purged).contains(&"withdrawn".to_string()));

    let after = places_holding(&stored_bytes(&t), MARKER);
    assert!(after.is_empty(), "{MARKER} can still be read in {after:?}");
    assert!(!file.exists());
    // The journal's chain still verifies.
    let v = t
        .get("/audit/verify", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(v["ok"], true, "{v}");
}

async fn a_key_rotation_seals_everything_under_the_new_key_while_serving() {
    let mut t = TestApp::new().await;
    let c = t.cast().await;
    let old_key = t.config.data_key.clone().unwrap();
    let new_key = "22".repeat(32);
    // Under the old key: cases, an idempotent registration, a held mail
    // and a webhook subscription (its secret is sealed).
    let hook = t
        .post(
            "/webhooks",
            Some(&t.compliance().await),
            json!({"url": receiver().await, "events": ["accepted"]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let first = file_once(&t, "rotate-key-1", 1).await;
    let second = t.file(complaint(2)).await;
    let no = second["tracking_no"].as_str().unwrap().to_string();
    let token = second["access_token"].as_str().unwrap().to_string();
    held_mail(&t, &no, 2).await;
    let sha = t
        .upload(
            &format!("/track/{no}/evidence"),
            Some(&token),
            "聊天记录.txt",
            b"chat log kept across a rotation",
        )
        .await
        .expect(200)["evidence"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    // A file stored by its hash, as before case keys: under the data key.
    let legacy = t
        .app
        .evidence
        .put(b"a file from before case keys")
        .await
        .unwrap();

    // Every instance restarts with the new key and the old one beside it.
    t.config.data_key = Some(new_key.clone());
    t.config.data_key_previous = Some(old_key.clone());
    t.restart().await;
    let case = t.case(&first, &c.supervisor).await;
    assert_eq!(case["record"]["subject"], complaint(1)["subject"], "{case}");

    // The rotation, by the CLI beside the serving instance.
    let rotate = || {
        let out = t
            .command()
            .env("REDRESS_DATA_KEY_PREVIOUS", &old_key)
            .args(["keys", "rotate"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let report = rotate();
    assert_eq!(report["cases"], 2, "{report}");
    assert_eq!(report["held_mail"], 1, "{report}");
    assert_eq!(report["idempotency"], 1, "{report}");
    assert_eq!(report["webhooks"], 1, "{report}");
    assert_eq!(report["evidence"], 1, "{report}");
    assert_eq!(report["unreadable"], 0, "{report}");
    // Run again (after a crash, say): nothing is left under the old key.
    let again = rotate();
    assert_eq!(again["cases"], 0, "{again}");
    assert_eq!(again["cases_skipped"], 2, "{again}");
    assert_eq!(again["held_mail"], 0, "{again}");
    assert_eq!(again["webhooks"], 0, "{again}");
    assert_eq!(again["evidence"], 0, "{again}");

    // The old key is gone: everything still opens.
    t.config.data_key_previous = None;
    t.restart().await;
    let case = t.case(&first, &c.supervisor).await;
    assert_eq!(case["complainant"]["email"], "zhang1@example.com", "{case}");
    assert!(
        case["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "registered" && e["data"]["subject"] == complaint(1)["subject"]),
        "the journal payloads open: {case}"
    );
    assert_eq!(file_once(&t, "rotate-key-1", 1).await, first, "a replay");
    let second_case = t
        .app
        .load(uuid::Uuid::parse_str(second["id"].as_str().unwrap()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        t.app
            .evidence
            .read_in_case(second_case.key(), &sha)
            .await
            .unwrap(),
        b"chat log kept across a rotation"
    );
    assert_eq!(
        t.app.evidence.read(&legacy.sha256).await.unwrap(),
        b"a file from before case keys"
    );
    let mail = t.get("/mail/held", Some(&c.intake)).await.expect(200);
    let held_id = mail["items"][0]["id"].as_str().unwrap().to_string();
    let full = t
        .get(&format!("/mail/held/{held_id}"), Some(&c.intake))
        .await
        .expect(200);
    assert!(full["body"].as_str().unwrap().contains("hello 2"), "{full}");
    // The same complainant again: found by the look-up hash under the new key.
    let dup = t.file(complaint(1)).await;
    assert_eq!(t.dup_flag(&dup).await, json!(true));
    // The webhook signs with its secret, opened with the new key.
    t.act(
        &first,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    t.advance(60).await;
    let calls = t
        .get(&format!("/webhooks/{hook}/calls"), Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(calls["items"][0]["state"], "delivered", "{calls}");
    let v = t
        .get("/audit/verify", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(v["ok"], true, "{v}");
}

async fn an_upgrade_seals_events_written_in_the_clear_and_the_chain_still_verifies() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    const LIVE: &str = "qzlegacylive4411";
    const GONE: &str = "qzlegacygone4412";
    let live = t.file(complaint(1)).await;
    let gone = t.file(complaint(2)).await;
    let id = |v: &Value| uuid::Uuid::parse_str(v["id"].as_str().unwrap()).unwrap();
    // Events as a version before case keys wrote them: payloads in the clear.
    let legacy = |case: uuid::Uuid, text: &str| redress_store::NewEvent {
        case_id: Some(case),
        kind: "message_added".into(),
        actor: "complainant:legacy".into(),
        at: t.app.now(),
        data: json!({"body": text}).to_string(),
    };
    t.app
        .store
        .append_events(vec![legacy(id(&live), LIVE), legacy(id(&gone), GONE)])
        .await
        .unwrap();
    let first_clear = t.app.store.journal_head().await.unwrap().unwrap().0 - 1;
    t.post(
        &format!("/track/{}/withdraw", gone["tracking_no"].as_str().unwrap()),
        gone["access_token"].as_str(),
        json!({"reason": "已协商解决"}),
    )
    .await
    .expect(200);
    for n in 10..13 {
        t.file(complaint(n)).await;
    }
    let closed = t.case(&id(&gone), &c.supervisor).await;
    let until: chrono::DateTime<chrono::Utc> =
        closed["retention_until"].as_str().unwrap().parse().unwrap();
    t.advance_to(until).await;
    let before = stored_bytes(&t);
    assert!(!places_holding(&before, LIVE).is_empty());
    assert!(
        !places_holding(&before, GONE).is_empty(),
        "a purge alone leaves the clear events of an earlier version"
    );

    // A rewrite that stopped after its first step (a crash): the chain
    // verifies across the splice, and appends go on meanwhile.
    let step = t
        .app
        .store
        .rewrite_journal(
            first_clear - 3,
            vec![(first_clear - 2, None), (first_clear - 1, None)],
            t.app.now(),
        )
        .await
        .unwrap();
    assert!(
        matches!(step, redress_store::journal::RewriteOutcome::Continues(_)),
        "{step:?}"
    );
    let v = t
        .get("/audit/verify", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(v["ok"], true, "{v}");
    t.file(complaint(20)).await;

    // The rotation resumes it and finishes: both events sealed, the heads
    // recorded, the chain whole.
    let rotate = || {
        let out = t.command().args(["keys", "rotate"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let report = rotate();
    // The two messages (the supervisor's views are audit events: no
    // text, left in the clear).
    assert_eq!(report["journal_events"], 2, "{report}");
    assert_ne!(
        report["journal_old_head"], report["journal_new_head"],
        "{report}"
    );
    let resealed = t
        .app
        .store
        .list_global_events(vec!["journal_resealed".into()], 5)
        .await
        .unwrap();
    assert_eq!(resealed.len(), 1);
    let data: Value = serde_json::from_str(&resealed[0].data).unwrap();
    assert_eq!(data["old_head"]["hash"], report["journal_old_head"][1]);
    assert_eq!(data["new_head"]["hash"], report["journal_new_head"][1]);
    let v = t
        .get("/audit/verify", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(v["ok"], true, "{v}");
    assert!(
        t.command()
            .args(["audit", "verify"])
            .output()
            .unwrap()
            .status
            .success()
    );

    // The live case's event opens with its key; the purged one's is gone.
    let case = t.case(&id(&live), &c.supervisor).await;
    assert!(case["events"].to_string().contains(LIVE), "{case}");
    let after = stored_bytes(&t);
    for marker in [LIVE, GONE] {
        let found = places_holding(&after, marker);
        assert!(found.is_empty(), "{marker} can still be read in {found:?}");
    }
    // Appends after the rewrite chain on; a second run has nothing to do.
    t.file(complaint(21)).await;
    let again = rotate();
    assert_eq!(again["journal_events"], 0, "{again}");
    assert_eq!(again["journal_new_head"], Value::Null, "{again}");
    let v = t
        .get("/audit/verify", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(v["ok"], true, "{v}");
}

async fn what_is_kept_beside_the_cases_expires_on_its_own_retention() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    const DAY: i64 = 86_400;
    let hook = t
        .post(
            "/webhooks",
            Some(&t.compliance().await),
            json!({"url": receiver().await, "events": ["accepted"]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let accept = |id: String| {
        let t = &t;
        let intake = c.intake.clone();
        async move {
            t.act(
                &id,
                "accept",
                &intake,
                json!({"category": "refunds-returns"}),
            )
            .await;
        }
    };

    // Day 0: an idempotency record, a webhook call, a held mail and an
    // evidence file no case names (an upload whose case was never saved).
    let first = file_once(&t, "key-day-0", 1).await;
    assert_eq!(file_once(&t, "key-day-0", 1).await, first, "a retry");
    accept(first.clone()).await;
    let no = t.case(&first, &c.supervisor).await["tracking_no"]
        .as_str()
        .unwrap()
        .to_string();
    held_mail(&t, &no, 1).await;
    let orphan = t.app.evidence.put(b"an upload nobody saved").await.unwrap();
    let named = t
        .upload(
            &format!("/complaints/{first}/evidence"),
            Some(&c.handler),
            "kept.txt",
            b"a file the case names",
        )
        .await
        .expect(200)["evidence"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    t.advance(60).await;
    assert_eq!(calls(&t, &hook).await, 1);
    assert_eq!(held(&t, &c.intake).await, 1);
    assert!(evidence_file(&t, &orphan.sha256).exists());

    // Day 31: past the idempotency records' 30 days and the orphans' day.
    t.advance(31 * DAY).await;
    let again = file_once(&t, "key-day-0", 1).await;
    assert_ne!(again, first, "the old record expired: a new case");
    assert_eq!(
        file_once(&t, "key-day-0", 1).await,
        again,
        "the new one holds"
    );
    assert!(
        !evidence_file(&t, &orphan.sha256).exists(),
        "orphan removed"
    );
    assert!(
        t.case_file(&first, &named).await.exists(),
        "a named file stays"
    );
    assert_eq!(calls(&t, &hook).await, 1, "webhook calls are kept 90 days");
    assert_eq!(held(&t, &c.intake).await, 1, "held mail is kept 180 days");
    // Fresh ones.
    accept(again.clone()).await;
    held_mail(&t, &no, 2).await;
    t.advance(60).await;
    assert_eq!(calls(&t, &hook).await, 2);
    assert_eq!(held(&t, &c.intake).await, 2);

    // Day 91: the first call goes, the second (60 days old) stays.
    t.advance(60 * DAY).await;
    assert_eq!(calls(&t, &hook).await, 1);
    assert_eq!(held(&t, &c.intake).await, 2);

    // Day 181: the first held mail goes, the second stays.
    t.advance(90 * DAY).await;
    assert_eq!(held(&t, &c.intake).await, 1);
    let left = t.get("/mail/held", Some(&c.intake)).await.expect(200);
    assert!(
        left["items"][0]["subject"]
            .as_str()
            .unwrap()
            .contains("case 2"),
        "{left}"
    );
    // The journal still verifies.
    let v = t
        .get("/audit/verify", Some(&c.supervisor))
        .await
        .expect(200);
    assert_eq!(v["ok"], true, "{v}");
}

tests![
    a_complainant_downloads_their_own_data,
    a_supervisor_erases_a_closed_case_on_request,
    a_supervisor_erases_from_the_case_page_after_confirming,
    what_is_kept_beside_the_cases_expires_on_its_own_retention,
    a_purge_leaves_nothing_readable_in_the_files,
    a_key_rotation_seals_everything_under_the_new_key_while_serving,
    an_upgrade_seals_events_written_in_the_clear_and_the_chain_still_verifies,
];
