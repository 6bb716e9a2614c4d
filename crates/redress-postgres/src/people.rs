//! Departments, users, sessions, respondents and API keys ([`PeopleStore`]).

use super::*;

#[async_trait]
impl PeopleStore for PgStore {
    async fn insert_department(&self, d: Department, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_departments(ctx, std::slice::from_ref(&d), &[])?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_departments(&self) -> StoreResult<Vec<Department>> {
        let rows = self
            .rows(
                "SELECT code, name, review, head, name_en FROM departments ORDER BY code",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Department {
                    code: col(r, 0)?,
                    name: col(r, 1)?,
                    review: col(r, 2)?,
                    head: col(r, 3)?,
                    name_en: col(r, 4)?,
                })
            })
            .collect()
    }

    async fn update_department(&self, d: Department, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .execute(
                    "UPDATE departments SET name = $2, name_en = $3, review = $4, head = $5 \
                 WHERE code = $1",
                    &[&d.code, &d.name, &d.name_en, &d.review, &d.head],
                )
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
            bulk::import_users(ctx, std::slice::from_ref(&u))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn update_user(&self, u: User, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            let roles = postgres::types::Json(codec::to_json(&u.roles)?);
            let departments = postgres::types::Json(codec::to_json(&u.departments)?);
            let n = ctx
                .execute(
                    "UPDATE users SET display_name = $2, password_hash = $3, roles = $4, \
                     departments = $5, level = $6, active = $7, email = $8, \
                     must_change_password = $9 WHERE id = $1",
                    &[
                        &u.id,
                        &u.display_name,
                        &u.password_hash,
                        &roles,
                        &departments,
                        &u.level,
                        &u.active,
                        &u.email,
                        &u.must_change_password,
                    ],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Missing("user"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let rows = self.rows(sql, vec![boxed(username.to_string())]).await?;
        rows.first().map(user).transpose()
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let rows = self.rows(sql, vec![boxed(id)]).await?;
        rows.first().map(user).transpose()
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        let rows = self.rows(sql, vec![]).await?;
        rows.iter().map(user).collect()
    }

    async fn count_users(&self) -> StoreResult<i64> {
        let rows = self.rows("SELECT count(*) FROM users", vec![]).await?;
        rows.first().map(|r| col(r, 0)).unwrap_or(Ok(0))
    }

    async fn insert_session(&self, s: Session) -> StoreResult<()> {
        self.read(move |c| {
            c.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
                &[
                    &s.token_hash,
                    &s.user_id,
                    &us(&s.created_at),
                    &us(&s.expires_at),
                ],
            )
            .map_err(|e| constraint(e, "session", "user"))?;
            Ok(())
        })
        .await
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let rows = self
            .rows(
                "SELECT token_hash, user_id, created_at, expires_at FROM sessions \
                 WHERE token_hash = $1",
                vec![boxed(token_hash.to_string())],
            )
            .await?;
        rows.first()
            .map(|r| {
                Ok(Session {
                    token_hash: col(r, 0)?,
                    user_id: col(r, 1)?,
                    created_at: col(r, 2)?,
                    expires_at: col(r, 3)?,
                })
            })
            .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.read(move |c| {
            c.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn delete_user_sessions(&self, user_id: Uuid, keep: Option<String>) -> StoreResult<u64> {
        self.read(move |c| {
            c.execute(
                "DELETE FROM sessions WHERE user_id = $1 \
                 AND ($2::text IS NULL OR token_hash <> $2)",
                &[&user_id, &keep],
            )
            .map_err(db)
        })
        .await
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.read(move |c| {
            c.execute("DELETE FROM sessions WHERE expires_at < $1", &[&us(&now)])
                .map_err(db)
        })
        .await
    }

    async fn insert_respondent(&self, r: RespondentAccount, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_respondents(ctx, std::slice::from_ref(&r))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_respondent_by_key_hash(
        &self,
        key_hash: &str,
    ) -> StoreResult<Option<RespondentAccount>> {
        let rows = self
            .rows(
                "SELECT id, kind, external_id, name, email, key_hash, created_at, \
                 key_revoked, key_expires_at FROM respondents WHERE key_hash = $1",
                vec![boxed(key_hash.to_string())],
            )
            .await?;
        rows.first().map(bulk::respondent).transpose()
    }

    async fn get_respondent(
        &self,
        kind: redress_domain::RespondentKind,
        external_id: &str,
    ) -> StoreResult<Option<RespondentAccount>> {
        let rows = self
            .rows(
                "SELECT id, kind, external_id, name, email, key_hash, created_at, \
                 key_revoked, key_expires_at FROM respondents WHERE kind = $1 AND external_id = $2",
                vec![
                    boxed(kind.as_str().to_string()),
                    boxed(external_id.to_string()),
                ],
            )
            .await?;
        rows.first().map(bulk::respondent).transpose()
    }

    async fn insert_api_key(&self, k: ApiKey, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            bulk::import_api_keys(ctx, std::slice::from_ref(&k))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let rows = self
            .rows(
                "SELECT id, name, scopes, key_hash, created_at, revoked, expires_at \
                 FROM api_keys WHERE key_hash = $1",
                vec![boxed(key_hash.to_string())],
            )
            .await?;
        rows.first().map(bulk::api_key).transpose()
    }

    async fn revoke_api_key(&self, id: Uuid, event: NewEvent) -> StoreResult<bool> {
        self.write(move |ctx| {
            let n = ctx
                .execute("UPDATE api_keys SET revoked = true WHERE id = $1", &[&id])
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
            let expires = expires_at.as_ref().map(us);
            let n = match &key_hash {
                Some(hash) => ctx.execute(
                    "UPDATE respondents SET key_hash = $2, key_revoked = false, \
                     key_expires_at = $3 WHERE id = $1",
                    &[&id, hash, &expires],
                ),
                None => ctx.execute(
                    "UPDATE respondents SET key_revoked = true WHERE id = $1",
                    &[&id],
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
