//! Retention, as AWS keeps executions: a closed execution (SUCCEEDED, FAILED,
//! TIMED_OUT, ABORTED) is removed with its history once it stopped longer ago than
//! [`Config::retention`](crate::Config) (90 days on AWS and by default in `serve`), so
//! the store does not grow without end and the name can be used again.
//!
//! A sweeper task wakes every quarter of the retention (at least every
//! [`MIN_INTERVAL`], at most every [`MAX_INTERVAL`]) and at start, and asks the store
//! to delete the oldest closed executions in transactions of at most [`SWEEP_BATCH`]
//! (`Store::delete_closed_executions`, which takes Map Runs and their children along),
//! running on the blocking pool so it never holds an async thread; between two
//! transactions the writer is free for group commits. Deleted executions leave the
//! engine's cache of finished ones, so DescribeExecution says ExecutionDoesNotExist
//! and StartExecution takes the name again (the name filter only says "maybe" and the
//! store answers).
//!
//! A redrive revives a closed execution: it holds [`Inner::sweep_gate`] shared until its
//! batch is durable, and a sweep holds it exclusively, so a sweep never deletes an
//! execution between a redrive's read of it and the write that makes it RUNNING.

use crate::sources::now_millis;
use crate::Inner;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Most executions deleted in one transaction.
pub const SWEEP_BATCH: usize = 1000;
/// The sweeper wakes at most this often.
pub const MIN_INTERVAL: Duration = Duration::from_millis(200);
/// And at least this often.
pub const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// Start the sweeper when a retention is configured.
pub(crate) fn start(inner: &Arc<Inner>) {
    if let Some(keep) = inner.config.retention {
        tokio::spawn(sweep_loop(Arc::downgrade(inner), keep));
    }
}

async fn sweep_loop(weak: Weak<Inner>, keep: Duration) {
    let every = (keep / 4).clamp(MIN_INTERVAL, MAX_INTERVAL);
    loop {
        let Some(inner) = weak.upgrade() else { return };
        if inner.stopping.load(Relaxed) {
            return;
        }
        let deleted = sweep(&inner, keep).await;
        if deleted > 0 {
            tracing::info!(deleted, "retention: removed closed executions");
        }
        drop(inner);
        tokio::time::sleep(every).await;
    }
}

/// Delete every closed execution older than `keep`, batch by batch; how many went.
pub(crate) async fn sweep(inner: &Arc<Inner>, keep: Duration) -> usize {
    let keep_millis = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    let before = now_millis().saturating_sub(keep_millis);
    let mut total = 0;
    loop {
        if inner.stopping.load(Relaxed) {
            return total;
        }
        let gate = inner.sweep_gate.write().await;
        let store = Arc::clone(&inner.store);
        let res = tokio::task::spawn_blocking(move || {
            store.delete_closed_executions(before, SWEEP_BATCH)
        })
        .await;
        let arns = match res {
            Ok(Ok(arns)) => arns,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "retention: deleting closed executions failed");
                return total;
            }
            Err(_) => return total,
        };
        {
            let mut st = inner.lock();
            for arn in &arns {
                st.finished.remove(arn.as_str());
            }
        }
        drop(gate);
        total += arns.len();
        if arns.len() < SWEEP_BATCH {
            return total;
        }
        tokio::task::yield_now().await;
    }
}

impl crate::Engine {
    /// Delete now every closed execution that stopped more than `older_than` ago (what
    /// the sweeper does on its own); how many were deleted.
    pub async fn remove_closed_executions(&self, older_than: Duration) -> usize {
        sweep(&self.inner, older_than).await
    }
}
