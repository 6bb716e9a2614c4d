//! End-to-end tests through HTTP: a real router on a real database per
//! test, driven with `tower::ServiceExt::oneshot`. One test binary (modules
//! below) keeps link time down.
//!
//! Every test runs twice: `sqlite::<module>::<test>` on a SQLite file in a
//! fresh data directory, and `postgres::<module>::<test>` in a fresh schema
//! of the PostgreSQL server named by `REDRESS_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When that server cannot be
//! reached the PostgreSQL half is reported as ignored, with a banner — or
//! fails, when `REDRESS_TEST_POSTGRES_REQUIRED=1` (CI). One half alone:
//! `cargo test -p redress --test api -- sqlite::` (or `postgres::`).
//!
//! Each module ends with `tests![…]`, which registers its tests; a test
//! left out is dead code, which clippy refuses.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::process::ExitCode;

use redress_testkit::{Backend, trial};

/// Registers a module's tests: for both backends, then (after
/// `; sqlite_only:`) those about SQLite itself.
macro_rules! tests {
    ($($name:ident),* $(,)? $(; sqlite_only: $($only:ident),* $(,)?)?) => {
        pub fn trials() -> Vec<crate::Registered> {
            vec![
                $(crate::Registered::both(stringify!($name), || Box::pin($name())),)*
                $($(crate::Registered::sqlite_only(stringify!($only), || Box::pin($only())),)*)?
            ]
        }
    };
}

mod harness;

mod contract;

mod access;
mod actions;
mod admin;
mod alerts;
mod calendar;
mod calendar_feed;
mod canned;
mod channels;
mod cli;
mod codes;
mod deadlines;
mod exports;
mod files;
mod fuzz;
mod inbound;
mod inputs;
mod intake;
mod lifecycle;
mod likely;
mod lists;
mod matrix;
mod notices;
mod ops;
mod pages;
mod records;
mod reports;
mod respondents;
mod rights;
mod scoping;
mod security;
mod smoke;
mod transparency;
mod trust;
mod webhooks;
mod workspace;

type TestFuture = Pin<Box<dyn Future<Output = ()>>>;

/// A module's name and its registrations.
type Module = (&'static str, fn() -> Vec<Registered>);

/// A test as a module registers it.
pub struct Registered {
    name: &'static str,
    run: fn() -> TestFuture,
    sqlite_only: bool,
}

impl Registered {
    pub fn both(name: &'static str, run: fn() -> TestFuture) -> Registered {
        Registered {
            name,
            run,
            sqlite_only: false,
        }
    }

    /// For a test about SQLite itself (say why where it is registered).
    pub fn sqlite_only(name: &'static str, run: fn() -> TestFuture) -> Registered {
        Registered {
            name,
            run,
            sqlite_only: true,
        }
    }
}

fn main() -> ExitCode {
    let modules: [Module; 36] = [
        ("access", access::trials),
        ("contract", contract::trials),
        ("actions", actions::trials),
        ("alerts", alerts::trials),
        ("admin", admin::trials),
        ("calendar", calendar::trials),
        ("calendar_feed", calendar_feed::trials),
        ("canned", canned::trials),
        ("channels", channels::trials),
        ("cli", cli::trials),
        ("codes", codes::trials),
        ("deadlines", deadlines::trials),
        ("exports", exports::trials),
        ("files", files::trials),
        ("fuzz", fuzz::trials),
        ("inbound", inbound::trials),
        ("inputs", inputs::trials),
        ("intake", intake::trials),
        ("lifecycle", lifecycle::trials),
        ("lists", lists::trials),
        ("likely", likely::trials),
        ("matrix", matrix::trials),
        ("notices", notices::trials),
        ("ops", ops::trials),
        ("pages", pages::trials),
        ("records", records::trials),
        ("reports", reports::trials),
        ("respondents", respondents::trials),
        ("rights", rights::trials),
        ("scoping", scoping::trials),
        ("security", security::trials),
        ("smoke", smoke::trials),
        ("transparency", transparency::trials),
        ("trust", trust::trials),
        ("webhooks", webhooks::trials),
        ("workspace", workspace::trials),
    ];
    let mut trials = Vec::new();
    for (module, registered) in modules {
        for test in registered() {
            for backend in Backend::ALL {
                if test.sqlite_only && backend == Backend::Postgres {
                    continue;
                }
                let run = test.run;
                trials.push(trial(
                    backend,
                    &format!("{module}::{}", test.name),
                    move || {
                        let runtime = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .map_err(|e| e.to_string())?;
                        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            runtime.block_on(harness::BACKEND.scope(backend, run()))
                        }));
                        drop(runtime);
                        outcome.map_err(|panic| {
                            panic
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_else(|| "the test panicked".into())
                                .into()
                        })
                    },
                ));
            }
        }
    }
    redress_testkit::run(trials).exit_code()
}
