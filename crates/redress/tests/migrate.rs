//! `redress migrate-data`: a SQLite installation moves to PostgreSQL.
//!
//! A SQLite installation is filled the way `redress serve --demo` fills it
//! (seven cases through the whole lifecycle), plus a respondent account, an
//! API key, a webhook subscription (with a call that failed and was
//! replayed), a notice template of the installation's own, a registration
//! with an `Idempotency-Key`, an evidence file and two held mails (one
//! held, one discarded). The binary copies it into a fresh PostgreSQL
//! schema; then the copy must be row for row the source (cases with `seq`,
//! version and document, the journal with its hashes and head, held mail,
//! templates, subscriptions with their cursors, calls and attempts),
//! `redress audit verify` must pass on it, and an application started on
//! it must work: the admin logs in with the same password, cases open with
//! the same data key, the API key and its idempotency record still answer,
//! evidence is found, the webhook secret and the held mail open, the saved
//! template is in use, a new case continues the sequence and the chain and
//! a new held mail the held mail's sequence. A second run into the now
//! non-empty target is refused and writes nothing. Last, the PostgreSQL
//! installation is copied back into a new SQLite file, row for row.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};
use std::sync::Arc;

use redress::Config;
use redress::config::Database;
use redress_app::commands::{
    CreateApiKeyCommand, CreateRespondentCommand, CreateUserCommand, CreateWebhookCommand,
    LoginCommand, NoticeTemplateCommand,
};
use redress_app::mail::{Disposition, Envelope};
use redress_app::{App, Principal};
use redress_store::{
    CannedReply, CaseRow, HeldMail, HeldMailState, JournalEntry, NewEvent, NoticeTemplateRow,
    Store, TableCounts, User, WebhookAttempt, WebhookCall, WebhookSubscription,
};
use redress_testkit::{Backend, Failed, postgres, trial};
use serde_json::{Value, json};
use uuid::Uuid;

const ADMIN_PASSWORD: &str = "admin-password-1";
const EVIDENCE: &[u8] = b"Order 4711 receipt: paid 199.00, cancelled the same day.\n";

fn main() -> ExitCode {
    let trials = vec![trial(
        Backend::Postgres,
        "migrate::a_sqlite_installation_moves_to_postgresql",
        || a_sqlite_installation_moves_to_postgresql().map_err(Failed::from),
    )];
    redress_testkit::run(trials).exit_code()
}

fn data_key() -> String {
    "42".repeat(32)
}

fn config(data_dir: &Path, database_url: Option<&str>) -> Config {
    Config {
        data_dir: data_dir.to_path_buf(),
        database_url: database_url.map(String::from),
        data_key: Some(data_key()),
        admin_password: Some(ADMIN_PASSWORD.into()),
        // Its webhook points at 127.0.0.1.
        webhook_allow_private: true,
        ..Config::default()
    }
}

/// `redress <args>` with a clean environment of settings.
fn redress(args: &[&str], data_dir: &Path, database_url: Option<&str>) -> Result<Output, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redress"));
    cmd.args(args)
        .current_dir(data_dir.parent().unwrap_or(data_dir))
        .env("REDRESS_DATA_DIR", data_dir)
        .env("REDRESS_DATA_KEY", data_key())
        .env("REDRESS_LOG", "warn")
        .env_remove("REDRESS_DATABASE_URL")
        .env_remove("REDRESS_CONFIG");
    if let Some(url) = database_url {
        cmd.env("REDRESS_DATABASE_URL", url);
    }
    cmd.output()
        .map_err(|e| format!("cannot run redress {args:?}: {e}"))
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn login(app: &App, password: &str) -> Result<Principal, String> {
    let (token, _) = app
        .login(
            &LoginCommand::parse(&json!({"username": "admin", "password": password}))
                .map_err(err)?,
            None,
        )
        .await
        .map_err(|e| format!("admin login: {e}"))?;
    app.authenticate(Some(&token)).await.map_err(err)
}

/// Everything the comparison needs from one store.
#[derive(Debug, PartialEq)]
struct Snapshot {
    counts: TableCounts,
    by_status: Vec<(redress_domain::Status, i64)>,
    cases: Vec<CaseRow>,
    events: Vec<JournalEntry>,
    head: Option<(i64, String)>,
    users: Vec<User>,
    canned_replies: Vec<CannedReply>,
    held_mail: Vec<HeldMail>,
    notice_templates: Vec<NoticeTemplateRow>,
    webhooks: Vec<WebhookSubscription>,
    webhook_calls: Vec<WebhookCall>,
    webhook_attempts: Vec<WebhookAttempt>,
}

async fn snapshot(store: &dyn Store) -> Result<Snapshot, String> {
    Ok(Snapshot {
        counts: store.table_counts().await.map_err(err)?,
        by_status: store.count_by_status().await.map_err(err)?,
        cases: store.export_cases(0, 10_000).await.map_err(err)?,
        events: store.journal_after(0, 100_000).await.map_err(err)?,
        head: store.journal_head().await.map_err(err)?,
        users: store.list_users().await.map_err(err)?,
        canned_replies: store.list_canned_replies().await.map_err(err)?,
        held_mail: store.export_held_mail(0, 10_000).await.map_err(err)?,
        notice_templates: store.list_notice_templates().await.map_err(err)?,
        webhooks: store.list_webhook_subscriptions().await.map_err(err)?,
        webhook_calls: store
            .export_webhook_calls(None, 10_000)
            .await
            .map_err(err)?,
        webhook_attempts: store
            .export_webhook_attempts(None, 10_000)
            .await
            .map_err(err)?,
    })
}

/// What the source installation handed out, to use on the target.
struct Source {
    snapshot: Snapshot,
    /// Each case as the application reads it (personal fields opened).
    cases: Vec<(Uuid, Value)>,
    api_key: String,
    respondent_key: String,
    registration: Value,
    registration_body: Value,
    /// The webhook's signing secret, as shown when it was made.
    webhook_secret: String,
    /// The saved notice template's subject.
    template_subject: String,
}

/// A mail naming a tracking number no case has: it is held.
fn stray_mail(n: u32) -> String {
    format!(
        "From: Wang Wu <wang.wu@example.org>\r\nSubject: Re: RD250101-ZZZZZ{n}\r\n\
         Message-ID: <stray-{n}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         关于我的投诉 {n}。\r\n"
    )
}

fn envelope() -> Envelope {
    Envelope {
        mail_from: Some("wang.wu@example.org".into()),
        rcpt_to: vec!["complaints@example.com".into()],
    }
}

async fn hold(app: &App, n: u32) -> Result<Uuid, String> {
    match app
        .receive_mail(&envelope(), stray_mail(n).as_bytes())
        .await
        .map_err(err)?
    {
        Disposition::Held { id } => Ok(id),
        other => Err(format!("stray mail {n} was not held: {other:?}")),
    }
}

fn registration_body() -> Value {
    json!({
        "complainant": {"name": "李四", "email": "li.si@example.com", "phone": "13800138000"},
        "respondent": {"kind": "merchant", "id": "shop-0", "name": "演示商家0"},
        "subject": "商家拒绝退款",
        "description": "订单 4711 已取消，但商家拒绝退款。",
        "demands": "全额退款",
        "channel": "api",
    })
}

async fn build_source(data_dir: &Path) -> Result<Source, String> {
    let config = config(data_dir, None);
    let store = redress::open_store(&config).await.map_err(err)?;
    let app = redress::build_app(&config, store.clone(), false)
        .await
        .map_err(err)?;
    app.bootstrap(Some(ADMIN_PASSWORD)).await.map_err(err)?;
    let demo = redress::demo::fill(&app).await.map_err(err)?;
    if demo != 7 {
        return Err(format!("the demo filed {demo} cases, not 7"));
    }
    let admin = login(&app, ADMIN_PASSWORD).await?;
    let respondent = app
        .create_respondent(
            &admin,
            &CreateRespondentCommand::parse(
                &json!({"kind": "merchant", "id": "shop-0", "name": "演示商家0"}),
                app.now(),
            )
            .map_err(err)?,
        )
        .await
        .map_err(err)?;
    // Read keys and webhooks are a supervisor's.
    app.create_user(
        &admin,
        &CreateUserCommand::read(&json!({"username": "compliance",
                "password": "compliance-pass-1", "display_name": "合规",
                "roles": ["supervisor"], "departments": [], "level": 9})),
    )
    .await
    .map_err(err)?;
    let (token, _) = app
        .login(
            &LoginCommand::parse(
                &json!({"username": "compliance", "password": "compliance-pass-1"}),
            )
            .map_err(err)?,
            None,
        )
        .await
        .map_err(err)?;
    let supervisor = app.authenticate(Some(&token)).await.map_err(err)?;
    let key = app
        .create_api_key(
            &supervisor,
            &CreateApiKeyCommand::parse(
                &json!({"name": "crm", "scopes": ["intake", "read"]}),
                app.now(),
            )
            .map_err(err)?,
        )
        .await
        .map_err(err)?;
    let api_key = key.api_key;
    // A webhook owed the registration's events, at a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(err)?
        .port();
    let hook = app
        .create_webhook(
            &supervisor,
            CreateWebhookCommand::read(
                &json!({"url": format!("http://127.0.0.1:{port}/hook"), "events": ["*"]}),
            ),
        )
        .await
        .map_err(err)?;
    let webhook_secret = hook.secret;
    // The installation's own wording of one notice.
    let shipped = app.list_notice_templates(&admin).await.map_err(err)?;
    let first = shipped.items.first().ok_or("no notice templates")?;
    let (kind, locale) = (first.kind.as_str(), first.locale.as_str());
    let template_subject = format!("[Shop Ombudsman] {}", first.subject);
    app.put_notice_template(
        &admin,
        kind,
        locale,
        &NoticeTemplateCommand::parse(
            &json!({"subject": template_subject, "body": first.body, "sms": first.sms}),
        )
        .map_err(err)?,
    )
    .await
    .map_err(err)?;
    let integration = app.authenticate(Some(&api_key)).await.map_err(err)?;
    let body = registration_body();
    let registered = app
        .register(&integration, &body, "body-hash-1", Some("order-4711"), None)
        .await
        .map_err(err)?;
    if registered.status != 201 {
        return Err(format!("registration answered {}", registered.status));
    }
    let no = registered.body["tracking_no"].as_str().unwrap_or_default();
    let token = registered.body["access_token"].as_str();
    app.track_evidence(no, token, Some("receipt.txt"), EVIDENCE)
        .await
        .map_err(err)?;

    // The dispatcher's pass: the first event's call fails (nobody listens)
    // and waits for a retry; a replay adds a second attempt.
    let report = app.deliver_webhooks().await.map_err(err)?;
    let calls = store.export_webhook_calls(None, 10).await.map_err(err)?;
    let [call] = calls.as_slice() else {
        return Err(format!("the webhook pass made {calls:?} ({report:?})"));
    };
    app.replay_webhook_call(&supervisor, &call.id.to_string(), None)
        .await
        .map_err(err)?;

    // Mail naming no case is held; one is discarded.
    hold(&app, 1).await?;
    let discarded = hold(&app, 2).await?;
    let now = app.now();
    let settled = store
        .settle_held_mail(
            discarded,
            HeldMailState::Discarded,
            "staff:admin".into(),
            now,
            None,
            NewEvent {
                case_id: None,
                kind: "held_mail_discarded".into(),
                actor: "staff:admin".into(),
                at: now,
                data: json!({"held_id": discarded}).to_string(),
            },
        )
        .await
        .map_err(err)?;
    if !settled {
        return Err("the held mail was not discarded".into());
    }

    let snapshot = snapshot(store.as_ref()).await?;
    let mut cases = vec![];
    for row in &snapshot.cases {
        let loaded = app.load(row.id).await.map_err(err)?;
        cases.push((row.id, serde_json::to_value(&loaded.case).map_err(err)?));
    }
    Ok(Source {
        snapshot,
        cases,
        api_key,
        respondent_key: respondent.api_key.clone(),
        registration: registered.body,
        registration_body: body,
        webhook_secret,
        template_subject,
    })
}

fn a_sqlite_installation_moves_to_postgresql() -> Result<(), String> {
    let root = std::env::temp_dir().join(format!("redress-migrate-{}", Uuid::now_v7()));
    let data_dir = root.join("data");
    std::fs::create_dir_all(&data_dir).map_err(err)?;
    let result = run(&root, &data_dir);
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&root);
    }
    result
}

fn run(root: &Path, data_dir: &Path) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(err)?;
    // The source is closed (its store dropped) before the copy runs.
    let source = rt.block_on(build_source(data_dir))?;
    let n = &source.snapshot.counts;
    if n.cases != 8
        || n.respondents != 1
        || n.api_keys != 1
        || n.idempotency_keys != 1
        || n.canned_replies != 4
        || n.held_mail != 2
        || n.notice_templates != 1
        || n.webhook_subscriptions != 1
        || n.webhook_calls != 1
        || n.webhook_attempts != 2
    {
        return Err(format!("the source is not what the test built: {n:?}"));
    }
    let sqlite: PathBuf = data_dir.join("redress.sqlite3");
    let from = format!("sqlite://{}", sqlite.display());
    let schema = postgres().schema()?;

    // The copy, in batches of 3 rows so that every table takes several.
    let out = redress(
        &[
            "migrate-data",
            "--from",
            &from,
            "--to",
            &schema.url,
            "--batch-size",
            "3",
        ],
        data_dir,
        None,
    )?;
    let (stdout, stderr) = text(&out);
    if !out.status.success() {
        return Err(format!(
            "migrate-data failed ({}):\n{stdout}\n{stderr}",
            out.status
        ));
    }
    for expected in [
        "the copy verifies",
        "Not copied: sessions",
        "evidence store",
        "same data key",
        "audit chain (target)",
    ] {
        if !stdout.contains(expected) {
            return Err(format!("the summary lacks {expected:?}:\n{stdout}"));
        }
    }
    if stdout.contains("MISMATCH") {
        return Err(format!("the summary shows a mismatch:\n{stdout}"));
    }
    for (table, rows) in [
        ("cases", 8),
        ("held_mail", 2),
        ("notice_templates", 1),
        ("webhook_subscriptions", 1),
        ("webhook_calls", 1),
        ("webhook_attempts", 2),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{table} rows")))
            .unwrap_or_default();
        if !(line.contains(&format!(" {rows} ")) && line.trim_end().ends_with("ok")) {
            return Err(format!(
                "the summary's {table} count is not {rows}/ok:\n{stdout}"
            ));
        }
    }

    // `redress audit verify` on the target, as an operator runs it.
    let target_dir = root.join("target-data");
    std::fs::create_dir_all(&target_dir).map_err(err)?;
    let out = redress(&["audit", "verify"], &target_dir, Some(&schema.url))?;
    let (stdout, stderr) = text(&out);
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    let events = source.snapshot.counts.events;
    if !out.status.success()
        || report["ok"] != json!(true)
        || report["events_checked"] != json!(events)
    {
        return Err(format!(
            "audit verify on the target: {} {stdout} {stderr} (expected {events} events)",
            out.status
        ));
    }

    // The target, row for row, and an application started on it.
    let before_refusal = rt.block_on(check_target(&source, &schema.url, data_dir))?;

    // A second copy into the now non-empty target is refused, untouched.
    let out = redress(
        &["migrate-data", "--from", &from, "--to", &schema.url],
        data_dir,
        None,
    )?;
    let (stdout, stderr) = text(&out);
    if out.status.success()
        || !stderr.contains("not empty")
        || !stderr.contains("Nothing was written")
    {
        return Err(format!(
            "a copy into a non-empty target was not refused ({}):\n{stdout}\n{stderr}",
            out.status
        ));
    }
    let after_refusal = rt.block_on(async {
        let target = redress::open_database(Database::Postgres(schema.url.clone()))
            .await
            .map_err(err)?;
        snapshot(target.as_ref()).await
    })?;
    if after_refusal != before_refusal {
        return Err("the refused copy changed the target".into());
    }

    // And back: the PostgreSQL installation copied into a new SQLite file
    // is again the same, row for row.
    let back = root.join("back.sqlite3");
    let out = redress(
        &[
            "migrate-data",
            "--from",
            &schema.url,
            "--to",
            &format!("sqlite://{}", back.display()),
        ],
        data_dir,
        None,
    )?;
    let (stdout, stderr) = text(&out);
    if !out.status.success() || !stdout.contains("the copy verifies") {
        return Err(format!(
            "migrate-data back to SQLite failed ({}):\n{stdout}\n{stderr}",
            out.status
        ));
    }
    let copied_back = rt.block_on(async {
        let store = redress::open_database(Database::Sqlite(back))
            .await
            .map_err(err)?;
        snapshot(store.as_ref()).await
    })?;
    if copied_back != after_refusal {
        return Err("the copy back to SQLite differs from the PostgreSQL installation".into());
    }
    Ok(())
}

/// Compares the target with the source and uses it through the
/// application; returns its snapshot afterwards.
async fn check_target(source: &Source, url: &str, data_dir: &Path) -> Result<Snapshot, String> {
    let target = redress::open_database(Database::Postgres(url.to_string()))
        .await
        .map_err(err)?;
    let copied = snapshot(target.as_ref()).await?;
    let s = &source.snapshot;
    if copied.counts != s.counts {
        return Err(format!("counts: {:?} vs {:?}", copied.counts, s.counts));
    }
    if copied.by_status != s.by_status {
        return Err(format!(
            "cases by status: {:?} vs {:?}",
            copied.by_status, s.by_status
        ));
    }
    if copied.cases != s.cases {
        return Err("the case rows differ from the source's".into());
    }
    if copied.events != s.events || copied.head != s.head {
        return Err("the journal differs from the source's".into());
    }
    if copied.users != s.users {
        return Err("the users differ from the source's".into());
    }
    if copied.canned_replies != s.canned_replies {
        return Err("the canned replies differ from the source's".into());
    }
    if copied.held_mail != s.held_mail {
        return Err("the held mail differs from the source's".into());
    }
    if copied.notice_templates != s.notice_templates {
        return Err("the notice templates differ from the source's".into());
    }
    if copied.webhooks != s.webhooks {
        return Err(format!(
            "the webhook subscriptions (cursors included) differ: {:?} vs {:?}",
            copied.webhooks, s.webhooks
        ));
    }
    if copied.webhook_calls != s.webhook_calls || copied.webhook_attempts != s.webhook_attempts {
        return Err("the webhook calls or attempts differ from the source's".into());
    }

    // The same data key and the same evidence directory (the data dir).
    let config = config(data_dir, Some(url));
    let app: Arc<App> = redress::build_app(&config, target.clone(), false)
        .await
        .map_err(err)?;
    let boot = app.bootstrap(Some("another-password")).await.map_err(err)?;
    if boot.created_admin {
        return Err("bootstrap created a second admin on the copied installation".into());
    }
    let admin = login(&app, ADMIN_PASSWORD).await?;
    for (id, case) in &source.cases {
        let loaded = app.load(*id).await.map_err(err)?;
        if &serde_json::to_value(&loaded.case).map_err(err)? != case {
            return Err(format!("case {id} reads differently on the target"));
        }
    }
    // The search index is filled on the target (a store does not give the
    // tokens back; the copy computes them from each document): every case
    // is found by its subject's first word and by its tracking number.
    for (id, case) in &source.cases {
        for q in [
            case["record"]["subject"].as_str().unwrap_or_default(),
            case["tracking_no"].as_str().unwrap_or_default(),
        ] {
            let filter = redress_store::CaseFilter {
                query: redress_domain::text::query_tokens(
                    q.split_whitespace().next().unwrap_or_default(),
                ),
                ..Default::default()
            };
            let found = target
                .list_cases(&redress_store::Visibility::All, &filter, 100, None)
                .await
                .map_err(err)?;
            if !found.items.iter().any(|i| i.id == *id) {
                return Err(format!("case {id} is not found by {q:?} on the target"));
            }
        }
    }
    let reg_id: Uuid = serde_json::from_value(source.registration["id"].clone()).map_err(err)?;
    let loaded = app.load(reg_id).await.map_err(err)?;
    if loaded.case.record.complainant.email.as_deref() != Some("li.si@example.com") {
        return Err("the complainant's sealed email does not open on the target".into());
    }
    let evidence = loaded
        .case
        .evidence
        .first()
        .ok_or("the evidence reference is missing")?;
    let read = app.evidence.read_in_case(loaded.key(), &evidence.sha256);
    if read.await.map_err(err)? != EVIDENCE {
        return Err("the evidence file is not found through the target".into());
    }

    // Webhooks, notices and held mail go on with the same data key.
    let sub = copied.webhooks.first().ok_or("the webhook is missing")?;
    if app
        .vault
        .open_for(&format!("webhook:{}:secret", sub.id), &sub.secret)
        .as_deref()
        != Some(source.webhook_secret.as_str())
    {
        return Err("the webhook's signing secret does not open on the target".into());
    }
    let templates = app.list_notice_templates(&admin).await.map_err(err)?;
    let saved = templates
        .items
        .iter()
        .find(|t| t.customized)
        .ok_or("the saved notice template is not in use on the target")?;
    if saved.subject != source.template_subject {
        return Err(format!("the saved notice template reads {saved:?}"));
    }
    for m in &copied.held_mail {
        let full = target
            .get_held_mail(m.id)
            .await
            .map_err(err)?
            .ok_or("a held mail is missing")?;
        let subject = app
            .vault
            .open_for(&format!("held_mail:{}:subject", full.id), &full.subject)
            .unwrap_or_default();
        if !subject.starts_with("Re: RD250101-ZZZZZ")
            || app
                .vault
                .open_bytes_for(&format!("held_mail:{}:raw", full.id), &full.raw)
                .is_none()
        {
            return Err(format!("held mail {} does not open on the target", m.id));
        }
    }
    let held = hold(&app, 3).await?;
    let held = target
        .get_held_mail(held)
        .await
        .map_err(err)?
        .ok_or("the new held mail is missing")?;
    let max_held = s.held_mail.iter().map(|m| m.seq).max().unwrap_or(0);
    if held.seq <= max_held {
        return Err(format!(
            "the new held mail got seq {}, not after {max_held}",
            held.seq
        ));
    }

    // Integrations go on: the key, its idempotency record, the respondent key.
    let integration = app
        .authenticate(Some(&source.api_key))
        .await
        .map_err(|e| format!("the API key on the target: {e}"))?;
    app.authenticate(Some(&source.respondent_key))
        .await
        .map_err(|e| format!("the respondent key on the target: {e}"))?;
    let replay = app
        .register(
            &integration,
            &source.registration_body,
            "body-hash-1",
            Some("order-4711"),
            None,
        )
        .await
        .map_err(err)?;
    if replay.body != source.registration {
        return Err(format!(
            "the idempotent replay answered {} instead of {}",
            replay.body, source.registration
        ));
    }

    // New work continues the sequence and the chain.
    let mut body = source.registration_body.clone();
    body["description"] = json!("订单 4712 已取消，但商家拒绝退款。");
    let new = app
        .register(&integration, &body, "body-hash-2", Some("order-4712"), None)
        .await
        .map_err(err)?;
    let new_id: Uuid = serde_json::from_value(new.body["id"].clone()).map_err(err)?;
    let new_row = target
        .get_case(new_id)
        .await
        .map_err(err)?
        .ok_or("the new case is missing")?;
    let max_seq = s.cases.iter().map(|c| c.seq).max().unwrap_or(0);
    if new_row.seq != max_seq + 1 {
        return Err(format!(
            "the new case got seq {}, expected {}",
            new_row.seq,
            max_seq + 1
        ));
    }
    let audit = app.verify_audit().await.map_err(err)?;
    if !audit.ok || audit.events_checked <= s.events.len() as u64 {
        return Err(format!("the chain after new work: {audit:?}"));
    }
    snapshot(target.as_ref()).await
}
