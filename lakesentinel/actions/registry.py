"""The receivers, one module each, in one module-level registry: integration type -> how to build one.

A receiver's settings come from the routes file (``lakesentinel.notify.config``); what it needs from
the running application (timeouts, the alerts table a SQL alert queries, the stream the console writes
to) comes in a :class:`Wiring` from the composition root. Adding a receiver: a module here with a class
that implements :class:`~lakesentinel.notify.receiver.Receiver`, its config in ``notify/config.py``,
and one line below.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from lakesentinel.actions.console import ConsoleReceiver
from lakesentinel.actions.jira import JiraReceiver
from lakesentinel.actions.slack import SlackReceiver
from lakesentinel.actions.sql_alert import SqlAlertReceiver
from lakesentinel.actions.webhook import WebhookReceiver
from lakesentinel.errors import ConfigError
from lakesentinel.logs import redact
from lakesentinel.notify.config import ReceiversFile
from lakesentinel.notify.receiver import Receiver


@dataclass(frozen=True)
class Wiring:
    """What receivers take from the application rather than from the routes file."""

    timeout: float = 10.0
    alerts_table: str = "plt_ops.alerts"
    console: Any = field(default_factory=lambda: sys.stderr)  # a text stream or a rich Console


Factory = Callable[[str, Any, Wiring], Receiver]

RECEIVERS: dict[str, Factory] = {
    "slack": lambda integration, c, w: SlackReceiver(integration, c, timeout=w.timeout),
    "jira": lambda integration, c, w: JiraReceiver(integration, c, timeout=w.timeout),
    "sql_alert": lambda integration, c, w: SqlAlertReceiver(integration, c, alerts_table=w.alerts_table,
                                                            timeout=w.timeout),
    "webhook": lambda integration, c, w: WebhookReceiver(integration, c, timeout=w.timeout),
    "console": lambda integration, c, w: ConsoleReceiver(integration, c, stream=w.console),
}


def build_available(routes: ReceiversFile, wiring: Wiring) -> tuple[dict[str, Receiver], dict[str, str]]:
    """Every receiver that can be built, and why each of the others cannot (a secret not set, no
    Databricks credentials to read one with), keyed ``<receiver>/<type>``. Secrets are resolved and
    registered for redaction here."""
    built: dict[str, Receiver] = {}
    problems: dict[str, str] = {}
    for integration, config in routes.integrations().items():
        kind = integration.rsplit("/", 1)[1]
        try:
            built[integration] = RECEIVERS[kind](integration, config, wiring)
        except ConfigError as exc:
            problems[integration] = str(exc) + _needed_by(routes, integration)
        except Exception as exc:  # noqa: BLE001 - e.g. no Databricks credentials to read a secret with
            problems[integration] = f"{type(exc).__name__}: {redact(str(exc)).splitlines()[0]}" + _needed_by(routes, integration)
    return built, problems


def _needed_by(routes, integration: str) -> str:
    """The routes that send to this integration's receiver, for a message about it."""
    receiver = integration.rsplit("/", 1)[0]
    root = getattr(routes, "root", None)
    names = [r.id for r in root.walk() if r.receiver == receiver] if root is not None else []
    return f" (needed by route {', '.join(names)})" if names else ""


def build_receivers(routes: ReceiversFile, wiring: Wiring) -> dict[str, Receiver]:
    """One receiver per integration of ``routes``, keyed ``<receiver>/<type>``; every integration that
    cannot be built is reported at once in one ConfigError."""
    built, problems = build_available(routes, wiring)
    if problems:
        where = getattr(routes, "file", "") or "routes"
        lines = [f"{integration}: {why}" for integration, why in problems.items()]
        raise ConfigError(f"{where}: cannot build {len(problems)} receiver(s):\n  " + "\n  ".join(lines))
    return built
