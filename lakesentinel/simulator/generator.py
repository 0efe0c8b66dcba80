"""Turns the organisation into rows, day by day; every row carries ``_available_at``.

``_available_at`` is when the row would land in the system table (after Databricks' own delay). Batch
mode writes a day's rows once the day is over; live mode releases them in that order as wall time
passes. Both write the same rows.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from lakesentinel.simulator.audit import AuditFactory
from lakesentinel.simulator.billing import UsageFactory
from lakesentinel.simulator.clock import DAY, HOUR, MINUTE
from lakesentinel.simulator.compute import all_purpose_day
from lakesentinel.simulator.effects import Effects
from lakesentinel.simulator.ids import Ids
from lakesentinel.simulator.jobs import JobRunner
from lakesentinel.simulator.organisation import NODE_TYPES, Organisation
from lakesentinel.simulator.pipelines import pipelines_day
from lakesentinel.simulator.profiles import profile as get_profile
from lakesentinel.simulator.scenarios import GroundTruth, inject_all, resolve, standing_conditions
from lakesentinel.simulator.sql import WarehouseDay

Rows = dict[str, list[dict]]

# Tables whose rows change in place (written with MERGE on their natural key, not appended).
IN_PLACE = ("billing.list_prices", "access.workspaces_latest", "compute.node_types")


class Simulator:
    def __init__(self, profile: str, seed: int, start_us: int, days: int, scenarios: list[str] | None = None,
                 per_type: int = 1, warmup_days: int | None = None, correction_share: float = 0.01):
        if days < 1:
            raise ValueError("days must be at least 1")
        self.seed = seed
        self.org = Organisation(get_profile(profile), seed, start_us, days)
        self.effects = Effects()
        rng = np.random.default_rng([seed, 1])
        ids = Ids(rng)
        warmup = warmup_days if warmup_days is not None else min(7, days // 3)
        self.truths: list[GroundTruth]
        self.truths, self._scenario_audit = inject_all(
            self.org, self.effects, AuditFactory(self.org, ids, rng), ids, rng,
            resolve(scenarios) if scenarios != [] else [], per_type, warmup)
        self.correction_share = correction_share
        self.conditions: list[GroundTruth] = standing_conditions(self.org, Ids(np.random.default_rng([seed, 2])))

    @property
    def start(self) -> int:
        return self.org.start

    @property
    def end(self) -> int:
        return self.org.end

    # ---- the state before the period --------------------------------------------------------------
    def initial_rows(self) -> Rows:
        org, start = self.org, self.org.start
        out: Rows = defaultdict(list)
        out["access.workspaces_latest"] = [
            {"account_id": org.account_id, "workspace_id": w.workspace_id, "workspace_name": w.name,
             "workspace_url": w.url, "create_time": w.create_time, "status": "RUNNING"} for w in org.workspaces]
        out["compute.node_types"] = [
            {"account_id": org.account_id, "node_type": n, "core_count": c, "memory_mb": m, "gpu_count": g}
            for n, c, m, g, _ in NODE_TYPES]
        # Prices as published before the period: a price that changes later is still open-ended.
        for row in org.price_rows:
            if row["price_start_time"] < start:
                out["billing.list_prices"].append(dict(row, price_end_time=None))
        for table, versions in self._histories():
            out[table].extend(v for v in versions if v["change_time"] < start)
        for rows in out.values():
            for r in rows:
                r["_available_at"] = start
        return dict(out)

    def _histories(self):
        for c in self.org.clusters:
            yield "compute.clusters", c.versions
        for j in self.org.jobs:
            yield "lakeflow.jobs", j.versions
            yield "lakeflow.job_tasks", j.task_versions
        for w in self.org.warehouses:
            yield "compute.warehouses", w.versions
        for p in self.org.pipelines:
            yield "lakeflow.pipelines", p.versions

    # ---- one day -------------------------------------------------------------------------------------
    def day_rows(self, day: int) -> Rows:
        org = self.org
        day_start = org.start + day * DAY
        day_end = day_start + DAY
        rng = np.random.default_rng([self.seed, 100 + day])
        ids = Ids(rng)
        usage = UsageFactory(org, ids, rng)
        audit = AuditFactory(org, ids, rng)
        out: Rows = defaultdict(list)

        def merge(part: Rows) -> None:
            for table, rows in part.items():
                out[table].extend(rows)

        job_rows, busy = JobRunner(org, ids, rng, usage, self.effects).day(day_start)
        merge(job_rows)
        merge(all_purpose_day(org, day_start, self.effects, busy, usage, audit, rng))
        merge(WarehouseDay(org, ids, rng, usage, self.effects).day(day_start))
        merge(pipelines_day(org, day_start, ids, rng, usage))
        out["access.audit"].extend(audit.background(day_start))
        out["access.audit"].extend(r for r in self._scenario_audit if day_start <= r["event_time"] < day_end)
        self._changes(day_start, day_end, rng, audit, out)
        out["billing.usage"].extend(usage.corrections(out["billing.usage"], self.correction_share))
        return dict(out)

    def _changes(self, day_start: int, day_end: int, rng, audit: AuditFactory, out: Rows) -> None:
        """Definition changes made during the day, with the audit events that made them."""
        org = self.org
        for table, versions in self._histories():
            for v in versions:
                if day_start <= v["change_time"] < day_end:
                    out[table].append(dict(v, _available_at=v["change_time"] + int(rng.integers(5, 30)) * MINUTE))
        for job in org.jobs:
            for v in job.versions:
                if day_start <= v["change_time"] < day_end:
                    action = "create" if v["change_time"] == v["create_time"] else (
                        "delete" if v["delete_time"] is not None else "reset")
                    out["access.audit"].append(audit.row(
                        t=v["change_time"], principal=job.creator, service="jobs", action=action,
                        params={"job_id": job.job_id, "name": v["name"]}, workspace_id=job.workspace_id))
        for row in org.price_rows:
            closes = row["price_end_time"] is not None and day_start <= row["price_end_time"] < day_end
            opens = day_start <= row["price_start_time"] < day_end
            if closes or opens:
                # Published an hour before it takes effect; the old row is closed in place.
                change = row["price_end_time"] if closes else row["price_start_time"]
                out["billing.list_prices"].append(dict(row, _available_at=change - HOUR))


class Timeline:
    """Rows waiting to land, released in ``_available_at`` order."""

    def __init__(self) -> None:
        import heapq

        self._heap: list[tuple[int, int, str, dict]] = []
        self._seq = 0
        self._push = heapq.heappush
        self._pop = heapq.heappop

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, rows: Rows) -> None:
        for table, items in rows.items():
            for r in items:
                self._push(self._heap, (r["_available_at"], self._seq, table, r))
                self._seq += 1

    def next_time(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def release(self, until: int, limit: int | None = None) -> Rows:
        """Pop rows available at or before ``until`` (at most ``limit`` of them), grouped by table."""
        out: Rows = defaultdict(list)
        n = 0
        while self._heap and self._heap[0][0] <= until and (limit is None or n < limit):
            _, _, table, row = self._pop(self._heap)
            out[table].append(row)
            n += 1
        return dict(out)
