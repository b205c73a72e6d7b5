"""store-video: puts the files in their storage tiers.

    {videoId, source, renditions: [{name, path}], thumbnails: [path]}
    -> {hot: {dir, renditions: {name: path}, thumbnails: [path]}, cold: {dir, original}}

hot  ($VIDEO_DATA/hot/VIDEO/):  what viewers fetch: the renditions and the thumbnails (moved)
cold ($VIDEO_DATA/cold/VIDEO/): the original upload, archived (copied; the upload area is
                                 the uploader's)
The video's work folder is removed. Safe to call again: what was already moved stays put.
"""

import shutil
from pathlib import Path

from common import data_dir, serve


def _move(path: str, folder: Path) -> str:
    src = Path(path)
    dest = folder / src.name
    if src.exists():
        shutil.move(str(src), dest)
    return str(dest)


def handler(event):
    video_id = event["videoId"]
    hot = data_dir() / "hot" / video_id
    cold = data_dir() / "cold" / video_id
    hot.mkdir(parents=True, exist_ok=True)
    cold.mkdir(parents=True, exist_ok=True)
    renditions = {r["name"]: _move(r["path"], hot) for r in event["renditions"]}
    thumbnails = [_move(t, hot) for t in event["thumbnails"]]
    source = Path(event["source"])
    original = cold / ("original" + source.suffix)
    shutil.copy2(source, original)
    shutil.rmtree(data_dir() / "work" / video_id, ignore_errors=True)
    return {
        "hot": {"dir": str(hot), "renditions": renditions, "thumbnails": thumbnails},
        "cold": {"dir": str(cold), "original": str(original)},
    }


serve(handler)
