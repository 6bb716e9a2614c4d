//! Keys and the grants that open cases (SPEC §2, §9; docs/security.md).
//!
//! An admin manages people and settings but never reads a case: they may
//! create `intake` API keys only (`read` and `webhooks` keys are a
//! supervisor's), they cannot change their own roles or departments, and
//! whenever they give someone a role that reads cases, or reset the
//! password of such a user, every supervisor is told at once (journal,
//! e-mail, console). API keys and respondents' portal keys can be revoked
//! and may expire.

use chrono::{DateTime, Utc};
use redress_domain::{NoticeKind, Role, Scope};
use redress_store::{ApiKey, User};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::App;
use crate::access::{Principal, StaffUser};
use crate::error::{AppError, AppResult};
use crate::outbound::Outgoing;
use crate::privacy::{new_token, token_hash};

/// The journal kinds supervisors are shown as security notices.
pub const SECURITY_KINDS: [&str; 7] = [
    "role_granted",
    "account_changed",
    "password_reset",
    "respondent_key_issued",
    "api_key_created",
    "outbound_cap_reached",
    LEGACY_GRANTS_REVOKED,
];

/// The event of [`App::revoke_legacy_grants`] when it stopped something.
pub const LEGACY_GRANTS_REVOKED: &str = "legacy_grants_revoked";
/// The event that marks [`App::revoke_legacy_grants`] done.
const LEGACY_GRANTS_REVIEWED: &str = "legacy_grants_reviewed";

/// What [`App::revoke_legacy_grants`] stopped; also the data of its
/// events. Fields in alphabetical order: the order of the `json!` object
/// it replaced, so that the journal's data stay the same byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyGrantsReport {
    /// The names of the API keys revoked.
    pub keys: Vec<String>,
    /// The keys' and the webhooks' names, joined by `, `.
    pub name: String,
    /// The webhook subscriptions paused, as shown (URL without secrets).
    pub webhooks: Vec<String>,
}

/// The roles among `roles` that read case content.
pub fn reading_roles(roles: &[Role]) -> Vec<Role> {
    roles.iter().copied().filter(|r| r.reads_cases()).collect()
}

/// Roles in `after` that read cases and were not in `before`.
pub fn granted_reading_roles(before: &[Role], after: &[Role]) -> Vec<Role> {
    reading_roles(after)
        .into_iter()
        .filter(|r| !before.contains(r))
        .collect()
}

/// What an API key may do.
// The contract strings of [`Scope`], for the API document.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScopeName {
    Intake,
    Read,
    Webhooks,
}

/// An integration key, without its secret (`GET /admin/api-keys`,
/// `DELETE /admin/api-keys/{id}`).
// The fields of these answers are declared in alphabetical order: the
// order of the JSON objects they replace, whose keys serde_json sorts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKeyView {
    /// Neither revoked nor expired: the key is accepted.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub name: String,
    pub revoked: bool,
    #[schema(value_type = Vec<ScopeName>)]
    pub scopes: Vec<Scope>,
}

impl ApiKeyView {
    fn of(k: &ApiKey, now: DateTime<Utc>) -> Self {
        Self {
            active: k.usable(now),
            created_at: k.created_at,
            expires_at: k.expires_at,
            id: k.id,
            name: k.name.clone(),
            revoked: k.revoked,
            scopes: k.scopes.clone(),
        }
    }
}

/// A new integration key (`POST /admin/api-keys`): the key itself is
/// shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    pub active: bool,
    /// Shown once; stored hashed.
    pub api_key: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub id: Uuid,
    pub name: String,
    pub revoked: bool,
    #[schema(value_type = Vec<ScopeName>)]
    pub scopes: Vec<Scope>,
}

/// `GET /admin/api-keys`: every key.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyView>,
    /// Always null: the whole list is answered.
    pub next_cursor: Option<String>,
    pub total: usize,
}

/// A respondent's new portal key (`POST /admin/respondents/{id}/keys`),
/// shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortalKeyIssued {
    /// Shown once; stored hashed.
    pub api_key: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// The respondent account's id.
    pub id: Uuid,
}

/// A revoked portal key (`DELETE /admin/respondents/{id}/keys`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PortalKeyRevoked {
    pub id: Uuid,
    /// Always true.
    pub revoked: bool,
}

/// A security notice (`GET /audit/security`): a journal event of one of
/// [`SECURITY_KINDS`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SecurityNotice {
    /// Who did it (`staff:<username>`, `system:…`).
    pub actor: String,
    pub at: DateTime<Utc>,
    /// What the event records; its fields depend on the kind.
    pub data: Value,
    /// role_granted, account_changed, password_reset,
    /// respondent_key_issued, api_key_created, outbound_cap_reached,
    /// legacy_grants_revoked
    pub kind: String,
    pub seq: i64,
}

/// `GET /audit/security`: the newest security notices first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SecurityNotices {
    pub items: Vec<SecurityNotice>,
    /// Always null.
    pub next_cursor: Option<String>,
    pub total: usize,
}

impl App {
    /// Admins and supervisors manage keys; the answer says whether the
    /// caller is a supervisor.
    /// Refuses a caller who may not manage keys: the API handler asks
    /// first, so that it refuses before it parses a body.
    pub fn require_key_manager(&self, who: &Principal) -> AppResult<()> {
        self.key_manager(who).map(|_| ())
    }

    pub(crate) fn key_manager<'a>(&self, who: &'a Principal) -> AppResult<&'a StaffUser> {
        let staff = who.staff()?;
        if staff.has(Role::Admin) || staff.has(Role::Supervisor) {
            Ok(staff)
        } else {
            Err(AppError::Forbidden(
                "this needs the admin or the supervisor role".into(),
            ))
        }
    }

    /// `POST /admin/api-keys {name, scopes[], expires_at?}`: admins create
    /// `intake` keys; `read` and `webhooks` keys open case content and are
    /// a supervisor's to create.
    ///
    /// The command is parsed with [`App::now`]: its expiry is ahead.
    pub async fn create_api_key(
        &self,
        who: &Principal,
        cmd: &crate::commands::CreateApiKeyCommand,
    ) -> AppResult<CreatedApiKey> {
        let staff = self.key_manager(who)?;
        let now = self.now();
        let crate::commands::CreateApiKeyCommand {
            name,
            scopes,
            expires_at,
        } = cmd.clone();
        if !staff.has(Role::Supervisor) && scopes.iter().any(|s| *s != Scope::Intake) {
            return Err(AppError::Forbidden(
                "only a supervisor may create read or webhooks keys".into(),
            ));
        }
        let key = new_token("rdk_");
        let k = ApiKey {
            id: Uuid::now_v7(),
            name,
            scopes,
            key_hash: token_hash(&key),
            created_at: now,
            revoked: false,
            expires_at,
        };
        let event = self.admin_event(
            who,
            "api_key_created",
            json!({"id": k.id, "name": k.name, "scopes": k.scopes, "expires_at": k.expires_at}),
        );
        self.store
            .insert_api_key(k.clone(), event)
            .await
            .map_err(crate::admin::dup_as("name"))?;
        Ok(CreatedApiKey {
            active: k.usable(now),
            api_key: key,
            created_at: k.created_at,
            expires_at: k.expires_at,
            id: k.id,
            name: k.name,
            revoked: k.revoked,
            scopes: k.scopes,
        })
    }

    /// `GET /admin/api-keys`: every key, without secrets.
    pub async fn list_api_keys(&self, who: &Principal) -> AppResult<ApiKeyList> {
        self.key_manager(who)?;
        let now = self.now();
        let items: Vec<ApiKeyView> = self
            .store
            .export_api_keys()
            .await?
            .iter()
            .map(|k| ApiKeyView::of(k, now))
            .collect();
        let total = items.len();
        Ok(ApiKeyList {
            items,
            next_cursor: None,
            total,
        })
    }

    /// `DELETE /admin/api-keys/{id}`: the key answers 401 from now on.
    pub async fn revoke_api_key(&self, who: &Principal, id: Uuid) -> AppResult<ApiKeyView> {
        self.key_manager(who)?;
        let event = self.admin_event(who, "api_key_revoked", json!({"id": id}));
        if !self.store.revoke_api_key(id, event).await? {
            return Err(AppError::NotFound);
        }
        let k = self
            .store
            .export_api_keys()
            .await?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or(AppError::NotFound)?;
        // What the key subscribed stops with it.
        let actor = format!("staff:{}", who.actor_id());
        self.pause_webhooks_of(&format!("integration:{}", k.name), &actor)
            .await?;
        Ok(ApiKeyView::of(&k, self.now()))
    }

    /// Pauses the active webhook subscriptions `creator` made; their names.
    async fn pause_webhooks_of(&self, creator: &str, actor: &str) -> AppResult<Vec<String>> {
        let mut paused = Vec::new();
        for mut s in self.store.list_webhook_subscriptions().await? {
            if !s.active || s.created_by != creator {
                continue;
            }
            s.active = false;
            s.updated_at = self.now();
            let event = redress_store::NewEvent {
                case_id: None,
                kind: "webhook_changed".into(),
                actor: actor.to_string(),
                at: s.updated_at,
                data: json!({"id": s.id, "active": false, "reason": "its maker may no longer manage webhooks"})
                    .to_string(),
            };
            paused.push(crate::webhooks::shown_url(&s.url));
            self.store.update_webhook_subscription(s, event).await?;
        }
        Ok(paused)
    }

    /// Once per installation (its event marks it done; run at start-up):
    /// before only supervisors could, an admin could create `read` and
    /// `webhooks` API keys and webhook subscriptions, which reach case
    /// content (SPEC §2). Those a non-supervisor made — keys by the
    /// journal's `api_key_created`, subscriptions by their maker, and the
    /// subscriptions of the keys stopped — are revoked or paused, each
    /// journaled, and the supervisors are told (console and e-mail).
    pub async fn revoke_legacy_grants(&self) -> AppResult<Option<LegacyGrantsReport>> {
        let done = self
            .store
            .list_global_events(vec![LEGACY_GRANTS_REVIEWED.into()], 1)
            .await?;
        if !done.is_empty() {
            return Ok(None);
        }
        self.revoke_legacy_grants_now().await.map(Some)
    }

    /// [`App::revoke_legacy_grants`] without looking whether it ran.
    pub async fn revoke_legacy_grants_now(&self) -> AppResult<LegacyGrantsReport> {
        let supervisors: std::collections::HashSet<String> = self
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| u.roles.contains(&Role::Supervisor))
            .map(|u| format!("staff:{}", u.username))
            .collect();
        let makers: std::collections::HashMap<String, String> = self
            .store
            .list_global_events(vec!["api_key_created".into()], 100_000)
            .await?
            .into_iter()
            .filter_map(|e| {
                let data: Value = serde_json::from_str(&e.data).ok()?;
                Some((data["id"].as_str()?.to_string(), e.actor))
            })
            .collect();
        let system = "system:upgrade";
        let mut keys = Vec::new();
        let mut stopped_makers = Vec::new();
        for k in self.store.export_api_keys().await? {
            let reaches = k
                .scopes
                .iter()
                .any(|s| matches!(s, Scope::Read | Scope::Webhooks));
            let maker = makers.get(&k.id.to_string());
            if k.revoked || !reaches || maker.is_some_and(|m| supervisors.contains(m)) {
                continue;
            }
            let event = redress_store::NewEvent {
                case_id: None,
                kind: "api_key_revoked".into(),
                actor: system.into(),
                at: self.now(),
                data: json!({"id": k.id, "reason": "made by someone who is not a supervisor"})
                    .to_string(),
            };
            self.store.revoke_api_key(k.id, event).await?;
            keys.push(k.name.clone());
            stopped_makers.push(format!("integration:{}", k.name));
        }
        let mut webhooks = Vec::new();
        for s in self.store.list_webhook_subscriptions().await? {
            let maker_stopped = stopped_makers.contains(&s.created_by);
            let by_staff = s.created_by.starts_with("staff:");
            if s.active && (maker_stopped || (by_staff && !supervisors.contains(&s.created_by))) {
                webhooks.extend(self.pause_webhooks_of(&s.created_by, system).await?);
            }
        }
        webhooks.sort();
        webhooks.dedup();
        let names = keys
            .iter()
            .chain(webhooks.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let stopped = !keys.is_empty() || !webhooks.is_empty();
        let report = LegacyGrantsReport {
            keys,
            name: names.clone(),
            webhooks,
        };
        let data = serde_json::to_string(&report).map_err(AppError::internal)?;
        let kinds: &[&str] = if stopped {
            &[LEGACY_GRANTS_REVOKED, LEGACY_GRANTS_REVIEWED]
        } else {
            &[LEGACY_GRANTS_REVIEWED]
        };
        let events = kinds
            .iter()
            .map(|kind| redress_store::NewEvent {
                case_id: None,
                kind: kind.to_string(),
                actor: system.into(),
                at: self.now(),
                data: data.clone(),
            })
            .collect();
        self.store.append_events(events).await?;
        if stopped {
            self.mail_supervisors(
                "[redress] API keys and webhooks made by non-supervisors were stopped".into(),
                format!(
                    "Only supervisors may now create API keys that read cases or manage \
                     webhooks, and webhook subscriptions. These, made by someone else before, \
                     were stopped: {names}. Create them again as a supervisor if they are \
                     still needed."
                ),
            )
            .await?;
        }
        Ok(report)
    }

    /// `POST /admin/respondents/{id}/keys {expires_at?}`: a new portal key
    /// for the respondent account `id` (the id the create call answered),
    /// shown once; the old key stops working. The respondent is told by
    /// e-mail that a key was issued (never the key).
    pub async fn issue_respondent_key(
        &self,
        who: &Principal,
        id: Uuid,
        cmd: &crate::commands::IssueRespondentKeyCommand,
    ) -> AppResult<PortalKeyIssued> {
        self.admin(who)?;
        let expires_at = cmd.expires_at;
        let account = self.respondent_account(id).await?;
        let key = new_token("rdr_");
        let event = self.admin_event(
            who,
            "respondent_key_issued",
            json!({"id": id, "respondent": account.respondent_key(), "expires_at": expires_at}),
        );
        if !self
            .store
            .set_respondent_key(id, Some(token_hash(&key)), expires_at, event)
            .await?
        {
            return Err(AppError::NotFound);
        }
        self.tell_respondent_of_key(&account, expires_at);
        // The key opens that respondent's cases to whoever holds it, the
        // admin who issued it included: supervisors hear of it at once.
        self.mail_supervisors(
            format!(
                "【安全提醒】{} 为被投诉方 {} 签发了门户密钥 / Portal key issued",
                who.actor_id(),
                account.respondent_key()
            ),
            format!(
                "{by} 为被投诉方 {r} 签发了新的门户密钥，持有者可查看针对该被投诉方的投诉。如非预期，请立即核查。\n\n\
                 {by} issued a new portal key for respondent {r}; whoever holds it sees the complaints against \
                 that respondent. If you did not expect this, look into it now.\n",
                by = who.actor_id(),
                r = account.respondent_key()
            ),
        )
        .await?;
        Ok(PortalKeyIssued {
            api_key: key,
            expires_at,
            id,
        })
    }

    /// `DELETE /admin/respondents/{id}/keys`: the portal key answers 401
    /// from now on.
    pub async fn revoke_respondent_key(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> AppResult<PortalKeyRevoked> {
        self.admin(who)?;
        let account = self.respondent_account(id).await?;
        let event = self.admin_event(
            who,
            "respondent_key_revoked",
            json!({"id": id, "respondent": account.respondent_key()}),
        );
        if !self.store.set_respondent_key(id, None, None, event).await? {
            return Err(AppError::NotFound);
        }
        Ok(PortalKeyRevoked { id, revoked: true })
    }

    async fn respondent_account(&self, id: Uuid) -> AppResult<redress_store::RespondentAccount> {
        self.store
            .export_respondents()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(AppError::NotFound)
    }

    /// The respondent hears that a portal key was issued (never the key
    /// itself), when they have an address and mail goes out.
    pub(crate) fn tell_respondent_of_key(
        &self,
        account: &redress_store::RespondentAccount,
        expires_at: Option<DateTime<Utc>>,
    ) {
        let Some(to) = account.email.clone() else {
            return;
        };
        let until = expires_at
            .map(|t| {
                let local = t.with_timezone(&self.config.time_zone);
                format!(
                    "有效期至 {} / valid until {}\n",
                    local.format("%Y-%m-%d %H:%M"),
                    local.format("%Y-%m-%d %H:%M")
                )
            })
            .unwrap_or_default();
        let body = format!(
            "您好，{name}：\n\n平台已为您签发新的投诉处理门户密钥，旧密钥随即失效。密钥由平台管理员另行交付，本邮件不含密钥。\
             如您并未申请，请立即联系平台。\n{until}\n\
             Hello {name},\n\nA new key for the complaints portal was issued for you; any earlier key no longer works. \
             The platform's administrator hands the key over separately: this mail does not contain it. \
             If you did not ask for it, contact the platform at once.\n",
            name = account.name
        );
        self.send_security_mail(
            vec![to],
            "【投诉处理】门户密钥已签发 / A portal key was issued".into(),
            body,
        );
    }

    /// Supervisors are told, at once, that an admin gave `user` a role that
    /// reads cases or reset such a user's password: a journal event (shown
    /// in their console) and an e-mail to each one with an address.
    pub(crate) async fn alert_supervisors(
        &self,
        who: &Principal,
        kind: &str,
        user: &User,
        roles: &[Role],
    ) -> AppResult<()> {
        let by = who.actor_id();
        let data = json!({"username": user.username, "roles": roles, "by": by});
        self.store
            .append_events(vec![self.admin_event(who, kind, data)])
            .await?;
        let roles = roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let at = self
            .now()
            .with_timezone(&self.config.time_zone)
            .format("%Y-%m-%d %H:%M");
        let (subject, body) = match kind {
            "account_changed" => (
                format!(
                    "【安全提醒】{by} 修改了 {} 的邮箱或停用了该账号 / Account changed",
                    user.username
                ),
                format!(
                    "{by} 于 {at} 修改了账号 {u}（角色：{roles}）的通知邮箱或停用了该账号。提醒邮件会发往新地址，\
                     停用的监督人员不再收到提醒。如非预期，请立即核查。\n\n\
                     {by} changed the notice address of {u} (roles: {roles}) or deactivated the account at {at}. \
                     Alerts go to the new address; a deactivated supervisor gets none. If you did not expect this, \
                     look into it now.\n",
                    u = user.username
                ),
            ),
            "password_reset" => (
                format!(
                    "【安全提醒】{by} 重置了 {} 的密码 / Password reset",
                    user.username
                ),
                format!(
                    "{by} 于 {at} 重置了账号 {u}（角色：{roles}）的密码。该账号下次登录时必须设置新密码。\
                     如非预期，请立即核查。\n\n\
                     {by} reset the password of {u} (roles: {roles}) at {at}. The user must choose a new \
                     password at the next login. If you did not expect this, look into it now.\n",
                    u = user.username
                ),
            ),
            _ => (
                format!(
                    "【安全提醒】{by} 授予 {} 可查看案件的角色 / Role granted",
                    user.username
                ),
                format!(
                    "{by} 于 {at} 授予账号 {u} 可查看案件内容的角色：{roles}。如非预期，请立即核查。\n\n\
                     {by} gave {u} roles that read cases at {at}: {roles}. If you did not expect this, \
                     look into it now.\n",
                    u = user.username
                ),
            ),
        };
        self.mail_supervisors(subject, body).await
    }

    /// E-mails every active supervisor with an address.
    pub(crate) async fn mail_supervisors(&self, subject: String, body: String) -> AppResult<()> {
        let supervisors = self.staff_emails(Role::Supervisor).await?;
        self.send_security_mail(supervisors, subject, body);
        Ok(())
    }

    /// The addresses of the active staff holding `role`.
    pub(crate) async fn staff_emails(&self, role: Role) -> AppResult<Vec<String>> {
        Ok(self
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| u.active && u.roles.contains(&role))
            .filter_map(|u| u.email)
            .collect())
    }

    /// The hourly cap on notices was reached: journaled (shown to
    /// supervisors) and mailed to them (this mail is not counted).
    pub(crate) async fn cap_reached(&self, cap: u64) -> AppResult<()> {
        let event = redress_store::NewEvent {
            case_id: None,
            kind: "outbound_cap_reached".into(),
            actor: "system:outbound".into(),
            at: self.now(),
            data: json!({"cap": cap}).to_string(),
        };
        self.store.append_events(vec![event]).await?;
        self.mail_supervisors(
            "【告警】本小时通知发送量已达上限 / Hourly cap on notices reached".into(),
            format!(
                "本小时已发送 {cap} 条通知，达到上限（outbound_per_hour）。其余通知在队列中等待下一小时发送，\
                 不会丢失；答复期从实际送达时起算。如属正常业务高峰，请调高上限；否则请排查是否有人滥用投诉入口。\n\n\
                 {cap} notices were sent this hour, the cap (outbound_per_hour). The rest wait in the queue \
                 for the next hour and are never dropped; appeal windows count from real delivery. Raise the \
                 cap for a real peak; otherwise look for abuse of the intake.\n"
            ),
        )
        .await?;
        Ok(())
    }

    /// Sends a mail that belongs to no case, in the background: the caller
    /// is never held up, and a failure is logged (the journal event is
    /// the record).
    pub(crate) fn send_security_mail(&self, to: Vec<String>, subject: String, body: String) {
        let Some(sender) = self.config.senders.email.clone() else {
            return;
        };
        if to.is_empty() {
            return;
        }
        let locale = redress_domain::Locale::ZhCn;
        tokio::spawn(async move {
            for address in to {
                let message = Outgoing {
                    delivery_id: Uuid::now_v7().to_string(),
                    case_id: Uuid::nil(),
                    to: address,
                    // An escalation to supervisors, about the installation
                    // rather than a case.
                    notice: NoticeKind::Escalation,
                    tracking_no: String::new(),
                    subject: subject.clone(),
                    body: body.clone(),
                    locale,
                    reply_to: None,
                    attachments: Vec::new(),
                };
                let outcome = sender.send(&message).await;
                if !matches!(outcome, redress_domain::SendOutcome::Sent { .. }) {
                    tracing::warn!(?outcome, "a security notice was not sent");
                }
            }
        });
    }

    /// `GET /audit/security`: the newest security notices (role grants,
    /// password resets, keys issued), for supervisors.
    pub async fn security_notices(
        &self,
        who: &Principal,
        limit: usize,
    ) -> AppResult<SecurityNotices> {
        who.staff()?.require(Role::Supervisor)?;
        let kinds = SECURITY_KINDS.iter().map(|k| k.to_string()).collect();
        let items: Vec<SecurityNotice> = self
            .store
            .list_global_events(kinds, limit.clamp(1, 200))
            .await?
            .into_iter()
            .map(|e| SecurityNotice {
                actor: e.actor,
                at: e.at,
                data: serde_json::from_str::<Value>(&e.data).unwrap_or(Value::Null),
                kind: e.kind,
                seq: e.seq,
            })
            .collect();
        let total = items.len();
        Ok(SecurityNotices {
            items,
            next_cursor: None,
            total,
        })
    }

    /// Drops sessions that have expired (the sweep calls it).
    pub async fn purge_expired_sessions(&self) -> AppResult<u64> {
        Ok(self
            .store
            .delete_expired_sessions(chrono::Utc::now())
            .await?)
    }
}

#[cfg(test)]
mod answer_tests {
    use super::*;

    #[test]
    fn the_legacy_grants_report_is_the_old_object() {
        for (keys, webhooks) in [
            (
                vec!["old-bi".to_string()],
                vec!["https://x.cn/h".to_string()],
            ),
            (vec![], vec![]),
        ] {
            let name = keys
                .iter()
                .chain(webhooks.iter())
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let old = json!({"keys": keys, "webhooks": webhooks, "name": name});
            let typed = LegacyGrantsReport {
                keys,
                name,
                webhooks,
            };
            assert_eq!(serde_json::to_string(&typed).unwrap(), old.to_string());
        }
    }
}
