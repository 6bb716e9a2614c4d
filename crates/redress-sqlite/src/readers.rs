//! The read threads: a fixed set of threads, each owning one `query_only`
//! connection for as long as the store is open, that run the reads whose
//! cost grows with the data (lists, searches, reports).
//!
//! Why not tokio's blocking pool: its threads come and go, and a
//! connection taken from a shared pool runs on whichever of them is free.
//! SQLite allocates its page cache, sorter and temporary b-trees through
//! the C allocator, which gives each new thread an arena of its own and
//! keeps every arena at its high-water mark: after a few reports the
//! server held three times the memory it used (docs/benchmarks.md, "Server
//! memory after insight queries"). On a thread of its own, a connection's
//! memory comes from one arena, the same one every time, and is reused by
//! the connection's next read.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use r2d2_sqlite::rusqlite::Connection;
use redress_store::{StoreError, StoreResult};

/// A read, boxed for the queue.
type ReadJob = Box<dyn FnOnce(&mut Connection) + Send>;

/// A read that took at least this long gives its connection's page cache
/// back afterwards (`PRAGMA shrink_memory`): it was a large read (a report,
/// a search over many cases), whose pages the next read, most likely a
/// small one, does not need. Point reads and pages of a list stay well
/// under it and keep their warm cache.
const SHRINK_AFTER: Duration = Duration::from_millis(20);

/// The threads and the queue they share. Dropping it lets the queued reads
/// finish, then closes the connections and joins the threads.
pub struct ReadThreads {
    queue: Option<mpsc::Sender<ReadJob>>,
    threads: Vec<JoinHandle<()>>,
}

impl ReadThreads {
    /// Starts one thread per connection `open` makes (`count` of them).
    pub fn start(
        count: usize,
        mut open: impl FnMut() -> StoreResult<Connection>,
    ) -> StoreResult<ReadThreads> {
        let (queue, jobs) = mpsc::channel::<ReadJob>();
        let jobs = Arc::new(Mutex::new(jobs));
        let mut threads = Vec::with_capacity(count);
        for i in 0..count {
            let mut conn = open()?;
            let jobs = Arc::clone(&jobs);
            let thread = std::thread::Builder::new()
                .name(format!("sqlite-read-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for a job:
                        // one idle thread waits on the queue, the others
                        // on the lock.
                        let job = match jobs.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let started = Instant::now();
                        // A read that panics loses its answer (the caller
                        // sees an error), not the thread.
                        if catch_unwind(AssertUnwindSafe(|| job(&mut conn))).is_err() {
                            tracing::error!("a sqlite read panicked");
                        }
                        if started.elapsed() >= SHRINK_AFTER
                            && let Err(e) = conn.execute_batch("PRAGMA shrink_memory;")
                        {
                            tracing::warn!(error = %e, "shrink_memory after a large read");
                        }
                    }
                })
                .map_err(|e| StoreError::other(format!("read thread: {e}")))?;
            threads.push(thread);
        }
        Ok(ReadThreads {
            queue: Some(queue),
            threads,
        })
    }

    /// Runs `f` on the next free read thread and waits for its answer.
    pub async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            // The caller may have gone (a dropped request): nothing to do.
            let _ = tx.send(f(conn));
        });
        self.queue
            .as_ref()
            .ok_or_else(|| StoreError::other("the store is closing"))?
            .send(job)
            .map_err(|_| StoreError::other("the read threads have stopped"))?;
        rx.await
            .map_err(|_| StoreError::other("the read failed without an answer"))?
    }
}

impl Drop for ReadThreads {
    fn drop(&mut self) {
        drop(self.queue.take());
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                tracing::error!("a sqlite read thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threads(count: usize) -> ReadThreads {
        ReadThreads::start(count, || {
            Connection::open_in_memory().map_err(crate::codec::db)
        })
        .unwrap()
    }

    #[tokio::test]
    async fn reads_run_on_the_read_threads_and_answer() {
        let t = threads(2);
        let (name, one) = t
            .run(|c| {
                let one: i64 = c
                    .query_row("SELECT 1", [], |r| r.get(0))
                    .map_err(crate::codec::db)?;
                Ok((std::thread::current().name().map(str::to_string), one))
            })
            .await
            .unwrap();
        assert_eq!(one, 1);
        assert!(name.unwrap().starts_with("sqlite-read-"));
    }

    #[tokio::test]
    async fn a_read_that_panics_fails_alone_and_its_thread_goes_on() {
        let t = threads(1);
        let failed = t
            .run(|_| -> StoreResult<()> { panic!("a bug in one read") })
            .await;
        assert!(failed.is_err());
        // The only thread is still there to answer the next read (without
        // it, the read would wait for ever: bounded here).
        let again = tokio::time::timeout(Duration::from_secs(10), t.run(|_| Ok(7)))
            .await
            .expect("the read thread survived the panic")
            .unwrap();
        assert_eq!(again, 7);
    }

    #[tokio::test]
    async fn reads_queued_together_all_answer() {
        let t = Arc::new(threads(2));
        let reads = (0..20).map(|i| {
            let t = Arc::clone(&t);
            async move { t.run(move |_| Ok(i)).await }
        });
        let answers = futures_join_all(reads).await;
        assert_eq!(answers, (0..20).collect::<Vec<_>>());
    }

    /// The answers of `futs` in order (no futures crate in this one's
    /// dependencies).
    async fn futures_join_all<F>(futs: impl Iterator<Item = F>) -> Vec<i32>
    where
        F: std::future::Future<Output = StoreResult<i32>> + Send + 'static,
    {
        let handles: Vec<_> = futs.map(tokio::spawn).collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap().unwrap());
        }
        out
    }
}
