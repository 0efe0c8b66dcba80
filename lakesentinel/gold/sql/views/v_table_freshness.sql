-- Tables by freshness and use, from the audit log: the last write credential issued, hours since then
-- (as of the newest audit date held), and reads and principals over the last 7 days of data.
CREATE OR REPLACE VIEW {gold}.v_table_freshness
COMMENT 'Last write, hours since, and recent reads per table'
AS
WITH newest AS (
  SELECT max(last_access_at) AS at, to_date(cast(max(date_key) AS STRING), 'yyyyMMdd') AS day
  FROM {gold}.fact_table_health
)
SELECT
  h.table_full_name,
  max(h.last_write_at) AS last_write_at,
  (unix_timestamp(n.at) - unix_timestamp(max(h.last_write_at))) / 3600.0 AS hours_since_write,
  max(h.last_access_at) AS last_access_at,
  sum(CASE WHEN to_date(cast(h.date_key AS STRING), 'yyyyMMdd') > date_sub(n.day, 7) THEN h.read_events END) AS reads_7d,
  sum(h.read_events) AS reads,
  sum(h.write_events) AS writes,
  sum(h.denied_events) AS denied,
  count(DISTINCT h.workspace_id) AS workspaces
FROM {gold}.fact_table_health h CROSS JOIN newest n
GROUP BY h.table_full_name, n.at, n.day
