//! Rows of the held-mail queue: e-mail the receiver accepted but could not
//! put on a case by itself (a reply from someone other than the case's
//! complainant, or naming a case that does not exist). An agent attaches
//! each to a case or discards it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a held mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldMailState {
    Held,
    Attached,
    Discarded,
}

impl HeldMailState {
    pub fn as_str(self) -> &'static str {
        match self {
            HeldMailState::Held => "held",
            HeldMailState::Attached => "attached",
            HeldMailState::Discarded => "discarded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "held" => Some(HeldMailState::Held),
            "attached" => Some(HeldMailState::Attached),
            "discarded" => Some(HeldMailState::Discarded),
            _ => None,
        }
    }
}

/// One held mail. Sender, subject and the raw message are personal data:
/// the application seals them before they reach the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldMail {
    pub id: Uuid,
    /// Assigned by the store; the order of the list and its cursor.
    pub seq: i64,
    /// The message's idempotency key (hash of its Message-ID): a mail
    /// delivered twice is held once.
    pub mail_key: String,
    pub received_at: DateTime<Utc>,
    /// Sealed.
    pub sender: String,
    /// Sealed.
    pub subject: String,
    /// The tracking number the mail named, if any.
    pub tracking_no: Option<String>,
    /// The case that number (or a Message-ID of ours) points to, if any.
    pub case_id: Option<Uuid>,
    /// Sealed, base64 of the raw message. Empty in lists.
    pub raw: String,
    /// The raw message's size in bytes.
    pub size: i64,
    pub state: HeldMailState,
    /// `kind:id` of the agent who attached or discarded it.
    pub settled_by: Option<String>,
    pub settled_at: Option<DateTime<Utc>>,
    /// The case it was attached to.
    pub attached_to: Option<Uuid>,
}
