//! Recovery cases: what a restart resumes (running executions' timers and tasks) and
//! clearing an execution's pending work.

use super::helpers::*;
use crate::*;

pub(super) fn recovery(store: &dyn Store) {
    assert_eq!(recovery_of(store), Recovery::default());
    let act = format!("{REGION}:activity:w");
    let r1 = execution("m", "r1", 1_000);
    let mut r2 = execution("m", "r2", 2_000);
    r2.definition = DEF_B.to_string();
    r2.snapshot = Some(vec![9; 300]);
    let done = execution("m", "done", 3_000);
    let fin = finished(&done, "SUCCEEDED", 3_500);
    let mut t1 = task(&r1.arn, "tok-1", 1, Some(&act));
    commit(
        store,
        vec![
            Write::InsertExecution(r1.clone()),
            Write::InsertExecution(r2.clone()),
            Write::InsertExecution(done.clone()),
            Write::PutTimer(timer(&r1.arn, 1, 10_000)),
            Write::PutTimer(timer(&r1.arn, 2, 20_000)),
            Write::PutTimer(timer(&r2.arn, 1, 30_000)),
            Write::PutTimer(timer(&done.arn, 1, 40_000)),
            Write::PutTask(t1.clone()),
            Write::PutTask(task(&r2.arn, "tok-2", 1, None)),
            Write::PutTask(task(&done.arn, "tok-3", 1, None)),
            Write::UpdateExecution(fin),
        ],
    );
    let r = recovery_of(store);
    assert_eq!(
        r.running,
        vec![r1.clone(), r2.clone()],
        "only RUNNING, with snapshots"
    );
    assert_eq!(
        r.timers,
        vec![
            timer(&r1.arn, 1, 10_000),
            timer(&r1.arn, 2, 20_000),
            timer(&r2.arn, 1, 30_000)
        ],
        "timers of finished executions are not recovered"
    );
    assert_eq!(r.tasks, vec![t1.clone(), task(&r2.arn, "tok-2", 1, None)]);

    // Overwrites: a re-armed timer, a task taken by a worker; deletes.
    t1.worker = Some("worker-7".to_string());
    commit(
        store,
        vec![
            Write::PutTimer(timer(&r1.arn, 2, 25_000)),
            Write::PutTask(t1.clone()),
            Write::DeleteTimer {
                execution_arn: r1.arn.clone(),
                timer: 1,
            },
            Write::DeleteTask {
                token: "tok-2".to_string(),
            },
            Write::DeleteTimer {
                execution_arn: r1.arn.clone(),
                timer: 99,
            },
            Write::DeleteTask {
                token: "no-such-token".to_string(),
            },
        ],
    );
    let r = recovery_of(store);
    assert_eq!(
        r.timers,
        vec![timer(&r1.arn, 2, 25_000), timer(&r2.arn, 1, 30_000)]
    );
    assert_eq!(r.tasks, vec![t1.clone()]);
    assert_eq!(r.tasks[0].worker.as_deref(), Some("worker-7"));

    // A running execution that finishes leaves recovery.
    let fin2 = finished(&r2, "FAILED", 9_000);
    commit(store, vec![Write::UpdateExecution(fin2)]);
    let r = recovery_of(store);
    assert_eq!(arns(&r.running), vec![r1.arn.clone()]);
    assert_eq!(r.timers, vec![timer(&r1.arn, 2, 25_000)]);
}

pub(super) fn clear_execution_work(store: &dyn Store) {
    let a = execution("m", "a", 1_000);
    let b = execution("m", "b", 2_000);
    commit(
        store,
        vec![
            Write::InsertExecution(a.clone()),
            Write::InsertExecution(b.clone()),
            Write::PutTimer(timer(&a.arn, 1, 10)),
            Write::PutTimer(timer(&a.arn, 2, 20)),
            Write::PutTimer(timer(&b.arn, 1, 30)),
            Write::PutTask(task(&a.arn, "ta1", 1, None)),
            Write::PutTask(task(&a.arn, "ta2", 2, Some("arn:act"))),
            Write::PutTask(task(&b.arn, "tb1", 1, None)),
        ],
    );
    commit(
        store,
        vec![Write::ClearExecutionWork {
            execution_arn: a.arn.clone(),
        }],
    );
    let r = recovery_of(store);
    assert_eq!(r.running, vec![a.clone(), b.clone()]);
    assert_eq!(r.timers, vec![timer(&b.arn, 1, 30)]);
    assert_eq!(r.tasks, vec![task(&b.arn, "tb1", 1, None)]);
    // Clearing an execution with no work is fine.
    commit(
        store,
        vec![Write::ClearExecutionWork {
            execution_arn: a.arn.clone(),
        }],
    );
}
