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


class JobGroup:
    """Classic Spark: the calling thread's jobs under one job group, cancelled together.

    The thread's previous group is restored on exit (a stream's own group lets ``query.stop()`` cancel
    its batch).
    """

    KEYS = ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel")

    def __init__(self, spark, name: str):
        self.context, self.name = spark.sparkContext, name

    def __enter__(self):
        self.saved = [self.context.getLocalProperty(k) for k in self.KEYS]
        self.context.setJobGroup(self.name, "rules on a micro-batch", interruptOnCancel=True)
        return self

    def cancel(self) -> None:
        self.context.cancelJobGroup(self.name)

    def __exit__(self, *exc) -> None:
        for key, value in zip(self.KEYS, self.saved):
            self.context.setLocalProperty(key, value)


class OperationTag:
    """Spark Connect: the thread's operations under one tag, interrupted together."""

    def __init__(self, spark, name: str):
        self.spark, self.name = spark, name

    def __enter__(self):
        self.spark.addTag(self.name)
        return self

    def cancel(self) -> None:
        self.spark.interruptTag(self.name)

    def __exit__(self, *exc) -> None:
        self.spark.removeTag(self.name)


def cancellable_jobs(spark, name: str) -> JobGroup | OperationTag:
    """A context manager grouping the Spark work the calling thread starts, with ``cancel()`` for all of it.

    Classic Spark uses a job group: its session tags do not reach the jobs of a query (found with
    ``toArrow()`` and adaptive stages); Spark Connect has no job groups, and its tags reach every job.
    """
    return OperationTag(spark, name) if is_connect(spark) else JobGroup(spark, name)
