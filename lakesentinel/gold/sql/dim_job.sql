-- Jobs, SCD2 from system.lakeflow.jobs: one row per definition change.
CREATE TABLE IF NOT EXISTS {gold}.dim_job (
  job_key STRING NOT NULL COMMENT 'md5(workspace_id | job_id | version_time)',
  workspace_id STRING NOT NULL,
  job_id STRING NOT NULL,
  account_id STRING,
  job_name STRING,
  description STRING,
  creator_user_name STRING,
  run_as STRING COMMENT 'id of the principal the job runs as',
  run_as_user_name STRING,
  tags MAP<STRING, STRING> COMMENT 'normalised keys',
  trigger_type STRING,
  schedule STRING COMMENT 'Quartz cron expression',
  paused BOOLEAN,
  timeout_seconds BIGINT,
  sla_seconds BIGINT COMMENT 'RUN_DURATION_SECONDS health rule',
  deployment_kind STRING,
  create_time TIMESTAMP,
  delete_time TIMESTAMP,
  version_time TIMESTAMP NOT NULL COMMENT 'change_time of this version',
  valid_from TIMESTAMP NOT NULL COMMENT 'version_time; 1900-01-01 for the oldest version held',
  valid_to TIMESTAMP NOT NULL COMMENT 'next version_time; 9999-12-31 for the current version',
  is_current BOOLEAN NOT NULL,
  is_deleted BOOLEAN NOT NULL
)
USING DELTA
COMMENT 'Jobs, one row per version (SCD2)'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
