"""transcode: one H.264/AAC MP4 rendition of the given height (ffmpeg, libx264 ultrafast).

    {videoId, source, height} -> {name ("720p"), path, width, height, sizeBytes}

Writes $VIDEO_DATA/work/VIDEO/HEIGHTp.mp4; the width keeps the aspect ratio (even).
"""

from pathlib import Path

from common import FunctionError, ffmpeg, ffprobe, serve, video_stream, work_dir


def handler(event):
    height = int(event["height"])
    if height not in (1080, 720, 480, 360):
        raise FunctionError("UnsupportedRendition", f"no {height}p rendition")
    out = work_dir(event["videoId"]) / f"{height}p.mp4"
    ffmpeg(
        "-i", event["source"],
        "-vf", f"scale=-2:{height}",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "96k",
        "-movflags", "+faststart",
        str(out),
    )
    video = video_stream(ffprobe(out))
    return {"name": f"{height}p", "path": str(out), "width": video["width"], "height": video["height"],
            "sizeBytes": out.stat().st_size}


serve(handler)
