//! Webhook subscriptions, calls and attempts: their statements, and
//! [`crate::WebhookStore`] over them for every [`Backend`]. Changes that
//! journal an event (subscriptions) go through the writer; the delivery
//! work (claims, calls, attempts) is written apart ([`Backend::write_plain`]).
//! On PostgreSQL claims take `FOR UPDATE SKIP LOCKED` and a lease on the
//! database's clock, so instances deliver disjoint subscriptions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Backend, Conn, Dialect, Param};
use crate::rows::{
    CALL_COLUMNS, Columns, SUBSCRIPTION_COLUMNS, webhook_call as call,
    webhook_subscription as subscription,
};
use crate::{
    AttemptEffect, NewEvent, Page, StoreError, StoreResult, WebhookAttempt, WebhookCall,
    WebhookCallState, WebhookSubscription, args,
};

use super::limit;

/// Subscriptions: `SELECT … FROM webhook_subscriptions <tail>`.
pub fn subscriptions<D>(
    c: &mut impl Conn<D>,
    tail: &str,
    params: &[Param],
) -> StoreResult<Vec<WebhookSubscription>> {
    c.query(
        &format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions {tail}"),
        params,
        |r| subscription(r),
    )
}

/// Writes a subscription as it is but for its `cursor`.
pub fn insert_subscription<D>(
    c: &mut impl Conn<D>,
    s: &WebhookSubscription,
    cursor: i64,
) -> StoreResult<()> {
    c.execute_or(
        &format!(
            "INSERT INTO webhook_subscriptions ({SUBSCRIPTION_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        &[
            s.id.into(),
            (&s.url).into(),
            Param::json(&s.events)?,
            (&s.secret).into(),
            s.active.into(),
            cursor.into(),
            (&s.created_by).into(),
            s.created_at.into(),
            s.updated_at.into(),
        ],
        "id",
        "webhook",
    )?;
    Ok(())
}

/// Updates a subscription ([`StoreError::Missing`] when there is none).
pub fn update_subscription<D>(c: &mut impl Conn<D>, s: &WebhookSubscription) -> StoreResult<()> {
    let n = c.execute(
        "UPDATE webhook_subscriptions SET url = ?2, events = ?3, active = ?4, \
         updated_at = ?5 WHERE id = ?1",
        &[
            s.id.into(),
            (&s.url).into(),
            Param::json(&s.events)?,
            s.active.into(),
            s.updated_at.into(),
        ],
    )?;
    if n == 0 {
        return Err(StoreError::Missing("webhook"));
    }
    Ok(())
}

pub fn release_subscription<D>(c: &mut impl Conn<D>, id: Uuid) -> StoreResult<()> {
    c.execute(
        "UPDATE webhook_subscriptions SET claimed_until = NULL WHERE id = ?1",
        &args![id],
    )?;
    Ok(())
}

/// Moves a subscription's cursor up to `seq` (never back).
pub fn advance<D, C: Conn<D>>(c: &mut C, id: Uuid, seq: i64) -> StoreResult<()> {
    let sql = match C::DIALECT {
        Dialect::Sqlite => {
            "UPDATE webhook_subscriptions SET cursor = max(cursor, ?2) WHERE id = ?1"
        }
        Dialect::Postgres => {
            "UPDATE webhook_subscriptions SET cursor = greatest(cursor, ?2) WHERE id = ?1"
        }
    };
    c.execute(sql, &args![id, seq])?;
    Ok(())
}

/// Calls: `SELECT … FROM webhook_calls <tail>`.
pub fn calls<D>(
    c: &mut impl Conn<D>,
    tail: &str,
    params: &[Param],
) -> StoreResult<Vec<WebhookCall>> {
    c.query(
        &format!("SELECT {CALL_COLUMNS} FROM webhook_calls {tail}"),
        params,
        |r| call(r),
    )
}

pub fn get_call<D>(c: &mut impl Conn<D>, id: Uuid) -> StoreResult<Option<WebhookCall>> {
    Ok(calls(c, "WHERE id = ?1", &args![id])?.pop())
}

/// The oldest pending call of a subscription.
pub fn pending_call<D>(
    c: &mut impl Conn<D>,
    subscription_id: Uuid,
) -> StoreResult<Option<WebhookCall>> {
    let tail = "WHERE subscription_id = ?1 AND state = 'pending' ORDER BY event_seq LIMIT 1";
    Ok(calls(c, tail, &args![subscription_id])?.pop())
}

/// Writes one call row as it is.
pub fn insert_call<D>(c: &mut impl Conn<D>, w: &WebhookCall) -> StoreResult<()> {
    c.execute_or(
        &format!(
            "INSERT INTO webhook_calls ({CALL_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        ),
        &args![
            w.id,
            w.subscription_id,
            w.event_seq,
            w.case_id,
            &w.event_kind,
            w.state.as_str(),
            w.attempts,
            w.last_status,
            w.last_error.as_ref(),
            w.created_at,
            w.first_attempt_at,
            w.last_attempt_at,
            w.next_attempt_at,
            &w.payload
        ],
        "call",
        "webhook",
    )?;
    Ok(())
}

/// A page of a subscription's calls, newest first, and the total.
pub fn list_calls<D>(
    c: &mut impl Conn<D>,
    subscription_id: Uuid,
    state: Option<WebhookCallState>,
    n: usize,
    after: Option<i64>,
) -> StoreResult<Page<WebhookCall>> {
    let state = state.map(|s| s.as_str());
    let filter = "subscription_id = ?1 AND (?2 IS NULL OR state = ?2)";
    let total = c.query_one(
        &format!("SELECT count(*) FROM webhook_calls WHERE {filter}"),
        &args![subscription_id, state],
        |r| r.int(0),
    )?;
    let mut items = calls(
        c,
        &format!(
            "WHERE {filter} AND (?3 IS NULL OR event_seq < ?3) \
             ORDER BY event_seq DESC LIMIT ?4"
        ),
        &args![subscription_id, state, after, limit(n).saturating_add(1)],
    )?;
    let more = items.len() > n;
    items.truncate(n);
    let next = more.then(|| items.last().map(|c| c.event_seq)).flatten();
    Ok(Page { items, total, next })
}

/// The columns [`attempt`] reads, in order.
pub const ATTEMPT_COLUMNS: &str = "call_id, n, at, status, error, duration_ms, replay";

pub fn attempt<D>(r: &impl Columns<D>) -> StoreResult<WebhookAttempt> {
    Ok(WebhookAttempt {
        call_id: r.uuid(0)?,
        n: r.small(1)?,
        at: r.time(2)?,
        status: r.small_opt(3)?,
        error: r.text_opt(4)?,
        duration_ms: r.int(5)?,
        replay: r.flag(6)?,
    })
}

/// Attempts: `SELECT … FROM webhook_attempts <tail>`.
pub fn attempts<D>(
    c: &mut impl Conn<D>,
    tail: &str,
    params: &[Param],
) -> StoreResult<Vec<WebhookAttempt>> {
    c.query(
        &format!("SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts {tail}"),
        params,
        |r| attempt(r),
    )
}

/// Writes one attempt row as it is.
pub fn insert_attempt<D>(c: &mut impl Conn<D>, a: &WebhookAttempt) -> StoreResult<()> {
    c.execute_or(
        &format!(
            "INSERT INTO webhook_attempts ({ATTEMPT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ),
        &args![
            a.call_id,
            a.n,
            a.at,
            a.status,
            a.error.as_ref(),
            a.duration_ms,
            a.replay
        ],
        "attempt",
        "webhook call",
    )?;
    Ok(())
}

/// Records an attempt of a call and its effect on the call (one
/// transaction: the caller's); the call as it is then.
pub fn record_attempt<D>(
    c: &mut impl Conn<D>,
    a: &WebhookAttempt,
    effect: AttemptEffect,
) -> StoreResult<WebhookCall> {
    let (kind, next) = match effect {
        AttemptEffect::Delivered => ("delivered", None),
        AttemptEffect::RetryAt(t) => ("retry", Some(t)),
        AttemptEffect::GiveUp => ("give_up", None),
        AttemptEffect::Keep => ("keep", None),
    };
    let n = c.query_opt(
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
        &args![a.call_id, a.status, a.error.as_ref(), a.at, kind, next],
        |r| r.small(0),
    )?;
    let Some(n) = n else {
        return Err(StoreError::Missing("webhook call"));
    };
    insert_attempt(c, &WebhookAttempt { n, ..a.clone() })?;
    get_call(c, a.call_id)?.ok_or(StoreError::Missing("webhook call"))
}

/// Claims up to `n` active subscriptions with work due (a pending call
/// whose time came, or events past their cursor), oldest first.
fn claim<D, C: Conn<D>>(
    c: &mut C,
    now: DateTime<Utc>,
    lease: Duration,
    n: usize,
) -> StoreResult<Vec<WebhookSubscription>> {
    let (until, expired, mut args) = super::lease::<D, C>(lease, 3);
    let (head, skip_locked) = match C::DIALECT {
        Dialect::Sqlite => ("SELECT coalesce(max(seq), 0) FROM journal_head", ""),
        Dialect::Postgres => (
            "SELECT seq FROM journal_head WHERE id = 1",
            " FOR UPDATE SKIP LOCKED",
        ),
    };
    let sql = format!(
        "UPDATE webhook_subscriptions SET claimed_until = {until} WHERE id IN ( \
           SELECT s.id FROM webhook_subscriptions s WHERE s.active \
           AND (s.claimed_until IS NULL OR s.claimed_until < {expired}) \
           AND (EXISTS (SELECT 1 FROM webhook_calls c WHERE c.subscription_id = s.id \
                        AND c.state = 'pending' AND c.next_attempt_at <= ?1) \
                OR (NOT EXISTS (SELECT 1 FROM webhook_calls c \
                                WHERE c.subscription_id = s.id AND c.state = 'pending') \
                    AND s.cursor < ({head}))) \
           ORDER BY s.created_at, s.id LIMIT ?2{skip_locked}) \
         RETURNING {SUBSCRIPTION_COLUMNS}"
    );
    args.splice(0..0, args![now, limit(n)]);
    let mut subs = c.query(&sql, &args, |r| subscription(r))?;
    subs.sort_by_key(|s| (s.created_at, s.id));
    Ok(subs)
}

/// Deletes settled calls created before `before`, oldest first, at most
/// `n`, with their attempts.
fn expire<D, C: Conn<D>>(c: &mut C, before: DateTime<Utc>, n: usize) -> StoreResult<u64> {
    let args = args![before, limit(n)];
    match C::DIALECT {
        // One writer transaction: both statements pick the same calls.
        Dialect::Sqlite => {
            let picked = "SELECT id FROM webhook_calls WHERE state <> 'pending' \
                          AND created_at < ?1 ORDER BY created_at, id LIMIT ?2";
            c.execute(
                &format!("DELETE FROM webhook_attempts WHERE call_id IN ({picked})"),
                &args,
            )?;
            c.execute(
                &format!("DELETE FROM webhook_calls WHERE id IN ({picked})"),
                &args,
            )
        }
        // One statement: the attempts and their calls go together (the
        // foreign key is checked at its end); calls another instance is
        // working on are skipped.
        Dialect::Postgres => c.execute(
            "WITH gone AS (SELECT id FROM webhook_calls WHERE state <> 'pending' \
               AND created_at < ?1 ORDER BY created_at, id LIMIT ?2 \
               FOR UPDATE SKIP LOCKED), \
             attempts AS (DELETE FROM webhook_attempts \
               WHERE call_id IN (SELECT id FROM gone)) \
             DELETE FROM webhook_calls WHERE id IN (SELECT id FROM gone)",
            &args,
        ),
    }
}

#[async_trait::async_trait]
impl<B: Backend> crate::WebhookStore for B {
    async fn insert_webhook_subscription(
        &self,
        s: WebhookSubscription,
        event: NewEvent,
    ) -> StoreResult<WebhookSubscription> {
        self.write_event(event, move |ctx| {
            // Events appended after the head (by this group's later jobs
            // too) are owed to the new subscription.
            let head = super::journal_head(ctx)?;
            insert_subscription(ctx, &s, head)?;
            subscriptions(ctx, "WHERE id = ?1", &args![s.id])?
                .pop()
                .ok_or(StoreError::Missing("webhook"))
        })
        .await
    }

    async fn list_webhook_subscriptions(&self) -> StoreResult<Vec<WebhookSubscription>> {
        self.read(|c| subscriptions(c, "ORDER BY created_at, id", &[]))
            .await
    }

    async fn get_webhook_subscription(&self, id: Uuid) -> StoreResult<Option<WebhookSubscription>> {
        self.read(move |c| Ok(subscriptions(c, "WHERE id = ?1", &args![id])?.pop()))
            .await
    }

    async fn update_webhook_subscription(
        &self,
        s: WebhookSubscription,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write_event(event, move |ctx| update_subscription(ctx, &s))
            .await
    }

    async fn claim_webhook_subscriptions(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        n: usize,
    ) -> StoreResult<Vec<WebhookSubscription>> {
        self.write_plain(move |c| claim(c, now, lease, n)).await
    }

    async fn release_webhook_subscription(&self, id: Uuid) -> StoreResult<()> {
        self.write_plain(move |c| release_subscription(c, id)).await
    }

    async fn advance_webhook_cursor(&self, id: Uuid, seq: i64) -> StoreResult<()> {
        self.write_plain(move |c| advance(c, id, seq)).await
    }

    async fn insert_webhook_call(&self, w: WebhookCall) -> StoreResult<()> {
        self.write_plain(move |c| {
            insert_call(c, &w)?;
            advance(c, w.subscription_id, w.event_seq)
        })
        .await
    }

    async fn pending_webhook_call(
        &self,
        subscription_id: Uuid,
    ) -> StoreResult<Option<WebhookCall>> {
        self.read(move |c| pending_call(c, subscription_id)).await
    }

    async fn get_webhook_call(&self, id: Uuid) -> StoreResult<Option<WebhookCall>> {
        self.read(move |c| get_call(c, id)).await
    }

    async fn list_webhook_calls(
        &self,
        subscription_id: Uuid,
        state: Option<WebhookCallState>,
        n: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<WebhookCall>> {
        self.read(move |c| list_calls(c, subscription_id, state, n, after))
            .await
    }

    async fn webhook_attempts(&self, call_ids: Vec<Uuid>) -> StoreResult<Vec<WebhookAttempt>> {
        self.read(move |c| {
            let mut out = Vec::new();
            for id in call_ids {
                out.extend(attempts(c, "WHERE call_id = ?1 ORDER BY n", &args![id])?);
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
        self.write_plain(move |c| record_attempt(c, &a, effect))
            .await
    }

    async fn import_webhook_subscriptions(
        &self,
        subs: Vec<WebhookSubscription>,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            subs.iter()
                .try_for_each(|s| insert_subscription(ctx, s, s.cursor))
        })
        .await
    }

    /// From the nil id on: a key range the primary key serves.
    async fn export_webhook_calls(
        &self,
        after: Option<Uuid>,
        n: usize,
    ) -> StoreResult<Vec<WebhookCall>> {
        let after = after.unwrap_or(Uuid::nil());
        self.read(move |c| {
            calls(
                c,
                "WHERE id > ?1 ORDER BY id LIMIT ?2",
                &args![after, limit(n)],
            )
        })
        .await
    }

    async fn import_webhook_calls(&self, calls: Vec<WebhookCall>) -> StoreResult<()> {
        self.write(move |ctx| calls.iter().try_for_each(|w| insert_call(ctx, w)))
            .await
    }

    /// From `(nil, 0)` on (see `export_webhook_calls`).
    async fn export_webhook_attempts(
        &self,
        after: Option<(Uuid, i32)>,
        n: usize,
    ) -> StoreResult<Vec<WebhookAttempt>> {
        let (call, after_n) = after.unwrap_or((Uuid::nil(), 0));
        self.read(move |c| {
            attempts(
                c,
                "WHERE (call_id, n) > (?1, ?2) ORDER BY call_id, n LIMIT ?3",
                &args![call, after_n, limit(n)],
            )
        })
        .await
    }

    async fn import_webhook_attempts(&self, attempts: Vec<WebhookAttempt>) -> StoreResult<()> {
        self.write(move |ctx| attempts.iter().try_for_each(|a| insert_attempt(ctx, a)))
            .await
    }

    async fn expire_webhook_calls(&self, before: DateTime<Utc>, n: usize) -> StoreResult<u64> {
        self.write_plain(move |c| expire(c, before, n)).await
    }
}
