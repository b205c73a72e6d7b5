//! Catalogue cases: state machines, versions, aliases, activities and their tags.

use super::helpers::*;
use crate::*;

pub(super) fn catalog_round_trip(store: &dyn Store) {
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

pub(super) fn catalog_overwrite_and_delete(store: &dyn Store) {
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

pub(super) fn tags(store: &dyn Store) {
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

pub(super) fn delete_state_machine(store: &dyn Store) {
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
