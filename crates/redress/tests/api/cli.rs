//! The binary itself: first start with nothing configured, the demo, a
//! graceful stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use redress_testkit::{Backend, postgres};

use crate::harness::BACKEND;

pub fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The server under test; killed if the test fails before stopping it, so
/// no server outlives its test (or its PostgreSQL schema).
pub struct Server(pub std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn first_start_creates_the_data_dir_prints_the_address_and_stops_gracefully() {
    let cwd = std::env::temp_dir().join(format!("redress-cli-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&cwd).unwrap();
    // On PostgreSQL the database is a fresh schema, dropped after the test.
    let schema = match BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite) {
        Backend::Sqlite => None,
        Backend::Postgres => Some(postgres().schema().expect("a PostgreSQL schema")),
    };
    let mut command = Command::new(env!("CARGO_BIN_EXE_redress"));
    command
        .args(["serve", "--demo"])
        .current_dir(&cwd)
        .env("REDRESS_LISTEN", "127.0.0.1:0")
        .env_remove("REDRESS_DATA_DIR")
        .env_remove("REDRESS_ADMIN_PASSWORD")
        .env_remove("REDRESS_DATA_KEY")
        .stdout(Stdio::piped());
    match &schema {
        Some(schema) => command.env("REDRESS_DATABASE_URL", &schema.url),
        None => command.env_remove("REDRESS_DATABASE_URL"),
    };
    let mut server = Server(command.spawn().unwrap());
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        printed.push(line.clone());
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let all = printed.join("\n");
    assert!(
        all.contains("one-time password"),
        "a generated admin password is printed once: {all}"
    );
    assert!(all.contains("demo: 7 sample cases"), "{all}");
    // The data directory holds the SQLite file only when SQLite is the
    // database.
    assert_eq!(
        cwd.join("redress-data/redress.sqlite3").exists(),
        schema.is_none(),
        "a SQLite file exactly when the database is SQLite"
    );
    let key = cwd.join("redress-data/data.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file is private");
        let dir = std::fs::metadata(cwd.join("redress-data")).unwrap();
        assert_eq!(
            dir.permissions().mode() & 0o777,
            0o700,
            "the data directory is private"
        );
    }
    assert!(addr.starts_with("127.0.0.1:"));
    let health = http_get(&addr, "/healthz");
    assert!(
        health.starts_with("HTTP/1.0 200") || health.starts_with("HTTP/1.1 200"),
        "{health}"
    );
    let metrics = http_get(&addr, "/metrics");
    assert!(
        metrics.contains("redress_cases{status=\"closed\"}"),
        "{metrics}"
    );

    // SIGTERM: a graceful stop with exit code 0.
    let status = Command::new("kill")
        .arg(server.0.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.0.wait().unwrap();
    assert!(exit.success(), "graceful stop: {exit:?}");
    let _ = std::fs::remove_dir_all(&cwd);
    drop(schema);
}

/// `--test-clock-start` stands the server on a chosen instant (SPEC §11),
/// from which the test clock runs; without `--test-clock` it is refused.
async fn the_test_clock_starts_where_it_is_told() {
    let dir = std::env::temp_dir().join(format!("redress-clock-{}", uuid::Uuid::now_v7()));
    let schema = match BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite) {
        Backend::Sqlite => None,
        Backend::Postgres => Some(postgres().schema().expect("a PostgreSQL schema")),
    };
    let start = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_redress"));
        command
            .arg("serve")
            .args(args)
            .env("REDRESS_LISTEN", "127.0.0.1:0")
            .env("REDRESS_DATA_DIR", &dir)
            .env("REDRESS_ADMIN_PASSWORD", "clock-admin-1")
            .env_remove("REDRESS_DATA_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match &schema {
            Some(schema) => command.env("REDRESS_DATABASE_URL", &schema.url),
            None => command.env_remove("REDRESS_DATABASE_URL"),
        };
        command
    };
    let refused = start(&["--test-clock-start", "2026-10-31T09:00:00+08:00"])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "needs --test-clock");
    let mut server = Server(
        start(&[
            "--test-clock",
            "--test-clock-start",
            "2026-10-31T09:00:00+08:00",
        ])
        .spawn()
        .unwrap(),
    );
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the address").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let health = http_get(&addr, "/healthz");
    assert!(
        health.contains("\"now\":\"2026-10-31T01:0"),
        "the clock reads the start: {health}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    drop(schema);
}

/// A policy setting that cannot work stops `redress serve` before it
/// listens, with an error naming the setting.
async fn a_bad_policy_setting_stops_the_start_naming_it() {
    for (var, value, named) in [
        (
            "REDRESS_POLICY__RETENTION_YEARS",
            "0",
            "policy.retention_years",
        ),
        ("REDRESS_POLICY__APPEAL_DAYS", "0", "policy.appeal_days"),
    ] {
        let dir = std::env::temp_dir().join(format!("redress-cli-{}", uuid::Uuid::now_v7()));
        let output = Command::new(env!("CARGO_BIN_EXE_redress"))
            .arg("serve")
            .env("REDRESS_LISTEN", "127.0.0.1:0")
            .env("REDRESS_DATA_DIR", &dir)
            .env_remove("REDRESS_DATABASE_URL")
            .env_remove("REDRESS_CONFIG")
            .env(var, value)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!output.status.success(), "{var}={value} must stop: {said}");
        assert!(said.contains(named), "the error names {named}: {said}");
        assert!(!said.contains("listening on"), "{said}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

tests![
    a_bad_policy_setting_stops_the_start_naming_it,
    first_start_creates_the_data_dir_prints_the_address_and_stops_gracefully,
    the_test_clock_starts_where_it_is_told,
];
