//! `redress migrate-data --from URL --to URL`: copies a whole installation
//! into an empty database (SQLite → PostgreSQL, or back), row for row.
//!
//! What moves: departments, categories, users (password hashes as they
//! are), respondents, API keys, canned replies, notice templates, the
//! calendar, idempotency records, cases (with their `seq`, version and
//! sealed document), the journal (with its `seq`, `prev_hash` and `hash`,
//! and the head), held mail (every state, with its `seq` and sealed
//! message) and webhooks: subscriptions (with their sealed secret and
//! their cursor in the journal), their calls and every attempt. What does
//! not: sessions (people log in again) and background-job claims (the
//! sweep's and the webhook dispatcher's leases).
//! Evidence files are not in the database: cases name them by SHA-256 and
//! they stay in the evidence store. Personal fields stay sealed with the
//! installation's data key, which the new installation must keep.
//!
//! The target must be empty; nothing is written otherwise. At the end the
//! command compares row counts, per-status counts and the journal head on
//! both sides and verifies the target's audit chain.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use redress_store::journal::Verifier;
use redress_store::{Store, TableCounts};

use crate::config::{self, Config, Database};

/// Held mails per page: each carries its whole message, up to 25 MiB by
/// default, and PostgreSQL takes at most 1 GB in one parameter.
const HELD_MAIL_PAGE: usize = 16;

/// How the copy runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rows per read and per write transaction.
    pub batch_size: usize,
    /// Progress bars on standard error (drawn only on a terminal).
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch_size: 2_000,
            progress: true,
        }
    }
}

/// One comparison of source and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub what: String,
    pub source: String,
    pub target: String,
    pub ok: bool,
}

/// What a copy did and found.
#[derive(Debug, Clone)]
pub struct Report {
    /// Rows written per table.
    pub copied: TableCounts,
    pub checks: Vec<Check>,
    /// Events whose hashes were checked on the target.
    pub events_verified: u64,
    pub elapsed: Duration,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// A database URL for display: the password in the user part replaced by
/// `***` (the user part ends at the last `@` before the path), and the
/// query dropped, since it may carry `password=`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let rest = rest.split('?').next().unwrap_or(rest);
    let (userinfo, location) = match rest.rsplit_once('@') {
        Some((userinfo, location)) => (Some(userinfo), location),
        None => (None, rest),
    };
    let user = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((name, _)) => format!("{name}:***@"),
            None => format!("{u}@"),
        },
        None => String::new(),
    };
    format!("{scheme}://{user}{location}")
}

/// The command: opens both stores, copies, prints the summary; an error
/// when the copy was refused, failed or does not verify.
pub async fn run(config: &Config, from: &str, to: &str, options: &Options) -> anyhow::Result<()> {
    let source_db = config::database(Some(from), &config.data_dir).context("--from")?;
    let target_db = config::database(Some(to), &config.data_dir).context("--to")?;
    if source_db == target_db {
        bail!("--from and --to name the same database");
    }
    if let Database::Sqlite(path) = &source_db
        && !path.is_file()
    {
        bail!("no SQLite database at {} (--from)", path.display());
    }
    println!("migrate-data: {} -> {}", redact(from), redact(to));
    let source = crate::open_database(source_db)
        .await
        .context("opening the source")?;
    let target = crate::open_database(target_db)
        .await
        .context("opening the target")?;
    let report = copy(source.as_ref(), target.as_ref(), options).await?;

    println!();
    println!("verification:");
    for c in &report.checks {
        let mark = if c.ok { "ok" } else { "MISMATCH" };
        if c.source == c.target {
            println!("  {:<28} {:<40} {mark}", c.what, c.source);
        } else {
            println!(
                "  {:<28} source {} / target {}  {mark}",
                c.what, c.source, c.target
            );
        }
    }
    println!(
        "  {:<28} {} events verified on the target",
        "audit chain", report.events_verified
    );
    println!();
    if !report.ok() {
        bail!(
            "the copy does not match its source (see MISMATCH above). Was the source still \
             being written? Stop the server, empty the target (drop and re-create the \
             database or schema) and run migrate-data again"
        );
    }
    let secs = report.elapsed.as_secs_f64();
    println!(
        "migrate-data: done in {secs:.1} s, {} cases and {} events copied; the copy verifies.",
        report.copied.cases, report.copied.events
    );
    println!(
        "Not copied: sessions (everyone logs in again on the new installation) and background-job \
         claims (the sweep takes due cases up again, the webhook dispatcher its subscriptions)."
    );
    let evidence = match config
        .evidence_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => url.to_string(),
        None => config.data_dir.join("evidence").display().to_string(),
    };
    println!(
        "Evidence files are not in the database: cases refer to them by SHA-256 and they stay \
         in the evidence store ({evidence}). Point the new installation at the same evidence \
         store (the same evidence_url, or the same data_dir, or a copy of its evidence/ folder)."
    );
    println!(
        "Keep the same data key (REDRESS_DATA_KEY or the data.key file): personal fields are \
         sealed with it and cannot be read without it."
    );
    println!(
        "Next: set REDRESS_DATABASE_URL to the target and start `redress serve`; check with \
         `redress audit verify`."
    );
    Ok(())
}

fn bar(options: &Options, name: &str, total: i64) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(u64::try_from(total).unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>16} [{bar:32}] {human_pos}/{human_len} {per_sec:>12} {elapsed_precise}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(name.to_string());
    bar
}

/// Ends a phase: the bar goes, one line stays.
fn done(bar: &ProgressBar, name: &str, rows: i64, started: Instant) {
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        format!(", {:.0} rows/s", rows as f64 / secs)
    } else {
        String::new()
    };
    println!("  {name:<17} {rows:>10} rows  {secs:>7.1} s{rate}");
}

fn len<T>(v: &[T]) -> i64 {
    i64::try_from(v.len()).unwrap_or(i64::MAX)
}

/// Copies everything from `source` into the empty `target` and compares
/// the two. Refuses (writing nothing) when the target is not empty or the
/// source's audit chain does not verify.
pub async fn copy(
    source: &dyn Store,
    target: &dyn Store,
    options: &Options,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let batch = options.batch_size.max(1);
    let before = source.table_counts().await?;
    if source.is_empty().await? {
        bail!(
            "the source holds no installation: nothing to copy (are --from and --to the right \
             way round?)"
        );
    }
    if !target.is_empty().await? {
        let n = target.table_counts().await?;
        let held: Vec<String> = n
            .tables()
            .iter()
            .filter(|(t, rows)| *rows > 0 && *t != "calendar_days")
            .map(|(t, rows)| format!("{rows} {t}"))
            .collect();
        bail!(
            "the target is not empty ({}): migrate-data only writes into an empty database. \
             Nothing was written",
            held.join(", ")
        );
    }
    if let Some(splice) = source.journal_splice().await? {
        bail!(
            "the source's journal is being re-sealed (up to event {} of {}): run `redress keys \
             rotate` until it finishes, then copy. Nothing was written",
            splice.seq,
            splice.started_seq
        );
    }
    let source_head = source.journal_head().await?;

    // Before writing anything: the chain that is copied must hold.
    println!("source: {}", describe(&before));
    let t = Instant::now();
    let b = bar(options, "checking source", before.events);
    let mut v = Verifier::default();
    let mut after = 0;
    loop {
        let page = source.journal_after(after, batch).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        b.inc(page.len() as u64);
        if !page.iter().all(|e| v.feed(e)) {
            break;
        }
    }
    v.finish(source_head.clone());
    b.finish_and_clear();
    if let Some(problem) = v.problem {
        bail!(
            "the source's audit chain does not verify ({problem}): nothing was written. \
             Investigate with `redress audit verify` on the source first"
        );
    }
    println!(
        "  {:<17} {:>10} events  {:>5.1} s, chain intact",
        "source journal",
        v.checked,
        t.elapsed().as_secs_f64()
    );

    println!("copying:");
    let mut copied = TableCounts::default();

    let t = Instant::now();
    let departments = source.list_departments().await?;
    let categories = source.list_categories().await?;
    copied.departments = len(&departments);
    copied.categories = len(&categories);
    let b = bar(
        options,
        "departments",
        copied.departments + copied.categories,
    );
    target.import_departments(departments, categories).await?;
    done(&b, "departments", copied.departments, t);
    println!("  {:<17} {:>10} rows", "categories", copied.categories);

    let t = Instant::now();
    let users = source.list_users().await?;
    copied.users = len(&users);
    let b = bar(options, "users", copied.users);
    target.import_users(users).await?;
    done(&b, "users", copied.users, t);

    let t = Instant::now();
    let respondents = source.export_respondents().await?;
    copied.respondents = len(&respondents);
    let b = bar(options, "respondents", copied.respondents);
    for chunk in respondents.chunks(batch) {
        target.import_respondents(chunk.to_vec()).await?;
        b.inc(chunk.len() as u64);
    }
    done(&b, "respondents", copied.respondents, t);

    let t = Instant::now();
    let keys = source.export_api_keys().await?;
    copied.api_keys = len(&keys);
    let b = bar(options, "api_keys", copied.api_keys);
    target.import_api_keys(keys).await?;
    done(&b, "api_keys", copied.api_keys, t);

    let t = Instant::now();
    let replies = source.list_canned_replies().await?;
    copied.canned_replies = len(&replies);
    let b = bar(options, "canned_replies", copied.canned_replies);
    target.import_canned_replies(replies).await?;
    done(&b, "canned_replies", copied.canned_replies, t);

    let t = Instant::now();
    let templates = source.list_notice_templates().await?;
    copied.notice_templates = len(&templates);
    let b = bar(options, "notice_templates", copied.notice_templates);
    target.import_notice_templates(templates).await?;
    done(&b, "notice_templates", copied.notice_templates, t);

    let t = Instant::now();
    let days = source.list_calendar().await?;
    copied.calendar_days = len(&days);
    let b = bar(options, "calendar_days", copied.calendar_days);
    target.import_calendar(days).await?;
    done(&b, "calendar_days", copied.calendar_days, t);

    let t = Instant::now();
    let b = bar(options, "idempotency_keys", before.idempotency_keys);
    let mut key: Option<String> = None;
    loop {
        let page = source.export_idempotency(key.clone(), batch).await?;
        let Some(last) = page.last() else { break };
        key = Some(last.key.clone());
        copied.idempotency_keys += len(&page);
        b.inc(page.len() as u64);
        target.import_idempotency(page).await?;
    }
    done(&b, "idempotency_keys", copied.idempotency_keys, t);

    let t = Instant::now();
    let b = bar(options, "cases", before.cases);
    let mut seq = 0;
    loop {
        let page = source.export_cases(seq, batch).await?;
        let Some(last) = page.last() else { break };
        seq = last.seq;
        copied.cases += len(&page);
        b.inc(page.len() as u64);
        target.import_cases(page).await?;
    }
    done(&b, "cases", copied.cases, t);

    let t = Instant::now();
    let b = bar(options, "events", before.events);
    let mut seq = 0;
    loop {
        let page = source.journal_after(seq, batch).await?;
        let Some(last) = page.last() else { break };
        seq = last.seq;
        copied.events += len(&page);
        b.inc(page.len() as u64);
        target.import_events(page).await?;
    }
    done(&b, "events", copied.events, t);

    let t = Instant::now();
    let b = bar(options, "held_mail", before.held_mail);
    let mut seq = 0;
    loop {
        // Each held mail carries its raw message (up to `smtp_max_bytes`):
        // small pages, whatever the batch size.
        let page = source
            .export_held_mail(seq, batch.min(HELD_MAIL_PAGE))
            .await?;
        let Some(last) = page.last() else { break };
        seq = last.seq;
        copied.held_mail += len(&page);
        b.inc(page.len() as u64);
        target.import_held_mail(page).await?;
    }
    done(&b, "held_mail", copied.held_mail, t);

    // Webhooks: subscriptions (with their cursors), then their calls, then
    // the calls' attempts.
    let t = Instant::now();
    let subscriptions = source.list_webhook_subscriptions().await?;
    copied.webhook_subscriptions = len(&subscriptions);
    let b = bar(options, "webhooks", copied.webhook_subscriptions);
    for chunk in subscriptions.chunks(batch) {
        target.import_webhook_subscriptions(chunk.to_vec()).await?;
        b.inc(chunk.len() as u64);
    }
    done(&b, "webhooks", copied.webhook_subscriptions, t);

    let t = Instant::now();
    let b = bar(options, "webhook_calls", before.webhook_calls);
    let mut id = None;
    loop {
        let page = source.export_webhook_calls(id, batch).await?;
        let Some(last) = page.last() else { break };
        id = Some(last.id);
        copied.webhook_calls += len(&page);
        b.inc(page.len() as u64);
        target.import_webhook_calls(page).await?;
    }
    done(&b, "webhook_calls", copied.webhook_calls, t);

    let t = Instant::now();
    let b = bar(options, "webhook_attempts", before.webhook_attempts);
    let mut key = None;
    loop {
        let page = source.export_webhook_attempts(key, batch).await?;
        let Some(last) = page.last() else { break };
        key = Some((last.call_id, last.n));
        copied.webhook_attempts += len(&page);
        b.inc(page.len() as u64);
        target.import_webhook_attempts(page).await?;
    }
    done(&b, "webhook_attempts", copied.webhook_attempts, t);

    // Compare. The source is counted again: a server still writing to it
    // shows up as a mismatch.
    let source_now = source.table_counts().await?;
    let target_now = target.table_counts().await?;
    let mut checks: Vec<Check> = source_now
        .tables()
        .iter()
        .zip(target_now.tables())
        .map(|((table, s), (_, t))| Check {
            what: format!("{table} rows"),
            source: s.to_string(),
            target: t.to_string(),
            ok: *s == t,
        })
        .collect();
    if source_now != before {
        checks.push(Check {
            what: "source unchanged".into(),
            source: describe(&before),
            target: describe(&source_now),
            ok: false,
        });
    }
    let by_status = |counts: Vec<(redress_domain::Status, i64)>| {
        counts
            .iter()
            .map(|(s, n)| format!("{s}={n}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (s, t) = (
        by_status(source.count_by_status().await?),
        by_status(target.count_by_status().await?),
    );
    checks.push(Check {
        what: "cases by status".into(),
        ok: s == t,
        source: s,
        target: t,
    });
    let head = |h: &Option<(i64, String)>| match h {
        Some((seq, hash)) => format!("seq {seq} {}", &hash[..hash.len().min(16)]),
        None => "none".into(),
    };
    let source_head_now = source.journal_head().await?;
    let target_head = target.journal_head().await?;
    checks.push(Check {
        what: "journal head".into(),
        source: head(&source_head_now),
        target: head(&target_head),
        ok: source_head_now == target_head,
    });

    let b = bar(options, "verifying target", target_now.events);
    let mut v = Verifier::default();
    let mut after = 0;
    loop {
        let page = match target.journal_after(after, batch).await {
            Ok(page) => page,
            Err(e) => {
                v.problem = Some(format!("an event after {after} cannot be read: {e}"));
                break;
            }
        };
        let Some(last) = page.last() else { break };
        after = last.seq;
        b.inc(page.len() as u64);
        if !page.iter().all(|e| v.feed(e)) {
            break;
        }
    }
    v.finish(target_head);
    b.finish_and_clear();
    checks.push(Check {
        what: "audit chain (target)".into(),
        source: "intact".into(),
        target: v.problem.clone().unwrap_or_else(|| "intact".into()),
        ok: v.problem.is_none(),
    });

    Ok(Report {
        copied,
        checks,
        events_verified: v.checked,
        elapsed: started.elapsed(),
    })
}

fn describe(n: &TableCounts) -> String {
    n.tables()
        .iter()
        .map(|(t, rows)| format!("{rows} {t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::redact;

    /// The first migration numbered alike on both backends (issue 17);
    /// older ones keep the numbers they were applied under.
    const NUMBERED_ALIKE_FROM: i64 = 23;

    #[test]
    fn both_backends_number_their_migrations_alike() {
        let from = |m: &[(i64, &'static str, &'static str)]| {
            m.iter()
                .filter(|(v, _, _)| *v >= NUMBERED_ALIKE_FROM)
                .map(|(v, name, _)| (*v, *name))
                .collect::<Vec<_>>()
        };
        let sqlite = from(redress_sqlite::MIGRATIONS);
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, from(redress_postgres::MIGRATIONS));
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://redress:s3cret@db:5432/redress?sslmode=disable"),
            "postgres://redress:***@db:5432/redress"
        );
        // A `/` in the password, a password in the query.
        assert_eq!(
            redact("postgres://u:pa/ss@db/redress"),
            "postgres://u:***@db/redress"
        );
        assert_eq!(
            redact("postgres://u@db/redress?password=s3cret"),
            "postgres://u@db/redress"
        );
        assert_eq!(
            redact("postgres://redress@db/redress"),
            "postgres://redress@db/redress"
        );
        assert_eq!(
            redact("sqlite:///var/lib/redress/redress.sqlite3"),
            "sqlite:///var/lib/redress/redress.sqlite3"
        );
    }
}
