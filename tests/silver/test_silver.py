"""Silver: priced cost that reconciles, SCD2 dimensions, tags, runs, data quality, incremental reads."""

from datetime import timedelta
from decimal import Decimal

import pyarrow as pa
from pyspark.sql import Window
from pyspark.sql import functions as F

from lakesentinel.deltars import read_arrow
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.silver import tags as tag_fns
from lakesentinel.silver.dimensions import DIMENSIONS
from lakesentinel.silver.scd2 import FAR_FUTURE
from lakesentinel.sources.writer import SourceWriter
from tests.silver.conftest import run_tasks


def _silver(spark, cfg, table):
    lh = Lakehouse(cfg)
    return lh.read(spark, lh.name("silver", table))


def test_list_cost_reconciles_with_the_source_to_the_cent(silver_spark, silvered):
    cfg = silvered[0]
    lh = Lakehouse(cfg)
    expected = silver_spark.sql(f"""
        SELECT sum(u.usage_quantity * p.pricing.effective_list.default) AS cost, count(*) AS n
        FROM {lh.source('billing.usage')} u JOIN {lh.source('billing.list_prices')} p
          ON u.sku_name = p.sku_name AND u.cloud = p.cloud AND u.usage_unit = p.usage_unit
         AND u.usage_end_time >= p.price_start_time
         AND (p.price_end_time IS NULL OR u.usage_end_time < p.price_end_time)""").first()
    got = _silver(silver_spark, cfg, "usage").agg(F.sum("list_cost").alias("cost"), F.count("*").alias("n")).first()
    corrections = _silver(silver_spark, cfg, "usage").where("record_type <> 'ORIGINAL'").count()
    assert corrections > 0  # late retractions and restatements are part of the total
    assert got["n"] == expected["n"]
    assert round(Decimal(got["cost"]), 2) == round(Decimal(expected["cost"]), 2)
    assert _silver(silver_spark, cfg, "usage").schema["list_cost"].dataType.simpleString() == "decimal(38,18)"


def test_silver_rules_and_detectors_price_usage_the_same(silver_spark, silvered):
    from lakesentinel.detectors.metrics import priced_usage
    from lakesentinel.rules.enrich import Enricher

    cfg = silvered[0]
    lh = Lakehouse(cfg)
    # Every SKU, the promotional one and the ones whose price changes mid-period among them.
    rows = lh.read(silver_spark, lh.source("billing.usage")).where("record_type = 'ORIGINAL'")
    rows = rows.withColumn("_n", F.row_number().over(Window.partitionBy("sku_name").orderBy("record_id")))
    rows = rows.where("_n <= 20 OR usage_end_time >= timestamp'2026-03-03 12:00:00'").drop("_n")

    def costs(df):
        assert df.schema["list_cost"].dataType.simpleString() == "decimal(38,18)"
        return {r["record_id"]: r["list_cost"] for r in df.select("record_id", "list_cost").collect()}

    by_silver = costs(_silver(silver_spark, cfg, "usage").join(rows.select("record_id"), "record_id"))
    by_rules = costs(Enricher(silver_spark, cfg).apply("billing.usage", rows, {"list_cost"}))
    by_detectors = costs(priced_usage(silver_spark, cfg, rows))
    assert len(by_silver) == rows.count() > 100
    assert sum(1 for c in by_silver.values() if c is not None) > 100
    assert by_rules == by_silver
    assert by_detectors == by_silver


def test_retracted_originals_are_marked(silver_spark, silvered):
    usage = _silver(silver_spark, silvered[0], "usage")
    retractions = usage.where("record_type = 'RETRACTION'").count()
    assert usage.where("record_type = 'ORIGINAL' AND is_retracted").count() == retractions > 0


def _assert_scd2(df, key):
    w = Window.partitionBy(*key).orderBy("valid_from")
    gaps = (df.withColumn("_next", F.lead("valid_from").over(w))
              .where("(_next IS NOT NULL AND valid_to <> _next) OR (_next IS NULL AND NOT is_current)"
                     " OR valid_to <= valid_from"))
    assert gaps.count() == 0, gaps.limit(3).collect()
    current = df.where("is_current").groupBy(*key).count()
    assert current.where("count <> 1").count() == 0
    assert current.count() == df.select(*key).distinct().count()
    assert df.where("is_current").where(F.col("valid_to") != F.lit(FAR_FUTURE)).count() == 0


def test_scd2_invariants_hold_for_every_dimension(silver_spark, silvered):
    cfg = silvered[0]
    for dim in DIMENSIONS:
        df = _silver(silver_spark, cfg, dim.target)
        assert df.count() > 0, dim.target
        _assert_scd2(df, list(dim.key))
    # Clusters and jobs really change over time.
    assert _silver(silver_spark, cfg, "dim_cluster").groupBy("cluster_id").count().where("count > 1").count() > 0


def test_tags_normalise_and_inherit_usage_then_job_then_cluster(spark):
    df = spark.createDataFrame(
        [({" CostCenter ": " CC-1 ", "Team": "a"}, {"cost_center": "CC-9", "env": "prod"}, {"team": "z", "zone": "x"})],
        "u map<string,string>, j map<string,string>, c map<string,string>")
    aliases = {"costcenter": "cost_center"}
    row = df.select(tag_fns.inherit(aliases, F.col("u"), F.col("j"), F.col("c")).alias("t")).first()
    assert row["t"] == {"cost_center": "CC-1", "team": "a", "env": "prod", "zone": "x"}
    missing = df.select(tag_fns.missing(tag_fns.normalise(F.col("c"), aliases), ["cost_center", "team"])).first()[0]
    assert missing == ["cost_center"]


def test_usage_inherits_job_tags_and_flags_untagged_spend(silver_spark, silvered):
    cfg, sim, _ = silvered
    usage = _silver(silver_spark, cfg, "usage")
    # Job-cluster usage carries only the cluster's team tag; the job supplies cost_center.
    inherited = usage.where("cluster_id IS NOT NULL AND job_id IS NOT NULL AND NOT custom_tags['cost_center'] IS NOT NULL"
                            " AND tags['cost_center'] IS NOT NULL")
    assert inherited.count() > 0
    surge = next(t for t in sim.truths if t.scenario_type == "untagged_spend_surge")
    flagged = usage.where(f"job_id = '{surge.entity_id}'")
    assert flagged.count() > 0 and flagged.where("NOT is_untagged").count() == 0
    assert usage.where("is_untagged").count() < usage.count() / 4


def test_job_runs_are_rebuilt_from_slices(silver_spark, silvered):
    cfg, sim, _ = silvered
    runs = _silver(silver_spark, cfg, "job_run")
    lh = Lakehouse(cfg)
    source = silver_spark.table(lh.source("lakeflow.job_run_timeline"))
    assert runs.count() == source.select("workspace_id", "run_id").distinct().count()
    streak = next(t for t in sim.truths if t.scenario_type == "job_failure_streak")
    failed = runs.where(f"job_id = '{streak.entity_id}' AND result_state = 'FAILED'")
    assert failed.count() >= 4
    multi = runs.where("attempts > 1")
    assert multi.where("retries <> attempts - 1").count() == 0
    long = runs.where("duration_seconds > 3600")
    if long.count():
        assert long.where("end_time - start_time < INTERVAL 1 HOUR").count() == 0


# The tests below change the shared lakehouse; each measures against the state it finds.


def test_scd2_stays_valid_after_an_out_of_order_version(silver_spark, silvered):
    spark, cfg = silver_spark, silvered[0]
    lh = Lakehouse(cfg)
    path = SourceWriter(cfg).path("lakeflow.jobs")
    table = read_arrow(path)
    first = min(table.to_pylist(), key=lambda r: r["change_time"])
    t0 = first["change_time"]
    later = dict(first, change_time=t0 + timedelta(hours=2), name="renamed-second")
    late = dict(first, change_time=t0 + timedelta(hours=1), name="renamed-late")
    for version in (later, late):  # the middle version arrives last
        SourceWriter(cfg).append("lakeflow.jobs", pa.Table.from_pylist([version], schema=table.schema))
        result = run_tasks(spark, cfg, ["lakeflow.jobs"], {"silver.dim_job"})["silver.dim_job"]
        assert result.rows_read == 1
    dim = lh.read(spark, lh.name("silver", "dim_job"))
    names = [r["name"] for r in dim.where(f"job_id = '{first['job_id']}' AND valid_from >= '{t0}'")
             .orderBy("valid_from").collect()]
    assert names[:3] == [first["name"], "renamed-late", "renamed-second"]
    _assert_scd2(dim, ["workspace_id", "job_id"])


def test_bad_rows_are_quarantined_with_reasons_and_nothing_is_dropped(silver_spark, silvered):
    spark, cfg = silver_spark, silvered[0]
    lh = Lakehouse(cfg)
    path = SourceWriter(cfg).path("billing.usage")
    table = read_arrow(path)
    sample = table.slice(0, 2).to_pylist()
    bad_quantity = dict(sample[0], record_id="bad-1", usage_quantity=Decimal("-5"))
    bad_window = dict(sample[1], record_id="bad-2", usage_end_time=sample[1]["usage_start_time"] - timedelta(hours=1))
    SourceWriter(cfg).append("billing.usage", pa.Table.from_pylist([bad_quantity, bad_window], schema=table.schema))
    result = run_tasks(spark, cfg, ["billing.usage"], {"silver.usage"})["silver.usage"]
    assert result.rows_read == 2 and result.rows_quarantined == 2 and result.rows_written == 0
    held = lh.read(spark, lh.name("silver", "usage_quarantine"))
    reasons = {r["record_id"]: r["_dq_reasons"] for r in held.collect()}
    assert reasons == {"bad-1": ["quantity_non_negative"], "bad-2": ["end_after_start"]}
    usage = lh.read(spark, lh.name("silver", "usage"))
    assert usage.where("record_id LIKE 'bad-%'").count() == 0
    assert usage.count() + held.count() == lh.read(spark, lh.name("bronze", "billing_usage")).count()
    dq = (lh.read(spark, lh.name("ops", "dq_results")).where("table_name = 'usage'")
          .orderBy(F.desc("batch_end_version")).first())
    assert dq["status"] == "fail" and dq["rows_quarantined"] == 2 and dq["failures"]["quantity_non_negative"] == 1


def test_incremental_run_reads_only_what_changed(silver_spark, silvered):
    spark, cfg = silver_spark, silvered[0]
    lh = Lakehouse(cfg)
    total = lh.read(spark, lh.name("silver", "audit")).count()
    extra = lh.read(spark, lh.source("access.audit")).limit(total // 100).toArrow()
    extra = extra.set_column(extra.schema.get_field_index("event_id"), "event_id",
                             pa.array([f"more-{i}" for i in range(extra.num_rows)]))
    SourceWriter(cfg).append("access.audit", extra)
    second = run_tasks(spark, cfg, ["access.audit", "billing.usage"], {"silver.audit", "silver.usage"})
    assert second["silver.audit"].rows_read == extra.num_rows == total // 100
    assert second["silver.usage"].rows_read == 0
    assert lh.read(spark, lh.name("silver", "audit")).count() == total + extra.num_rows
