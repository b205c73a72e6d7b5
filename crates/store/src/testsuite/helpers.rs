//! Shared fixtures of the store testsuite: ARNs, records, writes and the small
//! read helpers the cases assert with.

use crate::*;

pub(super) const REGION: &str = "arn:aws:states:us-east-1:123456789012";

pub(super) fn machine_arn(name: &str) -> String {
    format!("{REGION}:stateMachine:{name}")
}

pub(super) fn exec_arn(machine: &str, name: &str) -> String {
    format!("{REGION}:execution:{machine}:{name}")
}

pub(super) fn machine(name: &str, definition: &str) -> StateMachineRecord {
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

pub(super) fn version(machine: &str, n: u32) -> VersionRecord {
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

pub(super) fn alias(machine: &str, name: &str, routing: &[(u32, u32)]) -> AliasRecord {
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

pub(super) fn activity(name: &str) -> ActivityRecord {
    ActivityRecord {
        arn: format!("{REGION}:activity:{name}"),
        name: name.to_string(),
        created_millis: 1_700_000_000_300,
        config: "{}".to_string(),
    }
}

pub(super) const DEF_A: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
pub(super) const DEF_B: &str =
    r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}"#;

pub(super) fn execution(machine: &str, name: &str, start: i64) -> ExecutionRecord {
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

pub(super) fn finished(e: &ExecutionRecord, status: &str, stop: i64) -> ExecutionUpdate {
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

pub(super) fn apply(e: &ExecutionRecord, u: &ExecutionUpdate) -> ExecutionRecord {
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

pub(super) fn event(id: u64) -> StoredEvent {
    StoredEvent {
        id,
        json: format!(
            r#"{{"id":{id},"type":"PassStateEntered","previousEventId":{}}}"#,
            id.saturating_sub(1)
        ),
    }
}

pub(super) fn timer(exec: &str, timer: u64, due: i64) -> TimerRecord {
    TimerRecord {
        execution_arn: exec.to_string(),
        timer,
        due_millis: due,
    }
}

pub(super) fn task(exec: &str, token: &str, n: u64, activity: Option<&str>) -> TaskRecord {
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

pub(super) fn batch(writes: Vec<Write>) -> Batch {
    Batch { writes }
}

pub(super) fn commit(store: &dyn Store, writes: Vec<Write>) {
    if let Err(e) = store.commit(&[batch(writes)]) {
        panic!("commit failed: {e}");
    }
}

pub(super) fn catalog(store: &dyn Store) -> Catalog {
    let mut c = store
        .load_catalog()
        .unwrap_or_else(|e| panic!("load_catalog failed: {e}"));
    c.state_machines.sort_by(|a, b| a.arn.cmp(&b.arn));
    c.versions.sort_by(|a, b| a.arn.cmp(&b.arn));
    c.aliases.sort_by(|a, b| a.arn.cmp(&b.arn));
    c.activities.sort_by(|a, b| a.arn.cmp(&b.arn));
    c
}

pub(super) fn tags_of(c: &Catalog, arn: &str) -> Vec<(String, String)> {
    c.tags
        .iter()
        .filter(|(a, _, _)| a == arn)
        .map(|(_, k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(super) fn pairs(kv: &[(&str, &str)]) -> Vec<(String, String)> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn get(store: &dyn Store, arn: &str) -> Option<ExecutionRecord> {
    store
        .execution(arn)
        .unwrap_or_else(|e| panic!("execution({arn}) failed: {e}"))
}

pub(super) fn list(store: &dyn Store, q: &ExecutionQuery) -> Vec<ExecutionRecord> {
    store
        .executions(q)
        .unwrap_or_else(|e| panic!("executions({q:?}) failed: {e}"))
}

pub(super) fn arns(v: &[ExecutionRecord]) -> Vec<String> {
    v.iter().map(|e| e.arn.clone()).collect()
}

pub(super) fn hist(
    store: &dyn Store,
    arn: &str,
    from: u64,
    reverse: bool,
    limit: usize,
) -> Vec<u64> {
    store
        .history(arn, from, reverse, limit)
        .unwrap_or_else(|e| panic!("history({arn}, {from}, {reverse}, {limit}) failed: {e}"))
        .iter()
        .map(|e| e.id)
        .collect()
}

pub(super) fn recovery_of(store: &dyn Store) -> Recovery {
    let mut r = store
        .load_recovery()
        .unwrap_or_else(|e| panic!("load_recovery failed: {e}"));
    r.running.sort_by(|a, b| a.arn.cmp(&b.arn));
    r.timers
        .sort_by(|a, b| (&a.execution_arn, a.timer).cmp(&(&b.execution_arn, b.timer)));
    r.tasks.sort_by(|a, b| a.token.cmp(&b.token));
    r
}
