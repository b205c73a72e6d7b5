//! Map Run cases: Map Run records and the child executions listed by their Map Run.

use super::helpers::*;
use crate::*;

pub(super) fn map_runs(store: &dyn Store) {
    let run = format!("{REGION}:mapRun:m/Label:11111111-2222-3333-4444-555555555555");
    let exec = format!("{REGION}:execution:m:e1");
    let read = |arn: &str| {
        store
            .map_run_execution(arn)
            .unwrap_or_else(|e| panic!("map_run_execution: {e}"))
    };
    assert_eq!(read(&run), None);
    commit(
        store,
        vec![Write::PutMapRun {
            arn: run.clone(),
            execution_arn: exec.clone(),
        }],
    );
    assert_eq!(read(&run), Some(exec.clone()));
    // Writing it again (a redriven Map Run) is not an error.
    commit(
        store,
        vec![Write::PutMapRun {
            arn: run.clone(),
            execution_arn: exec.clone(),
        }],
    );
    assert_eq!(read(&run), Some(exec));
    assert_eq!(
        read("arn:aws:states:us-east-1:123456789012:mapRun:other/L:x"),
        None
    );
}

pub(super) fn map_run_children(store: &dyn Store) {
    let run = format!("{REGION}:mapRun:m/Label:11111111-2222-3333-4444-555555555555");
    let parent = execution("m", "parent", 1_000);
    let child = |name: &str, start: i64| ExecutionRecord {
        arn: exec_arn("m/Label", name),
        machine_arn: machine_arn("m/Label"),
        map_run_arn: Some(run.clone()),
        ..execution("m/Label", name, start)
    };
    let (c1, c2) = (child("c1", 1_001), child("c2", 1_002));
    let other = ExecutionRecord {
        map_run_arn: Some(format!("{REGION}:mapRun:m/Label:other")),
        ..child("c3", 1_003)
    };
    commit(
        store,
        vec![
            Write::InsertExecution(parent.clone()),
            Write::InsertExecution(c1.clone()),
            Write::InsertExecution(c2.clone()),
            Write::InsertExecution(other),
            Write::AppendHistory {
                execution_arn: c1.arn.clone(),
                events: vec![event(1), event(2)],
            },
        ],
    );
    let q = ExecutionQuery {
        map_run_arn: Some(run.clone()),
        limit: 10,
        ..ExecutionQuery::default()
    };
    let listed = list(store, &q);
    assert_eq!(arns(&listed), vec![c2.arn.clone(), c1.arn.clone()]);
    assert_eq!(listed[1], c1, "a child's record round-trips");
    let by_status = ExecutionQuery {
        status: Some("SUCCEEDED".into()),
        ..q.clone()
    };
    assert!(list(store, &by_status).is_empty());
    // The parent's machine lists only the parent.
    let q = ExecutionQuery {
        machine_arn: Some(machine_arn("m")),
        limit: 10,
        ..ExecutionQuery::default()
    };
    assert_eq!(arns(&list(store, &q)), vec![parent.arn.clone()]);
    assert_eq!(hist(store, &c1.arn, 0, false, 10), vec![1, 2]);
    // RUNNING children are not recovered: the parent's snapshot holds them.
    assert_eq!(arns(&recovery_of(store).running), vec![parent.arn.clone()]);
    // Every stored ARN is listed, children included.
    let mut all = Vec::new();
    store
        .execution_arns(&mut |a| all.push(a.to_string()))
        .unwrap_or_else(|e| panic!("execution_arns: {e}"));
    all.sort();
    let mut expected = vec![parent.arn, c1.arn, c2.arn, exec_arn("m/Label", "c3")];
    expected.sort();
    assert_eq!(all, expected);
}
