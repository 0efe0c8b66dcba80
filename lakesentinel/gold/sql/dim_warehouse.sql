-- SQL warehouses, SCD2 from system.compute.warehouses.
CREATE TABLE IF NOT EXISTS {gold}.dim_warehouse (
  warehouse_key STRING NOT NULL COMMENT 'md5(workspace_id | warehouse_id | version_time)',
  workspace_id STRING NOT NULL,
  warehouse_id STRING NOT NULL,
  account_id STRING,
  warehouse_name STRING,
  warehouse_type STRING COMMENT 'SERVERLESS | PRO | CLASSIC',
  warehouse_channel STRING,
  warehouse_size STRING,
  min_clusters INT,
  max_clusters INT,
  auto_stop_minutes INT,
  tags MAP<STRING, STRING> COMMENT 'normalised keys',
  delete_time TIMESTAMP,
  is_serverless BOOLEAN,
  version_time TIMESTAMP NOT NULL COMMENT 'change_time of this version',
  valid_from TIMESTAMP NOT NULL COMMENT 'version_time; 1900-01-01 for the oldest version held',
  valid_to TIMESTAMP NOT NULL COMMENT 'next version_time; 9999-12-31 for the current version',
  is_current BOOLEAN NOT NULL,
  is_deleted BOOLEAN NOT NULL
)
USING DELTA
COMMENT 'SQL warehouses, one row per configuration version (SCD2)'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
