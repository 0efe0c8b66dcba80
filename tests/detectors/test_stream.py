"""Detectors on Spark: metric rows, prices, alert records, and restarts from a checkpoint."""

from datetime import timezone

import pytest
from pyspark.errors import StreamingQueryException
from pyspark.sql import functions as F

from lakesentinel.alerts.record import ALERT_SCHEMA, alert_id, fingerprint
from lakesentinel.detectors.spec import find_spec
from lakesentinel.detectors.stream import (
    DetectorInputError, detector_scores, detector_stream, feature_column, metric_frame, source_stream,
)
from lakesentinel.lakehouse import Lakehouse

COMPARED = ("entity_id", "window_start", "window_end", "observed", "expected", "score", "severity", "cold_start",
            "learned", "rows", "features", "evidence", "source_committed_at")


def _run(scores, path, fail_at_batch=None):
    """Run a scores stream once over what is there, into a Delta table, written idempotently per batch."""
    def sink(frame, batch_id):
        frame.write.format("delta").mode("append").option("txnAppId", "detector-test") \
            .option("txnVersion", batch_id).save(str(path / "scores"))
        if batch_id == fail_at_batch:
            raise RuntimeError("the driver dies after writing, before the batch commits")

    query = (scores.writeStream.foreachBatch(sink).option("checkpointLocation", str(path / "checkpoint"))
             .trigger(availableNow=True).start())
    query.awaitTermination()
    return query


def _rows(spark, path):
    return sorted(tuple(r) for r in spark.read.format("delta").load(str(path / "scores")).select(*COMPARED).collect())


def test_a_restart_mid_stream_gives_the_scores_of_an_uninterrupted_run(sim_spark, simulated, shipped_specs, tmp_path):
    cfg = simulated[0]
    spec = find_spec(shipped_specs, "cost.sku_hourly_cost")

    whole = _run(detector_scores(sim_spark, cfg, spec, source_stream(sim_spark, cfg, "billing.usage")), tmp_path / "a")

    def one_commit_per_batch():
        return detector_scores(sim_spark, cfg, spec, source_stream(sim_spark, cfg, "billing.usage",
                                                                   maxFilesPerTrigger="1"))

    with pytest.raises(StreamingQueryException, match="the driver dies"):
        _run(one_commit_per_batch(), tmp_path / "b", fail_at_batch=2)
    before_crash = _rows(sim_spark, tmp_path / "b")
    resumed = _run(one_commit_per_batch(), tmp_path / "b")

    expected, got = _rows(sim_spark, tmp_path / "a"), _rows(sim_spark, tmp_path / "b")
    assert whole.lastProgress["batchId"] <= 1 < 3 <= resumed.lastProgress["batchId"], "the runs batch differently"
    assert 0 < len(before_crash) < len(got), "the crash must come after some windows were scored"
    assert any(r[5] > 0 for r in got) and any(not r[7] for r in got), "warm entities with real scores"
    assert got == expected


@pytest.fixture(scope="module")
def alerts(spark, simulated, tmp_path_factory):
    from lakesentinel.session import get_spark
    from tests.detectors.conftest import make_spec

    sim_spark = get_spark(simulated[0])
    spec = make_spec("""
id: test.stream_cost
domain: cost
metric:
  source: billing.usage
  entity: [workspace_id, sku_name]
  entity_type: sku
  window: {size: 1h}
  features: [{name: list_cost, measure: list_cost, agg: sum}]
model: {type: robust_quantile, params: {min_scale: 0.2, transform: log1p}}
warmup: {windows: 24, max_severity: low}
alert:
  severity: {low: 0.3, high: 0.9}
  title: "{sku_name} in {workspace_id}: {observed:.2f} USD, expected {expected:.2f}"
  labels: {team: finops}
""")
    cfg = simulated[0]
    path = tmp_path_factory.mktemp("alerts")
    query = (detector_stream(sim_spark, cfg, spec, source_stream(sim_spark, cfg, "billing.usage")).writeStream
             .format("delta").option("checkpointLocation", str(path / "checkpoint")).trigger(availableNow=True)
             .start(str(path / "alerts")))
    query.awaitTermination()
    return spec, sim_spark.read.format("delta").load(str(path / "alerts"))


def test_alerts_are_alert_records(alerts):
    spec, frame = alerts
    assert frame.schema == ALERT_SCHEMA
    rows = frame.collect()
    assert rows, "the test spec is sensitive enough to alert on four simulated days"
    for r in rows:
        assert (r.kind, r.rule_id, r.rule_version, r.domain, r.entity_type) == ("detector", spec.id, "1", "cost", "sku")
        assert 0.0 <= r.score <= 1.0 and r.severity in ("low", "high")
        assert r.fingerprint == fingerprint(spec.id, {"workspace_id": r.workspace_id, "sku_name": r.entity_id})
        assert r.alert_id == alert_id(r.fingerprint, r.window_start, r.window_end)
        assert r.labels["cold_start"] in ("true", "false") and r.labels["team"] == "finops"
        assert r.date_key == int(r.window_end.strftime("%Y%m%d"))
        assert r.title.startswith(f"{r.entity_id} in {r.workspace_id}: ")
        assert float(r.cost_impact) == pytest.approx(max(0.0, r.observed - (r.expected or 0.0)))
    cold = [r for r in rows if r.labels["cold_start"] == "true"]
    assert cold and all(r.severity == "low" for r in cold), "cold entities alert, capped at the warm-up severity"
    assert any(r.labels["cold_start"] == "false" for r in rows)


def test_alerts_point_at_their_source_rows(alerts, sim_spark, simulated):
    spec, frame = alerts
    cfg = simulated[0]
    lh = Lakehouse(cfg)
    alert = frame.where(F.col("labels")["cold_start"] == "false").orderBy("alert_id").first()
    usage = (sim_spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", 0)
             .load(lh.location(lh.source("billing.usage")))
             .where((F.col("workspace_id") == alert.workspace_id) & (F.col("sku_name") == alert.entity_id)
                    & (F.col("usage_start_time") >= alert.window_start) & (F.col("usage_start_time") < alert.window_end)
                    & (F.col("record_type") == "ORIGINAL")))
    behind = usage.agg(F.max("_commit_timestamp").alias("newest"), F.collect_set("record_id").alias("ids")).first()
    assert alert.source_committed_at == behind.newest
    assert sorted(alert.evidence["record_id"]) == sorted(behind.ids)


def test_list_cost_uses_the_price_in_force(sim_spark, simulated, shipped_specs):
    cfg = simulated[0]
    lh = Lakehouse(cfg)
    spec = find_spec(shipped_specs, "cost.sku_hourly_cost")
    usage = lh.read(sim_spark, lh.source("billing.usage"))
    metrics = metric_frame(sim_spark, cfg, spec, usage)
    prices = {(r.sku_name, r.price_start_time, r.price_end_time): r.price for r in lh.read(
        sim_spark, lh.source("billing.list_prices")).select(
        "sku_name", "price_start_time", "price_end_time", F.col("pricing.effective_list.default").alias("price")).collect()}
    changed = {sku for sku, _, end in prices if end is not None}
    assert changed, "the simulator changes some list prices mid-period"
    rows = (usage.where(F.col("sku_name").isin(*changed) & (F.col("record_type") == "ORIGINAL"))
            .select("record_id", "sku_name", "usage_end_time", "usage_quantity").collect())
    cost = {r["_evidence"]: r[feature_column("list_cost")] for r in metrics.where(F.col("sku_name").isin(*changed)).collect()}
    before = after = 0
    for r in rows:
        (price,) = [p for (sku, start, end), p in prices.items()
                    if sku == r.sku_name and start <= r.usage_end_time and (end is None or r.usage_end_time < end)]
        assert cost[r.record_id] == pytest.approx(float(r.usage_quantity * price))
        after += any(end is not None and r.usage_end_time >= end for (sku, _, end) in prices if sku == r.sku_name)
        before += not any(end is not None and r.usage_end_time >= end for (sku, _, end) in prices if sku == r.sku_name)
    assert before and after, "rows on both sides of a price change"


def test_a_detector_given_the_wrong_table_says_so(sim_spark, simulated, shipped_specs):
    cfg = simulated[0]
    lh = Lakehouse(cfg)
    spec = find_spec(shipped_specs, "cost.sku_hourly_cost")
    with pytest.raises(DetectorInputError, match=r"detector 'cost.sku_hourly_cost' .* reads billing.usage, but its "
                                                 r"input lacks 17 of that table's columns: record_id, workspace_id, sku_name"):
        metric_frame(sim_spark, cfg, spec, lh.read(sim_spark, lh.source("compute.node_types")))


def test_metric_rows_keep_entities_and_drop_rows_without_one(sim_spark, simulated, shipped_specs):
    cfg = simulated[0]
    lh = Lakehouse(cfg)
    spec = find_spec(shipped_specs, "cost.cluster_hourly_cost")
    usage = lh.read(sim_spark, lh.source("billing.usage"))
    metrics = metric_frame(sim_spark, cfg, spec, usage)
    expected = usage.where((F.col("billing_origin_product") == "ALL_PURPOSE") & (F.col("record_type") == "ORIGINAL")
                           & F.col("usage_metadata.cluster_id").isNotNull())
    assert metrics.count() == expected.count() > 0
    assert metrics.where(F.col("cluster_id").isNull()).count() == 0
    first = metrics.orderBy("_t").first()
    assert first["_t"] == int(first["_event_time"].replace(tzinfo=timezone.utc).timestamp() * 1_000_000)
