//! The authorization matrix: every operation of the API document the
//! router serves, called as every kind of caller, against the table in
//! `access_matrix.txt` (what SPEC §2, §9, §11 and docs/security.md say each
//! caller may do). The table's header defines the classes `allow` and
//! `deny`; this file says how each cell is exercised.
//!
//! **Every cell is exercised on a fixture of its own where the call could
//! spoil it.** A call on a case gets a case of its own, filed for this one
//! cell and brought to the state in which the operation is valid (so that
//! the only thing left to refuse it is the caller: a state check that
//! happened to come first would otherwise hide a missing permission check
//! behind a 409). Objects named by a path (webhook, canned reply, API key,
//! respondent account, held mail, staff user, notice template) are made
//! anew for each cell too, so that a delete, a revocation or a change by
//! one caller cannot leave the next caller a 404. The calls that act on
//! the caller's own session or account (`POST /auth/logout`,
//! `POST /auth/password`) are made by a fresh staff user with the roles
//! and departments of the column, logged in for that cell alone, so the
//! shared tokens outlive them. The test clock is advanced by one second.
//! Bodies are valid and unique per cell (`{n}`), so that a refusal cannot
//! be about the input instead of the caller.
//!
//! `REDRESS_MATRIX_PRINT=1` prints the observed table (in the file's
//! format) for review; the expectations are never generated from it.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};

use crate::harness::*;

const TABLE: &str = include_str!("access_matrix.txt");

/// The table's columns, in order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Caller {
    Anonymous,
    /// The complainant of the cell's case (its access token).
    Complainant,
    /// The complainant of another case (that case's access token).
    OtherComplainant,
    /// The respondent named on the cell's case (its portal key).
    Respondent,
    /// A respondent not on the case (their portal key).
    OtherRespondent,
    /// A handler of the case's department (`customer-service`).
    Handler,
    /// A handler of another department (`trust-safety`).
    OtherHandler,
    Intake,
    /// A reviewer of the case's department, at a higher level than the
    /// handler who decides.
    Reviewer,
    /// A user with the `admin` role alone.
    Admin,
    Supervisor,
}

const CALLERS: [(Caller, &str); 11] = [
    (Caller::Anonymous, "anon"),
    (Caller::Complainant, "compl"),
    (Caller::OtherComplainant, "o-compl"),
    (Caller::Respondent, "resp"),
    (Caller::OtherRespondent, "o-resp"),
    (Caller::Handler, "handler"),
    (Caller::OtherHandler, "o-handler"),
    (Caller::Intake, "intake"),
    (Caller::Reviewer, "reviewer"),
    (Caller::Admin, "admin"),
    (Caller::Supervisor, "super"),
];

impl Caller {
    /// Roles, departments and level of a staff column (for fresh users).
    fn staff(self) -> Option<(&'static [&'static str], &'static [&'static str], i32)> {
        Some(match self {
            Caller::Handler => (&["handler"], &["customer-service"], 1),
            Caller::OtherHandler => (&["handler"], &["trust-safety"], 1),
            Caller::Intake => (&["intake"], &[], 1),
            Caller::Reviewer => (&["reviewer"], &["customer-service"], 3),
            Caller::Admin => (&["admin"], &[], 1),
            Caller::Supervisor => (&["supervisor"], &[], 5),
            _ => return None,
        })
    }
}

/// The state a case must be in for the operation to be valid.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// No case needed.
    None,
    Submitted,
    NeedsInfo,
    InProgress,
    Paused,
    /// Decided, with one corrective action open.
    Resolved,
    UnderReview,
}

enum Payload {
    Empty,
    Json(&'static str),
    Upload,
    Calendar,
}

/// How to call one operation validly: the case state it needs, a query
/// and a body. `{n}` is unique per cell; `{other_id}` / `{other_no}` name
/// a second open case of the cell; `{no}` the cell's tracking number.
struct Recipe {
    state: State,
    query: &'static str,
    payload: Payload,
    /// Made by a fresh staff user of the column (own session/account).
    fresh_caller: bool,
}

fn recipe(op: &str) -> Recipe {
    use Payload::*;
    use State::*;
    let r = |state, payload| Recipe {
        state,
        query: "",
        payload,
        fresh_caller: false,
    };
    match op {
        "POST /auth/login" => r(
            None,
            Json(r#"{"username": "intake1", "password": "staff-password-1"}"#),
        ),
        "POST /auth/logout" => Recipe {
            fresh_caller: true,
            ..r(None, Empty)
        },
        "POST /auth/password" => Recipe {
            fresh_caller: true,
            ..r(
                None,
                Json(r#"{"old": "staff-password-1", "new": "a-new-password-{n}"}"#),
            )
        },
        "POST /admin/api-keys" => r(None, Json(r#"{"name": "key {n}", "scopes": ["read"]}"#)),
        "POST /admin/calendar/import" => r(None, Calendar),
        "PUT /admin/calendar/{date}" => r(None, Json(r#"{"kind": "holiday", "name": "matrix"}"#)),
        "POST /admin/canned-replies" => r(
            None,
            Json(r#"{"title": "reply {n}", "body": "We received it.", "locale": "en"}"#),
        ),
        "PATCH /admin/canned-replies/{id}" => r(None, Json(r#"{"title": "changed {n}"}"#)),
        "POST /admin/categories" => r(
            None,
            Json(r#"{"code": "cat-{n}", "name": "Cat {n}", "department": "customer-service"}"#),
        ),
        "PATCH /admin/categories/{code}" => r(None, Json(r#"{"name_en": "Changed {n}"}"#)),
        "POST /admin/departments" => r(None, Json(r#"{"code": "dept-{n}", "name": "Dept {n}"}"#)),
        "PUT /admin/notice-templates/{kind}/{locale}" => r(
            None,
            Json(
                r#"{"subject": "Received {{ tracking_no }}", "body": "Body {n}", "sms": "SMS {{ tracking_no }}"}"#,
            ),
        ),
        "POST /admin/respondents" => r(
            None,
            Json(r#"{"kind": "merchant", "id": "shop-m{n}", "name": "Shop {n}"}"#),
        ),
        "POST /admin/respondents/{id}/keys" => r(None, Json("{}")),
        "POST /admin/users" => r(
            None,
            Json(
                r#"{"username": "user{n}", "password": "user-password-{n}", "display_name": "User {n}", "roles": ["intake"], "departments": [], "level": 1}"#,
            ),
        ),
        "PATCH /admin/users/{username}" => r(None, Json(r#"{"display_name": "Renamed {n}"}"#)),
        "PATCH /admin/departments/{code}" => r(None, Json(r#"{"name_en": "Changed {n}"}"#)),
        "GET /calendar/due" => Recipe {
            query: "?from=2026-12-01T09:00:00Z&working_days=3",
            ..r(None, Empty)
        },
        "GET /reports/summary" | "GET /reports/summary.csv" | "GET /exports/cases.csv" => Recipe {
            query: "?from=2026-01-01&to=2026-12-31",
            ..r(None, Empty)
        },
        // Respondent scorecards and spike alerts (issue 16).
        "GET /reports/respondents" | "GET /alerts" => Recipe {
            query: "?from=2026-01-01&to=2026-12-31",
            ..r(None, Empty)
        },
        "GET /public/stats" => Recipe {
            query: "?from=2026-01-01&to=2026-12-31",
            ..r(None, Empty)
        },
        "POST /complaints" => r(
            None,
            Json(
                r#"{"complainant": {"name": "李四{n}", "email": "li{n}@example.com"}, "respondent": {"kind": "merchant", "id": "shop-1", "name": "好店"}, "subject": "申请退款 {n}", "description": "商家拒绝退款。", "demands": "全额退款"}"#,
            ),
        ),
        "GET /complaints/{id}"
        | "GET /complaints/{id}/archive"
        | "GET /complaints/{id}/similar"
        | "GET /complaints/{id}/suggestions" => r(InProgress, Empty),
        "PATCH /complaints/{id}" => r(Submitted, Json(r#"{"subject": "更正 {n}"}"#)),
        "POST /complaints/{id}/accept" => r(
            Submitted,
            Json(r#"{"category": "refunds-returns", "department": "customer-service"}"#),
        ),
        "POST /complaints/{id}/reject" => r(
            Submitted,
            Json(r#"{"reason": "不属于平台受理范围", "guidance": "请向有关部门反映"}"#),
        ),
        "POST /complaints/{id}/request-info" => r(Submitted, Json(r#"{"items": ["订单截图"]}"#)),
        "POST /complaints/{id}/assign" => r(InProgress, Json(r#"{"handler": "handler1"}"#)),
        "POST /complaints/{id}/messages" => r(
            InProgress,
            Json(r#"{"audience": "complainant", "body": "请提供订单号 {n}"}"#),
        ),
        "POST /complaints/{id}/notes" => {
            r(InProgress, Json(r#"{"kind": "note", "body": "记录 {n}"}"#))
        }
        "POST /complaints/{id}/extend" => {
            r(InProgress, Json(r#"{"days": 2, "reason": "需要鉴定"}"#))
        }
        "POST /complaints/{id}/pause" => r(InProgress, Json(r#"{"reason": "等待鉴定"}"#)),
        "POST /complaints/{id}/resume" => r(Paused, Json("{}")),
        "POST /complaints/{id}/reissue-code" => r(Submitted, Empty),
        "POST /complaints/{id}/deliveries" => r(
            Resolved,
            Json(
                r#"{"notice": "result", "channel": "post", "sent_at": "2020-01-01T00:00:00Z", "reference": "EMS-{n}"}"#,
            ),
        ),
        "POST /track/recover" => r(
            Submitted,
            Json(r#"{"tracking_no": "{no}", "contact": "someone@example.com"}"#),
        ),
        "POST /complaints/{id}/legal-hold" => {
            r(InProgress, Json(r#"{"hold": true, "reason": "诉讼中"}"#))
        }
        "POST /complaints/{id}/links" => r(InProgress, Json(r#"{"other": "{other_id}"}"#)),
        "POST /complaints/{id}/merge" => r(InProgress, Json(r#"{"into": "{other_no}"}"#)),
        "POST /complaints/{id}/decide" => r(
            InProgress,
            Json(
                r#"{"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将退款。", "remedies": [], "sanctions": [], "actions": []}"#,
            ),
        ),
        "POST /complaints/{id}/actions/{action_id}/complete" => {
            r(Resolved, Json(r#"{"note": "已完成"}"#))
        }
        "PATCH /complaints/{id}/actions/{action_id}" => {
            r(Resolved, Json(r#"{"due_at": "2099-06-30T16:00:00Z"}"#))
        }
        "POST /complaints/{id}/review" => r(
            UnderReview,
            Json(r#"{"result": "upheld", "basis": ["平台服务协议 5.2"], "reply": "维持原结果。"}"#),
        ),
        "POST /complaints/{id}/evidence" => r(InProgress, Upload),
        "POST /mail/held/{id}/attach" => r(Submitted, Json(r#"{"case": "{no}"}"#)),
        "POST /respondent/complaints/{id}/messages" => {
            r(InProgress, Json(r#"{"body": "我方已退款 {n}"}"#))
        }
        "POST /respondent/complaints/{id}/evidence" => r(InProgress, Upload),
        "POST /test-clock/advance" => r(None, Json(r#"{"seconds": 1}"#)),
        "GET /track/{tracking_no}" => r(Submitted, Empty),
        "GET /track/{tracking_no}/export" => r(Submitted, Empty),
        "GET /track/{tracking_no}/evidence/{evidence_id}" => r(InProgress, Empty),
        // An open case: the supervisor's call passes the checks of the
        // caller and is refused by the state (409, `allow`).
        "POST /complaints/{id}/erase" => r(InProgress, Json(r#"{"reason": "本人申请删除"}"#)),
        "POST /track/{tracking_no}/supplement" => {
            r(NeedsInfo, Json(r#"{"message": "截图已补充"}"#))
        }
        "POST /track/{tracking_no}/messages" => r(InProgress, Json(r#"{"body": "补充说明 {n}"}"#)),
        "POST /track/{tracking_no}/appeal" => r(Resolved, Json(r#"{"reason": "金额不对"}"#)),
        "POST /track/{tracking_no}/withdraw" => r(Submitted, Json(r#"{"reason": "已解决"}"#)),
        "POST /track/{tracking_no}/feedback" => r(Resolved, Json(r#"{"score": 4}"#)),
        "POST /track/{tracking_no}/evidence" => r(Submitted, Upload),
        "POST /webhooks" => r(
            None,
            Json(r#"{"url": "http://127.0.0.1:9/hook-{n}", "events": ["registered"]}"#),
        ),
        "PATCH /webhooks/{id}" => r(None, Json(r#"{"active": false}"#)),
        // Every channel stays on: the matrix's other cells file on `web`.
        "PUT /admin/settings/channels" => r(
            None,
            Json(
                r#"{"hotline": "400-800-{n}", "enabled": ["web", "api", "chat", "email", "phone", "letter", "in_person"]}"#,
            ),
        ),
        "PUT /admin/calendar/feed" => {
            r(None, Json(r#"{"url": "http://127.0.0.1:9/feed-{n}.ics"}"#))
        }
        "POST /mail/held/{id}/discard" => r(None, Json("{}")),
        "POST /webhooks/calls/{call_id}/replay" => r(None, Json("{}")),
        // Reads and anything not named: no body; a case if the path names one.
        _ => r(
            if op.contains("/complaints/{id}") {
                InProgress
            } else {
                None
            },
            Empty,
        ),
    }
}

/// What the whole matrix shares: the staff, the respondents, another case.
struct World {
    tokens: BTreeMap<&'static str, String>,
    respondent: String,
    other_respondent: String,
    other_complainant: String,
    call_id: String,
}

/// Files a case and brings it to `state`; answers it and its open
/// corrective action (when decided).
async fn case_in(t: &TestApp, w: &World, n: u32, state: State) -> (Filed, String) {
    let f = t.filed(n).await;
    let act = |path: &str, who: &str, body: Value| {
        let (path, who) = (format!("/complaints/{}/{path}", f.id), who.to_string());
        async move { t.post(&path, Some(&who), body).await.expect(200) }
    };
    let mut action = String::new();
    if state == State::NeedsInfo {
        act(
            "request-info",
            &w.tokens["intake"],
            json!({"items": ["订单截图"]}),
        )
        .await;
    }
    if matches!(
        state,
        State::InProgress | State::Paused | State::Resolved | State::UnderReview
    ) {
        act(
            "accept",
            &w.tokens["intake"],
            json!({"category": "refunds-returns", "department": "customer-service"}),
        )
        .await;
    }
    if state == State::Paused {
        act("pause", &w.tokens["handler"], json!({"reason": "等待鉴定"})).await;
    }
    if matches!(state, State::Resolved | State::UnderReview) {
        let case = act(
            "decide",
            &w.tokens["handler"],
            json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将退款。",
                   "actions": [{"description": "商家整改商品页面"}]}),
        )
        .await;
        action = case["actions"][0]["id"].as_str().unwrap().to_string();
    }
    if state == State::UnderReview {
        t.post(
            &format!("/track/{}/appeal", f.no),
            Some(&f.token),
            json!({"reason": "金额不对"}),
        )
        .await
        .expect(200);
    }
    (f, action)
}

async fn world(t: &TestApp) -> World {
    let c = t.cast().await;
    let other_handler = t
        .staff("handler2", &["handler"], &["trust-safety"], 1)
        .await;
    let mut tokens = BTreeMap::new();
    tokens.insert("intake", c.intake);
    tokens.insert("handler", c.handler);
    tokens.insert("reviewer", c.reviewer);
    tokens.insert("super", c.supervisor);
    tokens.insert("o-handler", other_handler);
    tokens.insert("admin", t.admin.clone());
    let respondent = t.respondent("merchant", "shop-1").await;
    let other_respondent = t.respondent("merchant", "shop-other").await;
    // A webhook call to replay: a subscription to a closed port, one event.
    t.post(
        "/webhooks",
        Some(&tokens["super"]),
        json!({"url": "http://127.0.0.1:9/matrix", "events": ["registered"]}),
    )
    .await
    .expect(201);
    let mut other = complaint(9_999);
    other["respondent"] = json!({"kind": "merchant", "id": "shop-9", "name": "别店"});
    let other = t.file(other).await;
    t.app.deliver_webhooks().await.unwrap();
    let hooks = t.get("/webhooks", Some(&tokens["super"])).await.expect(200);
    let hook = hooks["items"][0]["id"].as_str().unwrap().to_string();
    let calls = t
        .get(&format!("/webhooks/{hook}/calls"), Some(&tokens["super"]))
        .await
        .expect(200);
    let call_id = calls["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no webhook call: {calls}"))
        .to_string();
    World {
        tokens,
        respondent,
        other_respondent,
        other_complainant: other["access_token"].as_str().unwrap().into(),
        call_id,
    }
}

/// A held mail (a stranger writing about a case), its id.
async fn held_mail(t: &TestApp, n: u32, no: &str) -> String {
    let raw = format!(
        "From: stranger{n}@example.org\r\nTo: complaints@example.com\r\nSubject: about {no}\r\n\
         Message-ID: <matrix-{n}@example.org>\r\nDate: Sun, 29 Nov 2026 10:00:00 +0800\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello {n}\r\n"
    );
    let envelope = redress_app::mail::Envelope {
        mail_from: Some(format!("stranger{n}@example.org")),
        rcpt_to: vec!["complaints@example.com".into()],
    };
    match t.app.receive_mail(&envelope, raw.as_bytes()).await.unwrap() {
        redress_app::mail::Disposition::Held { id } => id.to_string(),
        other => panic!("the mail was not held: {other:?}"),
    }
}

/// The path parameters of one cell: objects made for it.
async fn fill(t: &TestApp, w: &World, op: &str, n: u32, case: &Filed, action: &str) -> String {
    let path = op.split_once(' ').unwrap().1.to_string();
    let admin = w.tokens["admin"].as_str();
    let sup = w.tokens["super"].as_str();
    let id = if path.starts_with("/admin/api-keys/") {
        let k = t
            .post(
                "/admin/api-keys",
                Some(admin),
                json!({"name": format!("revocable {n}"), "scopes": ["intake"]}),
            )
            .await
            .expect(201);
        k["id"].as_str().unwrap().to_string()
    } else if path.starts_with("/admin/canned-replies/") {
        let r = t
            .post(
                "/admin/canned-replies",
                Some(admin),
                json!({"title": format!("canned {n}"), "body": "text", "locale": "en"}),
            )
            .await
            .expect(201);
        r["id"].as_str().unwrap().to_string()
    } else if path.starts_with("/admin/respondents/") {
        let r = t
            .post(
                "/admin/respondents",
                Some(admin),
                json!({"kind": "user", "id": format!("u-{n}"), "name": format!("User {n}")}),
            )
            .await
            .expect(201);
        r["id"].as_str().unwrap().to_string()
    } else if path.starts_with("/mail/held/") {
        held_mail(t, n, &case.no).await
    } else if path.starts_with("/webhooks/{id}") {
        let h = t
            .post(
                "/webhooks",
                Some(sup),
                json!({"url": format!("http://127.0.0.1:9/cell-{n}"), "events": ["registered"]}),
            )
            .await
            .expect(201);
        h["id"].as_str().unwrap().to_string()
    } else {
        case.id.clone()
    };
    let mut path = path.replace("{id}", &id);
    if path.contains("{username}") {
        let user = format!("target{n}");
        t.post(
            "/admin/users",
            Some(admin),
            json!({"username": user, "password": PASSWORD, "display_name": user,
                   "roles": ["intake"], "departments": [], "level": 1}),
        )
        .await
        .expect(201);
        path = path.replace("{username}", &user);
    }
    if path.starts_with("/admin/calendar/feed") {
        // A subscription, so that a removal or a fetch has one (on a
        // closed port: the fetch fails at once).
        t.call(
            "PUT",
            "/admin/calendar/feed",
            Some(admin),
            Some(json!({"url": format!("http://127.0.0.1:9/feed-{n}.ics")})),
        )
        .await
        .expect(200);
    }
    if path.contains("{kind}") {
        // A customised template, so that a delete has something to remove.
        t.call(
            "PUT",
            "/admin/notice-templates/acknowledgement/en",
            Some(admin),
            Some(json!({"subject": "Received {{ tracking_no }}", "body": "Body", "sms": "SMS"})),
        )
        .await
        .expect(200);
    }
    if path.contains("{evidence_id}") {
        // A staff file shared with both parties: each of them may open it.
        // A picture where its thumbnail is asked for.
        let (name, bytes) = if path.ends_with("/thumbnail") {
            (format!("matrix-{n}.png"), PNG_1X1.to_vec())
        } else {
            (
                format!("matrix-{n}.txt"),
                format!("matrix file {n}").into_bytes(),
            )
        };
        let up = t
            .upload_with(
                &format!("/complaints/{}/evidence", case.id),
                Some(w.tokens["handler"].as_str()),
                &[("share", "complainant,respondent")],
                &name,
                &bytes,
            )
            .await
            .expect(200);
        let evidence = up["evidence"].as_array().unwrap().last().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        path = path.replace("{evidence_id}", &evidence);
    }
    if path.starts_with("/admin/departments/") {
        path = path.replace("{code}", "customer-service");
    }
    path.replace("{tracking_no}", &case.no)
        .replace("{action_id}", action)
        .replace("{call_id}", &w.call_id)
        .replace("{code}", "delivery")
        .replace("{kind}", "acknowledgement")
        .replace("{locale}", "en")
        .replace("{date}", "2027-05-06")
        .replace("{year}", "2026")
}

/// `allow`, `deny`, or the status itself when it belongs to neither class.
fn class(status: u16) -> String {
    match status {
        200..=299 | 400 | 409 | 413 | 422 => "allow".into(),
        401 | 403 | 404 => "deny".into(),
        other => other.to_string(),
    }
}

struct Row {
    op: String,
    cells: Vec<String>,
}

fn table() -> Vec<Row> {
    let mut rows = Vec::new();
    for line in TABLE.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            words.len(),
            2 + CALLERS.len(),
            "access_matrix.txt: a row needs a method, a path and {} cells: {line}",
            CALLERS.len()
        );
        for cell in &words[2..] {
            assert!(
                *cell == "allow" || *cell == "deny",
                "access_matrix.txt: {cell:?} is neither allow nor deny: {line}"
            );
        }
        rows.push(Row {
            op: format!("{} {}", words[0], words[1]),
            cells: words[2..].iter().map(|s| s.to_string()).collect(),
        });
    }
    rows
}

/// The operations of the served API document, as `METHOD /path` below `/api/v1`.
async fn operations(t: &TestApp) -> BTreeSet<String> {
    let doc = t.get("/api/openapi.json", None).await.expect(200);
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let path = path
            .strip_prefix("/api/v1")
            .unwrap_or_else(|| panic!("{path} is not under /api/v1"));
        for method in [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ] {
            if item.get(method).is_some() {
                ops.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    ops
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

async fn call(
    t: &TestApp,
    method: &str,
    uri: &str,
    token: Option<&str>,
    payload: &Payload,
    n: u32,
    subst: &[(&str, &str)],
) -> u16 {
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(format!("/api/v1{uri}"));
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let body = match payload {
        Payload::Empty => Body::empty(),
        Payload::Json(text) => {
            let mut text = text.replace("{n}", &n.to_string());
            for (k, v) in subst {
                text = text.replace(k, v);
            }
            req = req.header("content-type", "application/json");
            Body::from(text)
        }
        Payload::Upload => {
            let boundary = "matrix-boundary-4f1c2b";
            let mut body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"receipt-{n}.pdf\"\r\n\
                 Content-Type: application/pdf\r\n\r\n"
            )
            .into_bytes();
            body.extend_from_slice(PDF);
            body.extend_from_slice(format!("{n}\r\n--{boundary}--\r\n").as_bytes());
            req = req.header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            );
            Body::from(body)
        }
        Payload::Calendar => {
            req = req.header("content-type", "text/calendar");
            Body::from(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//matrix//EN\r\nBEGIN:VEVENT\r\nUID:m\r\n\
                 DTSTAMP:20270101T000000Z\r\nDTSTART;VALUE=DATE:20270510\r\nSUMMARY:matrix\r\n\
                 END:VEVENT\r\nEND:VCALENDAR\r\n",
            )
        }
    };
    t.send(req.body(body).unwrap()).await.status.as_u16()
}

async fn every_operation_answers_each_caller_as_the_table_says() {
    let t = TestApp::new().await;
    let rows = table();
    let ops = operations(&t).await;
    let listed: BTreeSet<String> = rows.iter().map(|r| r.op.clone()).collect();
    let unlisted: Vec<&String> = ops.difference(&listed).collect();
    let gone: Vec<&String> = listed.difference(&ops).collect();
    assert!(
        unlisted.is_empty(),
        "operations without a row in access_matrix.txt (decide who may call them): {unlisted:?}"
    );
    assert!(
        gone.is_empty(),
        "rows in access_matrix.txt for operations the API no longer has: {gone:?}"
    );
    assert_eq!(
        rows.len(),
        listed.len(),
        "a row appears twice in access_matrix.txt"
    );

    let w = world(&t).await;
    let print = std::env::var("REDRESS_MATRIX_PRINT").is_ok_and(|v| v == "1");
    let mut n = 0;
    let mut wrong = Vec::new();
    for row in &rows {
        let r = recipe(&row.op);
        let (method, _) = row.op.split_once(' ').unwrap();
        let mut seen = Vec::new();
        for (i, (caller, column)) in CALLERS.iter().enumerate() {
            n += 1;
            let (case, action) = if r.state != State::None || row.op.contains("/mail/held/") {
                case_in(
                    &t,
                    &w,
                    n,
                    if r.state == State::None {
                        State::Submitted
                    } else {
                        r.state
                    },
                )
                .await
            } else {
                (
                    Filed {
                        id: String::new(),
                        no: String::new(),
                        token: String::new(),
                    },
                    String::new(),
                )
            };
            // The case a link or merge names, one the caller can see (in
            // their department), so that only the case acted on decides.
            let other = if row.op.ends_with("/links") || row.op.ends_with("/merge") {
                let o = t.filed(100_000 + n).await;
                let category = match caller {
                    Caller::OtherHandler => "account-security",
                    _ => "refunds-returns",
                };
                t.act(
                    &o.id,
                    "accept",
                    &w.tokens["intake"],
                    json!({ "category": category }),
                )
                .await;
                Some(o)
            } else {
                None
            };
            let uri = format!(
                "{}{}",
                fill(&t, &w, &row.op, n, &case, &action).await,
                r.query
            );
            let token = match caller {
                _ if r.fresh_caller && caller.staff().is_some() => {
                    let (roles, departments, level) = caller.staff().unwrap();
                    Some(
                        t.staff(&format!("fresh{n}"), roles, departments, level)
                            .await,
                    )
                }
                Caller::Anonymous => None,
                Caller::Complainant => Some(case.token.clone()),
                Caller::OtherComplainant => Some(w.other_complainant.clone()),
                Caller::Respondent => Some(w.respondent.clone()),
                Caller::OtherRespondent => Some(w.other_respondent.clone()),
                _ => Some(w.tokens[column].clone()),
            };
            let (other_id, other_no) = other
                .as_ref()
                .map(|o| (o.id.as_str(), o.no.as_str()))
                .unwrap_or(("", ""));
            let subst = [
                ("{other_id}", other_id),
                ("{other_no}", other_no),
                ("{no}", case.no.as_str()),
            ];
            let status = call(&t, method, &uri, token.as_deref(), &r.payload, n, &subst).await;
            let got = class(status);
            if got != row.cells[i] {
                wrong.push(format!(
                    "{:<55} as {column:<9}: expected {}, got {status} ({got})",
                    row.op, row.cells[i]
                ));
            }
            seen.push(got);
        }
        if print {
            let (m, p) = row.op.split_once(' ').unwrap();
            println!(
                "{m:<7}{p:<52}{}",
                seen.iter()
                    .map(|c| format!("{c:<10}"))
                    .collect::<String>()
                    .trim_end()
            );
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells of the authorization matrix differ from access_matrix.txt:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

tests![every_operation_answers_each_caller_as_the_table_says];

/// A real 2 × 2 PNG (a thumbnail is made of it).
const PNG_1X1: &[u8] = b"\x89PNG\x0d\x0a\x1a\x0a\x00\x00\x00\x0dIHDR\x00\x00\x00\x02\x00\x00\x00\x02\x08\x02\x00\x00\x00\xfd\xd4\x9as\x00\x00\x00\x10IDATx\x9cc8!'\x07D\x0c\x10\x0a\x00\x1f&\x04\x11\xa2\x8f\x22\xaf\x00\x00\x00\x00IEND\xaeB`\x82";
