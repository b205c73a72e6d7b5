"""Nested executions (`arn:aws:states:::states:startExecution`): the child runs in the same
Stepwise. Shapes follow AWS's recordings (LocalStack's sfn task service and callback
snapshots): the request-response result, TaskSubmitted then a DescribeExecution for
`.sync` (Output as a string) and `.sync:2` (Output as JSON), States.TaskFailed with the
child's description as cause."""

from __future__ import annotations

import json
import time

import helpers
from helpers import create_sm, history, start, types, wait_for_event, wait_for_execution


def child_machine(sfn, wait_seconds: int = 0, fail: bool = False) -> str:
    states: dict = {}
    if wait_seconds:
        states["Nap"] = {"Type": "Wait", "Seconds": wait_seconds, "Next": "Work"}
    states["Work"] = (
        {"Type": "Fail", "Error": "SomeFailure", "Cause": "This state machine raises a 'SomeFailure' failure."}
        if fail
        else {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)", "parent.$": "$.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"}, "End": True}
    )
    definition = {"StartAt": "Nap" if wait_seconds else "Work", "States": states}
    return create_sm(sfn, definition)["stateMachineArn"]


def parent_definition(child_arn: str, pattern: str = "", name: str | None = None) -> dict:
    params: dict = {
        "StateMachineArn": child_arn,
        "Input": {"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
    }
    if name:
        params["Name"] = name
    return {"StartAt": "Child", "States": {"Child": {
        "Type": "Task",
        "Resource": f"arn:aws:states:::states:startExecution{pattern}",
        "Parameters": params,
        "End": True,
    }}}


def run_parent(sfn, definition, input=None):
    sm = create_sm(sfn, definition)["stateMachineArn"]
    arn = start(sfn, sm, input if input is not None else {"n": 21})
    return arn, wait_for_execution(sfn, arn)


def test_request_response_starts_the_child_and_answers_at_once(sfn):
    child = child_machine(sfn)
    name = helpers.unique("child")
    arn, d = run_parent(sfn, parent_definition(child, name=name))
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["ExecutionArn"].endswith(f":{name}")
    assert isinstance(out["StartDate"], int)
    assert out["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert list(out) == ["ExecutionArn", "SdkHttpMetadata", "SdkResponseMetadata", "StartDate"]
    child_desc = wait_for_execution(sfn, out["ExecutionArn"])
    assert json.loads(child_desc["output"]) == {"doubled": 42, "parent": arn}
    events = history(sfn, arn)
    assert types(events)[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    assert events[2]["taskScheduledEventDetails"]["resourceType"] == "states"
    assert events[2]["taskScheduledEventDetails"]["resource"] == "startExecution"


def test_sync_waits_for_the_child_and_gives_its_description(sfn):
    child = child_machine(sfn, wait_seconds=1)
    arn, d = run_parent(sfn, parent_definition(child, ".sync"))
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["Status"] == "SUCCEEDED"
    assert json.loads(out["Output"]) == {"doubled": 42, "parent": arn}
    assert json.loads(out["Input"])["n"] == 21
    assert out["OutputDetails"] == {"Included": True}
    assert out["RedriveStatus"] == "NOT_REDRIVABLE"
    assert out["StateMachineArn"] == child
    keys = list(out)
    assert keys == sorted(keys)
    events = history(sfn, arn)
    assert types(events)[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    submitted = json.loads(events[4]["taskSubmittedEventDetails"]["output"])
    assert submitted["ExecutionArn"] == out["ExecutionArn"]
    assert events[4]["taskSubmittedEventDetails"]["resource"] == "startExecution.sync"


def test_sync2_gives_output_as_json(sfn):
    child = child_machine(sfn)
    arn, d = run_parent(sfn, parent_definition(child, ".sync:2"))
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["Output"] == {"doubled": 42, "parent": arn}
    assert out["Input"]["n"] == 21


def test_a_failed_child_fails_the_task_with_states_task_failed(sfn):
    child = child_machine(sfn, fail=True)
    _, d = run_parent(sfn, parent_definition(child, ".sync"))
    assert d["status"] == "FAILED"
    assert d["error"] == "States.TaskFailed"
    cause = json.loads(d["cause"])
    assert cause["Status"] == "FAILED"
    assert cause["Error"] == "SomeFailure"
    assert "Output" not in cause


def test_a_missing_machine_is_the_sdk_error(sfn):
    missing = helpers.SM_ARN_PREFIX + helpers.unique("missing")
    _, d = run_parent(sfn, parent_definition(missing))
    assert d["status"] == "FAILED"
    assert d["error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert d["cause"].startswith(f"State Machine Does Not Exist: '{missing}'")
    assert "(Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist;" in d["cause"]


def test_stopping_the_parent_stops_a_sync_child(sfn_realtime):
    sfn = sfn_realtime
    child = child_machine(sfn, wait_seconds=60)
    sm = create_sm(sfn, parent_definition(child, ".sync"))["stateMachineArn"]
    arn = start(sfn, sm, {"n": 1})
    submitted = wait_for_event(sfn, arn, "TaskSubmitted")
    child_arn = json.loads(submitted["taskSubmittedEventDetails"]["output"])["ExecutionArn"]
    assert sfn.describe_execution(executionArn=child_arn)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=arn)
    assert wait_for_execution(sfn, arn)["status"] == "ABORTED"
    deadline = time.monotonic() + 5
    while sfn.describe_execution(executionArn=child_arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sfn.describe_execution(executionArn=child_arn)["status"] == "ABORTED"


def test_sync_follows_an_express_child(sfn):
    child = create_sm(sfn, {"StartAt": "Work", "States": {"Work": {
        "Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}}},
        type="EXPRESS")["stateMachineArn"]
    _, d = run_parent(sfn, parent_definition(child, ".sync:2"))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["Output"] == {"doubled": 42}
