-- Retention: closed top-level executions by stop time, so the sweeper reads the oldest
-- ones from an index instead of walking every execution. RUNNING executions (no stop
-- time) and Distributed Map children (deleted with their parent) are left out.
CREATE INDEX executions_stop ON executions (stop_millis)
    WHERE stop_millis IS NOT NULL AND map_run_arn IS NULL;
