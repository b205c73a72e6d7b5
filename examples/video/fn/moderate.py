"""moderate-video: a simple, deterministic content check (no model, no cloud).

    {source, metadata: {durationSeconds}} -> {approved, reasons, averageBrightness}

Rules (each broken rule is a reason; approved = no reason):
  - blank picture: the average luma (ffmpeg signalstats YAVG over 2 frames a second,
    0-255) is below 20, i.e. the video is (nearly) black;
  - too long: more than 600 seconds.
"""

from common import ffmpeg, serve

MIN_BRIGHTNESS = 20.0
MAX_SECONDS = 600


def handler(event):
    out = ffmpeg(
        "-i", event["source"], "-an",
        "-vf", "fps=2,scale=160:-2,signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG:file=-",
        "-f", "null", "-",
    )
    values = [float(line.split("=", 1)[1]) for line in out.splitlines() if line.startswith("lavfi.signalstats.YAVG=")]
    brightness = round(sum(values) / len(values), 2) if values else 0.0
    reasons = []
    if brightness < MIN_BRIGHTNESS:
        reasons.append(f"blank picture: average brightness {brightness} is below {MIN_BRIGHTNESS}")
    if event["metadata"]["durationSeconds"] > MAX_SECONDS:
        reasons.append(f"too long: {event['metadata']['durationSeconds']} s is over {MAX_SECONDS} s")
    return {"approved": not reasons, "reasons": reasons, "averageBrightness": brightness, "framesChecked": len(values)}


serve(handler)
