"""The command line: help everywhere, and simulate's JSON summary."""

import json

import pytest
from typer.testing import CliRunner

from lakesentinel.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize("args", [[], ["simulate"], ["replay"], ["demo"], ["bench"], ["bench", "simulator"]])
def test_help_everywhere(args):
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_simulate_json_summary_and_refusal_to_double_write(tmp_path, monkeypatch):
    from lakesentinel import settings as settings_module

    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    settings_module.settings.cache_clear()
    try:
        args = ["simulate", "--days", "1", "--seed", "3", "--start", "2026-03-02", "--json"]
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        summary = json.loads(first.stdout.strip().splitlines()[-1])
        assert summary["rows"]["access.audit"] > 0 and summary["total_rows"] == sum(summary["rows"].values())
        assert set(summary["checksums"]) == set(summary["rows"])
        again = runner.invoke(app, args)
        assert again.exit_code != 0 and "--reset" in str(again.exception or again.output)
        reset = runner.invoke(app, [*args, "--reset"])
        assert json.loads(reset.stdout.strip().splitlines()[-1])["checksums"] == summary["checksums"]
    finally:
        settings_module.settings.cache_clear()


@pytest.mark.parametrize("args", [["stream", "all", "--tables", "system.access.audti", "--scheduled"],
                                  ["stream", "bronze", "--tables", ",", "--scheduled"]])
def test_a_bad_table_is_a_one_line_usage_error_before_anything_starts(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "unknown system table" in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_the_system_prefix_is_accepted():
    from lakesentinel.cli.stream import _tables

    assert _tables("system.access.audit, billing.usage") == ["access.audit", "billing.usage"]
