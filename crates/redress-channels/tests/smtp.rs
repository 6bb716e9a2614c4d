//! The SMTP receiver against a real listener: a raw line client written
//! here, lettre, and Python's smtplib.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redress_channels::smtp::{Envelope, MailHandler, SmtpServer, SmtpSettings, Verdict};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// Long enough for a loaded CI machine, short enough to fail a hung test.
const WAIT: Duration = Duration::from_secs(10);

/// Keeps every message; the first recipient picks the verdict.
#[derive(Default)]
struct Recorder {
    got: Mutex<Vec<(Envelope, Vec<u8>)>>,
}

#[async_trait::async_trait]
impl MailHandler for Recorder {
    async fn deliver(&self, envelope: Envelope, message: Vec<u8>) -> Verdict {
        let first = envelope.rcpt_to.first().cloned().unwrap_or_default();
        if first.starts_with("tempfail") {
            return Verdict::TempFail("storage busy".into());
        }
        if first.starts_with("reject") {
            return Verdict::Reject("not wanted here".into());
        }
        if first.starts_with("panic") {
            panic!("the handler fell over");
        }
        let mut got = self.got.lock().unwrap();
        got.push((envelope, message));
        Verdict::Accepted {
            id: format!("msg-{}", got.len()),
        }
    }
}

impl Recorder {
    fn messages(&self) -> Vec<(Envelope, Vec<u8>)> {
        self.got.lock().unwrap().clone()
    }
}

struct Server {
    addr: SocketAddr,
    handler: Arc<Recorder>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(settings: SmtpSettings) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handler = Arc::new(Recorder::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = SmtpServer::new(settings, handler.clone());
        let task = tokio::spawn(server.serve(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            addr,
            handler,
            stop: Some(stop),
            task,
        }
    }

    async fn connect(&self) -> Client<TcpStream> {
        let mut c = Client::new(TcpStream::connect(self.addr).await.unwrap());
        let greeting = c.reply().await;
        assert_eq!(greeting.code, 220, "{greeting:?}");
        c
    }
}

fn settings() -> SmtpSettings {
    SmtpSettings {
        hostname: "mx.test".into(),
        command_timeout: Duration::from_secs(30),
        ..SmtpSettings::default()
    }
}

#[derive(Debug)]
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// A line-at-a-time SMTP client over any stream.
struct Client<S> {
    s: BufReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    fn new(stream: S) -> Self {
        Self {
            s: BufReader::new(stream),
        }
    }

    async fn write(&mut self, bytes: &[u8]) {
        self.s.get_mut().write_all(bytes).await.unwrap();
        self.s.get_mut().flush().await.unwrap();
    }

    async fn send(&mut self, line: &str) {
        self.write(format!("{line}\r\n").as_bytes()).await;
    }

    /// One (multi-line) reply; the text after the code and separator.
    async fn reply(&mut self) -> Reply {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = timeout(WAIT, self.s.read_line(&mut line))
                .await
                .expect("no reply in time")
                .unwrap();
            assert!(n > 0, "connection closed; replies so far: {lines:?}");
            let line = line.trim_end_matches(['\r', '\n']);
            assert!(line.len() >= 4, "short reply line {line:?}");
            let code: u16 = line[..3].parse().expect("a reply code");
            lines.push(line[4..].to_string());
            if &line[3..4] == " " {
                return Reply { code, lines };
            }
        }
    }

    async fn cmd(&mut self, line: &str) -> Reply {
        self.send(line).await;
        self.reply().await
    }

    async fn expect(&mut self, line: &str, code: u16) -> Reply {
        let r = self.cmd(line).await;
        assert_eq!(r.code, code, "{line:?} got {r:?}");
        r
    }

    /// Whether the server closed the connection (EOF) within [`WAIT`].
    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(
            timeout(WAIT, self.s.read_to_end(&mut rest)).await,
            Ok(Ok(_)) | Ok(Err(_))
        )
    }

    /// A full transaction; returns the reply to the final dot.
    async fn mail(&mut self, from: &str, to: &[&str], body: &[u8]) -> Reply {
        self.expect(&format!("MAIL FROM:<{from}>"), 250).await;
        for rcpt in to {
            self.expect(&format!("RCPT TO:<{rcpt}>"), 250).await;
        }
        self.expect("DATA", 354).await;
        self.write(body).await;
        self.write(b".\r\n").await;
        self.reply().await
    }
}

#[tokio::test]
async fn ehlo_advertises_the_extensions_and_size() {
    let server = Server::start(SmtpSettings {
        max_message_bytes: 12_345,
        ..settings()
    })
    .await;
    let mut c = Client::new(TcpStream::connect(server.addr).await.unwrap());
    let greeting = c.reply().await;
    assert_eq!(greeting.code, 220);
    assert_eq!(greeting.text(), "mx.test ESMTP redress");

    let ehlo = c.expect("ehlo client.example", 250).await;
    assert_eq!(ehlo.lines[0], "mx.test");
    for ext in [
        "SIZE 12345",
        "8BITMIME",
        "SMTPUTF8",
        "PIPELINING",
        "ENHANCEDSTATUSCODES",
    ] {
        assert!(ehlo.lines.iter().any(|l| l == ext), "{ext} in {ehlo:?}");
    }
    assert!(
        !ehlo.lines.iter().any(|l| l == "STARTTLS"),
        "no TLS configured, no STARTTLS: {ehlo:?}"
    );
    assert_eq!(c.expect("HELO client.example", 250).await.text(), "mx.test");
    c.expect("EHLO", 501).await;
    c.expect("NoOp", 250).await;
    c.expect("VRFY someone", 252).await;
    c.expect("HELP", 214).await;
    c.expect("EXPN list", 502).await;
    c.expect("STARTTLS", 502).await;
    c.expect("QUIT", 221).await;
    assert!(c.closed().await);
}

#[tokio::test]
async fn a_message_arrives_with_its_envelope_and_exact_bytes() {
    let server = Server::start(settings()).await;
    let mut c = server.connect().await;
    c.expect("EHLO client.example", 250).await;
    c.expect("MAIL FROM:<Alice@Example.org> BODY=8BITMIME SIZE=500", 250)
        .await;
    c.expect("RCPT TO:<complaints@redress.test>", 250).await;
    c.expect("RCPT TO:<Postmaster>", 250).await;
    // A repeated recipient is accepted once.
    c.expect("rcpt to:<complaints@redress.test>", 250).await;
    c.expect("DATA", 354).await;
    let long_line = "x".repeat(3000);
    let sent = format!(
        "Subject: =?utf-8?b?5oqV6K+J?=\r\n\r\n\
         ..a line that starts with a dot\r\n\
         ...two dots\r\n\
         not at the start: . and .\r\n\
         投诉：快递丢失\r\n\
         {long_line}\r\n"
    );
    c.write(sent.as_bytes()).await;
    let done = c.cmd(".").await;
    assert_eq!(done.code, 250, "{done:?}");
    assert_eq!(done.text(), "2.0.0 OK queued as msg-1");

    let got = server.handler.messages();
    assert_eq!(got.len(), 1);
    let (envelope, message) = &got[0];
    let expected = format!(
        "Subject: =?utf-8?b?5oqV6K+J?=\r\n\r\n\
         .a line that starts with a dot\r\n\
         ..two dots\r\n\
         not at the start: . and .\r\n\
         投诉：快递丢失\r\n\
         {long_line}\r\n"
    );
    assert_eq!(
        String::from_utf8_lossy(message),
        expected,
        "dot-unstuffed, CRLF kept"
    );
    assert_eq!(envelope.peer.ip().to_string(), "127.0.0.1");
    assert_eq!(envelope.helo, "client.example");
    assert_eq!(envelope.mail_from.as_deref(), Some("Alice@Example.org"));
    assert_eq!(
        envelope.rcpt_to,
        vec![
            "complaints@redress.test".to_string(),
            "Postmaster".to_string()
        ]
    );
    assert!(!envelope.tls);

    // The transaction is over: the next one starts from MAIL.
    c.expect("RCPT TO:<x@y.test>", 503).await;
    c.expect("QUIT", 221).await;
}

#[tokio::test]
async fn pipelined_commands_are_answered_in_order() {
    let server = Server::start(settings()).await;
    let mut c = server.connect().await;
    c.expect("EHLO client.example", 250).await;
    c.write(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@redress.test>\r\nRCPT TO:<c@redress.test>\r\nDATA\r\n")
        .await;
    for code in [250, 250, 250, 354] {
        assert_eq!(c.reply().await.code, code);
    }
    c.write(b"Subject: hi\r\n\r\nbody\r\n.\r\nNOOP\r\n").await;
    assert_eq!(c.reply().await.code, 250);
    assert_eq!(c.reply().await.code, 250);
    let got = server.handler.messages();
    assert_eq!(got[0].1, b"Subject: hi\r\n\r\nbody\r\n");
    assert_eq!(got[0].0.rcpt_to.len(), 2);
}

#[tokio::test]
async fn only_crlf_dot_crlf_ends_the_data() {
    let server = Server::start(settings()).await;
    let mut c = server.connect().await;
    c.expect("EHLO client.example", 250).await;
    // SMTP smuggling: a dot after a bare LF, or before one, is content, so a
    // second "message" cannot hide inside the first.
    let smuggled = b"one\n.\r\nMAIL FROM:<forged@example.org>\r\nsecond\r\n.\n\r\nend\r\n";
    let r = c.mail("a@example.org", &["b@redress.test"], smuggled).await;
    assert_eq!(r.code, 250, "{r:?}");
    c.expect("NOOP", 250).await;
    // A line as long as the read buffer less its CRLF puts the CR at the
    // very end of one piece and the LF in the next: still a line end.
    let mut long = vec![b'z'; 64 * 1024 - 1];
    long.extend_from_slice(b"\r\n");
    let r = c.mail("a@example.org", &["b@redress.test"], &long).await;
    assert_eq!(r.code, 250, "{r:?}");

    let got = server.handler.messages();
    assert_eq!(got.len(), 2, "one message each, nothing smuggled");
    assert_eq!(
        got[0].1,
        b"one\n.\r\nMAIL FROM:<forged@example.org>\r\nsecond\r\n\n\r\nend\r\n"
    );
    assert_eq!(got[1].1, long);
}

#[tokio::test]
async fn the_null_sender_is_accepted() {
    let server = Server::start(settings()).await;
    let mut c = server.connect().await;
    c.expect("EHLO mailer-daemon.example", 250).await;
    let done = c
        .mail(
            "",
            &["complaints@redress.test"],
            b"Subject: bounce\r\n\r\nx\r\n",
        )
        .await;
    assert_eq!(done.code, 250);
    let got = server.handler.messages();
    assert_eq!(got[0].0.mail_from, None);
}

#[tokio::test]
async fn a_declared_size_over_the_limit_is_refused_up_front() {
    let server = Server::start(SmtpSettings {
        max_message_bytes: 1000,
        ..settings()
    })
    .await;
    let mut c = server.connect().await;
    c.expect("EHLO client.example", 250).await;
    let r = c.expect("MAIL FROM:<a@example.org> SIZE=1001", 552).await;
    assert_eq!(
        r.text(),
        "5.3.4 message size exceeds fixed maximum message size"
    );
    c.expect(
        "MAIL FROM:<a@example.org> SIZE=99999999999999999999999999",
        552,
    )
    .await;
    c.expect("MAIL FROM:<a@example.org> SIZE=abc", 501).await;
    c.expect("MAIL FROM:<a@example.org> FOO=bar", 555).await;
    // Nothing was started: a fitting MAIL goes through.
    c.expect("MAIL FROM:<a@example.org> SIZE=1000", 250).await;
    assert!(server.handler.messages().is_empty());
}

#[tokio::test]
async fn an_undeclared_oversize_message_is_read_to_the_end_and_refused() {
    let server = Server::start(SmtpSettings {
        max_message_bytes: 1000,
        ..settings()
    })
    .await;
    let mut c = server.connect().await;
    c.expect("EHLO client.example", 250).await;
    let mut big = Vec::new();
    for i in 0..100 {
        big.extend_from_slice(format!("line {i:03} of a message that is too big\r\n").as_bytes());
    }
    // One dot-line inside must not end it early.
    big.extend_from_slice(b"..\r\n");
    big.extend_from_slice(&vec![b'y'; 70_000]);
    big.extend_from_slice(b"\r\n");
    let r = c.mail("a@example.org", &["b@redress.test"], &big).await;
    assert_eq!(r.code, 552, "{r:?}");
    assert_eq!(r.text(), "5.3.4 message too big");
    assert!(server.handler.messages().is_empty(), "nothing stored");

    // The session is still in step and usable.
    let r = c
        .mail("a@example.org", &["b@redress.test"], b"small\r\n")
        .await;
    assert_eq!(r.code, 250, "{r:?}");
    assert_eq!(server.handler.messages()[0].1, b"small\r\n");
}

#[tokio::test]
async fn commands_out_of_sequence_get_503() {
    let server = Server::start(settings()).await;
    let mut c = server.connect().await;
    c.expect("MAIL FROM:<a@example.org>", 503).await;
    c.expect("EHLO client.example", 250).await;
    c.expect("RCPT TO:<b@redress.test>", 503).await;
    c.expect("DATA", 503).await;
    c.expect("MAIL FROM:<a@example.org>", 250).await;
    c.expect("MAIL FROM:<a@example.org>", 503).await;
    c.expect("DATA", 503).await;
    c.expect("RSET", 250).await;
    c.expect("RCPT TO:<b@redress.test>", 503).await;
    c.expect("MAIL FROM:a@example.org", 250).await;
    c.expect("RCPT TO:<b@redress.test> NOTIFY=NEVER", 555).await;
    c.expect("RCPT TO:<not an address>", 501).await;
    c.expect("RCPT TO:<>", 501).await;
    c.expect("RCPT TO:<用户@例子.中国>", 553).await;
    c.expect("RCPT TO: <b@redress.test>", 250).await;
}

#[tokio::test]
async fn too_many_recipients_get_452() {
    let server = Server::start(SmtpSettings {
        max_recipients: 3,
        ..settings()
    })
    .await;
    let mut c = server.connect().await;
    c.expect("EHLO client.example", 250).await;
    c.expect("MAIL FROM:<a@example.org>", 250).await;
    for i in 0..3 {
        c.expect(&format!("RCPT TO:<r{i}@redress.test>"), 250).await;
    }
    let r = c.expect("RCPT TO:<r3@redress.test>", 452).await;
    assert_eq!(r.text(), "4.5.3 too many recipients");
    c.expect("DATA", 354).await;
    c.write(b"x\r\n.\r\n").await;
    assert_eq!(c.reply().await.code, 250);
    assert_eq!(server.handler.messages()[0].0.rcpt_to.len(), 3);
}

#[tokio::test]
async fn the_per_sender_limit_defers_the_next_message_only_for_that_sender() {
    let server = Server::start(SmtpSettings {
        per_sender_per_minute: 3,
        ..settings()
    })
    .await;
    let mut c = server.connect().await;
    c.expect("EHLO client.example", 250).await;
    // One full message and two abandoned transactions count alike, and the
    // address is compared without case.
    c.mail("busy@example.org", &["b@redress.test"], b"one\r\n")
        .await;
    for from in ["BUSY@example.org", "Busy@Example.Org"] {
        c.expect(&format!("MAIL FROM:<{from}>"), 250).await;
        c.expect("RSET", 250).await;
    }
    let r = c.expect("MAIL FROM:<busy@example.org>", 450).await;
    assert!(r.text().starts_with("4.7.1 "), "{r:?}");
    assert!(r.text().contains('3'), "names the limit: {r:?}");
    // Another sender is not affected, on this connection or another.
    c.expect("MAIL FROM:<calm@example.org>", 250).await;
    let mut other = server.connect().await;
    other.expect("EHLO other.example", 250).await;
    other.expect("MAIL FROM:<busy@example.org>", 450).await;
    other.expect("MAIL FROM:<quiet@example.org>", 250).await;
}

/// A self-signed certificate for `localhost` on the aws-lc-rs provider.
fn tls_pair() -> (Arc<rustls::ServerConfig>, CertificateDer<'static>) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    (Arc::new(config), cert)
}

/// A TLS client that trusts exactly `cert`.
fn tls_connector(cert: CertificateDer<'static>) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn upgrade(
    c: Client<TcpStream>,
    connector: &tokio_rustls::TlsConnector,
) -> Client<tokio_rustls::client::TlsStream<TcpStream>> {
    assert!(c.s.buffer().is_empty(), "nothing after the 220");
    let tcp = c.s.into_inner();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = timeout(WAIT, connector.connect(name, tcp))
        .await
        .unwrap()
        .unwrap();
    Client::new(tls)
}

#[tokio::test]
async fn starttls_upgrades_and_starts_the_session_over() {
    let (config, cert) = tls_pair();
    let server = Server::start(SmtpSettings {
        tls: Some(config),
        ..settings()
    })
    .await;
    let mut c = server.connect().await;
    let ehlo = c.expect("EHLO client.example", 250).await;
    assert!(ehlo.lines.iter().any(|l| l == "STARTTLS"), "{ehlo:?}");
    c.expect("MAIL FROM:<a@example.org>", 250).await;
    c.expect("STARTTLS now", 501).await;
    let r = c.expect("STARTTLS", 220).await;
    assert_eq!(r.text(), "2.0.0 ready to start TLS");

    let mut t = upgrade(c, &tls_connector(cert)).await;
    // What was said in plaintext is forgotten: EHLO again first.
    t.expect("MAIL FROM:<a@example.org>", 503).await;
    let ehlo = t.expect("EHLO client.example", 250).await;
    assert!(!ehlo.lines.iter().any(|l| l == "STARTTLS"), "{ehlo:?}");
    t.expect("STARTTLS", 503).await;
    let done = t
        .mail("a@example.org", &["b@redress.test"], b"over TLS\r\n")
        .await;
    assert_eq!(done.code, 250);
    t.expect("QUIT", 221).await;

    let got = server.handler.messages();
    assert!(got[0].0.tls);
    assert_eq!(got[0].1, b"over TLS\r\n");
}

#[tokio::test]
async fn plaintext_pipelined_after_starttls_is_ignored() {
    let (config, cert) = tls_pair();
    let server = Server::start(SmtpSettings {
        tls: Some(config),
        ..settings()
    })
    .await;
    let mut c = server.connect().await;
    c.expect("EHLO client.example", 250).await;
    // CVE-2011-0411: a man in the middle appends commands to the STARTTLS
    // packet. Were they executed inside TLS, the client would read the
    // NOOP's reply as the answer to its own EHLO.
    c.write(b"STARTTLS\r\nNOOP\r\nMAIL FROM:<evil@example.org>\r\n")
        .await;
    assert_eq!(c.reply().await.code, 220);
    let mut t = upgrade(c, &tls_connector(cert)).await;
    let ehlo = t.expect("EHLO client.example", 250).await;
    assert_eq!(ehlo.lines[0], "mx.test", "{ehlo:?}");
    assert!(ehlo.lines.len() > 1, "the EHLO answer, not the NOOP's");
    // No transaction was opened by the injected MAIL.
    t.expect("MAIL FROM:<a@example.org>", 250).await;
}

#[tokio::test]
async fn handler_verdicts_become_451_and_550() {
    let server = Server::start(settings()).await;
    let mut c = server.connect().await;
    c.expect("EHLO client.example", 250).await;
    let r = c
        .mail("a@example.org", &["tempfail@redress.test"], b"x\r\n")
        .await;
    assert_eq!((r.code, r.text().as_str()), (451, "4.3.0 storage busy"));
    let r = c
        .mail("a@example.org", &["reject@redress.test"], b"x\r\n")
        .await;
    assert_eq!((r.code, r.text().as_str()), (550, "5.6.0 not wanted here"));
    // A handler that panics costs a 451, not the session.
    let r = c
        .mail("a@example.org", &["panic@redress.test"], b"x\r\n")
        .await;
    assert_eq!(r.code, 451, "{r:?}");
    let r = c
        .mail("a@example.org", &["fine@redress.test"], b"x\r\n")
        .await;
    assert_eq!(r.code, 250);
    assert_eq!(server.handler.messages().len(), 1);
}

#[tokio::test]
async fn garbage_gets_500_and_the_session_survives() {
    let server = Server::start(settings()).await;
    let mut c = server.connect().await;
    let r = c.expect(&format!("NOOP {}", "A".repeat(5000)), 500).await;
    assert_eq!(r.text(), "5.5.2 line too long");
    // Still in step: the rest of the long line was skipped.
    c.expect("NOOP", 250).await;
    c.write(b"\xff\xfe\x00garbage\r\n").await;
    assert_eq!(c.reply().await.code, 500);
    c.write(b"NO\x00OP\r\n").await;
    assert_eq!(c.reply().await.code, 500);
    c.expect("FROB", 500).await;
    // A bare LF ends a command too.
    c.write(b"EHLO client.example\n").await;
    assert_eq!(c.reply().await.code, 250);
    c.expect("MAIL FROM:<a b@example.org>", 501).await;
    c.expect("MAIL TO:<a@example.org>", 501).await;
    c.expect("MAIL FROM:<a@example.org", 501).await;
    c.expect("NOOP", 250).await;
}

#[tokio::test]
async fn too_many_bad_commands_close_the_session() {
    let server = Server::start(settings()).await;
    let mut c = server.connect().await;
    for _ in 0..9 {
        c.expect("FROB", 500).await;
    }
    c.send("FROB").await;
    assert_eq!(c.reply().await.code, 500);
    let r = c.reply().await;
    assert_eq!(r.code, 421, "{r:?}");
    assert!(c.closed().await);
}

#[tokio::test]
async fn an_idle_client_gets_421_after_the_timeout() {
    let server = Server::start(SmtpSettings {
        command_timeout: Duration::from_millis(300),
        ..settings()
    })
    .await;
    let mut c = server.connect().await;
    c.expect("EHLO client.example", 250).await;
    // Say nothing.
    let r = c.reply().await;
    assert_eq!(r.code, 421);
    assert!(r.text().starts_with("4.4.2 "), "{r:?}");
    assert!(c.closed().await);

    // Stalling inside DATA times out the same way.
    let mut c = server.connect().await;
    c.expect("EHLO client.example", 250).await;
    c.expect("MAIL FROM:<a@example.org>", 250).await;
    c.expect("RCPT TO:<b@redress.test>", 250).await;
    c.expect("DATA", 354).await;
    c.write(b"half a mess").await;
    assert_eq!(c.reply().await.code, 421);
    assert!(server.handler.messages().is_empty());
}

#[tokio::test]
async fn connections_over_the_limits_get_421() {
    let server = Server::start(SmtpSettings {
        per_peer_connections: 2,
        ..settings()
    })
    .await;
    let a = server.connect().await;
    let _b = server.connect().await;
    let mut c = Client::new(TcpStream::connect(server.addr).await.unwrap());
    let r = c.reply().await;
    assert_eq!(
        (r.code, r.text().as_str()),
        (421, "4.7.0 too many connections")
    );
    assert!(c.closed().await);
    // A place that frees up is given again.
    drop(a);
    let mut again = None;
    for _ in 0..50 {
        let mut c = Client::new(TcpStream::connect(server.addr).await.unwrap());
        if c.reply().await.code == 220 {
            again = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    again
        .expect("a freed slot is reused")
        .expect("NOOP", 250)
        .await;

    let server = Server::start(SmtpSettings {
        max_connections: 1,
        ..settings()
    })
    .await;
    let _a = server.connect().await;
    let mut c = Client::new(TcpStream::connect(server.addr).await.unwrap());
    assert_eq!(c.reply().await.code, 421);
}

#[tokio::test]
async fn shutdown_stops_accepting_finishes_data_and_says_421() {
    let mut server = Server::start(settings()).await;
    let mut idle = server.connect().await;
    idle.expect("EHLO idle.example", 250).await;
    let mut busy = server.connect().await;
    busy.expect("EHLO busy.example", 250).await;
    busy.expect("MAIL FROM:<a@example.org>", 250).await;
    busy.expect("RCPT TO:<b@redress.test>", 250).await;
    busy.expect("DATA", 354).await;
    busy.write(b"first half\r\n").await;

    server.stop.take().unwrap().send(()).unwrap();
    let r = idle.reply().await;
    assert_eq!((r.code, r.text().as_str()), (421, "4.3.2 shutting down"));
    assert!(idle.closed().await);

    // The message under way is finished and answered, then the door shuts.
    busy.write(b"second half\r\n.\r\n").await;
    assert_eq!(busy.reply().await.code, 250);
    assert_eq!(busy.reply().await.code, 421);
    assert_eq!(
        server.handler.messages()[0].1,
        b"first half\r\nsecond half\r\n"
    );

    timeout(WAIT, &mut server.task)
        .await
        .expect("serve returns")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn lettre_sends_in_plaintext_and_over_starttls() {
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    let (config, _cert) = tls_pair();
    let server = Server::start(SmtpSettings {
        tls: Some(config),
        ..settings()
    })
    .await;
    let message = |subject: &str| {
        Message::builder()
            .from("Alice <alice@example.org>".parse().unwrap())
            .to("complaints@redress.test".parse().unwrap())
            .subject(subject)
            .body(String::from("Hello.\n.A line with a dot.\n"))
            .unwrap()
    };

    let plain = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.addr.port())
        .build();
    plain.send(message("plain")).await.unwrap();

    let tls = TlsParameters::builder("localhost".into())
        .dangerous_accept_invalid_certs(true)
        .build()
        .unwrap();
    let secure = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.addr.port())
        .tls(Tls::Required(tls))
        .build();
    secure.send(message("secure")).await.unwrap();

    let got = server.handler.messages();
    assert_eq!(got.len(), 2);
    for ((envelope, body), tls) in got.iter().zip([false, true]) {
        assert_eq!(envelope.tls, tls);
        assert_eq!(envelope.mail_from.as_deref(), Some("alice@example.org"));
        assert_eq!(
            envelope.rcpt_to,
            vec!["complaints@redress.test".to_string()]
        );
        let body = String::from_utf8_lossy(body);
        assert!(body.contains("\r\n.A line with a dot.\r\n"), "{body}");
    }
}

const PYTHON_CLIENT: &str = r#"
import smtplib, ssl, sys
port = int(sys.argv[1])
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.ehlo("py.example")
    assert s.has_extn("size") and s.esmtp_features["size"] == "777777", s.esmtp_features
    assert s.has_extn("starttls")
    s.starttls(context=ssl._create_unverified_context())
    s.ehlo("py.example")
    assert not s.has_extn("starttls")
    refused = s.sendmail(
        "py@example.org",
        ["complaints@redress.test"],
        b"Subject: from python\r\n\r\n.leading dot\r\nend\r\n",
    )
    assert refused == {}, refused
    try:
        s.sendmail("py@example.org", ["reject@redress.test"], b"x\r\n")
        raise SystemExit("a rejected message was accepted")
    except smtplib.SMTPDataError as e:
        assert e.smtp_code == 550, e
print("python ok")
"#;

/// CI installs python3 (its S3 test needs it), so this one requires it.
#[tokio::test]
async fn python_smtplib_sends_over_starttls() {
    let (config, _cert) = tls_pair();
    let server = Server::start(SmtpSettings {
        tls: Some(config),
        max_message_bytes: 777_777,
        ..settings()
    })
    .await;
    let port = server.addr.port().to_string();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .arg("-c")
            .arg(PYTHON_CLIENT)
            .arg(port)
            .output()
    })
    .await
    .unwrap()
    .expect("python3 must be installed for this test (CI installs it)");
    assert!(
        out.status.success(),
        "python smtplib failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let got = server.handler.messages();
    assert_eq!(got.len(), 1);
    assert!(got[0].0.tls);
    assert_eq!(got[0].0.helo, "py.example");
    assert_eq!(
        got[0].1,
        b"Subject: from python\r\n\r\n.leading dot\r\nend\r\n"
    );
}
