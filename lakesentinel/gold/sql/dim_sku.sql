-- SKUs and their list prices, SCD2 from system.billing.list_prices: a version per price period.
-- Unlike the other dimensions the oldest version is not stretched back: a price has a documented start.
CREATE TABLE IF NOT EXISTS {gold}.dim_sku (
  sku_key STRING NOT NULL COMMENT 'md5(cloud | sku_name | usage_unit | currency_code | version_time)',
  cloud STRING NOT NULL,
  sku_name STRING NOT NULL,
  usage_unit STRING NOT NULL,
  currency_code STRING NOT NULL,
  list_price DECIMAL(38, 18) COMMENT 'effective list price (promotional where one applies)',
  default_price DECIMAL(38, 18),
  promotional_price DECIMAL(38, 18),
  product STRING COMMENT 'ALL_PURPOSE | JOBS | SQL | DLT | MODEL_SERVING | ... derived from the name',
  tier STRING COMMENT 'STANDARD | PREMIUM | ENTERPRISE',
  is_serverless BOOLEAN,
  is_photon BOOLEAN,
  version_time TIMESTAMP NOT NULL COMMENT 'price_start_time',
  valid_from TIMESTAMP NOT NULL COMMENT 'price_start_time',
  valid_to TIMESTAMP NOT NULL COMMENT 'price_end_time; 9999-12-31 while the price holds',
  is_current BOOLEAN NOT NULL
)
USING DELTA
COMMENT 'SKUs with list prices, one row per price period (SCD2)'
TBLPROPERTIES ('lakesentinel.schema_version' = '1')
