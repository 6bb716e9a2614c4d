//! The store conformance suite lives in `tests/store.rs`: every test of the
//! `redress_store::Store` contract runs on SQLite and on PostgreSQL
//! (`cargo test -p redress-conformance`), and the tests of several
//! instances sharing one PostgreSQL database run on PostgreSQL. This library
//! is empty.
