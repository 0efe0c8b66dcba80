-- Spend per day, tag key and tag value (tags after inheritance usage -> job -> cluster). A row of
-- usage carrying several tags counts under each of them, so sum within one tag_key, not across keys.
CREATE OR REPLACE VIEW {gold}.v_spend_by_tag_daily
COMMENT 'List cost per day, tag key and tag value'
AS
SELECT
  c.date_key,
  c.workspace_id,
  t.tag_key,
  t.tag_value,
  sum(c.usage_quantity) AS usage_quantity,
  sum(c.list_cost) AS list_cost
FROM {gold}.fact_cost_daily c
LATERAL VIEW explode(c.tags) t AS tag_key, tag_value
GROUP BY c.date_key, c.workspace_id, t.tag_key, t.tag_value
