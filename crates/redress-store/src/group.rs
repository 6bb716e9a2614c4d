//! Group commit, the part every store shares: the jobs of one transaction
//! are answered only once the transaction's fate is known.

use std::future::Future;

use crate::{StoreError, StoreResult};

/// Delivers a job's answer once the group's fate is known: `Ok` when the
/// COMMIT succeeded, the COMMIT's error otherwise.
pub type Reply = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// Where a job's answer goes: an async caller's oneshot or a blocking
/// caller's channel.
pub type Answer<T> = Box<dyn FnOnce(StoreResult<T>) + Send>;

/// Holds a job's `outcome` until the commit: `Ok` when the job succeeded
/// (its work stays in the group), its error otherwise (a writer may act on
/// it, e.g. forget its prepared statements), and the reply that answers
/// `tx` with the outcome, or with the COMMIT's error if the group failed
/// after all.
pub fn settle<T: Send + 'static>(
    outcome: StoreResult<T>,
    tx: Answer<T>,
) -> (Result<(), StoreError>, Reply) {
    let ok = match &outcome {
        Ok(_) => Ok(()),
        Err(e) => Err(e.clone()),
    };
    let reply: Reply = Box::new(move |commit: Result<(), &StoreError>| {
        tx(match (outcome, commit) {
            (Err(e), _) => Err(e),
            (Ok(v), Ok(())) => Ok(v),
            (Ok(_), Err(e)) => Err(e.clone()),
        });
    });
    (ok, reply)
}

/// An [`Answer`] for an async caller, and the answer to await.
pub fn awaited<T: Send + 'static>() -> (Answer<T>, impl Future<Output = StoreResult<T>> + Send) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let answer: Answer<T> = Box::new(move |r| {
        let _ = tx.send(r);
    });
    let wait = async move {
        rx.await
            .map_err(|_| StoreError::other("the write job failed without an answer"))?
    };
    (answer, wait)
}

/// An [`Answer`] for a blocking caller, and the wait for it.
pub fn blocking<T: Send + 'static>() -> (Answer<T>, impl FnOnce() -> StoreResult<T>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let answer: Answer<T> = Box::new(move |r| {
        let _ = tx.send(r);
    });
    let wait = move || {
        rx.recv()
            .map_err(|_| StoreError::other("the writer dropped the job"))?
    };
    (answer, wait)
}

/// A unit of work for a writer whose context is `C`.
pub trait Job<C: ?Sized>: Send {
    /// Runs the work; `Ok` when it succeeded (and its savepoint is kept),
    /// else its error.
    fn run(self: Box<Self>, ctx: &mut C) -> (Result<(), StoreError>, Reply);
    /// Answers without running (the group already failed).
    fn fail(self: Box<Self>, e: &StoreError);
    /// A small job: a few statements over a few rows (a registration),
    /// which a writer may group differently (SQLite's `temp_store`).
    fn small(&self) -> bool {
        false
    }
}

/// A closure as a [`Job`] that answers through `tx`.
pub struct TypedJob<T, F> {
    pub f: F,
    pub tx: Answer<T>,
    pub small: bool,
}

impl<C: ?Sized, T, F> Job<C> for TypedJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut C) -> StoreResult<T> + Send + 'static,
{
    fn run(self: Box<Self>, ctx: &mut C) -> (Result<(), StoreError>, Reply) {
        settle((self.f)(ctx), self.tx)
    }

    fn fail(self: Box<Self>, e: &StoreError) {
        (self.tx)(Err(e.clone()));
    }

    fn small(&self) -> bool {
        self.small
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn answer() -> (Answer<u8>, mpsc::Receiver<StoreResult<u8>>) {
        let (tx, rx) = mpsc::channel();
        (
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
            rx,
        )
    }

    #[test]
    fn a_job_is_answered_with_the_commits_fate() {
        let (tx, rx) = answer();
        let (ok, reply) = settle(Ok(7), tx);
        assert!(ok.is_ok());
        reply(Ok(()));
        assert_eq!(rx.recv().unwrap().unwrap(), 7);

        let (tx, rx) = answer();
        let (_, reply) = settle(Ok(7), tx);
        reply(Err(&StoreError::other("disk full")));
        assert!(
            matches!(rx.recv().unwrap(), Err(StoreError::Backend(m)) if m.to_string() == "disk full")
        );

        let (tx, rx) = answer();
        let (ok, reply) = settle::<u8>(Err(StoreError::VersionConflict), tx);
        assert!(
            matches!(ok, Err(StoreError::VersionConflict)),
            "the job's own error"
        );
        reply(Ok(()));
        assert!(matches!(
            rx.recv().unwrap(),
            Err(StoreError::VersionConflict)
        ));
    }
}
