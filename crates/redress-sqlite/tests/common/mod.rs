//! Shared helpers: a store in a fresh temporary directory, sample rows.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};
use redress_domain::{Channel, Status};
use redress_sqlite::SqliteStore;
use redress_store::{CaseRow, NewEvent, ReportFacts};
use uuid::Uuid;

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "redress-sqlite-test-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("redress.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A store with its directory; keep both alive.
pub fn store() -> (SqliteStore, TempDir) {
    let dir = TempDir::new();
    let store = SqliteStore::open(&dir.db()).expect("open store");
    (store, dir)
}

pub fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 8, 0, 0).unwrap() + Duration::minutes(minutes)
}

pub fn case(n: u32) -> CaseRow {
    CaseRow {
        id: Uuid::now_v7(),
        seq: 0,
        tracking_no: format!("TS{n:08}"),
        status: Status::Submitted,
        closure: None,
        channel: Channel::Web,
        category: Some("delivery".into()),
        department: Some("ops".into()),
        assignee: None,
        respondent_key: Some("merchant:m1".into()),
        respondent_name: Some("Shop One".into()),
        complainant_key: Some("ck1".into()),
        subject: format!("case {n}"),
        created_at: t(i64::from(n)),
        updated_at: t(i64::from(n)),
        next_due_at: Some(t(i64::from(n) + 60)),
        staff_due: true,
        sweep_at: None,
        decided_by: None,
        decider_level: None,
        search_tokens: String::new(),
        report: ReportFacts::default(),
        version: 1,
        doc: format!("{{\"n\":{n}}}").into_bytes(),
        actions: Vec::new(),
    }
}

pub fn event(case_id: Option<Uuid>, kind: &str) -> NewEvent {
    NewEvent {
        case_id,
        kind: kind.into(),
        actor: "staff:alice".into(),
        at: t(0),
        data: "{}".into(),
    }
}
