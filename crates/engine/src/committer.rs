//! Group commit: one writer thread takes every batch queued since its last commit and
//! applies them in one store transaction. Each batch gets a sequence number; callers
//! wait until the committed watermark passes theirs before they acknowledge anything.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;
use stepwise_store::{Batch, Store};
use tokio::sync::oneshot;

use crate::metrics::Metrics;

/// Most batches folded into one transaction.
const MAX_GROUP: usize = 2048;

/// Callers waiting for a sequence number, woken by the commit that covers it (and only
/// that one: a watch channel would wake every waiter on every commit).
type Waiters = BTreeMap<u64, Vec<oneshot::Sender<bool>>>;

/// The queue to the writer and the last sequence number handed out.
type Queue = (mpsc::Sender<(u64, Batch)>, u64);

/// Every batch with `seq <= committed` is durable. After a store error the writer is
/// *poisoned*: memory is ahead of the store, so nothing more is committed or
/// acknowledged (fail-stop; a restart recovers from the store).
pub struct Committer {
    /// Sender and the sequence counter move together so channel order = seq order.
    tx: Mutex<Option<Queue>>,
    committed: AtomicU64,
    poisoned: AtomicBool,
    waiters: Mutex<Waiters>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    pub(crate) queued: AtomicU64,
}

impl Committer {
    pub fn start(store: Arc<dyn Store>, metrics: Arc<Metrics>) -> Arc<Committer> {
        let (tx, rx) = mpsc::channel::<(u64, Batch)>();
        let c = Arc::new(Committer {
            tx: Mutex::new(Some((tx, 0))),
            committed: AtomicU64::new(0),
            poisoned: AtomicBool::new(false),
            waiters: Mutex::new(BTreeMap::new()),
            thread: Mutex::new(None),
            queued: AtomicU64::new(0),
        });
        let me = Arc::clone(&c);
        let handle = std::thread::Builder::new()
            .name("stepwise-commit".into())
            .spawn(move || writer(rx, store, metrics, me))
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
        if seq == 0 || self.committed() >= seq {
            return Ok(());
        }
        if seq == u64::MAX || self.poisoned() {
            return Err(CommitFailed);
        }
        let rx = {
            let mut w = lock(&self.waiters);
            // Re-check under the lock: the writer marks progress before it takes it.
            if self.committed() >= seq {
                return Ok(());
            }
            if self.poisoned() {
                return Err(CommitFailed);
            }
            let (tx, rx) = oneshot::channel();
            w.entry(seq).or_default().push(tx);
            rx
        };
        match rx.await {
            Ok(true) => Ok(()),
            _ => Err(CommitFailed),
        }
    }

    /// The last sequence number handed out: waiting for it waits for every batch
    /// submitted so far.
    pub fn last_submitted(&self) -> u64 {
        match self.tx.lock() {
            Ok(g) => g.as_ref().map_or(u64::MAX, |(_, seq)| *seq),
            Err(p) => p.into_inner().as_ref().map_or(u64::MAX, |(_, seq)| *seq),
        }
    }

    /// The highest sequence number known durable.
    pub fn committed(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    /// Whether a commit failed (the server must be restarted).
    pub fn poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    /// Mark `last` durable (or everything failed) and wake exactly the callers covered.
    fn settle(&self, last: u64, ok: bool) {
        let woken = {
            let mut w = lock(&self.waiters);
            if ok {
                self.committed.store(last, Ordering::Release);
                let later = w.split_off(&(last + 1));
                std::mem::replace(&mut *w, later)
            } else {
                self.poisoned.store(true, Ordering::Release);
                std::mem::take(&mut *w)
            }
        };
        for tx in woken.into_values().flatten() {
            let _ = tx.send(ok);
        }
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn writer(
    rx: mpsc::Receiver<(u64, Batch)>,
    store: Arc<dyn Store>,
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
        if me.poisoned() {
            continue;
        }
        let t = Instant::now();
        let res = store.commit(&group);
        metrics.observe_commit(group.len(), t.elapsed());
        if let Err(e) = &res {
            tracing::error!(error = %e, batches = group.len(), "commit failed; refusing further writes");
        }
        me.settle(last, res.is_ok());
    }
    // The queue is closed and drained: whoever still waits will never be acknowledged.
    me.settle(0, false);
}
