//! The defences of docs/security.md: the client address behind trusted
//! proxies, the metrics' labels and listener, body limits and the
//! concurrency limit. (Webhook targets: `webhooks.rs`.)

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

tests![forwarded_clients_get_their_own_rate_limit_only_from_trusted_proxies,];
