"""The Lakeview dashboards: the committed files are what the generator makes, every dataset query parses
as Databricks SQL, and every widget reads columns its dataset returns. (That every query runs on the
embedded default is checked over the gold test lakehouse: tests/gold/test_gold.py.)"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import sqlglot

from lakesentinel.dashboards.lakeview import DashboardError, build, columns_of, dashboard, rendered_files
from lakesentinel.dashboards.personas import PERSONAS, SRE, Widget
from lakesentinel.settings import settings_at

BUNDLE = Path(__file__).resolve().parents[2] / "jobs"


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    return settings_at(tmp_path_factory.mktemp("dashboards"))


def test_the_committed_files_are_what_the_generator_makes(cfg):
    assert build(BUNDLE, cfg, check=True) == [], "run `lakesentinel dashboards build`"
    assert sorted(p.name for p in (BUNDLE / "dashboards").glob("*.lvdash.json")) == [
        "finops.lvdash.json", "platform.lvdash.json", "security.lvdash.json", "sre.lvdash.json"]


def test_check_names_a_file_that_differs_and_build_rewrites_it(cfg, tmp_path):
    (tmp_path / "databricks.yml").write_text("bundle: {name: x}\n")
    assert len(build(tmp_path, cfg)) == len(rendered_files(cfg))
    (tmp_path / "dashboards" / "sre.lvdash.json").write_text("{}")
    assert build(tmp_path, cfg, check=True) == ["dashboards/sre.lvdash.json"]
    assert build(tmp_path, cfg) == ["dashboards/sre.lvdash.json"] and build(tmp_path, cfg, check=True) == []


@pytest.mark.parametrize("persona", PERSONAS, ids=lambda p: p.key)
def test_every_dataset_parses_as_databricks_sql_and_every_widget_reads_its_columns(persona):
    doc = json.loads((BUNDLE / "dashboards" / f"{persona.key}.lvdash.json").read_text())
    columns = {}
    for ds in doc["datasets"]:
        assert ds["name"] and ds["displayName"] and ds["queryLines"]
        sql = "".join(ds["queryLines"])
        sqlglot.parse_one(sql, dialect="databricks", error_level=sqlglot.ErrorLevel.RAISE)
        assert "{" not in sql and "plt_gold." in sql  # placeholders rendered, schema-qualified
        columns[ds["name"]] = columns_of(sql, ds["name"])
    (page,) = doc["pages"]
    cells = set()
    for item in page["layout"]:
        pos = item["position"]
        assert 0 <= pos["x"] and pos["x"] + pos["width"] <= 6
        mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["width"]) for y in range(pos["y"], pos["y"] + pos["height"])}
        assert not cells & mine, f"widget {item['widget']['name']} overlaps another"
        cells |= mine
        for q in item["widget"].get("queries", []):
            have = columns[q["query"]["datasetName"]]
            for f in q["query"]["fields"]:
                named = f["expression"].split("`")[1]
                assert named in have, (item["widget"]["name"], named)
            spec = item["widget"]["spec"]
            assert spec["widgetType"] in ("table", "bar", "line", "counter") and spec["frame"]["title"]


def test_a_widget_over_a_column_its_dataset_lacks_is_named(cfg):
    broken = replace(SRE, widgets=SRE.widgets + (Widget("bar", "noise", "Typo", x="source", y="alerts"),))
    with pytest.raises(DashboardError, match=r"dashboard sre, widget \d+ \(Typo\): dataset noise has no column\(s\) source"):
        dashboard(broken, cfg)
