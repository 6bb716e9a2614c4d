//! The SMS provider seam. Real gateways differ in every detail, so the
//! adapter is small: [`HttpSms`] posts `{id, to, text}` as JSON to a
//! configured endpoint and takes `{message_id}` back; [`LogSms`] only
//! writes the message to the log (for development and for installations
//! without a gateway, where it must be chosen explicitly).

use std::time::Duration;

use redress_app::outbound::{Outgoing, Sender};
use redress_domain::SendOutcome;

/// Writes each SMS to the log instead of sending it.
#[derive(Debug, Default)]
pub struct LogSms;

#[async_trait::async_trait]
impl Sender for LogSms {
    async fn send(&self, m: &Outgoing) -> SendOutcome {
        tracing::info!(delivery = %m.delivery_id, chars = m.body.chars().count(), "SMS (logging adapter, not sent to a gateway)");
        SendOutcome::Sent {
            provider_id: format!("log:{}", m.delivery_id),
        }
    }
}

/// Posts each SMS to an HTTP gateway.
pub struct HttpSms {
    client: reqwest::Client,
    endpoint: String,
    token: Option<String>,
}

impl HttpSms {
    pub fn new(endpoint: &str, token: Option<String>) -> Result<Self, String> {
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err("sms.endpoint must be an http:// or https:// URL".into());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("the SMS client could not start: {e}"))?;
        Ok(Self {
            client,
            endpoint: endpoint.to_string(),
            token,
        })
    }
}

#[derive(serde::Deserialize)]
struct GatewayAnswer {
    message_id: String,
}

#[async_trait::async_trait]
impl Sender for HttpSms {
    async fn send(&self, m: &Outgoing) -> SendOutcome {
        let mut request = self.client.post(&self.endpoint).json(&serde_json::json!({
            "id": m.delivery_id,
            "to": m.to,
            "text": m.body,
            "locale": m.locale,
        }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return SendOutcome::Temporary {
                    error: format!("the SMS gateway did not answer: {}", e.without_url()),
                };
            }
        };
        let status = response.status();
        if status.is_success() {
            return match response.json::<GatewayAnswer>().await {
                Ok(a) => SendOutcome::Sent {
                    provider_id: a.message_id.chars().take(200).collect(),
                },
                // Taken, but without the promised id: sent, and say so.
                Err(_) => SendOutcome::Sent {
                    provider_id: format!("unknown ({status})"),
                },
            };
        }
        let error = format!("the SMS gateway answered {status}");
        if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
            SendOutcome::Permanent { error }
        } else {
            SendOutcome::Temporary { error }
        }
    }
}
