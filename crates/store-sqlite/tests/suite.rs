//! The store conformance suite against SQLite (file and in-memory), plus what only a
//! file database can show: reopening, and refusing a newer schema.

use stepwise_store::{testsuite, Batch, ExecutionQuery, MachineType, Store, StoreError, Write};
use stepwise_store_sqlite::{SqliteStore, SCHEMA_VERSION};

#[test]
fn suite_in_memory() {
    testsuite::run_all(&|| SqliteStore::open_in_memory().expect("open in-memory store"));
}

#[test]
fn suite_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let n = std::cell::Cell::new(0);
    testsuite::run_all(&|| {
        n.set(n.get() + 1);
        SqliteStore::open(&dir.path().join(format!("db{}.sqlite", n.get())))
            .expect("open file store")
    });
}

fn sample_writes() -> Vec<Write> {
    use stepwise_store::*;
    let m = "arn:aws:states:us-east-1:123456789012:stateMachine:m".to_string();
    let e = ExecutionRecord {
        arn: "arn:aws:states:us-east-1:123456789012:execution:m:e".to_string(),
        machine_arn: m.clone(),
        version_arn: None,
        alias_arn: None,
        name: "e".to_string(),
        machine_type: MachineType::Standard,
        status: "RUNNING".to_string(),
        input: "{}".to_string(),
        output: None,
        error: None,
        cause: None,
        start_millis: 5,
        stop_millis: None,
        redrive_count: 0,
        redrive_millis: None,
        definition: "{\"StartAt\":\"A\"}".to_string(),
        test_case: None,
        trace_header: None,
        snapshot: Some(vec![1, 2, 3]),
        history_len: 1,
        transitions: 0,
        map_run_arn: None,
    };
    vec![
        Write::PutStateMachine(StateMachineRecord {
            arn: m.clone(),
            name: "m".to_string(),
            machine_type: MachineType::Standard,
            definition: "{\"StartAt\":\"A\"}".to_string(),
            role_arn: "role".to_string(),
            revision_id: "r1".to_string(),
            created_millis: 1,
            config: "{}".to_string(),
            next_version: 1,
        }),
        Write::PutTags {
            arn: m,
            tags: vec![("k".to_string(), "v".to_string())],
        },
        Write::AppendHistory {
            execution_arn: e.arn.clone(),
            events: vec![StoredEvent {
                id: 1,
                json: "{\"id\":1}".to_string(),
            }],
        },
        Write::PutTimer(TimerRecord {
            execution_arn: e.arn.clone(),
            timer: 1,
            due_millis: 99,
        }),
        Write::InsertExecution(e),
    ]
}

#[test]
fn reopen_keeps_everything() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("stepwise.db");
    let mut writes = sample_writes();
    // InsertExecution must precede AppendHistory.
    let insert = writes.pop().expect("insert");
    writes.insert(0, insert);
    let (catalog, recovery, listed, history) = {
        let store = SqliteStore::open(&path).expect("open");
        store.commit(&[Batch { writes }]).expect("commit");
        let q = ExecutionQuery {
            limit: 10,
            ..Default::default()
        };
        (
            store.load_catalog().expect("catalog"),
            store.load_recovery().expect("recovery"),
            store.executions(&q).expect("executions"),
            store.history(&listed_arn(), 0, false, 10).expect("history"),
        )
    };
    assert_eq!(catalog.state_machines.len(), 1);
    assert_eq!(recovery.running.len(), 1);
    assert_eq!(recovery.timers.len(), 1);
    assert_eq!(history.len(), 1);

    let store = SqliteStore::open(&path).expect("reopen");
    let q = ExecutionQuery {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.load_catalog().expect("catalog"), catalog);
    assert_eq!(store.load_recovery().expect("recovery"), recovery);
    assert_eq!(store.executions(&q).expect("executions"), listed);
    assert_eq!(
        store.history(&listed_arn(), 0, false, 10).expect("history"),
        history
    );
    assert_eq!(listed[0].machine_type, MachineType::Standard);
}

fn listed_arn() -> String {
    "arn:aws:states:us-east-1:123456789012:execution:m:e".to_string()
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("stepwise.db");
    drop(SqliteStore::open(&path).expect("open"));
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
            .expect("bump version");
    }
    match SqliteStore::open(&path) {
        Err(StoreError::SchemaTooNew { found, known }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(known, SCHEMA_VERSION);
        }
        Err(e) => panic!("expected SchemaTooNew, got {e}"),
        Ok(_) => panic!("expected SchemaTooNew, the open succeeded"),
    }
}

#[test]
fn failed_commit_on_file_leaves_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("stepwise.db");
    let store = SqliteStore::open(&path).expect("open");
    // AppendHistory before its execution exists fails the whole commit.
    let writes = sample_writes();
    assert!(store.commit(&[Batch { writes }]).is_err());
    drop(store);
    let store = SqliteStore::open(&path).expect("reopen");
    assert_eq!(store.load_catalog().expect("catalog"), Default::default());
    assert_eq!(store.load_recovery().expect("recovery"), Default::default());
}
