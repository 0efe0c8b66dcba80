"""Detectors on Spark: source rows become metric rows, metric rows become per-entity scores kept in
Spark's streaming state, and scores that alert become alert records.

``detector_stream(spark, cfg, spec, source)`` is what the running monitor starts (with its own sink
and checkpoint); ``detector_scores`` gives every closed window, alerting or not. Both take a
streaming DataFrame with a system table's exact columns: the source table read through its change
data feed, or the bronze table (the same columns plus ingest metadata). Per entity, the state is one
compressed blob (:mod:`lakesentinel.detectors.entity`) in ``applyInPandasWithState``, woken by
event-time timeouts so that windows close, and empty windows count, even when an entity is quiet.
"""

from __future__ import annotations

import json
import warnings
from typing import Iterator

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.streaming.state import GroupState, GroupStateTimeout

from lakesentinel.alerts.record import ALERT_COLUMNS, alert_id_col, date_key_col, fingerprint_col
from lakesentinel.detectors.entity import EntityScorer, dump_state, entity_id, features_json, load_state
from lakesentinel.detectors.spec import DetectorSpec
from lakesentinel.errors import LakeSentinelError
from lakesentinel.settings import Settings
from lakesentinel.sources.system_tables import SYSTEM_TABLES

# Commit time of a source row: bronze carries the source's own; the change data feed its table's.
COMMIT_COLUMNS = ("_source_commit_timestamp", "_commit_timestamp")

STATE_SCHEMA = T.StructType([T.StructField("blob", T.BinaryType())])

_RAW_SCORE_SCHEMA = T.StructType([
    T.StructField("detector_id", T.StringType()), T.StructField("entity", T.StringType()),
    T.StructField("entity_id", T.StringType()), T.StructField("workspace_id", T.StringType()),
    T.StructField("window_start_us", T.LongType()), T.StructField("window_end_us", T.LongType()),
    T.StructField("observed", T.DoubleType()), T.StructField("expected", T.DoubleType()),
    T.StructField("score", T.DoubleType()), T.StructField("severity", T.StringType()),
    T.StructField("cold_start", T.BooleanType()), T.StructField("learned", T.BooleanType()),
    T.StructField("rows", T.LongType()), T.StructField("features", T.StringType()),
    T.StructField("expected_features", T.StringType()), T.StructField("evidence", T.ArrayType(T.StringType())),
    T.StructField("committed_us", T.LongType()), T.StructField("title", T.StringType()),
    T.StructField("summary", T.StringType()),
])

#: Columns of :func:`detector_scores`: one row per closed window of one entity.
SCORE_COLUMNS = ("detector_id", "entity_type", "entity_id", "entity", "workspace_id", "window_start", "window_end",
                 "observed", "expected", "score", "severity", "cold_start", "learned", "rows", "features",
                 "expected_features", "evidence", "source_committed_at", "title", "summary")


class DetectorInputError(LakeSentinelError):
    """A detector was given a DataFrame that is not the system table its spec reads."""


def key_column(dimension: str) -> str:
    """Column name of an entity dimension in the metric frame (``tags.team`` -> ``tags__team``)."""
    return dimension.replace(".", "__")


def feature_column(name: str) -> str:
    return f"_f_{name}"


def _in(column: Column, values: list[str | None]) -> Column:
    present = [v for v in values if v is not None]
    test = column.isin(*present) if present else F.lit(False)
    return (test | column.isNull()) if None in values else F.coalesce(test, F.lit(False))


def metric_frame(spark: SparkSession, cfg: Settings, spec: DetectorSpec, source: DataFrame) -> DataFrame:
    """Source rows as metric rows: entity keys, event time, one column per feature, evidence key.

    Works on batch and streaming DataFrames alike. Rows whose entity key is null belong to no entity
    and are left out.
    """
    src = spec.source
    missing = [c for c in SYSTEM_TABLES[src.table].column_names if c not in source.columns]
    if missing:
        raise DetectorInputError(
            f"detector '{spec.id}' ({spec.file or 'spec'}) reads {src.table}, but its input lacks "
            f"{len(missing)} of that table's columns: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}")
    df = source
    if "_change_type" in df.columns:
        df = df.where(F.col("_change_type") == "insert")
    if src.keep is not None:
        df = df.where(src.keep())
    if src.prepare is not None:
        df = src.prepare(spark, cfg, df)
    for name, values in spec.metric.where.items():
        df = df.where(_in(src.dimension(name).column(), values))
    for name, values in spec.metric.exclude.items():
        df = df.where(~_in(src.dimension(name).column(), values))
    commit_cols = [F.col(c) for c in COMMIT_COLUMNS if c in source.columns]
    committed = F.coalesce(*commit_cols) if commit_cols else F.lit(None).cast("timestamp")
    keys = [src.dimension(n).column().cast("string").alias(key_column(n)) for n in spec.metric.entity]
    features = []
    for f in spec.metric.features:
        measure = src.measures[f.measure]
        cast = "string" if measure.kind == "key" else "double"
        features.append(measure.column().cast(cast).alias(feature_column(f.name)))
    event_time = F.col(src.event_time)
    out = df.select(
        *keys,
        src.dimensions["workspace_id"].column().cast("string").alias("_workspace_id"),
        event_time.alias("_event_time"),
        F.unix_micros(event_time).alias("_t"),
        *features,
        F.col(src.evidence).cast("string").alias("_evidence"),
        F.unix_micros(committed).alias("_committed_us"),
    )
    not_null = [F.col(key_column(n)).isNotNull() for n in spec.metric.entity]
    cond = not_null[0]
    for c in not_null[1:]:
        cond = cond & c
    return out.where(cond & F.col("_event_time").isNotNull())


def source_origin_us(spark: SparkSession, cfg: Settings, spec: DetectorSpec) -> int | None:
    """Event time of the first row the detector's source table holds (None when it is empty)."""
    from lakesentinel.lakehouse import Lakehouse

    lh = Lakehouse(cfg)
    name = lh.source(spec.source.table)
    if not lh.exists(spark, name):
        return None
    return lh.read(spark, name).agg(F.unix_micros(F.min(F.col(spec.source.event_time)))).first()[0]


def _score_function(spec: DetectorSpec, origin_us: int | None = None):
    dims = list(spec.metric.entity)
    columns = [f.name for f in _RAW_SCORE_SCHEMA.fields]

    def score_entity(key: tuple, batches: Iterator[pd.DataFrame], state: GroupState) -> Iterator[pd.DataFrame]:
        # PySpark 4.0 pads its state frames with all-NA rows and pandas 2.3 warns about it on every
        # batch; the warning is about PySpark's code, not ours.
        warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark.sql.pandas.serializers")
        scorer = EntityScorer(spec)
        watermark_us = int(state.getCurrentWatermarkMs()) * 1000
        entity = load_state(state.get[0]) if state.exists else None
        if not state.hasTimedOut:
            # Spark hands a group's rows over in chunks, in no particular order: order them all first.
            chunks = [pdf for pdf in batches if not pdf.empty]
            if chunks:
                pdf = pd.concat(chunks, ignore_index=True).sort_values(["_t", "_evidence"], kind="mergesort")
                if entity is None:
                    # New or not is a matter of event time, never of which micro-batch brought it.
                    entity = scorer.new_state(stream_running=scorer.appeared_later(int(pdf["_t"].iloc[0]), origin_us))
                scorer.add_rows(
                    entity, pdf["_t"].tolist(),
                    {f: pdf[feature_column(f)].tolist() for f, _ in scorer.features},
                    evidence=pdf["_evidence"].tolist(), workspaces=pdf["_workspace_id"].tolist(),
                    committed_us=pdf["_committed_us"].tolist())
        if entity is None:  # a group with neither state nor rows: nothing to do
            return
        closed = scorer.close(entity, watermark_us)
        if scorer.expired(entity, watermark_us):
            state.remove()
        else:
            state.update((dump_state(entity),))
            wake = scorer.next_timeout_us(entity)
            if wake is not None:
                state.setTimeoutTimestamp(max(wake // 1000, watermark_us // 1000 + 1))
        keys = {d: (None if v is None else str(v)) for d, v in zip(dims, key)}
        rows = []
        entity_text = json.dumps(keys, sort_keys=True)
        eid = entity_id(spec, keys)
        for w in closed:
            title, summary = scorer.describe(keys, w) if w.alerting else (None, None)
            rows.append((spec.id, entity_text, eid, keys.get("workspace_id") or w.workspace_id,
                         w.window_start_us, w.window_end_us, w.observed, w.expected, w.score, w.severity,
                         w.cold_start, w.learned, w.rows, features_json(w.features),
                         features_json(w.expected_features), w.evidence, w.committed_us, title, summary))
        if rows:
            yield pd.DataFrame.from_records(rows, columns=columns)

    return score_entity


def detector_scores(spark: SparkSession, cfg: Settings, spec: DetectorSpec, source: DataFrame) -> DataFrame:
    """Every closed window of every entity, scored (streaming; columns :data:`SCORE_COLUMNS`)."""
    origin = source_origin_us(spark, cfg, spec) if spec.warmup.idle_before else None
    metrics = metric_frame(spark, cfg, spec, source).withWatermark("_event_time", f"{spec.lateness_seconds} seconds")
    keys = [key_column(n) for n in spec.metric.entity]
    raw = metrics.groupBy(*keys).applyInPandasWithState(
        _score_function(spec, origin), _RAW_SCORE_SCHEMA, STATE_SCHEMA, "append", GroupStateTimeout.EventTimeTimeout)
    return raw.select(
        "detector_id", F.lit(spec.metric.entity_type).alias("entity_type"), "entity_id",
        F.from_json("entity", T.MapType(T.StringType(), T.StringType())).alias("entity"), "workspace_id",
        F.timestamp_micros("window_start_us").alias("window_start"),
        F.timestamp_micros("window_end_us").alias("window_end"),
        "observed", "expected", "score", "severity", "cold_start", "learned", "rows", "features",
        "expected_features", "evidence", F.timestamp_micros("committed_us").alias("source_committed_at"),
        "title", "summary")


def alerts_from_scores(scores: DataFrame, spec: DetectorSpec) -> DataFrame:
    """Alerting windows as alert records (``ALERT_SCHEMA``), with stable fingerprints and ids."""
    a = scores.where(F.col("severity").isNotNull())
    fp = fingerprint_col(spec.id, {d: F.col("entity").getItem(d) for d in spec.metric.entity})
    primary = spec.metric.features[0]
    measure = spec.source.measures[primary.measure]
    if measure.unit == "USD" and primary.agg == "sum":
        impact = F.greatest(F.col("observed") - F.coalesce(F.col("expected"), F.lit(0.0)), F.lit(0.0))
        cost_impact = impact.cast("decimal(38,18)")
    else:
        cost_impact = F.lit(None).cast("decimal(38,18)")
    label_items = [F.lit("cold_start"), F.when(F.col("cold_start"), F.lit("true")).otherwise(F.lit("false")),
                   F.lit("detector_model"), F.lit(spec.model.type), F.lit("window"), F.lit(spec.metric.window.size)]
    for k, v in sorted(spec.alert.labels.items()):
        label_items += [F.lit(k), F.lit(v)]
    values = {
        "alert_id": None, "fingerprint": fp, "kind": F.lit("detector"), "rule_id": F.lit(spec.id),
        "rule_version": F.lit(str(spec.version)), "domain": F.lit(spec.domain), "severity": F.col("severity"),
        "title": F.col("title"), "summary": F.col("summary"), "workspace_id": F.col("workspace_id"),
        "entity_type": F.col("entity_type"), "entity_id": F.col("entity_id"),
        "window_start": F.col("window_start"), "window_end": F.col("window_end"), "observed": F.col("observed"),
        "expected": F.col("expected"), "score": F.col("score"),
        "evidence": F.create_map(F.lit(spec.source.evidence), F.col("evidence")),
        "labels": F.create_map(*label_items), "runbook_url": F.lit(spec.alert.runbook_url).cast("string"),
        "cost_impact": cost_impact, "detected_at": F.current_timestamp(),
        "source_committed_at": F.col("source_committed_at"), "date_key": date_key_col(F.col("window_end")),
    }
    with_fp = a.withColumn("_fp", fp)
    values["fingerprint"] = F.col("_fp")
    values["alert_id"] = alert_id_col(F.col("_fp"), F.col("window_start"), F.col("window_end"))
    return with_fp.select(*[values[name].cast(dtype).alias(name) for name, dtype in ALERT_COLUMNS])


def detector_stream(spark: SparkSession, cfg: Settings, spec: DetectorSpec, source: DataFrame) -> DataFrame:
    """The detector's alerts as a streaming DataFrame of ``ALERT_SCHEMA`` rows.

    Start it with a checkpoint (e.g. ``Lakehouse(cfg).checkpoint(f"detectors/{spec.id}")``); a restart
    from that checkpoint resumes every entity's state and gives the same alerts an uninterrupted run
    would have given.
    """
    return alerts_from_scores(detector_scores(spark, cfg, spec, source), spec)


def source_stream(spark: SparkSession, cfg: Settings, table: str, **options: str) -> DataFrame:
    """A configured source table read as a stream through its change data feed, from the start."""
    from lakesentinel.lakehouse import Lakehouse

    lh = Lakehouse(cfg)
    name = lh.source(table)
    path = lh.location(name)
    reader = spark.readStream.format("delta").option("readChangeFeed", "true").option("startingVersion", 0)
    for k, v in options.items():
        reader = reader.option(k, v)
    return reader.load(path) if path else reader.table(name)
