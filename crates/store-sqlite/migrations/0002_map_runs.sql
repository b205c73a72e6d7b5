-- Which execution a Map Run belongs to (DescribeMapRun names only the Map Run).
CREATE TABLE map_runs (
    arn TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX map_runs_by_execution ON map_runs (execution_arn);
