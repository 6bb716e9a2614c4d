//! Webhook subscriptions, calls and attempts on PostgreSQL, over the
//! statements of [`redress_store::sql::webhooks`] where they are the same
//! as SQLite's. Changes that
//! journal an event (subscriptions) go through the writer; the delivery
//! work (claims, calls, attempts) uses pooled connections, each change one
//! transaction. Claims take `FOR UPDATE SKIP LOCKED` and a lease on the
//! database's clock, so instances deliver disjoint subscriptions.

use super::*;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redress_store::{
    AttemptEffect, NewEvent, Page, StoreResult, WebhookAttempt, WebhookCall, WebhookCallState,
    WebhookSubscription, args,
};
use uuid::Uuid;

use crate::PgStore;
use crate::codec::{constraint, db, us, us_opt};
use crate::writer::WriteCtx;

use redress_store::rows::{
    CALL_COLUMNS, SUBSCRIPTION_COLUMNS, webhook_call, webhook_subscription as subscription,
};
use redress_store::sql::webhooks as sql;

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

// ---- bulk copy (migrate-data) ---------------------------------------------

const IMPORT_CALLS: &str = "INSERT INTO webhook_calls (id, subscription_id, event_seq, case_id, \
     event_kind, state, attempts, last_status, last_error, created_at, first_attempt_at, \
     last_attempt_at, next_attempt_at, payload) \
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::uuid[], $5::text[], \
     $6::text[], $7::integer[], $8::integer[], $9::text[], $10::timestamptz[], \
     $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::text[])";

const IMPORT_ATTEMPTS: &str = "INSERT INTO webhook_attempts (call_id, n, at, status, error, \
     duration_ms, replay) \
     SELECT * FROM unnest($1::uuid[], $2::integer[], $3::timestamptz[], $4::integer[], \
     $5::text[], $6::bigint[], $7::boolean[])";

/// Calls as they are, in one statement; cursors do not move.
fn import_calls(ctx: &mut WriteCtx<'_>, calls: &[WebhookCall]) -> StoreResult<()> {
    if calls.is_empty() {
        return Ok(());
    }
    let t = |f: fn(&WebhookCall) -> &Option<DateTime<Utc>>| {
        calls
            .iter()
            .map(|c| us_opt(f(c)))
            .collect::<Vec<Option<DateTime<Utc>>>>()
    };
    let ids: Vec<Uuid> = calls.iter().map(|c| c.id).collect();
    let subs: Vec<Uuid> = calls.iter().map(|c| c.subscription_id).collect();
    let seqs: Vec<i64> = calls.iter().map(|c| c.event_seq).collect();
    let cases: Vec<Option<Uuid>> = calls.iter().map(|c| c.case_id).collect();
    let kinds: Vec<&str> = calls.iter().map(|c| c.event_kind.as_str()).collect();
    let states: Vec<&str> = calls.iter().map(|c| c.state.as_str()).collect();
    let attempts: Vec<i32> = calls.iter().map(|c| c.attempts).collect();
    let statuses: Vec<Option<i32>> = calls.iter().map(|c| c.last_status).collect();
    let errors: Vec<Option<&str>> = calls.iter().map(|c| c.last_error.as_deref()).collect();
    let created: Vec<DateTime<Utc>> = calls.iter().map(|c| us(&c.created_at)).collect();
    let payloads: Vec<&str> = calls.iter().map(|c| c.payload.as_str()).collect();
    ctx.execute(
        IMPORT_CALLS,
        &[
            &ids,
            &subs,
            &seqs,
            &cases,
            &kinds,
            &states,
            &attempts,
            &statuses,
            &errors,
            &created,
            &t(|c| &c.first_attempt_at),
            &t(|c| &c.last_attempt_at),
            &t(|c| &c.next_attempt_at),
            &payloads,
        ],
    )
    .map_err(|e| constraint(e, "call", "webhook"))?;
    Ok(())
}

/// Attempts as they are (their own `n`), in one statement.
fn import_attempts(ctx: &mut WriteCtx<'_>, attempts: &[WebhookAttempt]) -> StoreResult<()> {
    if attempts.is_empty() {
        return Ok(());
    }
    let calls: Vec<Uuid> = attempts.iter().map(|a| a.call_id).collect();
    let ns: Vec<i32> = attempts.iter().map(|a| a.n).collect();
    let ats: Vec<DateTime<Utc>> = attempts.iter().map(|a| us(&a.at)).collect();
    let statuses: Vec<Option<i32>> = attempts.iter().map(|a| a.status).collect();
    let errors: Vec<Option<&str>> = attempts.iter().map(|a| a.error.as_deref()).collect();
    let durations: Vec<i64> = attempts.iter().map(|a| a.duration_ms).collect();
    let replays: Vec<bool> = attempts.iter().map(|a| a.replay).collect();
    ctx.execute(
        IMPORT_ATTEMPTS,
        &[&calls, &ns, &ats, &statuses, &errors, &durations, &replays],
    )
    .map_err(|e| constraint(e, "attempt", "webhook call"))?;
    Ok(())
}

#[async_trait]
impl WebhookStore for PgStore {
    async fn insert_webhook_subscription(
        &self,
        s: WebhookSubscription,
        event: NewEvent,
    ) -> StoreResult<WebhookSubscription> {
        self.write(move |ctx| {
            // The head as last committed: events this group appends come
            // after it, and are owed to the new subscription.
            let head: i64 = ctx
                .client
                .query_one("SELECT seq FROM journal_head WHERE id = 1", &[])
                .map_err(db)?
                .get(0);
            sql::insert_subscription(ctx, &s, head)?;
            ctx.append(std::slice::from_ref(&event))?;
            Ok(WebhookSubscription {
                cursor: head,
                created_at: us(&s.created_at),
                updated_at: us(&s.updated_at),
                ..s.clone()
            })
        })
        .await
    }

    async fn list_webhook_subscriptions(&self) -> StoreResult<Vec<WebhookSubscription>> {
        self.read(|c| sql::subscriptions(c, "ORDER BY created_at, id", &[]))
            .await
    }

    async fn get_webhook_subscription(&self, id: Uuid) -> StoreResult<Option<WebhookSubscription>> {
        self.read(move |c| Ok(sql::subscriptions(c, "WHERE id = ?1", &args![id])?.pop()))
            .await
    }

    async fn update_webhook_subscription(
        &self,
        s: WebhookSubscription,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::update_subscription(ctx, &s)?;
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
        let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
        self.read(move |c| {
            let sql = format!(
                "UPDATE webhook_subscriptions \
                 SET claimed_until = clock_timestamp() + make_interval(secs => $2::bigint / 1e6) \
                 WHERE id IN ( \
                   SELECT s.id FROM webhook_subscriptions s WHERE s.active \
                   AND (s.claimed_until IS NULL OR s.claimed_until < clock_timestamp()) \
                   AND (EXISTS (SELECT 1 FROM webhook_calls c WHERE c.subscription_id = s.id \
                                AND c.state = 'pending' AND c.next_attempt_at <= $1) \
                        OR (NOT EXISTS (SELECT 1 FROM webhook_calls c \
                                        WHERE c.subscription_id = s.id AND c.state = 'pending') \
                            AND s.cursor < (SELECT seq FROM journal_head WHERE id = 1))) \
                   ORDER BY s.created_at, s.id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING {SUBSCRIPTION_COLUMNS}"
            );
            let mut subs = c
                .query(&sql, &[&us(&now), &lease_us, &limit(n)])
                .map_err(db)?
                .iter()
                .map(subscription)
                .collect::<StoreResult<Vec<_>>>()?;
            subs.sort_by_key(|s| (s.created_at, s.id));
            Ok(subs)
        })
        .await
    }

    async fn release_webhook_subscription(&self, id: Uuid) -> StoreResult<()> {
        self.read(move |c| sql::release_subscription(c, id)).await
    }

    async fn advance_webhook_cursor(&self, id: Uuid, seq: i64) -> StoreResult<()> {
        self.read(move |c| sql::advance(c, id, seq)).await
    }

    async fn insert_webhook_call(&self, w: WebhookCall) -> StoreResult<()> {
        self.read(move |c| {
            let mut tx = c.transaction().map_err(db)?;
            sql::insert_call(&mut tx, &w)?;
            sql::advance(&mut tx, w.subscription_id, w.event_seq)?;
            tx.commit().map_err(db)
        })
        .await
    }

    async fn pending_webhook_call(
        &self,
        subscription_id: Uuid,
    ) -> StoreResult<Option<WebhookCall>> {
        self.read(move |c| sql::pending_call(c, subscription_id))
            .await
    }

    async fn get_webhook_call(&self, id: Uuid) -> StoreResult<Option<WebhookCall>> {
        self.read(move |c| sql::get_call(c, id)).await
    }

    async fn list_webhook_calls(
        &self,
        subscription_id: Uuid,
        state: Option<WebhookCallState>,
        n: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<WebhookCall>> {
        self.read(move |c| sql::list_calls(c, subscription_id, state, n, after))
            .await
    }

    async fn webhook_attempts(&self, call_ids: Vec<Uuid>) -> StoreResult<Vec<WebhookAttempt>> {
        self.read(move |c| {
            let rows = c
                .query(
                    "SELECT a.call_id, a.n, a.at, a.status, a.error, a.duration_ms, a.replay \
                     FROM webhook_attempts a \
                     JOIN unnest($1::uuid[]) WITH ORDINALITY AS ids (id, pos) ON ids.id = a.call_id \
                     ORDER BY ids.pos, a.n",
                    &[&call_ids],
                )
                .map_err(db)?;
            rows.iter().map(sql::attempt).collect()
        })
        .await
    }

    async fn record_webhook_attempt(
        &self,
        a: WebhookAttempt,
        effect: AttemptEffect,
    ) -> StoreResult<WebhookCall> {
        self.read(move |c| {
            let mut tx = c.transaction().map_err(db)?;
            let out = sql::record_attempt(&mut tx, &a, effect)?;
            tx.commit().map_err(db)?;
            Ok(out)
        })
        .await
    }

    async fn import_webhook_subscriptions(
        &self,
        subs: Vec<WebhookSubscription>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            for s in &subs {
                sql::insert_subscription(ctx, s, s.cursor)?;
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
            c.query(
                &format!(
                    "SELECT {CALL_COLUMNS} FROM webhook_calls \
                     WHERE $1::uuid IS NULL OR id > $1::uuid ORDER BY id LIMIT $2"
                ),
                &[&after, &limit(n)],
            )
            .map_err(db)?
            .iter()
            .map(webhook_call)
            .collect()
        })
        .await
    }

    async fn import_webhook_calls(&self, calls: Vec<WebhookCall>) -> StoreResult<()> {
        self.write(move |ctx| import_calls(ctx, &calls)).await
    }

    /// Attempts with `(call_id, n)` after `after`, by call then `n`.
    async fn export_webhook_attempts(
        &self,
        after: Option<(Uuid, i32)>,
        n: usize,
    ) -> StoreResult<Vec<WebhookAttempt>> {
        let (call_id, after_n) = match after {
            Some((c, n)) => (Some(c), n),
            None => (None, 0),
        };
        self.read(move |c| {
            c.query(
                "SELECT call_id, n, at, status, error, duration_ms, replay FROM webhook_attempts \
                 WHERE $1::uuid IS NULL OR (call_id, n) > ($1::uuid, $2::integer) \
                 ORDER BY call_id, n LIMIT $3",
                &[&call_id, &after_n, &limit(n)],
            )
            .map_err(db)?
            .iter()
            .map(sql::attempt)
            .collect()
        })
        .await
    }

    async fn import_webhook_attempts(&self, attempts: Vec<WebhookAttempt>) -> StoreResult<()> {
        self.write(move |ctx| import_attempts(ctx, &attempts)).await
    }

    async fn expire_webhook_calls(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64> {
        self.read(move |c| {
            // One statement: the attempts and their calls go together (the
            // foreign key is checked at its end); calls another instance
            // is working on are skipped.
            c.execute(
                "WITH gone AS (SELECT id FROM webhook_calls WHERE state <> 'pending' \
                   AND created_at < $1 ORDER BY created_at, id LIMIT $2 \
                   FOR UPDATE SKIP LOCKED), \
                 attempts AS (DELETE FROM webhook_attempts \
                   WHERE call_id IN (SELECT id FROM gone)) \
                 DELETE FROM webhook_calls WHERE id IN (SELECT id FROM gone)",
                &[&us(&before), &(limit as i64)],
            )
            .map_err(db)
        })
        .await
    }
}
