//! Execution cases: records and updates, listing (filters, paging, name and start
//! window, counts) and history reads.

use super::helpers::*;
use crate::*;

pub(super) fn execution_round_trip(store: &dyn Store) {
    assert_eq!(get(store, &exec_arn("m", "missing")), None);

    let plain = execution("m", "plain", 1_000);
    let mut full = execution("m", "full", 2_000);
    full.version_arn = Some(format!("{}:3", machine_arn("m")));
    full.alias_arn = Some(format!("{}:prod", machine_arn("m")));
    full.machine_type = MachineType::Express;
    full.status = "FAILED".to_string();
    full.output = Some("null".to_string());
    full.error = Some("States.TaskFailed".to_string());
    full.cause = Some("boom \u{e9}\u{1f600}".to_string());
    full.stop_millis = Some(2_500);
    full.redrive_count = 2;
    full.redrive_millis = Some(2_400);
    full.definition = DEF_B.to_string();
    full.test_case = Some(format!("{}#HappyPath", machine_arn("m")));
    full.trace_header = Some("Root=1-abc".to_string());
    full.snapshot = Some(vec![0, 1, 2, 255, 0, 128]);
    full.history_len = 42;
    full.transitions = 17;
    let mut empty_snap = execution("m", "empty-snap", 3_000);
    empty_snap.snapshot = Some(Vec::new());
    // Same definition as `plain`: a backend that deduplicates must still return it.
    let mut same_def = execution("other", "same-def", 4_000);
    same_def.snapshot = None;

    commit(
        store,
        vec![
            Write::InsertExecution(plain.clone()),
            Write::InsertExecution(full.clone()),
            Write::InsertExecution(empty_snap.clone()),
        ],
    );
    commit(store, vec![Write::InsertExecution(same_def.clone())]);
    assert_eq!(get(store, &plain.arn), Some(plain));
    assert_eq!(get(store, &full.arn), Some(full));
    assert_eq!(get(store, &empty_snap.arn), Some(empty_snap));
    assert_eq!(get(store, &same_def.arn), Some(same_def));
}

pub(super) fn execution_update(store: &dyn Store) {
    let e = execution("m", "e", 1_000);
    commit(store, vec![Write::InsertExecution(e.clone())]);

    // A step: still running, new snapshot and counters.
    let step = ExecutionUpdate {
        arn: e.arn.clone(),
        status: "RUNNING".to_string(),
        output: None,
        error: None,
        cause: None,
        stop_millis: None,
        redrive_count: 0,
        redrive_millis: None,
        snapshot: Some(b"snap-2".to_vec()),
        history_len: 5,
        transitions: 3,
    };
    commit(store, vec![Write::UpdateExecution(step.clone())]);
    let e2 = apply(&e, &step);
    assert_eq!(get(store, &e.arn), Some(e2.clone()));

    // Failure, then a redrive, then success.
    let fail = ExecutionUpdate {
        arn: e.arn.clone(),
        status: "FAILED".to_string(),
        output: None,
        error: Some("Err".to_string()),
        cause: Some("Cause".to_string()),
        stop_millis: Some(1_500),
        redrive_count: 0,
        redrive_millis: None,
        snapshot: Some(b"kept for redrive".to_vec()),
        history_len: 7,
        transitions: 4,
    };
    commit(store, vec![Write::UpdateExecution(fail.clone())]);
    let e3 = apply(&e2, &fail);
    assert_eq!(get(store, &e.arn), Some(e3.clone()));

    let redrive = ExecutionUpdate {
        status: "RUNNING".to_string(),
        error: None,
        cause: None,
        stop_millis: None,
        redrive_count: 1,
        redrive_millis: Some(1_600),
        ..fail.clone()
    };
    let done = finished(&apply(&e3, &redrive), "SUCCEEDED", 1_700);
    commit(
        store,
        vec![
            Write::UpdateExecution(redrive.clone()),
            Write::UpdateExecution(done.clone()),
        ],
    );
    let e4 = apply(&apply(&e3, &redrive), &done);
    assert_eq!(get(store, &e.arn), Some(e4.clone()));
    assert_eq!(e4.redrive_count, 1);
    assert_eq!(e4.redrive_millis, Some(1_600));
    assert_eq!(e4.snapshot, None);
    // Nothing else about the record moved.
    assert_eq!(e4.input, e.input);
    assert_eq!(e4.definition, e.definition);
    assert_eq!(e4.start_millis, e.start_millis);
}

/// Inserts a small population used by the listing cases; returns it newest first.
fn population(store: &dyn Store) -> Vec<ExecutionRecord> {
    let v1 = format!("{}:1", machine_arn("m1"));
    let prod = format!("{}:prod", machine_arn("m1"));
    let mut out = Vec::new();
    // (machine, name, start, version?, alias?, status)
    let spec: &[(&str, &str, i64, bool, bool, &str)] = &[
        ("m1", "a", 1_000, false, false, "SUCCEEDED"),
        ("m1", "b", 2_000, true, false, "RUNNING"),
        ("m1", "c", 3_000, true, true, "FAILED"),
        // Same start time: ties broken by ARN ascending.
        ("m1", "d2", 4_000, false, false, "RUNNING"),
        ("m1", "d1", 4_000, false, true, "RUNNING"),
        ("m1", "e", 5_000, true, true, "ABORTED"),
        ("m2", "x", 1_500, false, false, "RUNNING"),
        ("m2", "y", 6_000, false, false, "SUCCEEDED"),
    ];
    let mut writes = Vec::new();
    for (m, name, start, has_v, has_a, status) in spec {
        let mut e = execution(m, name, *start);
        if *has_v {
            e.version_arn = Some(v1.clone());
        }
        if *has_a {
            e.alias_arn = Some(prod.clone());
        }
        writes.push(Write::InsertExecution(e.clone()));
        if *status != "RUNNING" {
            let u = finished(&e, status, start + 100);
            writes.push(Write::UpdateExecution(u.clone()));
            e = apply(&e, &u);
        }
        out.push(e);
    }
    commit(store, writes);
    out.sort_by(|a, b| {
        b.start_millis
            .cmp(&a.start_millis)
            .then_with(|| a.arn.cmp(&b.arn))
    });
    out
}

pub(super) fn execution_counts(store: &dyn Store) {
    assert!(store.execution_counts().expect("counts").is_empty());
    population(store);
    let mut counts = store.execution_counts().expect("counts");
    counts.sort();
    let want: Vec<(String, String, u64)> = [
        ("m1", "ABORTED", 1),
        ("m1", "FAILED", 1),
        ("m1", "RUNNING", 3),
        ("m1", "SUCCEEDED", 1),
        ("m2", "RUNNING", 1),
        ("m2", "SUCCEEDED", 1),
    ]
    .iter()
    .map(|(m, s, n)| (machine_arn(m), s.to_string(), *n))
    .collect();
    assert_eq!(counts, want);
}

pub(super) fn executions_filter(store: &dyn Store) {
    let all = population(store);
    let m1 = machine_arn("m1");
    let q = |f: &dyn Fn(&mut ExecutionQuery)| {
        let mut q = ExecutionQuery {
            limit: 100,
            ..Default::default()
        };
        f(&mut q);
        list(store, &q)
    };
    let names = |v: Vec<ExecutionRecord>| v.into_iter().map(|e| e.name).collect::<Vec<_>>();

    let by_machine = q(&|q| q.machine_arn = Some(m1.clone()));
    assert_eq!(names(by_machine.clone()), ["e", "d1", "d2", "c", "b", "a"]);
    // Full records, identical to what was written.
    let expected: Vec<_> = all
        .iter()
        .filter(|e| e.machine_arn == m1)
        .cloned()
        .collect();
    assert_eq!(by_machine, expected);

    assert_eq!(
        names(q(&|q| q.machine_arn = Some(machine_arn("m2")))),
        ["y", "x"]
    );
    assert_eq!(
        names(q(&|q| q.machine_arn = Some(machine_arn("none")))),
        Vec::<String>::new()
    );
    assert_eq!(
        names(q(&|q| q.version_arn = Some(format!("{m1}:1")))),
        ["e", "c", "b"]
    );
    assert_eq!(
        names(q(&|q| q.alias_arn = Some(format!("{m1}:prod")))),
        ["e", "d1", "c"]
    );
    assert_eq!(
        names(q(&|q| {
            q.machine_arn = Some(m1.clone());
            q.status = Some("RUNNING".to_string());
        })),
        ["d1", "d2", "b"]
    );
    assert_eq!(
        names(q(&|q| q.status = Some("SUCCEEDED".to_string()))),
        ["y", "a"]
    );
    assert_eq!(
        names(q(&|q| {
            q.alias_arn = Some(format!("{m1}:prod"));
            q.status = Some("RUNNING".to_string());
        })),
        ["d1"]
    );
    assert_eq!(
        names(q(&|q| {
            q.version_arn = Some(format!("{m1}:1"));
            q.alias_arn = Some(format!("{m1}:prod"));
        })),
        ["e", "c"]
    );
    // No filter: everything, newest first.
    assert_eq!(
        names(q(&|_| {})),
        ["y", "e", "d1", "d2", "c", "b", "x", "a"]
    );
    assert_eq!(names(q(&|q| q.limit = 3)), ["y", "e", "d1"]);
}

pub(super) fn executions_paging(store: &dyn Store) {
    population(store);
    let m1 = machine_arn("m1");
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let q = ExecutionQuery {
            machine_arn: Some(m1.clone()),
            after: after.clone(),
            limit: 2,
            ..Default::default()
        };
        let page = list(store, &q);
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2, "page larger than limit: {}", page.len());
        pages += 1;
        assert!(pages <= 10, "paging does not terminate");
        after = page.last().map(|e| (e.start_millis, e.arn.clone()));
        seen.extend(page.into_iter().map(|e| e.name));
    }
    assert_eq!(seen, ["e", "d1", "d2", "c", "b", "a"]);
    assert_eq!(pages, 3);

    // A position between the tied pair continues with the second one.
    let q = ExecutionQuery {
        machine_arn: Some(m1.clone()),
        after: Some((4_000, exec_arn("m1", "d1"))),
        limit: 2,
        ..Default::default()
    };
    let names: Vec<_> = list(store, &q).into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["d2", "c"]);

    // A position that matches no row still works (keyset, not offset).
    let q = ExecutionQuery {
        machine_arn: Some(m1.clone()),
        status: Some("RUNNING".to_string()),
        after: Some((3_500, exec_arn("m1", "zzz"))),
        limit: 10,
        ..Default::default()
    };
    let names: Vec<_> = list(store, &q).into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["b"]);
}

/// The console's filters: a name's substring (as it is, no wildcards) and a start-time
/// window, with the others and with keyset paging.
pub(super) fn executions_by_name_and_start(store: &dyn Store) {
    population(store);
    // Names with LIKE's wildcards in them: matched as text.
    commit(
        store,
        vec![
            Write::InsertExecution(execution("m2", "50%_off", 7_000)),
            Write::InsertExecution(execution("m2", "500_off", 7_001)),
        ],
    );
    let q = |f: &dyn Fn(&mut ExecutionQuery)| {
        let mut q = ExecutionQuery {
            limit: 100,
            ..Default::default()
        };
        f(&mut q);
        list(store, &q)
            .into_iter()
            .map(|e| e.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(q(&|q| q.name_contains = Some("d".into())), ["d1", "d2"]);
    assert_eq!(q(&|q| q.name_contains = Some("%_".into())), ["50%_off"]);
    assert_eq!(q(&|q| q.name_contains = Some("0_o".into())), ["500_off"]);
    assert_eq!(
        q(&|q| q.name_contains = Some("D".into())),
        Vec::<String>::new()
    );
    // From is inclusive, before exclusive.
    assert_eq!(
        q(&|q| {
            q.started_from = Some(2_000);
            q.started_before = Some(5_000);
        }),
        ["d1", "d2", "c", "b"]
    );
    assert_eq!(
        q(&|q| q.started_from = Some(6_000)),
        ["500_off", "50%_off", "y"]
    );
    assert_eq!(q(&|q| q.started_before = Some(1_500)), ["a"]);
    assert_eq!(
        q(&|q| {
            q.machine_arn = Some(machine_arn("m1"));
            q.status = Some("RUNNING".into());
            q.name_contains = Some("d".into());
            q.started_before = Some(4_001);
        }),
        ["d1", "d2"]
    );
    // Paged two at a time inside the window.
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..10 {
        let page = list(
            store,
            &ExecutionQuery {
                started_from: Some(1_500),
                started_before: Some(6_000),
                after: after.clone(),
                limit: 2,
                ..Default::default()
            },
        );
        if page.is_empty() {
            break;
        }
        after = page.last().map(|e| (e.start_millis, e.arn.clone()));
        seen.extend(page.into_iter().map(|e| e.name));
    }
    assert_eq!(seen, ["e", "d1", "d2", "c", "b", "x"]);
}

pub(super) fn history(store: &dyn Store) {
    let a = execution("m", "a", 1_000);
    let b = execution("m", "b", 2_000);
    commit(
        store,
        vec![
            Write::InsertExecution(a.clone()),
            Write::InsertExecution(b.clone()),
        ],
    );
    assert_eq!(hist(store, &a.arn, 0, false, 100), Vec::<u64>::new());
    assert_eq!(
        hist(store, &exec_arn("m", "missing"), 0, false, 100),
        Vec::<u64>::new()
    );

    commit(
        store,
        vec![
            Write::AppendHistory {
                execution_arn: a.arn.clone(),
                events: (1..=4).map(event).collect(),
            },
            Write::AppendHistory {
                execution_arn: b.arn.clone(),
                events: (1..=3).map(event).collect(),
            },
        ],
    );
    commit(
        store,
        vec![Write::AppendHistory {
            execution_arn: a.arn.clone(),
            events: (5..=10).map(event).collect(),
        }],
    );

    let full = store
        .history(&a.arn, 0, false, 100)
        .unwrap_or_else(|e| panic!("history: {e}"));
    assert_eq!(
        full,
        (1..=10).map(event).collect::<Vec<_>>(),
        "events round-trip exactly"
    );
    assert_eq!(hist(store, &b.arn, 0, false, 100), [1, 2, 3]);
    assert_eq!(hist(store, &a.arn, 3, false, 4), [4, 5, 6, 7]);
    assert_eq!(hist(store, &a.arn, 8, false, 100), [9, 10]);
    assert_eq!(hist(store, &a.arn, 10, false, 100), Vec::<u64>::new());
    assert_eq!(hist(store, &a.arn, u64::MAX, true, 3), [10, 9, 8]);
    assert_eq!(hist(store, &a.arn, 5, true, 10), [4, 3, 2, 1]);
    assert_eq!(hist(store, &a.arn, 1, true, 10), Vec::<u64>::new());
    assert_eq!(hist(store, &a.arn, 0, false, 1), [1]);
    // Paging through in pages of 3 both ways.
    let mut ids = Vec::new();
    let mut from = 0;
    loop {
        let page = hist(store, &a.arn, from, false, 3);
        match page.last() {
            Some(&last) => from = last,
            None => break,
        }
        ids.extend(page);
    }
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    let mut ids = Vec::new();
    let mut from = u64::MAX;
    loop {
        let page = hist(store, &a.arn, from, true, 3);
        match page.last() {
            Some(&last) => from = last,
            None => break,
        }
        ids.extend(page);
    }
    assert_eq!(ids, (1..=10).rev().collect::<Vec<_>>());
}
