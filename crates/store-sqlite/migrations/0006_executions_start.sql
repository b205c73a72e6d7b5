-- Executions by start time alone: the console's list of every execution (newest first,
-- keyset-paged by (start_millis, arn), optionally from/before a start time) reads a page
-- from this index instead of sorting the whole table. Starts are appended near its end.
CREATE INDEX executions_start ON executions (start_millis DESC, arn);
