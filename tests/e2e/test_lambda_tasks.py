"""Task states that call real functions: `stepwise serve --config stepwise.toml` with
`command` functions (one process per invocation, the event on stdin, the result on
stdout), through `arn:aws:states:::lambda:invoke` and bare function ARNs. Shapes and
events follow AWS's recordings (LocalStack's lambda task snapshots)."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import serve_own
import helpers
from helpers import create_sm, history, start, types, wait_for_event, wait_for_execution

FUNCTIONS = {
    # Echoes its event, with its process id (so a test can see a process per call).
    "echo": """
        import json, os, sys
        event = json.load(sys.stdin)
        print(json.dumps({"event": event, "pid": os.getpid(), "name": os.environ["AWS_LAMBDA_FUNCTION_NAME"]}))
    """,
    # Fails the Lambda way: an error object and a non-zero exit.
    "decline": """
        import json, sys
        event = json.load(sys.stdin)
        print(json.dumps({"errorType": "CardDeclined", "errorMessage": "card ending " + event["card"][-4:] + " was declined"}))
        sys.exit(1)
    """,
    # Crashes without saying why.
    "crash": """
        import sys
        sys.stderr.write("Traceback: something broke\\n")
        sys.exit(3)
    """,
    # Runs past its 1-second timeout, after writing a file the test watches.
    "slow": """
        import os, sys, time
        open(os.environ["MARKER"], "w").write(str(os.getpid()))
        time.sleep(30)
    """,
    # Fails on the first call of an order, succeeds on the next (a Retry's second attempt).
    "flaky": """
        import json, os, sys
        event = json.load(sys.stdin)
        seen = os.path.join(os.environ["STATE_DIR"], "flaky-" + event["order"])
        if not os.path.exists(seen):
            open(seen, "w").close()
            print(json.dumps({"errorType": "Busy", "errorMessage": "try again"}))
            sys.exit(1)
        print(json.dumps({"ok": event["order"]}))
    """,
    # Like slow, with a long timeout of its own (a state's TimeoutSeconds ends it).
    "sleepy": """
        import os, sys, time
        open(os.environ["SLEEPY"], "w").write(str(os.getpid()))
        time.sleep(30)
    """,
    # Floods stdout past Lambda's 6 MB response limit.
    "flood": """
        import sys
        sys.stdin.read()
        chunk = "x" * 65536
        for _ in range(120):
            sys.stdout.write(chunk)
    """,
    # Prints something that is not JSON.
    "garbage": """
        print("this is not json")
    """,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("lambda-tasks")
    fn = root / "fn"
    fn.mkdir()
    state = root / "state"
    state.mkdir()
    lines = []
    for name, body in FUNCTIONS.items():
        (fn / f"{name}.py").write_text(textwrap.dedent(body))
        lines.append(f'[functions.{name}]\ncommand = ["{sys.executable}", "fn/{name}.py"]')
        lines.append({"slow": "timeout = 1", "sleepy": "timeout = 60"}.get(name, ""))
        lines.append(
            f'environment = {{ STATE_DIR = "{state}", MARKER = "{state / "slow.pid"}", SLEEPY = "{state / "sleepy.pid"}" }}\n'
        )
    config = root / "stepwise.toml"
    config.write_text("\n".join(lines))
    return root, config, state


@pytest.fixture(scope="module")
def sfn(world):
    _, config, _ = world
    for endpoint in serve_own("1", ("--config", str(config))):
        client = helpers.client(endpoint)
        yield client
        client.close()


def invoke_definition(function: str, payload: dict | None = None, **task) -> dict:
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function, "Payload.$": "$"} if payload is None else {"FunctionName": function, "Payload": payload},
        "End": True,
        **task,
    }
    return {"StartAt": "Call", "States": {"Call": state}}


def _renamed(definition: dict, name: str) -> dict:
    """The one-state definition with its state called `name`."""
    (state,) = definition["States"].values()
    return {"StartAt": name, "States": {name: state}}


def run(sfn, definition, input=None, timeout=30):
    sm = create_sm(sfn, definition)["stateMachineArn"]
    arn = start(sfn, sm, input if input is not None else {})
    return arn, wait_for_execution(sfn, arn, timeout=timeout)


def test_lambda_invoke_returns_the_payload_with_aws_metadata(sfn):
    arn, d = run(sfn, invoke_definition("echo"), {"order": "o-1"})
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["Payload"]["event"] == {"order": "o-1"}
    assert out["Payload"]["name"] == "echo"
    assert out["StatusCode"] == 200
    assert out["ExecutedVersion"] == "$LATEST"
    meta = out["SdkHttpMetadata"]
    assert meta["HttpStatusCode"] == 200
    assert meta["AllHttpHeaders"]["x-amzn-RequestId"] == [out["SdkResponseMetadata"]["RequestId"]]
    raw = json.dumps(out["Payload"], separators=(",", ":"))
    assert int(meta["HttpHeaders"]["Content-Length"]) >= len("{}")
    assert list(out) == ["ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode"]
    events = history(sfn, arn)
    assert types(events) == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
        "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]
    scheduled = events[2]["taskScheduledEventDetails"]
    assert scheduled["resourceType"] == "lambda" and scheduled["resource"] == "invoke"
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "echo", "Payload": {"order": "o-1"}}
    assert events[3]["taskStartedEventDetails"] == {"resource": "invoke", "resourceType": "lambda"}
    assert raw  # the payload round-trips as JSON


def test_a_function_arn_as_function_name(sfn):
    name = "arn:aws:lambda:us-east-1:123456789012:function:echo:$LATEST"
    _, d = run(sfn, invoke_definition(name, {"x": 1}))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["Payload"]["event"] == {"x": 1}


def test_each_invocation_is_its_own_process(sfn):
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
            _renamed(invoke_definition("echo", {"b": i}, ResultSelector={"pid.$": "$.Payload.pid"}), f"Call{i}")
            for i in range(3)
        ]}},
    }
    _, d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    pids = [b["pid"] for b in json.loads(d["output"])]
    assert len(set(pids)) == 3


def test_a_bare_function_arn_gets_lambda_events_and_the_payload(sfn):
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo", "End": True}}}
    arn, d = run(sfn, definition, {"a": [1, 2]})
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["event"] == {"a": [1, 2]}
    events = history(sfn, arn)
    assert types(events) == [
        "ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
        "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]
    sched = events[2]["lambdaFunctionScheduledEventDetails"]
    assert sched["resource"] == "arn:aws:lambda:us-east-1:123456789012:function:echo"
    assert json.loads(sched["input"]) == {"a": [1, 2]}


def test_a_function_error_is_its_error_type_and_can_be_caught(sfn):
    definition = invoke_definition("decline", {"card": "4111111111111111"}, Catch=[
        {"ErrorEquals": ["CardDeclined"], "ResultPath": "$.error", "Next": "Compensate"}])
    definition["States"]["Compensate"] = {"Type": "Pass", "End": True}
    arn, d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    err = json.loads(d["output"])["error"]
    assert err["Error"] == "CardDeclined"
    cause = json.loads(err["Cause"])
    assert cause == {"errorType": "CardDeclined", "errorMessage": "card ending 1111 was declined"}
    failed = [e for e in history(sfn, arn) if e["type"] == "TaskFailed"][0]["taskFailedEventDetails"]
    assert failed["error"] == "CardDeclined" and failed["resource"] == "invoke"


def test_a_bare_arn_error_fails_the_execution_with_lambda_events(sfn):
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:decline", "End": True}}}
    arn, d = run(sfn, definition, {"card": "5500000000000004"})
    assert d["status"] == "FAILED"
    assert d["error"] == "CardDeclined"
    assert "0004 was declined" in d["cause"]
    assert "LambdaFunctionFailed" in types(history(sfn, arn))


def test_a_crash_without_an_error_object_is_lambda_unknown_with_stderr(sfn):
    _, d = run(sfn, invoke_definition("crash", {}))
    assert d["status"] == "FAILED"
    assert d["error"] == "Lambda.Unknown"
    assert "exited with status 3" in d["cause"]
    assert "Traceback: something broke" in d["cause"]


def test_output_that_is_not_json_is_a_string_payload(sfn):
    _, d = run(sfn, invoke_definition("garbage", {}))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["Payload"] == "this is not json\n"


def test_a_function_past_its_timeout_is_killed_and_times_out_as_lambda_does(sfn, world):
    _, _, state = world
    marker = state / "slow.pid"
    marker.unlink(missing_ok=True)
    _, d = run(sfn, invoke_definition("slow", {}))
    assert d["status"] == "FAILED"
    assert d["error"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in d["cause"]
    pid = int(marker.read_text())
    assert not _alive(pid), "the timed-out process still runs"


def test_retry_calls_again(sfn):
    definition = invoke_definition("flaky", {"order": helpers.unique("o")}, Retry=[
        {"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}])
    arn, d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["Payload"]["ok"].startswith("o-")
    assert types(history(sfn, arn)).count("TaskScheduled") == 2


def test_an_unconfigured_function_names_the_config_key(sfn):
    _, d = run(sfn, invoke_definition("nope", {}))
    assert d["status"] == "FAILED"
    assert d["error"] == "Lambda.ResourceNotFoundException"
    assert "[functions.nope]" in d["cause"]
    assert "function:nope:$LATEST" in d["cause"]


def test_stopping_an_execution_kills_its_running_function(sfn, world):
    _, _, state = world
    marker = state / "slow.pid"
    marker.unlink(missing_ok=True)
    sm = create_sm(sfn, invoke_definition("slow", {}))["stateMachineArn"]
    arn = start(sfn, sm, {})
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    pid = int(marker.read_text())
    sfn.stop_execution(executionArn=arn)
    assert wait_for_execution(sfn, arn)["status"] == "ABORTED"
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(pid), "stopping the execution left its function running"


def test_timeout_seconds_of_the_state_ends_the_call(sfn, world):
    _, _, state = world
    marker = state / "sleepy.pid"
    marker.unlink(missing_ok=True)
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:sleepy",
        "TimeoutSeconds": 1, "End": True}}}
    arn, d = run(sfn, definition)
    assert d["status"] == "FAILED"
    assert d["error"] == "States.Timeout"
    assert "LambdaFunctionTimedOut" in types(history(sfn, arn))
    pid = int(marker.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(pid), "the timed-out call left its function running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purpose.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_a_flood_of_output_fails_with_lambdas_size_error_and_the_server_goes_on(sfn):
    _, d = run(sfn, invoke_definition("flood", {}))
    assert d["status"] == "FAILED"
    assert d["error"] == "Function.ResponseSizeTooLarge"
    assert "6291556 bytes" in d["cause"]
    _, ok = run(sfn, invoke_definition("echo", {"after": "flood"}))
    assert ok["status"] == "SUCCEEDED", ok


def test_mocks_come_first_a_mocked_state_is_never_called(sfn, world):
    _, _, state = world
    marker = state / "slow.pid"
    marker.unlink(missing_ok=True)
    definition = invoke_definition("slow", {})
    definition["States"]["Charge"] = definition["States"].pop("Call")
    definition["StartAt"] = "Charge"
    sm = create_sm(sfn, definition, name="e2e-mocked-order")["stateMachineArn"]
    arn = start(sfn, f"{sm}#HappyPath", {})
    d = wait_for_execution(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["Payload"] == {"status": "APPROVED", "amount": 42}
    assert not marker.exists(), "the mocked function ran"
    # Without the test case, the same state calls the function.
    arn = start(sfn, sm, {})
    assert wait_for_execution(sfn, arn)["error"] == "Sandbox.Timedout"
    assert marker.exists()


def test_an_event_invocation_answers_202_at_once_and_the_function_still_runs(sfn, world):
    _, _, state = world
    marker = state / "slow.pid"
    marker.unlink(missing_ok=True)
    definition = invoke_definition("slow", {"async": True})
    definition["States"]["Call"]["Parameters"]["InvocationType"] = "Event"
    _, d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["StatusCode"] == 202
    assert out["Payload"] == ""
    assert "ExecutedVersion" not in out
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists(), "the queued invocation never ran"
