-- Advisor findings, one row per finding, kept by the advisors (lakesentinel/advisors/), not the gold
-- build: a run updates its findings in place (finding_id = hash of advisor, kind and entity) and keeps
-- the lifecycle a user set (open, accepted, dismissed, done). After acceptance each run measures the
-- entity's cost in the N days after acceptance against the N days before.
CREATE TABLE IF NOT EXISTS {gold}.fact_recommendation (
  finding_id STRING NOT NULL COMMENT 'sha256(advisor | kind | workspace_id | entity_type | entity_id), first 32 hex',
  date_key INT NOT NULL COMMENT 'YYYYMMDD of first_detected_at',
  advisor STRING NOT NULL COMMENT 'warehouses | tables | workflows',
  kind STRING NOT NULL,
  workspace_id STRING,
  entity_type STRING NOT NULL COMMENT 'warehouse | job | table',
  entity_id STRING NOT NULL,
  entity_name STRING,
  title STRING,
  evidence STRING COMMENT 'JSON: the figures and rows behind the finding',
  action STRING COMMENT 'one concrete change',
  monthly_cost_impact DECIMAL(38, 18) COMMENT 'estimated list cost a month the action saves (or puts at stake)',
  monthly_hours_impact DOUBLE COMMENT 'estimated hours a month the action saves (queueing, runtime)',
  status STRING NOT NULL COMMENT 'open | accepted | dismissed | done',
  is_active BOOLEAN NOT NULL COMMENT 'detected by the latest run of its advisor',
  detection_count BIGINT NOT NULL,
  first_detected_at TIMESTAMP NOT NULL COMMENT 'data time: the newest fact the first detecting run saw',
  last_detected_at TIMESTAMP NOT NULL,
  status_changed_at TIMESTAMP COMMENT 'wall time of the last accept, dismiss or done',
  status_changed_by STRING,
  accepted_at TIMESTAMP COMMENT 'wall time',
  accepted_as_of TIMESTAMP COMMENT 'data time at acceptance: the saving is measured from here',
  dismissed_at TIMESTAMP,
  done_at TIMESTAMP,
  note STRING,
  measure_days INT COMMENT 'N: days compared before and after acceptance',
  cost_before DECIMAL(38, 18) COMMENT 'entity list cost in the N days before accepted_as_of',
  cost_after DECIMAL(38, 18) COMMENT 'entity list cost from accepted_as_of, up to N days of facts',
  days_after DOUBLE COMMENT 'days of facts after accepted_as_of (at most N)',
  measured_monthly_saving DECIMAL(38, 18) COMMENT '(cost_before / N - cost_after / days_after) x 30',
  measured_at TIMESTAMP,
  run_id STRING NOT NULL COMMENT 'the advisor run that last wrote the row',
  updated_at TIMESTAMP NOT NULL
)
USING DELTA
COMMENT 'Advisor findings with evidence, impact, action, lifecycle and measured saving'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
