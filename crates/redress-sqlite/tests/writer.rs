//! The SQLite file: durability settings, reopening (SQLite only; the
//! writer's other tests run on every backend in `redress-conformance`).

mod common;

use common::{case, store};
use redress_store::Store;

#[tokio::test(flavor = "multi_thread")]
async fn durability_settings() {
    let (s, _dir) = store();
    let w = s.writer_settings().await.unwrap();
    assert_eq!(w.journal_mode.to_ascii_lowercase(), "wal");
    assert_eq!(w.synchronous, 2);
    assert!(w.foreign_keys);
    assert_eq!(w.busy_timeout, 5000);
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_is_idempotent_and_reopen_keeps_data() {
    let dir = common::TempDir::new();
    let row = case(1);
    {
        let s = redress_sqlite::SqliteStore::open(&dir.db()).unwrap();
        s.migrate().await.unwrap();
        s.migrate().await.unwrap();
        s.insert_case(row.clone(), vec![], None).await.unwrap();
    }
    let s = redress_sqlite::SqliteStore::open(&dir.db()).unwrap();
    s.migrate().await.unwrap();
    assert!(s.get_case(row.id).await.unwrap().is_some());
}
