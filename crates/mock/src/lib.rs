//! AWS Step Functions Local's mock file (`MockConfigFile`): parse and validate it, then
//! answer "what does this Task state return on its n-th invocation in this test case?".
//!
//! Pure: the caller reads the file and counts invocations; this crate does no I/O.
//!
//! # The format
//!
//! As documented for Step Functions Local ("Configuration file for mocked service
//! integrations"), a mock file is a JSON object with two fields:
//!
//! ```json
//! {
//!   "StateMachines": {
//!     "LambdaSQSIntegration": {
//!       "TestCases": {
//!         "HappyPath": { "LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess" },
//!         "RetryPath": { "LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess" },
//!         "HybridPath": { "LambdaState": "MockedLambdaSuccess" }
//!       }
//!     }
//!   },
//!   "MockedResponses": {
//!     "MockedLambdaSuccess": {
//!       "0": { "Return": { "StatusCode": 200, "Payload": { "StatusCode": 200, "body": "Hello from Lambda!" } } }
//!     },
//!     "MockedSQSSuccess": {
//!       "0": { "Return": { "MD5OfMessageBody": "3bcb6e8e-7h85-4375-b0bc-1a59812c6e51",
//!                          "MessageId": "3bcb6e8e-8b51-4375-b0bc-1a59812c6e51" } }
//!     },
//!     "MockedLambdaRetry": {
//!       "0":   { "Throw": { "Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready." } },
//!       "1-2": { "Throw": { "Error": "Lambda.TimeoutException", "Cause": "Lambda timed out." } },
//!       "3":   { "Return": { "StatusCode": 200, "Payload": { "StatusCode": 200, "body": "Hello from Lambda!" } } }
//!     }
//!   }
//! }
//! ```
//!
//! - `StateMachines.<machine name>.TestCases.<test case>` maps **state names** to names of
//!   mocked responses. A state not listed is not mocked: the engine calls the real
//!   integration ("HybridPath" above). State names are unique in a whole state machine,
//!   Map and Parallel branches included, so a state inside a Map or Parallel is listed
//!   like any other.
//! - `MockedResponses.<name>` is keyed by **invocation number**: `"0"`, `"3"`, or an
//!   inclusive range `"1-2"`. The number counts every invocation of the state in one
//!   execution, starting at 0: retries, loops back to the state, and every Map iteration
//!   all advance it.
//! - Each entry holds exactly one of `Return` (the task's result, any JSON) or `Throw`
//!   (`{"Error": …, "Cause": …}`; `Cause` may be left out here and reads as `""`).
//! - The AWS documentation: "When you mock a Task, you must specify a mocked response for
//!   every invocation … If you do not specify a mocked response, the state machine
//!   execution will fail." So the last entry does **not** repeat: an invocation beyond the
//!   last key has no response ([`Lookup::Exhausted`]), and the engine fails the execution.
//!   For the same reason keys must cover 0, 1, 2, … without gaps or overlaps (LocalStack
//!   checks this too).
//!
//! An execution picks a test case with `stateMachineArn#TestCaseName`
//! ([`split_test_case`]).

mod parse;
mod raw;

use std::collections::BTreeMap;

use serde_json::Value;

/// What a mocked Task invocation produces.
#[derive(Debug, Clone, PartialEq)]
pub enum MockResult {
    /// `"Return": …` — the task's result, as the service would have returned it.
    Return(Value),
    /// `"Throw": {"Error": …, "Cause": …}` — the task fails with this error.
    Throw { error: String, cause: String },
}

/// A problem with a mock file, or a test case that is not in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MockError {
    /// The text is not JSON; `serde_json`'s message, with line and column.
    #[error("mock file is not valid JSON: {0}")]
    Json(String),
    /// The JSON does not follow the format. `path` locates the offending key, e.g.
    /// `MockedResponses.MockedLambdaRetry."1-x"` (empty for the file as a whole).
    #[error("{}", located(path, message))]
    Invalid { path: String, message: String },
    #[error(
        "no state machine {} in the mock file (it defines: {})",
        quote(name),
        list(available)
    )]
    UnknownStateMachine {
        name: String,
        available: Vec<String>,
    },
    #[error(
        "no test case {} for state machine {} in the mock file (it defines: {})",
        quote(test_case),
        quote(state_machine),
        list(available)
    )]
    UnknownTestCase {
        state_machine: String,
        test_case: String,
        available: Vec<String>,
    },
    /// Two merged files define the same test case of the same state machine.
    #[error(
        "test case {} of state machine {} is defined in both {first} and {second}",
        quote(test_case),
        quote(state_machine)
    )]
    Conflict {
        state_machine: String,
        test_case: String,
        first: String,
        second: String,
    },
}

fn located(path: &str, message: &str) -> String {
    if path.is_empty() {
        message.to_owned()
    } else {
        format!("{path}: {message}")
    }
}

/// A name as a JSON string literal, so quotes and control characters stay unambiguous.
pub(crate) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names
            .iter()
            .map(|n| quote(n))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One mocked response: results by invocation number, covering `0..=last` without gaps.
#[derive(Debug, Clone, PartialEq)]
pub struct MockedResponse {
    /// Sorted, contiguous, non-overlapping inclusive ranges.
    entries: Vec<(u32, u32, MockResult)>,
}

impl MockedResponse {
    /// The result for invocation `invocation` (0-based), or `None` beyond the last key.
    pub fn get(&self, invocation: u32) -> Option<&MockResult> {
        // Entries are sorted and contiguous, so the first range ending at or after
        // `invocation` is the one holding it, if any.
        let i = self
            .entries
            .partition_point(|(_, last, _)| *last < invocation);
        self.entries.get(i).map(|(_, _, result)| result)
    }

    /// How many invocations have a response (one more than the last key's end).
    pub fn len(&self) -> u64 {
        self.entries
            .last()
            .map_or(0, |(_, last, _)| u64::from(*last) + 1)
    }

    /// Never true for a parsed file (an empty response is rejected); here for clippy.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// State name → mocked response name, for one test case.
type TestCaseMap = BTreeMap<String, String>;

/// A parsed, validated mock file.
#[derive(Debug, Clone, PartialEq)]
pub struct MockConfig {
    /// machine name → test case name → state name → response name.
    machines: BTreeMap<String, BTreeMap<String, TestCaseMap>>,
    responses: BTreeMap<String, MockedResponse>,
}

impl MockConfig {
    /// Parses and validates a mock file. Every rule of the format is checked here, so a
    /// test case that parses can be run without surprises from the file:
    /// test cases name defined responses, response keys are `"N"` or `"N-M"` (N ≤ M)
    /// covering 0, 1, 2, … without overlaps or gaps, each entry has exactly one of
    /// `Return`/`Throw`, `Throw` has a string `Error` (and optionally a string `Cause`),
    /// no key appears twice in an object, and there are no unknown fields.
    pub fn parse(text: &str) -> Result<MockConfig, MockError> {
        parse::parse(text)
    }

    /// The test case `test_case` of the state machine named `state_machine`. The errors
    /// name what is missing and list what the file defines.
    pub fn test_case(
        &self,
        state_machine: &str,
        test_case: &str,
    ) -> Result<TestCase<'_>, MockError> {
        let Some((machine, cases)) = self.machines.get_key_value(state_machine) else {
            return Err(MockError::UnknownStateMachine {
                name: state_machine.to_owned(),
                available: self.machines.keys().cloned().collect(),
            });
        };
        let Some((name, states)) = cases.get_key_value(test_case) else {
            return Err(MockError::UnknownTestCase {
                state_machine: state_machine.to_owned(),
                test_case: test_case.to_owned(),
                available: cases.keys().cloned().collect(),
            });
        };
        Ok(TestCase {
            state_machine: machine,
            name,
            states,
            responses: &self.responses,
        })
    }

    /// Names of the state machines the file has test cases for, sorted.
    pub fn state_machines(&self) -> impl Iterator<Item = &str> {
        self.machines.keys().map(String::as_str)
    }

    /// Names of the test cases of one state machine, sorted; `None` if it is not in the file.
    pub fn test_cases(&self, state_machine: &str) -> Option<impl Iterator<Item = &str>> {
        self.machines
            .get(state_machine)
            .map(|cases| cases.keys().map(String::as_str))
    }

    /// Several mock files as one (`--mock-config A --mock-config B`), each given with
    /// the name errors call it by. Test cases are merged per state machine; the same test
    /// case of the same machine in two files is a [`MockError::Conflict`] naming both.
    /// Each file's test cases keep answering with that file's own responses: a response
    /// name two files define differently is renamed `NAME (FILE)` in the later file.
    pub fn merge(files: Vec<(String, MockConfig)>) -> Result<MockConfig, MockError> {
        let mut out = MockConfig {
            machines: BTreeMap::new(),
            responses: BTreeMap::new(),
        };
        // Where each (machine, test case) came from.
        let mut origin: BTreeMap<(String, String), String> = BTreeMap::new();
        for (file, config) in files {
            let mut renamed: BTreeMap<String, String> = BTreeMap::new();
            for (name, response) in config.responses {
                match out.responses.get(&name) {
                    Some(existing) if *existing != response => {
                        let new_name = format!("{name} ({file})");
                        out.responses.insert(new_name.clone(), response);
                        renamed.insert(name, new_name);
                    }
                    Some(_) => {}
                    None => {
                        out.responses.insert(name, response);
                    }
                }
            }
            for (machine, cases) in config.machines {
                let into = out.machines.entry(machine.clone()).or_default();
                for (case, mut states) in cases {
                    let key = (machine.clone(), case.clone());
                    if let Some(first) = origin.get(&key) {
                        return Err(MockError::Conflict {
                            state_machine: machine,
                            test_case: case,
                            first: first.clone(),
                            second: file,
                        });
                    }
                    for response in states.values_mut() {
                        if let Some(r) = renamed.get(response) {
                            *response = r.clone();
                        }
                    }
                    origin.insert(key, file.clone());
                    into.insert(case, states);
                }
            }
        }
        Ok(out)
    }

    /// A mocked response by its name in `MockedResponses`.
    pub fn mocked_response(&self, name: &str) -> Option<&MockedResponse> {
        self.responses.get(name)
    }
}

/// What a test case says about one invocation of one state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lookup<'a> {
    /// The test case does not list the state: call the real integration.
    NotMocked,
    /// The mocked result for this invocation.
    Response(&'a MockResult),
    /// The state is mocked but `response` has no entry for this invocation (it defines
    /// `defined` invocations, 0 to `defined - 1`): the execution must fail.
    Exhausted { response: &'a str, defined: u64 },
}

/// One test case of one state machine, borrowed from its [`MockConfig`].
#[derive(Debug, Clone, Copy)]
pub struct TestCase<'a> {
    state_machine: &'a str,
    name: &'a str,
    states: &'a TestCaseMap,
    responses: &'a BTreeMap<String, MockedResponse>,
}

impl<'a> TestCase<'a> {
    /// The state machine's name.
    pub fn state_machine(&self) -> &'a str {
        self.state_machine
    }

    /// The test case's name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// Whether the test case mocks `state_name` (else the real integration is called).
    pub fn is_mocked(&self, state_name: &str) -> bool {
        self.states.contains_key(state_name)
    }

    /// The mocked states and the names of their responses, sorted by state name.
    pub fn mocked_states(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.states.iter().map(|(s, r)| (s.as_str(), r.as_str()))
    }

    /// The full answer for invocation `invocation` (0-based, counted per state over the
    /// whole execution: retries, revisits and Map iterations included).
    pub fn lookup(&self, state_name: &str, invocation: u32) -> Lookup<'a> {
        let Some(response_name) = self.states.get(state_name) else {
            return Lookup::NotMocked;
        };
        // Parsing checked that every referenced response exists; an absent one is
        // treated as exhausted rather than panicking.
        let response = self.responses.get(response_name);
        match response.and_then(|r| r.get(invocation)) {
            Some(result) => Lookup::Response(result),
            None => Lookup::Exhausted {
                response: response_name,
                defined: response.map_or(0, MockedResponse::len),
            },
        }
    }

    /// The mocked result of invocation `attempt` of `state_name`, or `None` when the state
    /// is not mocked or its response has no entry that far (see [`TestCase::lookup`] to
    /// tell the two apart; the last entry does not repeat). `attempt` counts every
    /// invocation of the state in the execution, not only retries.
    pub fn response(&self, state_name: &str, attempt: u32) -> Option<MockResult> {
        match self.lookup(state_name, attempt) {
            Lookup::Response(result) => Some(result.clone()),
            Lookup::NotMocked | Lookup::Exhausted { .. } => None,
        }
    }
}

/// Splits `arn:…:stateMachine:Name#TestCase` into the ARN and the test case name, the way
/// Step Functions Local selects a test case in `StartExecution`.
pub fn split_test_case(state_machine_arn: &str) -> (&str, Option<&str>) {
    match state_machine_arn.split_once('#') {
        Some((arn, case)) => (arn, Some(case)),
        None => (state_machine_arn, None),
    }
}

#[cfg(test)]
mod tests;
