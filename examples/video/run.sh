#!/usr/bin/env bash
# The video pipeline for real, in one command:
#
#   bash examples/video/run.sh
#
# Makes a 3-second 1080p test clip with ffmpeg (testsrc and a 440 Hz tone) as the upload,
# starts the webhook receiver (webhook.py) on a free port, runs
#   stepwise run examples/video/video.asl.json --config examples/video/stepwise.toml --input ...
# prints the execution's output, the files in the hot and cold folders, the database row and
# what the webhook received, then stops the receiver.
#
# Needs ffmpeg/ffprobe (Debian: apt-get install ffmpeg), python3 and a stepwise binary:
# $STEPWISE_BIN, else target/{release,debug}/stepwise, else `stepwise` on PATH. The files
# go to $VIDEO_DATA, a new temporary folder unless set; it is kept and printed at the end.
# Exit code 0 when the video is ready and the webhook got video.ready.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../lib.sh"

for tool in ffmpeg ffprobe python3; do
  command -v "$tool" > /dev/null || { echo "run.sh: $tool not found (Debian: apt-get install ffmpeg python3)" >&2; exit 1; }
done
find_stepwise

export VIDEO_DATA="${VIDEO_DATA:-$(mktemp -d "${TMPDIR:-/tmp}/stepwise-video.XXXXXX")}"
mkdir -p "$VIDEO_DATA/uploads"
scratch run stepwise-video-run

# 1. The upload: what input.json's source names, relative to $VIDEO_DATA.
source="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["source"])' "$here/input.json")"
"$here/make-clip.sh" "$VIDEO_DATA/$source" "${CLIP_SECONDS:-3}"

# 2. The user's webhook, on a free port.
background python3 "$here/webhook.py" --port 0 --out "$VIDEO_DATA/webhook.jsonl" --token local-webhook-token \
  > "$run/webhook.url" 2> "$VIDEO_DATA/webhook.log"
for _ in $(seq 100); do [ -s "$run/webhook.url" ] && break; sleep 0.1; done
webhook="$(head -1 "$run/webhook.url")"
[ -n "$webhook" ] || { echo "run.sh: the webhook receiver did not start:" >&2; cat "$VIDEO_DATA/webhook.log" >&2; exit 1; }
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d["webhookUrl"] = sys.argv[2] + "/hooks/video"; print(json.dumps(d))' \
  "$here/input.json" "$webhook" > "$run/input.json"
echo "upload $VIDEO_DATA/$source, webhook $webhook, files in $VIDEO_DATA"

# 3. The pipeline, in this process (no server needed).
status=0
"$stepwise" run "$here/video.asl.json" --config "$here/stepwise.toml" --input "$run/input.json" --progress \
  > "$run/output.json" || status=$?
echo "--- output"
python3 -m json.tool "$run/output.json" || true

echo "--- storage folders"
(cd "$VIDEO_DATA" && find hot cold -type f 2>/dev/null | sort | while read -r f; do
  printf '  %-32s %s\n' "$f" "$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$f")"
done)
echo "--- videos.db"
python3 - "$VIDEO_DATA/videos.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.row_factory = sqlite3.Row
for row in db.execute("SELECT video_id, user_id, status, duration_seconds, width, height, brightness, renditions FROM videos"):
    print("  " + ", ".join(f"{k}={row[k]}" for k in row.keys()))
PY
echo "--- the webhook received"
cat "$VIDEO_DATA/webhook.jsonl" 2>/dev/null || echo "(nothing)"

if [ "$status" = 0 ] && grep -q '"event": "video.ready"' "$VIDEO_DATA/webhook.jsonl" 2>/dev/null; then
  echo "OK: vid-0001 is ready, and its user was notified"
else
  echo "run.sh: the pipeline did not finish as expected (stepwise run exited with $status)" >&2
  exit 1
fi
