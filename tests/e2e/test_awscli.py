"""Runs test_awscli.sh: the AWS CLI (from the venv) against the server."""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_awscli_round_trip(endpoint):
    env = dict(os.environ)
    # The aws script installed next to this Python (target/py-venv/bin/aws) goes first.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        ["bash", str(HERE / "test_awscli.sh"), endpoint],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "awscli e2e: ok" in proc.stdout
