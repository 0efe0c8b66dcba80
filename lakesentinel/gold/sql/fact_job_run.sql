-- Job runs, one row per run, with the job version in force when the run started and the usage
-- billed to the run (job clusters and serverless; runs on all-purpose clusters share that cluster's cost).
CREATE TABLE IF NOT EXISTS {gold}.fact_job_run (
  date_key INT NOT NULL COMMENT 'YYYYMMDD of start_time',
  run_id STRING NOT NULL,
  workspace_id STRING NOT NULL,
  workspace_key STRING,
  job_id STRING,
  job_key STRING COMMENT 'dim_job version valid at start_time',
  run_name STRING,
  trigger_type STRING,
  run_type STRING,
  start_time TIMESTAMP,
  end_time TIMESTAMP,
  duration_seconds BIGINT,
  setup_duration_seconds BIGINT,
  execution_duration_seconds BIGINT,
  cleanup_duration_seconds BIGINT,
  result_state STRING,
  termination_code STRING,
  termination_type STRING,
  attempts BIGINT COMMENT 'outcomes recorded: 1 + repairs',
  retries BIGINT,
  is_complete BOOLEAN,
  is_failed BOOLEAN COMMENT 'result_state FAILED, TIMED_OUT or ERROR',
  compute_type STRING,
  compute_ids ARRAY<STRING>,
  usage_quantity DECIMAL(38, 18) COMMENT 'DBUs billed with this job_run_id',
  list_cost DECIMAL(38, 18) COMMENT 'list cost billed with this job_run_id; NULL when none is attributed',
  _build_id STRING NOT NULL,
  _built_at TIMESTAMP NOT NULL
)
USING DELTA
CLUSTER BY (date_key, workspace_id, job_id)
COMMENT 'Job runs with outcome, duration and attributed cost'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
