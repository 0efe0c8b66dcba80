"""``lakesentinel detectors ...`` and ``lakesentinel bench detectors``."""

import csv
import json
import math

import pytest
from typer.testing import CliRunner

from lakesentinel.cli.detectors import SeriesFileError
from lakesentinel.cli.main import app
from lakesentinel.detectors.spec import DetectorSpecError

runner = CliRunner()


@pytest.mark.parametrize("args", [["detectors"], ["detectors", "list"], ["detectors", "evaluate"],
                                  ["detectors", "score-csv"], ["bench", "detectors"]])
def test_help_everywhere(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_list_names_each_detector_first_one_per_line(shipped_specs):
    result = runner.invoke(app, ["detectors", "list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == [s.id for s in shipped_specs]
    assert all(line.split()[2] == s.model.type for line, s in zip(lines, shipped_specs))
    as_json = json.loads(runner.invoke(app, ["detectors", "list", "--json"]).stdout.strip().splitlines()[-1])
    assert [d["id"] for d in as_json["detectors"]] == [s.id for s in shipped_specs]


def _series(path, n=24 * 8, spike_at=None, header=("timestamp", "value")):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(n):
            value = 40 + 20 * math.sin(2 * math.pi * i / 24) + (i * 7919 % 13) / 4
            if i == spike_at:
                value = 900
            writer.writerow([f"2026-03-{2 + i // 24:02d}T{i % 24:02d}:00:00", "" if i == 5 else round(value, 3)])


def test_score_csv_writes_a_score_per_point(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out" / "scores.csv"
    _series(source, spike_at=24 * 7 + 3)
    result = runner.invoke(app, ["detectors", "score-csv", "--detector", "cost.sku_hourly_cost", str(source),
                                 str(target), "--json"])
    assert result.exit_code == 0, result.output
    with target.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score"] and len(rows) == 24 * 8
    scores = [float(r["anomaly_score"]) for r in rows]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert max(range(len(scores)), key=scores.__getitem__) == 24 * 7 + 3
    assert rows[5]["value"] == "" and rows[0]["timestamp"] == "2026-03-02T00:00:00+00:00"
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {"detector": "cost.sku_hourly_cost", "points": 24 * 8, "above_threshold": summary["above_threshold"],
                       "output": str(target)} and summary["above_threshold"] >= 1


def test_score_csv_windowed_aggregates_into_the_detectors_windows(tmp_path):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    _series(source)
    result = runner.invoke(app, ["detectors", "score-csv", "-d", "query.warehouse_query_time", "--windowed",
                                 str(source), str(target)])
    assert result.exit_code == 0, result.output
    assert len(target.read_text().strip().splitlines()) == 24 * 8 + 1


@pytest.mark.parametrize("content, message", [
    ("time,value\n2026-03-02T00:00:00,1\n", "in.csv:1: header must name timestamp and value columns; missing "
                                             "timestamp (found: time, value)"),
    ("timestamp,value\n2026-03-02T00:00:00,1\n2026-03-02T01:00:00,abc\n", "in.csv:3: value 'abc' is not a number"),
    ("timestamp,value\nyesterday-ish,1\n", "in.csv:2: timestamp 'yesterday-ish' is not a date and time"),
])
def test_score_csv_names_the_bad_line(tmp_path, content, message):
    source = tmp_path / "in.csv"
    source.write_text(content)
    result = runner.invoke(app, ["detectors", "score-csv", "-d", "cost.sku_hourly_cost", str(source),
                                 str(tmp_path / "out.csv")])
    assert isinstance(result.exception, SeriesFileError)
    assert str(result.exception) == f"{tmp_path}/{message}"
    assert not (tmp_path / "out.csv").exists()


def test_score_csv_with_an_unknown_detector_lists_the_known_ones(tmp_path):
    source = tmp_path / "in.csv"
    _series(source, n=3)
    result = runner.invoke(app, ["detectors", "score-csv", "-d", "cost.nope", str(source), str(tmp_path / "o.csv")])
    assert isinstance(result.exception, DetectorSpecError)
    assert "error [cost.nope] no such detector; configured: cost.cluster_hourly_cost" in str(result.exception)


def test_bench_detectors_reports_every_shipped_model(shipped_specs):
    result = runner.invoke(app, ["bench", "detectors", "--points", "1000", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    configurations = [m["configuration"] for m in figures["models"]]
    assert configurations[1:] == [s.id for s in shipped_specs]
    assert all(m["points_per_s_model"] > 0 for m in figures["models"])
    assert all(m["state_bytes"] > 0 and m["points_per_s_scorer"] > 0 for m in figures["models"][1:])
