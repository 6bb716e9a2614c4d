//! Mail in and notices out (issue 6), measured by `bench/mail.sh`:
//!
//! * `smtp-intake`: N concurrent SMTP senders against `redress serve`'s
//!   receiver, each mail from its own address with its own Message-ID and
//!   a PDF attachment of its own (content-addressed storage cannot
//!   deduplicate them); mails/s counted on `250` replies, latency per mail
//!   from `MAIL FROM` to the reply after the final dot. Afterwards the
//!   case count through the API must have grown by exactly the `250`s.
//! * `mail-sink`: the project's own receiver (`redress_channels::smtp`)
//!   with a counting handler, as the relay notices are sent to. It keeps
//!   its figures in a status file that the script polls.
//!
//! The client is a small hand-written one (EHLO once per connection, then
//! `MAIL`/`RCPT`/`DATA` per mail on the same connection, no pipelining),
//! so that every reply is counted as the receiver sent it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use base64::Engine;
use rand::RngCore;
use redress_channels::smtp::{Envelope, MailHandler, SmtpServer, SmtpSettings, Verdict};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::percentile;

/// A valid-looking PDF of about `kb` KiB: the `%PDF-1.4` header, a comment
/// line naming `tag` (which makes the file, and so its SHA-256, unique),
/// `filler`, and `%%EOF`.
pub fn pdf(kb: usize, tag: &str, filler: &[u8]) -> Vec<u8> {
    let head = format!("%PDF-1.4\n%redress-bench {tag}\n");
    let tail = b"\n%%EOF\n";
    let want = (kb * 1024).max(head.len() + tail.len());
    let fill = want - head.len() - tail.len();
    let mut out = Vec::with_capacity(want);
    out.extend_from_slice(head.as_bytes());
    let body_end = head.len() + fill;
    while out.len() < body_end {
        let take = (body_end - out.len()).min(filler.len().max(1));
        match filler.get(..take) {
            Some(part) if !part.is_empty() => out.extend_from_slice(part),
            _ => out.resize(body_end, b' '),
        }
    }
    out.extend_from_slice(tail);
    out
}

/// Random filler bytes for [`pdf`].
pub fn filler(kb: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; (kb * 1024).max(1)];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes
}

fn unix_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// Base64 in lines of 76 characters (RFC 2045), CRLF-terminated.
fn base64_lines(bytes: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(b64.len() + b64.len() / 76 * 2 + 2);
    for line in b64.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// One complaint mail, as a mail program writes it: multipart/mixed with a
/// base64 text part and a base64 PDF attachment; CRLF line ends, ending
/// in CRLF.
fn complaint_mail(from: &str, n: usize, attachment: Option<&[u8]>) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let subject = format!("=?UTF-8?B?{}?=", b64.encode(format!("商家拒绝退款 {n}")));
    let text = base64_lines(
        format!(
            "订单{n}已取消，但商家拒绝退款，快递也没有退回。\n\
             The merchant refuses a refund for order {n}; the receipt is attached.\n"
        )
        .as_bytes(),
    );
    let id = uuid::Uuid::now_v7();
    let date = chrono::Utc::now().to_rfc2822();
    let head = format!(
        "From: Bench Sender {n} <{from}>\r\nTo: complaints@example.com\r\nSubject: {subject}\r\n\
         Message-ID: <{id}@senders.example.net>\r\nDate: {date}\r\nMIME-Version: 1.0\r\n"
    );
    let raw = match attachment {
        Some(pdf) => format!(
            "{head}Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
             --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{text}\
             --b1\r\nContent-Type: application/pdf; name=\"receipt-{n}.pdf\"\r\n\
             Content-Disposition: attachment; filename=\"receipt-{n}.pdf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}--b1--\r\n",
            base64_lines(pdf)
        ),
        None => format!(
            "{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{text}"
        ),
    };
    raw.into_bytes()
}

/// Dot-stuffing (RFC 5321 4.5.2): a line that starts with `.` gets another.
fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 16);
    let mut line_start = true;
    for &b in raw {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n';
    }
    out
}

/// One SMTP connection.
struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Client {
    async fn connect(addr: &str) -> anyhow::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (r, w) = stream.into_split();
        let mut c = Client {
            reader: BufReader::new(r),
            writer: w,
        };
        let (code, text) = c.reply().await?;
        anyhow::ensure!(code == 220, "greeting: {code} {text}");
        let (code, text) = c.command("EHLO bench.example.net").await?;
        anyhow::ensure!(code == 250, "EHLO: {code} {text}");
        Ok(c)
    }

    /// One reply, its lines joined.
    async fn reply(&mut self) -> anyhow::Result<(u16, String)> {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).await?;
            anyhow::ensure!(n > 0, "the server closed the connection");
            let code: u16 = line
                .get(..3)
                .and_then(|c| c.parse().ok())
                .with_context(|| format!("not a reply: {line:?}"))?;
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(line.get(4..).unwrap_or("").trim_end());
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok((code, text));
            }
        }
    }

    async fn command(&mut self, line: &str) -> anyhow::Result<(u16, String)> {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await?;
        self.reply().await
    }

    /// One transaction: the final reply (of `DATA`'s end, or of the
    /// command that refused the mail).
    async fn send(&mut self, from: &str, to: &str, raw: &[u8]) -> anyhow::Result<(u16, String)> {
        let (code, text) = self
            .command(&format!("MAIL FROM:<{from}> SIZE={}", raw.len()))
            .await?;
        if code != 250 {
            return Ok((code, format!("MAIL: {text}")));
        }
        let (code, text) = self.command(&format!("RCPT TO:<{to}>")).await?;
        if code != 250 && code != 251 {
            let _ = self.command("RSET").await?;
            return Ok((code, format!("RCPT: {text}")));
        }
        let (code, text) = self.command("DATA").await?;
        if code != 354 {
            return Ok((code, format!("DATA: {text}")));
        }
        let mut data = dot_stuff(raw);
        if !data.ends_with(b"\r\n") {
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b".\r\n");
        self.writer.write_all(&data).await?;
        self.reply().await
    }
}

pub struct SmtpIntakeArgs {
    /// The receiver, `host:port`.
    pub addr: String,
    pub senders: usize,
    pub seconds: u64,
    /// The PDF attached to each mail, KiB (0: no attachment).
    pub attachment_kb: usize,
    /// The HTTP API and a token that may list cases, for the check.
    pub http: Option<String>,
    pub token: Option<String>,
}

/// Cases visible to `token` (the `total` of `GET /complaints?limit=1`).
async fn cases_total(http: &str, token: &str) -> anyhow::Result<u64> {
    let mut sender = crate::connect(http).await?;
    let (_, body) =
        crate::get_timed(&mut sender, http, token, "/api/v1/complaints?limit=1").await?;
    body.get("total")
        .and_then(|t| t.as_u64())
        .with_context(|| format!("no total in {body}"))
}

/// What one sender did.
#[derive(Default)]
struct SenderResult {
    /// Latency of each `250`, ms.
    ok_ms: Vec<f64>,
    /// `250`s whose text names a new case (`queued as RD…`).
    opened: u64,
    /// Replies other than `250`, and transport errors.
    bad: u64,
    /// The first few of those, for the report.
    errors: Vec<String>,
    bytes: u64,
}

pub async fn smtp_intake(args: SmtpIntakeArgs) -> anyhow::Result<()> {
    let check = match (&args.http, &args.token) {
        (Some(http), Some(token)) => Some((http.clone(), token.clone())),
        _ => None,
    };
    let before = match &check {
        Some((http, token)) => Some(cases_total(http, token).await?),
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let run = format!("{:x}", unix_ms());
    let start = Instant::now();
    let mut tasks = vec![];
    for c in 0..args.senders {
        let (addr, stop, next, run) = (args.addr.clone(), stop.clone(), next.clone(), run.clone());
        let kb = args.attachment_kb;
        tasks.push(tokio::spawn(async move {
            let fill = filler(kb);
            let mut r = SenderResult::default();
            let mut client: Option<Client> = None;
            while !stop.load(Ordering::Relaxed) {
                let conn = match client.as_mut() {
                    Some(conn) => conn,
                    None => match Client::connect(&addr).await {
                        Ok(conn) => client.insert(conn),
                        Err(e) => {
                            r.bad += 1;
                            if r.errors.len() < 3 {
                                r.errors.push(format!("connect: {e}"));
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                };
                let n = next.fetch_add(1, Ordering::Relaxed);
                let from = format!("s{c}-{n}-{run}@senders.example.net");
                let attachment = (kb > 0).then(|| pdf(kb, &format!("{run} {c} {n}"), &fill));
                let raw = complaint_mail(&from, n, attachment.as_deref());
                r.bytes += raw.len() as u64;
                let t0 = Instant::now();
                match conn.send(&from, "complaints@example.com", &raw).await {
                    Ok((250, text)) => {
                        r.ok_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
                        if text.contains("queued as RD") {
                            r.opened += 1;
                        }
                    }
                    Ok((code, text)) => {
                        r.bad += 1;
                        if r.errors.len() < 3 {
                            r.errors.push(format!("{code} {text}"));
                        }
                        if code == 421 {
                            client = None;
                        }
                    }
                    Err(e) => {
                        r.bad += 1;
                        if r.errors.len() < 3 {
                            r.errors.push(e.to_string());
                        }
                        client = None;
                    }
                }
            }
            if let Some(mut conn) = client {
                let _ = conn.command("QUIT").await;
            }
            r
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = SenderResult::default();
    for t in tasks {
        let r = t.await?;
        all.ok_ms.extend(r.ok_ms);
        all.opened += r.opened;
        all.bad += r.bad;
        all.bytes += r.bytes;
        all.errors.extend(r.errors);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut lat = all.ok_ms;
    lat.sort_by(|a, b| a.total_cmp(b));
    let accepted = lat.len() as u64;
    let attempts = accepted + all.bad;
    println!(
        "smtp_intake senders={} attachment_kb={} mails={accepted} mails_per_s={:.1} p50_ms={:.2} p95_ms={:.2} p99_ms={:.2} max_ms={:.2} non_250={} opened={} mail_bytes={}",
        args.senders,
        args.attachment_kb,
        accepted as f64 / elapsed,
        percentile(&lat, 0.5),
        percentile(&lat, 0.95),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
        all.bad,
        all.opened,
        all.bytes / attempts.max(1),
    );
    for e in all.errors.iter().take(5) {
        println!("smtp_intake error: {e}");
    }
    if let (Some((http, token)), Some(before)) = (check, before) {
        let after = cases_total(&http, &token).await?;
        let new_cases = after.saturating_sub(before);
        let ok = after >= before && new_cases == accepted;
        println!(
            "smtp_intake_check cases_before={before} cases_after={after} new_cases={new_cases} replies_250={accepted} ok={ok}"
        );
        anyhow::ensure!(ok, "the case count does not match the 250 replies");
    }
    Ok(())
}

/// The sink's figures.
#[derive(Default)]
struct SinkState {
    received: u64,
    /// Distinct Message-IDs: a resent notice would show as received > distinct.
    ids: HashSet<String>,
    without_id: u64,
    /// Distinct client addresses (address and port): the connections the
    /// messages came over, as far as ports are not used again.
    peers: HashSet<std::net::SocketAddr>,
    bytes: u64,
    first_ms: Option<u128>,
    last_ms: Option<u128>,
    /// When `received` reached the mark.
    mark_ms: Option<u128>,
}

struct Counting {
    state: Mutex<SinkState>,
    mark: u64,
}

/// The `Message-ID` header's value, from the header block.
fn message_id(raw: &[u8]) -> Option<String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..end]);
    head.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("message-id")
            .then(|| value.trim().to_string())
    })
}

#[async_trait::async_trait]
impl MailHandler for Counting {
    async fn deliver(&self, envelope: Envelope, message: Vec<u8>) -> Verdict {
        let id = message_id(&message);
        let now = unix_ms();
        let mut s = self.state.lock().expect("sink lock");
        s.received += 1;
        s.bytes += message.len() as u64;
        s.peers.insert(envelope.peer);
        match id {
            Some(id) => {
                s.ids.insert(id);
            }
            None => s.without_id += 1,
        }
        s.first_ms.get_or_insert(now);
        s.last_ms = Some(now);
        if s.received == self.mark {
            s.mark_ms = Some(now);
        }
        Verdict::Accepted {
            id: format!("sink-{}", s.received),
        }
    }
}

fn write_status(path: &Path, s: &SinkState) -> std::io::Result<()> {
    let opt = |v: Option<u128>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    let line = format!(
        "mail_sink received={} distinct={} without_id={} connections={} bytes={} first_unix_ms={} last_unix_ms={} mark_unix_ms={}\n",
        s.received,
        s.ids.len(),
        s.without_id,
        s.peers.len(),
        s.bytes,
        opt(s.first_ms),
        opt(s.last_ms),
        opt(s.mark_ms)
    );
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, line)?;
    std::fs::rename(&tmp, path)
}

/// Runs the counting sink on `listen` until the process is killed, writing
/// its figures to `status` every 100 ms.
pub async fn mail_sink(listen: String, status: PathBuf, mark: u64) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let handler = Arc::new(Counting {
        state: Mutex::new(SinkState::default()),
        mark,
    });
    let server = SmtpServer::new(
        SmtpSettings {
            hostname: "sink.bench.example".into(),
            per_sender_per_minute: 0,
            per_peer_connections: 1000,
            max_connections: 1000,
            ..Default::default()
        },
        handler.clone(),
    );
    tokio::spawn(server.serve(listener, std::future::pending()));
    loop {
        {
            let s = handler.state.lock().expect("sink lock");
            write_status(&status, &s)?;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_is_sized_unique_and_sniffs_as_pdf() {
        let fill = filler(4);
        let a = pdf(100, "a", &fill);
        let b = pdf(100, "b", &fill);
        assert_eq!(a.len(), 100 * 1024);
        assert_ne!(a, b);
        assert!(a.starts_with(b"%PDF-1.4\n"));
        assert!(a.ends_with(b"%%EOF\n"));
    }

    #[test]
    fn mail_has_its_id_and_stuffing_doubles_leading_dots() {
        let raw = complaint_mail("x@example.net", 7, Some(b"%PDF-1.4\n%%EOF\n"));
        assert!(message_id(&raw).is_some_and(|id| id.ends_with("@senders.example.net>")));
        assert!(raw.ends_with(b"--b1--\r\n"));
        assert_eq!(dot_stuff(b".a\r\n.b\r\nc.\r\n"), b"..a\r\n..b\r\nc.\r\n");
    }
}
