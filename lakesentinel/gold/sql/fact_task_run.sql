-- Task runs, one row per task run, with the task and job versions in force when it started.
CREATE TABLE IF NOT EXISTS {gold}.fact_task_run (
  date_key INT NOT NULL COMMENT 'YYYYMMDD of start_time',
  run_id STRING NOT NULL COMMENT 'the task run',
  job_run_id STRING,
  workspace_id STRING NOT NULL,
  workspace_key STRING,
  job_id STRING,
  job_key STRING,
  task_key STRING,
  job_task_key STRING COMMENT 'dim_task version valid at start_time',
  start_time TIMESTAMP,
  end_time TIMESTAMP,
  duration_seconds BIGINT,
  setup_duration_seconds BIGINT,
  execution_duration_seconds BIGINT,
  result_state STRING,
  termination_code STRING,
  termination_type STRING,
  attempts BIGINT,
  retries BIGINT,
  is_complete BOOLEAN,
  is_failed BOOLEAN,
  compute_type STRING,
  compute_ids ARRAY<STRING>,
  _build_id STRING NOT NULL,
  _built_at TIMESTAMP NOT NULL
)
USING DELTA
CLUSTER BY (date_key, workspace_id, job_id)
COMMENT 'Task runs with outcome and duration'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
