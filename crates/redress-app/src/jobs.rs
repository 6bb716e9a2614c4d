//! Background work: the deadline sweep and the audit check.
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

#[derive(Debug, Default, Clone, Serialize)]
pub struct SweepReport {
    pub lapsed: u64,
    pub purged: u64,
    pub closed: u64,
    pub flagged_overdue: u64,
    pub reminders: u64,
    pub escalations: u64,
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
            "reminder_sent" => self.reminders += 1,
            "escalated" => self.escalations += 1,
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub ok: bool,
    pub events_checked: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

const SWEEP_BATCH: usize = 500;
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
                            kinds = effects.events.iter().map(|e| e.kind.clone()).collect();
                            Ok(effects)
                        })
                        .await;
                    if result.is_ok() && kinds.iter().any(|k| k == "purged") {
                        self.remove_unused_evidence(id, held).await;
                    }
                    // Then the notices waiting to leave, from the case as saved.
                    let result = match result {
                        Ok(loaded) => self
                            .send_due(id, &loaded.case, self.now())
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
        if report.cases > 0 || report.deliveries_sent + report.deliveries_retried > 0 {
            tracing::info!(?report, "deadline sweep");
        }
        self.housekeeping().await;
        Ok(report)
    }

    /// Once an hour: expired sessions are deleted.
    async fn housekeeping(&self) {
        {
            let mut last = self.housekept.lock().expect("housekeeping lock");
            if last.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(3600)) {
                return;
            }
            *last = Some(std::time::Instant::now());
        }
        match self.purge_expired_sessions().await {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "removing expired sessions failed"),
        }
    }

    /// Walks the whole journal and checks the hash chain.
    pub async fn verify_audit(&self) -> AppResult<AuditReport> {
        let mut v = Verifier::default();
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
