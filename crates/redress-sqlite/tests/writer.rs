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

/// New cases enter the search index at the end of their group (issue 18),
/// and whatever else the group holds — inserts that fail (a tracking
/// number taken: the savepoint rolls back), saves that change the search
/// text of cases, among them cases inserted in the same group and not yet
/// indexed — the index matches the table and finds each case by its
/// current text only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_search_index_follows_inserts_failures_and_saves_in_one_group() {
    use std::sync::Arc;

    use redress_store::{CaseUpdate, StoreError};

    let (s, dir) = store();
    let s = Arc::new(s);
    let mut first = Vec::new();
    for n in 0..20u32 {
        let mut row = case(n);
        row.search_tokens = format!("old{n} common");
        s.insert_case(row.clone(), vec![], None).await.unwrap();
        first.push(row.id);
    }
    // Queued together, so that groups mix them.
    let mut tasks = Vec::new();
    for n in 0..60u32 {
        let s = s.clone();
        let old = first[n as usize % 20];
        tasks.push(tokio::spawn(async move {
            let save = |row: &redress_store::CaseRow, tokens: String| {
                let mut row = row.clone();
                row.search_tokens = tokens;
                s.update_cases(
                    vec![CaseUpdate {
                        row,
                        expected_version: 1,
                    }],
                    vec![],
                )
            };
            match n % 3 {
                // A new case, and a save of it queued right behind the
                // insert (in the same group, or refused when it ran
                // first): true when the save went in.
                0 => {
                    let mut row = case(100 + n);
                    row.search_tokens = format!("new{n} common");
                    let (inserted, saved) = tokio::join!(
                        s.insert_case(row.clone(), vec![], None),
                        save(&row, format!("resaved{n} common"))
                    );
                    inserted.unwrap();
                    match saved {
                        Ok(()) => true,
                        Err(StoreError::VersionConflict) => false,
                        Err(e) => panic!("save {n}: {e}"),
                    }
                }
                1 => {
                    let mut row = case(100 + n);
                    row.search_tokens = format!("new{n} common");
                    s.insert_case(row, vec![], None).await.unwrap();
                    false
                }
                // A taken tracking number, then a save of an earlier case.
                _ => {
                    let mut row = case(n % 20);
                    row.search_tokens = format!("lost{n} common");
                    let taken = s.insert_case(row, vec![], None).await;
                    assert!(matches!(taken, Err(StoreError::Duplicate(_))), "{taken:?}");
                    let row = s.get_case(old).await.unwrap().unwrap();
                    save(&row, format!("saved{n} common")).await.unwrap();
                    false
                }
            }
        }));
    }
    let mut resaved = Vec::new();
    for t in tasks {
        resaved.push(t.await.unwrap());
    }
    drop(s);
    let c = r2d2_sqlite::rusqlite::Connection::open(dir.db()).unwrap();
    c.execute(
        "INSERT INTO cases_fts (cases_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .expect("the search index matches the cases table");
    let hits = |token: &str| -> i64 {
        c.query_row(
            "SELECT count(*) FROM cases_fts WHERE cases_fts MATCH ?1",
            [token],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(hits("common"), 20 + 40);
    for n in 0..60u32 {
        match n % 3 {
            0 if resaved[n as usize] => {
                assert_eq!(hits(&format!("new{n}")), 0, "new{n}");
                assert_eq!(hits(&format!("resaved{n}")), 1, "resaved{n}");
            }
            0 | 1 => assert_eq!(hits(&format!("new{n}")), 1, "new{n}"),
            _ => {
                assert_eq!(hits(&format!("lost{n}")), 0, "lost{n}");
                assert_eq!(hits(&format!("saved{n}")), 1, "saved{n}");
                assert_eq!(hits(&format!("old{}", n % 20)), 0, "old{}", n % 20);
            }
        }
    }
    assert!(
        resaved.iter().any(|r| *r),
        "no save ran in the group of its case's insert"
    );
}
