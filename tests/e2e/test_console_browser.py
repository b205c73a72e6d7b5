"""The console in a real browser (Debian's Chromium driven by playwright-core; scripts/test
installs both): a running execution turns SUCCEEDED on its page without a reload, a
callback is approved from the Waiting tasks page, and a hostile state name renders as
text. The browser side is tests/browser/console.cjs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import serve_own
import helpers
from helpers import create_sm, start, wait_for_event, wait_for_execution

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "browser" / "console.cjs"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def server():
    for endpoint in serve_own("1"):
        client = helpers.client(endpoint)
        yield endpoint, client
        client.close()


def browse(scenario: str, endpoint: str, arn: str) -> None:
    r = subprocess.run(
        ["node", str(SCRIPT), scenario, endpoint, arn],
        capture_output=True, text=True, timeout=60, env={**os.environ},
    )
    assert r.returncode == 0, f"{scenario}: {r.stdout}{r.stderr}"


def test_a_running_execution_turns_succeeded_without_a_reload(server):
    endpoint, sfn = server
    sm = create_sm(sfn, {"StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": 3, "Next": "Done"}, "Done": {"Type": "Pass", "End": True}}})
    arn = start(sfn, sm["stateMachineArn"], {})
    browse("live", endpoint, arn)
    assert wait_for_execution(sfn, arn)["status"] == "SUCCEEDED"


def test_a_finished_graph_shows_a_caught_map_and_its_failed_iteration(server):
    endpoint, sfn = server
    sm = create_sm(sfn, {"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 3, "Next": "Fan"}], "Default": "Done"},
        "Fan": {"Type": "Parallel", "Next": "Items", "ResultPath": "$.fan", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]},
        "Items": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.mapped", "MaxConcurrency": 1,
                  "ItemProcessor": {"StartAt": "Each", "States": {
                      "Each": {"Type": "Choice", "Choices": [
                          {"Variable": "$", "NumericEquals": 2, "Next": "Bad"}], "Default": "Good"},
                      "Bad": {"Type": "Fail", "Error": "Two", "Cause": "item two"},
                      "Good": {"Type": "Pass", "End": True}}},
                  "Catch": [{"ErrorEquals": ["Two"], "ResultPath": "$.err", "Next": "Done"}],
                  "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
    arn = start(sfn, sm["stateMachineArn"], {"n": 5, "items": [1, 2, 3]})
    assert wait_for_execution(sfn, arn)["status"] == "SUCCEEDED"
    browse("graph", endpoint, arn)


def test_input_that_is_not_json_is_refused_before_it_is_sent(server):
    endpoint, sfn = server
    sm = create_sm(sfn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    browse("start", endpoint, sm["stateMachineArn"])
    runs = sfn.list_executions(stateMachineArn=sm["stateMachineArn"])["executions"]
    assert len(runs) == 1, "exactly one execution: the valid input's"
    assert sfn.describe_execution(executionArn=runs[0]["executionArn"])["input"] == '{"from": "the browser"}'


def test_a_callback_is_approved_from_the_browser(server):
    endpoint, sfn = server
    sm = create_sm(sfn, {"StartAt": "Approve", "States": {"Approve": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}}, "End": True}}})
    arn = start(sfn, sm["stateMachineArn"], {})
    wait_for_event(sfn, arn, "TaskScheduled")
    browse("approve", endpoint, arn)
    d = wait_for_execution(sfn, arn)
    assert d["status"] == "SUCCEEDED"
    assert d["output"] == '{"approved":"from the browser"}'


def test_a_hostile_state_name_renders_as_text(server):
    endpoint, sfn = server
    sm = create_sm(sfn, {"StartAt": HOSTILE, "States": {HOSTILE: {"Type": "Pass", "End": True}}})
    arn = start(sfn, sm["stateMachineArn"], {})
    wait_for_execution(sfn, arn)
    browse("escape", endpoint, arn)
