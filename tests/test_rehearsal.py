"""A run rehearsal: the bundle's jobs run the way Databricks runs them, from the built wheel.

Each scheduled job of a target is read from the bundle (includes, overrides and variables resolved)
and its tasks run in ``depends_on`` order, each in a new process of a clean virtual environment that holds
the wheel and what a Databricks runtime ships (Spark, Delta, pandas, pyarrow), with no source tree: the
runtime's Spark session is created first (local Spark on classic compute, a client of a local Spark
Connect server on serverless compute), then the wheel's entry point is called with the task's
parameters. Receiver secrets come from a (fake) workspace secrets API, as a job's credentials read
them. What stands in for the workspace is the configuration's locations: the lakehouse lives under a
temporary root instead of a Unity Catalog, and the system tables are a simulated day.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from lakesentinel.deltars import read_arrow
from lakesentinel.settings import SHIPPED_DIR
from tests import connect_server
from tests.bundle_config import REPO_ROOT, artifact_dir, build_output, resolve, task_order
from tests.fakes.databricks import FakeSecrets
from tests.fakes.slack import FakeSlack
from tests.fakes.webhook import FakeWebhook


# Builds the wheel, installs it in a clean venv and runs three jobs: not yet seen passing end to end (on a
# machine loaded far past its 2 cores the daily drain alone ran past 30 minutes), so out of the default
# suite until it has been: run with -m extended.
pytestmark = pytest.mark.extended

BIN = Path(sys.executable).parent
# What a Databricks runtime ships; and delta-rs, which lakesentinel's ops tables use when they live under
# a local storage_root as here (on Databricks, with managed tables, Spark writes them).
RUNTIME_PACKAGES = ["pyspark[connect]==4.0.1", "delta-spark==4.0.1", "pandas", "pyarrow", "numpy", "deltalake"]
SLACK_TOKEN, HOOK_SECRET = "xoxb-rehearsal-5150", "hmac-rehearsal-6160"
DETECTOR = "cost_cluster_hourly.yaml"

RUNTIME = '''"""Stands in for the Databricks runtime running one python_wheel_task."""
import glob, json, os, sys
task = json.loads(sys.argv[1])
# The runtime's Python workers run the cluster's environment, where the job's libraries are installed
# (not whatever python3 comes first on PATH).
os.environ["PYSPARK_PYTHON"] = sys.executable
from pyspark.sql import SparkSession
if task["remote"]:  # serverless: a Spark Connect client, as the runtime sets it up
    os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"
    spark = SparkSession.builder.remote(task["remote"]).getOrCreate()
else:  # classic: the driver's session, with Delta Lake
    jars = sorted(glob.glob(os.path.join(os.environ["LAKESENTINEL_JARS_DIR"], "*.jar")))
    spark = (SparkSession.builder.master("local[2]").config("spark.jars", ",".join(jars))
             .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
             .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
             .config("spark.sql.shuffle.partitions", "2").config("spark.databricks.delta.snapshotPartitions", "2")
             .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
             .config("spark.sql.warehouse.dir", task["warehouse"] + "/spark-warehouse")
             .config("spark.driver.extraJavaOptions", "-Dderby.system.home=" + task["warehouse"])
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
import lakesentinel
assert "site-packages" in lakesentinel.__file__, lakesentinel.__file__
from importlib.metadata import distribution
(ep,) = [e for e in distribution(task["package_name"]).entry_points if e.name == task["entry_point"]]
sys.argv = [task["entry_point"], *task["parameters"]]
try:
    ep.load()()
    code = 0
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
sys.exit(code)
'''


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{cmd[:4]} exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    return done


@dataclass(frozen=True)
class Runtime:
    python: Path  # the clean environment's interpreter: the wheel and what a runtime ships
    work: Path  # a task's working directory: nothing of the source tree in reach


def _runtime_venv() -> Path:
    """The clean environment, kept under .cache/ while the lock, the runtime packages and Python stay
    the same (installing them is most of the set-up; the wheel is reinstalled on every run)."""
    key = hashlib.sha256("\n".join([(REPO_ROOT / "requirements.lock").read_text(), (REPO_ROOT / "pyproject.toml").read_text(),
                                     *RUNTIME_PACKAGES, sys.version]).encode()).hexdigest()[:16]
    venv = REPO_ROOT / ".cache" / "rehearsal" / f"venv-{sys.version_info[0]}{sys.version_info[1]}-{key}"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        _run([str(BIN / "uv"), "venv", "--quiet", "--python", sys.executable, str(venv)])
        _run([str(BIN / "uv"), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
              *RUNTIME_PACKAGES, "-c", str(REPO_ROOT / "requirements.lock")])
        (venv / ".complete").touch()
    return venv


@pytest.fixture(scope="session")
def runtime(tmp_path_factory) -> Runtime:
    """The wheel, built as the bundle builds it from a copy of the repository, in a clean venv."""
    tmp = tmp_path_factory.mktemp("rehearsal")
    src = tmp / "src"
    listed = _run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_ROOT).stdout.split("\n")
    for name in filter(None, listed):
        if (REPO_ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, src / name)
    config, defined_in = resolve("dev")
    artifact = config["artifacts"]["lakesentinel"]
    build_dir = src / artifact_dir(config, defined_in).relative_to(REPO_ROOT)
    # Offline: the build back-end of this environment rather than a freshly downloaded one.
    _run([sys.executable if a == "python" else a for a in artifact["build"].split()] + ["--no-build-isolation"],
         cwd=build_dir)
    wheels = sorted((src / build_output(config, defined_in=defined_in).relative_to(REPO_ROOT)).glob("*.whl"))
    assert len(wheels) == 1, wheels
    venv = _runtime_venv()
    _run([str(BIN / "uv"), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
          "--reinstall-package", "lakesentinel", str(wheels[0]), *RUNTIME_PACKAGES,
          "-c", str(REPO_ROOT / "requirements.lock")])
    work = tmp / "work"
    work.mkdir()
    (work / "runtime.py").write_text(RUNTIME)
    return Runtime(venv / "bin" / "python", work)


def _cause(stderr: str) -> str:
    """What a failed task said first: its first Python traceback (what follows is often the JVM
    complaining that the Python side went away), else its last lines."""
    lines = stderr.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("Traceback")), None)
    if first is None:
        return "\n".join(lines[-60:])
    return "\n".join(lines[first:first + 80])


def _workspace(home: Path, target: str, slack_api: str, hook_url: str) -> tuple[Path, Path]:
    """The target's configuration with its locations moved to ``home``, and a team's files folder."""
    shipped = SHIPPED_DIR / "config"
    cfg = yaml.safe_load((shipped / f"{target}.yaml").read_text())
    local = yaml.safe_load((shipped / "local.yaml").read_text())
    cfg.update(catalog=None, storage_root=f"{home}/lakehouse", checkpoint_root=f"{home}/checkpoints",
               state_root=f"{home}/state", mlflow={"tracking_uri": f"file://{home}/mlruns", "experiment": "rehearsal"})
    for table, source in cfg["sources"].items():
        source["table"] = local["sources"][table]["table"]
    conf = home / "config"
    conf.mkdir(parents=True)
    (conf / f"{target}.yaml").write_text(yaml.safe_dump(cfg))
    shutil.copy(shipped / "gold.yaml", conf / "gold.yaml")
    files = home / "team-files"
    # The team's own folder: the shipped rule packs, and one detector (each detector is one more stream of
    # the same kind; this one, on billing usage, exercises the per-entity state on the Python workers).
    shutil.copytree(SHIPPED_DIR / "rules", files / "rules", ignore=shutil.ignore_patterns("detectors"))
    (files / "rules" / "detectors").mkdir()
    shutil.copy(SHIPPED_DIR / "rules" / "detectors" / DETECTOR, files / "rules" / "detectors" / DETECTOR)
    (files / "config").mkdir()
    shutil.copy(shipped / "quality.yaml", files / "config" / "quality.yaml")
    (files / "config" / "routes.yaml").write_text(f"""
route: {{receiver: team, group_by: [rule_id], group_wait: 0s, group_interval: 1m, repeat_interval: 4h}}
receivers:
  - name: team
    slack: {{channel: '#platform', token: {{secret: {{key: slack-token}}}}, base_url: '{slack_api}'}}
    webhook: {{url: '{hook_url}', secret: {{secret: {{key: webhook-secret}}}}}}
delivery: {{max_attempts: 3, backoff_initial: 100ms, backoff_max: 1s, timeout: 5s, poll_interval: 100ms}}
""")
    return conf, files


# One target per Python, to keep the suite's time: dev on 3.11 (the local default), prod on 3.12 (what
# Databricks Runtime 17.3 and serverless environment 4 run); CI runs both Pythons.
TARGET = "dev" if sys.version_info < (3, 12) else "prod"


def test_the_jobs_run_from_the_installed_wheel(runtime, tmp_path, target=TARGET):
    home = tmp_path / "home"
    _run([str(BIN / "lakesentinel"), "simulate", "--profile", "small", "--days", "1", "--seed", "13"],
         env={**os.environ, "LAKESENTINEL_HOME": str(home), "LAKESENTINEL_ENV": "local"})
    with FakeSlack(token=SLACK_TOKEN) as slack, FakeWebhook(secret=HOOK_SECRET) as hook, \
            FakeSecrets({("lakesentinel", "slack-token"): SLACK_TOKEN,
                         ("lakesentinel", "webhook-secret"): HOOK_SECRET}) as secrets:
        conf, files = _workspace(home, target, slack.api_url, hook.url + "/hook")
        config, _ = resolve(target, {"files_dir": str(files)})
        jobs = config["resources"]["jobs"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKESENTINEL", "SPARK_", "PYSPARK_"))}
        env["LAKESENTINEL_JARS_DIR"] = os.environ.get("LAKESENTINEL_JARS_DIR", str(REPO_ROOT / ".cache" / "jars"))
        # Serverless compute: its server and Python workers run the clean environment too.
        server, remote = connect_server.start(home / "connect", python=runtime.python, env=env)
        env.update(LAKESENTINEL_CONFIG_DIR=str(conf), DATABRICKS_HOST=secrets.url,
                   DATABRICKS_TOKEN=secrets.token, DATABRICKS_CONFIG_FILE="/nonexistent/.databrickscfg")
        work, took = runtime.work, {}
        try:
            for key in ("lakesentinel_daily_refresh", "lakesentinel_health", "lakesentinel_maintenance"):
                job = jobs[key]
                for task in task_order(job):
                    wheel = task["python_wheel_task"]
                    spec = {"remote": remote if "environment_key" in task else None, "warehouse": str(home / key),
                            "package_name": wheel["package_name"], "entry_point": wheel["entry_point"],
                            "parameters": wheel["parameters"]}
                    started = time.monotonic()
                    done = subprocess.run([str(runtime.python), "runtime.py", json.dumps(spec)], cwd=work, env=env,
                                          capture_output=True, text=True, timeout=1800)
                    took[f"{key}/{task['task_key']}"] = round(time.monotonic() - started, 1)
                    log = work / f"{key}.{task['task_key']}.log"
                    log.write_text(done.stdout + done.stderr)
                    assert done.returncode == 0, f"{key}/{task['task_key']} exit {done.returncode} ({log}):\n{_cause(done.stderr)}"
            print("rehearsal task times (s):", took)
        finally:
            server.stdin.close()
            server.wait(timeout=120)
        assert slack.messages and hook.requests, "receivers got their secrets and were reached"

    lake = home / "lakehouse"
    for layer, table in (("plt_bronze", "access_audit"), ("plt_silver", "usage"), ("plt_gold", "fact_cost_daily"),
                         ("plt_ops", "alerts"), ("plt_gold", "fact_incident")):
        assert (lake / layer / table / "_delta_log").is_dir(), f"{layer}.{table} not written"

    for layer, table in (("plt_bronze", "access_audit"), ("plt_ops", "alerts"), ("plt_gold", "fact_cost_daily")):
        assert read_arrow(str(lake / layer / table)).num_rows > 0, f"{layer}.{table} is empty"
