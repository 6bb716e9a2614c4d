//! Test support shared by the suites.
//!
//! Every suite that touches a database runs twice, on SQLite and on
//! PostgreSQL. PostgreSQL tests get a fresh schema each on the server named
//! by `REDRESS_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped when the test ends.
//!
//! When that server cannot be reached the PostgreSQL half is reported as
//! *ignored*, never as passed, with a banner saying so — unless
//! `REDRESS_TEST_POSTGRES_REQUIRED=1` (CI sets it), which makes every
//! PostgreSQL test fail instead.

use std::sync::OnceLock;
use std::time::Duration;

pub use libtest_mimic::{Arguments, Conclusion, Failed, Trial};

/// Runs `trials` without the PostgreSQL banner (for binaries that do not
/// touch PostgreSQL).
pub fn run_trials(args: &Arguments, trials: Vec<Trial>) -> Conclusion {
    libtest_mimic::run(args, trials)
}

/// The database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The PostgreSQL server the tests use, probed once per process.
#[derive(Debug)]
pub struct Postgres {
    pub base_url: String,
    pub required: bool,
    /// `Err` with the reason when the server cannot be reached.
    pub reachable: Result<(), String>,
}

/// The server named by the environment, probed on first use.
pub fn postgres() -> &'static Postgres {
    static PG: OnceLock<Postgres> = OnceLock::new();
    PG.get_or_init(|| {
        let base_url = std::env::var("REDRESS_TEST_POSTGRES")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_string());
        let required = std::env::var("REDRESS_TEST_POSTGRES_REQUIRED").is_ok_and(|v| v == "1");
        let reachable = with_admin(&base_url, |_| Ok(()));
        Postgres {
            base_url,
            required,
            reachable,
        }
    })
}

/// Runs `f` with an admin connection to `url`, all on a thread of its own:
/// a synchronous client may be neither made nor dropped on an async thread.
fn with_admin<T: Send>(
    url: &str,
    f: impl FnOnce(&mut postgres::Client) -> Result<T, String> + Send,
) -> Result<T, String> {
    let mut config: postgres::Config = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    config.connect_timeout(Duration::from_secs(3));
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut client = config.connect(postgres::NoTls).map_err(|e| e.to_string())?;
            f(&mut client)
        })
        .join()
        .map_err(|_| "the database thread panicked".to_string())?
    })
}

impl Postgres {
    /// One line for the start of a run: whether the PostgreSQL half runs.
    pub fn banner(&self) -> String {
        match &self.reachable {
            Ok(()) => format!("PostgreSQL half: running against {}", self.base_url),
            Err(e) if self.required => format!(
                "PostgreSQL half REQUIRED but {} is unreachable ({e}): every PostgreSQL test fails",
                self.base_url
            ),
            Err(e) => format!(
                "PostgreSQL half NOT RUN: cannot reach {} ({e}). Set REDRESS_TEST_POSTGRES or \
                 start PostgreSQL; CI sets REDRESS_TEST_POSTGRES_REQUIRED=1.",
                self.base_url
            ),
        }
    }

    /// A fresh, empty schema for one test.
    pub fn schema(&self) -> Result<PgSchema, String> {
        if let Err(e) = &self.reachable {
            return Err(format!(
                "PostgreSQL at {} is unreachable: {e}",
                self.base_url
            ));
        }
        let name = format!("t_{}", uuid::Uuid::now_v7().simple());
        let sql = format!("CREATE SCHEMA {name}");
        with_admin(&self.base_url, |c| {
            c.batch_execute(&sql).map_err(|e| e.to_string())
        })?;
        let sep = if self.base_url.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!("{}{sep}options=-c%20search_path%3D{name}", self.base_url);
        Ok(PgSchema {
            name,
            url,
            base_url: self.base_url.clone(),
        })
    }
}

/// A schema that lives as long as this value; `url` connects into it.
#[derive(Debug)]
pub struct PgSchema {
    pub name: String,
    /// The base URL with `search_path` set to the schema.
    pub url: String,
    base_url: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        let done = with_admin(&self.base_url, |c| {
            c.batch_execute(&sql).map_err(|e| e.to_string())
        });
        if let Err(done) = done {
            eprintln!("could not drop test schema {}: {done}", self.name);
        }
    }
}

/// A trial of `test` on `backend`, named `<backend>::<name>`. On an
/// unreachable PostgreSQL it is ignored (or fails, when required).
pub fn trial(
    backend: Backend,
    name: &str,
    test: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    let full = format!("{}::{name}", backend.name());
    match backend {
        Backend::Sqlite => Trial::test(full, test),
        Backend::Postgres => {
            let pg = postgres();
            match &pg.reachable {
                Ok(()) => Trial::test(full, test),
                Err(e) if pg.required => {
                    let why = format!(
                        "PostgreSQL is required (REDRESS_TEST_POSTGRES_REQUIRED=1) but {} is unreachable: {e}",
                        pg.base_url
                    );
                    Trial::test(full, move || Err(why.into()))
                }
                Err(_) => Trial::test(full, test).with_ignored_flag(true),
            }
        }
    }
}

/// Runs `trials` as a test binary's `main` does, after the banner.
pub fn run(trials: Vec<Trial>) -> Conclusion {
    let args = Arguments::from_args();
    if !args.list {
        eprintln!("{}", postgres().banner());
    }
    libtest_mimic::run(&args, trials)
}
