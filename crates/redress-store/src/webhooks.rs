//! Rows of the webhook tables: subscriptions (a URL, the event kinds it
//! wants, its signing secret sealed by the application, and its place in
//! the journal) and the calls made to them, with every attempt.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A URL subscribed to case events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSubscription {
    pub id: Uuid,
    pub url: String,
    /// Journal event kinds, or `["*"]` for every case event.
    pub events: Vec<String>,
    /// The signing secret, sealed by the application (never stored clear).
    pub secret: String,
    pub active: bool,
    /// The last journal `seq` this subscription has dealt with: every case
    /// event after it is still to be looked at.
    pub cursor: i64,
    /// `kind:id` of whoever made it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookCallState {
    /// Not yet answered with a 2xx; retried at `next_attempt_at`.
    Pending,
    Delivered,
    /// Given up (a day of failures); the subscription went on without it.
    Failed,
}

impl WebhookCallState {
    pub const ALL: [WebhookCallState; 3] = [
        WebhookCallState::Pending,
        WebhookCallState::Delivered,
        WebhookCallState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookCallState::Pending => "pending",
            WebhookCallState::Delivered => "delivered",
            WebhookCallState::Failed => "failed",
        }
    }
}

impl std::str::FromStr for WebhookCallState {
    type Err = redress_domain::Reason;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WebhookCallState::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                redress_domain::Reason::one_of(WebhookCallState::ALL.iter().map(|x| x.as_str()))
            })
    }
}

impl std::fmt::Display for WebhookCallState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One journal event owed to one subscription, and how its delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookCall {
    /// Also the `Redress-Delivery` header: the same on every attempt.
    pub id: Uuid,
    pub subscription_id: Uuid,
    /// The journal event's `seq`; a subscription has one call per event.
    pub event_seq: i64,
    pub case_id: Option<Uuid>,
    pub event_kind: String,
    pub state: WebhookCallState,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub first_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When a pending call is tried next.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The exact body sent (and re-sent on a replay).
    pub payload: String,
}

/// One HTTP request made for a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAttempt {
    pub call_id: Uuid,
    /// 1, 2, … in the order they were made (given by the store).
    pub n: i32,
    pub at: DateTime<Utc>,
    /// The HTTP status answered, if any answer came.
    pub status: Option<i32>,
    /// Why it failed without an answer (time-out, refused connection, …).
    pub error: Option<String>,
    pub duration_ms: i64,
    /// Made by a replay from the console or API, not by the dispatcher.
    pub replay: bool,
}

/// What an attempt does to its call, besides being recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEffect {
    /// A 2xx: the call is delivered (whatever it was).
    Delivered,
    /// A failure of a pending call: try again at this time.
    RetryAt(DateTime<Utc>),
    /// A failure of a pending call after a day of trying: `failed`.
    GiveUp,
    /// A replay that failed: the call stays as it is.
    Keep,
}
