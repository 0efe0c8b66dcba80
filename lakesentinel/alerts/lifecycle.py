"""The running lifecycle: reads what is new, steps the engine, writes what came out.

Each step reads the commits made since its offsets to ``plt_ops.alerts``, ``incident_commands`` and
``action_deliveries`` (and the silences when they change), runs ``Engine.step(now, ...)``, and writes
in an order that survives a crash at any point:

1. notifications to ``plt_ops.action_outbox`` (keys are derived from the data, so a step replayed
   after a crash appends the same keys again and the worker delivers each key once),
2. quarantined alerts and command outcomes,
3. the state (engine snapshot, offsets, incidents waiting for the fact table) to
   ``plt_ops.alert_lifecycle_state``: the commit point of the step,
4. every ``fact_interval`` (and on demand), one MERGE of the changed incidents into
   ``plt_gold.fact_incident``; then the state again, without them.

The composition root (``lakesentinel.context``) builds a :class:`Lifecycle`; ``lifecycle_drain(lc)``
runs it once for a scheduled run and ``start_lifecycle(lc, trigger)`` runs it in a thread. Both can be
stopped and restarted without loss or duplicates.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from lakesentinel.notify.deliveries import DELIVERIES
from lakesentinel.notify.outbox import OUTBOX, OUTBOX_SCHEMA, outbox_row
from lakesentinel.clock import utcnow
from lakesentinel.opstables import Tables, aware_rows
from lakesentinel.alerts.commands import COMMAND_SCHEMA, COMMANDS, command_of, outcome_row
from lakesentinel.alerts.engine import Delivered, Engine, StepResult
from lakesentinel.alerts.incidents import FACT_INCIDENT_SCHEMA, Incident
from lakesentinel.alerts.routes import Routes
from lakesentinel.alerts.silences import SILENCES, Silence, fold_events, sync_declared
from lakesentinel.alerts.sink import ALERTS
from lakesentinel.lakehouse import Lakehouse
from lakesentinel.logs import get_logger, redact
from lakesentinel.settings import Settings
from lakesentinel.sources.types import parse_columns

log = get_logger(__name__)

STATE = "alert_lifecycle_state"
QUARANTINE = "alerts_quarantine"
FACT_INCIDENT = "fact_incident"

STATE_SCHEMA = parse_columns([("kind", "string"), ("key", "string"), ("payload", "string"), ("saved_at", "timestamp")])
QUARANTINE_SCHEMA = parse_columns([("alert_id", "string"), ("fingerprint", "string"), ("reason", "string"),
                                   ("row", "string"), ("quarantined_at", "timestamp")])
OFFSETS = ("alerts", "commands", "deliveries")


@dataclass
class StepReport:
    at: datetime
    alerts: int = 0
    notifications: int = 0
    changed: int = 0
    quarantined: int = 0
    commands: int = 0
    merged: int = 0
    seconds: float = 0.0


def merge_incidents(spark, cfg: Settings, rows: list[dict]) -> int:
    """MERGE full incident rows into ``plt_gold.fact_incident`` on ``incident_id`` (newer wins)."""
    if not rows:
        return 0
    from delta.tables import DeltaTable

    lh = Lakehouse(cfg)
    name = lh.create_table(spark, lh.name("gold", FACT_INCIDENT), FACT_INCIDENT_SCHEMA,
                           properties={"delta.enableChangeDataFeed": "true"},
                           comment="One row per incident; maintained by the alert lifecycle (alerts/lifecycle.py)")
    source = spark.createDataFrame(aware_rows(rows, FACT_INCIDENT_SCHEMA), FACT_INCIDENT_SCHEMA)
    (DeltaTable.forName(spark, name).alias("t")
     .merge(source.alias("s"), "t.incident_id = s.incident_id")
     .whenMatchedUpdateAll(condition="s.updated_at >= t.updated_at")
     .whenNotMatchedInsertAll()
     .execute())
    return len(rows)


class Lifecycle:
    """One process's lifecycle; restartable from its state table at any time."""

    def __init__(self, spark, cfg: Settings, *, routes: Routes, tables: Tables,
                 fact_interval: timedelta = timedelta(seconds=5)):
        self.spark = spark
        self.cfg = cfg
        self.routes = routes
        self.tables = tables
        self.fact_interval = fact_interval
        t = self.tables
        self.names = {"alerts": t.name("ops", ALERTS), "commands": t.name("ops", COMMANDS),
                      "deliveries": t.name("ops", DELIVERIES), "silences": t.name("ops", SILENCES),
                      "state": t.name("ops", STATE), "outbox": t.name("ops", OUTBOX),
                      "quarantine": t.name("ops", QUARANTINE)}
        self._silences_version: int | None = -2
        self._silences: list[Silence] = []
        self._last_merge = datetime.min
        # Steps and fact MERGEs may run in different threads; the MERGE itself runs outside the lock.
        self._lock = threading.RLock()
        self.load()
        recorded, expired = sync_declared(self.tables, self.routes.silences, utcnow())
        if recorded or expired:
            log.info("silences from %s: %d recorded, %d expired", self.routes.file, len(recorded), len(expired))

    # ---- state ---------------------------------------------------------------------------------
    def load(self) -> None:
        rows = self.tables.read(self.names["state"])
        by_kind: dict[str, list[dict]] = {}
        for r in rows:
            by_kind.setdefault(r["kind"], []).append(r)
        self.offsets = {k: -1 for k in OFFSETS}
        for r in by_kind.get("offset", []):
            self.offsets[r["key"]] = int(r["payload"])
        snapshot = {"incidents": [json.loads(r["payload"]) for r in by_kind.get("incident", [])],
                    "groups": [json.loads(r["payload"]) for r in by_kind.get("group", [])]}
        self.engine = Engine.restore(self.routes, snapshot)
        self.pending_fact: dict[str, Incident] = {r["key"]: Incident.model_validate_json(r["payload"])
                                                  for r in by_kind.get("fact", [])}
        self._state_version = self.tables.version(self.names["state"])

    def save(self, now: datetime) -> None:
        rows = [{"kind": "offset", "key": k, "payload": str(v), "saved_at": now} for k, v in self.offsets.items()]
        snap = self.engine.snapshot()
        rows += [{"kind": "incident", "key": i["incident_id"], "payload": json.dumps(i), "saved_at": now}
                 for i in snap["incidents"]]
        rows += [{"kind": "group", "key": g["key"], "payload": json.dumps(g), "saved_at": now} for g in snap["groups"]]
        rows += [{"kind": "fact", "key": k, "payload": inc.model_dump_json(), "saved_at": now}
                 for k, inc in self.pending_fact.items()]
        self.tables.overwrite(self.names["state"], rows, STATE_SCHEMA)
        self._state_version = self.tables.version(self.names["state"])

    # ---- inputs --------------------------------------------------------------------------------
    def _new(self, key: str) -> tuple[list[dict], int]:
        latest = self.tables.version(self.names[key])
        if latest is None or latest <= self.offsets[key]:
            return [], self.offsets[key]
        return self.tables.changes(self.names[key], self.offsets[key], latest), latest

    def _current_silences(self) -> list[Silence]:
        version = self.tables.version(self.names["silences"])
        if version != self._silences_version:
            self._silences = list(fold_events(self.tables.read(self.names["silences"])).values())
            self._silences_version = version
        return self._silences

    def has_input(self) -> bool:
        """Cheap check for new commits to any input (a version probe per table)."""
        return any((self.tables.version(self.names[k]) or -1) > self.offsets[k] for k in OFFSETS)

    def next_due(self) -> datetime | None:
        """The earliest group flush or auto-resolve the engine is waiting for."""
        due = [g.next_flush_at for g in self.engine.groups.values()]
        due += [i.last_alert_at + timedelta(seconds=i.resolve_timeout_s) for i in self.engine.incidents.values()
                if i.active]
        return min(due) if due else None

    # ---- one step ------------------------------------------------------------------------------
    def step(self, now: datetime | None = None, *, merge: bool | None = None) -> StepReport:
        """Read, step, write. ``merge``: True merges the facts now, False leaves them to ``flush_facts``,
        None merges when ``fact_interval`` has passed since the last MERGE."""
        began = time.perf_counter()
        now = now or utcnow()
        with self._lock:
            report = self._step(now)
        due = merge if merge is not None else (now - self._last_merge >= self.fact_interval)
        if self.pending_fact and due:
            report.merged = self.flush_facts(now)
        report.seconds = time.perf_counter() - began
        return report

    def _step(self, now: datetime) -> StepReport:
        if self.tables.version(self.names["state"]) != self._state_version:
            log.info("lifecycle state changed under this process; reloading it")
            self.load()
        alerts, v_alerts = self._new("alerts")
        cmd_rows, v_cmd = self._new("commands")
        dlv_rows, v_dlv = self._new("deliveries")
        commands = [command_of(r) for r in cmd_rows if not r.get("outcome")]
        deliveries = [Delivered(r["integration"], tuple(r["incident_ids"] or ()), r["refs"] or {}, r["at"])
                      for r in dlv_rows if r["event"] == "delivered"]
        result = self.engine.step(now, alerts=alerts, commands=commands, silences=self._current_silences(),
                                  deliveries=deliveries)
        self._late_refs(result)
        moved = (v_alerts, v_cmd, v_dlv) != tuple(self.offsets[k] for k in OFFSETS)

        if result.notifications:
            self.tables.append(self.names["outbox"], [outbox_row(n) for n in result.notifications], OUTBOX_SCHEMA)
        if result.quarantined:
            self.tables.append(self.names["quarantine"], [
                {"alert_id": row.get("alert_id"), "fingerprint": row.get("fingerprint"), "reason": reason,
                 "row": json.dumps(row, default=str), "quarantined_at": now} for row, reason in result.quarantined],
                QUARANTINE_SCHEMA)
            for _, reason in result.quarantined:
                log.warning("alert quarantined: %s", reason)
        if result.commands:
            self.tables.append(self.names["commands"], [outcome_row(c, o, now) for c, o in result.commands],
                               COMMAND_SCHEMA)
        for inc in result.changed.values():
            self.pending_fact[inc.incident_id] = inc.model_copy(deep=True)
        # Our own outcome rows come back as input next step and are skipped there: advancing the offset
        # past them here could skip a request the CLI appended in between.
        self.offsets.update(alerts=v_alerts, commands=v_cmd, deliveries=v_dlv)
        if moved or not result.empty:
            self.save(now)

        return StepReport(now, len(alerts), len(result.notifications), len(result.changed),
                          len(result.quarantined), len(result.commands))

    def flush_facts(self, now: datetime | None = None) -> int:
        """MERGE the incidents that changed since the last MERGE into ``fact_incident``."""
        now = now or utcnow()
        with self._lock:
            batch = dict(self.pending_fact)
        merged = merge_incidents(self.spark, self.cfg, [inc.fact_row() for inc in batch.values()])
        with self._lock:
            for iid, inc in batch.items():
                if self.pending_fact.get(iid) is inc:  # not changed again while the MERGE ran
                    del self.pending_fact[iid]
            self._last_merge = now
            self.save(now)
        return merged

    def _late_refs(self, result: StepResult) -> None:
        """References for incidents that already left the state go straight to their fact rows."""
        if not result.unknown_refs:
            return
        wanted = {d.incident_ids[0] for d in result.unknown_refs}
        found = {iid: inc for iid, inc in self.pending_fact.items() if iid in wanted}
        missing = wanted - set(found)
        if missing:
            fact = self.tables.name("gold", FACT_INCIDENT)
            found.update({r["incident_id"]: Incident.from_fact_row(r) for r in self.tables.read(fact)
                          if r["incident_id"] in missing})
        for d in result.unknown_refs:
            inc = found.get(d.incident_ids[0])
            if inc is None:
                log.warning("delivery references for unknown incident %s dropped", d.incident_ids[0])
                continue
            inc.add_refs(dict(d.refs), d.delivered_at)
            inc.updated_at = max(inc.updated_at, d.delivered_at)
            result.changed[inc.incident_id] = inc


def lifecycle_drain(lc: Lifecycle, max_wait_s: float = 300.0) -> StepReport:
    """A scheduled run's lifecycle: step, then wait out the ``group_wait`` of groups opened in this step
    and step once more, so their first notification goes out now rather than at the next run."""
    report = lc.step(None, merge=True)
    now = utcnow()
    waiting = [g.next_flush_at for g in lc.engine.groups.values() if g.flushed_at is None and g.next_flush_at > now]
    if not waiting:
        return report
    time.sleep(min((max(waiting) - now).total_seconds(), max_wait_s))
    later = lc.step(None, merge=True)
    report.notifications += later.notifications
    report.changed += later.changed
    report.merged += later.merged
    report.seconds += later.seconds
    return report


@dataclass
class LifecycleHandle:
    """A lifecycle running in a thread; ``stop()`` ends it after the current step and merges the facts."""

    lifecycle: Lifecycle
    thread: threading.Thread | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    steps: int = 0
    last_error: str | None = None
    reports: list[StepReport] = field(default_factory=list)

    def stop(self, timeout: float = 60.0) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


def _seconds(trigger: str) -> float:
    from lakesentinel.durations import parse_duration

    text = trigger.replace("seconds", "s").replace("second", "s").replace("minutes", "m").replace("minute", "m")
    return parse_duration(text) / 1e6


def start_lifecycle(lc: Lifecycle, trigger: str | None = None, *, poll: float = 0.1,
                    now: Callable[[], datetime] = utcnow) -> LifecycleHandle:
    """Run the lifecycle: a step whenever an input has new commits or a timer is due, and at least once
    per ``trigger`` (e.g. ``"1 second"``, default ``triggers.continuous``). ``"available_now"`` or
    ``"once"`` runs one step (with the fact MERGE) and returns a finished handle."""
    trigger = trigger or lc.cfg.triggers.continuous
    handle = LifecycleHandle(lc)
    if trigger in ("available_now", "once"):
        handle.reports.append(lc.step(now(), merge=True))
        handle.steps = 1
        return handle
    interval = _seconds(trigger)
    poll = poll if lc.tables.cheap_versions else interval

    def merge_loop() -> None:
        """fact_incident MERGEs (seconds each) off the step path, so they never delay a notification."""
        while not handle.stop_event.wait(lc.fact_interval.total_seconds()):
            if lc.pending_fact:
                try:
                    lc.flush_facts(now())
                except Exception as exc:  # the incidents stay pending in the state; the next MERGE retries
                    handle.last_error = redact(f"{type(exc).__name__}: {exc}")
                    log.error("fact_incident MERGE failed: %s", handle.last_error)

    def loop() -> None:
        last = 0.0
        failures = 0
        while not handle.stop_event.is_set():
            try:
                t = now()
                due = lc.next_due()
                if time.monotonic() - last >= interval or (due is not None and due <= t) or lc.has_input():
                    last = time.monotonic()
                    report = lc.step(t, merge=False)
                    handle.reports = (handle.reports + [report])[-100:]
                    handle.steps += 1
                    failures = 0
            except Exception as exc:  # keep running: the next step retries from the saved offsets
                failures += 1
                handle.last_error = redact(f"{type(exc).__name__}: {exc}")
                log.error("lifecycle step failed (%d in a row): %s", failures, handle.last_error)
                handle.stop_event.wait(min(30.0, 0.5 * 2 ** failures))
                try:
                    lc.load()
                except Exception:  # noqa: BLE001 - the next iteration reports it
                    pass
            handle.stop_event.wait(poll)
        merger.join()
        try:
            if lc.pending_fact:
                lc.flush_facts(now())
        except Exception as exc:
            handle.last_error = redact(f"{type(exc).__name__}: {exc}")
            log.error("final fact MERGE failed (kept in the state for the next run): %s", handle.last_error)

    merger = threading.Thread(target=merge_loop, name="lakesentinel-lifecycle-facts", daemon=True)
    merger.start()
    handle.thread = threading.Thread(target=loop, name="lakesentinel-lifecycle", daemon=True)
    handle.thread.start()
    return handle
