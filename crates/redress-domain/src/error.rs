//! Why the domain says no. The web layer maps each variant onto an HTTP
//! status: `WrongState` → 409, `Forbidden` → 403, `Invalid` → 422.

use std::collections::BTreeMap;

use serde::Serialize;

/// Field name → what is wrong with it, in English. Ordered so that error
/// bodies are stable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
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
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Refusal::Invalid(FieldErrors::single(field, message))
    }
}
