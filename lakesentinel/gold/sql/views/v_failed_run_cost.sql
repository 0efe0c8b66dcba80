-- Failed job runs and the list cost they burned, per job, ranked by that cost. Cost is what billing
-- attributes to the run (job clusters, serverless); runs on all-purpose clusters count with no cost.
CREATE OR REPLACE VIEW {gold}.v_failed_run_cost
COMMENT 'Jobs ranked by the list cost of their failed runs'
AS
WITH runs AS (
  SELECT
    workspace_id,
    job_id,
    count(*) AS runs,
    sum(CASE WHEN is_failed THEN 1 ELSE 0 END) AS failed_runs,
    sum(list_cost) AS list_cost,
    sum(CASE WHEN is_failed THEN list_cost END) AS failed_list_cost,
    sum(CASE WHEN is_failed THEN duration_seconds END) / 3600.0 AS failed_hours,
    max(CASE WHEN is_failed THEN start_time END) AS last_failed_at,
    max_by(result_state, start_time) AS last_result_state
  FROM {gold}.fact_job_run
  GROUP BY workspace_id, job_id
)
SELECT
  r.workspace_id,
  r.job_id,
  j.job_name,
  j.run_as_user_name,
  r.runs,
  r.failed_runs,
  r.failed_runs / r.runs AS failure_rate,
  coalesce(r.failed_list_cost, 0) AS failed_list_cost,
  r.list_cost,
  CAST(r.failed_list_cost / nullif(r.list_cost, 0) AS DOUBLE) AS failed_cost_share,
  r.failed_hours,
  r.last_failed_at,
  r.last_result_state,
  rank() OVER (ORDER BY coalesce(r.failed_list_cost, 0) DESC, r.failed_runs DESC) AS failed_cost_rank
FROM runs r
LEFT JOIN {gold}.dim_job j ON j.workspace_id = r.workspace_id AND j.job_id = r.job_id AND j.is_current
WHERE r.failed_runs > 0
