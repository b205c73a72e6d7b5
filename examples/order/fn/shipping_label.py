"""Creates the shipping label $ORDER_DATA/labels/ORDER.txt (a `command` function).

    {orderId, customer, shippingAddress, parcel: {weightKg, warehouse}}
    -> {carrier, trackingNumber, label}

The tracking number is derived from the order id, so a retried call makes the same label.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

event = json.load(sys.stdin)
address = event["shippingAddress"]
parcel = event["parcel"]
tracking = "SW" + hashlib.sha256(event["orderId"].encode()).hexdigest()[:10].upper() + "DE"
label = "\n".join([
    "STEPWISE PARCEL SERVICE",
    f"From: {parcel['warehouse']}",
    "To:",
    f"  {event['customer']['name']}",
    f"  {address['street']}",
    f"  {address['postcode']} {address['city']}",
    f"  {address['country']}",
    f"Weight: {parcel['weightKg']} kg",
    f"Tracking: {tracking}",
    f"Order: {event['orderId']}",
    "",
])
labels = Path(os.environ["ORDER_DATA"]) / "labels"
labels.mkdir(parents=True, exist_ok=True)
path = labels / f"{event['orderId']}.txt"
path.write_text(label)
print(json.dumps({"carrier": "Stepwise Parcel", "trackingNumber": tracking, "label": str(path)}))
