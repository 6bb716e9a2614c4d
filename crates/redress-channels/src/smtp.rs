//! The SMTP receiver mailed complaints arrive by.
//!
//! A small ESMTP server (RFC 5321) on tokio that accepts mail for any
//! recipient and hands each message to a [`MailHandler`]. It speaks SIZE
//! (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), PIPELINING
//! (RFC 2920), ENHANCEDSTATUSCODES (RFC 2034) and, when the caller supplies a
//! rustls `ServerConfig`, STARTTLS (RFC 3207). Routing, spam and parsing are
//! not its business: the platform's mail server in front of it decides which
//! recipients exist, and the application parses what arrives.
//!
//! Written by hand: mailin-embedded blocks a thread per connection and cannot
//! advertise SIZE; samotop and smtp-server are unmaintained.
//!
//! Decisions worth knowing:
//! - **End of data is `<CRLF>.<CRLF>` only.** A lone `.` after a bare LF is
//!   message content, and a line counts as started only after a CRLF (also
//!   for dot-unstuffing). Accepting `\n.\n` would open the door to SMTP
//!   smuggling (a second, forged message hidden in the first by a sender
//!   whose outbound server passes bare LFs through). Bare LFs inside the
//!   message are kept as they came. Commands may end in a bare LF.
//! - **No `Received:` header is added**: the handler gets the message bytes
//!   exactly as sent (dot-unstuffed) and the [`Envelope`] beside them.
//! - **Memory**: one session holds at most one message of
//!   `max_message_bytes` plus a 64 KiB read buffer, so the worst case is
//!   about `max_connections × max_message_bytes`; size those together.
//! - **The per-sender limit counts accepted `MAIL` commands**, keyed by the
//!   lowercased address; the null sender `<>` is keyed per client IP so that
//!   one host's bounces cannot exhaust everyone else's.
//! - **Logs** name the peer, sizes, recipient counts and verdicts; the
//!   envelope sender only at debug level (it is personal data), the message
//!   body never.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::{Instrument, debug, error, info, warn};

/// Longest command line accepted, CRLF included. RFC 5321 says 512; the
/// margin is for SMTPUTF8 addresses and clients that pad parameters.
const COMMAND_LINE_MAX: usize = 4096;
/// The read buffer, and so the largest piece of a DATA line handled at once:
/// longer lines are accepted, in pieces.
const READ_BUFFER: usize = 64 * 1024;
/// How much of an over-long command line is skipped looking for its end
/// before the connection is given up on.
const LONG_LINE_SKIP_MAX: usize = 1024 * 1024;
/// Replies are batched (PIPELINING) but flushed once this many bytes wait.
const OUTPUT_FLUSH_AT: usize = 16 * 1024;
/// Consecutive bad commands (5xx syntax and sequence errors) before the
/// session is closed: a client this confused is not going to deliver mail.
const MAX_BAD_COMMANDS: u32 = 10;
/// RFC 5321 4.5.3.1.3: the longest reverse- or forward-path.
const PATH_MAX: usize = 256;
/// Handler-supplied reply text is cut to this (a reply line is 512 octets).
const REPLY_TEXT_MAX: usize = 400;
/// The per-sender window.
const RATE_WINDOW: Duration = Duration::from_secs(60);
/// Senders tracked at most by the rate limiter (see [`SenderLimiter`]).
const RATE_TABLE_MAX: usize = 10_000;
/// After an accept error (out of file descriptors, say) wait before retrying
/// rather than spinning on it.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(200);
/// The longest time spent saying goodbye to a client that does not read.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// How the receiver behaves; `Default` gives the documented values.
#[derive(Clone, Debug)]
pub struct SmtpSettings {
    /// The name in the greeting and the EHLO answer.
    pub hostname: String,
    /// The largest message accepted, advertised as `SIZE n`.
    pub max_message_bytes: usize,
    /// Recipients per message; more get `452 4.5.3`.
    pub max_recipients: usize,
    /// Messages (`MAIL` commands) accepted per envelope sender per minute;
    /// 0 turns the limit off.
    pub per_sender_per_minute: u32,
    /// Concurrent connections from one client IP.
    pub per_peer_connections: usize,
    /// Concurrent connections in all.
    pub max_connections: usize,
    /// How long one read (or write) may take before the session is closed
    /// with `421 4.4.2`; RFC 5321 asks for at least 5 minutes.
    pub command_timeout: Duration,
    /// On shutdown, how long sessions in the middle of a message get to
    /// finish it before they are cut off.
    pub shutdown_grace: Duration,
    /// STARTTLS is offered only when this is set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            hostname: "localhost".to_string(),
            max_message_bytes: 25 * 1024 * 1024,
            max_recipients: 50,
            per_sender_per_minute: 30,
            per_peer_connections: 20,
            // Each session holds at most one message (up to
            // max_message_bytes) in memory: 100 × 25 MiB bounds the worst case.
            max_connections: 100,
            command_timeout: Duration::from_secs(5 * 60),
            shutdown_grace: Duration::from_secs(30),
            tls: None,
        }
    }
}

/// The envelope of one accepted message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The client's address.
    pub peer: SocketAddr,
    /// The name the client gave in EHLO or HELO (unverified).
    pub helo: String,
    /// The reverse-path; `None` for the null sender `<>` (bounces).
    pub mail_from: Option<String>,
    /// The forward-paths, in the order given, without duplicates.
    pub rcpt_to: Vec<String>,
    /// Whether the message came over STARTTLS.
    pub tls: bool,
}

/// What the application answers for a message; the receiver turns it into an
/// SMTP reply after the final dot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Stored: `250 2.0.0 OK queued as <id>`.
    Accepted {
        /// The application's id for the message, shown to the client.
        id: String,
    },
    /// Not stored, try again later: `451 4.3.0 <text>`.
    TempFail(String),
    /// Refused for good: `550 5.6.0 <text>`.
    Reject(String),
}

/// The application's side of the receiver.
#[async_trait::async_trait]
pub trait MailHandler: Send + Sync + 'static {
    /// Called once per message after the final dot, with the raw message
    /// (dot-unstuffed, line ends as sent: CRLF from any conforming client).
    /// Must return only after the message is durably stored: a 250 is a
    /// promise that the mail is not lost.
    ///
    /// The call runs in its own task, so a panic becomes a `451` and a
    /// receiver shutting down does not cut a store off half-way.
    async fn deliver(&self, envelope: Envelope, message: Vec<u8>) -> Verdict;
}

/// The SMTP receiver.
pub struct SmtpServer {
    settings: SmtpSettings,
    handler: Arc<dyn MailHandler>,
}

impl SmtpServer {
    /// A receiver that hands what it accepts to `handler`.
    pub fn new(settings: SmtpSettings, handler: Arc<dyn MailHandler>) -> Self {
        Self { settings, handler }
    }

    /// Serves connections from `listener` until `shutdown` resolves; then
    /// stops accepting, lets sessions in DATA finish (for at most
    /// `shutdown_grace`) and answers `421 4.3.2 shutting down` to the others.
    ///
    /// Accept errors are logged and retried, never returned: one exhausted
    /// file-descriptor table must not take the receiver down for good.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let local = listener.local_addr()?;
        let mut settings = self.settings;
        // The hostname goes into every greeting: keep it one clean line.
        settings.hostname = reply_text(&settings.hostname, "localhost");
        let grace = settings.shutdown_grace;
        let shared = Arc::new(Shared {
            tls: settings.tls.clone().map(TlsAcceptor::from),
            limiter: SenderLimiter::new(settings.per_sender_per_minute),
            connections: Mutex::new(ConnectionTable::default()),
            handler: self.handler,
            settings,
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut sessions = JoinSet::new();
        tokio::pin!(shutdown);
        info!(%local, tls = shared.tls.is_some(), "SMTP receiver listening");

        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                // Reap finished sessions so the set does not grow with them.
                Some(done) = sessions.join_next(), if !sessions.is_empty() => log_session_end(done),
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let Some(slot) = Shared::admit(&shared, peer.ip()) else {
                            refuse(&stream, peer);
                            continue;
                        };
                        let session = Session::new(Arc::clone(&shared), stream, peer);
                        let stop = stop_rx.clone();
                        let span = tracing::info_span!("smtp", %peer);
                        sessions.spawn(
                            async move {
                                // The slot is released when the session ends, however it ends.
                                let _slot = slot;
                                session.run(stop).await;
                            }
                            .instrument(span),
                        );
                    }
                    Err(e) => {
                        warn!(error = %e, "SMTP accept failed; retrying");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
            }
        }

        drop(listener);
        // Sessions waiting for a command answer 421 now; the ones in DATA
        // or in the handler see this once their message is answered.
        let _ = stop_tx.send(true);
        info!(open = sessions.len(), "SMTP receiver shutting down");
        let drained = timeout(grace, async {
            while let Some(done) = sessions.join_next().await {
                log_session_end(done);
            }
        })
        .await;
        if drained.is_err() {
            // Nothing they held was acknowledged, so the clients will retry.
            warn!(
                cut_off = sessions.len(),
                "SMTP sessions did not finish in time"
            );
            sessions.abort_all();
            while sessions.join_next().await.is_some() {}
        }
        info!("SMTP receiver stopped");
        Ok(())
    }
}

/// Says no to a connection over the limits without spending a task on it: a
/// new socket's send buffer is empty, so the one line goes out at once.
fn refuse(stream: &TcpStream, peer: SocketAddr) {
    let _ = stream.try_write(b"421 4.7.0 too many connections\r\n");
    warn!(%peer, "SMTP connection refused: too many connections");
}

fn log_session_end(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done
        && e.is_panic()
    {
        error!(error = %e, "SMTP session panicked");
    }
}

/// What all sessions of one server share.
struct Shared {
    settings: SmtpSettings,
    handler: Arc<dyn MailHandler>,
    tls: Option<TlsAcceptor>,
    limiter: SenderLimiter,
    connections: Mutex<ConnectionTable>,
}

#[derive(Default)]
struct ConnectionTable {
    total: usize,
    per_peer: HashMap<IpAddr, usize>,
}

/// A place in the connection table, given back on drop.
struct ConnectionSlot {
    shared: Arc<Shared>,
    ip: IpAddr,
}

impl Shared {
    fn admit(shared: &Arc<Shared>, ip: IpAddr) -> Option<ConnectionSlot> {
        // An IPv4 client on a dual-stack socket is one client, whichever
        // form its address comes in.
        let ip = ip.to_canonical();
        let mut table = lock(&shared.connections);
        let from_peer = table.per_peer.get(&ip).copied().unwrap_or(0);
        if table.total >= shared.settings.max_connections
            || from_peer >= shared.settings.per_peer_connections
        {
            return None;
        }
        table.total += 1;
        table.per_peer.insert(ip, from_peer + 1);
        Some(ConnectionSlot {
            shared: Arc::clone(shared),
            ip,
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut table = lock(&self.shared.connections);
        table.total = table.total.saturating_sub(1);
        if let Some(n) = table.per_peer.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                table.per_peer.remove(&self.ip);
            }
        }
    }
}

/// A poisoned lock only means another session panicked while holding it;
/// the tables stay consistent enough to go on with.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Messages per sender per minute, in fixed one-minute windows that start
/// with a sender's first message.
///
/// The table is bounded: when it is full, expired windows are dropped, and if
/// most entries are still live (a flood of distinct senders) it is cleared.
/// That resets the counts, which gives an attacker nothing it does not
/// already have by using many addresses; the limit is against one runaway
/// sender, not against an attacker.
struct SenderLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, RateWindow>>,
}

struct RateWindow {
    start: Instant,
    count: u32,
}

impl SenderLimiter {
    fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one message for `key`, or says it is over the limit.
    fn allow(&self, key: &str, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let mut windows = lock(&self.windows);
        if let Some(w) = windows.get_mut(key) {
            if now.saturating_duration_since(w.start) >= RATE_WINDOW {
                *w = RateWindow {
                    start: now,
                    count: 1,
                };
                return true;
            }
            if w.count >= self.per_minute {
                return false;
            }
            w.count += 1;
            return true;
        }
        if windows.len() >= RATE_TABLE_MAX {
            windows.retain(|_, w| now.saturating_duration_since(w.start) < RATE_WINDOW);
            // Keep a quarter free so the trimming is not redone per message.
            if windows.len() >= RATE_TABLE_MAX / 4 * 3 {
                warn!(
                    senders = windows.len(),
                    "SMTP sender rate table full; resetting it"
                );
                windows.clear();
            }
        }
        windows.insert(
            key.to_owned(),
            RateWindow {
                start: now,
                count: 1,
            },
        );
        true
    }
}

/// The connection's byte stream, before and after STARTTLS.
enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only between taking the TCP stream for the TLS handshake and putting
    /// the TLS stream back; a failed handshake ends the session here.
    Detached,
}

fn detached() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "stream detached for STARTTLS")
}

/// Why reading or writing stopped.
enum ConnError {
    /// The client closed the connection.
    Closed,
    /// A read or write took longer than `command_timeout`.
    Timeout,
    Io(io::Error),
}

/// A connection with a bounded read buffer and batched replies.
struct Conn {
    io: Io,
    /// Fixed size: the client can never make it grow.
    buf: Box<[u8]>,
    /// Unread input is `buf[start..end]`.
    start: usize,
    end: usize,
    /// How much of the unread input is known to hold no LF, so that a long
    /// line arriving in small reads is scanned once, not once per read.
    scanned: usize,
    out: Vec<u8>,
    timeout: Duration,
}

impl Conn {
    fn new(stream: TcpStream, timeout: Duration) -> Self {
        Self {
            io: Io::Plain(stream),
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            scanned: 0,
            out: Vec::with_capacity(512),
            timeout,
        }
    }

    /// Queues a reply; multi-line text (lines split by `\n`) becomes a
    /// multi-line reply.
    fn reply(&mut self, code: u16, text: &str) {
        let mut lines = text.split('\n').peekable();
        while let Some(line) = lines.next() {
            let sep = if lines.peek().is_some() { '-' } else { ' ' };
            self.out
                .extend_from_slice(format!("{code}{sep}{line}\r\n").as_bytes());
        }
    }

    async fn flush(&mut self) -> Result<(), ConnError> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        let io = &mut self.io;
        let written = timeout(self.timeout, async {
            match io {
                Io::Plain(s) => {
                    s.write_all(&out).await?;
                    s.flush().await
                }
                Io::Tls(s) => {
                    s.write_all(&out).await?;
                    s.flush().await
                }
                Io::Detached => Err(detached()),
            }
        })
        .await;
        // Keep the allocation for the next replies.
        self.out = out;
        self.out.clear();
        match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ConnError::Io(e)),
            Err(_) => Err(ConnError::Timeout),
        }
    }

    /// Whether a command line (or an over-long one) can be had without
    /// reading: only then are replies kept back for batching.
    fn line_buffered(&self) -> bool {
        let unread = &self.buf[self.start..self.end];
        unread.len() >= COMMAND_LINE_MAX
            || unread.iter().take(COMMAND_LINE_MAX).any(|&b| b == b'\n')
    }

    /// The next piece of input: through the next LF, or the first `limit`
    /// bytes when no LF comes within them.
    async fn piece(&mut self, limit: usize) -> Result<&[u8], ConnError> {
        let limit = limit.min(self.buf.len());
        loop {
            let unread = self.end - self.start;
            let window = unread.min(limit);
            let from = self.scanned.min(window);
            let lf = self.buf[self.start + from..self.start + window]
                .iter()
                .position(|&b| b == b'\n');
            let take = match lf {
                Some(i) => Some(from + i + 1),
                None if unread >= limit => Some(limit),
                None => None,
            };
            if let Some(len) = take {
                let at = self.start;
                self.start += len;
                self.scanned = 0;
                return Ok(&self.buf[at..at + len]);
            }
            self.scanned = window;
            self.fill().await?;
        }
    }

    /// Reads more input, first sending the replies the client may be
    /// waiting for.
    async fn fill(&mut self) -> Result<(), ConnError> {
        self.flush().await?;
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        // `piece` reads only while less than `limit <= buf.len()` is
        // buffered, so there is room.
        let room = &mut self.buf[self.end..];
        let io = &mut self.io;
        let read = timeout(self.timeout, async {
            match io {
                Io::Plain(s) => s.read(room).await,
                Io::Tls(s) => s.read(room).await,
                Io::Detached => Err(detached()),
            }
        })
        .await;
        match read {
            Ok(Ok(0)) => Err(ConnError::Closed),
            Ok(Ok(n)) => {
                self.end += n;
                Ok(())
            }
            Ok(Err(e)) => Err(ConnError::Io(e)),
            Err(_) => Err(ConnError::Timeout),
        }
    }

    /// The next command line without its line end, or `None` when it is too
    /// long (what was read of it is dropped; see [`Conn::skip_line`]).
    async fn command_line(&mut self) -> Result<Option<Vec<u8>>, ConnError> {
        let piece = self.piece(COMMAND_LINE_MAX).await?;
        let Some(line) = piece.strip_suffix(b"\n") else {
            return Ok(None);
        };
        // A bare LF is tolerated in commands.
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Ok(Some(line.to_vec()))
    }

    /// Drops input through the next LF; false if none came within
    /// [`LONG_LINE_SKIP_MAX`].
    async fn skip_line(&mut self) -> Result<bool, ConnError> {
        let mut skipped = 0usize;
        loop {
            let piece = self.piece(READ_BUFFER).await?;
            if piece.ends_with(b"\n") {
                return Ok(true);
            }
            skipped += piece.len();
            if skipped > LONG_LINE_SKIP_MAX {
                return Ok(false);
            }
        }
    }

    /// Reads a message through `<CRLF>.<CRLF>`, dot-unstuffed. Past
    /// `max_bytes` it goes on reading to the end but keeps nothing.
    async fn data(&mut self, max_bytes: usize) -> Result<Body, ConnError> {
        let mut body = Vec::new();
        let mut size = 0usize;
        let mut too_big = false;
        // Lines start only after a CRLF (see the module notes); the DATA
        // command's line end counts as one.
        let mut line_start = true;
        let mut after_cr = false;
        loop {
            let piece = self.piece(READ_BUFFER).await?;
            let mut content = piece;
            if line_start && piece.first() == Some(&b'.') {
                if piece == b".\r\n" {
                    break;
                }
                content = &piece[1..];
            }
            line_start = piece.ends_with(b"\r\n") || (piece == b"\n" && after_cr);
            after_cr = piece.ends_with(b"\r");
            size = size.saturating_add(content.len());
            if too_big {
                continue;
            }
            if size > max_bytes {
                too_big = true;
                body = Vec::new();
            } else {
                body.extend_from_slice(content);
            }
        }
        Ok(if too_big {
            Body::TooBig { size }
        } else {
            Body::Complete(body)
        })
    }

    /// Drops buffered input; returns how many bytes that was.
    fn discard_input(&mut self) -> usize {
        let dropped = self.end - self.start;
        self.start = 0;
        self.end = 0;
        self.scanned = 0;
        dropped
    }

    /// Sends what is queued and closes our side, for a bounded time.
    async fn close(&mut self) {
        let wait = self.timeout.min(CLOSE_TIMEOUT);
        let _ = timeout(wait, async {
            let _ = self.flush().await;
            let _ = match &mut self.io {
                Io::Plain(s) => s.shutdown().await,
                Io::Tls(s) => s.shutdown().await,
                Io::Detached => Ok(()),
            };
        })
        .await;
    }
}

enum Body {
    Complete(Vec<u8>),
    TooBig { size: usize },
}

/// One message being put together.
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    smtputf8: bool,
}

/// How a session ended, for the log and the last words.
enum End {
    Quit,
    Closed,
    Timeout,
    Shutdown,
    TooManyErrors,
    LineTooLong,
    Io(io::Error),
    Tls(io::Error),
}

impl From<ConnError> for End {
    fn from(e: ConnError) -> Self {
        match e {
            ConnError::Closed => End::Closed,
            ConnError::Timeout => End::Timeout,
            ConnError::Io(e) => End::Io(e),
        }
    }
}

struct Reply {
    code: u16,
    text: String,
}

fn reply(code: u16, text: impl Into<String>) -> Reply {
    Reply {
        code,
        text: text.into(),
    }
}

/// One client connection.
struct Session {
    shared: Arc<Shared>,
    peer: SocketAddr,
    conn: Conn,
    helo: Option<String>,
    tx: Option<Transaction>,
    tls: bool,
    bad_commands: u32,
    delivered: u32,
}

impl Session {
    fn new(shared: Arc<Shared>, stream: TcpStream, peer: SocketAddr) -> Self {
        let conn = Conn::new(stream, shared.settings.command_timeout);
        Self {
            shared,
            peer,
            conn,
            helo: None,
            tx: None,
            tls: false,
            bad_commands: 0,
            delivered: 0,
        }
    }

    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        debug!("SMTP session opened");
        let greeting = format!("{} ESMTP redress", self.shared.settings.hostname);
        self.conn.reply(220, &greeting);
        let end = self.commands(&mut stop).await;
        let last_words = match &end {
            End::Timeout => Some((421, "4.4.2 timeout, closing connection")),
            End::Shutdown => Some((421, "4.3.2 shutting down")),
            End::TooManyErrors => Some((421, "4.7.0 too many errors, closing connection")),
            End::LineTooLong => Some((421, "4.7.0 line too long, closing connection")),
            End::Quit | End::Closed | End::Io(_) | End::Tls(_) => None,
        };
        if let Some((code, text)) = last_words {
            self.conn.reply(code, text);
        }
        if !matches!(end, End::Closed | End::Io(_) | End::Tls(_)) {
            self.conn.close().await;
        }
        let delivered = self.delivered;
        match end {
            End::Quit | End::Closed => debug!(delivered, "SMTP session ended"),
            End::Timeout => info!(delivered, "SMTP session timed out"),
            End::Shutdown => info!(delivered, "SMTP session closed for shutdown"),
            End::TooManyErrors | End::LineTooLong => {
                info!(delivered, "SMTP session closed: too many errors")
            }
            End::Io(e) => info!(delivered, error = %e, "SMTP session failed"),
            End::Tls(e) => info!(delivered, error = %e, "SMTP TLS handshake failed"),
        }
    }

    /// The command loop; returns when the session is over.
    async fn commands(&mut self, stop: &mut watch::Receiver<bool>) -> End {
        loop {
            if *stop.borrow() {
                return End::Shutdown;
            }
            // Flush before waiting, outside the race with shutdown below, so
            // that a shutdown never cuts a reply in half.
            if !self.conn.line_buffered()
                && let Err(e) = self.conn.flush().await
            {
                return e.into();
            }
            let line = tokio::select! {
                biased;
                // An error means the server is gone: that is a shutdown too.
                _ = stop.wait_for(|&stopping| stopping) => return End::Shutdown,
                line = self.conn.command_line() => line,
            };
            let reply = match line {
                Err(e) => return e.into(),
                Ok(None) => {
                    self.conn.reply(500, "5.5.2 line too long");
                    match self.conn.skip_line().await {
                        Ok(true) => {}
                        Ok(false) => return End::LineTooLong,
                        Err(e) => return e.into(),
                    }
                    self.bad_commands += 1;
                    if self.bad_commands >= MAX_BAD_COMMANDS {
                        return End::TooManyErrors;
                    }
                    continue;
                }
                Ok(Some(raw)) => match self.command(&raw).await {
                    Ok(Some(reply)) => reply,
                    // STARTTLS done: nothing to say until the client speaks.
                    Ok(None) => continue,
                    Err(end) => return end,
                },
            };
            self.conn.reply(reply.code, &reply.text);
            match reply.code {
                200..=399 => self.bad_commands = 0,
                500..=504 | 555 => self.bad_commands += 1,
                _ => {}
            }
            if self.bad_commands >= MAX_BAD_COMMANDS {
                return End::TooManyErrors;
            }
            if reply.code == 221 {
                return End::Quit;
            }
            if self.conn.out.len() >= OUTPUT_FLUSH_AT
                && let Err(e) = self.conn.flush().await
            {
                return e.into();
            }
        }
    }

    /// Answers one command line. `Ok(None)`: nothing to answer (after
    /// STARTTLS); `Err`: the session is over.
    async fn command(&mut self, raw: &[u8]) -> Result<Option<Reply>, End> {
        let Ok(line) = std::str::from_utf8(raw) else {
            return Ok(Some(reply(500, "5.5.2 syntax error: not UTF-8")));
        };
        // Control characters have no place in a command, and letting them
        // through would carry them into the envelope and the logs.
        if line.chars().any(char::is_control) {
            return Ok(Some(reply(500, "5.5.2 syntax error: control character")));
        }
        let (verb, arg) = line.split_once(' ').unwrap_or((line, ""));
        let arg = arg.trim();
        let verb = verb.to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => self.hello(arg, true),
            "HELO" => self.hello(arg, false),
            "MAIL" => self.mail(arg),
            "RCPT" => self.rcpt(arg),
            "DATA" => self.data(arg).await?,
            "STARTTLS" => return self.start_tls(arg).await,
            "RSET" => {
                self.tx = None;
                reply(250, "2.0.0 OK")
            }
            "NOOP" => reply(250, "2.0.0 OK"),
            "QUIT" => reply(
                221,
                format!("2.0.0 {} closing connection", self.shared.settings.hostname),
            ),
            "VRFY" if arg.is_empty() => reply(501, "5.5.4 syntax: VRFY <address>"),
            "VRFY" => reply(
                252,
                "2.5.0 cannot VRFY user, but will accept message and attempt delivery",
            ),
            "HELP" => reply(
                214,
                "2.0.0 commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS",
            ),
            "EXPN" | "TURN" | "ETRN" | "BDAT" | "AUTH" => {
                reply(502, "5.5.1 command not implemented")
            }
            _ => reply(500, "5.5.1 command not recognized"),
        };
        Ok(Some(answer))
    }

    fn hello(&mut self, domain: &str, extended: bool) -> Reply {
        if domain.is_empty() || domain.len() > 255 {
            let verb = if extended { "EHLO" } else { "HELO" };
            return reply(501, format!("5.5.4 syntax: {verb} <domain>"));
        }
        // EHLO in the middle of a transaction resets it (RFC 5321 4.1.4).
        self.tx = None;
        self.helo = Some(domain.to_string());
        let settings = &self.shared.settings;
        if !extended {
            return reply(250, settings.hostname.clone());
        }
        let mut lines = vec![
            settings.hostname.clone(),
            format!("SIZE {}", settings.max_message_bytes),
            "8BITMIME".to_string(),
            "SMTPUTF8".to_string(),
            "PIPELINING".to_string(),
            "ENHANCEDSTATUSCODES".to_string(),
        ];
        if self.shared.tls.is_some() && !self.tls {
            lines.push("STARTTLS".to_string());
        }
        reply(250, lines.join("\n"))
    }

    fn mail(&mut self, arg: &str) -> Reply {
        if self.helo.is_none() {
            return reply(503, "5.5.1 send EHLO or HELO first");
        }
        if self.tx.is_some() {
            return reply(503, "5.5.1 nested MAIL command");
        }
        let Some(rest) = strip_prefix_ignore_case(arg, "FROM:") else {
            return reply(501, "5.5.4 syntax: MAIL FROM:<address>");
        };
        let Some((path, params)) = parse_path(rest) else {
            return reply(501, "5.1.7 bad sender address syntax");
        };
        let settings = &self.shared.settings;
        let mut smtputf8 = false;
        for param in params.split_ascii_whitespace() {
            let (key, value) = match param.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (param, None),
            };
            match (key.to_ascii_uppercase().as_str(), value) {
                ("SIZE", Some(n)) => {
                    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                        return reply(501, "5.5.4 bad SIZE parameter");
                    }
                    // Too many digits to parse is too big all the same.
                    let declared = n.parse::<u64>().unwrap_or(u64::MAX);
                    if declared > settings.max_message_bytes as u64 {
                        return reply(552, "5.3.4 message size exceeds fixed maximum message size");
                    }
                }
                ("BODY", Some(body))
                    if body.eq_ignore_ascii_case("7BIT")
                        || body.eq_ignore_ascii_case("8BITMIME") => {}
                ("BODY", _) => return reply(501, "5.5.4 unsupported BODY type"),
                ("SMTPUTF8", None) => smtputf8 = true,
                _ => return reply(555, "5.5.4 unsupported MAIL parameter"),
            }
        }
        let mail_from = if path.is_empty() {
            None
        } else {
            if !valid_address(&path, false) {
                return reply(501, "5.1.7 bad sender address syntax");
            }
            if !smtputf8 && !path.is_ascii() {
                return reply(553, "5.6.7 non-ASCII address needs SMTPUTF8");
            }
            Some(path)
        };
        // Last, so that refused commands do not count against the sender.
        let key = match &mail_from {
            Some(address) => address.to_lowercase(),
            None => format!("<>@{}", self.peer.ip().to_canonical()),
        };
        if !self.shared.limiter.allow(&key, Instant::now()) {
            info!(
                limit = settings.per_sender_per_minute,
                "SMTP sender over its rate limit"
            );
            debug!(sender = %key, "SMTP sender over its rate limit");
            return reply(
                450,
                format!(
                    "4.7.1 sender rate limit exceeded: at most {} messages per minute",
                    settings.per_sender_per_minute
                ),
            );
        }
        debug!(sender = ?mail_from, "SMTP MAIL");
        self.tx = Some(Transaction {
            mail_from,
            rcpt_to: Vec::new(),
            smtputf8,
        });
        reply(250, "2.1.0 sender OK")
    }

    fn rcpt(&mut self, arg: &str) -> Reply {
        let max = self.shared.settings.max_recipients;
        let Some(tx) = self.tx.as_mut() else {
            return reply(503, "5.5.1 need MAIL before RCPT");
        };
        let Some(rest) = strip_prefix_ignore_case(arg, "TO:") else {
            return reply(501, "5.5.4 syntax: RCPT TO:<address>");
        };
        let Some((path, params)) = parse_path(rest) else {
            return reply(501, "5.1.3 bad recipient address syntax");
        };
        // No RCPT extensions (DSN) are advertised.
        if !params.trim().is_empty() {
            return reply(555, "5.5.4 unsupported RCPT parameter");
        }
        if !valid_address(&path, true) {
            return reply(501, "5.1.3 bad recipient address syntax");
        }
        if !tx.smtputf8 && !path.is_ascii() {
            return reply(553, "5.6.7 non-ASCII address needs SMTPUTF8");
        }
        if tx.rcpt_to.contains(&path) {
            return reply(250, "2.1.5 recipient OK");
        }
        if tx.rcpt_to.len() >= max {
            return reply(452, "4.5.3 too many recipients");
        }
        tx.rcpt_to.push(path);
        reply(250, "2.1.5 recipient OK")
    }

    async fn data(&mut self, arg: &str) -> Result<Reply, End> {
        if !arg.is_empty() {
            return Ok(reply(501, "5.5.4 syntax: DATA takes no arguments"));
        }
        match &self.tx {
            None => return Ok(reply(503, "5.5.1 need MAIL before DATA")),
            Some(tx) if tx.rcpt_to.is_empty() => {
                return Ok(reply(503, "5.5.1 need RCPT before DATA"));
            }
            Some(_) => {}
        }
        self.conn.reply(354, "end data with <CR><LF>.<CR><LF>");
        let max = self.shared.settings.max_message_bytes;
        let body = self.conn.data(max).await.map_err(|e| {
            if matches!(e, ConnError::Closed) {
                info!("SMTP client went away during DATA");
            }
            End::from(e)
        })?;
        // The transaction is over whatever happens next.
        let Some(tx) = self.tx.take() else {
            return Ok(reply(503, "5.5.1 need MAIL before DATA"));
        };
        let message = match body {
            Body::TooBig { size } => {
                info!(size, max, "SMTP message too big; discarded");
                return Ok(reply(552, "5.3.4 message too big"));
            }
            Body::Complete(message) => message,
        };
        let size = message.len();
        let recipients = tx.rcpt_to.len();
        let envelope = Envelope {
            peer: self.peer,
            helo: self.helo.clone().unwrap_or_default(),
            mail_from: tx.mail_from,
            rcpt_to: tx.rcpt_to,
            tls: self.tls,
        };
        let handler = Arc::clone(&self.shared.handler);
        // Its own task: a panicking handler costs a 451, not the session,
        // and a shutdown cutting this session off does not cut the store.
        let verdict = tokio::spawn(async move { handler.deliver(envelope, message).await }).await;
        Ok(match verdict {
            Ok(Verdict::Accepted { id }) => {
                self.delivered += 1;
                let id = reply_text(&id, "-");
                info!(size, recipients, %id, "SMTP message accepted");
                reply(250, format!("2.0.0 OK queued as {id}"))
            }
            Ok(Verdict::TempFail(why)) => {
                let why = reply_text(&why, "try again later");
                info!(size, recipients, reason = %why, "SMTP message deferred");
                reply(451, format!("4.3.0 {why}"))
            }
            Ok(Verdict::Reject(why)) => {
                let why = reply_text(&why, "message refused");
                info!(size, recipients, reason = %why, "SMTP message rejected");
                reply(550, format!("5.6.0 {why}"))
            }
            Err(e) => {
                error!(size, error = %e, "SMTP mail handler failed");
                reply(451, "4.3.0 local error, try again later")
            }
        })
    }

    /// RFC 3207. `Ok(None)` once upgraded: the client speaks first.
    async fn start_tls(&mut self, arg: &str) -> Result<Option<Reply>, End> {
        if !arg.is_empty() {
            return Ok(Some(reply(
                501,
                "5.5.4 syntax: STARTTLS takes no arguments",
            )));
        }
        if self.tls {
            return Ok(Some(reply(503, "5.5.1 already in TLS")));
        }
        let Some(acceptor) = self.shared.tls.clone() else {
            return Ok(Some(reply(502, "5.5.1 STARTTLS not offered")));
        };
        self.conn.reply(220, "2.0.0 ready to start TLS");
        self.conn.flush().await.map_err(End::from)?;
        // Anything the client sent after STARTTLS came in plaintext and
        // must not be read as if it came over TLS (CVE-2011-0411).
        let dropped = self.conn.discard_input();
        if dropped > 0 {
            warn!(
                bytes = dropped,
                "SMTP plaintext after STARTTLS discarded (possible command injection)"
            );
        }
        let Io::Plain(tcp) = std::mem::replace(&mut self.conn.io, Io::Detached) else {
            return Err(End::Io(detached()));
        };
        let wait = self.shared.settings.command_timeout;
        let stream = match timeout(wait, acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Err(End::Tls(e)),
            Err(_) => {
                return Err(End::Tls(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "TLS handshake timed out",
                )));
            }
        };
        self.conn.io = Io::Tls(Box::new(stream));
        // The client must start over: forget what it said in plaintext.
        self.tls = true;
        self.helo = None;
        self.tx = None;
        debug!("SMTP STARTTLS done");
        Ok(None)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Splits `<path> params` (what follows `FROM:` or `TO:`) into the address
/// and the parameters. Lenient about a space before the path and about a
/// path without angle brackets; drops a source route (`<@a,@b:u@d>`), as
/// RFC 5321 4.1.2 asks. `<>` gives an empty address.
fn parse_path(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start();
    let (address, params) = match s.strip_prefix('<') {
        Some(inner) => {
            // The closing `>` outside a quoted local part.
            let mut quoted = false;
            let mut escaped = false;
            let mut close = None;
            for (i, c) in inner.char_indices() {
                if escaped {
                    escaped = false;
                    continue;
                }
                match c {
                    '\\' if quoted => escaped = true,
                    '"' => quoted = !quoted,
                    '>' if !quoted => {
                        close = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let close = close?;
            let params = &inner[close + 1..];
            if !params.is_empty() && !params.starts_with(' ') {
                return None;
            }
            (&inner[..close], params)
        }
        None => {
            let (address, params) = s.split_once(' ').unwrap_or((s, ""));
            if address.is_empty() || address.contains(['<', '>']) {
                return None;
            }
            (address, params)
        }
    };
    let address = match address.strip_prefix('@') {
        Some(routed) => routed.split_once(':')?.1,
        None => address,
    };
    if address.len() > PATH_MAX {
        return None;
    }
    Some((address.to_string(), params))
}

/// A light check: `local@domain` with both parts present and no stray
/// spaces or brackets; the bare `postmaster` too for recipients (RFC 5321
/// 4.5.1). Deeper parsing is for whoever reads the message.
fn valid_address(address: &str, recipient: bool) -> bool {
    if recipient && address.eq_ignore_ascii_case("postmaster") {
        return true;
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let quoted_local = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    !local.is_empty()
        && !domain.is_empty()
        && (quoted_local || !local.contains([' ', '<', '>']))
        && !domain.contains([' ', '<', '>', '"', '@'])
}

/// Text from outside (the handler, the settings) made safe for a reply line:
/// printable ASCII, bounded, never empty.
fn reply_text(s: &str, fallback: &str) -> String {
    let text: String = s
        .trim()
        .chars()
        .take(REPLY_TEXT_MAX)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if text.is_empty() {
        fallback.to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse_path("<a@b.c>"), Some(("a@b.c".into(), "")));
        assert_eq!(
            parse_path(" <a@b.c> SIZE=10"),
            Some(("a@b.c".into(), " SIZE=10"))
        );
        assert_eq!(parse_path("<>"), Some((String::new(), "")));
        assert_eq!(parse_path("<@r1,@r2:u@d>"), Some(("u@d".into(), "")));
        assert_eq!(parse_path("<\"a>b\"@d>"), Some(("\"a>b\"@d".into(), "")));
        assert_eq!(
            parse_path("a@b.c BODY=8BITMIME"),
            Some(("a@b.c".into(), "BODY=8BITMIME"))
        );
        assert_eq!(parse_path("<a@b.c"), None);
        assert_eq!(parse_path("<a@b.c>x"), None);
        assert_eq!(parse_path(&format!("<{}@d>", "x".repeat(300))), None);
    }

    #[test]
    fn addresses() {
        assert!(valid_address("a@b", false));
        assert!(valid_address("\"a b\"@b", false));
        assert!(valid_address("用户@例子.中国", false));
        assert!(valid_address("Postmaster", true));
        assert!(!valid_address("postmaster", false));
        assert!(!valid_address("a b@c", false));
        assert!(!valid_address("@c", false));
        assert!(!valid_address("a@", false));
    }

    #[test]
    fn reply_text_is_one_clean_line() {
        assert_eq!(reply_text("ok\r\n250 fake", "-"), "ok??250 fake");
        assert_eq!(reply_text("  ", "-"), "-");
        assert_eq!(reply_text("已收到", "-"), "???");
        assert_eq!(reply_text(&"x".repeat(1000), "-").len(), REPLY_TEXT_MAX);
    }

    #[test]
    fn sender_limiter_windows_and_bounds() {
        let limiter = SenderLimiter::new(2);
        let t0 = Instant::now();
        assert!(limiter.allow("a", t0));
        assert!(limiter.allow("a", t0));
        assert!(!limiter.allow("a", t0));
        assert!(limiter.allow("b", t0));
        assert!(limiter.allow("a", t0 + RATE_WINDOW));
        for i in 0..RATE_TABLE_MAX * 3 {
            limiter.allow(&format!("s{i}"), t0);
        }
        assert!(lock(&limiter.windows).len() <= RATE_TABLE_MAX);
        assert!(SenderLimiter::new(0).allow("a", t0));
    }
}
