-- History is written in runs of consecutive events, one row per append: `id` is the
-- first event's id, `last_id` the last one's, `json` the events' JSON texts joined by
-- U+001E (a control character valid JSON text never holds unescaped). One B-tree insert
-- per step instead of one per event. Rows written before this migration are runs of one.
ALTER TABLE history_events ADD COLUMN last_id INTEGER NOT NULL DEFAULT 0;
UPDATE history_events SET last_id = id;
