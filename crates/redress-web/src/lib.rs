//! HTTP for redress: the JSON API under `/api/v1` with its OpenAPI
//! document, health and Prometheus metrics, and the web pages (`pages`).

pub mod api;
pub mod error;
pub mod extract;
pub mod limits;
pub mod metrics;
pub mod pages;
pub mod state;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use redress_app::App;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;

pub use state::AppState;

/// Options of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// Public intake per client address, requests per minute (0: off).
    pub public_rate_per_minute: u32,
    /// Tracking and portal requests per access code or portal key, per
    /// minute (0: off; [`limits::per_token`]).
    pub token_rate_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (empty:
    /// the TCP peer is the client).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Serves `/metrics` on this router; off when metrics have a listener
    /// of their own ([`metrics::router`]).
    pub serve_metrics: bool,
    /// Requests in progress at most (0: no limit); beyond, `503` with
    /// `Retry-After` ([`limits::concurrency`]).
    pub max_concurrent_requests: usize,
}

impl Default for WebOptions {
    fn default() -> Self {
        Self {
            public_rate_per_minute: 60,
            token_rate_per_minute: 120,
            trusted_proxies: Vec::new(),
            serve_metrics: true,
            max_concurrent_requests: 512,
        }
    }
}

pub fn router(app: Arc<App>, options: WebOptions) -> Router {
    // An evidence file and its multipart framing (and the form's fields).
    let upload_limit = app.evidence.max_bytes as usize + 64 * 1024;
    let tls = app.config.public_url.starts_with("https://");
    let state = AppState::new(
        app,
        options.public_rate_per_minute,
        options.token_rate_per_minute,
        options.trusted_proxies.clone(),
    );
    let trusted = state.trusted_proxies.clone();
    let (api, mut openapi) = OpenApiRouter::with_openapi(api::doc())
        .nest("/api/v1", api::router(upload_limit))
        .split_for_parts();
    api::contract::finish(&mut openapi);
    let openapi = Arc::new(openapi);
    let pages = pages::router(upload_limit, tls);
    let mut router = Router::new().merge(api).merge(pages);
    if options.serve_metrics {
        router = router.route("/metrics", get(metrics::render));
    }
    router
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/healthz", get(api::ops::health))
        .fallback(|| async { error::ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this path does not take that method",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(tokio::sync::Semaphore::new(
                match options.max_concurrent_requests {
                    0 => tokio::sync::Semaphore::MAX_PERMITS,
                    n => n,
                },
            )),
            limits::concurrency,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.token_limiter.clone(),
            limits::per_token,
        ))
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(
            // The client in every request's log line is the one the rate
            // limits count (`extract::client_ip`).
            TraceLayer::new_for_http().make_span_with(move |req: &axum::http::Request<_>| {
                let client =
                    extract::client_ip(extract::peer(req.extensions()), req.headers(), &trusted);
                tracing::debug_span!(
                    "request",
                    method = %req.method(),
                    uri = %req.uri().path(),
                    client = client.map(tracing::field::display),
                )
            }),
        )
        .layer(CatchPanicLayer::new())
        .with_state(state)
}
