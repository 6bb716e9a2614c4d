//! Webhook subscriptions, calls and attempts ([`crate::WebhookStore`]):
//! the statements the backends share. (Claims, the journal head a new
//! subscription starts from, expiry and the bulk copy's pages differ.)

use uuid::Uuid;

use super::{Conn, Dialect, Param};
use crate::rows::{
    CALL_COLUMNS, Columns, SUBSCRIPTION_COLUMNS, webhook_call as call,
    webhook_subscription as subscription,
};
use crate::{
    AttemptEffect, Page, StoreError, StoreResult, WebhookAttempt, WebhookCall, WebhookCallState,
    WebhookSubscription, args,
};

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

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
