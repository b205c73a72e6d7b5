"""Stock in SQLite ($ORDER_DATA/inventory.db): reserve, release and commit an order's items.

Three Lambda handlers run by awslambdaric (`bootstrap` functions in stepwise.toml):
  check_stock    reserves every item when all are available (else nothing)
  release_stock  gives a reservation back (the compensation of a declined payment)
  commit_stock   takes the reserved items out of stock once the order is paid

The database is created from ../inventory.seed.json on first use.
"""

import json
import os
import sqlite3
from pathlib import Path

SEED = Path(__file__).resolve().parent.parent / "inventory.seed.json"


def _db() -> sqlite3.Connection:
    data = Path(os.environ["ORDER_DATA"])
    data.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(data / "inventory.db", timeout=30, isolation_level=None)
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS stock (
            sku TEXT PRIMARY KEY, name TEXT, warehouse TEXT,
            on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL DEFAULT 0, weight_kg REAL);
        CREATE TABLE IF NOT EXISTS reservations (
            id TEXT PRIMARY KEY, order_id TEXT NOT NULL, items TEXT NOT NULL,
            status TEXT NOT NULL);
        """
    )
    db.execute("BEGIN IMMEDIATE")  # one writer at a time: reservations never oversell
    if db.execute("SELECT COUNT(*) FROM stock").fetchone()[0] == 0:
        seed = json.loads(SEED.read_text())
        for sku, s in seed["stock"].items():
            db.execute(
                "INSERT INTO stock (sku, name, warehouse, on_hand, weight_kg) VALUES (?, ?, ?, ?, ?)",
                (sku, s["name"], seed["warehouse"], s["onHand"], s["weightKg"]),
            )
    return db


class ReservationNotFound(Exception):
    pass


def check_stock(event, context):
    """{orderId, items: [{sku, quantity}]} -> {available, reservationId, warehouse, missing}"""
    db = _db()
    try:
        reservation_id = "res-" + event["orderId"]
        found = db.execute("SELECT status FROM reservations WHERE id = ?", (reservation_id,)).fetchone()
        missing = []
        warehouse = None
        if found is None:
            for item in event["items"]:
                row = db.execute(
                    "SELECT on_hand - reserved, warehouse FROM stock WHERE sku = ?", (item["sku"],)
                ).fetchone()
                if row is None or row[0] < item["quantity"]:
                    missing.append(item["sku"])
                else:
                    warehouse = row[1]
            if not missing:
                for item in event["items"]:
                    db.execute("UPDATE stock SET reserved = reserved + ? WHERE sku = ?", (item["quantity"], item["sku"]))
                db.execute(
                    "INSERT INTO reservations VALUES (?, ?, ?, 'reserved')",
                    (reservation_id, event["orderId"], json.dumps(event["items"])),
                )
        else:  # the same order again (a retry): the reservation stands
            warehouse = db.execute("SELECT warehouse FROM stock LIMIT 1").fetchone()[0]
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        db.close()
    if missing:
        return {"available": False, "missing": missing, "reservationId": None, "warehouse": None}
    return {"available": True, "missing": [], "reservationId": reservation_id, "warehouse": warehouse}


def _settle(reservation_id: str, status: str, take_out: bool) -> dict:
    db = _db()
    try:
        row = db.execute("SELECT items, status FROM reservations WHERE id = ?", (reservation_id,)).fetchone()
        if row is None:
            raise ReservationNotFound(f"no reservation {reservation_id}")
        items = json.loads(row[0])
        if row[1] == "reserved":
            for item in items:
                db.execute(
                    "UPDATE stock SET reserved = reserved - ?, on_hand = on_hand - ? WHERE sku = ?",
                    (item["quantity"], item["quantity"] if take_out else 0, item["sku"]),
                )
            db.execute("UPDATE reservations SET status = ? WHERE id = ?", (status, reservation_id))
        left = {
            item["sku"]: db.execute("SELECT on_hand FROM stock WHERE sku = ?", (item["sku"],)).fetchone()[0]
            for item in items
        }
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        db.close()
    return {"reservationId": reservation_id, "status": status, "onHand": left}


def release_stock(event, context):
    """{reservationId} -> the reservation released, the stock as it was."""
    return _settle(event["reservationId"], "released", take_out=False)


def commit_stock(event, context):
    """{reservationId} -> the reserved items taken out of stock."""
    return _settle(event["reservationId"], "committed", take_out=True)
