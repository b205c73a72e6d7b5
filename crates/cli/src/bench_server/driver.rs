//! The load driver: client threads, one connection each, running an operation until a
//! count or a time is reached; the first error stops them all.

use crate::bench::Histogram;
use anyhow::bail;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::api::Api;

pub(crate) enum Until {
    /// Start operations until this many seconds have passed (the last ones finish after).
    Seconds(f64),
    /// Exactly this many operations in all.
    Count(u64),
}

pub(crate) struct Run {
    pub(crate) ops: u64,
    pub(super) wall: f64,
    hist: Histogram,
}

impl Run {
    pub(crate) fn per_sec(&self) -> f64 {
        self.ops as f64 / self.wall.max(1e-9)
    }

    pub(crate) fn ms(&self, p: f64) -> f64 {
        self.hist.percentile(p) / 1e6
    }
}

/// `clients` threads, each with its own connection, run `op` until `until`; the first
/// error stops them all and is the result.
pub(crate) fn drive(
    url: &str,
    clients: usize,
    until: Until,
    op: &(dyn Fn(&Api) -> anyhow::Result<()> + Sync),
) -> anyhow::Result<Run> {
    let tickets = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let start = Instant::now();
    let deadline = match until {
        Until::Seconds(s) => Some(start + Duration::from_secs_f64(s)),
        Until::Count(_) => None,
    };
    let limit = match until {
        Until::Count(n) => n,
        Until::Seconds(_) => u64::MAX,
    };
    let results: Vec<(u64, Histogram)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| {
                    let api = Api::new(url);
                    let mut hist = Histogram::new();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        if deadline.is_some_and(|d| Instant::now() >= d)
                            || tickets.fetch_add(1, Ordering::Relaxed) >= limit
                        {
                            break;
                        }
                        let t0 = Instant::now();
                        if let Err(e) = op(&api) {
                            stop.store(true, Ordering::Relaxed);
                            if let Ok(mut slot) = first_error.lock() {
                                slot.get_or_insert(e);
                            }
                            break;
                        }
                        hist.record(u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX));
                        n += 1;
                    }
                    (n, hist)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let wall = start.elapsed().as_secs_f64();
    if let Some(e) = first_error.lock().ok().and_then(|mut e| e.take()) {
        return Err(e);
    }
    if results.len() != clients {
        bail!("a client thread panicked");
    }
    let mut hist = Histogram::new();
    let mut ops = 0;
    for (n, h) in &results {
        ops += n;
        hist.merge(h);
    }
    Ok(Run { ops, wall, hist })
}

#[cfg(test)]
#[path = "../tests/bench_server/driver.rs"]
mod tests;
