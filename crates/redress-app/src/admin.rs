//! People and settings: authentication, login, the admin's objects, and
//! the defaults a new installation starts with.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Duration;
use chrono::{DateTime, Utc};
use redress_domain::calendar::DayException;
use redress_domain::{FieldErrors, Reason};
use redress_domain::{RespondentKind, Role};
use redress_store::{Category, Department, RespondentAccount, Session, User};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::App;
use crate::access::{Principal, StaffUser, is_independent};
use crate::commands;
use crate::error::{AppError, AppResult};
use crate::privacy::{new_token, token_hash};

/// The throttle key of a client address: IPv4 as it is, IPv6 by its /64
/// (one site holds a whole /64).
pub(crate) fn address_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Hashes run at most this many at a time: each costs about 19 MiB and
/// a core for tens of milliseconds, so a burst of logins queues here
/// instead of taking the machine.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::sync::Semaphore::new(cores.max(2))
});

/// Hashes a password with argon2 on a blocking thread (it is slow on purpose).
pub async fn hash_password(password: String) -> AppResult<String> {
    let _permit = HASHING.acquire().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)?
}

/// Verifies on a blocking thread. An empty `hash` (no such user) is
/// checked against a fixed hash, so that "no such user" and "wrong
/// password" take the same time and give the same answer.
pub async fn verify_password(password: String, hash: String) -> bool {
    // A queue that does not drain in time answers "wrong" rather than
    // holding the request (and its place under the concurrency limit).
    let Ok(Ok(_permit)) =
        tokio::time::timeout(std::time::Duration::from_secs(10), HASHING.acquire()).await
    else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        let hash = if hash.is_empty() {
            DUMMY_HASH.clone()
        } else {
            hash
        };
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(b"not a password", &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// The default departments and categories of a new installation (SPEC §11).
pub fn default_departments() -> Vec<Department> {
    let d = |code: &str, name: &str, en: &str, review: bool| Department {
        code: code.into(),
        name: name.into(),
        name_en: Some(en.into()),
        review,
        head: None,
    };
    vec![
        d("customer-service", "客户服务部", "Customer Service", false),
        d(
            "merchant-compliance",
            "商家合规部",
            "Merchant Compliance",
            false,
        ),
        d("trust-safety", "信任与安全部", "Trust & Safety", false),
        d("review-board", "复核委员会", "Review Board", true),
    ]
}

pub fn default_categories() -> Vec<Category> {
    let c = |code: &str, name: &str, en: &str, dept: &str| Category {
        code: code.into(),
        name: name.into(),
        name_en: Some(en.into()),
        department: dept.into(),
        handling_days: None,
        appeal_days: None,
        review_days: None,
        respondent_reply_days: None,
    };
    vec![
        c(
            "goods-quality",
            "商品质量",
            "Goods quality",
            "merchant-compliance",
        ),
        c(
            "not-as-described",
            "货不对板",
            "Not as described",
            "merchant-compliance",
        ),
        c(
            "refunds-returns",
            "退款退货",
            "Refunds and returns",
            "customer-service",
        ),
        c("delivery", "物流配送", "Delivery", "customer-service"),
        c(
            "false-advertising",
            "虚假宣传",
            "False advertising",
            "merchant-compliance",
        ),
        c("pricing", "价格问题", "Pricing", "merchant-compliance"),
        c(
            "after-sales",
            "售后服务",
            "After-sales service",
            "customer-service",
        ),
        c(
            "account-security",
            "账号安全",
            "Account security",
            "trust-safety",
        ),
        c("privacy", "个人信息保护", "Privacy", "trust-safety"),
        c(
            "harmful-content",
            "违法有害信息",
            "Illegal or harmful content",
            "trust-safety",
        ),
        c(
            "intellectual-property",
            "知识产权",
            "Intellectual property",
            "trust-safety",
        ),
        c(
            "platform-service",
            "平台服务",
            "Platform service",
            "customer-service",
        ),
    ]
}

/// What first start did, for the operator.
#[derive(Debug, Default)]
pub struct Bootstrap {
    /// A generated one-time admin password, to be printed once.
    pub generated_admin_password: Option<String>,
    pub created_admin: bool,
}

impl App {
    /// Resolves `Authorization: Bearer …` to a principal; a token that is
    /// given but unknown is `Unauthorized`, never silently anonymous.
    pub async fn authenticate(&self, bearer: Option<&str>) -> AppResult<Principal> {
        let Some(token) = bearer.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(Principal::Anonymous);
        };
        let hash = token_hash(token);
        if token.starts_with("rds_") {
            let session = self
                .store
                .get_session(&hash)
                .await?
                .ok_or(AppError::Unauthorized)?;
            // Sessions expire by the wall clock, not the test clock: moving
            // time forward to test deadlines must not log staff out.
            if session.expires_at <= chrono::Utc::now() {
                return Err(AppError::Unauthorized);
            }
            let user = self
                .store
                .get_user(session.user_id)
                .await?
                .filter(|u| u.active)
                .ok_or(AppError::Unauthorized)?;
            let departments = self.store.list_departments().await?;
            let staff = StaffUser {
                independent: is_independent(&user, &departments),
                user,
            };
            return Ok(if staff.user.must_change_password {
                Principal::PasswordExpired(staff)
            } else {
                Principal::Staff(staff)
            });
        }
        // Keys expire on the application's clock (the test clock in tests).
        let now = self.now();
        if token.starts_with("rdk_") {
            let key = self
                .store
                .get_api_key_by_hash(&hash)
                .await?
                .filter(|k| k.usable(now))
                .ok_or(AppError::Unauthorized)?;
            return Ok(Principal::Integration(key));
        }
        if token.starts_with("rdr_") {
            let r = self
                .store
                .get_respondent_by_key_hash(&hash)
                .await?
                .filter(|r| r.key_usable(now))
                .ok_or(AppError::Unauthorized)?;
            return Ok(Principal::Respondent(r));
        }
        // Complainant access tokens are checked by the tracking calls themselves.
        if token.starts_with("rdt_") || crate::codes::looks_like_code(token) {
            return Ok(Principal::Anonymous);
        }
        Err(AppError::Unauthorized)
    }

    /// `POST /auth/login`: a new session token. Failures are throttled
    /// per user name, per client address and per pair (docs/security.md).
    pub async fn login(
        &self,
        cmd: &commands::LoginCommand,
        client: Option<std::net::IpAddr>,
    ) -> AppResult<(String, User)> {
        let (username, password) = (&cmd.username, cmd.password.clone());
        // Keys of bounded size; an IPv6 client is one /64 (one site).
        let name: String = username.trim().to_lowercase().chars().take(64).collect();
        let address = client.map_or_else(|| "unknown".to_string(), address_key);
        let g = &self.guesses;
        let keys = [
            (&g.user, name.clone()),
            (&g.address, address.clone()),
            (&g.pair, format!("{address} {name}")),
        ];
        if self.config.throttle_guessing {
            for (throttle, key) in &keys {
                throttle.check(key).map_err(AppError::Throttled)?;
            }
        }
        // Counted as failed before the hash is checked, so that requests in
        // parallel cannot all pass under the allowance; a success takes it
        // back.
        let counted = self.config.throttle_guessing;
        if counted {
            for (throttle, key) in &keys {
                throttle.fail(key);
            }
        }
        let user = self.store.get_user_by_username(username).await?;
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_default();
        let ok = verify_password(password, hash).await;
        let Some(user) = user.filter(|u| ok && u.active) else {
            metrics::counter!("redress_login_failures_total").increment(1);
            return Err(AppError::Unauthorized);
        };
        if counted {
            g.user.forgive(&keys[0].1);
            g.address.forgive(&keys[1].1);
            g.pair.clear(&keys[2].1);
        }
        let token = new_token("rds_");
        let now = chrono::Utc::now();
        self.store
            .insert_session(Session {
                token_hash: token_hash(&token),
                user_id: user.id,
                created_at: now,
                expires_at: now + Duration::hours(self.config.session_hours),
            })
            .await?;
        Ok((token, user))
    }

    pub async fn logout(&self, bearer: &str) -> AppResult<()> {
        Ok(self.store.delete_session(&token_hash(bearer)).await?)
    }

    /// `POST /auth/password {old, new}`: the caller's own password. Ends
    /// the caller's other sessions; the one making the call (`bearer`)
    /// stays. A password an admin reset is changed here.
    pub async fn change_password(
        &self,
        who: &Principal,
        bearer: Option<&str>,
        cmd: &commands::ChangePasswordCommand,
    ) -> AppResult<PasswordChanged> {
        let staff = who.staff_member()?;
        let (old, new) = (cmd.old.clone(), cmd.new.clone());
        let key = format!("password {}", staff.user.id);
        if self.config.throttle_guessing {
            self.guesses.pair.check(&key).map_err(AppError::Throttled)?;
        }
        let mut user = self
            .store
            .get_user(staff.user.id)
            .await?
            .ok_or(AppError::Unauthorized)?;
        if !verify_password(old, user.password_hash.clone()).await {
            self.guesses.pair.fail(&key);
            return Err(AppError::invalid("old", Reason::WrongPassword));
        }
        self.guesses.pair.clear(&key);
        user.password_hash = hash_password(new).await?;
        user.must_change_password = false;
        let event = self.admin_event(who, "password_changed", json!({"username": user.username}));
        self.store.update_user(user.clone(), event).await?;
        let keep = bearer.map(token_hash);
        let ended = self.store.delete_user_sessions(user.id, keep).await?;
        Ok(PasswordChanged {
            changed: true,
            sessions_ended: ended,
        })
    }

    pub(crate) fn admin<'a>(&self, who: &'a Principal) -> AppResult<&'a StaffUser> {
        let staff = who.staff()?;
        staff.require(Role::Admin)?;
        Ok(staff)
    }

    /// Refuses a caller who is not an admin: the API handlers ask first,
    /// so that they refuse before they parse a body (as the calls did
    /// when they read the body themselves).
    pub fn require_admin(&self, who: &Principal) -> AppResult<()> {
        self.admin(who).map(|_| ())
    }

    pub async fn create_department(
        &self,
        who: &Principal,
        cmd: &commands::CreateDepartmentCommand,
    ) -> AppResult<DepartmentView> {
        self.admin(who)?;
        // The head may be named before their account exists (a department
        // is often set up first); escalations find no one until it does.
        // A change of head later names an existing user (PATCH).
        let d = Department {
            code: cmd.code.clone(),
            name: cmd.name.clone(),
            name_en: cmd.name_en.clone(),
            review: cmd.review,
            head: cmd.head.clone(),
        };
        let event = self.admin_event(who, "department_created", json!(d));
        self.store
            .insert_department(d.clone(), event)
            .await
            .map_err(dup_as("code"))?;
        self.forget_directory().await;
        Ok(d.into())
    }

    /// A department head must be a staff user (by username).
    async fn check_head(&self, errors: &mut FieldErrors, head: Option<&str>) -> AppResult<()> {
        if let Some(head) = head
            && self.store.get_user_by_username(head).await?.is_none()
        {
            errors.add(
                "head",
                Reason::NoSuch {
                    what: "user".into(),
                },
            );
        }
        Ok(())
    }

    /// Each department named must exist (refused by its place).
    async fn check_departments(
        &self,
        errors: &mut FieldErrors,
        departments: &[String],
    ) -> AppResult<()> {
        let known = self.store.list_departments().await?;
        for (i, d) in departments.iter().enumerate() {
            if !known.iter().any(|k| &k.code == d) {
                errors.add(
                    format!("departments[{i}]"),
                    Reason::NoSuch {
                        what: "department".into(),
                    },
                );
            }
        }
        Ok(())
    }

    /// `PATCH /admin/departments/{code}`: changes what is given of the
    /// name, the English name, the review flag and the head. The English
    /// name and the head are cleared by `null` or an empty string; a field
    /// left out keeps its value.
    pub async fn update_department(
        &self,
        who: &Principal,
        code: &str,
        cmd: commands::Parsed<commands::UpdateDepartmentCommand>,
    ) -> AppResult<DepartmentView> {
        self.admin(who)?;
        cmd.object()?;
        let mut d = self
            .store
            .list_departments()
            .await?
            .into_iter()
            .find(|d| d.code == code)
            .ok_or(AppError::NotFound)?;
        // The body's refusals are answered once the department is found (a
        // missing one is a 404 whatever the body says), with the head's.
        let (cmd, mut errors) = cmd.split();
        if let Some(name) = cmd.name {
            d.name = name;
        }
        if let Some(name_en) = cmd.name_en {
            d.name_en = name_en;
        }
        if let Some(review) = cmd.review {
            d.review = review;
        }
        if let Some(head) = cmd.head {
            d.head = head;
            self.check_head(&mut errors, d.head.as_deref()).await?;
        }
        commands::refuse_any(errors)?;
        let event = self.admin_event(who, "department_changed", json!(d));
        self.store
            .update_department(d.clone(), event)
            .await
            .map_err(|e| match e {
                redress_store::StoreError::Missing(_) => AppError::NotFound,
                e => e.into(),
            })?;
        self.forget_directory().await;
        Ok(d.into())
    }

    /// `GET /admin/departments`: every department, by code.
    pub async fn admin_departments(&self, who: &Principal) -> AppResult<Vec<Department>> {
        self.admin(who)?;
        Ok(self.store.list_departments().await?)
    }

    /// `GET /admin/users`: every staff user, by username (the caller
    /// turns them into answers without their password hashes).
    pub async fn admin_users(&self, who: &Principal) -> AppResult<Vec<User>> {
        self.admin(who)?;
        let mut users = self.store.list_users().await?;
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }

    /// `GET /admin/respondents`: every respondent account, by kind and id
    /// (the caller answers without the key hashes).
    pub async fn admin_respondents(&self, who: &Principal) -> AppResult<Vec<RespondentAccount>> {
        self.admin(who)?;
        let mut all = self.store.export_respondents().await?;
        all.sort_by(|a, b| {
            (a.kind.as_str(), &a.external_id).cmp(&(b.kind.as_str(), &b.external_id))
        });
        Ok(all)
    }

    pub async fn create_category(
        &self,
        who: &Principal,
        cmd: &commands::CreateCategoryCommand,
    ) -> AppResult<CategoryItem> {
        self.admin(who)?;
        let commands::CreateCategoryCommand {
            code,
            name,
            name_en,
            department,
            handling_days,
            appeal_days,
            review_days,
            respondent_reply_days,
        } = cmd.clone();
        if !self
            .store
            .list_departments()
            .await?
            .iter()
            .any(|d| d.code == department)
        {
            return Err(AppError::invalid(
                "department",
                Reason::NoSuch {
                    what: "department".into(),
                },
            ));
        }
        let c = Category {
            code,
            name,
            name_en,
            department,
            handling_days,
            appeal_days,
            review_days,
            respondent_reply_days,
        };
        let event = self.admin_event(who, "category_created", json!(c));
        self.store
            .insert_category(c.clone(), event)
            .await
            .map_err(dup_as("code"))?;
        Ok(c.into())
    }

    pub async fn create_user(
        &self,
        who: &Principal,
        cmd: &commands::Parsed<commands::CreateUserCommand>,
    ) -> AppResult<UserView> {
        self.admin(who)?;
        // The departments named are checked with the body's fields, in one
        // answer.
        let (
            commands::CreateUserCommand {
                username,
                password,
                display_name,
                roles,
                departments,
                level,
                email,
            },
            mut errors,
        ) = cmd.clone().split();
        self.check_departments(&mut errors, &departments).await?;
        commands::refuse_any(errors)?;
        let mut user = self
            .new_user(username, display_name, password, roles, departments, level)
            .await?;
        user.email = email.flatten();
        let event = self.admin_event(who, "user_created", user_json(&user));
        self.store
            .insert_user(user.clone(), event)
            .await
            .map_err(dup_as("username"))?;
        self.forget_directory().await;
        let granted = crate::keys::reading_roles(&user.roles);
        if !granted.is_empty() {
            self.alert_supervisors(who, "role_granted", &user, &granted)
                .await?;
        }
        Ok(UserView::from(&user))
    }

    /// `PATCH /admin/users/{username}`: changes what is given of display
    /// name, password, roles, departments, level and `active`. A user made
    /// inactive can no longer log in, and their sessions stop working.
    pub async fn update_user(
        &self,
        who: &Principal,
        username: &str,
        cmd: commands::Parsed<commands::UpdateUserCommand>,
    ) -> AppResult<UserView> {
        self.admin(who)?;
        cmd.object()?;
        let mut user = self
            .store
            .get_user_by_username(username)
            .await?
            .ok_or(AppError::NotFound)?;
        let before = user.clone();
        let myself = who.staff().is_ok_and(|s| s.user.id == user.id);
        let (cmd, mut errors) = cmd.split();
        if let Some(name) = cmd.display_name {
            user.display_name = name;
        }
        let password = cmd.password;
        if password.is_some() && myself {
            errors.add("password", Reason::OwnPassword);
        }
        if let Some(roles) = cmd.roles {
            user.roles = roles;
        }
        if let Some(departments) = cmd.departments {
            self.check_departments(&mut errors, &departments).await?;
            user.departments = departments;
        }
        if let Some(level) = cmd.level {
            user.level = level;
        }
        if let Some(email) = cmd.email {
            user.email = email;
        }
        if let Some(active) = cmd.active {
            if !active && myself {
                errors.add("active", Reason::DeactivateSelf);
            }
            user.active = active;
        }
        commands::refuse_any(errors)?;
        // Nobody widens (or narrows) their own access.
        if myself
            && (!same_set(&before.roles, &user.roles)
                || !same_set(&before.departments, &user.departments))
        {
            return Err(AppError::Forbidden(
                "nobody changes their own roles or departments".into(),
            ));
        }
        let reset = password.is_some();
        if let Some(p) = password {
            user.password_hash = hash_password(p).await?;
            // A password someone else chose must be changed at next login.
            user.must_change_password = true;
        }
        let event = self.admin_event(who, "user_changed", user_json(&user));
        self.store.update_user(user.clone(), event).await?;
        self.forget_directory().await;
        if reset || !user.active {
            // A reset or a deactivation ends every session of the user.
            self.store.delete_user_sessions(user.id, None).await?;
        }
        let granted = crate::keys::granted_reading_roles(&before.roles, &user.roles);
        if !granted.is_empty() {
            self.alert_supervisors(who, "role_granted", &user, &granted)
                .await?;
        }
        let reading = crate::keys::reading_roles(&user.roles);
        if reset && !reading.is_empty() {
            self.alert_supervisors(who, "password_reset", &user, &reading)
                .await?;
        }
        // Where a reader's alerts go, and whether a supervisor still gets
        // them: changed only in plain sight (the old address hears too).
        let rerouted = before.email != user.email || (before.active && !user.active);
        if rerouted && !crate::keys::reading_roles(&before.roles).is_empty() {
            self.alert_supervisors(who, "account_changed", &user, &reading)
                .await?;
            if let Some(old) = before.email.clone().filter(|_| before.email != user.email) {
                self.send_security_mail(
                    vec![old],
                    "【安全提醒】您的账号通知邮箱已被修改 / Your notice address was changed".into(),
                    format!(
                        "{by} 修改了账号 {u} 的通知邮箱。如非您本人要求，请立即联系监督人员。\n\n\
                         {by} changed the notice address of the account {u}. If you did not ask for it, tell a \
                         supervisor at once.\n",
                        by = who.actor_id(),
                        u = user.username
                    ),
                );
            }
        }
        Ok(UserView::from(&user))
    }

    /// `PATCH /admin/categories/{code}`: changes what is given of the
    /// names, the department and the deadline lengths (`null` clears a
    /// length). Cases already accepted keep the lengths they were given.
    pub async fn update_category(
        &self,
        who: &Principal,
        code: &str,
        cmd: commands::Parsed<commands::UpdateCategoryCommand>,
    ) -> AppResult<CategoryItem> {
        self.admin(who)?;
        cmd.object()?;
        let mut cat = self
            .store
            .list_categories()
            .await?
            .into_iter()
            .find(|c| c.code == code)
            .ok_or(AppError::NotFound)?;
        // The body's refusals are answered once the category is found: a
        // missing one is a 404 whatever the body says.
        let cmd = cmd.finish()?;
        if let Some(name) = cmd.name {
            cat.name = name;
        }
        if let Some(name_en) = cmd.name_en {
            cat.name_en = name_en;
        }
        if let Some(d) = cmd.department {
            cat.department = d;
        }
        for (slot, given) in [
            (&mut cat.handling_days, cmd.handling_days),
            (&mut cat.appeal_days, cmd.appeal_days),
            (&mut cat.review_days, cmd.review_days),
            (&mut cat.respondent_reply_days, cmd.respondent_reply_days),
        ] {
            if let Some(d) = given {
                *slot = d;
            }
        }
        let event = self.admin_event(who, "category_changed", json!(cat));
        self.store
            .update_category(cat.clone(), event)
            .await
            .map_err(|e| match e {
                redress_store::StoreError::Missing("department") => AppError::invalid(
                    "department",
                    Reason::NoSuch {
                        what: "department".into(),
                    },
                ),
                e => e.into(),
            })?;
        Ok(cat.into())
    }

    pub async fn new_user(
        &self,
        username: String,
        display_name: String,
        password: String,
        roles: Vec<Role>,
        departments: Vec<String>,
        level: i32,
    ) -> AppResult<User> {
        Ok(User {
            id: Uuid::now_v7(),
            username,
            display_name,
            password_hash: hash_password(password).await?,
            roles,
            departments,
            level,
            active: true,
            created_at: self.now(),
            email: None,
            must_change_password: false,
        })
    }

    /// Stores a user made by [`App::new_user`] outside the admin API (CLI,
    /// demo), journaled under `actor`.
    pub async fn add_user(&self, user: User, actor: &str) -> AppResult<()> {
        let event = redress_store::NewEvent {
            case_id: None,
            kind: "user_created".into(),
            actor: actor.into(),
            at: self.now(),
            data: user_json(&user).to_string(),
        };
        self.store
            .insert_user(user, event)
            .await
            .map_err(dup_as("username"))
    }

    /// The command is parsed with [`App::now`]: its expiry is ahead.
    pub async fn create_respondent(
        &self,
        who: &Principal,
        cmd: &commands::CreateRespondentCommand,
    ) -> AppResult<RespondentCreated> {
        self.admin(who)?;
        let commands::CreateRespondentCommand {
            kind,
            external_id,
            name,
            email,
            expires_at,
        } = cmd.clone();
        let key = new_token("rdr_");
        let r = RespondentAccount {
            id: Uuid::now_v7(),
            kind,
            external_id,
            name,
            email,
            key_hash: token_hash(&key),
            created_at: self.now(),
            key_revoked: false,
            key_expires_at: expires_at,
        };
        let event = self.admin_event(
            who,
            "respondent_created",
            json!({"id": r.id, "kind": r.kind, "external_id": r.external_id}),
        );
        self.store
            .insert_respondent(r.clone(), event)
            .await
            .map_err(dup_as("id"))?;
        self.tell_respondent_of_key(&r, expires_at);
        Ok(RespondentCreated {
            api_key: key,
            id: r.id,
            kind: r.kind,
            name: r.name,
            respondent_id: r.external_id,
        })
    }

    /// First start: default departments, categories, canned replies and
    /// calendar; the admin user from `REDRESS_ADMIN_PASSWORD` or a
    /// generated password.
    /// Instances starting together on one database may race here: a
    /// default another instance wrote first is taken as written.
    pub async fn bootstrap(&self, admin_password: Option<&str>) -> AppResult<Bootstrap> {
        let mut out = Bootstrap::default();
        let system = Principal::Anonymous;
        if self.store.list_departments().await?.is_empty() {
            for d in default_departments() {
                let e = self.admin_event(&system, "department_created", json!(d));
                already_there(self.store.insert_department(d, e).await)?;
            }
            for c in default_categories() {
                let e = self.admin_event(&system, "category_created", json!(c));
                already_there(self.store.insert_category(c, e).await)?;
            }
        }
        self.seed_canned_replies(&self.config.canned_replies)
            .await?;
        self.index_corrective_actions().await?;
        self.build_report_rollups_once().await?;
        if self.store.list_calendar().await?.is_empty() {
            let days: Vec<DayException> = redress_domain::Calendar::china_exceptions();
            self.store.upsert_calendar(days, None).await?;
            self.reload_calendar().await?;
        }
        if self.store.count_users().await? == 0 {
            let password = match admin_password.filter(|p| !p.is_empty()) {
                Some(p) => p.to_string(),
                None => {
                    let p = new_token("").chars().take(20).collect::<String>();
                    out.generated_admin_password = Some(p.clone());
                    p
                }
            };
            let user = self
                .new_user(
                    "admin".into(),
                    "Administrator".into(),
                    password,
                    vec![Role::Admin],
                    vec![],
                    10,
                )
                .await?;
            let e = self.admin_event(&system, "user_created", user_json(&user));
            if already_there(self.store.insert_user(user, e).await)? {
                out.created_admin = true;
            } else {
                out.generated_admin_password = None;
            }
        }
        // Grants an admin made before only supervisors could (once).
        self.revoke_legacy_grants().await?;
        Ok(out)
    }
}

// ---- the answers -----------------------------------------------------------
//
// Fields in alphabetical order: the order of the `json!` objects they
// replaced (serde_json sorts their keys), so that the answers stay the
// same byte for byte (the tests below compare them).

/// `POST /auth/password`: the password is changed; the caller's other
/// sessions ended.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PasswordChanged {
    /// Always true.
    pub changed: bool,
    /// How many of the caller's other sessions ended.
    pub sessions_ended: u64,
}

/// A category and its routing, as created or changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryItem {
    /// Appeal window, calendar days.
    pub appeal_days: Option<u32>,
    pub code: String,
    /// The department its cases go to.
    pub department: String,
    /// Handling time, working days (null: the installation's default).
    pub handling_days: Option<u32>,
    pub name: String,
    pub name_en: Option<String>,
    /// The respondent's reply after acceptance, working days.
    pub respondent_reply_days: Option<u32>,
    /// Review time, working days.
    pub review_days: Option<u32>,
}

impl From<Category> for CategoryItem {
    fn from(c: Category) -> Self {
        Self {
            appeal_days: c.appeal_days,
            code: c.code,
            department: c.department,
            handling_days: c.handling_days,
            name: c.name,
            name_en: c.name_en,
            respondent_reply_days: c.respondent_reply_days,
            review_days: c.review_days,
        }
    }
}

/// `POST /admin/respondents`: the account made, with its portal key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RespondentCreated {
    /// The portal key: shown once, stored hashed.
    pub api_key: String,
    /// The account's id, as used by `/admin/respondents/{id}/keys`.
    pub id: Uuid,
    #[schema(value_type = crate::views::RespondentKindName)]
    pub kind: RespondentKind,
    pub name: String,
    /// The respondent's own id (the `id` of the create call).
    pub respondent_id: String,
}

/// A department, as created or changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentView {
    pub code: String,
    /// The head's username.
    pub head: Option<String>,
    pub name: String,
    /// The English name, shown on the pages in English mode when set.
    pub name_en: Option<String>,
    /// An independent department: its reviewers may review any decision.
    pub review: bool,
}

impl From<Department> for DepartmentView {
    fn from(d: Department) -> Self {
        Self {
            code: d.code,
            head: d.head,
            name: d.name,
            name_en: d.name_en,
            review: d.review,
        }
    }
}

/// A staff user, without the password hash: as created or changed, at
/// login, and in the journal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    /// false: deactivated, cannot log in.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub departments: Vec<String>,
    pub display_name: String,
    pub email: Option<String>,
    pub id: Uuid,
    pub level: i32,
    /// The password was reset by an admin and must be changed at login.
    pub must_change_password: bool,
    /// intake, handler, reviewer, supervisor, admin
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
    pub username: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            active: u.active,
            created_at: u.created_at,
            departments: u.departments.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            id: u.id,
            level: u.level,
            must_change_password: u.must_change_password,
            roles: u.roles.clone(),
            username: u.username.clone(),
        }
    }
}

/// A user as the journal and the login answer show them ([`UserView`]).
pub fn user_json(u: &User) -> Value {
    serde_json::to_value(UserView::from(u)).expect("a user view serialises")
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
}

/// `Ok(true)` when written, `Ok(false)` when someone else wrote it first.
fn already_there(r: Result<(), redress_store::StoreError>) -> AppResult<bool> {
    match r {
        Ok(()) => Ok(true),
        Err(redress_store::StoreError::Duplicate(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn dup_as(field: &'static str) -> impl Fn(redress_store::StoreError) -> AppError {
    move |e| match e {
        redress_store::StoreError::Duplicate(_) => AppError::invalid(field, Reason::Taken),
        other => other.into(),
    }
}

#[cfg(test)]
mod answer_tests {
    //! The typed answers against the `json!` objects they replaced.
    use super::*;

    fn same(typed: impl Serialize, old: Value) {
        assert_eq!(
            serde_json::to_string(&typed).expect("serialises"),
            old.to_string()
        );
    }

    #[test]
    fn department_view_is_the_department_as_it_was_answered() {
        let full = Department {
            code: "ops".into(),
            name: "运营".into(),
            name_en: Some("Operations".into()),
            review: true,
            head: Some("li".into()),
        };
        let bare = Department {
            name_en: None,
            head: None,
            review: false,
            ..full.clone()
        };
        for d in [full, bare] {
            same(DepartmentView::from(d.clone()), json!(d));
        }
    }

    #[test]
    fn user_view_is_the_old_user_object() {
        let u = User {
            id: Uuid::now_v7(),
            username: "li".into(),
            display_name: "李四".into(),
            password_hash: "$argon2id$...".into(),
            roles: vec![Role::Handler, Role::Supervisor],
            departments: vec!["ops".into()],
            level: 3,
            active: true,
            created_at: chrono::Utc::now(),
            email: Some("li@x.cn".into()),
            must_change_password: true,
        };
        let old = |u: &User| {
            json!({
                "id": u.id, "username": u.username, "display_name": u.display_name,
                "roles": u.roles, "departments": u.departments, "level": u.level,
                "active": u.active, "created_at": u.created_at, "email": u.email,
                "must_change_password": u.must_change_password,
            })
        };
        let bare = User {
            email: None,
            roles: vec![],
            departments: vec![],
            active: false,
            must_change_password: false,
            ..u.clone()
        };
        for u in [u, bare] {
            same(UserView::from(&u), old(&u));
            assert_eq!(user_json(&u).to_string(), old(&u).to_string());
        }
    }

    #[test]
    fn password_changed_is_the_old_object() {
        same(
            PasswordChanged {
                changed: true,
                sessions_ended: 3,
            },
            json!({"changed": true, "sessions_ended": 3u64}),
        );
    }

    #[test]
    fn category_item_is_the_category_as_it_was_answered() {
        let full = Category {
            code: "billing".into(),
            name: "账单".into(),
            name_en: Some("Billing".into()),
            department: "ops".into(),
            handling_days: Some(10),
            appeal_days: Some(30),
            review_days: Some(15),
            respondent_reply_days: Some(5),
        };
        let bare = Category {
            name_en: None,
            handling_days: None,
            appeal_days: None,
            review_days: None,
            respondent_reply_days: None,
            ..full.clone()
        };
        for c in [full, bare] {
            same(CategoryItem::from(c.clone()), json!(c));
        }
    }

    #[test]
    fn respondent_created_is_the_old_object() {
        let id = Uuid::now_v7();
        let key = "rdr_secret".to_string();
        same(
            RespondentCreated {
                api_key: key.clone(),
                id,
                kind: RespondentKind::Merchant,
                name: "某商户".into(),
                respondent_id: "m-1".into(),
            },
            json!({"id": id, "api_key": key, "kind": RespondentKind::Merchant,
                   "respondent_id": "m-1", "name": "某商户"}),
        );
    }
}
