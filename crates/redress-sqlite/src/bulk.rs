//! Bulk copy (`redress migrate-data`): whole tables read in pages and
//! written back as they are, `seq`, versions and hashes included.

use r2d2_sqlite::rusqlite::types::Value as SqlValue;
use r2d2_sqlite::rusqlite::{self, Connection, params, params_from_iter};
use redress_domain::calendar::DayException;
use redress_store::{
    ApiKey, CannedReply, CaseRow, Category, Department, IdempotencyRecord, RespondentAccount,
    StoreError, StoreResult, TABLE_COUNTS_SQL, TableCounts, User,
};

use crate::codec::{
    self, CASE_COLUMNS, constraint, db, from_json, parse_enum, parse_enum_opt, parse_ts,
    parse_uuid, to_json, ts,
};
use crate::{USER_COLUMNS, case_violation, day_kind_str, shared_case_values};

pub fn table_counts(c: &Connection) -> StoreResult<TableCounts> {
    c.query_row(TABLE_COUNTS_SQL, [], |r| {
        Ok(TableCounts {
            cases: r.get(0)?,
            events: r.get(1)?,
            idempotency_keys: r.get(2)?,
            departments: r.get(3)?,
            categories: r.get(4)?,
            users: r.get(5)?,
            respondents: r.get(6)?,
            api_keys: r.get(7)?,
            calendar_days: r.get(8)?,
            canned_replies: r.get(9)?,
            held_mail: r.get(10)?,
            notice_templates: r.get(11)?,
            webhook_subscriptions: r.get(12)?,
            webhook_calls: r.get(13)?,
            webhook_attempts: r.get(14)?,
        })
    })
    .map_err(db)
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub fn export_cases(c: &Connection, after: i64, n: usize) -> StoreResult<Vec<CaseRow>> {
    let raw = c
        .prepare_cached(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        ))
        .map_err(db)?
        .query_map(params![after, limit(n)], codec::read_case)
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    let mut rows = raw
        .into_iter()
        .map(codec::case_row)
        .collect::<StoreResult<Vec<_>>>()?;
    // A decided case carries its corrective actions along.
    for r in rows.iter_mut().filter(|r| r.decided_by.is_some()) {
        r.actions = crate::actions::of_case(c, &r.id.to_string())?;
    }
    Ok(rows)
}

pub fn export_idempotency(
    c: &Connection,
    after: Option<String>,
    n: usize,
) -> StoreResult<Vec<IdempotencyRecord>> {
    let raw = c
        .prepare_cached(
            "SELECT key, request_hash, status, body, created_at FROM idempotency_keys \
             WHERE key > ?1 ORDER BY key LIMIT ?2",
        )
        .map_err(db)?
        // From "" on the first page: a key range, where `?1 IS NULL OR …`
        // would scan from the start for every page.
        .query_map(params![after.unwrap_or_default(), limit(n)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    raw.into_iter()
        .map(|(key, request_hash, status, body, created_at)| {
            Ok(IdempotencyRecord {
                key,
                request_hash,
                status: u16::try_from(status)
                    .map_err(|_| StoreError::Backend(format!("bad http status {status}")))?,
                body,
                created_at: parse_ts(&created_at)?,
            })
        })
        .collect()
}

pub fn export_respondents(c: &Connection) -> StoreResult<Vec<RespondentAccount>> {
    respondents(c, "ORDER BY created_at, id", [])
}

/// Respondent accounts: `SELECT … FROM respondents <tail>`.
pub fn respondents(
    c: &Connection,
    tail: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<RespondentAccount>> {
    let raw = c
        .prepare_cached(&format!(
            "SELECT id, kind, external_id, name, email, key_hash, created_at, key_revoked, \
             key_expires_at FROM respondents {tail}"
        ))
        .map_err(db)?
        .query_map(params, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, bool>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    raw.into_iter()
        .map(
            |(id, kind, external_id, name, email, key_hash, created_at, key_revoked, expires)| {
                Ok(RespondentAccount {
                    id: parse_uuid(&id)?,
                    kind: parse_enum("respondent kind", &kind)?,
                    external_id,
                    name,
                    email,
                    key_hash,
                    created_at: parse_ts(&created_at)?,
                    key_revoked,
                    key_expires_at: expires.as_deref().map(parse_ts).transpose()?,
                })
            },
        )
        .collect()
}

pub fn export_api_keys(c: &Connection) -> StoreResult<Vec<ApiKey>> {
    api_keys(c, "ORDER BY created_at, id", [])
}

/// API keys: `SELECT … FROM api_keys <tail>`.
pub fn api_keys(
    c: &Connection,
    tail: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<ApiKey>> {
    let raw = c
        .prepare_cached(&format!(
            "SELECT id, name, scopes, key_hash, created_at, revoked, expires_at FROM api_keys {tail}"
        ))
        .map_err(db)?
        .query_map(params, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    raw.into_iter()
        .map(
            |(id, name, scopes, key_hash, created_at, revoked, expires)| {
                Ok(ApiKey {
                    id: parse_uuid(&id)?,
                    name,
                    scopes: from_json(&scopes)?,
                    key_hash,
                    created_at: parse_ts(&created_at)?,
                    revoked,
                    expires_at: expires.as_deref().map(parse_ts).transpose()?,
                })
            },
        )
        .collect()
}

const IMPORT_CASE: &str = "INSERT INTO cases (seq, id, tracking_no, status, closure, channel, \
     category, department, assignee, respondent_key, respondent_name, complainant_key, subject, \
     created_at, updated_at, next_due_at, staff_due, sweep_at, decided_by, decider_level, \
     search_tokens, report, version, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, \
     ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)";

/// Inserts rows with their own `seq` (the rowid: later inserts continue
/// after the largest). The triggers keep the search index and the
/// per-status counts.
pub fn import_cases(c: &Connection, rows: &[CaseRow]) -> StoreResult<()> {
    let mut stmt = c.prepare_cached(IMPORT_CASE).map_err(db)?;
    for r in rows {
        let mut values = vec![SqlValue::Integer(r.seq), SqlValue::Text(r.id.to_string())];
        values.extend(shared_case_values(r)?);
        values.push(SqlValue::Integer(r.version));
        values.push(SqlValue::Text(r.doc.clone()));
        stmt.execute(params_from_iter(values))
            .map_err(case_violation)?;
        crate::actions::write(c, &r.id.to_string(), &r.actions)?;
    }
    Ok(())
}

pub fn import_idempotency(c: &Connection, records: &[IdempotencyRecord]) -> StoreResult<()> {
    let mut stmt = c
        .prepare_cached(
            "INSERT INTO idempotency_keys (key, request_hash, status, body, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(db)?;
    for i in records {
        stmt.execute(params![
            i.key,
            i.request_hash,
            i.status,
            i.body,
            ts(&i.created_at)
        ])
        .map_err(|e| constraint(e, "key", "key"))?;
    }
    Ok(())
}

pub fn import_departments(
    c: &Connection,
    departments: &[Department],
    categories: &[Category],
) -> StoreResult<()> {
    let mut stmt = c
        .prepare_cached(
            "INSERT INTO departments (code, name, review, head) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(db)?;
    for d in departments {
        stmt.execute(params![d.code, d.name, d.review, d.head])
            .map_err(|e| constraint(e, "code", "department"))?;
    }
    let mut stmt = c
        .prepare_cached(
            "INSERT INTO categories (code, name, name_en, department, handling_days, \
             appeal_days, review_days, respondent_reply_days) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(db)?;
    for k in categories {
        stmt.execute(params![
            k.code,
            k.name,
            k.name_en,
            k.department,
            k.handling_days.map(i64::from),
            k.appeal_days.map(i64::from),
            k.review_days.map(i64::from),
            k.respondent_reply_days.map(i64::from)
        ])
        .map_err(|e| constraint(e, "code", "department"))?;
    }
    Ok(())
}

pub fn import_users(c: &Connection, users: &[User]) -> StoreResult<()> {
    let mut stmt = c
        .prepare_cached(&format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ))
        .map_err(db)?;
    for u in users {
        stmt.execute(params![
            u.id.to_string(),
            u.username,
            u.display_name,
            u.password_hash,
            to_json(&u.roles)?,
            to_json(&u.departments)?,
            u.level,
            u.active,
            ts(&u.created_at),
            u.email,
            u.must_change_password,
        ])
        .map_err(|e| constraint(e, "username", "user"))?;
    }
    Ok(())
}

pub fn import_respondents(c: &Connection, respondents: &[RespondentAccount]) -> StoreResult<()> {
    let mut stmt = c
        .prepare_cached(
            "INSERT INTO respondents (id, kind, external_id, name, email, key_hash, created_at, \
             key_revoked, key_expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(db)?;
    for r in respondents {
        stmt.execute(params![
            r.id.to_string(),
            r.kind.as_str(),
            r.external_id,
            r.name,
            r.email,
            r.key_hash,
            ts(&r.created_at),
            r.key_revoked,
            r.key_expires_at.as_ref().map(ts)
        ])
        .map_err(|e| constraint(e, "respondent", "respondent"))?;
    }
    Ok(())
}

pub fn import_api_keys(c: &Connection, keys: &[ApiKey]) -> StoreResult<()> {
    let mut stmt = c
        .prepare_cached(
            "INSERT INTO api_keys (id, name, scopes, key_hash, created_at, revoked, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(db)?;
    for k in keys {
        stmt.execute(params![
            k.id.to_string(),
            k.name,
            to_json(&k.scopes)?,
            k.key_hash,
            ts(&k.created_at),
            k.revoked,
            k.expires_at.as_ref().map(ts)
        ])
        .map_err(|e| constraint(e, "key", "key"))?;
    }
    Ok(())
}

pub fn import_calendar(c: &Connection, days: &[DayException]) -> StoreResult<()> {
    c.execute("DELETE FROM calendar_days", []).map_err(db)?;
    let mut stmt = c
        .prepare_cached("INSERT INTO calendar_days (date, kind, name) VALUES (?1, ?2, ?3)")
        .map_err(db)?;
    for d in days {
        stmt.execute(params![
            d.date.format("%Y-%m-%d").to_string(),
            day_kind_str(d.kind),
            d.name
        ])
        .map_err(db)?;
    }
    Ok(())
}

/// Canned replies: `SELECT … FROM canned_replies <tail>`.
pub fn canned_replies(
    c: &Connection,
    tail: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<CannedReply>> {
    let raw = c
        .prepare_cached(&format!(
            "SELECT id, title, body, locale, created_at, updated_at FROM canned_replies {tail}"
        ))
        .map_err(db)?
        .query_map(params, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    raw.into_iter()
        .map(|(id, title, body, locale, created_at, updated_at)| {
            Ok(CannedReply {
                id: parse_uuid(&id)?,
                title,
                body,
                locale: parse_enum_opt("locale", locale)?,
                created_at: parse_ts(&created_at)?,
                updated_at: parse_ts(&updated_at)?,
            })
        })
        .collect()
}

pub fn import_canned_replies(c: &Connection, replies: &[CannedReply]) -> StoreResult<()> {
    let mut stmt = c
        .prepare_cached(
            "INSERT INTO canned_replies (id, title, body, locale, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(db)?;
    for r in replies {
        stmt.execute(params![
            r.id.to_string(),
            r.title,
            r.body,
            r.locale.map(|l| l.as_str()),
            ts(&r.created_at),
            ts(&r.updated_at)
        ])
        .map_err(|e| constraint(e, "id", "canned_reply"))?;
    }
    Ok(())
}

/// Records that the seed `name` ran; false when it had run before.
pub fn mark_seeded(c: &Connection, name: &str) -> StoreResult<bool> {
    let n = c
        .prepare_cached(
            "INSERT INTO seeds (name, seeded_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        )
        .map_err(db)?
        .execute(params![name, ts(&chrono::Utc::now())])
        .map_err(db)?;
    Ok(n == 1)
}
