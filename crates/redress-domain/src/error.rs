//! Why the domain says no. The web layer maps each variant onto an HTTP
//! status: `WrongState` → 409, `Forbidden` → 403, `Invalid` → 422.

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::reason::Reason;

/// Field name → why it was refused. Ordered so that error bodies are
/// stable; serialised as field → English sentence (the API's `fields`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub BTreeMap<String, Reason>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the first reason given for `field`.
    pub fn add(&mut self, field: impl Into<String>, reason: Reason) {
        self.0.entry(field.into()).or_insert(reason);
    }

    /// Field → machine code (the API's `reasons`).
    pub fn codes(&self) -> BTreeMap<&str, &'static str> {
        self.0.iter().map(|(f, r)| (f.as_str(), r.code())).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn single(field: impl Into<String>, reason: Reason) -> Self {
        let mut errors = Self::new();
        errors.add(field, reason);
        errors
    }

    /// `Ok(())` when nothing was recorded, the refusal otherwise.
    pub fn into_result(self) -> Result<(), Refusal> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Refusal::Invalid(self))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The case's state does not allow the action.
    #[error("the case is {status} and cannot be {action}")]
    WrongState {
        status: String,
        action: &'static str,
    },
    /// The action is allowed in this state, but not for this person.
    #[error("{0}")]
    Forbidden(String),
    /// The case holds as much of something as a case may (messages,
    /// evidence files): 409, with what is full.
    #[error("{0}")]
    Full(String),
    /// Missing or invalid fields, each named.
    #[error("invalid fields: {}", .0.0.keys().cloned().collect::<Vec<_>>().join(", "))]
    Invalid(FieldErrors),
}

impl Refusal {
    pub fn invalid(field: impl Into<String>, reason: Reason) -> Self {
        Refusal::Invalid(FieldErrors::single(field, reason))
    }
}
