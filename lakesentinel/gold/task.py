"""One gold task: find what changed since its offsets, rebuild that, write, record, advance.

A fact task rewrites whole dates. It asks each silver table it reads which date_keys the changes since
its offset fall on, asks each dimension it points at which dates hold rows whose version changed, adds
the late window (the dates just before the newest of those), and replaces exactly those dates with
Delta's ``replaceWhere``. Offsets move only after the write, and a date is always rewritten whole, so a task
interrupted anywhere rewrites the same dates again and nothing is lost or doubled.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakesentinel.gold import ddl
from lakesentinel.gold.config import GoldSettings, load_gold_settings
from lakesentinel.gold.keys import DimensionRef
from lakesentinel.gold.refs import REFS, SOURCES
from lakesentinel.gold.snapshot import RebuildAll, Snapshot
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.logs import get_logger
from lakesentinel.settings import Settings

log = get_logger(__name__)


@dataclass
class Build:
    """What every task of one build shares."""

    spark: SparkSession
    cfg: Settings
    full: bool = False
    settings: GoldSettings | None = None  # from config/gold.yaml when not given
    build_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    built_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(tzinfo=None))

    def __post_init__(self) -> None:
        if self.settings is None:
            self.settings = load_gold_settings(self.cfg)
        self.lh = Lakehouse(self.cfg)
        self.snapshot = Snapshot(self.spark, self.cfg)

    def gold(self, table: str) -> DataFrame:
        return self.lh.read(self.spark, self.lh.name("gold", table))

    def silver(self, table: str) -> DataFrame:
        return self.snapshot.read(self.snapshot.silver(table))

    def stamp(self, rows: DataFrame) -> DataFrame:
        return rows.withColumn("_build_id", F.lit(self.build_id)).withColumn(
            "_built_at", F.lit(self.built_at).cast("timestamp"))


@dataclass(frozen=True)
class TaskResult:
    task: str
    mode: str  # full | incremental | unchanged
    dates: list[int]  # date_keys written (facts); empty for dimensions
    rows_written: int
    seconds: float
    reason: str = ""


# ---- where changes land ------------------------------------------------------------------------------

DateMap = Callable[[Build, DataFrame], DataFrame]  # changed rows -> one column, date_key


def by_date_key(build: Build, changes: DataFrame) -> DataFrame:
    return changes.select("date_key")


@dataclass(frozen=True)
class DimensionUse:
    """A fact's pointer to a dimension, for finding the dates whose rows a changed version moves."""

    ref: DimensionRef
    source: str  # silver table holding the natural key and the event time
    columns: tuple[str, ...]  # its natural-key columns, in the dimension's order
    at: str  # its event-time column
    date_column: str = "date_key"


def changed_versions(build: Build, task: str, dim: str) -> DataFrame | None:
    """Natural key and gold [valid_from, valid_to) of each version inserted, or changed in content, since
    ``task``'s offset. A version whose only change is a shorter validity moves no fact: the version that
    shortened it is inserted and counts."""
    source = SOURCES[dim]
    rows = build.snapshot.changes(task, build.lh.name(source.layer, source.table))
    if rows is None:
        return None
    key = [*source.natural, source.version_time, "_commit_version"]
    pre = (rows.where("_change_type = 'update_preimage'")
           .select(*key, F.expr(source.attributes).alias("_before")))
    post = rows.where("_change_type IN ('insert', 'update_postimage')").select(
        *key, F.expr(source.attributes).alias("_after"))
    changed = (post.join(pre, key, "left").where(~F.col("_before").eqNullSafe(F.col("_after")))
               .select(*[F.col(c).alias(f"_n{i}") for i, c in enumerate(source.natural)],
                       F.col(source.version_time).alias("_vt")).distinct())
    gold = build.gold(dim)
    natural = REFS[dim].natural
    on = [changed[f"_n{i}"] == gold[c] for i, c in enumerate(natural)] + [changed["_vt"] == gold["version_time"]]
    return changed.join(gold, on).select(*natural, "valid_from", "valid_to")


# ---- tasks -------------------------------------------------------------------------------------------


class GoldTask:
    name: str = ""  # the offset key, e.g. "gold.fact_job_run"
    tables: tuple[str, ...] = ()  # gold tables the task writes

    def sources(self, build: Build) -> list[str]:
        """Full names of the tables whose offsets the task keeps."""
        raise NotImplementedError

    def run(self, build: Build) -> TaskResult:
        raise NotImplementedError

    def ensure_tables(self, build: Build) -> list[str]:
        return [ddl.apply_table(build.spark, build.cfg, build.settings, ddl.table_ddl(build.cfg, t))
                for t in self.tables]


def write_dates(build: Build, table: str, rows: DataFrame, dates: list[int] | None) -> None:
    """Replace the given dates of ``table`` with ``rows`` (all of it when ``dates`` is None)."""
    name = build.lh.name("gold", table)
    columns = ddl.table_ddl(build.cfg, table).column_names
    writer = rows.select(*columns).write.format("delta").mode("overwrite")
    if dates is not None:
        writer = writer.option("replaceWhere", f"date_key IN ({', '.join(str(d) for d in sorted(dates))})")
    writer.saveAsTable(name)


def date_window(newest: int, days: int) -> list[int]:
    """The ``days`` dates ending at ``newest``, as date_keys.

    >>> date_window(20260301, 3)
    [20260227, 20260228, 20260301]
    """
    end = date(newest // 10000, newest // 100 % 100, newest % 100)
    return [int((end - timedelta(days=k)).strftime("%Y%m%d")) for k in range(days - 1, -1, -1)]


class FactTask(GoldTask):
    """Subclasses name their inputs and implement ``rows``; finding dates and writing are shared."""

    date_sources: dict[str, DateMap] = {}  # silver table -> where its changes land
    dimensions: tuple[DimensionUse, ...] = ()

    def rows(self, build: Build, dates: list[int] | None) -> dict[str, DataFrame]:
        """Rows of each table for ``dates`` (every date when None), without _build_id/_built_at."""
        raise NotImplementedError

    def sources(self, build: Build) -> list[str]:
        dims = {build.lh.name(SOURCES[u.ref.dimension].layer, SOURCES[u.ref.dimension].table)
                for u in self.dimensions}
        return sorted({build.snapshot.silver(t) for t in self.date_sources} | dims)

    def touched_dates(self, build: Build) -> list[int] | None:
        """The dates to rewrite, or None for all of them."""
        found: list[DataFrame] = []
        for table, to_dates in self.date_sources.items():
            changes = build.snapshot.changes(self.name, build.snapshot.silver(table))
            if changes is not None:
                found.append(to_dates(build, changes).select(F.col("date_key").cast("int")))
        for use in self.dimensions:
            versions = changed_versions(build, self.name, use.ref.dimension)
            if versions is None:
                continue
            facts = build.silver(use.source)
            on = [facts[c] == versions[n] for c, n in zip(use.columns, use.ref.natural)]
            on += [facts[use.at] >= versions["valid_from"], facts[use.at] < versions["valid_to"]]
            found.append(facts.join(F.broadcast(versions), on, "left_semi").select(F.col(use.date_column).cast("int")))
        if not found:
            return []
        union = found[0]
        for more in found[1:]:
            union = union.unionByName(more)
        dates = {r[0] for r in union.where("date_key IS NOT NULL").distinct().collect()}
        if dates and build.settings.late_window_days:
            dates |= set(date_window(max(dates), build.settings.late_window_days))
        return sorted(dates)

    def run(self, build: Build) -> TaskResult:
        began = time.perf_counter()
        self.ensure_tables(build)
        sources = self.sources(build)
        build.snapshot.pin(sources)
        mode, reason = ("full", "--full") if build.full else ("incremental", "")
        dates: list[int] | None = None
        if not build.full:
            try:
                dates = self.touched_dates(build)
            except RebuildAll as why:
                mode, reason, dates = "full", str(why), None
            if dates == []:
                return TaskResult(self.name, "unchanged", [], 0, time.perf_counter() - began)
        # Cached in order, so a later output computed from an earlier one (daily from hourly) reuses it.
        outputs = self.rows(build, dates)
        cached: list[DataFrame] = []
        try:
            written = 0
            written_dates: set[int] = set(dates or [])
            for table, rows in outputs.items():
                rows = rows.persist()
                cached.append(rows)
                written += rows.count()
                if dates is None:
                    written_dates |= {r[0] for r in rows.select("date_key").distinct().collect()}
                write_dates(build, table, build.stamp(rows), dates)
        finally:
            for rows in cached:
                rows.unpersist()
        build.snapshot.commit(self.name, sources, written)
        log.info("gold task done", extra={"task": self.name, "mode": mode, "dates": len(written_dates),
                                          "rows": written})
        return TaskResult(self.name, mode, sorted(written_dates), written, time.perf_counter() - began, reason)

