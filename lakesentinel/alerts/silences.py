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

from lakesentinel.alerts.matchers import Matchers
from lakesentinel.sources.types import parse_columns

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
        starts = starts_at or now
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
