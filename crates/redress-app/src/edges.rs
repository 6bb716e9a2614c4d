//! What the use cases need from the world, as small traits (issue 17
//! item 7). The app keeps the policy — what a webhook call carries and how
//! it is signed, its retry schedule and what counts as delivered, which
//! addresses may be called ([`crate::egress`]), how evidence files are
//! named and sealed — and asks these seams for the I/O. Their
//! implementations (HTTP with reqwest, name resolution, the evidence object
//! store) live in `redress-channels`, the edges of the world; the binary
//! hands them to [`crate::App::new`] in an [`Edges`].

use redress_domain::Reason;
use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Sends webhook calls: one signed POST at a time.
#[async_trait]
pub trait WebhookTransport: Send + Sync {
    /// POSTs `body` to `url` with `headers` (the app's, signature among
    /// them), within [`crate::webhooks::CONNECT_TIMEOUT`] and
    /// [`crate::webhooks::CALL_TIMEOUT`], never following a redirect and,
    /// unless private addresses are allowed, connecting to public
    /// addresses only. The status answered (the body is not read), or why
    /// no answer came, in words that hold neither the URL nor anything
    /// secret (at most 300 characters).
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: String,
    ) -> Result<u16, String>;
}

/// One conditional GET of the calendar feed.
#[derive(Debug, Clone, Copy)]
pub struct FeedRequest<'a> {
    pub url: &'a str,
    /// `If-None-Match`.
    pub etag: Option<&'a str>,
    /// `If-Modified-Since`.
    pub last_modified: Option<&'a str>,
    /// The largest body read: a larger one is [`Reason::FeedTooLarge`].
    pub max_bytes: usize,
}

/// What a GET of the feed was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedResponse {
    pub status: u16,
    /// `ETag` and `Last-Modified` of a 2xx answer.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The body of a 2xx answer (empty for any other status, whose body
    /// is not read).
    pub body: Vec<u8>,
}

/// Fetches the calendar feed.
#[async_trait]
pub trait FeedFetcher: Send + Sync {
    /// One GET within [`crate::calendar_feed::FEED_TIMEOUT`], following at
    /// most [`crate::calendar_feed::MAX_REDIRECTS`] redirects, each hop
    /// checked with [`crate::calendar_feed::hop_refused`] (and, unless
    /// private addresses are allowed, names connected to on public
    /// addresses only). No answer is [`Reason::Unreachable`], whose
    /// detail holds no URL; a body over `max_bytes` is
    /// [`Reason::FeedTooLarge`].
    async fn get(&self, request: FeedRequest<'_>) -> Result<FeedResponse, Reason>;
}

/// Resolves host names (for the check of a URL when it is set,
/// [`crate::egress::check_target`]).
#[async_trait]
pub trait Resolver: Send + Sync {
    /// Every address `host` resolves to.
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>>;
}

/// Where evidence files are kept: objects under keys `<2 hex>/<name>`,
/// as the app names and seals them ([`crate::evidence::EvidenceStore`]).
#[async_trait]
pub trait EvidenceBackend: Send + Sync {
    /// For logs and messages: the directory or the bucket URL.
    fn description(&self) -> String;
    /// Whether the objects live on this machine's disk.
    fn is_local(&self) -> bool;
    /// Whether an object is stored under `key`.
    async fn exists(&self, key: &str) -> std::io::Result<bool>;
    /// Stores `data` under `key`, durably (on a local disk the file and its
    /// directory are synced) before it answers.
    async fn put(&self, key: &str, data: Vec<u8>) -> std::io::Result<()>;
    /// The bytes under `key`; an error of kind `NotFound` when none.
    async fn get(&self, key: &str) -> std::io::Result<Vec<u8>>;
    /// Removes the object under `key`; no error when there is none.
    async fn delete(&self, key: &str) -> std::io::Result<()>;
    /// The keys under the directory `prefix` (`00`…`ff`) with the time each
    /// object was written; an object removed while listed is left out.
    async fn list(&self, prefix: &str) -> std::io::Result<Vec<(String, DateTime<Utc>)>>;
}

/// The implementations the app is built with.
#[derive(Clone)]
pub struct Edges {
    pub webhooks: Arc<dyn WebhookTransport>,
    pub feeds: Arc<dyn FeedFetcher>,
    pub resolver: Arc<dyn Resolver>,
    pub evidence: Arc<dyn EvidenceBackend>,
}

impl std::fmt::Debug for Edges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Edges")
            .field("evidence", &self.evidence.description())
            .finish_non_exhaustive()
    }
}
