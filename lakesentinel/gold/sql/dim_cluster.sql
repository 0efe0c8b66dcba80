-- Clusters (all-purpose and job clusters), SCD2 from system.compute.clusters.
CREATE TABLE IF NOT EXISTS {gold}.dim_cluster (
  cluster_key STRING NOT NULL COMMENT 'md5(workspace_id | cluster_id | version_time)',
  workspace_id STRING NOT NULL,
  cluster_id STRING NOT NULL,
  account_id STRING,
  cluster_name STRING,
  owned_by STRING,
  cluster_source STRING COMMENT 'UI | API | JOB | PIPELINE | ...',
  create_time TIMESTAMP,
  delete_time TIMESTAMP,
  driver_node_type STRING,
  worker_node_type STRING,
  worker_count BIGINT,
  min_autoscale_workers BIGINT,
  max_autoscale_workers BIGINT,
  auto_termination_minutes BIGINT,
  tags MAP<STRING, STRING> COMMENT 'normalised keys',
  dbr_version STRING,
  is_photon BOOLEAN,
  data_security_mode STRING,
  policy_id STRING,
  version_time TIMESTAMP NOT NULL COMMENT 'change_time of this version',
  valid_from TIMESTAMP NOT NULL COMMENT 'version_time; 1900-01-01 for the oldest version held',
  valid_to TIMESTAMP NOT NULL COMMENT 'next version_time; 9999-12-31 for the current version',
  is_current BOOLEAN NOT NULL,
  is_deleted BOOLEAN NOT NULL
)
USING DELTA
COMMENT 'Clusters, one row per configuration version (SCD2)'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
