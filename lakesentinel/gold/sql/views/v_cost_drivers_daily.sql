-- What drove spend each day: every billed resource with its list cost, its rank within the day, and its
-- increase over its own baseline (average daily cost over the seven days before, counting days with data
-- where it cost nothing as zero), ranked too. Usage belongs to its job, else its pipeline, else its
-- warehouse, else its cluster: job-cluster usage is the job's, and an all-purpose cluster left running
-- shows as that cluster. Usage with none of them goes by SKU.
CREATE OR REPLACE VIEW {gold}.v_cost_drivers_daily
COMMENT 'Billed resources per day: list cost and increase over a 7-day baseline, each ranked within the day'
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
  SELECT date_key, to_date(cast(date_key AS STRING), 'yyyyMMdd') AS day, workspace_id, resource_type, resource_id,
         sum(usage_quantity) AS usage_quantity, sum(list_cost) AS list_cost
  FROM usage
  GROUP BY date_key, workspace_id, resource_type, resource_id
),
days AS (
  SELECT DISTINCT date_key, day FROM drivers
),
baseline_days AS (
  SELECT d.date_key, count(p.date_key) AS days
  FROM days d LEFT JOIN days p ON p.day >= date_sub(d.day, 7) AND p.day < d.day
  GROUP BY d.date_key
),
prior AS (
  SELECT cur.date_key, cur.workspace_id, cur.resource_type, cur.resource_id, sum(prev.list_cost) AS list_cost
  FROM drivers cur
  JOIN drivers prev
    ON prev.workspace_id = cur.workspace_id AND prev.resource_type = cur.resource_type
   AND prev.resource_id = cur.resource_id AND prev.day >= date_sub(cur.day, 7) AND prev.day < cur.day
  GROUP BY cur.date_key, cur.workspace_id, cur.resource_type, cur.resource_id
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
),
scored AS (
  SELECT
    d.date_key,
    d.workspace_id,
    d.resource_type,
    d.resource_id,
    n.resource_name,
    d.usage_quantity,
    d.list_cost,
    coalesce(p.list_cost, 0) / nullif(b.days, 0) AS baseline_list_cost,
    d.list_cost - coalesce(p.list_cost, 0) / nullif(b.days, 0) AS increase
  FROM drivers d
  JOIN baseline_days b ON b.date_key = d.date_key
  LEFT JOIN prior p
    ON p.date_key = d.date_key AND p.workspace_id = d.workspace_id
   AND p.resource_type = d.resource_type AND p.resource_id = d.resource_id
  LEFT JOIN names n
    ON n.resource_type = d.resource_type AND n.workspace_id = d.workspace_id AND n.resource_id = d.resource_id
)
SELECT
  *,
  CAST(list_cost / sum(list_cost) OVER (PARTITION BY date_key) AS DOUBLE) AS share_of_day,
  rank() OVER (PARTITION BY date_key ORDER BY list_cost DESC) AS cost_rank,
  CASE WHEN increase IS NOT NULL THEN rank() OVER (PARTITION BY date_key ORDER BY increase DESC NULLS LAST) END
    AS increase_rank
FROM scored
