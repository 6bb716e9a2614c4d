//! The application's error type. The web layer turns each variant into an
//! HTTP status and the SPEC error body; `Internal` is logged and never shown.

use redress_domain::Reason;
use redress_domain::{FieldErrors, Refusal};
use redress_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not there, or not visible to the caller (the two are not told apart).
    #[error("not found")]
    NotFound,
    #[error("credentials are missing or wrong")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("invalid fields: {0:?}")]
    Invalid(FieldErrors),
    /// The case's state does not allow the action.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("too many requests")]
    RateLimited,
    /// Too many failed guesses: try again after this many seconds.
    #[error("too many failed attempts; try again in {0} s")]
    Throttled(u64),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(field: &str, reason: redress_domain::Reason) -> Self {
        AppError::Invalid(FieldErrors::single(field, reason))
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::WrongState { .. } => AppError::Conflict(r.to_string()),
            Refusal::Forbidden(m) => AppError::Forbidden(m),
            Refusal::Full(m) => AppError::Conflict(m),
            Refusal::Invalid(f) => AppError::Invalid(f),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(f: FieldErrors) -> Self {
        AppError::Invalid(f)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::VersionConflict => {
                AppError::Conflict("the case was changed by someone else at the same moment".into())
            }
            StoreError::Duplicate(what) => AppError::invalid(
                what,
                Reason::TakenWhat {
                    what: what.to_string(),
                },
            ),
            StoreError::Missing(what) => AppError::invalid(what, Reason::no_such(what)),
            StoreError::Deadlock(e) | StoreError::Serialization(e) | StoreError::Backend(e) => {
                AppError::Internal(e.to_string())
            }
        }
    }
}
