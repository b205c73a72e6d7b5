//! Group commit: one writer thread takes every batch queued since its last commit and
//! applies them in one store transaction. Each batch gets a sequence number; callers
//! wait until the committed watermark passes theirs before they acknowledge anything.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;
use stepwise_store::{Batch, Store};
use tokio::sync::watch;

use crate::metrics::Metrics;

/// Most batches folded into one transaction.
const MAX_GROUP: usize = 2048;

/// Where the writer is: every batch with `seq <= committed` is durable. After a store
/// error the writer is *poisoned*: memory is ahead of the store, so nothing more is
/// committed or acknowledged (fail-stop; a restart recovers from the store).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Watermark {
    pub committed: u64,
    pub poisoned: bool,
}

/// The queue to the writer and the last sequence number handed out.
type Queue = (mpsc::Sender<(u64, Batch)>, u64);

pub struct Committer {
    /// Sender and the sequence counter move together so channel order = seq order.
    tx: Mutex<Option<Queue>>,
    mark: watch::Receiver<Watermark>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub(crate) queued: AtomicU64,
}

impl Committer {
    pub fn start(store: Arc<dyn Store>, metrics: Arc<Metrics>) -> Arc<Committer> {
        let (tx, rx) = mpsc::channel::<(u64, Batch)>();
        let (mark_tx, mark_rx) = watch::channel(Watermark::default());
        let c = Arc::new(Committer {
            tx: Mutex::new(Some((tx, 0))),
            mark: mark_rx,
            thread: Mutex::new(None),
            queued: AtomicU64::new(0),
        });
        let me = Arc::clone(&c);
        let handle = std::thread::Builder::new()
            .name("stepwise-commit".into())
            .spawn(move || writer(rx, store, mark_tx, metrics, me))
            .ok();
        if let Ok(mut t) = c.thread.lock() {
            *t = handle;
        }
        c
    }

    /// Queue a batch; returns its sequence number (0 for an empty batch: nothing to wait for).
    pub fn submit(&self, batch: Batch) -> u64 {
        if batch.is_empty() {
            return 0;
        }
        let mut guard = match self.tx.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let Some((tx, seq)) = guard.as_mut() else {
            return u64::MAX; // shutting down: never acknowledged
        };
        *seq += 1;
        let s = *seq;
        self.queued.fetch_add(1, Ordering::Relaxed);
        if tx.send((s, batch)).is_err() {
            return u64::MAX;
        }
        s
    }

    /// Wait until batch `seq` is durable.
    pub async fn wait(&self, seq: u64) -> Result<(), CommitFailed> {
        if seq == 0 {
            return Ok(());
        }
        let mut rx = self.mark.clone();
        loop {
            let m = *rx.borrow_and_update();
            if m.committed >= seq {
                return Ok(());
            }
            if m.poisoned || seq == u64::MAX || rx.changed().await.is_err() {
                return Err(CommitFailed);
            }
        }
    }

    /// The highest sequence number known durable.
    pub fn committed(&self) -> u64 {
        self.mark.borrow().committed
    }

    /// Whether a commit failed (the server must be restarted).
    pub fn poisoned(&self) -> bool {
        self.mark.borrow().poisoned
    }

    /// Stop accepting batches, write what is queued and join the writer.
    pub fn shutdown(&self) {
        if let Ok(mut g) = self.tx.lock() {
            g.take();
        }
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

/// A batch that could not be made durable.
#[derive(Debug, thiserror::Error)]
#[error("the store failed to commit")]
pub struct CommitFailed;

fn writer(
    rx: mpsc::Receiver<(u64, Batch)>,
    store: Arc<dyn Store>,
    mark: watch::Sender<Watermark>,
    metrics: Arc<Metrics>,
    me: Arc<Committer>,
) {
    let mut group: Vec<Batch> = Vec::with_capacity(64);
    while let Ok((first_seq, b)) = rx.recv() {
        group.clear();
        group.push(b);
        let mut last = first_seq;
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok((s, b)) => {
                    group.push(b);
                    last = s;
                }
                Err(_) => break,
            }
        }
        me.queued.fetch_sub(group.len() as u64, Ordering::Relaxed);
        if mark.borrow().poisoned {
            continue;
        }
        let t = Instant::now();
        let res = store.commit(&group);
        metrics.observe_commit(group.len(), t.elapsed());
        mark.send_modify(|m| match res {
            Ok(()) => m.committed = last,
            Err(ref e) => {
                tracing::error!(error = %e, batches = group.len(), "commit failed; refusing further writes");
                m.poisoned = true;
            }
        });
    }
}
