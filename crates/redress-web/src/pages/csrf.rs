//! CSRF protection for the forms: a double-submit token. The page sets a
//! random token in an HttpOnly, SameSite=Strict cookie and repeats it in a
//! hidden field; a POST is taken only when both are present and equal
//! (compared in constant time). A site that cannot read our cookie cannot
//! forge the field.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

pub const COOKIE: &str = "rd_csrf";

/// The token of this browser, and whether it is new (to be set).
pub fn token(headers: &HeaderMap) -> (String, bool) {
    match super::cookie(headers, COOKIE).filter(|t| t.len() == 43) {
        Some(t) => (t, false),
        None => {
            let mut bytes = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut bytes);
            (URL_SAFE_NO_PAD.encode(bytes), true)
        }
    }
}

/// Whether the form's token matches the cookie's.
pub fn verify(headers: &HeaderMap, form_token: Option<&str>) -> bool {
    let (Some(cookie), Some(field)) = (super::cookie(headers, COOKIE), form_token) else {
        return false;
    };
    redress_app::privacy::constant_time_eq(cookie.as_bytes(), field.as_bytes())
}
