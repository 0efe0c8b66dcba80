"""Fetch Delta Lake's jars from Maven Central once, into the project's cache.

After this has run, Spark sessions start offline: the session factory hands the cached jar files to
Spark (``spark.jars``) instead of resolving packages at start.

    python -m lakesentinel.setup_jars          # resolve and cache
    python -m lakesentinel.setup_jars --check  # exit 0 when the cache is complete
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib.metadata import version
from pathlib import Path

SCALA_BINARY = "2.13"


def delta_version() -> str:
    return version("delta-spark")


def jars_dir() -> Path:
    default = Path(__file__).resolve().parent.parent / ".cache" / "jars"
    return Path(os.environ.get("LAKESENTINEL_JARS_DIR", default))


def expected_jars() -> list[str]:
    v = delta_version()
    return [f"io.delta_delta-spark_{SCALA_BINARY}-{v}.jar", f"io.delta_delta-storage-{v}.jar"]


def cached_jars() -> list[Path]:
    """The jar files to put on Spark's classpath; raises when set-up has not fetched them."""
    d = jars_dir()
    missing = [name for name in expected_jars() if not (d / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Delta Lake jars missing from {d}: {', '.join(missing)}. Run `./run setup` "
            "(or `python -m lakesentinel.setup_jars`) once with access to Maven Central."
        )
    return sorted(d.glob("*.jar"))


def fetch() -> list[Path]:
    """Resolve io.delta:delta-spark through Spark's own resolver and copy the jars to the cache."""
    from pyspark.sql import SparkSession

    target = jars_dir()
    ivy = target.parent / "ivy"
    coordinate = f"io.delta:delta-spark_{SCALA_BINARY}:{delta_version()}"
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("lakesentinel-setup-jars")
        .config("spark.jars.packages", coordinate)
        .config("spark.jars.ivy", str(ivy))
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.stop()
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for jar in (ivy / "jars").glob("*.jar"):
        shutil.copy2(jar, target / jar.name)
        copied.append(target / jar.name)
    return copied


def main(argv: list[str]) -> int:
    if "--check" in argv:
        try:
            cached_jars()
        except FileNotFoundError as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
    try:
        jars = fetch()
        cached_jars()
    except Exception as exc:  # the JVM's own message says what Maven Central answered
        print(f"Could not fetch Delta Lake jars from Maven Central: {exc}", file=sys.stderr)
        return 1
    for jar in jars:
        print(jar)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
