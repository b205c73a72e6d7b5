//! Outbox cases: status-change events, their growing positions and paging.

use super::helpers::*;
use crate::*;

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

pub(super) fn outbox(store: &dyn Store) {
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
