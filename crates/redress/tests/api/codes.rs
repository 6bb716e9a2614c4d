//! Complainants on every channel (issue 14): readable access codes for
//! every new case, codes issued before that keep working, the channels
//! staff register (`phone`, `letter`, `in_person`) with their reference,
//! and the intake page that shows the code once and prints a slip.

use serde_json::{Value, json};

use crate::harness::*;
use crate::notices::{MailSink, PUBLIC, free_port, with_relay};
use crate::pages::{Browser, console, hidden, html};

/// Crockford's alphabet (no I, L, O, U).
const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `7KQ4-9XMT-2PRD`: three groups of four Crockford characters.
fn assert_grouped_code(code: &str) {
    let groups: Vec<&str> = code.split('-').collect();
    assert_eq!(groups.len(), 3, "three groups: {code}");
    for g in groups {
        assert_eq!(g.len(), 4, "groups of four: {code}");
        assert!(
            g.chars().all(|c| CROCKFORD.contains(c)),
            "Crockford: {code}"
        );
    }
}

/// The code as a person might type it: lower case, no dashes, spaces
/// between groups, and the letters people mistake for 1 and 0.
fn typed_loosely(code: &str) -> String {
    code.to_lowercase()
        .replace('-', " ")
        .replace('1', "l")
        .replace('0', "O")
}

/// The code with one character changed (still a well-formed code).
fn another_code(code: &str) -> String {
    let first = code.chars().next().unwrap();
    let other = if first == 'A' { 'B' } else { 'A' };
    format!("{other}{}", &code[1..])
}

fn phoned(channel: &str, reference: &str) -> Value {
    let mut body = complaint(7);
    body["channel"] = json!(channel);
    body["call_reference"] = json!(reference);
    body
}

async fn every_new_case_gets_a_readable_code_typed_any_way() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    // The public form's channel.
    let filed = t.file(complaint(1)).await;
    let (no, code) = (
        filed["tracking_no"].as_str().unwrap(),
        filed["access_token"].as_str().unwrap(),
    );
    assert_grouped_code(code);
    let path = format!("/track/{no}");
    assert_eq!(
        t.get(&path, Some(code)).await.expect(200)["tracking_no"],
        no
    );
    // Case, dashes and spaces do not matter; I/L read as 1, O as 0.
    let loose = typed_loosely(code);
    t.get(&path, Some(&loose)).await.expect(200);
    t.get(&path, Some(&code.replace('-', ""))).await.expect(200);
    // A different code, or the code of another case, opens nothing.
    t.get(&path, Some(&another_code(code)))
        .await
        .expect_error(401);
    let second = t.file(complaint(2)).await;
    let other = second["access_token"].as_str().unwrap();
    assert_ne!(other, code, "codes are drawn afresh");
    t.get(&path, Some(other)).await.expect_error(401);
    // An integration's channel and a staff registration get codes too.
    let key = t
        .post(
            "/admin/api-keys",
            Some(&t.admin),
            json!({"name": "app", "scopes": ["intake"]}),
        )
        .await
        .expect(201)["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let by_api = t
        .post("/complaints", Some(&key), complaint(3))
        .await
        .expect(201);
    assert_grouped_code(by_api["access_token"].as_str().unwrap());
    let by_staff = t
        .post("/complaints", Some(&c.intake), phoned("phone", "CALL-1"))
        .await
        .expect(201);
    assert_grouped_code(by_staff["access_token"].as_str().unwrap());
}

async fn codes_issued_before_keep_working() {
    let t = TestApp::new().await;
    let filed = t.file(complaint(1)).await;
    let no = filed["tracking_no"].as_str().unwrap();
    let code = filed["access_token"].as_str().unwrap();
    // Turn the case into one filed before codes: its stored hash is the
    // SHA-256 of a long `rdt_` token, as the earlier versions wrote it.
    let id = uuid::Uuid::parse_str(filed["id"].as_str().unwrap()).unwrap();
    let loaded = t.app.load(id).await.unwrap();
    assert!(
        loaded.access_token_hash.starts_with("code:"),
        "{}",
        loaded.access_token_hash
    );
    let old = "rdt_Q2xvdWRzIGFyZSBvbmx5IHZhcG91ciBidXQgdGhpcyBpcyBhIHRva2Vu";
    let old_hash = redress_app::privacy::token_hash(old);
    // The stored document is sealed: the row is written again through the
    // application, with the old token's hash.
    let row = t
        .app
        .row(
            &loaded.case,
            &old_hash,
            None,
            loaded.seq,
            loaded.sealing.as_ref(),
        )
        .unwrap();
    t.app
        .store
        .update_cases(
            vec![redress_store::CaseUpdate {
                row,
                expected_version: loaded.case.version,
            }],
            vec![],
        )
        .await
        .unwrap();
    let path = format!("/track/{no}");
    assert_eq!(t.get(&path, Some(old)).await.expect(200)["tracking_no"], no);
    // The old token is still checked exactly, and the new code no longer fits.
    t.get(&path, Some(&old.to_lowercase()))
        .await
        .expect_error(401);
    t.get(&path, Some(code)).await.expect_error(401);
    // The complainant's actions take it as before.
    t.post(
        &format!("/track/{no}/messages"),
        Some(old),
        json!({"body": "还在吗？"}),
    )
    .await
    .expect(200);
}

async fn a_phoned_complaint_s_code_appeals_after_a_decision() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let filed = t
        .post(
            "/complaints",
            Some(&c.intake),
            phoned("phone", "CALL-2026-0042"),
        )
        .await
        .expect(201);
    let (id, no, code) = (
        filed["id"].as_str().unwrap(),
        filed["tracking_no"].as_str().unwrap(),
        filed["access_token"].as_str().unwrap(),
    );
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
        json!({"outcome": "not_upheld", "basis": ["平台服务协议 5.2"], "reply": "证据不足。"}),
    )
    .await;
    // The caller types the code they were read, loosely.
    let appealed = t
        .post(
            &format!("/track/{no}/appeal"),
            Some(&typed_loosely(code)),
            json!({"reason": "我有新的证据"}),
        )
        .await
        .expect(200);
    assert_eq!(appealed["status"], "under_review");
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["channel"], "phone");
    assert_eq!(case["status"], "under_review");
}

async fn letters_and_visits_are_registered_with_their_reference() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    for (channel, reference) in [("letter", "LTR-2026-118"), ("in_person", "VISIT-9")] {
        let filed = t
            .post("/complaints", Some(&c.intake), phoned(channel, reference))
            .await
            .expect(201);
        assert_grouped_code(filed["access_token"].as_str().unwrap());
        let id = filed["id"].as_str().unwrap();
        let case = t.case(&id, &c.supervisor).await;
        assert_eq!(case["channel"], channel);
        assert_eq!(case["call_reference"], reference);
        let listed = t.get("/complaints", Some(&c.supervisor)).await.expect(200);
        assert_eq!(listed["items"][0]["channel"], channel, "{listed}");
        // The case page names the channel and the reference.
        let mut b = console(&t, "super1").await;
        let page = html(&b.get(&t, &format!("/staff/cases/{id}")).await);
        let shown = page.split("id=\"channel\">").nth(1).unwrap();
        let shown = shown.split('<').next().unwrap();
        let word = if channel == "letter" {
            "来信"
        } else {
            "来访"
        };
        assert!(shown.contains(word) && shown.contains(reference), "{shown}");
    }
    // Only staff register them: the public and integrations cannot.
    t.post("/complaints", None, phoned("letter", "X"))
        .await
        .expect_error(422);
    let bad = t
        .post("/complaints", Some(&c.intake), phoned("fax", "X"))
        .await
        .expect_error(422);
    assert!(bad["channel"].is_string(), "{bad}");
    let listed = t.get("/complaints", Some(&c.supervisor)).await.expect(200);
    assert_eq!(listed["total"], 2, "nothing stored for the refused ones");
}

/// The registration form of the staff console, filled for a letter.
fn intake_form(csrf: &str, nonce: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_string()),
        ("nonce", nonce.to_string()),
        ("channel", "letter".into()),
        ("call_reference", "LTR-2026-0007".into()),
        ("complainant.name", "王五".into()),
        ("complainant.phone", "13900002222".into()),
        ("respondent.kind", "merchant".into()),
        ("respondent.id", "shop-3".into()),
        ("subject", "商品与描述不符".into()),
        ("description", "收到的商品颜色不对。".into()),
    ]
}

async fn the_intake_page_shows_the_code_once_and_prints_a_slip() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let mut b = console(&t, "intake1").await;
    let page = html(&b.get(&t, "/staff/intake").await);
    let form = intake_form(&hidden(&page, "csrf"), &hidden(&page, "nonce"));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = b.post_multipart(&t, "/staff/intake", &fields, None).await;
    assert_eq!(a.status.as_u16(), 200, "{}", html(&a));
    assert_eq!(a.headers["cache-control"], "no-store");
    let done = html(&a);
    let no = done
        .split("id=\"tracking-no\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let code = hidden(&done, "access_code");
    assert_grouped_code(&code);
    // Shown large, group by group, for reading aloud.
    let shown = done.split("id=\"access-code\"").nth(1).unwrap();
    for group in code.split('-') {
        assert!(
            shown.contains(&format!("<span class=\"group\">{group}</span>")),
            "{shown}"
        );
    }
    // The code shown is the case's code.
    let tracked = t
        .get(&format!("/track/{no}"), Some(&code))
        .await
        .expect(200);
    assert_eq!(tracked["status"], "submitted");
    let listed = t.get("/complaints", Some(&c.supervisor)).await.expect(200);
    assert_eq!(listed["items"][0]["tracking_no"], no.as_str());

    // The slip: number, code, how to track, the deadlines, the channels.
    let csrf = hidden(&done, "csrf");
    let slip = b
        .post_form(
            &t,
            "/staff/intake/slip",
            &[
                ("csrf", &csrf),
                ("tracking_no", &no),
                ("access_code", &code),
            ],
        )
        .await;
    assert_eq!(slip.status.as_u16(), 200, "{}", html(&slip));
    let slip = html(&slip);
    assert!(slip.contains(&no) && slip.contains(&code), "{slip}");
    let track_url = format!("{}/track", t.app.config.public_url.trim_end_matches('/'));
    assert!(slip.contains(&track_url), "{slip}");
    assert!(
        slip.contains("LTR-2026-0007") && slip.contains("来信"),
        "{slip}"
    );
    let deadlines = slip.split("id=\"deadlines\">").nth(1).unwrap();
    let deadlines = deadlines.split("</ul>").next().unwrap();
    assert_eq!(deadlines.matches("<li>").count(), 4, "{deadlines}");
    assert!(deadlines.contains("15"), "the appeal window: {deadlines}");
    assert!(slip.contains("/complain"), "the channels: {slip}");
    assert!(!slip.contains("<script"), "the slip runs no script");
    assert!(!slip.contains("<nav"), "the slip is the slip alone");
    // In English on request.
    let en = b
        .post_form(
            &t,
            "/staff/intake/slip?lang=en",
            &[
                ("csrf", &csrf),
                ("tracking_no", &no),
                ("access_code", &code),
            ],
        )
        .await;
    assert!(html(&en).contains("Acknowledgement of complaint"));
    // Never for a code that does not open the case, nor without the form's token.
    let wrong = another_code(&code);
    let a = b
        .post_form(
            &t,
            "/staff/intake/slip",
            &[
                ("csrf", &csrf),
                ("tracking_no", &no),
                ("access_code", &wrong),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 404);
    let a = b
        .post_form(
            &t,
            "/staff/intake/slip",
            &[("tracking_no", &no), ("access_code", &code)],
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);
    // Not for staff without the intake role, nor for the public.
    let mut handler = console(&t, "handler1").await;
    let page = html(&handler.get(&t, "/staff").await);
    let a = handler
        .post_form(
            &t,
            "/staff/intake/slip",
            &[
                ("csrf", &hidden(&page, "csrf")),
                ("tracking_no", &no),
                ("access_code", &code),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);
    let mut public = Browser::default();
    let page = html(&public.get(&t, "/track").await);
    let a = public
        .post_form(
            &t,
            "/staff/intake/slip",
            &[
                ("csrf", &hidden(&page, "csrf")),
                ("tracking_no", &no),
                ("access_code", &code),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303, "to the login");
}

async fn a_postal_address_is_a_way_to_reach_the_complainant() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let address = "北京市朝阳区建国路甲 88 号 100022";
    let mut body = phoned("letter", "LTR-2026-0500");
    body["complainant"] = json!({"name": "赵六", "postal_address": address});
    let filed = t
        .post("/complaints", Some(&c.intake), body)
        .await
        .expect(201);
    let id = filed["id"].as_str().unwrap();
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["record"]["complainant"]["postal_address"], address);
    // Sealed at rest like the other contact fields.
    let bytes = String::from_utf8_lossy(&t.database_bytes()).into_owned();
    assert!(
        !bytes.contains("建国路甲"),
        "the address is stored in the clear"
    );
    // A complainant nobody can reach: 422 naming `complainant`, nothing stored.
    for complainant in [
        json!({"name": "钱七"}),
        json!({"name": "钱七", "postal_address": null}),
    ] {
        let mut body = phoned("letter", "LTR-2026-0501");
        body["complainant"] = complainant;
        let fields = t
            .post("/complaints", Some(&c.intake), body)
            .await
            .expect_error(422);
        assert!(fields["complainant"].is_string(), "{fields}");
    }
    let mut long = phoned("letter", "LTR-2026-0502");
    long["complainant"] = json!({"name": "孙八", "postal_address": "路".repeat(501)});
    let fields = t
        .post("/complaints", Some(&c.intake), long)
        .await
        .expect_error(422);
    assert!(fields["complainant.postal_address"].is_string(), "{fields}");
    let listed = t.get("/complaints", Some(&c.supervisor)).await.expect(200);
    assert_eq!(listed["total"], 1);
}

/// The code an acknowledgement carries, after its label.
fn code_in(body: &str, label: &str) -> String {
    let rest = body
        .split(label)
        .nth(1)
        .unwrap_or_else(|| panic!("no {label:?} in {body}"));
    rest.trim_start().chars().take(14).collect()
}

async fn the_acknowledgement_carries_a_working_code() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let c = t.cast().await;
    // Filed on the web, and phoned in to an agent (e-mail on file).
    let web = t.file(complaint(1)).await;
    let mut phoned_in = phoned("phone", "CALL-77");
    phoned_in["locale"] = json!("en");
    phoned_in["complainant"]["email"] = json!("caller@example.com");
    let by_phone = t
        .post("/complaints", Some(&c.intake), phoned_in)
        .await
        .expect(201);
    // Until the acknowledgement leaves, the code waits sealed: never in
    // the clear in the database.
    let bytes = String::from_utf8_lossy(&t.database_bytes()).into_owned();
    for filed in [&web, &by_phone] {
        let code = filed["access_token"].as_str().unwrap();
        assert!(!bytes.contains(code) && !bytes.contains(&code.replace('-', "")));
        let id = uuid::Uuid::parse_str(filed["id"].as_str().unwrap()).unwrap();
        assert!(t.app.load(id).await.unwrap().pending_code.is_some());
    }
    t.app.sweep().await.unwrap();
    let got = sink.wait_for(2).await;
    assert_eq!(got.len(), 2, "{got:?}");
    for (filed, to, label) in [
        (&web, "zhang1@example.com", "查询码："),
        (&by_phone, "caller@example.com", "Your access code:"),
    ] {
        let no = filed["tracking_no"].as_str().unwrap();
        let m = got.iter().find(|m| m.to == to).unwrap();
        assert!(m.subject.contains(no) && m.body.contains(no), "{m:?}");
        assert!(
            m.body.contains(&format!("{PUBLIC}/track/{no}")),
            "{}",
            m.body
        );
        let code = code_in(&m.body, label);
        assert_eq!(code, filed["access_token"].as_str().unwrap(), "{}", m.body);
        // The code in the mail opens the case.
        t.get(&format!("/track/{no}"), Some(&code))
            .await
            .expect(200);
        // Still nothing the filer typed.
        let typed = complaint(7);
        for text in [
            typed["subject"].as_str().unwrap(),
            typed["description"].as_str().unwrap(),
        ] {
            assert!(!m.body.contains(text) && !m.subject.contains(text), "{m:?}");
        }
        // Once it has left, the sealed copy is gone.
        let id = uuid::Uuid::parse_str(filed["id"].as_str().unwrap()).unwrap();
        assert!(t.app.load(id).await.unwrap().pending_code.is_none());
    }
    // With nothing external to send (phone only, no SMS provider), the
    // code is never kept at all.
    let mut phone_only = complaint(3);
    phone_only["complainant"]["email"] = serde_json::Value::Null;
    let filed = t.file(phone_only).await;
    let id = uuid::Uuid::parse_str(filed["id"].as_str().unwrap()).unwrap();
    assert!(t.app.load(id).await.unwrap().pending_code.is_none());
}

async fn intake_reissues_a_code_once_and_the_old_one_stops() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let filed = t.file(complaint(1)).await;
    let (id, no, old) = (
        filed["id"].as_str().unwrap(),
        filed["tracking_no"].as_str().unwrap(),
        filed["access_token"].as_str().unwrap(),
    );
    let path = format!("/complaints/{id}/reissue-code");
    // Intake alone, after checking who is asking.
    t.post(&path, None, json!({})).await.expect_error(401);
    t.post(&path, Some(old), json!({})).await.expect_error(401);
    t.post(&path, Some(&c.supervisor), json!({}))
        .await
        .expect_error(403);
    let answer = t.post(&path, Some(&c.intake), json!({})).await.expect(200);
    assert_eq!(answer["tracking_no"], no);
    let new = answer["access_token"].as_str().unwrap();
    assert_grouped_code(new);
    assert_ne!(new, old);
    let track = format!("/track/{no}");
    t.get(&track, Some(new)).await.expect(200);
    t.get(&track, Some(old)).await.expect_error(401);
    // Journaled with who did it, never with the code; shown only once.
    let case = t.case(&id, &c.supervisor).await;
    let events: Vec<&Value> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "access_code_reissued")
        .collect();
    assert_eq!(events.len(), 1, "{case}");
    assert!(events[0].to_string().contains("intake1"), "{}", events[0]);
    assert!(!case.to_string().contains(new));
    // Again: another code, and the one before stops too.
    let again = t.post(&path, Some(&c.intake), json!({})).await.expect(200);
    let third = again["access_token"].as_str().unwrap();
    t.get(&track, Some(new)).await.expect_error(401);
    t.get(&track, Some(third)).await.expect(200);
    // An unknown case is 404.
    t.refused(
        &uuid::Uuid::now_v7(),
        "reissue-code",
        &c.intake,
        json!({}),
        404,
    )
    .await;
}

/// `POST /track/recover`: always the same 202.
async fn recover(t: &TestApp, no: &str, contact: &str) -> Value {
    let a = t
        .post(
            "/track/recover",
            None,
            json!({"tracking_no": no, "contact": contact}),
        )
        .await;
    assert_eq!(a.status.as_u16(), 202, "{:?}", a.body);
    a.body
}

async fn a_lost_code_is_sent_again_to_the_contact_on_file_only() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let c = t.cast().await;
    let filed = t.file(complaint(1)).await;
    let (id, no, old) = (
        filed["id"].as_str().unwrap(),
        filed["tracking_no"].as_str().unwrap(),
        filed["access_token"].as_str().unwrap(),
    );
    t.app.sweep().await.unwrap();
    assert_eq!(sink.wait_for(1).await.len(), 1, "the acknowledgement");
    let track = format!("/track/{no}");
    // A wrong contact, a platform user id, an unknown number, a phone with
    // no SMS provider: the same answer, nothing sent, the old code works.
    let same = recover(&t, no, "someone@example.com").await;
    let other = t.file(complaint(2)).await;
    assert_eq!(
        recover(&t, "RD000000-AAAAAA", "zhang1@example.com").await,
        same
    );
    let second = other["tracking_no"].as_str().unwrap();
    assert_eq!(recover(&t, second, "13812345678").await, same);
    t.app.sweep().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 2, "only the two acknowledgements");
    t.get(&track, Some(old)).await.expect(200);
    t.get(
        &format!("/track/{second}"),
        Some(other["access_token"].as_str().unwrap()),
    )
    .await
    .expect(200);

    // The e-mail on file, in other capitals: a new code goes to it, and
    // from then on the old one is refused.
    assert_eq!(
        recover(&t, &no.to_lowercase(), " ZHANG1@Example.com ").await,
        same
    );
    t.get(&track, Some(old)).await.expect_error(401);
    t.app.sweep().await.unwrap();
    let got = sink.wait_for(3).await;
    let m = got
        .iter()
        .find(|m| m.to == "zhang1@example.com" && m.subject.contains("新查询码"))
        .unwrap_or_else(|| panic!("{got:?}"));
    let code = code_in(&m.body, "重新签发了查询码：");
    assert_grouped_code(&code);
    assert_ne!(code, old);
    t.get(&track, Some(&code)).await.expect(200);
    let case = t.case(&id, &c.supervisor).await;
    let reissued: Vec<&Value> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "access_code_reissued")
        .collect();
    assert_eq!(reissued.len(), 1, "{case}");
    assert!(!case.to_string().contains(&code));
    let id = uuid::Uuid::parse_str(id).unwrap();
    assert!(
        t.app.load(id).await.unwrap().pending_code.is_none(),
        "sent: dropped"
    );

    // Limited per tracking number: every request counts.
    let mut limited = false;
    for _ in 0..3 {
        let a = t
            .post(
                "/track/recover",
                None,
                json!({"tracking_no": second, "contact": "x@example.com"}),
            )
            .await;
        if a.status.as_u16() == 429 {
            limited = true;
            break;
        }
        assert_eq!(a.status.as_u16(), 202);
    }
    assert!(
        limited,
        "a fourth request for one number in a row is refused"
    );
    // Bad input is named.
    let fields = t
        .post("/track/recover", None, json!({"tracking_no": no}))
        .await
        .expect_error(422);
    assert!(fields["contact"].is_string(), "{fields}");
}

async fn the_track_page_offers_a_lost_code_form() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let filed = t.file(complaint(1)).await;
    let (no, old) = (
        filed["tracking_no"].as_str().unwrap(),
        filed["access_token"].as_str().unwrap(),
    );
    let mut b = Browser::default();
    let page = html(&b.get(&t, "/track").await);
    assert!(page.contains("找回查询码") && page.contains("action=\"/track/recover\""));
    let csrf = hidden(&page, "csrf");
    // Without the form's token: refused, nothing changes.
    let a = b
        .post_form(
            &t,
            "/track/recover",
            &[("tracking_no", no), ("contact", "zhang1@example.com")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);
    t.get(&format!("/track/{no}"), Some(old)).await.expect(200);
    // A wrong contact and the right one read the same.
    let wrong = b
        .post_form(
            &t,
            "/track/recover",
            &[
                ("csrf", &csrf),
                ("tracking_no", no),
                ("contact", "nobody@example.com"),
            ],
        )
        .await;
    let right = b
        .post_form(
            &t,
            "/track/recover",
            &[
                ("csrf", &csrf),
                ("tracking_no", no),
                ("contact", "zhang1@example.com"),
            ],
        )
        .await;
    assert_eq!(wrong.status.as_u16(), 200);
    assert_eq!(right.status.as_u16(), 200);
    let said = |a: &Answer| {
        html(a)
            .split("id=\"recovered\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(said(&wrong), said(&right));
    t.get(&format!("/track/{no}"), Some(old))
        .await
        .expect_error(401);
    // In English on request.
    let page = html(&b.get(&t, "/track?lang=en").await);
    assert!(page.contains("Lost your code?"), "{page}");
}

async fn a_posted_result_notice_starts_the_appeal_window() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let mut body = phoned("letter", "LTR-2026-0900");
    body["complainant"] = json!({"name": "吴十", "postal_address": "上海市黄浦区中山东一路 1 号"});
    let filed = t
        .post("/complaints", Some(&c.intake), body)
        .await
        .expect(201);
    let (id, no, code) = (
        filed["id"].as_str().unwrap(),
        filed["tracking_no"].as_str().unwrap(),
        filed["access_token"].as_str().unwrap(),
    );
    t.act(
        &id,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    let decided = t
        .act(
            &id,
            "decide",
            &c.handler,
            json!({"outcome": "not_upheld", "basis": ["平台服务协议 5.2"], "reply": "证据不足。"}),
        )
        .await;
    let from_decision = at(&decided["appeal_due_at"]);
    // The letter with the result goes out three days later.
    t.advance(3 * 86_400).await;
    let now = at(&t.advance(0).await["now"]);
    let path = format!("/complaints/{id}/deliveries");
    let posted = |sent_at: chrono::DateTime<chrono::Utc>, reference: &str| json!({"notice": "result", "channel": "post", "sent_at": sent_at.to_rfc3339(), "reference": reference});
    // Bad input is named, and changes nothing.
    for (bad, field) in [
        (
            json!({"notice": "result", "channel": "email", "sent_at": now.to_rfc3339(), "reference": "R"}),
            "channel",
        ),
        (
            json!({"notice": "escalation", "channel": "post", "sent_at": now.to_rfc3339(), "reference": "R"}),
            "notice",
        ),
        (posted(now + chrono::Duration::days(1), "R"), "sent_at"),
        (posted(now - chrono::Duration::days(400), "R"), "sent_at"),
        (
            json!({"notice": "result", "channel": "post", "sent_at": now.to_rfc3339()}),
            "reference",
        ),
    ] {
        let fields = t.post(&path, Some(&c.intake), bad).await.expect_error(422);
        assert!(fields[field].is_string(), "{field}: {fields}");
    }
    let case = t
        .post(&path, Some(&c.intake), posted(now, "EMS-1001"))
        .await
        .expect(200);
    let moved = at(&case["appeal_due_at"]);
    assert_eq!(
        moved - from_decision,
        chrono::Duration::days(3),
        "15 days from the posting"
    );
    let post: Vec<&Value> = case["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["channel"] == "post")
        .collect();
    assert_eq!(post.len(), 1, "{case}");
    assert_eq!(post[0]["status"], "sent");
    assert_eq!(post[0]["provider_id"], "EMS-1001");
    assert_eq!(post[0]["notice"], "result");
    // A second letter (or an earlier date) never moves it again, nor earlier.
    let again = t
        .post(
            &path,
            Some(&c.intake),
            posted(now - chrono::Duration::days(1), "EMS-1002"),
        )
        .await
        .expect(200);
    assert_eq!(at(&again["appeal_due_at"]), moved);
    // Past the window counted from the decision, the person who wrote in
    // can still appeal with their code.
    let wait = (from_decision - now).num_seconds() + 3_600;
    t.advance(wait).await;
    let appealed = t
        .post(
            &format!("/track/{no}/appeal"),
            Some(code),
            json!({"reason": "信中结果与事实不符"}),
        )
        .await
        .expect(200);
    assert_eq!(appealed["status"], "under_review");
}

async fn no_new_code_for_a_purged_case() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let c = t.cast().await;
    let filed = t.file(complaint(1)).await;
    let (id, no) = (
        filed["id"].as_str().unwrap(),
        filed["tracking_no"].as_str().unwrap(),
    );
    t.act(
        &id,
        "reject",
        &c.intake,
        json!({"reason": "不属于平台受理范围", "guidance": "请向有关部门反映"}),
    )
    .await;
    t.app.sweep().await.unwrap();
    let before = sink.wait_for(2).await.len();
    t.act(
        &id,
        "erase",
        &c.supervisor,
        json!({"reason": "用户申请删除"}),
    )
    .await;
    // The same 202, nothing sent (the address is gone with the data).
    recover(&t, no, "zhang1@example.com").await;
    t.app.sweep().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), before);
    // Nor at the counter: the case's file is purged.
    t.refused(&id, "reissue-code", &c.intake, json!({}), 409)
        .await;
}

tests![
    every_new_case_gets_a_readable_code_typed_any_way,
    codes_issued_before_keep_working,
    a_phoned_complaint_s_code_appeals_after_a_decision,
    letters_and_visits_are_registered_with_their_reference,
    the_intake_page_shows_the_code_once_and_prints_a_slip,
    a_postal_address_is_a_way_to_reach_the_complainant,
    the_acknowledgement_carries_a_working_code,
    intake_reissues_a_code_once_and_the_old_one_stops,
    a_lost_code_is_sent_again_to_the_contact_on_file_only,
    the_track_page_offers_a_lost_code_form,
    a_posted_result_notice_starts_the_appeal_window,
    no_new_code_for_a_purged_case,
];
