//! Every answer of the HTTP tests checked against the API document
//! (issue 17): `TestApp::send` hands each call under `/api/v1` here. The
//! call is matched to its operation by method and path template
//! (`/complaints/{id}/accept`); the answer's status must be one the
//! document lists for that operation (or its `default`), and a JSON answer
//! must match the schema the document states for that status, with
//! `#/components/schemas/…` resolved against the whole document (OpenAPI
//! 3.1: JSON Schema 2020-12, formats checked). A non-JSON answer (CSV, a
//! file, a page) is checked for its status only.
//!
//! The document is the one the server serves (`redress_web::api::document`),
//! and each (operation, status) validator is compiled once per test
//! process. A known defect that cannot be fixed yet goes into
//! [`KNOWN_MISMATCHES`] with its reason, never around the check.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use axum::http::{HeaderMap, Method, StatusCode};
use jsonschema::Validator;
use serde_json::{Value, json};

/// Answers known not to match the document: (method and path template,
/// status, why). Each line is a defect to fix; the check skips only the
/// schema (never the status listing) of what it names.
pub const KNOWN_MISMATCHES: &[(&str, &str, &str)] = &[];

/// The document's base for the JSON API: calls elsewhere (pages,
/// `/healthz`, `/metrics`, the document itself) are not checked.
const API: &str = "/api/v1/";

/// One operation of the document.
struct Operation {
    /// `POST /api/v1/complaints/{id}/accept`: how failures name it.
    name: String,
    method: Method,
    /// The path template's segments; `None` for a `{parameter}`.
    segments: Vec<Option<String>>,
    /// JSON pointer to the operation's object in the document.
    pointer: String,
}

struct Document {
    whole: Value,
    operations: Vec<Operation>,
}

static DOCUMENT: LazyLock<Document> = LazyLock::new(|| {
    // The upload limit shows only in request bodies; any value will do.
    let whole = serde_json::to_value(redress_web::api::document(64 * 1024))
        .expect("the API document as JSON");
    let mut operations = Vec::new();
    for (path, item) in whole["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("a path item") {
            let Ok(m) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue;
            };
            if !matches!(
                m,
                Method::GET | Method::POST | Method::PUT | Method::PATCH | Method::DELETE
            ) {
                continue;
            }
            operations.push(Operation {
                name: format!("{m} {path}"),
                segments: path
                    .split('/')
                    .map(|s| (!s.starts_with('{')).then(|| s.to_string()))
                    .collect(),
                pointer: format!("/paths/{}/{method}", escape(path)),
                method: m,
            });
        }
    }
    Document { whole, operations }
});

/// Compiled validators by (operation, status key), built on first use.
type Validators = HashMap<(String, String), Arc<Validator>>;
static VALIDATORS: LazyLock<Mutex<Validators>> = LazyLock::new(Default::default);

/// A JSON pointer token (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The operation a call reaches: its method and a template whose segments
/// match the path, the one with most literal segments first (as the router
/// prefers `/webhooks/events` to `/webhooks/{id}`).
fn operation(method: &Method, path: &str) -> Option<&'static Operation> {
    let segments: Vec<&str> = path.split('/').collect();
    DOCUMENT
        .operations
        .iter()
        .filter(|op| {
            op.method == *method
                && op.segments.len() == segments.len()
                && op.segments.iter().zip(&segments).all(|(t, s)| match t {
                    Some(literal) => literal == s,
                    None => !s.is_empty(),
                })
        })
        .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count())
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| {
            let v = v.trim().to_ascii_lowercase();
            v == "application/json" || v.ends_with("+json")
        })
        .unwrap_or(false)
}

/// The validator of `schema` (at `pointer` in the document), compiled once.
fn validator(op: &Operation, status: &str, pointer: &str) -> Arc<Validator> {
    let key = (op.name.clone(), status.to_string());
    if let Some(v) = VALIDATORS.lock().unwrap().get(&key) {
        return v.clone();
    }
    // The answer's schema as the root, with the document's components
    // beside it, so that `#/components/schemas/…` resolves as in the
    // document.
    let mut root = DOCUMENT
        .whole
        .pointer(pointer)
        .cloned()
        .unwrap_or(json!({}));
    if let Value::Object(o) = &mut root {
        o.insert("components".into(), DOCUMENT.whole["components"].clone());
    }
    let compiled = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| {
            panic!(
                "{}: the schema of answer {status} does not compile: {e}",
                op.name
            )
        });
    let compiled = Arc::new(compiled);
    VALIDATORS.lock().unwrap().insert(key, compiled.clone());
    compiled
}

/// Checks one answer of a call; panics, naming the call, the status and
/// each mismatch (its JSON pointer and the schema's complaint).
pub fn check(method: &Method, path: &str, status: StatusCode, headers: &HeaderMap, bytes: &[u8]) {
    if !path.starts_with(API) {
        return;
    }
    let Some(op) = operation(method, path) else {
        // No such call in the document (a test of an unknown path or
        // method): nothing to hold it to.
        return;
    };
    let code = status.as_u16().to_string();
    let responses = &DOCUMENT.whole.pointer(&op.pointer).unwrap()["responses"];
    let key = if responses.get(&code).is_some() {
        code.clone()
    } else if responses.get("default").is_some() {
        "default".to_string()
    } else {
        let listed: Vec<&String> = responses
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        panic!(
            "API document: {} ({method} {path}) answered {status}, which the document does not list \
             (it lists {listed:?}); body: {}",
            op.name,
            String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
        );
    };
    if !is_json(headers) || bytes.is_empty() {
        return;
    }
    let content = &responses[&key]["content"];
    let Some(media) = content.as_object().and_then(|c| {
        c.keys()
            .find(|k| k.as_str() == "application/json" || k.ends_with("+json"))
    }) else {
        panic!(
            "API document: {} ({method} {path}) answered {status} in JSON, which the document does not \
             state for that status; body: {}",
            op.name,
            String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
        );
    };
    if KNOWN_MISMATCHES
        .iter()
        .any(|(name, s, _)| *name == op.name && (*s == code || *s == key))
    {
        return;
    }
    let body: Value = serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "{} ({method} {path}) answered {status} with JSON that does not parse: {e}",
            op.name
        )
    });
    let pointer = format!(
        "{}/responses/{}/content/{}/schema",
        op.pointer,
        escape(&key),
        escape(media)
    );
    let validator = validator(op, &key, &pointer);
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!(
                "  at {} (schema {}): {e}",
                if at.is_empty() { "/".to_string() } else { at },
                e.schema_path()
            )
        })
        .collect();
    if !errors.is_empty() {
        let mut shown = body.to_string();
        if shown.len() > 2000 {
            let mut end = 2000;
            while !shown.is_char_boundary(end) {
                end -= 1;
            }
            shown.truncate(end);
            shown.push('…');
        }
        panic!(
            "API document: the answer of {} ({method} {path}), status {status}, does not match its \
             schema:\n{}\nbody: {shown}",
            op.name,
            errors.join("\n")
        );
    }
}

/// The message of the panic `f` ends in (`None` when it returns).
fn failure(f: impl FnOnce()) -> Option<String> {
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).err()?;
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
}

/// The check refuses what the document does not state: a JSON answer of
/// the wrong shape (named by its pointer), a status the operation does not
/// list; a file's answer is held to its status only.
async fn the_check_refuses_answers_the_document_does_not_state() {
    let json = |body: Value| {
        let mut h = HeaderMap::new();
        h.insert("content-type", "application/json".parse().unwrap());
        (h, body.to_string().into_bytes())
    };
    let case = "/api/v1/complaints/0190c0de-0000-7000-8000-000000000001";

    let (h, b) = json(json!({"id": 5, "tracking_no": "T-1"}));
    let m = failure(|| check(&Method::GET, case, StatusCode::OK, &h, &b)).expect("refused");
    assert!(m.contains("GET /api/v1/complaints/{id}"), "{m}");
    assert!(m.contains("status 200 OK"), "{m}");
    assert!(m.contains("at /id "), "names the pointer: {m}");
    assert!(m.contains("\"status\" is a required property"), "{m}");

    let (h, b) =
        json(json!({"error": {"code": "conflict", "message": "no", "fields": {}, "reasons": {}}}));
    let m = failure(|| {
        check(
            &Method::POST,
            &format!("{case}/accept"),
            StatusCode::IM_A_TEAPOT,
            &h,
            &b,
        )
    })
    .expect("refused");
    assert!(m.contains("POST /api/v1/complaints/{id}/accept"), "{m}");
    assert!(m.contains("does not list"), "{m}");
    // The same error answer under a status it lists passes.
    check(
        &Method::POST,
        &format!("{case}/accept"),
        StatusCode::CONFLICT,
        &h,
        &b,
    );
    // An error answer must be the error shape.
    let (h, b) = json(json!({"error": "conflict"}));
    let m = failure(|| {
        check(
            &Method::POST,
            &format!("{case}/accept"),
            StatusCode::CONFLICT,
            &h,
            &b,
        )
    })
    .expect("refused");
    assert!(m.contains("at /error "), "{m}");

    // A literal segment wins over a parameter (`/webhooks/events`).
    assert_eq!(
        operation(&Method::GET, "/api/v1/webhooks/events").map(|o| o.name.as_str()),
        Some("GET /api/v1/webhooks/events")
    );
    assert_eq!(
        operation(&Method::GET, "/api/v1/webhooks/abc").map(|o| o.name.as_str()),
        Some("GET /api/v1/webhooks/{id}")
    );

    // A file: its status only.
    let mut h = HeaderMap::new();
    h.insert("content-type", "text/csv".parse().unwrap());
    check(
        &Method::GET,
        "/api/v1/exports/cases.csv",
        StatusCode::OK,
        &h,
        b"a,b\n",
    );
    assert!(
        failure(|| check(
            &Method::GET,
            "/api/v1/exports/cases.csv",
            StatusCode::CONFLICT,
            &h,
            b""
        ))
        .is_some()
    );
    // Pages and calls the document does not have are not its business.
    check(
        &Method::GET,
        "/staff/cases",
        StatusCode::IM_A_TEAPOT,
        &h,
        b"",
    );
    check(
        &Method::GET,
        "/api/v1/no-such-call",
        StatusCode::NOT_FOUND,
        &h,
        b"",
    );
}

// The check reads no database: one run is enough.
tests![; sqlite_only: the_check_refuses_answers_the_document_does_not_state];
