//! Cases: insert, read, update with versions, idempotency, the sweep's queries.

use std::sync::Arc;

use redress_domain::{Channel, Closure, Status};
use redress_store::{CaseUpdate, IdempotencyRecord, InsertOutcome, ReportFacts, Store, StoreError};

use crate::harness::{case, event, t, verify};

pub async fn insert_and_get_round_trip(s: Arc<dyn Store>) {
    let mut row = case(1);
    row.status = Status::Closed;
    row.closure = Some(Closure::Resolved);
    row.channel = Channel::Email;
    row.assignee = Some("bob".into());
    row.sweep_at = Some(t(500));
    row.decided_by = Some("carol".into());
    row.decider_level = Some(2);
    row.search_tokens = "refund 款 退 退款".into();
    row.report = ReportFacts {
        created_at: Some(t(1)),
        accepted_at: Some(t(3)),
        acceptance_due_at: Some(t(4)),
        decided_at: Some(t(5)),
        handling_due_at: None,
        closed_at: Some(t(6)),
        appealed: true,
        review_changed: false,
        feedback_score: Some(4),
        respondent_reply_on_time: Some(false),
        respondent_late_replies: 1,
        outcome_in_force: Some(redress_domain::Outcome::PartiallyUpheld),
        missed: vec![redress_domain::Stage::Acceptance],
        ..ReportFacts::default()
    };
    let ev = vec![
        event(Some(row.id), "submitted"),
        event(Some(row.id), "closed"),
    ];
    let out = s.insert_case(row.clone(), ev, None).await.unwrap();
    let InsertOutcome::Inserted { seq } = out else {
        panic!("not inserted: {out:?}")
    };
    assert_eq!(seq, 1);
    row.seq = seq;
    let written_tokens = row.search_tokens.clone();
    assert_eq!(s.get_case(row.id).await.unwrap(), Some(row.clone()));
    assert_eq!(
        s.get_case_by_tracking_no(&row.tracking_no).await.unwrap(),
        Some(row.clone())
    );
    assert_eq!(s.get_case(uuid::Uuid::now_v7()).await.unwrap(), None);
    let found = s
        .list_cases(
            &redress_store::Visibility::All,
            &redress_store::CaseFilter {
                query: written_tokens.split(' ').map(String::from).collect(),
                ..Default::default()
            },
            10,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        found.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![row.id]
    );
    let events = s.events_for_case(row.id).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].kind, "submitted");
    assert_eq!(events[1].seq, 2);

    let second = s.insert_case(case(2), vec![], None).await.unwrap();
    assert_eq!(second, InsertOutcome::Inserted { seq: 2 });
}

pub async fn tracking_number_collision_writes_nothing(s: Arc<dyn Store>) {
    s.insert_case(case(1), vec![event(None, "a")], None)
        .await
        .unwrap();
    let mut dup = case(2);
    dup.tracking_no = case(1).tracking_no;
    let idem = IdempotencyRecord {
        key: "k".into(),
        request_hash: "h".into(),
        status: 201,
        body: "{}".into(),
        created_at: t(0),
    };
    let err = s
        .insert_case(dup.clone(), vec![event(Some(dup.id), "b")], Some(idem))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Duplicate("tracking_no")),
        "{err:?}"
    );
    assert_eq!(s.get_case(dup.id).await.unwrap(), None);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 1);
    assert_eq!(s.get_idempotency("k").await.unwrap(), None);
    assert_eq!(
        counts(&*s).await,
        [("submitted", 1)],
        "the refused case is not counted"
    );
    // The chain continues from the last committed event.
    s.append_events(vec![event(None, "c")]).await.unwrap();
    assert_eq!(verify(&*s).await, 2);
}

pub async fn idempotent_replay_writes_nothing(s: Arc<dyn Store>) {
    let idem = IdempotencyRecord {
        key: "apikey:1:abc".into(),
        request_hash: "hash1".into(),
        status: 201,
        body: "{\"tracking_no\":\"TS00000001\"}".into(),
        created_at: t(1),
    };
    let first = case(1);
    let out = s
        .insert_case(
            first.clone(),
            vec![event(Some(first.id), "submitted")],
            Some(idem.clone()),
        )
        .await
        .unwrap();
    assert_eq!(out, InsertOutcome::Inserted { seq: 1 });
    assert_eq!(
        s.get_idempotency(&idem.key).await.unwrap(),
        Some(idem.clone())
    );

    let again = case(2);
    let mut other = idem.clone();
    other.body = "different".into();
    let out = s
        .insert_case(
            again.clone(),
            vec![event(Some(again.id), "submitted")],
            Some(other),
        )
        .await
        .unwrap();
    assert_eq!(out, InsertOutcome::Replayed(idem));
    assert_eq!(s.get_case(again.id).await.unwrap(), None);
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 1);
    assert_eq!(
        s.count_by_status().await.unwrap(),
        vec![(Status::Submitted, 1)]
    );
}

pub async fn stale_version_conflicts_and_writes_nothing(s: Arc<dyn Store>) {
    let mut a = case(1);
    s.insert_case(a.clone(), vec![], None).await.unwrap();
    a.seq = 1;
    let mut changed = a.clone();
    changed.status = Status::InProgress;
    changed.search_tokens = "new words".into();
    s.update_cases(
        vec![CaseUpdate {
            row: changed.clone(),
            expected_version: 1,
        }],
        vec![event(Some(a.id), "accepted")],
    )
    .await
    .unwrap();
    let stored = s.get_case(a.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(stored.status, Status::InProgress);

    let mut stale = a.clone();
    stale.subject = "stale".into();
    let err = s
        .update_cases(
            vec![CaseUpdate {
                row: stale,
                expected_version: 1,
            }],
            vec![event(Some(a.id), "edited")],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict), "{err:?}");
    let after = s.get_case(a.id).await.unwrap().unwrap();
    assert_eq!(after, stored);
    assert_eq!(s.events_for_case(a.id).await.unwrap().len(), 1);
    assert_eq!(
        s.count_by_status().await.unwrap(),
        vec![(Status::InProgress, 1)]
    );
}

pub async fn update_of_two_cases_is_atomic(s: Arc<dyn Store>) {
    let mut a = case(1);
    let mut b = case(2);
    s.insert_case(a.clone(), vec![], None).await.unwrap();
    s.insert_case(b.clone(), vec![], None).await.unwrap();
    a.seq = 1;
    b.seq = 2;
    // b moves on first.
    let mut b2 = b.clone();
    b2.assignee = Some("x".into());
    s.update_cases(
        vec![CaseUpdate {
            row: b2,
            expected_version: 1,
        }],
        vec![],
    )
    .await
    .unwrap();
    // Merging a into b with b's stale version must leave both untouched.
    let mut a_closed = a.clone();
    a_closed.status = Status::Closed;
    a_closed.closure = Some(Closure::Merged);
    let mut b_merged = b.clone();
    b_merged.subject = "merged".into();
    let err = s
        .update_cases(
            vec![
                CaseUpdate {
                    row: a_closed.clone(),
                    expected_version: 1,
                },
                CaseUpdate {
                    row: b_merged.clone(),
                    expected_version: 1,
                },
            ],
            vec![event(Some(a.id), "merged")],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::VersionConflict));
    let a_now = s.get_case(a.id).await.unwrap().unwrap();
    assert_eq!(a_now.status, Status::Submitted);
    assert_eq!(a_now.version, 1);
    assert_eq!(s.journal_head().await.unwrap(), None);
    // a's move to closed went back with the save: the counters too.
    assert_eq!(counts(&*s).await, [("submitted", 2)]);

    // With the right versions both change together.
    s.update_cases(
        vec![
            CaseUpdate {
                row: a_closed,
                expected_version: 1,
            },
            CaseUpdate {
                row: b_merged,
                expected_version: 2,
            },
        ],
        vec![
            event(Some(a.id), "merged"),
            event(Some(b.id), "merged_into"),
        ],
    )
    .await
    .unwrap();
    let a_now = s.get_case(a.id).await.unwrap().unwrap();
    let b_now = s.get_case(b.id).await.unwrap().unwrap();
    assert_eq!((a_now.status, a_now.version), (Status::Closed, 2));
    assert_eq!((b_now.subject.as_str(), b_now.version), ("merged", 3));
    assert_eq!(s.journal_head().await.unwrap().unwrap().0, 2);
    assert_eq!(counts(&*s).await, [("closed", 1), ("submitted", 1)]);
}

/// The cases per status (`count_by_status`), by status name.
async fn counts(s: &dyn Store) -> Vec<(&'static str, i64)> {
    let mut counts: Vec<(&'static str, i64)> = s
        .count_by_status()
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(status, n)| (status.as_str(), n))
        .collect();
    counts.sort();
    counts
}

pub async fn closed_requires_closure(s: Arc<dyn Store>) {
    let mut bad = case(1);
    bad.status = Status::Closed;
    let err = s.insert_case(bad, vec![], None).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
}

pub async fn sweep_pairs_and_reports(s: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for n in 1..=6u32 {
        let mut r = case(n);
        r.sweep_at = (n % 2 == 0).then(|| t(100 - i64::from(n)));
        r.complainant_key = Some(if n <= 3 { "ck-a".into() } else { "ck-b".into() });
        if n == 2 {
            r.status = Status::Closed;
            r.closure = Some(Closure::Withdrawn);
        }
        ids.push(r.id);
        s.insert_case(r, vec![], None).await.unwrap();
    }
    // sweep_at: n=2 → 98, n=4 → 96, n=6 → 94; oldest first.
    assert_eq!(
        s.due_for_sweep(t(97), 10).await.unwrap(),
        vec![ids[5], ids[3]]
    );
    assert_eq!(s.due_for_sweep(t(200), 1).await.unwrap(), vec![ids[5]]);
    let between = |ck: &'static str, rk: &'static str| {
        let s = s.clone();
        async move { s.cases_between(ck, rk).await.unwrap() }
    };
    assert_eq!(
        between("ck-a", "merchant:m1").await,
        redress_store::Between {
            open: vec![ids[0], ids[2]],
            any: true
        }
    );
    assert_eq!(
        between("ck-a", "nobody").await,
        redress_store::Between {
            open: vec![],
            any: false
        }
    );
    // created_at is t(n): [t(2), t(5)) holds cases 2, 3, 4.
    let rows = s.report_rows(t(2), t(5)).await.unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].2, Status::Closed);
    assert_eq!(rows[0].3, Some(Closure::Withdrawn));
    assert_eq!(
        s.count_by_status().await.unwrap(),
        vec![(Status::Submitted, 5), (Status::Closed, 1)]
    );
    // A complainant whose only case is closed: none open, but one before.
    let mut closed = case(7);
    closed.complainant_key = Some("ck-c".into());
    closed.status = Status::Closed;
    closed.closure = Some(Closure::Resolved);
    s.insert_case(closed, vec![], None).await.unwrap();
    assert_eq!(
        between("ck-c", "merchant:m1").await,
        redress_store::Between {
            open: vec![],
            any: true
        }
    );
}

pub async fn deadline_queues_and_moved_calendar_days(s: Arc<dyn Store>) {
    // (department, assignee, next_due_at, staff_due, status)
    let cases = [
        (
            Some("ops"),
            Some("bob"),
            Some(100),
            true,
            Status::InProgress,
        ),
        (
            Some("ops"),
            Some("bob"),
            Some(150),
            true,
            Status::InProgress,
        ),
        (Some("ops"), None, Some(90), true, Status::InProgress),
        (
            Some("ops"),
            Some("amy"),
            Some(400),
            true,
            Status::InProgress,
        ),
        (
            Some("legal"),
            Some("amy"),
            Some(120),
            true,
            Status::UnderReview,
        ),
        (None, None, Some(50), true, Status::Submitted),
        // Not staff duties, paused (no due) or closed: in no queue.
        (Some("ops"), Some("bob"), Some(10), false, Status::NeedsInfo),
        (Some("ops"), Some("bob"), None, true, Status::InProgress),
        (Some("ops"), None, None, false, Status::Closed),
    ];
    let mut ids = Vec::new();
    for (n, (dept, who, due, staff, status)) in cases.iter().enumerate() {
        let mut r = case(n as u32 + 1);
        r.department = dept.map(String::from);
        r.assignee = who.map(String::from);
        r.next_due_at = due.map(t);
        r.staff_due = *staff;
        r.status = *status;
        if *status == Status::Closed {
            r.closure = Some(Closure::Withdrawn);
        }
        ids.push(r.id);
        s.insert_case(r, vec![], None).await.unwrap();
    }
    // Overdue at 110, due soon up to 200.
    let q = s.deadline_queues(t(110), t(200)).await.unwrap();
    let got: Vec<(Option<&str>, Option<&str>, i64, i64)> = q
        .iter()
        .map(|c| {
            (
                c.department.as_deref(),
                c.assignee.as_deref(),
                c.overdue,
                c.due_soon,
            )
        })
        .collect();
    let mut want = vec![
        (None, None, 1, 0),
        (Some("legal"), Some("amy"), 0, 1),
        (Some("ops"), None, 1, 0),
        (Some("ops"), Some("bob"), 1, 1),
    ];
    let mut got = got;
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // Cases a calendar edit may move: open, due at or after the instant.
    let ids_from = |v: Vec<(i64, uuid::Uuid)>| v.into_iter().map(|(_, id)| id).collect::<Vec<_>>();
    assert_eq!(
        ids_from(s.cases_due_from(t(120), 0, 10).await.unwrap()),
        vec![ids[1], ids[3], ids[4]]
    );
    let first = s.cases_due_from(t(0), 0, 2).await.unwrap();
    assert_eq!(ids_from(first.clone()), vec![ids[0], ids[1]]);
    let rest = s.cases_due_from(t(0), first[1].0, 10).await.unwrap();
    assert_eq!(
        ids_from(rest),
        vec![ids[2], ids[3], ids[4], ids[5], ids[6]],
        "paged by seq; the closed case and those without a due are left out"
    );
}

/// The rollup table follows every save by `contributions(new) −
/// contributions(old)`: after inserts, updates that move a case to other
/// codes and a stale update (which writes nothing), its counters are what
/// a rebuild from the rows computes.
pub async fn rollups_follow_every_save_and_match_a_rebuild(s: Arc<dyn Store>) {
    use redress_store::rollup::{self, RollupQuery};
    let q = RollupQuery {
        from: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        to: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        department: None,
        category: None,
        metrics: Vec::new(),
        group: rollup::Group::Day,
    };
    let sorted = |mut v: Vec<rollup::RollupSum>| {
        v.sort_by(|a, b| (a.day, &a.metric, &a.dim).cmp(&(b.day, &b.metric, &b.dim)));
        v
    };
    let filed = |n: i64| ReportFacts {
        created_at: Some(t(n)),
        zone: Some("Asia/Shanghai".into()),
        ..ReportFacts::default()
    };
    let mut rows = Vec::new();
    for n in 1..=3u32 {
        let mut row = case(n);
        row.report = filed(i64::from(n) * 24 * 60);
        s.insert_case(row.clone(), vec![], None).await.unwrap();
        rows.push(row);
    }
    let all = sorted(s.report_rollup(&q).await.unwrap());
    let n_filed: i64 = all
        .iter()
        .filter(|r| r.metric == "filed")
        .map(|r| r.n)
        .sum();
    assert_eq!(n_filed, 3);

    // Case 1 accepted into another department, then decided and closed.
    let mut a = rows[0].clone();
    a.status = Status::InProgress;
    a.department = Some("sales".into());
    a.report.accepted_at = Some(t(24 * 60 + 30));
    s.update_cases(
        vec![CaseUpdate {
            row: a.clone(),
            expected_version: 1,
        }],
        vec![],
    )
    .await
    .unwrap();
    a.version = 2;
    let mut closed = a.clone();
    closed.status = Status::Closed;
    closed.closure = Some(Closure::Resolved);
    closed.report.decided_at = Some(t(3 * 24 * 60));
    closed.report.closed_at = Some(t(5 * 24 * 60));
    closed.report.outcome = Some("upheld".into());
    s.update_cases(
        vec![CaseUpdate {
            row: closed.clone(),
            expected_version: 2,
        }],
        vec![],
    )
    .await
    .unwrap();
    // A stale save changes nothing, counters included.
    let mut stale = rows[1].clone();
    stale.status = Status::Closed;
    stale.closure = Some(Closure::Withdrawn);
    stale.report.closed_at = Some(t(9 * 24 * 60));
    s.update_cases(
        vec![CaseUpdate {
            row: stale,
            expected_version: 7,
        }],
        vec![],
    )
    .await
    .unwrap_err();

    let kept = sorted(s.report_rollup(&q).await.unwrap());
    let sum = |metric: &str| -> i64 {
        kept.iter()
            .filter(|r| r.metric == metric)
            .map(|r| r.n)
            .sum()
    };
    assert_eq!(sum("filed"), 3);
    assert_eq!(sum("accepted"), 1);
    assert_eq!(sum("decided"), 1);
    assert_eq!(sum("closed"), 1);
    let sales = s
        .report_rollup(&RollupQuery {
            department: Some("sales".into()),
            group: rollup::Group::Period,
            ..q.clone()
        })
        .await
        .unwrap();
    let sales_filed: i64 = sales
        .iter()
        .filter(|r| r.metric == "filed")
        .map(|r| r.n)
        .sum();
    assert_eq!(
        sales_filed, 1,
        "the filing moved with the case's department"
    );
    assert_eq!(
        s.report_top_respondents(&q, 5).await.unwrap(),
        vec![("merchant:m1".to_string(), 3)]
    );

    assert_eq!(
        s.rebuild_report_rollups(chrono_tz_shanghai())
            .await
            .unwrap(),
        3
    );
    assert_eq!(sorted(s.report_rollup(&q).await.unwrap()), kept);
}

/// Monthly rollups (migration 0022): a period read from its whole months
/// (`report_months`) plus the days of its partial edge months gives what
/// the daily counters alone give, for sums, per-month series, filters and
/// top respondents; after inserts, an update that moves a case to other
/// codes, and a rebuild.
pub async fn monthly_rollups_answer_as_the_days_do(s: Arc<dyn Store>) {
    use chrono::{Datelike, NaiveDate};
    use redress_store::rollup::{self, Group, RollupQuery};
    use std::collections::BTreeMap;
    let day = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    // 60 cases over some seven months (from 1 March 2025), in two
    // departments and three categories, against four respondents; some
    // accepted, decided and closed weeks later (in another month).
    let mut rows = Vec::new();
    for n in 0..60u32 {
        let mut row = case(n + 1);
        let created = t(i64::from(n) * 3 * 24 * 60 + i64::from(n % 7) * 97);
        row.created_at = created;
        row.department = Some(["ops", "sales"][(n % 2) as usize].into());
        row.category = Some(["delivery", "refund", "quality"][(n % 3) as usize].into());
        row.respondent_key = Some(format!("merchant:m{}", n % 4));
        row.channel = [Channel::Web, Channel::Email][(n % 5 == 0) as usize];
        row.report = ReportFacts {
            created_at: Some(created),
            zone: Some("Asia/Shanghai".into()),
            ..ReportFacts::default()
        };
        if n % 3 != 0 {
            row.status = Status::InProgress;
            row.report.accepted_at = Some(created + chrono::Duration::hours(30));
        }
        if n % 4 == 1 {
            row.status = Status::Closed;
            row.closure = Some(Closure::Resolved);
            row.report.decided_at = Some(created + chrono::Duration::days(20));
            row.report.closed_at = Some(created + chrono::Duration::days(26));
            row.report.outcome = Some(["upheld", "not_upheld"][(n % 8 == 1) as usize].into());
        }
        rows.push(row);
    }
    for row in &rows {
        s.insert_case(row.clone(), vec![], None).await.unwrap();
    }
    // One case moves to another department and category, and closes.
    let mut moved = rows[2].clone();
    moved.department = Some("ops".into());
    moved.category = Some("quality".into());
    moved.status = Status::Closed;
    moved.closure = Some(Closure::Withdrawn);
    moved.report.closed_at = Some(t(200 * 24 * 60));
    s.update_cases(
        vec![CaseUpdate {
            row: moved,
            expected_version: 1,
        }],
        vec![],
    )
    .await
    .unwrap();

    let periods = [
        // Partial months on both sides, with whole months between.
        (day(2025, 3, 15), day(2025, 7, 10)),
        // Whole months only.
        (day(2025, 4, 1), day(2025, 6, 30)),
        // Within one month; across two without a whole one.
        (day(2025, 5, 3), day(2025, 5, 27)),
        (day(2025, 4, 20), day(2025, 5, 12)),
        // Everything, from a first day to a partial month.
        (day(2025, 1, 1), day(2025, 9, 17)),
    ];
    let check = |label: &'static str| {
        let s = s.clone();
        async move {
            for (from, to) in periods {
                for (department, category) in [
                    (None, None),
                    (Some("ops".to_string()), None),
                    (None, Some("refund".to_string())),
                ] {
                    let q = RollupQuery {
                        from,
                        to,
                        department: department.clone(),
                        category: category.clone(),
                        metrics: Vec::new(),
                        group: Group::Period,
                    };
                    let days = s
                        .report_rollup(&RollupQuery {
                            group: Group::Day,
                            ..q.clone()
                        })
                        .await
                        .unwrap();
                    assert!(
                        days.iter()
                            .all(|r| r.day.is_some_and(|d| d >= from && d <= to))
                    );
                    // Per (metric, dim) over the period, from the days.
                    let mut from_days: BTreeMap<(String, String), i64> = BTreeMap::new();
                    // Per (month, metric, dim), from the days.
                    let mut per_month: BTreeMap<(NaiveDate, String, String), i64> = BTreeMap::new();
                    for r in &days {
                        *from_days
                            .entry((r.metric.clone(), r.dim.clone()))
                            .or_default() += r.n;
                        let m = r.day.unwrap().with_day(1).unwrap();
                        *per_month
                            .entry((m, r.metric.clone(), r.dim.clone()))
                            .or_default() += r.n;
                    }
                    from_days.retain(|_, n| *n != 0);
                    per_month.retain(|_, n| *n != 0);
                    let mut summed: BTreeMap<(String, String), i64> = BTreeMap::new();
                    for r in s.report_rollup(&q).await.unwrap() {
                        assert_eq!(r.day, None);
                        *summed.entry((r.metric, r.dim)).or_default() += r.n;
                    }
                    summed.retain(|_, n| *n != 0);
                    assert!(!from_days.is_empty(), "{label} {from}..{to}: no counters");
                    assert_eq!(
                        summed, from_days,
                        "{label} {from}..{to} {department:?} {category:?}: period"
                    );
                    let months: BTreeMap<(NaiveDate, String, String), i64> = s
                        .report_rollup(&RollupQuery {
                            group: Group::Month,
                            ..q.clone()
                        })
                        .await
                        .unwrap()
                        .into_iter()
                        .map(|r| ((r.day.unwrap(), r.metric, r.dim), r.n))
                        .collect();
                    assert_eq!(
                        months, per_month,
                        "{label} {from}..{to} {department:?} {category:?}: months"
                    );
                    // Top respondents, and the scorecards' counters, which
                    // are kept without category.
                    if category.is_none() {
                        let resp = RollupQuery {
                            metrics: rollup::RESPONDENT_METRICS.to_vec(),
                            ..q.clone()
                        };
                        let mut a: BTreeMap<(String, String), i64> = BTreeMap::new();
                        for r in s.report_rollup(&resp).await.unwrap() {
                            *a.entry((r.metric, r.dim)).or_default() += r.n;
                        }
                        let mut b: BTreeMap<(String, String), i64> = BTreeMap::new();
                        let mut filed: BTreeMap<String, i64> = BTreeMap::new();
                        for r in s
                            .report_rollup(&RollupQuery {
                                group: Group::Day,
                                ..resp.clone()
                            })
                            .await
                            .unwrap()
                        {
                            if r.metric == rollup::FILED_RESPONDENT {
                                *filed.entry(r.dim.clone()).or_default() += r.n;
                            }
                            *b.entry((r.metric, r.dim)).or_default() += r.n;
                        }
                        a.retain(|_, n| *n != 0);
                        b.retain(|_, n| *n != 0);
                        assert_eq!(a, b, "{label} {from}..{to}: respondents");
                        let mut top: Vec<(String, i64)> =
                            filed.into_iter().filter(|(_, n)| *n > 0).collect();
                        top.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
                        top.truncate(3);
                        assert_eq!(
                            s.report_top_respondents(&q, 3).await.unwrap(),
                            top,
                            "{label} {from}..{to}: top respondents"
                        );
                    }
                }
            }
        }
    };
    check("kept").await;
    s.rebuild_report_rollups(chrono_tz_shanghai())
        .await
        .unwrap();
    check("rebuilt").await;
}

fn chrono_tz_shanghai() -> redress_domain::calendar::Tz {
    redress_domain::calendar::Tz::Asia__Shanghai
}
