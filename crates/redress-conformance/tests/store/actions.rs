//! The `corrective_actions` index: written with the case row in the same
//! transaction, listed by state, owner, department and visibility, and
//! carried by the bulk copy.

use std::sync::Arc;

use redress_store::{
    ActionFilter, ActionRow, ActionState, CaseUpdate, Store, StoreError, Visibility,
};

use crate::harness::{case, event, t};

fn action(case: &redress_store::CaseRow, n: u32, owner: &str, due: i64) -> ActionRow {
    ActionRow {
        case_id: case.id,
        action_id: format!("a{n}"),
        tracking_no: case.tracking_no.clone(),
        department: case.department.clone(),
        description: format!("task {n}"),
        owner: owner.into(),
        due_at: t(due),
        done_at: None,
        done_by: None,
    }
}

fn filter(state: ActionState) -> ActionFilter {
    ActionFilter {
        state,
        owner: None,
        department: None,
        limit: 100,
    }
}

async fn ids(s: &dyn Store, v: &Visibility, f: ActionFilter) -> Vec<String> {
    s.list_actions(v, &f)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action_id)
        .collect()
}

pub async fn actions_are_indexed_with_the_case_row(s: Arc<dyn Store>) {
    let mut a = case(1);
    let mut b = case(2);
    b.department = Some("legal".into());
    s.insert_case(a.clone(), vec![], None).await.unwrap();
    s.insert_case(b.clone(), vec![], None).await.unwrap();
    // Decided: a with two actions, b with one.
    a.decided_by = Some("alice".into());
    a.actions = vec![action(&a, 1, "alice", 100), action(&a, 2, "bob", 300)];
    b.decided_by = Some("carol".into());
    b.actions = vec![action(&b, 3, "carol", 200)];
    for (row, kind) in [(&a, "decided"), (&b, "decided")] {
        s.update_cases(
            vec![CaseUpdate {
                row: row.clone(),
                expected_version: 1,
            }],
            vec![event(Some(row.id), kind)],
        )
        .await
        .unwrap();
    }
    let all = Visibility::All;
    assert_eq!(
        ids(&*s, &all, filter(ActionState::Open)).await,
        ["a1", "a3", "a2"]
    );
    let listed = s
        .list_actions(&all, &filter(ActionState::Open))
        .await
        .unwrap();
    assert_eq!(listed[0], a.actions[0]);
    assert_eq!(
        ids(&*s, &all, filter(ActionState::OverdueAt(t(250)))).await,
        ["a1", "a3"]
    );
    let mut by_owner = filter(ActionState::Open);
    by_owner.owner = Some("bob".into());
    assert_eq!(ids(&*s, &all, by_owner).await, ["a2"]);
    let mut by_department = filter(ActionState::Open);
    by_department.department = Some("legal".into());
    assert_eq!(ids(&*s, &all, by_department).await, ["a3"]);
    let ops = Visibility::Departments {
        departments: vec!["ops".into()],
        reviewer: None,
    };
    assert_eq!(
        ids(&*s, &ops, filter(ActionState::Open)).await,
        ["a1", "a2"]
    );
    let none = Visibility::Departments {
        departments: vec!["elsewhere".into()],
        reviewer: None,
    };
    assert!(ids(&*s, &none, filter(ActionState::Open)).await.is_empty());

    // Done and reassigned in the next save; a stale save changes nothing.
    let mut done = a.clone();
    done.actions[0].done_at = Some(t(120));
    done.actions[0].done_by = Some("alice".into());
    done.actions[1].owner = "dave".into();
    s.update_cases(
        vec![CaseUpdate {
            row: done.clone(),
            expected_version: 2,
        }],
        vec![event(Some(a.id), "action_completed")],
    )
    .await
    .unwrap();
    let mut stale = a.clone();
    stale.actions[1].owner = "eve".into();
    let err = s
        .update_cases(
            vec![CaseUpdate {
                row: stale,
                expected_version: 2,
            }],
            vec![],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    assert_eq!(ids(&*s, &all, filter(ActionState::Done)).await, ["a1"]);
    assert_eq!(
        ids(&*s, &all, filter(ActionState::Open)).await,
        ["a3", "a2"]
    );
    let mut by_owner = filter(ActionState::Open);
    by_owner.owner = Some("dave".into());
    assert_eq!(ids(&*s, &all, by_owner).await, ["a2"]);
    // A save without actions (a case never decided) leaves them alone.
    let mut quiet = done.clone();
    quiet.actions.clear();
    quiet.subject = "edited".into();
    s.update_cases(
        vec![CaseUpdate {
            row: quiet,
            expected_version: 3,
        }],
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(ids(&*s, &all, filter(ActionState::Done)).await, ["a1"]);

    // The bulk copy reads them with their case.
    let exported = s.export_cases(0, 10).await.unwrap();
    let first = exported.iter().find(|r| r.id == a.id).unwrap();
    assert_eq!(first.actions.len(), 2);
    assert_eq!(
        first.actions.iter().filter(|x| x.done_at.is_some()).count(),
        1
    );
    // Each decided case of the page gets its own, and only its own.
    let second = exported.iter().find(|r| r.id == b.id).unwrap();
    assert_eq!(second.actions, b.actions);

    // The upgrade's backfill replaces a case's rows.
    s.put_actions(b.id, vec![action(&b, 4, "carol", 50)])
        .await
        .unwrap();
    assert_eq!(
        ids(&*s, &all, filter(ActionState::Open)).await,
        ["a4", "a2"]
    );
}
