//! Departments, users, sessions, respondents and API keys ([`PeopleStore`]),
//! over the statements of [`redress_store::sql::people`].

use redress_store::args;
use redress_store::sql::people as sql;
use redress_store::sql::settings::import_departments;

use super::*;

#[async_trait]
impl PeopleStore for SqliteStore {
    async fn insert_department(&self, d: Department, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            import_departments(ctx, std::slice::from_ref(&d), &[])?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn list_departments(&self) -> StoreResult<Vec<Department>> {
        self.read(sql::departments).await
    }

    async fn update_department(&self, d: Department, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::update_department(ctx, &d)?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn insert_user(&self, u: User, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::import_users(ctx, std::slice::from_ref(&u))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn update_user(&self, u: User, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::update_user(ctx, &u)?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let username = username.to_string();
        self.read(move |c| Ok(sql::users(c, "WHERE username = ?1", &args![username])?.pop()))
            .await
    }

    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>> {
        self.read(move |c| Ok(sql::users(c, "WHERE id = ?1", &args![id])?.pop()))
            .await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.read(|c| sql::users(c, "ORDER BY username", &[])).await
    }

    async fn count_users(&self) -> StoreResult<i64> {
        self.read(sql::count_users).await
    }

    async fn insert_session(&self, s: Session) -> StoreResult<()> {
        self.write(move |c| sql::insert_session(c, &s)).await
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let token_hash = token_hash.to_string();
        self.read_point(move |c| sql::session(c, &token_hash)).await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |c| sql::delete_session(c, &token_hash))
            .await
    }

    async fn delete_user_sessions(&self, user_id: Uuid, keep: Option<String>) -> StoreResult<u64> {
        self.write(move |c| sql::delete_user_sessions(c, user_id, keep.as_deref()))
            .await
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |c| sql::delete_expired_sessions(c, now))
            .await
    }

    async fn insert_respondent(&self, r: RespondentAccount, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::import_respondents(ctx, std::slice::from_ref(&r))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_respondent_by_key_hash(
        &self,
        key_hash: &str,
    ) -> StoreResult<Option<RespondentAccount>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| Ok(sql::respondents(c, "WHERE key_hash = ?1", &args![key_hash])?.pop()))
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
            Ok(sql::respondents(c, tail, &args![kind.as_str(), external_id])?.pop())
        })
        .await
    }

    async fn insert_api_key(&self, k: ApiKey, event: NewEvent) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::import_api_keys(ctx, std::slice::from_ref(&k))?;
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn get_api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| Ok(sql::api_keys(c, "WHERE key_hash = ?1", &args![key_hash])?.pop()))
            .await
    }

    async fn revoke_api_key(&self, id: Uuid, event: NewEvent) -> StoreResult<bool> {
        self.write(move |ctx| {
            if !sql::revoke_api_key(ctx, id)? {
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
            if !sql::set_respondent_key(ctx, id, key_hash.as_deref(), expires_at)? {
                return Ok(false);
            }
            ctx.append(std::slice::from_ref(&event))?;
            Ok(true)
        })
        .await
    }
}
