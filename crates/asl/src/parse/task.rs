//! The Task state's own fields: `Resource`, `TimeoutSeconds`/`TimeoutSecondsPath`,
//! `HeartbeatSeconds`/`HeartbeatSecondsPath` and `Credentials` (`RoleArn`).

use super::{join, Parser, MAX_SECONDS};
use crate::validate;
use crate::{Dyn, QueryLanguage, Task};
use serde_json::{Map, Value};

impl Parser {
    pub(super) fn task(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        ql: QueryLanguage,
    ) -> Option<Task> {
        let resource = match obj.get("Resource") {
            None => {
                self.required(p, "Resource");
                None
            }
            Some(Value::String(r)) => {
                if !validate::is_arn(r) || validate::is_unknown_integration(r) {
                    self.err(
                        join(p, "Resource"),
                        format!("The resource provided {r} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."),
                    );
                }
                Some(r.clone())
            }
            Some(_) => {
                self.wrong(p, "Resource", "a STRING");
                None
            }
        };
        let timeout_seconds = self.dyn_uint(
            obj,
            p,
            "TimeoutSeconds",
            Some("TimeoutSecondsPath"),
            ql,
            1,
            MAX_SECONDS,
        );
        let heartbeat_seconds = self.dyn_uint(
            obj,
            p,
            "HeartbeatSeconds",
            Some("HeartbeatSecondsPath"),
            ql,
            1,
            MAX_SECONDS,
        );
        if let (Some(Dyn::Literal(t)), Some(Dyn::Literal(h))) =
            (&timeout_seconds, &heartbeat_seconds)
        {
            if h >= t {
                self.err(
                    join(p, "HeartbeatSeconds"),
                    "HeartbeatSeconds must be smaller than TimeoutSeconds",
                );
            }
        }
        let credentials = match obj.get("Credentials") {
            None => None,
            Some(Value::Object(c)) => {
                let cp = join(p, "Credentials");
                let role = if ql == QueryLanguage::JsonPath {
                    c.get("RoleArn").or(c.get("RoleArn.$"))
                } else {
                    c.get("RoleArn")
                };
                if role.is_none() {
                    self.required(&cp, "RoleArn");
                }
                Some(Value::Object(c.clone()))
            }
            Some(_) => {
                self.wrong(p, "Credentials", "an OBJECT");
                None
            }
        };
        Some(Task {
            resource: resource?,
            timeout_seconds,
            heartbeat_seconds,
            credentials,
        })
    }
}
