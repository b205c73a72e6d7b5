"""Writes the order confirmation mail to $ORDER_DATA/outbox/ORDER.eml (a `command`
function: the event on stdin, the result on stdout).

    {orderId, customer: {name, email}, items, total, currency, payment: {chargeId}}
    -> {messageId, outbox}
"""

import json
import os
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

event = json.load(sys.stdin)
customer = event["customer"]
if "@" not in customer.get("email", ""):
    print(json.dumps({"errorType": "InvalidEmail", "errorMessage": f"cannot mail {customer.get('email')!r}"}))
    sys.exit(1)

lines = [f"  {i['quantity']} x {i['sku']}" for i in event["items"]]
mail = EmailMessage()
mail["From"] = "Stepwise Shop <orders@shop.example>"
mail["To"] = f"{customer['name']} <{customer['email']}>"
mail["Subject"] = f"Your order {event['orderId']} is confirmed"
mail["Date"] = formatdate(localtime=False)
mail["Message-ID"] = make_msgid(idstring=event["orderId"], domain="shop.example")
mail.set_content(
    f"Hello {customer['name']},\n\n"
    f"thank you for your order {event['orderId']}:\n" + "\n".join(lines) + "\n\n"
    f"We charged {event['total'] / 100:.2f} {event['currency']} (charge {event['payment']['chargeId']}).\n"
    "We will let you know when it ships.\n"
)

outbox = Path(os.environ["ORDER_DATA"]) / "outbox"
outbox.mkdir(parents=True, exist_ok=True)
path = outbox / f"{event['orderId']}.eml"
path.write_bytes(bytes(mail))
print(json.dumps({"messageId": mail["Message-ID"], "outbox": str(path)}))
