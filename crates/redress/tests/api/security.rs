//! The defences of docs/security.md: the client address behind trusted
//! proxies, the metrics' labels and listener, body limits and the
//! concurrency limit. (Webhook targets: `webhooks.rs`.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use axum::body::Body;
use axum::http::Request;
use redress_testkit::{Backend, postgres};
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

tests![
    forwarded_clients_get_their_own_rate_limit_only_from_trusted_proxies,
    metrics_labels_are_fixed_methods_and_route_templates,
    metrics_on_their_own_listener_are_not_on_the_main_one,
    the_server_serves_metrics_on_the_metrics_address_only,
];
