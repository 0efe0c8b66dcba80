"""Where batch scoring writes: prediction tables in gold, one per model, replaced per scoring date."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings

TABLES: dict[str, tuple[str, str]] = {
    "fact_cost_forecast": (
        "scored_date_key INT NOT NULL, entity_type STRING NOT NULL, entity_id STRING NOT NULL, "
        "forecast_date DATE NOT NULL, horizon_day INT, predicted_cost DECIMAL(38,18), lower_cost DECIMAL(38,18), "
        "upper_cost DECIMAL(38,18), interval_level DOUBLE, model_name STRING, model_version STRING",
        "Daily cost forecast per workspace and warehouse, with prediction intervals"),
    "fact_job_failure_risk": (
        "scored_date_key INT NOT NULL, run_id STRING NOT NULL, workspace_id STRING, job_id STRING, "
        "as_of TIMESTAMP, failure_probability DOUBLE, model_name STRING, model_version STRING",
        "Probability that a job run fails or breaches its SLA, from its job's history and compute"),
    "fact_security_risk": (
        "scored_date_key INT NOT NULL, level STRING NOT NULL, workspace_id STRING, user_name STRING, "
        "risk_score DOUBLE, explanation MAP<STRING, DOUBLE>, model_name STRING, model_version STRING",
        "Security risk score per principal and per workspace, with each term's points"),
}


def write_predictions(spark: SparkSession, cfg: Settings, table: str, rows: pd.DataFrame, scored_date_key: int) -> str:
    """Replace the rows of ``scored_date_key`` in ``plt_gold.<table>`` with ``rows``; the table's name."""
    lh = Lakehouse(cfg)
    schema, comment = TABLES[table]
    name = lh.create_table(spark, lh.name("gold", table), schema, partition_by=["scored_date_key"], comment=comment)
    target = spark.table(name).schema
    frame = rows.assign(scored_date_key=scored_date_key).reindex(columns=target.names)
    for f in target.fields:  # money as DECIMAL(38,18), from Python Decimals (Arrow will not cast floats)
        if isinstance(f.dataType, T.DecimalType):
            frame[f.name] = [None if pd.isna(v) else Decimal(f"{float(v):.6f}") for v in frame[f.name]]
    df = spark.createDataFrame(frame.astype(object).where(frame.notna(), None), schema=target)
    (df.write.format("delta").mode("overwrite").option("replaceWhere", f"scored_date_key = {scored_date_key}")
     .saveAsTable(name))
    return name
