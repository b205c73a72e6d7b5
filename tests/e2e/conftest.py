"""Fixtures for the end-to-end suite: a `stepwise serve` process and boto3 clients for it.

The server comes from env STEPWISE_BIN (path of the binary), started once per session on a
free loopback port with a temporary --data-dir, tests/e2e/mocks.json as --mock-config and
--time-scale 0 (Waits and Retry backoff are instant). With env STEPWISE_ENDPOINT set, that
endpoint is used instead and nothing is started. Without either, every test is skipped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import helpers

HERE = Path(__file__).resolve().parent
MOCKS = HERE / "mocks.json"
LONG_POLL_TEST = "test_zz_long_poll.py"


class Server:
    """One `stepwise serve` child process."""

    def __init__(self, binary: str, time_scale: str, extra_args: tuple[str, ...] = ()):
        self.tmp = tempfile.TemporaryDirectory(prefix="stepwise-e2e-")
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(self.tmp.name) / "server.log"
        data_dir = Path(self.tmp.name) / "data"
        data_dir.mkdir()
        cmd = [
            binary, "serve",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--data-dir", str(data_dir),
            "--mock-config", str(MOCKS),
            "--time-scale", time_scale,
            *extra_args,
        ]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_healthy(timeout=30)

    def log_tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"stepwise serve exited with {self.proc.returncode} before /health:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.endpoint + "/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError(f"stepwise serve not healthy after {timeout}s:\n{self.log_tail()}")

    def stop(self) -> int:
        """SIGTERM, then the exit code (killed and reported as -9 after 20 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return -9
        return self.proc.returncode

    def close(self) -> None:
        self.log.close()
        self.tmp.cleanup()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(time_scale: str):
    """Yields an endpoint: STEPWISE_ENDPOINT as is, or a fresh server from STEPWISE_BIN."""
    external = os.environ.get("STEPWISE_ENDPOINT")
    if external:
        yield external.rstrip("/")
        return
    yield from serve_own(time_scale)


def serve_own(time_scale: str, extra_args: tuple[str, ...] = ()):
    """Yields the endpoint of a fresh server from STEPWISE_BIN, started with `extra_args`;
    checks that it exits 0 on SIGTERM."""
    binary = os.environ.get("STEPWISE_BIN")
    if not binary:
        pytest.skip("set STEPWISE_BIN (path of the stepwise binary) or STEPWISE_ENDPOINT")
    server = Server(binary, time_scale, extra_args)
    try:
        yield server.endpoint
    finally:
        code = server.stop()
        tail = server.log_tail()
        server.close()
        assert code == 0, f"stepwise serve exited with {code} after SIGTERM:\n{tail}"


@pytest.fixture(scope="session")
def endpoint():
    """The server most tests use: --time-scale 0."""
    yield from _serve("0")


@pytest.fixture(scope="session")
def sfn(endpoint):
    client = helpers.client(endpoint)
    yield client
    client.close()


@pytest.fixture(scope="module")
def realtime_endpoint():
    """A second server with --time-scale 1, for tests whose point is a real timeout or
    heartbeat (under --time-scale 0 those timers would fire at once)."""
    yield from _serve("1")


@pytest.fixture(scope="module")
def sfn_realtime(realtime_endpoint):
    client = helpers.client(realtime_endpoint)
    yield client
    client.close()


# --- the one 60-second empty long poll, run in the background for the whole session ---

class LongPollProbe:
    """GetActivityTask on an activity that never gets work, started when the session starts
    so that its 60 s overlap the rest of the suite; test_zz_long_poll.py checks the answer."""

    def __init__(self, sfn):
        self.activity_arn = sfn.create_activity(name=helpers.unique("e2e-empty-poll"))["activityArn"]
        self.started = time.monotonic()
        self.elapsed = None
        self.response = None
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(sfn,), daemon=True)
        self.thread.start()

    def _run(self, sfn):
        try:
            self.response = sfn.get_activity_task(activityArn=self.activity_arn, workerName="idle")
        except Exception as e:  # reported by the test
            self.error = e
        self.elapsed = time.monotonic() - self.started


@pytest.fixture(scope="session", autouse=True)
def long_poll_probe(request):
    # session.items is the final selection (after -k, --deselect): start only if it runs.
    if not any(LONG_POLL_TEST in item.nodeid for item in request.session.items):
        yield None
        return
    sfn = request.getfixturevalue("sfn")
    probe = LongPollProbe(sfn)
    yield probe
    probe.thread.join(timeout=70)
