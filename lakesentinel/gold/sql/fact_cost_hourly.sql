-- Billable usage per hour, workspace, SKU, billed resource (job, pipeline, warehouse, cluster, node
-- type), principal and tag set, with the dimension versions in force when the usage started.
-- Grain: one row per hour and combination of those keys; retractions and restatements are netted.
CREATE TABLE IF NOT EXISTS {gold}.fact_cost_hourly (
  date_key INT NOT NULL COMMENT 'YYYYMMDD of usage_date',
  hour_start TIMESTAMP NOT NULL,
  account_id STRING,
  workspace_id STRING,
  workspace_key STRING COMMENT 'dim_workspace version valid at the usage start',
  sku_name STRING,
  sku_key STRING COMMENT 'dim_sku price period valid at the usage start; NULL when no list price covers it',
  cloud STRING,
  usage_unit STRING,
  currency_code STRING,
  billing_origin_product STRING,
  usage_type STRING,
  job_id STRING,
  job_key STRING,
  pipeline_id STRING COMMENT 'usage_metadata.dlt_pipeline_id',
  pipeline_key STRING,
  warehouse_id STRING,
  warehouse_key STRING,
  cluster_id STRING,
  cluster_key STRING,
  node_type STRING,
  node_type_key STRING,
  principal_name STRING COMMENT 'identity_metadata: run_as, else owned_by, created_by, run_by',
  user_key STRING,
  is_serverless BOOLEAN,
  is_photon BOOLEAN,
  tags MAP<STRING, STRING> COMMENT 'tags after inheritance usage -> job -> cluster, normalised',
  tags_key STRING COMMENT 'md5 of the sorted tags: groups rows with the same tag set',
  missing_tags ARRAY<STRING> COMMENT 'required showback tags absent',
  is_untagged BOOLEAN COMMENT 'none of the required showback tags present',
  usage_quantity DECIMAL(38, 18) COMMENT 'DBUs (or the usage_unit), corrections netted',
  list_cost DECIMAL(38, 18) COMMENT 'usage_quantity x list price, corrections netted',
  billed_hours DOUBLE COMMENT 'wall-clock hours of the usage records, corrections netted',
  record_count BIGINT,
  correction_count BIGINT COMMENT 'RETRACTION and RESTATEMENT records',
  unpriced_count BIGINT COMMENT 'records without a list price',
  first_usage_start TIMESTAMP,
  last_usage_start TIMESTAMP,
  _build_id STRING NOT NULL COMMENT 'the gold build that wrote the row',
  _built_at TIMESTAMP NOT NULL
)
USING DELTA
CLUSTER BY (date_key, workspace_id)
COMMENT 'Usage and list cost per hour and billed resource'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
