//! Fuzzing, through the real router and app, the parsers that take
//! hostile bytes from outside: multipart evidence uploads (`read_upload`,
//! on the complainant's upload) and received mail (`App::receive_mail`).
//! Cases come from proptest strategies (256 each, or `PROPTEST_CASES`:
//! `PROPTEST_CASES=100000 cargo test -p redress --test api -- sqlite::fuzz`
//! runs them longer, docs/security.md); they are drawn up front and sent
//! one by one, without shrinking: a failure prints its input.
//!
//! The contracts: an upload is answered 200, or refused 400 (not
//! multipart), 413 or 422, always in the error shape, never 5xx; a mail
//! is turned into a disposition or refused as invalid, never an internal
//! error or a panic, and the server keeps working.
//!
//! SQLite only: these are about the parsers, which run before the store.

use axum::body::Body;
use axum::http::{Method, Request};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use redress_app::AppError;
use redress_app::mail::Envelope;

use crate::harness::*;

/// `PROPTEST_CASES` (default 256) values of `strategy`.
fn samples<S: Strategy>(strategy: S) -> Vec<S::Value> {
    let mut runner = TestRunner::default();
    let cases = runner.config().cases;
    (0..cases)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

fn multipart() -> impl Strategy<Value = (String, Vec<u8>)> {
    let boundary = prop_oneof![
        Just("b0undary".to_string()),
        "[a-zA-Z0-9'()+_,./:=? -]{0,72}",
        Just(String::new()),
    ];
    let part = (
        prop_oneof![
            Just("form-data; name=\"file\"; filename=\"a.pdf\"".to_string()),
            Just("form-data; name=\"file\"".to_string()),
            Just("form-data; name=\"other\"".to_string()),
            Just("form-data; name=\"file\"; filename*=UTF-8''%E6%8A%95%E8%AF%89.pdf".to_string()),
            "form-data; name=\"[^\"\r\n]{0,10}\"; filename=\"[^\"\r\n]{0,40}\"",
            "[^\r\n]{0,60}",
        ],
        prop::option::of("[^\r\n]{0,40}"),
        prop::collection::vec(any::<u8>(), 0..300),
        prop_oneof![Just("\r\n"), Just("\n"), Just("")],
    );
    (
        boundary,
        prop::collection::vec(part, 0..4),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(boundary, parts, closed, junk)| {
            let mut body = junk;
            for (disposition, content_type, data, eol) in parts {
                body.extend_from_slice(
                    format!("--{boundary}{eol}Content-Disposition: {disposition}{eol}").as_bytes(),
                );
                if let Some(ct) = content_type {
                    body.extend_from_slice(format!("Content-Type: {ct}{eol}").as_bytes());
                }
                body.extend_from_slice(eol.as_bytes());
                body.extend_from_slice(&data);
                body.extend_from_slice(eol.as_bytes());
            }
            if closed {
                body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            }
            (boundary, body)
        })
}

async fn fuzz_multipart_uploads() {
    // Hundreds of uploads with one access code: its rate limit is off here.
    let t = TestApp::with(|c| c.token_rate_limit = 0).await;
    let filed = t.file(complaint(1)).await;
    let (no, token) = (
        filed["tracking_no"].as_str().unwrap(),
        filed["access_token"].as_str().unwrap(),
    );
    let content_types = samples(prop_oneof![
        Just(None),
        "multipart/form-data; boundary=[^\r\n]{0,40}".prop_map(Some),
        "[ -~]{0,40}".prop_map(Some),
    ]);
    for (i, (boundary, body)) in samples(multipart()).into_iter().enumerate() {
        let content_type = match &content_types[i] {
            // Mostly the boundary the body uses; sometimes another header.
            _ if i % 3 != 0 => Some(format!("multipart/form-data; boundary=\"{boundary}\"")),
            other => other.clone(),
        };
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/track/{no}/evidence"))
            .header("authorization", format!("Bearer {token}"));
        if let Some(ct) = &content_type {
            req = req.header("content-type", ct.as_str());
        }
        let Ok(req) = req.body(Body::from(body.clone())) else {
            continue; // a header value http refuses to carry
        };
        let a = t.send(req).await;
        let status = a.status.as_u16();
        assert!(
            matches!(status, 200 | 400 | 413 | 415 | 422),
            "upload answered {status}: {}\ncontent-type {content_type:?}\nbody {:?}",
            a.body,
            String::from_utf8_lossy(&body)
        );
        if status != 200 {
            assert!(
                a.body["error"]["code"].is_string(),
                "not an error body: {}",
                a.body
            );
        }
    }
    // Still taking files.
    t.upload(
        &format!("/track/{no}/evidence"),
        Some(token),
        "a.pdf",
        b"%PDF-1.4 ok",
    )
    .await
    .expect(200);
}

fn mail() -> impl Strategy<Value = Vec<u8>> {
    let header = prop_oneof![
        "From: [^\r\n]{0,60}",
        "Subject: [^\r\n]{0,80}",
        "Subject: =\\?(utf-8|gb2312|gbk|x-bad)\\?(B|Q)\\?[A-Za-z0-9+/=_]{0,40}\\?=",
        "(In-Reply-To|References): <[^>\r\n]{0,40}>",
        "Content-Type: (text/plain|text/html|multipart/mixed|multipart/report|message/delivery-status)(; (charset|boundary)=[^\r\n]{0,20})?",
        "Content-Transfer-Encoding: (base64|quoted-printable|8bit|x-bad)",
        "(Auto-Submitted|Precedence|List-Id): [^\r\n]{0,20}",
        "[A-Za-z-]{1,20}: [^\r\n]{0,40}",
    ];
    (
        prop::collection::vec(header, 0..8),
        prop::collection::vec(any::<u8>(), 0..600),
        any::<bool>(),
    )
        .prop_map(|(headers, body, raw)| {
            if raw {
                return body;
            }
            let mut m = headers.join("\r\n").into_bytes();
            m.extend_from_slice(b"\r\n\r\n");
            m.extend_from_slice(&body);
            m
        })
}

async fn fuzz_received_mail() {
    let t = TestApp::new().await;
    let filed = t.file(complaint(1)).await;
    let no = filed["tracking_no"].as_str().unwrap().to_string();
    let senders = samples(prop::option::of("[a-z0-9.@<>\"-]{0,30}"));
    for (i, mut raw) in samples(mail()).into_iter().enumerate() {
        if i % 4 == 0 {
            // Some name a real case, so that threading and holding run too.
            let mut named = format!("Subject: about {no}\r\n").into_bytes();
            named.append(&mut raw);
            raw = named;
        }
        let envelope = Envelope {
            mail_from: senders[i].clone(),
            rcpt_to: vec!["complaints@example.com".into()],
        };
        match t.app.receive_mail(&envelope, &raw).await {
            Ok(_) | Err(AppError::Invalid(_)) => {}
            Err(e) => panic!(
                "receive_mail failed with {e:?} on {:?}",
                String::from_utf8_lossy(&raw)
            ),
        }
    }
    t.get("/complaints?limit=1", Some(&t.compliance().await))
        .await
        .expect(200);
}

/// Found by `fuzz_mail_*` (redress-app/tests/fuzz.rs): a NUL byte (or
/// another control character) in a mail's subject or body was kept in
/// the case's text. PostgreSQL refuses NUL in text, so the mail could not
/// be registered there at all (an internal error, the sender told to try
/// again forever); on SQLite the case kept text that the API's own
/// registration refuses ("contains control characters").
async fn a_mail_with_control_characters_becomes_a_clean_case() {
    let t = TestApp::new().await;
    let raw = b"From: =?utf-8?B?546L5LqUAA==?= <wang@example.net>\r\nTo: complaints@example.com\r\n\
Subject: =?utf-8?B?6YCA5qy+AOWksei0pQ==?=\x07\r\nMessage-ID: <nul-1@example.net>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
\xe5\x95\x86\xe5\xae\xb6\x00\xe6\x8b\x92\xe7\xbb\x9d\x1b[31m\xe9\x80\x80\xe6\xac\xbe\r\n\xe7\xac\xac\xe4\xba\x8c\xe8\xa1\x8c\r\n";
    let envelope = Envelope {
        mail_from: Some("wang@example.net".into()),
        rcpt_to: vec!["complaints@example.com".into()],
    };
    let disposition = t.app.receive_mail(&envelope, raw).await.unwrap();
    let redress_app::mail::Disposition::Opened { case, .. } = disposition else {
        panic!("not opened: {disposition:?}");
    };
    let case = t.case(&case, &t.compliance().await).await;
    let record = &case["record"];
    let (subject, description) = (
        record["subject"].as_str().unwrap(),
        record["description"].as_str().unwrap(),
    );
    assert_eq!(subject, "退款 失败", "{case}");
    assert_eq!(description, "商家拒绝[31m退款\n第二行", "{case}");
    let name = record["complainant"]["name"].as_str().unwrap();
    assert!(!name.chars().any(char::is_control), "{name:?}");
}

tests![a_mail_with_control_characters_becomes_a_clean_case; sqlite_only: fuzz_multipart_uploads, fuzz_received_mail];
