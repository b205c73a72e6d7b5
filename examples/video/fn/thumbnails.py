"""thumbnails: `count` JPEG stills, 320 pixels wide, spread evenly over the video.

    {videoId, source, durationSeconds, count} -> {thumbnails: [path, ...]}
"""

from common import ffmpeg, serve, work_dir


def handler(event):
    count = int(event.get("count", 3))
    duration = float(event["durationSeconds"])
    folder = work_dir(event["videoId"])
    paths = []
    for i in range(count):
        at = duration * (i + 1) / (count + 1)
        path = folder / f"thumb-{i + 1:02d}.jpg"
        ffmpeg("-ss", f"{at:.3f}", "-i", event["source"], "-frames:v", "1", "-vf", "scale=320:-2", "-q:v", "4", str(path))
        paths.append(str(path))
    return {"thumbnails": paths}


serve(handler)
