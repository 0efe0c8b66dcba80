"""The session factory gives local Spark + Delta tuned for a small machine."""

import threading
import time

import pandas as pd
from pyspark.sql.streaming.state import GroupStateTimeout

from lakesentinel.lakehouse import Lakehouse


def test_local_session_is_tuned_and_has_delta(spark, base_settings, tmp_path):
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"
    assert spark.sparkContext.getConf().get("spark.ui.enabled") == "false"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    path = str(tmp_path / "t")
    spark.range(5).write.format("delta").save(path)
    assert spark.read.format("delta").load(path).count() == 5
    assert spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["format"] == "delta"


def test_created_tables_live_under_the_storage_root_with_properties(spark, base_settings):
    lh = Lakehouse(base_settings)
    name = lh.create_table(spark, lh.name("ops", "factory_probe"), "id STRING, amount DECIMAL(38,18)",
                           properties={"delta.enableChangeDataFeed": "true"})
    detail = spark.sql(f"DESCRIBE DETAIL {name}").first()
    assert detail["location"].endswith("lakehouse/plt_ops/factory_probe")
    assert detail["properties"]["delta.enableChangeDataFeed"] == "true"
    # Idempotent: a second create is a no-op.
    spark.sql(f"INSERT INTO {name} VALUES ('a', 1.5)")
    lh.create_table(spark, name, "id STRING, amount DECIMAL(38,18)")
    assert spark.table(name).count() == 1


def test_stateful_pandas_udf_runs_with_the_pinned_arrow(spark):
    """PySpark 4.0 with a wrong pyarrow breaks applyInPandasWithState; the pins must keep it working."""

    def count(key, frames, state):
        total = state.get[0] if state.exists else 0
        for frame in frames:
            total += len(frame)
        state.update((total,))
        yield pd.DataFrame({"k": [key[0]], "n": [total]})

    stream = (spark.readStream.format("rate").option("rowsPerSecond", 50).load()
              .selectExpr("CAST(value % 3 AS STRING) AS k"))
    query = (stream.groupBy("k").applyInPandasWithState(count, "k string, n long", "n long", "update",
                                                        GroupStateTimeout.NoTimeout)
             .writeStream.format("memory").queryName("stateful_probe").outputMode("update").start())
    try:
        query.processAllAvailable()
        import time

        time.sleep(2)
        query.processAllAvailable()
        assert query.exception() is None
        assert spark.table("stateful_probe").count() > 0
    finally:
        query.stop()


def test_side_by_side_keeps_order_and_the_callers_scheduler_pool(spark):
    from lakesentinel.session import current_pool, run_side_by_side, scheduler_pool

    def probe(n: int):
        time.sleep(0.05 * (3 - n))  # later items finish first: results must still come back in order
        return n, current_pool(spark), threading.current_thread().name

    with scheduler_pool(spark, "background"):
        results = run_side_by_side(spark, [0, 1, 2], probe, threads=3, name="probe")
    assert [n for n, _, _ in results] == [0, 1, 2]
    assert {pool for _, pool, _ in results} == {"background"}
    assert all(name.startswith("probe") for _, _, name in results)
    assert current_pool(spark) in (None, "")  # the caller's own pool is restored after the block
