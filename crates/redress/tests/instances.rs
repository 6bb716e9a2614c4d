//! Several `redress serve` processes on one PostgreSQL database (SPEC §12).
//!
//! Three instances share a fresh schema. 2,000 registrations are spread
//! over them, each with an `Idempotency-Key` that a client re-sends to
//! another instance when its own dies; one instance is killed with SIGKILL
//! in the middle. Conflicting transitions race on pairs of instances. The
//! test clock of the survivors is then moved past every supplement
//! deadline and appeal window, and the database must show: each
//! acknowledged registration exactly once, each lapse and closure exactly
//! once, no notice delivered twice, an intact audit chain.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redress_testkit::{Backend, Failed, postgres, trial};
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "admin-password-1";
const PASSWORD: &str = "staff-password-1";
const REGISTRATIONS: usize = 2_000;
const CLIENTS: usize = 12;

fn main() -> ExitCode {
    let trials = vec![trial(
        Backend::Postgres,
        "instances::three_instances_share_one_database",
        || three_instances_share_one_database().map_err(Failed::from),
    )];
    redress_testkit::run(trials).exit_code()
}

/// One `redress serve --test-clock` process.
struct Instance {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Instance {
    fn start(dir: &Path, database_url: &str) -> Result<Instance, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let log = dir.join("server.log");
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let child = Command::new(env!("CARGO_BIN_EXE_redress"))
            .args(["serve", "--test-clock"])
            .current_dir(dir)
            .env("REDRESS_DATABASE_URL", database_url)
            .env("REDRESS_DATA_DIR", dir.join("data"))
            .env("REDRESS_DATA_KEY", "42".repeat(32))
            .env("REDRESS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("REDRESS_LISTEN", "127.0.0.1:0")
            .env("REDRESS_PUBLIC_RATE_LIMIT", "0")
            .env("REDRESS_SWEEP_INTERVAL_SECONDS", "1")
            .env("REDRESS_JOB_LEASE_SECONDS", "2")
            .env("RUST_LOG", "warn")
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out)
            .spawn()
            .map_err(|e| format!("cannot start redress: {e}"))?;
        let mut instance = Instance {
            child,
            base: String::new(),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&instance.log).unwrap_or_default();
            if let Some(rest) = text.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                instance.base = format!("http://{addr}/api/v1");
                return Ok(instance);
            }
            if let Ok(Some(status)) = instance.child.try_wait() {
                return Err(format!("redress exited with {status}: {text}"));
            }
            if Instant::now() > deadline {
                return Err(format!("redress did not start in time: {text}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill(&mut self) {
        // `Child::kill` sends SIGKILL on Unix: no graceful stop.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Status and JSON body of a call; `Err` when no answer came at all.
fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Result<(u16, Value), String> {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let result = match body {
        Some(b) => agent.run(
            req.header("content-type", "application/json")
                .body(b.to_string())
                .map_err(|e| e.to_string())?,
        ),
        None => agent.run(req.body(()).map_err(|e| e.to_string())?),
    };
    let mut resp = result.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let mut text = String::new();
    resp.body_mut()
        .as_reader()
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn expect(got: Result<(u16, Value), String>, status: u16, what: &str) -> Result<Value, String> {
    match got {
        Ok((s, body)) if s == status => Ok(body),
        Ok((s, body)) => Err(format!("{what}: expected {status}, got {s}: {body}")),
        Err(e) => Err(format!("{what}: no answer: {e}")),
    }
}

fn complaint(n: usize) -> Value {
    json!({
        "complainant": {"name": format!("李四{n}"), "email": format!("li{n}@example.com")},
        "respondent": {"kind": "merchant", "id": format!("shop-{}", n % 7), "name": "好店"},
        "subject": "商家拒绝退款",
        "description": format!("订单 {n} 已取消，但商家拒绝退款。"),
        "demands": "全额退款",
    })
}

#[derive(Debug, Clone)]
struct Filed {
    id: String,
    no: String,
    token: String,
}

fn three_instances_share_one_database() -> Result<(), String> {
    let schema = postgres().schema()?;
    let root = std::env::temp_dir().join(format!("redress-instances-{}", uuid::Uuid::now_v7()));

    // Three instances starting at once race through bootstrap (defaults,
    // calendar, first admin): each must come up.
    let starters: Vec<_> = (0..3)
        .map(|i| {
            let dir = root.join(format!("i{i}"));
            let url = schema.url.clone();
            std::thread::spawn(move || Instance::start(&dir, &url))
        })
        .collect();
    let mut instances = Vec::new();
    for s in starters {
        instances.push(s.join().map_err(|_| "starter panicked")??);
    }
    let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
    let a = agent();

    // Sessions live in the database: a login on one instance works on all.
    let login = |base: &str, user: &str, password: &str| -> Result<String, String> {
        let body = json!({"username": user, "password": password});
        let v = expect(
            call(
                &a,
                "POST",
                &format!("{base}/auth/login"),
                None,
                Some(&body),
                &[],
            ),
            200,
            "login",
        )?;
        Ok(v["token"].as_str().unwrap_or_default().to_string())
    };
    let admin = login(&bases[0], "admin", ADMIN_PASSWORD)?;
    for (user, roles, depts) in [
        ("intake1", json!(["intake"]), json!([])),
        ("handler1", json!(["handler"]), json!(["customer-service"])),
    ] {
        let body = json!({"username": user, "password": PASSWORD, "display_name": user,
                          "roles": roles, "departments": depts, "level": 1});
        expect(
            call(
                &a,
                "POST",
                &format!("{}/admin/users", bases[1]),
                Some(&admin),
                Some(&body),
                &[],
            ),
            201,
            "create user",
        )?;
    }
    let intake = login(&bases[2], "intake1", PASSWORD)?;
    let handler = login(&bases[0], "handler1", PASSWORD)?;

    // ---- 2,000 registrations over three instances; one dies midway ------
    let alive: Arc<Mutex<Vec<bool>>> = Arc::new(Mutex::new(vec![true; 3]));
    let next = Arc::new(AtomicUsize::new(0));
    let acknowledged: Arc<Mutex<BTreeMap<usize, Filed>>> = Arc::default();
    let victim = Arc::new(Mutex::new(instances.remove(2)));
    let mut clients = Vec::new();
    let rerouted = Arc::new(AtomicUsize::new(0));
    for _ in 0..CLIENTS {
        let rerouted = rerouted.clone();
        let (bases, alive, next, acknowledged, victim) = (
            bases.clone(),
            alive.clone(),
            next.clone(),
            acknowledged.clone(),
            victim.clone(),
        );
        clients.push(std::thread::spawn(move || -> Result<(), String> {
            let agent = agent();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= REGISTRATIONS {
                    return Ok(());
                }
                if n == REGISTRATIONS / 3 {
                    // SIGKILL while the other clients are mid-request.
                    alive.lock().unwrap()[2] = false;
                    victim.lock().unwrap().kill();
                }
                let key = format!("registration-{n}");
                let body = complaint(n);
                let mut target = n % 3;
                let mut tries = 0;
                let filed = loop {
                    tries += 1;
                    if tries > 10 {
                        return Err(format!("registration {n} never acknowledged"));
                    }
                    if !alive.lock().unwrap()[target] {
                        target = (target + 1) % 3;
                        continue;
                    }
                    match call(
                        &agent,
                        "POST",
                        &format!("{}/complaints", bases[target]),
                        None,
                        Some(&body),
                        &[("idempotency-key", &key)],
                    ) {
                        Ok((201, v)) => break v,
                        Ok((s, v)) => return Err(format!("registration {n}: {s} {v}")),
                        // The instance died under us: the same key, elsewhere.
                        Err(_) => {
                            rerouted.fetch_add(1, Ordering::Relaxed);
                            target = (target + 1) % 3;
                        }
                    }
                };
                let f = Filed {
                    id: filed["id"].as_str().unwrap_or_default().into(),
                    no: filed["tracking_no"].as_str().unwrap_or_default().into(),
                    token: filed["access_token"].as_str().unwrap_or_default().into(),
                };
                if f.id.is_empty() || f.token.is_empty() {
                    return Err(format!("registration {n}: incomplete answer {filed}"));
                }
                acknowledged.lock().unwrap().insert(n, f);
            }
        }));
    }
    for c in clients {
        c.join().map_err(|_| "client panicked")??;
    }
    let filed: Vec<Filed> = acknowledged.lock().unwrap().values().cloned().collect();
    if filed.len() != REGISTRATIONS {
        return Err(format!("{} registrations acknowledged", filed.len()));
    }
    let bases = &bases[..2];
    {
        use std::os::unix::process::ExitStatusExt;
        let status = victim
            .lock()
            .unwrap()
            .child
            .wait()
            .map_err(|e| e.to_string())?;
        if status.signal() != Some(9) {
            return Err(format!("the third instance was not killed: {status:?}"));
        }
    }

    // ---- conflicting transitions: one winner, one 409 --------------------
    let mut resolved = Vec::new();
    let mut withdrawn = Vec::new();
    let mut rejected = 0;
    // Accept vs reject on 150 cases, then decide vs withdraw on the accepted.
    for f in &filed[..150] {
        let accept = format!("/complaints/{}/accept", f.id);
        let reject = format!("/complaints/{}/reject", f.id);
        let (x, y) = race_pair(
            (
                &bases[0],
                &accept,
                &intake,
                json!({"category": "refunds-returns"}),
            ),
            (
                &bases[1],
                &reject,
                &intake,
                json!({"reason": "不属于受理范围", "guidance": "请联系12315"}),
            ),
        )?;
        match (x, y) {
            (200, 409) => {
                let decide = format!("/complaints/{}/decide", f.id);
                let withdraw = format!("/track/{}/withdraw", f.no);
                let (d, w) = race_pair(
                    (
                        &bases[1],
                        &decide,
                        &handler,
                        json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将全额退款。"}),
                    ),
                    (
                        &bases[0],
                        &withdraw,
                        &f.token,
                        json!({"reason": "已和商家协商解决"}),
                    ),
                )?;
                match (d, w) {
                    (200, 409) => resolved.push(f.clone()),
                    (409, 200) => withdrawn.push(f.clone()),
                    other => return Err(format!("decide vs withdraw on {}: {other:?}", f.no)),
                }
            }
            (409, 200) => rejected += 1,
            other => return Err(format!("accept vs reject on {}: {other:?}", f.no)),
        }
    }

    // ---- 200 cases decided without a race: closed when the appeal window
    // ends; 100 accepted and left alone: flagged overdue once ------------
    let decision =
        json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将全额退款。"});
    let mut overdue = Vec::new();
    for (i, f) in filed[450..750].iter().enumerate() {
        let base = &bases[i % 2];
        expect(
            call(
                &a,
                "POST",
                &format!("{base}/complaints/{}/accept", f.id),
                Some(&intake),
                Some(&json!({"category": "refunds-returns"})),
                &[],
            ),
            200,
            "accept",
        )?;
        if i < 200 {
            expect(
                call(
                    &a,
                    "POST",
                    &format!("{}/complaints/{}/decide", bases[(i + 1) % 2], f.id),
                    Some(&handler),
                    Some(&decision),
                    &[],
                ),
                200,
                "decide",
            )?;
            resolved.push(f.clone());
        } else {
            overdue.push(f.clone());
        }
    }

    // ---- 300 cases wait for material: they lapse --------------------------
    let waiting: Vec<Filed> = filed[150..450].to_vec();
    for (i, f) in waiting.iter().enumerate() {
        let body = json!({"items": ["订单截图"]});
        expect(
            call(
                &a,
                "POST",
                &format!("{}/complaints/{}/request-info", bases[i % 2], f.id),
                Some(&intake),
                Some(&body),
                &[],
            ),
            200,
            "request-info",
        )?;
    }

    // ---- both survivors move their clocks past every deadline at once ----
    let advancers: Vec<_> = bases
        .iter()
        .map(|base| {
            let (url, admin) = (format!("{base}/test-clock/advance"), admin.clone());
            std::thread::spawn(move || {
                expect(
                    call(
                        &agent(),
                        "POST",
                        &url,
                        Some(&admin),
                        Some(&json!({"seconds": 40 * 86400})),
                        &[],
                    ),
                    200,
                    "advance",
                )
            })
        })
        .collect();
    for a in advancers {
        a.join().map_err(|_| "advancer panicked")??;
    }

    // ---- what the database holds ------------------------------------------
    let mut db = pg_client(&schema.url)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let expected_closed = resolved.len() + waiting.len() + withdrawn.len() + rejected;
    loop {
        let closed: i64 = db
            .query_one("SELECT count(*) FROM cases WHERE status = 'closed'", &[])
            .map_err(|e| e.to_string())?
            .get(0);
        if closed as usize >= expected_closed {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "only {closed} of {expected_closed} cases closed in time"
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }

    let rows = db
        .query(
            "SELECT id::text, tracking_no, status, closure, doc FROM cases",
            &[],
        )
        .map_err(|e| e.to_string())?;
    if rows.len() != REGISTRATIONS {
        return Err(format!(
            "{} cases stored for {REGISTRATIONS} acknowledged",
            rows.len()
        ));
    }
    let stored: HashMap<String, (String, String, Option<String>, Vec<u8>)> = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4))))
        .collect();
    let numbers: HashSet<&String> = stored.values().map(|v| &v.0).collect();
    if numbers.len() != REGISTRATIONS {
        return Err("tracking numbers are not unique".into());
    }
    for f in &filed {
        match stored.get(&f.id) {
            Some((no, ..)) if *no == f.no => {}
            other => return Err(format!("acknowledged {} stored as {other:?}", f.no)),
        }
    }
    let closure_of = |f: &Filed| stored[&f.id].2.clone();
    for f in &waiting {
        if closure_of(f).as_deref() != Some("lapsed") {
            return Err(format!("{} did not lapse: {:?}", f.no, stored[&f.id].1));
        }
    }
    for f in &resolved {
        if closure_of(f).as_deref() != Some("resolved") {
            return Err(format!(
                "{} was not closed as resolved: {:?}",
                f.no,
                closure_of(f)
            ));
        }
    }

    // Each sweep action once per case.
    let twice: i64 = db
        .query_one(
            "SELECT count(*) FROM (SELECT case_id, kind FROM events \
             WHERE kind IN ('lapsed', 'closed', 'deadline_missed', 'accepted', 'rejected', \
             'decided', 'withdrawn') GROUP BY case_id, kind HAVING count(*) > 1) AS d",
            &[],
        )
        .map_err(|e| e.to_string())?
        .get(0);
    if twice != 0 {
        return Err(format!("{twice} case actions were done more than once"));
    }
    let lapses: i64 = db
        .query_one("SELECT count(*) FROM events WHERE kind = 'lapsed'", &[])
        .map_err(|e| e.to_string())?
        .get(0);
    let closures: i64 = db
        .query_one("SELECT count(*) FROM events WHERE kind = 'closed'", &[])
        .map_err(|e| e.to_string())?
        .get(0);
    let flagged: i64 = db
        .query_one(
            "SELECT count(*) FROM events WHERE kind = 'deadline_missed'",
            &[],
        )
        .map_err(|e| e.to_string())?
        .get(0);
    if (flagged as usize) < overdue.len() {
        return Err(format!(
            "{flagged} overdue flags for {} overdue cases",
            overdue.len()
        ));
    }
    if lapses as usize != waiting.len() || closures as usize != resolved.len() {
        return Err(format!(
            "{lapses} lapses for {} waiting cases, {closures} closures for {} resolved",
            waiting.len(),
            resolved.len()
        ));
    }

    // The report counters, kept by three instances' writers at once, add
    // up to what the rows and the journal hold (docs/reports.md).
    let count = |db: &mut postgres::Client, sql: &str| -> Result<i64, String> {
        db.query_one(sql, &[])
            .map_err(|e| format!("{sql}: {e}"))
            .map(|r| r.get(0))
    };
    for (metric, truth) in [
        ("filed", "SELECT count(*) FROM cases"),
        (
            "closed",
            "SELECT count(*) FROM cases WHERE status = 'closed'",
        ),
        (
            "accepted",
            "SELECT count(*) FROM events WHERE kind = 'accepted'",
        ),
        (
            "decided",
            "SELECT count(*) FROM events WHERE kind = 'decided'",
        ),
    ] {
        let truth = count(&mut db, truth)?;
        // The daily counters and the monthly ones (migration 0022).
        for table in ["report_days", "report_months"] {
            let kept = count(
                &mut db,
                &format!(
                    "SELECT coalesce(sum(n), 0)::bigint FROM {table} WHERE metric = '{metric}'"
                ),
            )?;
            if kept != truth {
                return Err(format!(
                    "report counter {metric} in {table}: {kept}, the rows say {truth}"
                ));
            }
        }
    }
    for table in ["report_days", "report_months"] {
        let negative = count(
            &mut db,
            &format!("SELECT count(*) FROM {table} WHERE n < 0"),
        )?;
        if negative != 0 {
            return Err(format!("{negative} report counters below zero in {table}"));
        }
    }

    // No notice delivered twice (each document opened with its case's
    // key, as the server does).
    let vault = redress_app::Vault::from_master(&[0x42; 32]);
    let mut deliveries = 0;
    for (id, (no, _, _, doc)) in &stored {
        let uuid = uuid::Uuid::parse_str(id).map_err(|e| e.to_string())?;
        let case = redress_app::stored::open_document(uuid, doc, &vault)
            .map_err(|e| format!("{no}: the document does not open: {e}"))?
            .case;
        let doc = serde_json::to_value(&case).map_err(|e| e.to_string())?;
        let mut seen = HashSet::new();
        // The parties' notices, each once per recipient (staff reminders
        // and escalations repeat by design: daily, to several people).
        for d in doc["deliveries"].as_array().into_iter().flatten() {
            if d["party"] == "staff" {
                continue;
            }
            deliveries += 1;
            let key = (
                d["party"].to_string(),
                d["notice"].to_string(),
                d["recipient"].to_string(),
            );
            if !seen.insert(key.clone()) {
                return Err(format!("{no}: notice {key:?} delivered twice"));
            }
        }
    }
    if deliveries == 0 {
        return Err("no delivery found in any document: nothing was checked".into());
    }

    // The journal is one intact chain.
    let out = Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["audit", "verify"])
        .current_dir(&root)
        .env("REDRESS_DATABASE_URL", &schema.url)
        .env("REDRESS_DATA_DIR", root.join("verify"))
        .env("REDRESS_DATA_KEY", "42".repeat(32))
        .stderr(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    let report: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "audit verify printed no report: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    if report["ok"] != json!(true) || !out.status.success() {
        return Err(format!("audit verify: {report}"));
    }

    drop(instances);
    drop(victim);
    let _ = std::fs::remove_dir_all(&root);
    eprintln!(
        "instances: {} registrations ({} re-sent after the kill), {} rejected / {} resolved / {} withdrawn in races, {} lapsed, {} events checked",
        filed.len(),
        rerouted.load(Ordering::Relaxed),
        rejected,
        resolved.len(),
        withdrawn.len(),
        waiting.len(),
        report["events_checked"]
    );
    Ok(())
}

/// Races two calls: both start together; their statuses.
fn race_pair(
    first: (&str, &str, &str, Value),
    second: (&str, &str, &str, Value),
) -> Result<(u16, u16), String> {
    let spawn = |(base, path, token, body): (&str, &str, &str, Value)| {
        let (url, token) = (format!("{base}{path}"), token.to_string());
        std::thread::spawn(move || call(&agent(), "POST", &url, Some(&token), Some(&body), &[]))
    };
    let (x, y) = (spawn(first), spawn(second));
    let x = x.join().map_err(|_| "racer panicked")??;
    let y = y.join().map_err(|_| "racer panicked")??;
    for (status, body) in [&x, &y] {
        if *status != 200 && *status != 409 {
            return Err(format!("race: {status} {body}"));
        }
    }
    Ok((x.0, y.0))
}

fn pg_client(url: &str) -> Result<postgres::Client, String> {
    postgres::Client::connect(url, postgres::NoTls).map_err(|e| e.to_string())
}
