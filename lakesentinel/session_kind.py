"""What kind of Spark session this is: classic, or Spark Connect (serverless compute).

Kept apart from the session factory so that modules the factory uses (the lakehouse) can ask too.
"""

from __future__ import annotations


def is_connect(spark) -> bool:
    """A Spark Connect session (serverless compute): no SparkContext, RDDs or JVM behind it."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def session_key(spark) -> str:
    """Identifies the Spark application (classic) or session (Connect), for per-process caches."""
    return spark.session_id if is_connect(spark) else spark.sparkContext.applicationId


def classic_context(spark):
    """The classic session's SparkContext; None over Spark Connect, which has none (tags serve there)."""
    return None if is_connect(spark) else spark.sparkContext
