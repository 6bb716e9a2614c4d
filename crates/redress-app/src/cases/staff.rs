//! What staff do to a case (SPEC §3): the front door, handling, the
//! result and its review, links and merges, the archive.

use super::*;

impl App {
    pub async fn accept(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::AcceptCommand,
    ) -> AppResult<views::StaffCaseView> {
        let (category, department) = (&cmd.category, cmd.department.clone());
        let categories = self.store.list_categories().await?;
        let Some(cat) = categories.into_iter().find(|c| &c.code == category) else {
            return Err(AppError::invalid(
                "category",
                Reason::NoSuch {
                    what: "category".into(),
                },
            ));
        };
        let department = match department {
            Some(d) => {
                if !self
                    .store
                    .list_departments()
                    .await?
                    .iter()
                    .any(|x| x.code == d)
                {
                    return Err(AppError::invalid(
                        "department",
                        Reason::NoSuch {
                            what: "department".into(),
                        },
                    ));
                }
                d
            }
            None => cat.department.clone(),
        };
        let answer = self
            .staff_action(
                who,
                id,
                |_, a, _| a.require(a.intake, "accept"),
                |case, ctx| refuse(case.accept(&cat.code, &department, cat.stage_days(), ctx)),
            )
            .await?;
        // The category model learns from accepted cases (`likely`).
        self.learn_category(id, &cat.code).await;
        Ok(answer)
    }

    pub async fn reject(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::RejectCommand,
    ) -> AppResult<views::StaffCaseView> {
        let (reason, guidance) = (&cmd.reason, &cmd.guidance);
        self.staff_action(
            who,
            id,
            |_, a, _| a.require(a.intake, "reject"),
            |case, ctx| refuse(case.reject(reason, guidance, ctx)),
        )
        .await
    }

    pub async fn request_info(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::RequestInfoCommand,
    ) -> AppResult<views::StaffCaseView> {
        let (items, due_days) = (&cmd.items, cmd.due_days);
        self.staff_action(
            who,
            id,
            |_, a, _| a.require(a.intake, "ask for material on"),
            |case, ctx| refuse(case.request_info(items.clone(), due_days, ctx)),
        )
        .await
    }

    pub async fn assign(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::AssignCommand,
    ) -> AppResult<views::StaffCaseView> {
        let handler = &cmd.handler;
        let Some(user) = self
            .store
            .get_user_by_username(handler)
            .await?
            .filter(|u| u.active)
        else {
            return Err(AppError::invalid(
                "handler",
                Reason::NoSuch {
                    what: "user".into(),
                },
            ));
        };
        let departments = self.store.list_departments().await?;
        let target = StaffUser {
            independent: crate::access::is_independent(&user, &departments),
            user,
        };
        let target = target.staff_ref();
        self.staff_action(
            who,
            id,
            // Intake and supervisors assign anyone fit; a handler of the
            // case's department takes an unassigned case for themselves
            // (SPEC §11).
            |staff, a, case| {
                if a.intake || a.supervise {
                    return Ok(());
                }
                if a.handle && case.assignee.is_none() && staff.user.username == target.username {
                    return Ok(());
                }
                Err(AppError::Forbidden(
                    "a handler may only take an unassigned case of their department for themselves"
                        .into(),
                ))
            },
            |case, ctx| refuse(case.assign(&target, ctx)),
        )
        .await
    }

    pub async fn staff_message(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::StaffMessageCommand,
    ) -> AppResult<views::StaffCaseView> {
        let (audience, text) = (cmd.audience, &cmd.body);
        self.staff_action(
            who,
            id,
            |_, _, _| Ok(()),
            |case, ctx| refuse(case.add_message(audience, ActorKind::Staff, text, ctx)),
        )
        .await
    }

    pub async fn note(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::NoteCommand,
    ) -> AppResult<views::StaffCaseView> {
        let (kind, text) = (cmd.kind, &cmd.body);
        self.staff_action(
            who,
            id,
            |_, _, _| Ok(()),
            |case, ctx| refuse(case.add_note(kind, text, ctx)),
        )
        .await
    }

    /// `POST /complaints/{id}/deliveries {notice, channel: post, sent_at,
    /// reference}`: a notice staff sent by post (SPEC §7), by any staff
    /// member who sees the case.
    pub async fn record_post(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::RecordPostCommand,
    ) -> AppResult<views::StaffCaseView> {
        let (notice, sent_at, reference) = (cmd.notice, cmd.sent_at, &cmd.reference);
        self.staff_action(
            who,
            id,
            |_, _, _| Ok(()),
            |case, ctx| refuse(case.record_post(notice, sent_at, reference, ctx)),
        )
        .await
    }

    /// Checks and stores a file of the case whose key is `key` in the
    /// evidence store (hashing on a blocking thread), then describes it as
    /// evidence.
    pub(crate) async fn new_evidence(
        &self,
        key: &crate::privacy::CaseKey,
        bytes: &[u8],
        filename: Option<&str>,
        by: ActorKind,
        name: &str,
    ) -> AppResult<(Evidence, tokio::sync::OwnedRwLockReadGuard<()>)> {
        // A purge removing an unused file waits for uploads in flight, so
        // it never removes one a case is about to name.
        let gate = self.evidence_gate.clone().read_owned().await;
        let stored = self.evidence.put_in_case(key, bytes).await?;
        metrics::counter!("redress_evidence_bytes_total").increment(stored.size);
        let thumbnail = crate::thumbnail::applies_to(&stored.content_type)
            && self
                .evidence
                .put_thumbnail(key, &stored.sha256, bytes)
                .await?;
        Ok((
            Evidence {
                id: Uuid::now_v7().to_string(),
                sha256: stored.sha256,
                size: stored.size,
                content_type: stored.content_type,
                filename: crate::evidence::clean_filename(filename),
                uploaded_by: Author {
                    kind: by,
                    name: name.into(),
                },
                at: self.now(),
                from_case: None,
                shared_with: Vec::new(),
                thumbnail,
            },
            gate,
        ))
    }

    /// A file from staff, shared with the parties in `share` (none: staff
    /// only).
    pub async fn staff_evidence(
        &self,
        who: &Principal,
        id: Uuid,
        filename: Option<&str>,
        bytes: &[u8],
        share: &[Party],
    ) -> AppResult<views::StaffCaseView> {
        if share.contains(&Party::Staff) {
            return Err(AppError::invalid("share", Reason::Share));
        }
        let staff = who.staff()?;
        // Check visibility (and that the case is open) before storing anything.
        let (_, loaded, _) = self.staff_case(who, id).await?;
        if loaded.case.is_sealed() {
            return Err(AppError::Conflict("the case is closed".into()));
        }
        // The gate stays open until the case naming the file is saved.
        let (evidence, _gate) = self
            .new_evidence(
                case_key(&loaded)?,
                bytes,
                filename,
                ActorKind::Staff,
                &staff.user.username,
            )
            .await?;
        let evidence = Evidence {
            shared_with: share.to_vec(),
            ..evidence
        };
        self.staff_action(
            who,
            id,
            |_, _, _| Ok(()),
            |case, ctx| refuse(case.add_evidence(evidence.clone(), ctx)),
        )
        .await
    }

    /// `{due_at, reason}` moves the handling deadline to a date, `{days,
    /// reason}` adds working days.
    pub async fn extend(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::ExtendCommand,
    ) -> AppResult<views::StaffCaseView> {
        let (to, reason) = (cmd.to, &cmd.reason);
        self.staff_action(
            who,
            id,
            |_, a, _| a.require(a.handle, "extend"),
            |case, ctx| refuse(case.extend(to, reason, ctx)),
        )
        .await
    }

    /// Stops the clock of the running staff deadline (`{reason}`).
    pub async fn pause(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::PauseCommand,
    ) -> AppResult<views::StaffCaseView> {
        let reason = &cmd.reason;
        self.staff_action(
            who,
            id,
            |s, a, case| clock_owner(s, a, case, "pause"),
            |case, ctx| refuse(case.pause(reason, ctx)),
        )
        .await
    }

    /// Restarts a paused clock (`{reason?}`).
    pub async fn resume(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::ResumeCommand,
    ) -> AppResult<views::StaffCaseView> {
        let reason = &cmd.reason;
        self.staff_action(
            who,
            id,
            |s, a, case| clock_owner(s, a, case, "resume"),
            |case, ctx| refuse(case.resume(reason.as_deref(), ctx)),
        )
        .await
    }

    pub async fn decide(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::DecideCommand,
    ) -> AppResult<views::StaffCaseView> {
        let commands::DecideCommand {
            outcome,
            basis,
            reply,
            remedies,
            sanctions,
            actions,
        } = cmd;
        let outcome = *outcome;
        let staff = who.staff()?.clone();
        let decider = staff.staff_ref();
        let categories = self.store.list_categories().await?;
        let owners = named_owners(actions);
        let users = if owners.is_empty() {
            Vec::new()
        } else {
            self.store.list_users().await?
        };
        self.staff_action(
            who,
            id,
            |_, a, _| a.require(a.handle, "decide"),
            |case, ctx| {
                let errors = crate::actions::owner_errors(&users, case, &owners, &decider.username);
                if !errors.is_empty() {
                    return Err(AppError::Invalid(errors));
                }
                let action_days = case
                    .category
                    .as_ref()
                    .and_then(|c| categories.iter().find(|x| &x.code == c))
                    .and_then(|c| c.handling_days)
                    .unwrap_or(ctx.policy.handling_days);
                refuse(case.decide(
                    outcome,
                    basis.clone(),
                    reply,
                    remedies.clone(),
                    sanctions.clone(),
                    actions.clone(),
                    &decider,
                    action_days,
                    ctx,
                ))
            },
        )
        .await
    }

    pub async fn complete_action(
        &self,
        who: &Principal,
        id: Uuid,
        action_id: &str,
        cmd: &commands::CompleteActionCommand,
    ) -> AppResult<views::StaffCaseView> {
        let note = &cmd.note;
        self.staff_action(
            who,
            id,
            |_, _, _| Ok(()),
            |case, ctx| refuse(case.complete_action(action_id, note, ctx)),
        )
        .await
    }

    pub async fn review(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::ReviewCommand,
    ) -> AppResult<views::StaffCaseView> {
        let commands::ReviewCommand {
            result,
            basis,
            reply,
            change,
        } = cmd;
        let result = *result;
        let staff = who.staff()?.clone();
        staff.require(Role::Reviewer)?;
        let reviewer = staff.staff_ref();
        let categories = self.store.list_categories().await?;
        let owners = named_owners(&change.actions);
        let users = if owners.is_empty() {
            Vec::new()
        } else {
            self.store.list_users().await?
        };
        self.staff_action(
            who,
            id,
            |_, _, _| Ok(()),
            |case, ctx| {
                let errors =
                    crate::actions::owner_errors(&users, case, &owners, &reviewer.username);
                if !errors.is_empty() {
                    return Err(AppError::Invalid(errors));
                }
                let action_days = case
                    .category
                    .as_ref()
                    .and_then(|c| categories.iter().find(|x| &x.code == c))
                    .and_then(|c| c.handling_days)
                    .unwrap_or(ctx.policy.handling_days);
                refuse(case.review(
                    result,
                    basis.clone(),
                    reply,
                    change.clone(),
                    &reviewer,
                    action_days,
                    ctx,
                ))
            },
        )
        .await
    }

    pub async fn patch_record(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::PatchRecordCommand,
    ) -> AppResult<views::StaffCaseView> {
        let now = self.now();
        self.staff_action(
            who,
            id,
            |_, a, _| a.require(a.intake, "edit the record of"),
            |case, ctx| {
                // Merge the patch over the current record and parse the whole
                // again, so every rule of registration applies to edits too.
                let mut merged = serde_json::to_value(&case.record).map_err(AppError::internal)?;
                merge_json(&mut merged, &cmd.patch);
                if let Value::Object(m) = &mut merged {
                    m.insert("channel".into(), json!(case.channel));
                }
                let input = redress_domain::parse_registration(&merged, now)?;
                refuse(case.update_record(input.record, ctx))
            },
        )
        .await
    }

    pub async fn link(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::LinkCommand,
    ) -> AppResult<views::StaffCaseView> {
        let other = &cmd.other;
        let staff = who.staff()?.clone();
        self.may_act_on(&staff, id).await?;
        let other = self.resolve_case_ref(who, "other", other).await?;
        let loaded = self
            .mutate_pair(id, other, Self::staff_actor(&staff), |a, o, ctx| {
                staff.access(a)?;
                refuse(a.link(o, ctx))
            })
            .await?;
        self.staff_answer(&loaded).await
    }

    pub async fn merge(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &commands::MergeCommand,
    ) -> AppResult<views::StaffCaseView> {
        let into = &cmd.into;
        let staff = who.staff()?.clone();
        self.may_act_on(&staff, id).await?;
        let into = self.resolve_case_ref(who, "into", into).await?;
        // The files move with the case: each is sealed again, under the
        // original's key and name, before the merge names it there.
        let _gate = self.evidence_gate.clone().read_owned().await;
        let (dup, original) = (self.load(id).await?, self.load(into).await?);
        if let (Some(from), Some(to)) = (dup.key(), original.key())
            && id != into
        {
            for e in &dup.case.evidence {
                self.evidence.copy_to_case(from, to, &e.sha256).await?;
                if e.thumbnail {
                    self.evidence
                        .copy_thumbnail_to_case(from, to, &e.sha256)
                        .await?;
                }
            }
        }
        let loaded = self
            .mutate_pair(id, into, Self::staff_actor(&staff), |dup, original, ctx| {
                let access = staff.access(dup)?;
                access.require(access.intake || access.handle || access.supervise, "merge")?;
                refuse(dup.merge_into(original, ctx))
            })
            .await?;
        self.staff_answer(&loaded).await
    }

    /// Refuses (403) a caller who may not act on case `id` at all, before
    /// anything the body names is looked at: otherwise a refusal about the
    /// other case (422) would answer first, for admins and other
    /// departments alike. The transition checks again, on the case it
    /// saves.
    async fn may_act_on(&self, staff: &StaffUser, id: Uuid) -> AppResult<()> {
        if !staff.reads_cases() {
            return Err(AppError::Forbidden(
                "admins manage settings and do not act on cases".into(),
            ));
        }
        match staff.access(&self.load(id).await?.case) {
            Err(AppError::NotFound) => Err(AppError::Forbidden(
                "this case is not in your departments".into(),
            )),
            other => other.map(|_| ()),
        }
    }

    /// A case named by id or tracking number, visible to the caller.
    async fn resolve_case_ref(&self, who: &Principal, field: &str, raw: &str) -> AppResult<Uuid> {
        let staff = who.staff()?;
        let loaded = match Uuid::parse_str(raw.trim()) {
            Ok(id) => self.load(id).await,
            Err(_) => self.load_by_tracking_no(raw.trim()).await,
        };
        match loaded {
            Ok(l) if staff.access(&l.case).is_ok() => Ok(l.case.id),
            Ok(_) | Err(AppError::NotFound) => Err(AppError::invalid(
                field,
                Reason::NoSuch {
                    what: "case".into(),
                },
            )),
            Err(e) => Err(e),
        }
    }

    pub async fn archive(&self, who: &Principal, id: Uuid) -> AppResult<crate::export::DataExport> {
        let staff = who.staff()?;
        staff.require(Role::Supervisor)?;
        let out = self.export_archive(id).await?;
        self.log_event(
            Some(id),
            &Self::staff_actor(staff),
            "archive_exported",
            json!({"bytes": out.len}),
        )
        .await?;
        Ok(out)
    }

    /// The archive ZIP of a case, without a permission check (the CLI runs
    /// as the operator). It is written to an unlinked temporary file, one
    /// evidence file at a time, and streamed from there: memory never
    /// holds the whole archive.
    pub async fn export_archive(&self, id: Uuid) -> AppResult<crate::export::DataExport> {
        let loaded = self.load(id).await?;
        let events = self.store.events_for_case(id).await?;
        let generated_at = self.now();
        let time_zone = self.config.time_zone;
        let evidence = self.evidence.clone();
        let data_dir = self.config.data_dir.clone();
        let handle = tokio::runtime::Handle::current();
        let name = format!("{}.zip", loaded.case.tracking_no);
        tokio::task::spawn_blocking(move || {
            let input = crate::archive::ArchiveInput {
                case: &loaded.case,
                events: &events,
                key: loaded.key(),
                generated_at,
                time_zone,
            };
            let file = crate::export::temp_file(&data_dir).map_err(AppError::internal)?;
            // The store may be remote: each file is fetched when its turn
            // comes, on this blocking thread.
            let read = |sha: &str| handle.block_on(evidence.read_in_case(loaded.key(), sha));
            let file =
                crate::archive::write_archive(&input, &read, file).map_err(AppError::internal)?;
            crate::export::DataExport::from_file(name, file).map_err(AppError::internal)
        })
        .await
        .map_err(AppError::internal)?
    }

    /// `POST /complaints/{id}/reissue-code`: a new access code for the
    /// complainant, answered once; the old one stops working in the same
    /// save. For intake, who checked the caller's identity at the counter
    /// or on the phone; the journal names them (the actor of the event).
    pub async fn reissue_code(&self, who: &Principal, id: CaseId) -> AppResult<ReissuedCode> {
        let staff = who.staff()?;
        let loaded = self.load(id).await?;
        staff
            .access(&loaded.case)?
            .require(staff.has(Role::Intake), "re-issue the access code of")?;
        let code = crate::codes::new_access_code();
        let hash = crate::codes::code_hash(case_key(&loaded)?, &code)
            .ok_or_else(|| AppError::internal("a fresh access code does not normalize"))?;
        let saved = self
            .mutate_with_code(
                id,
                Self::staff_actor(staff),
                Some((&hash, None)),
                |case, ctx| refuse(case.reissue_code(None, ctx)),
            )
            .await?;
        Ok(ReissuedCode {
            access_token: code,
            id,
            tracking_url: self.tracking_url(&saved.case.tracking_no),
            tracking_no: saved.case.tracking_no,
        })
    }
}
