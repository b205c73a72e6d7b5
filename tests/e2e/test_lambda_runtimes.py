"""Unmodified Lambda handlers through AWS's own runtime interface client (`bootstrap =
["python", "-m", "awslambdaric", "app.handler"]`), a function behind the Lambda Invoke
API (`endpoint`, served here by a small Invoke-API server), and a `.waitForTaskToken`
Lambda task answered by the function itself with boto3 through AWS_ENDPOINT_URL_SFN."""

from __future__ import annotations

import json
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import serve_own
import helpers
from helpers import create_sm, history, start, types, wait_for_execution

APP = '''
import os, time
import boto3

STARTED = time.time()

def handler(event, context):
    """Charges the amount; a warm process keeps its start time and pid."""
    if event.get("amount", 0) < 0:
        raise ValueError("negative amount")
    return {
        "charged": event["amount"],
        "pid": os.getpid(),
        "started": STARTED,
        "request_id": context.aws_request_id,
        "function": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }

def approve(event, context):
    """A warehouse confirming through the callback API, as on AWS."""
    sfn = boto3.client("stepfunctions", region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="x")
    sfn.send_task_success(taskToken=event["token"], output='{"packed": true}')
    return {"sent": True}
'''


class InvokeApi(BaseHTTPRequestHandler):
    """The Lambda Invoke REST API for one function, `thumbnails`."""

    calls: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
        InvokeApi.calls.append({"path": self.path, "type": self.headers.get("X-Amz-Invocation-Type")})
        if self.path != "/2015-03-31/functions/thumbnails/invocations":
            data = json.dumps({"Type": "User", "Message": f"Function not found: {self.path}"}).encode()
            self.send_response(404)
            self.send_header("x-amzn-ErrorType", "ResourceNotFoundException")
        elif body.get("fail"):
            data = json.dumps({"errorType": "ThumbnailError", "errorMessage": "bad frame"}).encode()
            self.send_response(200)
            self.send_header("X-Amz-Function-Error", "Unhandled")
        else:
            data = json.dumps({"thumbnails": [f"{body['video']}-{i}.jpg" for i in range(2)]}).encode()
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Amz-Executed-Version", "$LATEST")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def invoke_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), InvokeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def sfn(invoke_api, tmp_path_factory):
    root = tmp_path_factory.mktemp("runtimes")
    (root / "fn").mkdir()
    (root / "fn" / "app.py").write_text(textwrap.dedent(APP))
    python = sys.executable
    (root / "stepwise.toml").write_text(textwrap.dedent(f'''
        [functions.charge]
        bootstrap = ["{python}", "-m", "awslambdaric", "app.handler"]
        cwd = "fn"
        timeout = 10
        concurrency = 2

        [functions.approve]
        bootstrap = ["{python}", "-m", "awslambdaric", "app.approve"]
        cwd = "fn"
        timeout = 10

        [functions.thumbnails]
        endpoint = "{invoke_api}"

        [functions.missing]
        endpoint = "{invoke_api}"
        function_name = "not-there"
    '''))
    for endpoint in serve_own("1", ("--config", str(root / "stepwise.toml"))):
        client = helpers.client(endpoint)
        yield client
        client.close()


def task(resource: str, parameters: dict | None = None, **extra) -> dict:
    state = {"Type": "Task", "Resource": resource, "End": True, **extra}
    if parameters is not None:
        state["Parameters"] = parameters
    return {"StartAt": "T", "States": {"T": state}}


def run(sfn, definition, input=None):
    arn = start(sfn, create_sm(sfn, definition)["stateMachineArn"], input if input is not None else {})
    return arn, wait_for_execution(sfn, arn, timeout=60)


def test_an_awslambdaric_handler_runs_warm(sfn):
    definition = task("arn:aws:states:::lambda:invoke", {"FunctionName": "charge", "Payload.$": "$"})
    _, first = run(sfn, definition, {"amount": 12})
    _, second = run(sfn, definition, {"amount": 30})
    assert first["status"] == "SUCCEEDED", first
    assert second["status"] == "SUCCEEDED", second
    a = json.loads(first["output"])["Payload"]
    b = json.loads(second["output"])["Payload"]
    assert (a["charged"], b["charged"]) == (12, 30)
    assert a["function"] == "charge"
    assert 0 < a["remaining_ms"] <= 10_000
    # The same warm process answered both.
    assert (a["pid"], a["started"]) == (b["pid"], b["started"])
    assert a["request_id"] == json.loads(first["output"])["SdkResponseMetadata"]["RequestId"]


def test_a_handler_exception_is_its_type_with_the_stack_trace(sfn):
    arn, d = run(sfn, task("arn:aws:lambda:us-east-1:123456789012:function:charge"), {"amount": -1})
    assert d["status"] == "FAILED"
    assert d["error"] == "ValueError"
    cause = json.loads(d["cause"])
    assert cause["errorMessage"] == "negative amount"
    assert cause["stackTrace"], cause
    assert types(history(sfn, arn))[-2:] == ["LambdaFunctionFailed", "ExecutionFailed"]


def test_a_wait_for_task_token_lambda_is_answered_by_the_function_with_boto3(sfn):
    definition = task("arn:aws:states:::lambda:invoke.waitForTaskToken",
                      {"FunctionName": "approve", "Payload": {"token.$": "$$.Task.Token"}})
    arn, d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == {"packed": True}
    scheduled = [e for e in history(sfn, arn) if e["type"] == "TaskScheduled"][0]
    assert scheduled["taskScheduledEventDetails"]["resource"] == "invoke.waitForTaskToken"


def test_an_endpoint_function_is_called_over_the_invoke_api(sfn):
    InvokeApi.calls.clear()
    _, d = run(sfn, task("arn:aws:states:::lambda:invoke", {"FunctionName": "thumbnails", "Payload": {"video": "v1"}}))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["Payload"] == {"thumbnails": ["v1-0.jpg", "v1-1.jpg"]}
    assert InvokeApi.calls == [{"path": "/2015-03-31/functions/thumbnails/invocations", "type": "RequestResponse"}]
    _, d = run(sfn, task("arn:aws:states:::lambda:invoke", {"FunctionName": "thumbnails", "Payload": {"fail": True}}))
    assert d["status"] == "FAILED"
    assert d["error"] == "ThumbnailError"
    _, d = run(sfn, task("arn:aws:states:::lambda:invoke", {"FunctionName": "missing", "Payload": {}}))
    assert d["status"] == "FAILED"
    assert d["error"] == "Lambda.ResourceNotFoundException"
    assert "Status Code: 404" in d["cause"]
