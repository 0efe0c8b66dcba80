"""The Databricks bundle in jobs/ is well-formed: every job parses as a bundle Job resource."""


import pytest
import yaml
from databricks.bundles.jobs import Job

from pathlib import Path

BUNDLE = Path(__file__).resolve().parents[1] / "jobs"


def _resources() -> dict[str, dict]:
    root = yaml.safe_load((BUNDLE / "databricks.yml").read_text())
    jobs = {}
    for pattern in root["include"]:
        for path in sorted(BUNDLE.glob(pattern)):
            jobs.update(yaml.safe_load(path.read_text())["resources"].get("jobs", {}))
    return jobs


def test_bundle_has_dev_and_prod_targets_and_declares_its_variables():
    root = yaml.safe_load((BUNDLE / "databricks.yml").read_text())
    assert set(root["targets"]) == {"dev", "prod"}
    assert root["targets"]["prod"]["mode"] == "production"
    text = "".join(p.read_text() for p in [BUNDLE / "databricks.yml", *BUNDLE.glob("resources/*.yml")])
    used = {v.split("}")[0] for v in text.split("${var.")[1:]}
    assert used <= set(root["variables"]), used - set(root["variables"])


@pytest.mark.parametrize("key", sorted(_resources()))
def test_every_job_is_a_valid_bundle_job(key):
    job = Job.from_dict(_resources()[key])  # raises on unknown or missing fields
    assert job.as_dict()["tasks"], key
    for task in job.as_dict()["tasks"]:
        params = task["python_wheel_task"]["parameters"]
        assert params[:2] == ["--env", "${bundle.target}"]


def test_the_jobs_the_issue_asks_for_are_there():
    jobs = _resources()
    monitor = jobs["lakesentinel_monitor"]
    assert monitor["continuous"]["pause_status"] == "UNPAUSED"
    assert monitor["tasks"][0]["python_wheel_task"]["parameters"][2:] == ["stream", "all"]
    daily = jobs["lakesentinel_daily_refresh"]["schedule"]
    assert (daily["quartz_cron_expression"], daily["timezone_id"]) == ("0 30 5 * * ?", "Asia/Kolkata")
    assert "maintain" in jobs["lakesentinel_maintenance"]["tasks"][0]["python_wheel_task"]["parameters"]
    assert "health" in jobs["lakesentinel_health"]["tasks"][0]["python_wheel_task"]["parameters"]


def test_the_app_is_a_valid_bundle_app_that_queries_as_the_signed_in_user():
    from databricks.bundles.apps import App

    spec = yaml.safe_load((BUNDLE / "resources" / "app.yml").read_text())["resources"]["apps"]["lakesentinel_platform_health"]
    App.from_dict(spec)  # raises on unknown or missing fields
    assert "sql" in spec["user_api_scopes"]
    warehouse = next(r for r in spec["resources"] if "sql_warehouse" in r)
    assert {"name": "DATABRICKS_WAREHOUSE_ID", "value_from": warehouse["name"]} in spec["config"]["env"]
    source = (BUNDLE / spec["source_code_path"]).resolve()
    assert (source / "app.yaml").is_file() and (source / "requirements.txt").is_file()
