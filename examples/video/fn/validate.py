"""validate-video: is the upload a video? ffprobe must read it and find a video stream.

    {videoId, source (a path, relative to $VIDEO_DATA or absolute)}
    -> {source (absolute), container, videoCodec, hasAudio}
    InvalidVideo: a bad video id, a missing file, a file ffprobe cannot read, no video stream
"""

import re
from pathlib import Path

from common import FunctionError, data_dir, ffprobe, serve, video_stream


def handler(event):
    video_id = str(event.get("videoId", ""))
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", video_id):
        raise FunctionError("InvalidVideo", f"video id {video_id!r}: 1 to 64 letters, digits, - or _")
    source = data_dir() / event["source"]  # an absolute source stays as it is
    if not source.is_file():
        raise FunctionError("InvalidVideo", f"{event['source']} does not exist")
    probe = ffprobe(source)
    video = video_stream(probe)
    if video is None:
        raise FunctionError("InvalidVideo", f"{source.name} has no video stream")
    return {
        "source": str(source.resolve()),
        "container": probe["format"]["format_name"],
        "videoCodec": video["codec_name"],
        "hasAudio": any(s.get("codec_type") == "audio" for s in probe["streams"]),
    }


serve(handler)
