"""Distributed Map: ListMapRuns, DescribeMapRun, UpdateMapRun. Shapes follow AWS recordings
(LocalStack's test_sfn_api_map_run and scenario snapshots). Each item runs an activity Task
in a child execution, so the map run stays RUNNING until the test's worker answers."""

import datetime
import json

from helpers import (
    Worker,
    create_sm,
    error_of,
    history,
    start,
    types,
    unique,
    wait_for_event,
    wait_for_execution,
)


def start_distributed_map(sfn):
    """A machine whose Distributed Map runs an activity Task per item, started on two
    items: returns (machine ARN, execution ARN, Map Run ARN, activity ARN)."""
    activity_arn = sfn.create_activity(name=unique("act"))["activityArn"]
    definition = {
        "StartAt": "MapState",
        "States": {"MapState": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Work",
                "States": {"Work": {"Type": "Task", "Resource": activity_arn, "End": True}},
            },
            "End": True,
        }},
    }
    sm = create_sm(sfn, definition)
    sm_arn, sm_name = sm["stateMachineArn"], sm["stateMachineArn"].rsplit(":", 1)[1]
    arn = start(sfn, sm_arn, {"items": [1, 2]})

    started = wait_for_event(sfn, arn, "MapRunStarted")
    map_run_arn = started["mapRunStartedEventDetails"]["mapRunArn"]
    assert map_run_arn.startswith(f"arn:aws:states:us-east-1:123456789012:mapRun:{sm_name}/")

    return sm_arn, arn, map_run_arn, activity_arn


def test_distributed_map_run(sfn):
    sm_arn, arn, map_run_arn, activity_arn = start_distributed_map(sfn)
    runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    assert len(runs) == 1
    assert runs[0]["mapRunArn"] == map_run_arn
    assert runs[0]["executionArn"] == arn
    # The map run's "state machine" is the machine's ARN plus "/<label>".
    assert runs[0]["stateMachineArn"].startswith(f"{sm_arn}/")
    assert isinstance(runs[0]["startDate"], datetime.datetime)

    desc = sfn.describe_map_run(mapRunArn=map_run_arn)
    assert desc["status"] == "RUNNING"
    assert desc["maxConcurrency"] == 1
    assert desc["toleratedFailureCount"] == 0
    assert desc["toleratedFailurePercentage"] == 0.0
    assert desc["executionArn"] == arn
    assert desc["itemCounts"]["total"] == 2

    sfn.update_map_run(mapRunArn=map_run_arn, maxConcurrency=2, toleratedFailurePercentage=50, toleratedFailureCount=1)
    desc = sfn.describe_map_run(mapRunArn=map_run_arn)
    assert desc["maxConcurrency"] == 2
    assert desc["toleratedFailurePercentage"] == 50.0
    assert desc["toleratedFailureCount"] == 1

    def double(client, task):
        client.send_task_success(taskToken=task["taskToken"], output=json.dumps(json.loads(task["input"]) * 2))

    Worker(sfn, activity_arn, double, count=2).finish(timeout=60)
    done = wait_for_execution(sfn, arn)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == [2, 4]

    desc = sfn.describe_map_run(mapRunArn=map_run_arn)
    assert desc["status"] == "SUCCEEDED"
    assert isinstance(desc["stopDate"], datetime.datetime)
    counts = {"aborted": 0, "failed": 0, "pending": 0, "resultsWritten": 2, "running": 0,
              "succeeded": 2, "timedOut": 0, "total": 2}
    assert desc["itemCounts"] == counts
    assert desc["executionCounts"] == counts

    kinds = types(history(sfn, arn))
    assert kinds == [
        "ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted",
        "MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded",
    ]



def test_map_run_child_executions(sfn):
    """Child executions of a Distributed Map are listed under their Map Run, each with
    its own description and history."""
    sm_arn, arn, map_run_arn, activity_arn = start_distributed_map(sfn)
    label_machine = map_run_arn.split(":mapRun:", 1)[1].rsplit(":", 1)[0]

    # MaxConcurrency 1: one child runs, the other has not started.
    running = sfn.list_executions(mapRunArn=map_run_arn)["executions"]
    assert [c["status"] for c in running] == ["RUNNING"]

    def echo(client, task):
        client.send_task_success(taskToken=task["taskToken"], output=task["input"])

    Worker(sfn, activity_arn, echo, count=2).finish(timeout=60)
    assert wait_for_execution(sfn, arn)["status"] == "SUCCEEDED"
    children = sfn.list_executions(mapRunArn=map_run_arn)["executions"]
    assert len(children) == 2
    assert all(c["status"] == "SUCCEEDED" and c["mapRunArn"] == map_run_arn for c in children)
    assert all(c["stateMachineArn"] == f"arn:aws:states:us-east-1:123456789012:stateMachine:{label_machine}"
               for c in children)
    assert all(c["executionArn"].startswith(
        f"arn:aws:states:us-east-1:123456789012:execution:{label_machine}:") for c in children)
    # Filters and paging work as for any listing.
    assert sfn.list_executions(mapRunArn=map_run_arn, statusFilter="FAILED")["executions"] == []
    page = sfn.list_executions(mapRunArn=map_run_arn, maxResults=1)
    assert len(page["executions"]) == 1 and "nextToken" in page
    # The parent machine's listing does not show them.
    parent_list = sfn.list_executions(stateMachineArn=sm_arn)["executions"]
    assert [e["executionArn"] for e in parent_list] == [arn]

    inputs = []
    for c in children:
        desc = sfn.describe_execution(executionArn=c["executionArn"])
        assert desc["status"] == "SUCCEEDED"
        assert desc["mapRunArn"] == map_run_arn
        assert json.loads(desc["output"]) == json.loads(desc["input"])
        inputs.append(json.loads(desc["input"]))
        events = history(sfn, c["executionArn"])
        assert types(events) == [
            "ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
            "ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded",
        ]
        assert [e["id"] for e in events] == list(range(1, 8))
        sm = sfn.describe_state_machine_for_execution(executionArn=c["executionArn"])
        assert sm["mapRunArn"] == map_run_arn
        assert sm["label"] == label_machine.split("/", 1)[1]
        assert sm["roleArn"]
    assert sorted(inputs) == [1, 2]


def test_stopping_the_parent_aborts_map_run_children(sfn):
    _, arn, map_run_arn, _ = start_distributed_map(sfn)
    wait_for_event(sfn, arn, "MapRunStarted")
    sfn.stop_execution(executionArn=arn)
    children = sfn.list_executions(mapRunArn=map_run_arn)["executions"]
    assert [c["status"] for c in children] == ["ABORTED"]
    assert types(history(sfn, children[0]["executionArn"]))[-1] == "ExecutionAborted"


def test_redriven_map_run_redrives_the_failed_child(sfn):
    """A failed item's child execution runs again under the same ARN when the parent is
    redriven: RUNNING again, then SUCCEEDED, with redriveCount 1 and ExecutionRedriven."""
    _, arn, map_run_arn, activity_arn = start_distributed_map(sfn)
    answers = iter(["fail", "ok"])

    def first_fails(client, task):
        if next(answers) == "fail":
            client.send_task_failure(taskToken=task["taskToken"], error="Boom", cause="first")
        else:
            client.send_task_success(taskToken=task["taskToken"], output=task["input"])

    # MaxConcurrency 1: the first item fails, the Map Run fails, the second never starts.
    Worker(sfn, activity_arn, first_fails, count=1).finish(timeout=60)
    assert wait_for_execution(sfn, arn)["status"] == "FAILED"
    [failed] = sfn.list_executions(mapRunArn=map_run_arn)["executions"]
    assert failed["status"] == "FAILED"

    sfn.redrive_execution(executionArn=arn)
    Worker(sfn, activity_arn, lambda c, t: c.send_task_success(taskToken=t["taskToken"], output=t["input"]),
           count=2).finish(timeout=60)
    assert wait_for_execution(sfn, arn)["status"] == "SUCCEEDED"
    children = {c["executionArn"]: c for c in sfn.list_executions(mapRunArn=map_run_arn)["executions"]}
    assert len(children) == 2
    again = sfn.describe_execution(executionArn=failed["executionArn"])
    assert again["status"] == "SUCCEEDED"
    assert again.get("redriveCount") == 1
    kinds = types(history(sfn, failed["executionArn"]))
    assert kinds[kinds.index("ExecutionFailed") + 1] == "ExecutionRedriven"
    assert kinds[-1] == "ExecutionSucceeded"


def test_map_run_errors(sfn):
    missing = f"arn:aws:states:us-east-1:123456789012:mapRun:{unique('sm')}/label:{unique('id')}"
    err = error_of(sfn.describe_map_run, mapRunArn=missing)
    assert err["Code"] == "ResourceNotFound"
    err = error_of(sfn.update_map_run, mapRunArn=missing, maxConcurrency=3)
    assert err["Code"] == "ResourceNotFound"
    err = error_of(sfn.list_executions, mapRunArn=missing)
    assert err["Code"] == "ResourceNotFound"
