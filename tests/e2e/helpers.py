"""Shared helpers of the end-to-end suite (clients, unique names, waiting, history)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Callable

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/stepwise-e2e"
SM_ARN_PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:"
EXEC_ARN_PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:"
ACTIVITY_ARN_PREFIX = f"arn:aws:states:{REGION}:{ACCOUNT}:activity:"

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def client(endpoint: str):
    """A boto3 Step Functions client for `endpoint`: dummy keys, no retries, and no `sync-`
    host prefix (StartSyncExecution and TestState would otherwise go to sync-127.0.0.1)."""
    return boto3.client(
        "stepfunctions",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="AKIAE2ETESTKEY000000",
        aws_secret_access_key="e2e-test-secret",
        config=Config(
            inject_host_prefix=False,
            retries={"total_max_attempts": 1},
            read_timeout=75,  # GetActivityTask long-polls for 60 s
            connect_timeout=5,
            max_pool_connections=20,
        ),
    )


def unique(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def pass_definition(result: Any = None, comment: str = "E2E_PASS") -> dict:
    state: dict = {"Type": "Pass", "End": True}
    if result is not None:
        state["Result"] = result
    return {"Comment": comment, "StartAt": "State_1", "States": {"State_1": state}}


def as_text(definition: dict | str) -> str:
    return definition if isinstance(definition, str) else json.dumps(definition)


def create_sm(sfn, definition: dict | str, name: str | None = None, **kwargs) -> dict:
    """CreateStateMachine with a unique name (unless given) and the dummy role."""
    kwargs.setdefault("roleArn", ROLE_ARN)
    return sfn.create_state_machine(
        name=name or unique("sm"), definition=as_text(definition), **kwargs
    )


def start(sfn, sm_arn: str, input: Any = None, **kwargs) -> str:
    if input is not None:
        kwargs["input"] = input if isinstance(input, str) else json.dumps(input)
    return sfn.start_execution(stateMachineArn=sm_arn, **kwargs)["executionArn"]


def wait_for_execution(sfn, execution_arn: str, timeout: float = 30) -> dict:
    """Polls DescribeExecution until the execution leaves RUNNING; returns that description."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        desc = sfn.describe_execution(executionArn=execution_arn)
        if desc["status"] in TERMINAL:
            return desc
        if time.monotonic() > deadline:
            pytest.fail(f"execution still {desc['status']} after {timeout}s: {execution_arn}")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def run(sfn, definition: dict | str, input: Any = None, timeout: float = 30) -> tuple[str, dict]:
    """Creates a machine, runs one execution to its end; returns (execution ARN, description)."""
    sm_arn = create_sm(sfn, definition)["stateMachineArn"]
    arn = start(sfn, sm_arn, input)
    return arn, wait_for_execution(sfn, arn, timeout)


def history(sfn, execution_arn: str, **kwargs) -> list[dict]:
    """All events of GetExecutionHistory, following nextToken."""
    events: list[dict] = []
    token = None
    while True:
        args = dict(kwargs)
        if token:
            args["nextToken"] = token
        page = sfn.get_execution_history(executionArn=execution_arn, **args)
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


def wait_for_event(sfn, execution_arn: str, event_type: str, timeout: float = 30) -> dict:
    """Polls the history until an event of `event_type` appears; returns the last such event."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in history(sfn, execution_arn) if e["type"] == event_type]
        if found:
            return found[-1]
        if time.monotonic() > deadline:
            pytest.fail(f"no {event_type} event after {timeout}s in {execution_arn}")
        time.sleep(0.05)


def assert_event_chain(events: list[dict]) -> None:
    """Ids are 1..n in order; each previousEventId points to an earlier event (AWS gives the
    first state's *StateEntered previousEventId 0, so 0 is allowed too)."""
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "ExecutionStarted"
    assert events[0]["previousEventId"] == 0
    for e in events[1:]:
        assert 0 <= e["previousEventId"] < e["id"], e


def error_of(fn: Callable, *args, **kwargs) -> dict:
    """Calls fn expecting a ClientError; returns its response['Error'] plus the HTTP status."""
    with pytest.raises(ClientError) as exc:
        fn(*args, **kwargs)
    err = dict(exc.value.response["Error"])
    err["HTTPStatusCode"] = exc.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return err


def raw_call(endpoint: str, target: str | None, body: bytes | str, content_type: str = "application/x-amz-json-1.0") -> tuple[int, dict]:
    """An unsigned POST / with X-Amz-Target, as the AWS JSON 1.0 protocol sends it; returns
    (HTTP status, parsed JSON body or {})."""
    data = body.encode() if isinstance(body, str) else body
    headers = {"Content-Type": content_type}
    if target is not None:
        headers["X-Amz-Target"] = target
    req = urllib.request.Request(endpoint + "/", data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    try:
        return status, json.loads(text) if text else {}
    except ValueError:
        return status, {"_raw": text.decode(errors="replace")}


def error_type(body: dict) -> str:
    """The error code of a JSON 1.0 error body: `__type` without its namespace."""
    t = body.get("__type", "")
    return t.rsplit("#", 1)[-1]


class Worker(threading.Thread):
    """An activity worker: polls GetActivityTask until it has handled `count` tasks, answering
    each with `handle(sfn, task)`. Errors are kept and re-raised by `finish()`."""

    def __init__(self, sfn, activity_arn: str, handle: Callable, count: int = 1, name: str = "e2e-worker"):
        super().__init__(daemon=True)
        self.sfn, self.activity_arn, self.handle, self.count, self.worker_name = sfn, activity_arn, handle, count, name
        self.tasks: list[dict] = []
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            deadline = time.monotonic() + 120
            while len(self.tasks) < self.count and time.monotonic() < deadline:
                task = self.sfn.get_activity_task(activityArn=self.activity_arn, workerName=self.worker_name)
                if not task.get("taskToken"):
                    continue
                self.tasks.append(task)
                self.handle(self.sfn, task)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            self.error = e

    def finish(self, timeout: float = 30) -> list[dict]:
        self.join(timeout)
        assert not self.is_alive(), "activity worker did not get its tasks in time"
        if self.error:
            raise self.error
        return self.tasks
