"""The composition root: one application context, built once from the settings, wires every stage.

It holds what the stages share (the Spark session, the lakehouse, the operational tables, the routes,
the receivers' wiring, the rules engine, the clock) and builds the parts that run (monitor, lifecycle,
delivery worker, bronze, silver, gold). The CLI, the demo, the benchmarks and the job entry points
build their parts here; nothing below builds itself from the settings. Together with the session
factory (``session.py``) it is the only code that chooses between the embedded default and Databricks:
the operational tables are delta-rs on a local lakehouse's paths and Spark by name elsewhere, and the
simulator, replay and the demo ask it whether they may write local source tables.

Everything is made on first use: a CLI command that only reads the outbox never starts Spark.
"""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from lakesentinel.clock import utcnow
from lakesentinel.errors import ConfigError
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.settings import Settings

if TYPE_CHECKING:
    from lakesentinel.actions.registry import Wiring
    from lakesentinel.actions.worker import Worker
    from lakesentinel.alerts.lifecycle import Lifecycle
    from lakesentinel.alerts.routes import Routes
    from lakesentinel.monitor import Monitor, MonitorOptions
    from lakesentinel.opstables import Tables
    from lakesentinel.rules.engine import RuleEngine


class Context:
    """What one process shares; see the module docstring."""

    def __init__(self, cfg: Settings, *, spark=None, routes: Routes | None = None,
                 clock: Callable[[], datetime] = utcnow, console=None):
        """``console``: where the console receiver writes, a text stream or a rich Console (stderr by default)."""
        self.cfg = cfg
        self.clock = clock
        self.console = console if console is not None else sys.stderr
        self._spark = spark
        if routes is not None:
            self.__dict__["routes"] = routes

    # ---- what the stages share --------------------------------------------------------------------
    @property
    def spark(self):
        """The session, started (or taken from the runtime) on first use."""
        if self._spark is None:
            from lakesentinel.session import get_spark

            self._spark = get_spark(self.cfg)
        return self._spark

    @property
    def spark_started(self) -> bool:
        return self._spark is not None

    @cached_property
    def lakehouse(self) -> Lakehouse:
        return Lakehouse(self.cfg)

    @property
    def local(self) -> bool:
        """The embedded default: tables live at paths under a storage root, not in a managed catalog."""
        return bool(self.cfg.storage_root)

    def require_local(self, what: str) -> None:
        """Refuse ``what`` (the simulator, replay, the demo) unless the lakehouse is the embedded default."""
        if not self.local:
            raise ConfigError(f"{self.cfg.config_file}: key 'storage_root': {what} writes local tables and needs a "
                              "storage root (runtime 'local')")

    @cached_property
    def ops_tables(self) -> Tables:
        """The operational tables: delta-rs on local paths (no JVM, starts at once), Spark by name elsewhere."""
        from lakesentinel.opstables import DeltaRsTables, SparkTables

        return DeltaRsTables(self.cfg) if self.local else SparkTables(self.spark, self.cfg)

    @cached_property
    def routes(self) -> Routes:
        from lakesentinel.alerts.routes import load_routes

        return load_routes(self.cfg.paths.resolve("routes"))

    @cached_property
    def wiring(self) -> Wiring:
        """What receivers take from the application: timeout, the alerts table, the console stream."""
        from lakesentinel.actions.registry import Wiring
        from lakesentinel.alerts.sink import alerts_table

        return Wiring(timeout=self.routes.delivery.timeout.total_seconds(), alerts_table=alerts_table(self.cfg),
                      console=self.console)

    def receivers(self):
        """Every receiver that can be built, and why each of the others cannot."""
        from lakesentinel.actions.registry import build_available

        return build_available(self.routes, self.wiring)

    def rules_engine(self, paths: list[Path] | None = None, **kwargs) -> RuleEngine:
        from lakesentinel.rules.engine import RuleEngine

        kwargs.setdefault("ops_tables", self.ops_tables)
        return RuleEngine(self.spark, self.cfg, paths=paths, **kwargs)

    # ---- what runs --------------------------------------------------------------------------------
    def monitor(self, options: MonitorOptions | None = None) -> Monitor:
        from lakesentinel.monitor import Monitor

        return Monitor(self, options)

    def lifecycle(self, **kwargs) -> Lifecycle:
        from lakesentinel.alerts.lifecycle import Lifecycle

        return Lifecycle(self.spark, self.cfg, routes=self.routes, tables=self.ops_tables, **kwargs)

    def worker(self, stop: threading.Event | None = None, **kwargs) -> Worker:
        from lakesentinel.actions.worker import Worker

        kwargs.setdefault("now", self.clock)
        return Worker(stop or threading.Event(), routes=self.routes, tables=self.ops_tables, wiring=self.wiring,
                      **kwargs)

    def bronze(self, supervisor=None, *, scheduled: bool = False, tables: list[str] | None = None, **kwargs):
        """Bronze ingestion of every configured source (or ``tables``) added to ``supervisor``."""
        from lakesentinel.streams.ingest import add_bronze
        from lakesentinel.streams.supervisor import Supervisor

        return add_bronze(supervisor or Supervisor(), self.spark, self.cfg, scheduled=scheduled, tables=tables,
                          **kwargs)

    def silver(self, supervisor=None):
        """The silver tasks added to ``supervisor`` (continuous), or run once when none is given."""
        from lakesentinel.silver.plan import add_silver, run_silver

        if supervisor is None:
            return run_silver(self.spark, self.cfg)
        return add_silver(supervisor, self.spark, self.cfg)

    def gold(self, supervisor=None, **kwargs):
        """The gold build added to ``supervisor`` (on its interval), or run once (incremental unless ``full=True``)."""
        from lakesentinel.gold.plan import add_gold, run_gold

        if supervisor is None:
            return run_gold(self.spark, self.cfg, **kwargs)
        return add_gold(supervisor, self.spark, self.cfg)


_CONTEXTS: dict[int, Context] = {}


def context_of(cfg: Settings, *, spark=None, console=None) -> Context:
    """The context of ``cfg`` in this process (one per settings object), made on first use."""
    ctx = _CONTEXTS.get(id(cfg))
    if ctx is None or ctx.cfg is not cfg:
        ctx = _CONTEXTS[id(cfg)] = Context(cfg, spark=spark, console=console)
    elif spark is not None and ctx._spark is None:
        ctx._spark = spark
    return ctx
