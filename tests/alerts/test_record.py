"""The alert record's ids are the same whether computed in Python or in Spark."""

from datetime import datetime

from pyspark.sql import functions as F

from lakesentinel.alerts.record import ALERT_SCHEMA, alert_id, alert_id_col, fingerprint, fingerprint_col


def test_python_and_spark_ids_agree(spark):
    start, end = datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 2, 11, 0, 0, 250000)
    df = spark.createDataFrame([("a@x.com", "1", start, end)], "user string, ws string, s timestamp, e timestamp")
    row = df.select(fingerprint_col("r1", {"user": F.col("user"), "workspace_id": F.col("ws")}).alias("fp")).first()
    fp = fingerprint("r1", {"user": "a@x.com", "workspace_id": "1"})
    assert row["fp"] == fp
    got = df.select(alert_id_col(F.lit(fp), F.col("s"), F.col("e")).alias("id")).first()["id"]
    assert got == alert_id(fp, start, end)
    assert fingerprint("r1", {"user": "b@x.com", "workspace_id": "1"}) != fp


def test_schema_follows_the_contract():
    names = [f.name for f in ALERT_SCHEMA.fields]
    assert names[:4] == ["alert_id", "fingerprint", "kind", "rule_id"]
    assert ALERT_SCHEMA["cost_impact"].dataType.simpleString() == "decimal(38,18)"
    assert ALERT_SCHEMA["evidence"].dataType.simpleString() == "map<string,array<string>>"
