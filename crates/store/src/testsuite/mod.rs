//! One conformance suite for [`Store`](crate::Store) backends: each backend's tests
//! call [`run_all`] with a fresh, empty store.
//!
//! Every case gets its own store from `make`, so cases never see each other's data.
//! A failing case panics with the case's name and the assertion that failed.
//!
//! Conventions the suite pins down (beyond the trait's doc comments):
//! - the order of machines, versions, aliases and activities in a [`Catalog`] is not
//!   significant (the suite sorts by ARN); tags are in insertion order per resource,
//!   and overwriting a tag keeps its position;
//! - `executions()` returns full records (definition and snapshot included), newest
//!   first, ties broken by ARN ascending; `after` continues strictly after that
//!   position;
//! - recovery lists only RUNNING executions and only the timers and tasks that belong
//!   to them;
//! - `DeleteActivity` removes the activity's tags too;
//! - Distributed Map children (`map_run_arn` set) are listed by their Map Run and never
//!   recovered (their state is in the parent's snapshot);
//! - inserting an execution whose ARN exists fails the whole commit;
//! - outbox positions (`seq`) only grow, also across deletes of the newest events;
//! - retention deletes closed top-level executions only, each with everything that
//!   hangs off it (history, timers, tasks, Map Runs and their children), and the ARN
//!   can be inserted again afterwards.
//!
//! The cases, by topic: `catalog.rs`, `executions.rs` (records, listing, history),
//! `recovery.rs`, `commits.rs` (atomicity, batch order, concurrent reads),
//! `map_runs.rs`, `outbox.rs` and `retention.rs`; their shared fixtures in `helpers.rs`.

mod catalog;
mod commits;
mod executions;
mod helpers;
mod map_runs;
mod outbox;
mod recovery;
mod retention;

use crate::*;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use catalog::{catalog_overwrite_and_delete, catalog_round_trip, delete_state_machine, tags};
use commits::{
    atomicity_existing, atomicity_fresh, batches_apply_in_order, empty_commit,
    reads_from_other_threads,
};
use executions::{
    execution_counts, execution_round_trip, execution_update, executions_by_name_and_start,
    executions_filter, executions_paging, history,
};
use map_runs::{map_run_children, map_runs};
use outbox::outbox;
use recovery::{clear_execution_work, recovery};
use retention::retention;

type Case = fn(&dyn Store);

/// Runs every case, each against a fresh store from `make`.
pub fn run_all<S: Store>(make: &dyn Fn() -> S) {
    let cases: &[(&str, Case)] = &[
        ("catalog_round_trip", catalog_round_trip),
        ("catalog_overwrite_and_delete", catalog_overwrite_and_delete),
        ("tags", tags),
        ("delete_state_machine", delete_state_machine),
        ("execution_round_trip", execution_round_trip),
        ("execution_update", execution_update),
        ("executions_filter", executions_filter),
        ("executions_paging", executions_paging),
        ("executions_by_name_and_start", executions_by_name_and_start),
        ("execution_counts", execution_counts),
        ("history", history),
        ("recovery", recovery),
        ("clear_execution_work", clear_execution_work),
        ("atomicity_fresh", atomicity_fresh),
        ("atomicity_existing", atomicity_existing),
        ("batches_apply_in_order", batches_apply_in_order),
        ("empty_commit", empty_commit),
        ("map_runs", map_runs),
        ("map_run_children", map_run_children),
        ("reads_from_other_threads", reads_from_other_threads),
        ("outbox", outbox),
        ("retention", retention),
    ];
    for (name, case) in cases {
        let store = make();
        let outcome = catch_unwind(AssertUnwindSafe(|| case(&store)));
        if let Err(payload) = outcome {
            let msg = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied());
            match msg {
                Some(msg) => panic!("store testsuite case `{name}` failed: {msg}"),
                None => {
                    eprintln!("store testsuite case `{name}` failed");
                    resume_unwind(payload)
                }
            }
        }
    }
}
