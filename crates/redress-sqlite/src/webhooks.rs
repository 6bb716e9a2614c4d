//! Webhook subscriptions, calls and attempts on SQLite. Writes go through
//! the writer like every other write (claims included: one process owns
//! the file, so its own clock is the lease's wall clock).

use super::*;
use std::time::Duration;

use chrono::{DateTime, Utc};
use r2d2_sqlite::rusqlite::{self, Connection, OptionalExtension, params};
use redress_store::{
    AttemptEffect, NewEvent, Page, StoreError, StoreResult, WebhookAttempt, WebhookCall,
    WebhookCallState, WebhookSubscription,
};
use uuid::Uuid;

use crate::SqliteStore;
use crate::codec::{constraint, db, parse_ts, parse_uuid, to_json, ts, ts_opt};

use redress_store::rows::{
    CALL_COLUMNS, SUBSCRIPTION_COLUMNS, webhook_call as call, webhook_subscription as subscription,
};

fn subscriptions_where(
    c: &Connection,
    tail: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<WebhookSubscription>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions {tail}"
        ))
        .map_err(db)?;
    crate::codec::all(stmt.query(params).map_err(db)?, subscription)
}

fn calls_where(
    c: &Connection,
    tail: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<WebhookCall>> {
    let mut stmt = c
        .prepare_cached(&format!("SELECT {CALL_COLUMNS} FROM webhook_calls {tail}"))
        .map_err(db)?;
    crate::codec::all(stmt.query(params).map_err(db)?, call)
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

// ---- bulk copy (migrate-data) ---------------------------------------------

/// The effect as the SQL of [`SqliteStore::wh_record_attempt`] reads it.
pub(crate) fn effect_params(effect: AttemptEffect) -> (&'static str, Option<DateTime<Utc>>) {
    match effect {
        AttemptEffect::Delivered => ("delivered", None),
        AttemptEffect::RetryAt(t) => ("retry", Some(t)),
        AttemptEffect::GiveUp => ("give_up", None),
        AttemptEffect::Keep => ("keep", None),
    }
}

fn advance(c: &Connection, id: Uuid, seq: i64) -> StoreResult<()> {
    c.prepare_cached("UPDATE webhook_subscriptions SET cursor = max(cursor, ?2) WHERE id = ?1")
        .map_err(db)?
        .execute(params![id.to_string(), seq])
        .map_err(db)?;
    Ok(())
}

/// Writes one call row as it is.
fn insert_call(conn: &Connection, c: &WebhookCall) -> StoreResult<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO webhook_calls ({CALL_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))
    .map_err(db)?
    .execute(params![
        c.id.to_string(),
        c.subscription_id.to_string(),
        c.event_seq,
        c.case_id.map(|x| x.to_string()),
        c.event_kind,
        c.state.as_str(),
        c.attempts,
        c.last_status,
        c.last_error,
        ts(&c.created_at),
        ts_opt(&c.first_attempt_at),
        ts_opt(&c.last_attempt_at),
        ts_opt(&c.next_attempt_at),
        c.payload,
    ])
    .map_err(|e| constraint(e, "call", "webhook"))?;
    Ok(())
}

const ATTEMPT_COLUMNS: &str = "call_id, n, at, status, error, duration_ms, replay";

/// The attempts `tail` (`WHERE … ORDER BY …`) selects.
fn attempts_where(
    c: &Connection,
    tail: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<WebhookAttempt>> {
    let raw = c
        .prepare_cached(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts {tail}"
        ))
        .map_err(db)?
        .query_map(params, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i32>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i32>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, bool>(6)?,
            ))
        })
        .map_err(db)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    raw.into_iter()
        .map(|(call_id, n, at, status, error, duration_ms, replay)| {
            Ok(WebhookAttempt {
                call_id: parse_uuid(&call_id)?,
                n,
                at: parse_ts(&at)?,
                status,
                error,
                duration_ms,
                replay,
            })
        })
        .collect()
}

/// Writes one attempt row as it is.
fn insert_attempt(conn: &Connection, a: &WebhookAttempt) -> StoreResult<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO webhook_attempts ({ATTEMPT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))
    .map_err(db)?
    .execute(params![
        a.call_id.to_string(),
        a.n,
        ts(&a.at),
        a.status,
        a.error,
        a.duration_ms,
        a.replay
    ])
    .map_err(|e| constraint(e, "attempt", "webhook call"))?;
    Ok(())
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn insert_webhook_subscription(
        &self,
        s: WebhookSubscription,
        event: NewEvent,
    ) -> StoreResult<WebhookSubscription> {
        self.write(move |ctx| {
            // The head as this transaction sees it: earlier jobs of the
            // group included.
            let head: i64 = ctx
                .conn
                .query_row("SELECT coalesce(max(seq), 0) FROM journal_head", [], |r| {
                    r.get(0)
                })
                .map_err(db)?;
            ctx.conn
                .prepare_cached(
                    "INSERT INTO webhook_subscriptions (id, url, events, secret, active, cursor, \
                     created_by, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(db)?
                .execute(params![
                    s.id.to_string(),
                    s.url,
                    to_json(&s.events)?,
                    s.secret,
                    s.active,
                    head,
                    s.created_by,
                    ts(&s.created_at),
                    ts(&s.updated_at),
                ])
                .map_err(|e| constraint(e, "id", "webhook"))?;
            ctx.append(std::slice::from_ref(&event))?;
            Ok(WebhookSubscription { cursor: head, ..s })
        })
        .await
    }

    async fn list_webhook_subscriptions(&self) -> StoreResult<Vec<WebhookSubscription>> {
        self.read(|c| subscriptions_where(c, "ORDER BY created_at, id", []))
            .await
    }

    async fn get_webhook_subscription(&self, id: Uuid) -> StoreResult<Option<WebhookSubscription>> {
        self.read(move |c| Ok(subscriptions_where(c, "WHERE id = ?1", [id.to_string()])?.pop()))
            .await
    }

    async fn update_webhook_subscription(
        &self,
        s: WebhookSubscription,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let n = ctx
                .conn
                .prepare_cached(
                    "UPDATE webhook_subscriptions SET url = ?2, events = ?3, active = ?4, \
                     updated_at = ?5 WHERE id = ?1",
                )
                .map_err(db)?
                .execute(params![
                    s.id.to_string(),
                    s.url,
                    to_json(&s.events)?,
                    s.active,
                    ts(&s.updated_at),
                ])
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Missing("webhook"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    async fn claim_webhook_subscriptions(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        n: usize,
    ) -> StoreResult<Vec<WebhookSubscription>> {
        let wall = Utc::now();
        let until = wall + chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::MAX);
        self.write(move |ctx| {
            let sql = format!(
                "UPDATE webhook_subscriptions SET claimed_until = ?3 WHERE id IN ( \
                   SELECT s.id FROM webhook_subscriptions s WHERE s.active = 1 \
                   AND (s.claimed_until IS NULL OR s.claimed_until < ?2) \
                   AND (EXISTS (SELECT 1 FROM webhook_calls c WHERE c.subscription_id = s.id \
                                AND c.state = 'pending' AND c.next_attempt_at <= ?1) \
                        OR (NOT EXISTS (SELECT 1 FROM webhook_calls c \
                                        WHERE c.subscription_id = s.id AND c.state = 'pending') \
                            AND s.cursor < (SELECT coalesce(max(seq), 0) FROM journal_head))) \
                   ORDER BY s.created_at, s.id LIMIT ?4) \
                 RETURNING {SUBSCRIPTION_COLUMNS}"
            );
            let mut stmt = ctx.conn.prepare_cached(&sql).map_err(db)?;
            let rows = stmt
                .query(params![ts(&now), ts(&wall), ts(&until), limit(n)])
                .map_err(db)?;
            let mut subs = crate::codec::all(rows, subscription)?;
            subs.sort_by_key(|s| (s.created_at, s.id));
            Ok(subs)
        })
        .await
    }

    async fn release_webhook_subscription(&self, id: Uuid) -> StoreResult<()> {
        self.write(move |ctx| {
            ctx.conn
                .prepare_cached(
                    "UPDATE webhook_subscriptions SET claimed_until = NULL WHERE id = ?1",
                )
                .map_err(db)?
                .execute([id.to_string()])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn advance_webhook_cursor(&self, id: Uuid, seq: i64) -> StoreResult<()> {
        self.write(move |ctx| advance(ctx.conn, id, seq)).await
    }

    async fn insert_webhook_call(&self, c: WebhookCall) -> StoreResult<()> {
        self.write(move |ctx| {
            insert_call(ctx.conn, &c)?;
            advance(ctx.conn, c.subscription_id, c.event_seq)
        })
        .await
    }

    async fn pending_webhook_call(
        &self,
        subscription_id: Uuid,
    ) -> StoreResult<Option<WebhookCall>> {
        self.read(move |c| {
            Ok(calls_where(
                c,
                "WHERE subscription_id = ?1 AND state = 'pending' ORDER BY event_seq LIMIT 1",
                [subscription_id.to_string()],
            )?
            .pop())
        })
        .await
    }

    async fn get_webhook_call(&self, id: Uuid) -> StoreResult<Option<WebhookCall>> {
        self.read(move |c| Ok(calls_where(c, "WHERE id = ?1", [id.to_string()])?.pop()))
            .await
    }

    async fn list_webhook_calls(
        &self,
        subscription_id: Uuid,
        state: Option<WebhookCallState>,
        n: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<WebhookCall>> {
        self.read(move |c| {
            let sub = subscription_id.to_string();
            let state = state.map(|s| s.as_str());
            let filter = "subscription_id = ?1 AND (?2 IS NULL OR state = ?2)";
            let total: i64 = c
                .prepare_cached(&format!(
                    "SELECT count(*) FROM webhook_calls WHERE {filter}"
                ))
                .map_err(db)?
                .query_row(params![sub, state], |r| r.get(0))
                .map_err(db)?;
            let mut items = calls_where(
                c,
                &format!(
                    "WHERE {filter} AND (?3 IS NULL OR event_seq < ?3) \
                     ORDER BY event_seq DESC LIMIT ?4"
                ),
                params![sub, state, after, limit(n) + 1],
            )?;
            let more = items.len() > n;
            items.truncate(n);
            let next = more.then(|| items.last().map(|c| c.event_seq)).flatten();
            Ok(Page { items, total, next })
        })
        .await
    }

    async fn webhook_attempts(&self, call_ids: Vec<Uuid>) -> StoreResult<Vec<WebhookAttempt>> {
        self.read(move |c| {
            let mut out = Vec::new();
            for id in call_ids {
                out.extend(attempts_where(
                    c,
                    "WHERE call_id = ?1 ORDER BY n",
                    [id.to_string()],
                )?);
            }
            Ok(out)
        })
        .await
    }

    async fn record_webhook_attempt(
        &self,
        a: WebhookAttempt,
        effect: AttemptEffect,
    ) -> StoreResult<WebhookCall> {
        self.write(move |ctx| {
            let (kind, next) = effect_params(effect);
            let id = a.call_id.to_string();
            let n: Option<i32> = ctx
                .conn
                .prepare_cached(
                    "UPDATE webhook_calls SET attempts = attempts + 1, last_status = ?2, \
                     last_error = ?3, last_attempt_at = ?4, \
                     first_attempt_at = coalesce(first_attempt_at, ?4), \
                     state = CASE WHEN ?5 = 'delivered' THEN 'delivered' \
                                  WHEN ?5 = 'give_up' AND state = 'pending' THEN 'failed' \
                                  ELSE state END, \
                     next_attempt_at = CASE WHEN ?5 = 'delivered' THEN NULL \
                                  WHEN state <> 'pending' THEN next_attempt_at \
                                  WHEN ?5 = 'retry' THEN ?6 \
                                  WHEN ?5 = 'give_up' THEN NULL \
                                  ELSE next_attempt_at END \
                     WHERE id = ?1 RETURNING attempts",
                )
                .map_err(db)?
                .query_row(
                    params![id, a.status, a.error, ts(&a.at), kind, ts_opt(&next)],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            let Some(n) = n else {
                return Err(StoreError::Missing("webhook call"));
            };
            insert_attempt(ctx.conn, &WebhookAttempt { n, ..a })?;
            calls_where(ctx.conn, "WHERE id = ?1", [id])?
                .pop()
                .ok_or(StoreError::Missing("webhook call"))
        })
        .await
    }

    /// Subscriptions as they are, `cursor` included; no claim, no events.
    async fn import_webhook_subscriptions(
        &self,
        subs: Vec<WebhookSubscription>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let mut stmt = ctx
                .conn
                .prepare_cached(&format!(
                    "INSERT INTO webhook_subscriptions ({SUBSCRIPTION_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ))
                .map_err(db)?;
            for s in &subs {
                stmt.execute(params![
                    s.id.to_string(),
                    s.url,
                    to_json(&s.events)?,
                    s.secret,
                    s.active,
                    s.cursor,
                    s.created_by,
                    ts(&s.created_at),
                    ts(&s.updated_at),
                ])
                .map_err(|e| constraint(e, "id", "webhook"))?;
            }
            Ok(())
        })
        .await
    }

    /// Calls with `id > after`, by id.
    async fn export_webhook_calls(
        &self,
        after: Option<Uuid>,
        n: usize,
    ) -> StoreResult<Vec<WebhookCall>> {
        self.read(move |c| {
            calls_where(
                c,
                // From "" on the first page: a key range the primary key
                // index serves, where `?1 IS NULL OR …` scans from the start.
                "WHERE id > ?1 ORDER BY id LIMIT ?2",
                params![after.map(|a| a.to_string()).unwrap_or_default(), limit(n)],
            )
        })
        .await
    }

    /// Calls as they are; the subscriptions' cursors do not move.
    async fn import_webhook_calls(&self, calls: Vec<WebhookCall>) -> StoreResult<()> {
        self.write(move |ctx| {
            for c in &calls {
                insert_call(ctx.conn, c)?;
            }
            Ok(())
        })
        .await
    }

    /// Attempts with `(call_id, n)` after `after`, by call then `n`.
    async fn export_webhook_attempts(
        &self,
        after: Option<(Uuid, i32)>,
        n: usize,
    ) -> StoreResult<Vec<WebhookAttempt>> {
        self.read(move |c| {
            // From ("", 0) on the first page (see `wh_export_calls`).
            let (call, after_n) = match after {
                Some((call, n)) => (call.to_string(), n),
                None => (String::new(), 0),
            };
            attempts_where(
                c,
                "WHERE (call_id, n) > (?1, ?2) ORDER BY call_id, n LIMIT ?3",
                params![call, after_n, limit(n)],
            )
        })
        .await
    }

    /// Attempts as they are, their own `n` included; the calls do not change.
    async fn import_webhook_attempts(&self, attempts: Vec<WebhookAttempt>) -> StoreResult<()> {
        self.write(move |ctx| {
            for a in &attempts {
                insert_attempt(ctx.conn, a)?;
            }
            Ok(())
        })
        .await
    }

    async fn expire_webhook_calls(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64> {
        self.write(move |ctx| {
            // One writer transaction: both statements pick the same calls.
            let picked = "SELECT id FROM webhook_calls WHERE state <> 'pending' \
                          AND created_at < ?1 ORDER BY created_at, id LIMIT ?2";
            let (before, limit) = (ts(&before), limit as i64);
            let args = rusqlite::params![before, limit];
            ctx.conn
                .execute(
                    &format!("DELETE FROM webhook_attempts WHERE call_id IN ({picked})"),
                    args,
                )
                .map_err(db)?;
            let n = ctx
                .conn
                .execute(
                    &format!("DELETE FROM webhook_calls WHERE id IN ({picked})"),
                    args,
                )
                .map_err(db)?;
            Ok(n as u64)
        })
        .await
    }
}
