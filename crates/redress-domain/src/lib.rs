//! The complaint lifecycle of redress: who may do what to a case and when,
//! expressed as types and pure functions. Nothing here performs I/O; the
//! application layer loads a [`Case`], asks it to make a transition and
//! persists the events it returns.

pub mod calendar;
pub mod case;
pub mod deadline;
pub mod error;
pub mod events;
pub mod outbound;
pub mod policy;
pub mod reason;
pub mod registration;
pub mod reply;
pub mod suggest;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod text;
pub mod types;

pub use calendar::Calendar;
pub use case::*;
pub use deadline::{Alert, AlertKind, Pause, Recipient, Stage, StageClock, Unit};
pub use error::{FieldErrors, Refusal};
pub use outbound::SendOutcome;
pub use policy::{AlertPolicy, DeadlinePolicy, EscalationStep, Level, StageDays, StageHours};
pub use reason::Reason;
pub use registration::*;
pub use reply::{ReplyAlert, ReplyDeadline, ReplyRecord};
pub use types::*;
