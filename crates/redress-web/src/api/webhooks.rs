//! `/webhooks…`: subscriptions of the platform's URLs to case events, the
//! log of calls made to them, and replays (docs/webhooks.md). For admins
//! and API keys with the `webhooks` scope.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use redress_app::commands::{CreateWebhookCommand, UpdateWebhookCommand};
use redress_app::webhooks::{
    CreatedWebhook, WebhookCallList, WebhookCallView, WebhookEventKinds, WebhookList, WebhookView,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::schemas::ErrorBody;
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};
use crate::state::AppState;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookBody {
    /// An `http://` or `https://` URL to a host by name (letters, digits,
    /// `-` and dots; the last label not a number), without user name,
    /// password or fragment. A host that is, or resolves to, a loopback,
    /// private or link-local address is refused unless the installation
    /// allows it (`webhook_allow_private`).
    #[schema(
        min_length = 8,
        max_length = 2048,
        pattern = "^https?://([A-Za-z0-9-]+\\.)*[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*\\.?(:[0-9]{1,4})?(/[!\"$-~]*)?$"
    )]
    pub url: String,
    /// Case event kinds (`GET /webhooks/events`), or `["*"]` for all.
    #[schema(min_items = 1)]
    pub events: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct WebhookPatchBody {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `false` stops the calls; `true` again catches up from where they stopped.
    pub active: Option<bool>,
}

/// Subscribes a URL to case events; later events reach it as signed POSTs
/// (`Redress-Signature: t=…,v1=…`, `Redress-Event`, `Redress-Delivery`).
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = WebhookBody,
    responses((status = 201, body = CreatedWebhook), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(who): Caller,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            s.app
                .create_webhook(&who, CreateWebhookCommand::read(&body.value))
                .await?,
        ),
    ))
}

/// Every subscription (`{items, total, next_cursor}`), each with the call
/// that waits for a retry, if any (`pending`).
#[utoipa::path(get, path = "/webhooks", tag = "webhooks",
    responses((status = 200, body = WebhookList), (status = 403, body = ErrorBody)))]
pub async fn list(State(s): State<AppState>, Caller(who): Caller) -> ApiResult<Json<WebhookList>> {
    Ok(Json(s.app.list_webhooks(&who).await?))
}

/// The case event kinds one may subscribe to.
#[utoipa::path(get, path = "/webhooks/events", tag = "webhooks",
    responses((status = 200, body = WebhookEventKinds), (status = 403, body = ErrorBody)))]
pub async fn events(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<WebhookEventKinds>> {
    Ok(Json(s.app.webhook_event_kinds(&who)?))
}

/// One subscription.
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(s.app.get_webhook(&who, &id).await?))
}

/// Changes what is given of `url`, `events` and `active`.
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    request_body = WebhookPatchBody,
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn patch(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(
        s.app
            .update_webhook(&who, &id, UpdateWebhookCommand::read(&body.value))
            .await?,
    ))
}

/// Deactivates a subscription; its call log stays readable.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(s.app.deactivate_webhook(&who, &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallParams {
    /// pending, delivered or failed
    #[param(value_type = Option<super::schemas::CallStateName>)]
    pub state: Option<String>,
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// The call log, newest event first: each call's state, attempt count,
/// last status code and error, its payload, and every attempt
/// (`attempts[]`: time, status code or error, duration, replay or not).
#[utoipa::path(get, path = "/webhooks/{id}/calls", tag = "webhooks",
    params(("id" = String, Path), CallParams),
    responses((status = 200, body = WebhookCallList), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn calls(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Params(p): Params<CallParams>,
) -> ApiResult<Json<WebhookCallList>> {
    Ok(Json(
        s.app
            .webhook_calls(
                &who,
                &id,
                p.state.as_deref(),
                p.limit.as_deref(),
                p.cursor.as_deref(),
            )
            .await?,
    ))
}

/// Sends a call's stored payload again now, with the same
/// `Redress-Delivery` and a fresh signature, and logs the attempt; a 2xx
/// makes the call `delivered`. Answers the call with its attempts.
#[utoipa::path(post, path = "/webhooks/calls/{call_id}/replay", tag = "webhooks",
    params(("call_id" = String, Path)),
    responses((status = 200, body = WebhookCallView), (status = 404, body = ErrorBody)))]
pub async fn replay(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(call_id): Path<String>,
) -> ApiResult<Json<WebhookCallView>> {
    Ok(Json(s.app.replay_webhook_call(&who, &call_id, None).await?))
}
