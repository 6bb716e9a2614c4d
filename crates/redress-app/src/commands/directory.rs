//! The bodies that the `App` answers together with the store: a user's
//! departments, a department's head, a webhook's target. Their `read`
//! gives a [`Parsed`] command, whose refusals the method answers with
//! what the store says, at once.

use redress_domain::{Reason, Role, parse_code};
use serde_json::Value;

use super::Parsed;
use crate::input::Body;

/// Roles by name, each refused by its place; at least one.
pub(crate) fn roles(b: &mut Body) -> Vec<Role> {
    let raw = b.str_list("roles", true);
    let mut roles = vec![];
    for (i, r) in raw.iter().enumerate() {
        match r.parse::<Role>() {
            Ok(role) => roles.push(role),
            Err(m) => b.errors.add(format!("roles[{i}]"), m),
        }
    }
    if raw.is_empty() && !b.errors.0.contains_key("roles") {
        b.errors.add("roles", Reason::OneRole);
    }
    roles
}

/// The `email` field of a user form: `None` when absent, `Some(None)` when
/// given empty or null (cleared), `Some(Some(address))` otherwise.
pub(crate) fn user_email(b: &mut Body, body: &Value) -> Option<Option<String>> {
    // `Body` reads a null as absent; here it clears the address.
    match body.get("email") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(_) => {
            let raw = b.opt_str("email").unwrap_or_default();
            if raw.trim().is_empty() {
                return Some(None);
            }
            match redress_domain::parse_email(&raw) {
                Ok(e) => Some(Some(e)),
                Err(m) => {
                    b.errors.add("email", m);
                    None
                }
            }
        }
    }
}

/// `POST /admin/users {username, password, display_name?, roles[],
/// departments?, level?, email?}`: the departments are checked against the
/// store by [`crate::App::create_user`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateUserCommand {
    pub username: String,
    pub password: String,
    /// The username unless given.
    pub display_name: String,
    pub roles: Vec<Role>,
    pub departments: Vec<String>,
    pub level: i32,
    /// `Some(None)`: given empty.
    pub email: Option<Option<String>>,
}

impl CreateUserCommand {
    pub fn read(body: &Value) -> Parsed<Self> {
        let b = &mut Body::new(body);
        let username = b.str("username");
        let password = b.str("password");
        let display_name = b
            .opt_str("display_name")
            .unwrap_or_else(|| username.clone());
        let roles = roles(b);
        let departments = b.str_list("departments", false);
        let level = b.opt_i64("level").unwrap_or(1);
        let email = user_email(b, body);
        if !username.is_empty() && parse_code("username", &username).is_err() {
            b.errors.add("username", Reason::CodeChars);
        }
        if !password.is_empty() && password.chars().count() < 8 {
            b.errors.add("password", Reason::AtLeast { n: 8 });
        }
        if !(0..=100).contains(&level) {
            b.errors.add("level", Reason::Between { a: 0, b: 100 });
        }
        let command = Self {
            username,
            password,
            display_name,
            roles,
            departments,
            level: level as i32,
            email,
        };
        Parsed {
            command,
            refused: std::mem::take(&mut b.errors),
        }
    }
}

/// `PATCH /admin/users/{username} {display_name?, password?, roles?,
/// departments?, level?, email?, active?}`: what is given changes. The
/// departments are checked against the store, and a change to one's own
/// password or activity refused, by [`crate::App::update_user`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateUserCommand {
    pub display_name: Option<String>,
    pub password: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub departments: Option<Vec<String>>,
    pub level: Option<i32>,
    /// `Some(None)`: given empty or null (cleared).
    pub email: Option<Option<String>>,
    pub active: Option<bool>,
}

impl UpdateUserCommand {
    pub fn read(body: &Value) -> Parsed<Self> {
        let b = &mut Body::new(body);
        let display_name = b.opt_str("display_name");
        let password = b.opt_str("password");
        if password.as_ref().is_some_and(|p| p.chars().count() < 8) {
            b.errors.add("password", Reason::AtLeast { n: 8 });
        }
        let roles = b.raw("roles").is_some().then(|| roles(b));
        let departments = b
            .raw("departments")
            .is_some()
            .then(|| b.str_list("departments", false));
        let level = b.opt_i64("level").map(|level| {
            if !(0..=100).contains(&level) {
                b.errors.add("level", Reason::Between { a: 0, b: 100 });
            }
            level as i32
        });
        let email = user_email(b, body);
        let active = b.opt_bool("active");
        let command = Self {
            display_name,
            password,
            roles,
            departments,
            level,
            email,
            active,
        };
        Parsed {
            command,
            refused: std::mem::take(&mut b.errors),
        }
    }
}

/// `PATCH /admin/departments/{code} {name?, name_en?, review?, head?}`: what
/// is given changes; the English name and the head are cleared by `null` or
/// an empty string. The head is checked against the store by
/// [`crate::App::update_department`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateDepartmentCommand {
    pub name: Option<String>,
    pub name_en: Option<Option<String>>,
    pub review: Option<bool>,
    pub head: Option<Option<String>>,
}

impl UpdateDepartmentCommand {
    pub fn read(body: &Value) -> Parsed<Self> {
        let b = &mut Body::new(body);
        let given = |key: &str| body.get(key).is_some();
        let name = given("name").then(|| b.str("name"));
        let name_en =
            given("name_en").then(|| b.opt_str("name_en").filter(|n| !n.trim().is_empty()));
        let review = b.opt_bool("review");
        let head = given("head").then(|| b.opt_str("head").filter(|h| !h.trim().is_empty()));
        let command = Self {
            name,
            name_en,
            review,
            head,
        };
        Parsed {
            command,
            refused: std::mem::take(&mut b.errors),
        }
    }
}

/// `POST /webhooks {url, events[]}`: whether the URL's address may be
/// called is checked by [`crate::App::create_webhook`], with the body's
/// fields in one answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateWebhookCommand {
    /// `None` when refused (the refusal is in the [`Body`]).
    pub url: Option<String>,
    pub events: Vec<String>,
}

impl CreateWebhookCommand {
    pub fn read(body: &Value) -> Parsed<Self> {
        let b = &mut Body::new(body);
        let raw_url = b.str("url");
        let url = if raw_url.is_empty() {
            None
        } else {
            match crate::webhooks::check_url(&raw_url) {
                Ok(u) => Some(u),
                Err(m) => {
                    b.errors.add("url", m);
                    None
                }
            }
        };
        let events = crate::webhooks::read_events(b, true).unwrap_or_default();
        Parsed {
            command: Self { url, events },
            refused: std::mem::take(&mut b.errors),
        }
    }
}

/// `PATCH /webhooks/{id} {url?, events?, active?}`: what is given changes;
/// whether a new URL's address may be called is checked by
/// [`crate::App::update_webhook`], with the body's fields in one answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateWebhookCommand {
    /// `None` when not given or refused (the refusal is in the [`Body`]).
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

impl UpdateWebhookCommand {
    pub fn read(body: &Value) -> Parsed<Self> {
        let b = &mut Body::new(body);
        let url = b
            .opt_str("url")
            .and_then(|raw| match crate::webhooks::check_url(&raw) {
                Ok(u) => Some(u),
                Err(m) => {
                    b.errors.add("url", m);
                    None
                }
            });
        let events = crate::webhooks::read_events(b, false);
        let active = b.opt_bool("active");
        let command = Self {
            url,
            events,
            active,
        };
        Parsed {
            command,
            refused: std::mem::take(&mut b.errors),
        }
    }
}
