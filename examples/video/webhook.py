"""A tiny webhook receiver (Python stdlib only): the "notify the user" end of video.asl.json.

    python3 webhook.py --out received.jsonl --token TOKEN [--port 0]

Prints `http://127.0.0.1:PORT` on its first line once it listens (port 0: a free one).
Every POST with the header X-Webhook-Token = TOKEN is appended to --out as one JSON line
{"path", "contentType", "body"} and answered 200 {"received": true}; a wrong or missing
token is answered 401 and not written.
"""

import argparse
import hmac
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Receiver(BaseHTTPRequestHandler):
    out: Path
    token: str
    lock = threading.Lock()

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not hmac.compare_digest(self.headers.get("X-Webhook-Token", ""), self.token):
            return self._reply(401, {"error": "missing or wrong X-Webhook-Token"})
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        record = {"path": self.path, "contentType": self.headers.get("Content-Type"), "body": body}
        with self.lock, self.out.open("a") as f:
            f.write(json.dumps(record) + "\n")
        self._reply(200, {"received": True})

    def log_message(self, fmt, *args):
        sys.stderr.write("[webhook] " + (fmt % args) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    Receiver.out = Path(args.out)
    Receiver.out.parent.mkdir(parents=True, exist_ok=True)
    Receiver.token = args.token
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Receiver)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
