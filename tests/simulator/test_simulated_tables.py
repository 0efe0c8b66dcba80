"""The simulated system tables, read with Spark: exact schemas, consistency, history, corrections."""

import pytest

from lakesentinel.lakehouse import Lakehouse
from lakesentinel.sources.system_tables import SYSTEM_TABLES
from lakesentinel.sources.types import diff_schemas


@pytest.fixture
def t(simulated):
    """``t("billing.usage")`` -> the configured source table name."""
    lh = Lakehouse(simulated[0])
    return lh.source


@pytest.mark.parametrize("name", sorted(SYSTEM_TABLES))
def test_schema_equals_reference_exactly(sim_spark, t, name):
    df = sim_spark.table(t(name))
    reference = SYSTEM_TABLES[name]
    assert diff_schemas(reference.schema, df.schema) == []
    assert [f.name for f in df.schema.fields] == reference.column_names
    assert df.count() > 0


def _zero(spark, sql: str) -> None:
    rows = spark.sql(sql).collect()
    assert rows == [], f"{len(rows)} violation(s), e.g. {rows[:3]}"


def test_usage_points_at_things_that_exist(sim_spark, t):
    u = t("billing.usage")
    _zero(sim_spark, f"""SELECT u.usage_metadata.job_id FROM {u} u LEFT ANTI JOIN {t('lakeflow.jobs')} j
        ON u.workspace_id = j.workspace_id AND u.usage_metadata.job_id = j.job_id
        WHERE u.usage_metadata.job_id IS NOT NULL""")
    _zero(sim_spark, f"""SELECT u.usage_metadata.job_run_id FROM {u} u LEFT ANTI JOIN {t('lakeflow.job_run_timeline')} r
        ON u.workspace_id = r.workspace_id AND u.usage_metadata.job_run_id = r.run_id
        WHERE u.usage_metadata.job_run_id IS NOT NULL""")
    _zero(sim_spark, f"""SELECT u.usage_metadata.cluster_id FROM {u} u LEFT ANTI JOIN {t('compute.clusters')} c
        ON u.workspace_id = c.workspace_id AND u.usage_metadata.cluster_id = c.cluster_id
        WHERE u.usage_metadata.cluster_id IS NOT NULL""")
    _zero(sim_spark, f"""SELECT u.usage_metadata.warehouse_id FROM {u} u LEFT ANTI JOIN {t('compute.warehouses')} w
        ON u.workspace_id = w.workspace_id AND u.usage_metadata.warehouse_id = w.warehouse_id
        WHERE u.usage_metadata.warehouse_id IS NOT NULL""")
    _zero(sim_spark, f"""SELECT u.usage_metadata.dlt_pipeline_id FROM {u} u LEFT ANTI JOIN {t('lakeflow.pipelines')} p
        ON u.workspace_id = p.workspace_id AND u.usage_metadata.dlt_pipeline_id = p.pipeline_id
        WHERE u.usage_metadata.dlt_pipeline_id IS NOT NULL""")
    _zero(sim_spark, f"""SELECT u.workspace_id FROM {u} u LEFT ANTI JOIN {t('access.workspaces_latest')} w
        ON u.workspace_id = w.workspace_id""")
    # Every usage row has exactly one list price in force when its window ended.
    _zero(sim_spark, f"""SELECT u.record_id, count(p.sku_name) AS prices FROM {u} u LEFT JOIN {t('billing.list_prices')} p
        ON u.sku_name = p.sku_name AND u.cloud = p.cloud AND u.usage_unit = p.usage_unit
        AND u.usage_end_time >= p.price_start_time AND (p.price_end_time IS NULL OR u.usage_end_time < p.price_end_time)
        GROUP BY u.record_id HAVING prices <> 1""")


def test_queries_run_on_existing_warehouses_by_known_users(sim_spark, t):
    q = t("query.history")
    _zero(sim_spark, f"""SELECT q.statement_id FROM {q} q LEFT ANTI JOIN {t('compute.warehouses')} w
        ON q.workspace_id = w.workspace_id AND q.compute.warehouse_id = w.warehouse_id""")
    _zero(sim_spark, f"""SELECT DISTINCT q.executed_by FROM {q} q LEFT ANTI JOIN
        (SELECT DISTINCT user_identity.email AS email FROM {t('access.audit')}) a ON q.executed_by = a.email""")


def test_job_runs_tasks_and_clusters_are_consistent(sim_spark, t):
    runs, tasks = t("lakeflow.job_run_timeline"), t("lakeflow.job_task_run_timeline")
    # A job run's row lands when the run (or an hour of it) ends, so only settled task runs are checked.
    _zero(sim_spark, f"""SELECT k.run_id FROM {tasks} k LEFT ANTI JOIN {runs} r
        ON k.workspace_id = r.workspace_id AND k.job_run_id = r.run_id
        WHERE k.period_end_time < (SELECT max(period_end_time) - INTERVAL 3 HOURS FROM {runs})""")
    _zero(sim_spark, f"""SELECT r.job_id FROM {runs} r LEFT ANTI JOIN {t('lakeflow.jobs')} j
        ON r.workspace_id = j.workspace_id AND r.job_id = j.job_id""")
    _zero(sim_spark, f"""SELECT k.run_id FROM (SELECT workspace_id, run_id, explode(compute_ids) AS cid FROM {tasks}) k
        LEFT ANTI JOIN {t('compute.clusters')} c ON k.workspace_id = c.workspace_id AND k.cid = c.cluster_id""")
    _zero(sim_spark, f"""SELECT run_id FROM {runs}
        WHERE period_end_time <= period_start_time OR period_end_time > period_start_time + INTERVAL 1 HOUR""")
    _zero(sim_spark, f"""SELECT event_type FROM {t('compute.warehouse_events')} e LEFT ANTI JOIN {t('compute.warehouses')} w
        ON e.workspace_id = w.workspace_id AND e.warehouse_id = w.warehouse_id""")


def test_job_runs_cause_usage(sim_spark, t):
    """Runs on job clusters and serverless bill usage under their run id, once it has landed."""
    _zero(sim_spark, f"""
        WITH runs AS (
          SELECT workspace_id, run_id, max(period_end_time) AS ended, max(compute[0].type) AS kind,
                 max(compute[0].cluster_id) AS cluster_id
          FROM {t('lakeflow.job_run_timeline')} GROUP BY workspace_id, run_id),
        job_clusters AS (SELECT DISTINCT cluster_id FROM {t('compute.clusters')} WHERE cluster_source = 'JOB'),
        billed AS (SELECT DISTINCT workspace_id, usage_metadata.job_run_id AS run_id FROM {t('billing.usage')})
        SELECT runs.* FROM runs LEFT ANTI JOIN billed USING (workspace_id, run_id)
        WHERE runs.ended < (SELECT max(usage_end_time) - INTERVAL 6 HOURS FROM {t('billing.usage')})
          AND (runs.kind = 'SERVERLESS_COMPUTE' OR runs.cluster_id IN (SELECT cluster_id FROM job_clusters))""")
    billed_runs = sim_spark.sql(f"""SELECT count(DISTINCT usage_metadata.job_run_id) AS n FROM {t('billing.usage')}
        WHERE usage_metadata.job_run_id IS NOT NULL""").first()["n"]
    assert billed_runs > 20


def test_definitions_change_over_time(sim_spark, t):
    for name, key in (("compute.clusters", "cluster_id"), ("lakeflow.jobs", "job_id"),
                      ("compute.warehouses", "warehouse_id")):
        changed = sim_spark.sql(f"""SELECT {key} FROM {t(name)} GROUP BY workspace_id, {key}
            HAVING count(DISTINCT change_time) > 1""")
        assert changed.count() > 0, name
    deleted = sim_spark.sql(f"SELECT count(*) AS n FROM {t('compute.clusters')} WHERE delete_time IS NOT NULL").first()
    assert deleted["n"] > 0


def test_prices_change_mid_period_with_contiguous_ranges(sim_spark, t, simulated):
    rows = sim_spark.sql(f"""SELECT sku_name, price_start_time, price_end_time FROM {t('billing.list_prices')}
        WHERE sku_name IN (SELECT sku_name FROM {t('billing.list_prices')} GROUP BY sku_name HAVING count(*) = 2)
        ORDER BY sku_name, price_start_time""").collect()
    assert len(rows) >= 4
    for old, new in zip(rows[::2], rows[1::2]):
        assert old["price_end_time"] == new["price_start_time"] and new["price_end_time"] is None
    sim = simulated[1]
    from lakesentinel.simulator.clock import from_us

    change = rows[1]["price_start_time"].replace(tzinfo=None)
    assert from_us(sim.start).replace(tzinfo=None) < change < from_us(sim.end).replace(tzinfo=None)


def test_late_corrections_retract_and_restate_originals(sim_spark, t):
    u = t("billing.usage")
    pairs = sim_spark.sql(f"""SELECT o.usage_quantity AS q, r.usage_quantity AS rq, o.ingestion_date AS oi,
            r.ingestion_date AS ri FROM {u} r JOIN {u} o
        ON o.record_type = 'ORIGINAL' AND r.record_type = 'RETRACTION' AND o.workspace_id = r.workspace_id
        AND o.sku_name = r.sku_name AND o.usage_start_time = r.usage_start_time
        AND o.usage_metadata = r.usage_metadata AND o.usage_quantity = -r.usage_quantity""").collect()
    retractions = sim_spark.sql(f"SELECT count(*) AS n FROM {u} WHERE record_type = 'RETRACTION'").first()["n"]
    restatements = sim_spark.sql(f"SELECT count(*) AS n FROM {u} WHERE record_type = 'RESTATEMENT'").first()["n"]
    assert retractions > 0 and restatements > 0
    assert len(pairs) == retractions
    assert all(p["ri"] > p["oi"] for p in pairs)


def test_seasonality_weekdays_and_working_hours_are_busier(sim_spark, t):
    by_hour = {r["h"]: r["n"] for r in sim_spark.sql(
        f"SELECT hour(start_time) AS h, count(*) AS n FROM {t('query.history')} GROUP BY 1").collect()}
    assert by_hour.get(14, 0) > 4 * by_hour.get(3, 0)
