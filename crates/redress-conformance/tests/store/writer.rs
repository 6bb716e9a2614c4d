//! The writer: group commit, bulk loads, migrations.

use std::sync::Arc;

use redress_store::{CaseFilter, InsertOutcome, Store, Visibility};

use crate::harness::{Db, case, event};

pub async fn group_commit_of_concurrent_inserts(db: Db) {
    let s = db.store();
    let before = db.commit_count();
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
    let commits = db.commit_count() - before;
    assert!(commits >= 1);
    assert!(commits < 200, "{commits} commits for 200 inserts");
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 200);
}

pub async fn bulk_insert_loads_rows(db: Db) {
    let s = db.store();
    let rows: Vec<_> = (0..2_000u32)
        .map(|n| {
            let mut r = case(n);
            r.search_tokens = "bulk".into();
            r
        })
        .collect();
    db.bulk_insert(rows.clone()).await.unwrap();
    // A failing load writes nothing.
    let mut dup = case(5000);
    dup.tracking_no = rows[10].tracking_no.clone();
    assert!(db.bulk_insert(vec![case(4000), dup]).await.is_err());
    let bulk = CaseFilter {
        query: vec!["bulk".into()],
        ..Default::default()
    };
    let page = s
        .list_cases(&Visibility::All, &bulk, 10, None)
        .await
        .unwrap();
    assert_eq!(page.total, 2_000);
    let all = s
        .list_cases(&Visibility::All, &CaseFilter::default(), 10, None)
        .await
        .unwrap();
    assert_eq!(all.total, 2_000);
    assert!(
        s.get_case_by_tracking_no("TS00004000")
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn migrate_is_idempotent(s: Arc<dyn Store>) {
    let row = case(1);
    s.insert_case(row.clone(), vec![event(Some(row.id), "submitted")], None)
        .await
        .unwrap();
    s.migrate().await.unwrap();
    s.migrate().await.unwrap();
    assert!(s.get_case(row.id).await.unwrap().is_some());
    assert_eq!(crate::harness::verify(&*s).await, 1);
}
