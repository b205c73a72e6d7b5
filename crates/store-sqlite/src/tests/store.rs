//! Unit tests of `lib.rs` (a child module of it: `super::*` is that file).

use super::*;

#[test]
fn history_written_before_runs_reads_after_the_migration() {
    let dir = std::env::temp_dir().join(format!("stepwise-mig3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("db.sqlite");
    {
        // A database as schema 2 left it: one row per event.
        let conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version=2;
             INSERT INTO definitions (id, hash, text) VALUES (1, 'h', '{}');
             INSERT INTO executions (id, arn, machine_arn, name, machine_type, status, input,
                 start_millis, redrive_count, definition_id, history_len, transitions)
             VALUES (7, 'arn:e', 'arn:m', 'e', 'STANDARD', 'RUNNING', '{}', 1, 0, 1, 3, 1);
             INSERT INTO history_events (execution_id, id, json) VALUES
                 (7, 1, '{\"id\":1}'), (7, 2, '{\"id\":2}'), (7, 3, '{\"id\":3}');",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    store
        .commit(&[Batch {
            writes: vec![Write::AppendHistory {
                execution_arn: "arn:e".into(),
                events: (4..=6)
                    .map(|n| StoredEvent {
                        id: n,
                        json: format!("{{\"id\":{n}}}"),
                    })
                    .collect(),
            }],
        }])
        .unwrap();
    let ids = |from, reverse, limit| -> Vec<u64> {
        store
            .history("arn:e", from, reverse, limit)
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect()
    };
    assert_eq!(ids(0, false, 100), [1, 2, 3, 4, 5, 6]);
    assert_eq!(ids(2, false, 3), [3, 4, 5]);
    assert_eq!(ids(u64::MAX, true, 4), [6, 5, 4, 3]);
    let all = store.history("arn:e", 0, false, 100).unwrap();
    assert_eq!(all[4].json, r#"{"id":5}"#);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

fn exec(name: &str, def: &str) -> ExecutionRecord {
    ExecutionRecord {
        arn: format!("arn:x:execution:m:{name}"),
        machine_arn: "arn:x:stateMachine:m".to_string(),
        version_arn: None,
        alias_arn: None,
        name: name.to_string(),
        machine_type: MachineType::Standard,
        status: "RUNNING".to_string(),
        input: "{}".to_string(),
        output: None,
        error: None,
        cause: None,
        start_millis: 1,
        stop_millis: None,
        redrive_count: 0,
        redrive_millis: None,
        definition: def.to_string(),
        test_case: None,
        trace_header: None,
        snapshot: None,
        history_len: 0,
        transitions: 0,
        map_run_arn: None,
    }
}

fn insert(store: &SqliteStore, execs: &[ExecutionRecord]) -> Result<()> {
    let writes = execs.iter().cloned().map(Write::InsertExecution).collect();
    store.commit(&[Batch { writes }])
}

fn count(store: &SqliteStore, table: &str) -> i64 {
    let w = lock(&store.writer);
    w.conn
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap_or(-1)
}

#[test]
fn fnv1a_is_stable() {
    assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325_u64 as i64);
    assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c_u64 as i64);
}

#[test]
fn definitions_are_stored_once() {
    let store = SqliteStore::open_in_memory().unwrap();
    insert(&store, &[exec("a", "D1"), exec("b", "D1"), exec("c", "D2")]).unwrap();
    insert(&store, &[exec("d", "D1"), exec("e", "D2")]).unwrap();
    assert_eq!(count(&store, "definitions"), 2);
    assert_eq!(
        store
            .execution("arn:x:execution:m:e")
            .unwrap()
            .unwrap()
            .definition,
        "D2"
    );
}

#[test]
fn rolled_back_definition_is_not_cached() {
    let store = SqliteStore::open_in_memory().unwrap();
    insert(&store, &[exec("a", "D1")]).unwrap();
    // D2 is inserted, then the duplicate "a" rolls the transaction back.
    assert!(insert(&store, &[exec("b", "D2"), exec("a", "D1")]).is_err());
    assert_eq!(count(&store, "definitions"), 1);
    insert(&store, &[exec("c", "D2")]).unwrap();
    assert_eq!(
        store
            .execution("arn:x:execution:m:c")
            .unwrap()
            .unwrap()
            .definition,
        "D2"
    );
    assert_eq!(count(&store, "definitions"), 2);
}

#[test]
fn undecodable_rows_are_corrupt() {
    let store = SqliteStore::open_in_memory().unwrap();
    insert(&store, &[exec("a", "D1")]).unwrap();
    lock(&store.writer)
        .conn
        .execute("UPDATE executions SET machine_type = 'BOGUS'", [])
        .unwrap();
    match store.execution("arn:x:execution:m:a") {
        Err(StoreError::Corrupt(msg)) => assert!(msg.contains("BOGUS"), "{msg}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn unknown_execution_fails_update_and_history() {
    let store = SqliteStore::open_in_memory().unwrap();
    let append = Write::AppendHistory {
        execution_arn: "arn:x:execution:m:none".to_string(),
        events: vec![StoredEvent {
            id: 1,
            json: "{}".to_string(),
        }],
    };
    assert!(store
        .commit(&[Batch {
            writes: vec![append]
        }])
        .is_err());
    let update = Write::UpdateExecution(ExecutionUpdate {
        arn: "arn:x:execution:m:none".to_string(),
        status: "SUCCEEDED".to_string(),
        output: None,
        error: None,
        cause: None,
        stop_millis: None,
        redrive_count: 0,
        redrive_millis: None,
        snapshot: None,
        history_len: 0,
        transitions: 0,
    });
    assert!(store
        .commit(&[Batch {
            writes: vec![update]
        }])
        .is_err());
}

#[test]
fn duplicate_event_id_fails() {
    let store = SqliteStore::open_in_memory().unwrap();
    insert(&store, &[exec("a", "D1")]).unwrap();
    let ev = StoredEvent {
        id: 1,
        json: "{}".to_string(),
    };
    let append = Write::AppendHistory {
        execution_arn: "arn:x:execution:m:a".to_string(),
        events: vec![ev.clone(), ev],
    };
    assert!(store
        .commit(&[Batch {
            writes: vec![append]
        }])
        .is_err());
    assert_eq!(count(&store, "history"), 0);
}
