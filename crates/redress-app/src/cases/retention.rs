//! Legal holds, erasure and what follows a purge.

use super::*;

impl App {
    /// `POST /complaints/{id}/legal-hold {hold, reason}` (supervisor): keeps
    /// a case past its retention period, or lets it go.
    pub async fn legal_hold(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::LegalHoldCommand,
    ) -> AppResult<views::StaffCaseView> {
        let (hold, reason) = (cmd.hold, &cmd.reason);
        self.staff_action(
            who,
            id,
            |s, _, _| s.require(Role::Supervisor),
            |case, _| refuse(case.set_legal_hold(hold, reason)),
        )
        .await
    }

    /// `POST /complaints/{id}/erase {reason}` (supervisor): erases a closed
    /// case's personal data and evidence early, on the complainant's
    /// request, exactly as the purge at the end of retention does
    /// ([`Case::erase_file`]); then removes the files no other case names.
    pub async fn erase(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::EraseCommand,
    ) -> AppResult<views::StaffCaseView> {
        let reason = &cmd.reason;
        // The key names the case's files; the erasure destroys it.
        let key = self.load(id).await?.sealing.map(|s| s.key);
        let held = std::sync::Mutex::new(Vec::new());
        let answer = self
            .staff_action(
                who,
                id,
                |s, _, _| s.require(Role::Supervisor),
                |case, ctx| {
                    let erasure = redress_domain::Erasure::Requested { reason };
                    let (effects, hashes) = refuse(case.erase_file(erasure, ctx))?;
                    *held.lock().expect("erase lock") = hashes;
                    Ok(effects)
                },
            )
            .await?;
        let hashes = std::mem::take(&mut *held.lock().expect("erase lock"));
        self.after_erasure(id, key.as_ref(), hashes).await;
        self.compact_after_purge().await;
        Ok(answer)
    }

    /// Whether a case other than `except` names the evidence file `hash`
    /// (evidence hashes are search tokens: an index look-up). True when
    /// the question cannot be answered: a file is never removed in doubt.
    pub(crate) async fn evidence_in_use(&self, hash: &str, except: Option<Uuid>) -> bool {
        let filter = CaseFilter {
            query: vec![hash.to_string()],
            ..Default::default()
        };
        match self
            .store
            .list_cases(&Visibility::All, &filter, 2, None)
            .await
        {
            Ok(page) => page.items.iter().any(|c| Some(c.id) != except),
            Err(e) => {
                tracing::error!(error = %e, "evidence kept: its use could not be checked");
                true
            }
        }
    }

    /// After a purge or an erasure (the case's key is gone with its
    /// saved row): removes the evidence files no other case names, and
    /// what other tables kept of the case (webhook call payloads, held
    /// mail). A failure is logged and counted; the case stays erased.
    /// `key` is the case's key as it was (it names the case's files),
    /// `hashes` the content hashes of the files the case named.
    pub async fn after_erasure(
        &self,
        id: Uuid,
        key: Option<&crate::privacy::CaseKey>,
        hashes: Vec<String>,
    ) {
        // The files under the case's key, and their thumbnails (a name no
        // other case can hold).
        let mut names: Vec<String> = key
            .map(|k| {
                hashes
                    .iter()
                    .flat_map(|h| [k.evidence_name(h), k.thumbnail_name(h)])
                    .collect()
            })
            .unwrap_or_default();
        names.extend(hashes);
        self.remove_unused_evidence(id, names).await;
        if let Err(e) = self.store.forget_case(id).await {
            tracing::error!(case = %id, error = %e, "an erased case's traces could not be scrubbed");
            metrics::counter!("redress_sweep_errors_total").increment(1);
        }
    }

    /// After purges: the store gives freed space back (a truncating WAL
    /// checkpoint, a VACUUM), so that erased bytes do not linger in files.
    pub async fn compact_after_purge(&self) {
        if let Err(e) = self.store.compact_after_purge().await {
            tracing::warn!(error = %e, "compaction after a purge did not run");
        }
    }

    /// After a purge or an erasure: removes each evidence file no other
    /// case names.
    pub async fn remove_unused_evidence(&self, purged: Uuid, hashes: Vec<String>) {
        let _gate = self.evidence_gate.write().await;
        for hash in hashes {
            if self.evidence_in_use(&hash, Some(purged)).await {
                continue;
            }
            if let Err(e) = self.evidence.delete(&hash).await {
                tracing::error!(error = %e, "a purged evidence file could not be removed");
                metrics::counter!("redress_sweep_errors_total").increment(1);
            }
        }
    }
}
