//! Work that no one is waiting for yields to work someone is.
//!
//! Background jobs (the deadline sweep and the notices it sends, webhook
//! calls) run inside [`background`]; a store may then give their writes a
//! lower priority than those of requests, so that a queue of owed notices
//! never slows down the intake of complaints. The SQLite store does (its
//! single writer serves requests first and background writes within a
//! share, see `redress_sqlite::writer`); the PostgreSQL writers take jobs
//! in arrival order.

use std::future::Future;

tokio::task_local! {
    static BACKGROUND: ();
}

/// Runs `f` as background work: every store call it makes, on this task,
/// is marked as such.
pub async fn background<F: Future>(f: F) -> F::Output {
    BACKGROUND.scope((), f).await
}

/// Whether the current task runs inside [`background`].
pub fn is_background() -> bool {
    BACKGROUND.try_with(|_| ()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn marks_only_the_work_inside() {
        assert!(!is_background());
        assert!(background(async { is_background() }).await);
        assert!(!is_background());
    }
}
