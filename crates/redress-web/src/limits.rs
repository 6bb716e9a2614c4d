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
