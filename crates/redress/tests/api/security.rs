//! The defences of docs/security.md: the client address behind trusted
//! proxies, the metrics' labels and listener, body limits and the
//! concurrency limit. (Webhook targets: `webhooks.rs`.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::Request;
use http_body_util::BodyExt;
use redress_testkit::{Backend, postgres};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

use crate::cli::{Server, http_get};
use crate::harness::*;

/// Files a public complaint from `peer` with `X-Forwarded-For: forwarded`;
/// the status answered.
async fn file_from(t: &TestApp, peer: &str, forwarded: &str, n: u32) -> u16 {
    t.call_from(
        peer,
        "POST",
        "/complaints",
        Some(complaint(n)),
        &[("x-forwarded-for", forwarded)],
    )
    .await
    .status
    .as_u16()
}

/// Behind a trusted proxy, each client named by `X-Forwarded-For` has its
/// own public-intake bucket; from any other peer the header is ignored,
/// so a client cannot escape the limit by inventing addresses.
async fn forwarded_clients_get_their_own_rate_limit_only_from_trusted_proxies() {
    let t = TestApp::with(|c| {
        c.public_rate_limit = 2;
        c.trusted_proxies = "127.0.0.1, 10.0.0.0/8".into();
    })
    .await;
    let proxy = "127.0.0.1:40000";
    assert_eq!(file_from(&t, proxy, "198.51.100.1", 1).await, 201);
    assert_eq!(file_from(&t, proxy, "198.51.100.1", 2).await, 201);
    assert_eq!(file_from(&t, proxy, "198.51.100.1", 3).await, 429);
    // Another client behind the same proxy: its own bucket.
    assert_eq!(file_from(&t, proxy, "198.51.100.2", 4).await, 201);
    assert_eq!(file_from(&t, proxy, "198.51.100.2", 5).await, 201);
    assert_eq!(file_from(&t, proxy, "198.51.100.2", 6).await, 429);
    // What the client put left of the proxy's entry is not believed; a
    // second trusted hop (10.0.0.7) is skipped.
    assert_eq!(
        file_from(&t, proxy, "203.0.113.50, 198.51.100.1", 7).await,
        429
    );
    assert_eq!(file_from(&t, proxy, "198.51.100.1, 10.0.0.7", 8).await, 429);

    // Not from a trusted proxy: the header changes nothing.
    let stranger = "203.0.113.9:50000";
    assert_eq!(file_from(&t, stranger, "192.0.2.1", 10).await, 201);
    assert_eq!(file_from(&t, stranger, "192.0.2.2", 11).await, 201);
    assert_eq!(file_from(&t, stranger, "192.0.2.3", 12).await, 429);

    // No trusted proxies (the default): every client of the proxy shares
    // its address, and a spoofed header does not escape the limit.
    let t = TestApp::with(|c| c.public_rate_limit = 2).await;
    assert_eq!(file_from(&t, proxy, "198.51.100.1", 1).await, 201);
    assert_eq!(file_from(&t, proxy, "198.51.100.2", 2).await, 201);
    assert_eq!(file_from(&t, proxy, "198.51.100.3", 3).await, 429);
}

/// The metrics' text.
async fn metrics_text(t: &TestApp) -> String {
    let m = t.get("/metrics", None).await;
    assert_eq!(m.status.as_u16(), 200);
    String::from_utf8(m.bytes).unwrap()
}

/// The request counter's lines that hold all of `parts`.
fn counted<'a>(text: &'a str, parts: &[&str]) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.starts_with("redress_http_requests_total{"))
        .filter(|l| parts.iter().all(|p| l.contains(p)))
        .collect()
}

/// A client cannot grow the metrics: a made-up method is counted as
/// `other`, and the route is the matched template (or `unmatched`),
/// never the path sent.
async fn metrics_labels_are_fixed_methods_and_route_templates() {
    let t = TestApp::new().await;
    let sup = t.staff("sup", &["supervisor"], &[], 5).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    t.call("FOOBAR", "/complaints", None, None).await;
    t.call("FOOBAR", &format!("/nowhere-{unknown}"), None, None)
        .await
        .expect_error(404);
    t.get(&format!("/complaints/{unknown}"), Some(&sup))
        .await
        .expect_error(404);
    t.call_raw("GET", &format!("/api/v1/{unknown}/x"), None, None, &[])
        .await
        .expect_error(404);
    let text = metrics_text(&t).await;
    assert!(!text.contains("FOOBAR"), "{text}");
    assert!(!text.contains(&unknown), "no raw path in a label: {text}");
    assert!(
        !counted(&text, &["method=\"other\"", "route=\"/api/v1/complaints\""]).is_empty(),
        "{text}"
    );
    assert!(
        !counted(
            &text,
            &["method=\"other\"", "route=\"unmatched\"", "status=\"404\""]
        )
        .is_empty(),
        "{text}"
    );
    assert!(
        !counted(
            &text,
            &[
                "method=\"GET\"",
                "route=\"/api/v1/complaints/{id}\"",
                "status=\"404\""
            ]
        )
        .is_empty(),
        "{text}"
    );
    for line in text
        .lines()
        .filter(|l| l.starts_with("redress_http_request"))
    {
        let method = line
            .split("method=\"")
            .nth(1)
            .and_then(|r| r.split('"').next());
        if let Some(method) = method {
            assert!(
                [
                    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"
                ]
                .contains(&method),
                "{line}"
            );
        }
    }
}

/// With `metrics_listen`, the main router has no `/metrics`; the metrics
/// router (what the binary serves on that address) has.
async fn metrics_on_their_own_listener_are_not_on_the_main_one() {
    let t = TestApp::with(|c| c.metrics_listen = Some("127.0.0.1:0".into())).await;
    t.file(complaint(1)).await;
    t.get("/metrics", None).await.expect_error(404);
    let answer = redress_web::metrics::router(t.app.clone())
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let bytes = http_body_util::BodyExt::collect(answer.into_body())
        .await
        .unwrap()
        .to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains("redress_cases{"), "{text}");
}

/// The binary with `REDRESS_METRICS_LISTEN`: `/metrics` answers there and
/// not on the main address.
async fn the_server_serves_metrics_on_the_metrics_address_only() {
    let dir = std::env::temp_dir().join(format!("redress-metrics-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let schema = match BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite) {
        Backend::Sqlite => None,
        Backend::Postgres => Some(postgres().schema().expect("a PostgreSQL schema")),
    };
    let mut command = Command::new(env!("CARGO_BIN_EXE_redress"));
    command
        .arg("serve")
        .env("REDRESS_LISTEN", "127.0.0.1:0")
        .env("REDRESS_METRICS_LISTEN", "127.0.0.1:0")
        .env("REDRESS_DATA_DIR", &dir)
        .env("REDRESS_DATA_KEY", "33".repeat(32))
        .env("REDRESS_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env_remove("REDRESS_CONFIG")
        .stdout(Stdio::piped());
    match &schema {
        Some(schema) => command.env("REDRESS_DATABASE_URL", &schema.url),
        None => command.env_remove("REDRESS_DATABASE_URL"),
    };
    let mut server = Server(command.spawn().unwrap());
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let (mut main, mut metrics) = (None, None);
    while main.is_none() || metrics.is_none() {
        let line = lines
            .next()
            .expect("the server printed its addresses")
            .unwrap();
        let addr = |marker: &str| {
            line.split(marker)
                .nth(1)
                .map(|r| r.split_whitespace().next().unwrap().to_string())
        };
        main = main.or(addr("listening on http://"));
        metrics = metrics.or(addr("/metrics on http://"));
    }
    let (main, metrics) = (main.unwrap(), metrics.unwrap());
    assert_ne!(main, metrics);
    let on_main = http_get(&main, "/metrics");
    assert!(on_main.contains(" 404 "), "{on_main}");
    assert!(http_get(&main, "/healthz").contains(" 200 "));
    let on_metrics = http_get(&metrics, "/metrics");
    assert!(on_metrics.contains(" 200 "), "{on_metrics}");
    assert!(
        on_metrics.contains("route=\"/healthz\""),
        "the main listener's requests are counted: {on_metrics}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    drop(schema);
}

/// A page form of `len` bytes (`field=xxxx…`), with these cookies.
async fn post_form(t: &TestApp, path: &str, cookies: &str, body: String) -> u16 {
    let req = Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookies)
        .body(Body::from(body))
        .unwrap();
    t.send(req).await.status.as_u16()
}

fn filler(field: &str, bytes: usize) -> String {
    format!("{field}={}", "x".repeat(bytes))
}

/// Forms without files are held to what their fields need: sign-in and
/// look-up forms 16 KiB, other forms 256 KiB; a larger body is answered
/// 413 before the session, the CSRF token or the rate limit is looked at.
/// A reply of 20,000 Chinese characters still fits.
async fn page_forms_are_limited_to_what_their_fields_need() {
    let t = TestApp::new().await;
    let c = t.cast().await;
    let filed = t.file(complaint(1)).await;
    let id = filed["id"].as_str().unwrap();
    // Sign-in and look-up: 16 KiB.
    assert_eq!(
        post_form(&t, "/staff/login", "", filler("username", 20 * 1024)).await,
        413
    );
    assert_eq!(
        post_form(&t, "/track", "", filler("no", 20 * 1024)).await,
        413
    );
    assert_eq!(
        post_form(&t, "/respondent", "", filler("key", 20 * 1024)).await,
        413
    );
    // Small enough: on to the CSRF check.
    assert_eq!(
        post_form(&t, "/staff/login", "", filler("username", 1024)).await,
        403
    );
    // A case action: signed in, no CSRF token, 300 KiB: 413, not 403.
    let session = format!("redress_session={}", c.intake);
    let action = format!("/staff/cases/{id}/message");
    assert_eq!(
        post_form(&t, &action, &session, filler("body", 300 * 1024)).await,
        413
    );
    assert_eq!(
        post_form(&t, &action, &session, filler("body", 1024)).await,
        403,
        "the CSRF check follows the size check"
    );
    // Not signed in either: still 413 first.
    assert_eq!(
        post_form(&t, &action, "", filler("body", 300 * 1024)).await,
        413
    );
    // The largest reply the domain takes, URL-encoded, passes the limit.
    // A signed-in form's token is the one bound to the session.
    let csrf = {
        use base64::Engine;
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"redress-csrf:");
        h.update(c.intake.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.finalize())
    };
    let reply: String = std::iter::repeat_n("%E5%A4%84", 20_000).collect();
    let cookies = session.clone();
    let body = format!("csrf={csrf}&audience=complainant&body={reply}");
    assert!(body.len() > 180_000);
    assert_eq!(post_form(&t, &action, &cookies, body).await, 303);
    let case = t.case(&id, &c.supervisor).await;
    assert!(
        case["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"]
                .as_str()
                .is_some_and(|b| b.chars().count() == 20_000)),
        "the 20,000-character reply was taken"
    );
}

/// JSON bodies are held to 256 KiB (a decision's reply with every
/// character escaped fits); an iCalendar import to 1 MiB.
async fn json_bodies_are_limited_to_what_a_call_needs() {
    let t = TestApp::new().await;
    let mut big = complaint(1);
    big["description"] = json!("x".repeat(300 * 1024));
    t.post("/complaints", None, big).await.expect_error(413);
    // 20,000 characters, each escaped as \uXXXX: taken (and judged by the
    // domain, not the transport).
    let escaped: String = std::iter::repeat_n("\\u5904", 20_000).collect();
    let body = complaint(2).to_string().replacen(
        "订单已取消，快递也已退回，但商家拒绝退款。",
        &escaped,
        1,
    );
    assert!(body.len() > 120_000);
    t.call_raw("POST", "/complaints", None, Some(&body), &[])
        .await
        .expect(201);
    let ics = "x".repeat(1024 * 1024 + 1);
    let a = t
        .send(
            Request::post("/api/v1/admin/calendar/import")
                .header("authorization", format!("Bearer {}", t.admin))
                .header("content-type", "text/calendar")
                .body(Body::from(ics))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status.as_u16(), 413);
}

/// The public complaint form (with files) is rate-limited before it is
/// read; a complainant's upload page checks the access code first.
async fn uploads_check_the_limit_and_the_caller_before_the_body() {
    let t = TestApp::with(|c| c.public_rate_limit = 1).await;
    let peer = "203.0.113.20:1000";
    let form = |bytes: usize| {
        let mut req = Request::post("/complain")
            .header(
                "content-type",
                "multipart/form-data; boundary=redress-boundary",
            )
            // Not a valid multipart body: reading it would fail (400/422).
            .body(Body::from(vec![b'x'; bytes]))
            .unwrap();
        req.extensions_mut().insert(axum::extract::ConnectInfo(
            peer.parse::<std::net::SocketAddr>().unwrap(),
        ));
        req
    };
    assert_ne!(
        t.send(form(10)).await.status.as_u16(),
        429,
        "the first is allowed"
    );
    assert_eq!(
        t.send(form(10)).await.status.as_u16(),
        429,
        "the second is refused before its body is read"
    );
    let filed = t.file(complaint(1)).await;
    let no = filed["tracking_no"].as_str().unwrap();
    let req = Request::post(format!("/track/{no}/evidence"))
        .header("cookie", format!("rd_track={no}:rdt_wrong"))
        .header(
            "content-type",
            "multipart/form-data; boundary=redress-boundary",
        )
        .body(Body::from(vec![b'x'; 10]))
        .unwrap();
    let a = t.send(req).await;
    assert_eq!(
        a.status.as_u16(),
        303,
        "a wrong access code goes back to the look-up"
    );
}

/// Beyond `max_concurrent_requests` in progress a request is answered 503
/// with `Retry-After` at once (not queued); the health check stays outside
/// the limit; a finished request gives its place back.
async fn requests_beyond_the_concurrency_limit_get_503_with_retry_after() {
    let t = TestApp::with(|c| c.max_concurrent_requests = 1).await;
    // A request whose body arrives slowly: it holds the one place while
    // the handler reads it.
    let (mut sender, body) =
        http_body_util::channel::Channel::<Bytes, std::convert::Infallible>::new(1);
    let slow = Request::post("/api/v1/complaints")
        .header("content-type", "application/json")
        .body(Body::new(body))
        .unwrap();
    let router = t.router.clone();
    let slow = tokio::spawn(async move { router.oneshot(slow).await.unwrap() });
    sender
        .send_data(Bytes::from(complaint(1).to_string()))
        .await
        .unwrap();
    // The channel holds one chunk: this second send returns once the
    // handler took the first, so the place is held from here on.
    sender.send_data(Bytes::from(" ")).await.unwrap();
    let busy = t.get("/calendar/2026", None).await;
    assert_eq!(busy.status.as_u16(), 503, "{}", busy.body);
    assert_eq!(busy.body["error"]["code"], "overloaded");
    assert_eq!(busy.headers["retry-after"], "1");
    t.get("/healthz", None).await.expect(200);
    sender.send_data(Bytes::from("\n")).await.unwrap();
    drop(sender);
    let answer = slow.await.unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    answer.into_body().collect().await.unwrap();
    t.get("/calendar/2026", None).await.expect(200);
}

/// The server loop closes a connection whose request head does not arrive
/// within the header-read time, but a request whose body takes longer
/// than that is served: there is no limit on a whole request.
async fn a_slow_request_head_is_cut_off_but_a_slow_body_is_not() {
    let t = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(redress::http::serve_with(
        listener,
        t.router.clone(),
        async move {
            let _ = stopped.await;
        },
        Duration::from_millis(300),
        redress::http::SHUTDOWN_GRACE,
    ));
    // A head that never ends: the server closes the connection.
    let mut slowloris = tokio::net::TcpStream::connect(addr).await.unwrap();
    slowloris
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), slowloris.read_to_end(&mut rest))
        .await
        .expect("the server closed the connection");
    assert!(closed.is_ok() || rest.is_empty(), "{rest:?}");
    assert!(
        !String::from_utf8_lossy(&rest).contains(" 200 "),
        "no answer to an unfinished head"
    );
    // A complete head, then a body after twice the head's time limit.
    let body = complaint(1).to_string();
    let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
    client
        .write_all(
            format!(
                "POST /api/v1/complaints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    client.write_all(body.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

tests![
    forwarded_clients_get_their_own_rate_limit_only_from_trusted_proxies,
    metrics_labels_are_fixed_methods_and_route_templates,
    metrics_on_their_own_listener_are_not_on_the_main_one,
    the_server_serves_metrics_on_the_metrics_address_only,
    page_forms_are_limited_to_what_their_fields_need,
    json_bodies_are_limited_to_what_a_call_needs,
    uploads_check_the_limit_and_the_caller_before_the_body,
    requests_beyond_the_concurrency_limit_get_503_with_retry_after,
    a_slow_request_head_is_cut_off_but_a_slow_body_is_not,
];
