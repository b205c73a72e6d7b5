#!/usr/bin/env bash
# Makes a test upload with ffmpeg's test sources: 1920x1080, 25 fps, H.264 with a sine tone.
#   make-clip.sh OUT.mp4 [SECONDS (default 3)] [PICTURE (default testsrc; "black" for a blank one)]
set -euo pipefail
out="$1" seconds="${2:-3}" picture="${3:-testsrc}"
case "$picture" in
  testsrc) video="testsrc=duration=$seconds:size=1920x1080:rate=25" ;;
  black) video="color=c=black:duration=$seconds:size=1920x1080:rate=25" ;;
  *) echo "make-clip.sh: PICTURE is testsrc or black" >&2; exit 2 ;;
esac
mkdir -p "$(dirname "$out")"
ffmpeg -hide_banner -nostdin -loglevel error -y \
  -f lavfi -i "$video" -f lavfi -i "sine=frequency=440:duration=$seconds" \
  -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest "$out"
