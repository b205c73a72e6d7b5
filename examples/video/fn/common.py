"""What the video functions share: the `command` protocol (the event JSON on stdin, the
result JSON on stdout, `{"errorType", "errorMessage"}` and exit 1 for a function error),
where files live ($VIDEO_DATA) and running ffprobe/ffmpeg."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


class FunctionError(Exception):
    """Ends the function with a Lambda function error of this type (a Task error name)."""

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


def serve(handler) -> None:
    """Run `handler(event) -> result` as a command function."""
    event = json.load(sys.stdin)
    try:
        result = handler(event)
    except FunctionError as e:
        print(json.dumps({"errorType": e.error_type, "errorMessage": str(e)}))
        sys.exit(1)
    print(json.dumps(result))


def data_dir() -> Path:
    """The storage root: uploads, work/, hot/, cold/, videos.db."""
    return Path(os.environ["VIDEO_DATA"])


def work_dir(video_id: str) -> Path:
    """Scratch space of one video (emptied by the store step)."""
    d = data_dir() / "work" / video_id
    d.mkdir(parents=True, exist_ok=True)
    return d


def ffprobe(path) -> dict:
    """ffprobe's JSON for `path` (format and streams); FunctionError when it cannot read it."""
    p = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True, text=True,
    )
    if p.returncode != 0:
        last = p.stderr.strip().splitlines()[-1:] or ["no output"]
        raise FunctionError("InvalidVideo", f"ffprobe cannot read {Path(path).name}: {last[0].split(': ')[-1]}")
    return json.loads(p.stdout)


def ffmpeg(*args: str) -> str:
    """Run ffmpeg quietly; its stdout. FunctionError (FfmpegError) with stderr's end on failure."""
    p = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
        capture_output=True, text=True,
    )
    if p.returncode != 0:
        raise FunctionError("FfmpegError", f"ffmpeg {' '.join(args)}: {p.stderr.strip()[-500:]}")
    return p.stdout


def video_stream(probe: dict) -> dict | None:
    return next((s for s in probe.get("streams", []) if s.get("codec_type") == "video"), None)
