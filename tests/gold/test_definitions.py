"""Gold's definitions: DDL files, their versions, config/gold.yaml and the security catalogue."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from lakesentinel.errors import ConfigError
from lakesentinel.gold import ddl
from lakesentinel.gold.config import GoldSettings, load_gold_settings
from lakesentinel.gold.facts.security import classify, load_catalogue
from lakesentinel.settings import load_settings


def test_every_table_file_parses_with_a_version_and_money_as_decimal_38_18():
    cfg = load_settings("local")
    tables = ddl.all_table_ddl(cfg)
    assert len(tables) == 18
    for t in tables:
        assert t.version >= 1 and t.name == f"plt_gold.{t.table}"
        types = {c.name: c.type for c in t.columns}
        assert all(types[c] == "DECIMAL(38, 18)" for c in ("list_cost", "usage_quantity", "list_price") if c in types)
        assert all(types[c] == "STRING" for c in types if c.endswith("_id") or c.endswith("_key") and c != "date_key")
        if t.table.startswith("fact_"):
            assert types["date_key"] == "INT" and t.cluster_by[0] == "date_key", t.path
    assert len(ddl.all_view_ddl(cfg)) == 14


def test_names_follow_the_configured_catalog():
    cfg = load_settings("dev")
    assert ddl.table_ddl(cfg, "fact_cost_daily").name == "platform_observability_dev.plt_gold.fact_cost_daily"
    view = next(v for v in ddl.all_view_ddl(cfg) if v.view == "v_failed_run_cost")
    assert "platform_observability_dev.plt_gold.fact_job_run" in view.statement


def test_layout_follows_the_environment():
    cfg = load_settings("local")
    facts = ddl.table_ddl(cfg, "fact_job_run")
    assert facts.layout(load_gold_settings(cfg)) == {"partition_by": ["date_key"]}
    assert facts.zorder_by(load_gold_settings(cfg)) == ["workspace_id", "job_id"]
    dev = load_gold_settings(load_settings("dev"))
    assert facts.layout(dev) == {"cluster_by": ["date_key", "workspace_id", "job_id"]} and facts.zorder_by(dev) == []
    assert ddl.table_ddl(cfg, "dim_job").layout(dev) == {}


def test_a_bad_ddl_file_is_named_with_what_is_wrong(tmp_path):
    cfg = load_settings("local")
    wrong_name = tmp_path / "fact_x.sql"
    wrong_name.write_text("CREATE TABLE IF NOT EXISTS {gold}.fact_y (a INT) USING DELTA "
                          "TBLPROPERTIES ('lakesentinel.schema_version' = '1')")
    with pytest.raises(ddl.GoldDdlError, match=r"fact_x.sql: creates plt_gold.fact_y"):
        ddl._table_ddl(wrong_name, cfg)
    unversioned = tmp_path / "fact_z.sql"
    unversioned.write_text("CREATE TABLE IF NOT EXISTS {gold}.fact_z (a INT) USING DELTA")
    with pytest.raises(ddl.GoldDdlError, match=r"fact_z.sql: TBLPROPERTIES needs 'lakesentinel.schema_version'"):
        ddl._table_ddl(unversioned, cfg)
    unknown = tmp_path / "v_w.sql"
    unknown.write_text("CREATE OR REPLACE VIEW {gold}.v_w AS SELECT * FROM {platinum}.t")
    with pytest.raises(ddl.GoldDdlError, match=r"unknown placeholder \{platinum\}"):
        ddl.view_ddl(cfg, unknown)


def test_a_table_from_an_older_file_gains_new_columns_and_a_retyped_column_stops(spark, fresh_settings, tmp_path):
    from lakesentinel.session import get_spark

    cfg = fresh_settings
    get_spark(cfg)
    path = tmp_path / "fact_evolving.sql"

    def version(n: int, columns: str) -> ddl.TableDdl:
        path.write_text(f"CREATE TABLE IF NOT EXISTS {{gold}}.fact_evolving ({columns}) USING DELTA "
                        f"CLUSTER BY (date_key) TBLPROPERTIES ('lakesentinel.schema_version' = '{n}')")
        return ddl._table_ddl(path, cfg)

    settings = GoldSettings()
    name = ddl.apply_table(spark, cfg, settings, version(1, "date_key INT NOT NULL, cost DECIMAL(38,18)"))
    spark.sql(f"INSERT INTO {name} VALUES (20260302, 1.5)")
    ddl.apply_table(spark, cfg, settings, version(2, "date_key INT NOT NULL, cost DECIMAL(38,18), "
                                                     "workspace_id STRING COMMENT 'added in 2'"))
    table = spark.table(name)
    assert table.columns == ["date_key", "cost", "workspace_id"]
    assert table.where("workspace_id IS NULL").agg(F.sum("cost")).first()[0] == 1.5  # the old row is kept
    props = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {name}").collect()}
    assert props["lakesentinel.schema_version"] == "2"
    with pytest.raises(ddl.GoldDdlError, match=r"column `cost` has type decimal\(38,18\), expected string"):
        ddl.apply_table(spark, cfg, settings, version(3, "date_key INT NOT NULL, cost STRING, workspace_id STRING"))


def test_gold_settings_errors_name_the_file_and_key(tmp_path):
    cfg = load_settings("local")
    assert load_gold_settings(cfg).layout == "partition" and load_gold_settings(cfg).late_window_days == 2
    (tmp_path / "local.yaml").write_text(open(cfg.config_file).read())
    moved = load_settings("local", tmp_path)
    assert load_gold_settings(moved) == GoldSettings()  # no gold.yaml beside it: defaults
    (tmp_path / "gold.yaml").write_text("dev: {layout: liquid}\n")
    with pytest.raises(ConfigError, match=r"gold.yaml: no section 'local'.*sections: dev"):
        load_gold_settings(moved)
    (tmp_path / "gold.yaml").write_text("local: {layout: zorder, late_window: 2}\n")
    with pytest.raises(ConfigError, match=r"gold.yaml: key 'local.layout'.*key 'local.late_window'"):
        load_gold_settings(moved)


def test_security_catalogue_classifies_first_match_and_rejects_bad_entries(spark, tmp_path):
    events = spark.createDataFrame(
        [("e1", "accounts", "login", True, 401, {}), ("e2", "accounts", "login", False, 200, {}),
         ("e3", "accounts", "addPrincipalToGroup", False, 200, {"targetGroupName": "admins"}),
         ("e4", "accounts", "addPrincipalToGroup", False, 200, {"targetGroupName": "analysts"}),
         ("e5", "unityCatalog", "getTable", False, 200, {}), ("e6", "unityCatalog", "getTable", True, 403, {})],
        "event_id string, service_name string, action_name string, is_failure boolean, status_code int, "
        "request_params map<string,string>")
    got = {r["event_id"]: (r["event_type"], r["severity"], r["severity_rank"])
           for r in classify(events, load_catalogue()).collect()}
    assert got == {"e1": ("failed_login", "medium", 3), "e2": ("login", "info", 1),
                   "e3": ("added_to_admins", "high", 4), "e4": ("group_membership_changed", "low", 2),
                   "e6": ("access_denied", "low", 2)}
    bad = tmp_path / "events.yaml"
    bad.write_text("- {service: accounts, event_type: x, category: y, severity: info}\n"
                   "- {service: accounts, event_type: x, category: y, severity: urgent}\n")
    with pytest.raises(ConfigError, match=r"events.yaml:2:61: error \[entry #2\] key 'severity': Input should be .*\(got 'urgent'\)"):
        load_catalogue(bad)
