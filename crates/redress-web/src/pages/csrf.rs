//! CSRF protection for the forms.
//!
//! - A signed-in staff member's token is bound to their session: it is
//!   derived from the session cookie (HttpOnly, so no script and no other
//!   site can read it), so a token planted or read elsewhere is worthless
//!   and ends with the session.
//! - Without a staff session: a double-submit token. The page sets a random
//!   token in an HttpOnly, SameSite=Strict cookie and repeats it in a
//!   hidden field; a POST is taken only when both are present and equal
//!   (compared in constant time).
//! - Whatever the token, a POST the browser marks as coming from another
//!   site (`Sec-Fetch-Site: cross-site`), or whose `Origin` names another
//!   host, is refused.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const COOKIE: &str = "rd_csrf";

/// The staff session cookie the token is bound to.
const SESSION: &str = "redress_session";

/// The token bound to a staff session.
fn bound(session: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"redress-csrf:");
    h.update(session.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// The token of this browser, and whether it is new (to be set).
pub fn token(headers: &HeaderMap) -> (String, bool) {
    if let Some(session) = super::cookie(headers, SESSION).filter(|s| !s.is_empty()) {
        return (bound(&session), false);
    }
    match super::cookie(headers, COOKIE).filter(|t| t.len() == 43) {
        Some(t) => (t, false),
        None => {
            let mut bytes = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut bytes);
            (URL_SAFE_NO_PAD.encode(bytes), true)
        }
    }
}

/// Whether the browser says the request comes from another site.
pub fn cross_site(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|v| v.eq_ignore_ascii_case("cross-site")) {
        return true;
    }
    let tls = headers.contains_key(super::TLS_HEADER);
    match (header("origin"), header("host")) {
        // `Origin: null` (sandboxed frames, some redirects) names no site.
        (Some("null"), _) => true,
        // Behind TLS a page of ours is https.
        (Some(origin), _) if tls && !origin.starts_with("https://") => true,
        (Some(origin), Some(host)) => {
            let origin_host = origin.split("://").nth(1).unwrap_or(origin);
            !origin_host.eq_ignore_ascii_case(host)
        }
        // An Origin with nothing to compare it with is not trusted.
        (Some(_), None) => true,
        _ => false,
    }
}

/// Whether the form's token is the one this browser was given, and the
/// request comes from our own pages.
pub fn verify(headers: &HeaderMap, form_token: Option<&str>) -> bool {
    if cross_site(headers) {
        return false;
    }
    let Some(field) = form_token else {
        return false;
    };
    let expected = match super::cookie(headers, SESSION).filter(|s| !s.is_empty()) {
        Some(session) => bound(&session),
        None => match super::cookie(headers, COOKIE) {
            Some(cookie) => cookie,
            None => return false,
        },
    };
    redress_app::privacy::constant_time_eq(expected.as_bytes(), field.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_staff_token_is_bound_to_the_session() {
        let signed_in = headers(&[("cookie", "redress_session=rds_abc; rd_csrf=planted")]);
        let (token, fresh) = token(&signed_in);
        assert!(!fresh);
        assert!(verify(&signed_in, Some(&token)));
        // The double-submit cookie's value does not open a session's forms.
        assert!(!verify(&signed_in, Some("planted")));
        // Another session's token does not either.
        let other = headers(&[("cookie", "redress_session=rds_xyz")]);
        assert!(!verify(&other, Some(&token)));
    }

    #[test]
    fn posts_from_other_sites_are_refused() {
        let base = [("cookie", "rd_csrf=t"), ("host", "complaints.example.com")];
        assert!(verify(&headers(&base), Some("t")));
        let mut cross = base.to_vec();
        cross.push(("sec-fetch-site", "cross-site"));
        assert!(!verify(&headers(&cross), Some("t")));
        let mut foreign = base.to_vec();
        foreign.push(("origin", "https://evil.example.net"));
        assert!(!verify(&headers(&foreign), Some("t")));
        let mut own = base.to_vec();
        own.push(("origin", "https://complaints.example.com"));
        own.push(("sec-fetch-site", "same-origin"));
        assert!(verify(&headers(&own), Some("t")));
    }
}
