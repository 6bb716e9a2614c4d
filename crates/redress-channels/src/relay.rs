//! E-mail notices over SMTP (`REDRESS_SMTP_RELAY`, e.g. `smtp://127.0.0.1:25`,
//! `smtp://user:pass@relay:587?tls=required`, `smtps://relay:465`).

use std::time::Duration;

use lettre::message::{Mailbox, Message, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use redress_app::outbound::{Outgoing, Sender};
use redress_domain::SendOutcome;

/// Sends notices through one SMTP relay.
pub struct SmtpRelay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The domain of the Message-IDs (`<delivery id>.<case id>@domain`).
    domain: String,
}

impl SmtpRelay {
    /// A relay at `url` sending as `from` (`Name <address>` or an address).
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("mail_from {from:?} is not an address: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("smtp_relay is not an SMTP URL: {e}"))?
            .timeout(Some(Duration::from_secs(15)))
            // The sweep sends up to 32 cases' notices at once; a smaller
            // pool opens and closes a connection for most of them.
            .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(32))
            .build();
        let domain = from.email.domain().to_string();
        Ok(Self {
            transport,
            from,
            domain,
        })
    }

    /// The stable Message-ID of a delivery: a resend after a crash carries
    /// the same one, and a bounce or a reply names it, with the case.
    pub fn message_id(&self, m: &Outgoing) -> String {
        format!("<{}.{}@{}>", m.delivery_id, m.case_id, self.domain)
    }

    fn build(&self, m: &Outgoing) -> Result<Message, String> {
        let to: Mailbox =
            m.to.parse()
                .map_err(|e| format!("the recipient address is not valid: {e}"))?;
        let mut builder = Message::builder().from(self.from.clone()).to(to);
        if let Some(reply_to) = m.reply_to.as_deref()
            && let Ok(reply_to) = reply_to.parse::<Mailbox>()
        {
            builder = builder.reply_to(reply_to);
        }
        let builder = builder
            .subject(m.subject.clone())
            .message_id(Some(self.message_id(m)))
            .header(AutoSubmitted)
            .header(ContentLanguage(m.locale.as_str().to_string()));
        let built = if m.attachments.is_empty() {
            builder.header(ContentType::TEXT_PLAIN).body(m.body.clone())
        } else {
            let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(m.body.clone()));
            for a in &m.attachments {
                let content_type = ContentType::parse(&a.content_type)
                    .map_err(|e| format!("an attachment's type is not valid: {e}"))?;
                parts = parts.singlepart(
                    lettre::message::Attachment::new(a.filename.clone())
                        .body(a.bytes.clone(), content_type),
                );
            }
            builder.multipart(parts)
        };
        built.map_err(|e| format!("the message could not be built: {e}"))
    }
}

#[async_trait::async_trait]
impl Sender for SmtpRelay {
    async fn send(&self, m: &Outgoing) -> SendOutcome {
        let message = match self.build(m) {
            Ok(message) => message,
            Err(error) => return SendOutcome::Permanent { error },
        };
        match self.transport.send(message).await {
            // The proof: our Message-ID and the relay's own answer (its
            // queue id, where it gives one).
            Ok(response) => {
                let answer = response.message().collect::<Vec<_>>().join(" ");
                let provider_id = format!("{} {}", self.message_id(m), answer);
                SendOutcome::Sent {
                    provider_id: provider_id.trim().chars().take(250).collect(),
                }
            }
            Err(e) => outcome_of(&e),
        }
    }
}

/// A relay's refusal: a permanent (5xx) reply fails the delivery, anything
/// else (a 4xx reply, no connection, a timeout) is tried again later.
fn outcome_of(e: &SmtpError) -> SendOutcome {
    let error = e.to_string().chars().take(300).collect();
    if e.is_permanent() {
        SendOutcome::Permanent { error }
    } else {
        SendOutcome::Temporary { error }
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no auto-reply loops.
#[derive(Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// `Content-Language`, so that mail clients pick fonts and spell checkers.
#[derive(Clone)]
struct ContentLanguage(String);

impl lettre::message::header::Header for ContentLanguage {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Content-Language")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.into()))
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}
