//! The case list: filters, visibility, search, cursors and exact totals.

use std::sync::Arc;

use redress_domain::{Closure, Status};
use redress_store::{CaseFilter, CaseRow, ReviewerScope, Store, Visibility};

use crate::harness::{case, t};

const DEPTS: [&str; 3] = ["ops", "legal", "billing"];
const CATS: [&str; 2] = ["delivery", "refund"];

fn sample(n: u32) -> CaseRow {
    let mut r = case(n);
    r.department = Some(DEPTS[(n % 3) as usize].into());
    r.category = Some(CATS[(n % 2) as usize].into());
    r.assignee = n.is_multiple_of(4).then(|| "bob".to_string());
    r.respondent_key = Some(format!("merchant:m{}", n % 5));
    r.respondent_name = match n % 3 {
        0 => Some("ACME Trading Ltd".into()),
        1 => Some("好运数码专营店".into()),
        _ => None,
    };
    r.status = match n % 6 {
        0 => Status::Submitted,
        1 => Status::InProgress,
        2 => Status::UnderReview,
        3 => Status::Resolved,
        4 => Status::NeedsInfo,
        _ => Status::Closed,
    };
    if r.status == Status::Closed {
        r.closure = Some(Closure::Resolved);
    }
    r.staff_due = r.status.deadline_is_staff_duty();
    r.next_due_at = Some(t(i64::from(n) * 10));
    if r.status == Status::UnderReview {
        r.decided_by = Some(if n % 4 == 2 { "carol" } else { "dave" }.into());
        r.decider_level = Some((n % 3) as i32 + 1);
    }
    r.search_tokens = match n % 4 {
        0 => "refund 款 退 退款",
        1 => "late parcel 快 快递 递",
        2 => "parcel refund 快 快递 款 退 退款 递",
        _ => "other words",
    }
    .into();
    r
}

/// 60 sample cases in `s`, with the `seq` each got.
async fn loaded(s: &dyn Store) -> Vec<CaseRow> {
    let mut rows = Vec::new();
    for n in 1..=60u32 {
        let mut r = sample(n);
        let out = s.insert_case(r.clone(), vec![], None).await.unwrap();
        let redress_store::InsertOutcome::Inserted { seq } = out else {
            panic!()
        };
        r.seq = seq;
        rows.push(r);
    }
    rows
}

/// Pages through a list with `limit`, checking totals and cursors; returns seqs.
async fn all_pages(s: &dyn Store, v: &Visibility, f: &CaseFilter, limit: usize) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut after = None;
    let mut total = None;
    loop {
        let page = s.list_cases(v, f, limit, after).await.unwrap();
        assert!(page.items.len() <= limit);
        if let Some(t) = total {
            assert_eq!(t, page.total, "total changes between pages");
        }
        total = Some(page.total);
        seen.extend(page.items.iter().map(|i| i.seq));
        match page.next {
            Some(n) => {
                assert_eq!(page.items.len(), limit);
                assert_eq!(Some(n), page.items.last().map(|i| i.seq));
                after = Some(n);
            }
            None => break,
        }
    }
    assert_eq!(total.unwrap(), seen.len() as i64, "total is exact");
    seen
}

fn expect(rows: &[CaseRow], pred: impl Fn(&CaseRow) -> bool) -> Vec<i64> {
    let mut v: Vec<i64> = rows.iter().filter(|r| pred(r)).map(|r| r.seq).collect();
    v.sort_unstable_by(|a, b| b.cmp(a));
    v
}

pub async fn filters_paging_and_totals(s: Arc<dyn Store>) {
    let rows = loaded(&*s).await;
    let all = Visibility::All;
    let none = CaseFilter::default();
    for limit in [1, 7, 60, 100] {
        assert_eq!(
            all_pages(&*s, &all, &none, limit).await,
            expect(&rows, |_| true)
        );
    }
    let f = CaseFilter {
        status: Some(Status::InProgress),
        ..Default::default()
    };
    assert_eq!(
        all_pages(&*s, &all, &f, 3).await,
        expect(&rows, |r| r.status == Status::InProgress)
    );
    let f = CaseFilter {
        department: Some("legal".into()),
        category: Some("refund".into()),
        ..Default::default()
    };
    assert_eq!(
        all_pages(&*s, &all, &f, 4).await,
        expect(&rows, |r| r.department.as_deref() == Some("legal")
            && r.category.as_deref() == Some("refund"))
    );
    let f = CaseFilter {
        assignee: Some("bob".into()),
        respondent_key: Some("merchant:m2".into()),
        ..Default::default()
    };
    assert_eq!(
        all_pages(&*s, &all, &f, 2).await,
        expect(&rows, |r| r.assignee.as_deref() == Some("bob")
            && r.respondent_key.as_deref() == Some("merchant:m2"))
    );
    // A respondent's name: contained, ASCII letters in either case.
    for (name, status) in [("acme", None), ("数码", Some(Status::InProgress))] {
        let f = CaseFilter {
            respondent_name: Some(name.into()),
            status,
            ..Default::default()
        };
        let want = expect(&rows, |r| {
            r.respondent_name
                .as_deref()
                .is_some_and(|n| n.to_lowercase().contains(name))
                && status.is_none_or(|s| r.status == s)
        });
        assert!(!want.is_empty(), "{name}");
        assert_eq!(all_pages(&*s, &all, &f, 4).await, want, "{name}");
    }
    let f = CaseFilter {
        respondent_name: Some("nobody".into()),
        ..Default::default()
    };
    assert_eq!(s.list_cases(&all, &f, 10, None).await.unwrap().total, 0);
    let now = t(300);
    let f = CaseFilter {
        overdue_at: Some(now),
        ..Default::default()
    };
    let overdue = expect(&rows, |r| r.staff_due && r.next_due_at.unwrap() <= now);
    assert!(!overdue.is_empty());
    assert_eq!(all_pages(&*s, &all, &f, 5).await, overdue);
    let soon = t(340);
    let f = CaseFilter {
        due_between: Some((now, soon)),
        ..Default::default()
    };
    let due_soon = expect(&rows, |r| {
        r.staff_due && r.next_due_at.is_some_and(|d| d > now && d <= soon)
    });
    assert!(!due_soon.is_empty());
    assert_eq!(all_pages(&*s, &all, &f, 3).await, due_soon);
    let f = CaseFilter {
        status: Some(Status::Closed),
        department: Some("nowhere".into()),
        ..Default::default()
    };
    let page = s.list_cases(&all, &f, 10, None).await.unwrap();
    assert_eq!((page.items.len(), page.total, page.next), (0, 0, None));
}

pub async fn visibility(s: Arc<dyn Store>) {
    let rows = loaded(&*s).await;
    let none = CaseFilter::default();
    let v = Visibility::Departments {
        departments: vec!["ops".into(), "billing".into()],
        reviewer: None,
    };
    let in_depts = |r: &CaseRow| matches!(r.department.as_deref(), Some("ops" | "billing"));
    assert_eq!(all_pages(&*s, &v, &none, 6).await, expect(&rows, in_depts));

    // A level-4 reviewer of legal sees legal, plus appeals decided below
    // level 4 by someone else.
    let v = Visibility::Departments {
        departments: vec!["legal".into()],
        reviewer: Some(ReviewerScope {
            username: "carol".into(),
            level: 4,
            independent: false,
        }),
    };
    let want = expect(&rows, |r| {
        r.department.as_deref() == Some("legal")
            || (r.status == Status::UnderReview
                && r.decided_by.as_deref() != Some("carol")
                && r.decider_level.unwrap() < 4)
    });
    assert!(
        want.len()
            > rows
                .iter()
                .filter(|r| r.department.as_deref() == Some("legal"))
                .count()
    );
    assert_eq!(all_pages(&*s, &v, &none, 4).await, want);

    // Filters narrow every branch: a department filter outside the visible
    // ones leaves only appeals; a status other than under_review drops them.
    for (fd, fs) in [
        (Some("ops"), None),
        (Some("legal"), None),
        (None, Some(Status::Submitted)),
        (None, Some(Status::UnderReview)),
        (Some("billing"), Some(Status::UnderReview)),
    ] {
        let f = CaseFilter {
            department: fd.map(String::from),
            status: fs,
            ..Default::default()
        };
        let want = expect(&rows, |r| {
            (r.department.as_deref() == Some("legal")
                || (r.status == Status::UnderReview
                    && r.decided_by.as_deref() != Some("carol")
                    && r.decider_level.unwrap() < 4))
                && fd.is_none_or(|d| r.department.as_deref() == Some(d))
                && fs.is_none_or(|s| r.status == s)
        });
        assert_eq!(all_pages(&*s, &v, &f, 3).await, want, "{fd:?} {fs:?}");
    }

    // At level 3 the level-3 decisions are out of reach: legal only.
    let v = Visibility::Departments {
        departments: vec!["legal".into()],
        reviewer: Some(ReviewerScope {
            username: "carol".into(),
            level: 3,
            independent: false,
        }),
    };
    assert_eq!(
        all_pages(&*s, &v, &none, 4).await,
        expect(&rows, |r| r.department.as_deref() == Some("legal"))
    );

    // An independent reviewer without departments: every appeal not their own.
    let v = Visibility::Departments {
        departments: vec![],
        reviewer: Some(ReviewerScope {
            username: "carol".into(),
            level: 1,
            independent: true,
        }),
    };
    let f = CaseFilter {
        status: Some(Status::UnderReview),
        ..Default::default()
    };
    let want = expect(&rows, |r| {
        r.status == Status::UnderReview && r.decided_by.as_deref() != Some("carol")
    });
    assert!(!want.is_empty());
    assert_eq!(all_pages(&*s, &v, &none, 3).await, want);
    assert_eq!(all_pages(&*s, &v, &f, 3).await, want);

    // No departments, no reviewer: nothing.
    let v = Visibility::Departments {
        departments: vec![],
        reviewer: None,
    };
    let page = s.list_cases(&v, &none, 10, None).await.unwrap();
    assert_eq!((page.items.len(), page.total), (0, 0));

    let v = Visibility::Respondent {
        respondent_key: "merchant:m3".into(),
    };
    assert_eq!(
        all_pages(&*s, &v, &none, 5).await,
        expect(&rows, |r| r.respondent_key.as_deref()
            == Some("merchant:m3"))
    );
}

pub async fn search(s: Arc<dyn Store>) {
    let rows = loaded(&*s).await;
    let all = Visibility::All;
    let q = |tokens: &[&str]| CaseFilter {
        query: tokens.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    };
    let has = |r: &CaseRow, tok: &str| r.search_tokens.split(' ').any(|t| t == tok);
    for toks in [
        &["退款"][..],
        &["快递"],
        &["退款", "快递"],
        &["refund"],
        &["parcel", "late"],
        &["退", "refund"],
    ] {
        let want = expect(&rows, |r| toks.iter().all(|t| has(r, t)));
        assert!(!want.is_empty(), "{toks:?}");
        assert_eq!(all_pages(&*s, &all, &q(toks), 4).await, want, "{toks:?}");
    }
    for toks in [
        &["退货"][..],
        &["refunds"],
        &["款退"],
        &["refund", "nothing"],
    ] {
        let page = s.list_cases(&all, &q(toks), 10, None).await.unwrap();
        assert_eq!((page.items.len(), page.total), (0, 0), "{toks:?}");
    }
    // Query syntax in tokens is taken literally, never as the backend's
    // search syntax (FTS5 on SQLite).
    for toks in [
        &["\"refund"][..],
        &["refund*"],
        &["NOT"],
        &["a:b"],
        &["-"],
        &["("],
    ] {
        let page = s.list_cases(&all, &q(toks), 10, None).await;
        assert!(page.is_ok(), "{toks:?}: {page:?}");
    }
    // A bounded count stops at the cap; the page is the same; a cap of 0
    // counts nothing.
    let refund = expect(&rows, |r| has(r, "退款"));
    assert!(refund.len() > 5);
    for (cap, total) in [
        (Some(5), 5),
        (Some(1000), refund.len() as i64),
        (Some(0), 0),
    ] {
        let f = CaseFilter {
            count_cap: cap,
            ..q(&["退款"])
        };
        let page = s.list_cases(&all, &f, 3, None).await.unwrap();
        assert_eq!(page.total, total, "cap {cap:?}");
        let seqs: Vec<i64> = page.items.iter().map(|i| i.seq).collect();
        assert_eq!(seqs, refund[..3], "cap {cap:?}");
    }
    let f = CaseFilter {
        count_cap: Some(4),
        department: Some("ops".into()),
        ..q(&["退款"])
    };
    assert_eq!(s.list_cases(&all, &f, 3, None).await.unwrap().total, 4);

    // Search combines with the other filters.
    let mut f = q(&["快递"]);
    f.department = Some("ops".into());
    let want = expect(&rows, |r| {
        has(r, "快递") && r.department.as_deref() == Some("ops")
    });
    assert_eq!(all_pages(&*s, &all, &f, 2).await, want);

    // The index follows updates.
    let save = |row: &CaseRow, expected_version: i64| {
        s.update_cases(
            vec![redress_store::CaseUpdate {
                row: row.clone(),
                expected_version,
            }],
            vec![],
        )
    };
    let found = |token: &str| {
        let f = q(&[token]);
        let s = s.clone();
        async move {
            let page = s.list_cases(&Visibility::All, &f, 100, None).await.unwrap();
            page.items.iter().map(|i| i.id).collect::<Vec<_>>()
        }
    };
    let mut r = rows[3].clone();
    let old = r.search_tokens.clone();
    // Tokens as the application stores them (each once, in byte order),
    // some with characters that are syntax to a search engine.
    r.search_tokens = "a:b brandnew it's x\\y".into();
    save(&r, 1).await.unwrap();
    assert_eq!(found("brandnew").await, vec![r.id]);
    for token in ["a:b", "it's", "x\\y"] {
        assert!(found(token).await.contains(&r.id), "{token}");
    }
    assert_eq!(
        s.get_case(r.id).await.unwrap().unwrap().search_tokens,
        r.search_tokens
    );
    let first_old = old.split(' ').next().unwrap();
    assert!(!found(first_old).await.contains(&r.id));
    // A save that leaves the tokens as they were keeps the entry.
    r.subject = "renamed".into();
    save(&r, 2).await.unwrap();
    assert_eq!(found("brandnew").await, vec![r.id]);
}

/// The case export's walk (`filed_case_rows`): the cases filed in a
/// period, newest filing first and the later `seq` first among cases
/// filed at one instant, paged by the last `(created_at, seq)` with no
/// case lost or repeated at a page's edge, each the whole row as stored.
/// The cases are registered out of filing order, three to an instant.
pub async fn filed_rows(s: Arc<dyn Store>) {
    let mut rows = Vec::new();
    for n in (0..30u32).map(|n| (n * 7) % 30) {
        let mut r = sample(n + 1);
        r.created_at = t(i64::from(n / 3) * 10);
        let out = s.insert_case(r.clone(), vec![], None).await.unwrap();
        let redress_store::InsertOutcome::Inserted { seq } = out else {
            panic!()
        };
        r.seq = seq;
        rows.push(r);
    }
    for (from, before) in [
        (None, None),
        (Some(t(20)), Some(t(70))),
        (Some(t(45)), None),
        (None, Some(t(30))),
        (Some(t(91)), None),
    ] {
        let mut want: Vec<&CaseRow> = rows
            .iter()
            .filter(|r| from.is_none_or(|f| r.created_at >= f))
            .filter(|r| before.is_none_or(|b| r.created_at < b))
            .collect();
        want.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.seq)));
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = s.filed_case_rows(from, before, 4, after).await.unwrap();
            assert!(page.len() <= 4);
            seen.extend(page.iter().cloned());
            if page.len() < 4 {
                break;
            }
            after = page.last().map(|r| (r.created_at, r.seq));
        }
        // The export never reads the search tokens: they come back empty.
        let want: Vec<CaseRow> = want
            .into_iter()
            .map(|r| CaseRow {
                search_tokens: String::new(),
                ..r.clone()
            })
            .collect();
        assert_eq!(
            seen, want,
            "{from:?} {before:?}: the rows as stored, in order"
        );
    }
}

/// A search ranked by relevance (`ranked_cases`): the newest `cap`
/// matches the filter and the visibility admit, best subject first and
/// newest first among equals, paged by the last `(score, seq)`, each item
/// the case's own summary.
pub async fn ranked(s: Arc<dyn Store>) {
    let mut rows = Vec::new();
    for n in 1..=40u32 {
        let mut r = sample(n);
        // Three older matches whose subjects name the term rank first.
        if [4, 8, 10].contains(&n) {
            r.subject = format!("退款 {n}");
        }
        let out = s.insert_case(r.clone(), vec![], None).await.unwrap();
        let redress_store::InsertOutcome::Inserted { seq } = out else {
            panic!()
        };
        r.seq = seq;
        rows.push(r);
    }
    let relevance = redress_domain::text::Relevance::new("退款");
    let f = CaseFilter {
        query: vec!["退款".into()],
        count_cap: Some(0),
        ..Default::default()
    };
    let has = |r: &CaseRow| r.search_tokens.split(' ').any(|t| t == "退款");
    let want = |rows: &[&CaseRow]| {
        let mut keys: Vec<(i64, i64)> = rows
            .iter()
            .map(|r| (relevance.score(&r.subject), r.seq))
            .collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        keys
    };
    let pages = |v: Visibility, cap: usize| {
        let (s, f, relevance) = (s.clone(), f.clone(), relevance.clone());
        async move {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = s
                    .ranked_cases(&v, &f, &relevance, cap, 3, after)
                    .await
                    .unwrap();
                assert!(page.items.len() <= 3);
                seen.extend(page.items.iter().map(|(score, c)| (*score, c.seq)));
                if !page.more {
                    return (seen, page.total, page.over);
                }
                after = seen.last().copied();
            }
        }
    };
    let matches: Vec<&CaseRow> = rows.iter().filter(|r| has(r)).collect();
    let (seen, total, over) = pages(Visibility::All, 1000).await;
    assert_eq!(seen, want(&matches));
    assert_eq!((total, over), (matches.len() as i64, false));
    let mut firsts: Vec<i64> = seen[..3].iter().map(|k| k.1).collect();
    firsts.sort_unstable();
    let named: Vec<i64> = matches
        .iter()
        .filter(|r| r.subject.starts_with("退款"))
        .map(|r| r.seq)
        .collect();
    assert_eq!(firsts, named, "the subjects naming the term first");

    // Each item is the case's own row.
    let page = s
        .ranked_cases(&Visibility::All, &f, &relevance, 1000, 5, None)
        .await
        .unwrap();
    for (_, item) in &page.items {
        let row = rows.iter().find(|r| r.seq == item.seq).unwrap();
        assert_eq!((item.id, &item.subject), (row.id, &row.subject));
    }

    // Only the newest `cap` matches are ranked, and the answer says so.
    let newest: Vec<&CaseRow> = matches.iter().rev().take(5).copied().collect();
    let (seen, total, over) = pages(Visibility::All, 5).await;
    assert_eq!(seen, want(&newest));
    assert_eq!((total, over), (5, true));

    // The visibility holds: one department's matches only.
    let v = Visibility::Departments {
        departments: vec!["ops".into()],
        reviewer: None,
    };
    let ops: Vec<&CaseRow> = matches
        .iter()
        .filter(|r| r.department.as_deref() == Some("ops"))
        .copied()
        .collect();
    assert!(!ops.is_empty() && ops.len() < matches.len());
    let (seen, total, _) = pages(v, 1000).await;
    assert_eq!(seen, want(&ops));
    assert_eq!(total, ops.len() as i64);
}
