-- Distributed Map child executions: the Map Run that started each one. Their state
-- lives in the parent's snapshot, so recovery skips them (map_run_arn IS NOT NULL).
ALTER TABLE executions ADD COLUMN map_run_arn TEXT;
CREATE INDEX executions_map_run ON executions (map_run_arn, start_millis DESC, arn)
    WHERE map_run_arn IS NOT NULL;
