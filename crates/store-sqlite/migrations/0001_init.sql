-- Stepwise schema, version 1. Applied at open when PRAGMA user_version < 1.

CREATE TABLE state_machines (
    arn            TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    machine_type   TEXT NOT NULL,
    definition     TEXT NOT NULL,
    role_arn       TEXT NOT NULL,
    revision_id    TEXT NOT NULL,
    created_millis INTEGER NOT NULL,
    config         TEXT NOT NULL,
    next_version   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE versions (
    arn            TEXT PRIMARY KEY,
    machine_arn    TEXT NOT NULL,
    version        INTEGER NOT NULL,
    definition     TEXT NOT NULL,
    role_arn       TEXT NOT NULL,
    revision_id    TEXT NOT NULL,
    description    TEXT,
    created_millis INTEGER NOT NULL,
    config         TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX versions_machine ON versions (machine_arn);

CREATE TABLE aliases (
    arn            TEXT PRIMARY KEY,
    machine_arn    TEXT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT,
    -- JSON array of [version_arn, weight] pairs, in order.
    routing        TEXT NOT NULL,
    created_millis INTEGER NOT NULL,
    updated_millis INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX aliases_machine ON aliases (machine_arn);

CREATE TABLE activities (
    arn            TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    created_millis INTEGER NOT NULL,
    config         TEXT NOT NULL
) WITHOUT ROWID;

-- rowid keeps insertion order; an upsert keeps the row (and so the position).
CREATE TABLE tags (
    arn   TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (arn, key)
);

-- Execution definitions, stored once per distinct text. `hash` is FNV-1a 64 of the
-- text (a lookup aid only: equal hashes are confirmed by comparing the text).
CREATE TABLE definitions (
    id   INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX definitions_hash ON definitions (hash);

CREATE TABLE executions (
    id             INTEGER PRIMARY KEY,
    arn            TEXT NOT NULL UNIQUE,
    machine_arn    TEXT NOT NULL,
    version_arn    TEXT,
    alias_arn      TEXT,
    name           TEXT NOT NULL,
    machine_type   TEXT NOT NULL,
    status         TEXT NOT NULL,
    input          TEXT NOT NULL,
    output         TEXT,
    error          TEXT,
    cause          TEXT,
    start_millis   INTEGER NOT NULL,
    stop_millis    INTEGER,
    redrive_count  INTEGER NOT NULL,
    redrive_millis INTEGER,
    definition_id  INTEGER NOT NULL REFERENCES definitions (id),
    test_case      TEXT,
    trace_header   TEXT,
    snapshot       BLOB,
    history_len    INTEGER NOT NULL,
    transitions    INTEGER NOT NULL
);
CREATE INDEX executions_machine ON executions (machine_arn, start_millis DESC, arn);
CREATE INDEX executions_version ON executions (version_arn, start_millis DESC, arn)
    WHERE version_arn IS NOT NULL;
CREATE INDEX executions_alias ON executions (alias_arn, start_millis DESC, arn)
    WHERE alias_arn IS NOT NULL;
CREATE INDEX executions_running ON executions (status) WHERE status = 'RUNNING';

-- Keyed by the execution's integer id, not its ARN: ~100 bytes less per event.
CREATE TABLE history_events (
    execution_id INTEGER NOT NULL,
    id           INTEGER NOT NULL,
    json         TEXT NOT NULL,
    PRIMARY KEY (execution_id, id)
) WITHOUT ROWID;

CREATE TABLE timers (
    execution_arn TEXT NOT NULL,
    timer         INTEGER NOT NULL,
    due_millis    INTEGER NOT NULL,
    PRIMARY KEY (execution_arn, timer)
) WITHOUT ROWID;

CREATE TABLE tasks (
    token          TEXT PRIMARY KEY,
    execution_arn  TEXT NOT NULL,
    task           INTEGER NOT NULL,
    state_name     TEXT NOT NULL,
    resource       TEXT NOT NULL,
    activity_arn   TEXT,
    input          TEXT NOT NULL,
    created_millis INTEGER NOT NULL,
    worker         TEXT
) WITHOUT ROWID;
CREATE INDEX tasks_execution ON tasks (execution_arn);
