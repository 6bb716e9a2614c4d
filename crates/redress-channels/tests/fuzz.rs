//! Fuzzing the SMTP receiver on stable, with proptest, through a real
//! listener on a local port (the session is bound to its connection):
//! arbitrary byte streams, and command sequences from SMTP's grammar with
//! hostile arguments, bare LFs and lines past the limit. 256 cases each in
//! the normal run; `PROPTEST_CASES=100000 cargo test -p redress-channels
//! --test fuzz` runs them longer (docs/security.md).
//!
//! The contract: every line the server writes is a reply (`ddd ` or
//! `ddd-`, code 2xx–5xx); the session ends once the client has closed its
//! side (no hang); and the server lives on: a new connection afterwards is
//! greeted with 220 and answers EHLO with 250. Messages the handler got
//! have an envelope sender and at least one recipient.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use redress_channels::smtp::{Envelope, MailHandler, SmtpServer, SmtpSettings, Verdict};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::time::timeout;

/// Generous for a loaded machine; a session that outlives it has hung.
const WAIT: Duration = Duration::from_secs(20);

#[derive(Default)]
struct Recorder {
    got: Mutex<Vec<Envelope>>,
}

#[async_trait::async_trait]
impl MailHandler for Recorder {
    async fn deliver(&self, envelope: Envelope, _message: Vec<u8>) -> Verdict {
        let first = envelope.rcpt_to.first().cloned().unwrap_or_default();
        if first.starts_with("reject") {
            return Verdict::Reject("not wanted here".into());
        }
        if first.starts_with("tempfail") {
            return Verdict::TempFail("busy".into());
        }
        self.got.lock().unwrap().push(envelope);
        Verdict::Accepted { id: "fuzz".into() }
    }
}

struct Server {
    runtime: Runtime,
    addr: SocketAddr,
    handler: Arc<Recorder>,
}

/// One server for every case: what one case does to it, the next sees.
fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let handler = Arc::new(Recorder::default());
        let settings = SmtpSettings {
            max_message_bytes: 64 * 1024,
            per_sender_per_minute: 0,
            per_peer_connections: 1_000,
            max_connections: 1_000,
            command_timeout: Duration::from_secs(10),
            ..SmtpSettings::default()
        };
        let addr = runtime.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = SmtpServer::new(settings, handler.clone());
            tokio::spawn(server.serve(listener, std::future::pending()));
            addr
        });
        Server {
            runtime,
            addr,
            handler,
        }
    })
}

/// Sends `input`, closes the sending side and reads to the end.
async fn session(addr: SocketAddr, input: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.split();
    let reader = async {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break, // closed, or reset after QUIT
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        out
    };
    let writer = async {
        // The server may close first (QUIT, too many errors): not an error.
        let _ = wr.write_all(input).await;
        let _ = wr.shutdown().await;
    };
    let (out, ()) = timeout(WAIT, async { tokio::join!(reader, writer) })
        .await
        .unwrap_or_else(|_| panic!("the session hung on {:?}", String::from_utf8_lossy(input)));
    out
}

fn check(input: &[u8]) {
    let s = server();
    let out = s.runtime.block_on(session(s.addr, input));
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("220 "), "no greeting: {text:?}");
    for line in text.split_terminator("\r\n") {
        let b = line.as_bytes();
        assert!(
            b.len() >= 4
                && (b'2'..=b'5').contains(&b[0])
                && b[1].is_ascii_digit()
                && b[2].is_ascii_digit()
                && (b[3] == b' ' || b[3] == b'-'),
            "not a reply line: {line:?} (input {:?})",
            String::from_utf8_lossy(input)
        );
    }
    assert!(
        out.is_empty() || out.ends_with(b"\r\n"),
        "a reply cut off: {text:?}"
    );
    // Still serving.
    let after = s
        .runtime
        .block_on(session(s.addr, b"EHLO client.example\r\nQUIT\r\n"));
    let after = String::from_utf8_lossy(&after);
    assert!(
        after.starts_with("220 ") && after.contains("\r\n250"),
        "the server stopped answering: {after:?}"
    );
    for envelope in s.handler.got.lock().unwrap().iter() {
        assert!(!envelope.rcpt_to.is_empty(), "{envelope:?}");
    }
}

fn address() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("zhang@example.com".to_string()),
        Just("reject@example.com".to_string()),
        Just("tempfail@example.com".to_string()),
        Just(String::new()),
        "[a-z0-9.+_%-]{0,20}@[a-z0-9.-]{0,20}",
        "\"[^\"\r\n]{0,20}\"@[a-z]{1,8}",
        "@[a-z]{1,6},@[a-z]{1,6}:[a-z]{1,6}@[a-z]{1,6}",
        "[^\r\n]{0,40}",
    ]
}

fn command() -> impl Strategy<Value = Vec<u8>> {
    let verb = prop_oneof![
        Just("EHLO"),
        Just("HELO"),
        Just("ehlo"),
        Just("MAIL FROM:"),
        Just("mail from:"),
        Just("RCPT TO:"),
        Just("DATA"),
        Just("RSET"),
        Just("NOOP"),
        Just("VRFY"),
        Just("EXPN"),
        Just("HELP"),
        Just("STARTTLS"),
        Just("AUTH PLAIN"),
        Just("BDAT"),
        Just("QUIT"),
        Just(""),
        Just("X"),
    ];
    let args = prop_oneof![
        Just(String::new()),
        address().prop_map(|a| format!("<{a}>")),
        (
            address(),
            "( SIZE=[0-9]{1,12}| BODY=8BITMIME| SMTPUTF8| X=[^\r\n]{0,8}){0,3}"
        )
            .prop_map(|(a, p)| format!("<{a}>{p}")),
        "[^\r\n]{0,60}",
        Just("x".repeat(2_000)),
    ];
    let ending = prop_oneof![Just("\r\n"), Just("\n"), Just("\r"), Just("")];
    let body = prop::collection::vec(
        prop_oneof![
            Just(b".\r\n".to_vec()),
            Just(b"..\r\n".to_vec()),
            Just(b"Subject: =?UTF-8?B?5oqV6K+J?=\r\n\r\n".to_vec()),
            prop::collection::vec(any::<u8>(), 0..200),
        ],
        0..4,
    )
    .prop_map(|parts| parts.concat());
    (verb, " ?", args, ending, prop::option::of(body)).prop_map(
        |(verb, space, args, ending, body)| {
            let mut line = format!("{verb}{space}{args}{ending}").into_bytes();
            if matches!(verb, "DATA" | "BDAT")
                && let Some(body) = body
            {
                line.extend_from_slice(&body);
            }
            line
        },
    )
}

fn conversation() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(command(), 0..16).prop_map(|cmds| cmds.concat())
}

/// A well-formed transaction with a hostile message.
fn transaction() -> impl Strategy<Value = Vec<u8>> {
    (
        address(),
        prop::collection::vec(address(), 1..3),
        prop::collection::vec(any::<u8>(), 0..2_000),
    )
        .prop_map(|(from, to, message)| {
            let mut s = format!("EHLO fuzz.example\r\nMAIL FROM:<{from}>\r\n").into_bytes();
            for rcpt in to {
                s.extend_from_slice(format!("RCPT TO:<{rcpt}>\r\n").as_bytes());
            }
            s.extend_from_slice(b"DATA\r\n");
            s.extend_from_slice(&message);
            s.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
            s
        })
}

proptest! {
    // proptest's default: 256 cases, or PROPTEST_CASES.

    #[test]
    fn fuzz_smtp_bytes(input in prop::collection::vec(any::<u8>(), 0..4_096)) {
        check(&input);
    }

    #[test]
    fn fuzz_smtp_commands(input in conversation()) {
        check(&input);
    }

    #[test]
    fn fuzz_smtp_transactions(input in transaction()) {
        check(&input);
    }
}

/// Lines past the limit, a flood of bad commands, DATA without an end.
#[test]
fn fuzz_smtp_edge_streams() {
    check(&vec![b'a'; 100_000]);
    check(&b"NOOP x\r\n".repeat(200));
    check(b"EHLO a\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<z@b.c>\r\nDATA\r\nno end");
    check(b"EHLO a\r\nBDAT 99999999999999999999999\r\n");
    check(b"\r\n\r\n\r\n");
}
