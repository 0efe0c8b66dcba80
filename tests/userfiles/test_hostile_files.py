"""Hostile user files: whatever a rule, detector, route or quality file holds, the reader answers with an
issue naming the place, in bounded time and memory; the loader and hot reload never raise."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from lakesentinel.alerts.routes import RoutesError, load_routes
from lakesentinel.detectors.spec import DetectorSpecError, load_specs
from lakesentinel.issues import ConfigFileError
from lakesentinel.rules.loader import RuleLoader, load_rules
from lakesentinel.silver.quality import load_checks
from lakesentinel.yamlpos import MAX_FILE_BYTES, MAX_NESTING, YamlSyntaxError, load_documents

# 412 bytes that PyYAML expands to billions of list items (the "billion laughs").
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))
DEEP = "a: " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_BLOCK = "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v\n"
HUGE = "a: [" + ", ".join(["x"] * (MAX_FILE_BYTES // 3 + 10)) + "]\n"

HOSTILE = {"alias bomb": (ALIAS_BOMB, 2, "aliases"), "deep flow": (DEEP, 1, "nested more than"),
           "deep block": (DEEP_BLOCK, MAX_NESTING, "nested more than"), "huge": (HUGE, 1, "larger than")}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_reader_refuses_hostile_yaml_where_it_is_written(name):
    text, line, why = HOSTILE[name]
    tracemalloc.start()
    try:
        with pytest.raises(YamlSyntaxError, match=why) as caught:
            load_documents(text, "f.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.position.line == line
    assert peak < 200 * MAX_FILE_BYTES  # bounded by the cap, not by what the aliases would expand to


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_kind_of_user_file_turns_hostile_yaml_into_an_issue(tmp_path, name):
    text = HOSTILE[name][0]
    rules = load_rules([_write(tmp_path / "rules" / "security", "bad.yaml", text).parent.parent])
    [issue] = rules.issues
    assert issue.file.endswith("bad.yaml") and issue.code == "yaml" and issue.line == HOSTILE[name][1]
    with pytest.raises(DetectorSpecError):
        load_specs(_write(tmp_path / "detectors", "bad.yaml", text).parent)
    with pytest.raises(RoutesError):
        load_routes(_write(tmp_path, "routes.yaml", text))
    with pytest.raises(ConfigFileError):
        load_checks(_write(tmp_path, "quality.yaml", text))


GOOD = """
id: security.admin_change
title: Admin change
level: high
logsource: {table: access.audit}
detection:
  sel:
    action_name: setAdmin
  condition: sel
"""


def test_hot_reload_keeps_the_last_good_version_when_a_file_turns_hostile(tmp_path):
    path = _write(tmp_path / "rules" / "security", "admin.yaml", GOOD.lstrip())
    loader = RuleLoader([tmp_path / "rules"])
    loader.refresh()
    assert list(loader.rules) == ["security.admin_change"]
    path.write_text(GOOD.lstrip().replace("sel\n", "sel and " + "(" * 80 + "sel" + ")" * 80 + "\n")
                    + "# " + "x" * 10 + "\n")
    loader.refresh()
    assert list(loader.rules) == ["security.admin_change"]  # still running, as it was
    assert {i.code for i in loader.issues} >= {"too-deep", "kept-last-good"}
    path.write_text(ALIAS_BOMB)
    loader.refresh()
    assert list(loader.rules) == ["security.admin_change"]
    assert any(i.code == "yaml" and "aliases" in i.message for i in loader.issues)
