"""StartSyncExecution and TestState through clients with their defaults, which prepend
AWS's `sync-` host prefix to the endpoint's host name (README: "The sync- host prefix").

- `http://127.0.0.1:PORT` becomes `sync-127.0.0.1`, which never resolves: the fix is the
  client's opt-out (AWS_DISABLE_HOST_PREFIX_INJECTION=true; inject_host_prefix=False).
- `http://stepwise.localhost:PORT` becomes `sync-stepwise.localhost`: a name under
  `.localhost` (RFC 6761), which systemd-resolved and nss-myhostname resolve to loopback,
  and curl and Chrome resolve themselves. Where the system's resolver does not (this
  project's test machine: plain /etc/hosts), the Python clients here get a stand-in
  resolver (localhost_resolver/sitecustomize.py) that does what those resolvers do;
  `RESOLVER` says which ran. Either way the server answers whatever Host it is sent.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

import helpers

HERE = Path(__file__).resolve().parent
SHIM = HERE / "localhost_resolver"
EXPRESS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"hello.$": "$.name"}, "End": True}}})


def system_resolves_localhost_names() -> bool:
    try:
        return any(a[4][0] in ("127.0.0.1", "::1") for a in socket.getaddrinfo("sync-stepwise.localhost", 80))
    except OSError:
        return False


RESOLVER = "system" if system_resolves_localhost_names() else "stand-in (sitecustomize)"


@pytest.fixture(scope="module")
def port(endpoint):
    if "127.0.0.1" not in endpoint and "localhost" not in endpoint:
        pytest.skip("needs a server on loopback")
    return int(endpoint.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def express_arn(sfn):
    return helpers.create_sm(sfn, EXPRESS, type="EXPRESS")["stateMachineArn"]


def cli_env(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_DEFAULT_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", **extra)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if RESOLVER != "system":
        env["PYTHONPATH"] = str(SHIM) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def aws(env: dict, endpoint: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["aws", "stepfunctions", "--endpoint-url", endpoint, *args],
                          env=env, capture_output=True, text=True, timeout=60)


def test_default_boto3_through_a_localhost_name(port, express_arn, monkeypatch):
    if RESOLVER != "system":
        sys.path.insert(0, str(SHIM))
        try:
            import sitecustomize as shim  # noqa: F401  (patches socket.getaddrinfo)
            monkeypatch.setattr(socket, "getaddrinfo", shim._localhost_getaddrinfo)
        finally:
            sys.path.remove(str(SHIM))
    client = boto3.client(  # no inject_host_prefix=False: the prefix goes on
        "stepfunctions", region_name="us-east-1", endpoint_url=f"http://stepwise.localhost:{port}",
        aws_access_key_id="test", aws_secret_access_key="test",
    )
    sent = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    out = client.start_sync_execution(stateMachineArn=express_arn, input='{"name": "sync"}')
    assert out["status"] == "SUCCEEDED" and json.loads(out["output"]) == {"hello": "sync"}, (RESOLVER, out)
    ts = client.test_state(definition=json.dumps({"Type": "Pass", "End": True}), roleArn=helpers.ROLE_ARN, input="{}")
    assert ts["status"] == "SUCCEEDED", ts
    assert sent and all(u.startswith(f"http://sync-stepwise.localhost:{port}/") for u in sent), sent


def test_default_aws_cli_through_a_localhost_name(port, express_arn, tmp_path):
    proc = aws(cli_env(tmp_path), f"http://stepwise.localhost:{port}",
               "start-sync-execution", "--state-machine-arn", express_arn, "--input", '{"name": "cli"}')
    assert proc.returncode == 0, (RESOLVER, proc.stderr)
    assert json.loads(json.loads(proc.stdout)["output"]) == {"hello": "cli"}


def test_an_ip_endpoint_needs_the_opt_out(port, express_arn, tmp_path):
    endpoint = f"http://127.0.0.1:{port}"
    args = ("start-sync-execution", "--state-machine-arn", express_arn, "--input", '{"name": "ip"}')
    failed = aws(cli_env(tmp_path), endpoint, *args)
    assert failed.returncode != 0
    assert f'Could not connect to the endpoint URL: "http://sync-127.0.0.1:{port}/"' in failed.stderr, failed.stderr
    ok = aws(cli_env(tmp_path, AWS_DISABLE_HOST_PREFIX_INJECTION="true"), endpoint, *args)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "SUCCEEDED"


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl")
def test_curl_resolves_sync_localhost_names_itself(port):
    # curl maps every *.localhost name to loopback without asking the system; the
    # server answers the prefixed Host like any other.
    proc = subprocess.run(
        ["curl", "-sS", "-m", "10", f"http://sync-stepwise.localhost:{port}/",
         "-H", "Content-Type: application/x-amz-json-1.0",
         "-H", "X-Amz-Target: AWSStepFunctions.TestState",
         "--data", json.dumps({"definition": json.dumps({"Type": "Pass", "Result": 1, "End": True}),
                               "roleArn": helpers.ROLE_ARN})],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["output"] == "1", proc.stdout
