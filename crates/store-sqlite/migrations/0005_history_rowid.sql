-- History runs move from a WITHOUT ROWID table to a rowid table. A WITHOUT ROWID row
-- over about 1 KB spills into an overflow page (a three-state execution's history is
-- ~1.7 KB: an overflow page each, 70% empty), while a rowid leaf holds rows up to
-- ~4 KB inline. The rowid packs the key as `execution_id * 2^32 + first event id`, so
-- rows stay clustered by execution and in event order, with no second index.
CREATE TABLE history (
    key     INTEGER PRIMARY KEY,
    last_id INTEGER NOT NULL,
    json    TEXT NOT NULL
);
INSERT INTO history (key, last_id, json)
    SELECT execution_id * 4294967296 + id, last_id, json FROM history_events ORDER BY 1;
DROP TABLE history_events;
