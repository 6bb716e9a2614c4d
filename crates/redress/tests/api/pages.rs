//! The public web pages through HTTP (no browser): languages, CSRF, the
//! complaint form with its errors and kept input, the confirmation, the
//! tracking look-up and page, and the complainant's actions. Output is
//! escaped; every page carries the security headers.

use axum::body::Body;
use axum::http::{Method, Request};

use crate::harness::*;

/// A browser's cookies across requests.
#[derive(Default)]
pub(crate) struct Browser {
    pub(crate) cookies: Vec<(String, String)>,
}

impl Browser {
    pub(crate) fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) fn keep(&mut self, a: &Answer) {
        for v in a.headers.get_all("set-cookie") {
            let line = v.to_str().unwrap();
            let pair = line.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            self.cookies.push((k.to_string(), v.to_string()));
        }
    }

    pub(crate) async fn get(&mut self, t: &TestApp, path: &str) -> Answer {
        let req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header("cookie", self.header())
            .body(Body::empty())
            .unwrap();
        let a = t.send(req).await;
        self.keep(&a);
        a
    }

    pub(crate) async fn post_form(
        &mut self,
        t: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Answer {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("cookie", self.header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let a = t.send(req).await;
        self.keep(&a);
        a
    }

    pub(crate) async fn post_multipart(
        &mut self,
        t: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> Answer {
        let boundary = "redress-page-test-boundary";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        if let Some((name, bytes)) = file {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("cookie", self.header())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        let a = t.send(req).await;
        self.keep(&a);
        a
    }

    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

pub(crate) fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn html(a: &Answer) -> String {
    String::from_utf8(a.bytes.clone()).unwrap()
}

/// The value of the hidden input `name` in a page.
pub(crate) fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

fn the_form(csrf: &str, nonce: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_string()),
        ("nonce", nonce.to_string()),
        ("complainant.name", "李四".into()),
        ("complainant.phone", "13900001111".into()),
        ("respondent.kind", "merchant".into()),
        ("respondent.id", "shop-9".into()),
        ("respondent.name", "好店".into()),
        ("subject", "申请退款被拒绝".into()),
        (
            "description",
            "商家拒绝退款。<script>alert('x')</script>".into(),
        ),
        ("order_numbers", "A100, A101".into()),
    ]
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn the_start_page_speaks_chinese_first_and_english_on_request() {
    let t = TestApp::new().await;
    let mut b = Browser::default();
    let a = b.get(&t, "/").await;
    assert_eq!(a.status.as_u16(), 200);
    let page = html(&a);
    assert!(page.contains("<html lang=\"zh-CN\">"), "{page}");
    assert!(page.contains("我要投诉"));
    assert_eq!(page.matches("<h1").count(), 1, "one h1 per page");
    let csp = a.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(a.headers["x-frame-options"], "DENY");
    let csrf_cookie = a
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("rd_csrf="))
        .expect("a CSRF cookie");
    assert!(csrf_cookie.contains("HttpOnly") && csrf_cookie.contains("SameSite=Strict"));
    // The categories people may complain about are listed.
    assert!(page.contains("物流配送"), "{page}");

    let page = html(&b.get(&t, "/?lang=en").await);
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains("File a complaint"));
    assert!(page.contains("Delivery"));
    // The choice sticks (cookie) …
    assert!(html(&b.get(&t, "/complain").await).contains("Submit the complaint"));
    // … and a browser asking for English gets English without it.
    let req = Request::builder()
        .uri("/track")
        .header("accept-language", "en-US,en;q=0.8")
        .body(Body::empty())
        .unwrap();
    assert!(html(&t.send(req).await).contains("Track your complaint"));
    // Static files are served by the binary.
    let css = b.get(&t, "/static/app.css").await;
    assert_eq!(css.status.as_u16(), 200);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

async fn a_bad_form_keeps_the_input_and_names_the_fields() {
    let t = TestApp::new().await;
    let mut b = Browser::default();
    let page = html(&b.get(&t, "/complain").await);
    let (csrf, nonce) = (hidden(&page, "csrf"), hidden(&page, "nonce"));
    let a = b
        .post_multipart(
            &t,
            "/complain",
            &[
                ("csrf", &csrf),
                ("nonce", &nonce),
                ("complainant.name", "王五"),
                ("complainant.email", "not-an-address"),
                ("description", "我写了经过 <b>加粗</b>"),
                ("respondent.kind", "merchant"),
            ],
            None,
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    let page = html(&a);
    // The typed text is kept (escaped), the errors sit by their fields.
    assert!(page.contains("王五"));
    assert!(
        page.contains("我写了经过 &#60;b&#62;加粗&#60;/b&#62;"),
        "{page}"
    );
    assert!(page.contains("id=\"subject-error\""), "subject named");
    assert!(
        page.contains("id=\"respondent.id-error\""),
        "respondent id named"
    );
    assert!(
        page.contains("id=\"complainant.email-error\""),
        "email named"
    );
    assert!(page.contains("aria-invalid=\"true\""));
    // The reasons are in the page's language.
    assert!(page.contains("请修改：必填"), "{page}");
    assert!(page.contains("请修改：不是有效的电子邮箱地址"), "{page}");
    // Nothing was filed.
    let c = t.cast().await;
    let listed = t.get("/complaints", Some(&c.supervisor)).await.expect(200);
    assert_eq!(listed["total"], 0);
}

async fn a_form_without_its_csrf_token_is_refused() {
    let t = TestApp::new().await;
    let mut b = Browser::default();
    let page = html(&b.get(&t, "/complain").await);
    let nonce = hidden(&page, "nonce");
    let form = the_form("forged-token-000000000000000000000000000000", &nonce);
    let a = b.post_multipart(&t, "/complain", &pairs(&form), None).await;
    assert_eq!(a.status.as_u16(), 403);
    // A browser without our cookie cannot post the lookup either.
    let mut stranger = Browser::default();
    let a = stranger
        .post_form(
            &t,
            "/track",
            &[("csrf", "x"), ("tracking_no", "RD1"), ("access_token", "y")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);
    let c = t.cast().await;
    assert_eq!(
        t.get("/complaints", Some(&c.supervisor)).await.expect(200)["total"],
        0
    );
}

async fn a_complainant_files_tracks_and_writes_from_the_pages() {
    let t = TestApp::new().await;
    let mut b = Browser::default();
    let page = html(&b.get(&t, "/complain").await);
    let (csrf, nonce) = (hidden(&page, "csrf"), hidden(&page, "nonce"));
    let form = the_form(&csrf, &nonce);
    let a = b
        .post_multipart(
            &t,
            "/complain",
            &pairs(&form),
            Some(("收据.txt", b"receipt for order A100")),
        )
        .await;
    assert_eq!(a.status.as_u16(), 200);
    let done = html(&a);
    let no = done
        .split("id=\"tracking-no\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(no.starts_with("RD"), "{done}");
    let token = done
        .split("id=\"access-token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        redress_app::codes::normalize(&token)
            .map(|p| redress_app::codes::group(&p))
            .as_deref(),
        Some(token.as_str()),
        "a grouped access code: {token}"
    );
    assert!(done.contains(&format!("/track/{no}")));

    // Sent again (a double click, a reload): the same complaint, not a second.
    let again = b.post_multipart(&t, "/complain", &pairs(&form), None).await;
    assert!(html(&again).contains(&no));
    let c = t.cast().await;
    let listed = t.get("/complaints", Some(&c.supervisor)).await.expect(200);
    assert_eq!(listed["total"], 1);
    let id = listed["items"][0]["id"].as_str().unwrap().to_string();
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["channel"], "web");
    assert_eq!(
        case["evidence"].as_array().unwrap().len(),
        1,
        "the file came"
    );
    assert_eq!(
        case["record"]["order_numbers"],
        serde_json::json!(["A100", "A101"])
    );

    // The tracking page: status in plain words, the text escaped.
    let a = b.get(&t, &format!("/track/{no}")).await;
    assert_eq!(a.status.as_u16(), 200);
    let page = html(&a);
    assert!(page.contains("已提交，等待受理"), "{page}");
    assert!(page.contains("&#60;script&#62;alert("), "escaped");
    assert!(!page.contains("<script>alert("));
    assert!(!page.contains("action=\"/track/{no}/appeal\""));

    // A reply from the page arrives as a complainant message.
    let page_csrf = hidden(&page, "csrf");
    let a = b
        .post_form(
            &t,
            &format!("/track/{no}/message"),
            &[("csrf", &page_csrf), ("body", "补充：商家电话无人接听")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let page = html(&b.get(&t, &format!("/track/{no}")).await);
    assert!(page.contains("补充：商家电话无人接听"));
    // An empty reply is refused with the reason on the page.
    let a = b
        .post_form(
            &t,
            &format!("/track/{no}/message"),
            &[("csrf", &page_csrf), ("body", "  ")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);

    // More evidence from the tracking page.
    let a = b
        .post_multipart(
            &t,
            &format!("/track/{no}/evidence"),
            &[("csrf", &page_csrf)],
            Some(("聊天记录.txt", b"chat log with the shop")),
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["evidence"].as_array().unwrap().len(), 2);

    // Another browser needs the number and the code.
    let mut other = Browser::default();
    let a = other.get(&t, &format!("/track/{no}")).await;
    assert_eq!(a.status.as_u16(), 303);
    let lookup = html(&other.get(&t, &format!("/track?no={no}")).await);
    let csrf = hidden(&lookup, "csrf");
    let a = other
        .post_form(
            &t,
            "/track",
            &[
                ("csrf", &csrf),
                ("tracking_no", &no),
                ("access_token", "rdt_wrong"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 401);
    assert!(html(&a).contains("投诉编号或查询码不正确"));
    let a = other
        .post_form(
            &t,
            "/track",
            &[
                ("csrf", &csrf),
                ("tracking_no", &no),
                ("access_token", &token),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    assert!(other.cookie("rd_track").is_some());
    assert_eq!(
        other.get(&t, &format!("/track/{no}")).await.status.as_u16(),
        200
    );

    // Withdrawn from the page: closed, and no more actions offered.
    let a = other
        .post_form(
            &t,
            &format!("/track/{no}/withdraw"),
            &[("csrf", &csrf), ("reason", "已和商家协商解决")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let page = html(&other.get(&t, &format!("/track/{no}")).await);
    assert!(page.contains("您已撤回投诉"), "{page}");
    assert!(!page.contains("/withdraw\""));
}

async fn staff_sessions_are_renewed_at_login_and_end_by_post() {
    let t = TestApp::new().await;
    t.cast().await;
    let mut b = Browser::default();
    // The console wants a login first.
    let a = b.get(&t, "/staff").await;
    assert_eq!(a.status.as_u16(), 303);
    let page = html(&b.get(&t, "/staff/login").await);
    let csrf = hidden(&page, "csrf");
    // No token, no login.
    let a = b
        .post_form(
            &t,
            "/staff/login",
            &[("username", "super1"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);
    let a = b
        .post_form(
            &t,
            "/staff/login",
            &[
                ("csrf", &csrf),
                ("username", "super1"),
                ("password", "wrong"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 401);
    let a = b
        .post_form(
            &t,
            "/staff/login",
            &[
                ("csrf", &csrf),
                ("username", "super1"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let first = b.cookie("redress_session").unwrap();
    let line = a
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("redress_session="))
        .unwrap();
    assert!(line.contains("HttpOnly"), "{line}");
    let signed_in = b.get(&t, "/staff").await;
    assert_eq!(signed_in.status.as_u16(), 200);
    // The forms of a signed-in member carry a token bound to the session:
    // the one from before the login no longer opens them.
    let session_csrf = hidden(&html(&signed_in), "csrf");
    assert_ne!(session_csrf, csrf);
    // A second login (its form, shown while signed in, carries the
    // session's token) gets a new session id; the old one no longer works.
    b.post_form(
        &t,
        "/staff/login",
        &[
            ("csrf", &session_csrf),
            ("username", "super1"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let second = b.cookie("redress_session").unwrap();
    assert_ne!(first, second);
    let mut old = Browser::default();
    old.cookies.push(("redress_session".into(), first));
    assert_eq!(old.get(&t, "/staff").await.status.as_u16(), 303);
    // The session cookie does not authorise the JSON API (no CSRF there).
    let req = Request::builder()
        .uri("/api/v1/complaints")
        .header("cookie", format!("redress_session={second}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(t.send(req).await.status.as_u16(), 401);
    // Logout is a POST with the token; a GET does not log out.
    b.get(&t, "/staff/logout").await;
    let page = b.get(&t, "/staff").await;
    assert_eq!(page.status.as_u16(), 200);
    let session_csrf = hidden(&html(&page), "csrf");
    let a = b.post_form(&t, "/staff/logout", &[("csrf", &csrf)]).await;
    assert_eq!(a.status.as_u16(), 403, "the pre-login token");
    let a = b
        .post_form(&t, "/staff/logout", &[("csrf", &session_csrf)])
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let mut after = Browser::default();
    after.cookies.push(("redress_session".into(), second));
    assert_eq!(after.get(&t, "/staff").await.status.as_u16(), 303);
}

/// Logs `username` in to the console in a fresh browser.
pub(crate) async fn console(t: &TestApp, username: &str) -> Browser {
    console_as(t, username, PASSWORD).await
}

/// Logs `username` in with `password` in a fresh browser.
pub(crate) async fn console_as(t: &TestApp, username: &str, password: &str) -> Browser {
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
                ("password", password),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    b
}

async fn reports_draw_their_charts_for_supervisors_only() {
    let t = TestApp::new().await;
    t.cast().await;
    t.file(complaint(1)).await;
    t.file(complaint(2)).await;
    let mut sup = console(&t, "super1").await;
    let a = sup.get(&t, "/staff/reports").await;
    assert_eq!(a.status.as_u16(), 200);
    let page = html(&a);
    assert!(page.contains("<svg") && page.contains("<rect"), "{page}");
    assert!(
        page.contains("等待受理") && !page.contains("已提交，等待受理"),
        "status labels translated, in staff wording"
    );
    let mut handler = console(&t, "handler1").await;
    assert_eq!(handler.get(&t, "/staff/reports").await.status.as_u16(), 403);
    let a = sup.get(&t, "/staff/reports?from=yesterday").await;
    assert_eq!(a.status.as_u16(), 422);
}

async fn the_respondent_portal_shows_their_cases_masked_and_takes_replies() {
    let t = TestApp::new().await;
    let key = t.respondent("merchant", "shop-1").await;
    t.file(complaint(1)).await;
    let mut b = Browser::default();
    assert_eq!(b.get(&t, "/respondent/cases").await.status.as_u16(), 303);
    let page = html(&b.get(&t, "/respondent").await);
    let csrf = hidden(&page, "csrf");
    let a = b
        .post_form(&t, "/respondent", &[("csrf", &csrf), ("key", "rdr_wrong")])
        .await;
    assert_eq!(a.status.as_u16(), 401);
    let a = b
        .post_form(&t, "/respondent", &[("csrf", &csrf), ("key", &key)])
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let page = html(&b.get(&t, "/respondent/cases").await);
    assert!(page.contains("申请退款被拒绝"), "{page}");
    // The complainant's contact data is masked.
    assert!(
        !page.contains("13812345678") && !page.contains("zhang1@example.com"),
        "{page}"
    );
    assert!(!page.contains("张三1"));
    let id = page
        .split("action=\"/respondent/cases/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let a = b
        .post_form(
            &t,
            &format!("/respondent/cases/{id}/reply"),
            &[("csrf", &csrf), ("body", "我们已安排退款。")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let a = b
        .post_multipart(
            &t,
            &format!("/respondent/cases/{id}/evidence"),
            &[("csrf", &csrf)],
            Some(("退款凭证.txt", b"refund issued 2026-11-29")),
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let c = t.cast().await;
    let case = t.case(&id, &c.supervisor).await;
    let kinds: Vec<&str> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"message_added") && kinds.contains(&"evidence_added"),
        "{kinds:?}"
    );
}

async fn an_agent_registers_a_phoned_complaint_with_its_call_reference() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let mut b = console(&t, "intake1").await;
    let page = html(&b.get(&t, "/staff/intake").await);
    let (csrf, nonce) = (hidden(&page, "csrf"), hidden(&page, "nonce"));
    let mut form = the_form(&csrf, &nonce);
    form.push(("channel", "phone".into()));
    form.push(("call_reference", "CALL-2026-0042".into()));
    let a = b
        .post_multipart(&t, "/staff/intake", &pairs(&form), None)
        .await;
    // The answer shows the code to read out (tests in codes.rs) and
    // links to the new case.
    assert_eq!(a.status.as_u16(), 200, "{}", html(&a));
    let done = html(&a);
    let id = done
        .split("href=\"/staff/cases/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let to = format!("/staff/cases/{id}");
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["channel"], "phone");
    assert_eq!(case["call_reference"], "CALL-2026-0042");
    assert_eq!(b.get(&t, &to).await.status.as_u16(), 200);
    // The public form cannot claim the phone channel: it files on the web.
    let mut public = Browser::default();
    let page = html(&public.get(&t, "/complain").await);
    let mut form = the_form(&hidden(&page, "csrf"), &hidden(&page, "nonce"));
    form.push(("channel", "phone".into()));
    form.push(("call_reference", "FAKE-1".into()));
    let a = public
        .post_multipart(&t, "/complain", &pairs(&form), None)
        .await;
    assert_eq!(a.status.as_u16(), 200);
    let listed = t
        .get("/complaints?limit=10", Some(&c.supervisor))
        .await
        .expect(200);
    let channels: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["web", "phone"], "newest first");
}

async fn a_handler_decides_with_measures_and_completes_an_action_from_the_case_page() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let first = t.file(complaint(1)).await;
    let second = t.file(complaint(2)).await;
    let id = first["id"].as_str().unwrap().to_string();
    // The related case must be one the handler may see: in their department.
    t.act(
        &second["id"].as_str().unwrap(),
        "accept",
        &c.intake,
        serde_json::json!({"category": "refunds-returns"}),
    )
    .await;
    for (path, token, body) in [
        (
            "accept",
            &c.intake,
            serde_json::json!({"category": "refunds-returns"}),
        ),
        (
            "assign",
            &c.intake,
            serde_json::json!({"handler": "handler1"}),
        ),
    ] {
        t.post(&format!("/complaints/{id}/{path}"), Some(token), body)
            .await
            .expect(200);
    }
    let mut b = console(&t, "handler1").await;
    // The list filters by department and by deadline.
    let list = html(&b.get(&t, "/staff/cases?department=customer-service").await);
    assert!(
        list.contains(first["tracking_no"].as_str().unwrap()),
        "{list}"
    );
    assert!(list.contains("共 2 件"), "{list}");
    let list = html(&b.get(&t, "/staff/cases?overdue=true").await);
    assert!(list.contains("共 0 件"), "{list}");
    let page = html(&b.get(&t, &format!("/staff/cases/{id}")).await);
    let csrf = hidden(&page, "csrf");
    let at = |action: &str| format!("/staff/cases/{id}/{action}");
    let a = b
        .post_multipart(
            &t,
            &at("evidence"),
            &[("csrf", &csrf)],
            Some(("记录.txt", b"call notes")),
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let a = b
        .post_form(
            &t,
            &at("link"),
            &[
                ("csrf", &csrf),
                ("other", second["tracking_no"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    // A canned reply stands in for an empty message.
    let first_reply = t.app.store.list_canned_replies().await.unwrap()[0]
        .id
        .to_string();
    let a = b
        .post_form(
            &t,
            &at("message"),
            &[
                ("csrf", &csrf),
                ("audience", "complainant"),
                ("body", ""),
                ("canned", &first_reply),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    let a = b
        .post_form(
            &t,
            &at("decide"),
            &[
                ("csrf", &csrf),
                ("outcome", "upheld"),
                ("basis", "平台服务协议 5.2"),
                ("reply", "全额退款。"),
                ("remedies", "refund"),
                ("sanctions", "warning"),
                ("actions", "商家更新退款流程"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["decision"]["remedies"][0]["kind"], "refund");
    assert_eq!(case["decision"]["sanctions"][0]["kind"], "warning");
    assert_eq!(case["evidence"].as_array().unwrap().len(), 1);
    assert_eq!(case["linked_cases"].as_array().unwrap().len(), 1);
    assert_eq!(
        case["messages"][0]["body"],
        redress_app::CannedReplySeed::defaults()[0].body.as_str()
    );
    let action = case["actions"][0]["id"].as_str().unwrap().to_string();
    let page = html(&b.get(&t, &format!("/staff/cases/{id}")).await);
    assert!(page.contains("商家更新退款流程"));
    let a = b
        .post_form(
            &t,
            &at("complete-action"),
            &[("csrf", &csrf), ("action_id", &action), ("note", "已更新")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    let case = t.case(&id, &c.supervisor).await;
    assert!(case["actions"][0]["done_at"].is_string());
}

async fn admins_keep_canned_replies_that_agents_use_on_the_case_page() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let filed = t.file(complaint(1)).await;
    let id = filed["id"].as_str().unwrap().to_string();
    let mut admin = console_as(&t, "admin", ADMIN_PASSWORD).await;
    let page = html(&admin.get(&t, "/staff/admin/canned").await);
    let csrf = hidden(&page, "csrf");
    for seeded in redress_app::CannedReplySeed::defaults() {
        assert!(page.contains(&seeded.title), "{} listed", seeded.title);
    }
    // Added from the page; what it shows is escaped.
    let a = admin
        .post_form(
            &t,
            "/staff/admin/canned-reply",
            &[
                ("csrf", &csrf),
                ("title", "<b>核实中</b>"),
                ("locale", "zh-CN"),
                ("body", "您好，我们正在核实 <script>x</script>。"),
            ],
        )
        .await;
    // Post/redirect/get: back on the page, which says it was added.
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    let to = a.headers["location"].to_str().unwrap().to_string();
    assert_eq!(to, "/staff/admin/canned?done=canned-added");
    let page = html(&admin.get(&t, &to).await);
    assert!(page.contains("常用回复已添加"), "{page}");
    assert!(page.contains("&#60;b&#62;核实中&#60;/b&#62;"), "{page}");
    assert!(!page.contains("<b>核实中") && !page.contains("<script>x</script>"));
    let made = t
        .app
        .store
        .list_canned_replies()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.title == "<b>核实中</b>")
        .expect("stored");
    // Refusals name the field by its label, in the page's language.
    let a = admin
        .post_form(
            &t,
            "/staff/admin/canned-reply?lang=en",
            &[("csrf", &csrf), ("title", ""), ("body", &"长".repeat(5001))],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    let page = html(&a);
    assert!(page.contains("Title: is required"), "{page}");
    assert!(
        page.contains("Text: must be at most 5000 characters"),
        "{page}"
    );
    let a = admin
        .post_form(
            &t,
            "/staff/admin/canned-reply?lang=zh-CN",
            &[("csrf", &csrf), ("title", "标题"), ("body", "")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    assert!(html(&a).contains("内容: 必填"), "{}", html(&a));
    // Without the CSRF token, or from a non-admin, nothing is written.
    let a = admin
        .post_form(
            &t,
            "/staff/admin/canned-reply",
            &[("title", "无令牌"), ("body", "x")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);
    let mut handler = console(&t, "handler1").await;
    let handler_csrf = hidden(&html(&handler.get(&t, "/staff").await), "csrf");
    let made_id = made.id.to_string();
    for (path, form) in [
        (
            "/staff/admin/canned-reply",
            [
                ("csrf", handler_csrf.as_str()),
                ("title", "越权"),
                ("body", "x"),
            ],
        ),
        (
            "/staff/admin/canned-reply-delete",
            [
                ("csrf", handler_csrf.as_str()),
                ("id", &made_id),
                ("body", ""),
            ],
        ),
    ] {
        let a = handler.post_form(&t, path, &form).await;
        assert_eq!(a.status.as_u16(), 403, "{path}");
    }
    assert_eq!(t.app.store.list_canned_replies().await.unwrap().len(), 5);

    // Changed from the page.
    let a = admin
        .post_form(
            &t,
            "/staff/admin/canned-reply-edit",
            &[
                ("csrf", &csrf),
                ("id", &made.id.to_string()),
                ("title", "核实中"),
                ("locale", ""),
                ("body", "您好，我们正在核实，两个工作日内答复。"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    let changed = t
        .app
        .store
        .get_canned_reply(made.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((changed.title.as_str(), changed.locale), ("核实中", None));

    // The agent's case page offers it, and it stands in for an empty message.
    t.act(
        &id,
        "accept",
        &c.intake,
        serde_json::json!({"category": "refunds-returns"}),
    )
    .await;
    let page = html(&handler.get(&t, &format!("/staff/cases/{id}")).await);
    assert!(
        page.contains(&format!("value=\"{}\"", made.id)) && page.contains("核实中"),
        "{page}"
    );
    let a = handler
        .post_form(
            &t,
            &format!("/staff/cases/{id}/message"),
            &[
                ("csrf", &handler_csrf),
                ("audience", "complainant"),
                ("body", ""),
                ("canned", &made.id.to_string()),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["messages"][0]["body"], changed.body.as_str());

    // Deleted from the page: no longer offered.
    let a = admin
        .post_form(
            &t,
            "/staff/admin/canned-reply-delete",
            &[("csrf", &csrf), ("id", &made.id.to_string())],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    assert!(
        t.app
            .store
            .get_canned_reply(made.id)
            .await
            .unwrap()
            .is_none()
    );
    let page = html(&handler.get(&t, &format!("/staff/cases/{id}")).await);
    assert!(!page.contains(&made.id.to_string()));
}

async fn the_case_list_filters_by_category_and_respondent_and_keeps_them() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let mut numbers = Vec::new();
    for (i, (kind, rid, name, category)) in [
        ("merchant", "m-1", "好运数码专营店", Some("delivery")),
        ("merchant", "m-2", "ACME Trading", Some("delivery")),
        ("merchant", "m-1", "好运数码专营店", Some("refunds-returns")),
        ("user", "u-3", "好运来", None),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = complaint(i as u32);
        body["respondent"] = serde_json::json!({"kind": kind, "id": rid, "name": name});
        let filed = t.file(body).await;
        if let Some(category) = category {
            t.act(
                &filed["id"].as_str().unwrap(),
                "accept",
                &c.intake,
                serde_json::json!({"category": category}),
            )
            .await;
        }
        numbers.push(filed["tracking_no"].as_str().unwrap().to_string());
    }
    let mut b = console(&t, "super1").await;
    let shows = |page: &str, which: &[usize]| {
        for (i, no) in numbers.iter().enumerate() {
            assert_eq!(
                page.contains(no.as_str()),
                which.contains(&i),
                "case {i}: {page}"
            );
        }
    };
    // By category, and by a respondent's name (words of it).
    let page = html(&b.get(&t, "/staff/cases?category=delivery").await);
    shows(&page, &[0, 1]);
    assert!(
        page.contains("<option value=\"delivery\" selected>"),
        "kept"
    );
    let page = html(
        &b.get(
            &t,
            "/staff/cases?category=delivery&respondent=%E5%A5%BD%E8%BF%90",
        )
        .await,
    );
    shows(&page, &[0]);
    assert!(page.contains("共 1 件"), "{page}");
    assert!(
        page.contains("id=\"respondent\" name=\"respondent\" type=\"text\" value=\"好运\""),
        "{page}"
    );
    let page = html(
        &b.get(&t, "/staff/cases?respondent=%E5%A5%BD%E8%BF%90")
            .await,
    );
    shows(&page, &[0, 2, 3]);
    // A respondent key, `kind:id`.
    let page = html(&b.get(&t, "/staff/cases?respondent=merchant%3Am-1").await);
    shows(&page, &[0, 2]);
    let page = html(&b.get(&t, "/staff/cases?respondent=acme&lang=en").await);
    shows(&page, &[1]);
    assert!(page.contains("ACME Trading"), "the respondent column");
    // A refused filter is explained in the page's language.
    let page = html(&b.get(&t, "/staff/cases?status=open&lang=en").await);
    assert!(page.contains("Status: must be one of:"), "{page}");
    let page = html(&b.get(&t, "/staff/cases?status=open&lang=zh-CN").await);
    assert!(page.contains("状态: 必须是以下之一："), "{page}");
}

async fn an_agent_attaches_held_mail_from_the_console() {
    use redress_app::mail::{Disposition, Envelope};
    let t = TestApp::new().await;
    let c = t.cast().await;
    let filed = t.file(complaint(1)).await;
    let no = filed["tracking_no"].as_str().unwrap();
    // A reply naming the case, from an address that is not the complainant's.
    let raw = format!(
        "From: Other <other@example.org>\r\nSubject: Re: {no}\r\nMessage-ID: <h1@example.org>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n<script>alert(1)</script> 我是投诉人的家属。\r\n"
    );
    let env = Envelope {
        mail_from: Some("other@example.org".into()),
        rcpt_to: vec!["complaints@example.com".into()],
    };
    let held = t.app.receive_mail(&env, raw.as_bytes()).await.unwrap();
    let Disposition::Held { id } = held else {
        panic!("not held: {held:?}")
    };

    let mut b = console(&t, "intake1").await;
    let list = html(&b.get(&t, "/staff/mail").await);
    assert!(list.contains("o***@example.org"), "{list}");
    assert!(!list.contains("other@example.org"));
    assert!(list.contains(&format!("/staff/mail/{id}")));
    let a = b.get(&t, &format!("/staff/mail/{id}")).await;
    assert_eq!(a.status.as_u16(), 200);
    let page = html(&a);
    assert!(page.contains("other@example.org"));
    assert!(
        page.contains("&#60;script&#62;alert(") && !page.contains("<script>alert"),
        "escaped"
    );
    assert!(
        page.contains(&format!("value=\"{no}\"")),
        "the named case is prefilled"
    );
    let csrf = hidden(&page, "csrf");
    // A case that does not exist is named beside the form.
    let a = b
        .post_form(
            &t,
            &format!("/staff/mail/{id}/attach"),
            &[("csrf", &csrf), ("case", "RD000000-AAAAAA"), ("as", "note")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    assert!(html(&a).contains("找不到这个案件"), "{}", html(&a));
    // Attached as the complainant's message.
    let a = b
        .post_form(
            &t,
            &format!("/staff/mail/{id}/attach"),
            &[("csrf", &csrf), ("case", no), ("as", "complainant")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    assert_eq!(a.headers["location"], "/staff/mail?done=attached");
    let list = html(&b.get(&t, "/staff/mail?done=attached").await);
    assert!(
        list.contains("邮件已归入案件") && list.contains("id=\"mail-none\""),
        "{list}"
    );
    let case = t.case(&filed["id"].as_str().unwrap(), &c.supervisor).await;
    assert!(
        case["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"].as_str().unwrap().contains("我是投诉人的家属")),
        "{case}"
    );
    // Handlers do not work the queue.
    let mut h = console(&t, "handler1").await;
    assert_eq!(h.get(&t, "/staff/mail").await.status.as_u16(), 403);
}

async fn admins_reword_a_notice_on_the_console() {
    let t = TestApp::new().await;
    let mut b = console_as(&t, "admin", ADMIN_PASSWORD).await;
    let page = html(&b.get(&t, "/staff/admin/notices?kind=result&tl=en").await);
    assert!(
        page.contains("name=\"subject\" type=\"text\" value=\"The result of your complaint"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    // A broken template: refused, what was typed kept.
    let a = b
        .post_form(
            &t,
            "/staff/admin/notices/result/en",
            &[
                ("csrf", &csrf),
                ("action", "save"),
                ("subject", "Result {{ tracking_no"),
                ("body", "Our <b>answer</b>"),
                ("sms", "s"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    let page = html(&a);
    assert!(
        page.contains("模板未保存") && page.contains("Result {{ tracking_no"),
        "{page}"
    );
    assert!(
        page.contains("Our &#60;b&#62;answer&#60;/b&#62;"),
        "escaped: {page}"
    );
    let a = b
        .post_form(
            &t,
            "/staff/admin/notices/result/en",
            &[
                ("csrf", &csrf),
                ("action", "save"),
                ("subject", "Result {{ tracking_no }}"),
                ("body", "Decided: {{ outcome_label }}"),
                ("sms", "Decided {{ tracking_no }}"),
            ],
        )
        .await;
    // Post/redirect/get: the notice's page says it was saved, with its
    // readable name and a preview on the made-up sample case.
    assert_eq!(a.status.as_u16(), 303);
    let to = a.headers["location"].to_str().unwrap().to_string();
    let page = html(&b.get(&t, &to).await);
    assert!(page.contains("模板已保存"), "{page}");
    assert!(page.contains("处理结果通知 · 英文"), "{page}");
    assert!(
        page.contains("id=\"preview-subject\">Result TS-20260101-000001<"),
        "{page}"
    );
    assert!(
        page.contains("id=\"preview-body\">Decided: upheld<"),
        "{page}"
    );
    // The Chinese notice is previewed on a sample case in Chinese.
    let page = html(&b.get(&t, "/staff/admin/notices?kind=result&tl=zh-CN").await);
    let preview = &page[page.find("id=\"preview-body\"").expect("a preview")..];
    assert!(preview.contains("投诉成立"), "{page}");
    assert!(!preview.contains("upheld"), "{page}");
    let listed = t
        .get("/admin/notice-templates", Some(&t.admin))
        .await
        .expect(200);
    let result_en = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "result" && i["locale"] == "en")
        .unwrap()
        .clone();
    assert_eq!(result_en["customized"], true);
    assert_eq!(result_en["body"], "Decided: {{ outcome_label }}");
    let a = b
        .post_form(
            &t,
            "/staff/admin/notices/result/en",
            &[("csrf", &csrf), ("action", "reset")],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303);
    let to = a.headers["location"].to_str().unwrap().to_string();
    let page = html(&b.get(&t, &to).await);
    assert!(page.contains("已恢复系统默认措辞"), "{page}");
    assert!(!page.contains("id=\"nt-reset\""), "nothing left to reset");
    // In English, the names are English.
    let page = html(&b.get(&t, "/staff/admin/notices?lang=en").await);
    assert!(
        page.contains(">Result<") && page.contains(">Acknowledgement of receipt<"),
        "{page}"
    );
    assert!(!page.contains("处理结果通知"), "{page}");
    b.get(&t, "/staff/admin/notices?lang=zh-CN").await;
    // Staff other than admins do not reach it.
    t.staff("super9", &["supervisor"], &[], 1).await;
    let mut s = console(&t, "super9").await;
    assert_eq!(s.get(&t, "/staff/admin/notices").await.status.as_u16(), 403);
}

/// The reviewer's case page: the appeal's reason and the decision under
/// review in full, and a working form (CSRF, no inline script, zh-CN and
/// en) that changes the result, its remedies and sanctions.
async fn a_reviewer_modifies_the_result_from_the_case_page() {
    use serde_json::json;
    let t = TestApp::new().await;
    let c = t.cast().await;
    let filed = t.file(complaint(1)).await;
    let id = filed["id"].as_str().unwrap().to_string();
    let no = filed["tracking_no"].as_str().unwrap();
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
        json!({"outcome": "partially_upheld", "basis": ["平台服务协议 5.2"],
               "reply": "商家退还八十元。", "remedies": [{"kind": "refund", "amount": 80.0}],
               "sanctions": [{"kind": "warning", "description": "书面警告"}]}),
    )
    .await;
    t.post(
        &format!("/track/{no}/appeal"),
        Some(filed["access_token"].as_str().unwrap()),
        json!({"reason": "金额不对，应全额退款"}),
    )
    .await
    .expect(200);

    let mut b = console(&t, "reviewer1").await;
    let path = format!("/staff/cases/{id}");
    let page = html(&b.get(&t, &path).await);
    for part in [
        "金额不对，应全额退款",
        "原处理决定",
        "投诉部分成立",
        "平台服务协议 5.2",
        "商家退还八十元。",
        "退款（80.00 CNY）",
        "警告：书面警告",
        "handler1",
        "id=\"review-form\"",
        "name=\"outcome\"",
        "name=\"remedy_kind_0\"",
        "name=\"remedy_amount_0\"",
        "name=\"sanction_kind_0\"",
        "name=\"action_desc_0\"",
        "name=\"action_owner_0\"",
        "新的处理结论",
    ] {
        assert!(page.contains(part), "{part:?} missing in {page}");
    }
    assert_eq!(
        page.matches("<script").count(),
        page.matches("<script src=").count(),
        "no inline script"
    );
    let csrf = hidden(&page, "csrf");
    let en = html(&b.get(&t, &format!("{path}?lang=en")).await);
    for part in [
        "The appeal",
        "The original decision",
        "New outcome",
        "Remedies",
    ] {
        assert!(en.contains(part), "{part:?} missing in {en}");
    }
    let at = format!("{path}/review");
    // Without the form's token: refused, nothing changes.
    let a = b
        .post_form(
            &t,
            &at,
            &[
                ("result", "upheld"),
                ("basis", "复核规则 1"),
                ("reply", "维持。"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 403);
    // A changed result without its new outcome: the page says so.
    let a = b
        .post_form(
            &t,
            &at,
            &[
                ("csrf", &csrf),
                ("result", "modified"),
                ("basis", "复核规则 1"),
                ("reply", "改为全额退款。"),
                ("outcome", ""),
                ("remedies", "refund"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422, "{}", html(&a));
    let page = html(&a);
    let alert = page
        .split("role=\"alert\"")
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .unwrap_or_else(|| panic!("no error shown in {page}"));
    assert!(alert.contains("outcome"), "{alert}");
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["status"], "under_review");
    // The changed result: a full refund, the warning dropped, an action.
    let changed = [
        ("csrf", csrf.as_str()),
        ("result", "modified"),
        ("basis", "复核规则 1\n《消费者权益保护法》第二十四条"),
        ("reply", "改为全额退款。"),
        ("outcome", "upheld"),
        ("remedy_kind_0", "refund"),
        ("remedy_desc_0", "全额退款"),
        ("remedy_amount_0", "199.50"),
        ("remedy_currency_0", ""),
        ("action_desc_0", "复查退款审核流程"),
        ("action_owner_0", ""),
    ];
    // Unconfirmed: refused with the form open and what was typed kept.
    let a = b.post_form(&t, &at, &changed).await;
    assert_eq!(a.status.as_u16(), 422, "{}", html(&a));
    let page = html(&a);
    assert!(page.contains("Tick the confirmation box"), "{page}");
    assert!(page.contains("value=\"199.50\""), "{page}");
    assert!(page.contains("复查退款审核流程"), "{page}");
    assert_eq!(t.case(&id, &c.supervisor).await["status"], "under_review");
    let mut confirmed = changed.to_vec();
    confirmed.push(("confirm", "yes"));
    let a = b.post_form(&t, &at, &confirmed).await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    assert_eq!(
        a.headers["location"],
        format!("/staff/cases/{id}?done=review").as_str()
    );
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["status"], "closed");
    assert_eq!(case["review"]["result"], "modified");
    assert_eq!(case["review"]["outcome"], "upheld");
    assert_eq!(case["review"]["basis"].as_array().unwrap().len(), 2);
    assert_eq!(case["review"]["remedies"][0]["kind"], "refund");
    assert_eq!(case["review"]["remedies"][0]["amount"], 199.5);
    assert_eq!(case["review"]["remedies"][0]["currency"], "CNY");
    assert!(case["review"]["sanctions"].as_array().unwrap().is_empty());
    assert!(
        case["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["description"] == "复查退款审核流程" && a["owner"] == "reviewer1"),
        "{case}"
    );
    let kinds: Vec<&str> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"sanction_lifted"), "{kinds:?}");
}

async fn the_corrective_actions_page_lists_and_the_case_page_reassigns() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let filed = t.file(complaint(1)).await;
    let id = filed["id"].as_str().unwrap().to_string();
    let no = filed["tracking_no"].as_str().unwrap().to_string();
    t.act(
        &id,
        "accept",
        &c.intake,
        serde_json::json!({"category": "refunds-returns"}),
    )
    .await;
    let decided = t
        .act(
            &id,
            "decide",
            &c.handler,
            serde_json::json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"],
                               "reply": "全额退款。", "actions": ["商家更新退款流程"]}),
        )
        .await;
    let action = decided["actions"][0]["id"].as_str().unwrap().to_string();
    let mut b = console(&t, "handler1").await;

    // The list, in Chinese by default and in English on request, linked
    // from the navigation; each row links to its case.
    let page = html(&b.get(&t, "/staff/actions").await);
    assert!(
        page.contains("<a href=\"/staff/actions\">整改事项</a>"),
        "{page}"
    );
    assert!(page.contains("<h1>整改事项</h1>"), "{page}");
    assert!(page.contains("商家更新退款流程"), "{page}");
    assert!(
        page.contains(&format!("<a href=\"/staff/cases/{id}\">{no}</a>")),
        "{page}"
    );
    assert!(page.contains("未完成"), "the status is translated: {page}");
    let page = html(&b.get(&t, "/staff/actions?lang=en").await);
    assert!(page.contains("<h1>Corrective actions</h1>"), "{page}");
    assert!(page.contains("商家更新退款流程"), "{page}");
    let page = html(&b.get(&t, "/staff/actions?status=done&lang=zh-CN").await);
    assert!(page.contains("没有符合条件的整改事项"), "{page}");
    let bad = b.get(&t, "/staff/actions?status=late").await;
    assert_eq!(bad.status.as_u16(), 422);

    // The case page: reassign and re-date an open action, with CSRF and
    // a confirmation after.
    let page = html(&b.get(&t, &format!("/staff/cases/{id}")).await);
    assert!(page.contains(&format!("id=\"update-{action}\"")), "{page}");
    let csrf = hidden(&page, "csrf");
    let path = format!("/staff/cases/{id}/update-action");
    let refused = b
        .post_form(&t, &path, &[("action_id", &action), ("owner", "super1")])
        .await;
    assert_eq!(refused.status.as_u16(), 403);
    let day = (t.app.now() + chrono::Duration::days(40))
        .with_timezone(&t.app.config.time_zone)
        .date_naive();
    let a = b
        .post_form(
            &t,
            &path,
            &[
                ("csrf", &csrf),
                ("action_id", &action),
                ("owner", "super1"),
                ("due_date", &day.to_string()),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 303, "{}", html(&a));
    let to = a.headers["location"].to_str().unwrap().to_string();
    assert!(to.ends_with("?done=action-updated"), "{to}");
    let page = html(&b.get(&t, &to).await);
    assert!(page.contains("整改事项已修改。"), "{page}");
    let case = t.case(&id, &c.supervisor).await;
    assert_eq!(case["actions"][0]["owner"], "super1");
    let due: chrono::DateTime<chrono::Utc> = case["actions"][0]["due_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(due, t.app.calendar().end_of_local_day(day), "due at 24:00");
    // An owner who may not own it: the page names the field.
    let a = b
        .post_form(
            &t,
            &path,
            &[
                ("csrf", &csrf),
                ("action_id", &action),
                ("owner", "intake1"),
            ],
        )
        .await;
    assert_eq!(a.status.as_u16(), 422);
    assert!(
        html(&a).contains("必须是能查看该案件的工作人员"),
        "{}",
        html(&a)
    );
}

tests![
    the_start_page_speaks_chinese_first_and_english_on_request,
    a_bad_form_keeps_the_input_and_names_the_fields,
    a_form_without_its_csrf_token_is_refused,
    a_complainant_files_tracks_and_writes_from_the_pages,
    staff_sessions_are_renewed_at_login_and_end_by_post,
    the_respondent_portal_shows_their_cases_masked_and_takes_replies,
    reports_draw_their_charts_for_supervisors_only,
    an_agent_registers_a_phoned_complaint_with_its_call_reference,
    a_handler_decides_with_measures_and_completes_an_action_from_the_case_page,
    a_reviewer_modifies_the_result_from_the_case_page,
    admins_keep_canned_replies_that_agents_use_on_the_case_page,
    the_case_list_filters_by_category_and_respondent_and_keeps_them,
    an_agent_attaches_held_mail_from_the_console,
    admins_reword_a_notice_on_the_console,
    the_corrective_actions_page_lists_and_the_case_page_reassigns,
];
