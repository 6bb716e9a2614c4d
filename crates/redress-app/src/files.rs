//! Opening a case's evidence files (SPEC §7): staff who see the case, each
//! view journaled; the complainant and the respondent their own uploads
//! and what staff shared with them. A file another party may not open is
//! answered as not found, like a case one may not see.

use redress_domain::{Case, Evidence, Party};
use serde_json::json;
use uuid::Uuid;

use crate::access::Principal;
use crate::error::{AppError, AppResult};
use crate::{App, Loaded};

/// A file as it is served: the uploader's name is metadata only.
pub struct EvidenceFile {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

fn visible<'a>(case: &'a Case, evidence_id: &str, party: Party) -> AppResult<&'a Evidence> {
    case.evidence
        .iter()
        .find(|e| e.id == evidence_id && e.visible_to(party))
        .ok_or(AppError::NotFound)
}

impl App {
    async fn open_evidence(&self, loaded: &Loaded, e: &Evidence) -> AppResult<EvidenceFile> {
        let bytes = match self.evidence.read_in_case(loaded.key(), &e.sha256).await {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(AppError::NotFound);
            }
            Err(err) => return Err(AppError::internal(err)),
        };
        Ok(EvidenceFile {
            filename: e.filename.clone(),
            content_type: e.content_type.clone(),
            bytes,
        })
    }

    /// `GET /complaints/{id}/evidence/{evidence_id}`: any file of a case
    /// the staff member sees; the view is journaled (`evidence_viewed`).
    pub async fn staff_evidence_file(
        &self,
        who: &Principal,
        id: Uuid,
        evidence_id: &str,
    ) -> AppResult<EvidenceFile> {
        let (staff, loaded, _) = self.staff_case(who, id).await?;
        let e = visible(&loaded.case, evidence_id, Party::Staff)?;
        let file = self.open_evidence(&loaded, e).await?;
        self.log_event(
            Some(id),
            &Self::staff_actor(&staff),
            "evidence_viewed",
            json!({"evidence_id": e.id, "sha256": e.sha256}),
        )
        .await?;
        Ok(file)
    }

    /// `GET /complaints/{id}/evidence/{evidence_id}/thumbnail`: the
    /// thumbnail (JPEG) of a picture of a case the staff member sees;
    /// `NotFound` for a file without one. Not journaled one by one: a
    /// thumbnail is shown on the case page, whose view is journaled.
    pub async fn staff_evidence_thumbnail(
        &self,
        who: &Principal,
        id: Uuid,
        evidence_id: &str,
    ) -> AppResult<Vec<u8>> {
        let (_, loaded, _) = self.staff_case(who, id).await?;
        let e = visible(&loaded.case, evidence_id, Party::Staff)?;
        let key = loaded
            .key()
            .filter(|_| e.thumbnail)
            .ok_or(AppError::NotFound)?;
        match self.evidence.read_thumbnail(key, &e.sha256).await {
            Ok(bytes) => Ok(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(AppError::NotFound),
            Err(err) => Err(AppError::internal(err)),
        }
    }

    /// `GET /track/{no}/evidence/{evidence_id}`: the complainant's own
    /// uploads and the files staff shared with them.
    pub async fn track_evidence_file(
        &self,
        no: &str,
        token: Option<&str>,
        evidence_id: &str,
    ) -> AppResult<EvidenceFile> {
        let loaded = self.track_case(no, token).await?;
        let e = visible(&loaded.case, evidence_id, Party::Complainant)?;
        self.open_evidence(&loaded, e).await
    }

    /// `GET /respondent/complaints/{id}/evidence/{evidence_id}`: the
    /// respondent's own uploads and the files staff shared with them.
    pub async fn respondent_evidence_file(
        &self,
        who: &Principal,
        id: Uuid,
        evidence_id: &str,
    ) -> AppResult<EvidenceFile> {
        let (_, loaded) = self.respondent_case(who, id).await?;
        let e = visible(&loaded.case, evidence_id, Party::Respondent)?;
        self.open_evidence(&loaded, e).await
    }
}
