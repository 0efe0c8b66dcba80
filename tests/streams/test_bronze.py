"""Bronze: exact copies with ingest metadata, idempotent across crashes, HWM and snapshot ingestion, drift."""

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake
from pyspark.sql import functions as F

from lakesentinel.deltars import read_arrow
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.simulator.clock import to_us
from lakesentinel.simulator.generator import Simulator
from lakesentinel.simulator.run import run_live
from lakesentinel.sources.system_tables import SYSTEM_TABLES
from lakesentinel.sources.writer import SourceWriter
from lakesentinel.streams.batch_ingest import ingest_hwm
from lakesentinel.streams.bronze import METADATA, bronze_name, start_bronze_stream
from lakesentinel.streams.drift import SchemaDriftError
from lakesentinel.streams.ingest import BatchSource, add_bronze
from lakesentinel.streams.supervisor import Supervisor
from tests.conftest import settings_for

REPO_ROOT = Path(__file__).resolve().parents[2]


def _count(spark, cfg, name):
    return Lakehouse(cfg).read(spark, name).count()


def test_every_source_lands_in_bronze_exactly_with_metadata(spark, lakehouse):
    cfg = lakehouse
    lh = Lakehouse(cfg)
    add_bronze(Supervisor(), spark, cfg, scheduled=True).run_once()
    for name, table in SYSTEM_TABLES.items():
        bronze = lh.read(spark, bronze_name(cfg, name))
        source = lh.read(spark, lh.source(name))
        assert bronze.columns == table.column_names + [c for c in bronze.columns if c in METADATA], name
        assert bronze.count() == source.count(), name
        key = list(table.natural_key)
        assert bronze.select(*key).distinct().count() == bronze.count(), name
        props = spark.sql(f"DESCRIBE DETAIL {bronze_name(cfg, name)}").first()["properties"]
        assert props.get("delta.enableChangeDataFeed") == "true", name
    audit = lh.read(spark, bronze_name(cfg, "access.audit"))
    assert audit.where("_source_commit_version IS NULL OR _source_commit_timestamp IS NULL").count() == 0
    assert audit.select("_source_table").distinct().first()[0] == lh.source("access.audit")
    # A second scheduled run finds nothing new and doubles nothing.
    add_bronze(Supervisor(), spark, cfg, scheduled=True).run_once()
    assert _count(spark, cfg, bronze_name(cfg, "access.audit")) == audit.count()
    assert _count(spark, cfg, bronze_name(cfg, "query.history")) == lh.read(spark, lh.source("query.history")).count()


def test_incremental_run_reads_only_the_new_rows(spark, lakehouse):
    cfg = lakehouse
    lh = Lakehouse(cfg)
    first = start_bronze_stream(spark, cfg, "access.audit", scheduled=True)
    first.awaitTermination()
    total = lh.read(spark, lh.source("access.audit")).count()
    extra = lh.read(spark, lh.source("access.audit")).limit(total // 100).toArrow()
    new_ids = [f"late-{i}" for i in range(extra.num_rows)]
    extra = extra.set_column(extra.schema.get_field_index("event_id"), "event_id", pa.array(new_ids))
    SourceWriter(cfg).append("access.audit", extra)
    second = start_bronze_stream(spark, cfg, "access.audit", scheduled=True)
    second.awaitTermination()
    read = sum(p["numInputRows"] for p in second.recentProgress)
    assert read == extra.num_rows  # about 1% of the table, not the table
    assert _count(spark, cfg, bronze_name(cfg, "access.audit")) == total + extra.num_rows


def test_killed_mid_batch_and_restarted_loses_and_doubles_nothing(spark, tmp_path):
    cfg = settings_for(tmp_path / "home")
    # Many small commits, so the stream needs many micro-batches.
    run_live(cfg, Simulator("small", 8, to_us(date(2026, 3, 2)), 1, scenarios=[]), rate=4000, interval_s=0.02,
             duration_s=2.0)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    worker = [sys.executable, "-m", "tests.streams.crash_worker", cfg.storage_root.rsplit("/lakehouse", 1)[0]]
    home = Path(worker[-1])
    proc = subprocess.Popen(worker + ["3"], env=env, cwd=REPO_ROOT)
    deadline = time.time() + 240
    while not (home / "hanging").exists():
        assert proc.poll() is None, "worker exited before reaching the hang"
        assert time.time() < deadline, "worker never reached batch 3"
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lh = Lakehouse(cfg)
    bronze_path = lh.location(bronze_name(cfg, "access.audit"))
    written_before = read_arrow(bronze_path, columns=["event_id"]).num_rows
    assert written_before > 0
    subprocess.run(worker, env=env, cwd=REPO_ROOT, check=True, timeout=600)
    bronze = read_arrow(bronze_path, columns=["event_id"]).column("event_id").to_pylist()
    source = read_arrow(SourceWriter(cfg).path("access.audit"), columns=["event_id"])
    assert len(bronze) == len(set(bronze)), "duplicate natural keys after the restart"
    assert set(bronze) == set(source.column("event_id").to_pylist())


def test_hwm_picks_up_late_rows_without_duplicates_and_keeps_offsets_per_task(spark, lakehouse):
    cfg = lakehouse
    lh = Lakehouse(cfg)
    source = lh.read(spark, lh.source("query.history"))
    n = source.count()
    first = ingest_hwm(spark, cfg, "query.history")
    assert first.rows_written == n and first.hwm is not None
    again = ingest_hwm(spark, cfg, "query.history")
    assert again.rows_written == 0 and again.rows_read > 0  # the overlap is re-read, nothing re-written
    # A late row: its update time is before the high-water mark, within the overlap.
    late = source.limit(3).withColumn("statement_id", F.concat(F.lit("late-"), "statement_id")).toArrow()
    SourceWriter(cfg).append("query.history", late)
    third = ingest_hwm(spark, cfg, "query.history")
    assert third.rows_written == 3
    bronze = lh.read(spark, bronze_name(cfg, "query.history"))
    assert bronze.count() == n + 3 == bronze.select("statement_id").distinct().count()
    # Another task over the same source keeps its own offset and starts from the beginning.
    other = ingest_hwm(spark, cfg, "query.history", task="replay-check")
    assert other.rows_read == n + 3 and other.rows_written == 0


def test_snapshot_merges_rows_changed_in_place_and_an_unchanged_source_is_not_read_again(spark, lakehouse):
    cfg = lakehouse
    lh = Lakehouse(cfg)
    task = BatchSource(spark, cfg, "access.workspaces_latest", "snapshot", [])  # what the monitor runs
    assert task().rows_written == 3
    state = lh.location(lh.name("ops", "processing_state"))
    version = DeltaTable(state).version()
    again = task()  # the source has not committed since: nothing read, no offset commit
    assert (again.rows_read, again.rows_written) == (0, 0) and DeltaTable(state).version() == version
    path = SourceWriter(cfg).path("access.workspaces_latest")
    current = read_arrow(path)
    first = current.to_pylist()[0]
    SourceWriter(cfg).upsert("access.workspaces_latest",
                             pa.Table.from_pylist([dict(first, status="BANNED")], schema=current.schema))
    result = task()
    assert result.rows_written == 1 and result.rows_read == 3
    bronze = lh.read(spark, bronze_name(cfg, "access.workspaces_latest"))
    assert bronze.count() == 3
    assert bronze.where(f"workspace_id = '{first['workspace_id']}'").first()["status"] == "BANNED"


def test_added_column_flows_into_bronze_and_a_retyped_one_stops_the_stream(spark, lakehouse):
    cfg = lakehouse
    lh = Lakehouse(cfg)
    start_bronze_stream(spark, cfg, "compute.warehouse_events", scheduled=True).awaitTermination()
    path = SourceWriter(cfg).path("compute.warehouse_events")
    rows = read_arrow(path).slice(0, 2)
    write_deltalake(path, rows.append_column("region", pa.array(["us-east-1"] * 2)), mode="append",
                    schema_mode="merge")
    start_bronze_stream(spark, cfg, "compute.warehouse_events", scheduled=True).awaitTermination()
    bronze = lh.read(spark, bronze_name(cfg, "compute.warehouse_events"))
    assert "region" in bronze.columns and bronze.where("region = 'us-east-1'").count() == 2
    before = bronze.count()
    # cluster_count becomes a string: bronze cannot follow.
    table = read_arrow(path)
    retyped = table.set_column(table.schema.get_field_index("cluster_count"), "cluster_count",
                               table.column("cluster_count").cast(pa.string()))
    write_deltalake(path, retyped, mode="overwrite", schema_mode="overwrite")
    with pytest.raises(SchemaDriftError, match="cluster_count.*changed type from int to string"):
        start_bronze_stream(spark, cfg, "compute.warehouse_events", scheduled=True)
    assert lh.read(spark, bronze_name(cfg, "compute.warehouse_events")).count() == before
