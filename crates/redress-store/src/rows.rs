//! One way to read rows: [`Columns`], the column access both backends'
//! rows offer, and one reader per row type beside its column list.
//!
//! A backend implements [`Columns`] for its driver's row (SQLite keeps
//! times, ids and JSON as text and parses them; PostgreSQL has native
//! types); the readers here are the only description of a row's shape.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::filter::Dialect;
use crate::{
    CaseRow, CaseSummary, HeldMail, HeldMailState, ReportFacts, StoreError, StoreResult, User,
    WebhookCall, WebhookCallState, WebhookSubscription,
};

/// A closed vocabulary from its stored text (`what` names it in errors).
pub fn parse_enum<T: FromStr<Err: std::fmt::Display>>(what: &str, s: &str) -> StoreResult<T> {
    T::from_str(s).map_err(|e| StoreError::other(format!("bad {what} {s:?}: {e}")))
}

/// [`parse_enum`] of a nullable column.
pub fn parse_enum_opt<T: FromStr<Err: std::fmt::Display>>(
    what: &str,
    s: Option<String>,
) -> StoreResult<Option<T>> {
    s.as_deref().map(|s| parse_enum(what, s)).transpose()
}

/// Typed access to the columns of one result row, by position.
///
/// `D` is a type of the implementing backend, so that it may implement
/// this trait for its driver's row type (the orphan rule).
pub trait Columns<D> {
    fn text(&self, i: usize) -> StoreResult<String>;
    fn text_opt(&self, i: usize) -> StoreResult<Option<String>>;
    fn int(&self, i: usize) -> StoreResult<i64>;
    fn small(&self, i: usize) -> StoreResult<i32>;
    fn small_opt(&self, i: usize) -> StoreResult<Option<i32>>;
    fn flag(&self, i: usize) -> StoreResult<bool>;
    fn time(&self, i: usize) -> StoreResult<DateTime<Utc>>;
    fn time_opt(&self, i: usize) -> StoreResult<Option<DateTime<Utc>>>;
    /// A calendar date (`YYYY-MM-DD` text on SQLite).
    fn date(&self, i: usize) -> StoreResult<NaiveDate>;
    fn uuid(&self, i: usize) -> StoreResult<Uuid>;
    fn uuid_opt(&self, i: usize) -> StoreResult<Option<Uuid>>;
    /// A JSON document (text on SQLite, `jsonb` on PostgreSQL).
    fn json<T: DeserializeOwned>(&self, i: usize) -> StoreResult<T>;
    /// Bytes (a blob on SQLite, or text written before the column held
    /// bytes; `bytea` on PostgreSQL).
    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>>;

    /// A value packed by [`crate::pack::pack_json`] (or JSON text written
    /// before packing).
    fn packed<T: DeserializeOwned>(&self, dict: crate::pack::Dict, i: usize) -> StoreResult<T> {
        crate::pack::unpack_json(dict, &self.bytes(i)?)
    }

    /// A closed vocabulary stored as its text (`what` names it in errors).
    fn parsed<T: FromStr<Err: std::fmt::Display>>(&self, what: &str, i: usize) -> StoreResult<T> {
        parse_enum(what, &self.text(i)?)
    }

    fn parsed_opt<T: FromStr<Err: std::fmt::Display>>(
        &self,
        what: &str,
        i: usize,
    ) -> StoreResult<Option<T>> {
        parse_enum_opt(what, self.text_opt(i)?)
    }
}

/// PostgreSQL's `cases.search_tokens` (a `tsvector`, migration 0028) read
/// back as the application's space-separated tokens, in byte order, under
/// the column's own name. The writing side is `redress_postgres::search_vector!`.
macro_rules! tokens_as_text {
    () => {
        "array_to_string(tsvector_to_array(search_tokens), ' ') AS search_tokens"
    };
}

/// SQLite's search tokens, in their own table `case_tokens` since its
/// migration 0030, read beside a row of `cases` under the column's name.
macro_rules! tokens_beside {
    () => {
        "(SELECT t.search_tokens FROM case_tokens t WHERE t.seq = cases.seq) AS search_tokens"
    };
}

/// The columns of a full case row, in the order [`case_row`] reads them,
/// with `$tokens` giving the search tokens (as `search_tokens`).
macro_rules! case_columns_with {
    ($tokens:expr) => {
        concat!(
            "seq, id, tracking_no, status, closure, channel, category, department, assignee, \
             respondent_key, respondent_name, complainant_key, subject, created_at, updated_at, \
             next_due_at, staff_due, sweep_at, decided_by, decider_level, ",
            $tokens,
            ", report, version, doc"
        )
    };
}

/// The columns of a full case row, in the order [`case_row`] reads them
/// (from `cases`, not aliased).
pub fn case_columns(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => case_columns_with!(tokens_beside!()),
        Dialect::Postgres => case_columns_with!(tokens_as_text!()),
    }
}

/// The columns of [`case_columns`] with the search tokens left empty, on
/// both databases, for reads that never look at them (the case export):
/// on SQLite they are a look-up in `case_tokens` a row, on PostgreSQL a
/// `tsvector` to unfold.
pub const CASE_COLUMNS_WITHOUT_TOKENS: &str = case_columns_with!("'' AS search_tokens");

/// The search tokens of a row of `cases` as text: SQLite keeps them so in
/// `case_tokens` (its migration 0030); PostgreSQL's `tsvector` (migration
/// 0028) gives its lexemes back in byte order.
pub fn search_tokens_text(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => tokens_beside!(),
        Dialect::Postgres => tokens_as_text!(),
    }
}

/// A case row without its corrective actions (read apart).
pub fn case_row<D>(r: &impl Columns<D>) -> StoreResult<CaseRow> {
    Ok(CaseRow {
        seq: r.int(0)?,
        id: r.uuid(1)?,
        tracking_no: r.text(2)?,
        status: r.parsed("status", 3)?,
        closure: r.parsed_opt("closure", 4)?,
        channel: r.parsed("channel", 5)?,
        category: r.text_opt(6)?,
        department: r.text_opt(7)?,
        assignee: r.text_opt(8)?,
        respondent_key: r.text_opt(9)?,
        respondent_name: r.text_opt(10)?,
        complainant_key: r.text_opt(11)?,
        subject: r.text(12)?,
        created_at: r.time(13)?,
        updated_at: r.time(14)?,
        next_due_at: r.time_opt(15)?,
        staff_due: r.flag(16)?,
        sweep_at: r.time_opt(17)?,
        decided_by: r.text_opt(18)?,
        decider_level: r.small_opt(19)?,
        search_tokens: r.text(20)?,
        report: r.packed::<ReportFacts>(crate::pack::Dict::Report, 21)?,
        version: r.int(22)?,
        doc: r.bytes(23)?,
        actions: Vec::new(),
    })
}

/// The columns of a list item, in the order [`summary`] reads them.
pub const SUMMARY_COLUMNS: &str = "seq, id, tracking_no, status, closure, channel, category, \
     department, assignee, respondent_key, respondent_name, subject, created_at, next_due_at, \
     staff_due";

pub fn summary<D>(r: &impl Columns<D>) -> StoreResult<CaseSummary> {
    Ok(CaseSummary {
        seq: r.int(0)?,
        id: r.uuid(1)?,
        tracking_no: r.text(2)?,
        status: r.parsed("status", 3)?,
        closure: r.parsed_opt("closure", 4)?,
        channel: r.parsed("channel", 5)?,
        category: r.text_opt(6)?,
        department: r.text_opt(7)?,
        assignee: r.text_opt(8)?,
        respondent_key: r.text_opt(9)?,
        respondent_name: r.text_opt(10)?,
        subject: r.text(11)?,
        created_at: r.time(12)?,
        next_due_at: r.time_opt(13)?,
        staff_due: r.flag(14)?,
    })
}

/// The columns [`user`] reads, in order.
pub const USER_COLUMNS: &str = "id, username, display_name, password_hash, roles, departments, \
     level, active, created_at, email, must_change_password";

pub fn user<D>(r: &impl Columns<D>) -> StoreResult<User> {
    Ok(User {
        id: r.uuid(0)?,
        username: r.text(1)?,
        display_name: r.text(2)?,
        password_hash: r.text(3)?,
        roles: r.json(4)?,
        departments: r.json(5)?,
        level: r.small(6)?,
        active: r.flag(7)?,
        created_at: r.time(8)?,
        email: r.text_opt(9)?,
        must_change_password: r.flag(10)?,
    })
}

/// The columns of held mail but `raw`, which [`held_mail`] reads after them
/// when asked (only a look at one mail and the bulk copy need it).
pub const HELD_MAIL_COLUMNS: &str = "seq, id, mail_key, received_at, sender, subject, \
     tracking_no, case_id, size, state, settled_by, settled_at, attached_to";

pub fn held_mail<D>(r: &impl Columns<D>, with_raw: bool) -> StoreResult<HeldMail> {
    let state = r.text(9)?;
    Ok(HeldMail {
        seq: r.int(0)?,
        id: r.uuid(1)?,
        mail_key: r.text(2)?,
        received_at: r.time(3)?,
        sender: r.text(4)?,
        subject: r.text(5)?,
        tracking_no: r.text_opt(6)?,
        case_id: r.uuid_opt(7)?,
        raw: if with_raw { r.text(13)? } else { String::new() },
        size: r.int(8)?,
        state: HeldMailState::parse(&state)
            .ok_or_else(|| StoreError::other(format!("bad held mail state {state:?}")))?,
        settled_by: r.text_opt(10)?,
        settled_at: r.time_opt(11)?,
        attached_to: r.uuid_opt(12)?,
    })
}

/// The columns [`webhook_subscription`] reads, in order.
pub const SUBSCRIPTION_COLUMNS: &str =
    "id, url, events, secret, active, cursor, created_by, created_at, updated_at";

pub fn webhook_subscription<D>(r: &impl Columns<D>) -> StoreResult<WebhookSubscription> {
    Ok(WebhookSubscription {
        id: r.uuid(0)?,
        url: r.text(1)?,
        events: r.json(2)?,
        secret: r.text(3)?,
        active: r.flag(4)?,
        cursor: r.int(5)?,
        created_by: r.text(6)?,
        created_at: r.time(7)?,
        updated_at: r.time(8)?,
    })
}

/// The columns [`webhook_call`] reads, in order.
pub const CALL_COLUMNS: &str = "id, subscription_id, event_seq, case_id, event_kind, state, \
     attempts, last_status, last_error, created_at, first_attempt_at, last_attempt_at, \
     next_attempt_at, payload";

pub fn webhook_call<D>(r: &impl Columns<D>) -> StoreResult<WebhookCall> {
    let state = r.text(5)?;
    Ok(WebhookCall {
        id: r.uuid(0)?,
        subscription_id: r.uuid(1)?,
        event_seq: r.int(2)?,
        case_id: r.uuid_opt(3)?,
        event_kind: r.text(4)?,
        state: state
            .parse::<WebhookCallState>()
            .map_err(|e| StoreError::other(format!("bad call state {state:?}: {e}")))?,
        attempts: r.small(6)?,
        last_status: r.small_opt(7)?,
        last_error: r.text_opt(8)?,
        created_at: r.time(9)?,
        first_attempt_at: r.time_opt(10)?,
        last_attempt_at: r.time_opt(11)?,
        next_attempt_at: r.time_opt(12)?,
        payload: r.text(13)?,
    })
}
