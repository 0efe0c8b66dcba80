-- What drove spend each day: every billed resource ranked by list cost within its day. Usage belongs
-- to its job, else its pipeline, else its warehouse, else its cluster (so job-cluster usage is the job's,
-- and an all-purpose cluster left running shows as that cluster); usage with none of them goes by SKU.
CREATE OR REPLACE VIEW {gold}.v_cost_drivers_daily
COMMENT 'Billed resources ranked by list cost within each day'
AS
WITH usage AS (
  SELECT
    date_key,
    workspace_id,
    CASE
      WHEN job_id IS NOT NULL THEN 'job'
      WHEN pipeline_id IS NOT NULL THEN 'pipeline'
      WHEN warehouse_id IS NOT NULL THEN 'warehouse'
      WHEN cluster_id IS NOT NULL THEN 'cluster'
      ELSE 'sku'
    END AS resource_type,
    coalesce(job_id, pipeline_id, warehouse_id, cluster_id, sku_name) AS resource_id,
    usage_quantity,
    list_cost
  FROM {gold}.fact_cost_daily
),
drivers AS (
  SELECT date_key, workspace_id, resource_type, resource_id,
         sum(usage_quantity) AS usage_quantity, sum(list_cost) AS list_cost
  FROM usage
  GROUP BY date_key, workspace_id, resource_type, resource_id
),
names AS (
  SELECT 'job' AS resource_type, workspace_id, job_id AS resource_id, job_name AS resource_name
  FROM {gold}.dim_job WHERE is_current
  UNION ALL
  SELECT 'pipeline', workspace_id, pipeline_id, pipeline_name FROM {gold}.dim_pipeline WHERE is_current
  UNION ALL
  SELECT 'warehouse', workspace_id, warehouse_id, warehouse_name FROM {gold}.dim_warehouse WHERE is_current
  UNION ALL
  SELECT 'cluster', workspace_id, cluster_id, cluster_name FROM {gold}.dim_cluster WHERE is_current
)
SELECT
  d.date_key,
  d.workspace_id,
  d.resource_type,
  d.resource_id,
  n.resource_name,
  d.usage_quantity,
  d.list_cost,
  d.list_cost / sum(d.list_cost) OVER (PARTITION BY d.date_key) AS share_of_day,
  rank() OVER (PARTITION BY d.date_key ORDER BY d.list_cost DESC) AS cost_rank
FROM drivers d
LEFT JOIN names n
  ON n.resource_type = d.resource_type AND n.workspace_id = d.workspace_id AND n.resource_id = d.resource_id
