-- Spend per day and workspace for showback: list cost, DBUs, serverless and untagged parts.
CREATE OR REPLACE VIEW {gold}.v_spend_by_workspace_daily
COMMENT 'List cost per day and workspace'
AS
WITH daily AS (
  SELECT date_key, workspace_id,
         sum(usage_quantity) AS usage_quantity,
         sum(list_cost) AS list_cost,
         sum(CASE WHEN is_serverless THEN list_cost ELSE 0 END) AS serverless_list_cost,
         sum(CASE WHEN is_untagged THEN list_cost ELSE 0 END) AS untagged_list_cost
  FROM {gold}.fact_cost_daily
  GROUP BY date_key, workspace_id
)
SELECT
  d.date_key,
  d.workspace_id,
  w.workspace_name,
  d.usage_quantity,
  d.list_cost,
  d.serverless_list_cost,
  d.untagged_list_cost,
  CAST(d.list_cost / sum(d.list_cost) OVER (PARTITION BY d.date_key) AS DOUBLE) AS share_of_day
FROM daily d
LEFT JOIN {gold}.dim_workspace w ON w.workspace_id = d.workspace_id AND w.is_current
