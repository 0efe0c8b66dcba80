"""Metric views: each measure against an independent computation over the same gold rows."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import yaml

from lakesentinel.analytics.metric_view import MetricViewError, load_metric_views, parse_metric_view
from lakesentinel.analytics.metrics import create_metric_views, find_view, query_metric
from lakesentinel.lakehouse import Lakehouse

# Builds its own month-scale gold lakehouse: minutes of suite time, run with -m extended.
pytestmark = pytest.mark.extended


def gold(spark, cfg, table, *columns) -> pd.DataFrame:
    lh = Lakehouse(cfg)
    df = lh.read(spark, lh.name("gold", table))
    # Dimensions' open-ended valid_to (9999-12-31) does not fit pandas' nanoseconds: read what is needed.
    return (df.select(*columns) if columns else df.drop(*[c for c in df.columns if c.startswith("valid_")])).toPandas()


def metric(spark, cfg, name, by, where=None) -> pd.DataFrame:
    return query_metric(spark, cfg, find_view(name), by, where=where).toPandas()


def day(key: int) -> date:
    return date(key // 10000, key // 100 % 100, key % 100)


def close(a, b, tol=1e-6) -> bool:
    a, b = float(a), float(b)
    return abs(a - b) <= tol * max(1.0, abs(b))


def test_every_view_is_created_and_has_rows(analytics_spark, gold_cfg):
    views = create_metric_views(analytics_spark, gold_cfg)
    assert {v.name for v in views} == {"cost", "performance", "reliability", "security", "table_health"}
    for v in views:
        rows = analytics_spark.table(Lakehouse(gold_cfg).name("gold", v.view_name))
        assert rows.columns == [d.name for d in v.dimensions] + [m.name for m in v.measures], v.name
        assert rows.count() > 0, v.name


def test_cost_measures_by_workspace_week_and_product(analytics_spark, gold_cfg):
    facts = gold(analytics_spark, gold_cfg, "fact_cost_daily")
    facts["cost"] = facts["list_cost"].astype(float)
    by_ws = metric(analytics_spark, gold_cfg, "cost", ["workspace_id"]).set_index("workspace_id")
    expected = facts.groupby("workspace_id")
    assert set(by_ws.index.dropna()) == set(expected.groups)
    for ws, rows in expected:
        assert close(by_ws.loc[ws, "list_cost"], rows["cost"].sum())
        assert close(by_ws.loc[ws, "untagged_cost"], rows.loc[rows["is_untagged"].fillna(False).astype(bool), "cost"].sum())
        assert close(by_ws.loc[ws, "serverless_cost"], rows.loc[rows["is_serverless"].fillna(False).astype(bool), "cost"].sum())
        assert close(by_ws.loc[ws, "avg_daily_cost"], rows["cost"].sum() / rows["date_key"].nunique())
    weeks = metric(analytics_spark, gold_cfg, "cost", ["usage_week"]).set_index("usage_week")
    facts["monday"] = facts["date_key"].map(lambda k: day(k) - timedelta(days=day(k).weekday()))
    for monday, rows in facts.groupby("monday"):
        assert close(weeks.loc[monday, "list_cost"], rows["cost"].sum())
    skus = gold(analytics_spark, gold_cfg, "dim_sku", "sku_key", "product")
    joined = facts.merge(skus, on="sku_key", how="left")
    joined["prod"] = joined["product"].fillna(joined["billing_origin_product"])
    by_product = metric(analytics_spark, gold_cfg, "cost", ["product"]).set_index("product")
    for product, rows in joined.groupby("prod"):
        assert close(by_product.loc[product, "list_cost"], rows["cost"].sum())


def test_cost_where_takes_dimension_names(analytics_spark, gold_cfg):
    facts = gold(analytics_spark, gold_cfg, "fact_cost_daily")
    first = int(facts["date_key"].min())
    shown = metric(analytics_spark, gold_cfg, "cost", ["sku_name"], where=f"usage_date = DATE'{day(first)}'")
    expected = facts[facts["date_key"] == first].groupby("sku_name")["list_cost"].sum()
    assert dict(zip(shown["sku_name"], shown["list_cost"].astype(float))) == pytest.approx(expected.astype(float).to_dict())


def test_performance_percentiles_queue_spill_and_cache(analytics_spark, gold_cfg):
    q = gold(analytics_spark, gold_cfg, "fact_query_execution")
    q = q[q["warehouse_id"].notna()]
    shown = metric(analytics_spark, gold_cfg, "performance", ["warehouse_id"]).set_index("warehouse_id")
    for wh, rows in q.groupby("warehouse_id"):
        d = rows["total_duration_ms"].dropna().astype(float)
        for p in (50, 95, 99):
            assert close(shown.loc[wh, f"p{p}_latency_ms"], np.percentile(d, p)), (wh, p)
        assert close(shown.loc[wh, "avg_queue_ms"], rows["waiting_at_capacity_duration_ms"].fillna(0).mean())
        assert close(shown.loc[wh, "spilled_bytes"], rows["spilled_local_bytes"].fillna(0).sum())
        assert close(shown.loc[wh, "cache_hit_rate"], rows["from_result_cache"].fillna(False).astype(bool).astype(float).mean())
        assert shown.loc[wh, "queries"] == len(rows)


def test_reliability_slo_mttr_mtbf_per_job(analytics_spark, gold_cfg):
    runs = gold(analytics_spark, gold_cfg, "fact_job_run")
    jobs = gold(analytics_spark, gold_cfg, "dim_job", "job_key", "sla_seconds")
    for c in ("is_complete", "is_failed"):
        runs[c] = runs[c].astype("boolean").fillna(False).astype(bool)
    runs = runs[runs["is_complete"]].merge(jobs, on="job_key", how="left")
    shown = metric(analytics_spark, gold_cfg, "reliability", ["entity_id"], where="entity_type = 'job'")
    shown = shown.set_index("entity_id")
    assert runs["is_failed"].any(), "the fixture holds failed runs"
    for job, rows in runs.groupby("job_id"):
        rows = rows.sort_values("end_time")
        met = (~rows["is_failed"]) & (rows["sla_seconds"].isna() | (rows["duration_seconds"] <= rows["sla_seconds"]))
        assert close(shown.loc[job, "slo_attainment"], met.mean())
        assert shown.loc[job, "failures"] == rows["is_failed"].sum()
        recoveries = []
        for i, r in enumerate(rows.itertuples()):
            if r.is_failed:
                later = rows.iloc[i + 1:]
                ok = later[~later["is_failed"]]
                if len(ok):
                    recoveries.append((ok["end_time"].iloc[0] - r.end_time).total_seconds())
        if recoveries:
            # unix_timestamp counts whole seconds
            assert abs(float(shown.loc[job, "mttr_hours"]) - np.mean(recoveries) / 3600) <= 1 / 3600, job
        else:
            assert pd.isna(shown.loc[job, "mttr_hours"])
        if rows["is_failed"].sum():
            assert close(shown.loc[job, "mtbf_hours"], rows["duration_seconds"].sum() / 3600 / rows["is_failed"].sum())


def test_security_counts_by_type_and_severity(analytics_spark, gold_cfg):
    ev = gold(analytics_spark, gold_cfg, "fact_security_event")
    shown = metric(analytics_spark, gold_cfg, "security", ["event_type", "severity"])
    got = {(r.event_type, r.severity): (r.events, r.failed_events) for r in shown.itertuples()}
    want = {k: (len(g), int(g["is_failure"].fillna(False).astype(bool).sum())) for k, g in ev.groupby(["event_type", "severity"])}
    assert got == want


def test_table_health_freshness_and_unused_tables(analytics_spark, gold_cfg):
    th = gold(analytics_spark, gold_cfg, "fact_table_health")
    as_of = th["last_access_at"].max()
    per_table = metric(analytics_spark, gold_cfg, "table_health", ["table_full_name"]).set_index("table_full_name")
    for table, rows in th.groupby("table_full_name"):
        last_write = rows["last_write_at"].max()
        if pd.isna(last_write):
            assert pd.isna(per_table.loc[table, "hours_since_write"])
        else:
            # unix_timestamp counts whole seconds
            hours = (as_of - last_write).total_seconds() / 3600
            assert abs(float(per_table.loc[table, "hours_since_write"]) - hours) <= 1 / 3600 + 1e-9
        assert per_table.loc[table, "read_events"] == rows["read_events"].sum()
    per_ws = metric(analytics_spark, gold_cfg, "table_health", ["workspace_id"]).set_index("workspace_id")
    for ws, rows in th.groupby("workspace_id"):
        read = rows.groupby("table_full_name")["read_events"].sum()
        assert per_ws.loc[ws, "unused_tables"] == int((read == 0).sum())


def test_a_where_naming_no_dimension_is_refused_with_the_dimensions(analytics_spark, gold_cfg):
    with pytest.raises(MetricViewError, match=r"cost: --where names 'list_costs'.*dimensions: usage_date"):
        query_metric(analytics_spark, gold_cfg, find_view("cost"), ["workspace_id"], where="list_costs > 1")
    with pytest.raises(MetricViewError, match="no metric view 'costs'; views: cost"):
        find_view("costs")


def test_a_bad_file_names_file_line_and_field():
    text = "version: 1.1\nsource: t\nmeasures:\n  - name: spend\n    expr: source.list_cost\n"
    with pytest.raises(MetricViewError, match=r"^x.yaml:4: measures\[0\].*|^x.yaml:5: measure spend: a measure must aggregate"):
        parse_metric_view(text, "x.yaml")
    with pytest.raises(MetricViewError, match=r"^x.yaml:1: unknown key\(s\) sources"):
        parse_metric_view("sources: t\n", "x.yaml")


def test_databricks_deploys_the_yaml_as_a_metric_view(gold_cfg):
    for view in load_metric_views():
        sql = view.databricks_view_sql("main.plt_gold." + view.view_name, lambda s: s.replace("{gold}", "main.plt_gold"))
        assert sql.startswith(f"CREATE OR REPLACE VIEW main.plt_gold.{view.view_name} WITH METRICS LANGUAGE YAML AS $$")
        body = yaml.safe_load(sql.split("$$")[1])
        assert "main.plt_gold." in body["source"] and "{gold}" not in sql
        q = view.databricks_select("main.plt_gold." + view.view_name, [view.dimensions[0].name], [view.measures[0].name])
        assert f"MEASURE({view.measures[0].name})" in q
