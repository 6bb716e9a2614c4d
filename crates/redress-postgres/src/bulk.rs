//! Bulk copy (`redress migrate-data`): whole tables read in pages and
//! written back as they are, `seq`, versions and hashes included. Large
//! tables are written with one `unnest` statement per batch.

use chrono::{DateTime, NaiveDate, Utc};
use postgres::Client;
use postgres::types::Json;
use redress_domain::calendar::DayException;
use redress_store::{
    ApiKey, CannedReply, CaseRow, Category, Department, IdempotencyRecord, RespondentAccount,
    StoreError, StoreResult, TABLE_COUNTS_SQL, TableCounts, User,
};
use uuid::Uuid;

use crate::codec::{
    self, CASE_COLUMNS, col, constraint, db, from_json, parse_enum, to_json, unique_constraint, us,
    us_opt,
};
use crate::writer::WriteCtx;
use crate::{case_violation, day_kind_str, idempotency};

pub fn table_counts(c: &mut Client) -> StoreResult<TableCounts> {
    let r = c.query_one(TABLE_COUNTS_SQL, &[]).map_err(db)?;
    Ok(TableCounts {
        cases: col(&r, 0)?,
        events: col(&r, 1)?,
        idempotency_keys: col(&r, 2)?,
        departments: col(&r, 3)?,
        categories: col(&r, 4)?,
        users: col(&r, 5)?,
        respondents: col(&r, 6)?,
        api_keys: col(&r, 7)?,
        calendar_days: col(&r, 8)?,
        canned_replies: col(&r, 9)?,
        held_mail: col(&r, 10)?,
        notice_templates: col(&r, 11)?,
        webhook_subscriptions: col(&r, 12)?,
        webhook_calls: col(&r, 13)?,
        webhook_attempts: col(&r, 14)?,
    })
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub fn export_cases(c: &mut Client, after: i64, n: usize) -> StoreResult<Vec<CaseRow>> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE seq > $1 ORDER BY seq LIMIT $2");
    let mut rows = c
        .query(sql.as_str(), &[&after, &limit(n)])
        .map_err(db)?
        .iter()
        .map(codec::case_row)
        .collect::<StoreResult<Vec<_>>>()?;
    // Decided cases carry their corrective actions along.
    let decided: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.decided_by.is_some())
        .map(|r| r.id)
        .collect();
    for a in crate::actions::of_cases(c, &decided)? {
        if let Some(r) = rows.iter_mut().find(|r| r.id == a.case_id) {
            r.actions.push(a);
        }
    }
    Ok(rows)
}

pub fn export_idempotency(
    c: &mut Client,
    after: Option<String>,
    n: usize,
) -> StoreResult<Vec<IdempotencyRecord>> {
    c.query(
        "SELECT key, request_hash, status, body, created_at FROM idempotency_keys \
         WHERE $1::text IS NULL OR key > $1 ORDER BY key LIMIT $2",
        &[&after, &limit(n)],
    )
    .map_err(db)?
    .iter()
    .map(idempotency)
    .collect()
}

pub fn export_respondents(c: &mut Client) -> StoreResult<Vec<RespondentAccount>> {
    c.query(
        "SELECT id, kind, external_id, name, email, key_hash, created_at, key_revoked, \
         key_expires_at FROM respondents ORDER BY created_at, id",
        &[],
    )
    .map_err(db)?
    .iter()
    .map(respondent)
    .collect()
}

/// Reads `id, kind, external_id, name, email, key_hash, created_at,
/// key_revoked, key_expires_at`.
pub fn respondent(r: &postgres::Row) -> StoreResult<RespondentAccount> {
    Ok(RespondentAccount {
        id: col(r, 0)?,
        kind: parse_enum("respondent kind", col(r, 1)?)?,
        external_id: col(r, 2)?,
        name: col(r, 3)?,
        email: col(r, 4)?,
        key_hash: col(r, 5)?,
        created_at: col(r, 6)?,
        key_revoked: col(r, 7)?,
        key_expires_at: col(r, 8)?,
    })
}

pub fn export_api_keys(c: &mut Client) -> StoreResult<Vec<ApiKey>> {
    c.query(
        "SELECT id, name, scopes, key_hash, created_at, revoked, expires_at FROM api_keys \
         ORDER BY created_at, id",
        &[],
    )
    .map_err(db)?
    .iter()
    .map(api_key)
    .collect()
}

/// Reads `id, name, scopes, key_hash, created_at, revoked`.
pub fn api_key(r: &postgres::Row) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: col(r, 0)?,
        name: col(r, 1)?,
        scopes: from_json(col(r, 2)?)?,
        key_hash: col(r, 3)?,
        created_at: col(r, 4)?,
        revoked: col(r, 5)?,
        expires_at: col(r, 6)?,
    })
}

const IMPORT_CASES: &str = "INSERT INTO cases (seq, id, tracking_no, status, closure, channel, \
     category, department, assignee, respondent_key, respondent_name, complainant_key, subject, \
     created_at, updated_at, next_due_at, staff_due, sweep_at, decided_by, decider_level, \
     search_tokens, report, version, doc) \
     SELECT seq, id, tracking_no, status, closure, channel, category, department, assignee, \
     respondent_key, respondent_name, complainant_key, subject, created_at, updated_at, \
     next_due_at, staff_due, sweep_at, decided_by, decider_level, search_tokens, report::jsonb, \
     version, doc \
     FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], \
     $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], \
     $14::timestamptz[], $15::timestamptz[], $16::timestamptz[], $17::boolean[], \
     $18::timestamptz[], $19::text[], $20::integer[], $21::text[], $22::text[], $23::bigint[], \
     $24::text[]) \
     AS t(seq, id, tracking_no, status, closure, channel, category, department, assignee, \
     respondent_key, respondent_name, complainant_key, subject, created_at, updated_at, \
     next_due_at, staff_due, sweep_at, decided_by, decider_level, search_tokens, report, \
     version, doc)";

/// Moves the `seq` sequence past the largest imported `seq`, so that new
/// cases continue after the imported ones.
const ADVANCE_CASE_SEQ: &str = "SELECT setval(pg_get_serial_sequence('cases', 'seq'), \
     (SELECT max(seq) FROM cases)) FROM cases HAVING count(*) > 0";

/// Inserts rows with their own `seq` and `version` in one statement. The
/// trigger keeps the per-status counts.
pub fn import_cases(ctx: &mut WriteCtx<'_>, rows: &[CaseRow]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let s = |f: fn(&CaseRow) -> &str| rows.iter().map(f).collect::<Vec<&str>>();
    let o = |f: fn(&CaseRow) -> &Option<String>| {
        rows.iter()
            .map(|r| f(r).as_deref())
            .collect::<Vec<Option<&str>>>()
    };
    let t = |f: fn(&CaseRow) -> &DateTime<Utc>| {
        rows.iter()
            .map(|r| us(f(r)))
            .collect::<Vec<DateTime<Utc>>>()
    };
    let to = |f: fn(&CaseRow) -> &Option<DateTime<Utc>>| {
        rows.iter()
            .map(|r| us_opt(f(r)))
            .collect::<Vec<Option<DateTime<Utc>>>>()
    };
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let statuses: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
    let closures: Vec<Option<&str>> = rows.iter().map(|r| r.closure.map(|c| c.as_str())).collect();
    let channels: Vec<&str> = rows.iter().map(|r| r.channel.as_str()).collect();
    let staff_due: Vec<bool> = rows.iter().map(|r| r.staff_due).collect();
    let levels: Vec<Option<i32>> = rows.iter().map(|r| r.decider_level).collect();
    let reports = rows
        .iter()
        .map(|r| Ok(to_json(&r.report)?.to_string()))
        .collect::<StoreResult<Vec<String>>>()?;
    let versions: Vec<i64> = rows.iter().map(|r| r.version).collect();
    ctx.execute(
        IMPORT_CASES,
        &[
            &seqs,
            &ids,
            &s(|r| &r.tracking_no),
            &statuses,
            &closures,
            &channels,
            &o(|r| &r.category),
            &o(|r| &r.department),
            &o(|r| &r.assignee),
            &o(|r| &r.respondent_key),
            &o(|r| &r.respondent_name),
            &o(|r| &r.complainant_key),
            &s(|r| &r.subject),
            &t(|r| &r.created_at),
            &t(|r| &r.updated_at),
            &to(|r| &r.next_due_at),
            &staff_due,
            &to(|r| &r.sweep_at),
            &o(|r| &r.decided_by),
            &levels,
            &s(|r| &r.search_tokens),
            &reports,
            &versions,
            &s(|r| &r.doc),
        ],
    )
    .map_err(|e| match unique_constraint(&e).as_deref() {
        Some("cases_pkey") => StoreError::Duplicate("seq"),
        _ => case_violation(e),
    })?;
    ctx.execute(ADVANCE_CASE_SEQ, &[]).map_err(db)?;
    for r in rows {
        crate::actions::write(ctx, r.id, &r.actions)?;
    }
    Ok(())
}

const IMPORT_IDEMPOTENCY: &str = "INSERT INTO idempotency_keys (key, request_hash, status, body, created_at) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::timestamptz[])";

pub fn import_idempotency(
    ctx: &mut WriteCtx<'_>,
    records: &[IdempotencyRecord],
) -> StoreResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = records.iter().map(|r| r.key.as_str()).collect();
    let hashes: Vec<&str> = records.iter().map(|r| r.request_hash.as_str()).collect();
    let statuses: Vec<i32> = records.iter().map(|r| i32::from(r.status)).collect();
    let bodies: Vec<&str> = records.iter().map(|r| r.body.as_str()).collect();
    let ats: Vec<DateTime<Utc>> = records.iter().map(|r| us(&r.created_at)).collect();
    ctx.execute(
        IMPORT_IDEMPOTENCY,
        &[&keys, &hashes, &statuses, &bodies, &ats],
    )
    .map_err(|e| constraint(e, "key", "key"))?;
    Ok(())
}

pub fn import_departments(
    ctx: &mut WriteCtx<'_>,
    departments: &[Department],
    categories: &[Category],
) -> StoreResult<()> {
    for d in departments {
        ctx.execute(
            "INSERT INTO departments (code, name, review, head) VALUES ($1, $2, $3, $4)",
            &[&d.code, &d.name, &d.review, &d.head],
        )
        .map_err(|e| constraint(e, "code", "department"))?;
    }
    let days = |d: Option<u32>| -> StoreResult<Option<i32>> {
        d.map(i32::try_from)
            .transpose()
            .map_err(|_| StoreError::Backend("category days out of range".into()))
    };
    for c in categories {
        let (handling, appeal, review, reply) = (
            days(c.handling_days)?,
            days(c.appeal_days)?,
            days(c.review_days)?,
            days(c.respondent_reply_days)?,
        );
        ctx.execute(
            "INSERT INTO categories (code, name, name_en, department, handling_days, \
             appeal_days, review_days, respondent_reply_days) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &c.code,
                &c.name,
                &c.name_en,
                &c.department,
                &handling,
                &appeal,
                &review,
                &reply,
            ],
        )
        .map_err(|e| constraint(e, "code", "department"))?;
    }
    Ok(())
}

pub fn import_users(ctx: &mut WriteCtx<'_>, users: &[User]) -> StoreResult<()> {
    for u in users {
        let roles = Json(to_json(&u.roles)?);
        let departments = Json(to_json(&u.departments)?);
        ctx.execute(
            "INSERT INTO users (id, username, display_name, password_hash, roles, \
             departments, level, active, created_at, email, must_change_password) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                &u.id,
                &u.username,
                &u.display_name,
                &u.password_hash,
                &roles,
                &departments,
                &u.level,
                &u.active,
                &us(&u.created_at),
                &u.email,
                &u.must_change_password,
            ],
        )
        .map_err(|e| constraint(e, "username", "user"))?;
    }
    Ok(())
}

pub fn import_respondents(
    ctx: &mut WriteCtx<'_>,
    respondents: &[RespondentAccount],
) -> StoreResult<()> {
    for r in respondents {
        ctx.execute(
            "INSERT INTO respondents (id, kind, external_id, name, email, key_hash, created_at, \
             key_revoked, key_expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &r.id,
                &r.kind.as_str(),
                &r.external_id,
                &r.name,
                &r.email,
                &r.key_hash,
                &us(&r.created_at),
                &r.key_revoked,
                &r.key_expires_at.as_ref().map(us),
            ],
        )
        .map_err(|e| constraint(e, "respondent", "respondent"))?;
    }
    Ok(())
}

pub fn import_api_keys(ctx: &mut WriteCtx<'_>, keys: &[ApiKey]) -> StoreResult<()> {
    for k in keys {
        let scopes = Json(to_json(&k.scopes)?);
        ctx.execute(
            "INSERT INTO api_keys (id, name, scopes, key_hash, created_at, revoked, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &k.id,
                &k.name,
                &scopes,
                &k.key_hash,
                &us(&k.created_at),
                &k.revoked,
                &k.expires_at.as_ref().map(us),
            ],
        )
        .map_err(|e| constraint(e, "key", "key"))?;
    }
    Ok(())
}

pub fn import_calendar(ctx: &mut WriteCtx<'_>, days: &[DayException]) -> StoreResult<()> {
    ctx.execute("DELETE FROM calendar_days", &[]).map_err(db)?;
    let dates: Vec<NaiveDate> = days.iter().map(|d| d.date).collect();
    let kinds: Vec<&str> = days.iter().map(|d| day_kind_str(d.kind)).collect();
    let names: Vec<&str> = days.iter().map(|d| d.name.as_str()).collect();
    ctx.execute(
        "INSERT INTO calendar_days (date, kind, name) \
         SELECT * FROM unnest($1::date[], $2::text[], $3::text[])",
        &[&dates, &kinds, &names],
    )
    .map_err(db)?;
    Ok(())
}

/// The columns [`canned_reply`] reads, in order.
pub const CANNED_REPLY_COLUMNS: &str = "id, title, body, locale, created_at, updated_at";

pub fn canned_reply(r: &postgres::Row) -> StoreResult<CannedReply> {
    Ok(CannedReply {
        id: col(r, 0)?,
        title: col(r, 1)?,
        body: col(r, 2)?,
        locale: codec::parse_enum_opt("locale", col(r, 3)?)?,
        created_at: col(r, 4)?,
        updated_at: col(r, 5)?,
    })
}

pub fn import_canned_replies(ctx: &mut WriteCtx<'_>, replies: &[CannedReply]) -> StoreResult<()> {
    for r in replies {
        ctx.execute(
            "INSERT INTO canned_replies (id, title, body, locale, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &r.id,
                &r.title,
                &r.body,
                &r.locale.map(|l| l.as_str()),
                &us(&r.created_at),
                &us(&r.updated_at),
            ],
        )
        .map_err(|e| constraint(e, "id", "canned_reply"))?;
    }
    Ok(())
}

/// Records that the seed `name` ran; false when it had run before (a
/// concurrent first run waits for the other's commit, then sees it).
pub fn mark_seeded(ctx: &mut WriteCtx<'_>, name: &str) -> StoreResult<bool> {
    let n = ctx
        .execute(
            "INSERT INTO seeds (name, seeded_at) VALUES ($1, now()) ON CONFLICT (name) DO NOTHING",
            &[&name],
        )
        .map_err(db)?;
    Ok(n == 1)
}
