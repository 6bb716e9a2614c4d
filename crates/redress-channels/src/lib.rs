//! The edges of the world: how mail comes in and how notices go out.
//!
//! - [`relay`]: e-mail notices over SMTP to the installation's relay (lettre).
//! - [`sms`]: the SMS provider seam: a logging adapter and an HTTP gateway.
//! - [`notice_hook`]: notices to complainants the platform knows by user id,
//!   posted (signed) to the platform, which shows them in its own app.
//! - [`smtp`]: the SMTP receiver mailed complaints arrive by (STARTTLS,
//!   SIZE, per-sender limits); the application supplies a [`smtp::MailHandler`].
//! - [`intake`]: that handler: received mail goes to the application's
//!   mail use case, and a `250` only follows a stored result.
//!
//! - [`http`]: the app's HTTP calls out — webhook calls, the calendar
//!   feed's GET — and the resolving of a URL's host, keeping to public
//!   addresses (the app's `egress` rules).
//! - [`evidence`]: where evidence files are kept (`object_store`: a local
//!   directory or an S3-compatible bucket).
//!
//! Each outbound adapter implements [`redress_app::outbound::Sender`]; the
//! binary picks them from its settings. The HTTP clients and the evidence
//! store implement the seams of [`redress_app::edges`], which [`edges`]
//! gathers for `App::new`.

pub mod evidence;
pub mod http;
pub mod intake;
pub mod notice_hook;
pub mod relay;
pub mod sms;
pub mod smtp;

use std::path::Path;
use std::sync::Arc;

/// The app's edges: the HTTP clients (public addresses only unless
/// `allow_private`, the `webhook_allow_private` setting), the system's
/// resolver and the evidence store at `evidence`.
pub fn edges(
    allow_private: bool,
    evidence: &evidence::EvidenceLocation,
    data_dir: &Path,
) -> Result<redress_app::Edges, String> {
    Ok(redress_app::Edges {
        webhooks: Arc::new(http::HttpWebhooks::new(allow_private)?),
        feeds: Arc::new(http::HttpFeeds::new(allow_private)?),
        resolver: Arc::new(http::SystemResolver),
        evidence: Arc::new(evidence::ObjectEvidence::open(evidence, data_dir)?),
    })
}
