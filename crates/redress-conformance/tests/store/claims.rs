//! Claims on due cases (`claim_due`): what background jobs take, for how
//! long, and when it is free again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redress_store::{CaseRow, CaseUpdate, Store, StoreError};
use uuid::Uuid;

use crate::harness::{case, t};

const HOUR: Duration = Duration::from_secs(3600);

/// Inserts one case per entry, its `sweep_at` at `t(minutes)`; the rows as stored.
async fn cases_due_at(s: &dyn Store, sweeps: &[Option<i64>]) -> Vec<CaseRow> {
    let mut rows = Vec::new();
    for (n, sweep) in (1u32..).zip(sweeps) {
        let mut r = case(n);
        r.sweep_at = sweep.map(t);
        let out = s.insert_case(r.clone(), vec![], None).await.unwrap();
        let redress_store::InsertOutcome::Inserted { seq } = out else {
            panic!("not inserted: {out:?}")
        };
        r.seq = seq;
        rows.push(r);
    }
    rows
}

fn ids(rows: &[&CaseRow]) -> Vec<Uuid> {
    rows.iter().map(|r| r.id).collect()
}

pub async fn only_due_cases_oldest_first(s: Arc<dyn Store>) {
    let c = cases_due_at(
        &*s,
        &[Some(10), Some(5), Some(20), None, Some(100), Some(20)],
    )
    .await;
    // Due at t(7): only the case swept at t(5).
    assert_eq!(s.claim_due(t(7), HOUR, 10).await.unwrap(), ids(&[&c[1]]));
    // Oldest first, up to the limit; equal times in insertion order.
    assert_eq!(s.claim_due(t(30), HOUR, 1).await.unwrap(), ids(&[&c[0]]));
    assert_eq!(
        s.claim_due(t(30), HOUR, 10).await.unwrap(),
        ids(&[&c[2], &c[5]])
    );
    // What is claimed is not claimed again; a case without sweep never.
    assert_eq!(s.claim_due(t(1000), HOUR, 10).await.unwrap(), ids(&[&c[4]]));
    assert!(s.claim_due(t(1000), HOUR, 10).await.unwrap().is_empty());
    // Claims do not hide cases from `due_for_sweep`.
    assert_eq!(
        s.due_for_sweep(t(1000), 10).await.unwrap(),
        ids(&[&c[1], &c[0], &c[2], &c[5], &c[4]])
    );
}

pub async fn a_claim_holds_until_its_lease_runs_out(s: Arc<dyn Store>) {
    let c = cases_due_at(&*s, &[Some(10), Some(5), Some(50)]).await;
    // The lease runs on the database's wall clock: this test sleeps.
    let lease = Duration::from_millis(300);
    let claimed = s.claim_due(t(30), lease, 10).await.unwrap();
    let claimed_at = Instant::now();
    assert_eq!(claimed, ids(&[&c[1], &c[0]]));
    let again = s.claim_due(t(30), lease, 10).await.unwrap();
    let after = claimed_at.elapsed();
    assert!(again.is_empty(), "claimed again {after:?} later: {again:?}");
    tokio::time::sleep(lease + Duration::from_millis(150)).await;
    // The holder never saved them: they are claimed again, once.
    assert_eq!(
        s.claim_due(t(60), HOUR, 10).await.unwrap(),
        ids(&[&c[1], &c[0], &c[2]])
    );
    assert!(s.claim_due(t(60), HOUR, 10).await.unwrap().is_empty());
}

pub async fn saving_a_case_ends_its_claim(s: Arc<dyn Store>) {
    let c = cases_due_at(&*s, &[Some(5), Some(10), Some(15)]).await;
    assert_eq!(
        s.claim_due(t(30), HOUR, 10).await.unwrap(),
        ids(&[&c[0], &c[1], &c[2]])
    );
    let save = |row: &CaseRow, expected_version| {
        let s = Arc::clone(&s);
        let row = row.clone();
        async move {
            s.update_cases(
                vec![CaseUpdate {
                    row,
                    expected_version,
                }],
                vec![],
            )
            .await
        }
    };
    // Still due after the save: claimable again at once.
    let mut b = c[1].clone();
    b.subject = "saved".into();
    save(&b, 1).await.unwrap();
    assert_eq!(s.claim_due(t(30), HOUR, 10).await.unwrap(), ids(&[&b]));
    // No longer due after the save: not claimable.
    let mut a = c[0].clone();
    a.sweep_at = None;
    save(&a, 1).await.unwrap();
    assert!(s.claim_due(t(30), HOUR, 10).await.unwrap().is_empty());
    // A save that conflicts changes nothing, the claim included.
    let err = save(&c[2], 7).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    assert!(s.claim_due(t(30), HOUR, 10).await.unwrap().is_empty());
    assert_eq!(s.due_for_sweep(t(30), 10).await.unwrap(), ids(&[&b, &c[2]]));
}
