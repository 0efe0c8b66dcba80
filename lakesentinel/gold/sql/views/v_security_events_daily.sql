-- Security events per day and workspace, by type and severity, with failures and distinct principals.
CREATE OR REPLACE VIEW {gold}.v_security_events_daily
COMMENT 'Security events by type and severity per day and workspace'
AS
SELECT
  e.date_key,
  e.workspace_id,
  w.workspace_name,
  e.category,
  e.event_type,
  e.severity,
  e.severity_rank,
  count(*) AS events,
  sum(CASE WHEN e.is_failure THEN 1 ELSE 0 END) AS failures,
  count(DISTINCT e.user_key) AS principals,
  count(DISTINCT e.source_ip) AS source_ips,
  min(e.event_time) AS first_at,
  max(e.event_time) AS last_at
FROM {gold}.fact_security_event e
LEFT JOIN {gold}.dim_workspace w ON w.workspace_id = e.workspace_id AND w.is_current
GROUP BY e.date_key, e.workspace_id, w.workspace_name, e.category, e.event_type, e.severity, e.severity_rank
