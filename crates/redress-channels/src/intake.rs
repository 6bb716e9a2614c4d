//! The receiver's application side: each accepted message goes to
//! [`App::receive_mail`], and its answer becomes the SMTP reply. A `250`
//! is given only after the case, message or held mail is stored.

use std::sync::Arc;

use redress_app::App;
use redress_app::error::AppError;
use redress_app::mail::Envelope as MailEnvelope;

use crate::smtp::{Envelope, MailHandler, Verdict};

/// Hands received mail to the application.
pub struct MailIntake {
    app: Arc<App>,
}

impl MailIntake {
    pub fn new(app: Arc<App>) -> Self {
        Self { app }
    }
}

#[async_trait::async_trait]
impl MailHandler for MailIntake {
    async fn deliver(&self, envelope: Envelope, message: Vec<u8>) -> Verdict {
        let env = MailEnvelope {
            mail_from: envelope.mail_from.clone(),
            rcpt_to: envelope.rcpt_to.clone(),
        };
        match self.app.receive_mail(&env, &message).await {
            Ok(d) => {
                tracing::info!(
                    peer = %envelope.peer,
                    size = message.len(),
                    disposition = %d.reference(),
                    "mail received"
                );
                Verdict::Accepted { id: d.reference() }
            }
            // A message we cannot make a complaint of, said in words the
            // sender's mail server puts in its bounce.
            Err(AppError::Invalid(errors)) => {
                let why = errors
                    .0
                    .iter()
                    .map(|(f, m)| format!("{f}: {m}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                tracing::info!(peer = %envelope.peer, reason = %why, "mail refused");
                Verdict::Reject(format!("message refused ({why})"))
            }
            Err(AppError::TooLarge(m)) => Verdict::Reject(m),
            Err(e) => {
                tracing::error!(peer = %envelope.peer, error = %e, "storing a received mail failed");
                Verdict::TempFail("the message could not be stored now; try again later".into())
            }
        }
    }
}

/// The STARTTLS configuration from a PEM certificate chain and key.
pub fn tls_config(
    cert_pem: &std::path::Path,
    key_pem: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert_pem)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("smtp_tls_cert {}: {e}", cert_pem.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "smtp_tls_cert {}: no certificate",
            cert_pem.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_pem)
        .map_err(|e| format!("smtp_tls_key {}: {e}", key_pem.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("smtp_tls_cert/smtp_tls_key: {e}"))?;
    Ok(Arc::new(config))
}
