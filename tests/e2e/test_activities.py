"""Activities: Create/Describe/Delete/List, workers answering GetActivityTask with
SendTaskSuccess/Failure/Heartbeat, timeouts, and token errors. Expected values follow AWS
recordings (LocalStack's test_sfn_api_activities / test_activities / test_heartbeats
snapshots) and the API reference. The 60-second empty long poll is in test_zz_long_poll.py."""

import datetime
import json
import time

from helpers import (
    ACTIVITY_ARN_PREFIX,
    Worker,
    assert_event_chain,
    create_sm,
    error_of,
    history,
    start,
    types,
    unique,
    wait_for_execution,
)


def test_create_describe_delete_activity(sfn):
    name = unique("activity.name")
    created = sfn.create_activity(name=name)
    arn = created["activityArn"]
    assert arn == ACTIVITY_ARN_PREFIX + name
    assert isinstance(created["creationDate"], datetime.datetime)
    # Creating it again returns the same activity.
    again = sfn.create_activity(name=name)
    assert again["activityArn"] == arn
    assert again["creationDate"] == created["creationDate"]

    desc = sfn.describe_activity(activityArn=arn)
    assert desc["activityArn"] == arn
    assert desc["name"] == name
    assert desc["creationDate"] == created["creationDate"]
    assert desc["encryptionConfiguration"] == {"type": "AWS_OWNED_KEY"}

    assert sfn.delete_activity(activityArn=arn)["ResponseMetadata"]["HTTPStatusCode"] == 200
    sfn.delete_activity(activityArn=arn)  # deleting twice is fine (AWS recording)
    err = error_of(sfn.describe_activity, activityArn=arn)
    assert err["Code"] == "ActivityDoesNotExist"
    assert err["Message"] == f"Activity Does Not Exist: '{arn}'"
    # No long poll on a deleted activity: the error comes at once.
    t0 = time.monotonic()
    err = error_of(sfn.get_activity_task, activityArn=arn)
    assert err["Code"] == "ActivityDoesNotExist"
    assert time.monotonic() - t0 < 10


def test_activity_errors(sfn):
    err = error_of(sfn.create_activity, name="activity name")
    assert err["Code"] == "InvalidName"
    assert err["Message"] == "Invalid Name: 'activity name'"
    err = error_of(sfn.describe_activity, activityArn="no_an_activity_arn")
    assert err["Code"] == "InvalidArn"
    assert err["Message"] == "Invalid Arn: 'Invalid ARN prefix: no_an_activity_arn'"
    err = error_of(sfn.get_activity_task, activityArn="no_an_activity_arn")
    assert err["Code"] == "InvalidArn"
    assert err["Message"] == "Invalid Arn: 'Invalid ARN prefix: no_an_activity_arn'"


def test_list_activities(sfn):
    prefix = unique("list")
    arns = [sfn.create_activity(name=f"{prefix}-{i}")["activityArn"] for i in range(3)]
    found, token = [], None
    while True:
        page = sfn.list_activities(maxResults=2, **({"nextToken": token} if token else {}))
        assert len(page["activities"]) <= 2
        found.extend(page["activities"])
        token = page.get("nextToken")
        if not token:
            break
    ours = [a for a in found if a["name"].startswith(prefix)]
    assert sorted(a["activityArn"] for a in ours) == sorted(arns)
    assert all(set(a) == {"activityArn", "name", "creationDate"} for a in ours)


def activity_definition(activity_arn, **task_fields):
    task = {"Type": "Task", "Resource": activity_arn, "End": True, **task_fields}
    return {"StartAt": "ActivityTask", "States": {"ActivityTask": task}}


def test_worker_success(sfn):
    activity_arn = sfn.create_activity(name=unique("act"))["activityArn"]
    sm_arn = create_sm(sfn, activity_definition(activity_arn))["stateMachineArn"]

    def echo(client, task):
        client.send_task_heartbeat(taskToken=task["taskToken"])
        client.send_task_success(taskToken=task["taskToken"], output=task["input"])

    worker = Worker(sfn, activity_arn, echo, name="BASE_ID_ACTIVITY_CONSUMER")
    arn = start(sfn, sm_arn, {"Value1": "HelloWorld"})
    tasks = worker.finish()
    assert json.loads(tasks[0]["input"]) == {"Value1": "HelloWorld"}

    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"]) == {"Value1": "HelloWorld"}
    events = history(sfn, arn)
    assert_event_chain(events)
    # As recorded on AWS (test_activity_task).
    assert types(events) == [
        "ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
        "ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]
    assert [e["previousEventId"] for e in events] == [0, 0, 2, 3, 4, 5, 6]
    scheduled = events[2]["activityScheduledEventDetails"]
    assert scheduled["resource"] == activity_arn
    assert json.loads(scheduled["input"]) == {"Value1": "HelloWorld"}
    assert "heartbeatInSeconds" not in scheduled and "timeoutInSeconds" not in scheduled
    assert events[3]["activityStartedEventDetails"] == {"workerName": "BASE_ID_ACTIVITY_CONSUMER"}
    assert json.loads(events[4]["activitySucceededEventDetails"]["output"]) == {"Value1": "HelloWorld"}

    # The token is spent: answering again is TaskTimedOut, as AWS says for a closed task.
    err = error_of(sfn.send_task_success, taskToken=tasks[0]["taskToken"], output="{}")
    assert err["Code"] == "TaskTimedOut"
    assert err["Message"] == "Task Timed Out: 'Provided task does not exist anymore'"


def test_worker_failure_caught(sfn):
    activity_arn = sfn.create_activity(name=unique("act"))["activityArn"]
    definition = {
        "StartAt": "ActivityTask",
        "States": {
            "ActivityTask": {
                "Type": "Task", "Resource": activity_arn, "Next": "Done",
                "Catch": [{"ErrorEquals": ["Programmatic Error"], "ResultPath": "$.err", "Next": "Recovered"}],
            },
            "Recovered": {"Type": "Pass", "End": True},
            "Done": {"Type": "Succeed"},
        },
    }
    sm_arn = create_sm(sfn, definition)["stateMachineArn"]

    def fail(client, task):
        client.send_task_failure(taskToken=task["taskToken"], error="Programmatic Error", cause="bad input")

    worker = Worker(sfn, activity_arn, fail)
    arn = start(sfn, sm_arn, {"Value1": "HelloWorld"})
    worker.finish()
    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"]) == {
        "Value1": "HelloWorld", "err": {"Error": "Programmatic Error", "Cause": "bad input"},
    }
    events = history(sfn, arn)
    assert_event_chain(events)
    failed = [e for e in events if e["type"] == "ActivityFailed"]
    assert failed[0]["activityFailedEventDetails"] == {"error": "Programmatic Error", "cause": "bad input"}
    assert types(events)[-3:] == ["PassStateEntered", "PassStateExited", "ExecutionSucceeded"]


def test_worker_failure_uncaught(sfn):
    activity_arn = sfn.create_activity(name=unique("act"))["activityArn"]
    sm_arn = create_sm(sfn, activity_definition(activity_arn))["stateMachineArn"]

    def fail(client, task):
        client.send_task_failure(taskToken=task["taskToken"], error="Programmatic Error", cause="x")

    worker = Worker(sfn, activity_arn, fail)
    arn = start(sfn, sm_arn, {})
    worker.finish()
    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "FAILED"
    assert desc["error"] == "Programmatic Error"
    assert desc["cause"] == "x"
    # As recorded on AWS (test_activity_task_failure): no TaskStateExited.
    assert types(history(sfn, arn)) == [
        "ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
        "ActivityFailed", "ExecutionFailed",
    ]


def test_bad_tokens(sfn):
    err = error_of(sfn.send_task_success, taskToken="not-a-real-token", output="{}")
    assert err["Code"] == "InvalidToken"
    err = error_of(sfn.send_task_failure, taskToken="not-a-real-token")
    assert err["Code"] == "InvalidToken"
    err = error_of(sfn.send_task_heartbeat, taskToken="not-a-real-token")
    assert err["Code"] == "InvalidToken"


def test_send_task_success_invalid_output(sfn):
    activity_arn = sfn.create_activity(name=unique("act"))["activityArn"]
    sm_arn = create_sm(sfn, activity_definition(activity_arn))["stateMachineArn"]
    seen = {}

    def answer(client, task):
        seen["err"] = error_of(client.send_task_success, taskToken=task["taskToken"], output="not json")
        client.send_task_success(taskToken=task["taskToken"], output='"fine"')

    worker = Worker(sfn, activity_arn, answer)
    arn = start(sfn, sm_arn, {})
    worker.finish()
    assert seen["err"]["Code"] == "InvalidOutput"
    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "SUCCEEDED" and json.loads(desc["output"]) == "fine"


# --- real-time tests: these need timers that are not compressed (own server, --time-scale 1) ---

def test_heartbeats_keep_task_alive(sfn_realtime):
    sfn = sfn_realtime
    activity_arn = sfn.create_activity(name=unique("act"))["activityArn"]
    definition = activity_definition(activity_arn, TimeoutSeconds=60, HeartbeatSeconds=2)
    sm_arn = create_sm(sfn, definition)["stateMachineArn"]

    def slow(client, task):
        # 4 s of work, longer than HeartbeatSeconds, with a heartbeat every second.
        for _ in range(4):
            time.sleep(1)
            client.send_task_heartbeat(taskToken=task["taskToken"])
        client.send_task_success(taskToken=task["taskToken"], output=task["input"])

    worker = Worker(sfn, activity_arn, slow)
    arn = start(sfn, sm_arn, {"Value1": "HelloWorld"})
    worker.finish(timeout=30)
    desc = wait_for_execution(sfn, arn)
    assert desc["status"] == "SUCCEEDED"
    events = history(sfn, arn)
    scheduled = events[2]["activityScheduledEventDetails"]
    assert scheduled["heartbeatInSeconds"] == 2
    assert scheduled["timeoutInSeconds"] == 60
    assert "ActivityTimedOut" not in types(events)


def test_heartbeat_timeout_caught_and_late_answer(sfn_realtime):
    sfn = sfn_realtime
    activity_arn = sfn.create_activity(name=unique("act"))["activityArn"]
    definition = {
        "StartAt": "ActivityTask",
        "States": {
            "ActivityTask": {
                "Type": "Task", "Resource": activity_arn, "TimeoutSeconds": 30, "HeartbeatSeconds": 1,
                "End": True,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "TimedOut"}],
            },
            "TimedOut": {"Type": "Pass", "End": True},
        },
    }
    sm_arn = create_sm(sfn, definition)["stateMachineArn"]
    tokens = []
    worker = Worker(sfn, activity_arn, lambda client, task: tokens.append(task["taskToken"]))
    arn = start(sfn, sm_arn, {"a": 1})
    worker.finish()
    desc = wait_for_execution(sfn, arn, timeout=20)
    assert desc["status"] == "SUCCEEDED"
    # A caught timeout carries an empty Cause (AWS recording, test_invoke_timeout).
    assert json.loads(desc["output"]) == {"a": 1, "timeout": {"Error": "States.Timeout", "Cause": ""}}
    events = history(sfn, arn)
    timed_out = [e for e in events if e["type"] == "ActivityTimedOut"]
    assert timed_out and timed_out[0]["activityTimedOutEventDetails"] == {"error": "States.Timeout"}
    # Answering after the timeout: the task is gone.
    err = error_of(sfn.send_task_success, taskToken=tokens[0], output="{}")
    assert err["Code"] == "TaskTimedOut"


def test_task_timeout_without_worker(sfn_realtime):
    sfn = sfn_realtime
    activity_arn = sfn.create_activity(name=unique("act"))["activityArn"]
    sm_arn = create_sm(sfn, activity_definition(activity_arn, TimeoutSeconds=1))["stateMachineArn"]
    t0 = time.monotonic()
    arn = start(sfn, sm_arn, {})
    desc = wait_for_execution(sfn, arn, timeout=20)
    assert time.monotonic() - t0 >= 0.9
    assert desc["status"] == "FAILED"
    assert desc["error"] == "States.Timeout"
    kinds = types(history(sfn, arn))
    assert kinds == ["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityTimedOut", "ExecutionFailed"]
