"""AWS Step Functions Local's mock file: StartExecution with `stateMachineArn#TestCaseName`
answers Task states from tests/e2e/mocks.json (Return and Throw per attempt, with Retry and
Catch applied as usual). The machine's name must be the one in mocks.json."""

import json

import pytest

from helpers import assert_event_chain, create_sm, history, types, wait_for_execution

NAME = "e2e-mocked-order"
DEFINITION = {
    "Comment": "Charge a card through a mocked Lambda; retried on Lambda.ServiceException.",
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {
                "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:charge",
                "Payload.$": "$",
            },
            "ResultSelector": {"status.$": "$.Payload.status", "amount.$": "$.Payload.amount"},
            "ResultPath": "$.payment",
            "Retry": [{
                "ErrorEquals": ["Lambda.ServiceException"],
                "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2,
            }],
            "Catch": [{"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error", "Next": "Declined"}],
            "End": True,
        },
        "Declined": {"Type": "Fail", "Error": "OrderCancelled", "CausePath": "$.error.Cause"},
    },
}


@pytest.fixture(scope="module")
def mocked_sm(sfn):
    # Same name and definition on every run: CreateStateMachine is idempotent then.
    return create_sm(sfn, DEFINITION, name=NAME)["stateMachineArn"]


def run_case(sfn, sm_arn, case):
    resp = sfn.start_execution(stateMachineArn=f"{sm_arn}#{case}", input=json.dumps({"orderId": "o-1"}))
    assert resp["executionArn"].startswith(sm_arn.replace(":stateMachine:", ":execution:") + ":")
    desc = wait_for_execution(sfn, resp["executionArn"])
    events = history(sfn, resp["executionArn"])
    assert_event_chain(events)
    return desc, events


def test_return(sfn, mocked_sm):
    desc, events = run_case(sfn, mocked_sm, "HappyPath")
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"]) == {"orderId": "o-1", "payment": {"status": "APPROVED", "amount": 42}}
    assert types(events) == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
        "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]
    scheduled = events[2]["taskScheduledEventDetails"]
    assert scheduled["resource"] == "invoke"
    assert scheduled["resourceType"] == "lambda"
    assert scheduled["region"] == "us-east-1"
    assert json.loads(scheduled["parameters"]) == {
        "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:charge",
        "Payload": {"orderId": "o-1"},
    }
    succeeded = events[4]["taskSucceededEventDetails"]
    assert json.loads(succeeded["output"])["Payload"] == {"status": "APPROVED", "amount": 42}


def test_throw_then_return_is_retried(sfn, mocked_sm):
    desc, events = run_case(sfn, mocked_sm, "FlakyThenOk")
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"])["payment"] == {"status": "APPROVED", "amount": 42}
    kinds = types(events)
    assert kinds.count("TaskScheduled") == 3
    failed = [e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed"]
    assert failed == [
        {"error": "Lambda.ServiceException", "cause": "transient failure", "resource": "invoke", "resourceType": "lambda"},
    ] * 2
    # One TaskStateEntered: retries stay inside the state.
    assert kinds.count("TaskStateEntered") == 1


def test_throw_caught(sfn, mocked_sm):
    desc, events = run_case(sfn, mocked_sm, "Declined")
    assert desc["status"] == "FAILED"
    assert desc["error"] == "OrderCancelled"
    assert desc["cause"] == "Card declined by issuer"
    assert types(events)[-3:] == ["TaskStateExited", "FailStateEntered", "ExecutionFailed"]
    assert types(events).count("TaskScheduled") == 1


def test_retries_exhausted(sfn, mocked_sm):
    desc, events = run_case(sfn, mocked_sm, "AlwaysDown")
    assert desc["status"] == "FAILED"
    assert desc["error"] == "Lambda.ServiceException"
    assert desc["cause"] == "service down"
    kinds = types(events)
    assert kinds.count("TaskScheduled") == 3  # first attempt + MaxAttempts 2
    assert kinds.count("TaskFailed") == 3
    assert kinds[-1] == "ExecutionFailed"

