-- SQL statements per day and warehouse: P50/P95/P99 duration, P95 execution, queueing at capacity and
-- spill, with P95 against the warehouse's trailing baseline (the seven days before).
CREATE OR REPLACE VIEW {gold}.v_warehouse_query_performance
COMMENT 'Query P50/P95/P99 duration, queue time and spill per day and warehouse, against a 7-day baseline'
AS
WITH queries AS (
  SELECT workspace_id, warehouse_id, date_key, to_date(cast(date_key AS STRING), 'yyyyMMdd') AS day,
         total_duration_ms, execution_duration_ms, waiting_at_capacity_duration_ms, spilled_local_bytes, is_failed
  FROM {gold}.fact_query_execution
  WHERE warehouse_id IS NOT NULL
),
daily AS (
  SELECT workspace_id, warehouse_id, date_key, day,
         count(*) AS queries,
         sum(CASE WHEN is_failed THEN 1 ELSE 0 END) AS failed_queries,
         percentile_approx(total_duration_ms, 0.5) AS p50_duration_ms,
         percentile_approx(total_duration_ms, 0.95) AS p95_duration_ms,
         percentile_approx(total_duration_ms, 0.99) AS p99_duration_ms,
         percentile_approx(execution_duration_ms, 0.95) AS p95_execution_ms,
         sum(CASE WHEN waiting_at_capacity_duration_ms > 0 THEN 1 ELSE 0 END) AS queued_queries,
         percentile_approx(waiting_at_capacity_duration_ms, 0.95) AS p95_queue_ms,
         sum(waiting_at_capacity_duration_ms) / 1000.0 AS queue_seconds,
         sum(CASE WHEN spilled_local_bytes > 0 THEN 1 ELSE 0 END) AS spilling_queries,
         sum(spilled_local_bytes) AS spilled_bytes
  FROM queries
  GROUP BY workspace_id, warehouse_id, date_key, day
),
baseline AS (
  SELECT d.workspace_id, d.warehouse_id, d.date_key,
         count(*) AS baseline_queries,
         percentile_approx(b.total_duration_ms, 0.95) AS baseline_p95_duration_ms
  FROM daily d
  JOIN queries b
    ON b.workspace_id = d.workspace_id AND b.warehouse_id = d.warehouse_id
   AND b.day >= date_sub(d.day, 7) AND b.day < d.day
  GROUP BY d.workspace_id, d.warehouse_id, d.date_key
)
SELECT
  d.date_key, d.workspace_id, d.warehouse_id, w.warehouse_name,
  d.queries, d.failed_queries, d.p50_duration_ms, d.p95_duration_ms, d.p99_duration_ms, d.p95_execution_ms,
  d.queued_queries, d.p95_queue_ms, d.queue_seconds, d.spilling_queries, d.spilled_bytes,
  b.baseline_queries, b.baseline_p95_duration_ms,
  d.p95_duration_ms / nullif(b.baseline_p95_duration_ms, 0) AS p95_vs_baseline
FROM daily d
LEFT JOIN baseline b ON b.workspace_id = d.workspace_id AND b.warehouse_id = d.warehouse_id AND b.date_key = d.date_key
LEFT JOIN {gold}.dim_warehouse w ON w.workspace_id = d.workspace_id AND w.warehouse_id = d.warehouse_id AND w.is_current
