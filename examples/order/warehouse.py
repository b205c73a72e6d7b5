"""The warehouse: packs the order of a pick ticket and confirms it to Step Functions.

    python3 warehouse.py TICKET.json

The ticket (written by fn/notify_warehouse.py) holds the order's items and the task token
of the waiting `WaitForWarehouse` state. Packing writes a packing slip next to the
tickets (warehouse/packed/ORDER.json); the confirmation is SendTaskSuccess with the slip as
output, through boto3 as any AWS code would do it. boto3 finds Stepwise through
AWS_ENDPOINT_URL_SFN (set by Stepwise in the function's environment, inherited here).
"""

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import boto3


def main(ticket_path: str) -> None:
    ticket_file = Path(ticket_path)
    ticket = json.loads(ticket_file.read_text())
    sfn = boto3.client("stepfunctions")
    print(f"[warehouse] packing {ticket['orderId']} ({len(ticket['items'])} lines) for {sfn.meta.endpoint_url}", flush=True)

    db = sqlite3.connect(Path(os.environ["ORDER_DATA"]) / "inventory.db", timeout=30)
    weight = 0.0
    for item in ticket["items"]:
        (w,) = db.execute("SELECT weight_kg FROM stock WHERE sku = ?", (item["sku"],)).fetchone()
        weight += w * item["quantity"]
    db.close()

    slip = {
        "orderId": ticket["orderId"],
        "warehouse": ticket["warehouse"],
        "packedBy": f"warehouse.py (pid {os.getpid()})",
        "parcels": 1,
        "weightKg": round(weight, 2),
        "packedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    packed = ticket_file.parent.parent / "packed"
    packed.mkdir(exist_ok=True)
    (packed / f"{ticket['orderId']}.json").write_text(json.dumps(slip, indent=2))
    sfn.send_task_success(taskToken=ticket["taskToken"], output=json.dumps(slip))
    print(f"[warehouse] {ticket['orderId']} packed, SendTaskSuccess sent", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
