//! Retention cases: deleting closed top-level executions with everything that hangs
//! off them.

use super::helpers::*;
use crate::*;

pub(super) fn retention(store: &dyn Store) {
    let sweep = |before: i64, limit: usize| {
        let mut v = store
            .delete_closed_executions(before, limit)
            .unwrap_or_else(|e| panic!("delete_closed_executions: {e}"));
        v.sort();
        v
    };
    let done = |name: &str, status: &str, stop: i64| {
        let e = execution("m", name, 100);
        apply(&e, &finished(&e, status, stop))
    };
    let (old_ok, old_failed, old_aborted, old_timed_out) = (
        done("old-ok", "SUCCEEDED", 1_000),
        done("old-failed", "FAILED", 1_100),
        done("old-aborted", "ABORTED", 1_200),
        done("old-timed-out", "TIMED_OUT", 1_300),
    );
    let recent = done("recent", "SUCCEEDED", 5_000);
    let running = execution("m", "running", 50);
    let pending = ExecutionRecord {
        stop_millis: Some(500),
        ..done("pending", "PENDING_REDRIVE", 500)
    };
    // An old parent with a Map Run and its children.
    let parent = done("parent", "SUCCEEDED", 900);
    let run = format!("{REGION}:mapRun:m/L:22222222-2222-3333-4444-555555555555");
    let child = ExecutionRecord {
        arn: exec_arn("m/L", "c1"),
        machine_arn: machine_arn("m/L"),
        map_run_arn: Some(run.clone()),
        ..done("c1", "SUCCEEDED", 800)
    };
    let mut writes: Vec<Write> = [
        &old_ok,
        &old_failed,
        &old_aborted,
        &old_timed_out,
        &recent,
        &running,
        &pending,
        &parent,
        &child,
    ]
    .into_iter()
    .map(|e| Write::InsertExecution(e.clone()))
    .collect();
    for e in [&old_ok, &recent, &running, &parent, &child] {
        writes.push(Write::AppendHistory {
            execution_arn: e.arn.clone(),
            events: vec![event(1), event(2), event(3)],
        });
    }
    writes.push(Write::PutMapRun {
        arn: run.clone(),
        execution_arn: parent.arn.clone(),
    });
    writes.push(Write::PutTimer(timer(&old_failed.arn, 1, 99)));
    writes.push(Write::PutTask(task(&old_failed.arn, "tok-old", 1, None)));
    writes.push(Write::PutTimer(timer(&running.arn, 1, 99)));
    writes.push(Write::PutTask(task(&running.arn, "tok-run", 1, None)));
    commit(store, writes);

    // Bounded: at most `limit` per call, oldest stop first.
    assert_eq!(sweep(3_000, 1), vec![parent.arn.clone()]);
    assert_eq!(get(store, &parent.arn), None);
    assert_eq!(
        get(store, &child.arn),
        None,
        "the Map Run's children go too"
    );
    assert!(hist(store, &parent.arn, 0, false, 10).is_empty());
    assert!(hist(store, &child.arn, 0, false, 10).is_empty());
    assert_eq!(store.map_run_execution(&run).ok().flatten(), None);

    let mut expected = vec![
        old_ok.arn.clone(),
        old_failed.arn.clone(),
        old_aborted.arn.clone(),
        old_timed_out.arn.clone(),
    ];
    expected.sort();
    assert_eq!(sweep(3_000, 10), expected);
    assert!(sweep(3_000, 10).is_empty(), "nothing left to delete");
    for e in &expected {
        assert_eq!(get(store, e), None, "{e}");
    }
    assert!(hist(store, &old_ok.arn, 0, false, 10).is_empty());
    // What stays: recent, running and pending-redrive executions, with their work.
    assert_eq!(get(store, &recent.arn), Some(recent.clone()));
    assert_eq!(hist(store, &recent.arn, 0, false, 10), [1, 2, 3]);
    assert_eq!(get(store, &running.arn), Some(running.clone()));
    assert_eq!(hist(store, &running.arn, 0, false, 10), [1, 2, 3]);
    assert!(get(store, &pending.arn).is_some());
    let mut all = Vec::new();
    store
        .execution_arns(&mut |a| all.push(a.to_string()))
        .unwrap_or_else(|e| panic!("execution_arns: {e}"));
    all.sort();
    let mut left = vec![recent.arn.clone(), running.arn.clone(), pending.arn.clone()];
    left.sort();
    assert_eq!(all, left);

    // The name can be used again, with a history of its own and none of the old
    // execution's timers or tasks.
    let again = execution("m", "old-failed", 7_000);
    commit(
        store,
        vec![
            Write::InsertExecution(again.clone()),
            Write::AppendHistory {
                execution_arn: again.arn.clone(),
                events: vec![event(1)],
            },
        ],
    );
    assert_eq!(get(store, &again.arn), Some(again.clone()));
    assert_eq!(hist(store, &again.arn, 0, false, 10), [1]);
    let r = recovery_of(store);
    assert_eq!(r.timers, vec![timer(&running.arn, 1, 99)]);
    assert_eq!(arns_of_tasks(&r), vec!["tok-run".to_string()]);
    // The recent one goes once it is old enough.
    assert_eq!(sweep(6_000, 10), vec![recent.arn.clone()]);
}

fn arns_of_tasks(r: &Recovery) -> Vec<String> {
    r.tasks.iter().map(|t| t.token.clone()).collect()
}
