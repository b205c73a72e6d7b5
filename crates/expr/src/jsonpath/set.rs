//! ResultPath's writes: whether a reference path can be written into a value, and the
//! write itself (creating objects on the way).

use super::eval::index;
use super::Segment;
use serde_json::{Map, Value};

pub(super) fn can_set(segs: &[Segment], node: &Value) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        return true;
    };
    match first {
        Segment::Field(name) => match node.as_object() {
            Some(m) => match m.get(name) {
                Some(child) => can_set(rest, child),
                // A created object can only take names below it.
                None => rest.iter().all(|s| matches!(s, Segment::Field(_))),
            },
            None => false,
        },
        Segment::Index(i) => match node.as_array().and_then(|a| index(a, *i)) {
            Some(child) => can_set(rest, child),
            None => false,
        },
        _ => false,
    }
}

/// Performs the write that `can_set` approved.
pub(super) fn set_checked(segs: &[Segment], node: &mut Value, value: Value) {
    let Some((first, rest)) = segs.split_first() else {
        *node = value;
        return;
    };
    match (first, node) {
        (Segment::Field(name), Value::Object(m)) => {
            let child = m
                .entry(name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            set_checked(rest, child, value);
        }
        (Segment::Index(i), Value::Array(a)) => {
            let len = a.len() as i64;
            let j = if *i < 0 { len + i } else { *i };
            if let Some(child) = usize::try_from(j).ok().and_then(|j| a.get_mut(j)) {
                set_checked(rest, child, value);
            }
        }
        _ => {}
    }
}
