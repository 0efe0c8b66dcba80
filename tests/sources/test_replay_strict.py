"""Replay is strict and complete: malformed files rejected whole, quoted nested numbers accepted, new
columns kept, a second replay adds nothing, and every one of the 14 tables replays a realistic export."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from lakesentinel.deltars import read_arrow
from lakesentinel.errors import SchemaMismatchError
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.sources.replay import _json_lines, replay
from lakesentinel.sources.system_tables import SYSTEM_TABLES
from lakesentinel.sources.writer import SourceWriter


@pytest.fixture
def audit_rows(sim_spark, simulated):
    """Five audit rows as a workspace exports them (JSON objects, nested columns filled)."""
    cfg = simulated[0]
    df = sim_spark.table(Lakehouse(cfg).source("access.audit")).where("response.status_code IS NOT NULL")
    return [json.loads(r) for r in df.orderBy("event_id").limit(5).toJSON().collect()]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _count(spark, cfg, table="access.audit"):
    lh = Lakehouse(cfg)
    return lh.read(spark, lh.source(table)).count()


def test_malformed_json_is_rejected_whole_with_each_line_named(spark, fresh_settings, tmp_path, audit_rows):
    good = json.dumps(audit_rows[0])
    text = "\n".join([good, "{}", '{"event_id": "a", "event_id": "b"}', "[1, 2]", "{not json"]) + "\n"
    with pytest.raises(SchemaMismatchError) as err:
        replay(spark, fresh_settings, "access.audit", _write(tmp_path, "bad.json", text))
    problems = err.value.mismatches
    assert any(p.startswith("line 3:") and "'event_id' appear more than once" in p for p in problems)
    assert any(p.startswith("line 4: not a JSON object") for p in problems)
    assert any(p.startswith("line 5:") for p in problems)
    # {} parses, then fails the required keys.
    with pytest.raises(SchemaMismatchError, match=r"required column `event_id` is empty in 1 line\(s\) \(line 2\)"):
        replay(spark, fresh_settings, "access.audit", _write(tmp_path, "empty.json", good + "\n{}\n"))
    assert not (tmp_path / "home").exists() or _count(spark, fresh_settings) == 0


def test_a_number_where_a_time_belongs_is_refused_not_read_as_year_12345(spark, fresh_settings, tmp_path, audit_rows):
    row = dict(audit_rows[0], event_time=12345)
    with pytest.raises(SchemaMismatchError, match=r"column `event_time` is outside 2015-01-01 \.\. .* \(line 1\)"):
        replay(spark, fresh_settings, "access.audit", _write(tmp_path, "t.json", json.dumps(row) + "\n"))


def test_quoted_nested_numbers_are_accepted_like_top_level_ones(spark, fresh_settings, tmp_path, audit_rows):
    row = dict(audit_rows[0], response={"status_code": "403", "error_message": None, "result": None})
    result = replay(spark, fresh_settings, "access.audit", _write(tmp_path, "q.json", json.dumps(row) + "\n"))
    assert result.rows == 1
    lh = Lakehouse(fresh_settings)
    assert lh.read(spark, lh.source("access.audit")).select("response.status_code").first()[0] == 403


def test_new_columns_are_kept_and_a_second_replay_adds_nothing(spark, fresh_settings, tmp_path, audit_rows):
    rows = [dict(r, new_databricks_column=f"v{i}") for i, r in enumerate(audit_rows)]
    path = _write(tmp_path, "new.json", "\n".join(json.dumps(r) for r in rows + rows[:1]) + "\n")
    first = replay(spark, fresh_settings, "access.audit", path)
    assert (first.rows, first.skipped, first.added_columns) == (5, 1, ["new_databricks_column"])
    stored = read_arrow(SourceWriter(fresh_settings).path("access.audit"))
    assert sorted(stored.column("new_databricks_column").to_pylist()) == [f"v{i}" for i in range(5)]
    second = replay(spark, fresh_settings, "access.audit", path)
    assert (second.rows, second.skipped) == (0, 6)
    assert read_arrow(SourceWriter(fresh_settings).path("access.audit")).num_rows == 5


@pytest.mark.parametrize("body, why", [
    ("{h}\n{r},extra\n", "fields"),        # an extra field was dropped silently before
    ("{h}\n{short}\n", "fields"),          # a short row landed with a null key
    ("{h}\n\"{r}\n", "fields"),            # an unbalanced quote swallows the rest
])
def test_malformed_csv_is_rejected_whole(spark, fresh_settings, tmp_path, body, why):
    header = ",".join(c for c, _ in SYSTEM_TABLES["compute.node_types"].columns)
    row = ",".join(["acc", "m5.xlarge", "4", "16384", "0", "0"][: header.count(",") + 1])
    short = row.rsplit(",", 2)[0]
    path = _write(tmp_path, "bad.csv", body.format(h=header, r=row, short=short))
    with pytest.raises(SchemaMismatchError, match=why):
        replay(spark, fresh_settings, "compute.node_types", path)


@pytest.mark.parametrize("name", sorted(SYSTEM_TABLES))
def test_every_table_replays_a_realistic_export(spark, sim_spark, simulated, fresh_settings, tmp_path, name):
    """Up to 40 rows, those with the most nested columns filled first, as JSON lines (SELECT * exports)."""
    table = SYSTEM_TABLES[name]
    source = sim_spark.table(Lakehouse(simulated[0]).source(name))
    nested = [c for c, t in table.columns if t.startswith(("struct", "map", "array"))]
    order = [sum((F.col(c).isNotNull().cast("int") for c in nested[1:]), F.col(nested[0]).isNotNull().cast("int"))
             .desc()] if nested else []
    export = source.orderBy(*order, *table.natural_key).limit(40).cache()
    expected = export.count()
    assert expected > 0
    if nested:
        assert export.where(F.coalesce(*[F.col(c).isNotNull() for c in nested]) if len(nested) > 1
                            else F.col(nested[0]).isNotNull()).count() > 0
    path = tmp_path / f"{name}.json"
    export.coalesce(1).write.json(str(path))
    result = replay(spark, fresh_settings, name, str(path))
    assert result.rows == expected and result.added_columns == []
    lh = Lakehouse(fresh_settings)
    replayed = lh.read(spark, lh.source(name))
    cols = table.column_names
    def rows(df):  # maps cannot take part in EXCEPT: compare the rows as JSON text
        return sorted(df.select(F.to_json(F.struct(*cols)).alias("j")).toPandas()["j"])

    assert rows(replayed) == rows(export)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.dictionaries(st.sampled_from(["a", "b", "event_id"]), st.one_of(st.integers(), st.text(max_size=5),
                                                                        st.none()), max_size=3).map(json.dumps),
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20),
    st.tuples(st.sampled_from(["a", "b"]), st.integers()).map(lambda t: f'{{"{t[0]}": {t[1]}, "{t[0]}": 1}}'),
), max_size=8))
def test_the_line_parser_flags_exactly_the_lines_that_are_not_one_object_with_unique_keys(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("p") / "f.json"
    path.write_text("\n".join(lines) + "\n")
    flagged = {int(p.split(":")[0].removeprefix("line ")) for p in _json_lines(str(path)) if p.startswith("line ")}
    with path.open() as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                assert number not in flagged
                continue
            try:
                value = json.loads(line, object_pairs_hook=lambda p: ("object", p))
                ok = isinstance(value, tuple) and len({k for k, _ in value[1]}) == len(value[1])
            except ValueError:
                ok = False
            assert (number in flagged) == (not ok), line


def _stored_json(cfg, name, column):
    """The stored values of ``column`` as Python objects (delta-rs)."""
    return read_arrow(SourceWriter(cfg).path(name), columns=[column]).column(column).to_pylist()


def test_an_unknown_struct_field_is_kept_and_reported_like_a_new_column(spark, fresh_settings, tmp_path, audit_rows):
    # Databricks adds fields inside nested columns as it adds columns: dropped silently before.
    rows = [dict(r, response=dict(r["response"], retry_after={"seconds": 3} if i == 0 else None, region="eu"))
            for i, r in enumerate(audit_rows)]
    path = _write(tmp_path, "nested.json", "\n".join(json.dumps(r) for r in rows) + "\n")
    result = replay(spark, fresh_settings, "access.audit", path)
    assert (result.rows, result.added_columns) == (5, ["response.region", "response.retry_after"])
    stored = sorted(_stored_json(fresh_settings, "access.audit", "response"), key=lambda v: v["retry_after"] or "")
    assert [(v["region"], v["retry_after"]) for v in stored] == [("eu", None)] * 4 + [("eu", '{"seconds":3}')]
    assert sorted(v["status_code"] for v in stored) == sorted(r["response"]["status_code"] for r in audit_rows)
    again = replay(spark, fresh_settings, "access.audit", path)
    assert (again.rows, again.skipped) == (0, 5)


def test_an_unknown_field_in_an_array_of_structs_is_kept_and_reported(spark, sim_spark, simulated, fresh_settings,
                                                                       tmp_path):
    source = sim_spark.table(Lakehouse(simulated[0]).source("lakeflow.job_run_timeline")).where("size(compute) > 0")
    rows = [json.loads(r) for r in source.orderBy("run_id").limit(3).toJSON().collect()]
    assert rows, "the simulated organisation has job runs with compute"
    for r in rows:
        r["compute"] = [dict(c, node_count=4) for c in r["compute"]]
    path = _write(tmp_path, "runs.json", "\n".join(json.dumps(r) for r in rows) + "\n")
    result = replay(spark, fresh_settings, "lakeflow.job_run_timeline", path)
    assert (result.rows, result.added_columns) == (3, ["compute[].node_count"])
    stored = _stored_json(fresh_settings, "lakeflow.job_run_timeline", "compute")
    assert {c["node_count"] for cs in stored for c in cs} == {"4"}  # kept as text, like a new column
    assert sorted(c["cluster_id"] or "" for cs in stored for c in cs) == sorted(
        c.get("cluster_id") or "" for r in rows for c in r["compute"])
