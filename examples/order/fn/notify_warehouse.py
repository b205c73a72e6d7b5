"""Hands a paid order to the warehouse: writes its pick ticket (with the task token) to
$ORDER_DATA/warehouse/tickets/ and starts the warehouse process (../warehouse.py) on it.

Run by awslambdaric (a `bootstrap` function). The state calling it is
`lambda:invoke.waitForTaskToken`: the execution waits until the warehouse process answers
SendTaskSuccess with the token. That process inherits this function's environment, where
Stepwise puts AWS_ENDPOINT_URL_SFN (its own API), so its boto3 client needs no endpoint.
"""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

WAREHOUSE = Path(__file__).resolve().parent.parent / "warehouse.py"


def handler(event, context):
    """{taskToken, orderId, warehouse, items} -> {ticket}"""
    folder = Path(os.environ["ORDER_DATA"]) / "warehouse"
    (folder / "tickets").mkdir(parents=True, exist_ok=True)
    ticket = folder / "tickets" / f"{event['orderId']}.json"
    ticket.write_text(json.dumps(event, indent=2))
    log = open(folder / "warehouse.log", "ab")
    worker = subprocess.Popen(
        [sys.executable, str(WAREHOUSE), str(ticket)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        start_new_session=True,  # it outlives this invocation
    )
    log.close()
    threading.Thread(target=worker.wait, daemon=True).start()  # no zombie left behind
    return {"ticket": str(ticket), "warehousePid": worker.pid}
