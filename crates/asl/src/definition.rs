//! The typed form of a definition. Field names follow ASL; each state type has its own
//! struct, shared field groups (`InputOutput`, `Retrier`, `Catcher`) theirs.
//!
//! Transitions are resolved to indices into the enclosing [`States`] so that running a
//! state machine never looks a name up.

use serde_json::Value;
use stepwise_expr::intrinsics::Intrinsic;
use stepwise_expr::jsonpath::JsonPath;
use stepwise_expr::template::PayloadTemplate;
use stepwise_jsonata::{JsonataExpr, JsonataTemplate};

/// `QueryLanguage`: top level default `JSONPath`, overridable per state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueryLanguage {
    #[default]
    JsonPath,
    Jsonata,
}

/// A whole state machine.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub version: Option<String>,
    /// Machine-level `TimeoutSeconds`.
    pub timeout_seconds: Option<u64>,
    pub query_language: QueryLanguage,
    pub states: States,
}

/// A set of states with a `StartAt`: the machine itself, a Parallel branch, or a Map's
/// `ItemProcessor` / `Iterator`.
#[derive(Debug, Clone)]
pub struct States {
    pub start_at: usize,
    pub states: Vec<State>,
}

impl States {
    pub fn get(&self, index: usize) -> &State {
        &self.states[index]
    }
    pub fn find(&self, name: &str) -> Option<usize> {
        self.states.iter().position(|s| &*s.name == name)
    }
}

/// Where a state goes when it succeeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// `Next`, resolved to an index in the enclosing [`States`].
    Next(usize),
    /// `End: true` (also used for Succeed/Fail/Choice which have neither).
    End,
}

/// One state: the fields every state may have, plus its type-specific body.
#[derive(Debug, Clone)]
pub struct State {
    pub name: std::sync::Arc<str>,
    pub comment: Option<String>,
    /// Effective query language (state-level `QueryLanguage`, else the machine's).
    pub query_language: QueryLanguage,
    pub io: InputOutput,
    /// `Assign` (JSONPath: a payload template; JSONata: a JSONata template).
    pub assign: Option<Assign>,
    pub transition: Transition,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    pub kind: StateKind,
}

/// The type-specific part of a state.
#[derive(Debug, Clone)]
pub enum StateKind {
    Pass(Pass),
    Task(Task),
    Choice(Choice),
    Wait(Wait),
    Succeed,
    Fail(Fail),
    Parallel(Parallel),
    /// Boxed: a Map carries far more fields than the other states.
    Map(Box<Map>),
}

impl StateKind {
    /// The ASL `Type` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass(_) => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

/// `ResultPath`: absent (= `$`), `null` (discard the result), or a reference path.
#[derive(Debug, Clone, Default)]
pub enum ResultPath {
    #[default]
    Default,
    Discard,
    Path(JsonPath),
}

/// `InputPath` / `OutputPath`: absent (= `$`), `null` (= `{}`), or a path.
#[derive(Debug, Clone, Default)]
pub enum FilterPath {
    #[default]
    Default,
    Null,
    Path(JsonPath),
}

/// The data-flow fields. JSONPath states use the first group, JSONata states the second;
/// validation guarantees the other group is empty.
#[derive(Debug, Clone, Default)]
pub struct InputOutput {
    pub input_path: FilterPath,
    /// `Parameters` (Task, Pass, Parallel; legacy `Parameters` of Map is in [`Map`]).
    pub parameters: Option<PayloadTemplate>,
    pub result_selector: Option<PayloadTemplate>,
    pub result_path: ResultPath,
    pub output_path: FilterPath,
    /// JSONata `Arguments` (Task, Parallel? no: Task only in AWS, kept general).
    pub arguments: Option<JsonataTemplate>,
    /// JSONata `Output`.
    pub output: Option<JsonataTemplate>,
}

/// `Assign`.
#[derive(Debug, Clone)]
pub enum Assign {
    JsonPath(PayloadTemplate),
    Jsonata(JsonataTemplate),
}

/// A value given literally, by a `…Path` field, or (JSONata) by a `{% %}` expression.
/// Used for `Seconds`/`SecondsPath`, `TimeoutSeconds`/`TimeoutSecondsPath`, `Error`/`ErrorPath`…
#[derive(Debug, Clone)]
pub enum Dyn<T> {
    Literal(T),
    Path(JsonPath),
    Jsonata(JsonataExpr),
    /// JSONPath-mode string fields that hold an intrinsic (`ErrorPath: "States.Format(…)"`).
    Intrinsic(Intrinsic),
}

#[derive(Debug, Clone)]
pub struct Pass {
    /// `Result` (JSONPath) — replaces the effective input as the state's result.
    pub result: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub resource: String,
    pub timeout_seconds: Option<Dyn<u64>>,
    pub heartbeat_seconds: Option<Dyn<u64>>,
    /// `Credentials`, kept as written (no local meaning yet).
    pub credentials: Option<Value>,
}

impl Task {
    /// AWS's default task timeout when none is set (99999999 s).
    pub const DEFAULT_TIMEOUT_SECONDS: u64 = 99_999_999;
}

#[derive(Debug, Clone)]
pub struct Choice {
    pub choices: Vec<ChoiceBranch>,
    /// `Default`, resolved.
    pub default: Option<usize>,
}

/// One element of `Choices`.
#[derive(Debug, Clone)]
pub struct ChoiceBranch {
    pub rule: ChoiceRule,
    pub next: usize,
    /// JSONata and JSONPath choice rules may carry `Assign`.
    pub assign: Option<Assign>,
    /// JSONata choice rules may carry `Output`.
    pub output: Option<JsonataTemplate>,
}

/// A Boolean expression of a Choice rule.
#[derive(Debug, Clone)]
pub enum ChoiceRule {
    And(Vec<ChoiceRule>),
    Or(Vec<ChoiceRule>),
    Not(Box<ChoiceRule>),
    /// `Variable` + one comparison operator.
    Compare {
        variable: JsonPath,
        op: ComparisonOp,
        operand: Operand,
    },
    /// JSONata `Condition` (a `{% %}` expression, or a literal boolean).
    Condition(Dyn<bool>),
}

/// The right-hand side of a comparison: a literal, or (for `…Path` operators) a path.
#[derive(Debug, Clone)]
pub enum Operand {
    Literal(Value),
    Path(JsonPath),
}

/// Every comparison operator; the `…Path` spelling is the same operator with a
/// [`Operand::Path`] operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComparisonOp {
    BooleanEquals,
    IsBoolean,
    IsNull,
    IsNumeric,
    IsPresent,
    IsString,
    IsTimestamp,
    NumericEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    NumericLessThan,
    NumericLessThanEquals,
    StringEquals,
    StringGreaterThan,
    StringGreaterThanEquals,
    StringLessThan,
    StringLessThanEquals,
    StringMatches,
    TimestampEquals,
    TimestampGreaterThan,
    TimestampGreaterThanEquals,
    TimestampLessThan,
    TimestampLessThanEquals,
}

#[derive(Debug, Clone)]
pub enum Wait {
    Seconds(Dyn<u64>),
    /// An ISO-8601 timestamp (validated at parse time when literal).
    Timestamp(Dyn<String>),
}

#[derive(Debug, Clone)]
pub struct Fail {
    pub error: Option<Dyn<String>>,
    pub cause: Option<Dyn<String>>,
}

#[derive(Debug, Clone)]
pub struct Parallel {
    pub branches: Vec<States>,
}

/// `ItemProcessor.ProcessorConfig.Mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessorMode {
    #[default]
    Inline,
    Distributed,
}

#[derive(Debug, Clone)]
pub struct Map {
    /// `ItemProcessor` (or legacy `Iterator`).
    pub processor: States,
    pub mode: ProcessorMode,
    /// `ProcessorConfig.ExecutionType` (`STANDARD` / `EXPRESS`) for distributed mode.
    pub execution_type: Option<String>,
    /// True when written with the legacy `Iterator` field.
    pub legacy_iterator: bool,
    /// `ItemsPath` (JSONPath).
    pub items_path: Option<JsonPath>,
    /// `Items` (JSONata: an array literal or expression; JSONPath: not allowed).
    pub items: Option<JsonataTemplate>,
    /// `ItemSelector`, or the legacy Map `Parameters`.
    pub item_selector: Option<MapSelector>,
    pub max_concurrency: Option<Dyn<u64>>,
    pub tolerated_failure_count: Option<Dyn<u64>>,
    pub tolerated_failure_percentage: Option<Dyn<f64>>,
    pub label: Option<String>,
    /// Parsed and validated, executed in a later issue.
    pub item_reader: Option<Value>,
    /// `ItemBatcher`: each child execution of a Distributed Map gets a batch of items.
    pub item_batcher: Option<ItemBatcher>,
    /// Parsed and validated, executed in a later issue.
    pub result_writer: Option<Value>,
}

/// A Distributed Map's `ItemBatcher`. The limits' literals are kept as written: the Map
/// checks them (a positive integer; bytes at most 256 KiB) when it runs, as it checks
/// the values their `…Path` or JSONata forms give.
#[derive(Debug, Clone)]
pub struct ItemBatcher {
    /// `MaxItemsPerBatch`, `MaxItemsPerBatchPath` or (JSONata) `{% %}`.
    pub max_items_per_batch: Option<Dyn<Value>>,
    /// `MaxInputBytesPerBatch`, `MaxInputBytesPerBatchPath` or (JSONata) `{% %}`.
    pub max_input_bytes_per_batch: Option<Dyn<Value>>,
    /// `BatchInput`: a payload template (JSONPath) or a JSONata template.
    pub batch_input: Option<MapSelector>,
}

/// `ItemSelector` (and `ItemBatcher.BatchInput`) in either query language.
#[derive(Debug, Clone)]
pub enum MapSelector {
    JsonPath(PayloadTemplate),
    Jsonata(JsonataTemplate),
}

/// `JitterStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JitterStrategy {
    #[default]
    None,
    Full,
}

/// One element of `Retry`.
#[derive(Debug, Clone)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: u64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter_strategy: JitterStrategy,
}

impl Retrier {
    pub const DEFAULT_INTERVAL_SECONDS: u64 = 1;
    pub const DEFAULT_MAX_ATTEMPTS: u64 = 3;
    pub const DEFAULT_BACKOFF_RATE: f64 = 2.0;
}

/// One element of `Catch`.
#[derive(Debug, Clone)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: usize,
    /// JSONPath `ResultPath` of the catcher (default `$`).
    pub result_path: ResultPath,
    pub assign: Option<Assign>,
    /// JSONata `Output` of the catcher.
    pub output: Option<JsonataTemplate>,
}
