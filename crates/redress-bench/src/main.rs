//! `redress-bench`: the figures of the foundation issue, measured in one run
//! on one machine so they can be read as ratios.
//!
//! * `raw-commit`: the baseline — the store's own case row, inserted one
//!   row per transaction (WAL, synchronous=FULL), sequentially.
//! * `intake`: `POST /api/v1/complaints` from N keep-alive clients.
//! * `generate`: a bulk generator for 1,000,000 realistic cases over two
//!   years (not through HTTP; see [`realistic`]), the report rollups kept
//!   as they are inserted.
//! * `queries`: the queue, case and report queries, p50/p95.
//! * `sweep`, `calendar`: the deadline engine (see [`deadlines`]).
//! * `smtp-intake`, `mail-sink`: mail in and notices out (see [`mail`]).
//!
//! `bench/run.sh` runs the foundation figures against a release build,
//! `bench/deadlines.sh` the deadline engine's, `bench/mail.sh` the mail
//! figures.

mod deadlines;
mod mail;
mod realistic;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use chrono::Utc;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use redress_app::Vault;
use redress_domain::{
    Actor, Calendar, Case, Channel, Ctx, DeadlinePolicy, Locale, Outcome, StaffRef,
};
use serde_json::json;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Baseline: one case row per transaction on a fresh database file.
    RawCommit {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Baseline on PostgreSQL: the store's own case row inserted one row
    /// per transaction from N connections, into a copy of the `cases`
    /// table (same columns, indexes and defaults) of the database at `url`.
    RawPostgres {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 32)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// HTTP intake load.
    Intake {
        /// One address, or several separated by commas (clients are
        /// spread over them).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        #[arg(long, default_value_t = 32)]
        clients: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// File exactly this many complaints instead (and ignore `seconds`).
        #[arg(long)]
        total: Option<usize>,
        /// The number of the first registration (each one's complainant
        /// differs): runs against one server must not overlap.
        #[arg(long, default_value_t = 1_000_000)]
        offset: usize,
        /// Upload a PDF of this many KiB as evidence right after each
        /// registration (`POST /track/{no}/evidence`); a request is then
        /// the pair.
        #[arg(long, default_value_t = 0)]
        attachment_kb: usize,
    },
    /// Mailed complaints: N concurrent SMTP senders against the receiver
    /// of `redress serve`, each mail with its own PDF attachment; with
    /// `--http` and `--token`, checks that the case count grew by the
    /// number of `250` replies.
    SmtpIntake {
        /// The SMTP receiver.
        #[arg(long, default_value = "127.0.0.1:2525")]
        addr: String,
        #[arg(long, default_value_t = 8)]
        senders: usize,
        #[arg(long, default_value_t = 15)]
        seconds: u64,
        #[arg(long, default_value_t = 100)]
        attachment_kb: usize,
        /// The HTTP API, for the case count.
        #[arg(long)]
        http: Option<String>,
        /// A token that may list every case (a supervisor's).
        #[arg(long)]
        token: Option<String>,
    },
    /// A counting SMTP sink (the project's receiver) for notices: runs
    /// until killed, writing its figures to `--status` every 100 ms.
    MailSink {
        #[arg(long, default_value = "127.0.0.1:2526")]
        listen: String,
        #[arg(long)]
        status: PathBuf,
        /// Records when this many messages have arrived.
        #[arg(long, default_value_t = 0)]
        mark: u64,
    },
    /// Bulk-loads cases straight into the store of a data directory (or
    /// the PostgreSQL database of `--database-url`).
    Generate {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 1_000_000)]
        cases: usize,
        /// The installation's data key (hex), so the server can open the documents.
        #[arg(long)]
        key: String,
        /// Filings are spread over this many days before now.
        #[arg(long, default_value_t = 730)]
        days: i64,
        /// The random generator's seed (the same seed, the same stories).
        #[arg(long, default_value_t = 16)]
        seed: u64,
    },
    /// The staff case page of a case with many messages and files: makes
    /// one through the API (`messages` internal messages, `files` PDFs),
    /// then times `GET /staff/cases/{id}` (the page, with the session
    /// cookie) beside `GET /api/v1/complaints/{id}` (the same case as
    /// JSON, the baseline) over `rounds` alternating requests.
    CasePage {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// A staff session token (from `POST /auth/login`) of a user who
        /// reads every case and may write on it (intake or supervisor).
        #[arg(long)]
        token: String,
        #[arg(long, default_value_t = 200)]
        messages: usize,
        #[arg(long, default_value_t = 50)]
        files: usize,
        #[arg(long, default_value_t = 200)]
        rounds: usize,
    },
    /// Timed queries against a running server.
    Queries {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        #[arg(long)]
        token: String,
        /// File with one case id per line (written by `generate`).
        #[arg(long)]
        ids: PathBuf,
        #[arg(long, default_value_t = 200)]
        rounds: usize,
    },
    /// The deadline sweep in-process: idle ticks over `--cases` open cases
    /// of which none is due (next to as many `get_case` reads), then one
    /// sweep over `--due` cases made due, checked for exactly-once.
    /// The stored size of generated cases' documents and report facts:
    /// as JSON, as zstd without a dictionary, and as stored
    /// (`redress_store::pack`, zstd with the shipped dictionaries). Use a
    /// seed other than `train-dict`'s, so that the cases are new to the
    /// dictionaries.
    DocSizes {
        #[arg(long, default_value_t = 2000)]
        cases: usize,
        #[arg(long, default_value_t = 16)]
        seed: u64,
    },
    /// Trains the dictionaries of `redress_store::pack` on generated
    /// cases and writes `case-doc.zdict` and `report.zdict` into `out`: the
    /// documents' structure only (every string longer than 8 bytes
    /// emptied: field names and codes, no text), the report facts as they
    /// are (instants, codes and flags).
    TrainDict {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 4000)]
        cases: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The disk a store takes per case: every table and index of the
    /// SQLite store of `--data-dir` (SQLite's `dbstat`) or of the
    /// PostgreSQL database of `--database-url` (`pg_relation_size`, TOAST
    /// with its table), in bytes and bytes per case.
    Storage {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Generates the open cases into the store of `--data-dir` (or the
    /// empty PostgreSQL database of `--database-url`) on first use.
    Sweep {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 1_000_000)]
        cases: usize,
        #[arg(long, default_value_t = 10_000)]
        due: usize,
        #[arg(long, default_value_t = 200)]
        ticks: usize,
        /// The data key (hex) the cases are sealed with.
        #[arg(long, default_value = deadlines::DEFAULT_KEY)]
        key: String,
    },
    /// `GET /api/v1/calendar/due` against `GET /healthz` on a running server.
    Calendar {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        #[arg(long, default_value_t = 2000)]
        rounds: usize,
        #[arg(long, default_value_t = 365)]
        working_days: u32,
    },
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

/// A realistic registration for case number `i`.
fn registration(i: usize) -> serde_json::Value {
    let subjects = [
        "申请退款被拒绝",
        "快递一直未送达",
        "商品与描述不符",
        "Counterfeit headphones",
        "账号被盗用",
        "虚假宣传",
    ];
    json!({
        "complainant": {"name": format!("用户{i}"), "email": format!("user{i}@example.com"), "phone": format!("138{:08}", i % 100_000_000)},
        "respondent": {"kind": "merchant", "id": format!("shop-{}", i % 5000), "name": format!("商家{}", i % 5000)},
        "subject": subjects[i % subjects.len()],
        "description": format!("订单{i}已取消，但商家拒绝退款，快递也没有退回。The merchant refuses a refund for order {i}."),
        "demands": "全额退款",
    })
}

/// Builds one stored row, the way the application does.
fn row_for(
    i: usize,
    vault: &Vault,
    calendar: &Calendar,
    now: chrono::DateTime<Utc>,
    state: usize,
) -> anyhow::Result<redress_store::CaseRow> {
    let created = now - chrono::Duration::minutes((i % 600_000) as i64);
    row_at(
        i,
        format!("RDBENCH-{i:08}"),
        created,
        state,
        vault,
        calendar,
    )
}

/// Builds the stored row of case `i`, registered at `created` and brought
/// to `state` (0 submitted, 1 needs_info, 2–4 in_progress, 5 resolved,
/// otherwise withdrawn) at that same instant, through the domain's own
/// transitions and the application's `to_row`.
fn row_at(
    i: usize,
    tracking_no: String,
    created: chrono::DateTime<Utc>,
    state: usize,
    vault: &Vault,
    calendar: &Calendar,
) -> anyhow::Result<redress_store::CaseRow> {
    let policy = DeadlinePolicy::default();
    let ctx = Ctx {
        now: created,
        calendar,
        policy: &policy,
        actor: Actor::system("bench"),
    };
    let input = redress_domain::parse_registration(&registration(i), created)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (mut case, _) = Case::register(
        uuid::Uuid::now_v7(),
        tracking_no,
        input,
        Channel::Web,
        vec![],
        &ctx,
    );
    case.locale = Locale::ZhCn;
    let departments = ["customer-service", "merchant-compliance", "trust-safety"];
    let categories = ["refunds-returns", "delivery", "goods-quality"];
    let handler = StaffRef {
        username: "h".into(),
        level: 1,
        departments: vec![],
        independent: false,
        roles: vec![],
    };
    match state {
        0 => {}
        1 => {
            let _ = case.request_info(vec!["截图".into()], None, &ctx);
        }
        2..=4 => {
            let _ = case.accept(
                categories[i % 3],
                departments[i % 3],
                Default::default(),
                &ctx,
            );
        }
        5 => {
            let _ = case.accept(
                categories[i % 3],
                departments[i % 3],
                Default::default(),
                &ctx,
            );
            let _ = case.decide(
                Outcome::Upheld,
                vec!["协议".into()],
                "ok",
                vec![],
                vec![],
                vec![],
                &handler,
                15,
                &ctx,
            );
        }
        _ => {
            let _ = case.withdraw(None, &ctx);
        }
    }
    let sweep_at = case.sweep_at(&DeadlinePolicy::default(), &Calendar::china());
    let sealing = redress_app::stored::new_sealing(vault, case.id);
    Ok(redress_app::stored::to_row(
        &case,
        "0",
        None,
        0,
        vault,
        Some(&sealing),
        sweep_at,
    )?)
}

async fn connect(
    addr: &str,
) -> anyhow::Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("connection closed: {e}");
        }
    });
    Ok(sender)
}

/// One HTTP intake load (see `Command::Intake`).
struct IntakeLoad {
    addr: String,
    clients: usize,
    seconds: u64,
    total: Option<usize>,
    offset: usize,
    attachment_kb: usize,
}

/// A multipart body with one file part named `file`.
fn multipart(boundary: &str, filename: &str, content_type: &str, bytes: &[u8]) -> Bytes {
    let mut body = Vec::with_capacity(bytes.len() + 256);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Bytes::from(body)
}

/// Sends `req` and reads the answer: its status and body.
async fn exchange(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    req: Request<Full<Bytes>>,
) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

async fn intake(load: IntakeLoad) -> anyhow::Result<()> {
    let IntakeLoad {
        addr,
        clients,
        seconds,
        total,
        offset,
        attachment_kb,
    } = load;
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = vec![];
    let addrs: Vec<String> = addr.split(',').map(str::to_string).collect();
    for c in 0..clients {
        let addr = addrs[c % addrs.len()].clone();
        let (stop, next) = (stop.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(&addr).await?;
            let fill = mail::filler(attachment_kb);
            let (mut lat, mut bad) = (Vec::new(), 0u64);
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if total.is_some_and(|t| n >= t) {
                    break;
                }
                let body = registration(offset + n).to_string();
                let req = Request::post("/api/v1/complaints")
                    .header("host", &addr)
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)))?;
                let t0 = Instant::now();
                let (status, answer) = exchange(&mut sender, req).await?;
                let mut ok = status.is_success();
                if ok && attachment_kb > 0 {
                    // The complainant's own upload, with the access token
                    // the registration answered.
                    let answer: serde_json::Value = serde_json::from_slice(&answer)?;
                    let (Some(no), Some(token)) = (
                        answer["tracking_no"].as_str(),
                        answer["access_token"].as_str(),
                    ) else {
                        anyhow::bail!("registration answer without tracking_no/access_token");
                    };
                    let file = mail::pdf(attachment_kb, &format!("http {} {n}", offset), &fill);
                    let boundary = format!("bench{n:016x}");
                    let req = Request::post(format!("/api/v1/track/{no}/evidence"))
                        .header("host", &addr)
                        .header("authorization", format!("Bearer {token}"))
                        .header(
                            "content-type",
                            format!("multipart/form-data; boundary={boundary}"),
                        )
                        .body(Full::new(multipart(
                            &boundary,
                            &format!("receipt-{n}.pdf"),
                            "application/pdf",
                            &file,
                        )))?;
                    let (status, _) = exchange(&mut sender, req).await?;
                    ok = status.is_success();
                }
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                if !ok {
                    bad += 1;
                }
            }
            anyhow::Ok((lat, bad))
        }));
    }
    if total.is_none() {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
    }
    let (mut all, mut bad) = (Vec::new(), 0);
    for t in tasks {
        let (lat, b) = t.await??;
        all.extend(lat);
        bad += b;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    println!(
        "intake clients={clients} requests={} rps={:.1} p50_ms={:.2} p95_ms={:.2} p99_ms={:.2} max_ms={:.2} non_2xx={bad}{}",
        all.len(),
        all.len() as f64 / elapsed,
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or(f64::NAN),
        if attachment_kb > 0 {
            format!(" attachment_kb={attachment_kb} (a request: registration + evidence upload)")
        } else {
            String::new()
        }
    );
    Ok(())
}

async fn get_timed(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    addr: &str,
    token: &str,
    path: &str,
) -> anyhow::Result<(f64, serde_json::Value)> {
    let mut req = Request::get(path).header("host", addr);
    if !token.is_empty() {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let req = req.body(Full::new(Bytes::new()))?;
    let t0 = Instant::now();
    sender.ready().await.context("connection ready")?;
    let resp = sender
        .send_request(req)
        .await
        .with_context(|| format!("GET {path}"))?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .context("reading the body")?
        .to_bytes();
    let ms = t0.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        status.is_success(),
        "{path}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    Ok((ms, serde_json::from_slice(&body).unwrap_or_default()))
}

/// `GET /reports/summary` for the `days` local days up to `today`.
fn summary_path(today: &chrono::NaiveDate, days: i64, interval: Option<&str>) -> String {
    format!(
        "/api/v1/reports/summary?from={}&to={today}{}",
        *today - chrono::Duration::days(days - 1),
        interval
            .map(|i| format!("&interval={i}"))
            .unwrap_or_default()
    )
}

async fn queries(addr: String, token: String, ids: PathBuf, rounds: usize) -> anyhow::Result<()> {
    let ids: Vec<String> = std::fs::read_to_string(&ids)?
        .lines()
        .map(str::to_string)
        .collect();
    anyhow::ensure!(!ids.is_empty(), "no ids in the file");
    let mut sender = connect(&addr).await?;
    // Local days of the installation (China's time zone, UTC+8).
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    for (name, path) in [
        (
            "list_in_progress",
            "/api/v1/complaints?status=in_progress&limit=50".to_string(),
        ),
        (
            "list_due_first",
            "/api/v1/complaints?status=in_progress&sort=due&limit=50".to_string(),
        ),
        (
            "list_overdue",
            "/api/v1/complaints?overdue=true&limit=50".to_string(),
        ),
        (
            "search_refund",
            "/api/v1/complaints?q=%E9%80%80%E6%AC%BE&limit=50".to_string(),
        ),
        // A term in one case only: the order number of the description
        // (`realistic.rs`), a different one each round.
        ("search_rare", String::new()),
        ("get_case", String::new()),
        ("similar", "/similar".to_string()),
        ("suggestions", "/suggestions".to_string()),
        // Reports from the rollups (docs/reports.md): the default interval
        // of each period (day up to 62 days, week up to a year, else
        // month), and a year per day.
        ("summary_30_days", summary_path(&today, 30, None)),
        ("summary_year", summary_path(&today, 365, None)),
        ("summary_all_time", summary_path(&today, 365 * 20, None)),
        (
            "summary_year_by_day",
            summary_path(&today, 365, Some("day")),
        ),
        (
            "respondents_year",
            format!(
                "/api/v1/reports/respondents?from={}&to={today}",
                today - chrono::Duration::days(364)
            ),
        ),
        (
            "alerts_30_days",
            format!(
                "/api/v1/alerts?from={}&to={today}",
                today - chrono::Duration::days(29)
            ),
        ),
    ] {
        let mut lat = vec![];
        let mut total = None;
        for r in 0..rounds {
            let p = match name {
                "get_case" | "similar" | "suggestions" => {
                    format!("/api/v1/complaints/{}{}", ids[r * 7919 % ids.len()], path)
                }
                "search_rare" => format!(
                    "/api/v1/complaints?q={}&limit=50",
                    (r * 7919 + 17) % ids.len() * 1000 + 7
                ),
                _ => path.clone(),
            };
            let (ms, body) = get_timed(&mut sender, &addr, &token, &p).await?;
            lat.push(ms);
            total = body.get("total").cloned();
        }
        lat.sort_by(|a, b| a.total_cmp(b));
        println!(
            "query {name} rounds={rounds} p50_ms={:.2} p95_ms={:.2} max_ms={:.2}{}",
            percentile(&lat, 0.5),
            percentile(&lat, 0.95),
            lat.last().copied().unwrap_or(f64::NAN),
            total.map(|t| format!(" total={t}")).unwrap_or_default()
        );
    }
    Ok(())
}

/// Sends a JSON body and requires a 2xx answer; its body.
async fn send_json(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    addr: &str,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let mut req = Request::post(path)
        .header("host", addr)
        .header("content-type", "application/json");
    if !token.is_empty() {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    sender.ready().await?;
    let (status, bytes) =
        exchange(sender, req.body(Full::new(Bytes::from(body.to_string())))?).await?;
    anyhow::ensure!(
        status.is_success(),
        "{path}: {status} {}",
        String::from_utf8_lossy(&bytes)
    );
    Ok(serde_json::from_slice(&bytes).unwrap_or_default())
}

async fn case_page(
    addr: String,
    token: String,
    messages: usize,
    files: usize,
    rounds: usize,
) -> anyhow::Result<()> {
    let mut sender = connect(&addr).await?;
    let filed = send_json(
        &mut sender,
        &addr,
        "",
        "/api/v1/complaints",
        registration(7),
    )
    .await?;
    let id = filed["id"].as_str().context("the case id")?.to_string();
    for n in 0..messages {
        let body = serde_json::json!({"audience": "internal",
            "body": format!("第 {n} 条内部沟通：已联系商家，等待回复。Contacted the merchant, waiting.")});
        send_json(
            &mut sender,
            &addr,
            &token,
            &format!("/api/v1/complaints/{id}/messages"),
            body,
        )
        .await?;
    }
    for n in 0..files {
        let pdf = format!("%PDF-1.4\n% file {n}\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n");
        let boundary = "redressbenchboundary";
        let req = Request::post(format!("/api/v1/complaints/{id}/evidence"))
            .header("host", &addr)
            .header("authorization", format!("Bearer {token}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Full::new(multipart(
                boundary,
                &format!("file-{n}.pdf"),
                "application/pdf",
                pdf.as_bytes(),
            )))?;
        sender.ready().await?;
        let (status, bytes) = exchange(&mut sender, req).await?;
        anyhow::ensure!(
            status.is_success(),
            "evidence: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let (mut page, mut json) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let req = Request::get(format!("/staff/cases/{id}"))
            .header("host", &addr)
            .header("cookie", format!("redress_session={token}"))
            .body(Full::new(Bytes::new()))?;
        let t0 = Instant::now();
        sender.ready().await?;
        let (status, body) = exchange(&mut sender, req).await?;
        page.push(t0.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(status.is_success(), "the case page: {status}");
        anyhow::ensure!(
            body.len() > 10_000,
            "the case page is too short to be the case"
        );
        let (ms, _) = get_timed(
            &mut sender,
            &addr,
            &token,
            &format!("/api/v1/complaints/{id}"),
        )
        .await?;
        json.push(ms);
    }
    page.sort_by(|a, b| a.total_cmp(b));
    json.sort_by(|a, b| a.total_cmp(b));
    println!(
        "case_page messages={messages} files={files} rounds={rounds} p50_ms={:.2} p95_ms={:.2} \
         baseline_json_p50_ms={:.2} baseline_json_p95_ms={:.2} ratio_p95={:.2}",
        percentile(&page, 0.5),
        percentile(&page, 0.95),
        percentile(&json, 0.5),
        percentile(&json, 0.95),
        percentile(&page, 0.95) / percentile(&json, 0.95),
    );
    Ok(())
}

/// Samples of JSON, one per case.
type Samples = Vec<Vec<u8>>;

/// The documents (the case as JSON, as `redress_app::stored` writes it
/// inside the seal) and report facts of `cases` generated cases.
fn sample_documents(cases: usize, seed: u64) -> anyhow::Result<(Samples, Samples)> {
    use rand::SeedableRng;
    let vault = Vault::from_master(&[9; 32]);
    let calendar = Calendar::china();
    let now = Utc::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let generator = realistic::Realistic::new(730);
    let mut docs = Vec::with_capacity(cases);
    let mut reports = Vec::with_capacity(cases);
    for i in 0..cases {
        let row = generator.row(i, &mut rng, &vault, &calendar, now)?;
        let loaded = redress_app::stored::from_row(&row, &vault)?;
        docs.push(redress_app::stored::document_json(&loaded)?);
        reports.push(serde_json::to_vec(&row.report)?);
    }
    Ok((docs, reports))
}

/// Either store, for bulk loading.
enum Bulk {
    Sqlite(Arc<redress_sqlite::SqliteStore>),
    Postgres(Arc<redress_postgres::PgStore>),
}

impl Bulk {
    /// The SQLite store of `data_dir`, or the PostgreSQL database of `url`.
    async fn open(data_dir: &std::path::Path, url: Option<String>) -> anyhow::Result<Bulk> {
        std::fs::create_dir_all(data_dir)?;
        Ok(match url {
            Some(url) => {
                let pg = tokio::task::spawn_blocking(move || redress_postgres::PgStore::open(&url))
                    .await??;
                Bulk::Postgres(Arc::new(pg))
            }
            None => Bulk::Sqlite(Arc::new(redress_sqlite::SqliteStore::open(
                &data_dir.join("redress.sqlite3"),
            )?)),
        })
    }

    fn bulk_insert(&self, rows: Vec<redress_store::CaseRow>) -> anyhow::Result<()> {
        match self {
            Bulk::Sqlite(s) => s.bulk_insert(rows)?,
            Bulk::Postgres(s) => s.bulk_insert(rows)?,
        }
        Ok(())
    }

    /// The same store, as the application holds it.
    fn store(&self) -> Arc<dyn redress_store::Store> {
        match self {
            Bulk::Sqlite(s) => s.clone(),
            Bulk::Postgres(s) => s.clone(),
        }
    }

    /// Inserts `cases` rows made by `make` (given the case number) in
    /// transactions of 20,000; `keep` sees every row (and its number)
    /// before it goes in.
    fn generate(
        &self,
        cases: usize,
        mut make: impl FnMut(usize) -> anyhow::Result<redress_store::CaseRow>,
        mut keep: impl FnMut(usize, &redress_store::CaseRow),
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        let chunk = 20_000;
        for base in (0..cases).step_by(chunk) {
            let mut rows = Vec::with_capacity(chunk);
            for i in base..(base + chunk).min(cases) {
                let row = make(i)?;
                keep(i, &row);
                rows.push(row);
            }
            self.bulk_insert(rows)?;
            if base % 100_000 == 0 {
                eprintln!(
                    "generated {base} cases in {:.0}s",
                    start.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    }
}

/// The raw PostgreSQL insert rate: `clients` connections, each inserting
/// one case row per transaction (autocommit) into `raw_cases`, a copy of
/// `cases` with the same columns, indexes and defaults.
fn raw_postgres(url: &str, clients: usize, seconds: u64) -> anyhow::Result<()> {
    let mut admin = postgres::Client::connect(url, postgres::NoTls)?;
    admin.batch_execute(
        "DROP TABLE IF EXISTS raw_cases; CREATE TABLE raw_cases (LIKE cases INCLUDING ALL)",
    )?;
    let vault = Vault::from_master(&[9; 32]);
    let calendar = Calendar::china();
    let now = Utc::now();
    // Rows are built first, so that only the inserts are timed (at most
    // 50,000 a connection: one sequential connection does far fewer).
    let per_client = (400_000 / clients.max(1)).min(50_000);
    let mut batches = Vec::new();
    for c in 0..clients {
        let rows: Vec<_> = (0..per_client)
            .map(|i| row_for(c * 1_000_000 + i, &vault, &calendar, now, 0))
            .collect::<Result<_, _>>()?;
        batches.push(rows);
    }
    let stop = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut threads = Vec::new();
    for rows in batches {
        let url = url.to_string();
        threads.push(std::thread::spawn(move || -> anyhow::Result<Vec<f64>> {
            let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
            let insert = client.prepare(concat!(
                "INSERT INTO raw_cases (id, tracking_no, status, closure, channel, category, \
                 department, assignee, respondent_key, respondent_name, complainant_key, subject, \
                 created_at, updated_at, next_due_at, staff_due, sweep_at, decided_by, \
                 decider_level, search_tokens, report, version, doc, outcome, missed) VALUES ($1, $2, \
                 $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, ",
                redress_postgres::search_vector!("$20"),
                ", $21, $22, $23, $24, $25)"
            ))?;
            let mut lat = Vec::new();
            for r in rows {
                if Instant::now() >= stop {
                    break;
                }
                // The report facts as the store writes them: packed
                // (migration 0025), with their list columns.
                let report = r.report.packed()?;
                let (outcome, missed) = (r.report.outcome_column(), r.report.missed_column());
                let t0 = Instant::now();
                client.execute(
                    &insert,
                    &[
                        &r.id,
                        &r.tracking_no,
                        &r.status.as_str(),
                        &r.closure.map(|c| c.as_str()),
                        &r.channel.as_str(),
                        &r.category,
                        &r.department,
                        &r.assignee,
                        &r.respondent_key,
                        &r.respondent_name,
                        &r.complainant_key,
                        &r.subject,
                        &r.created_at,
                        &r.updated_at,
                        &r.next_due_at,
                        &r.staff_due,
                        &r.sweep_at,
                        &r.decided_by,
                        &r.decider_level,
                        &r.search_tokens,
                        &report,
                        &r.version,
                        &r.doc,
                        &outcome,
                        &missed,
                    ],
                )?;
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
            Ok(lat)
        }));
    }
    let mut all = Vec::new();
    for t in threads {
        all.extend(
            t.join()
                .map_err(|_| anyhow::anyhow!("a client panicked"))??,
        );
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    println!(
        "raw_postgres clients={clients} rows={} rate_per_s={:.1} p99_ms={:.2} (one case row per transaction)",
        all.len(),
        all.len() as f64 / elapsed,
        percentile(&all, 0.99)
    );
    admin.batch_execute("DROP TABLE raw_cases")?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::RawCommit { dir, seconds } => {
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("raw-commit.sqlite3");
            let _ = std::fs::remove_file(&path);
            let store = redress_sqlite::SqliteStore::open(&path)?;
            let vault = Vault::from_master(&[9; 32]);
            let calendar = Calendar::china();
            let now = Utc::now();
            let rows: Vec<_> = (0..20_000)
                .map(|i| row_for(i, &vault, &calendar, now, 0))
                .collect::<Result<_, _>>()?;
            let start = Instant::now();
            let mut n = 0usize;
            for row in rows {
                store.bulk_insert(vec![row])?;
                n += 1;
                if start.elapsed() >= Duration::from_secs(seconds) {
                    break;
                }
            }
            let rate = n as f64 / start.elapsed().as_secs_f64();
            println!(
                "raw_commit rows={n} rate_per_s={rate:.1} (one case row per transaction, WAL, synchronous=FULL)"
            );
        }
        Command::Intake {
            addr,
            clients,
            seconds,
            total,
            offset,
            attachment_kb,
        } => {
            intake(IntakeLoad {
                addr,
                clients,
                seconds,
                total,
                offset,
                attachment_kb,
            })
            .await?
        }
        Command::SmtpIntake {
            addr,
            senders,
            seconds,
            attachment_kb,
            http,
            token,
        } => {
            mail::smtp_intake(mail::SmtpIntakeArgs {
                addr,
                senders,
                seconds,
                attachment_kb,
                http,
                token,
            })
            .await?
        }
        Command::MailSink {
            listen,
            status,
            mark,
        } => mail::mail_sink(listen, status, mark).await?,
        Command::RawPostgres {
            url,
            clients,
            seconds,
        } => tokio::task::spawn_blocking(move || raw_postgres(&url, clients, seconds)).await??,
        Command::Generate {
            data_dir,
            database_url,
            cases,
            key,
            days,
            seed,
        } => {
            use rand::SeedableRng;
            let store = Bulk::open(&data_dir, database_url).await?;
            let vault = Vault::load(Some(&key), None, &data_dir).context("the data key")?;
            let calendar = Calendar::china();
            let now = Utc::now();
            let start = Instant::now();
            let mut ids = Vec::new();
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let generator = realistic::Realistic::new(days.max(1));
            store.generate(
                cases,
                |i| generator.row(i, &mut rng, &vault, &calendar, now),
                |i, row| {
                    if i % 1000 == 0 {
                        ids.push(row.id.to_string());
                    }
                },
            )?;
            std::fs::write(data_dir.join("bench-ids.txt"), ids.join("\n"))?;
            // The rollups were kept and the corrective actions written as
            // the rows went in: both recorded as done, as
            // `App::build_report_rollups_once` and
            // `App::index_corrective_actions` would after going through
            // every case, so that the server's first start does not do it
            // again (about two minutes and a gigabyte for the rollups, 36 s
            // for the actions, at a million cases). Those two are an
            // upgrade's one-time steps, not a start's.
            let done = Utc::now();
            for kind in ["report_rollups_built", "corrective_actions_indexed"] {
                store
                    .store()
                    .put_setting(
                        kind,
                        serde_json::json!({"cases": cases}).to_string(),
                        "system".into(),
                        done,
                        redress_store::NewEvent {
                            case_id: None,
                            kind: kind.into(),
                            actor: "system:bench-generate".into(),
                            at: done,
                            data: serde_json::json!({"cases": cases}).to_string(),
                        },
                    )
                    .await?;
            }
            // A PostgreSQL store must not be dropped on an async thread.
            tokio::task::spawn_blocking(move || drop(store)).await?;
            println!(
                "generate cases={cases} seconds={:.1}",
                start.elapsed().as_secs_f64()
            );
        }
        Command::DocSizes { cases, seed } => {
            let (docs, reports) = sample_documents(cases, seed)?;
            for (what, samples, dict) in [
                ("doc", &docs, redress_store::pack::Dict::CaseDoc),
                ("report", &reports, redress_store::pack::Dict::Report),
            ] {
                let avg = |f: &dyn Fn(&[u8]) -> usize| {
                    samples.iter().map(|d| f(d)).sum::<usize>() as f64 / samples.len() as f64
                };
                println!(
                    "{what} json={:.0} zstd3={:.0} stored={:.0}",
                    avg(&|d| d.len()),
                    avg(&|d| zstd::bulk::compress(d, 3).map(|c| c.len()).unwrap_or(0)),
                    avg(&|d| redress_store::pack::pack(dict, d).len()),
                );
            }
        }
        Command::TrainDict { out, cases, seed } => {
            // The texts of real complaints do not repeat as the generator's
            // do: the dictionaries learn the structure only.
            fn blank(v: &mut serde_json::Value) {
                match v {
                    serde_json::Value::String(s) if s.len() > 8 => s.clear(),
                    serde_json::Value::Array(a) => a.iter_mut().for_each(blank),
                    serde_json::Value::Object(o) => o.values_mut().for_each(blank),
                    _ => {}
                }
            }
            let (docs, reports) = sample_documents(cases, seed)?;
            std::fs::create_dir_all(&out)?;
            // Report facts hold no text (instants, codes, flags): they are
            // learnt as they are.
            for (name, samples, texts) in [
                ("case-doc.zdict", docs, true),
                ("report.zdict", reports, false),
            ] {
                let structure = samples
                    .iter()
                    .map(|d| {
                        let mut v: serde_json::Value = serde_json::from_slice(d)?;
                        if texts {
                            blank(&mut v);
                        }
                        Ok(serde_json::to_vec(&v)?)
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let dict = zstd::dict::from_samples(&structure, 8 << 10)?;
                std::fs::write(out.join(name), &dict)?;
                println!("{name} bytes={}", dict.len());
            }
        }
        Command::Storage {
            data_dir,
            database_url,
        } => {
            let bulk = Bulk::open(&data_dir, database_url).await?;
            let cases: u64 = bulk
                .store()
                .count_by_status()
                .await?
                .iter()
                .map(|(_, n)| *n as u64)
                .sum();
            let objects = match &bulk {
                Bulk::Sqlite(s) => s.space_by_object().await?,
                Bulk::Postgres(s) => s.space_by_object().await?,
            };
            let total: i64 = objects.iter().map(|(_, b)| b).sum();
            let per = |b: i64| b as f64 / cases.max(1) as f64;
            let mut out = format!(
                "storage cases={cases} bytes={total} bytes_per_case={:.0}\n",
                per(total)
            );
            for (name, bytes) in objects.iter().filter(|(_, b)| *b > 0) {
                out.push_str(&format!("  {name:<40} {bytes:>14} {:>8.0}\n", per(*bytes)));
            }
            // Written at once: a reader that stops early (`| head`) is
            // not an error.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
            tokio::task::spawn_blocking(move || drop(bulk)).await?;
        }
        Command::Queries {
            addr,
            token,
            ids,
            rounds,
        } => queries(addr, token, ids, rounds).await?,
        Command::CasePage {
            addr,
            token,
            messages,
            files,
            rounds,
        } => case_page(addr, token, messages, files, rounds).await?,
        Command::Sweep {
            data_dir,
            database_url,
            cases,
            due,
            ticks,
            key,
        } => {
            deadlines::sweep(deadlines::SweepArgs {
                data_dir,
                database_url,
                cases,
                due,
                ticks,
                key,
            })
            .await?
        }
        Command::Calendar {
            addr,
            rounds,
            working_days,
        } => deadlines::calendar(addr, rounds, working_days).await?,
    }
    Ok(())
}
