"""A scheduled monitor run in its own process that SIGKILLs itself at one commit boundary (test-only).

``python -m tests.crash.kill_driver HOME POINT``: POINT is one of :data:`POINTS` (or ``none`` for a
run to its end). The fault is injected here, by wrapping the step that commits, so the product carries
no kill switch. ``HOME/killed_at`` names the point just before the process kills itself.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from pathlib import Path

# point -> (what it wraps, whether the kill comes before or after it runs, which calls count)
POINTS = {
    # the rules' alerts of a batch are written, its bronze rows are not
    "bronze.rules": ("lakesentinel.monitor:Monitor._score", "after", None),
    # a batch's bronze rows are written, the stream's checkpoint does not have the batch yet
    "bronze.append": ("lakesentinel.streams.bronze:BronzeSink.__call__", "after", None),
    # a silver task's table is written, its offset is not
    "silver.offset": ("lakesentinel.streams.offsets:Offsets.put", "before", "silver"),
    # a gold task's table is written, its offset MERGE is not
    "gold.offset": ("lakesentinel.gold.snapshot:Snapshot.commit", "before", None),
    # the lifecycle's notifications and outcomes are appended, its state (the step's commit point) is not
    "lifecycle.state": ("lakesentinel.alerts.lifecycle:Lifecycle.save", "before", None),
}
OPTIONS = dict(silver=True, gold=True, detectors=False, lifecycle=True, worker=False)


def inject(home: Path, point: str) -> None:
    target, when, task_prefix = POINTS[point]
    module_name, attr = target.split(":")
    owner_name, method = attr.split(".")
    module = __import__(module_name, fromlist=[owner_name])
    owner = getattr(module, owner_name)
    original = getattr(owner, method)

    def die() -> None:
        (home / "killed_at").write_text(point)
        os.kill(os.getpid(), signal.SIGKILL)

    @functools.wraps(original)
    def wrapped(self, *args, **kwargs):
        counts = task_prefix is None or str(args[0] if args else kwargs.get("task", "")).startswith(task_prefix)
        if counts and when == "before":
            die()
        out = original(self, *args, **kwargs)
        if counts and when == "after":
            die()
        return out

    setattr(owner, method, wrapped)


def main() -> None:
    home, point = Path(sys.argv[1]), sys.argv[2]
    os.environ["LAKESENTINEL_HOME"] = str(home)
    from lakesentinel.context import Context
    from lakesentinel.monitor import MonitorOptions
    from lakesentinel.settings import load_settings

    if point != "none":
        inject(home, point)
    cfg = load_settings("local")
    Context(cfg).monitor(MonitorOptions(**OPTIONS)).run_once()
    (home / "done").write_text(point)


if __name__ == "__main__":
    main()
