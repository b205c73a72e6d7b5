"""extract-metadata: duration, resolution, frame rate, codecs and size, from ffprobe.

    {source} -> {durationSeconds, width, height, frameRate, videoCodec, audioCodec, sizeBytes, bitRate}
"""

from fractions import Fraction

from common import ffprobe, serve, video_stream


def handler(event):
    probe = ffprobe(event["source"])
    video = video_stream(probe)
    audio = next((s for s in probe["streams"] if s.get("codec_type") == "audio"), None)
    fmt = probe["format"]
    return {
        "durationSeconds": round(float(fmt["duration"]), 3),
        "width": video["width"],
        "height": video["height"],
        "frameRate": round(float(Fraction(video["avg_frame_rate"])), 3) if video.get("avg_frame_rate", "0/0") != "0/0" else None,
        "videoCodec": video["codec_name"],
        "audioCodec": audio["codec_name"] if audio else None,
        "sizeBytes": int(fmt["size"]),
        "bitRate": int(fmt.get("bit_rate", 0)),
    }


serve(handler)
