"""One run at a time holds the streams' checkpoints (no Spark needed)."""

from lakesentinel.streams.lease import StreamsLease, read_lease
from tests.conftest import settings_for


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_scheduled_run_leaves_the_streams_to_a_live_monitor_and_takes_them_when_it_stops(tmp_path):
    cfg, clock = settings_for(tmp_path), Clock()
    monitor = StreamsLease(cfg, "continuous", ttl_s=60, clock=clock)
    assert monitor.try_acquire(settle_s=0) is None
    scheduled = StreamsLease(cfg, "scheduled", ttl_s=60, clock=clock)
    held = scheduled.try_acquire(settle_s=0)
    assert held is not None and held.mode == "continuous" and held.holder == monitor.holder
    clock.now += 59
    monitor.renew()
    clock.now += 59  # renewed a minute ago: still live
    assert scheduled.try_acquire(settle_s=0) is not None
    clock.now += 2  # the monitor died without releasing: its lease runs out
    assert scheduled.try_acquire(settle_s=0) is None
    assert read_lease(scheduled.path).holder == scheduled.holder
    assert monitor.try_acquire(settle_s=0).mode == "scheduled"  # and the monitor waits for it
    scheduled.release()
    assert read_lease(scheduled.path) is None and monitor.try_acquire(settle_s=0) is None


def test_releasing_leaves_another_runs_lease_alone(tmp_path):
    cfg, clock = settings_for(tmp_path), Clock()
    a, b = StreamsLease(cfg, "scheduled", ttl_s=10, clock=clock), StreamsLease(cfg, "continuous", ttl_s=10, clock=clock)
    assert a.try_acquire(settle_s=0) is None
    clock.now += 11
    assert b.try_acquire(settle_s=0) is None
    a.release()
    assert read_lease(a.path).holder == b.holder
