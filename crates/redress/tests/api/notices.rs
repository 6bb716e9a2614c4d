//! Notices that leave the system (SPEC §7): e-mail through a real SMTP
//! relay (the project's own receiver, started by each test as a sink), SMS
//! through an HTTP gateway and notices to the platform's users through its
//! signed notice webhook (local receivers). Each delivery is queued with
//! the transition, sent by the sweep, recorded with its status and the
//! provider's id, and sent once — across restarts and a dead relay.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

/// An SMTP server for notices to land in: the receiver of
/// `redress-channels` with a handler that keeps every message in memory.
/// lettre (the relay client) speaks real SMTP to it; the receiver itself is
/// tested against Python's smtplib and lettre in `redress-channels`.
pub struct MailSink {
    got: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub port: u16,
}

/// A free local port (nothing listens on it when this returns).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One received message, parsed.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub message_id: String,
    pub headers: Vec<(String, String)>,
    /// Attached files: name, type, bytes.
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Keep(Arc<Mutex<Vec<Vec<u8>>>>);

#[async_trait::async_trait]
impl redress_channels::smtp::MailHandler for Keep {
    async fn deliver(
        &self,
        _: redress_channels::smtp::Envelope,
        message: Vec<u8>,
    ) -> redress_channels::smtp::Verdict {
        let mut got = self.0.lock().unwrap();
        got.push(message);
        redress_channels::smtp::Verdict::Accepted {
            id: format!("sink-{}", got.len()),
        }
    }
}

impl MailSink {
    /// Listens on `port` (inside the test's runtime).
    pub fn start(port: u16) -> MailSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let server = redress_channels::smtp::SmtpServer::new(
            redress_channels::smtp::SmtpSettings {
                hostname: "sink.example.com".into(),
                per_sender_per_minute: 0,
                ..Default::default()
            },
            Arc::new(Keep(got.clone())),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.serve(listener, async move {
            let _ = stopped.await;
        }));
        MailSink {
            got,
            stop: Some(stop),
            port,
        }
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|raw| parse(raw))
            .collect()
    }

    /// Waits (a little) until `n` messages arrived, and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..100 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.messages()
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn parse(raw: &[u8]) -> Received {
    use mail_parser::MimeHeaders;
    let m = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a parsable message");
    Received {
        to: m
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string(),
        subject: m.subject().unwrap_or_default().to_string(),
        body: m.body_text(0).unwrap_or_default().to_string(),
        message_id: m.message_id().unwrap_or_default().to_string(),
        headers: m
            .headers_raw()
            .map(|(n, v)| (n.to_string(), v.trim().to_string()))
            .collect(),
        attachments: m
            .attachments()
            .map(|a| {
                let ct = a
                    .content_type()
                    .map(|t| format!("{}/{}", t.ctype(), t.subtype().unwrap_or_default()))
                    .unwrap_or_default();
                (
                    a.attachment_name().unwrap_or_default().to_string(),
                    ct,
                    a.contents().to_vec(),
                )
            })
            .collect(),
    }
}

pub(crate) const PUBLIC: &str = "https://complaints.example.com";

pub(crate) async fn with_relay(port: u16) -> TestApp {
    TestApp::with(|c| {
        c.smtp_relay = Some(format!("smtp://127.0.0.1:{port}"));
        c.public_url = Some(PUBLIC.into());
        c.mail_from = Some("投诉处理 <complaints@example.com>".into());
    })
    .await
}

fn deliveries<'a>(case: &'a Value, channel: &str) -> Vec<&'a Value> {
    case["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["channel"] == channel)
        .collect()
}

async fn staff_case(t: &TestApp, viewer: &str, id: &str) -> Value {
    t.case(&id, viewer).await
}

/// A supervisor, who reads every case (admins do not read cases).
async fn viewer(t: &TestApp) -> String {
    t.staff("viewer", &["supervisor"], &[], 1).await
}

async fn acknowledgement_goes_by_email_in_the_complainants_language() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let v = viewer(&t).await;
    let mut en = complaint(1);
    en["locale"] = json!("en");
    en["complainant"]["phone"] = Value::Null;
    let filed = t.file(en).await;
    let id = filed["id"].as_str().unwrap();
    let no = filed["tracking_no"].as_str().unwrap();
    // Queued with the registration, in the same save.
    let case = staff_case(&t, &v, id).await;
    let email = deliveries(&case, "email");
    assert_eq!(email.len(), 1, "{case}");
    assert_eq!(email[0]["status"], "queued");
    assert_eq!(email[0]["notice"], "acknowledgement");
    assert_eq!(email[0]["recipient"], "z***@example.com");
    assert_eq!(deliveries(&case, "in_app").len(), 1);

    t.app.sweep().await.unwrap();
    let got = sink.wait_for(1).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.to, "zhang1@example.com");
    assert!(
        m.subject.contains(no) && m.subject.starts_with("We have received"),
        "{m:?}"
    );
    assert!(
        m.body.contains(&format!("{PUBLIC}/track/{no}")),
        "{}",
        m.body
    );
    assert_eq!(m.header("Content-Language"), Some("en"));
    assert_eq!(m.header("Auto-Submitted"), Some("auto-generated"));

    let case = staff_case(&t, &v, id).await;
    let d = deliveries(&case, "email")[0];
    assert_eq!(d["status"], "sent");
    assert!(d["sent_at"].is_string());
    assert_eq!(d["attempts"], 1);
    let provider = d["provider_id"].as_str().unwrap();
    assert!(
        provider.contains(&m.message_id),
        "{provider} vs {}",
        m.message_id
    );
    assert!(event_kinds(&case).contains(&"delivery_sent".to_string()));

    // A second sweep, and a restart, send nothing again.
    let mut t = t;
    t.app.sweep().await.unwrap();
    t.restart().await;
    t.app.sweep().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.messages().len(), 1);

    // Chinese by default.
    let zh = t.file(complaint(2)).await;
    t.app.sweep().await.unwrap();
    let got = sink.wait_for(2).await;
    let m = got.iter().find(|m| m.to == "zhang2@example.com").unwrap();
    assert!(m.subject.starts_with("您的投诉已收到"), "{m:?}");
    assert!(m.body.contains(zh["tracking_no"].as_str().unwrap()));
    assert_eq!(m.header("Content-Language"), Some("zh-CN"));
    // Nobody checked that the address is the filer's: the acknowledgement
    // repeats nothing the filer typed.
    let typed = complaint(2);
    for field in ["subject", "description"] {
        let text = typed[field].as_str().unwrap();
        assert!(
            !m.body.contains(text) && !m.subject.contains(text),
            "{field}: {m:?}"
        );
    }
    assert!(
        !m.body
            .contains(typed["complainant"]["name"].as_str().unwrap()),
        "{m:?}"
    );
}

async fn the_result_notice_carries_outcome_basis_and_reply() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let v = viewer(&t).await;
    let c = t.cast().await;
    let filed = t.file(complaint(3)).await;
    let id = filed["id"].as_str().unwrap().to_string();
    let token = filed["access_token"].as_str().unwrap().to_string();
    let no = filed["tracking_no"].as_str().unwrap().to_string();
    t.act(
        &id,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    t.act(&id, "decide", &c.handler, json!({"outcome": "partially_upheld", "basis": ["平台服务协议 5.2", "《消费者权益保护法》第二十四条"],
               "reply": "商家退还一半货款。", "remedies": [{"kind": "refund", "amount": 50.0}]})).await;
    t.app.sweep().await.unwrap();
    let got = sink.wait_for(3).await;
    let result = got
        .iter()
        .find(|m| m.subject.starts_with("您的投诉处理结果"))
        .unwrap_or_else(|| panic!("no result mail in {got:?}"));
    for part in [
        "投诉部分成立",
        "平台服务协议 5.2",
        "《消费者权益保护法》第二十四条",
        "商家退还一半货款。",
        "refund (50.00 CNY)",
        &format!("{PUBLIC}/track/{no}"),
    ] {
        assert!(
            result.body.contains(part),
            "{part:?} missing in {}",
            result.body
        );
    }
    // Appeal and review: the final notice names the outside remedies.
    t.post(
        &format!("/track/{no}/appeal"),
        Some(&token),
        json!({"reason": "金额不对"}),
    )
    .await
    .expect(200);
    t.act(
        &id,
        "review",
        &c.reviewer,
        json!({"result": "upheld", "basis": ["复核规则 1"], "reply": "维持原结果。"}),
    )
    .await;
    t.app.sweep().await.unwrap();
    let got = sink.wait_for(5).await;
    let review = got
        .iter()
        .find(|m| m.subject.starts_with("您的复核申请结果"))
        .unwrap_or_else(|| panic!("no review mail in {got:?}"));
    assert!(review.body.contains("12315"), "{}", review.body);
    assert!(review.body.contains("维持原结果。") && review.body.contains("复核规则 1"));
    // One mail per notice, each once.
    let case = staff_case(&t, &v, &id).await;
    let sent = deliveries(&case, "email");
    assert!(sent.iter().all(|d| d["status"] == "sent"), "{sent:?}");
    assert_eq!(sent.len(), got.len());
}

async fn a_dead_relay_leaves_deliveries_queued_then_sends_once() {
    let port = free_port();
    let t = with_relay(port).await;
    let v = viewer(&t).await;
    let filed = t.file(complaint(4)).await;
    let id = filed["id"].as_str().unwrap();
    // Nothing listens: the attempt fails and is retried later.
    t.app.sweep().await.unwrap();
    let case = staff_case(&t, &v, id).await;
    let d = deliveries(&case, "email")[0].clone();
    assert_eq!(d["status"], "queued");
    assert_eq!(d["attempts"], 1);
    assert!(
        d["last_error"].is_string() && d["next_attempt_at"].is_string(),
        "{d}"
    );
    // Not before its time.
    t.app.sweep().await.unwrap();
    assert_eq!(
        deliveries(&staff_case(&t, &v, id).await, "email")[0]["attempts"],
        1
    );
    // Still dead after the first back-off: a second attempt, a longer wait.
    t.advance(31).await;
    let d2 = deliveries(&staff_case(&t, &v, id).await, "email")[0].clone();
    assert_eq!(d2["attempts"], 2);
    assert_eq!(d2["status"], "queued");
    // The relay comes back; the next attempt sends it, once.
    let sink = MailSink::start(port);
    t.advance(61).await;
    let got = sink.wait_for(1).await;
    assert_eq!(got.len(), 1);
    let d3 = deliveries(&staff_case(&t, &v, id).await, "email")[0].clone();
    assert_eq!(d3["status"], "sent");
    assert_eq!(d3["attempts"], 3);
    assert!(d3.get("last_error").is_none(), "{d3}");
    t.advance(3600).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.messages().len(), 1);
    let kinds = event_kinds(&staff_case(&t, &v, id).await);
    assert_eq!(kinds.iter().filter(|k| *k == "delivery_retry").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "delivery_sent").count(), 1);
}

async fn a_delivery_failing_for_two_days_is_given_up() {
    let port = free_port();
    let t = with_relay(port).await;
    let v = viewer(&t).await;
    let filed = t.file(complaint(5)).await;
    let id = filed["id"].as_str().unwrap();
    for _ in 0..60 {
        t.advance(3600).await;
    }
    let d = deliveries(&staff_case(&t, &v, id).await, "email")[0].clone();
    assert_eq!(d["status"], "failed", "{d}");
    assert!(d["last_error"].is_string());
    let kinds = event_kinds(&staff_case(&t, &v, id).await);
    assert_eq!(kinds.iter().filter(|k| *k == "delivery_failed").count(), 1);
}

async fn without_a_relay_notices_are_in_app_only() {
    let t = TestApp::new().await;
    let v = viewer(&t).await;
    let filed = t.file(complaint(6)).await;
    let case = staff_case(&t, &v, filed["id"].as_str().unwrap()).await;
    let channels: Vec<&str> = case["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["in_app"]);
}

/// What the gateway got: the `Authorization` header and the JSON body.
type Post = (Option<String>, Value);

/// A local SMS gateway: answers each post with the next scripted status.
#[derive(Clone, Default)]
struct Gateway {
    posts: Arc<Mutex<Vec<Post>>>,
    script: Arc<Mutex<Vec<u16>>>,
}

async fn start_gateway(script: Vec<u16>) -> (Gateway, String) {
    use axum::{Json, Router, extract::State, http::HeaderMap, http::StatusCode, routing::post};
    let gw = Gateway {
        posts: Arc::default(),
        script: Arc::new(Mutex::new(script)),
    };
    async fn sms(
        State(gw): State<Gateway>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        let auth = headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string());
        let n = {
            let mut posts = gw.posts.lock().unwrap();
            posts.push((auth, body));
            posts.len()
        };
        let status = {
            let mut s = gw.script.lock().unwrap();
            if s.is_empty() { 200 } else { s.remove(0) }
        };
        (
            StatusCode::from_u16(status).unwrap(),
            Json(json!({"message_id": format!("gw-{n}")})),
        )
    }
    let app = Router::new()
        .route("/sms", post(sms))
        .with_state(gw.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (gw, url)
}

async fn sms_goes_through_the_gateway_with_retries() {
    let (gw, url) = start_gateway(vec![503, 200, 400]).await;
    let t = TestApp::with(|c| {
        c.sms = "http".into();
        c.sms_endpoint = Some(url.clone());
        c.sms_token = Some("gw-secret".into());
        c.public_url = Some(PUBLIC.into());
    })
    .await;
    let v = viewer(&t).await;
    let mut body = complaint(7);
    body["complainant"]["email"] = Value::Null;
    let filed = t.file(body).await;
    let id = filed["id"].as_str().unwrap();
    let no = filed["tracking_no"].as_str().unwrap();
    // 503: kept and retried.
    t.app.sweep().await.unwrap();
    let d = deliveries(&staff_case(&t, &v, id).await, "sms")[0].clone();
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_u64()),
        (Some("queued"), Some(1))
    );
    assert_eq!(d["recipient"], "138****5678");
    t.advance(31).await;
    let d = deliveries(&staff_case(&t, &v, id).await, "sms")[0].clone();
    assert_eq!(d["status"], "sent");
    assert_eq!(d["provider_id"], "gw-2");
    {
        let posts = gw.posts.lock().unwrap();
        assert_eq!(posts.len(), 2);
        let (auth, sms) = &posts[1];
        assert_eq!(auth.as_deref(), Some("Bearer gw-secret"));
        assert_eq!(sms["to"], "13812345678");
        assert_eq!(sms["id"], d["id"]);
        assert!(sms["text"].as_str().unwrap().contains(no), "{sms}");
    }
    // A 400 is final: the next notice fails at once, without retries.
    let c = t.cast().await;
    t.act(
        &id,
        "reject",
        &c.intake,
        json!({"reason": "不属于平台受理范围", "guidance": "请向物流公司投诉"}),
    )
    .await;
    t.app.sweep().await.unwrap();
    let case = staff_case(&t, &v, id).await;
    let refusal = deliveries(&case, "sms")
        .into_iter()
        .find(|d| d["notice"] == "refusal")
        .unwrap()
        .clone();
    assert_eq!(refusal["status"], "failed");
    assert_eq!(refusal["attempts"], 1);
    t.advance(3600).await;
    assert_eq!(gw.posts.lock().unwrap().len(), 3);
}

/// SMS go only to the country prefixes the installation allows (`+86` by
/// default; a number without `+` is a mainland number): a number abroad
/// fails at once, nothing is posted for it.
async fn sms_goes_only_to_allowed_country_prefixes() {
    let (gw, url) = start_gateway(vec![]).await;
    let t = TestApp::with(|c| {
        c.sms = "http".into();
        c.sms_endpoint = Some(url.clone());
        c.public_url = Some(PUBLIC.into());
    })
    .await;
    let v = viewer(&t).await;
    let mut sent = Vec::new();
    for (i, phone) in ["+1 202 555 0100", "+86 138 1234 5678", "13912345678"]
        .iter()
        .enumerate()
    {
        let mut body = complaint(20 + i as u32);
        body["complainant"]["email"] = Value::Null;
        body["complainant"]["phone"] = json!(phone);
        sent.push(t.file(body).await["id"].as_str().unwrap().to_string());
    }
    t.app.sweep().await.unwrap();
    let status = |case: &Value| deliveries(case, "sms")[0]["status"].clone();
    let abroad = staff_case(&t, &v, &sent[0]).await;
    assert_eq!(status(&abroad), "failed", "{abroad}");
    assert!(
        deliveries(&abroad, "sms")[0]["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("sms_prefixes")
            || abroad.to_string().contains("sms_prefixes"),
        "{abroad}"
    );
    for id in &sent[1..] {
        assert_eq!(status(&staff_case(&t, &v, id).await), "sent");
    }
    let posts = gw.posts.lock().unwrap();
    assert_eq!(posts.len(), 2, "nothing posted for the number abroad");
    assert!(
        posts
            .iter()
            .all(|(_, p)| !p["to"].as_str().unwrap().contains("202"))
    );
}

/// Beyond the hourly cap, notices wait in the queue (no attempt counted,
/// never dropped) and go out the next hour; supervisors are alerted once.
async fn the_hourly_cap_defers_notices_and_alerts_supervisors() {
    let sink = MailSink::start(free_port());
    let t = TestApp::with(|c| {
        c.smtp_relay = Some(format!("smtp://127.0.0.1:{}", sink.port));
        c.public_url = Some(PUBLIC.into());
        c.mail_from = Some("complaints@example.com".into());
        c.outbound_per_hour = 2;
    })
    .await;
    let v = t.watching_supervisor().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            t.file(complaint(30 + i)).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    t.app.sweep().await.unwrap();
    let mut queued = Vec::new();
    for id in &ids {
        let case = staff_case(&t, &v, id).await;
        let d = deliveries(&case, "email")[0].clone();
        if d["status"] == "queued" {
            assert_eq!(d["attempts"], 0, "waiting is no attempt: {d}");
            queued.push(id.clone());
        } else {
            assert_eq!(d["status"], "sent", "{d}");
        }
    }
    assert_eq!(queued.len(), 1, "two sent, one waits");
    let alert = t.get("/audit/security", Some(&v)).await.expect(200);
    assert!(
        alert["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "outbound_cap_reached"),
        "{alert}"
    );
    let mail = sink.wait_for(3).await;
    assert!(
        mail.iter()
            .any(|m| m.to == "watch@example.com" && m.subject.contains("上限")),
        "{mail:?}"
    );
    // The next hour it leaves.
    t.advance(3600).await;
    let case = staff_case(&t, &v, &queued[0]).await;
    assert_eq!(
        deliveries(&case, "email")[0]["status"],
        "sent",
        "{}",
        case["deliveries"]
    );
}

/// What the platform's notice webhook got: headers and the raw body.
#[derive(Debug, Clone)]
struct HookPost {
    event: Option<String>,
    delivery: Option<String>,
    signature: Option<String>,
    body: Vec<u8>,
}

/// A local platform endpoint: answers each post with the next scripted
/// status (then 200).
async fn start_platform(script: Vec<u16>) -> (Arc<Mutex<Vec<HookPost>>>, String) {
    use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode};
    type Shared = (Arc<Mutex<Vec<HookPost>>>, Arc<Mutex<Vec<u16>>>);
    async fn hook(State((posts, script)): State<Shared>, h: HeaderMap, body: Bytes) -> StatusCode {
        let get = |n: &str| h.get(n).map(|v| v.to_str().unwrap().to_string());
        posts.lock().unwrap().push(HookPost {
            event: get("redress-event"),
            delivery: get("redress-delivery"),
            signature: get("redress-signature"),
            body: body.to_vec(),
        });
        let mut s = script.lock().unwrap();
        StatusCode::from_u16(if s.is_empty() { 200 } else { s.remove(0) }).unwrap()
    }
    let posts: Arc<Mutex<Vec<HookPost>>> = Arc::default();
    let app = Router::new()
        .route("/notices", axum::routing::post(hook))
        .with_state((posts.clone(), Arc::new(Mutex::new(script))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notices", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (posts, url)
}

async fn notices_reach_the_platforms_users_by_signed_webhook() {
    const SECRET: &str = "notice-hook-secret-0123456789";
    let (posts, url) = start_platform(vec![503, 200, 404]).await;
    let t = TestApp::with(|c| {
        c.notice_webhook = Some(url.clone());
        c.notice_webhook_secret = Some(SECRET.into());
        c.public_url = Some(PUBLIC.into());
    })
    .await;
    let v = viewer(&t).await;
    let mut body = complaint(9);
    body["complainant"]["user_id"] = json!("u-4711");
    body["locale"] = json!("en");
    let filed = t.file(body).await;
    let id = filed["id"].as_str().unwrap();
    let no = filed["tracking_no"].as_str().unwrap();
    // 503: the platform is busy; kept and retried after the back-off.
    t.app.sweep().await.unwrap();
    let d = deliveries(&staff_case(&t, &v, id).await, "webhook")[0].clone();
    assert_eq!(
        (
            d["status"].as_str(),
            d["attempts"].as_u64(),
            d["notice"].as_str()
        ),
        (Some("queued"), Some(1), Some("acknowledgement"))
    );
    assert_eq!(d["recipient"], "user u-4711");
    t.advance(31).await;
    let d = deliveries(&staff_case(&t, &v, id).await, "webhook")[0].clone();
    assert_eq!(d["status"], "sent");
    assert!(
        d["provider_id"].as_str().unwrap().ends_with("HTTP 200"),
        "{d}"
    );
    {
        let posts = posts.lock().unwrap();
        assert_eq!(posts.len(), 2);
        let p = &posts[1];
        assert_eq!(p.event.as_deref(), Some("notice"));
        assert_eq!(p.delivery.as_deref(), d["id"].as_str());
        // Signed over timestamp and body with the configured secret; a
        // forged body does not verify.
        let now = chrono::Utc::now().timestamp();
        let sig = p.signature.as_deref().unwrap();
        let window = Duration::from_secs(300);
        assert!(redress_app::webhooks::verify_signature(
            SECRET, sig, &p.body, now, window
        ));
        assert!(!redress_app::webhooks::verify_signature(
            SECRET, sig, b"{}", now, window
        ));
        let n: Value = serde_json::from_slice(&p.body).unwrap();
        assert_eq!(n["type"], "notice");
        assert_eq!(n["user_id"], "u-4711");
        assert_eq!(n["tracking_no"], no);
        assert_eq!(n["case_id"], id);
        assert_eq!(n["notice"], "acknowledgement");
        assert_eq!(n["locale"], "en");
        assert!(n["subject"].as_str().unwrap().contains(no), "{n}");
        assert!(n["body"].as_str().unwrap().contains(no), "{n}");
    }
    // A 404 is final: the refusal's webhook delivery fails at once.
    let c = t.cast().await;
    t.act(
        &id,
        "reject",
        &c.intake,
        json!({"reason": "outside the platform's remit", "guidance": "ask the carrier"}),
    )
    .await;
    t.app.sweep().await.unwrap();
    let refusal = deliveries(&staff_case(&t, &v, id).await, "webhook")
        .into_iter()
        .find(|d| d["notice"] == "refusal")
        .unwrap()
        .clone();
    assert_eq!(
        (refusal["status"].as_str(), refusal["attempts"].as_u64()),
        (Some("failed"), Some(1))
    );
    t.advance(3600).await;
    assert_eq!(posts.lock().unwrap().len(), 3);
    // A complainant the platform does not know by id gets no webhook notice.
    let mut body = complaint(10);
    body["complainant"]["user_id"] = Value::Null;
    let other = t.file(body).await;
    t.app.sweep().await.unwrap();
    let case = staff_case(&t, &v, other["id"].as_str().unwrap()).await;
    assert!(deliveries(&case, "webhook").is_empty(), "{case}");
    assert_eq!(posts.lock().unwrap().len(), 3);
}

async fn the_complainant_sees_deliveries_without_provider_errors() {
    let port = free_port();
    let t = with_relay(port).await;
    let filed = t.file(complaint(8)).await;
    t.app.sweep().await.unwrap();
    let no = filed["tracking_no"].as_str().unwrap();
    let token = filed["access_token"].as_str().unwrap();
    let view = t
        .get(&format!("/track/{no}"), Some(token))
        .await
        .expect(200);
    let email = deliveries(&view, "email");
    assert_eq!(email.len(), 1);
    assert_eq!(email[0]["status"], "queued");
    assert!(email[0].get("last_error").is_none(), "{view}");
}

async fn deadline_alerts_reach_staff_by_email_once() {
    let sink = MailSink::start(free_port());
    let mut t = with_relay(sink.port).await;
    let c = t.cast().await;
    // handler1 gives an address; the intake agent does not.
    let user = t
        .call(
            "PATCH",
            "/admin/users/handler1",
            Some(&t.admin),
            Some(json!({"email": "Handler1@Example.com"})),
        )
        .await
        .expect(200);
    assert_eq!(user["email"], "Handler1@example.com");
    let fields = t
        .call(
            "PATCH",
            "/admin/users/intake1",
            Some(&t.admin),
            Some(json!({"email": "not an address"})),
        )
        .await
        .expect_error(422);
    assert!(fields.get("email").is_some(), "{fields}");
    let mut body = complaint(9);
    body["complainant"]["email"] = Value::Null;
    let filed = t.file(body).await;
    let id = filed["id"].as_str().unwrap().to_string();
    let no = filed["tracking_no"].as_str().unwrap().to_string();
    t.act(
        &id,
        "accept",
        &c.intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
    t.act(&id, "assign", &c.supervisor, json!({"handler": "handler1"}))
        .await;
    let due = t.case(&id, &c.supervisor).await["handling_due_at"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    // Past the deadline: the overdue reminder to the assignee (the earlier
    // shares are superseded by it) and the escalation to the supervisors.
    t.advance_to(due).await;
    t.app.sweep().await.unwrap();
    let case = staff_case(&t, &c.supervisor, &id).await;
    let to_handler = |channel: &str| -> Vec<Value> {
        case["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["party"] == "staff" && d["recipient"] == "handler1" && d["channel"] == channel
            })
            .cloned()
            .collect()
    };
    let in_app = to_handler("in_app");
    let email = to_handler("email");
    assert!(!in_app.is_empty(), "{case}");
    assert_eq!(email.len(), in_app.len(), "each alert by e-mail as well");
    assert!(email.iter().all(|d| d["status"] == "sent"), "{email:?}");
    let got = sink.wait_for(email.len()).await;
    let mails: Vec<&Received> = got
        .iter()
        .filter(|m| m.to == "Handler1@example.com")
        .collect();
    assert_eq!(mails.len(), email.len(), "{got:?}");
    assert!(mails.iter().all(|m| m.subject.contains(&no)), "{mails:?}");
    assert!(
        mails.iter().any(|m| m.subject.starts_with("期限提醒")),
        "{mails:?}"
    );
    // Mail to staff leaves for an address an admin sets: it names the case,
    // never its content.
    let typed = complaint(9);
    for m in &mails {
        for field in ["subject", "description"] {
            let text = typed[field].as_str().unwrap();
            assert!(!m.body.contains(text) && !m.subject.contains(text), "{m:?}");
        }
    }
    // Nobody else got mail: the complainant left no address.
    assert_eq!(got.len(), mails.len());
    // Once each, across a restart.
    t.restart().await;
    t.app.sweep().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.messages().len(), got.len());
}

async fn admins_reword_notices_and_can_go_back() {
    let sink = MailSink::start(free_port());
    let t = with_relay(sink.port).await;
    let c = t.cast().await;
    let list = t
        .get("/admin/notice-templates", Some(&t.admin))
        .await
        .expect(200);
    assert_eq!(list["total"], 34, "17 kinds in two languages");
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["customized"] == false)
    );
    t.get("/admin/notice-templates", Some(&c.supervisor))
        .await
        .expect_error(403);
    // A template that does not work is refused, naming the part.
    let fields = t
        .call(
            "PUT",
            "/admin/notice-templates/acknowledgement/zh-CN",
            Some(&t.admin),
            Some(json!({"subject": "ok", "body": "{{ tracking_no ", "sms": "ok"})),
        )
        .await
        .expect_error(422);
    assert!(fields.get("body").is_some(), "{fields}");
    // Nor one that would spend the sweep's time: rendering has a budget.
    let fields = t
        .call(
            "PUT",
            "/admin/notice-templates/acknowledgement/zh-CN",
            Some(&t.admin),
            Some(json!({"subject": "ok", "sms": "ok",
                        "body": "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"})),
        )
        .await
        .expect_error(422);
    assert!(fields.get("body").is_some(), "{fields}");
    let fields = t
        .call(
            "PUT",
            "/admin/notice-templates/nonsense/xx",
            Some(&t.admin),
            Some(json!({"subject": "", "body": "", "sms": ""})),
        )
        .await
        .expect_error(422);
    assert!(
        fields.get("kind").is_some() && fields.get("locale").is_some(),
        "{fields}"
    );
    let saved = t
        .call(
            "PUT",
            "/admin/notice-templates/acknowledgement/zh-CN",
            Some(&t.admin),
            Some(json!({"subject": "【测试】收到 {{ tracking_no }}",
                        "body": "自定义正文。查询：{{ tracking_url }}", "sms": "收到 {{ tracking_no }}"})),
        )
        .await
        .expect(200);
    assert_eq!(saved["customized"], true);
    let filed = t.file(complaint(11)).await;
    let no = filed["tracking_no"].as_str().unwrap();
    t.app.sweep().await.unwrap();
    let got = sink.wait_for(1).await;
    assert_eq!(got[0].subject, format!("【测试】收到 {no}"));
    assert_eq!(
        got[0].body.trim(),
        format!("自定义正文。查询：{PUBLIC}/track/{no}")
    );
    // Back to the shipped wording.
    let back = t
        .call(
            "DELETE",
            "/admin/notice-templates/acknowledgement/zh-CN",
            Some(&t.admin),
            None,
        )
        .await
        .expect(200);
    assert_eq!(back["customized"], false);
    assert!(
        back["subject"]
            .as_str()
            .unwrap()
            .starts_with("您的投诉已收到")
    );
    t.call(
        "DELETE",
        "/admin/notice-templates/acknowledgement/zh-CN",
        Some(&t.admin),
        None,
    )
    .await
    .expect_error(404);
    t.file(complaint(12)).await;
    t.app.sweep().await.unwrap();
    let got = sink.wait_for(2).await;
    assert!(got[1].subject.starts_with("您的投诉已收到"), "{:?}", got[1]);
}

/// The local (Asia/Shanghai, UTC+8) calendar date of an instant.
fn local_date(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
}

async fn decide_case(t: &TestApp, c: &Cast, id: &str) {
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
        json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将全额退款。"}),
    )
    .await;
}

/// SPEC §4: the appeal window counts from when the result reached the
/// person. The relay is down: a result mail given up leaves the window as
/// the decision set it; a result mail that gets through a day late moves
/// it to 15 days from that delivery (and says so), a later bounce does not
/// move it back, and the case closes at the new date, not the old one.
async fn the_appeal_window_counts_from_the_delayed_result_mail() {
    let port = free_port();
    let t = with_relay(port).await;
    let v = viewer(&t).await;
    let c = t.cast().await;
    let lost = t.file(complaint(6)).await;
    let lost_id = lost["id"].as_str().unwrap().to_string();
    let late = t.file(complaint(7)).await;
    let late_id = late["id"].as_str().unwrap().to_string();
    let no = late["tracking_no"].as_str().unwrap().to_string();
    let token = late["access_token"].as_str().unwrap().to_string();

    // Every delivery fails for 60 hours: the first result mail is given up.
    decide_case(&t, &c, &lost_id).await;
    let lost_due = staff_case(&t, &v, &lost_id).await["appeal_due_at"].clone();
    assert!(lost_due.is_string());
    for _ in 0..60 {
        t.advance(3600).await;
    }
    let case = staff_case(&t, &v, &lost_id).await;
    let result_mail = |case: &Value| -> Value {
        deliveries(case, "email")
            .into_iter()
            .find(|d| d["notice"] == "result" && d["party"] == "complainant")
            .unwrap_or_else(|| panic!("no result mail in {case}"))
            .clone()
    };
    assert_eq!(result_mail(&case)["status"], "failed", "{case}");
    assert_eq!(case["appeal_due_at"], lost_due, "all failed: it stays");
    assert_eq!(case["status"], "resolved");

    // The second result waits 26 hours for the relay.
    decide_case(&t, &c, &late_id).await;
    let decided = staff_case(&t, &v, &late_id).await;
    let first_due = at(&decided["appeal_due_at"]);
    let decided_at = at(&decided["decision"]["decided_at"]);
    assert_eq!(
        local_date(first_due) - local_date(decided_at),
        chrono::Duration::days(16)
    );
    for _ in 0..26 {
        t.advance(3600).await;
    }
    assert_eq!(
        at(&staff_case(&t, &v, &late_id).await["appeal_due_at"]),
        first_due,
        "not moved before it reached the person"
    );
    let sink = MailSink::start(port);
    t.advance(3600).await;
    let got = sink.wait_for(1).await;
    let mail = got
        .iter()
        .find(|m| m.subject.starts_with("您的投诉处理结果"))
        .unwrap_or_else(|| panic!("no result mail in {got:?}"));
    let case = staff_case(&t, &v, &late_id).await;
    let sent = result_mail(&case);
    assert_eq!(sent["status"], "sent", "{case}");
    let sent_at = at(&sent["sent_at"]);
    let due = at(&case["appeal_due_at"]);
    // 15 days from the delivery (to the end of the 15th local day), later
    // than the decision's.
    assert_eq!(
        local_date(due) - local_date(sent_at),
        chrono::Duration::days(16)
    );
    assert!(due > first_due, "{due} vs {first_due}");
    let event = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["kind"] == "delivery_sent"
                && e["data"]["notice"] == "result"
                && e["data"]["party"] == "complainant"
        })
        .unwrap_or_else(|| panic!("no delivery_sent in {case}"));
    assert_eq!(at(&event["data"]["previous_appeal_due_at"]), first_due);
    assert_eq!(at(&event["data"]["appeal_due_at"]), due);
    // The notice states the date computed when it was sent.
    let stated = due
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert!(mail.body.contains(&stated), "{stated} not in {}", mail.body);
    // The tracking page shows the current date.
    let track = t
        .get(&format!("/track/{no}"), Some(&token))
        .await
        .expect(200);
    assert_eq!(at(&track["appeal_due_at"]), due, "{track}");

    // A bounce of that mail comes back later: the window does not move.
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: complaints@example.com\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-7@mx.example.net>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
         --r\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n\
         --r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n\
         Final-Recipient: rfc822; zhang7@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n\
         --r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{}>\r\nSubject: x\r\n\r\n--r--\r\n",
        mail.message_id
    );
    t.app
        .receive_mail(
            &redress_app::mail::Envelope {
                mail_from: None,
                rcpt_to: vec!["complaints@example.com".into()],
            },
            dsn.as_bytes(),
        )
        .await
        .unwrap();
    let case = staff_case(&t, &v, &late_id).await;
    assert_eq!(result_mail(&case)["status"], "bounced", "{case}");
    assert_eq!(at(&case["appeal_due_at"]), due);

    // The closure sweep uses the current date: still open at the old one,
    // closed at the new one.
    t.advance_to(first_due).await;
    assert_eq!(staff_case(&t, &v, &late_id).await["status"], "resolved");
    t.advance_to(due).await;
    let case = staff_case(&t, &v, &late_id).await;
    assert_eq!(case["status"], "closed");
    assert_eq!(case["closure"], "resolved");
}

tests![
    acknowledgement_goes_by_email_in_the_complainants_language,
    the_result_notice_carries_outcome_basis_and_reply,
    a_dead_relay_leaves_deliveries_queued_then_sends_once,
    a_delivery_failing_for_two_days_is_given_up,
    without_a_relay_notices_are_in_app_only,
    sms_goes_through_the_gateway_with_retries,
    sms_goes_only_to_allowed_country_prefixes,
    the_hourly_cap_defers_notices_and_alerts_supervisors,
    notices_reach_the_platforms_users_by_signed_webhook,
    the_complainant_sees_deliveries_without_provider_errors,
    deadline_alerts_reach_staff_by_email_once,
    admins_reword_notices_and_can_go_back,
    the_appeal_window_counts_from_the_delayed_result_mail,
];
