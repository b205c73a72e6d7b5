"""README.md's walkthrough, run as a new user would: every shell block that follows a
`<!-- walkthrough -->` line, in order, in one bash (`set -euo pipefail`) from the
repository's root, against a fresh `stepwise serve` (real time), with the AWS CLI of the
test venv and nothing else set: no AWS_* variables, a HOME without ~/.aws. Only
`localhost:8083` is replaced by this server's port. A command of the walkthrough that
fails fails the test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import serve_own

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
README = ROOT / "README.md"
MARK = "<!-- walkthrough -->"


def walkthrough_blocks(text: str) -> list[str]:
    """The ```sh blocks right after each MARK line, in order."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        assert j < len(lines) and lines[j].strip() == "```sh", f"README.md line {i + 1}: {MARK} is not followed by a ```sh block"
        end = next((k for k in range(j + 1, len(lines)) if lines[k].strip() == "```"), None)
        assert end is not None, f"README.md line {j + 1}: unclosed block"
        blocks.append("\n".join(lines[j + 1:end]))
    return blocks


@pytest.fixture(scope="module")
def port():
    for endpoint in serve_own("1"):
        yield int(endpoint.rsplit(":", 1)[1])


def new_user_env(home: Path) -> dict:
    """The environment of a user who only followed the README: the venv's `aws` first on
    PATH, no AWS_* variables and no ~/.aws."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(home)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_bash(script: str, env: dict, port: int) -> subprocess.CompletedProcess:
    script = script.replace("localhost:8083", f"localhost:{port}")
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_the_walkthrough_runs_as_written(port, tmp_path):
    blocks = walkthrough_blocks(README.read_text())
    assert len(blocks) >= 3, "README.md marks fewer walkthrough blocks than expected"
    proc = run_bash("\n".join(blocks), new_user_env(tmp_path), port)
    assert proc.returncode == 0, f"a README command failed\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    # The standard execution's description, then the synchronous one's answer.
    assert re.search(r'"status": "SUCCEEDED"', proc.stdout), proc.stdout
    assert "Hello, Ada!" in proc.stdout and "Bonjour, Ada !" in proc.stdout, proc.stdout
    # Twice in a row works too (names are reused, executions are new).
    again = run_bash("\n".join(blocks), new_user_env(tmp_path), port)
    assert again.returncode == 0, f"stdout:\n{again.stdout}\nstderr:\n{again.stderr}"


def test_without_the_setup_block_the_cli_stops_where_the_readme_says(port, tmp_path):
    """What a new user hit before the README said to set a region and keys."""
    blocks = walkthrough_blocks(README.read_text())
    setup, create = blocks[0], blocks[1]
    assert "AWS_DEFAULT_REGION" in setup
    env = new_user_env(tmp_path)
    proc = run_bash(create, env, port)
    assert proc.returncode != 0 and "You must specify a region" in proc.stderr, proc.stderr
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    proc = run_bash(create, env, port)
    assert proc.returncode != 0 and "Unable to locate credentials" in proc.stderr, proc.stderr


def test_a_path_without_file_prefix_gets_the_answer_the_readme_quotes(port, tmp_path):
    """Step 4's warning: the path's text sent as the definition."""
    blocks = walkthrough_blocks(README.read_text())
    create = blocks[1].split("\narn=")[0]
    assert "file://examples/hello.asl.json" in create
    env = new_user_env(tmp_path)
    proc = run_bash(blocks[0] + "\n" + create.replace("file://examples/", "examples/"), env, port)
    assert proc.returncode != 0
    assert (
        "An error occurred (InvalidDefinition) when calling the CreateStateMachine operation: "
        "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: Unrecognized token 'examples': "
        "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
    ) in proc.stderr, proc.stderr
    assert 'at [Source: (String)"examples/hello.asl.json"; line: 1, column: 9]' in proc.stderr, proc.stderr


def test_the_install_command_names_the_crate_of_the_stepwise_binary():
    """Step 1's `cargo install --path crates/cli` (not run here: it builds for minutes)
    installs the package whose binary is `stepwise`."""
    text = README.read_text()
    m = re.search(r"cargo install (?:--locked )?--path (\S+)", text)
    assert m, "README.md has no cargo install --path command"
    manifest = (ROOT / m.group(1) / "Cargo.toml").read_text()
    assert re.search(r'\[\[bin\]\]\s*name = "stepwise"', manifest), manifest
