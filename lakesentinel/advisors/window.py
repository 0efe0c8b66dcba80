"""The period an advisor looks at: the ``lookback_days`` up to the newest fact it reads (data time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pyspark.sql import SparkSession

from lakesentinel.advisors.findings import AdvisorError
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime  # exclusive: the hour after the newest fact

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    def sql(self, column: str) -> str:
        return (f"{column} >= TIMESTAMP '{self.start:%Y-%m-%d %H:%M:%S}' "
                f"AND {column} < TIMESTAMP '{self.end:%Y-%m-%d %H:%M:%S}'")

    def monthly(self, value) -> float:
        """A total over the window scaled to 30 days."""
        return float(value or 0) / self.days * 30


def require(spark: SparkSession, cfg: Settings, tables: tuple[str, ...], layer: str = "gold") -> None:
    lh = Lakehouse(cfg)
    for table in tables:
        if not lh.exists(spark, lh.name(layer, table)):
            raise AdvisorError(f"{lh.name(layer, table)} does not exist: run `lakesentinel gold build`")


def window_of(spark: SparkSession, cfg: Settings, table: str, column: str, lookback_days: int) -> Window | None:
    """The lookback window ending the hour after ``table``'s newest ``column``; None when it is empty."""
    from lakesentinel.gold.ddl import render

    newest = spark.sql(render(f"SELECT max({column}) AS t FROM {{gold}}.{table}", cfg, Path(__file__))).first()["t"]
    if newest is None:
        return None
    end = newest.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return Window(end - timedelta(days=lookback_days), end)


def run_sql(spark: SparkSession, cfg: Settings, text: str) -> list[dict]:
    from lakesentinel.gold.ddl import render

    return [r.asDict() for r in spark.sql(render(text, cfg, Path(__file__))).collect()]
