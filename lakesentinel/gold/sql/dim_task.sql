-- Tasks of jobs, SCD2 from system.lakeflow.job_tasks. task_key is Databricks' name for a task within
-- its job, so the surrogate key is job_task_key.
CREATE TABLE IF NOT EXISTS {gold}.dim_task (
  job_task_key STRING NOT NULL COMMENT 'md5(workspace_id | job_id | task_key | version_time)',
  workspace_id STRING NOT NULL,
  job_id STRING NOT NULL,
  task_key STRING NOT NULL,
  account_id STRING,
  depends_on_keys ARRAY<STRING>,
  timeout_seconds BIGINT,
  delete_time TIMESTAMP,
  version_time TIMESTAMP NOT NULL COMMENT 'change_time of this version',
  valid_from TIMESTAMP NOT NULL COMMENT 'version_time; 1900-01-01 for the oldest version held',
  valid_to TIMESTAMP NOT NULL COMMENT 'next version_time; 9999-12-31 for the current version',
  is_current BOOLEAN NOT NULL,
  is_deleted BOOLEAN NOT NULL
)
USING DELTA
COMMENT 'Job tasks, one row per version (SCD2)'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
