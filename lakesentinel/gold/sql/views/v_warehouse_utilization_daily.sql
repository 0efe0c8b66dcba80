-- SQL warehouses per day: hours running, clusters while running against the maximum allowed, peak,
-- queries and how many queued at capacity (and for how long), and list cost.
CREATE OR REPLACE VIEW {gold}.v_warehouse_utilization_daily
COMMENT 'SQL warehouse running hours, utilisation, queueing and cost per day'
AS
WITH daily AS (
  SELECT date_key, workspace_id, warehouse_id,
         sum(running_seconds) / 3600.0 AS running_hours,
         sum(cluster_seconds) / nullif(sum(running_seconds), 0) AS avg_clusters_running,
         max(peak_clusters) AS peak_clusters,
         max(max_clusters) AS max_clusters,
         sum(cluster_seconds) / nullif(sum(running_seconds) * max(max_clusters), 0) AS utilization_while_running,
         sum(CASE WHEN peak_clusters >= max_clusters AND max_clusters > 0 THEN 1 ELSE 0 END) AS hours_at_max,
         sum(query_count) AS queries,
         sum(queued_query_count) AS queued_queries,
         sum(queued_query_count) / nullif(sum(query_count), 0) AS queued_share,
         sum(queue_ms) / 1000.0 AS queue_seconds,
         sum(queue_ms) / nullif(sum(queued_query_count), 0) / 1000.0 AS avg_queue_seconds_when_queued,
         sum(scale_up_events) AS scale_ups,
         sum(usage_quantity) AS usage_quantity,
         sum(list_cost) AS list_cost
  FROM {gold}.fact_warehouse_utilization
  GROUP BY date_key, workspace_id, warehouse_id
)
SELECT d.date_key, d.workspace_id, d.warehouse_id, w.warehouse_name, w.warehouse_type, w.warehouse_size,
       d.running_hours, d.avg_clusters_running, d.peak_clusters, d.max_clusters, d.utilization_while_running,
       d.hours_at_max, d.queries, d.queued_queries, d.queued_share, d.queue_seconds,
       d.avg_queue_seconds_when_queued, d.scale_ups, d.usage_quantity, d.list_cost
FROM daily d
LEFT JOIN {gold}.dim_warehouse w ON w.workspace_id = d.workspace_id AND w.warehouse_id = d.warehouse_id AND w.is_current
