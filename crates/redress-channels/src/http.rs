//! The app's HTTP calls out: webhook calls ([`HttpWebhooks`]), the
//! calendar feed's GET ([`HttpFeeds`]) and the resolving of a URL's host
//! when it is set ([`SystemResolver`]), behind the seams of
//! [`redress_app::edges`].
//!
//! Where they may go is the app's policy ([`redress_app::egress`], SPEC
//! §9): unless private addresses are allowed, the clients resolve names
//! with [`PublicResolver`], which drops every address that is not public,
//! so that a name which resolved to a public address when it was
//! subscribed and to a private one later (DNS rebinding) is refused when
//! it is called; and they go out directly, never through a proxy, which
//! would connect on our behalf to an address this process never checks.

use redress_domain::Reason;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;
use redress_app::calendar_feed::{CONNECT_TIMEOUT as FEED_CONNECT_TIMEOUT, FEED_TIMEOUT};
use redress_app::calendar_feed::{MAX_REDIRECTS, hop_refused};
use redress_app::edges::{FeedFetcher, FeedRequest, FeedResponse, Resolver, WebhookTransport};
use redress_app::egress::{REFUSED, is_public};
use redress_app::webhooks::{CALL_TIMEOUT, CONNECT_TIMEOUT};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The clients' resolver: the system's answer without the addresses that
/// are not public; an error when none is left, so that a client never
/// connects to such an address.
#[derive(Debug, Default)]
pub struct PublicResolver;

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(REFUSED.into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// A client builder keeping to public addresses unless `allow_private`.
fn builder(allow_private: bool) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    if allow_private {
        builder
    } else {
        builder
            .dns_resolver(Arc::new(PublicResolver))
            // A proxy would connect on our behalf to an address this
            // process never checks: calls go out directly.
            .no_proxy()
    }
}

/// The innermost cause of `e` after `kind` ("could not connect:
/// Connection refused"), or `kind` alone when that cause is empty or
/// names a URL (the outer causes repeat it).
fn detail(kind: &str, e: &reqwest::Error) -> String {
    let mut root = std::error::Error::source(e);
    while let Some(next) = root.and_then(std::error::Error::source) {
        root = Some(next);
    }
    let detail = root.map(ToString::to_string).unwrap_or_default();
    if detail.is_empty() || detail.contains("://") {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

/// Webhook calls over HTTP.
pub struct HttpWebhooks {
    client: reqwest::Client,
}

impl HttpWebhooks {
    /// The webhook client; unless `allow_private`, it connects to public
    /// addresses only.
    pub fn new(allow_private: bool) -> Result<Self, String> {
        let client = builder(allow_private)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            // A receiver's redirect is its answer (logged with its code),
            // never followed: the subscribed URL is the only one called.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("redress-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("the webhook HTTP client: {e}"))?;
        Ok(Self { client })
    }
}

#[async_trait]
impl WebhookTransport for HttpWebhooks {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: String,
    ) -> Result<u16, String> {
        let mut request = self.client.post(url);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        match request.body(body).send().await {
            // The body is not read: the status is the answer.
            Ok(answer) => Ok(answer.status().as_u16()),
            Err(e) => Err(describe_call(&e)),
        }
    }
}

/// Why a webhook call got no answer, in words that hold neither the URL
/// nor anything secret.
fn describe_call(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_builder() {
        "could not build the request"
    } else {
        "the request failed"
    };
    detail(kind, e).chars().take(300).collect()
}

/// The calendar feed's GET over HTTP: the egress rules at every redirect
/// hop, a time limit, a bounded body.
pub struct HttpFeeds {
    client: reqwest::Client,
}

impl HttpFeeds {
    /// The feed client; unless `allow_private`, it connects to public
    /// addresses only, at every hop.
    pub fn new(allow_private: bool) -> Result<Self, String> {
        let client = builder(allow_private)
            .connect_timeout(FEED_CONNECT_TIMEOUT)
            .timeout(FEED_TIMEOUT)
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else if let Some(refused) = hop_refused(attempt.url(), allow_private) {
                    attempt.error(refused)
                } else {
                    attempt.follow()
                }
            }))
            .user_agent(concat!("redress-calendar/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("the calendar feed's HTTP client: {e}"))?;
        Ok(Self { client })
    }
}

/// Why a feed request got no answer, without the URL.
fn describe_fetch(e: &reqwest::Error) -> Reason {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_redirect() {
        "a redirect was refused"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    Reason::Unreachable {
        detail: detail(kind, e),
    }
}

#[async_trait]
impl FeedFetcher for HttpFeeds {
    async fn get(&self, r: FeedRequest<'_>) -> Result<FeedResponse, Reason> {
        let mut request = self.client.get(r.url);
        if let Some(etag) = r.etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = r.last_modified {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
        }
        let mut answer = request.send().await.map_err(|e| describe_fetch(&e))?;
        let status = answer.status();
        if !status.is_success() {
            return Ok(FeedResponse {
                status: status.as_u16(),
                etag: None,
                last_modified: None,
                body: Vec::new(),
            });
        }
        let too_large = Reason::FeedTooLarge { n: r.max_bytes };
        if answer
            .content_length()
            .is_some_and(|n| n > r.max_bytes as u64)
        {
            return Err(too_large);
        }
        let header = |name| {
            answer
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = header(reqwest::header::ETAG);
        let last_modified = header(reqwest::header::LAST_MODIFIED);
        let mut body = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(|e| describe_fetch(&e))? {
            if body.len() + chunk.len() > r.max_bytes {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FeedResponse {
            status: status.as_u16(),
            etag,
            last_modified,
            body,
        })
    }
}

/// The system's resolver (`getaddrinfo`, on a blocking thread).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

#[async_trait]
impl Resolver for SystemResolver {
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
        Ok(tokio::net::lookup_host((host, port))
            .await?
            .map(|a| a.ip())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redress_app::egress::check_target;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn targets_are_resolved_when_they_are_set() {
        let r = SystemResolver;
        assert!(check_target(&r, "http://localhost:9/").await.is_err());
        assert!(check_target(&r, "http://10.0.0.1/").await.is_err());
        assert!(check_target(&r, "http://[fe80::1]/").await.is_err());
        assert_eq!(
            check_target(&r, "http://nowhere.invalid/").await,
            Err(Reason::HostUnresolved)
        );
        assert!(check_target(&r, "https://8.8.8.8/").await.is_ok());
    }

    /// A server on 127.0.0.1 answering every request with `answer(head)`
    /// (the request's head and body, as text); its base URL and the
    /// requests it got.
    async fn serve(
        answer: impl Fn(&str) -> String + Send + Sync + 'static,
    ) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let answer = Arc::new(answer);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = log.clone();
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = socket.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        got.extend_from_slice(&buf[..n]);
                        let text = String::from_utf8_lossy(&got).to_string();
                        let Some(end) = text.find("\r\n\r\n") else {
                            continue;
                        };
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if got.len() < end + 4 + length {
                            continue;
                        }
                        log.lock().unwrap().push(text.clone());
                        let _ = socket.write_all(answer(&text).as_bytes()).await;
                        let _ = socket.shutdown().await;
                        return;
                    }
                });
            }
        });
        (base, seen)
    }

    #[tokio::test]
    async fn a_webhook_call_posts_the_headers_and_body_and_answers_the_status() {
        let (base, seen) =
            serve(|_| "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n".into()).await;
        let hooks = HttpWebhooks::new(true).unwrap();
        let headers = [
            ("content-type", "application/json".to_string()),
            ("Redress-Event", "decided".to_string()),
        ];
        let status = hooks
            .post(&format!("{base}/in"), &headers, r#"{"a":1}"#.into())
            .await;
        assert_eq!(status, Ok(202));
        let request = seen.lock().unwrap()[0].to_ascii_lowercase();
        assert!(request.starts_with("post /in http/1.1"), "{request}");
        assert!(request.contains("content-type: application/json"));
        assert!(request.contains("redress-event: decided"));
        assert!(request.contains("user-agent: redress-webhooks/"));
        assert!(request.ends_with(r#"{"a":1}"#));
    }

    #[tokio::test]
    async fn a_webhook_redirect_is_the_answer_and_no_answer_is_described() {
        let (base, seen) = serve(|_| {
            "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/\r\ncontent-length: 0\r\n\r\n"
                .into()
        })
        .await;
        let hooks = HttpWebhooks::new(true).unwrap();
        assert_eq!(hooks.post(&base, &[], String::new()).await, Ok(302));
        assert_eq!(seen.lock().unwrap().len(), 1);
        // Nothing listens on port 9 of the loopback.
        let why = hooks
            .post("http://127.0.0.1:9/in?token=secret", &[], String::new())
            .await
            .unwrap_err();
        assert!(why.starts_with("could not connect"), "{why}");
        assert!(!why.contains("secret") && !why.contains("://"), "{why}");
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_private_address_is_not_connected_to() {
        let (base, seen) = serve(|_| "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".into()).await;
        let port = base.rsplit(':').next().unwrap();
        let hooks = HttpWebhooks::new(false).unwrap();
        let why = hooks
            .post(&format!("http://localhost:{port}/in"), &[], String::new())
            .await
            .unwrap_err();
        assert!(why.contains("not public"), "{why}");
        assert!(seen.lock().unwrap().is_empty());
    }

    fn feed_request(url: &str, max_bytes: usize) -> FeedRequest<'_> {
        FeedRequest {
            url,
            etag: Some("\"v1\""),
            last_modified: None,
            max_bytes,
        }
    }

    #[tokio::test]
    async fn a_feed_get_is_conditional_and_bounded() {
        let (base, seen) = serve(|head| {
            if head.starts_with("GET /same") {
                "HTTP/1.1 304 Not Modified\r\n\r\n".into()
            } else if head.starts_with("GET /moved") {
                "HTTP/1.1 301 Moved\r\nlocation: /feed.ics\r\ncontent-length: 0\r\n\r\n".into()
            } else {
                "HTTP/1.1 200 OK\r\netag: \"v2\"\r\ncontent-length: 15\r\n\r\nBEGIN:VCALENDAR"
                    .into()
            }
        })
        .await;
        let feeds = HttpFeeds::new(true).unwrap();
        let same = feeds
            .get(feed_request(&format!("{base}/same"), 100))
            .await
            .unwrap();
        assert_eq!((same.status, same.body.len()), (304, 0));
        assert!(
            seen.lock().unwrap()[0]
                .to_ascii_lowercase()
                .contains("if-none-match: \"v1\"")
        );
        let moved = feeds
            .get(feed_request(&format!("{base}/moved"), 100))
            .await
            .unwrap();
        assert_eq!(moved.status, 200);
        assert_eq!(moved.etag.as_deref(), Some("\"v2\""));
        assert_eq!(moved.body, b"BEGIN:VCALENDAR");
        assert_eq!(
            feeds
                .get(feed_request(&format!("{base}/feed.ics"), 10))
                .await,
            Err(Reason::FeedTooLarge { n: 10 })
        );
    }

    #[tokio::test]
    async fn a_feed_redirect_hop_is_checked() {
        let (base, seen) = serve(|head| {
            let to = if head.starts_with("GET /inward") {
                "http://10.0.0.1/feed.ics"
            } else {
                "/loop"
            };
            format!("HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\n\r\n")
        })
        .await;
        // The first hop is the app's to check; the client checks the rest.
        let feeds = HttpFeeds::new(false).unwrap();
        let detail = |r: Result<FeedResponse, Reason>| match r {
            Err(Reason::Unreachable { detail }) => detail,
            other => panic!("{other:?}"),
        };
        let inward = detail(
            feeds
                .get(feed_request(&format!("{base}/inward"), 100))
                .await,
        );
        assert!(inward.starts_with("a redirect was refused"), "{inward}");
        assert!(inward.contains("not public"), "{inward}");
        assert_eq!(seen.lock().unwrap().len(), 1);
        // On the loopback, hops to it are allowed only with private
        // addresses allowed.
        let feeds = HttpFeeds::new(true).unwrap();
        let looping = detail(feeds.get(feed_request(&format!("{base}/loop"), 100)).await);
        assert!(looping.contains("too many redirects"), "{looping}");
        assert_eq!(seen.lock().unwrap().len(), 2 + MAX_REDIRECTS);
    }
}
