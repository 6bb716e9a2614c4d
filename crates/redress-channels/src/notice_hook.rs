//! Notices through the platform: a complainant the platform knows by user
//! id (`complainant.user_id`) can be told in the platform's own app. Each
//! such notice is POSTed, signed like the event webhooks (`docs/webhooks.md`,
//! "Notices to the platform's users"), to one URL the installation
//! configures (`notice_webhook`); the platform's `2xx` makes the delivery
//! `sent`. Retries, back-off and giving up are the delivery queue's, as for
//! e-mail and SMS.

use std::time::Duration;

use redress_app::outbound::{Outgoing, Sender};
use redress_app::webhooks::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature};
use redress_domain::SendOutcome;

/// The `Redress-Event` of a notice call.
pub const NOTICE_EVENT: &str = "notice";

/// Posts notices to the platform.
pub struct WebhookNotices {
    client: reqwest::Client,
    url: String,
    secret: String,
}

impl WebhookNotices {
    pub fn new(url: &str, secret: String) -> Result<Self, String> {
        let url =
            redress_app::webhooks::check_url(url).map_err(|why| format!("notice_webhook {why}"))?;
        if secret.len() < 16 {
            return Err("notice_webhook_secret must be at least 16 characters".into());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            // The configured URL is the only one called.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("redress-notices/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("the notice webhook client could not start: {e}"))?;
        Ok(Self {
            client,
            url,
            secret,
        })
    }
}

/// The body of a notice call.
pub fn payload(m: &Outgoing) -> String {
    serde_json::json!({
        "type": NOTICE_EVENT,
        "delivery_id": m.delivery_id,
        "case_id": m.case_id,
        "tracking_no": m.tracking_no,
        "notice": m.notice,
        "user_id": m.to,
        "locale": m.locale,
        "subject": m.subject,
        "body": m.body,
    })
    .to_string()
}

#[async_trait::async_trait]
impl Sender for WebhookNotices {
    async fn send(&self, m: &Outgoing) -> SendOutcome {
        let body = payload(m);
        // The wall clock: receivers compare it with their own.
        let t = chrono::Utc::now().timestamp();
        let request = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, NOTICE_EVENT)
            .header(DELIVERY_HEADER, m.delivery_id.as_str())
            .header(
                SIGNATURE_HEADER,
                signature(&self.secret, t, body.as_bytes()),
            )
            .body(body);
        let status = match request.send().await {
            Ok(answer) => answer.status(),
            Err(e) => {
                return SendOutcome::Temporary {
                    error: format!("the platform did not answer: {}", e.without_url()),
                };
            }
        };
        if status.is_success() {
            return SendOutcome::Sent {
                provider_id: format!("{} HTTP {}", m.delivery_id, status.as_u16()),
            };
        }
        let error = format!("the platform answered {status}");
        // A refused signature or credentials (401, 403) is a setting the
        // platform can fix: keep trying until the notices give up (48 h).
        let later = status.is_server_error() || matches!(status.as_u16(), 401 | 403 | 408 | 429);
        if later {
            SendOutcome::Temporary { error }
        } else {
            SendOutcome::Permanent { error }
        }
    }
}
