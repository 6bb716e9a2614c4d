//! Webhook subscriptions, calls and attempts on PostgreSQL. Changes that
//! journal an event (subscriptions) go through the writer; the delivery
//! work (claims, calls, attempts) uses pooled connections, each change one
//! transaction. Claims take `FOR UPDATE SKIP LOCKED` and a lease on the
//! database's clock, so instances deliver disjoint subscriptions.

use std::time::Duration;

use chrono::{DateTime, Utc};
use postgres::types::Json;
use postgres::{Client, Row};
use redress_store::{
    AttemptEffect, NewEvent, Page, StoreError, StoreResult, WebhookAttempt, WebhookCall,
    WebhookCallState, WebhookSubscription,
};
use uuid::Uuid;

use crate::PgStore;
use crate::codec::{col, constraint, db, from_json, parse_enum, to_json, us, us_opt};

const SUBSCRIPTION_COLUMNS: &str =
    "id, url, events, secret, active, cursor, created_by, created_at, updated_at";

fn subscription(r: &Row) -> StoreResult<WebhookSubscription> {
    Ok(WebhookSubscription {
        id: col(r, 0)?,
        url: col(r, 1)?,
        events: from_json(col(r, 2)?)?,
        secret: col(r, 3)?,
        active: col(r, 4)?,
        cursor: col(r, 5)?,
        created_by: col(r, 6)?,
        created_at: col(r, 7)?,
        updated_at: col(r, 8)?,
    })
}

const CALL_COLUMNS: &str = "id, subscription_id, event_seq, case_id, event_kind, state, \
     attempts, last_status, last_error, created_at, first_attempt_at, last_attempt_at, \
     next_attempt_at, payload";

fn call(r: &Row) -> StoreResult<WebhookCall> {
    Ok(WebhookCall {
        id: col(r, 0)?,
        subscription_id: col(r, 1)?,
        event_seq: col(r, 2)?,
        case_id: col(r, 3)?,
        event_kind: col(r, 4)?,
        state: parse_enum::<WebhookCallState>("call state", col(r, 5)?)?,
        attempts: col(r, 6)?,
        last_status: col(r, 7)?,
        last_error: col(r, 8)?,
        created_at: col(r, 9)?,
        first_attempt_at: col(r, 10)?,
        last_attempt_at: col(r, 11)?,
        next_attempt_at: col(r, 12)?,
        payload: col(r, 13)?,
    })
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn get_call(c: &mut Client, id: Uuid) -> StoreResult<Option<WebhookCall>> {
    let rows = c
        .query(
            &format!("SELECT {CALL_COLUMNS} FROM webhook_calls WHERE id = $1"),
            &[&id],
        )
        .map_err(db)?;
    rows.first().map(call).transpose()
}

impl PgStore {
    pub(crate) async fn wh_insert_subscription(
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
            let events = Json(to_json(&s.events)?);
            ctx.execute(
                "INSERT INTO webhook_subscriptions (id, url, events, secret, active, cursor, \
                 created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &s.id,
                    &s.url,
                    &events,
                    &s.secret,
                    &s.active,
                    &head,
                    &s.created_by,
                    &us(&s.created_at),
                    &us(&s.updated_at),
                ],
            )
            .map_err(|e| constraint(e, "id", "webhook"))?;
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

    pub(crate) async fn wh_list_subscriptions(&self) -> StoreResult<Vec<WebhookSubscription>> {
        self.read(|c| {
            c.query(
                &format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions \
                     ORDER BY created_at, id"
                ),
                &[],
            )
            .map_err(db)?
            .iter()
            .map(subscription)
            .collect()
        })
        .await
    }

    pub(crate) async fn wh_get_subscription(
        &self,
        id: Uuid,
    ) -> StoreResult<Option<WebhookSubscription>> {
        self.read(move |c| {
            c.query(
                &format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1"),
                &[&id],
            )
            .map_err(db)?
            .first()
            .map(subscription)
            .transpose()
        })
        .await
    }

    pub(crate) async fn wh_update_subscription(
        &self,
        s: WebhookSubscription,
        event: NewEvent,
    ) -> StoreResult<()> {
        self.write(move |ctx| {
            let events = Json(to_json(&s.events)?);
            let n = ctx
                .execute(
                    "UPDATE webhook_subscriptions SET url = $2, events = $3, active = $4, \
                     updated_at = $5 WHERE id = $1",
                    &[&s.id, &s.url, &events, &s.active, &us(&s.updated_at)],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Missing("webhook"));
            }
            ctx.append(std::slice::from_ref(&event))
        })
        .await
    }

    pub(crate) async fn wh_claim(
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

    pub(crate) async fn wh_release(&self, id: Uuid) -> StoreResult<()> {
        self.read(move |c| {
            c.execute(
                "UPDATE webhook_subscriptions SET claimed_until = NULL WHERE id = $1",
                &[&id],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn wh_advance(&self, id: Uuid, seq: i64) -> StoreResult<()> {
        self.read(move |c| advance(c, id, seq)).await
    }

    pub(crate) async fn wh_insert_call(&self, w: WebhookCall) -> StoreResult<()> {
        self.read(move |c| {
            let mut tx = c.transaction().map_err(db)?;
            tx.execute(
                &format!(
                    "INSERT INTO webhook_calls ({CALL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
                     $7, $8, $9, $10, $11, $12, $13, $14)"
                ),
                &[
                    &w.id,
                    &w.subscription_id,
                    &w.event_seq,
                    &w.case_id,
                    &w.event_kind,
                    &w.state.as_str(),
                    &w.attempts,
                    &w.last_status,
                    &w.last_error,
                    &us(&w.created_at),
                    &us_opt(&w.first_attempt_at),
                    &us_opt(&w.last_attempt_at),
                    &us_opt(&w.next_attempt_at),
                    &w.payload,
                ],
            )
            .map_err(|e| constraint(e, "call", "webhook"))?;
            advance(&mut tx, w.subscription_id, w.event_seq)?;
            tx.commit().map_err(db)
        })
        .await
    }

    pub(crate) async fn wh_pending_call(
        &self,
        subscription_id: Uuid,
    ) -> StoreResult<Option<WebhookCall>> {
        self.read(move |c| {
            c.query(
                &format!(
                    "SELECT {CALL_COLUMNS} FROM webhook_calls WHERE subscription_id = $1 \
                     AND state = 'pending' ORDER BY event_seq LIMIT 1"
                ),
                &[&subscription_id],
            )
            .map_err(db)?
            .first()
            .map(call)
            .transpose()
        })
        .await
    }

    pub(crate) async fn wh_get_call(&self, id: Uuid) -> StoreResult<Option<WebhookCall>> {
        self.read(move |c| get_call(c, id)).await
    }

    pub(crate) async fn wh_list_calls(
        &self,
        subscription_id: Uuid,
        state: Option<WebhookCallState>,
        n: usize,
        after: Option<i64>,
    ) -> StoreResult<Page<WebhookCall>> {
        self.read(move |c| {
            let state = state.map(|s| s.as_str());
            let filter = "subscription_id = $1 AND ($2::text IS NULL OR state = $2::text)";
            let total: i64 = c
                .query_one(
                    &format!("SELECT count(*) FROM webhook_calls WHERE {filter}"),
                    &[&subscription_id, &state],
                )
                .map_err(db)?
                .get(0);
            let mut items = c
                .query(
                    &format!(
                        "SELECT {CALL_COLUMNS} FROM webhook_calls WHERE {filter} \
                         AND ($3::bigint IS NULL OR event_seq < $3::bigint) \
                         ORDER BY event_seq DESC LIMIT $4"
                    ),
                    &[
                        &subscription_id,
                        &state,
                        &after,
                        &(limit(n).saturating_add(1)),
                    ],
                )
                .map_err(db)?
                .iter()
                .map(call)
                .collect::<StoreResult<Vec<_>>>()?;
            let more = items.len() > n;
            items.truncate(n);
            let next = more.then(|| items.last().map(|c| c.event_seq)).flatten();
            Ok(Page { items, total, next })
        })
        .await
    }

    pub(crate) async fn wh_attempts(
        &self,
        call_ids: Vec<Uuid>,
    ) -> StoreResult<Vec<WebhookAttempt>> {
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
            rows.iter()
                .map(|r| {
                    Ok(WebhookAttempt {
                        call_id: col(r, 0)?,
                        n: col(r, 1)?,
                        at: col(r, 2)?,
                        status: col(r, 3)?,
                        error: col(r, 4)?,
                        duration_ms: col(r, 5)?,
                        replay: col(r, 6)?,
                    })
                })
                .collect()
        })
        .await
    }

    pub(crate) async fn wh_record_attempt(
        &self,
        a: WebhookAttempt,
        effect: AttemptEffect,
    ) -> StoreResult<WebhookCall> {
        self.read(move |c| {
            let (kind, next) = match effect {
                AttemptEffect::Delivered => ("delivered", None),
                AttemptEffect::RetryAt(t) => ("retry", Some(us(&t))),
                AttemptEffect::GiveUp => ("give_up", None),
                AttemptEffect::Keep => ("keep", None),
            };
            let at = us(&a.at);
            let mut tx = c.transaction().map_err(db)?;
            let Some(row) = tx
                .query_opt(
                    "UPDATE webhook_calls SET attempts = attempts + 1, last_status = $2, \
                     last_error = $3, last_attempt_at = $4, \
                     first_attempt_at = coalesce(first_attempt_at, $4), \
                     state = CASE WHEN $5::text = 'delivered' THEN 'delivered' \
                                  WHEN $5::text = 'give_up' AND state = 'pending' THEN 'failed' \
                                  ELSE state END, \
                     next_attempt_at = CASE WHEN $5::text = 'delivered' THEN NULL \
                                  WHEN state <> 'pending' THEN next_attempt_at \
                                  WHEN $5::text = 'retry' THEN $6::timestamptz \
                                  WHEN $5::text = 'give_up' THEN NULL \
                                  ELSE next_attempt_at END \
                     WHERE id = $1 RETURNING attempts",
                    &[&a.call_id, &a.status, &a.error, &at, &kind, &next],
                )
                .map_err(db)?
            else {
                return Err(StoreError::Missing("webhook call"));
            };
            let n: i32 = col(&row, 0)?;
            tx.execute(
                "INSERT INTO webhook_attempts (call_id, n, at, status, error, duration_ms, replay) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &a.call_id,
                    &n,
                    &at,
                    &a.status,
                    &a.error,
                    &a.duration_ms,
                    &a.replay,
                ],
            )
            .map_err(db)?;
            let out = tx
                .query_one(
                    &format!("SELECT {CALL_COLUMNS} FROM webhook_calls WHERE id = $1"),
                    &[&a.call_id],
                )
                .map_err(db)?;
            let out = call(&out)?;
            tx.commit().map_err(db)?;
            Ok(out)
        })
        .await
    }
}

fn advance(c: &mut impl postgres::GenericClient, id: Uuid, seq: i64) -> StoreResult<()> {
    c.execute(
        "UPDATE webhook_subscriptions SET cursor = greatest(cursor, $2) WHERE id = $1",
        &[&id, &seq],
    )
    .map_err(db)?;
    Ok(())
}
