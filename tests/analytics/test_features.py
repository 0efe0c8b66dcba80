"""Feature tables: keys unique, point in time (no value from after a row's as-of), incremental refresh."""

from __future__ import annotations

import pandas as pd
import pytest

from lakesentinel.analytics.features import FEATURE_TABLES, read_features, refresh_features
from lakesentinel.lakehouse import Lakehouse

# Builds its own month-scale gold lakehouse: minutes of suite time, run with -m extended.
pytestmark = pytest.mark.extended


@pytest.fixture(scope="module")
def refreshed(analytics_spark, gold_cfg):
    return refresh_features(analytics_spark, gold_cfg)


def gold(spark, cfg, table) -> pd.DataFrame:
    lh = Lakehouse(cfg)
    return lh.read(spark, lh.name("gold", table)).toPandas()


def test_every_table_is_written_with_unique_keys_and_an_as_of(refreshed, analytics_spark, gold_cfg):
    assert {r.table for r in refreshed} == {ft.table for ft in FEATURE_TABLES}
    for ft in FEATURE_TABLES:
        df = read_features(analytics_spark, gold_cfg, ft.table)
        assert "as_of" in df.columns and "date_key" in df.columns
        total = df.count()
        assert total > 0, ft.table
        assert df.select(*ft.keys).distinct().count() == total, ft.table


def test_job_history_comes_only_from_runs_ended_before_the_run_started(refreshed, analytics_spark, gold_cfg):
    feats = read_features(analytics_spark, gold_cfg, "features_job_efficiency").toPandas().set_index("run_id")
    runs = gold(analytics_spark, gold_cfg, "fact_job_run")
    for c in ("is_complete", "is_failed"):
        runs[c] = runs[c].astype("boolean").fillna(False).astype(bool)
    done = runs[runs["is_complete"] & runs["end_time"].notna()]
    checked = 0
    for run in runs[runs["run_id"].isin(feats.index)].itertuples():
        prior = done[(done["job_id"] == run.job_id) & (done["workspace_id"] == run.workspace_id)
                     & (done["end_time"] <= run.start_time)
                     & (done["end_time"] > run.start_time - pd.Timedelta(days=30))]
        row = feats.loc[run.run_id]
        assert row["as_of"] == run.start_time
        assert row["prior_runs"] == len(prior)
        if len(prior):
            assert row["prior_failure_rate"] == pytest.approx(prior["is_failed"].mean())
            assert bool(row["last_run_failed"]) == bool(prior.sort_values("end_time")["is_failed"].iloc[-1])
            checked += 1
    assert checked > 10


def test_cost_features_use_no_day_after_their_own(refreshed, analytics_spark, gold_cfg):
    """A row for day d is recomputed from the facts of days up to d alone, and must come out the same."""
    from lakesentinel.analytics.features import Inputs, cost_workspace_daily

    feats = read_features(analytics_spark, gold_cfg, "features_cost_workspace_daily").toPandas()
    dates = sorted(feats["date_key"].unique())
    cut = dates[len(dates) // 2]

    class Truncated(Inputs):
        def gold(self, table):
            return super().gold(table).where(f"date_key <= {cut}")

    early = cost_workspace_daily(Truncated(analytics_spark, gold_cfg)).toPandas()
    merged = feats[feats["date_key"] <= cut].merge(early, on=["workspace_id", "date_key"], suffixes=("", "_t"))
    assert len(merged) == (feats["date_key"] <= cut).sum() > 0
    for col in ("list_cost", "cost_lag_1", "cost_mean_7d", "cost_std_7d", "cost_mean_28d"):
        a, b = merged[col].astype(float), merged[f"{col}_t"].astype(float)
        assert ((a - b).abs().fillna(0) < 1e-9).all() and (a.isna() == b.isna()).all(), col
    assert (merged["as_of"] == pd.to_datetime(merged["date_key"].astype(str)) + pd.Timedelta(days=1)).all()


def test_a_second_refresh_without_new_gold_rewrites_nothing(refreshed, analytics_spark, gold_cfg):
    again = refresh_features(analytics_spark, gold_cfg)
    assert [(r.table, r.mode, r.dates) for r in again] == [(r.table, "unchanged", []) for r in refreshed]
