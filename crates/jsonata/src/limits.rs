//! What bounds one evaluation besides its time: a stop from another thread (the step's
//! [`Interrupt`]) and a memory budget ([`EVAL_MEMORY_BUDGET`]).
//!
//! Both end the evaluation through a `jsonata-core` [`CancelToken`], made afresh for
//! each evaluation and seen at its next checkpoint (each node evaluated, each element a
//! higher-order function visits). The memory budget counts what the evaluating thread
//! allocates and has not freed; it is told of every allocation by the process's global
//! allocator (`stepwise`'s `alloc.rs` calls [`allocated`] and [`freed`]). A program
//! without that allocator has no memory budget; the other limits still hold.

use jsonata_core::evaluator::CancelToken;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Most bytes one evaluation may hold at once: 256 times AWS's 256 KiB payload limit.
pub const EVAL_MEMORY_BUDGET: usize = 64 << 20;

/// Stops a step, and the evaluation running in it, from another thread.
#[derive(Debug, Default)]
pub struct Interrupt {
    stopped: AtomicBool,
    evaluation: Mutex<Option<CancelToken>>,
}

impl Interrupt {
    pub fn new() -> Arc<Interrupt> {
        Arc::new(Interrupt::default())
    }

    /// Stop the step: its running evaluation ends at its next checkpoint, later ones at
    /// once, and [`interrupted`] answers true on its thread.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        if let Some(t) = lock(&self.evaluation).as_ref() {
            t.cancel();
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

thread_local! {
    /// The step running on this thread (see [`interrupt_with`]).
    static STEP: RefCell<Option<Arc<Interrupt>>> = const { RefCell::new(None) };
    /// The running evaluation's token while it runs (null otherwise). A raw pointer: the
    /// allocator reads it, and must neither allocate nor touch a value with a destructor.
    static EVALUATION: Cell<*const CancelToken> = const { Cell::new(std::ptr::null()) };
    /// Bytes the running evaluation holds (allocated minus freed on this thread).
    static HELD: Cell<isize> = const { Cell::new(0) };
    /// The running evaluation went over [`EVAL_MEMORY_BUDGET`].
    static OVER: Cell<bool> = const { Cell::new(false) };
}

/// Let `step` stop every evaluation this thread runs from now on (`None`: only their
/// time limit stops them). The engine sets one per step.
pub fn interrupt_with(step: Option<Arc<Interrupt>>) {
    STEP.with(|s| *s.borrow_mut() = step);
}

/// Whether the step running on this thread was stopped (see [`interrupt_with`]).
pub fn interrupted() -> bool {
    STEP.with(|s| s.borrow().as_ref().is_some_and(|i| i.is_stopped()))
}

/// The global allocator allocated `bytes` on this thread.
#[inline]
pub fn allocated(bytes: usize) {
    let _ = EVALUATION.try_with(|e| {
        let token = e.get();
        if token.is_null() {
            return;
        }
        let held = HELD.with(|h| {
            let v = h.get().saturating_add(bytes as isize);
            h.set(v);
            v
        });
        if held > EVAL_MEMORY_BUDGET as isize && !OVER.with(Cell::get) {
            OVER.with(|o| o.set(true));
            // SAFETY: non-null only while `Evaluation` (which owns the token) lives.
            unsafe { (*token).cancel() };
        }
    });
}

/// The global allocator freed `bytes` on this thread.
#[inline]
pub fn freed(bytes: usize) {
    let _ = EVALUATION.try_with(|e| {
        if !e.get().is_null() {
            HELD.with(|h| h.set(h.get().saturating_sub(bytes as isize)));
        }
    });
}

/// One evaluation's limits while it lives: its token (for the evaluator's options),
/// registered with the step's [`Interrupt`] and the memory budget.
pub(crate) struct Evaluation {
    token: Box<CancelToken>,
    step: Option<Arc<Interrupt>>,
}

impl Evaluation {
    pub(crate) fn begin() -> Evaluation {
        let token = Box::new(CancelToken::new());
        let step = STEP.with(|s| s.borrow().clone());
        if let Some(s) = &step {
            *lock(&s.evaluation) = Some(CancelToken::clone(&token));
            // A stop that came before the token was registered.
            if s.is_stopped() {
                token.cancel();
            }
        }
        HELD.with(|h| h.set(0));
        OVER.with(|o| o.set(false));
        EVALUATION.with(|e| e.set(&*token as *const CancelToken));
        Evaluation { token, step }
    }

    pub(crate) fn token(&self) -> CancelToken {
        CancelToken::clone(&self.token)
    }

    /// Whether the evaluation went over [`EVAL_MEMORY_BUDGET`].
    pub(crate) fn over_budget(&self) -> bool {
        OVER.with(Cell::get)
    }
}

impl Drop for Evaluation {
    fn drop(&mut self) {
        EVALUATION.with(|e| e.set(std::ptr::null()));
        if let Some(s) = &self.step {
            lock(&s.evaluation).take();
        }
    }
}
