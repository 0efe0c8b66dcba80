-- The calendar: one row per day, keyed by date_key (YYYYMMDD), every fact's date.
CREATE TABLE IF NOT EXISTS {gold}.dim_date (
  date_key INT NOT NULL COMMENT 'YYYYMMDD',
  date DATE NOT NULL,
  year INT,
  quarter INT,
  month INT,
  month_name STRING,
  day_of_month INT,
  day_of_week INT COMMENT 'ISO 8601: 1 = Monday ... 7 = Sunday',
  day_name STRING,
  week_of_year INT COMMENT 'ISO 8601 week number',
  is_weekend BOOLEAN,
  month_start DATE
)
USING DELTA
COMMENT 'Calendar days, extended as facts reach new dates'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
