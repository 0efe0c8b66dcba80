from pathlib import Path

import pytest
import yaml

from lakesentinel.errors import ConfigError
from lakesentinel.settings import SHIPPED_DIR, load_settings

CONFIG = SHIPPED_DIR / "config"


def write_config(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load((CONFIG / "local.yaml").read_text())
    mutate(data)
    (tmp_path / "local.yaml").write_text(yaml.safe_dump(data))
    return tmp_path


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_environment_loads(env, monkeypatch, tmp_path):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    cfg = load_settings(env)
    assert cfg.environment == env
    assert set(cfg.sources) >= {"billing.usage", "access.audit", "query.history"}
    if env == "local":
        assert cfg.storage_root == str(tmp_path / "lakehouse")
        assert cfg.checkpoint_root.startswith(str(tmp_path))
    else:
        assert cfg.sources["billing.usage"].table == "system.billing.usage"
        assert cfg.sources["billing.usage"].skip_change_commits
        assert cfg.storage_root is None


def test_lakesentinel_home_separates_lakehouses(monkeypatch, tmp_path):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path / "a"))
    a = load_settings("local")
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path / "b"))
    b = load_settings("local")
    assert a.storage_root != b.storage_root and a.checkpoint_root != b.checkpoint_root


def test_environment_variables_override_yaml(monkeypatch, tmp_path):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    monkeypatch.setenv("LAKESENTINEL__CATALOG", "my_catalog")
    monkeypatch.setenv("LAKESENTINEL__SPARK__SHUFFLE_PARTITIONS", "3")
    cfg = load_settings("local")
    assert cfg.catalog == "my_catalog"
    assert cfg.spark.shuffle_partitions == 3


def test_missing_key_names_key_and_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    d = write_config(tmp_path, lambda c: c.pop("checkpoint_root"))
    with pytest.raises(ConfigError) as err:
        load_settings("local", d)
    assert "checkpoint_root" in str(err.value) and str(d / "local.yaml") in str(err.value)


def test_wrong_value_names_key_file_and_value(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    d = write_config(tmp_path, lambda c: c["sources"]["billing.usage"].update(mode="streem"))
    with pytest.raises(ConfigError) as err:
        load_settings("local", d)
    message = str(err.value)
    assert "sources.billing.usage.mode" in message and "local.yaml" in message and "streem" in message


def test_a_source_the_file_leaves_out_is_read_as_the_catalogue_says(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    d = write_config(tmp_path, lambda c: [c["sources"].pop(t) for t in ("compute.node_types", "query.history",
                                                                         "access.audit")])
    cfg = load_settings("local", d)
    assert cfg.sources["compute.node_types"].model_dump() == load_settings("local").sources["compute.node_types"].model_dump()
    assert (cfg.sources["query.history"].table, cfg.sources["query.history"].mode) == ("system_query.history", "hwm")
    assert (cfg.sources["access.audit"].table, cfg.sources["access.audit"].mode) == ("system_access.audit", "stream")


def test_every_configured_source_is_what_the_catalogue_would_default_to():
    from lakesentinel.settings import default_source
    from lakesentinel.sources.system_tables import SYSTEM_TABLES

    for env in ("local", "dev", "prod"):
        cfg = load_settings(env)
        for name, table in SYSTEM_TABLES.items():
            default = default_source(table, cfg.runtime)
            got = cfg.sources[name].model_dump()
            assert {k: got[k] for k in default} == default, (env, name)


def test_unknown_key_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    d = write_config(tmp_path, lambda c: c["hwm"].update(overlap_hour=48))
    with pytest.raises(ConfigError, match="hwm.overlap_hour"):
        load_settings("local", d)


def test_overlap_outside_48_to_72_hours_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    d = write_config(tmp_path, lambda c: c["hwm"].update(overlap_hours=12))
    with pytest.raises(ConfigError, match="hwm.overlap_hours"):
        load_settings("local", d)


def test_bad_environment_variable_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    monkeypatch.setenv("LAKESENTINEL__SPARK__SHUFFLE_PARTITIONS", "zero")
    with pytest.raises(ConfigError, match="environment variable LAKESENTINEL__SPARK__SHUFFLE_PARTITIONS"):
        load_settings("local")


def test_unset_variable_without_default_names_key(tmp_path, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    d = write_config(tmp_path, lambda c: c.update(state_root="${NOT_SET_ANYWHERE}/state"))
    with pytest.raises(ConfigError, match="key 'state_root': environment variable NOT_SET_ANYWHERE is not set"):
        load_settings("local", d)


def test_unknown_environment_lists_the_known_ones():
    with pytest.raises(ConfigError, match="environments here: dev, local, prod"):
        load_settings("staging")


def test_users_files_come_from_their_folder_and_the_wheels_packs_otherwise(monkeypatch, tmp_path):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    shipped = load_settings("local").paths
    assert shipped.resolve("rules") == SHIPPED_DIR / "rules" and (shipped.resolve("routes")).is_file()
    monkeypatch.setenv("LAKESENTINEL__PATHS__ROOT", str(tmp_path / "team"))
    own = load_settings("local").paths
    assert own.resolve("rules") == tmp_path / "team" / "rules"
    assert own.resolve("detectors") == tmp_path / "team" / "rules" / "detectors"
    monkeypatch.setenv("LAKESENTINEL__PATHS__ROOT", "")  # an unset bundle variable: the shipped packs
    assert load_settings("local").paths.resolve("rules") == SHIPPED_DIR / "rules"


@pytest.mark.parametrize("name, named", [
    ("LAKESENTINEL__CATALOGUE", "did you mean LAKESENTINEL__CATALOG?"),
    ("LAKESENTINEL__SPARK__MASTR", "no setting 'spark.mastr'"),
    ("lakesentinel__hwm__overlap", "known here: overlap_hours"),
])
def test_an_override_that_names_no_setting_is_an_error_naming_it(monkeypatch, tmp_path, name, named):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    monkeypatch.setenv(name, "main")
    with pytest.raises(ConfigError, match=f"environment variable {name}: .*{named}"):
        load_settings("local")


def test_overrides_into_free_mappings_are_left_to_validation(monkeypatch, tmp_path):
    monkeypatch.setenv("LAKESENTINEL_HOME", str(tmp_path))
    monkeypatch.setenv("LAKESENTINEL__TRIGGERS__PER_STREAM", '{"bronze.access.audit": "5 seconds"}')
    assert load_settings("local").triggers.per_stream == {"bronze.access.audit": "5 seconds"}
