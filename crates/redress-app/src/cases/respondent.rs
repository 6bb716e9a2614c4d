//! The respondent's portal: its cases, messages and evidence.

use super::*;

impl App {
    pub async fn respondent_cases(
        &self,
        who: &Principal,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> AppResult<views::RespondentCaseList> {
        let r = who.respondent()?;
        let (limit, after) = paging(limit, cursor)?;
        let visibility = Visibility::Respondent {
            respondent_key: r.respondent_key(),
        };
        let page = self
            .store
            .list_cases(&visibility, &CaseFilter::default(), limit, after)
            .await?;
        let mut items = Vec::with_capacity(page.items.len());
        for s in &page.items {
            let loaded = self.load(s.id).await?;
            items.push(views::respondent_view(&loaded.case));
        }
        Ok(views::RespondentCaseList {
            items,
            next_cursor: page.next.map(encode_cursor),
            total: page.total,
        })
    }

    pub(crate) async fn respondent_case(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> AppResult<(String, Loaded)> {
        let r = who.respondent()?;
        let key = r.respondent_key();
        let loaded = self.load(id).await?;
        let theirs = loaded
            .case
            .record
            .respondent
            .as_ref()
            .is_some_and(|x| x.key() == key);
        if !theirs {
            return Err(AppError::NotFound);
        }
        Ok((key, loaded))
    }

    /// Refuses (404) a caller who may not see the case as a respondent:
    /// the API asks this before answering a refused message body, so that
    /// the body tells nothing about a case the caller cannot see.
    pub async fn check_respondent_case(&self, who: &Principal, id: Uuid) -> AppResult<()> {
        self.respondent_case(who, id).await.map(|_| ())
    }

    /// `POST /respondent/cases/{id}/messages`.
    pub async fn respondent_message(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::PartyMessageCommand,
    ) -> AppResult<views::RespondentCaseView> {
        let (key, _) = self.respondent_case(who, id).await?;
        let text = &cmd.body;
        let actor = Actor {
            kind: ActorKind::Respondent,
            id: key,
        };
        let loaded = self
            .mutate(id, actor, |case, ctx| {
                refuse(case.add_message(Audience::Respondent, ActorKind::Respondent, text, ctx))
            })
            .await?;
        Ok(views::respondent_view(&loaded.case))
    }

    pub async fn respondent_evidence(
        &self,
        who: &Principal,
        id: Uuid,
        filename: Option<&str>,
        bytes: &[u8],
    ) -> AppResult<views::RespondentCaseView> {
        let (key, loaded) = self.respondent_case(who, id).await?;
        if loaded.case.is_sealed() {
            return Err(AppError::Conflict("the case is closed".into()));
        }
        // The gate stays open until the case naming the file is saved.
        let (evidence, _gate) = self
            .new_evidence(
                case_key(&loaded)?,
                bytes,
                filename,
                ActorKind::Respondent,
                &key,
            )
            .await?;
        let actor = Actor {
            kind: ActorKind::Respondent,
            id: key,
        };
        let loaded = self
            .mutate(id, actor, |case, ctx| {
                refuse(case.add_evidence(evidence.clone(), ctx))
            })
            .await?;
        Ok(views::respondent_view(&loaded.case))
    }
}
