"""StartExecution, DescribeExecution, ListExecutions, StopExecution, GetExecutionHistory,
StartSyncExecution, RedriveExecution and their errors. Expected values follow AWS recordings
(LocalStack's test_sfn_api / test_sfn_api_express snapshots) and the API reference."""

import datetime
import json

from helpers import (
    EXEC_ARN_PREFIX,
    SM_ARN_PREFIX,
    Worker,
    assert_event_chain,
    create_sm,
    error_of,
    history,
    pass_definition,
    run,
    start,
    types,
    unique,
    wait_for_event,
    wait_for_execution,
)


def activity_machine(sfn, activity_name=None):
    """A machine whose only state is an activity Task: it blocks until a worker answers."""
    activity_arn = sfn.create_activity(name=activity_name or unique("act"))["activityArn"]
    definition = {"StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity_arn, "End": True}}}
    return activity_arn, create_sm(sfn, definition)["stateMachineArn"]


def test_start_describe_succeeded(sfn):
    sm_arn = create_sm(sfn, pass_definition({"Arg1": "argument1"}))["stateMachineArn"]
    name = unique("exec")
    resp = sfn.start_execution(stateMachineArn=sm_arn, name=name, input=json.dumps({"in": 1}))
    sm_name = sm_arn.rsplit(":", 1)[1]
    assert resp["executionArn"] == f"{EXEC_ARN_PREFIX}{sm_name}:{name}"
    assert isinstance(resp["startDate"], datetime.datetime)

    desc = wait_for_execution(sfn, resp["executionArn"])
    assert desc["status"] == "SUCCEEDED"
    assert desc["name"] == name
    assert desc["stateMachineArn"] == sm_arn
    assert json.loads(desc["input"]) == {"in": 1}
    assert json.loads(desc["output"]) == {"Arg1": "argument1"}
    assert desc["inputDetails"] == {"included": True}
    assert desc["outputDetails"] == {"included": True}
    assert isinstance(desc["startDate"], datetime.datetime)
    assert isinstance(desc["stopDate"], datetime.datetime)
    assert desc["stopDate"] >= desc["startDate"]
    assert desc["redriveCount"] == 0
    assert desc["redriveStatus"] == "NOT_REDRIVABLE"
    assert desc["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"


def test_history_of_pass_machine(sfn):
    exec_arn, _ = run(sfn, pass_definition({"Arg1": "argument1"}), input={})
    events = history(sfn, exec_arn)
    assert types(events) == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    # Ids and previousEventIds as AWS recorded them.
    assert [(e["id"], e["previousEventId"]) for e in events] == [(1, 0), (2, 0), (3, 2), (4, 3)]
    started = events[0]["executionStartedEventDetails"]
    assert json.loads(started["input"]) == {}
    assert started["inputDetails"] == {"truncated": False}
    assert started["roleArn"].startswith("arn:aws:iam::")
    assert events[1]["stateEnteredEventDetails"]["name"] == "State_1"
    exited = events[2]["stateExitedEventDetails"]
    assert exited["name"] == "State_1"
    assert json.loads(exited["output"]) == {"Arg1": "argument1"}
    assert json.loads(events[3]["executionSucceededEventDetails"]["output"]) == {"Arg1": "argument1"}
    assert all(isinstance(e["timestamp"], datetime.datetime) for e in events)


def test_history_paging_reverse_and_no_data(sfn):
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Result": {"x": 1}, "Next": "B"},
            "B": {"Type": "Wait", "Seconds": 1, "Next": "C"},
            "C": {"Type": "Pass", "End": True},
        },
    }
    exec_arn, desc = run(sfn, definition, input={"secret": "s"})
    assert desc["status"] == "SUCCEEDED"
    full = history(sfn, exec_arn)
    assert_event_chain(full)
    assert types(full) == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered",
        "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
    ]

    page1 = sfn.get_execution_history(executionArn=exec_arn, maxResults=3)
    assert [e["id"] for e in page1["events"]] == [1, 2, 3]
    assert page1["nextToken"]
    paged = history(sfn, exec_arn, maxResults=3)
    assert [e["id"] for e in paged] == [e["id"] for e in full]

    rev = history(sfn, exec_arn, reverseOrder=True, maxResults=5)
    assert [e["id"] for e in rev] == list(range(len(full), 0, -1))
    assert rev[0]["type"] == "ExecutionSucceeded"

    bare = history(sfn, exec_arn, includeExecutionData=False)
    assert types(bare) == types(full)
    for e in bare:
        for key, details in e.items():
            if key.endswith("EventDetails"):
                assert "input" not in details and "output" not in details, e


def test_start_idempotent_same_name_and_input(sfn):
    _, sm_arn = activity_machine(sfn)
    name = unique("exec")
    first = sfn.start_execution(stateMachineArn=sm_arn, name=name, input='{"a": 1}')
    again = sfn.start_execution(stateMachineArn=sm_arn, name=name, input='{"a": 1}')
    assert again["executionArn"] == first["executionArn"]
    assert again["startDate"] == first["startDate"]

    err = error_of(sfn.start_execution, stateMachineArn=sm_arn, name=name, input='{"body": "different-data"}')
    assert err["Code"] == "ExecutionAlreadyExists"
    assert err["Message"] == f"Execution Already Exists: '{first['executionArn']}'"
    sfn.stop_execution(executionArn=first["executionArn"])


def test_start_same_name_after_finish_fails(sfn):
    sm_arn = create_sm(sfn, pass_definition())["stateMachineArn"]
    name = unique("exec")
    arn = start(sfn, sm_arn, {"a": 1}, name=name)
    wait_for_execution(sfn, arn)
    # API reference: "If the execution is closed or if the input is different, it returns a
    # 400 ExecutionAlreadyExists error", so the same name and input fail once it is closed.
    err = error_of(sfn.start_execution, stateMachineArn=sm_arn, name=name, input='{"a": 1}')
    assert err["Code"] == "ExecutionAlreadyExists"


def test_list_executions_filter_and_paging(sfn):
    activity_arn, sm_arn = activity_machine(sfn)
    assert sfn.list_executions(stateMachineArn=sm_arn)["executions"] == []
    running = start(sfn, sm_arn, name="running-one")
    stopped = [start(sfn, sm_arn, name=f"stopped-{i}") for i in range(3)]
    for arn in stopped:
        sfn.stop_execution(executionArn=arn)
        wait_for_execution(sfn, arn)

    listed = sfn.list_executions(stateMachineArn=sm_arn, statusFilter="ABORTED")["executions"]
    assert sorted(e["executionArn"] for e in listed) == sorted(stopped)
    assert all(e["status"] == "ABORTED" and isinstance(e["stopDate"], datetime.datetime) for e in listed)

    run_list = sfn.list_executions(stateMachineArn=sm_arn, statusFilter="RUNNING")["executions"]
    assert [e["executionArn"] for e in run_list] == [running]
    assert run_list[0]["name"] == "running-one"
    assert run_list[0]["stateMachineArn"] == sm_arn
    assert "stopDate" not in run_list[0]
    assert sfn.list_executions(stateMachineArn=sm_arn, statusFilter="SUCCEEDED")["executions"] == []

    page1 = sfn.list_executions(stateMachineArn=sm_arn, maxResults=3)
    assert len(page1["executions"]) == 3 and page1["nextToken"]
    page2 = sfn.list_executions(stateMachineArn=sm_arn, maxResults=3, nextToken=page1["nextToken"])
    assert len(page2["executions"]) == 1 and "nextToken" not in page2
    all_arns = [e["executionArn"] for e in page1["executions"] + page2["executions"]]
    assert sorted(all_arns) == sorted(stopped + [running])
    assert all(e["redriveCount"] == 0 for e in page1["executions"] + page2["executions"])
    err = error_of(sfn.list_executions, stateMachineArn=sm_arn, nextToken="InvalidToken")
    assert (err["Code"], err["Message"]) == ("InvalidToken", "Invalid Token: 'Invalid token'")
    # Newest first.
    starts = [e["startDate"] for e in page1["executions"] + page2["executions"]]
    assert starts == sorted(starts, reverse=True)

    err = error_of(sfn.list_executions, stateMachineArn=sm_arn, statusFilter="succeeded")
    assert err["Code"] == "ValidationException"
    assert err["Message"] == (
        "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy "
        "constraint: Member must satisfy enum value set: "
        "[SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"
    )
    sfn.stop_execution(executionArn=running)


def test_stop_execution(sfn):
    _, sm_arn = activity_machine(sfn)
    arn = start(sfn, sm_arn, {"k": "v"})
    wait_for_event(sfn, arn, "ActivityScheduled")
    stop = sfn.stop_execution(executionArn=arn, error="Manual", cause="stopped by the test")
    assert isinstance(stop["stopDate"], datetime.datetime)
    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "ABORTED"
    assert "output" not in desc
    events = history(sfn, arn)
    assert_event_chain(events)
    assert types(events)[:3] == ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled"]
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Manual", "cause": "stopped by the test"}


def test_stop_without_error_has_empty_details(sfn):
    _, sm_arn = activity_machine(sfn)
    arn = start(sfn, sm_arn)
    wait_for_event(sfn, arn, "ActivityScheduled")
    sfn.stop_execution(executionArn=arn)
    assert wait_for_execution(sfn, arn)["status"] == "ABORTED"
    last = history(sfn, arn)[-1]
    assert last["type"] == "ExecutionAborted"
    assert last["executionAbortedEventDetails"] == {}
    # test_sfn_api::test_stop_execution: the stop follows no event.
    assert last["previousEventId"] == 0


def test_failed_execution(sfn):
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "MyError", "Cause": "My cause"}}}
    arn, desc = run(sfn, definition)
    assert desc["status"] == "FAILED"
    assert desc["error"] == "MyError"
    assert desc["cause"] == "My cause"
    assert desc["redriveStatus"] == "REDRIVABLE"
    events = history(sfn, arn)
    assert types(events) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert events[-1]["executionFailedEventDetails"] == {"error": "MyError", "cause": "My cause"}


def test_start_sync_execution_express(sfn):
    sm_arn = create_sm(sfn, pass_definition({"Arg1": "argument1"}), type="EXPRESS")["stateMachineArn"]
    resp = sfn.start_sync_execution(stateMachineArn=sm_arn, input="{}", name="sync-run")
    assert resp["status"] == "SUCCEEDED"
    assert json.loads(resp["output"]) == {"Arg1": "argument1"}
    assert json.loads(resp["input"]) == {}
    assert resp["name"] == "sync-run"
    assert resp["stateMachineArn"] == sm_arn
    sm_name = sm_arn.rsplit(":", 1)[1]
    # Express execution ARNs: arn:aws:states:REGION:ACCOUNT:express:SM:NAME:ID
    assert resp["executionArn"].startswith(f"arn:aws:states:us-east-1:123456789012:express:{sm_name}:sync-run:")
    assert resp["inputDetails"] == {"included": True}
    assert resp["outputDetails"] == {"included": True}
    assert isinstance(resp["startDate"], datetime.datetime)
    assert isinstance(resp["stopDate"], datetime.datetime)
    assert set(resp["billingDetails"]) == {"billedDurationInMilliseconds", "billedMemoryUsedInMB"}


def test_start_sync_execution_failure(sfn):
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}}
    sm_arn = create_sm(sfn, definition, type="EXPRESS")["stateMachineArn"]
    resp = sfn.start_sync_execution(stateMachineArn=sm_arn, input="{}")
    assert resp["status"] == "FAILED"
    assert resp["error"] == "E"
    assert resp["cause"] == "C"
    assert "output" not in resp


def test_express_is_not_standard(sfn):
    std = create_sm(sfn, pass_definition())["stateMachineArn"]
    err = error_of(sfn.start_sync_execution, stateMachineArn=std, input="{}")
    assert err["Code"] == "StateMachineTypeNotSupported"
    assert err["Message"] == "This operation is not supported by this type of state machine"

    express = create_sm(sfn, pass_definition(), type="EXPRESS")["stateMachineArn"]
    err = error_of(sfn.list_executions, stateMachineArn=express)
    assert err["Code"] == "StateMachineTypeNotSupported"
    exec_arn = start(sfn, express, {})
    assert ":express:" in exec_arn
    for call in (sfn.describe_execution, sfn.get_execution_history, sfn.stop_execution):
        err = error_of(call, executionArn=exec_arn)
        assert err["Code"] == "InvalidArn"
        assert err["Message"] == "Invalid Arn: 'Resource type not valid in this context: express'"


def test_execution_errors(sfn):
    missing_exec = f"{EXEC_ARN_PREFIX}{unique('nosm')}:{unique('noexec')}"
    err = error_of(sfn.describe_execution, executionArn=missing_exec)
    assert err["Code"] == "ExecutionDoesNotExist"
    assert err["Message"] == f"Execution Does Not Exist: '{missing_exec}'"
    err = error_of(sfn.get_execution_history, executionArn=missing_exec)
    assert err["Code"] == "ExecutionDoesNotExist"

    missing_sm = SM_ARN_PREFIX + unique("missing")
    err = error_of(sfn.start_execution, stateMachineArn=missing_sm)
    assert err["Code"] == "StateMachineDoesNotExist"
    assert err["Message"] == f"State Machine Does Not Exist: '{missing_sm}'"
    err = error_of(sfn.list_executions, stateMachineArn=missing_sm)
    assert err["Code"] == "StateMachineDoesNotExist"

    for call, arg in (
        (sfn.describe_execution, "executionArn"),
        (sfn.get_execution_history, "executionArn"),
        (sfn.list_executions, "stateMachineArn"),
    ):
        err = error_of(call, **{arg: "invalid_state_machine_arn"})
        assert err["Code"] == "InvalidArn"
        assert err["Message"] == "Invalid Arn: 'Invalid ARN prefix: invalid_state_machine_arn'"


def test_invalid_execution_input(sfn):
    sm_arn = create_sm(sfn, pass_definition())["stateMachineArn"]
    err = error_of(sfn.start_execution, stateMachineArn=sm_arn, input="not some json")
    assert err["Code"] == "InvalidExecutionInput"
    assert err["Message"] == (
        "Invalid State Machine Execution Input: 'Unrecognized token 'not': was expecting "
        "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')'"
    )
    err = error_of(sfn.start_execution, stateMachineArn=sm_arn, input="{'not': 'json'")
    assert err["Code"] == "InvalidExecutionInput"
    assert err["Message"] == (
        "Invalid State Machine Execution Input: 'Unexpected character (''' (code 39)): "
        "was expecting double-quote to start field name'"
    )
    err = error_of(sfn.start_execution, stateMachineArn=sm_arn, input="")
    assert err["Code"] == "InvalidExecutionInput"
    assert err["Message"] == "Invalid State Machine Execution Input: 'Invalid execution input.'"
    # Any JSON value is a valid input (AWS recording: 2, "some text", null).
    for text in ("2", '"some text"', "null"):
        desc = wait_for_execution(sfn, start(sfn, sm_arn, text))
        assert desc["status"] == "SUCCEEDED"
        assert json.loads(desc["output"]) == json.loads(text)


def test_redrive_failed_execution(sfn):
    activity_arn, sm_arn = activity_machine(sfn)
    arn = start(sfn, sm_arn, {"n": 1})

    def fail(client, task):
        client.send_task_failure(taskToken=task["taskToken"], error="Flaky", cause="first try")

    Worker(sfn, activity_arn, fail).finish()
    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "FAILED"
    assert desc["error"] == "Flaky"
    assert desc["redriveStatus"] == "REDRIVABLE"
    assert desc["redriveCount"] == 0

    def succeed(client, task):
        assert json.loads(task["input"]) == {"n": 1}
        client.send_task_success(taskToken=task["taskToken"], output='{"ok": true}')

    worker = Worker(sfn, activity_arn, succeed)
    redrive = sfn.redrive_execution(executionArn=arn)
    assert isinstance(redrive["redriveDate"], datetime.datetime)
    worker.finish()
    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"]) == {"ok": True}
    assert desc["redriveCount"] == 1
    assert isinstance(desc["redriveDate"], datetime.datetime)
    events = history(sfn, arn)
    assert_event_chain(events)
    kinds = types(events)
    assert kinds.index("ExecutionFailed") < kinds.index("ExecutionRedriven") < kinds.index("ExecutionSucceeded")
    redriven = events[kinds.index("ExecutionRedriven")]
    assert redriven["executionRedrivenEventDetails"] == {"redriveCount": 1}


def test_redrive_succeeded_is_not_redrivable(sfn):
    arn, desc = run(sfn, pass_definition())
    assert desc["status"] == "SUCCEEDED"
    err = error_of(sfn.redrive_execution, executionArn=arn)
    assert err["Code"] == "ExecutionNotRedrivable"
