"""Silences: matchers that mute incidents for a while, with an author and a reason.

``plt_ops.silences`` is an append-only audit trail of events: ``created`` (from the CLI or declared in
routes.yaml) and ``expired`` (someone ended it early, or it was removed from routes.yaml). A silence is
active from ``starts_at`` until ``ends_at`` or its expiry, whichever comes first.

>>> from datetime import datetime as dt
>>> s = Silence.create(["rule_id=cost.idle"], dt(2026, 3, 2), dt(2026, 3, 3), "ana", "load test", now=dt(2026, 3, 1))
>>> s.active(dt(2026, 3, 2, 12)), s.active(dt(2026, 3, 3, 1)), s.matches({"rule_id": "cost.idle"})
(True, False, True)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable, Literal, Mapping

from lakesentinel.clock import naive_utc
from lakesentinel.alerts.matchers import Matchers
from lakesentinel.errors import LakeSentinelError
from lakesentinel.sources.types import parse_columns

SILENCES = "silences"
DECLARED_START = datetime(1970, 1, 1)  # a silence declared without starts_at is in force from the start


class SilenceError(LakeSentinelError):
    """A silence that cannot be created or expired; the message says why."""

SILENCE_EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("silence_id", "string"),
    ("event", "string"),  # created | expired
    ("matchers", "array<string>"),
    ("starts_at", "timestamp"),
    ("ends_at", "timestamp"),
    ("created_by", "string"),  # for 'expired': who ended it
    ("comment", "string"),
    ("source", "string"),  # cli | routes.yaml
    ("recorded_at", "timestamp"),
)
SILENCE_EVENT_SCHEMA = parse_columns(list(SILENCE_EVENT_COLUMNS))

Source = Literal["cli", "routes.yaml"]


@dataclass(frozen=True)
class Silence:
    silence_id: str
    matchers: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    source: str = "cli"
    created_at: datetime | None = None
    expired_at: datetime | None = None
    expired_by: str | None = None

    @classmethod
    def create(cls, matchers: Iterable[str], starts_at: datetime | None, ends_at: datetime, created_by: str,
               comment: str, *, now: datetime, source: Source = "cli") -> "Silence":
        """A new silence; its id is derived from its content, so declaring it twice records it once."""
        parsed = Matchers.parse(list(matchers))  # raises MatcherError on a bad matcher
        starts, ends_at = naive_utc(starts_at) or now, naive_utc(ends_at)
        if ends_at <= starts:
            raise ValueError(f"a silence must end after it starts ({ends_at:%Y-%m-%d %H:%M} <= {starts:%Y-%m-%d %H:%M})")
        texts = tuple(parsed.texts())
        digest = json.dumps([texts, starts.isoformat(), ends_at.isoformat(), created_by, comment])
        sid = hashlib.sha256(digest.encode()).hexdigest()[:16]
        return cls(sid, texts, starts, ends_at, created_by, comment, source, now)

    @property
    def parsed(self) -> Matchers:
        return Matchers.parse(list(self.matchers))

    def active(self, now: datetime) -> bool:
        end = min(self.ends_at, self.expired_at) if self.expired_at else self.ends_at
        return self.starts_at <= now < end

    def state(self, now: datetime) -> str:
        if self.expired_at and self.expired_at <= now:
            return "expired"
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"

    def matches(self, labels: Mapping[str, str | None]) -> bool:
        return self.parsed.matches(labels)

    def created_event(self) -> dict:
        return {"silence_id": self.silence_id, "event": "created", "matchers": list(self.matchers),
                "starts_at": self.starts_at, "ends_at": self.ends_at, "created_by": self.created_by,
                "comment": self.comment, "source": self.source, "recorded_at": self.created_at}

    def expired_event(self, by: str, now: datetime, comment: str = "") -> dict:
        return {"silence_id": self.silence_id, "event": "expired", "matchers": list(self.matchers),
                "starts_at": self.starts_at, "ends_at": self.ends_at, "created_by": by,
                "comment": comment, "source": self.source, "recorded_at": now}


def fold_events(events: Iterable[Mapping]) -> dict[str, Silence]:
    """Silences as they stand after their events (in ``recorded_at`` order)."""
    out: dict[str, Silence] = {}
    for e in sorted(events, key=lambda e: (e["recorded_at"], e["event"] != "created")):
        sid = e["silence_id"]
        if e["event"] == "created" and sid not in out:
            out[sid] = Silence(sid, tuple(e["matchers"]), e["starts_at"], e["ends_at"], e["created_by"],
                               e["comment"] or "", e["source"] or "cli", e["recorded_at"])
        elif e["event"] == "expired" and sid in out and out[sid].expired_at is None:
            out[sid] = replace(out[sid], expired_at=e["recorded_at"], expired_by=e["created_by"])
    return out


class Silencer:
    """Mutes an incident while an active silence matches its labels."""

    def __init__(self, silences: Iterable[Silence]):
        self.silences = list(silences)

    def mutes(self, labels: Mapping[str, str | None], now: datetime) -> str | None:
        for s in self.silences:
            if s.active(now) and s.matches(labels):
                return f"silence:{s.silence_id}"
        return None


# ---- the audit table ----------------------------------------------------------------------------

def _table(tables) -> str:
    return tables.name("ops", SILENCES)


def current(tables) -> dict[str, Silence]:
    """Every silence ever recorded, as it stands now, by id."""
    return fold_events(tables.read(_table(tables)))


def add(tables, silence: Silence) -> Silence:
    """Record a new silence (recording the same content twice keeps one)."""
    if silence.silence_id not in current(tables):
        tables.append(_table(tables), [silence.created_event()], SILENCE_EVENT_SCHEMA)
    return silence


def expire(tables, silence_id: str, by: str, now: datetime, comment: str = "") -> Silence:
    """End a silence now; ``silence_id`` may be a unique prefix."""
    found = [s for sid, s in current(tables).items() if sid.startswith(silence_id)]
    if not found:
        raise SilenceError(f"no silence with id {silence_id!r}")
    if len(found) > 1:
        raise SilenceError(f"{silence_id!r} matches {len(found)} silences; give more of the id")
    silence = found[0]
    if silence.state(now) == "expired":
        raise SilenceError(f"silence {silence.silence_id} has already ended")
    tables.append(_table(tables), [silence.expired_event(by, now, comment)], SILENCE_EVENT_SCHEMA)
    return replace(silence, expired_at=now, expired_by=by)


def sync_declared(tables, specs, now: datetime) -> tuple[list[Silence], list[Silence]]:
    """Make the table agree with the silences declared in routes.yaml: record new ones, expire removed ones.

    Returns (recorded, expired).
    """
    declared = {}
    for spec in specs:
        s = Silence.create(spec.matchers, spec.starts_at or DECLARED_START, spec.ends_at, spec.created_by,
                           spec.comment, now=now, source="routes.yaml")
        declared[s.silence_id] = s
    existing = current(tables)
    recorded = [s for sid, s in declared.items() if sid not in existing]
    removed = [s for sid, s in existing.items() if s.source == "routes.yaml" and sid not in declared
               and s.state(now) != "expired"]
    rows = [s.created_event() for s in recorded] + [s.expired_event("routes.yaml", now, "removed from routes.yaml")
                                                    for s in removed]
    tables.append(_table(tables), rows, SILENCE_EVENT_SCHEMA)
    return recorded, removed
