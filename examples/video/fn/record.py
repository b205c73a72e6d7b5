"""record-video: the video's row in SQLite ($VIDEO_DATA/videos.db, table `videos`),
inserted or updated (a retried call writes the same row).

    {videoId, userId, title, status ("ready" | "rejected"), reason?, metadata?, moderation?, storage?}
    -> {database, videoId, status}
"""

import json
import sqlite3
import time

from common import data_dir, serve

SCHEMA = """
CREATE TABLE IF NOT EXISTS videos (
    video_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    title TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    duration_seconds REAL,
    width INTEGER,
    height INTEGER,
    brightness REAL,
    renditions TEXT,
    thumbnails TEXT,
    hot_dir TEXT,
    original TEXT,
    updated_at TEXT NOT NULL
)"""


def handler(event):
    meta = event.get("metadata") or {}
    storage = event.get("storage") or {}
    hot = storage.get("hot") or {}
    row = {
        "video_id": event["videoId"],
        "user_id": event["userId"],
        "title": event.get("title"),
        "status": event["status"],
        "reason": event.get("reason"),
        "duration_seconds": meta.get("durationSeconds"),
        "width": meta.get("width"),
        "height": meta.get("height"),
        "brightness": (event.get("moderation") or {}).get("averageBrightness"),
        "renditions": json.dumps(hot.get("renditions")) if hot else None,
        "thumbnails": json.dumps(hot.get("thumbnails")) if hot else None,
        "hot_dir": hot.get("dir"),
        "original": (storage.get("cold") or {}).get("original"),
        "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path = data_dir() / "videos.db"
    db = sqlite3.connect(path, timeout=30)
    with db:
        db.execute(SCHEMA)
        columns = ", ".join(row)
        db.execute(
            f"INSERT INTO videos ({columns}) VALUES ({', '.join('?' for _ in row)}) "
            f"ON CONFLICT(video_id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in row if c != 'video_id')}",
            list(row.values()),
        )
    db.close()
    return {"database": str(path), "videoId": event["videoId"], "status": event["status"]}


serve(handler)
