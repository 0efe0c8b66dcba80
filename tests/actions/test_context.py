"""The composition root: built once from the settings, it hands the same routes, tables and clock to what it builds,
and the operational tables never start Spark on the embedded default."""

from __future__ import annotations

import io
import threading

from lakesentinel.alerts.routes import parse_routes
from lakesentinel.context import Context
from lakesentinel.errors import ConfigError
from lakesentinel.notify.outbox import OUTBOX
from lakesentinel.opstables import DeltaRsTables


def test_the_worker_shares_the_contexts_routes_tables_and_clock(deployment):
    ticks = []
    ctx = Context(deployment.cfg, clock=lambda: ticks.append(1) or __import__("datetime").datetime(2026, 3, 2))
    worker = ctx.worker(threading.Event())
    assert worker.routes is ctx.routes and worker.tables is ctx.ops_tables
    assert isinstance(ctx.ops_tables, DeltaRsTables)
    assert worker.now() is not None and ticks == [1]
    assert set(worker.receivers) | set(worker.unavailable) == set(ctx.routes.integrations())
    assert ctx._spark is None, "building the worker and reading its tables started no Spark session"
    ctx.ops_tables.read(ctx.ops_tables.name("ops", OUTBOX))
    assert ctx._spark is None


def test_the_console_receiver_writes_where_the_context_says(deployment):
    out = io.StringIO()
    routes = parse_routes("route: {receiver: c}\nreceivers: [{name: c, console: {}}]\n")
    built, _ = Context(deployment.cfg, routes=routes, console=out).receivers()
    assert built["c/console"].console.file is out


def test_only_the_embedded_default_may_write_local_source_tables(deployment):
    Context(deployment.cfg).require_local("the simulator")
    elsewhere = deployment.cfg.model_copy(update={"storage_root": None})
    try:
        Context(elsewhere).require_local("the simulator")
    except ConfigError as exc:
        assert "storage_root" in str(exc) and "the simulator" in str(exc)
    else:
        raise AssertionError("a lakehouse without a storage root may not take simulated tables")
