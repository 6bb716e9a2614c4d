//! Registration on every channel: `POST /complaints` and the channels'
//! intake, with idempotent replays.

use super::*;

impl App {
    /// `POST /complaints`. `idempotency_key` is the caller's header value;
    /// `body_hash` the SHA-256 of the raw body.
    pub async fn register(
        &self,
        who: &Principal,
        body: &Value,
        body_hash: &str,
        idempotency_key: Option<&str>,
        client: Option<std::net::IpAddr>,
    ) -> AppResult<Registered> {
        // Who may file, and on which channels.
        let (default_channel, allowed, actor, scope): (Channel, &[Channel], Actor, String) =
            match who {
                Principal::Anonymous => (
                    Channel::Web,
                    &[Channel::Web],
                    Actor {
                        kind: ActorKind::Complainant,
                        id: "public".into(),
                    },
                    // Public keys are scoped per client address: one caller cannot
                    // replay (or block) another's registration.
                    client.map_or_else(|| "public".into(), |ip| format!("public:{ip}")),
                ),
                Principal::Integration(k) => {
                    if !who.has_scope(Scope::Intake) {
                        return Err(AppError::Forbidden(
                            "this API key lacks the intake scope".into(),
                        ));
                    }
                    (
                        Channel::Api,
                        &[Channel::Api, Channel::Chat],
                        Actor {
                            kind: ActorKind::Integration,
                            id: k.name.clone(),
                        },
                        format!("apikey:{}", k.id),
                    )
                }
                Principal::Staff(s) => {
                    s.require(Role::Intake)?;
                    (
                        Channel::Phone,
                        Channel::ALL,
                        Self::staff_actor(s),
                        format!("staff:{}", s.user.id),
                    )
                }
                Principal::Respondent(_) => {
                    return Err(AppError::Forbidden(
                        "respondents cannot file complaints here".into(),
                    ));
                }
                Principal::PasswordExpired(_) => {
                    who.staff()?;
                    return Err(AppError::Unauthorized);
                }
            };
        if matches!(who, Principal::Anonymous) {
            // The public form's channel can be switched off (SPEC §5).
            self.require_channel_open(Channel::Web).await?;
        }
        self.register_as(
            Intake {
                default_channel,
                allowed,
                actor,
                scope,
                staff: matches!(who, Principal::Staff(_)),
                evidence: vec![],
                note: None,
                case: None,
            },
            body,
            body_hash,
            idempotency_key,
        )
        .await
    }

    /// Files a registration for an intake that already knows who files it
    /// and on which channels (the HTTP callers above, the mail receiver).
    pub(crate) async fn register_as(
        &self,
        intake: Intake<'_>,
        body: &Value,
        body_hash: &str,
        idempotency_key: Option<&str>,
    ) -> AppResult<Registered> {
        let now = self.now();
        let Intake {
            default_channel,
            allowed,
            actor,
            scope,
            staff,
            evidence,
            note,
            case: made,
        } = intake;
        let idem_key = match idempotency_key.map(str::trim) {
            None => None,
            Some(k) if !k.is_empty() && k.len() <= 255 => Some(format!("{scope}:{k}")),
            Some(_) => {
                return Err(AppError::invalid(
                    "Idempotency-Key",
                    Reason::Length { n: 255 },
                ));
            }
        };
        if let Some(key) = &idem_key
            && let Some(first) = self.store.get_idempotency(key).await?
        {
            return self.replay(first, body_hash);
        }
        let input = parse_registration(body, now)?;
        let channel = input.channel.unwrap_or(default_channel);
        if !allowed.contains(&channel) {
            let names: Vec<&str> = allowed.iter().map(|c| c.as_str()).collect();
            return Err(AppError::invalid("channel", Reason::one_of(names)));
        }

        let calendar = self.calendar();
        let ctx = self.ctx(&calendar, actor.clone());
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (id, sealing): (CaseId, stored::Sealing) = match &made {
                Some((id, sealing)) => (*id, sealing.clone()),
                None => {
                    let id = Uuid::now_v7();
                    (id, stored::new_sealing(&self.vault, id))
                }
            };
            let token = crate::codes::new_access_code();
            let tracking_no = new_tracking_no(self);
            // Duplicate flag: an open case of the same complainant against the same respondent.
            let (mut case, mut effects) = Case::register(
                id,
                tracking_no.clone(),
                input.clone(),
                channel,
                vec![],
                &ctx,
            );
            for e in &evidence {
                effects.merge(refuse(case.add_evidence(e.clone(), &ctx))?);
            }
            if let Some(note) = &note {
                effects.merge(refuse(case.add_note(NoteKind::Note, note, &ctx))?);
            }
            let duplicates = match (
                stored::complainant_key(&case, &self.vault),
                case.record.respondent.as_ref(),
            ) {
                (Some(ck), Some(r)) => {
                    let between = self.store.cases_between(&ck, &r.key()).await?;
                    // A repeat complainant (the respondent's scorecard):
                    // any earlier case between the two, open or closed.
                    case.repeat_complainant = between.any;
                    between.open
                }
                _ => vec![],
            };
            // The newest few are enough to point staff at the thread.
            case.possible_duplicates = duplicates.into_iter().rev().take(MAX_DUPLICATES).collect();
            self.deliver(&mut case, &effects, now, None, None);
            let code_hash = crate::codes::code_hash(&sealing.key, &token)
                .ok_or_else(|| AppError::internal("a fresh access code does not normalize"))?;
            // The acknowledgement carries the code (SPEC §5): sealed in the
            // stored case until it has left.
            let sealed_code = crate::codes::seal_pending(&sealing.key, &token);
            let row = self.row(&case, &code_hash, Some(&sealed_code), 0, Some(&sealing))?;
            let events = self.journal(
                Some(id),
                Some(&stored::CaseKeyRef {
                    key: &sealing.key,
                    purged: false,
                }),
                &actor,
                now,
                &effects,
            );
            let answer = json!({
                "id": id,
                "tracking_no": tracking_no,
                "access_token": token,
                "status": case.status,
                "acceptance_due_at": case.deadlines.acceptance_due_at,
                "tracking_url": self.tracking_url(&tracking_no),
            });
            // Likely duplicates are other people's business to the public and
            // to integrations (anyone could probe a phone number): only staff
            // see them in the answer, everyone on staff sees them on the case.
            let mut answer = answer;
            if staff {
                answer["duplicate"] = json!(!case.possible_duplicates.is_empty());
                answer["possible_duplicates"] = json!(case.possible_duplicates);
            }
            let idem = idem_key.as_ref().map(|key| IdempotencyRecord {
                key: key.clone(),
                request_hash: body_hash.into(),
                status: 201,
                body: self
                    .vault
                    .seal_for(&idempotency_aad(key), &answer.to_string()),
                created_at: now,
            });
            match self.store.insert_case(row, events, idem).await {
                Ok(InsertOutcome::Inserted { .. }) => {
                    self.wake_if_pending(&case);
                    metrics::counter!("redress_complaints_registered_total", "channel" => channel.as_str()).increment(1);
                    self.webhooks.ring();
                    return Ok(Registered {
                        status: 201,
                        body: answer,
                    });
                }
                Ok(InsertOutcome::Replayed(first)) => return self.replay(first, body_hash),
                Err(StoreError::Duplicate("tracking_no")) if attempts < 5 => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn replay(&self, first: IdempotencyRecord, body_hash: &str) -> AppResult<Registered> {
        if first.request_hash != body_hash {
            return Err(AppError::invalid("Idempotency-Key", Reason::Idempotency));
        }
        let text = self
            .vault
            .open_for(&idempotency_aad(&first.key), &first.body)
            .ok_or_else(|| AppError::internal("stored answer does not open"))?;
        let body = serde_json::from_str(&text).map_err(AppError::internal)?;
        Ok(Registered {
            status: first.status,
            body,
        })
    }
}
