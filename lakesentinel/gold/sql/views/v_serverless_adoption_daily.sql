-- Serverless adoption: per day, workspace and product, the share of list cost on serverless compute.
CREATE OR REPLACE VIEW {gold}.v_serverless_adoption_daily
COMMENT 'Share of list cost on serverless compute per day, workspace and product'
AS
SELECT
  date_key,
  workspace_id,
  billing_origin_product,
  sum(list_cost) AS list_cost,
  sum(CASE WHEN is_serverless THEN list_cost ELSE 0 END) AS serverless_list_cost,
  CAST(sum(CASE WHEN is_serverless THEN list_cost ELSE 0 END) / nullif(sum(list_cost), 0) AS DOUBLE)
    AS serverless_share,
  sum(usage_quantity) AS usage_quantity,
  sum(CASE WHEN is_serverless THEN usage_quantity ELSE 0 END) AS serverless_usage_quantity
FROM {gold}.fact_cost_daily
GROUP BY date_key, workspace_id, billing_origin_product
