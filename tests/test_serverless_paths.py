"""Serverless compute is Spark Connect: no SparkContext, RDDs, JVM or delta-spark's JVM-bound API.

The session factory is the one place that may reach the SparkContext (and only for classic sessions);
replay of exports runs locally only. The run rehearsal runs the serverless tasks on Spark Connect;
this catches a new use before it gets there.
"""

import re
from pathlib import Path

import lakesentinel

PACKAGE = Path(lakesentinel.__file__).parent
CLASSIC_ONLY = {"session.py", "session_kind.py", "sources/replay.py"}
JVM = re.compile(r"\.sparkContext\b|\._jvm\b|\._jsparkSession\b|\._jsc\b|\.rdd\b")
# What the gold build, maintenance and health import that could reach the JVM through delta-spark.
SERVERLESS = ["gold", "reviews", "advisors", "cli/advise.py", "health.py", "lakehouse.py", "cli/gold.py", "cli/health.py", "copilot",
              "cli/copilot.py"]


def test_only_the_session_factory_reaches_the_spark_context():
    found = [f"{p.relative_to(PACKAGE)}:{n}" for p in PACKAGE.rglob("*.py")
             if str(p.relative_to(PACKAGE)) not in CLASSIC_ONLY
             for n, line in enumerate(p.read_text().splitlines(), 1) if JVM.search(line.split("#")[0])]
    assert not found, found


def test_serverless_paths_use_sql_rather_than_the_deltatable_api():
    files = [f for s in SERVERLESS for f in ([PACKAGE / s] if s.endswith(".py") else (PACKAGE / s).rglob("*.py"))]
    found = [str(f.relative_to(PACKAGE)) for f in files if "delta.tables" in f.read_text()]
    assert not found, found
