"""Distributed Map ItemBatcher through the API: each child execution gets a batch
({"BatchInput": ..., "Items": [...]}), the Map's output has one element per batch, and
DescribeMapRun counts items (itemCounts) apart from child executions (executionCounts).
Shapes from AWS's recordings (LocalStack's test_base_scenarios and
test_assign_reference_variables snapshots, which read their items from S3)."""

import json

from helpers import run


def batching_machine(tolerated=None):
    m = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
        "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"tag.$": "$.tag"}},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Check",
            "States": {
                "Check": {"Type": "Choice", "Default": "Done", "Choices": [
                    {"Variable": "$.Items[0].v", "StringEquals": "bad", "Next": "Fail"}]},
                "Fail": {"Type": "Fail", "Error": "Bad", "Cause": "a bad batch"},
                "Done": {"Type": "Pass", "End": True},
            },
        },
        "End": True,
    }
    if tolerated is not None:
        m["ToleratedFailureCount"] = tolerated
    return {"StartAt": "Batches", "States": {"Batches": m}}


def map_run_of(sfn, arn):
    runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    assert len(runs) == 1
    return runs[0]["mapRunArn"]


def test_batches_counts_and_children(sfn):
    arn, done = run(sfn, batching_machine(), {"tag": "T", "items": ["a", "b", "c", "d", "e"]})
    assert done["status"] == "SUCCEEDED", done
    batch = lambda *items: {"BatchInput": {"tag": "T"}, "Items": [{"v": v, "i": i} for i, v in items]}
    expected = [batch((0, "a"), (1, "b")), batch((2, "c"), (3, "d")), batch((4, "e"))]
    assert json.loads(done["output"]) == expected

    map_run_arn = map_run_of(sfn, arn)
    desc = sfn.describe_map_run(mapRunArn=map_run_arn)
    assert desc["status"] == "SUCCEEDED"
    assert desc["itemCounts"]["total"] == 5
    assert desc["itemCounts"]["succeeded"] == 5
    assert desc["executionCounts"]["total"] == 3
    assert desc["executionCounts"]["succeeded"] == 3

    children = sfn.list_executions(mapRunArn=map_run_arn)["executions"]
    assert len(children) == 3
    assert all(c["status"] == "SUCCEEDED" and c["mapRunArn"] == map_run_arn for c in children)
    inputs = sorted(
        (json.loads(sfn.describe_execution(executionArn=c["executionArn"])["input"]) for c in children),
        key=lambda i: i["Items"][0]["i"],
    )
    assert inputs == expected


def test_tolerated_failures_count_items(sfn):
    items = {"tag": "T", "items": ["bad", "x", "y", "z"]}
    # The failed batch holds two items: one tolerated failure is not enough.
    arn, done = run(sfn, batching_machine(tolerated=1), items)
    assert done["status"] == "FAILED"
    assert done["error"] == "States.ExceedToleratedFailureThreshold"
    desc = sfn.describe_map_run(mapRunArn=map_run_of(sfn, arn))
    assert desc["status"] == "FAILED"
    assert desc["itemCounts"]["failed"] == 2
    assert desc["executionCounts"]["failed"] == 1

    arn, done = run(sfn, batching_machine(tolerated=2), items)
    assert done["status"] == "SUCCEEDED", done
    out = json.loads(done["output"])
    assert out[0]["Error"] == "Bad" and out[1]["Items"] == [{"v": "y", "i": 2}, {"v": "z", "i": 3}]
    map_run_arn = map_run_of(sfn, arn)
    desc = sfn.describe_map_run(mapRunArn=map_run_arn)
    assert (desc["itemCounts"]["failed"], desc["itemCounts"]["succeeded"], desc["itemCounts"]["total"]) == (2, 2, 4)
    assert (desc["executionCounts"]["failed"], desc["executionCounts"]["succeeded"], desc["executionCounts"]["total"]) == (1, 1, 2)
    statuses = sorted(c["status"] for c in sfn.list_executions(mapRunArn=map_run_arn)["executions"])
    assert statuses == ["FAILED", "SUCCEEDED"]


def test_bad_limit_fails_the_map(sfn):
    definition = batching_machine()
    definition["States"]["Batches"]["ItemBatcher"] = {"MaxItemsPerBatchPath": "$.n"}
    _, done = run(sfn, definition, {"tag": "T", "items": [1], "n": 0})
    assert done["status"] == "FAILED"
    assert done["error"] == "States.Runtime"
    assert done["cause"].endswith("MaxItemsPerBatch must be greater than 0, but was: 0")
