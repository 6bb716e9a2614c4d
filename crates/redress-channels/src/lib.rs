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
//! Each outbound adapter implements [`redress_app::outbound::Sender`]; the
//! binary picks them from its settings.

pub mod intake;
pub mod notice_hook;
pub mod relay;
pub mod sms;
pub mod smtp;
