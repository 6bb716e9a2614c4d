//! Webhook subscriptions, calls and attempts on SQLite, over the
//! statements of [`redress_store::sql::webhooks`]. Writes go through the
//! writer like every other write (claims included: one process owns the
//! file, so its own clock is the lease's wall clock).

use super::*;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redress_store::rows::Columns;
use redress_store::sql::Conn;
use redress_store::sql::webhooks as sql;
use redress_store::{
    AttemptEffect, NewEvent, Page, StoreResult, WebhookAttempt, WebhookCall, WebhookCallState,
    WebhookSubscription, args,
};
use uuid::Uuid;

use crate::SqliteStore;

use redress_store::rows::{SUBSCRIPTION_COLUMNS, webhook_subscription as subscription};

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
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
            let head =
                ctx.query_one("SELECT coalesce(max(seq), 0) FROM journal_head", &[], |r| {
                    r.int(0)
                })?;
            sql::insert_subscription(ctx, &s, head)?;
            ctx.append(std::slice::from_ref(&event))?;
            Ok(WebhookSubscription { cursor: head, ..s })
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
            let mut subs = ctx.query(&sql, &args![now, wall, until, limit(n)], |r| {
                subscription(r)
            })?;
            subs.sort_by_key(|s| (s.created_at, s.id));
            Ok(subs)
        })
        .await
    }

    async fn release_webhook_subscription(&self, id: Uuid) -> StoreResult<()> {
        self.write(move |ctx| sql::release_subscription(ctx, id))
            .await
    }

    async fn advance_webhook_cursor(&self, id: Uuid, seq: i64) -> StoreResult<()> {
        self.write(move |ctx| sql::advance(ctx, id, seq)).await
    }

    async fn insert_webhook_call(&self, c: WebhookCall) -> StoreResult<()> {
        self.write(move |ctx| {
            sql::insert_call(ctx, &c)?;
            sql::advance(ctx, c.subscription_id, c.event_seq)
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
            let mut out = Vec::new();
            for id in call_ids {
                out.extend(sql::attempts(
                    c,
                    "WHERE call_id = ?1 ORDER BY n",
                    &args![id],
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
        self.write(move |ctx| sql::record_attempt(ctx, &a, effect))
            .await
    }

    /// Subscriptions as they are, `cursor` included; no claim, no events.
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
            // From "" on the first page: a key range the primary key
            // index serves, where `?1 IS NULL OR …` scans from the start.
            let after = after.map(|a| a.to_string()).unwrap_or_default();
            sql::calls(
                c,
                "WHERE id > ?1 ORDER BY id LIMIT ?2",
                &args![after, limit(n)],
            )
        })
        .await
    }

    /// Calls as they are; the subscriptions' cursors do not move.
    async fn import_webhook_calls(&self, calls: Vec<WebhookCall>) -> StoreResult<()> {
        self.write(move |ctx| {
            for c in &calls {
                sql::insert_call(ctx, c)?;
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
            // From ("", 0) on the first page (see `export_webhook_calls`).
            let (call, after_n) = match after {
                Some((call, n)) => (call.to_string(), n),
                None => (String::new(), 0),
            };
            sql::attempts(
                c,
                "WHERE (call_id, n) > (?1, ?2) ORDER BY call_id, n LIMIT ?3",
                &args![call, after_n, limit(n)],
            )
        })
        .await
    }

    /// Attempts as they are, their own `n` included; the calls do not change.
    async fn import_webhook_attempts(&self, attempts: Vec<WebhookAttempt>) -> StoreResult<()> {
        self.write(move |ctx| {
            for a in &attempts {
                sql::insert_attempt(ctx, a)?;
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
            let args = args![before, i64::try_from(limit).unwrap_or(i64::MAX)];
            ctx.execute(
                &format!("DELETE FROM webhook_attempts WHERE call_id IN ({picked})"),
                &args,
            )?;
            ctx.execute(
                &format!("DELETE FROM webhook_calls WHERE id IN ({picked})"),
                &args,
            )
        })
        .await
    }
}
