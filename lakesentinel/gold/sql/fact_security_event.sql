-- Security-relevant audit events, one row per event, classified by lakesentinel/gold/security_events.yaml
-- into an event type, category and severity. Audit events the catalogue does not name are left out.
CREATE TABLE IF NOT EXISTS {gold}.fact_security_event (
  date_key INT NOT NULL COMMENT 'YYYYMMDD of event_date',
  event_time TIMESTAMP NOT NULL,
  event_id STRING NOT NULL,
  workspace_id STRING,
  workspace_key STRING,
  user_name STRING,
  user_key STRING,
  principal_type STRING,
  service_name STRING,
  action_name STRING,
  event_type STRING NOT NULL,
  category STRING NOT NULL,
  severity STRING NOT NULL COMMENT 'info | low | medium | high | critical',
  severity_rank INT NOT NULL COMMENT '1 (info) ... 5 (critical)',
  source_ip STRING,
  user_agent STRING,
  session_id STRING,
  status_code INT,
  is_failure BOOLEAN,
  error_message STRING,
  request_params MAP<STRING, STRING>,
  audit_level STRING,
  _build_id STRING NOT NULL,
  _built_at TIMESTAMP NOT NULL
)
USING DELTA
CLUSTER BY (date_key, workspace_id, event_type)
COMMENT 'Security events by type and severity'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
