-- SKU mix: per day and SKU, list cost, DBUs and the SKU's share of the day, with the SKU's attributes.
CREATE OR REPLACE VIEW {gold}.v_sku_mix_daily
COMMENT 'List cost and share of the day per SKU'
AS
WITH daily AS (
  SELECT date_key, sku_name, sku_key, usage_unit, sum(usage_quantity) AS usage_quantity, sum(list_cost) AS list_cost
  FROM {gold}.fact_cost_daily
  GROUP BY date_key, sku_name, sku_key, usage_unit
)
SELECT
  d.date_key,
  d.sku_name,
  s.product,
  s.tier,
  s.is_serverless,
  s.is_photon,
  s.list_price,
  d.usage_unit,
  d.usage_quantity,
  d.list_cost,
  CAST(d.list_cost / sum(d.list_cost) OVER (PARTITION BY d.date_key) AS DOUBLE) AS share_of_day
FROM daily d
LEFT JOIN {gold}.dim_sku s ON s.sku_key = d.sku_key
