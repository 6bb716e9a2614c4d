//! Reading request bodies field by field, so that every bad field is named
//! in one answer (serde would stop at the first).

use redress_domain::Reason;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use redress_domain::FieldErrors;
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};

pub struct Body<'a> {
    obj: Option<&'a Map<String, Value>>,
    pub errors: FieldErrors,
}

impl<'a> Body<'a> {
    pub fn new(v: &'a Value) -> Self {
        let mut errors = FieldErrors::new();
        let obj = v.as_object();
        if obj.is_none() && !v.is_null() {
            errors.add("body", Reason::JsonObject);
        }
        Self { obj, errors }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj.and_then(|o| o.get(key)).filter(|v| !v.is_null())
    }

    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.get(key)
    }

    pub fn opt_str(&mut self, key: &str) -> Option<String> {
        match self.get(key) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.errors.add(key, Reason::NotString);
                None
            }
        }
    }

    /// A required string; an empty one is reported too.
    pub fn str(&mut self, key: &str) -> String {
        match self.opt_str(key) {
            Some(s) if !s.trim().is_empty() => s,
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

    pub fn parsed<T: FromStr<Err = Reason>>(&mut self, key: &str, required: bool) -> Option<T> {
        match self.opt_str(key) {
            Some(s) => match s.parse() {
                Ok(v) => Some(v),
                Err(m) => {
                    self.errors.add(key, m);
                    None
                }
            },
            None => {
                if required && !self.errors.0.contains_key(key) {
                    self.errors.add(key, Reason::Required);
                }
                None
            }
        }
    }

    pub fn str_list(&mut self, key: &str, required: bool) -> Vec<String> {
        match self.get(key) {
            None => {
                if required {
                    self.errors.add(key, Reason::Required);
                }
                vec![]
            }
            Some(Value::Array(items)) => {
                let mut out = vec![];
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) => out.push(s.to_string()),
                        None => self.errors.add(format!("{key}[{i}]"), Reason::NotString),
                    }
                }
                out
            }
            Some(_) => {
                self.errors.add(key, Reason::ListOfStrings);
                vec![]
            }
        }
    }

    /// A non-negative integer; `3.0` counts as one (JSON Schema's
    /// `integer` admits it).
    pub fn opt_u32(&mut self, key: &str) -> Option<u32> {
        match self.get(key) {
            None => None,
            Some(v) => match whole_u32(v) {
                Some(n) => Some(n),
                None => {
                    self.errors.add(key, Reason::NonNegative);
                    None
                }
            },
        }
    }

    /// An integer; `3.0` counts as one (JSON Schema's `integer` admits it).
    pub fn opt_i64(&mut self, key: &str) -> Option<i64> {
        let whole = |v: &Value| {
            v.as_i64().or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
        };
        match self.get(key) {
            None => None,
            Some(v) => match whole(v) {
                Some(n) => Some(n),
                None => {
                    self.errors.add(key, Reason::Integer);
                    None
                }
            },
        }
    }

    pub fn opt_bool(&mut self, key: &str) -> Option<bool> {
        match self.get(key) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.errors.add(key, Reason::Bool);
                None
            }
        }
    }

    pub fn instant(&mut self, key: &str, required: bool) -> Option<DateTime<Utc>> {
        match self.opt_str(key) {
            Some(s) => match redress_domain::parse_instant(&s) {
                Some(t) => Some(t),
                None => {
                    self.errors.add(key, Reason::Time);
                    None
                }
            },
            None => {
                if required && !self.errors.0.contains_key(key) {
                    self.errors.add(key, Reason::Required);
                }
                None
            }
        }
    }

    /// At least one non-empty string in a list read with [`Body::str_list`].
    pub fn require_some(&mut self, key: &str, list: &[String], message: Reason) {
        if list.iter().all(|s| s.trim().is_empty()) && !self.errors.0.contains_key(key) {
            self.errors.add(key, message);
        }
    }

    /// A required text that may be given empty: reported as missing.
    pub fn text(&mut self, key: &str) -> String {
        let value = self.opt_str(key).unwrap_or_default();
        if value.trim().is_empty() && !self.errors.0.contains_key(key) {
            self.errors.add(key, Reason::Required);
        }
        value
    }

    pub fn finish(self) -> AppResult<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.errors))
        }
    }
}

/// A JSON number that is a whole number from 0 to `u32::MAX`, written
/// `3` or `3.0` (JSON Schema's `integer` admits both).
pub fn whole_u32(v: &Value) -> Option<u32> {
    v.as_u64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(f))
                .map(|f| f as u64)
        })
        .and_then(|n| u32::try_from(n).ok())
}
