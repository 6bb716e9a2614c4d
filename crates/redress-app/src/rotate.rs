//! Master-key rotation (`redress keys rotate`, docs/security.md).
//!
//! Every instance runs with the new key as `REDRESS_DATA_KEY` and the old
//! one as `REDRESS_DATA_KEY_PREVIOUS`; the ring opens both and seals with
//! the new one. The rotation then seals again, under the new key, every
//! value the old one sealed: each case's wrapped key (the case's own key
//! does not change, so its document and journal payloads stay as they
//! are; a case saved before case keys gets one now, and its document is
//! sealed with it), evidence files, held mail, stored answers to
//! idempotent registrations and webhook secrets. It runs beside the serving instances (each case
//! is saved with its version checked, a conflict reloads it) and can be
//! stopped at any point: what is already under the new key is skipped on
//! the next run. Once it reports nothing left under the old key, the
//! previous key can go.
//!
//! It also finishes the upgrade to case keys: the transitions' journal
//! events that an earlier version wrote in the clear are sealed with their
//! case's key (a purged case's with a key nobody keeps), by a rewrite of the journal
//! from the first such event to the head. The rewrite goes in steps of
//! [`BATCH`] events; between steps the store keeps the splice (where the
//! new chain meets the old one), so that `audit verify` passes at any
//! moment and a stopped rewrite resumes; the step that reaches the head
//! appends a `journal_resealed` event with the old and new heads.

use serde::Serialize;
use uuid::Uuid;

use crate::error::AppResult;
use crate::{App, stored};
use redress_store::{CaseUpdate, Resealed, StoreError};

/// Rows read per batch.
const BATCH: usize = 500;

/// What a rotation did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// The id of the key everything is sealed under now.
    pub key_id: String,
    /// Cases whose key was wrapped again (or given a key).
    pub cases: u64,
    /// Cases already under the current key, or purged (no key).
    pub cases_skipped: u64,
    /// Evidence files sealed again (or sealed for the first time).
    pub evidence: u64,
    pub held_mail: u64,
    pub idempotency: u64,
    /// Journal events written in the clear and now sealed.
    pub journal_events: i64,
    /// The heads before and after the journal's rewrite, when one ran.
    pub journal_old_head: Option<(i64, String)>,
    pub journal_new_head: Option<(i64, String)>,
    pub webhooks: u64,
    /// Values that opened with no key of the ring (left as they are).
    pub unreadable: u64,
}

impl RotationReport {
    /// Whether everything readable is now under the current key.
    pub fn complete(&self) -> bool {
        self.unreadable == 0
    }
}

impl App {
    /// Seals everything again under the current master key; `progress` is
    /// told of each case row looked at.
    pub async fn rotate_keys(&self, progress: &(dyn Fn(u64) + Sync)) -> AppResult<RotationReport> {
        let mut report = RotationReport {
            key_id: self.vault.key_id().to_string(),
            ..Default::default()
        };
        let mut after = 0;
        loop {
            let rows = self.store.export_cases(after, BATCH).await?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                break;
            };
            for row in &rows {
                // A row written before packing (migration 0025) is saved
                // again too (`stored::row_is_packed`); one in an earlier
                // packed form (the wrapped key as text, UTF-8 text) keeps
                // it until the case's next save.
                if (stored::row_key_is_current(row, &self.vault) && stored::row_is_packed(row))
                    || stored::row_is_purged(row)
                {
                    report.cases_skipped += 1;
                } else if self.rewrap_case(row.id).await? {
                    report.cases += 1;
                } else {
                    report.unreadable += 1;
                }
                progress(1);
            }
            after = last;
        }
        self.reseal_evidence(&mut report).await?;
        self.reseal_held_mail(&mut report).await?;
        self.reseal_idempotency(&mut report).await?;
        // After the cases: every live case has a key stored by now.
        self.reseal_journal(&mut report).await?;
        for s in self.store.list_webhook_subscriptions().await? {
            if self.vault.is_current(&s.secret) {
                continue;
            }
            match self
                .vault
                .reseal_for(&crate::webhooks::secret_aad(s.id), &s.secret)
            {
                Some(secret) => {
                    self.store
                        .reseal(Resealed::WebhookSecret { id: s.id, secret })
                        .await?;
                    report.webhooks += 1;
                }
                None => report.unreadable += 1,
            }
        }
        Ok(report)
    }

    /// Saves one case with its key wrapped by the current master key;
    /// false when its key does not open.
    async fn rewrap_case(&self, id: Uuid) -> AppResult<bool> {
        for _ in 0..5 {
            let mut loaded = match self.load(id).await {
                Ok(l) => l,
                Err(crate::AppError::NotFound) => return Ok(true),
                Err(e) => {
                    tracing::error!(case = %id, error = %e, "a case key does not open");
                    return Ok(false);
                }
            };
            let Some(sealing) = loaded.sealing.as_mut() else {
                return Ok(true);
            };
            match self.vault.rewrap_case_key(id, &sealing.wrapped) {
                Some(wrapped) => sealing.wrapped = wrapped,
                None => return Ok(false),
            }
            let update = CaseUpdate {
                row: self.row(
                    &loaded.case,
                    &loaded.access_token_hash,
                    loaded.pending_code.as_deref(),
                    loaded.seq,
                    loaded.sealing.as_ref(),
                )?,
                expected_version: loaded.case.version,
            };
            match self.store.update_cases(vec![update], vec![]).await {
                Ok(()) => return Ok(true),
                Err(StoreError::VersionConflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(crate::AppError::Conflict(format!(
            "case {id} kept changing during the rotation; run it again"
        )))
    }

    /// Rewrites the journal from the first event written in the clear to
    /// the head (resuming a rewrite in progress).
    async fn reseal_journal(&self, report: &mut RotationReport) -> AppResult<()> {
        let mut cases = CaseKeys::default();
        let mut cursor = match self.store.journal_splice().await? {
            Some(s) => s.seq,
            None => match self.first_clear_event(&mut cases).await? {
                Some(seq) => seq - 1,
                None => return Ok(()),
            },
        };
        loop {
            let batch = self.store.journal_after(cursor, BATCH).await?;
            if batch.is_empty() {
                return Ok(());
            }
            let mut data = Vec::with_capacity(batch.len());
            for e in &batch {
                data.push((e.seq, self.sealed_payload(e, &mut cases).await?));
            }
            match self.store.rewrite_journal(cursor, data, self.now()).await {
                Ok(redress_store::journal::RewriteOutcome::Continues(s)) => cursor = s.seq,
                Ok(redress_store::journal::RewriteOutcome::Finished {
                    rewritten,
                    old_head,
                    new_head,
                }) => {
                    report.journal_events = rewritten;
                    report.journal_old_head = Some(old_head);
                    report.journal_new_head = Some(new_head);
                    // The rows' earlier versions leave the files.
                    self.compact_after_purge().await;
                    return Ok(());
                }
                // Another rewrite moved the splice: go on from there.
                Err(StoreError::VersionConflict) => match self.store.journal_splice().await? {
                    Some(s) => cursor = s.seq,
                    None => return Ok(()),
                },
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The seq of the first event a rewrite must seal, if any.
    async fn first_clear_event(&self, cases: &mut CaseKeys) -> AppResult<Option<i64>> {
        let mut after = 0;
        loop {
            let batch = self.store.journal_after(after, 5000).await?;
            let Some(last) = batch.last().map(|e| e.seq) else {
                return Ok(None);
            };
            for e in &batch {
                if self.sealed_payload(e, cases).await?.is_some() {
                    return Ok(Some(e.seq));
                }
            }
            after = last;
        }
    }

    /// What an event's payload becomes: sealed with its case's key when it
    /// was written in the clear; for a purged case, the events before the
    /// purge sealed with a key nobody keeps. `None`: as it is.
    async fn sealed_payload(
        &self,
        e: &redress_store::JournalEntry,
        cases: &mut CaseKeys,
    ) -> AppResult<Option<String>> {
        let Some(case_id) = e.case_id else {
            return Ok(None);
        };
        // Transitions' payloads carry the case's texts and are sealed;
        // audit events (views, exports) carry none and stay in the clear.
        if crate::privacy::is_case_sealed(&e.data)
            || !redress_domain::events::is_case_event(&e.kind)
        {
            return Ok(None);
        }
        let state = cases.get(self, case_id).await?;
        Ok(match state {
            CaseState::Keyed(key) => Some(stored::seal_event(key, &e.kind, &e.data)),
            CaseState::Purged(at)
                if e.at < *at && !matches!(e.kind.as_str(), "purged" | "erased") =>
            {
                let (gone, _) = self.vault.new_case_key(case_id);
                Some(stored::seal_event(&gone, &e.kind, &e.data))
            }
            CaseState::Purged(_) | CaseState::Unknown => None,
        })
    }

    /// Every evidence file, one key prefix at a time. Each file holds the
    /// evidence gate for reading, so that a purge removing it meanwhile is
    /// not undone by writing it back.
    async fn reseal_evidence(&self, report: &mut RotationReport) -> AppResult<()> {
        let everything = self.now() + chrono::Duration::days(36_500);
        for prefix in 0..=u8::MAX {
            for name in self.evidence.files_older_than(prefix, everything).await? {
                let _gate = self.evidence_gate.read().await;
                match self.evidence.reseal(&name).await {
                    Ok(true) => report.evidence += 1,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::error!(file = %name, error = %e, "an evidence file was not sealed again");
                        report.unreadable += 1;
                    }
                }
            }
        }
        Ok(())
    }

    async fn reseal_held_mail(&self, report: &mut RotationReport) -> AppResult<()> {
        use crate::mail::held_aad;
        let mut after = 0;
        loop {
            let mails = self.store.export_held_mail(after, BATCH).await?;
            let Some(last) = mails.last().map(|m| m.seq) else {
                return Ok(());
            };
            for m in mails {
                if [&m.sender, &m.subject, &m.raw]
                    .iter()
                    .all(|v| self.vault.is_current(v))
                {
                    continue;
                }
                let v = &self.vault;
                match (
                    v.reseal_for(&held_aad(m.id, "sender"), &m.sender),
                    v.reseal_for(&held_aad(m.id, "subject"), &m.subject),
                    v.reseal_for(&held_aad(m.id, "raw"), &m.raw),
                ) {
                    (Some(sender), Some(subject), Some(raw)) => {
                        self.store
                            .reseal(Resealed::HeldMail {
                                id: m.id,
                                sender,
                                subject,
                                raw,
                            })
                            .await?;
                        report.held_mail += 1;
                    }
                    _ => report.unreadable += 1,
                }
            }
            after = last;
        }
    }

    async fn reseal_idempotency(&self, report: &mut RotationReport) -> AppResult<()> {
        let mut after: Option<String> = None;
        loop {
            let records = self.store.export_idempotency(after.clone(), BATCH).await?;
            let Some(last) = records.last().map(|r| r.key.clone()) else {
                return Ok(());
            };
            for r in records {
                if self.vault.is_current(&r.body) {
                    continue;
                }
                match self
                    .vault
                    .reseal_for(&crate::cases::idempotency_aad(&r.key), &r.body)
                {
                    Some(body) => {
                        self.store
                            .reseal(Resealed::Idempotency { key: r.key, body })
                            .await?;
                        report.idempotency += 1;
                    }
                    None => report.unreadable += 1,
                }
            }
            after = Some(last);
        }
    }
}

/// What a rewrite of the journal needs to know of an event's case.
enum CaseState {
    /// A live case with its key stored.
    Keyed(crate::privacy::CaseKey),
    /// Purged at this instant: the events before it go with the key.
    Purged(chrono::DateTime<chrono::Utc>),
    /// No row, or a row without a stored key yet: left as it is.
    Unknown,
}

/// Case states read once, a bounded number at a time.
#[derive(Default)]
struct CaseKeys {
    known: std::collections::HashMap<Uuid, CaseState>,
}

impl CaseKeys {
    const MAX: usize = 10_000;

    async fn get(&mut self, app: &App, id: Uuid) -> AppResult<&CaseState> {
        if !self.known.contains_key(&id) {
            if self.known.len() >= Self::MAX {
                self.known.clear();
            }
            let state = match app.store.get_case(id).await? {
                None => CaseState::Unknown,
                Some(row) => match stored::row_key(&row, &app.vault) {
                    Some(key) => CaseState::Keyed(key),
                    None => match stored::from_row(&row, &app.vault)?.case.purged_at {
                        Some(at) => CaseState::Purged(at),
                        None => CaseState::Unknown,
                    },
                },
            };
            self.known.insert(id, state);
        }
        Ok(&self.known[&id])
    }
}
