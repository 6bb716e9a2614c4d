//! A `redress serve` process for the tests that need a real server and its
//! files (a backup taken while it serves, a SIGKILL under load), and plain
//! HTTP calls to it. Shared by `backup.rs` and `crash.rs`; each uses the
//! parts it needs.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub fn data_key() -> String {
    "5a".repeat(32)
}

/// One `redress serve` process on a data directory.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>/api/v1`.
    pub base: String,
}

impl Server {
    /// Starts `redress serve <args>` on `data_dir` with its log in
    /// `<root>/<name>.log`, and waits until it listens.
    pub fn start(root: &Path, name: &str, data_dir: &Path, args: &[&str]) -> Server {
        let log = root.join(format!("{name}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_redress"))
            .arg("serve")
            .args(args)
            .current_dir(root)
            .env("REDRESS_DATA_DIR", data_dir)
            .env("REDRESS_DATA_KEY", data_key())
            .env("REDRESS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("REDRESS_LISTEN", "127.0.0.1:0")
            .env("REDRESS_PUBLIC_RATE_LIMIT", "0")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start redress");
        let mut server = Server {
            child,
            base: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(rest) = text.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or_default();
                server.base = format!("http://{addr}/api/v1");
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("redress exited with {status}: {text}");
            }
            assert!(
                Instant::now() < deadline,
                "redress did not start in time: {text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL (`Child::kill` on Unix): no graceful stop.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Status and raw body of a call, or why no answer came.
pub fn try_send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> Result<(u16, Vec<u8>), String> {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let result = match body {
        Some((content_type, bytes)) => agent.run(
            req.header("content-type", content_type)
                .body(bytes)
                .map_err(|e| e.to_string())?,
        ),
        None => agent.run(req.body(()).map_err(|e| e.to_string())?),
    };
    let mut resp = result.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let mut bytes = Vec::new();
    resp.body_mut()
        .as_reader()
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    Ok((status, bytes))
}

/// Status and JSON body of a call, or why no answer came.
pub fn try_call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    let (status, bytes) = try_send(agent, method, url, token, body)?;
    Ok((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// A new directory under the system's temporary one.
pub fn fresh_dir(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("redress-{name}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&root).unwrap();
    root
}
