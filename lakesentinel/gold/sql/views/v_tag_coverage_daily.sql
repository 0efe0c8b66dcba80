-- Tag coverage for showback, per day and workspace: the share of list cost carrying every required tag
-- (config: silver.tags.required), some of them, or none.
CREATE OR REPLACE VIEW {gold}.v_tag_coverage_daily
COMMENT 'Share of list cost carrying the required showback tags, per day and workspace'
AS
SELECT
  date_key,
  workspace_id,
  sum(list_cost) AS list_cost,
  sum(CASE WHEN size(missing_tags) = 0 THEN list_cost ELSE 0 END) AS tagged_list_cost,
  sum(CASE WHEN size(missing_tags) > 0 AND NOT is_untagged THEN list_cost ELSE 0 END) AS partly_tagged_list_cost,
  sum(CASE WHEN is_untagged THEN list_cost ELSE 0 END) AS untagged_list_cost,
  CAST(sum(CASE WHEN size(missing_tags) = 0 THEN list_cost ELSE 0 END) / nullif(sum(list_cost), 0) AS DOUBLE)
    AS tag_coverage,
  CAST(sum(CASE WHEN is_untagged THEN list_cost ELSE 0 END) / nullif(sum(list_cost), 0) AS DOUBLE) AS untagged_share
FROM {gold}.fact_cost_daily
GROUP BY date_key, workspace_id
