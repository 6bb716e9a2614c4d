//! Departments, users, sessions, respondents and API keys
//! ([`crate::PeopleStore`], and the bulk copy of these tables).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::settings::import_departments;
use super::{Backend, Conn, Param};
use crate::rows::{Columns, USER_COLUMNS, user};
use crate::{
    ApiKey, Department, NewEvent, RespondentAccount, Session, StoreError, StoreResult, User, args,
};

pub fn departments<D>(c: &mut impl Conn<D>) -> StoreResult<Vec<Department>> {
    c.query(
        "SELECT code, name, review, head, name_en FROM departments ORDER BY code",
        &[],
        |r| {
            Ok(Department {
                code: r.text(0)?,
                name: r.text(1)?,
                review: r.flag(2)?,
                head: r.text_opt(3)?,
                name_en: r.text_opt(4)?,
            })
        },
    )
}

/// Updates a department ([`StoreError::Missing`] when there is none).
pub fn update_department<D>(c: &mut impl Conn<D>, d: &Department) -> StoreResult<()> {
    let n = c.execute(
        "UPDATE departments SET name = ?2, name_en = ?3, review = ?4, head = ?5 \
         WHERE code = ?1",
        &args![
            &d.code,
            &d.name,
            d.name_en.as_ref(),
            d.review,
            d.head.as_ref()
        ],
    )?;
    if n == 0 {
        return Err(StoreError::Missing("department"));
    }
    Ok(())
}

/// Inserts users as they are (a taken user name is
/// [`StoreError::Duplicate`]).
pub fn import_users<D>(c: &mut impl Conn<D>, users: &[User]) -> StoreResult<()> {
    for u in users {
        c.execute_or(
            &format!(
                "INSERT INTO users ({USER_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            &[
                u.id.into(),
                (&u.username).into(),
                (&u.display_name).into(),
                (&u.password_hash).into(),
                Param::json(&u.roles)?,
                Param::json(&u.departments)?,
                u.level.into(),
                u.active.into(),
                u.created_at.into(),
                u.email.as_ref().into(),
                u.must_change_password.into(),
            ],
            "username",
            "user",
        )?;
    }
    Ok(())
}

/// Updates a user ([`StoreError::Missing`] when there is none).
pub fn update_user<D>(c: &mut impl Conn<D>, u: &User) -> StoreResult<()> {
    let n = c.execute(
        "UPDATE users SET display_name = ?2, password_hash = ?3, roles = ?4, \
         departments = ?5, level = ?6, active = ?7, email = ?8, \
         must_change_password = ?9 WHERE id = ?1",
        &[
            u.id.into(),
            (&u.display_name).into(),
            (&u.password_hash).into(),
            Param::json(&u.roles)?,
            Param::json(&u.departments)?,
            u.level.into(),
            u.active.into(),
            u.email.as_ref().into(),
            u.must_change_password.into(),
        ],
    )?;
    if n == 0 {
        return Err(StoreError::Missing("user"));
    }
    Ok(())
}

/// Users: `SELECT … FROM users <tail>`.
pub fn users<D>(c: &mut impl Conn<D>, tail: &str, params: &[Param]) -> StoreResult<Vec<User>> {
    c.query(
        &format!("SELECT {USER_COLUMNS} FROM users {tail}"),
        params,
        |r| user(r),
    )
}

pub fn count_users<D>(c: &mut impl Conn<D>) -> StoreResult<i64> {
    c.query_one("SELECT count(*) FROM users", &[], |r| r.int(0))
}

pub fn insert_session<D>(c: &mut impl Conn<D>, s: &Session) -> StoreResult<()> {
    c.execute_or(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4)",
        &args![&s.token_hash, s.user_id, s.created_at, s.expires_at],
        "session",
        "user",
    )?;
    Ok(())
}

pub fn session<D>(c: &mut impl Conn<D>, token_hash: &str) -> StoreResult<Option<Session>> {
    c.query_opt(
        "SELECT token_hash, user_id, created_at, expires_at FROM sessions \
         WHERE token_hash = ?1",
        &args![token_hash],
        |r| {
            Ok(Session {
                token_hash: r.text(0)?,
                user_id: r.uuid(1)?,
                created_at: r.time(2)?,
                expires_at: r.time(3)?,
            })
        },
    )
}

pub fn delete_session<D>(c: &mut impl Conn<D>, token_hash: &str) -> StoreResult<()> {
    c.execute(
        "DELETE FROM sessions WHERE token_hash = ?1",
        &args![token_hash],
    )?;
    Ok(())
}

/// Deletes a user's sessions but `keep`; how many.
pub fn delete_user_sessions<D>(
    c: &mut impl Conn<D>,
    user_id: Uuid,
    keep: Option<&str>,
) -> StoreResult<u64> {
    c.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR token_hash <> ?2)",
        &args![user_id, keep],
    )
}

pub fn delete_expired_sessions<D>(c: &mut impl Conn<D>, now: DateTime<Utc>) -> StoreResult<u64> {
    c.execute("DELETE FROM sessions WHERE expires_at < ?1", &args![now])
}

const RESPONDENT_COLUMNS: &str = "id, kind, external_id, name, email, key_hash, created_at, \
     key_revoked, key_expires_at";

/// Respondent accounts: `SELECT … FROM respondents <tail>`.
pub fn respondents<D>(
    c: &mut impl Conn<D>,
    tail: &str,
    params: &[Param],
) -> StoreResult<Vec<RespondentAccount>> {
    c.query(
        &format!("SELECT {RESPONDENT_COLUMNS} FROM respondents {tail}"),
        params,
        |r| {
            Ok(RespondentAccount {
                id: r.uuid(0)?,
                kind: r.parsed("respondent kind", 1)?,
                external_id: r.text(2)?,
                name: r.text(3)?,
                email: r.text_opt(4)?,
                key_hash: r.text(5)?,
                created_at: r.time(6)?,
                key_revoked: r.flag(7)?,
                key_expires_at: r.time_opt(8)?,
            })
        },
    )
}

pub fn import_respondents<D>(
    c: &mut impl Conn<D>,
    respondents: &[RespondentAccount],
) -> StoreResult<()> {
    for r in respondents {
        c.execute_or(
            &format!(
                "INSERT INTO respondents ({RESPONDENT_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            &args![
                r.id,
                r.kind.as_str(),
                &r.external_id,
                &r.name,
                r.email.as_ref(),
                &r.key_hash,
                r.created_at,
                r.key_revoked,
                r.key_expires_at
            ],
            "respondent",
            "respondent",
        )?;
    }
    Ok(())
}

/// Gives a respondent a new portal key, or revokes it (`None`); false
/// when there is no such respondent.
pub fn set_respondent_key<D>(
    c: &mut impl Conn<D>,
    id: Uuid,
    key_hash: Option<&str>,
    expires_at: Option<DateTime<Utc>>,
) -> StoreResult<bool> {
    let n = match key_hash {
        Some(hash) => c.execute_or(
            "UPDATE respondents SET key_hash = ?2, key_revoked = FALSE, \
             key_expires_at = ?3 WHERE id = ?1",
            &args![id, hash, expires_at],
            "key",
            "key",
        ),
        None => c.execute_or(
            "UPDATE respondents SET key_revoked = TRUE WHERE id = ?1",
            &args![id],
            "key",
            "key",
        ),
    }?;
    Ok(n > 0)
}

const API_KEY_COLUMNS: &str = "id, name, scopes, key_hash, created_at, revoked, expires_at";

/// API keys: `SELECT … FROM api_keys <tail>`.
pub fn api_keys<D>(c: &mut impl Conn<D>, tail: &str, params: &[Param]) -> StoreResult<Vec<ApiKey>> {
    c.query(
        &format!("SELECT {API_KEY_COLUMNS} FROM api_keys {tail}"),
        params,
        |r| {
            Ok(ApiKey {
                id: r.uuid(0)?,
                name: r.text(1)?,
                scopes: r.json(2)?,
                key_hash: r.text(3)?,
                created_at: r.time(4)?,
                revoked: r.flag(5)?,
                expires_at: r.time_opt(6)?,
            })
        },
    )
}

pub fn import_api_keys<D>(c: &mut impl Conn<D>, keys: &[ApiKey]) -> StoreResult<()> {
    for k in keys {
        c.execute_or(
            &format!(
                "INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ),
            &[
                k.id.into(),
                (&k.name).into(),
                Param::json(&k.scopes)?,
                (&k.key_hash).into(),
                k.created_at.into(),
                k.revoked.into(),
                k.expires_at.into(),
            ],
            "key",
            "key",
        )?;
    }
    Ok(())
}

/// Revokes an API key; false when there is none.
pub fn revoke_api_key<D>(c: &mut impl Conn<D>, id: Uuid) -> StoreResult<bool> {
    let n = c.execute(
        "UPDATE api_keys SET revoked = TRUE WHERE id = ?1",
        &args![id],
    )?;
    Ok(n > 0)
}

#[async_trait::async_trait]
impl<B: Backend> crate::PeopleStore for B {
    async fn insert_department(&self, d: Department, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| {
            import_departments(ctx, std::slice::from_ref(&d), &[])
        })
        .await
    }

    async fn list_departments(&self) -> StoreResult<Vec<Department>> {
        self.read(departments).await
    }

    async fn update_department(&self, d: Department, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| update_department(ctx, &d))
            .await
    }

    async fn insert_user(&self, u: User, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| {
            import_users(ctx, std::slice::from_ref(&u))
        })
        .await
    }

    async fn update_user(&self, u: User, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| update_user(ctx, &u))
            .await
    }

    async fn get_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let username = username.to_string();
        self.read(move |c| Ok(users(c, "WHERE username = ?1", &args![username])?.pop()))
            .await
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>> {
        self.read(move |c| Ok(users(c, "WHERE id = ?1", &args![id])?.pop()))
            .await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.read(|c| users(c, "ORDER BY username", &[])).await
    }

    async fn count_users(&self) -> StoreResult<i64> {
        self.read(count_users).await
    }

    async fn insert_session(&self, s: Session) -> StoreResult<()> {
        self.write_plain(move |c| insert_session(c, &s)).await
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let token_hash = token_hash.to_string();
        self.read_point(move |c| session(c, &token_hash)).await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write_plain(move |c| delete_session(c, &token_hash))
            .await
    }

    async fn delete_user_sessions(&self, user_id: Uuid, keep: Option<String>) -> StoreResult<u64> {
        self.write_plain(move |c| delete_user_sessions(c, user_id, keep.as_deref()))
            .await
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write_plain(move |c| delete_expired_sessions(c, now))
            .await
    }

    async fn insert_respondent(&self, r: RespondentAccount, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| {
            import_respondents(ctx, std::slice::from_ref(&r))
        })
        .await
    }

    async fn get_respondent_by_key_hash(
        &self,
        key_hash: &str,
    ) -> StoreResult<Option<RespondentAccount>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| Ok(respondents(c, "WHERE key_hash = ?1", &args![key_hash])?.pop()))
            .await
    }

    async fn get_respondent(
        &self,
        kind: redress_domain::RespondentKind,
        external_id: &str,
    ) -> StoreResult<Option<RespondentAccount>> {
        let external_id = external_id.to_string();
        self.read(move |c| {
            let tail = "WHERE kind = ?1 AND external_id = ?2";
            Ok(respondents(c, tail, &args![kind.as_str(), external_id])?.pop())
        })
        .await
    }

    async fn insert_api_key(&self, k: ApiKey, event: NewEvent) -> StoreResult<()> {
        self.write_event(event, move |ctx| {
            import_api_keys(ctx, std::slice::from_ref(&k))
        })
        .await
    }

    async fn get_api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| Ok(api_keys(c, "WHERE key_hash = ?1", &args![key_hash])?.pop()))
            .await
    }

    async fn revoke_api_key(&self, id: Uuid, event: NewEvent) -> StoreResult<bool> {
        self.write_event_if(event, move |ctx| revoke_api_key(ctx, id))
            .await
    }

    async fn set_respondent_key(
        &self,
        id: Uuid,
        key_hash: Option<String>,
        expires_at: Option<DateTime<Utc>>,
        event: NewEvent,
    ) -> StoreResult<bool> {
        self.write_event_if(event, move |ctx| {
            set_respondent_key(ctx, id, key_hash.as_deref(), expires_at)
        })
        .await
    }
}
