-- Lakeflow declarative pipelines, SCD2 from system.lakeflow.pipelines.
CREATE TABLE IF NOT EXISTS {gold}.dim_pipeline (
  pipeline_key STRING NOT NULL COMMENT 'md5(workspace_id | pipeline_id | version_time)',
  workspace_id STRING NOT NULL,
  pipeline_id STRING NOT NULL,
  account_id STRING,
  pipeline_name STRING,
  pipeline_type STRING,
  created_by STRING,
  run_as STRING,
  tags MAP<STRING, STRING> COMMENT 'normalised keys',
  photon BOOLEAN,
  development BOOLEAN,
  continuous BOOLEAN,
  serverless BOOLEAN,
  edition STRING,
  channel STRING,
  create_time TIMESTAMP,
  delete_time TIMESTAMP,
  version_time TIMESTAMP NOT NULL COMMENT 'change_time of this version',
  valid_from TIMESTAMP NOT NULL COMMENT 'version_time; 1900-01-01 for the oldest version held',
  valid_to TIMESTAMP NOT NULL COMMENT 'next version_time; 9999-12-31 for the current version',
  is_current BOOLEAN NOT NULL,
  is_deleted BOOLEAN NOT NULL
)
USING DELTA
COMMENT 'Pipelines, one row per version (SCD2)'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
