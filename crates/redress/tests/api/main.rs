//! End-to-end tests through HTTP: a real router on a real SQLite file in a
//! fresh data directory per test, driven with `tower::ServiceExt::oneshot`.
//! One test binary (modules below) keeps link time down.

mod harness;

mod access;
mod cli;
mod inputs;
mod intake;
mod lifecycle;
mod ops;
mod records;
mod rules;
mod scoping;
mod smoke;
