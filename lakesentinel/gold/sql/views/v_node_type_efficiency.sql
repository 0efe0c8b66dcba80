-- Node types on classic compute: how much each costs per billed cluster-hour and per DBU, with its
-- cores, memory and GPUs. billed_hours are wall-clock hours of usage records (one cluster-hour each,
-- whatever its size), so cost_per_billed_hour mixes node type and cluster size.
CREATE OR REPLACE VIEW {gold}.v_node_type_efficiency
COMMENT 'Cost, DBUs and billed hours per node type'
AS
WITH usage AS (
  SELECT node_type, node_type_key,
         count(DISTINCT cluster_id) AS clusters,
         count(DISTINCT job_id) AS jobs,
         sum(billed_hours) AS billed_hours,
         sum(usage_quantity) AS usage_quantity,
         sum(list_cost) AS list_cost
  FROM {gold}.fact_cost_daily
  WHERE node_type IS NOT NULL
  GROUP BY node_type, node_type_key
)
SELECT
  u.node_type,
  n.core_count,
  n.memory_mb,
  n.gpu_count,
  sum(u.clusters) AS clusters,
  sum(u.jobs) AS jobs,
  sum(u.billed_hours) AS billed_hours,
  sum(u.usage_quantity) AS usage_quantity,
  sum(u.list_cost) AS list_cost,
  CAST(sum(u.usage_quantity) AS DOUBLE) / nullif(sum(u.billed_hours), 0) AS dbus_per_billed_hour,
  CAST(sum(u.list_cost) AS DOUBLE) / nullif(sum(u.billed_hours), 0) AS cost_per_billed_hour,
  sum(u.list_cost) / nullif(sum(u.usage_quantity), 0) AS cost_per_dbu,
  CAST(sum(u.usage_quantity) AS DOUBLE) / nullif(sum(u.billed_hours) * n.core_count, 0) AS dbus_per_core_hour
FROM usage u
LEFT JOIN {gold}.dim_node_type n ON n.node_type_key = u.node_type_key
GROUP BY u.node_type, n.core_count, n.memory_mb, n.gpu_count
