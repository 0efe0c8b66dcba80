-- Unity Catalog tables as the audit log sees them, per day and workspace: reads, writes (write
-- credentials issued), denials and distinct principals; last_write_at gives freshness. Size is not in
-- the system tables lakesentinel reads (it would need information_schema or predictive optimization history).
CREATE TABLE IF NOT EXISTS {gold}.fact_table_health (
  date_key INT NOT NULL,
  workspace_id STRING NOT NULL,
  workspace_key STRING,
  table_full_name STRING NOT NULL COMMENT 'catalog.schema.table',
  catalog_name STRING,
  schema_name STRING,
  table_name STRING,
  access_events BIGINT,
  read_events BIGINT,
  write_events BIGINT COMMENT 'READ_WRITE credentials issued',
  denied_events BIGINT,
  distinct_principals BIGINT,
  first_access_at TIMESTAMP,
  last_access_at TIMESTAMP,
  last_write_at TIMESTAMP,
  _build_id STRING NOT NULL,
  _built_at TIMESTAMP NOT NULL
)
USING DELTA
CLUSTER BY (date_key, workspace_id)
COMMENT 'Table usage and freshness per day from the audit log'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
