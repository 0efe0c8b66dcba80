-- Users, service principals and the system user, as the audit log, query history and billing name them.
-- Type 1: the system tables keep no history of a principal's attributes.
CREATE TABLE IF NOT EXISTS {gold}.dim_user (
  user_key STRING NOT NULL COMMENT 'md5(user_name)',
  user_name STRING NOT NULL COMMENT 'e-mail, service principal application id, or system-user; lower case',
  user_id STRING COMMENT 'numeric id, where query history gives it',
  principal_type STRING NOT NULL COMMENT 'user | service_principal | system | unknown',
  first_seen TIMESTAMP,
  last_seen TIMESTAMP
)
USING DELTA
COMMENT 'Principals seen in audit, query history and billing (type 1)'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
