"""`stepwise serve --mock-config A --mock-config B`: the files are merged (each test case
answers from its own file's responses); the same test case in two files stops the server
with an error naming both."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

import helpers
from conftest import MOCKS, serve_own

SECOND = {
    "StateMachines": {"e2e-mocked-order": {"TestCases": {"FromSecondFile": {"Charge": "ChargeApproved"}}}},
    # Same name as a response of mocks.json, another answer: this file's test case gets this one.
    "MockedResponses": {"ChargeApproved": {"0": {"Return": {"Payload": {"status": "SECOND"}}}}},
}
ORDER = {
    "StartAt": "Charge",
    "States": {"Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                          "Parameters": {"FunctionName": "charge"}, "OutputPath": "$.Payload", "End": True}},
}


@pytest.fixture(scope="module")
def two_files_endpoint(tmp_path_factory):
    second = tmp_path_factory.mktemp("mocks") / "second.json"
    second.write_text(json.dumps(SECOND))
    yield from serve_own("0", ("--mock-config", str(second)))


def test_test_cases_of_both_files_answer_from_their_own_file(two_files_endpoint):
    sfn = helpers.client(two_files_endpoint)
    arn = helpers.create_sm(sfn, ORDER, name="e2e-mocked-order")["stateMachineArn"]
    outputs = {}
    for case in ("HappyPath", "FromSecondFile"):
        desc = helpers.wait_for_execution(sfn, helpers.start(sfn, f"{arn}#{case}"))
        assert desc["status"] == "SUCCEEDED", desc
        outputs[case] = json.loads(desc["output"])["status"]
    assert outputs == {"HappyPath": "APPROVED", "FromSecondFile": "SECOND"}


def test_the_same_test_case_in_two_files_is_an_error_naming_both(tmp_path):
    binary = os.environ.get("STEPWISE_BIN")
    if not binary:
        pytest.skip("set STEPWISE_BIN")
    copy = tmp_path / "copy.json"
    copy.write_text(MOCKS.read_text())
    proc = subprocess.run(
        [binary, "serve", "--port", "0", "--data-dir", str(tmp_path / "data"),
         "--mock-config", str(MOCKS), "--mock-config", str(copy)],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"is defined in both {MOCKS} and {copy}" in proc.stderr, proc.stderr
