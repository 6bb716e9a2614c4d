//! The deadline engine's figures.
//!
//! * `sweep`: `App::sweep()` in-process over a store of N open cases of
//!   which none is due (ticks, p50/p95/max, next to the same number of
//!   `get_case` point reads), then over K cases made due (items/s, with an
//!   exactly-once check from the journal and the rows' versions).
//! * `calendar`: `GET /api/v1/calendar/due?from=…&working_days=365` over
//!   HTTP, next to `GET /healthz` on the same keep-alive connection.
//!
//! How "nothing is due" is arranged: the open cases are generated for a
//! reference instant R, noon (Asia/Shanghai) of the day 30 days after the
//! generation, each registered before R and brought to its state at that
//! instant, within a window its deadlines allow (submitted: the morning of
//! R's day; awaiting material: 4 days; in progress: 7 days, before the 50 %
//! reminder of 15 working days; resolved: 14 days of the 15-day appeal
//! window), so that every `sweep_at` (the next deadline or reminder) lies
//! at least [`MARGIN_HOURS`] after R. Each row is checked as it is made; a
//! row that fails is filed closer to R instead. The application runs on a test clock
//! moved forward to R, so in its eyes the cases were filed in the last
//! weeks and nothing is due yet; the store is asked before the ticks. R is
//! kept in `bench-sweep.json`, so the generated store can be used again
//! (until R has passed).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use redress_app::{App, AppConfig, Clock, Vault};
use redress_domain::Calendar;
use redress_store::{CaseRow, Store};
use serde_json::json;
use uuid::Uuid;

use crate::{Bulk, connect, get_timed, percentile, row_at};

/// Every generated open case's `sweep_at` lies at least this long after R.
const MARGIN_HOURS: i64 = 6;

/// The data key when none is given (the one `bench/*.sh` use).
pub const DEFAULT_KEY: &str = "4242424242424242424242424242424242424242424242424242424242424242";

/// CPU seconds this process has used (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // The fields after the command name (which may hold spaces): utime
    // and stime are the 12th and 13th, in clock ticks of 1/100 s.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(lat: &mut [f64]) -> String {
    lat.sort_by(|a, b| a.total_cmp(b));
    format!(
        "p50_ms={:.3} p95_ms={:.3} max_ms={:.3}",
        percentile(lat, 0.5),
        percentile(lat, 0.95),
        lat.last().copied().unwrap_or(f64::NAN)
    )
}

/// How many cases a sweep report says were acted on: its `cases` field
/// (the other fields count events by kind, several per case possible);
/// the sum of its counts for a report without one.
fn items(report: &redress_app::jobs::SweepReport) -> anyhow::Result<u64> {
    let value = serde_json::to_value(report)?;
    let fields = value.as_object().context("a sweep report is an object")?;
    Ok(match fields.get("cases").and_then(|v| v.as_u64()) {
        Some(cases) => cases,
        None => fields.values().filter_map(|v| v.as_u64()).sum(),
    })
}

/// The bench's reference instant: noon in Shanghai (04:00 UTC), 30 days on.
fn reference_instant() -> DateTime<Utc> {
    let day = (Utc::now() + Duration::days(30)).date_naive();
    day.and_hms_opt(4, 0, 0).expect("a valid time").and_utc()
}

/// One open case filed before `r` whose `sweep_at` is after `r + MARGIN`.
/// States as in a live queue: 5 % submitted, 5 % awaiting the
/// complainant's material, 70 % in progress, 20 % resolved in their
/// appeal window; filed within the window their shortest deadline allows.
fn open_row(
    i: usize,
    r: DateTime<Utc>,
    rng: &mut impl Rng,
    vault: &Vault,
    calendar: &Calendar,
) -> anyhow::Result<CaseRow> {
    let state = match rng.gen_range(0..100) {
        0..=4 => 0,
        5..=9 => 1,
        10..=79 => 2,
        _ => 5,
    };
    // Acceptance: 1 working day; material: 5 working days; handling: 15
    // working days, with reminders at 50 % and 80 %; appeal window: 15
    // calendar days.
    let window_minutes: i64 = match state {
        0 => 11 * 60,
        1 => 4 * 24 * 60,
        2 => 7 * 24 * 60,
        _ => 14 * 24 * 60,
    };
    let mut back = rng.gen_range(0..window_minutes);
    // Should the deadline rules put a `sweep_at` earlier than these
    // windows allow (a reminder before the deadline, say), the case is
    // filed later instead, down to a minute before R.
    for _ in 0..8 {
        let created = r - Duration::minutes(back + 1);
        let row = row_at(
            i,
            format!("RDSWEEP-{i:08}"),
            created,
            state,
            vault,
            calendar,
        )?;
        match row.sweep_at {
            Some(at) if at <= r + Duration::hours(MARGIN_HOURS) => back /= 4,
            _ => return Ok(row),
        }
    }
    bail!(
        "case {i} (state {state}) has its sweep_at within {MARGIN_HOURS} h of R even when filed a minute before R"
    )
}

/// One case (cycling through the four kinds of sweep work) filed 60 days
/// before `now`, so that its deadline has passed.
fn due_row(
    i: usize,
    run: i64,
    now: DateTime<Utc>,
    vault: &Vault,
    calendar: &Calendar,
) -> anyhow::Result<CaseRow> {
    // submitted and in progress: a missed staff deadline; awaiting
    // material: lapses; resolved: closes at the end of the appeal window.
    let state = [0, 1, 2, 5][i % 4];
    let created = now - Duration::days(60) - Duration::minutes((i % 1440) as i64);
    let row = row_at(
        i,
        format!("RDDUE-{run}-{i:06}"),
        created,
        state,
        vault,
        calendar,
    )?;
    ensure!(
        row.sweep_at.is_some_and(|at| at <= now),
        "case {i} (state {state}) filed 60 days ago is not due: sweep_at {:?}",
        row.sweep_at
    );
    Ok(row)
}

/// What `bench-sweep.json` remembers about a generated store.
struct Marker {
    cases: usize,
    reference: DateTime<Utc>,
    generate_seconds: f64,
}

impl Marker {
    fn read(path: &Path) -> anyhow::Result<Option<Marker>> {
        let Ok(bytes) = std::fs::read(path) else {
            return Ok(None);
        };
        let v: serde_json::Value = serde_json::from_slice(&bytes)?;
        let bad = || anyhow::anyhow!("{} is not the generator's marker", path.display());
        Ok(Some(Marker {
            cases: v["cases"].as_u64().ok_or_else(bad)? as usize,
            reference: DateTime::parse_from_rfc3339(v["reference"].as_str().ok_or_else(bad)?)?
                .to_utc(),
            generate_seconds: v["generate_seconds"].as_f64().ok_or_else(bad)?,
        }))
    }

    fn write(&self, path: &Path) -> anyhow::Result<()> {
        let v = json!({
            "cases": self.cases,
            "reference": self.reference.to_rfc3339(),
            "generate_seconds": self.generate_seconds,
        });
        Ok(std::fs::write(path, serde_json::to_vec_pretty(&v)?)?)
    }
}

pub struct SweepArgs {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub cases: usize,
    pub due: usize,
    pub ticks: usize,
    pub key: String,
}

pub async fn sweep(args: SweepArgs) -> anyhow::Result<()> {
    let bulk = Bulk::open(&args.data_dir, args.database_url.clone()).await?;
    let result = sweep_on(&bulk, &args).await;
    // A PostgreSQL store must not be dropped on an async thread.
    tokio::task::spawn_blocking(move || drop(bulk)).await?;
    result
}

async fn sweep_on(bulk: &Bulk, args: &SweepArgs) -> anyhow::Result<()> {
    let vault = Vault::load(Some(&args.key), None, &args.data_dir).context("the data key")?;
    let calendar = Calendar::china();
    let marker_path = args.data_dir.join("bench-sweep.json");
    let ids_path = args.data_dir.join("bench-sweep-ids.txt");
    let marker = match Marker::read(&marker_path)? {
        Some(m) => {
            ensure!(
                m.cases == args.cases,
                "{} holds {} generated cases, not {}: use another data directory",
                args.data_dir.display(),
                m.cases,
                args.cases
            );
            eprintln!(
                "using the {} open cases generated before (R = {})",
                m.cases, m.reference
            );
            m
        }
        None => generate_open(bulk, args, &vault, &calendar, &marker_path, &ids_path)?,
    };
    println!(
        "sweep_generate open_cases={} seconds={:.1} reference={}",
        marker.cases, marker.generate_seconds, marker.reference
    );
    let ids: Vec<Uuid> = std::fs::read_to_string(&ids_path)?
        .lines()
        .map(Uuid::parse_str)
        .collect::<Result<_, _>>()?;
    ensure!(!ids.is_empty(), "no ids in {}", ids_path.display());

    // The application on a test clock moved forward to R.
    let offset = (marker.reference - Utc::now()).num_seconds();
    ensure!(
        offset >= 0,
        "R = {} has passed: delete {} (and the database) and generate again",
        marker.reference,
        args.data_dir.display()
    );
    let clock = Clock::test();
    clock.advance(offset);
    let store = bulk.store();
    let config = AppConfig::new(args.data_dir.clone());
    let edges = redress_channels::edges(
        config.webhook_allow_private,
        &redress_channels::evidence::EvidenceLocation::DataDir,
        &config.data_dir,
    )
    .map_err(anyhow::Error::msg)?;
    let app = App::new(store.clone(), vault.clone(), clock, config, edges).await?;

    // The first figure. Nothing due: ticks against point reads, interleaved.
    let horizon = app.now() + Duration::hours(1);
    let due_now = store.due_for_sweep(horizon, 10).await?;
    ensure!(
        due_now.is_empty(),
        "{} or more cases are due by {horizon} (the store must hold only the generated cases)",
        due_now.len()
    );
    for i in 0..10 {
        app.sweep().await?;
        store.get_case(ids[i % ids.len()]).await?;
    }
    let (mut tick, mut read) = (Vec::new(), Vec::new());
    for i in 0..args.ticks {
        let t0 = Instant::now();
        let report = app.sweep().await?;
        tick.push(ms(t0.elapsed()));
        ensure!(items(&report)? == 0, "an idle tick did work: {report:?}");
        let id = ids[(i * 7919) % ids.len()];
        let t0 = Instant::now();
        let row = store.get_case(id).await?;
        read.push(ms(t0.elapsed()));
        ensure!(row.is_some(), "case {id} is missing");
    }
    let (tick_s, read_s) = (summary(&mut tick), summary(&mut read));
    println!(
        "sweep_idle open_cases={} due=0 ticks={} {tick_s}",
        args.cases, args.ticks
    );
    println!(
        "baseline_get_case reads={} {read_s} (one indexed row by id)",
        args.ticks
    );
    println!(
        "sweep_idle/get_case ratio p50={:.2} p95={:.2}; idle tick p95 {:.3} ms (target < 10 ms: {})",
        percentile(&tick, 0.5) / percentile(&read, 0.5),
        percentile(&tick, 0.95) / percentile(&read, 0.95),
        percentile(&tick, 0.95),
        if percentile(&tick, 0.95) < 10.0 {
            "met"
        } else {
            "NOT met"
        }
    );

    if args.due > 0 {
        due_phase(bulk, &app, store, args, &vault, &calendar).await?;
    }
    Ok(())
}

fn generate_open(
    bulk: &Bulk,
    args: &SweepArgs,
    vault: &Vault,
    calendar: &Calendar,
    marker_path: &Path,
    ids_path: &Path,
) -> anyhow::Result<Marker> {
    let reference = reference_instant();
    let start = Instant::now();
    let mut rng = rand::thread_rng();
    let mut ids = Vec::new();
    let mut earliest: Option<DateTime<Utc>> = None;
    bulk.generate(
        args.cases,
        |i| open_row(i, reference, &mut rng, vault, calendar),
        |i, row| {
            if i % 100 == 0 {
                ids.push(row.id.to_string());
            }
            if let Some(at) = row.sweep_at {
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
            }
        },
    )?;
    let marker = Marker {
        cases: args.cases,
        reference,
        generate_seconds: start.elapsed().as_secs_f64(),
    };
    eprintln!(
        "generated {} open cases for R = {reference}; earliest sweep_at {earliest:?}",
        args.cases
    );
    std::fs::write(ids_path, ids.join("\n"))?;
    marker.write(marker_path)?;
    Ok(marker)
}

/// The second figure: `due` cases made due (inserted with deadlines in
/// the past of the clock), one sweep timed, then the exactly-once check.
async fn due_phase(
    bulk: &Bulk,
    app: &App,
    store: Arc<dyn Store>,
    args: &SweepArgs,
    vault: &Vault,
    calendar: &Calendar,
) -> anyhow::Result<()> {
    let now = app.now();
    let run = Utc::now().timestamp();
    let mut versions = HashMap::new();
    bulk.generate(
        args.due,
        |i| due_row(i, run, now, vault, calendar),
        |_, row| {
            versions.insert(row.id, row.version);
        },
    )?;
    let due_set: HashSet<Uuid> = versions.keys().copied().collect();
    let listed = store.due_for_sweep(app.now(), args.due + 1).await?;
    ensure!(
        listed.len() == args.due && listed.iter().all(|id| due_set.contains(id)),
        "{} cases are due, expected exactly the {} inserted",
        listed.len(),
        args.due
    );
    let head = store.journal_head().await?.map_or(0, |(seq, _)| seq);

    let (t0, cpu0) = (Instant::now(), cpu_seconds());
    let report = app.sweep().await?;
    let (took, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    let done = items(&report)?;
    println!(
        "sweep_due open_cases={} due={} seconds={took:.3} items_per_s={:.1} cpu_seconds={cpu:.2} report={}",
        args.cases,
        args.due,
        args.due as f64 / took,
        serde_json::to_string(&report)?
    );

    // Exactly once: what the journal says the sweep wrote…
    let (events, after_first) = events_after(store.as_ref(), head).await?;
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_case: HashMap<Uuid, u64> = HashMap::new();
    let mut strangers = 0u64;
    for e in &events {
        *kinds.entry(e.kind.clone()).or_default() += 1;
        match e.case_id {
            Some(id) if due_set.contains(&id) => *per_case.entry(id).or_default() += 1,
            _ => strangers += 1,
        }
    }
    let max_per_case = per_case.values().copied().max().unwrap_or(0);
    // …each case saved exactly once (its version moved by one)…
    let mut saved_once = 0u64;
    let mut saved_other = 0u64;
    for (id, version) in &versions {
        let row = store.get_case(*id).await?.context("a due case vanished")?;
        if row.version == version + 1 {
            saved_once += 1;
        } else {
            saved_other += 1;
        }
    }
    // …and a second sweep right after does nothing.
    let t0 = Instant::now();
    let second = app.sweep().await?;
    let second_ms = ms(t0.elapsed());
    let (again, _) = events_after(store.as_ref(), after_first).await?;
    let still_due = store.due_for_sweep(app.now(), 10).await?.len();
    let ok = per_case.len() == args.due
        && strangers == 0
        && saved_once == args.due as u64
        && done == args.due as u64
        && items(&second)? == 0
        && again.is_empty()
        && still_due == 0;
    println!(
        "sweep_exactly_once distinct_cases={} events={} kinds={} max_events_per_case={max_per_case} \
         events_outside_due_set={strangers} versions_plus_one={saved_once} versions_other={saved_other} \
         report_items={done} second_sweep_items={} second_sweep_events={} second_sweep_ms={second_ms:.1} \
         still_due={still_due} ok={ok}",
        per_case.len(),
        events.len(),
        json!(kinds),
        items(&second)?,
        again.len(),
    );
    ensure!(ok, "the exactly-once check failed");
    Ok(())
}

/// The journal entries after `seq`, and the last seq seen.
async fn events_after(
    store: &dyn Store,
    mut seq: i64,
) -> anyhow::Result<(Vec<redress_store::JournalEntry>, i64)> {
    let mut out = Vec::new();
    loop {
        let batch = store.journal_after(seq, 5000).await?;
        let Some(last) = batch.last() else { break };
        seq = last.seq;
        out.extend(batch);
    }
    Ok((out, seq))
}

/// The third figure: `GET /api/v1/calendar/due` against `GET /healthz`,
/// alternating on one keep-alive connection.
pub async fn calendar(addr: String, rounds: usize, working_days: u32) -> anyhow::Result<()> {
    let mut sender = connect(&addr).await?;
    let base = DateTime::parse_from_rfc3339("2027-01-04T01:30:00Z")?.to_utc();
    let due_path = |r: usize| {
        let from = base + Duration::days((r % 365) as i64) + Duration::minutes((r % 1440) as i64);
        format!(
            "/api/v1/calendar/due?from={}&working_days={working_days}",
            from.format("%Y-%m-%dT%H:%M:%SZ")
        )
    };
    let (_, first) = get_timed(&mut sender, &addr, "", &due_path(0)).await?;
    ensure!(
        first.get("due_at").is_some(),
        "unexpected /calendar/due answer: {first}"
    );
    for r in 0..200 {
        get_timed(&mut sender, &addr, "", &due_path(r)).await?;
        get_timed(&mut sender, &addr, "", "/healthz").await?;
    }
    let (mut due, mut health) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        due.push(get_timed(&mut sender, &addr, "", &due_path(r)).await?.0);
        health.push(get_timed(&mut sender, &addr, "", "/healthz").await?.0);
    }
    let (due_s, health_s) = (summary(&mut due), summary(&mut health));
    println!("calendar_due working_days={working_days} requests={rounds} {due_s} (from {first})");
    println!("baseline_healthz requests={rounds} {health_s}");
    let (p50, p95) = (percentile(&due, 0.5), percentile(&due, 0.95));
    println!(
        "calendar_due-healthz p50_ms={:+.3} p95_ms={:+.3}; ratio p50={:.2} p95={:.2}; calendar_due p95 {p95:.3} ms (target < 1 ms: {})",
        p50 - percentile(&health, 0.5),
        p95 - percentile(&health, 0.95),
        p50 / percentile(&health, 0.5),
        p95 / percentile(&health, 0.95),
        if p95 < 1.0 { "met" } else { "NOT met" }
    );
    Ok(())
}
