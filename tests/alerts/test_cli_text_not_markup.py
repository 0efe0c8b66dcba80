"""What people type (regex matchers, comments, titles) comes back as typed: the CLI prints it as text,
never as rich markup (which would eat "[a-z]" and fail on "[/x]")."""

from __future__ import annotations

from typer.testing import CliRunner

from lakesentinel.cli.main import app

runner = CliRunner()


def test_silence_with_a_character_class_and_a_bracketed_comment(cli_home):
    added = runner.invoke(app, ["silences", "add", 'entity_id=~"0314-[a-z]+"', "-c", "resize [planned] [/x]"])
    assert added.exit_code == 0, added.output
    assert '0314-[a-z]+' in added.output
    listed = runner.invoke(app, ["silences", "list"])
    assert listed.exit_code == 0, listed.output
    assert '0314-[a-z]+' in listed.output and "resize [planned] [/x]" in listed.output


def test_route_test_echoes_label_values_as_given(cli_home):
    result = runner.invoke(app, ["routes", "test", "entity_id=[x]", "domain=security", "severity=critical"])
    assert result.exit_code == 0, result.output
    assert '"entity_id":"[x]"' in result.output
