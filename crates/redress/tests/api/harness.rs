//! The test harness: `TestApp::new()` builds a server the way `redress
//! serve --test-clock` does, with an admin and the default departments and
//! categories, and offers helpers to call it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use redress::Config;
use redress_app::App;
use redress_testkit::{Backend, PgSchema, postgres};
use serde_json::{Value, json};
use tower::ServiceExt;

tokio::task_local! {
    /// The database of the running trial, set by the runner in `main.rs`.
    pub static BACKEND: Backend;
}

pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const PASSWORD: &str = "staff-password-1";

pub struct TestApp {
    pub router: Router,
    pub app: Arc<App>,
    pub dir: PathBuf,
    pub config: Config,
    pub admin: String,
    /// A supervisor made on first use (webhooks, read keys: what an admin
    /// alone may not do).
    compliance: tokio::sync::OnceCell<String>,
    /// PostgreSQL trials: the schema, dropped after everything above.
    pub schema: Option<PgSchema>,
}

pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Answer {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    /// Asserts an error answer in the SPEC shape and returns its `fields`.
    #[track_caller]
    pub fn expect_error(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        let e = &self.body["error"];
        assert!(
            e["code"].is_string() && e["message"].is_string(),
            "not an error body: {}",
            self.body
        );
        // Every refused field has a machine-readable reason, and only those.
        let names = |v: &Value| -> Vec<String> {
            v.as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        assert!(e["reasons"].is_object(), "no reasons: {}", self.body);
        assert_eq!(names(&e["fields"]), names(&e["reasons"]), "{}", self.body);
        for (field, code) in e["reasons"].as_object().into_iter().flatten() {
            let code = code.as_str().unwrap_or_default();
            assert!(
                !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{field}: not a reason code: {}",
                self.body
            );
        }
        e["fields"].clone()
    }

    /// Asserts a 422 answer and returns its `reasons` (field → code).
    #[track_caller]
    pub fn expect_reasons(self) -> Value {
        let body = self.body.clone();
        self.expect_error(422);
        body["error"]["reasons"].clone()
    }
}

/// A file's bytes, read by another process (`cat`). The SQLite files of a
/// serving store must never be opened and closed by this process outside
/// SQLite: closing any descriptor of a file drops every POSIX advisory lock
/// the process holds on it (sqlite.org/howtocorrupt.html, 2.2), so the
/// store's connections would keep going without their shared locks on the
/// database and on the WAL index, and a `redress` command run beside them
/// would take the database for unused: rebuild the WAL index under them,
/// and at its close checkpoint and delete the WAL they still write.
pub fn read_from_outside(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let out = std::process::Command::new("cat")
        .arg("--")
        .arg(path)
        .output()?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(std::io::Error::other(format!(
            "cat {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redress-test-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    /// A test server whose config `tweak` may change first.
    pub async fn with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = temp_dir();
        let mut config = Config {
            data_dir: dir.clone(),
            public_rate_limit: 0,
            // The tests' webhook receivers listen on 127.0.0.1; the test
            // of the guard turns it off.
            webhook_allow_private: true,
            // The weekly report would add a mail to every sink that has a
            // supervisor's address; its own test turns it on.
            scheduled_report: redress_app::digest::ReportSchedule {
                every: redress_app::digest::Every::Off,
                hour: 8,
            },
            ..Config::default()
        };
        config.data_key = Some("11".repeat(32));
        let schema = match BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite) {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let schema = postgres().schema().expect("a PostgreSQL schema");
                config.database_url = Some(schema.url.clone());
                Some(schema)
            }
        };
        tweak(&mut config);
        let store = redress::open_store(&config).await.unwrap();
        let app = redress::build_app(&config, store, true).await.unwrap();
        app.bootstrap(Some(ADMIN_PASSWORD)).await.unwrap();
        let router = redress_web::router(app.clone(), redress::web_options(&config).unwrap());
        let mut t = Self {
            router,
            app,
            dir,
            config,
            admin: String::new(),
            compliance: tokio::sync::OnceCell::new(),
            schema,
        };
        t.admin = t.login("admin", ADMIN_PASSWORD).await;
        t
    }

    /// Sends a request through the router. Every answer of a call in the
    /// API document is checked against it (`contract::check`): a status
    /// it does not list, or JSON that does not match the schema it states,
    /// fails the test.
    pub async fn send(&self, req: Request<Body>) -> Answer {
        let (method, path) = (req.method().clone(), req.uri().path().to_string());
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        crate::contract::check(&method, &path, status, &headers, &bytes);
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            headers,
            bytes,
        }
    }

    /// A JSON call; `path` is below `/api/v1` unless it starts with `/api/`, `/healthz` or `/metrics`.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let raw = body.map(|b| b.to_string());
        self.call_raw(method, path, token, raw.as_deref(), &[])
            .await
    }

    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let uri = if path.starts_with("/api/")
            || path.starts_with("/healthz")
            || path.starts_with("/metrics")
        {
            path.to_string()
        } else {
            format!("/api/v1{path}")
        };
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    /// A JSON call arriving over TCP from `peer` (what the server's
    /// connect info holds), with extra headers.
    pub async fn call_from(
        &self,
        peer: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(format!("/api/v1{path}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        self.send(req).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call("POST", path, token, Some(body)).await
    }

    /// A multipart upload with one part named `file`.
    pub async fn upload(
        &self,
        path: &str,
        token: Option<&str>,
        filename: &str,
        bytes: &[u8],
    ) -> Answer {
        self.upload_with(path, token, &[], filename, bytes).await
    }

    /// A multipart upload with text parts (`fields`) before the file.
    pub async fn upload_with(
        &self,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
        filename: &str,
        bytes: &[u8],
    ) -> Answer {
        let boundary = "redress-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1{path}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            );
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let a = self
            .post(
                "/auth/login",
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        a.expect(200)["token"].as_str().unwrap().to_string()
    }

    /// A supervisor's token (user `compliance`), made on first use.
    pub async fn compliance(&self) -> String {
        self.compliance
            .get_or_init(|| self.staff("compliance", &["supervisor"], &[], 9))
            .await
            .clone()
    }

    /// A supervisor `watch` with the address `watch@example.com` (security
    /// notices and alerts reach it by e-mail); their token.
    pub async fn watching_supervisor(&self) -> String {
        self.post(
            "/admin/users",
            Some(&self.admin),
            json!({"username": "watch", "password": PASSWORD, "display_name": "Watch",
                   "roles": ["supervisor"], "departments": [], "level": 9,
                   "email": "watch@example.com"}),
        )
        .await
        .expect(201);
        self.login("watch", PASSWORD).await
    }

    /// Creates a staff user through the admin API and logs in.
    pub async fn staff(
        &self,
        username: &str,
        roles: &[&str],
        departments: &[&str],
        level: i32,
    ) -> String {
        self.post(
            "/admin/users",
            Some(&self.admin),
            json!({"username": username, "password": PASSWORD, "display_name": username,
                   "roles": roles, "departments": departments, "level": level}),
        )
        .await
        .expect(201);
        self.login(username, PASSWORD).await
    }

    pub async fn department(&self, code: &str, review: bool) {
        self.post(
            "/admin/departments",
            Some(&self.admin),
            json!({"code": code, "name": code, "review": review}),
        )
        .await
        .expect(201);
    }

    pub async fn category(&self, code: &str, department: &str, handling_days: Option<u32>) {
        self.post(
            "/admin/categories",
            Some(&self.admin),
            json!({"code": code, "name": code, "department": department, "handling_days": handling_days}),
        )
        .await
        .expect(201);
    }

    /// A respondent account; returns its portal key.
    pub async fn respondent(&self, kind: &str, id: &str) -> String {
        let a = self
            .post(
                "/admin/respondents",
                Some(&self.admin),
                json!({"kind": kind, "id": id, "name": format!("Respondent {id}")}),
            )
            .await;
        a.expect(201)["api_key"].as_str().unwrap().to_string()
    }

    pub async fn advance(&self, seconds: i64) -> Value {
        self.post(
            "/test-clock/advance",
            Some(&self.admin),
            json!({"seconds": seconds}),
        )
        .await
        .expect(200)
    }

    /// Moves the test clock to just after `at` (and runs the sweep).
    pub async fn advance_to(&self, at: chrono::DateTime<chrono::Utc>) -> Value {
        let seconds = (at - self.app.now()).num_seconds() + 1;
        self.advance(seconds.max(0)).await
    }

    /// Stops this server and starts another on the same database and data
    /// directory, with the test clock where it was. Nothing kept in
    /// memory survives.
    pub async fn restart(&mut self) {
        let store = redress::open_store(&self.config).await.unwrap();
        let app = redress::build_app(&self.config, store, true).await.unwrap();
        set_clock_like(&app, &self.app);
        self.router = redress_web::router(app.clone(), redress::web_options(&self.config).unwrap());
        self.app = app;
        self.admin = self.login("admin", ADMIN_PASSWORD).await;
    }

    /// A second application on the same database and data directory, its
    /// test clock where this one's is: another instance of the server with
    /// its own connections on PostgreSQL; on SQLite (one process owns the
    /// file) a second application over the same store.
    pub async fn twin(&self) -> Arc<App> {
        let store = match self.schema {
            Some(_) => redress::open_store(&self.config).await.unwrap(),
            None => self.app.store.clone(),
        };
        let app = redress::build_app(&self.config, store, true).await.unwrap();
        set_clock_like(&app, &self.app);
        app
    }

    /// Where the local evidence store keeps a case's file whose content
    /// hash is `sha`: its name under the case's key (while it has one).
    pub async fn case_file(&self, case_id: &str, sha: &str) -> PathBuf {
        let id = uuid::Uuid::parse_str(case_id).unwrap();
        let loaded = self.app.load(id).await.unwrap();
        let name = loaded
            .key()
            .expect("the case has its key")
            .evidence_name(sha);
        self.dir.join("evidence").join(&name[..2]).join(name)
    }

    /// Where the local evidence store keeps the thumbnail of a case's
    /// picture whose content hash is `sha`.
    pub async fn case_thumbnail(&self, case_id: &str, sha: &str) -> PathBuf {
        let id = uuid::Uuid::parse_str(case_id).unwrap();
        let loaded = self.app.load(id).await.unwrap();
        let name = loaded
            .key()
            .expect("the case has its key")
            .thumbnail_name(sha);
        self.dir.join("evidence").join(&name[..2]).join(name)
    }

    /// Files a public complaint; returns the registration answer.
    pub async fn file(&self, body: Value) -> Value {
        self.post("/complaints", None, body).await.expect(201)
    }

    /// The likely duplicates recorded on a filed case (the public answer
    /// does not show them).
    pub async fn dups(&self, filed: &Value) -> Value {
        let id = uuid::Uuid::parse_str(filed["id"].as_str().unwrap()).unwrap();
        json!(self.app.load(id).await.unwrap().case.possible_duplicates)
    }

    pub async fn dup_flag(&self, filed: &Value) -> Value {
        json!(!self.dups(filed).await.as_array().unwrap().is_empty())
    }

    /// Runs SQL straight on the test's database (to tamper with it).
    pub fn sql(&self, statement: &str) {
        match &self.schema {
            None => {
                let conn =
                    r2d2_sqlite::rusqlite::Connection::open(self.config.sqlite_path().unwrap())
                        .unwrap();
                conn.execute_batch(statement).unwrap();
            }
            Some(schema) => {
                let (url, statement) = (schema.url.clone(), statement.to_string());
                // A synchronous client may not run on an async thread.
                std::thread::spawn(move || {
                    let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
                    c.batch_execute(&statement).unwrap();
                })
                .join()
                .unwrap();
            }
        }
    }

    /// Everything the database holds, as bytes: the SQLite files (main,
    /// WAL, shared memory), or every row of every table of the schema.
    pub fn database_bytes(&self) -> Vec<u8> {
        match &self.schema {
            None => {
                let main = self.config.sqlite_path().unwrap();
                let mut bytes = read_from_outside(&main).unwrap();
                for suffix in ["-wal", "-shm", "-journal"] {
                    let mut p = main.clone().into_os_string();
                    p.push(suffix);
                    if let Ok(b) = read_from_outside(&PathBuf::from(p)) {
                        bytes.extend(b);
                    }
                }
                bytes
            }
            Some(schema) => {
                let (url, name) = (schema.url.clone(), schema.name.clone());
                std::thread::spawn(move || {
                    let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
                    let tables = c
                        .query(
                            "SELECT table_name::text FROM information_schema.tables \
                             WHERE table_schema = $1",
                            &[&name],
                        )
                        .unwrap();
                    let mut bytes = Vec::new();
                    for t in tables {
                        let table: String = t.get(0);
                        for row in c
                            .query(&format!("SELECT x::text FROM \"{table}\" x"), &[])
                            .unwrap()
                        {
                            bytes.extend(row.get::<_, String>(0).into_bytes());
                        }
                    }
                    bytes
                })
                .join()
                .unwrap()
            }
        }
    }

    /// The `redress` binary with this test's data directory, key and
    /// database.
    pub fn command(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_redress"));
        c.env("REDRESS_DATA_DIR", &self.dir)
            .env("REDRESS_DATA_KEY", self.config.data_key.as_ref().unwrap());
        match &self.schema {
            Some(schema) => c.env("REDRESS_DATABASE_URL", &schema.url),
            None => c.env_remove("REDRESS_DATABASE_URL"),
        };
        c
    }
}

/// A valid registration body; `n` varies the complainant.
pub fn complaint(n: u32) -> Value {
    json!({
        "complainant": {"name": format!("张三{n}"), "email": format!("zhang{n}@example.com"), "phone": "13812345678"},
        "respondent": {"kind": "merchant", "id": "shop-1", "name": "好店"},
        "subject": "申请退款被拒绝",
        "description": "订单已取消，快递也已退回，但商家拒绝退款。",
        "demands": "全额退款",
    })
}

/// A string field of an answer (panics, naming it, when it is not one).
pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// A time field of an answer (RFC 3339).
pub fn at(v: &Value) -> chrono::DateTime<chrono::Utc> {
    let s = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("not RFC 3339: {s}: {e}"))
        .to_utc()
}

/// The events of `kind` in a staff view of a case.
pub fn events<'a>(case: &'a Value, kind: &str) -> Vec<&'a Value> {
    case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// The kinds of every event in a staff view of a case, in order.
pub fn event_kinds(case: &Value) -> Vec<String> {
    case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// The usual decision: upheld, with a basis and a reply.
pub fn decision() -> Value {
    json!({"outcome": "upheld", "basis": ["平台服务协议 5.2"], "reply": "商家将全额退款。"})
}

/// A filed case as its complainant holds it: the id staff use, the
/// tracking number and the complainant's token.
#[derive(Clone, Debug)]
pub struct Filed {
    pub id: String,
    pub no: String,
    pub token: String,
}

impl Filed {
    /// From the registration answer.
    pub fn from(filed: &Value) -> Self {
        Self {
            id: s(&filed["id"]).into(),
            no: s(&filed["tracking_no"]).into(),
            token: s(&filed["access_token"]).into(),
        }
    }
}

/// The case driver: files complaints, brings them to a state and posts the
/// actions of `/complaints/{id}/…` (staff) and `/track/{no}/…` (the
/// complainant).
impl TestApp {
    /// Files complaint `n` (see [`complaint`]).
    pub async fn filed(&self, n: u32) -> Filed {
        Filed::from(&self.file(complaint(n)).await)
    }

    /// Files complaint `n` and accepts it into `refunds-returns`
    /// (department `customer-service`).
    pub async fn accepted(&self, c: &Cast, n: u32) -> Filed {
        let f = self.filed(n).await;
        self.act(
            &f.id,
            "accept",
            &c.intake,
            json!({"category": "refunds-returns"}),
        )
        .await;
        f
    }

    /// An accepted case assigned to `handler1`.
    pub async fn assigned(&self, c: &Cast, n: u32) -> Filed {
        let f = self.accepted(c, n).await;
        self.act(&f.id, "assign", &c.intake, json!({"handler": "handler1"}))
            .await;
        f
    }

    /// An accepted case decided by the handler with [`decision`].
    pub async fn decided(&self, c: &Cast, n: u32) -> Filed {
        let f = self.accepted(c, n).await;
        self.act(&f.id, "decide", &c.handler, decision()).await;
        f
    }

    /// A decided case its complainant appealed.
    pub async fn appealed(&self, c: &Cast, n: u32) -> Filed {
        let f = self.decided(c, n).await;
        self.track_act(&f, "appeal", json!({"reason": "金额不对"}))
            .await;
        f
    }

    /// `POST /complaints/{id}/{action}` as `token`.
    pub async fn action(
        &self,
        id: impl std::fmt::Display,
        action: &str,
        token: &str,
        body: Value,
    ) -> Answer {
        self.post(&format!("/complaints/{id}/{action}"), Some(token), body)
            .await
    }

    /// A staff action that succeeds; the case it answers.
    pub async fn act(
        &self,
        id: impl std::fmt::Display,
        action: &str,
        token: &str,
        body: Value,
    ) -> Value {
        self.action(id, action, token, body).await.expect(200)
    }

    /// A staff action refused with `status`; the error's `fields`.
    pub async fn refused(
        &self,
        id: impl std::fmt::Display,
        action: &str,
        token: &str,
        body: Value,
        status: u16,
    ) -> Value {
        self.action(id, action, token, body)
            .await
            .expect_error(status)
    }

    /// `POST /track/{no}/{action}` with the complainant's token.
    pub async fn track_action(&self, f: &Filed, action: &str, body: Value) -> Answer {
        self.post(&format!("/track/{}/{action}", f.no), Some(&f.token), body)
            .await
    }

    /// A complainant's action that succeeds; the tracking view it answers.
    pub async fn track_act(&self, f: &Filed, action: &str, body: Value) -> Value {
        self.track_action(f, action, body).await.expect(200)
    }

    /// A complainant's action refused with `status`; the error's `fields`.
    pub async fn track_refused(&self, f: &Filed, action: &str, body: Value, status: u16) -> Value {
        self.track_action(f, action, body)
            .await
            .expect_error(status)
    }

    /// `GET /complaints/{id}` as `token`, expected to answer.
    pub async fn case(&self, id: impl std::fmt::Display, token: &str) -> Value {
        self.get(&format!("/complaints/{id}"), Some(token))
            .await
            .expect(200)
    }

    /// `GET /track/{no}` with the complainant's token, expected to answer.
    pub async fn track(&self, f: &Filed) -> Value {
        self.get(&format!("/track/{}", f.no), Some(&f.token))
            .await
            .expect(200)
    }
}

/// The usual cast of a test: an intake agent, a handler and a reviewer in
/// department `customer-service`, and a supervisor.
pub struct Cast {
    pub intake: String,
    pub handler: String,
    pub reviewer: String,
    pub supervisor: String,
}

impl TestApp {
    pub async fn cast(&self) -> Cast {
        Cast {
            intake: self.staff("intake1", &["intake"], &[], 1).await,
            handler: self
                .staff("handler1", &["handler"], &["customer-service"], 1)
                .await,
            reviewer: self
                .staff("reviewer1", &["reviewer"], &["customer-service"], 3)
                .await,
            supervisor: self.staff("super1", &["supervisor"], &[], 5).await,
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sets `app`'s test clock to the offset of `like`'s, to the second: also
/// when a test started it in the past (a negative offset, which advancing
/// cannot give: the new clock would read today, where a weekly report
/// falls due on Mondays).
fn set_clock_like(app: &App, like: &App) {
    let offset = like.clock.offset_seconds();
    if offset >= 0 {
        assert!(app.clock.advance(offset));
    } else {
        // `start_at` counts whole seconds toward zero: from a little
        // before, it lands on `offset` exactly.
        assert!(
            app.clock
                .start_at(chrono::Utc::now() + chrono::Duration::seconds(offset))
        );
    }
    assert_eq!(app.clock.offset_seconds(), offset);
}
