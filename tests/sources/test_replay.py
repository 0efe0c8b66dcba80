"""Replay of exported rows: good files load whole, bad files are rejected whole with every mismatch."""

import json

import pytest
from deltalake import DeltaTable
from pyspark.sql import functions as F

from lakesentinel.errors import SchemaMismatchError
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.session import get_spark
from lakesentinel.sources.replay import replay
from lakesentinel.sources.system_tables import AUDIT
from lakesentinel.sources.writer import SourceWriter


@pytest.fixture
def exported(sim_spark, simulated, tmp_path):
    """200 audit rows as a real workspace would export them."""
    cfg = simulated[0]
    df = sim_spark.table(Lakehouse(cfg).source("access.audit")).orderBy("event_id").limit(200).cache()
    df.count()
    return df


@pytest.mark.parametrize("fmt", ["parquet", "json", "csv"])
def test_export_replays_exactly(spark, exported, fresh_settings, tmp_path, fmt):
    path = str(tmp_path / f"audit.{fmt}")
    if fmt == "csv":
        nested = [c for c, t in AUDIT.columns if t.startswith(("struct", "map", "array"))]
        out = exported.select(*[F.to_json(c).alias(c) if c in nested else F.col(c) for c in AUDIT.column_names])
        out.coalesce(1).write.option("header", True).option("escape", '"').csv(path)  # RFC 4180, as downloads are
    else:
        exported.coalesce(1).write.format(fmt).save(path)
    result = replay(get_spark(fresh_settings), fresh_settings, "system.access.audit", path)
    assert result.rows == 200
    lh = Lakehouse(fresh_settings)
    replayed = lh.read(spark, lh.source("access.audit"))
    assert replayed.schema == exported.schema or [f.name for f in replayed.schema] == AUDIT.column_names
    assert sorted(r[0] for r in replayed.select("event_id").collect()) == sorted(
        r[0] for r in exported.select("event_id").collect())
    key = ["event_id", "event_time", "response", "request_params"]
    assert sorted(map(str, replayed.select(*key).collect())) == sorted(map(str, exported.select(*key).collect()))


def test_bad_json_is_rejected_with_every_mismatch_and_nothing_written(spark, exported, fresh_settings, tmp_path):
    good = [json.loads(r) for r in exported.limit(5).toJSON().collect()]
    good[1]["event_time"] = "yesterday afternoon"
    good[3]["response"] = {"status_code": "four-oh-one"}
    good[4]["favourite_colour"] = "blue"
    path = tmp_path / "bad.json"
    path.write_text("\n".join(json.dumps(r) for r in good) + "\n")
    writer = SourceWriter(fresh_settings)
    writer.create(AUDIT)
    before = DeltaTable(writer.path("access.audit")).version()
    with pytest.raises(SchemaMismatchError) as err:
        replay(get_spark(fresh_settings), fresh_settings, "access.audit", str(path))
    text = str(err.value)
    assert "column `event_time`" in text and "line 2" in text
    assert "column `response`: 1 value(s) do not fit struct<status_code:int" in text and "line 4" in text
    assert len(err.value.mismatches) == 2  # favourite_colour is a column Databricks may add: kept, not refused
    assert DeltaTable(writer.path("access.audit")).version() == before
    lh = Lakehouse(fresh_settings)
    assert lh.read(spark, lh.source("access.audit")).count() == 0


def test_bad_parquet_lists_missing_and_retyped_columns(spark, exported, fresh_settings, tmp_path):
    path = str(tmp_path / "bad.parquet")
    (exported.drop("session_id").withColumn("event_date", F.col("event_date").cast("string"))
     .withColumn("response", F.struct(F.col("response.status_code").cast("string").alias("status_code")))
     .write.parquet(path))
    with pytest.raises(SchemaMismatchError) as err:
        replay(get_spark(fresh_settings), fresh_settings, "access.audit", path)
    text = str(err.value)
    assert "column `session_id` is missing" in text
    assert "column `event_date` has type string, expected date" in text
    assert "column `response.status_code` has type string, expected int" in text
    assert "column `response.error_message` is missing" in text


def test_csv_with_wrong_header_is_rejected(spark, fresh_settings, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("event_id,when\n1,2026-01-01\n")
    with pytest.raises(SchemaMismatchError, match="column `event_time` is missing"):
        replay(get_spark(fresh_settings), fresh_settings, "access.audit", str(path))
