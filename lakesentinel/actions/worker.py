"""The delivery worker: from ``plt_ops.action_outbox`` to the receivers, each notification once.

One lane (a thread with a queue) per integration keeps a thread's notifications in order (a Slack
message is posted before it is updated) while a slow receiver holds up only its own lane. For each
notification a lane:

1. checks the receiver first when an earlier attempt has no recorded outcome (the worker died between
   sending and recording): ``find_delivered`` looks for the idempotency key at the receiver;
2. records an ``attempt`` in ``plt_ops.action_deliveries`` *before* calling the receiver;
3. records ``delivered`` (with the references it created), or ``failed`` and tries again with
   exponential backoff (tenacity; a ``Retry-After`` from the receiver wins), up to
   ``delivery.max_attempts``; then, or at once for a permanent failure, ``dead_lettered`` plus a row
   in ``plt_ops.action_dead_letter`` with the last error.

The outbox and the log are read with delta-rs on a local lakehouse (no JVM: the worker starts in a
second) and through Spark on Databricks. The composition root (``lakesentinel.context``) builds it;
``run()`` goes on until the stop event is set. Killed at any point and restarted, it delivers what is
pending without duplicates.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping

from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt, wait_exponential_jitter
from tenacity.stop import stop_base

from lakesentinel.actions.registry import Wiring, build_available
from lakesentinel.clock import utcnow
from lakesentinel.logs import get_logger, redact
from lakesentinel.notify.config import ReceiversFile
from lakesentinel.notify.deliveries import (
    DEAD_LETTER, DEAD_LETTER_SCHEMA, DELIVERIES, DELIVERY_SCHEMA, TERMINAL)
from lakesentinel.notify.notification import Notification
from lakesentinel.notify.outbox import OUTBOX, notification_of
from lakesentinel.notify.receiver import Outcome, Receiver
from lakesentinel.opstables import Tables

log = get_logger(__name__)


@dataclass(frozen=True)
class Claim:
    """Who holds a notification, until when (a lease), by which claim row."""

    worker: str
    claim_id: str
    until: datetime


@dataclass
class KeyState:
    """What the log says about one notification."""

    attempts: int = 0
    last_event: str | None = None
    error: str | None = None
    holder: Claim | None = None

    @property
    def done(self) -> bool:
        return self.last_event in TERMINAL

    @property
    def uncertain(self) -> bool:
        """An attempt without an outcome: it may or may not have reached the receiver."""
        return self.last_event == "attempt"


@dataclass
class WorkerStats:
    delivered: int = 0
    dead_lettered: int = 0
    failed_attempts: int = 0
    recovered: int = 0  # found already delivered at the receiver after a crash or an uncertain attempt
    held: int = 0  # for integrations this worker cannot build (a secret not set): left pending
    deferred: int = 0  # times a notification was left to the worker holding its claim


def process_gone(worker: str) -> bool:
    """Whether ``worker`` (``host:pid``) was a process on this host that no longer runs."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: only its lease's expiry says it is gone
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class ClaimLost(Exception):
    """Another worker holds the notification now (our lease lapsed): leave it to that one."""


class DeliveryLog:
    """The notification log in memory, rebuilt from ``action_deliveries`` and kept in step with it in
    commit order (claims are settled by that order, the same in every process)."""

    def __init__(self, tables: Tables, worker_id: str, now: Callable[[], datetime]):
        self.tables = tables
        self.name = tables.name("ops", DELIVERIES)
        self.dead_letter = tables.name("ops", DEAD_LETTER)
        self.worker_id = worker_id
        self.now = now
        self.keys: dict[str, KeyState] = {}
        self.threads: dict[tuple[str, str, str], dict[str, str]] = {}
        self.version = -1
        self.requeued: set[str] = set()  # keys given another round since the worker last looked
        self._lock = threading.RLock()

    def apply(self, row: Mapping) -> None:
        state = self.keys.setdefault(row["idempotency_key"], KeyState())
        event = row["event"]
        if event == "claimed":
            self._settle_claim(state, row)
            return
        if event == "released":
            if state.holder is not None and state.holder.worker == row["worker"]:
                state.holder = None
            return
        if event == "requeued":
            if state.last_event == "delivered":
                return  # a requeue that raced with a delivery: nothing left to do
            state.attempts = 0
            state.holder = None
            self.requeued.add(row["idempotency_key"])
        elif event == "attempt":
            state.attempts += 1
        if event == "failed" or event == "dead_lettered":
            state.error = row.get("error")
        if event in TERMINAL:
            state.holder = None
        state.last_event = event
        if event == "delivered" and row.get("refs"):
            key = (row["integration"], row["group_key"], row["episode"])
            self.threads[key] = {**self.threads.get(key, {}), **row["refs"]}

    @staticmethod
    def _settle_claim(state: KeyState, row: Mapping) -> None:
        """A claim holds when nobody holds the notification, the holder is the claimer (a renewal), the
        holder's lease had expired when the claim was made, or the claimer saw the holder's process gone."""
        if state.done:
            return
        refs = row.get("refs") or {}
        held = state.holder
        if (held is None or held.worker == row["worker"] or held.until <= row["at"]
                or refs.get("voids") == held.claim_id):
            state.holder = Claim(row["worker"], refs.get("claim", ""), datetime.fromisoformat(refs["lease_until"]))

    def load(self) -> None:
        with self._lock:
            version = self.tables.version(self.name)
            if version is None:
                return
            rows = self.tables.read(self.name, version=version)
            for row in sorted(rows, key=lambda r: (r["at"], _ORDER.get(r["event"], 9))):
                self.apply(row)
            self.version = version

    def catch_up(self) -> list[dict]:
        """Apply every row committed since the last look, in commit order; the rows applied."""
        with self._lock:
            latest = self.tables.version(self.name)
            if latest is None or latest <= self.version:
                return []
            rows = self.tables.changes(self.name, self.version, latest)
            rows.sort(key=lambda r: (r["_commit_version"], _ORDER.get(r["event"], 9)))
            for row in rows:
                self.apply(row)
            self.version = latest
            return rows

    def claimable(self, key: str) -> bool:
        """Whether this worker may try to claim ``key`` now (not done, and not held by a live other)."""
        state = self.keys.get(key, KeyState())
        held = state.holder
        return not state.done and (held is None or held.worker == self.worker_id or held.until <= self.now()
                                   or process_gone(held.worker))

    def claim(self, n: Notification, seconds: float) -> bool:
        """Claim (or renew the claim on) ``n`` for ``seconds``; whether this worker holds it now."""
        with self._lock:
            self.catch_up()
            state = self.keys.setdefault(n.idempotency_key, KeyState())
            if not self.claimable(n.idempotency_key):
                return False
            now = self.now()
            claim_id = uuid.uuid4().hex
            refs = {"claim": claim_id, "lease_until": (now + timedelta(seconds=seconds)).isoformat()}
            held = state.holder
            if held is not None and held.worker != self.worker_id and held.until > now:
                refs["voids"] = held.claim_id  # its process is gone (claimable said so)
            self.record(n, "claimed", refs=refs, incident_ids=[])
            return state.holder is not None and state.holder.claim_id == claim_id

    def release(self, n: Notification) -> None:
        with self._lock:
            state = self.keys.get(n.idempotency_key)
            if state is not None and state.holder is not None and state.holder.worker == self.worker_id:
                self.record(n, "released", incident_ids=[])

    def refs(self, n: Notification) -> dict[str, str]:
        return dict(self.threads.get((n.integration, n.group_key, n.episode), {}))

    def record(self, n: Notification, event: str, *, attempt: int = 0, error: str | None = None,
               refs: Mapping[str, str] | None = None, incident_ids: list[str] | None = None) -> None:
        row = {"idempotency_key": n.idempotency_key, "integration": n.integration, "group_key": n.group_key,
               "episode": n.episode, "event": event, "attempt": attempt, "at": self.now(),
               "error": redact(error) if error else None, "refs": dict(refs or {}),
               "incident_ids": n.incident_ids if incident_ids is None else incident_ids, "worker": self.worker_id}
        with self._lock:
            self.tables.append(self.name, [row], DELIVERY_SCHEMA)
            self.catch_up()  # our row and whatever others committed before it, in commit order

    def dead_letter_row(self, n: Notification, payload: str, attempts: int, error: str | None) -> None:
        at = self.now()
        self.tables.append(self.dead_letter, [{
            "idempotency_key": n.idempotency_key, "integration": n.integration, "receiver": n.receiver,
            "group_key": n.group_key, "attempts": attempts, "last_error": redact(error or ""), "payload": payload,
            "dead_lettered_at": at, "date_key": int(at.strftime("%Y%m%d"))}], DEAD_LETTER_SCHEMA)


_ORDER = {"requeued": 0, "claimed": 1, "attempt": 2, "failed": 3, "delivered": 4, "dead_lettered": 5, "released": 6}


class _StopWhen(stop_base):
    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.event.is_set()


class _RetryAfterOr:
    """Wait what the receiver asked for (429 Retry-After, up to ``cap``), else the exponential backoff."""

    def __init__(self, fallback, cap: float):
        self.fallback = fallback
        self.cap = cap

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        if outcome is not None and not outcome.failed:
            result = outcome.result()
            if isinstance(result, Outcome) and result.retry_after is not None:
                return min(result.retry_after, self.cap)
        return self.fallback(retry_state)


class Worker:
    def __init__(self, stop_event: threading.Event, *, routes: ReceiversFile, tables: Tables,
                 wiring: Wiring | None = None, receivers: Mapping[str, Receiver] | None = None,
                 now: Callable[[], datetime] = utcnow, sleep: Callable[[float], None] | None = None,
                 worker_id: str | None = None):
        self.stop_event = stop_event
        self.routes = routes
        self.settings = self.routes.delivery
        self.tables = tables
        if receivers is not None:
            self.receivers, self.unavailable = dict(receivers), {}
        else:
            # An integration that cannot be built (its secret is not set here) holds its notifications
            # instead of stopping the others: they stay pending, delivered once a restart can build it.
            wiring = wiring or Wiring(timeout=self.settings.timeout.total_seconds())
            self.receivers, self.unavailable = build_available(self.routes, wiring)
        self.now = now
        self.sleep = sleep or (lambda seconds: self.stop_event.wait(seconds))
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.log = DeliveryLog(self.tables, self.worker_id, now)
        self.outbox = self.tables.name("ops", OUTBOX)
        self.outbox_version = -1
        self.queued: set[str] = set()
        self.known: dict[tuple[str, str, str], dict[int, str]] = {}  # thread -> seq -> key, of rows seen
        self.waiting: dict[str, dict] = {}  # held by another worker, or behind an earlier one of its thread
        self._waiting_lock = threading.Lock()
        self.lanes: dict[str, queue.Queue] = {}
        self.threads: list[threading.Thread] = []
        self.stats = WorkerStats()

    @property
    def lease(self) -> float:
        return self.settings.lease.total_seconds()

    # ---- feeding the lanes -------------------------------------------------------------------
    def start(self) -> None:
        for integration, why in self.unavailable.items():
            log.error("integration %s is not available, its notifications are held until it is: %s",
                      integration, why)
        self.log.load()
        self.log.requeued.clear()  # the load saw them: pending rows are enqueued below anyway
        latest = self.tables.version(self.outbox)
        rows = self.tables.read(self.outbox, version=latest) if latest is not None else []
        self.outbox_version = -1 if latest is None else latest
        self._enqueue(rows)
        pending = sum(q.qsize() for q in self.lanes.values())
        log.info("delivery worker %s started: %d notification(s) pending", self.worker_id, pending)

    def poll(self) -> None:
        """Take new outbox rows, dead letters someone requeued, and notifications another worker let go."""
        latest = self.tables.version(self.outbox)
        if latest is not None and latest > self.outbox_version:
            self._enqueue(self.tables.changes(self.outbox, self.outbox_version, latest))
            self.outbox_version = latest
        self.log.catch_up()
        with self.log._lock:
            keys, self.log.requeued = self.log.requeued, set()
        with self._waiting_lock:
            keys -= set(self.waiting)
        if keys:
            self.queued -= keys
            self._enqueue([r for r in self.tables.read(self.outbox) if r["idempotency_key"] in keys])
        self._release_waiting()

    def _release_waiting(self) -> None:
        with self._waiting_lock:
            rows = sorted(self.waiting.values(), key=lambda r: (r["created_at"], r["seq"]))
            for row in rows:
                key = row["idempotency_key"]
                if self.log.keys.get(key, KeyState()).done:
                    del self.waiting[key]  # the worker that held it delivered (or dead-lettered) it
                elif self.log.claimable(key) and not self._behind(row):
                    del self.waiting[key]
                    self._lane(row["integration"]).put(row)

    def _enqueue(self, rows: list[dict]) -> None:
        for row in sorted(rows, key=lambda r: (r["created_at"], r["seq"])):
            key = row["idempotency_key"]
            thread = (row["integration"], row["group_key"], row["episode"])
            self.known.setdefault(thread, {})[row["seq"]] = key
            if key in self.queued or self.log.keys.get(key, KeyState()).done:
                continue  # the same key appended twice (a replayed lifecycle step), or delivered already
            self.queued.add(key)
            self._lane(row["integration"]).put(row)

    def _behind(self, row: dict) -> bool:
        """Whether an earlier notification of the same thread is not delivered yet (by anyone): a Slack
        update must not overtake the post it edits, even when another worker holds the post."""
        earlier = self.known.get((row["integration"], row["group_key"], row["episode"]), {})
        return any(seq < row["seq"] and not self.log.keys.get(key, KeyState()).done for seq, key in earlier.items())

    def _wait(self, row: dict) -> None:
        self.stats.deferred += 1
        with self._waiting_lock:
            self.waiting[row["idempotency_key"]] = row

    def _lane(self, integration: str) -> queue.Queue:
        lane = self.lanes.get(integration)
        if lane is None:
            lane = self.lanes[integration] = queue.Queue()
            t = threading.Thread(target=self._run_lane, args=(integration, lane), daemon=True,
                                 name=f"lakesentinel-deliver-{integration}")
            t.start()
            self.threads.append(t)
        return lane

    def idle(self) -> bool:
        """Nothing queued, in flight or waiting for another worker (a lane marks a row done only after
        handling it)."""
        with self._waiting_lock:
            if self.waiting:
                return False
        return all(q.unfinished_tasks == 0 for q in self.lanes.values())

    # ---- one lane ------------------------------------------------------------------------------
    def _run_lane(self, integration: str, lane: queue.Queue) -> None:
        while not self.stop_event.is_set():
            try:
                row = lane.get(timeout=0.05)
            except queue.Empty:
                continue
            try:
                self.deliver(row)
            except Exception as exc:  # a bug or an unreadable row must not stop the lane
                log.error("delivery of %s failed unexpectedly: %s", row.get("idempotency_key"),
                          redact(f"{type(exc).__name__}: {exc}"))
            finally:
                lane.task_done()

    def deliver(self, row: dict) -> Outcome | None:
        n = notification_of(row)
        if n.integration in self.unavailable:
            self.stats.held += 1
            return None  # not attempted, not dead-lettered: still pending for the next worker that can
        if self.log.keys.get(n.idempotency_key, KeyState()).done:
            return None
        if self._behind(row) or not self.log.claim(n, self.lease):
            self._wait(row)  # poll() hands it back once it is free, or drops it once it is delivered
            return None
        try:
            return self._deliver_claimed(n, row)
        except ClaimLost:
            log.warning("notification %s to %s: another worker took it over", n.idempotency_key, n.integration)
            self._wait(row)
            return None

    def _deliver_claimed(self, n: Notification, row: dict) -> Outcome:
        receiver = self.receivers.get(n.integration)
        state = self.log.keys[n.idempotency_key]
        if receiver is None:
            return self._dead_letter(n, row, state.attempts, f"no integration {n.integration!r} in the routes file")
        if state.attempts >= self.settings.max_attempts:
            # The last attempt ended without an answer (a crash, a timeout): ask before giving up.
            found = self._look_up(n, receiver)
            if found is not None:
                return found
            return self._dead_letter(n, row, state.attempts, state.error)

        def attempt() -> Outcome:
            # Any earlier attempt (a crash, a timeout, a 5xx after the fact) may have reached the
            # receiver: look for this key there before sending again.
            if self.log.keys[n.idempotency_key].attempts > 0:
                found = self._call(lambda: receiver.find_delivered(n, self.log.refs(n)))
                if found is not None and found.status == "delivered":
                    self.log.record(n, "delivered", attempt=self.log.keys[n.idempotency_key].attempts, refs=found.refs)
                    self.stats.recovered += 1
                    return found
                if found is not None and found.status != "delivered":
                    self.stats.failed_attempts += 1
                    self.log.record(n, "failed", attempt=self.log.keys[n.idempotency_key].attempts,
                                    error=f"checking for an earlier delivery: {found.error}")
                    return found
            number = self.log.keys[n.idempotency_key].attempts + 1
            self.log.record(n, "attempt", attempt=number)  # durable before anything is sent
            outcome = self._call(lambda: receiver.notify(n, self.log.refs(n)))
            if outcome.status == "delivered":
                self.log.record(n, "delivered", attempt=number, refs=outcome.refs)
            elif outcome.status == "retryable":
                self.stats.failed_attempts += 1
                self.log.record(n, "failed", attempt=number, error=outcome.error)
                log.warning("delivery to %s failed (attempt %d of %d): %s", n.integration, number,
                            self.settings.max_attempts, outcome.error)
            return outcome

        def wait(seconds: float) -> None:
            # Hold the claim across the wait, so no other worker jumps the backoff or the Retry-After.
            if not self.log.claim(n, seconds + self.lease):
                raise ClaimLost()
            self.sleep(seconds)

        left = self.settings.max_attempts - state.attempts
        retrying = Retrying(
            stop=stop_after_attempt(left) | _StopWhen(self.stop_event),
            wait=_RetryAfterOr(wait_exponential_jitter(initial=self.settings.backoff_initial.total_seconds(),
                                                       max=self.settings.backoff_max.total_seconds()),
                               cap=self.settings.retry_after_max.total_seconds()),
            retry=retry_if_result(lambda o: o.status == "retryable" and not self.stop_event.is_set()),
            sleep=wait,
            retry_error_callback=lambda rs: rs.outcome.result(),
        )
        outcome = retrying(attempt)
        if outcome.status == "retryable" and not self.stop_event.is_set():
            # Attempts are used up, the last without a clear answer: ask the receiver before giving up.
            found = self._look_up(n, receiver)
            if found is not None:
                return found
        if outcome.status == "delivered":
            self._delivered(n, row)
        elif outcome.status == "permanent" or not self.stop_event.is_set():
            self._dead_letter(n, row, self.log.keys[n.idempotency_key].attempts, outcome.error)
        else:
            self.log.release(n)  # stopping: let another worker take it at once
        return outcome

    def _look_up(self, n: Notification, receiver: Receiver) -> Outcome | None:
        """The delivered outcome when the receiver has ``n`` already (recorded), else None."""
        found = self._call(lambda: receiver.find_delivered(n, self.log.refs(n)))
        if found is None or found.status != "delivered":
            return None
        self.log.record(n, "delivered", attempt=self.log.keys[n.idempotency_key].attempts, refs=found.refs)
        self.stats.recovered += 1
        self._delivered(n, {})
        return found

    def _call(self, fn: Callable[[], Outcome | None]) -> Outcome | None:
        try:
            return fn()
        except Exception as exc:  # receivers report outcomes; anything thrown is a transport problem
            return Outcome.retryable(f"{type(exc).__name__}: {exc}")

    def _delivered(self, n: Notification, row: dict) -> None:
        self.stats.delivered += 1
        log.info("delivered %s notification to %s (%s, %d incident(s))", n.reason, n.integration,
                 n.idempotency_key, len(n.incidents))

    def _dead_letter(self, n: Notification, row: dict, attempts: int, error: str | None) -> Outcome:
        self.log.record(n, "dead_lettered", attempt=attempts, error=error)
        self.log.dead_letter_row(n, row["payload"], attempts, error)
        self.stats.dead_lettered += 1
        log.error("notification %s to %s dead-lettered after %d attempt(s): %s", n.idempotency_key,
                  n.integration, attempts, redact(error or ""))
        return Outcome.permanent(error or "dead-lettered")

    # ---- running ---------------------------------------------------------------------------------
    def run(self, *, until_idle: bool = False, timeout: float | None = None) -> WorkerStats:
        began = time.monotonic()
        self.start()
        poll = self.settings.poll_interval.total_seconds()
        try:
            while not self.stop_event.is_set():
                self.poll()
                if until_idle and self.idle():
                    break
                if timeout is not None and time.monotonic() - began > timeout:
                    break
                self.stop_event.wait(poll)
        finally:
            if until_idle or timeout is not None:
                self.stop_event.set()
            for t in self.threads:
                t.join(timeout=max(5.0, self.settings.timeout.total_seconds() + 1))
        return self.stats
