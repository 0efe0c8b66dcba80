-- Workspaces, SCD2 from system.access.workspaces_latest (a new version when name, URL or status changes).
CREATE TABLE IF NOT EXISTS {gold}.dim_workspace (
  workspace_key STRING NOT NULL COMMENT 'md5(workspace_id | version_time)',
  workspace_id STRING NOT NULL,
  account_id STRING,
  workspace_name STRING,
  workspace_url STRING,
  status STRING,
  create_time TIMESTAMP,
  version_time TIMESTAMP NOT NULL COMMENT 'when the source recorded this version',
  valid_from TIMESTAMP NOT NULL COMMENT 'version_time; 1900-01-01 for the oldest version held',
  valid_to TIMESTAMP NOT NULL COMMENT 'next version_time; 9999-12-31 for the current version',
  is_current BOOLEAN NOT NULL,
  is_deleted BOOLEAN NOT NULL
)
USING DELTA
COMMENT 'Workspaces, one row per version (SCD2)'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
