-- Instance types, SCD2 from snapshots of system.compute.node_types (a version when a spec changes).
CREATE TABLE IF NOT EXISTS {gold}.dim_node_type (
  node_type_key STRING NOT NULL COMMENT 'md5(account_id | node_type | version_time)',
  account_id STRING NOT NULL,
  node_type STRING NOT NULL,
  core_count DOUBLE,
  memory_mb BIGINT,
  gpu_count BIGINT,
  version_time TIMESTAMP NOT NULL COMMENT 'when the snapshot first showed this version',
  valid_from TIMESTAMP NOT NULL COMMENT 'version_time; 1900-01-01 for the oldest version held',
  valid_to TIMESTAMP NOT NULL COMMENT 'next version_time; 9999-12-31 for the current version',
  is_current BOOLEAN NOT NULL,
  is_deleted BOOLEAN NOT NULL
)
USING DELTA
COMMENT 'Node types, one row per version (SCD2)'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
