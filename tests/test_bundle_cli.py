"""The commands the bundle runs exist in the CLI, and its global options parse."""

from typer.testing import CliRunner

from tests.bundle_config import resolve, targets


def test_bundle_commands_exist_in_the_cli():
    from lakesentinel.cli.main import app

    commands = set()
    for target in targets():
        for job in resolve(target)[0]["resources"]["jobs"].values():
            for task in job["tasks"]:
                params = task["python_wheel_task"]["parameters"]
                commands.add(next(p for p in params if not p.startswith("--")))
    registered = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    missing = commands - registered
    assert not missing, f"bundle runs commands the CLI lacks: {missing}"


def test_the_bundles_global_options_reach_the_configuration(monkeypatch, tmp_path):
    from lakesentinel import settings as settings_module
    from lakesentinel.cli.main import app

    for name in ("LAKESENTINEL_ENV", "LAKESENTINEL_CATALOG", "LAKESENTINEL_FILES", "LAKESENTINEL_SECRET_SCOPE"):
        monkeypatch.setenv(name, "")  # recorded, so that what the options set is undone afterwards
        monkeypatch.delenv(name)
    settings_module.settings.cache_clear()
    result = CliRunner().invoke(app, ["--env=prod", "--catalog=obs_cat", f"--files={tmp_path}", "--secret-scope=ops",
                                      "rules", "lint"])
    import os

    from lakesentinel.settings import load_settings

    assert (os.environ["LAKESENTINEL_CATALOG"], os.environ["LAKESENTINEL_SECRET_SCOPE"]) == ("obs_cat", "ops")
    cfg = load_settings()
    assert cfg.environment == "prod" and cfg.catalog == "obs_cat" and cfg.paths.root == str(tmp_path)
    assert cfg.checkpoint_root == "/Volumes/obs_cat/plt_ops/checkpoints"
    settings_module.settings.cache_clear()  # the command cached prod settings
    assert result.exit_code != 0 and f"{tmp_path / 'rules'}: no such rules file or folder" in str(result.exception or result.output)
