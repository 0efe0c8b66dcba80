"""A local Spark Connect server with Delta Lake, standing in for serverless compute.

``python tests/connect_server.py PORT WAREHOUSE`` starts Spark with the Spark Connect plugin (its jar
ships in the pyspark package) listening on 127.0.0.1:PORT, prints ``ready`` and serves until its stdin
closes. Clients use ``SparkSession.builder.remote("sc://127.0.0.1:PORT")``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(warehouse: Path, python: Path | None = None, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start the server in its own process; returns it and its ``sc://`` address once it listens.

    ``python``: the interpreter of the server and its Python workers (default: this one), run on this file
    alone, so that an environment without the source tree stays without it."""
    port = free_port()
    python = str(python or sys.executable)
    env = {**(os.environ if env is None else env), "PYSPARK_PYTHON": python}
    proc = subprocess.Popen([python, str(Path(__file__).resolve()), str(port), str(warehouse)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=warehouse.parent)
    line = proc.stdout.readline()  # blocks until the server is up (or the process died)
    if line.strip() != "ready":
        proc.kill()
        raise RuntimeError(f"Spark Connect server did not start (exit {proc.poll()})")
    return proc, f"sc://127.0.0.1:{port}"


def main(port: int, warehouse: str) -> None:
    from pyspark.sql import SparkSession

    from lakesentinel.setup_jars import cached_jars

    spark = (SparkSession.builder.master("local[2]").appName("lakesentinel-connect-server")
             .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
             .config("spark.connect.grpc.binding.address", "127.0.0.1")
             .config("spark.connect.grpc.binding.port", str(port))
             .config("spark.jars", ",".join(str(j) for j in cached_jars()))
             .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
             .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
             .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
             .config("spark.databricks.delta.snapshotPartitions", "2")
             # As the local session: VACUUM lists files with this many tasks (10,000 by default, minutes on 2 cores).
             .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", "2")
             .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
             .config("spark.sql.warehouse.dir", f"{warehouse}/spark-warehouse")
             .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse}")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for _ in range(600):  # the plugin starts the gRPC service with the context; wait until it accepts
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.5)
    print("ready", flush=True)
    sys.stdin.read()
    spark.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
