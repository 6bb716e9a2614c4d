//! SIGKILL under intake load on SQLite (issue 18).
//!
//! A server on a fresh data directory takes registrations from eight
//! clients; it is killed with SIGKILL (no graceful stop) while they are
//! mid-request. A second server started on the same directory must show
//! every registration that was acknowledged (`201`) before the kill, with
//! its access code, and find each of them by search (new cases enter the
//! search index once per group commit, in the group's transaction); the
//! search index must match the `cases` table (FTS5 `integrity-check`), and
//! `redress audit verify` must pass.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod serve;
use serve::{Server, agent, data_key, fresh_dir, try_call as call};

const SUPERVISOR_PASSWORD: &str = "supervisor-password-1";
const CLIENTS: usize = 8;
/// Acknowledged registrations before the kill.
const BEFORE_KILL: usize = 400;

fn complaint(n: usize) -> Value {
    json!({
        "complainant": {"name": format!("赵六{n}"), "email": format!("zhao{n}@example.com")},
        "respondent": {"kind": "merchant", "id": format!("shop-{}", n % 7), "name": "某店"},
        "subject": "商家拒绝退款",
        "description": format!("订单 crashcase{n} 已取消，但商家拒绝退款。"),
        "demands": "全额退款",
    })
}

#[derive(Debug, Clone)]
struct Filed {
    n: usize,
    no: String,
    token: String,
}

#[test]
fn a_sigkill_under_intake_load_loses_no_acknowledged_registration() {
    let root = fresh_dir("crash");
    let data = root.join("data");
    let mut server = Server::start(&root, "first", &data, &[]);
    let acked: Arc<Mutex<Vec<Filed>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let dead = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (base, acked, next, dead) = (
            server.base.clone(),
            acked.clone(),
            next.clone(),
            dead.clone(),
        );
        clients.push(std::thread::spawn(move || {
            let a = agent();
            while !dead.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                match call(
                    &a,
                    "POST",
                    &format!("{base}/complaints"),
                    None,
                    Some(&complaint(n)),
                ) {
                    Ok((201, v)) => acked.lock().unwrap().push(Filed {
                        n,
                        no: v["tracking_no"].as_str().unwrap().into(),
                        token: v["access_token"].as_str().unwrap().into(),
                    }),
                    Ok((status, v)) => panic!("registration {n}: {status} {v}"),
                    // The server is gone: this one was never acknowledged.
                    Err(_) => return,
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.lock().unwrap().len() < BEFORE_KILL {
        assert!(Instant::now() < deadline, "registrations too slow");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Everything acknowledged up to here must survive; the clients are
    // still sending.
    server.kill();
    dead.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= BEFORE_KILL);

    let root_path = root.clone();
    let user = Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["user", "add", "crash-super", "--role", "supervisor"])
        .current_dir(&root_path)
        .env("REDRESS_DATA_DIR", &data)
        .env("REDRESS_DATA_KEY", data_key())
        .env("REDRESS_USER_PASSWORD", SUPERVISOR_PASSWORD)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(user.status.success(), "user add: {user:?}");
    let server = Server::start(&root, "second", &data, &[]);
    let a = agent();
    let (status, login) = call(
        &a,
        "POST",
        &format!("{}/auth/login", server.base),
        None,
        Some(&json!({"username": "crash-super", "password": SUPERVISOR_PASSWORD})),
    )
    .unwrap();
    assert_eq!(status, 200, "{login}");
    let staff = login["token"].as_str().unwrap().to_string();
    for f in &acked {
        let (status, v) = call(
            &a,
            "GET",
            &format!("{}/track/{}", server.base, f.no),
            Some(&f.token),
            None,
        )
        .unwrap();
        assert_eq!(status, 200, "acknowledged {} ({}) lost: {v}", f.no, f.n);
    }
    // Every acknowledged case is in the search index, found by a word of
    // its own description.
    for f in acked.iter().step_by(7) {
        let (status, v) = call(
            &a,
            "GET",
            &format!("{}/complaints?q=crashcase{}&limit=200", server.base, f.n),
            Some(&staff),
            None,
        )
        .unwrap();
        assert_eq!(status, 200, "{v}");
        let found: Vec<&str> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["tracking_no"].as_str())
            .collect();
        assert!(
            found.contains(&f.no.as_str()),
            "{} not found by search: {v}",
            f.no
        );
    }
    drop(server);

    let db = r2d2_sqlite::rusqlite::Connection::open(data.join("redress.sqlite3")).unwrap();
    db.execute(
        "INSERT INTO cases_fts (cases_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .expect("the search index matches the cases table");
    drop(db);
    let verify = Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["audit", "verify"])
        .current_dir(&root_path)
        .env("REDRESS_DATA_DIR", &data)
        .env("REDRESS_DATA_KEY", data_key())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "audit verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let _ = std::fs::remove_dir_all(&root);
}
