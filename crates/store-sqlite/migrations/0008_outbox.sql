-- Status-change events waiting for delivery to webhooks (the outbox). Each is written
-- in the transaction of the status change it reports, and deleted once every webhook
-- has it. AUTOINCREMENT: a `seq` is never reused, even after the newest rows are
-- deleted, so a deliverer's position (the last `seq` it sent) stays valid.
CREATE TABLE outbox (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL,
    execution_arn  TEXT NOT NULL,
    created_millis INTEGER NOT NULL,
    body           TEXT NOT NULL
);
