//! The global limit on requests in progress: beyond it a request is
//! answered `503` with `Retry-After` at once, never queued, so that a flood
//! cannot build a queue (and a memory footprint) that grows without bound.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Seconds a refused client is asked to wait.
pub const RETRY_AFTER_SECONDS: &str = "1";

/// Paths outside the limit: the health check (a busy instance is alive;
/// failing the probe would get it restarted) and the metrics (which show
/// the refusals).
fn exempt(path: &str) -> bool {
    path == "/healthz" || path == "/metrics"
}

/// Takes a permit for the request, held until its answer's body has been
/// sent (or dropped): a streamed export counts for as long as it streams.
/// Without a free permit: `503 overloaded` with `Retry-After`.
pub async fn concurrency(
    State(permits): State<Arc<Semaphore>>,
    req: Request,
    next: Next,
) -> Response {
    if exempt(req.uri().path()) {
        return next.run(req).await;
    }
    let Ok(permit) = permits.try_acquire_owned() else {
        metrics::counter!("redress_http_requests_refused_total", "reason" => "busy").increment(1);
        let mut refused = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the server is handling too many requests; try again shortly",
        )
        .into_response();
        refused.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
        return refused;
    };
    next.run(req).await.map(|body| {
        Body::new(body.map_frame(move |frame| {
            // The closure owns the permit: it is given back when the body
            // is finished or dropped.
            let _held = &permit;
            frame
        }))
    })
}

/// Requests per access code or portal key on the complainant's and the
/// respondent's calls and pages (SPEC §9; docs/security.md): one token
/// cannot flood them, whatever address it comes from. The limiter lives in
/// [`crate::AppState`] (its tables are swept with the others').
type TokenLimiter = Option<Arc<governor::DefaultKeyedRateLimiter<String>>>;

/// The token a tracking or portal request carries: its bearer token, or
/// the page cookie that holds the code or key.
fn request_token(req: &Request) -> Option<String> {
    let path = req.uri().path();
    let tracked = [
        "/api/v1/track/",
        "/api/v1/respondent/",
        "/track/",
        "/respondent/",
    ]
    .iter()
    .any(|p| path.starts_with(p));
    if !tracked {
        return None;
    }
    let headers = req.headers();
    crate::extract::bearer_token(headers).or_else(|| {
        ["rd_track", "rd_portal"]
            .iter()
            .find_map(|name| crate::pages::cookie(headers, name))
    })
}

pub async fn per_token(State(limiter): State<TokenLimiter>, req: Request, next: Next) -> Response {
    let (Some(limiter), Some(token)) = (limiter.as_ref(), request_token(&req)) else {
        return next.run(req).await;
    };
    // One code however it is typed (case, dashes, spaces).
    let token = redress_app::codes::normalize(&token).unwrap_or(token);
    let key = redress_app::privacy::token_hash(&token);
    if let Err(wait) = limiter.check_key(&key) {
        let seconds = wait
            .wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
            .as_secs()
            .max(1);
        metrics::counter!("redress_http_requests_refused_total", "reason" => "token_rate")
            .increment(1);
        return ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests with this code or key; try again in {seconds} seconds"),
        )
        .retry_after(seconds)
        .into_response();
    }
    next.run(req).await
}
