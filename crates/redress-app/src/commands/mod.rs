//! Typed request bodies ("commands") at the `App` boundary.
//!
//! Each command is read once at the edge: the API handlers call
//! `XCommand::parse(&body)` on the JSON they received, the pages build the
//! struct from their form fields (with `from_form` where a form's text needs
//! the same checks), and the `App` method takes the typed command. `parse`
//! reads with [`Body`](crate::input::Body), so every bad field of a body is
//! named in one answer, with the same reasons as before the commands
//! existed. Checks that need the store (does the category exist?) stay in
//! the `App` methods.
//!
//! A few bodies are answered together with the store's checks (a user's
//! departments, a department's head, a webhook's address) or only once
//! what the path names is found (a 404 comes before the body's
//! refusals). Those commands are read into a [`Parsed`], which holds the
//! body's refusals back for the `App` method to answer at its turn.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use redress_domain::{FieldErrors, Reason};

use crate::error::{AppError, AppResult};

/// A command whose body is one text field, read as `Body` reads it:
/// `required` (a non-blank string; also `from_form`, read as `Form`
/// reads it), `text` (a string, empty when absent;
/// the domain says whether it may be empty) or `optional` (`None` when
/// absent).
macro_rules! one_field_command {
    ($(#[$m:meta])* $name:ident: required $key:literal => $(#[$fm:meta])* $field:ident $(,)?) => {
        one_field_command!(@def $(#[$m])* $name, $(#[$fm])* $field: String, |b| b.str($key));

        impl $name {
            /// The same, from a page's form field.
            pub fn from_form($field: Option<&str>) -> AppResult<Self> {
                let mut f = Form::new();
                let $field = f.str($key, $field);
                f.finish()?;
                Ok(Self { $field })
            }
        }
    };
    ($(#[$m:meta])* $name:ident: text $key:literal => $(#[$fm:meta])* $field:ident $(,)?) => {
        one_field_command!(@def $(#[$m])* $name, $(#[$fm])* $field: String,
            |b| b.opt_str($key).unwrap_or_default());
    };
    ($(#[$m:meta])* $name:ident: optional $key:literal => $(#[$fm:meta])* $field:ident $(,)?) => {
        one_field_command!(@def $(#[$m])* $name, $(#[$fm])* $field: Option<String>,
            |b| b.opt_str($key));
    };
    (@def $(#[$m:meta])* $name:ident, $(#[$fm:meta])* $field:ident: $ty:ty, |$b:ident| $read:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $(#[$fm])*
            pub $field: $ty,
        }

        impl $name {
            pub fn parse(body: &serde_json::Value) -> AppResult<Self> {
                let mut $b = crate::input::Body::new(body);
                let $field = $read;
                $b.finish()?;
                Ok(Self { $field })
            }
        }
    };
}

pub mod admin;
pub mod cases;
pub mod directory;

pub use admin::*;
pub use cases::*;
pub use directory::*;

/// A command read with its refusals held back: the `App` method answers
/// a body that is not a JSON object first ([`Parsed::object`]), then what
/// must come before the fields (access, a 404), then every refusal of the
/// body and of its own checks in one answer ([`Parsed::finish`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed<T> {
    pub command: T,
    pub refused: FieldErrors,
}

impl<T> Parsed<T> {
    /// A command with nothing refused (built by a caller that checked it).
    pub fn ok(command: T) -> Self {
        Self {
            command,
            refused: FieldErrors::new(),
        }
    }

    /// Refuses a body that is not a JSON object, alone.
    pub fn object(&self) -> AppResult<()> {
        match self.refused.0.get("body") {
            Some(Reason::JsonObject) => Err(AppError::invalid("body", Reason::JsonObject)),
            _ => Ok(()),
        }
    }

    /// The command and the refusals to which the `App` adds its own.
    pub fn split(self) -> (T, FieldErrors) {
        (self.command, self.refused)
    }

    /// The command, unless the body had a refusal.
    pub fn finish(self) -> AppResult<T> {
        if self.refused.is_empty() {
            Ok(self.command)
        } else {
            Err(AppError::Invalid(self.refused))
        }
    }
}

/// Answers `errors` if there are any.
pub fn refuse_any(errors: FieldErrors) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Reading a page's form fields with the reasons [`crate::input::Body`]
/// gives for the same JSON fields. A field is `None` when the form left it
/// out or blank (the pages trim and drop blank fields).
#[derive(Debug, Default)]
pub struct Form {
    pub errors: FieldErrors,
}

impl Form {
    pub fn new() -> Self {
        Self::default()
    }

    /// A required string, as [`crate::input::Body::str`] reads it.
    pub fn str(&mut self, key: &str, value: Option<&str>) -> String {
        match value {
            Some(s) if !s.trim().is_empty() => s.to_string(),
            Some(_) => {
                self.errors.add(key, Reason::Empty);
                String::new()
            }
            None => {
                self.errors.add(key, Reason::Required);
                String::new()
            }
        }
    }

    /// A value of a closed set, as [`crate::input::Body::parsed`] reads it.
    pub fn parsed<T: FromStr<Err = Reason>>(
        &mut self,
        key: &str,
        value: Option<&str>,
        required: bool,
    ) -> Option<T> {
        match value {
            Some(s) => match s.parse() {
                Ok(v) => Some(v),
                Err(m) => {
                    self.errors.add(key, m);
                    None
                }
            },
            None => {
                if required {
                    self.errors.add(key, Reason::Required);
                }
                None
            }
        }
    }

    /// An instant, as [`crate::input::Body::instant`] reads it.
    pub fn instant(
        &mut self,
        key: &str,
        value: Option<&str>,
        required: bool,
    ) -> Option<DateTime<Utc>> {
        match value {
            Some(s) => match redress_domain::parse_instant(s) {
                Some(t) => Some(t),
                None => {
                    self.errors.add(key, Reason::Time);
                    None
                }
            },
            None => {
                if required {
                    self.errors.add(key, Reason::Required);
                }
                None
            }
        }
    }

    pub fn finish(self) -> AppResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.errors))
        }
    }
}
