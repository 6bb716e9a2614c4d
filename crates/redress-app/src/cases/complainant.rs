//! The complainant's calls, by tracking number and access code.

use super::*;

impl App {
    /// Checks the complainant's access token against the case. Wrong
    /// codes are counted per tracking number: past ten, the number answers
    /// 429 for a growing while, whatever the code (a limit per token would
    /// not stop guessing).
    pub async fn track_case(&self, tracking_no: &str, token: Option<&str>) -> AppResult<Loaded> {
        let token = token.ok_or(AppError::Unauthorized)?;
        // Only a well-formed number is counted (the throttle's keys stay
        // few and short).
        let key = tracking_no.trim().to_ascii_uppercase();
        if crate::mail::find_tracking_no(&key).as_deref() != Some(key.as_str()) {
            return Err(AppError::Unauthorized);
        }
        let throttle = self.config.throttle_guessing.then_some(&self.guesses.code);
        if let Some(t) = throttle {
            t.check(&key).map_err(AppError::Throttled)?;
        }
        let wrong = || {
            if let Some(t) = throttle {
                t.fail(&key);
            }
            AppError::Unauthorized
        };
        let loaded = match self.load_by_tracking_no(tracking_no).await {
            Ok(l) => l,
            // Same answer for a wrong number and a wrong token: no probing.
            Err(AppError::NotFound) => return Err(wrong()),
            Err(e) => return Err(e),
        };
        if !crate::codes::matches(loaded.key(), &loaded.access_token_hash, token) {
            return Err(wrong());
        }
        Ok(loaded)
    }

    /// The case an intake agent prints an acknowledgement slip for: it
    /// must be a case they see, and `code` its current access code (a
    /// slip never shows a code that does not open the case). A wrong code
    /// is `NotFound`, like a case one may not see.
    pub async fn slip_case(
        &self,
        who: &Principal,
        tracking_no: &str,
        code: &str,
    ) -> AppResult<Loaded> {
        let staff = who.staff()?;
        staff.require(Role::Intake)?;
        let loaded = self.load_by_tracking_no(tracking_no.trim()).await?;
        staff.access(&loaded.case)?;
        if !crate::codes::matches(loaded.key(), &loaded.access_token_hash, code) {
            return Err(AppError::NotFound);
        }
        Ok(loaded)
    }

    pub async fn track_answer(&self, loaded: &Loaded) -> AppResult<views::TrackView> {
        let merged = match loaded.case.merged_into {
            Some(id) => Some(self.load(id).await?.case.tracking_no),
            None => None,
        };
        let remedies = match loaded.case.locale {
            redress_domain::Locale::En => &self.config.outside_remedies_en,
            redress_domain::Locale::ZhCn => &self.config.outside_remedies_zh,
        };
        Ok(views::track_view(
            &loaded.case,
            merged,
            remedies,
            self.now(),
            &self.calendar(),
        ))
    }

    pub async fn track(
        &self,
        tracking_no: &str,
        token: Option<&str>,
    ) -> AppResult<views::TrackView> {
        let loaded = self.track_case(tracking_no, token).await?;
        self.track_answer(&loaded).await
    }

    async fn complainant_action<F>(
        &self,
        tracking_no: &str,
        token: Option<&str>,
        f: F,
    ) -> AppResult<views::TrackView>
    where
        F: Fn(&mut Case, &redress_domain::Ctx) -> AppResult<redress_domain::Effects>,
    {
        let loaded = self.track_case(tracking_no, token).await?;
        let actor = Actor {
            kind: ActorKind::Complainant,
            id: loaded.case.tracking_no.clone(),
        };
        let loaded = self.mutate(loaded.case.id, actor, f).await?;
        self.track_answer(&loaded).await
    }

    pub async fn supplement(
        &self,
        no: &str,
        token: Option<&str>,
        cmd: &commands::SupplementCommand,
    ) -> AppResult<views::TrackView> {
        // Optional when files were sent since the request (the domain
        // decides); blank counts as none.
        let message = &cmd.message;
        self.complainant_action(no, token, |case, ctx| {
            refuse(case.supplement(message.clone(), ctx))
        })
        .await
    }

    /// Evidence from the complainant. While material is requested the
    /// file joins the case and the stage goes on: the person ends it with
    /// `supplement` once everything is sent.
    pub async fn track_evidence(
        &self,
        no: &str,
        token: Option<&str>,
        filename: Option<&str>,
        bytes: &[u8],
    ) -> AppResult<views::TrackView> {
        let loaded = self.track_case(no, token).await?;
        if loaded.case.is_sealed() {
            return Err(AppError::Conflict("the case is closed".into()));
        }
        // The gate stays open until the case naming the file is saved.
        let (evidence, _gate) = self
            .new_evidence(
                case_key(&loaded)?,
                bytes,
                filename,
                ActorKind::Complainant,
                "complainant",
            )
            .await?;
        self.complainant_action(no, token, |case, ctx| {
            refuse(case.add_evidence(evidence.clone(), ctx))
        })
        .await
    }

    pub async fn track_message(
        &self,
        no: &str,
        token: Option<&str>,
        cmd: &commands::PartyMessageCommand,
    ) -> AppResult<views::TrackView> {
        let text = &cmd.body;
        self.complainant_action(no, token, |case, ctx| {
            refuse(case.add_message(Audience::Complainant, ActorKind::Complainant, text, ctx))
        })
        .await
    }

    pub async fn appeal(
        &self,
        no: &str,
        token: Option<&str>,
        cmd: &commands::AppealCommand,
    ) -> AppResult<views::TrackView> {
        let reason = &cmd.reason;
        self.complainant_action(no, token, |case, ctx| refuse(case.appeal(reason, ctx)))
            .await
    }

    pub async fn withdraw(
        &self,
        no: &str,
        token: Option<&str>,
        cmd: &commands::WithdrawCommand,
    ) -> AppResult<views::TrackView> {
        let reason = &cmd.reason;
        self.complainant_action(no, token, |case, ctx| {
            refuse(case.withdraw(reason.as_deref(), ctx))
        })
        .await
    }

    pub async fn feedback(
        &self,
        no: &str,
        token: Option<&str>,
        cmd: &commands::FeedbackCommand,
    ) -> AppResult<views::TrackView> {
        let (score, comment) = (cmd.score, &cmd.comment);
        self.complainant_action(no, token, |case, ctx| {
            refuse(case.rate(score, comment.as_deref(), ctx))
        })
        .await
    }
}
