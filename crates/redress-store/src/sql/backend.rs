//! [`Backend`]: what a backend lends the statements written once, so that
//! a store method that is the same on both backends is also written once.
//!
//! A backend implements it in a few lines (its read pool, its writer and
//! three hooks for what stays its own); every store trait but
//! [`crate::CaseStore`] and [`crate::UpkeepStore`] is then implemented for
//! every `Backend`, beside its SQL in [`crate::sql`]. Those two each
//! backend implements itself.

use std::future::Future;

use super::Conn;
use crate::{CaseRow, JournalEntry, LearntToken, NewEvent, StoreResult};

/// A writer's context: a connection inside the group's transaction that
/// also journals.
pub trait Journal {
    /// Appends events to the journal, chained after the head.
    fn append(&mut self, events: &[NewEvent]) -> StoreResult<()>;
    /// Writes entries verbatim and moves the head to the last of them
    /// (the bulk copy).
    fn import(&mut self, entries: &[JournalEntry]) -> StoreResult<()>;
}

/// A backend's connections and writer, as the statements of
/// [`crate::sql`] use them.
pub trait Backend: Send + Sync + 'static {
    /// The backend's marker of [`crate::rows::Columns`].
    type D;
    /// A pooled read connection.
    type Read: Conn<Self::D>;
    /// A read connection inside a read-only transaction.
    type Snapshot<'a>: Conn<Self::D>;
    /// The writer's context.
    type Write<'a>: Conn<Self::D> + Journal;
    /// Where a write that journals nothing runs, in a transaction of its
    /// own: SQLite's writer (its one writing connection; the group's
    /// transaction), a transaction on a pooled PostgreSQL connection
    /// (sessions, leases and deliveries do not wait for the writers).
    type Plain<'a>: Conn<Self::D>;

    /// Learns one accepted case of `category` ([`crate::SuggestStore::learn_category`]).
    fn learn_category(
        ctx: &mut Self::Write<'_>,
        category: &str,
        tokens: &[LearntToken],
        min_cases: i64,
    ) -> StoreResult<()>;

    /// Recomputes the report counters from every case row
    /// ([`crate::ReportStore::rebuild_report_rollups`]).
    fn rebuild_rollups(
        ctx: &mut Self::Write<'_>,
        zone: redress_domain::calendar::Tz,
    ) -> StoreResult<u64>;

    /// Writes case rows as they are (their own `seq`), with their actions,
    /// search entries and report counters.
    fn import_case_rows(ctx: &mut Self::Write<'_>, rows: &[CaseRow]) -> StoreResult<()>;

    /// Runs `f` with a read connection.
    fn read<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut Self::Read) -> StoreResult<T> + Send + 'static;

    /// Runs `f` with a read connection inside a read-only transaction: its
    /// statements see one snapshot.
    fn read_snapshot<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut Self::Snapshot<'_>) -> StoreResult<T> + Send + 'static;

    /// Runs `f`, an indexed point read, like [`Self::read`] or cheaper.
    fn read_point<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut Self::Read) -> StoreResult<T> + Send + 'static,
    {
        self.read(f)
    }

    /// Runs `f` on the writer, in the next group; answers after COMMIT.
    /// `f` may run more than once (a group rolled back by a deadlock runs
    /// its jobs again), so it takes its captures by reference.
    fn write<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: Fn(&mut Self::Write<'_>) -> StoreResult<T> + Clone + Send + 'static;

    /// Runs `f` on the writer and journals `event` after it, in one job.
    fn write_event<T, F>(
        &self,
        event: NewEvent,
        f: F,
    ) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: Fn(&mut Self::Write<'_>) -> StoreResult<T> + Clone + Send + 'static,
    {
        self.write(move |ctx| {
            let t = f(ctx)?;
            ctx.append(std::slice::from_ref(&event))?;
            Ok(t)
        })
    }

    /// Like [`Self::write_event`] for a write that may find nothing to do:
    /// `event` is journaled only when `f` answers true.
    fn write_event_if<F>(
        &self,
        event: NewEvent,
        f: F,
    ) -> impl Future<Output = StoreResult<bool>> + Send
    where
        F: Fn(&mut Self::Write<'_>) -> StoreResult<bool> + Clone + Send + 'static,
    {
        self.write(move |ctx| {
            let done = f(ctx)?;
            if done {
                ctx.append(std::slice::from_ref(&event))?;
            }
            Ok(done)
        })
    }

    /// Test hook: a write job that appends events and then fails, so that
    /// its savepoint (and the chain head) must be rolled back.
    #[doc(hidden)]
    fn append_events_then_fail(
        &self,
        events: Vec<NewEvent>,
    ) -> impl Future<Output = StoreResult<()>> + Send {
        self.write(move |ctx| {
            ctx.append(&events)?;
            Err(crate::StoreError::other("failed on purpose"))
        })
    }

    /// Runs `f`, a write that journals nothing (sessions, leases, webhook
    /// deliveries, expiry), all or nothing.
    fn write_plain<T, F>(&self, f: F) -> impl Future<Output = StoreResult<T>> + Send
    where
        T: Send + 'static,
        F: FnOnce(&mut Self::Plain<'_>) -> StoreResult<T> + Send + 'static;
}
