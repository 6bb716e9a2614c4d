//! Background work: the deadline sweep (with the calendar feed's daily
//! fetch) and the audit check.
//!
//! The sweep claims only what is due (an index on `sweep_at`; a lease per
//! case, so that instances sharing a database split the work), lets the
//! domain decide what each case needs (lapse, closure at the end of the
//! appeal window, an overdue flag) and saves through the same versioned
//! path as every other transition: running it twice, or on two instances,
//! does each thing once, and a case whose claimer died is claimed again
//! when the lease runs out.

use futures_util::stream::{self, StreamExt};
use redress_domain::Actor;
use redress_store::journal::Verifier;
use serde::Serialize;

use crate::error::AppResult;
use crate::{App, AppError};

/// What one pass of the deadline sweep did.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct SweepReport {
    pub lapsed: u64,
    pub purged: u64,
    pub closed: u64,
    pub flagged_overdue: u64,
    pub reminders: u64,
    pub escalations: u64,
    /// Reminders to the owners of corrective actions.
    pub action_reminders: u64,
    /// Notices handed to a provider, retried later, given up.
    pub deliveries_sent: u64,
    pub deliveries_retried: u64,
    pub deliveries_failed: u64,
    /// Cases the sweep changed.
    pub cases: u64,
}

impl SweepReport {
    fn count(&mut self, kind: &str) {
        match kind {
            "lapsed" => self.lapsed += 1,
            "purged" => self.purged += 1,
            "closed" => self.closed += 1,
            "deadline_missed" => self.flagged_overdue += 1,
            "reminder_sent" | "respondent_reminder_sent" => self.reminders += 1,
            "escalated" => self.escalations += 1,
            "action_reminder_sent" => self.action_reminders += 1,
            _ => {}
        }
    }
}

/// `GET /audit/verify`: whether the journal's hash chain holds.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditReport {
    pub ok: bool,
    pub events_checked: u64,
    /// Where the chain breaks (absent when it holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

const SWEEP_BATCH: usize = 500;
/// Rows one housekeeping transaction deletes at most.
const HOUSEKEEPING_BATCH: usize = 500;
/// Batches of one kind a housekeeping run deletes at most.
const HOUSEKEEPING_BATCHES: usize = 100;
/// Evidence files one housekeeping run looks at (about).
const ORPHAN_FILES: usize = 5000;

/// What one housekeeping run deleted.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct HousekeepingReport {
    pub sessions: u64,
    pub webhook_calls: u64,
    pub held_mail: u64,
    pub idempotency_records: u64,
    pub orphaned_evidence: u64,
}

/// Runs `delete(limit)` until it deletes less than a batch (or the run's
/// share of batches is used); the count deleted.
async fn batches<F, Fut>(what: &str, delete: F) -> u64
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = redress_store::StoreResult<u64>>,
{
    let mut total = 0;
    for _ in 0..HOUSEKEEPING_BATCHES {
        match delete(HOUSEKEEPING_BATCH).await {
            Ok(n) => {
                total += n;
                if n < HOUSEKEEPING_BATCH as u64 {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "expiring {what} failed");
                break;
            }
        }
    }
    total
}
/// Cases the sweep works on at once (their saves share group commits).
const SWEEP_CONCURRENCY: usize = 32;

impl App {
    /// Does every deadline action that is due now.
    pub async fn sweep(&self) -> AppResult<SweepReport> {
        let _guard = self.sweep_lock.lock().await;
        let mut report = SweepReport::default();
        let now = self.now();
        let mut seen = std::collections::HashSet::new();
        loop {
            let due = self
                .store
                .claim_due(now, self.config.job_lease, SWEEP_BATCH)
                .await?;
            let fresh: Vec<_> = due.into_iter().filter(|id| seen.insert(*id)).collect();
            if fresh.is_empty() {
                break;
            }
            // Several cases at once, so that their saves share commits.
            let outcomes: Vec<_> = stream::iter(fresh)
                .map(|id| async move {
                    let mut kinds = Vec::new();
                    let mut held = Vec::new();
                    let result = self
                        .mutate(id, Actor::system("deadline-sweep"), |case, ctx| {
                            held = case.evidence.iter().map(|e| e.sha256.clone()).collect();
                            let effects = case.sweep(ctx).unwrap_or_default();
                            kinds = effects
                                .events
                                .iter()
                                .map(|e| e.kind().to_string())
                                .collect();
                            Ok(effects)
                        })
                        .await;
                    if let Ok(loaded) = &result
                        && kinds.iter().any(|k| k == "purged")
                    {
                        // The key as it was before the save that dropped it.
                        self.after_erasure(id, loaded.key(), held).await;
                    }
                    // Then the notices waiting to leave, from the case as saved.
                    let result = match result {
                        Ok(loaded) => self
                            .send_due(id, &loaded, self.now())
                            .await
                            .map(|sent| (kinds, sent)),
                        Err(e) => Err(e),
                    };
                    (id, result)
                })
                .buffer_unordered(SWEEP_CONCURRENCY)
                .collect()
                .await;
            for (id, result) in outcomes {
                match result {
                    Ok((kinds, sent)) => {
                        report.deliveries_sent += sent.sent;
                        report.deliveries_retried += sent.retried;
                        report.deliveries_failed += sent.failed;
                        if !kinds.is_empty() {
                            report.cases += 1;
                        }
                        for kind in &kinds {
                            report.count(kind);
                        }
                    }
                    // Someone else moved the case meanwhile; the next tick sees it.
                    Err(AppError::Conflict(_)) | Err(AppError::NotFound) => {}
                    // One broken case must not stop every other deadline.
                    Err(e) => {
                        tracing::error!(case = %id, error = %e, "deadline sweep skipped a case");
                        metrics::counter!("redress_sweep_errors_total").increment(1);
                    }
                }
            }
        }
        if report.purged > 0 {
            self.compact_after_purge().await;
        }
        if report.cases > 0 || report.deliveries_sent + report.deliveries_retried > 0 {
            tracing::info!(?report, "deadline sweep");
        }
        // The calendar feed's daily fetch, when due and this instance
        // claims it.
        match self.calendar_feed_job().await {
            Ok(Some(outcome)) => tracing::info!(%outcome, "calendar feed fetched"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "the calendar feed job failed"),
        }
        self.housekeeping().await;
        self.alert_job().await;
        Ok(report)
    }

    /// Once an hour of the app's clock (so that the test clock's advance
    /// runs it too): [`App::housekeeping_now`].
    async fn housekeeping(&self) {
        let now = self.now();
        {
            let mut last = self.housekept.lock().expect("housekeeping lock");
            if last.is_some_and(|t| now >= t && now - t < chrono::Duration::hours(1)) {
                return;
            }
            *last = Some(now);
        }
        let report = self.housekeeping_now().await;
        if report != HousekeepingReport::default() {
            tracing::info!(?report, "housekeeping");
        }
    }

    /// Deletes what has outlived its retention period (SPEC §8): expired
    /// sessions, settled webhook calls with their attempts, held mail,
    /// idempotency records, and evidence files that no case names. Ages
    /// are measured on the app's clock; rows go in batches of
    /// `HOUSEKEEPING_BATCH`, each its own transaction, and a run stops
    /// after `HOUSEKEEPING_BATCHES` of a kind (the rest waits for the
    /// next hour). A failure is logged and the other kinds go on.
    pub async fn housekeeping_now(&self) -> HousekeepingReport {
        let now = self.now();
        let keep = self.config.retention;
        let mut report = HousekeepingReport::default();
        match self.purge_expired_sessions().await {
            Ok(n) => report.sessions = n,
            Err(e) => tracing::warn!(error = %e, "removing expired sessions failed"),
        }
        let store = &self.store;
        report.webhook_calls = batches("webhook calls", |limit| {
            store.expire_webhook_calls(now - keep.webhook_calls, limit)
        })
        .await;
        report.held_mail = batches("held mail", |limit| {
            store.expire_held_mail(now - keep.held_mail, limit)
        })
        .await;
        report.idempotency_records = batches("idempotency records", |limit| {
            store.expire_idempotency(now - keep.idempotency, limit)
        })
        .await;
        report.orphaned_evidence = self
            .remove_orphaned_evidence(now - keep.orphan_evidence)
            .await;
        if let Err(e) = self.warn_admins_of_calendar().await {
            tracing::warn!(error = %e, "the calendar warning could not be sent");
        }
        report
    }

    /// Removes the evidence files written before `before` that no case
    /// names: uploads whose case was never saved, files of a failed
    /// intake. Each removal holds the `evidence_gate` alone, as a purge's
    /// does, so a file an upload in flight is about to name is never
    /// taken. The store is looked at one key prefix (`00`…`ff`) at a time,
    /// at most `ORPHAN_FILES` files a run, continuing next time where
    /// this run stopped.
    async fn remove_orphaned_evidence(&self, before: chrono::DateTime<chrono::Utc>) -> u64 {
        let mut cursor = self.orphan_cursor.lock().await;
        let mut prefix: u16 = cursor
            .as_deref()
            .and_then(|c| u16::from_str_radix(c, 16).ok())
            .unwrap_or(0);
        let (mut looked, mut removed) = (0usize, 0u64);
        let mut prefixes = 0;
        while prefixes < 256 && looked < ORPHAN_FILES {
            let hashes = match self.evidence.files_older_than(prefix as u8, before).await {
                Ok(h) => h,
                Err(e) => {
                    tracing::warn!(error = %e, "looking for orphaned evidence files failed");
                    break;
                }
            };
            looked += hashes.len();
            for hash in hashes {
                let _gate = self.evidence_gate.write().await;
                if self.evidence_in_use(&hash, None).await {
                    continue;
                }
                match self.evidence.delete(&hash).await {
                    Ok(()) => removed += 1,
                    Err(e) => {
                        tracing::warn!(error = %e, "an orphaned evidence file could not be removed")
                    }
                }
            }
            prefix = (prefix + 1) % 256;
            prefixes += 1;
        }
        *cursor = Some(format!("{prefix:02x}"));
        removed
    }

    /// Walks the whole journal and checks the hash chain.
    pub async fn verify_audit(&self) -> AppResult<AuditReport> {
        // A rewrite of the journal in progress is the one place the chain
        // may pass from new hashes to old ones.
        let mut v = Verifier::spliced(self.store.journal_splice().await?);
        let mut after = 0;
        loop {
            let batch = match self.store.journal_after(after, 5000).await {
                Ok(batch) => batch,
                // A row whose time or case id no longer parses was edited:
                // a failed check, not a server error.
                Err(redress_store::StoreError::Backend(e)) => {
                    v.problem = Some(format!("an event after {after} cannot be read: {e}"));
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            let Some(last) = batch.last() else { break };
            after = last.seq;
            if !batch.iter().all(|e| v.feed(e)) {
                break;
            }
        }
        v.finish(self.store.journal_head().await?);
        Ok(AuditReport {
            ok: v.problem.is_none(),
            events_checked: v.checked,
            problem: v.problem,
        })
    }
}
