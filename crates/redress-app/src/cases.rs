//! Case use cases: registration, the staff actions of SPEC §3, the
//! complainant's and the respondent's calls, lists and search.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use redress_domain::Reason;
use redress_domain::{
    ActionInput, Actor, ActorKind, Audience, Author, Case, CaseId, Channel, Evidence, NoteKind,
    Party, Role, Scope, Status, parse_registration,
};
use redress_store::{CaseFilter, IdempotencyRecord, InsertOutcome, Page, StoreError, Visibility};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::access::{CaseAccess, Principal, StaffUser};
use crate::commands;
use crate::error::{AppError, AppResult};
use crate::views::{self, Contact};
use crate::{App, Loaded, refuse, stored};

/// A fresh human-readable tracking number: `RD` + local date + six
/// characters of Crockford base32 (no I, L, O, U), e.g. `RD261128-7K3F9Q`.
pub fn new_tracking_no(app: &App) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let date = app
        .now()
        .with_timezone(&app.config.time_zone)
        .format("%y%m%d");
    let mut rng = rand::thread_rng();
    let suffix: String = (0..6)
        .map(|_| ALPHABET[rng.gen_range(0..32)] as char)
        .collect();
    format!("RD{date}-{suffix}")
}

/// How many earlier open cases a new one points to as likely duplicates.
const MAX_DUPLICATES: usize = 20;

/// Query of `GET /complaints`.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub status: Option<String>,
    pub department: Option<String>,
    pub category: Option<String>,
    pub respondent: Option<String>,
    pub respondent_name: Option<String>,
    pub assignee: Option<String>,
    pub channel: Option<String>,
    pub closure: Option<String>,
    /// The outcome in force.
    pub outcome: Option<String>,
    /// A stage whose deadline was missed (`acceptance`, `supplement`,
    /// `handling`, `review`), or `any`.
    pub missed: Option<String>,
    /// `due`: by next deadline, soonest first; default newest first.
    pub sort: Option<String>,
    /// Filed at or after: an instant (RFC 3339) or a date (from its start,
    /// in the installation's zone).
    pub from: Option<String>,
    /// Filed before: an instant, or a date (to its end).
    pub to: Option<String>,
    pub overdue: Option<String>,
    pub due_soon: Option<String>,
    pub q: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A list bound: an RFC 3339 instant, or a date in `tz` — its start, or
/// with `end` the start of the next day (so that `to=2026-12-06` takes the
/// whole day).
pub(crate) fn filing_bound(
    raw: Option<&str>,
    tz: chrono_tz::Tz,
    end: bool,
    field: &str,
    errors: &mut redress_domain::FieldErrors,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| if end { d.succ_opt() } else { Some(d) })
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(tz).earliest());
    if day.is_none() {
        errors.add(field, Reason::DateOrInstant);
    }
    day.map(|t| t.with_timezone(&chrono::Utc))
}

/// The stages `missed=` names.
const MISSED_STAGES: [(&str, redress_domain::Stage); 4] = [
    ("acceptance", redress_domain::Stage::Acceptance),
    ("supplement", redress_domain::Stage::Supplement),
    ("handling", redress_domain::Stage::Handling),
    ("review", redress_domain::Stage::Review),
];

pub(crate) fn encode_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("c1:{seq}"))
}

/// Beyond this many matches a search's total says "at least" (SPEC §11).
const SEARCH_TOTAL_CAP: i64 = 10_000;

/// A cursor of a list sorted by next deadline: the last item's deadline
/// (microseconds, or `-` for none) and seq.
fn encode_due_cursor(due: Option<chrono::DateTime<chrono::Utc>>, seq: i64) -> String {
    let due = due.map_or("-".to_string(), |d| d.timestamp_micros().to_string());
    URL_SAFE_NO_PAD.encode(format!("d1:{due}:{seq}"))
}

fn decode_due_cursor(raw: &str) -> Option<(Option<chrono::DateTime<chrono::Utc>>, i64)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (due, seq) = text.strip_prefix("d1:")?.split_once(':')?;
    let due = match due {
        "-" => None,
        micros => Some(chrono::DateTime::from_timestamp_micros(
            micros.parse().ok()?,
        )?),
    };
    Some((due, seq.parse().ok()?))
}

/// A cursor of a search ranked by relevance: the last item's score and seq.
fn encode_rank_cursor(score: i64, seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("r1:{score}:{seq}"))
}

fn decode_rank_cursor(raw: &str) -> Option<(i64, i64)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (score, seq) = text.strip_prefix("r1:")?.split_once(':')?;
    Some((score.parse().ok()?, seq.parse().ok()?))
}

fn decode_cursor(raw: &str) -> Option<i64> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    text.strip_prefix("c1:")?.parse().ok()
}

pub fn page_json(page: Page<Value>) -> Value {
    json!({"items": page.items, "total": page.total, "next_cursor": page.next.map(encode_cursor)})
}

/// Parses `limit` and `cursor` of any list.
pub fn paging(limit: Option<&str>, cursor: Option<&str>) -> AppResult<(usize, Option<i64>)> {
    let mut errors = redress_domain::FieldErrors::new();
    let limit = match limit {
        None | Some("") => 20,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => {
                errors.add("limit", Reason::IntRange { a: 1, b: 200 });
                20
            }
        },
    };
    let after = match cursor {
        None | Some("") => None,
        Some(c) => match decode_cursor(c) {
            Some(s) => Some(s),
            None => {
                errors.add("cursor", Reason::Cursor);
                None
            }
        },
    };
    errors.into_result().map_err(AppError::from)?;
    Ok((limit, after))
}

/// The answer to a registration.
pub struct Registered {
    pub status: u16,
    pub body: Value,
}

/// Who files a registration, and on which channels.
pub(crate) struct Intake<'a> {
    pub default_channel: Channel,
    pub allowed: &'a [Channel],
    pub actor: Actor,
    /// The namespace of the caller's idempotency keys.
    pub scope: String,
    /// Staff see likely duplicates in the answer.
    pub staff: bool,
    /// Files already stored that the new case names as evidence (a mail's
    /// attachments).
    pub evidence: Vec<Evidence>,
    /// An internal note to file with the case (what intake could not keep).
    pub note: Option<String>,
    /// The new case's id and key, when they were made first (its files are
    /// already stored with the key).
    pub case: Option<(Uuid, stored::Sealing)>,
}

impl App {
    pub(crate) fn staff_actor(staff: &StaffUser) -> Actor {
        Actor::staff(&staff.user.username)
    }

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
                    let open = self.store.open_cases_between(&ck, &r.key()).await?;
                    // A repeat complainant (the respondent's scorecard):
                    // any earlier case between the two, open or closed.
                    case.repeat_complainant =
                        !open.is_empty() || self.store.has_case_between(&ck, &r.key()).await?;
                    open
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

    /// Loads a case for a staff member, with their rights on it.
    pub(crate) async fn staff_case(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> AppResult<(StaffUser, Loaded, CaseAccess)> {
        let staff = who.staff()?.clone();
        if !staff.reads_cases() {
            return Err(AppError::Forbidden(
                "admins manage settings and do not read cases".into(),
            ));
        }
        let loaded = self.load(id).await?;
        let access = staff.access(&loaded.case)?;
        Ok((staff, loaded, access))
    }

    /// A case's journal entries with their payloads opened.
    pub async fn case_events(
        &self,
        loaded: &Loaded,
    ) -> AppResult<Vec<redress_store::JournalEntry>> {
        let mut events = self.store.events_for_case(loaded.case.id).await?;
        for e in &mut events {
            e.data = stored::open_event(loaded.key(), &e.kind, &e.data);
        }
        Ok(events)
    }

    /// The whole case as staff see it after an action (contact data masked:
    /// only an explicit read shows it, and is logged).
    pub async fn staff_answer(&self, loaded: &Loaded) -> AppResult<views::StaffCaseView> {
        let events = self.case_events(loaded).await?;
        Ok(views::staff_view(
            &loaded.case,
            &events,
            Contact::Masked,
            self.now(),
            &self.calendar(),
        ))
    }

    /// `GET /complaints/{id}`: the whole case, contact data in the clear;
    /// the view is logged.
    pub async fn get_case(&self, who: &Principal, id: Uuid) -> AppResult<views::StaffCaseView> {
        if let Principal::Integration(k) = who
            && who.has_scope(Scope::Read)
        {
            // The platform's own systems read cases without contact data;
            // each read is journaled like a staff member's.
            let loaded = self.load(id).await?;
            self.log_event(
                Some(id),
                &Actor {
                    kind: ActorKind::Integration,
                    id: k.name.clone(),
                },
                "case_viewed",
                json!({"api_key": k.id}),
            )
            .await?;
            return self.staff_answer(&loaded).await;
        }
        let (staff, loaded, _) = self.staff_case(who, id).await?;
        self.log_event(
            Some(id),
            &Self::staff_actor(&staff),
            "personal_data_viewed",
            json!({"fields": ["complainant.email", "complainant.phone"]}),
        )
        .await?;
        let events = self.case_events(&loaded).await?;
        Ok(views::staff_view(
            &loaded.case,
            &events,
            Contact::Clear,
            self.now(),
            &self.calendar(),
        ))
    }

    /// Runs a staff action: loads, checks rights with `check`, transitions with `f`.
    pub(crate) async fn staff_action<C, F>(
        &self,
        who: &Principal,
        id: Uuid,
        check: C,
        f: F,
    ) -> AppResult<views::StaffCaseView>
    where
        C: Fn(&StaffUser, CaseAccess, &Case) -> AppResult<()>,
        F: Fn(&mut Case, &redress_domain::Ctx) -> AppResult<redress_domain::Effects>,
    {
        let staff = who.staff()?.clone();
        if !staff.reads_cases() {
            return Err(AppError::Forbidden(
                "admins manage settings and do not act on cases".into(),
            ));
        }
        let loaded = self
            .mutate(id, Self::staff_actor(&staff), |case, ctx| {
                // Reads of a case one may not see answer 404; an action on
                // it answers 403: the caller has the id, and the refusal
                // concerns the person.
                let access = staff.access(case).map_err(|e| match e {
                    AppError::NotFound => {
                        AppError::Forbidden("this case is not in your departments".into())
                    }
                    other => other,
                })?;
                check(&staff, access, case)?;
                f(case, ctx)
            })
            .await?;
        self.staff_answer(&loaded).await
    }

    pub async fn list_cases(&self, who: &Principal, q: &ListQuery) -> AppResult<views::CaseList> {
        let visibility = match who {
            Principal::Staff(s) if s.reads_cases() => s.visibility(),
            Principal::Integration(_) if who.has_scope(Scope::Read) => Visibility::All,
            Principal::Anonymous => return Err(AppError::Unauthorized),
            _ => return Err(AppError::Forbidden("you may not list cases".into())),
        };
        let mut errors = redress_domain::FieldErrors::new();
        let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => match s.parse::<Status>() {
                Ok(st) => Some(st),
                Err(m) => {
                    errors.add("status", m);
                    None
                }
            },
            None => None,
        };
        let now = self.now();
        let overdue_at = match q.overdue.as_deref() {
            None | Some("") | Some("false") | Some("0") => None,
            Some("true") | Some("1") => Some(now),
            Some(_) => {
                errors.add("overdue", Reason::Bool);
                None
            }
        };
        let due_between = match q.due_soon.as_deref() {
            None | Some("") | Some("false") | Some("0") => None,
            Some("true") | Some("1") => Some((now, self.due_soon_until())),
            Some(_) => {
                errors.add("due_soon", Reason::Bool);
                None
            }
        };
        let respondent_key = q
            .respondent
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|r| r.to_string());
        let mut query =
            q.q.as_deref()
                .map(redress_domain::text::query_tokens)
                .unwrap_or_default();
        // A respondent's name is in the case's search text: its words find
        // the candidates in the index, and the store keeps those whose
        // respondent's name contains the text.
        let respondent_name = q
            .respondent_name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if let Some(name) = &respondent_name {
            if name.chars().count() > 200 {
                errors.add("respondent_name", Reason::AtMost { n: 200 });
            }
            query.extend(redress_domain::text::query_tokens(name));
        }
        let channel = match q.channel.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => s
                .parse::<redress_domain::Channel>()
                .map_err(|m| errors.add("channel", m))
                .ok(),
            None => None,
        };
        let closure = match q.closure.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => s
                .parse::<redress_domain::Closure>()
                .map_err(|m| errors.add("closure", m))
                .ok(),
            None => None,
        };
        let outcome = match q.outcome.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => s
                .parse::<redress_domain::Outcome>()
                .map_err(|m| errors.add("outcome", m))
                .ok(),
            None => None,
        };
        let missed = match q.missed.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some("any") => Some(None),
            Some(s) => match MISSED_STAGES.iter().find(|(name, _)| *name == s) {
                Some((_, stage)) => Some(Some(*stage)),
                None => {
                    errors.add(
                        "missed",
                        Reason::one_of(MISSED_STAGES.iter().map(|(n, _)| *n).chain(["any"])),
                    );
                    None
                }
            },
        };
        let searching = !query.is_empty() && q.q.as_deref().is_some_and(|s| !s.trim().is_empty());
        // A search lists its best matches first unless asked otherwise.
        let (by_due, by_relevance) = match q.sort.as_deref().filter(|s| !s.is_empty()) {
            None => (false, searching),
            Some("newest") => (false, false),
            Some("due") => (true, false),
            Some("relevance") => (false, searching),
            Some(_) => {
                errors.add("sort", Reason::one_of(["relevance", "newest", "due"]));
                (false, false)
            }
        };
        let tz = self.config.time_zone;
        let filed_from = filing_bound(q.from.as_deref(), tz, false, "from", &mut errors);
        let filed_before = filing_bound(q.to.as_deref(), tz, true, "to", &mut errors);
        if let (Some(a), Some(b)) = (filed_from, filed_before)
            && b <= a
        {
            errors.add("to", Reason::AfterFrom);
        }
        // A cursor continues the order it was given out for.
        let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
        let due_after = match cursor.filter(|_| by_due) {
            Some(c) => {
                let at = decode_due_cursor(c);
                if at.is_none() {
                    errors.add("cursor", Reason::Cursor);
                }
                at
            }
            None => None,
        };
        let ranked_after = match cursor.filter(|_| by_relevance) {
            Some(c) => {
                let at = decode_rank_cursor(c);
                if at.is_none() {
                    errors.add("cursor", Reason::Cursor);
                }
                at
            }
            None => None,
        };
        errors.into_result()?;
        let (limit, after) = paging(
            q.limit.as_deref(),
            cursor.filter(|_| !by_due && !by_relevance),
        )?;
        let filter = CaseFilter {
            status,
            department: q.department.clone().filter(|s| !s.is_empty()),
            category: q.category.clone().filter(|s| !s.is_empty()),
            respondent_key,
            respondent_name,
            assignee: q.assignee.clone().filter(|s| !s.is_empty()),
            channel,
            closure,
            outcome,
            missed,
            filed_from,
            filed_before,
            overdue_at,
            due_between,
            query,
            by_due,
            due_after,
            // A search counts up to the cap; one ranked by relevance counts
            // the matches it ranks.
            count_cap: match (searching, by_relevance) {
                (true, true) => Some(0),
                (true, false) => Some(SEARCH_TOTAL_CAP + 1),
                _ => None,
            },
        };
        if by_relevance {
            return self
                .ranked_search(
                    &visibility,
                    &filter,
                    q.q.as_deref().unwrap_or(""),
                    limit,
                    ranked_after,
                )
                .await;
        }
        let page = self
            .store
            .list_cases(&visibility, &filter, limit, after)
            .await?;
        let calendar = self.calendar();
        let next_cursor = match (page.next, page.items.last()) {
            (Some(_), Some(last)) if by_due => Some(encode_due_cursor(last.next_due_at, last.seq)),
            (Some(seq), _) => Some(encode_cursor(seq)),
            _ => None,
        };
        let items = page
            .items
            .iter()
            .map(|s| views::list_item(s, now, &calendar))
            .collect();
        let mut answer = views::CaseList {
            items,
            next_cursor,
            total: page.total,
            total_relation: None,
        };
        // A search counts exactly up to SEARCH_TOTAL_CAP matches (SPEC §11).
        if searching {
            let over = page.total > SEARCH_TOTAL_CAP;
            answer.total = page.total.min(SEARCH_TOTAL_CAP);
            answer.total_relation = Some(if over { "gte" } else { "eq" });
        }
        Ok(answer)
    }

    /// A search's page, best match first (SPEC §11): the newest
    /// [`SEARCH_TOTAL_CAP`] matches are ranked by
    /// [`redress_domain::text::relevance`] of their subjects, newest first
    /// among equals; the cursor is the last item's (score, seq).
    async fn ranked_search(
        &self,
        visibility: &redress_store::Visibility,
        filter: &CaseFilter,
        text: &str,
        limit: usize,
        after: Option<(i64, i64)>,
    ) -> AppResult<views::CaseList> {
        let candidates = self
            .store
            .list_cases(visibility, filter, SEARCH_TOTAL_CAP as usize, None)
            .await?;
        let over = candidates.next.is_some();
        let relevance = redress_domain::text::Relevance::new(text);
        let mut ranked: Vec<(i64, &redress_store::CaseSummary)> = candidates
            .items
            .iter()
            .map(|c| (relevance.score(&c.subject), c))
            .collect();
        ranked.sort_by_key(|r| std::cmp::Reverse((r.0, r.1.seq)));
        let start = after.map_or(0, |key| {
            ranked
                .iter()
                .position(|(score, c)| (*score, c.seq) < key)
                .unwrap_or(ranked.len())
        });
        let page: Vec<&(i64, &redress_store::CaseSummary)> =
            ranked.iter().skip(start).take(limit).collect();
        let next_cursor = (start + page.len() < ranked.len())
            .then(|| {
                page.last()
                    .map(|(score, c)| encode_rank_cursor(*score, c.seq))
            })
            .flatten();
        let (now, calendar) = (self.now(), self.calendar());
        let items = page
            .iter()
            .map(|(_, c)| views::list_item(c, now, &calendar))
            .collect();
        Ok(views::CaseList {
            items,
            next_cursor,
            total: ranked.len() as i64,
            total_relation: Some(if over { "gte" } else { "eq" }),
        })
    }

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

    // ---- the complainant -----------------------------------------------------

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

    // ---- the respondent ------------------------------------------------------

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

    /// `POST /respondent/cases/{id}/messages` as JSON. The exception to
    /// parsing at the edge: a caller who may not see the case is refused
    /// (404) before the body is read, so this checks first, then parses.
    pub async fn respondent_message_json(
        &self,
        who: &Principal,
        id: Uuid,
        body: &Value,
    ) -> AppResult<views::RespondentCaseView> {
        self.respondent_case(who, id).await?;
        let cmd = commands::PartyMessageCommand::parse(body)?;
        self.respondent_message(who, id, &cmd).await
    }

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

/// The owners named in an order's corrective actions, with their place.
fn named_owners(actions: &[ActionInput]) -> Vec<(usize, String)> {
    actions
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let o = a.owner.as_deref()?.trim();
            (!o.is_empty()).then(|| (i, o.to_string()))
        })
        .collect()
}

fn merge_json(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        merge_json(existing, v)
                    }
                    _ => {
                        t.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

/// Who may pause or resume the clock: the role that owes the running
/// deadline (intake for acceptance, a handler of the department while the
/// case is handled, a reviewer during review), or a supervisor.
fn clock_owner(
    staff: &StaffUser,
    access: CaseAccess,
    case: &redress_domain::Case,
    action: &str,
) -> AppResult<()> {
    let owner = match case.status {
        redress_domain::Status::Submitted => access.intake,
        redress_domain::Status::InProgress => access.handle,
        redress_domain::Status::UnderReview => access.review,
        _ => true, // the domain refuses with 409
    };
    access.require(owner || staff.has(Role::Supervisor), action)
}

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

/// Where a stored answer to an idempotent registration is sealed for.
pub(crate) fn idempotency_aad(key: &str) -> String {
    format!("idempotency:{key}:body")
}

/// The key of a case that takes new files (a purged case has none, and is
/// closed).
fn case_key(loaded: &Loaded) -> AppResult<&crate::privacy::CaseKey> {
    loaded
        .key()
        .ok_or_else(|| AppError::Conflict("the case is closed".into()))
}

// Fields in alphabetical order: the order of the `json!` object it
// replaced, so that the answer stays the same byte for byte.
/// A re-issued access code, shown this once.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReissuedCode {
    /// The new access code (`7KQ4-9XMT-2PRD`); the old one no longer works.
    pub access_token: String,
    #[schema(value_type = String, format = Uuid)]
    pub id: CaseId,
    pub tracking_no: String,
    pub tracking_url: String,
}

#[cfg(test)]
mod reissued_code_tests {
    use super::*;

    #[test]
    fn the_reissued_code_is_the_old_object() {
        let id = uuid::Uuid::now_v7();
        let typed = ReissuedCode {
            access_token: "7KQ4-9XMT-2PRD".into(),
            id,
            tracking_no: "TS-2026-000001".into(),
            tracking_url: "https://x.cn/track/TS-2026-000001".into(),
        };
        let old = json!({
            "id": id,
            "tracking_no": "TS-2026-000001",
            "access_token": "7KQ4-9XMT-2PRD",
            "tracking_url": "https://x.cn/track/TS-2026-000001",
        });
        assert_eq!(serde_json::to_string(&typed).unwrap(), old.to_string());
    }
}
