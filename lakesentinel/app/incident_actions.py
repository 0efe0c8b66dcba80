"""What the app's users do to incidents, through the CLI's own code: acknowledge and resolve (a
request the lifecycle applies), silence (with a preview of what the matchers would mute now), and
re-notify (another round for the incident's dead-lettered notifications)."""

from __future__ import annotations

from datetime import datetime, timedelta

from lakesentinel.actions.dead_letter import dead_letters, requeue
from lakesentinel.alerts import silences
from lakesentinel.durations import parse_duration
from lakesentinel.alerts.incident_queries import find_incident, load_incidents, request
from lakesentinel.alerts.incidents import ACTIVE
from lakesentinel.alerts.matchers import MatcherError
from lakesentinel.app.query_layer import QueryLayer
from lakesentinel.errors import LakeSentinelError
from lakesentinel.settings import Settings


def command(layer: QueryLayer, action: str, ref: str, by: str, note: str, now: datetime) -> dict:
    """Record an ack or resolve request, as ``lakesentinel incidents ack|resolve`` does."""
    row = find_incident(load_incidents(layer.tables), ref)
    cmd = request(layer.tables, action, row, by, note, now)
    return {"command_id": cmd.command_id, "action": action, "incident_id": row["incident_id"], "by": cmd.by}


def new_silence(matchers: list[str], duration: str, by: str, comment: str, now: datetime) -> silences.Silence:
    if not comment.strip():
        raise silences.SilenceError("a silence needs a comment: it is the audit trail")
    try:
        end = now + timedelta(microseconds=parse_duration(duration))
        return silences.Silence.create(matchers, now, end, by, comment, now=now)
    except (MatcherError, ValueError) as exc:
        raise silences.SilenceError(str(exc)) from None


def preview(layer: QueryLayer, matchers: list[str], now: datetime) -> list[dict]:
    """The active incidents a silence with these matchers would mute now (what the lifecycle's silencer checks)."""
    try:
        candidate = silences.Silence.create(matchers, now, now + timedelta(hours=1), "preview", "preview", now=now)
    except (MatcherError, ValueError) as exc:
        raise silences.SilenceError(str(exc)) from None
    muter = silences.Silencer([candidate])
    hits = [r for r in load_incidents(layer.tables) if r["status"] in ACTIVE and muter.mutes(r["labels"] or {}, now)]
    return [{"incident_id": r["incident_id"], "title": r["title"], "severity": r["severity"], "status": r["status"]}
            for r in hits]


def add_silence(layer: QueryLayer, silence: silences.Silence) -> silences.Silence:
    return silences.add(layer.tables, silence)


def silence_row(s: silences.Silence, now: datetime) -> dict:
    return {"silence_id": s.silence_id, "state": s.state(now), "matchers": list(s.matchers), "starts_at": s.starts_at,
            "ends_at": s.ends_at, "created_by": s.created_by, "comment": s.comment, "source": s.source}


def list_silences(layer: QueryLayer, now: datetime) -> list[dict]:
    rows = sorted(silences.current(layer.tables).values(), key=lambda s: s.ends_at)
    return [silence_row(s, now) for s in rows if s.state(now) != "expired"]


def expire_silence(layer: QueryLayer, silence_id: str, by: str, now: datetime) -> dict:
    return silence_row(silences.expire(layer.tables, silence_id, by, now), now)


def renotify(cfg: Settings, layer: QueryLayer, ref: str, by: str) -> dict:
    """Requeue the incident's dead-lettered notifications, as ``lakesentinel actions retry`` does."""
    from lakesentinel.notify.outbox import notification_of

    row = find_incident(load_incidents(layer.tables), ref)
    keys = [d["idempotency_key"] for d in dead_letters(layer.tables)
            if row["incident_id"] in {i.incident_id for i in notification_of(d).incidents}]
    if not keys:
        raise LakeSentinelError(f"incident {row['incident_id']} has no dead-lettered notification to send again")
    chosen = requeue(layer.tables, by=by, keys=keys)
    return {"incident_id": row["incident_id"], "requeued": [c["idempotency_key"] for c in chosen]}
