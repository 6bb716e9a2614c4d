//! The SQLite file: durability settings, reopening (SQLite only; the
//! writer's other tests run on every backend in `redress-conformance`).

mod common;

use common::{case, store};
use redress_store::prelude::*;

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

/// Background writes (`redress_store::priority::background`) yield to
/// requests: with both flooding the writer, requests get nearly all of it
/// and background work still moves; alone, background work runs at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_go_first_and_background_still_moves() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::time::{Duration, Instant};

    let (s, _dir) = store();
    let s = Arc::new(s);
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU32::new(1));
    let mut tasks = Vec::new();
    for background in [false, true] {
        for _ in 0..8 {
            let (s, stop, next) = (s.clone(), stop.clone(), next.clone());
            let work = async move {
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let row = case(next.fetch_add(1, Ordering::Relaxed));
                    s.insert_case(row, vec![], None).await.unwrap();
                    n += 1;
                }
                (background, n)
            };
            tasks.push(tokio::spawn(async move {
                if background {
                    redress_store::priority::background(work).await
                } else {
                    work.await
                }
            }));
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut requests, mut background) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            (false, n) => requests += n,
            (true, n) => background += n,
        }
    }
    assert!(
        background > 0,
        "background writes starved ({requests} requests)"
    );
    assert!(
        background * 4 < requests,
        "background writes took {background} turns against {requests} requests' writes"
    );

    // Alone, a background write does not wait for a share.
    let started = Instant::now();
    redress_store::priority::background(s.insert_case(
        case(next.fetch_add(1, Ordering::Relaxed)),
        vec![],
        None,
    ))
    .await
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a lone background write took {:?}",
        started.elapsed()
    );
}
