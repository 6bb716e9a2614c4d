//! The life of a delivery that leaves the system (e-mail, SMS): queued with
//! the transition that owes it, tried by the sweep, retried with back-off
//! while the provider is unreachable, and settled as `sent` (with the
//! provider's id), `failed` (refused for good, or given up) or `bounced`.
//! The delivery record on the case is the proof of notice (SPEC §7).

use chrono::{DateTime, Duration, Utc};

use crate::case::{Case, Ctx, Delivery, Effects};
use crate::events::{self as ev, CaseEvent};
use crate::types::{DeliveryChannel, DeliveryStatus, NoticeKind, Party};

/// The first retry waits this long; each further one twice as long.
pub const FIRST_RETRY_SECONDS: i64 = 30;
/// No retry waits longer than this.
pub const MAX_RETRY_SECONDS: i64 = 3600;
/// A delivery still failing this long after it was queued is given up.
pub const GIVE_UP_HOURS: i64 = 48;
/// Temporary failures a delivery is allowed before it may be given up,
/// however long it waited (a notice held back by the hourly cap has made
/// no attempt in that time).
pub const MIN_ATTEMPTS: u32 = 5;

/// What one attempt to send a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Accepted by the provider, with the provider's message id.
    Sent { provider_id: String },
    /// Not now (connection refused, timeout, a 4xx reply): try again later.
    Temporary { error: String },
    /// Refused for good (a 5xx reply, an address the provider rejects).
    Permanent { error: String },
}

impl Delivery {
    /// A delivery owed to `recipient` on `channel` at `at`: queued for the
    /// sweep when it leaves the system, shown at once (so `sent`) in-app.
    pub fn owed(
        id: String,
        party: Party,
        notice: NoticeKind,
        channel: DeliveryChannel,
        recipient: String,
        at: DateTime<Utc>,
    ) -> Delivery {
        let in_app = channel == DeliveryChannel::InApp;
        Delivery {
            id,
            party,
            notice,
            channel,
            status: if in_app {
                DeliveryStatus::Sent
            } else {
                DeliveryStatus::Queued
            },
            created_at: at,
            sent_at: in_app.then_some(at),
            recipient,
            provider_id: None,
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
        }
    }

    /// A delivery that leaves the system and still waits to be sent.
    pub fn is_pending(&self) -> bool {
        self.status == DeliveryStatus::Queued && self.channel != DeliveryChannel::InApp
    }

    /// When the sweep should try it next (`None`: never again).
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.is_pending()
            .then(|| self.next_attempt_at.unwrap_or(self.created_at))
    }

    /// The wait before the attempt after `attempts` failed ones.
    pub fn backoff(attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        Duration::seconds((FIRST_RETRY_SECONDS << doublings).min(MAX_RETRY_SECONDS))
    }
}

impl Case {
    /// Deliveries the sweep should try at `now`.
    pub fn deliveries_due(&self, now: DateTime<Utc>) -> Vec<&Delivery> {
        self.deliveries
            .iter()
            .filter(|d| d.due_at().is_some_and(|at| at <= now))
            .collect()
    }

    /// The earliest instant a pending delivery wants the sweep.
    pub fn next_delivery_at(&self) -> Option<DateTime<Utc>> {
        self.deliveries.iter().filter_map(Delivery::due_at).min()
    }

    /// Puts a pending delivery off until `until` without counting an
    /// attempt (the installation's hourly cap was reached): it waits in
    /// the queue, and is never given up for it.
    pub fn defer_delivery(&mut self, id: &str, until: DateTime<Utc>) -> Effects {
        let Some(d) = self
            .deliveries
            .iter_mut()
            .find(|d| d.id == id && d.is_pending())
        else {
            return Effects::default();
        };
        d.next_attempt_at = Some(until);
        Effects::default().event(CaseEvent::DeliveryDeferred(ev::DeliveryDeferred {
            delivery_id: d.id.clone(),
            channel: d.channel,
            notice: d.notice,
            party: d.party,
            until,
        }))
    }

    /// Records the outcome of an attempt on delivery `id`. A delivery that
    /// is no longer pending (settled by another attempt) is left alone, so
    /// applying an outcome twice records it once. The first result notice
    /// that reaches the complainant starts the appeal window
    /// ([`Case::result_reached`]); a failure leaves it as it was.
    pub fn settle_delivery(&mut self, id: &str, outcome: &SendOutcome, ctx: &Ctx) -> Effects {
        let now = ctx.now;
        let Some(d) = self
            .deliveries
            .iter_mut()
            .find(|d| d.id == id && d.is_pending())
        else {
            return Effects::default();
        };
        d.attempts += 1;
        let attempt = ev::DeliveryAttempt {
            delivery_id: d.id.clone(),
            channel: d.channel,
            notice: d.notice,
            party: d.party,
            attempts: d.attempts,
        };
        let mut event = match outcome {
            SendOutcome::Sent { provider_id } => {
                d.status = DeliveryStatus::Sent;
                d.sent_at = Some(now);
                d.provider_id = Some(provider_id.clone());
                d.next_attempt_at = None;
                d.last_error = None;
                CaseEvent::DeliverySent(ev::DeliverySent {
                    attempt,
                    provider_id: provider_id.clone(),
                    appeal: None,
                })
            }
            SendOutcome::Temporary { error }
                if now - d.created_at < Duration::hours(GIVE_UP_HOURS)
                    || d.attempts < MIN_ATTEMPTS =>
            {
                let next = now + Delivery::backoff(d.attempts);
                d.next_attempt_at = Some(next);
                d.last_error = Some(error.clone());
                CaseEvent::DeliveryRetry(ev::DeliveryRetry {
                    attempt,
                    next_attempt_at: next,
                    error: error.clone(),
                })
            }
            SendOutcome::Temporary { error } | SendOutcome::Permanent { error } => {
                d.status = DeliveryStatus::Failed;
                d.next_attempt_at = None;
                d.last_error = Some(error.clone());
                CaseEvent::DeliveryFailed(ev::DeliveryFailed {
                    attempt,
                    error: error.clone(),
                })
            }
        };
        let result = d.notice == NoticeKind::Result;
        if let CaseEvent::DeliverySent(sent) = &mut event
            && result
            && let Some((previous, due)) = self.result_reached(now, ctx)
        {
            sent.appeal = Some(ev::AppealWindowMoved {
                previous_appeal_due_at: previous,
                appeal_due_at: due,
            });
        }
        Effects::default().event(event)
    }

    /// Marks a sent e-mail delivery as bounced (a delivery status
    /// notification came back for it).
    pub fn bounce_delivery(&mut self, id: &str, reason: &str) -> Effects {
        let Some(d) = self.deliveries.iter_mut().find(|d| {
            d.id == id && d.channel == DeliveryChannel::Email && d.status == DeliveryStatus::Sent
        }) else {
            return Effects::default();
        };
        d.status = DeliveryStatus::Bounced;
        d.last_error = Some(reason.to_string());
        Effects::default().event(CaseEvent::DeliveryBounced(ev::DeliveryBounced {
            delivery_id: d.id.clone(),
            channel: d.channel,
            notice: d.notice,
            reason: reason.to_string(),
        }))
    }
}
