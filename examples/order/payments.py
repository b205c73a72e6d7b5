"""A small card payment service (Python stdlib only), for the http:invoke Task of order.asl.json.

    PAYMENTS_API_KEY=... python3 payments.py [--port 0] [--ledger charges.jsonl]

Prints `http://127.0.0.1:PORT` on its first line once it listens (port 0: a free one).

POST /charges  {"orderId", "amount" (cents), "currency", "card"}
    needs the header x-api-key = $PAYMENTS_API_KEY, else 401
    card 4000000000000002 (the usual "declined" test card): 402 card_declined
    otherwise 201 with the charge, appended to the ledger; the same Idempotency-Key
    again gives the same charge (200) and charges nothing more
GET /charges   the ledger as a JSON array
"""

import argparse
import hmac
import json
import os
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DECLINED_CARD = "4000000000000002"


class Payments(BaseHTTPRequestHandler):
    api_key: str = ""
    ledger: Path
    lock = threading.Lock()

    def _reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _charges(self) -> list:
        if not self.ledger.exists():
            return []
        return [json.loads(line) for line in self.ledger.read_text().splitlines() if line]

    def do_GET(self):
        if self.path != "/charges":
            return self._reply(404, {"error": {"code": "not_found"}})
        with self.lock:
            self._reply(200, self._charges())

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0] != "/charges":
            return self._reply(404, {"error": {"code": "not_found"}})
        if not hmac.compare_digest(self.headers.get("x-api-key", ""), self.api_key):
            return self._reply(401, {"error": {"code": "unauthorized", "message": "missing or wrong x-api-key"}})
        try:
            req = json.loads(body)
            amount, currency, card = int(req["amount"]), str(req["currency"]), str(req["card"])
        except (ValueError, KeyError, TypeError) as e:
            return self._reply(400, {"error": {"code": "bad_request", "message": f"{type(e).__name__}: {e}"}})
        if card == DECLINED_CARD:
            return self._reply(402, {"error": {"code": "card_declined", "message": "Your card was declined.",
                                               "orderId": req.get("orderId")}})
        key = self.headers.get("Idempotency-Key")
        with self.lock:
            for charge in self._charges():
                if key and charge.get("idempotencyKey") == key:
                    return self._reply(200, charge)
            charge = {
                "id": "ch_" + uuid.uuid4().hex[:16],
                "orderId": req.get("orderId"),
                "amount": amount,
                "currency": currency,
                "card": "**** " + card[-4:],
                "status": "succeeded",
                "idempotencyKey": key,
            }
            with self.ledger.open("a") as f:
                f.write(json.dumps(charge) + "\n")
        self._reply(201, charge)

    def log_message(self, fmt, *args):
        sys.stderr.write("[payments] " + (fmt % args) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ledger", default="charges.jsonl")
    args = parser.parse_args()
    key = os.environ.get("PAYMENTS_API_KEY")
    if not key:
        sys.exit("payments.py: set PAYMENTS_API_KEY")
    Payments.api_key = key
    Payments.ledger = Path(args.ledger)
    Payments.ledger.parent.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Payments)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
