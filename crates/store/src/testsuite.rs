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

use crate::*;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

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

// ---------------------------------------------------------------- helpers

const REGION: &str = "arn:aws:states:us-east-1:123456789012";

fn machine_arn(name: &str) -> String {
    format!("{REGION}:stateMachine:{name}")
}

fn exec_arn(machine: &str, name: &str) -> String {
    format!("{REGION}:execution:{machine}:{name}")
}

fn machine(name: &str, definition: &str) -> StateMachineRecord {
    StateMachineRecord {
        arn: machine_arn(name),
        name: name.to_string(),
        machine_type: MachineType::Standard,
        definition: definition.to_string(),
        role_arn: "arn:aws:iam::123456789012:role/r".to_string(),
        revision_id: format!("rev-{name}-1"),
        created_millis: 1_700_000_000_000,
        config: r#"{"loggingConfiguration":{"level":"OFF"}}"#.to_string(),
        next_version: 1,
    }
}

fn version(machine: &str, n: u32) -> VersionRecord {
    VersionRecord {
        arn: format!("{}:{n}", machine_arn(machine)),
        machine_arn: machine_arn(machine),
        version: n,
        definition: format!(r#"{{"StartAt":"V{n}","States":{{"V{n}":{{"Type":"Succeed"}}}}}}"#),
        role_arn: "arn:aws:iam::123456789012:role/r".to_string(),
        revision_id: format!("rev-{n}"),
        description: if n >= 2 {
            Some(format!("version {n}"))
        } else {
            None
        },
        created_millis: 1_700_000_000_000 + i64::from(n),
        config: "{}".to_string(),
    }
}

fn alias(machine: &str, name: &str, routing: &[(u32, u32)]) -> AliasRecord {
    AliasRecord {
        arn: format!("{}:{name}", machine_arn(machine)),
        machine_arn: machine_arn(machine),
        name: name.to_string(),
        description: Some(format!("alias {name}")),
        routing: routing
            .iter()
            .map(|(v, w)| (format!("{}:{v}", machine_arn(machine)), *w))
            .collect(),
        created_millis: 1_700_000_000_100,
        updated_millis: 1_700_000_000_200,
    }
}

fn activity(name: &str) -> ActivityRecord {
    ActivityRecord {
        arn: format!("{REGION}:activity:{name}"),
        name: name.to_string(),
        created_millis: 1_700_000_000_300,
        config: "{}".to_string(),
    }
}

const DEF_A: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
const DEF_B: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}"#;

fn execution(machine: &str, name: &str, start: i64) -> ExecutionRecord {
    ExecutionRecord {
        arn: exec_arn(machine, name),
        machine_arn: machine_arn(machine),
        version_arn: None,
        alias_arn: None,
        name: name.to_string(),
        machine_type: MachineType::Standard,
        status: "RUNNING".to_string(),
        input: format!(r#"{{"name":"{name}"}}"#),
        output: None,
        error: None,
        cause: None,
        start_millis: start,
        stop_millis: None,
        redrive_count: 0,
        redrive_millis: None,
        definition: DEF_A.to_string(),
        test_case: None,
        trace_header: None,
        snapshot: Some(format!("snap-{name}").into_bytes()),
        history_len: 0,
        transitions: 0,
        map_run_arn: None,
    }
}

fn finished(e: &ExecutionRecord, status: &str, stop: i64) -> ExecutionUpdate {
    ExecutionUpdate {
        arn: e.arn.clone(),
        status: status.to_string(),
        output: Some(r#"{"done":true}"#.to_string()),
        error: None,
        cause: None,
        stop_millis: Some(stop),
        redrive_count: e.redrive_count,
        redrive_millis: e.redrive_millis,
        snapshot: None,
        history_len: e.history_len + 3,
        transitions: e.transitions + 2,
    }
}

fn apply(e: &ExecutionRecord, u: &ExecutionUpdate) -> ExecutionRecord {
    ExecutionRecord {
        status: u.status.clone(),
        output: u.output.clone(),
        error: u.error.clone(),
        cause: u.cause.clone(),
        stop_millis: u.stop_millis,
        redrive_count: u.redrive_count,
        redrive_millis: u.redrive_millis,
        snapshot: u.snapshot.clone(),
        history_len: u.history_len,
        transitions: u.transitions,
        ..e.clone()
    }
}

fn event(id: u64) -> StoredEvent {
    StoredEvent {
        id,
        json: format!(
            r#"{{"id":{id},"type":"PassStateEntered","previousEventId":{}}}"#,
            id.saturating_sub(1)
        ),
    }
}

fn timer(exec: &str, timer: u64, due: i64) -> TimerRecord {
    TimerRecord {
        execution_arn: exec.to_string(),
        timer,
        due_millis: due,
    }
}

fn task(exec: &str, token: &str, n: u64, activity: Option<&str>) -> TaskRecord {
    TaskRecord {
        token: token.to_string(),
        execution_arn: exec.to_string(),
        task: n,
        state_name: format!("State{n}"),
        resource: activity.map_or_else(
            || "arn:aws:states:::lambda:invoke.waitForTaskToken".to_string(),
            str::to_string,
        ),
        activity_arn: activity.map(str::to_string),
        input: format!(r#"{{"task":{n}}}"#),
        created_millis: 1_700_000_001_000 + n as i64,
        worker: None,
    }
}

fn batch(writes: Vec<Write>) -> Batch {
    Batch { writes }
}

fn commit(store: &dyn Store, writes: Vec<Write>) {
    if let Err(e) = store.commit(&[batch(writes)]) {
        panic!("commit failed: {e}");
    }
}

fn catalog(store: &dyn Store) -> Catalog {
    let mut c = store
        .load_catalog()
        .unwrap_or_else(|e| panic!("load_catalog failed: {e}"));
    c.state_machines.sort_by(|a, b| a.arn.cmp(&b.arn));
    c.versions.sort_by(|a, b| a.arn.cmp(&b.arn));
    c.aliases.sort_by(|a, b| a.arn.cmp(&b.arn));
    c.activities.sort_by(|a, b| a.arn.cmp(&b.arn));
    c
}

fn tags_of(c: &Catalog, arn: &str) -> Vec<(String, String)> {
    c.tags
        .iter()
        .filter(|(a, _, _)| a == arn)
        .map(|(_, k, v)| (k.clone(), v.clone()))
        .collect()
}

fn pairs(kv: &[(&str, &str)]) -> Vec<(String, String)> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn get(store: &dyn Store, arn: &str) -> Option<ExecutionRecord> {
    store
        .execution(arn)
        .unwrap_or_else(|e| panic!("execution({arn}) failed: {e}"))
}

fn list(store: &dyn Store, q: &ExecutionQuery) -> Vec<ExecutionRecord> {
    store
        .executions(q)
        .unwrap_or_else(|e| panic!("executions({q:?}) failed: {e}"))
}

fn arns(v: &[ExecutionRecord]) -> Vec<String> {
    v.iter().map(|e| e.arn.clone()).collect()
}

fn hist(store: &dyn Store, arn: &str, from: u64, reverse: bool, limit: usize) -> Vec<u64> {
    store
        .history(arn, from, reverse, limit)
        .unwrap_or_else(|e| panic!("history({arn}, {from}, {reverse}, {limit}) failed: {e}"))
        .iter()
        .map(|e| e.id)
        .collect()
}

fn recovery_of(store: &dyn Store) -> Recovery {
    let mut r = store
        .load_recovery()
        .unwrap_or_else(|e| panic!("load_recovery failed: {e}"));
    r.running.sort_by(|a, b| a.arn.cmp(&b.arn));
    r.timers
        .sort_by(|a, b| (&a.execution_arn, a.timer).cmp(&(&b.execution_arn, b.timer)));
    r.tasks.sort_by(|a, b| a.token.cmp(&b.token));
    r
}

// ---------------------------------------------------------------- catalog

fn catalog_round_trip(store: &dyn Store) {
    assert_eq!(
        catalog(store),
        Catalog::default(),
        "a fresh store has an empty catalog"
    );

    let m1 = machine("m1", DEF_A);
    let mut m2 = machine("m2", DEF_B);
    m2.machine_type = MachineType::Express;
    m2.next_version = 3;
    let v1 = version("m2", 1);
    let v2 = version("m2", 2);
    let al = alias("m2", "prod", &[(1, 70), (2, 30)]);
    let single = alias("m2", "one", &[(2, 100)]);
    let act = activity("worker");
    commit(
        store,
        vec![
            Write::PutStateMachine(m1.clone()),
            Write::PutStateMachine(m2.clone()),
            Write::PutVersion(v1.clone()),
            Write::PutVersion(v2.clone()),
            Write::PutAlias(al.clone()),
            Write::PutAlias(single.clone()),
            Write::PutActivity(act.clone()),
            Write::PutTags {
                arn: m1.arn.clone(),
                tags: pairs(&[("team", "a"), ("env", "dev")]),
            },
            Write::PutTags {
                arn: act.arn.clone(),
                tags: pairs(&[("k", "v")]),
            },
        ],
    );
    let c = catalog(store);
    assert_eq!(c.state_machines, vec![m1.clone(), m2.clone()]);
    assert_eq!(c.versions, vec![v1, v2]);
    // "one" sorts before "prod"; routing order and weights survive.
    assert_eq!(c.aliases, vec![single, al.clone()]);
    assert_eq!(c.aliases[1].routing, al.routing);
    assert_eq!(c.activities, vec![act.clone()]);
    assert_eq!(
        tags_of(&c, &m1.arn),
        pairs(&[("team", "a"), ("env", "dev")])
    );
    assert_eq!(tags_of(&c, &act.arn), pairs(&[("k", "v")]));
    assert_eq!(c.tags.len(), 3);
}

fn catalog_overwrite_and_delete(store: &dyn Store) {
    let m = machine("m", DEF_A);
    let v1 = version("m", 1);
    let v2 = version("m", 2);
    let a = alias("m", "live", &[(1, 100)]);
    let act1 = activity("a1");
    let act2 = activity("a2");
    commit(
        store,
        vec![
            Write::PutStateMachine(m.clone()),
            Write::PutVersion(v1.clone()),
            Write::PutVersion(v2.clone()),
            Write::PutAlias(a.clone()),
            Write::PutActivity(act1.clone()),
            Write::PutActivity(act2.clone()),
            Write::PutTags {
                arn: act1.arn.clone(),
                tags: pairs(&[("x", "1")]),
            },
        ],
    );

    // Overwrites replace the whole record.
    let mut m_new = m.clone();
    m_new.definition = DEF_B.to_string();
    m_new.revision_id = "rev-m-2".to_string();
    m_new.next_version = 3;
    m_new.config = "{}".to_string();
    let mut a_new = alias("m", "live", &[(1, 40), (2, 60)]);
    a_new.description = None;
    a_new.updated_millis = 1_700_000_009_999;
    let mut act1_new = act1.clone();
    act1_new.config = r#"{"type":"AWS_OWNED_KEY"}"#.to_string();
    commit(
        store,
        vec![
            Write::PutStateMachine(m_new.clone()),
            Write::PutAlias(a_new.clone()),
            Write::PutActivity(act1_new.clone()),
        ],
    );
    let c = catalog(store);
    assert_eq!(c.state_machines, vec![m_new.clone()]);
    assert_eq!(c.aliases, vec![a_new.clone()]);
    assert_eq!(c.activities, vec![act1_new.clone(), act2.clone()]);

    // Deletes; deleting what is not there is not an error.
    commit(
        store,
        vec![
            Write::DeleteVersion {
                arn: v1.arn.clone(),
            },
            Write::DeleteAlias { arn: a.arn.clone() },
            Write::DeleteActivity {
                arn: act1.arn.clone(),
            },
            Write::DeleteVersion {
                arn: format!("{}:77", m.arn),
            },
            Write::DeleteAlias {
                arn: format!("{}:nope", m.arn),
            },
            Write::DeleteActivity {
                arn: format!("{REGION}:activity:nope"),
            },
        ],
    );
    let c = catalog(store);
    assert_eq!(c.state_machines, vec![m_new]);
    assert_eq!(c.versions, vec![v2]);
    assert_eq!(c.aliases, Vec::<AliasRecord>::new());
    assert_eq!(c.activities, vec![act2]);
    assert_eq!(
        tags_of(&c, &act1.arn),
        vec![],
        "deleting an activity removes its tags"
    );
}

fn tags(store: &dyn Store) {
    let m = machine("m", DEF_A);
    let other = machine("other", DEF_A);
    commit(
        store,
        vec![
            Write::PutStateMachine(m.clone()),
            Write::PutStateMachine(other.clone()),
            Write::PutTags {
                arn: m.arn.clone(),
                tags: pairs(&[("a", "1"), ("b", "2")]),
            },
            Write::PutTags {
                arn: other.arn.clone(),
                tags: pairs(&[("a", "other")]),
            },
        ],
    );
    // Overwrite keeps the position; new keys go last.
    commit(
        store,
        vec![Write::PutTags {
            arn: m.arn.clone(),
            tags: pairs(&[("a", "3"), ("c", "4")]),
        }],
    );
    let c = catalog(store);
    assert_eq!(
        tags_of(&c, &m.arn),
        pairs(&[("a", "3"), ("b", "2"), ("c", "4")])
    );
    assert_eq!(tags_of(&c, &other.arn), pairs(&[("a", "other")]));

    // Removing absent keys is fine; only the named resource changes.
    commit(
        store,
        vec![Write::RemoveTags {
            arn: m.arn.clone(),
            keys: vec!["a".to_string(), "zzz".to_string()],
        }],
    );
    let c = catalog(store);
    assert_eq!(tags_of(&c, &m.arn), pairs(&[("b", "2"), ("c", "4")]));
    assert_eq!(tags_of(&c, &other.arn), pairs(&[("a", "other")]));

    commit(
        store,
        vec![Write::PutTags {
            arn: m.arn.clone(),
            tags: vec![],
        }],
    );
    commit(
        store,
        vec![Write::RemoveTags {
            arn: m.arn.clone(),
            keys: vec!["b".into(), "c".into()],
        }],
    );
    let c = catalog(store);
    assert_eq!(tags_of(&c, &m.arn), vec![]);
    assert_eq!(c.tags.len(), 1);
}

fn delete_state_machine(store: &dyn Store) {
    let m = machine("gone", DEF_A);
    let keep = machine("keep", DEF_B);
    let v = version("gone", 1);
    let kv = version("keep", 1);
    let a = alias("gone", "prod", &[(1, 100)]);
    let ka = alias("keep", "prod", &[(1, 100)]);
    let mut e = execution("gone", "e1", 1_000);
    e.version_arn = Some(v.arn.clone());
    commit(
        store,
        vec![
            Write::PutStateMachine(m.clone()),
            Write::PutStateMachine(keep.clone()),
            Write::PutVersion(v.clone()),
            Write::PutVersion(kv.clone()),
            Write::PutAlias(a.clone()),
            Write::PutAlias(ka.clone()),
            Write::PutTags {
                arn: m.arn.clone(),
                tags: pairs(&[("t", "1")]),
            },
            Write::PutTags {
                arn: keep.arn.clone(),
                tags: pairs(&[("t", "2")]),
            },
            Write::InsertExecution(e.clone()),
            Write::AppendHistory {
                execution_arn: e.arn.clone(),
                events: vec![event(1)],
            },
        ],
    );
    commit(
        store,
        vec![Write::DeleteStateMachine { arn: m.arn.clone() }],
    );
    let c = catalog(store);
    assert_eq!(c.state_machines, vec![keep.clone()]);
    assert_eq!(c.versions, vec![kv]);
    assert_eq!(c.aliases, vec![ka]);
    assert_eq!(
        c.tags,
        vec![(keep.arn.clone(), "t".to_string(), "2".to_string())]
    );
    // Executions (and their history) outlive their machine.
    assert_eq!(get(store, &e.arn), Some(e.clone()));
    assert_eq!(hist(store, &e.arn, 0, false, 10), vec![1]);
    let q = ExecutionQuery {
        machine_arn: Some(m.arn.clone()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(arns(&list(store, &q)), vec![e.arn.clone()]);
}

// ---------------------------------------------------------------- executions

fn execution_round_trip(store: &dyn Store) {
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

fn execution_update(store: &dyn Store) {
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

fn execution_counts(store: &dyn Store) {
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

fn executions_filter(store: &dyn Store) {
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

fn executions_paging(store: &dyn Store) {
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
fn executions_by_name_and_start(store: &dyn Store) {
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

fn history(store: &dyn Store) {
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

// ---------------------------------------------------------------- recovery

fn recovery(store: &dyn Store) {
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

fn clear_execution_work(store: &dyn Store) {
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

// ---------------------------------------------------------------- atomicity

fn atomicity_fresh(store: &dyn Store) {
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

fn atomicity_existing(store: &dyn Store) {
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

fn batches_apply_in_order(store: &dyn Store) {
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

fn map_runs(store: &dyn Store) {
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

fn map_run_children(store: &dyn Store) {
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

fn empty_commit(store: &dyn Store) {
    if let Err(e) = store.commit(&[]) {
        panic!("an empty commit must succeed: {e}");
    }
    if let Err(e) = store.commit(&[Batch::default(), Batch::default()]) {
        panic!("a commit of empty batches must succeed: {e}");
    }
    assert_eq!(catalog(store), Catalog::default());
}

fn reads_from_other_threads(store: &dyn Store) {
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

fn outbox_event(exec: &str, n: u64) -> OutboxEvent {
    OutboxEvent {
        seq: 0,
        id: format!("00000000-0000-4000-8000-{n:012}"),
        execution_arn: exec.to_string(),
        created_millis: 1_700_000_000_000 + n as i64,
        body: format!(r#"{{"id":"{n}","detail-type":"Step Functions Execution Status Change"}}"#),
    }
}

fn outbox_page(store: &dyn Store, after: u64, limit: usize) -> Vec<OutboxEvent> {
    store
        .events(after, limit)
        .unwrap_or_else(|e| panic!("events: {e}"))
}

fn outbox(store: &dyn Store) {
    let a = execution("m", "a", 1);
    assert!(outbox_page(store, 0, 10).is_empty());
    // Events commit with the writes they describe, several per batch and per commit.
    let batches = [
        batch(vec![
            Write::InsertExecution(a.clone()),
            Write::PutEvent(outbox_event(&a.arn, 1)),
        ]),
        batch(vec![
            Write::PutEvent(outbox_event(&a.arn, 2)),
            Write::PutEvent(outbox_event(&a.arn, 3)),
        ]),
    ];
    if let Err(e) = store.commit(&batches) {
        panic!("commit: {e}");
    }
    let all = outbox_page(store, 0, 10);
    let ids: Vec<&str> = all.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "00000000-0000-4000-8000-000000000001",
            "00000000-0000-4000-8000-000000000002",
            "00000000-0000-4000-8000-000000000003"
        ],
        "in commit order"
    );
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "seq grows");
    assert_eq!(
        OutboxEvent {
            seq: 0,
            ..all[1].clone()
        },
        outbox_event(&a.arn, 2),
        "round trip"
    );
    // Paging by position.
    assert_eq!(outbox_page(store, all[0].seq, 1), vec![all[1].clone()]);
    assert!(outbox_page(store, all[2].seq, 10).is_empty());
    // A failed commit writes no event.
    let dup = store.commit(&[batch(vec![
        Write::PutEvent(outbox_event(&a.arn, 9)),
        Write::InsertExecution(a.clone()),
    ])]);
    assert!(dup.is_err(), "inserting an existing ARN fails");
    assert_eq!(outbox_page(store, 0, 10).len(), 3);
    // Delivered events go; the rest stay.
    commit(
        store,
        vec![Write::DeleteEvents {
            through: all[1].seq,
        }],
    );
    assert_eq!(outbox_page(store, 0, 10), vec![all[2].clone()]);
    // Positions are never reused, even once the outbox is empty.
    commit(
        store,
        vec![Write::DeleteEvents {
            through: all[2].seq,
        }],
    );
    assert!(outbox_page(store, 0, 10).is_empty());
    commit(store, vec![Write::PutEvent(outbox_event(&a.arn, 4))]);
    let next = outbox_page(store, 0, 10);
    assert_eq!(next.len(), 1);
    assert!(
        next[0].seq > all[2].seq,
        "{} after {}",
        next[0].seq,
        all[2].seq
    );
}

fn retention(store: &dyn Store) {
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
