//! `redress backup --to DIR` on a serving SQLite installation (SQLite only:
//! PostgreSQL is backed up with `pg_dump`).
//!
//! A server runs and complaints keep arriving from another thread while the
//! backup is taken. The backup is then restored into a fresh data directory;
//! a second server started there must verify its audit chain, show every
//! complaint acknowledged before the backup started, and hand out the
//! evidence file.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

mod serve;
use serve::{ADMIN_PASSWORD, Server, agent, data_key, fresh_dir, try_call, try_send};

/// A `redress` command on `data_dir`, as an operator would run it.
fn redress(root: &Path, data_dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redress"));
    cmd.args(args)
        .current_dir(root)
        .env("REDRESS_DATA_DIR", data_dir)
        .env("REDRESS_DATA_KEY", data_key())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().expect("run redress")
}

/// Status and raw body of a call.
fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> (u16, Vec<u8>) {
    try_send(agent, method, url, token, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// Status and JSON body of a call.
fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    try_call(agent, method, url, token, body).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

#[derive(Debug, Clone)]
struct Filed {
    id: String,
    no: String,
    token: String,
}

fn file(agent: &ureq::Agent, base: &str, n: usize) -> Filed {
    let body = json!({
        "complainant": {"name": format!("王五{n}"), "email": format!("wang{n}@example.com")},
        "respondent": {"kind": "merchant", "id": format!("shop-{}", n % 5), "name": "好店"},
        "subject": "商家拒绝退款",
        "description": format!("订单 {n} 已取消，但商家拒绝退款。"),
        "demands": "全额退款",
    });
    let (status, v) = call(
        agent,
        "POST",
        &format!("{base}/complaints"),
        None,
        Some(&body),
    );
    assert_eq!(status, 201, "registration {n}: {v}");
    Filed {
        id: v["id"].as_str().unwrap().into(),
        no: v["tracking_no"].as_str().unwrap().into(),
        token: v["access_token"].as_str().unwrap().into(),
    }
}

/// `cp -r from to` (files and directories only).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

#[test]
fn an_online_backup_restores_with_its_cases_journal_and_evidence() {
    let root = fresh_dir("backup");
    let data = root.join("data");
    let server = Server::start(&root, "first", &data, &["--test-clock"]);
    let a = agent();

    // Complaints acknowledged before the backup, one with evidence.
    let mut before: Vec<Filed> = (0..20).map(|n| file(&a, &server.base, n)).collect();
    let evidence = "退款凭证：订单已取消，商家拒绝退款。backup test"
        .as_bytes()
        .to_vec();
    let boundary = "redress-backup-boundary-Zx81";
    let mut multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"proof.txt\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    multipart.extend_from_slice(&evidence);
    multipart.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let with_evidence = before[3].clone();
    let (status, body) = send(
        &a,
        "POST",
        &format!("{}/track/{}/evidence", server.base, with_evidence.no),
        Some(&with_evidence.token),
        Some((
            &format!("multipart/form-data; boundary={boundary}"),
            multipart,
        )),
    );
    assert_eq!(status, 200, "evidence: {}", String::from_utf8_lossy(&body));
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&evidence));

    // Filing goes on while the backup runs: the backup is online.
    let stop = Arc::new(AtomicBool::new(false));
    let during = Arc::new(AtomicUsize::new(0));
    let filer = {
        let (stop, during, base) = (stop.clone(), during.clone(), server.base.clone());
        std::thread::spawn(move || {
            let a = agent();
            let mut n = 1000;
            while !stop.load(Ordering::Relaxed) {
                file(&a, &base, n);
                during.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        })
    };
    while during.load(Ordering::Relaxed) < 3 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let target = root.join("backup");
    let target_s = target.to_str().unwrap();
    let at_start = during.load(Ordering::Relaxed);
    let out = redress(&root, &data, &["backup", "--to", target_s], &[]);
    let at_end = during.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    filer.join().expect("the filing thread");
    assert!(
        out.status.success(),
        "backup failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("a JSON summary");
    assert_eq!(summary["ok"], true, "{summary}");
    assert!(
        summary["cases"].as_i64().unwrap() >= before.len() as i64 + 3,
        "{summary}"
    );
    assert!(summary["events_checked"].as_u64().unwrap() > 0, "{summary}");
    assert_eq!(summary["evidence_files"], 1, "{summary}");
    assert!(target.join("redress.sqlite3").is_file());
    // The case's file, under its name in the case (a keyed hash), as in
    // the data directory; never under its plain hash.
    let copied = relative_files(&target.join("evidence"));
    assert_eq!(copied.len(), 1, "{copied:?}");
    assert_eq!(copied, relative_files(&data.join("evidence")));
    assert!(!copied[0].ends_with(&sha256));
    eprintln!(
        "backup: {summary}; {} registrations during the backup",
        at_end - at_start
    );

    // A non-empty target is refused and left as it was.
    let again = redress(&root, &data, &["backup", "--to", target_s], &[]);
    assert!(!again.status.success(), "a second backup into {target_s}");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("not empty"), "{stderr}");
    assert!(target.join("redress.sqlite3").is_file());

    // PostgreSQL is backed up with pg_dump: exit code 2.
    let pg = redress(
        &root,
        &data,
        &["backup", "--to", root.join("pg").to_str().unwrap()],
        &[("REDRESS_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
    );
    assert_eq!(pg.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_dump"));
    assert!(!root.join("pg").exists());

    drop(server);

    // Restore as docs/operations.md says: the database file and the
    // evidence folder into a fresh data directory, the same key; the
    // backup itself stays untouched.
    let restored_dir = root.join("restored");
    copy_tree(&target, &restored_dir);
    let verify = redress(&root, &restored_dir, &["audit", "verify"], &[]);
    assert!(
        verify.status.success(),
        "audit verify on the backup: {}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let report: Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");

    let restored = Server::start(&root, "restored", &restored_dir, &["--test-clock"]);
    for f in &before {
        let (status, v) = call(
            &a,
            "GET",
            &format!("{}/track/{}", restored.base, f.no),
            Some(&f.token),
            None,
        );
        assert_eq!(status, 200, "{} after the restore: {v}", f.no);
        assert_eq!(v["tracking_no"], f.no.as_str(), "{v}");
    }

    // The evidence file comes back in the case archive.
    let (status, v) = call(
        &a,
        "POST",
        &format!("{}/auth/login", restored.base),
        None,
        Some(&json!({"username": "admin", "password": ADMIN_PASSWORD})),
    );
    assert_eq!(status, 200, "{v}");
    let admin = v["token"].as_str().unwrap().to_string();
    let (status, v) = call(
        &a,
        "POST",
        &format!("{}/admin/users", restored.base),
        Some(&admin),
        Some(
            &json!({"username": "boss", "password": "boss-password-1", "display_name": "boss",
                     "roles": ["supervisor"], "departments": [], "level": 3}),
        ),
    );
    assert_eq!(status, 201, "{v}");
    let (status, v) = call(
        &a,
        "POST",
        &format!("{}/auth/login", restored.base),
        None,
        Some(&json!({"username": "boss", "password": "boss-password-1"})),
    );
    assert_eq!(status, 200, "{v}");
    let supervisor = v["token"].as_str().unwrap().to_string();
    let (status, zip) = send(
        &a,
        "GET",
        &format!("{}/complaints/{}/archive", restored.base, with_evidence.id),
        Some(&supervisor),
        None,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&zip));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let suffix = format!("/evidence/{sha256}");
    let name = archive
        .file_names()
        .find(|n| n.ends_with(&suffix))
        .expect("the evidence file in the archive")
        .to_string();
    let mut got = Vec::new();
    archive
        .by_name(&name)
        .unwrap()
        .read_to_end(&mut got)
        .unwrap();
    assert_eq!(got, evidence);

    before.clear();
    drop(restored);
    let _ = std::fs::remove_dir_all(&root);
}

/// The files under `dir`, as paths relative to it, sorted.
fn relative_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}
