//! The pages in a real browser: starts `redress serve` (SQLite, test
//! clock, a fresh data directory) on a free port and runs the Node tests in
//! `e2e/` (playwright-core driving Debian's Chromium). Screenshots land in
//! `target/screenshots/`.
//!
//! Needs `/usr/bin/chromium` (Debian packages `chromium`, `chromium-driver`)
//! and `npm ci --prefix e2e`. Without them the suite is reported ignored
//! (never passed) under a "Browser tests NOT RUN" banner, or fails when
//! `REDRESS_TEST_BROWSER_REQUIRED=1` (CI installs both and sets it).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN_PASSWORD: &str = "browser-admin-password-1";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace root")
        .to_path_buf()
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// What is missing for the suite to run, if anything.
fn missing() -> Option<String> {
    if !chromium().exists() {
        return Some(format!(
            "{} is missing (apt-get install chromium chromium-driver)",
            chromium().display()
        ));
    }
    if !workspace()
        .join("e2e/node_modules/playwright-core")
        .exists()
    {
        return Some("e2e/node_modules is missing (npm ci --prefix e2e)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is missing".into());
    }
    None
}

/// The server under test; killed when dropped.
struct Server {
    child: Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_server() -> (Server, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = std::env::temp_dir().join(format!("redress-browser-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["serve", "--test-clock"])
        .env("REDRESS_DATA_DIR", dir.join("data"))
        .env("REDRESS_LISTEN", format!("127.0.0.1:{port}"))
        .env("REDRESS_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("REDRESS_PUBLIC_RATE_LIMIT", "0")
        // The console's webhook page subscribes http://127.0.0.1:9/.
        .env("REDRESS_WEBHOOK_ALLOW_PRIVATE", "1")
        .env("REDRESS_DATA_KEY", "22".repeat(32))
        .env_remove("REDRESS_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("redress serve starts");
    let server = Server { child, dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, format!("http://127.0.0.1:{port}"))
}

fn run_suite() -> Result<(), String> {
    let (server, base) = start_server();
    let root = workspace();
    let shots = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("screenshots");
    let status = Command::new("node")
        .args(["--test", "--test-concurrency=1", "e2e/"])
        .current_dir(&root)
        .env("BASE_URL", &base)
        .env("SCREENSHOTS", &shots)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CHROMIUM", chromium())
        .status()
        .map_err(|e| format!("node did not start: {e}"))?;
    if status.success() {
        eprintln!("screenshots: {}", shots.display());
        Ok(())
    } else {
        let log = std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        Err(format!(
            "the browser suite failed ({status}); server log, last lines:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ))
    }
}

fn main() -> std::process::ExitCode {
    use redress_testkit::{Arguments, Trial};
    let args = Arguments::from_args();
    let required = std::env::var("REDRESS_TEST_BROWSER_REQUIRED").is_ok_and(|v| v == "1");
    let missing = missing();
    let trial = Trial::test("browser::public_pages_in_chromium", || {
        run_suite().map_err(Into::into)
    });
    let trial = match missing {
        Some(what) if !required => {
            if !args.list {
                eprintln!("Browser tests NOT RUN: {what}");
            }
            trial.with_ignored_flag(true)
        }
        _ => trial,
    };
    redress_testkit::run_trials(&args, vec![trial]).exit_code()
}
