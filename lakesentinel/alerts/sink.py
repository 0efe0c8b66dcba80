"""Where rules and detectors put their alerts: ``plt_ops.alerts``, one row per ``alert_id``.

``write_alerts`` is on the hot path (called from each scoring stream's ``foreachBatch``), so it is one
Delta commit. With ``txn=(app_id, batch_id)`` it is a plain append that Delta commits once per pair (a
micro-batch replayed after a crash is skipped), which costs a fraction of a MERGE; the lifecycle ignores
an ``alert_id`` it has seen, so a signal re-emitted by a later batch is not counted twice. Without
``txn`` it is an insert-only MERGE on ``alert_id``. Change Data Feed is on: the lifecycle reads the table
incrementally from it.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from lakesentinel.alerts.record import ALERT_SCHEMA
from lakesentinel.errors import SchemaMismatchError
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings
from lakesentinel.sources.types import diff_schemas

ALERTS = "alerts"
PROPERTIES = {"delta.enableChangeDataFeed": "true"}


def alerts_table(cfg: Settings) -> str:
    return Lakehouse(cfg).name("ops", ALERTS)


def ensure_alerts_table(spark: SparkSession, cfg: Settings) -> str:
    return Lakehouse(cfg).create_table(spark, alerts_table(cfg), ALERT_SCHEMA, properties=PROPERTIES,
                                       comment="One row per alert (rules and detectors); see alerts/record.py")


def write_alerts(spark: SparkSession, cfg: Settings, alerts_df: DataFrame, *, txn: tuple[str, int] | None = None) -> None:
    """MERGE ``alerts_df`` (``ALERT_SCHEMA``) into ``plt_ops.alerts``, inserting ids not there yet.

    ``txn`` is ``(application id, monotonically increasing version)``, e.g. the streaming query id and
    the micro-batch id: Delta commits a given pair once.
    """
    problems = diff_schemas(ALERT_SCHEMA, alerts_df.schema)
    if problems:
        raise SchemaMismatchError("write_alerts: the alerts DataFrame", problems)
    from delta.tables import DeltaTable

    name = ensure_alerts_table(spark, cfg)
    source = alerts_df.select(*ALERT_SCHEMA.names).dropDuplicates(["alert_id"])
    if txn is not None:
        (source.write.format("delta").mode("append").option("txnAppId", str(txn[0]))
         .option("txnVersion", int(txn[1])).saveAsTable(name))
        return
    (DeltaTable.forName(alerts_df.sparkSession, name).alias("t")
     .merge(source.alias("s"), "t.alert_id = s.alert_id")
     .whenNotMatchedInsertAll()
     .execute())
