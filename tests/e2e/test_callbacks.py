"""The callback pattern (.waitForTaskToken): the token from `$$.Task.Token` is read from the
TaskScheduled event's parameters, then SendTaskSuccess / SendTaskFailure ends the wait.
Event shapes follow AWS recordings (LocalStack's test_callback snapshot)."""

import json

import pytest

from helpers import (
    assert_event_chain,
    create_sm,
    error_of,
    history,
    pass_definition,
    start,
    types,
    wait_for_event,
    wait_for_execution,
)

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:approve"


def lambda_callback_definition(catch=False):
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": FUNCTION, "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
        "ResultPath": "$.approval",
        "End": True,
    }
    if catch:
        task["Catch"] = [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "Rejected"}]
    states = {"Approve": task}
    if catch:
        states["Rejected"] = {"Type": "Pass", "End": True}
    return {"StartAt": "Approve", "States": states}


def token_of(sfn, exec_arn):
    scheduled = wait_for_event(sfn, exec_arn, "TaskScheduled")["taskScheduledEventDetails"]
    assert scheduled["resourceType"] == "lambda"
    assert scheduled["resource"] == "invoke.waitForTaskToken"
    assert scheduled["region"] == "us-east-1"
    params = json.loads(scheduled["parameters"])
    assert params["FunctionName"] == FUNCTION
    assert params["Payload"]["order"] == {"id": 7}
    token = params["Payload"]["token"]
    assert isinstance(token, str) and 0 < len(token) <= 1024
    return token


def test_send_task_success(sfn):
    sm_arn = create_sm(sfn, lambda_callback_definition())["stateMachineArn"]
    arn = start(sfn, sm_arn, {"order": {"id": 7}})
    token = token_of(sfn, arn)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    sfn.send_task_heartbeat(taskToken=token)
    sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"]) == {"order": {"id": 7}, "approval": {"approved": True}}
    events = history(sfn, arn)
    assert_event_chain(events)
    kinds = types(events)
    assert kinds[:4] == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted"]
    assert kinds[-3:] == ["TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    succeeded = events[kinds.index("TaskSucceeded")]["taskSucceededEventDetails"]
    assert json.loads(succeeded["output"]) == {"approved": True}
    assert succeeded["resource"] == "invoke.waitForTaskToken"
    assert succeeded["resourceType"] == "lambda"
    # The token is spent now.
    err = error_of(sfn.send_task_success, taskToken=token, output="{}")
    assert err["Code"] == "TaskTimedOut"
    assert err["Message"] == "Task Timed Out: 'Provided task does not exist anymore'"


def test_send_task_failure_caught(sfn):
    sm_arn = create_sm(sfn, lambda_callback_definition(catch=True))["stateMachineArn"]
    arn = start(sfn, sm_arn, {"order": {"id": 7}})
    sfn.send_task_failure(taskToken=token_of(sfn, arn), error="Rejected", cause="not today")
    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"]) == {
        "order": {"id": 7}, "rejection": {"Error": "Rejected", "Cause": "not today"},
    }
    events = history(sfn, arn)
    failed = [e for e in events if e["type"] == "TaskFailed"]
    assert failed[0]["taskFailedEventDetails"] == {
        "error": "Rejected", "cause": "not today",
        "resource": "invoke.waitForTaskToken", "resourceType": "lambda",
    }


def test_send_task_failure_uncaught(sfn):
    sm_arn = create_sm(sfn, lambda_callback_definition())["stateMachineArn"]
    arn = start(sfn, sm_arn, {"order": {"id": 7}})
    sfn.send_task_failure(taskToken=token_of(sfn, arn), error="Failure error", cause="Failure cause")
    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "FAILED"
    assert desc["error"] == "Failure error"
    assert desc["cause"] == "Failure cause"
    events = history(sfn, arn)
    assert types(events)[-2:] == ["TaskFailed", "ExecutionFailed"]
    assert events[-1]["executionFailedEventDetails"] == {"error": "Failure error", "cause": "Failure cause"}


def test_child_execution_callback(sfn):
    """states:startExecution.waitForTaskToken needs nothing outside Stepwise: the child runs
    here, and the parent waits for the token it handed over."""
    child = create_sm(sfn, pass_definition())["stateMachineArn"]
    definition = {
        "StartAt": "StartChild",
        "States": {"StartChild": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
            "Parameters": {"StateMachineArn": child, "Input": {"token.$": "$$.Task.Token"}},
            "End": True,
        }},
    }
    arn = start(sfn, create_sm(sfn, definition)["stateMachineArn"], {})
    scheduled = wait_for_event(sfn, arn, "TaskScheduled")["taskScheduledEventDetails"]
    assert scheduled["resourceType"] == "states"
    assert scheduled["resource"] == "startExecution.waitForTaskToken"
    token = json.loads(scheduled["parameters"])["Input"]["token"]
    # The child got the token as its input.
    wait_for_event(sfn, arn, "TaskSubmitted")
    children = sfn.list_executions(stateMachineArn=child)["executions"]
    assert len(children) == 1
    child_desc = wait_for_execution(sfn, children[0]["executionArn"])
    assert json.loads(child_desc["output"]) == {"token": token}
    sfn.send_task_success(taskToken=token, output='"done"')
    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"]) == "done"
