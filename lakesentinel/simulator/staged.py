"""A simulated horizon written in stages: the source tables as of one moment, then what lands after it.

Incremental builds are tested and measured this way: build a lakehouse from the rows landed by day N,
then land day N+1 (or the next 1% of rows) and build again. Rows land in ``_available_at`` order, so
late usage and corrections for earlier days arrive with the later stage, as they would.
"""

from __future__ import annotations

from lakesentinel.settings import Settings
from lakesentinel.simulator.clock import DAY
from lakesentinel.simulator.generator import IN_PLACE, Rows, Simulator, Timeline
from lakesentinel.simulator.run import write_ground_truth
from lakesentinel.sources.writer import SourceWriter


class StagedRun:
    def __init__(self, cfg: Settings, sim: Simulator):
        self.sim = sim
        self.writer = SourceWriter(cfg)
        self.writer.create_all()
        self.timeline = Timeline()
        self.timeline.add(sim.initial_rows())
        self.generated = 0  # days whose rows are in the timeline
        self.landed_until = sim.start
        self.rows_landed = self._write(self.timeline.release(sim.start))
        write_ground_truth(self.writer, cfg, sim)

    def _write(self, batch: Rows) -> int:
        for table, rows in sorted(batch.items()):
            if rows:
                self.writer.write_rows(table, rows, in_place=table in IN_PLACE, metadata={"simulator": "staged"})
        return sum(len(rows) for rows in batch.values())

    def _generate_through(self, t_us: int) -> None:
        # A day's rows never land before the day starts, so every row landing by t is generated.
        while self.generated < self.sim.org.days and self.sim.start + self.generated * DAY <= t_us:
            self.timeline.add(self.sim.day_rows(self.generated))
            self.generated += 1

    def land_until(self, t_us: int) -> int:
        """Write every row that lands by ``t_us``; return how many."""
        self._generate_through(t_us)
        n = self._write(self.timeline.release(t_us))
        self.landed_until = max(self.landed_until, t_us)
        self.rows_landed += n
        return n

    def land_days(self, days: int) -> int:
        """Write what lands during the next ``days`` days after the last stage."""
        return self.land_until(self.landed_until + days * DAY)

    def land_rows(self, n: int) -> int:
        """Write the next ``n`` rows to land (fewer at the end of the horizon); return how many."""
        batch: Rows = {}
        left = n
        while left > 0:
            self._generate_through(self.landed_until + DAY)
            horizon = self.sim.start + self.generated * DAY
            part = self.timeline.release(horizon, limit=left)
            got = sum(len(rows) for rows in part.values())
            for table, rows in part.items():
                batch.setdefault(table, []).extend(rows)
            if got:
                self.landed_until = max(r["_available_at"] for rows in part.values() for r in rows)
            left -= got
            if got == 0 and self.generated >= self.sim.org.days:
                break
            if got == 0:
                self.landed_until = horizon
        written = self._write(batch)
        self.rows_landed += written
        return written
