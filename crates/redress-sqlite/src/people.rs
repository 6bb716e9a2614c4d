//! Departments, users, sessions, respondents and API keys ([`PeopleStore`]).

use super::*;

#[async_trait]
impl PeopleStore for SqliteStore {
    async fn insert_department(&self, d: Department, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_departments(ctx.conn, std::slice::from_ref(&d), &[])?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_departments(&self) -> StoreResult<Vec<Department>> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT code, name, review, head, name_en FROM departments ORDER BY code",
            )
            .map_err(db)?
            .query_map([], |r| {
                Ok(Department {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    review: r.get(2)?,
                    head: r.get(3)?,
                    name_en: r.get(4)?,
                })
            })
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)
        })
        .await
    }

    async fn update_department(&self, d: Department, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .prepare_cached(
                    "UPDATE departments SET name = ?2, name_en = ?3, review = ?4, head = ?5 \
                     WHERE code = ?1",
                )
                .map_err(db)?
                .execute(params![d.code, d.name, d.name_en, d.review, d.head])
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Missing("department"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn insert_user(&self, u: User, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_users(ctx.conn, std::slice::from_ref(&u))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn update_user(&self, u: User, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .prepare_cached(
                    "UPDATE users SET display_name = ?2, password_hash = ?3, roles = ?4, \
                     departments = ?5, level = ?6, active = ?7, email = ?8, \
                     must_change_password = ?9 WHERE id = ?1",
                )
                .map_err(db)?
                .execute(params![
                    u.id.to_string(),
                    u.display_name,
                    u.password_hash,
                    codec::to_json(&u.roles)?,
                    codec::to_json(&u.departments)?,
                    u.level,
                    u.active,
                    u.email,
                    u.must_change_password,
                ])
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Missing("user"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let username = username.to_string();
        self.read(move |c| Ok(users_where(c, "WHERE username = ?1", &username)?.pop()))
            .await
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>> {
        self.read(move |c| Ok(users_where(c, "WHERE id = ?1", &id.to_string())?.pop()))
            .await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.read(|c| users_where(c, "ORDER BY username", "")).await
    }

    async fn count_users(&self) -> StoreResult<i64> {
        self.read(|c| {
            c.query_row("SELECT count(*) FROM users", [], |r| r.get(0))
                .map_err(db)
        })
        .await
    }

    async fn insert_session(&self, s: Session) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.conn
                .execute(
                    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        s.token_hash,
                        s.user_id.to_string(),
                        ts(&s.created_at),
                        ts(&s.expires_at)
                    ],
                )
                .map_err(|e| constraint(e, "session", "user"))?;
            Ok(())
        })
        .await
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let token_hash = token_hash.to_string();
        self.read_point(move |c| {
            let raw = c
                .prepare_cached(
                    "SELECT token_hash, user_id, created_at, expires_at FROM sessions \
                     WHERE token_hash = ?1",
                )
                .map_err(db)?
                .query_row([token_hash], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .optional()
                .map_err(db)?;
            raw.map(|(token_hash, user_id, created_at, expires_at)| {
                Ok(Session {
                    token_hash,
                    user_id: parse_uuid(&user_id)?,
                    created_at: parse_ts(&created_at)?,
                    expires_at: parse_ts(&expires_at)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |ctx| {
            ctx.conn
                .execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn delete_user_sessions(&self, user_id: Uuid, keep: Option<String>) -> StoreResult<u64> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .execute(
                    "DELETE FROM sessions WHERE user_id = ?1 \
                     AND (?2 IS NULL OR token_hash <> ?2)",
                    params![user_id.to_string(), keep],
                )
                .map_err(db)?;
            Ok(n as u64)
        })
        .await
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .execute("DELETE FROM sessions WHERE expires_at < ?1", [ts(&now)])
                .map_err(db)?;
            Ok(n as u64)
        })
        .await
    }

    async fn insert_respondent(&self, r: RespondentAccount, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_respondents(ctx.conn, std::slice::from_ref(&r))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_respondent_by_key_hash(
        &self,
        key_hash: &str,
    ) -> StoreResult<Option<RespondentAccount>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| Ok(bulk::respondents(c, "WHERE key_hash = ?1", [key_hash])?.pop()))
            .await
    }

    async fn get_respondent(
        &self,
        kind: redress_domain::RespondentKind,
        external_id: &str,
    ) -> StoreResult<Option<RespondentAccount>> {
        let (kind, external_id) = (kind.as_str().to_string(), external_id.to_string());
        self.read(move |c| {
            Ok(bulk::respondents(
                c,
                "WHERE kind = ?1 AND external_id = ?2",
                [kind, external_id],
            )?
            .pop())
        })
        .await
    }

    async fn insert_api_key(&self, k: ApiKey, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_api_keys(ctx.conn, std::slice::from_ref(&k))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| Ok(bulk::api_keys(c, "WHERE key_hash = ?1", [key_hash])?.pop()))
            .await
    }

    async fn revoke_api_key(&self, id: Uuid, event: NewEvent) -> StoreResult<bool> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .execute(
                    "UPDATE api_keys SET revoked = 1 WHERE id = ?1",
                    [id.to_string()],
                )
                .map_err(db)?;
            if n == 0 {
                return Ok(false);
            }
            ctx.append(std::slice::from_ref(&event))?;
            Ok(true)
        })
        .await
    }

    async fn set_respondent_key(
        &self,
        id: Uuid,
        key_hash: Option<String>,
        expires_at: Option<DateTime<Utc>>,
        event: NewEvent,
    ) -> StoreResult<bool> {
        self.write(move |ctx| {
            let n = match &key_hash {
                Some(hash) => ctx.conn.execute(
                    "UPDATE respondents SET key_hash = ?2, key_revoked = 0, \
                     key_expires_at = ?3 WHERE id = ?1",
                    params![id.to_string(), hash, expires_at.as_ref().map(ts)],
                ),
                None => ctx.conn.execute(
                    "UPDATE respondents SET key_revoked = 1 WHERE id = ?1",
                    [id.to_string()],
                ),
            }
            .map_err(|e| constraint(e, "key", "key"))?;
            if n == 0 {
                return Ok(false);
            }
            ctx.append(std::slice::from_ref(&event))?;
            Ok(true)
        })
        .await
    }
}
