-- Task latency per day (p50 and p95 of successful runs' duration) against the same task's trailing
-- baseline (the seven days before). A regression: p95 at least 1.5 times the baseline's, with at least
-- five baseline runs.
CREATE OR REPLACE VIEW {gold}.v_task_latency_regression
COMMENT 'Task run p50/p95 per day against a trailing 7-day baseline'
AS
WITH runs AS (
  SELECT workspace_id, job_id, task_key, date_key,
         to_date(cast(date_key AS STRING), 'yyyyMMdd') AS day, duration_seconds
  FROM {gold}.fact_task_run
  WHERE result_state = 'SUCCEEDED'
),
daily AS (
  SELECT workspace_id, job_id, task_key, date_key, day,
         count(*) AS runs,
         percentile_approx(duration_seconds, 0.5) AS p50_seconds,
         percentile_approx(duration_seconds, 0.95) AS p95_seconds
  FROM runs
  GROUP BY workspace_id, job_id, task_key, date_key, day
),
baseline AS (
  SELECT d.workspace_id, d.job_id, d.task_key, d.date_key,
         count(*) AS baseline_runs,
         percentile_approx(b.duration_seconds, 0.5) AS baseline_p50_seconds,
         percentile_approx(b.duration_seconds, 0.95) AS baseline_p95_seconds
  FROM daily d
  JOIN runs b
    ON b.workspace_id = d.workspace_id AND b.job_id = d.job_id AND b.task_key = d.task_key
   AND b.day >= date_sub(d.day, 7) AND b.day < d.day
  GROUP BY d.workspace_id, d.job_id, d.task_key, d.date_key
)
SELECT
  d.date_key,
  d.workspace_id,
  d.job_id,
  j.job_name,
  d.task_key,
  d.runs,
  d.p50_seconds,
  d.p95_seconds,
  b.baseline_runs,
  b.baseline_p50_seconds,
  b.baseline_p95_seconds,
  d.p50_seconds / nullif(b.baseline_p50_seconds, 0) AS p50_ratio,
  d.p95_seconds / nullif(b.baseline_p95_seconds, 0) AS p95_ratio,
  coalesce(b.baseline_runs >= 5 AND d.p95_seconds >= 1.5 * b.baseline_p95_seconds, false) AS is_regression
FROM daily d
LEFT JOIN baseline b
  ON b.workspace_id = d.workspace_id AND b.job_id = d.job_id AND b.task_key = d.task_key AND b.date_key = d.date_key
LEFT JOIN {gold}.dim_job j ON j.workspace_id = d.workspace_id AND j.job_id = d.job_id AND j.is_current
