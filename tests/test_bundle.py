"""The bundle in jobs/, resolved for each target as the Databricks CLI resolves it, against the CLI's own
JSON Schema; what the deployment needs from it (paths, pauses, catalog, secrets, root path)."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from databricks.bundles.jobs import Job

from tests.bundle_config import (BUNDLE_ROOT, REPO_ROOT, SCHEMA, app_source, artifact_dir, build_output, resolve, targets,
                                 task_order, wheel_globs)

TARGETS = targets()


def _validator():
    # The schema's interpolation patterns use \p{L} and \p{N} (Go regexp); Python's re spells them so.
    text = SCHEMA.read_text().replace(r"[\\p{L}\\p{N}]", r"[^\\W_]").replace(r"\\p{L}", r"[^\\W\\d_]")
    schema = json.loads(text)

    def deprecated(validator, value, instance, subschema):
        if value:
            yield jsonschema.ValidationError(f"deprecated field: {subschema.get('description', '')[:80]}")

    cls = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"deprecated": deprecated})
    return cls(schema)


def test_the_bundle_has_dev_and_prod():
    assert set(TARGETS) == {"dev", "prod"}


@pytest.mark.parametrize("target", TARGETS)
def test_each_target_resolves_and_fits_the_clis_schema_with_no_deprecated_field(target):
    config, _ = resolve(target)
    errors = sorted(_validator().iter_errors(config), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors)
    for key, job in config["resources"]["jobs"].items():
        Job.from_dict(job)  # the SDK's typed job model takes it too


def test_a_deprecated_field_is_caught(monkeypatch):
    config, _ = resolve("dev")
    env = config["resources"]["jobs"]["lakesentinel_health"]["environments"][0]["spec"]
    env["client"] = "2"
    assert any("deprecated" in e.message or e.context for e in _validator().iter_errors(config))


@pytest.mark.parametrize("target", TARGETS)
def test_every_wheel_path_finds_what_the_build_makes(target):
    config, defined_in = resolve(target)
    out = build_output(config)
    assert out == Path(__file__).resolve().parents[1] / "dist"
    assert config["artifacts"]["lakesentinel"]["build"].split()[-1] == "."  # the repository itself
    for job, globs in wheel_globs(config, defined_in).items():
        assert globs and all(g == out / "*.whl" for g in globs), (job, globs)


@pytest.mark.parametrize("target", TARGETS)
def test_every_task_gets_the_catalog_the_files_and_the_secret_scope(target):
    config, _ = resolve(target)
    variables = {n: v["default"] for n, v in config["variables"].items()}
    for key, job in config["resources"]["jobs"].items():
        for task in task_order(job):
            params = task["python_wheel_task"]["parameters"]
            assert params[:4] == [f"--env={target}", f"--catalog={variables['catalog']}",
                                  f"--files={variables['files_dir']}", f"--secret-scope={variables['secret_scope']}"]
            assert not any("LAKESENTINEL" in json.dumps(c) for c in job.get("job_clusters", [])), key


def test_dev_starts_nothing_and_prod_runs_everything():
    for target, status in (("dev", "PAUSED"), ("prod", "UNPAUSED")):
        config, _ = resolve(target)
        for key, job in config["resources"]["jobs"].items():
            trigger = job.get("schedule") or job.get("continuous") or job.get("trigger")
            assert trigger["pause_status"] == status, (target, key)
    prod, _ = resolve("prod")
    assert prod["workspace"]["root_path"].startswith("/Workspace/Shared/")
    assert prod["run_as"]["service_principal_name"]


def test_the_jobs_the_deployment_needs_are_there():
    jobs = resolve("prod")[0]["resources"]["jobs"]
    monitor = jobs["lakesentinel_monitor"]
    assert "continuous" in monitor and monitor["tasks"][0]["python_wheel_task"]["parameters"][4:] == ["stream", "all"]
    daily = jobs["lakesentinel_daily_refresh"]
    assert (daily["schedule"]["quartz_cron_expression"], daily["schedule"]["timezone_id"]) == ("0 30 5 * * ?", "Asia/Kolkata")
    assert [t["task_key"] for t in task_order(daily)] == ["drain_streams", "build_gold", "advise"]
    # Serverless (Spark Connect) for gold, advisors, maintenance and health; classic where streams keep driver state.
    for key, task_key in (("lakesentinel_daily_refresh", "build_gold"), ("lakesentinel_daily_refresh", "advise"),
                          ("lakesentinel_maintenance", "optimize_and_vacuum"),
                          ("lakesentinel_health", "health")):
        task = next(t for t in jobs[key]["tasks"] if t["task_key"] == task_key)
        assert "environment_key" in task and "job_cluster_key" not in task
    assert "maintain" in jobs["lakesentinel_maintenance"]["tasks"][0]["python_wheel_task"]["parameters"]
    assert "health" in jobs["lakesentinel_health"]["tasks"][0]["python_wheel_task"]["parameters"]


def test_every_secret_the_shipped_routes_use_is_created_in_the_deploy_guide():
    import re

    import yaml

    from lakesentinel.settings import SHIPPED_DIR

    routes = yaml.safe_load((SHIPPED_DIR / "config" / "routes.yaml").read_text())
    keys = set(re.findall(r"'key': '([^']+)'", str(routes["receivers"])))
    guide = (Path(__file__).resolve().parents[1] / "docs" / "deploy.md").read_text()
    created = set(re.findall(r"databricks secrets put-secret \$SCOPE ([a-z0-9-]+)", guide))
    assert keys and keys <= created, keys - created


@pytest.mark.parametrize("target", TARGETS)
def test_the_apps_source_folder_is_synced_and_carries_the_wheel_its_requirements_name(target):
    import fnmatch
    import tomllib

    config, defined_in = resolve(target)
    (key,) = config["resources"]["apps"]
    source = app_source(config, defined_in, key)
    # The CLI translates source_code_path against its file and refuses a folder outside the sync root
    # (the bundle root: no sync.paths), which is the only part of the repository a deploy uploads.
    assert "sync" not in config or "paths" not in config["sync"]
    assert source.is_dir() and source.is_relative_to(BUNDLE_ROOT), source
    assert (source / "app.yaml").is_file() and (source / "requirements.txt").is_file()
    # The app artifact builds the repository itself, into the app's folder.
    assert artifact_dir(config, defined_in, "lakesentinel_app") == REPO_ROOT
    assert config["artifacts"]["lakesentinel_app"]["build"].split()[-1] == "."
    out = build_output(config, "lakesentinel_app", defined_in)
    assert out.is_relative_to(source), out
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    wheel = out / f"lakesentinel-{version}-py3-none-any.whl"
    named = [line.split("[")[0] for line in (source / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert [(source / n).resolve() for n in named] == [wheel]
    # A build output is git-ignored, and the sync skips ignored files unless sync.include names them.
    relative = wheel.relative_to(BUNDLE_ROOT).as_posix()
    assert any(fnmatch.fnmatch(relative, pattern) for pattern in config.get("sync", {}).get("include", [])), relative


@pytest.mark.parametrize("target", TARGETS)
def test_each_persona_dashboard_is_deployed_from_its_file_on_a_variable_warehouse(target):
    raw = yaml.safe_load((BUNDLE_ROOT / "resources" / "dashboards.yml").read_text())["resources"]["dashboards"]
    config, defined_in = resolve(target)
    variables = {n: v["default"] for n, v in config["variables"].items()}
    dashboards = config["resources"]["dashboards"]
    assert set(dashboards) == {f"lakesentinel_{p}" for p in ("finops", "platform", "security", "sre")}
    for key, dash in dashboards.items():
        path = (defined_in[f"dashboards.{key}"].parent / dash["file_path"]).resolve()
        assert path.name.endswith(".lvdash.json") and BUNDLE_ROOT in path.parents, path
        doc = json.loads(path.read_text())
        assert doc["datasets"] and doc["pages"][0]["layout"]
        assert raw[key]["warehouse_id"] == "${var.dashboard_warehouse_id}"
        assert dash["warehouse_id"] == variables["dashboard_warehouse_id"]
        assert dash["dataset_catalog"] == variables["catalog"]
        assert dash["parent_path"].startswith(config.get("workspace", {}).get("root_path", "/Workspace/Users/"))
        assert dash["embed_credentials"] is False  # viewers query as themselves
