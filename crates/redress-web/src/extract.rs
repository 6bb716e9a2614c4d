//! Extractors that keep every rejection in the API's error format.

use redress_domain::Reason;
use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use ipnet::IpNet;
use redress_app::Principal;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body parsed to a `Value` (field checks happen in the app, so
/// that every bad field is named); an empty body is `null`. Keeps the
/// SHA-256 of the raw bytes for idempotency. A body of white space only is
/// not JSON and is refused like any other.
pub struct JsonBody {
    pub value: Value,
    pub sha256: String,
}

/// JSON bodies larger than this are refused with 413 (uploads have their
/// own limit). The largest body a call needs is a decision or a review:
/// a reply of 20,000 characters (120 KB even with every character
/// escaped as `\uXXXX`) and its lists.
pub const JSON_LIMIT: usize = 256 * 1024;

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let bytes: Bytes = axum::body::to_bytes(req.into_body(), JSON_LIMIT)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!("a JSON body may have at most {JSON_LIMIT} bytes"),
                )
            })?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if bytes.is_empty() {
            return Ok(Self {
                value: Value::Null,
                sha256,
            });
        }
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_json(format!("the body is not valid JSON: {e}")))?;
        Ok(Self { value, sha256 })
    }
}

/// The caller, from `Authorization: Bearer …`.
pub struct Caller(pub Principal);

/// The raw bearer token, if any.
pub fn bearer(parts: &Parts) -> Option<String> {
    bearer_token(&parts.headers)
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts);
        Ok(Caller(state.app.authenticate(token.as_deref()).await?))
    }
}

/// The bearer token as given (complainant access tokens).
pub struct Token(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Token {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Token(bearer(parts)))
    }
}

/// The client's address: the TCP peer, or, when the peer is a trusted
/// proxy, the address it reports in `X-Forwarded-For` ([`client_ip`]).
/// Every rate limit and log line takes the client from here.
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(
            peer(&parts.extensions),
            &parts.headers,
            &state.trusted_proxies,
        )))
    }
}

/// The TCP peer, when the server was started with connect info.
pub fn peer(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The client of a request that came from `peer`. A peer that is not a
/// trusted proxy is the client, whatever `X-Forwarded-For` says (a client
/// cannot choose its own address). From a trusted proxy, the client is the
/// right-most address of `X-Forwarded-For` that is not itself a trusted
/// proxy: each proxy appends the address it was called from, so the
/// entries to the left of that one are the client's to invent. A header
/// that holds nothing usable leaves the peer.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer.map(|p| p.to_canonical());
    let Some(proxy) = peer.filter(|p| is_trusted(*p, trusted)) else {
        return peer;
    };
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        // Bytes a client put before the proxy's own entry must not make the
        // whole header count for nothing (the client would share the
        // proxy's bucket): read it lossily, entry by entry.
        let value = String::from_utf8_lossy(value.as_bytes());
        hops.extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(hop),
        );
    }
    let mut client = Some(proxy);
    for h in hops.into_iter().rev() {
        match h {
            // What lies left of an entry no proxy could have written was
            // not written by a proxy either.
            None => break,
            Some(ip) => {
                client = Some(ip);
                if !is_trusted(ip, trusted) {
                    break;
                }
            }
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, perhaps with a port.
fn hop(raw: &str) -> Option<IpAddr> {
    raw.parse::<IpAddr>()
        .ok()
        .or_else(|| raw.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// Reads `trusted_proxies`: addresses or networks (`10.0.0.0/8`),
/// separated by commas or white space.
pub fn parse_trusted_proxies(raw: &str) -> Result<Vec<IpNet>, String> {
    raw.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("trusted_proxies: {s:?} is not an IP address or network"))
        })
        .collect()
}

/// One uploaded file from a multipart body: the first part with a file
/// name (or named `file`), read with a size cap.
pub struct Upload {
    pub filename: Option<String>,
    pub bytes: Vec<u8>,
    /// `share` parts (staff uploads): the parties the file is shared with.
    pub share: Vec<String>,
}

pub async fn read_upload(mut multipart: Multipart, max_bytes: u64) -> Result<Upload, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("a file may have at most {max_bytes} bytes"),
        )
    };
    let map_err = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_multipart", e.body_text())
        }
    };
    let mut file = None;
    let mut share = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(map_err)? {
        let is_file = field.file_name().is_some() || field.name() == Some("file");
        if !is_file {
            if field.name() == Some("share") && share.len() < 4 {
                let text = field.text().await.map_err(map_err)?;
                share.extend(
                    text.split(',')
                        .map(|v| v.trim().to_string())
                        .filter(|v| !v.is_empty()),
                );
            }
            continue;
        }
        if file.is_some() {
            continue;
        }
        let filename = field.file_name().map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(map_err)? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        file = Some((filename, bytes));
    }
    match file {
        Some((filename, bytes)) => Ok(Upload {
            filename,
            bytes,
            share,
        }),
        None => {
            Err(redress_app::AppError::invalid("file", redress_domain::Reason::FilePart).into())
        }
    }
}

/// The parties named by `share` parts; an unknown name is refused.
pub fn parties(share: &[String]) -> Result<Vec<redress_domain::Party>, ApiError> {
    let mut out = Vec::new();
    for v in share {
        let party = match v.as_str() {
            "complainant" => redress_domain::Party::Complainant,
            "respondent" => redress_domain::Party::Respondent,
            _ => {
                return Err(redress_app::AppError::invalid("share", Reason::Share).into());
            }
        };
        if !out.contains(&party) {
            out.push(party);
        }
    }
    Ok(out)
}

/// Query parameters, with a malformed query string answered in the API's
/// error format. A parameter given with an empty value (`?interval=`) is
/// refused (422, naming it), as the document states (`minLength: 1`): a
/// caller leaves out what it does not mean to set.
pub struct Params<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let mut errors = redress_domain::FieldErrors::new();
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or_default();
        for (name, value) in pairs {
            if value.is_empty() {
                errors.add(&name, Reason::Empty);
            }
        }
        if !errors.is_empty() {
            return Err(redress_app::AppError::Invalid(errors).into());
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))
    }
}

/// A multipart body, with a wrong content type answered in the API's
/// error format.
pub struct MultipartBody(pub Multipart);

impl<S: Send + Sync> FromRequest<S> for MultipartBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Multipart::from_request(req, state)
            .await
            .map(MultipartBody)
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_multipart",
                    format!(
                        "send the file as multipart/form-data with a part named file ({})",
                        e.body_text()
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_forwarded_address() {
        let trusted = parse_trusted_proxies("10.0.0.0/8, 192.168.1.5").unwrap();
        let from_proxy = ip("10.1.2.3");
        // Not from a proxy: the header is ignored.
        assert_eq!(
            client_ip(ip("203.0.113.9"), &xff(&["198.51.100.1"]), &trusted),
            ip("203.0.113.9")
        );
        // One proxy.
        assert_eq!(
            client_ip(from_proxy, &xff(&["198.51.100.1"]), &trusted),
            ip("198.51.100.1")
        );
        // What the client wrote itself stays to the left.
        assert_eq!(
            client_ip(from_proxy, &xff(&["1.2.3.4, 198.51.100.1"]), &trusted),
            ip("198.51.100.1")
        );
        // Two proxies, and the header split over two lines.
        assert_eq!(
            client_ip(
                from_proxy,
                &xff(&["1.2.3.4, 198.51.100.1", "192.168.1.5"]),
                &trusted
            ),
            ip("198.51.100.1")
        );
        // Ports and IPv4-mapped forms.
        assert_eq!(
            client_ip(
                ip("::ffff:10.0.0.1"),
                &xff(&["198.51.100.1:4711"]),
                &trusted
            ),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_ip(from_proxy, &xff(&["[2001:db8::1]:80"]), &trusted),
            ip("2001:db8::1")
        );
        // No header, or garbage where the proxy's entry should be: the proxy.
        assert_eq!(
            client_ip(from_proxy, &HeaderMap::new(), &trusted),
            from_proxy
        );
        assert_eq!(
            client_ip(from_proxy, &xff(&["198.51.100.1, nonsense"]), &trusted),
            from_proxy
        );
        // Every entry a proxy: the left-most.
        assert_eq!(
            client_ip(from_proxy, &xff(&["10.9.9.9, 192.168.1.5"]), &trusted),
            ip("10.9.9.9")
        );
        // Nothing trusted: the peer.
        assert_eq!(
            client_ip(from_proxy, &xff(&["198.51.100.1"]), &[]),
            from_proxy
        );
        assert_eq!(client_ip(None, &xff(&["198.51.100.1"]), &trusted), None);
        // A non-ASCII byte the client sent left of the proxy's entry does
        // not send the client into the proxy's bucket.
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xff\xfe, 198.51.100.1").unwrap(),
        );
        assert_eq!(client_ip(from_proxy, &h, &trusted), ip("198.51.100.1"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        assert_eq!(parse_trusted_proxies("").unwrap(), vec![]);
        let parsed = parse_trusted_proxies("127.0.0.1,10.0.0.0/8 ::1 fd00::/8").unwrap();
        assert_eq!(parsed.len(), 4);
        assert!(parse_trusted_proxies("10.0.0.0/33").is_err());
        assert!(parse_trusted_proxies("proxy.local").is_err());
    }
}
