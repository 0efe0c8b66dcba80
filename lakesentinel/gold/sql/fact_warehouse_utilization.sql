-- SQL warehouse hours: clusters running (time-weighted from warehouse events), scaling, the queries
-- and queueing in the hour, and the usage billed. utilization = avg_clusters / max_clusters.
CREATE TABLE IF NOT EXISTS {gold}.fact_warehouse_utilization (
  date_key INT NOT NULL,
  hour_start TIMESTAMP NOT NULL,
  workspace_id STRING NOT NULL,
  workspace_key STRING,
  warehouse_id STRING NOT NULL,
  warehouse_key STRING COMMENT 'dim_warehouse version valid at hour_start',
  max_clusters INT COMMENT 'of that version',
  running_seconds DOUBLE COMMENT 'seconds with at least one cluster running',
  cluster_seconds DOUBLE COMMENT 'cluster-seconds running',
  avg_clusters DOUBLE,
  peak_clusters INT,
  utilization DOUBLE COMMENT 'avg_clusters / max_clusters',
  start_events BIGINT,
  stop_events BIGINT,
  scale_up_events BIGINT,
  scale_down_events BIGINT,
  query_count BIGINT,
  queued_query_count BIGINT COMMENT 'queries that waited at capacity',
  queue_ms BIGINT COMMENT 'sum of waiting_at_capacity_duration_ms',
  compute_wait_ms BIGINT COMMENT 'sum of waiting_for_compute_duration_ms',
  execution_ms BIGINT,
  failed_query_count BIGINT,
  usage_quantity DECIMAL(38, 18),
  list_cost DECIMAL(38, 18),
  _build_id STRING NOT NULL,
  _built_at TIMESTAMP NOT NULL
)
USING DELTA
CLUSTER BY (date_key, workspace_id, warehouse_id)
COMMENT 'SQL warehouse utilisation, queueing and cost per hour'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
