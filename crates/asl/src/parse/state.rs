//! One state: `Type`, `QueryLanguage`, `Comment`, `Next`/`End`, which fields each state
//! type allows, and the common fields read in order (input/output, `Assign`, `Retry`,
//! `Catch`) before the type's own body. `Succeed`, the Pass state's `Result` and the
//! Fail state's `Error`/`ErrorPath`/`Cause`/`CausePath` are read here too; the other types
//! have a file each.

use super::{join, Block, Lang, Parser, StatesScope};
use crate::{Fail, InputOutput, Pass, QueryLanguage, State, StateKind, Transition};
use serde_json::{Map, Value};

const STATE_TYPES: &str = "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]";

impl Parser {
    pub(super) fn state(&mut self, name: &str, v: &Value, p: &str, block: &Block) -> Option<State> {
        let Value::Object(obj) = v else {
            self.err(p, format!("The state '{name}' must be an OBJECT"));
            return None;
        };
        let ty = match obj.get("Type") {
            None => {
                self.required(p, "Type");
                return None;
            }
            Some(Value::String(t))
                if matches!(
                    t.as_str(),
                    "Task" | "Wait" | "Pass" | "Succeed" | "Fail" | "Choice" | "Parallel" | "Map"
                ) =>
            {
                t.as_str()
            }
            Some(_) => {
                self.err(
                    join(p, "Type"),
                    format!("The field 'Type' should have one of these values: {STATE_TYPES}"),
                );
                return None;
            }
        };
        let ql = match obj.get("QueryLanguage") {
            None => self.machine_ql,
            Some(v) => {
                let ql = self
                    .query_language(v, &join(p, "QueryLanguage"))
                    .unwrap_or(QueryLanguage::Jsonata);
                if self.machine_ql == QueryLanguage::Jsonata && ql == QueryLanguage::JsonPath {
                    self.err(p, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine");
                }
                ql
            }
        };
        let jp = ql == QueryLanguage::JsonPath;

        // Which fields this type has.
        let flows = matches!(ty, "Pass" | "Task" | "Wait" | "Parallel" | "Map");
        let has_io_paths = ty != "Fail";
        let has_params = matches!(ty, "Pass" | "Task" | "Parallel" | "Map");
        let has_selector = matches!(ty, "Task" | "Parallel" | "Map");
        let has_assign = !matches!(ty, "Succeed" | "Fail");
        let has_errors = matches!(ty, "Task" | "Parallel" | "Map");
        let mut allowed: Vec<(&str, Lang)> = vec![
            ("Type", Lang::Any),
            ("Comment", Lang::Any),
            ("QueryLanguage", Lang::Any),
        ];
        if flows {
            allowed.extend([("Next", Lang::Any), ("End", Lang::Any)]);
        }
        if has_io_paths {
            allowed.extend([
                ("InputPath", Lang::JsonPath),
                ("OutputPath", Lang::JsonPath),
                ("Output", Lang::Jsonata),
            ]);
        }
        if has_params {
            allowed.extend([
                ("Parameters", Lang::JsonPath),
                ("ResultPath", Lang::JsonPath),
            ]);
        }
        if has_selector {
            allowed.push(("ResultSelector", Lang::JsonPath));
        }
        if has_assign {
            allowed.push(("Assign", Lang::Any));
        }
        if has_errors {
            allowed.extend([("Retry", Lang::Any), ("Catch", Lang::Any)]);
        }
        allowed.extend_from_slice(match ty {
            "Pass" => &[("Result", Lang::JsonPath)][..],
            "Task" => &[
                ("Resource", Lang::Any),
                ("Arguments", Lang::Jsonata),
                ("Credentials", Lang::Any),
                ("TimeoutSeconds", Lang::Any),
                ("TimeoutSecondsPath", Lang::JsonPath),
                ("HeartbeatSeconds", Lang::Any),
                ("HeartbeatSecondsPath", Lang::JsonPath),
            ][..],
            "Choice" => &[("Choices", Lang::Any), ("Default", Lang::Any)][..],
            "Wait" => &[
                ("Seconds", Lang::Any),
                ("SecondsPath", Lang::JsonPath),
                ("Timestamp", Lang::Any),
                ("TimestampPath", Lang::JsonPath),
            ][..],
            "Fail" => &[
                ("Error", Lang::Any),
                ("ErrorPath", Lang::JsonPath),
                ("Cause", Lang::Any),
                ("CausePath", Lang::JsonPath),
            ][..],
            "Parallel" => &[("Branches", Lang::Any), ("Arguments", Lang::Jsonata)][..],
            "Map" => &[
                ("ItemProcessor", Lang::Any),
                ("Iterator", Lang::Any),
                ("ItemsPath", Lang::JsonPath),
                ("Items", Lang::Jsonata),
                ("ItemSelector", Lang::Any),
                ("ItemReader", Lang::Any),
                ("ItemBatcher", Lang::Any),
                ("ResultWriter", Lang::Any),
                ("MaxConcurrency", Lang::Any),
                ("MaxConcurrencyPath", Lang::JsonPath),
                ("ToleratedFailureCount", Lang::Any),
                ("ToleratedFailureCountPath", Lang::JsonPath),
                ("ToleratedFailurePercentage", Lang::Any),
                ("ToleratedFailurePercentagePath", Lang::JsonPath),
                ("Label", Lang::Any),
            ][..],
            _ => &[][..],
        });
        self.check_fields(obj, p, &allowed, ql);

        let comment = self.opt_string(obj, p, "Comment");
        let diags_before = self.diags.len();

        let transition = if flows {
            self.transition(obj, p, block)
        } else {
            Some(Transition::End)
        };

        let mut io = InputOutput::default();
        let result_scope = StatesScope {
            result: has_errors,
            error_output: false,
        };
        if jp {
            if has_io_paths {
                io.input_path = self.filter_path(obj, p, "InputPath");
                io.output_path = self.filter_path(obj, p, "OutputPath");
            }
            if has_params && ty != "Map" {
                io.parameters = self.payload(obj, p, "Parameters");
            }
            if has_params {
                io.result_path = self.result_path(obj, p);
            }
            if has_selector {
                io.result_selector = self.payload(obj, p, "ResultSelector");
            }
        } else {
            if has_io_paths {
                io.output = self.in_scope(result_scope, |this| {
                    this.jsonata_template(obj, p, "Output", false)
                });
            }
            if matches!(ty, "Task" | "Parallel") {
                io.arguments = self.jsonata_template(obj, p, "Arguments", true);
            }
        }
        let assign = if has_assign {
            self.in_scope(result_scope, |this| this.assign(obj, p, ql))
        } else {
            None
        };
        let (retry, catch) = if has_errors {
            (self.retriers(obj, p), self.catchers(obj, p, ql, block))
        } else {
            (Vec::new(), Vec::new())
        };

        let kind = match ty {
            "Pass" => Some(StateKind::Pass(Pass {
                result: if jp { obj.get("Result").cloned() } else { None },
            })),
            "Succeed" => Some(StateKind::Succeed),
            "Task" => self.task(obj, p, ql).map(StateKind::Task),
            "Choice" => self.choice(obj, p, ql, block).map(StateKind::Choice),
            "Wait" => self.wait(obj, p, ql).map(StateKind::Wait),
            "Fail" => Some(StateKind::Fail(Fail {
                error: self.dyn_string(obj, p, "Error", "ErrorPath", ql),
                cause: self.dyn_string(obj, p, "Cause", "CausePath", ql),
            })),
            "Parallel" => self.parallel(obj, p).map(StateKind::Parallel),
            "Map" => self.map(obj, p, ql).map(|m| StateKind::Map(Box::new(m))),
            _ => None,
        };
        if self.diags.len() > diags_before {
            return None;
        }
        Some(State {
            name: name.into(),
            comment,
            query_language: ql,
            io,
            assign,
            transition: transition?,
            retry,
            catch,
            kind: kind?,
        })
    }

    fn transition(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        block: &Block,
    ) -> Option<Transition> {
        match (obj.get("Next"), obj.get("End")) {
            (Some(_), Some(_)) => {
                self.err(p, "Only one of the fields 'Next' and 'End' may be set");
                None
            }
            (Some(next), None) => self
                .target(next, &join(p, "Next"), "Next", block)
                .map(Transition::Next),
            (None, Some(Value::Bool(true))) => Some(Transition::End),
            (None, Some(Value::Bool(false))) => {
                self.err(
                    join(p, "End"),
                    "The field 'End' must be true when 'Next' is not set",
                );
                None
            }
            (None, Some(_)) => {
                self.wrong(p, "End", "a BOOLEAN");
                None
            }
            (None, None) => {
                self.err(p, "No Next or End field: one of them is required");
                None
            }
        }
    }
}
