mod common;

use std::sync::Arc;

use common::{case, event, store};
use redress_store::{InsertOutcome, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn group_commit_of_concurrent_inserts() {
    let (s, _dir) = store();
    let s = Arc::new(s);
    let before = s.commit_count();
    let tasks: Vec<_> = (0..200u32)
        .map(|n| {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                let row = case(n);
                let ev = vec![event(Some(row.id), "submitted")];
                s.insert_case(row, ev, None).await
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for t in tasks {
        match t.await.unwrap().unwrap() {
            InsertOutcome::Inserted { seq } => seqs.push(seq),
            other => panic!("{other:?}"),
        }
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    let commits = s.commit_count() - before;
    assert!(commits >= 1);
    assert!(commits < 200, "{commits} commits for 200 inserts");
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 200);
}

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

#[test]
fn bulk_insert_loads_rows() {
    let (s, _dir) = store();
    let rows: Vec<_> = (0..2_000u32)
        .map(|n| {
            let mut r = case(n);
            r.search_tokens = "bulk".into();
            r
        })
        .collect();
    s.bulk_insert(rows.clone()).unwrap();
    let mut dup = case(5000);
    dup.tracking_no = rows[10].tracking_no.clone();
    assert!(s.bulk_insert(vec![case(4000), dup]).is_err());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let page = s
            .list_cases(
                &redress_store::Visibility::All,
                &redress_store::CaseFilter {
                    query: vec!["bulk".into()],
                    ..Default::default()
                },
                10,
                None,
            )
            .await
            .unwrap();
        assert_eq!(page.total, 2_000);
        let all = s
            .list_cases(
                &redress_store::Visibility::All,
                &Default::default(),
                10,
                None,
            )
            .await
            .unwrap();
        assert_eq!(all.total, 2_000);
    });
}
