//! Commit cases: atomicity of a failed commit, batches applied in order, empty
//! commits, and reads from other threads while commits run.

use super::helpers::*;
use crate::*;
use std::panic::resume_unwind;

pub(super) fn atomicity_fresh(store: &dyn Store) {
    let m = machine("m", DEF_A);
    let a = execution("m", "a", 1_000);
    let b = execution("m", "b", 2_000);
    let first = batch(vec![
        Write::PutStateMachine(m.clone()),
        Write::PutTags {
            arn: m.arn.clone(),
            tags: pairs(&[("k", "v")]),
        },
        Write::PutActivity(activity("act")),
        Write::InsertExecution(a.clone()),
        Write::AppendHistory {
            execution_arn: a.arn.clone(),
            events: vec![event(1), event(2)],
        },
        Write::PutTimer(timer(&a.arn, 1, 5)),
    ]);
    let second = batch(vec![
        Write::InsertExecution(b.clone()),
        Write::PutTask(task(&b.arn, "tok", 1, None)),
    ]);
    // The third batch inserts `a` again: the whole commit must fail.
    let third = batch(vec![
        Write::PutVersion(version("m", 1)),
        Write::InsertExecution(execution("m", "a", 9_999)),
    ]);
    let res = store.commit(&[first, second, third]);
    assert!(
        res.is_err(),
        "inserting a duplicate execution ARN must fail the commit"
    );

    assert_eq!(
        catalog(store),
        Catalog::default(),
        "nothing of a failed commit is applied"
    );
    assert_eq!(get(store, &a.arn), None);
    assert_eq!(get(store, &b.arn), None);
    assert_eq!(hist(store, &a.arn, 0, false, 100), Vec::<u64>::new());
    assert_eq!(recovery_of(store), Recovery::default());
    assert_eq!(
        list(
            store,
            &ExecutionQuery {
                limit: 100,
                ..Default::default()
            }
        ),
        vec![]
    );

    // The store is still usable and the same writes now succeed.
    commit(store, vec![Write::InsertExecution(a.clone())]);
    assert_eq!(get(store, &a.arn), Some(a));
}

pub(super) fn atomicity_existing(store: &dyn Store) {
    let m = machine("m", DEF_A);
    let a = execution("m", "a", 1_000);
    commit(
        store,
        vec![
            Write::PutStateMachine(m.clone()),
            Write::PutTags {
                arn: m.arn.clone(),
                tags: pairs(&[("k", "v")]),
            },
            Write::InsertExecution(a.clone()),
            Write::AppendHistory {
                execution_arn: a.arn.clone(),
                events: vec![event(1)],
            },
            Write::PutTimer(timer(&a.arn, 1, 5)),
        ],
    );
    let before_catalog = catalog(store);
    let before_recovery = recovery_of(store);

    let mut m2 = m.clone();
    m2.definition = DEF_B.to_string();
    let steps = batch(vec![
        Write::PutStateMachine(m2),
        Write::DeleteStateMachine { arn: m.arn.clone() },
        Write::RemoveTags {
            arn: m.arn.clone(),
            keys: vec!["k".to_string()],
        },
        Write::AppendHistory {
            execution_arn: a.arn.clone(),
            events: vec![event(2), event(3)],
        },
        Write::UpdateExecution(finished(&a, "SUCCEEDED", 2_000)),
        Write::ClearExecutionWork {
            execution_arn: a.arn.clone(),
        },
        Write::DeleteTimer {
            execution_arn: a.arn.clone(),
            timer: 1,
        },
    ]);
    let bad = batch(vec![Write::InsertExecution(execution("m", "a", 3_000))]);
    assert!(
        store.commit(&[steps, bad]).is_err(),
        "duplicate execution ARN must fail"
    );

    assert_eq!(
        catalog(store),
        before_catalog,
        "catalog unchanged after a failed commit"
    );
    assert_eq!(
        recovery_of(store),
        before_recovery,
        "work unchanged after a failed commit"
    );
    assert_eq!(get(store, &a.arn), Some(a.clone()));
    assert_eq!(hist(store, &a.arn, 0, false, 100), [1]);
}

pub(super) fn batches_apply_in_order(store: &dyn Store) {
    let m = machine("m", DEF_A);
    let gone = machine("gone", DEF_A);
    let a = execution("m", "a", 1_000);
    let step = ExecutionUpdate {
        arn: a.arn.clone(),
        status: "RUNNING".to_string(),
        output: None,
        error: None,
        cause: None,
        stop_millis: None,
        redrive_count: 0,
        redrive_millis: None,
        snapshot: Some(b"step-1".to_vec()),
        history_len: 2,
        transitions: 1,
    };
    let last = ExecutionUpdate {
        snapshot: Some(b"step-2".to_vec()),
        history_len: 4,
        transitions: 2,
        ..step.clone()
    };
    let batches = vec![
        batch(vec![
            Write::PutStateMachine(m.clone()),
            Write::PutStateMachine(gone.clone()),
            Write::PutTags {
                arn: m.arn.clone(),
                tags: pairs(&[("k", "1")]),
            },
            Write::InsertExecution(a.clone()),
        ]),
        batch(vec![
            Write::AppendHistory {
                execution_arn: a.arn.clone(),
                events: vec![event(1), event(2)],
            },
            Write::UpdateExecution(step),
            Write::PutTimer(timer(&a.arn, 1, 100)),
            Write::PutTask(task(&a.arn, "tok", 1, None)),
        ]),
        Batch::default(),
        batch(vec![
            Write::PutTags {
                arn: m.arn.clone(),
                tags: pairs(&[("k", "2")]),
            },
            Write::DeleteStateMachine {
                arn: gone.arn.clone(),
            },
            Write::DeleteTimer {
                execution_arn: a.arn.clone(),
                timer: 1,
            },
            Write::PutTimer(timer(&a.arn, 2, 200)),
            Write::DeleteTask {
                token: "tok".to_string(),
            },
        ]),
        batch(vec![
            Write::AppendHistory {
                execution_arn: a.arn.clone(),
                events: vec![event(3), event(4)],
            },
            Write::UpdateExecution(last.clone()),
        ]),
    ];
    if let Err(e) = store.commit(&batches) {
        panic!("commit of several batches failed: {e}");
    }
    let c = catalog(store);
    assert_eq!(c.state_machines, vec![m.clone()]);
    assert_eq!(tags_of(&c, &m.arn), pairs(&[("k", "2")]));
    assert_eq!(get(store, &a.arn), Some(apply(&a, &last)));
    assert_eq!(hist(store, &a.arn, 0, false, 100), [1, 2, 3, 4]);
    let r = recovery_of(store);
    assert_eq!(r.timers, vec![timer(&a.arn, 2, 200)]);
    assert_eq!(r.tasks, vec![]);
}

pub(super) fn empty_commit(store: &dyn Store) {
    if let Err(e) = store.commit(&[]) {
        panic!("an empty commit must succeed: {e}");
    }
    if let Err(e) = store.commit(&[Batch::default(), Batch::default()]) {
        panic!("a commit of empty batches must succeed: {e}");
    }
    assert_eq!(catalog(store), Catalog::default());
}

pub(super) fn reads_from_other_threads(store: &dyn Store) {
    let execs: Vec<_> = (0..20)
        .map(|i| execution("m", &format!("e{i:02}"), i))
        .collect();
    commit(
        store,
        execs.iter().cloned().map(Write::InsertExecution).collect(),
    );
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let execs = &execs;
                s.spawn(move || {
                    for i in 0..20 {
                        let e = &execs[(i + t * 5) % execs.len()];
                        assert_eq!(get(store, &e.arn).as_ref(), Some(e));
                    }
                    let q = ExecutionQuery {
                        machine_arn: Some(machine_arn("m")),
                        limit: 100,
                        ..Default::default()
                    };
                    assert_eq!(list(store, &q).len(), 20);
                })
            })
            .collect();
        // A write while the readers run must not disturb them.
        commit(
            store,
            vec![Write::AppendHistory {
                execution_arn: execs[0].arn.clone(),
                events: vec![event(1)],
            }],
        );
        for h in handles {
            if let Err(p) = h.join() {
                resume_unwind(p);
            }
        }
    });
    assert_eq!(hist(store, &execs[0].arn, 0, false, 10), [1]);
}
