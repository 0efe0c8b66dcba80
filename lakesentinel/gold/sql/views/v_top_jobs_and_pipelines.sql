-- Jobs and pipelines by list cost: over everything held, and over the 7 and 30 days up to the newest
-- date with usage (not today, so that replayed or simulated history reads the same), with runs and
-- cost per run for jobs. Take the top N with ORDER BY cost_rank LIMIT N, or `lakesentinel gold views`.
CREATE OR REPLACE VIEW {gold}.v_top_jobs_and_pipelines
COMMENT 'Jobs and pipelines ranked by list cost, in total and over the last 7 and 30 days of data'
AS
WITH newest AS (
  SELECT to_date(cast(max(date_key) AS STRING), 'yyyyMMdd') AS day FROM {gold}.fact_cost_daily
),
usage AS (
  SELECT
    CASE WHEN c.job_id IS NOT NULL THEN 'job' ELSE 'pipeline' END AS resource_type,
    c.workspace_id,
    coalesce(c.job_id, c.pipeline_id) AS resource_id,
    c.usage_quantity,
    c.list_cost,
    datediff(n.day, to_date(cast(c.date_key AS STRING), 'yyyyMMdd')) AS days_ago
  FROM {gold}.fact_cost_daily c CROSS JOIN newest n
  WHERE c.job_id IS NOT NULL OR c.pipeline_id IS NOT NULL
),
totals AS (
  SELECT resource_type, workspace_id, resource_id,
         sum(usage_quantity) AS usage_quantity,
         sum(list_cost) AS list_cost,
         sum(CASE WHEN days_ago < 7 THEN list_cost END) AS list_cost_7d,
         sum(CASE WHEN days_ago < 30 THEN list_cost END) AS list_cost_30d
  FROM usage
  GROUP BY resource_type, workspace_id, resource_id
),
runs AS (
  SELECT workspace_id, job_id, count(*) AS runs, sum(CASE WHEN is_failed THEN 1 ELSE 0 END) AS failed_runs
  FROM {gold}.fact_job_run
  GROUP BY workspace_id, job_id
),
names AS (
  SELECT 'job' AS resource_type, workspace_id, job_id AS resource_id, job_name AS resource_name
  FROM {gold}.dim_job WHERE is_current
  UNION ALL
  SELECT 'pipeline', workspace_id, pipeline_id, pipeline_name FROM {gold}.dim_pipeline WHERE is_current
)
SELECT
  t.resource_type,
  t.workspace_id,
  t.resource_id,
  n.resource_name,
  t.usage_quantity,
  t.list_cost,
  t.list_cost_7d,
  t.list_cost_30d,
  r.runs,
  r.failed_runs,
  t.list_cost / nullif(r.runs, 0) AS list_cost_per_run,
  rank() OVER (ORDER BY t.list_cost DESC) AS cost_rank,
  rank() OVER (ORDER BY coalesce(t.list_cost_7d, 0) DESC) AS cost_rank_7d
FROM totals t
LEFT JOIN runs r ON t.resource_type = 'job' AND r.workspace_id = t.workspace_id AND r.job_id = t.resource_id
LEFT JOIN names n
  ON n.resource_type = t.resource_type AND n.workspace_id = t.workspace_id AND n.resource_id = t.resource_id
