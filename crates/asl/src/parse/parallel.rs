//! The Parallel state's `Branches`: a non-empty array of `StartAt` + `States` blocks.

use super::{join, Parser};
use crate::Parallel;
use serde_json::{Map, Value};

impl Parser {
    pub(super) fn parallel(&mut self, obj: &Map<String, Value>, p: &str) -> Option<Parallel> {
        let Some(items) = obj.get("Branches") else {
            self.required(p, "Branches");
            return None;
        };
        let bp = join(p, "Branches");
        let Value::Array(items) = items else {
            self.wrong(p, "Branches", "an ARRAY");
            return None;
        };
        if items.is_empty() {
            self.err(bp, "Value cannot be empty");
            return None;
        }
        let mut branches = Vec::with_capacity(items.len());
        let mut complete = true;
        for (i, b) in items.iter().enumerate() {
            let ip = join(&bp, &i.to_string());
            match b {
                Value::Object(b) => match self.block(b, &ip, &[]) {
                    Some(s) => branches.push(s),
                    None => complete = false,
                },
                _ => {
                    self.err(ip, "A branch must be an OBJECT");
                    complete = false;
                }
            }
        }
        complete.then_some(Parallel { branches })
    }
}
