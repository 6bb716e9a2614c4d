//! Scale check: 1,000,000 cases, list queries with exact totals.
//! Run with `cargo test --release -p redress-sqlite --test scale -- --ignored --nocapture`
//! (`REDRESS_SCALE_ROWS` changes the row count).

mod common;

use std::time::{Duration, Instant};

use common::{case, t};
use redress_domain::{Closure, Status};
use redress_store::prelude::*;
use redress_store::{CaseFilter, ReviewerScope, Visibility};

fn row(n: u32) -> redress_store::CaseRow {
    let mut r = case(n);
    let h = n.wrapping_mul(2_654_435_761);
    r.department = Some(format!("d{}", h % 12));
    r.category = Some(format!("c{}", (h >> 8) % 40));
    r.assignee = Some(format!("u{}", (h >> 12) % 300));
    r.respondent_key = Some(format!("merchant:m{}", (h >> 4) % 20_000));
    r.complainant_key = Some(format!("ck{}", (h >> 3) % 400_000));
    r.status = match (h >> 16) % 20 {
        0..=11 => Status::Closed,
        12..=13 => Status::Submitted,
        14..=16 => Status::InProgress,
        17 => Status::NeedsInfo,
        18 => Status::Resolved,
        _ => Status::UnderReview,
    };
    if r.status == Status::Closed {
        r.closure = Some(Closure::Resolved);
        r.next_due_at = None;
    }
    r.staff_due = r.status.deadline_is_staff_duty();
    r.created_at = t(i64::from(n) / 2);
    r.next_due_at = r.next_due_at.map(|_| t(i64::from(n) / 2 + 7 * 24 * 60));
    if r.status == Status::UnderReview {
        r.decided_by = Some(format!("u{}", h % 300));
        r.decider_level = Some((h % 3) as i32 + 1);
    }
    // Report facts as the application writes them, so that the rollups
    // hold what a real installation's would.
    let created = r.created_at;
    let hours = |h: u32| chrono::Duration::hours(i64::from(h));
    r.report.created_at = Some(created);
    r.report.zone = Some("Asia/Shanghai".into());
    if r.status != Status::Submitted && r.status != Status::NeedsInfo {
        let accepted = created + hours((h >> 7) % 72);
        r.report.accepted_at = Some(accepted);
        r.report.stages.push(redress_store::rollup::StageFact {
            stage: redress_store::rollup::ReportStage::Acceptance,
            due_at: created + hours(48),
            ended_at: Some(accepted),
            extended: false,
        });
        if r.status != Status::InProgress {
            let decided = accepted + hours((h >> 9) % 400);
            r.report.decided_at = Some(decided);
            r.report.outcome =
                Some(["upheld", "partially_upheld", "not_upheld"][(h % 3) as usize].into());
            r.report.stages.push(redress_store::rollup::StageFact {
                stage: redress_store::rollup::ReportStage::Handling,
                due_at: accepted + hours(360),
                ended_at: Some(decided),
                extended: h.is_multiple_of(17),
            });
            if r.status == Status::Closed {
                r.report.closed_at = Some(decided + hours(360));
            }
        }
    }
    let words = [
        "refund", "parcel", "late", "broken", "退款", "快递", "客服", "质量",
    ];
    r.search_tokens = format!(
        "{} {} w{}",
        words[(h % 8) as usize],
        words[((h >> 5) % 8) as usize],
        h % 5000
    );
    r
}

#[test]
#[ignore]
fn million_cases() {
    let n: u32 = std::env::var("REDRESS_SCALE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // `REDRESS_SCALE_DB=path` keeps the loaded database for the next run.
    let dir = common::TempDir::new();
    let path = std::env::var("REDRESS_SCALE_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.db());
    let s = redress_sqlite::SqliteStore::open(&path).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let loaded = rt.block_on(s.count_by_status()).unwrap();
    let start = Instant::now();
    let chunk = 20_000;
    let mut i = if loaded.is_empty() { 0 } else { n };
    while i < n {
        let rows = (i..(i + chunk).min(n)).map(row).collect();
        let t0 = Instant::now();
        s.bulk_insert(rows).unwrap();
        if std::env::var("REDRESS_SCALE_VERBOSE").is_ok() {
            println!("chunk at {i}: {:?}", t0.elapsed());
        }
        i += chunk;
    }
    println!("loaded {n} rows in {:?}", start.elapsed());
    let now = t(i64::from(n) / 2);
    let dept = |d: &[&str], reviewer: Option<ReviewerScope>| Visibility::Departments {
        departments: d.iter().map(|s| s.to_string()).collect(),
        reviewer,
    };
    let f = CaseFilter::default;
    let cases: Vec<(&str, Visibility, CaseFilter)> = vec![
        ("all", Visibility::All, f()),
        (
            "all status=submitted",
            Visibility::All,
            CaseFilter {
                status: Some(Status::Submitted),
                ..f()
            },
        ),
        ("dept d1", dept(&["d1"], None), f()),
        (
            "depts d1,d2 status=in_progress",
            dept(&["d1", "d2"], None),
            CaseFilter {
                status: Some(Status::InProgress),
                ..f()
            },
        ),
        (
            "dept d1 + reviewer",
            dept(
                &["d1"],
                Some(ReviewerScope {
                    username: "u1".into(),
                    level: 2,
                    independent: false,
                }),
            ),
            f(),
        ),
        (
            "independent reviewer",
            dept(
                &[],
                Some(ReviewerScope {
                    username: "u1".into(),
                    level: 1,
                    independent: true,
                }),
            ),
            f(),
        ),
        (
            "dept d3 + reviewer, status=submitted",
            dept(
                &["d3"],
                Some(ReviewerScope {
                    username: "u1".into(),
                    level: 3,
                    independent: false,
                }),
            ),
            CaseFilter {
                status: Some(Status::Submitted),
                ..f()
            },
        ),
        (
            "category c7",
            Visibility::All,
            CaseFilter {
                category: Some("c7".into()),
                ..f()
            },
        ),
        (
            "dept d1 category c7",
            Visibility::All,
            CaseFilter {
                department: Some("d1".into()),
                category: Some("c7".into()),
                ..f()
            },
        ),
        (
            "assignee u5",
            Visibility::All,
            CaseFilter {
                assignee: Some("u5".into()),
                ..f()
            },
        ),
        (
            "assignee u5 status=in_progress",
            Visibility::All,
            CaseFilter {
                assignee: Some("u5".into()),
                status: Some(Status::InProgress),
                ..f()
            },
        ),
        (
            "respondent",
            Visibility::Respondent {
                respondent_key: "merchant:m77".into(),
            },
            f(),
        ),
        (
            "overdue",
            Visibility::All,
            CaseFilter {
                overdue_at: Some(now),
                ..f()
            },
        ),
        (
            "overdue dept d1",
            dept(&["d1"], None),
            CaseFilter {
                overdue_at: Some(now),
                ..f()
            },
        ),
        (
            "search rare w1234",
            Visibility::All,
            CaseFilter {
                query: vec!["w1234".into()],
                ..f()
            },
        ),
        (
            "search 退款 快递",
            Visibility::All,
            CaseFilter {
                query: vec!["退款".into(), "快递".into()],
                ..f()
            },
        ),
        (
            "search refund dept d1",
            dept(&["d1"], None),
            CaseFilter {
                query: vec!["refund".into()],
                ..f()
            },
        ),
    ];
    rt.block_on(async {
        for (name, v, filter) in &cases {
            let mut times: Vec<Duration> = Vec::new();
            let mut total = 0;
            let mut after = None;
            for round in 0..20 {
                let t0 = Instant::now();
                let page = s.list_cases(v, filter, 50, after).await.unwrap();
                times.push(t0.elapsed());
                total = page.total;
                // Alternate first pages and deeper pages.
                after = if round % 2 == 0 { page.next } else { None };
            }
            times.sort();
            println!(
                "{name:40} total {total:>8}  p50 {:>8.2?}  p95 {:>8.2?}",
                times[10], times[18]
            );
        }
        let t0 = Instant::now();
        let due = s.due_for_sweep(now, 100).await.unwrap();
        println!("due_for_sweep {} in {:?}", due.len(), t0.elapsed());
        let t0 = Instant::now();
        let c = s.count_by_status().await.unwrap();
        println!("count_by_status {c:?} in {:?}", t0.elapsed());
        let t0 = Instant::now();
        let r = s.report_rows(t(0), t(30 * 24 * 60)).await.unwrap();
        println!("report_rows {} in {:?}", r.len(), t0.elapsed());
        // The summary's questions to the rollups (docs/reports.md): the
        // period's sums, the series per day, the top respondents.
        use redress_store::rollup::{Group, RollupQuery, SERIES_METRICS};
        let day = |m: i64| t(m).date_naive();
        let last = i64::from(n) / 2;
        // The series as the summary asks for it: per day up to a year
        // (days and weeks), per month beyond.
        for (name, from, to, series_group) in [
            ("30 days", day(0), day(30 * 24 * 60), Group::Day),
            ("365 days", day(0), day(364 * 24 * 60), Group::Day),
            ("all", day(0), day(last), Group::Month),
        ] {
            let q = RollupQuery {
                from,
                to,
                department: None,
                category: None,
                metrics: Vec::new(),
                group: Group::Period,
            };
            let mut times = Vec::new();
            for _ in 0..5 {
                let t0 = Instant::now();
                let sums = s.report_rollup(&q).await.unwrap();
                let series = s
                    .report_rollup(&RollupQuery {
                        metrics: SERIES_METRICS.to_vec(),
                        group: series_group,
                        ..q.clone()
                    })
                    .await
                    .unwrap();
                let top = s.report_top_respondents(&q, 10).await.unwrap();
                times.push((t0.elapsed(), sums.len(), series.len(), top.len()));
            }
            times.sort();
            let (p50, sums, series, top) = times[2];
            println!(
                "rollup summary {name:8} p50 {p50:>8.2?} max {:>8.2?} ({sums} sums, {series} series rows, {top} top)",
                times[4].0
            );
        }
        let t0 = Instant::now();
        let rebuilt = s
            .rebuild_report_rollups(redress_domain::calendar::Tz::Asia__Shanghai)
            .await
            .unwrap();
        println!("rebuild of {rebuilt} cases in {:?}", t0.elapsed());
    });
}
