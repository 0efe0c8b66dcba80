"""One run at a time owns the streams' checkpoints: the continuous monitor or a scheduled drain.

A lease file under ``state_root`` names its holder and is renewed while the run lasts. A scheduled run
that finds the continuous monitor's live lease leaves the streams to it (they are current) instead of
running the same checkpoints beside it; the continuous monitor waits for a scheduled run to end. A
scheduled run after the monitor stopped takes the lease and catches up from the same checkpoints, so
no row is copied twice and none is skipped.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Literal

from lakesentinel.logs import get_logger
from lakesentinel.settings import Settings

log = get_logger(__name__)

LEASE_FILE = "streams.lease"
Mode = Literal["continuous", "scheduled"]


@dataclass(frozen=True)
class Lease:
    holder: str  # a fresh id per run
    mode: Mode
    host: str
    renewed_at: float  # epoch seconds
    ttl_s: float

    def live(self, now: float) -> bool:
        return now - self.renewed_at < self.ttl_s

    def describe(self) -> str:
        return f"the {self.mode} run on {self.host} (lease renewed {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(self.renewed_at))} UTC)"


def lease_path(cfg: Settings) -> Path:
    return Path(cfg.state_root) / LEASE_FILE


def read_lease(path: Path) -> Lease | None:
    try:
        return Lease(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _write(path: Path, lease: Lease) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{lease.holder}")
    tmp.write_text(json.dumps(asdict(lease)))
    os.replace(tmp, path)


class StreamsLease:
    """``try_acquire`` then ``renew`` (a background thread while held) and ``release``."""

    def __init__(self, cfg: Settings, mode: Mode, ttl_s: float = 180.0,
                 clock: Callable[[], float] = time.time):
        self.path, self.mode, self.ttl_s, self.clock = lease_path(cfg), mode, ttl_s, clock
        self.holder = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _mine(self) -> Lease:
        return Lease(self.holder, self.mode, socket.gethostname(), self.clock(), self.ttl_s)

    def try_acquire(self, settle_s: float = 0.2) -> Lease | None:
        """Take the lease unless another run holds it; returns that run's lease when it does."""
        current = read_lease(self.path)
        if current is not None and current.holder != self.holder and current.live(self.clock()):
            return current
        _write(self.path, self._mine())
        time.sleep(settle_s)  # two runs starting together: the last writer wins, the other sees it
        current = read_lease(self.path)
        if current is not None and current.holder != self.holder:
            return current
        return None

    def renew(self) -> None:
        current = read_lease(self.path)
        if current is not None and current.holder != self.holder and current.live(self.clock()):
            log.error("streams lease taken by another run", extra={"holder": current.describe()})
            return
        _write(self.path, self._mine())

    def keep(self, every_s: float | None = None) -> None:
        """Renew in a background thread until :meth:`release`."""
        every = every_s or self.ttl_s / 3

        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.renew()
                except OSError as exc:  # a volume hiccup: try again at the next renewal
                    log.warning("streams lease not renewed", extra={"reason": str(exc)})

        self._thread = threading.Thread(target=loop, name="streams-lease", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        current = read_lease(self.path)
        if current is not None and current.holder == self.holder:
            try:
                self.path.unlink()
            except OSError:
                pass
