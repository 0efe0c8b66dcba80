"""Table maintenance: OPTIMIZE (compaction, Z-ORDER or liquid clustering) and VACUUM across the lakehouse.

Gold facts under the ``partition`` layout are Z-ordered by the clustering columns their DDL declares
after date_key; under ``liquid`` OPTIMIZE clusters them. Every other table is compacted. VACUUM keeps
at least 168 hours of history, Delta's default: readers of the change feed (silver and gold tasks) and
time travel need the files of recent versions.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from pyspark.sql import SparkSession

from lakesentinel.errors import LakeSentinelError
from lakesentinel.gold import ddl
from lakesentinel.gold.config import load_gold_settings
from lakesentinel.lakehouse import LAYERS, Lakehouse, quote
from lakesentinel.settings import Settings

MIN_RETAIN_HOURS = 168


class MaintenanceError(LakeSentinelError):
    """Some tables could not be maintained; the message names each with its error."""


@dataclass
class MaintenanceResult:
    table: str
    zorder_by: list[str] = field(default_factory=list)
    files_removed: int = 0
    files_added: int = 0
    files_vacuumed: int = 0
    seconds: float = 0.0
    error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def lakehouse_tables(spark: SparkSession, cfg: Settings, layers: list[str]) -> list[str]:
    """Full names of the Delta tables (not views) in the given layers' schemas."""
    lh = Lakehouse(cfg)
    lh.attach(spark)
    names = []
    for layer in layers:
        database = lh.schema(layer)
        if not spark.catalog.databaseExists(database):
            continue
        for table in spark.catalog.listTables(database):
            if table.tableType != "VIEW" and not table.isTemporary:
                names.append(lh.name(layer, table.name))
    return sorted(names)


def maintain(spark: SparkSession, cfg: Settings, layers: list[str] | None = None, *, tables: list[str] | None = None,
             optimize: bool = True, vacuum: bool = True,
             retain_hours: int = MIN_RETAIN_HOURS) -> list[MaintenanceResult]:
    """OPTIMIZE and VACUUM every table of ``layers`` (all by default). A table that fails is reported in
    its result's ``error`` and the rest still run; see :func:`check`. ``tables`` limits the run to those
    tables (by name, with or without the schema)."""
    if retain_hours < MIN_RETAIN_HOURS:
        raise MaintenanceError(f"retain_hours {retain_hours} is below {MIN_RETAIN_HOURS}: change-feed readers "
                               "and time travel need a week of history")
    layers = layers or list(LAYERS)
    unknown = [x for x in layers if x not in LAYERS]
    if unknown:
        raise MaintenanceError(f"unknown layer(s) {', '.join(unknown)}; one of {', '.join(LAYERS)}")
    settings = load_gold_settings(cfg)
    zorder = {d.name: d.zorder_by(settings) for d in ddl.all_table_ddl(cfg)}
    results = []
    names = lakehouse_tables(spark, cfg, layers)
    if tables:
        wanted = set(tables)
        names = [n for n in names if n in wanted or n.split(".")[-1] in wanted or ".".join(n.split(".")[-2:]) in wanted]
        missing = wanted - {p for n in names for p in (n, n.split(".")[-1], ".".join(n.split(".")[-2:]))}
        if missing:
            raise MaintenanceError(f"no such table(s) in {', '.join(layers)}: {', '.join(sorted(missing))}")
    for name in names:
        began = time.perf_counter()
        result = MaintenanceResult(name, zorder.get(name, []))
        try:
            if optimize:
                clause = f" ZORDER BY ({', '.join(f'`{c}`' for c in result.zorder_by)})" if result.zorder_by else ""
                metrics = spark.sql(f"OPTIMIZE {quote(name)}{clause}").select("metrics.*").first()
                result.files_removed, result.files_added = metrics["numFilesRemoved"], metrics["numFilesAdded"]
            if vacuum:
                result.files_vacuumed = spark.sql(f"VACUUM {quote(name)} RETAIN {retain_hours} HOURS DRY RUN").count()
                spark.sql(f"VACUUM {quote(name)} RETAIN {retain_hours} HOURS")
        except Exception as exc:  # one table's failure must not stop the rest
            result.error = str(exc).splitlines()[0]
        result.seconds = round(time.perf_counter() - began, 2)
        results.append(result)
    return results


def check(results: list[MaintenanceResult]) -> None:
    """Raise MaintenanceError naming every table that failed."""
    failed = [r for r in results if r.error]
    if failed:
        raise MaintenanceError(f"{len(failed)} of {len(results)} table(s) failed:\n"
                               + "\n".join(f"  - {r.table}: {r.error}" for r in failed))
