//! Webhooks, end to end: a receiver in this process (an axum server on a
//! local port) checks every call's signature with the subscription's
//! secret and answers as each test scripts it. The dispatcher runs when the
//! test clock's advance answers (as the deadline sweep does), so retries
//! and give-up are driven by moving the clock, never by sleeping; one test
//! runs the background task itself.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri};
use hmac::{Hmac, Mac};
use redress_domain::events::is_case_event;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::harness::*;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    event: String,
    delivery: String,
    raw: Vec<u8>,
    body: Value,
    /// The signature checked out with the path's secret, within 5 minutes.
    valid: bool,
    /// What the receiver answered.
    status: u16,
}

#[derive(Default)]
struct Inner {
    /// Secret per path.
    secrets: HashMap<String, String>,
    /// Statuses to answer next, in order; 200 when none is left.
    script: VecDeque<u16>,
    got: Vec<Received>,
}

/// The platform's end of the webhooks.
#[derive(Clone, Default)]
struct Receiver {
    inner: Arc<Mutex<Inner>>,
    base: String,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let r = Receiver {
            base: format!("http://{}", listener.local_addr().unwrap()),
            ..Receiver::default()
        };
        let app = axum::Router::new()
            .fallback(axum::routing::post(receive))
            .with_state(r.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        r
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn secret(&self, path: &str, secret: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner.secrets.insert(path.into(), secret.into());
    }

    /// Answers these statuses to the next requests, in order.
    fn answer(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().script.extend(statuses);
    }

    fn got(&self) -> Vec<Received> {
        self.inner.lock().unwrap().got.clone()
    }
}

async fn receive(
    State(r): State<Receiver>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut inner = r.inner.lock().unwrap();
    let path = uri.path().to_string();
    let valid = inner
        .secrets
        .get(&path)
        .is_some_and(|s| verify(s, &headers, &body));
    let status = if valid {
        inner.script.pop_front().unwrap_or(200)
    } else {
        401
    };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    inner.got.push(Received {
        path,
        event: header("redress-event"),
        delivery: header("redress-delivery"),
        raw: body.to_vec(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        valid,
        status,
    });
    StatusCode::from_u16(status).unwrap()
}

/// What docs/webhooks.md tells a receiver to do: HMAC-SHA256 keyed with
/// the secret over "<t>.<body>", compared with `v1` in constant time, and
/// `t` no more than five minutes from now.
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(sig) = headers
        .get("redress-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let json = headers
        .get("content-type")
        .is_some_and(|v| v == "application/json");
    let mut t = None;
    let mut v1 = Vec::new();
    for part in sig.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (chrono::Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    v1.iter().any(|sig| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        mac.verify_slice(sig).is_ok()
    }) && json
}

/// Subscribes `path` of the receiver to `events`; the subscription's id.
async fn subscribe(t: &TestApp, r: &Receiver, path: &str, events: &[&str]) -> String {
    let made = t
        .post(
            "/webhooks",
            Some(&t.compliance().await),
            json!({"url": r.url(path), "events": events}),
        )
        .await
        .expect(201);
    let secret = made["secret"].as_str().unwrap();
    assert!(secret.starts_with("rdw_"), "{made}");
    r.secret(path, secret);
    made["id"].as_str().unwrap().to_string()
}

/// A subscription's calls, oldest first.
async fn log(t: &TestApp, id: &str) -> Vec<Value> {
    let page = t
        .get(
            &format!("/webhooks/{id}/calls?limit=200"),
            Some(&t.compliance().await),
        )
        .await
        .expect(200);
    assert_eq!(
        page["items"].as_array().unwrap().len() as u64,
        page["total"]
    );
    let mut items = page["items"].as_array().unwrap().clone();
    items.reverse();
    items
}

fn statuses(call: &Value) -> Vec<Value> {
    call["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].clone())
        .collect()
}

async fn accept(t: &TestApp, intake: &str, id: &str) {
    t.act(
        &id,
        "accept",
        intake,
        json!({"category": "refunds-returns"}),
    )
    .await;
}

async fn decide(t: &TestApp, handler: &str, id: &str, sanctions: Value) {
    t.act(
        &id,
        "decide",
        handler,
        json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将全额退款。",
               "sanctions": sanctions}),
    )
    .await;
}

/// Nothing a complainant gave about themselves is in a payload.
fn no_contact_data(raw: &[u8]) {
    let text = String::from_utf8_lossy(raw);
    for clear in ["zhang", "13812345678", "张三", "@example.com"] {
        assert!(!text.contains(clear), "{clear} in {text}");
    }
}

async fn signed_calls_are_retried_after_a_500_and_logged() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let r = Receiver::start().await;
    let id = subscribe(&t, &r, "/in", &["registered", "accepted"]).await;
    r.answer(&[500]);
    let filed = t.file(complaint(1)).await;
    let case_id = filed["id"].as_str().unwrap();
    // The dispatcher runs before the advance answers.
    let answer = t.advance(0).await;
    assert_eq!(answer["webhooks"]["retrying"], 1, "{answer}");
    let got = r.got();
    assert_eq!(got.len(), 1);
    assert!(got[0].valid, "bad signature");
    assert_eq!(got[0].status, 500);
    let calls = log(&t, &id).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["state"], "pending");
    assert_eq!(calls[0]["last_status"], 500);
    assert_eq!(statuses(&calls[0]), [json!(500)]);
    let first = calls[0]["first_attempt_at"].as_str().unwrap();
    let next = calls[0]["next_attempt_at"].as_str().unwrap();
    let wait = next.parse::<chrono::DateTime<chrono::Utc>>().unwrap()
        - first.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    assert_eq!(wait.num_seconds(), 10, "the first back-off");
    // The subscription shows the call waiting.
    let listed = t
        .get("/webhooks", Some(&t.compliance().await))
        .await
        .expect(200);
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["pending"]["attempts"], 1);
    assert_eq!(listed["items"][0]["pending"]["last_status"], 500);

    // Not before its time…
    t.advance(5).await;
    assert_eq!(r.got().len(), 1);
    // …then again, and delivered.
    t.advance(6).await;
    let got = r.got();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|g| g.valid));
    assert_eq!(got[1].status, 200);
    // The same delivery id on every attempt, the same body.
    assert_eq!(got[0].delivery, got[1].delivery);
    assert_eq!(got[0].raw, got[1].raw);
    let calls = log(&t, &id).await;
    assert_eq!(calls[0]["state"], "delivered");
    assert_eq!(calls[0]["attempt_count"], 2);
    assert_eq!(statuses(&calls[0]), [json!(500), json!(200)]);
    assert_eq!(calls[0]["next_attempt_at"], Value::Null);
    assert_eq!(calls[0]["id"], got[1].delivery.as_str());

    // The payload: the event, its case and tracking number, the journal's
    // data; nothing about the complainant beyond it.
    let body = &got[1].body;
    assert_eq!(got[1].event, "registered");
    assert_eq!(body["event"], "registered");
    assert_eq!(body["id"], got[1].delivery.as_str());
    assert_eq!(body["case_id"], case_id);
    assert_eq!(body["tracking_no"], filed["tracking_no"]);
    assert_eq!(body["data"]["tracking_no"], filed["tracking_no"]);
    assert!(body["seq"].as_i64().unwrap() > 0);
    assert!(body["occurred_at"].is_string());
    no_contact_data(&got[1].raw);

    accept(&t, &c.intake, case_id).await;
    t.advance(0).await;
    let got = r.got();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].event, "accepted");
    assert_eq!(got[2].body["data"]["category"], "refunds-returns");
    assert_ne!(got[2].delivery, got[1].delivery);
    assert!(got[2].body["seq"].as_i64() > got[1].body["seq"].as_i64());
}

async fn events_of_a_case_arrive_in_journal_order() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let r = Receiver::start().await;
    subscribe(&t, &r, "/all", &["*"]).await;
    r.answer(&[500]);
    let filed = t.file(complaint(1)).await;
    let case_id = filed["id"].as_str().unwrap();
    t.advance(0).await;
    assert_eq!(r.got().len(), 1);
    // While the first call waits for its retry, nothing after it goes out.
    accept(&t, &c.intake, case_id).await;
    t.act(
        &case_id,
        "messages",
        &c.handler,
        json!({"audience": "complainant", "body": "我们正在核实。"}),
    )
    .await;
    decide(&t, &c.handler, case_id, json!([{"kind": "warning"}])).await;
    t.advance(0).await;
    assert_eq!(r.got().len(), 1, "a later event overtook a pending one");
    t.advance(10).await;

    let got = r.got();
    assert!(got.iter().all(|g| g.valid));
    let sent: Vec<(i64, String)> = got[1..]
        .iter()
        .map(|g| (g.body["seq"].as_i64().unwrap(), g.event.clone()))
        .collect();
    // Exactly the case's events, in journal order.
    let id = uuid::Uuid::parse_str(case_id).unwrap();
    let journal: Vec<(i64, String)> = t
        .app
        .store
        .events_for_case(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| is_case_event(&e.kind))
        .map(|e| (e.seq, e.kind))
        .collect();
    assert_eq!(sent, journal);
    let kinds: Vec<&str> = sent.iter().map(|(_, k)| k.as_str()).collect();
    for kind in [
        "registered",
        "accepted",
        "message_added",
        "decided",
        "sanction_ordered",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert!(got.iter().all(|g| g.body["case_id"] == case_id));
    for g in &got {
        no_contact_data(&g.raw);
    }
}

async fn a_sanction_reaches_the_platform_with_its_details() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let r = Receiver::start().await;
    let sanctions_id = subscribe(&t, &r, "/sanctions", &["sanction_ordered"]).await;
    subscribe(&t, &r, "/decisions", &["decided"]).await;
    let filed = t.file(complaint(1)).await;
    let case_id = filed["id"].as_str().unwrap();
    accept(&t, &c.intake, case_id).await;
    // A decision without a sanction orders none.
    let other = t.file(complaint(2)).await;
    let other_id = other["id"].as_str().unwrap();
    accept(&t, &c.intake, other_id).await;
    decide(&t, &c.handler, other_id, json!([])).await;
    decide(
        &t,
        &c.handler,
        case_id,
        json!([{"kind": "listing_removal", "description": "下架涉事商品"},
               {"kind": "warning"}]),
    )
    .await;
    t.advance(0).await;

    let got = r.got();
    assert!(got.iter().all(|g| g.valid && g.status == 200));
    // Each subscription gets its own kinds, nothing else.
    let at =
        |path: &str| -> Vec<Received> { got.iter().filter(|g| g.path == path).cloned().collect() };
    let sanctions = at("/sanctions");
    assert_eq!(
        sanctions
            .iter()
            .map(|g| g.event.as_str())
            .collect::<Vec<_>>(),
        ["sanction_ordered"]
    );
    let decisions = at("/decisions");
    assert_eq!(
        decisions
            .iter()
            .map(|g| g.body["case_id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [other_id, case_id]
    );
    assert!(decisions.iter().all(|g| g.event == "decided"));

    // What the platform needs to act: whom, what, on which grounds.
    let s = &sanctions[0].body;
    assert_eq!(s["case_id"], case_id);
    assert_eq!(s["tracking_no"], filed["tracking_no"]);
    assert_eq!(s["data"]["respondent"]["kind"], "merchant");
    assert_eq!(s["data"]["respondent"]["id"], "shop-1");
    assert_eq!(s["data"]["sanctions"][0]["kind"], "listing_removal");
    assert_eq!(s["data"]["sanctions"][0]["description"], "下架涉事商品");
    assert_eq!(s["data"]["sanctions"][1]["kind"], "warning");
    assert_eq!(s["data"]["outcome"], "upheld");
    assert_eq!(s["data"]["basis"][0], "平台服务协议 5.2");
    assert_eq!(s["data"]["decided_by"], "handler1");
    assert!(s["data"]["appeal_due_at"].is_string());
    no_contact_data(&sanctions[0].raw);
    let calls = log(&t, &sanctions_id).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["event"], "sanction_ordered");
    assert_eq!(calls[0]["state"], "delivered");
    assert_eq!(calls[0]["payload"], *s);
}

async fn a_replay_resends_the_same_delivery() {
    let t = TestApp::new().await;
    let r = Receiver::start().await;
    let id = subscribe(&t, &r, "/in", &["registered"]).await;
    t.file(complaint(1)).await;
    t.advance(0).await;
    let call = log(&t, &id).await.remove(0);
    assert_eq!(call["state"], "delivered");
    let call_id = call["id"].as_str().unwrap();

    let replayed = t
        .post(
            &format!("/webhooks/calls/{call_id}/replay"),
            Some(&t.compliance().await),
            json!({}),
        )
        .await
        .expect(200);
    let got = r.got();
    assert_eq!(got.len(), 2);
    assert!(got[1].valid, "a replay is signed afresh");
    assert_eq!(got[1].delivery, call_id);
    assert_eq!(got[1].raw, got[0].raw, "the exact payload again");
    assert_eq!(replayed["state"], "delivered");
    assert_eq!(statuses(&replayed), [json!(200), json!(200)]);
    assert_eq!(replayed["attempts"][1]["replay"], true);
    assert_eq!(replayed["attempts"][0]["replay"], false);

    // A failed replay is logged and changes nothing else.
    r.answer(&[503]);
    let replayed = t
        .post(
            &format!("/webhooks/calls/{call_id}/replay"),
            Some(&t.compliance().await),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(replayed["state"], "delivered");
    assert_eq!(replayed["last_status"], 503);
    assert_eq!(statuses(&replayed), [json!(200), json!(200), json!(503)]);
    // The dispatcher does not send a delivered call again.
    t.advance(3600).await;
    assert_eq!(r.got().len(), 3);

    let handler = t
        .staff("handler9", &["handler"], &["customer-service"], 1)
        .await;
    t.post(
        &format!("/webhooks/calls/{call_id}/replay"),
        Some(&handler),
        json!({}),
    )
    .await
    .expect_error(403);
    t.post(
        &format!("/webhooks/calls/{}/replay", uuid::Uuid::now_v7()),
        Some(&t.compliance().await),
        json!({}),
    )
    .await
    .expect_error(404);
    t.post(
        "/webhooks/calls/nonsense/replay",
        Some(&t.compliance().await),
        json!({}),
    )
    .await
    .expect_error(404);
}

async fn only_supervisors_and_webhook_keys_manage_webhooks() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let url = "https://platform.example.com/redress?token=abc";
    let body = json!({"url": url, "events": ["decided"]});
    // Webhooks carry case content: an admin alone may not manage them
    // (SPEC §2), nor staff without the supervisor role, the public, or
    // keys without the scope.
    t.post("/webhooks", Some(&t.admin), body.clone())
        .await
        .expect_error(403);
    t.get("/webhooks", Some(&t.admin)).await.expect_error(403);
    t.post("/webhooks", Some(&c.intake), body.clone())
        .await
        .expect_error(403);
    t.get("/webhooks", Some(&c.handler)).await.expect_error(403);
    t.post("/webhooks", None, body.clone())
        .await
        .expect_error(401);
    let key = |scopes: Value| {
        let t = &t;
        async move {
            t.post(
                "/admin/api-keys",
                Some(&t.compliance().await),
                json!({"name": format!("key-{scopes}"), "scopes": scopes}),
            )
            .await
            .expect(201)["api_key"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let intake_key = key(json!(["intake"])).await;
    t.post("/webhooks", Some(&intake_key), body.clone())
        .await
        .expect_error(403);
    let hooks_key = key(json!(["webhooks"])).await;
    let made = t
        .post("/webhooks", Some(&hooks_key), body.clone())
        .await
        .expect(201);
    let secret = made["secret"].as_str().unwrap().to_string();
    assert_eq!(made["url"], url);
    assert_eq!(made["events"], json!(["decided"]));
    assert_eq!(made["active"], true);
    let id = made["id"].as_str().unwrap();
    let listed = t.get("/webhooks", Some(&hooks_key)).await.expect(200);
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["next_cursor"], Value::Null);

    // Bad fields, each named.
    let fields = t
        .post(
            "/webhooks",
            Some(&t.compliance().await),
            json!({"url": "ftp://platform.example.com/", "events": ["decided", "eaten"]}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("url").is_some(), "{fields}");
    assert!(fields.get("events[1]").is_some(), "{fields}");
    assert!(fields.get("events[0]").is_none(), "{fields}");
    let fields = t
        .post(
            "/webhooks",
            Some(&t.compliance().await),
            json!({"events": []}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("url").is_some() && fields.get("events").is_some());
    for bad in [
        "https://user:pw@platform.example.com/",
        "not a url",
        "javascript:alert(1)",
        "http://",
    ] {
        let fields = t
            .post(
                "/webhooks",
                Some(&t.compliance().await),
                json!({"url": bad, "events": ["*"]}),
            )
            .await
            .expect_error(422);
        assert!(fields.get("url").is_some(), "{bad}: {fields}");
    }
    t.call(
        "PATCH",
        &format!("/webhooks/{id}"),
        Some(&t.compliance().await),
        Some(json!({"events": ["nope"]})),
    )
    .await
    .expect_error(422);
    let kinds = t
        .get("/webhooks/events", Some(&t.compliance().await))
        .await
        .expect(200);
    assert!(
        kinds["events"]
            .as_array()
            .unwrap()
            .contains(&json!("sanction_ordered"))
    );

    // Changes, and what is not there.
    let changed = t
        .call(
            "PATCH",
            &format!("/webhooks/{id}"),
            Some(&t.compliance().await),
            Some(json!({"events": ["*"], "url": "https://platform.example.com/v2"})),
        )
        .await
        .expect(200);
    assert_eq!(changed["events"], json!(["*"]));
    assert_eq!(changed["url"], "https://platform.example.com/v2");
    let gone = t
        .call(
            "DELETE",
            &format!("/webhooks/{id}"),
            Some(&t.compliance().await),
            None,
        )
        .await
        .expect(200);
    assert_eq!(gone["active"], false);
    let one = t
        .get(&format!("/webhooks/{id}"), Some(&t.compliance().await))
        .await
        .expect(200);
    assert_eq!(one["active"], false);
    let absent = uuid::Uuid::now_v7();
    for path in [
        format!("/webhooks/{absent}"),
        format!("/webhooks/{absent}/calls"),
        "/webhooks/nonsense/calls".to_string(),
    ] {
        t.get(&path, Some(&t.compliance().await))
            .await
            .expect_error(404);
    }
    let fields = t
        .get(
            &format!("/webhooks/{id}/calls?state=lost"),
            Some(&t.compliance().await),
        )
        .await
        .expect_error(422);
    assert!(fields.get("state").is_some());

    // The secret is shown once: never listed, never in the journal, not
    // stored in the clear.
    let listed = t
        .get("/webhooks", Some(&t.compliance().await))
        .await
        .expect(200);
    assert!(!listed.to_string().contains(&secret));
    assert!(listed["items"][0].get("secret").is_none());
    let journal = t.app.store.journal_after(0, 10_000).await.unwrap();
    let mine: Vec<_> = journal
        .iter()
        .filter(|e| e.kind.starts_with("webhook_"))
        .collect();
    assert_eq!(
        mine.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["webhook_subscribed", "webhook_changed", "webhook_changed"]
    );
    assert!(
        mine[0].actor.starts_with("integration:"),
        "{}",
        mine[0].actor
    );
    assert_eq!(mine[1].actor, "staff:compliance");
    for e in &journal {
        assert!(!e.data.contains(&secret));
        // A receiver's token in the query is kept out of the journal.
        assert!(!e.data.contains("token=abc"), "{}", e.data);
    }
    let bytes = t.database_bytes();
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is stored in the clear"
    );
}

async fn retries_survive_a_restart_and_nothing_is_sent_twice() {
    let mut t = TestApp::new().await;
    let r = Receiver::start().await;
    let id = subscribe(&t, &r, "/in", &["registered"]).await;
    r.answer(&[500]);
    t.file(complaint(1)).await;
    t.advance(0).await;
    assert_eq!(r.got().len(), 1);

    t.restart().await;
    t.advance(10).await;
    t.file(complaint(2)).await;
    t.advance(0).await;
    // And again after another restart: nothing new.
    t.restart().await;
    t.advance(0).await;
    t.advance(3600).await;

    let got = r.got();
    assert_eq!(
        got.iter().map(|g| g.status).collect::<Vec<_>>(),
        [500, 200, 200]
    );
    assert!(got.iter().all(|g| g.valid));
    assert_eq!(got[0].delivery, got[1].delivery);
    assert_ne!(got[1].delivery, got[2].delivery);
    let calls = log(&t, &id).await;
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c["state"] == "delivered"));
    assert_eq!(statuses(&calls[0]), [json!(500), json!(200)]);
    assert_eq!(statuses(&calls[1]), [json!(200)]);
}

async fn a_call_is_given_up_after_a_day_and_later_events_flow() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let r = Receiver::start().await;
    let id = subscribe(&t, &r, "/in", &["registered", "accepted"]).await;
    r.answer(&[500, 500]);
    let filed = t.file(complaint(1)).await;
    let case_id = filed["id"].as_str().unwrap();
    t.advance(0).await;
    accept(&t, &c.intake, case_id).await;
    t.advance(0).await;
    assert_eq!(r.got().len(), 1, "the accepted event waits");

    // A day of failures: the call is given up, and the next one goes out.
    let answer = t.advance(25 * 3600).await;
    assert_eq!(answer["webhooks"]["failed"], 1, "{answer}");
    assert_eq!(answer["webhooks"]["delivered"], 1, "{answer}");
    let got = r.got();
    assert_eq!(
        got.iter()
            .map(|g| (g.event.as_str(), g.status))
            .collect::<Vec<_>>(),
        [("registered", 500), ("registered", 500), ("accepted", 200)]
    );
    let calls = log(&t, &id).await;
    assert_eq!(calls[0]["state"], "failed");
    assert_eq!(calls[0]["next_attempt_at"], Value::Null);
    assert_eq!(statuses(&calls[0]), [json!(500), json!(500)]);
    assert_eq!(calls[1]["state"], "delivered");
    let failed = t
        .get(
            &format!("/webhooks/{id}/calls?state=failed"),
            Some(&t.compliance().await),
        )
        .await
        .expect(200);
    assert_eq!(failed["total"], 1);
    let listed = t
        .get("/webhooks", Some(&t.compliance().await))
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["pending"], Value::Null);

    // Sent again by hand, a failed call is delivered after all.
    let call_id = calls[0]["id"].as_str().unwrap();
    let replayed = t
        .post(
            &format!("/webhooks/calls/{call_id}/replay"),
            Some(&t.compliance().await),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(replayed["state"], "delivered");
    assert_eq!(r.got().len(), 4);
}

async fn a_deactivated_subscription_catches_up_when_active_again() {
    let t = TestApp::new().await;
    let r = Receiver::start().await;
    let id = subscribe(&t, &r, "/in", &["registered"]).await;
    t.call(
        "DELETE",
        &format!("/webhooks/{id}"),
        Some(&t.compliance().await),
        None,
    )
    .await
    .expect(200);
    let filed = t.file(complaint(1)).await;
    t.advance(0).await;
    assert!(r.got().is_empty());
    t.call(
        "PATCH",
        &format!("/webhooks/{id}"),
        Some(&t.compliance().await),
        Some(json!({"active": true})),
    )
    .await
    .expect(200);
    t.advance(0).await;
    let got = r.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body["tracking_no"], filed["tracking_no"]);
}

/// A receiver that is not there: no status, the reason logged (without
/// the URL), and retried like any failure.
async fn a_receiver_that_is_down_is_logged_with_the_reason() {
    let t = TestApp::new().await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("http://{closed}/in?token=abc");
    let id = t
        .post(
            "/webhooks",
            Some(&t.compliance().await),
            json!({"url": url, "events": ["registered"]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.file(complaint(1)).await;
    t.advance(0).await;
    let calls = log(&t, &id).await;
    assert_eq!(calls[0]["state"], "pending");
    assert_eq!(calls[0]["last_status"], Value::Null);
    let error = calls[0]["attempts"][0]["error"].as_str().unwrap();
    assert!(error.starts_with("could not connect"), "{error}");
    assert!(
        !error.contains("token") && !error.contains("127.0.0.1"),
        "{error}"
    );
    assert_eq!(calls[0]["last_error"], error);
    t.advance(10).await;
    assert_eq!(log(&t, &id).await[0]["attempt_count"], 2);
}

/// Two instances on one database deliver at the same moment: each call
/// goes out once, in order (on SQLite, two applications over one store).
async fn two_instances_send_each_call_once() {
    let t = TestApp::new().await;
    let r = Receiver::start().await;
    subscribe(&t, &r, "/a", &["registered"]).await;
    subscribe(&t, &r, "/b", &["registered"]).await;
    let mut numbers = Vec::new();
    for n in 1..=4 {
        numbers.push(t.file(complaint(n)).await["tracking_no"].clone());
    }
    let twin = t.twin().await;
    let (a, b) = tokio::join!(t.app.deliver_webhooks(), twin.deliver_webhooks());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.delivered + b.delivered, 8, "{a:?} {b:?}");
    // Again, on both: nothing more.
    let (a, b) = tokio::join!(t.app.deliver_webhooks(), twin.deliver_webhooks());
    assert_eq!(a.unwrap().attempts + b.unwrap().attempts, 0);
    let got = r.got();
    for path in ["/a", "/b"] {
        let mine: Vec<&Received> = got.iter().filter(|g| g.path == path).collect();
        assert_eq!(
            mine.iter()
                .map(|g| g.body["tracking_no"].clone())
                .collect::<Vec<_>>(),
            numbers,
            "{path}: once each, in order"
        );
    }
}

/// The background task of `redress serve` (the one test that waits in
/// real time: a second at most, for the task to be woken).
async fn the_dispatcher_runs_in_the_background() {
    let t = TestApp::new().await;
    let r = Receiver::start().await;
    subscribe(&t, &r, "/in", &["registered"]).await;
    let task = redress::spawn_webhooks(t.app.clone(), Duration::from_secs(1));
    t.file(complaint(1)).await;
    let mut waited = 0;
    while r.got().is_empty() && waited < 200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    task.abort();
    let got = r.got();
    assert_eq!(got.len(), 1, "nothing arrived in 10 s");
    assert!(got[0].valid);
    assert_eq!(got[0].event, "registered");
}

/// A browser's cookies, for the console pages.
#[derive(Default)]
struct Console {
    cookies: Vec<(String, String)>,
}

impl Console {
    async fn send(
        &mut self,
        t: &TestApp,
        method: Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, String) {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let a = t.send(req).await;
        for v in a.headers.get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            self.cookies.push((k.to_string(), v.to_string()));
        }
        (a.status.as_u16(), String::from_utf8(a.bytes).unwrap())
    }

    /// Logs in; the CSRF token of the new session (forms of a signed-in
    /// member carry a token bound to their session).
    async fn login(t: &TestApp, username: &str, password: &str) -> (Console, String) {
        let mut b = Console::default();
        let (_, page) = b.send(t, Method::GET, "/staff/login", &[]).await;
        let csrf = hidden(&page, "csrf");
        b.send(
            t,
            Method::POST,
            "/staff/login",
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await;
        let (_, page) = b.send(t, Method::GET, "/staff/password", &[]).await;
        let csrf = hidden(&page, "csrf");
        (b, csrf)
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no {name}")) + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page.find(start).unwrap_or_else(|| panic!("no {start}")) + start.len();
    page[from..].split(end).next().unwrap()
}

async fn supervisors_manage_webhooks_from_the_console() {
    let t = TestApp::new().await;
    t.cast().await;
    let r = Receiver::start().await;
    // An admin alone is refused the pages.
    let (mut a, _) = Console::login(&t, "admin", ADMIN_PASSWORD).await;
    let (status, _) = a
        .send(&t, Method::GET, "/staff/admin/webhooks?lang=en", &[])
        .await;
    assert_eq!(status, 403);
    let (_, admin) = a.send(&t, Method::GET, "/staff/admin", &[]).await;
    assert!(!admin.contains("href=\"/staff/admin/webhooks\""));
    t.compliance().await;
    let (mut b, csrf) = Console::login(&t, "compliance", PASSWORD).await;
    let (status, page) = b
        .send(&t, Method::GET, "/staff/admin/webhooks?lang=en", &[])
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("No webhooks yet."), "{page}");
    assert!(page.contains("sanction_ordered"), "the kinds are listed");
    let (_, home) = b.send(&t, Method::GET, "/staff", &[]).await;
    assert!(home.contains("href=\"/staff/admin/webhooks\""));

    // Refused fields are named, and what was typed is kept.
    let (status, page) = b
        .send(
            &t,
            Method::POST,
            "/staff/admin/webhooks",
            &[
                ("csrf", &csrf),
                ("url", "ftp://x.example/"),
                ("events", "decided, nope"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    // Each refused field is named, in the page's language.
    assert!(
        page.contains("url: must be an http:// or https:// address")
            && page.contains("events, item 2: is not a case event kind"),
        "{page}"
    );
    assert!(page.contains("value=\"decided, nope\""), "{page}");
    // Without the CSRF field: refused.
    let (status, _) = b
        .send(
            &t,
            Method::POST,
            "/staff/admin/webhooks",
            &[("url", &r.url("/in")), ("events", "registered")],
        )
        .await;
    assert_eq!(status, 403);

    let (status, page) = b
        .send(
            &t,
            Method::POST,
            "/staff/admin/webhooks",
            &[
                ("csrf", &csrf),
                ("url", &r.url("/in")),
                ("events", "registered，accepted"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let secret = between(&page, "<code id=\"new-secret\">", "</code>").to_string();
    assert!(secret.starts_with("rdw_"));
    r.secret("/in", &secret);
    let (_, page) = b.send(&t, Method::GET, "/staff/admin/webhooks", &[]).await;
    assert!(!page.contains(&secret), "the secret is shown once");
    assert!(page.contains("registered, accepted"), "{page}");
    let id = between(&page, "href=\"/staff/admin/webhooks/", "\"").to_string();

    r.answer(&[502]);
    let filed = t.file(complaint(1)).await;
    t.advance(0).await;
    let (status, page) = b
        .send(
            &t,
            Method::GET,
            &format!("/staff/admin/webhooks/{id}?lang=en"),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<strong>502</strong>"), "{page}");
    assert!(page.contains(filed["tracking_no"].as_str().unwrap()));
    assert!(page.contains("Pending"), "{page}");
    let call = hidden(&page, "call");

    // Sent again from the page.
    let (status, page) = b
        .send(
            &t,
            Method::POST,
            &format!("/staff/admin/webhooks/{id}/replay?lang=en"),
            &[("csrf", &csrf), ("call", &call)],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Sent again: 200"), "{page}");
    assert!(page.contains("Delivered"), "{page}");
    assert!(page.contains("(sent again by hand)"), "{page}");
    assert_eq!(r.got().len(), 2);
    assert!(r.got().iter().all(|g| g.valid));
    // Only a call of this subscription.
    let (status, _) = b
        .send(
            &t,
            Method::POST,
            &format!("/staff/admin/webhooks/{}/replay", uuid::Uuid::now_v7()),
            &[("csrf", &csrf), ("call", &call)],
        )
        .await;
    assert_eq!(status, 404);

    // Deactivated from the page.
    let (status, page) = b
        .send(
            &t,
            Method::POST,
            &format!("/staff/admin/webhooks/{id}/deactivate?lang=en"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Deactivated"), "{page}");
    let listed = t
        .get("/webhooks", Some(&t.compliance().await))
        .await
        .expect(200);
    assert_eq!(listed["items"][0]["active"], false);

    // Admins only.
    let (mut handler, _) = Console::login(&t, "handler1", PASSWORD).await;
    let (status, _) = handler
        .send(&t, Method::GET, "/staff/admin/webhooks", &[])
        .await;
    assert_eq!(status, 403);
    let (status, _) = handler
        .send(&t, Method::GET, &format!("/staff/admin/webhooks/{id}"), &[])
        .await;
    assert_eq!(status, 403);
}

/// SPEC §9: with `webhook_allow_private` off, URLs that are or resolve to
/// loopback, private or link-local addresses are refused when subscribed
/// or changed (422 on `url`), and a subscription made while they were
/// allowed is refused on the address at call time: the attempt is logged
/// as failed, nothing reaches the receiver.
async fn webhooks_to_private_addresses_are_refused_unless_allowed() {
    let r = Receiver::start().await;
    let mut t = TestApp::with(|c| c.webhook_allow_private = false).await;
    let sup = t.compliance().await;
    let port = r.base.rsplit(':').next().unwrap().to_string();
    for bad in [
        r.url("/in"),
        "http://10.0.0.1/".to_string(),
        "http://[::1]/".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://localhost/".to_string(),
        format!("http://localhost:{port}/in"),
        "http://[::ffff:127.0.0.1]/".to_string(),
        "http://100.64.0.1/".to_string(),
        "http://[fd00::1]/".to_string(),
        "http://nowhere.invalid/".to_string(),
    ] {
        let fields = t
            .post(
                "/webhooks",
                Some(&sup),
                json!({"url": bad, "events": ["registered"]}),
            )
            .await
            .expect_error(422);
        assert!(fields.get("url").is_some(), "{bad}: {fields}");
    }
    assert_eq!(
        t.get("/webhooks", Some(&sup)).await.expect(200)["total"],
        0,
        "nothing was subscribed"
    );
    // A public address is taken (not called here: nothing is filed).
    let id = t
        .post(
            "/webhooks",
            Some(&sup),
            json!({"url": "http://8.8.8.8/in", "events": ["decided"]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in ["http://127.0.0.1:9/in", "http://localhost/in"] {
        let fields = t
            .call(
                "PATCH",
                &format!("/webhooks/{id}"),
                Some(&sup),
                Some(json!({"url": bad})),
            )
            .await
            .expect_error(422);
        assert!(fields.get("url").is_some(), "{bad}: {fields}");
    }
    let kept = t
        .get(&format!("/webhooks/{id}"), Some(&sup))
        .await
        .expect(200);
    assert_eq!(
        kept["url"], "http://8.8.8.8/in",
        "the refused update changed nothing"
    );
    t.call("DELETE", &format!("/webhooks/{id}"), Some(&sup), None)
        .await
        .expect(200);

    // Subscribed while allowed (by address and by name), then the setting
    // is turned off: each call is refused on the address it would reach.
    t.config.webhook_allow_private = true;
    t.restart().await;
    let by_ip = subscribe(&t, &r, "/ip", &["registered"]).await;
    let by_name = t
        .post(
            "/webhooks",
            Some(&sup),
            json!({"url": format!("http://localhost:{port}/name"), "events": ["registered"]}),
        )
        .await
        .expect(201);
    r.secret("/name", by_name["secret"].as_str().unwrap());
    let by_name = by_name["id"].as_str().unwrap().to_string();
    t.config.webhook_allow_private = false;
    t.restart().await;
    t.file(complaint(1)).await;
    t.advance(0).await;
    for id in [&by_ip, &by_name] {
        let calls = log(&t, id).await;
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert_eq!(
            calls[0]["state"], "pending",
            "a refused call is a failed attempt"
        );
        assert_eq!(calls[0]["last_status"], Value::Null);
        let error = calls[0]["attempts"][0]["error"].as_str().unwrap();
        assert!(
            error.contains("not public") && error.contains("webhook_allow_private"),
            "{error}"
        );
    }
    assert!(r.got().is_empty(), "nothing reached the receiver");
}

/// A modified review replaces the decision's remedies and sanctions: the
/// platform is told of the sanction it now orders and of the one it drops;
/// `modified` without the new outcome is refused, naming it, and changes
/// nothing.
async fn a_modified_review_orders_and_lifts_sanctions() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let r = Receiver::start().await;
    subscribe(
        &t,
        &r,
        "/sanctions",
        &["sanction_ordered", "sanction_lifted", "reviewed"],
    )
    .await;
    let filed = t.file(complaint(1)).await;
    let case_id = filed["id"].as_str().unwrap();
    let no = filed["tracking_no"].as_str().unwrap();
    let token = filed["access_token"].as_str().unwrap();
    accept(&t, &c.intake, case_id).await;
    decide(
        &t,
        &c.handler,
        case_id,
        json!([{"kind": "listing_removal", "description": "下架涉事商品"}, {"kind": "warning"}]),
    )
    .await;
    t.post(
        &format!("/track/{no}/appeal"),
        Some(token),
        json!({"reason": "只退了一半，且商家仍在销售同款"}),
    )
    .await
    .expect(200);
    let review = format!("/complaints/{case_id}/review");
    // Modified without the new outcome: 422 naming it, nothing stored.
    let fields = t
        .post(
            &review,
            Some(&c.reviewer),
            json!({"result": "modified", "basis": ["复核规则 2"], "reply": "改为部分成立。",
                   "sanctions": [{"kind": "fine", "amount": 200.0}]}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("outcome").is_some(), "{fields}");
    // An upheld result orders nothing new.
    let fields = t
        .post(
            &review,
            Some(&c.reviewer),
            json!({"result": "upheld", "basis": ["复核规则 2"], "reply": "维持。",
                   "remedies": ["refund"]}),
        )
        .await
        .expect_error(422);
    assert!(fields.get("remedies").is_some(), "{fields}");
    let case = t.case(&case_id, &c.supervisor).await;
    assert_eq!(case["status"], "under_review");
    assert!(case["review"].is_null());

    let done = t
        .post(
            &review,
            Some(&c.reviewer),
            json!({"result": "modified", "outcome": "partially_upheld",
                   "basis": ["复核规则 2"], "reply": "改为部分成立，另处罚款。",
                   "remedies": [{"kind": "refund", "amount": 50.0}],
                   "sanctions": [{"kind": "warning"}, {"kind": "fine", "amount": 200.0}],
                   "actions": ["复查同款商品的上架审核"]}),
        )
        .await
        .expect(200);
    assert_eq!(done["status"], "closed");
    assert_eq!(done["closure"], "reviewed");
    assert_eq!(done["review"]["outcome"], "partially_upheld");
    assert_eq!(done["review"]["remedies"][0]["kind"], "refund");
    assert_eq!(done["review"]["sanctions"].as_array().unwrap().len(), 2);
    // The reviewer's corrective action is followed up with the others,
    // owned by the reviewer unless another owner is named.
    let actions = done["actions"].as_array().unwrap();
    let action = actions
        .iter()
        .find(|a| a["description"] == "复查同款商品的上架审核")
        .unwrap_or_else(|| panic!("no review action in {actions:?}"));
    assert_eq!(action["owner"], "reviewer1");
    // The complainant sees the final remedies.
    let track = t
        .get(&format!("/track/{no}"), Some(token))
        .await
        .expect(200);
    assert_eq!(track["review"]["remedies"][0]["kind"], "refund");
    assert_eq!(track["review"]["remedies"][0]["amount"], 50.0);

    t.advance(0).await;
    let got = r.got();
    assert!(got.iter().all(|g| g.valid && g.status == 200));
    let kinds: Vec<&str> = got.iter().map(|g| g.event.as_str()).collect();
    // The decision's order, then the review's: what it orders anew and
    // what it drops.
    assert_eq!(
        kinds,
        [
            "sanction_ordered",
            "reviewed",
            "sanction_ordered",
            "sanction_lifted"
        ]
    );
    let ordered = &got[2].body["data"];
    assert_eq!(
        ordered["sanctions"],
        json!([{"kind": "fine", "amount": 200.0, "currency": "CNY"}])
    );
    assert_eq!(ordered["outcome"], "partially_upheld");
    assert_eq!(ordered["review"], true);
    assert_eq!(ordered["respondent"]["id"], "shop-1");
    assert_eq!(ordered["basis"][0], "复核规则 2");
    let lifted = &got[3].body["data"];
    assert_eq!(
        lifted["sanctions"],
        json!([{"kind": "listing_removal", "description": "下架涉事商品"}])
    );
    assert_eq!(lifted["decided_by"], "reviewer1");
    for g in &got {
        no_contact_data(&g.raw);
    }
}

tests![
    signed_calls_are_retried_after_a_500_and_logged,
    events_of_a_case_arrive_in_journal_order,
    a_sanction_reaches_the_platform_with_its_details,
    a_modified_review_orders_and_lifts_sanctions,
    a_replay_resends_the_same_delivery,
    only_supervisors_and_webhook_keys_manage_webhooks,
    retries_survive_a_restart_and_nothing_is_sent_twice,
    a_call_is_given_up_after_a_day_and_later_events_flow,
    a_deactivated_subscription_catches_up_when_active_again,
    a_receiver_that_is_down_is_logged_with_the_reason,
    two_instances_send_each_call_once,
    the_dispatcher_runs_in_the_background,
    supervisors_manage_webhooks_from_the_console,
    webhooks_to_private_addresses_are_refused_unless_allowed,
];
