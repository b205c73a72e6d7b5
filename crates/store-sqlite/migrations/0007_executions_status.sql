-- Executions by status, newest first: the console's and ListExecutions' status filter
-- (alone or with a machine) reads a page from an index instead of walking every
-- execution until enough match, which took a scan of the whole table for a status no
-- execution has. RUNNING executions (recovery) are a range of the first; the partial
-- index that served them only is dropped.
CREATE INDEX executions_status ON executions (status, start_millis DESC, arn);
CREATE INDEX executions_machine_status ON executions (machine_arn, status, start_millis DESC, arn);
DROP INDEX executions_running;
